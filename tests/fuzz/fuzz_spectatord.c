/*
 * fuzz_spectatord.c: libFuzzer conformance target for the spectatord line
 * protocol (ltb_proto_spectatord).
 *
 * Each input is one datagram (cut to 65,536 bytes). On every input:
 *
 *  - fed whole, cut at a point the input's last bytes choose, cut at
 *    three points, and one byte at a time (inputs up to ONE_BY_ONE
 *    bytes), it gives the same units: the same reasons and kinds, in
 *    order; and the same again under a small max_field (lines past it
 *    are line_too_long however they were cut);
 *  - it gives one unit per non-empty line, and a kind for exactly the
 *    valid ones, the kind named by the line's first byte;
 *  - the first line, as the value of "d:n:" and of "U:n:", is valid
 *    exactly when strtod (strtoull, never negative nor out of range)
 *    reads all of it but trailing whitespace: the parser's own number
 *    reading against libc's, for values up to 64 bytes.
 *
 * Any disagreement aborts. Seeds: tests/fuzz/seeds/spectatord/.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_collector.h"

static const struct ltb_collector_proto *const P = &ltb_proto_spectatord;

enum { DGRAM = 65536, MAXU = DGRAM / 2 + 1, ONE_BY_ONE = 4096 };

struct units {
	unsigned invalid[MAXU];
	int kind[MAXU];
	size_t n;
};

static struct units whole, other;

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_spectatord: %s\n", what);
		abort();
	}
}

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct units *u = ctx;

	must(key == 0, "a line with a key");
	must(invalid < P->ninvalid, "a reason past the names");
	must(u->n < MAXU, "more units than lines");
	u->invalid[u->n] = invalid;
	u->kind[u->n++] = -1;
}

static void
sink_kind(void *ctx, unsigned kind)
{
	struct units *u = ctx;

	must(kind < P->nkinds, "a kind past the names");
	must(u->n > 0 && u->invalid[u->n - 1] == 0 && u->kind[u->n - 1] == -1,
	    "a kind not right after a valid line");
	u->kind[u->n - 1] = (int)kind;
}

/* d[0..n) cut at cuts[0..ncuts) (ascending), or step bytes at a time. */
static void
run(const uint8_t *d, size_t n, const size_t *cuts, size_t ncuts,
    size_t step, size_t max, struct units *u)
{
	static uint64_t state[1 << 12];
	struct ltb_message m = { .content_type = "", .encoding = "",
		.max_field = max };
	struct ltb_span_sink sink = { .span = sink_span, .kind = sink_kind,
		.ctx = u };
	struct ltb_reply reply;
	const char *why = NULL;
	size_t at = 0, i;
	int rc = LTB_COLLECT_OK;

	must(P->state_size <= sizeof state, "state size");
	memset(state, 0, P->state_size);
	memset(&reply, 0, sizeof reply);
	u->n = 0;
	must(P->begin(state, &m) == LTB_COLLECT_OK, "begin refused");
	if (step > 0) {
		for (at = 0; rc == LTB_COLLECT_OK && at < n; at += step)
			rc = P->feed(state, d + at, n - at < step ? n - at :
			    step, &sink, &why);
	} else {
		for (i = 0; rc == LTB_COLLECT_OK && i <= ncuts; i++) {
			size_t to = i < ncuts ? cuts[i] : n;

			if (to == at)
				continue;
			rc = P->feed(state, d + at, to - at, &sink, &why);
			at = to;
		}
	}
	must(rc == LTB_COLLECT_OK, "a datagram refused");
	must(P->end(state, &sink, &reply, &why) == LTB_COLLECT_OK,
	    "end refused");
	must(reply.status == 0 && reply.len == 0, "an answer to a datagram");
	P->release(state);
}

static void
same(const struct units *a, const struct units *b, const char *what)
{
	must(a->n == b->n, what);
	for (size_t i = 0; i < a->n; i++)
		must(a->invalid[i] == b->invalid[i] && a->kind[i] == b->kind[i],
		    what);
}

