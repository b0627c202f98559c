/*
 * mkreport: write a LightStep report body (a packed ReportRequest) to stdout.
 *
 * The fixture maker of the bats tests and benchmarks: it wraps
 * ltb_lsgen_report, and can make every span invalid for one reason, repeat
 * span ids, or break the body in ways protobuf-c refuses, so a test can
 * POST exactly the report it means.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ltb_hash.h"
#include "core/ltb_log.h"
#include "collector/proto/ltb_lightstep_gen.h"
#include "collector/proto/ltb_lightstep_walk.h"

#define USAGE \
"usage: mkreport [--spans N] [--tags N] [--logs N] [--seed S]\n" \
"                [--invalid REASON] [--duplicates K] [--malformed KIND]\n" \
"\n" \
"Write a lightstep.collector.ReportRequest (binary protobuf) to stdout.\n" \
"\n" \
"  --spans N        distinct spans (default 100)\n" \
"  --tags N         string tags per span (default 10)\n" \
"  --logs N         logs per span, one field each (default 15)\n" \
"  --seed S         id seed, nonzero (default 1); same options, same bytes\n" \
"  --invalid REASON make every span invalid: no_context, zero_trace_id,\n" \
"                   zero_span_id, no_operation, no_start, bad_timestamp,\n" \
"                   bad_reference, empty_key\n" \
"  --duplicates K   send each span K more times (N*(K+1) spans in all)\n" \
"  --malformed KIND a body protobuf-c refuses: truncated (cut inside the\n" \
"                   last span), badwire (the last span keyed as a varint),\n" \
"                   garbage (random bytes)\n" \
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

/*
 * Offset of the last top-level spans field (key 0x1a) and of its data, by
 * walking the top-level keys of a body lsgen packed (one-byte keys, so a
 * simple walk does).
 */
static int
last_span(const uint8_t *p, size_t n, size_t *key, size_t *data, size_t *len)
{
	size_t i = 0, l;
	unsigned shift;
	int found = 0;

	while (i < n) {
		uint8_t k = p[i];
		size_t at = i++;

		if ((k & 7) != 2)
			return found ? 0 : -1;
		for (l = 0, shift = 0; i < n; shift += 7) {
			l |= (size_t)(p[i] & 0x7f) << shift;
			if (!(p[i++] & 0x80))
				break;
		}
		if (k == 0x1a) {
			*key = at;
			*data = i;
			*len = l;
			found = 1;
		}
		i += l;
	}
	return found ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spans", required_argument, NULL, 's' },
		{ "tags", required_argument, NULL, 't' },
		{ "logs", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 'S' },
		{ "invalid", required_argument, NULL, 'i' },
		{ "duplicates", required_argument, NULL, 'd' },
		{ "malformed", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ltb_lsgen g = LTB_LSGEN_DEFAULT;
	const char *malformed = NULL;
	uint8_t *body;
	size_t len, key, data, slen;
	uint64_t rng;
	int c, i;

	ltb_prog = "mkreport";
	opterr = 0;	/* our own messages, prefixed "mkreport: " */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			g.spans = (size_t)number("--spans", optarg, 10000000);
			break;
		case 't':
			g.num_tags = (int)number("--tags", optarg, 10000);
			break;
		case 'l':
			g.num_logs = (int)number("--logs", optarg, 10000);
			break;
		case 'S':
			g.seed = number("--seed", optarg, UINT64_MAX);
			if (g.seed == 0) {
				ltb_warn("bad --seed '0': want nonzero");
				usage();
			}
			break;
		case 'i':
			for (i = 1; i < LTB_LS_NINVALID; i++)
				if (!strcmp(optarg, ltb_ls_invalid_name(i)))
					break;
			if (i == LTB_LS_NINVALID) {
				ltb_warn("unknown --invalid reason '%s'",
				    optarg);
				usage();
			}
			g.invalid = (enum ltb_ls_invalid)i;
			break;
		case 'd':
			g.duplicates = (int)number("--duplicates", optarg,
			    1000);
			break;
		case 'm':
			if (strcmp(optarg, "truncated") &&
			    strcmp(optarg, "badwire") &&
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
	if (malformed && strcmp(malformed, "garbage") && g.spans == 0) {
		ltb_warn("--malformed %s needs at least one span", malformed);
		usage();
	}

	if (malformed && !strcmp(malformed, "garbage")) {
		/* random bytes, drawn again until protobuf-c refuses them
		 * (most draws are refused at once) */
		rng = g.seed;
		len = 64 + ltb_splitmix64(&rng) % 192;
		if ((body = malloc(len)) == NULL)
			ltb_die(LTB_EXIT_SYS, "out of memory");
		do {
			size_t k;

			for (k = 0; k < len; k++)
				body[k] = (uint8_t)ltb_splitmix64(&rng);
		} while (ltb_ls_unpack_report(body, len, NULL, NULL,
		    NULL) >= 0);
	} else {
		if ((body = ltb_lsgen_report(&g, &len)) == NULL)
			ltb_die(LTB_EXIT_SYS, "cannot generate the report: %s",
			    strerror(errno));
		if (malformed && last_span(body, len, &key, &data, &slen) < 0)
			ltb_die(LTB_EXIT_SYS, "no span in the generated report");
		if (malformed && !strcmp(malformed, "truncated")) {
			/* the last span's length now runs past the end */
			len = data + slen / 2;
		} else if (malformed && !strcmp(malformed, "badwire")) {
			/* spans is length-delimited; a varint key for it is
			 * refused by protobuf-c whatever follows */
			body[key] = 0x18;
		}
	}
	if (fwrite(body, 1, len, stdout) != len || fflush(stdout) ||
	    ferror(stdout))
		ltb_die(LTB_EXIT_SYS, "cannot write the report: %s",
		    strerror(errno));
	free(body);
	return LTB_EXIT_OK;
}
