/*
 * mkotlp: write an OTLP trace export request body to stdout, protobuf or
 * JSON.
 *
 * The fixture maker of the OTLP bats tests, fuzz seeds and benchmarks: it
 * wraps ltb_otlpgen_request and ltb_otlpgen_json, and can make every span
 * invalid for one reason, repeat spans, spread them over resources and
 * scopes, or break the body so it cannot be read, so a test can POST
 * exactly the request it means.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ltb_hash.h"
#include "core/ltb_log.h"
#include "collector/proto/ltb_otlp_gen.h"
#include "collector/proto/ltb_otlp_walk.h"

#define USAGE \
"usage: mkotlp [--spans N] [--attrs N] [--events N] [--seed S]\n" \
"              [--invalid REASON] [--duplicates K] [--resources R]\n" \
"              [--scopes S] [--json] [--malformed KIND]\n" \
"\n" \
"Write an OTLP ExportTraceServiceRequest to stdout: binary protobuf\n" \
"(application/x-protobuf), or with --json the OTLP JSON mapping\n" \
"(application/json).\n" \
"\n" \
"  --spans N        distinct spans (default 100)\n" \
"  --attrs N        attributes per span (default 10)\n" \
"  --events N       events per span, one attribute each (default 15)\n" \
"  --seed S         id seed, nonzero (default 1); same options, same bytes\n" \
"  --invalid REASON make every span invalid: bad_trace_id, bad_span_id,\n" \
"                   bad_parent_span_id, no_name, end_before_start\n" \
"  --duplicates K   send each span K more times (N*(K+1) spans in all)\n" \
"  --resources R    spread the spans over R ResourceSpans (default 1)\n" \
"  --scopes S       with S ScopeSpans each (default 1)\n" \
"  --json           the JSON form\n" \
"  --malformed KIND a body that cannot be read: truncated (cut in the\n" \
"                   middle), garbage (random bytes)\n" \
"  -h, --help       this text\n" \
"\n" \
"Exit: 0 written; 2 usage; 3 out of memory or write error.\n"

static void
usage(void)
{
	fputs(USAGE, stderr);
	exit(LTB_EXIT_USAGE);
}

static unsigned long long
number(const char *opt, const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		goto bad;
	return v;
bad:
	ltb_warn("bad %s '%s': want a number up to %llu", opt, s, max);
	usage();
	return 0;
}

/* Random bytes that no reader takes, drawn again until refused (most
 * draws are refused at once). */
static uint8_t *
garbage(uint64_t seed, int json, size_t *len)
{
	uint64_t rng = seed;
	uint8_t *b;
	size_t k;

	*len = 64 + ltb_splitmix64(&rng) % 192;
	if ((b = malloc(*len)) == NULL)
		return NULL;
	do {
		for (k = 0; k < *len; k++)
			b[k] = (uint8_t)ltb_splitmix64(&rng);
	} while (json ? ltb_otlp_json(b, *len, NULL, NULL, NULL) >= 0 :
	    ltb_otlp_unpack(b, *len, NULL, NULL, NULL) >= 0);
	return b;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spans", required_argument, NULL, 's' },
		{ "attrs", required_argument, NULL, 'a' },
		{ "events", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 'S' },
		{ "invalid", required_argument, NULL, 'i' },
		{ "duplicates", required_argument, NULL, 'd' },
		{ "resources", required_argument, NULL, 'r' },
		{ "scopes", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "malformed", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ltb_otlpgen g = LTB_OTLPGEN_DEFAULT;
	const char *malformed = NULL;
	uint8_t *body;
	size_t len;
	int c, i, json = 0;

	ltb_prog = "mkotlp";
	opterr = 0;	/* our own messages, prefixed "mkotlp: " */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			g.spans = (size_t)number("--spans", optarg, 10000000);
			break;
		case 'a':
			g.num_attrs = (int)number("--attrs", optarg, 10000);
			break;
		case 'e':
			g.num_events = (int)number("--events", optarg, 10000);
			break;
		case 'S':
			g.seed = number("--seed", optarg, UINT64_MAX);
			if (g.seed == 0) {
				ltb_warn("bad --seed '0': want nonzero");
				usage();
			}
			break;
		case 'i':
			for (i = 1; i < LTB_OTLP_NINVALID; i++)
				if (!strcmp(optarg, ltb_otlp_invalid_name(
				    (enum ltb_otlp_invalid)i)))
					break;
			if (i == LTB_OTLP_NINVALID) {
				ltb_warn("unknown --invalid reason '%s'",
				    optarg);
				usage();
			}
			g.invalid = (enum ltb_otlp_invalid)i;
			break;
		case 'd':
			g.duplicates = (int)number("--duplicates", optarg,
			    1000);
			break;
		case 'r':
			g.resources = (int)number("--resources", optarg, 1000);
			break;
		case 'c':
			g.scopes = (int)number("--scopes", optarg, 1000);
			break;
		case 'j':
			json = 1;
			break;
		case 'm':
			if (strcmp(optarg, "truncated") &&
			    strcmp(optarg, "garbage")) {
				ltb_warn("unknown --malformed kind '%s'",
				    optarg);
				usage();
			}
			malformed = optarg;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return fflush(stdout) || ferror(stdout) ?
			    LTB_EXIT_SYS : LTB_EXIT_OK;
		default:
			ltb_warn("unknown option or missing argument: '%s'",
			    argv[optind - 1]);
			usage();
		}
	}
	if (optind != argc) {
		ltb_warn("unexpected argument '%s'", argv[optind]);
		usage();
	}
	if (malformed && !strcmp(malformed, "truncated") && g.spans == 0) {
		ltb_warn("--malformed truncated needs at least one span");
		usage();
	}

	if (malformed && !strcmp(malformed, "garbage"))
		body = garbage(g.seed, json, &len);
	else if (json)
		body = (uint8_t *)ltb_otlpgen_json(&g, &len);
	else
		body = ltb_otlpgen_request(&g, &len);
	if (body == NULL)
		ltb_die(LTB_EXIT_SYS, "cannot generate the request: %s",
		    strerror(errno));
	/* half a request, cut further until it cannot be read (a cut
	 * between two ResourceSpans would leave a readable one) */
	if (malformed && !strcmp(malformed, "truncated"))
		for (len /= 2; len > 0 && (json ?
		    ltb_otlp_json(body, len, NULL, NULL, NULL) :
		    ltb_otlp_walk(body, len, NULL, NULL, NULL)) >= 0; len--)
			;
	if (fwrite(body, 1, len, stdout) != len || fflush(stdout) ||
	    ferror(stdout))
		ltb_die(LTB_EXIT_SYS, "cannot write the request: %s",
		    strerror(errno));
	free(body);
	return LTB_EXIT_OK;
}