/* One unit per non-empty line; a valid one's kind is its first byte. */
static void
per_line(const uint8_t *d, size_t n, const struct units *u)
{
	size_t i = 0, k = 0, l;
	const uint8_t *nl;

	while (i < n) {
		nl = memchr(d + i, '\n', n - i);
		l = nl != NULL ? (size_t)(nl - (d + i)) : n - i;
		if (l > 0) {
			must(k < u->n, "fewer units than lines");
			must((u->invalid[k] == 0) == (u->kind[k] >= 0),
			    "a kind for an invalid line, or none for a "
			    "valid one");
			if (u->kind[k] >= 0)
				must(P->kind_names[u->kind[k]][0] == d[i],
				    "a kind other than the line's type");
			k++;
		}
		i += l + 1;
	}
	must(k == u->n, "more units than lines");
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* libc's reading of v[0..n) (no NUL inside: strtod would stop there). */
static int
libc_double(const char *v)
{
	char *end;

	(void)strtod(v, &end);
	return end != v && blank(end);
}

static int
libc_uint64(const char *v)
{
	const char *p = v;
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-')
		return 0;
	errno = 0;
	(void)strtoull(v, &end, 10);
	return end != v && errno != ERANGE && blank(end);
}

/* The first line as the value of one line of type t. */
static void
value_oracle(const uint8_t *d, size_t n, char t)
{
	char line[80], *v;
	const uint8_t *nl = memchr(d, '\n', n);
	size_t l = nl != NULL ? (size_t)(nl - d) : n;
	int want;

	if (l == 0 || l > 64 || memchr(d, '\0', l) != NULL)
		return;
	snprintf(line, sizeof line, "%c:n:", t);
	v = line + 4;
	memcpy(v, d, l);
	v[l] = '\0';
	want = t == 'U' ? libc_uint64(v) : libc_double(v);
	run((const uint8_t *)line, 4 + l, NULL, 0, 0, DGRAM, &other);
	must(other.n == 1, "a value line gave no unit");
	if (want != (other.invalid[0] == 0)) {
		fprintf(stderr, "value '%s' (%c): libc %d, parser %s\n", v, t,
		    want, P->invalid_names[other.invalid[0]]);
		must(0, "the parser and libc read a value apart");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	size_t cuts[3] = { 0, 0, 0 }, small;

	if (n > DGRAM)
		n = DGRAM;
	run(d, n, NULL, 0, 0, DGRAM, &whole);
	per_line(d, n, &whole);
	if (n >= 2) {
		cuts[0] = (d[n - 1] | (size_t)d[n - 2] << 8) % (n + 1);
		cuts[1] = cuts[0] + (n - cuts[0]) / 3;
		cuts[2] = cuts[1] + (n - cuts[1]) / 2;
	}
	run(d, n, cuts, 1, 0, DGRAM, &other);
	same(&whole, &other, "whole vs cut once");
	run(d, n, cuts, 3, 0, DGRAM, &other);
	same(&whole, &other, "whole vs cut three times");
	if (n <= ONE_BY_ONE) {
		run(d, n, NULL, 0, 1, DGRAM, &other);
		same(&whole, &other, "whole vs one byte at a time");
	}
	/* lines past a small max_field, and the carry past its short
	 * buffer */
	small = n > 0 ? 8 + d[0] * 8 : 8;
	run(d, n, NULL, 0, 0, small, &whole);
	per_line(d, n, &whole);
	run(d, n, cuts, 3, 0, small, &other);
	same(&whole, &other, "small max_field: whole vs cut");
	if (n <= ONE_BY_ONE) {
		run(d, n, NULL, 0, 1, small, &other);
		same(&whole, &other, "small max_field: one byte at a time");
	}
	value_oracle(d, n, 'd');
	value_oracle(d, n, 'U');
	return 0;
}
