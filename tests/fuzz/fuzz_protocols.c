/*
 * fuzz_protocols.c: libFuzzer target over every protocol in the table.
 *
 * Each input is a message body, fed to every protocol of
 * ltb_collector_protocols under every content type it declares, as the
 * satellite group feeds it (begin, feed in pieces, end or refuse,
 * release). On every input:
 *
 *  - whole, one byte at a time (inputs up to ONE_BY_ONE bytes) and cut at
 *    two places the input's last bytes choose, a protocol gives the same
 *    verdict, the same answer status and content type, and the same units
 *    (keys and validation results, in order);
 *  - its streaming reading and --validate full agree on the verdict and,
 *    when the message is read, on the units: for LightStep and OTLP that is
 *    the walk against protobuf-c's unpack, differentially.
 *
 * Any disagreement aborts. Seeds: tests/fuzz/seeds/NAME/ of every protocol
 * (the Makefile hands them all to this target).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_collector.h"

enum { MAXUNITS = 1 << 16, ONE_BY_ONE = 1024 };

struct outcome {
	int rc;
	unsigned status;
	const char *content_type;
	uint64_t keys[MAXUNITS];
	unsigned invalid[MAXUNITS];
	size_t n;
	int over;
};

static struct outcome whole, bytes, cut, full;

static void
must(int ok, const char *proto, const char *ctype, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_protocols: %s (%s): disagreement: %s\n",
		    proto, ctype, what);
		abort();
	}
}

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct outcome *o = ctx;

	if (o->n == MAXUNITS) {
		o->over = 1;
		return;
	}
	o->keys[o->n] = key;
	o->invalid[o->n++] = invalid;
}

static unsigned
status_of(int rc)
{
	return rc == LTB_COLLECT_OK ? 200 : rc == LTB_COLLECT_TOO_LARGE ? 413 :
	    rc == LTB_COLLECT_UNSUPPORTED ? 415 : 400;
}

/* One message, the body cut at cuts[0..ncuts) (ascending); step > 0 feeds
 * it step bytes at a time instead. */
static void
run(const struct ltb_collector_proto *p, const char *ctype, int fullv,
    const uint8_t *b, size_t n, const size_t *cuts, size_t ncuts,
    size_t step, struct outcome *o)
{
	static uint64_t state[1 << 13], shared[1 << 10];
	struct ltb_message m = { .path = p->path, .content_type = ctype,
		.encoding = "", .start_real_ns = 1700000000000000000ull,
		.max_field = 1 << 24, .full = fullv };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = o };
	struct ltb_reply reply;
	const char *why = "";
	size_t at = 0, i;
	int rc;

	must(p->state_size <= sizeof state, p->name, ctype, "state size");
	must(p->shared_size <= sizeof shared, p->name, ctype, "shared size");
	memset(state, 0, p->state_size);
	/* a fresh group's shared state for each run, so that every way of
	 * feeding a message starts from the same */
	if (p->shared_size > 0) {
		memset(shared, 0, p->shared_size);
		must(p->shared_init(shared, NULL) == 0, p->name, ctype,
		    "shared_init");
		m.shared = shared;
	}
	memset(&reply, 0, sizeof reply);
	o->n = 0;
	o->over = 0;
	o->content_type = NULL;
	if ((rc = p->begin(state, &m)) != LTB_COLLECT_OK) {
		o->rc = rc;
		o->status = status_of(rc);
		if (p->shared_size > 0)
			p->shared_free(shared);
		return;
	}
	if (step > 0) {
		for (at = 0; rc == LTB_COLLECT_OK && at < n; at += step)
			rc = p->feed(state, b + at, n - at < step ? n - at :
			    step, &sink, &why);
	} else {
		/* the group never feeds an empty piece */
		for (i = 0; rc == LTB_COLLECT_OK && i <= ncuts; i++) {
			size_t to = i < ncuts ? cuts[i] : n;

			if (to == at)
				continue;
			rc = p->feed(state, b + at, to - at, &sink, &why);
			at = to;
		}
	}
	if (rc == LTB_COLLECT_OK)
		rc = p->end(state, &sink, &reply, &why);
	o->rc = rc;
	o->status = rc == LTB_COLLECT_OK ?
	    (reply.status ? reply.status : 200) : status_of(rc);
	if (rc == LTB_COLLECT_OK) {
		o->content_type = reply.content_type;
	} else {
		must(why != NULL, p->name, ctype, "a failure without reason");
		if (p->refuse != NULL) {
			reply.status = o->status;
			p->refuse(state, rc, why, &reply);
			o->content_type = reply.content_type;
			must(reply.len <= sizeof reply.body, p->name, ctype,
			    "refusal body overflows");
		}
	}
	p->release(state);
	if (p->shared_size > 0)
		p->shared_free(shared);
}

static void
same(const struct ltb_collector_proto *p, const char *ctype,
    const struct outcome *a, const struct outcome *b, int units,
    const char *what)
{
	size_t i;

	must(a->rc == b->rc, p->name, ctype, what);
	must(a->status == b->status, p->name, ctype, what);
	must((a->content_type == NULL) == (b->content_type == NULL) &&
	    (a->content_type == NULL ||
	    strcmp(a->content_type, b->content_type) == 0), p->name, ctype,
	    what);
	if (!units)
		return;
	must(a->n == b->n && a->over == b->over, p->name, ctype, what);
	for (i = 0; i < a->n; i++)
		must(a->keys[i] == b->keys[i] &&
		    a->invalid[i] == b->invalid[i], p->name, ctype, what);
}

static void
check(const struct ltb_collector_proto *p, const char *ctype,
    const uint8_t *d, size_t n)
{
	size_t cuts[2] = { 0, 0 }, i;

	run(p, ctype, 0, d, n, NULL, 0, 0, &whole);
	if (n <= ONE_BY_ONE) {
		run(p, ctype, 0, d, n, NULL, 0, 1, &bytes);
		same(p, ctype, &whole, &bytes, 1, "whole vs one byte at a time");
	}
	/* two cuts from the input's tail, so the fuzzer steers them */
	if (n >= 2) {
		cuts[0] = (d[n - 1] | (size_t)d[n - 2] << 8) % (n + 1);
		cuts[1] = cuts[0] + (d[n - 2] % 7 ? 0 : (n - cuts[0]) / 2);
	}
	run(p, ctype, 0, d, n, cuts, 2, 0, &cut);
	same(p, ctype, &whole, &cut, 1, "whole vs cut");
	run(p, ctype, 1, d, n, NULL, 0, 0, &full);
	must((whole.rc == LTB_COLLECT_OK) == (full.rc == LTB_COLLECT_OK),
	    p->name, ctype, "walk vs full: verdict");
	if (whole.rc == LTB_COLLECT_OK)
		same(p, ctype, &whole, &full, 1, "walk vs full: units");
	for (i = 0; i < whole.n; i++)
		must(whole.invalid[i] < p->ninvalid, p->name, ctype,
		    "a validation result past the protocol's names");
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *const any[] = { "", NULL };
	size_t i, t;

	for (i = 0; ltb_collector_protocols[i] != NULL; i++) {
		const struct ltb_collector_proto *p = ltb_collector_protocols[i];
		const char *const *types = p->content_types ?
		    p->content_types : any;

		for (t = 0; types[t] != NULL; t++)
			check(p, types[t], d, n);
	}
	return 0;
}
