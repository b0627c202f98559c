/*
 * test_lsproto.c: the LightStep report walk against its oracle.
 *
 * ltb_ls_walk_report must give protobuf-c's verdict on every body, and the
 * same spans; the streaming walk must give the one-shot walk's answer however
 * the body is cut. Bodies come from ltb_lsgen, from a small protobuf writer
 * below (for what lsgen never sends: unknown fields, odd wire encodings),
 * and from seeded random mutations of both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lightstep_collector.pb-c.h"
#include "collector/proto/ltb_lightstep_gen.h"
#include "collector/proto/ltb_lightstep_walk.h"

/* Spans a reader reported. */
struct got {
	struct ltb_ls_span *s;
	size_t n, cap;
};

static void
collect(void *ctx, const struct ltb_ls_span *span)
{
	struct got *g = ctx;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->s = realloc(g->s, g->cap * sizeof *g->s);
		assert_non_null(g->s);
	}
	g->s[g->n++] = *span;
}

static void
got_free(struct got *g)
{
	free(g->s);
	memset(g, 0, sizeof *g);
}

static void
assert_same_spans(const struct got *a, const struct got *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->s[i].trace_id, b->s[i].trace_id);
		assert_int_equal(a->s[i].span_id, b->s[i].span_id);
		assert_int_equal(a->s[i].invalid, b->s[i].invalid);
	}
}

/*
 * Walk and unpack p; assert they agree on the verdict and, when well formed,
 * on the spans. Returns the span count (-1 if malformed); fills *out with
 * the walk's spans if out is not NULL.
 */
static long
agree(const uint8_t *p, size_t n, struct got *out)
{
	struct got w = { 0 }, u = { 0 };
	const char *why = NULL;
	long rw, ru;

	rw = ltb_ls_walk_report(p, n, collect, &w, &why);
	ru = ltb_ls_unpack_report(p, n, collect, &u, NULL);
	if ((rw < 0) != (ru < 0))
		fail_msg("walk says %ld (%s), protobuf-c says %ld", rw,
		    why ? why : "-", ru);
	if (rw < 0) {
		assert_non_null(why);
		assert_int_equal(u.n, 0);	/* unpack: all or nothing */
	} else {
		assert_int_equal(rw, ru);
		assert_int_equal(w.n, (size_t)rw);
		assert_same_spans(&w, &u);
	}
	if (out != NULL)
		*out = w;
	else
		got_free(&w);
	got_free(&u);
	return rw;
}

/* Stream p cut at the given points (ascending); returns what
 * ltb_ls_walk_report would: the span count or -1, and the spans in *out. */
static long
stream_cuts(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts,
    size_t max_field, struct got *out)
{
	struct ltb_ls_stream s;
	size_t at = 0, i;
	long rc = 0;

	ltb_ls_stream_init(&s, max_field);
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;
		int r = ltb_ls_stream_feed(&s, p + at, to - at, collect, out);

		if (r < 0) {
			assert_non_null(s.why);
			rc = r;
			break;
		}
		at = to;
	}
	if (rc == 0 && ltb_ls_stream_end(&s) < 0)
		rc = LTB_LS_MALFORMED;
	if (rc == 0) {
		assert_int_equal(s.bytes, n);
		rc = (long)s.spans;
	}
	ltb_ls_stream_free(&s);
	return rc < 0 ? -1 : rc;
}

/* One-shot walk versus streaming with the given cuts. */
static void
stream_agrees(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts)
{
	struct got a = { 0 }, b = { 0 };
	long ra, rb;

	ra = ltb_ls_walk_report(p, n, collect, &a, NULL);
	rb = stream_cuts(p, n, cuts, ncuts, (size_t)-1, &b);
	assert_int_equal(ra, rb);
	/* both report the spans before a malformed point */
	assert_same_spans(&a, &b);
	got_free(&a);
	got_free(&b);
}

static uint8_t *
gen(size_t spans, int tags, int logs, uint64_t seed, enum ltb_ls_invalid inv,
    int dup, size_t *len)
{
	struct ltb_lsgen g = LTB_LSGEN_DEFAULT;
	uint8_t *p;

	g.spans = spans;
	g.num_tags = tags;
	g.num_logs = logs;
	g.seed = seed;
	g.invalid = inv;
	g.duplicates = dup;
	p = ltb_lsgen_report(&g, len);
	assert_non_null(p);
	return p;
}

/*
 * A small protobuf writer, for bodies lsgen does not make.
 */
struct pb {
	uint8_t b[4096];
	size_t n;
};

static void
pb_raw(struct pb *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof m->b);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void
pb_varint(struct pb *m, uint64_t v)
{
	uint8_t c;

	do {
		c = v & 0x7f;
		v >>= 7;
		if (v)
			c |= 0x80;
		pb_raw(m, &c, 1);
	} while (v);
}

static void
pb_key(struct pb *m, uint32_t f, unsigned w)
{
	pb_varint(m, (uint64_t)f << 3 | w);
}

static void
pb_uint(struct pb *m, uint32_t f, uint64_t v)
{
	pb_key(m, f, 0);
	pb_varint(m, v);
}

static void
pb_bytes(struct pb *m, uint32_t f, const void *p, size_t n)
{
	pb_key(m, f, 2);
	pb_varint(m, n);
	pb_raw(m, p, n);
}

static void
pb_str(struct pb *m, uint32_t f, const char *s)
{
	pb_bytes(m, f, s, strlen(s));
}

static void
pb_msg(struct pb *m, uint32_t f, const struct pb *sub)
{
	pb_bytes(m, f, sub->b, sub->n);
}

/* Unknown fields of every accepted wire type, with one-byte, multi-byte
 * and long-form field-0 keys. */
static void
pb_unknowns(struct pb *m)
{
	static const uint8_t field0[] = { 0x80, 0x00, 0x07 };	/* key 0 */

	pb_uint(m, 15, 12345);
	pb_key(m, 16, 1);
	pb_raw(m, "\1\2\3\4\5\6\7\10", 8);
	pb_key(m, 2047, 5);
	pb_raw(m, "\1\2\3\4", 4);
	pb_str(m, 536870911, "unknown bytes");	/* largest field number */
	pb_raw(m, field0, sizeof field0);
}

static void
pb_ts(struct pb *m, uint32_t f, int64_t sec, int32_t ns, int unknowns)
{
	struct pb t = { .n = 0 };

	pb_uint(&t, 1, (uint64_t)sec);
	pb_uint(&t, 2, (uint64_t)(int64_t)ns);
	if (unknowns)
		pb_unknowns(&t);
	pb_msg(m, f, &t);
}

static void
pb_ctx(struct pb *m, uint32_t f, uint64_t trace, uint64_t span, int unknowns)
{
	struct pb c = { .n = 0 }, kv = { .n = 0 };

	if (trace)
		pb_uint(&c, 1, trace);
	if (span)
		pb_uint(&c, 2, span);
	pb_str(&kv, 1, "tenant");
	pb_str(&kv, 2, "blue");
	if (unknowns)
		pb_unknowns(&kv);
	pb_msg(&c, 3, &kv);
	if (unknowns)
		pb_unknowns(&c);
	pb_msg(m, f, &c);
}

static void
pb_kv(struct pb *m, uint32_t f, const char *k, int unknowns)
{
	struct pb kv = { .n = 0 };

	pb_str(&kv, 1, k);
	pb_str(&kv, 2, "value");
	if (unknowns)
		pb_unknowns(&kv);
	pb_msg(m, f, &kv);
}

/* A whole report: one span, every message carrying unknown fields if
 * asked. */
static void
pb_report(struct pb *m, int unknowns)
{
	struct pb rep = { .n = 0 }, auth = { .n = 0 }, sp = { .n = 0 };
	struct pb ref = { .n = 0 }, log = { .n = 0 }, im = { .n = 0 };
	struct pb ms = { .n = 0 };

	pb_uint(&rep, 1, 77);
	pb_kv(&rep, 4, "lightstep.tracer_platform", unknowns);
	pb_str(&auth, 1, "token");
	pb_ctx(&sp, 1, 0x1111, 0x2222, unknowns);
	pb_str(&sp, 2, "op");
	pb_uint(&ref, 1, 0);
	pb_ctx(&ref, 2, 0x1111, 0x3333, unknowns);
	pb_msg(&sp, 3, &ref);
	pb_ts(&sp, 4, 1700000000, 5, unknowns);
	pb_uint(&sp, 5, 1000);
	pb_kv(&sp, 6, "http.method", unknowns);
	pb_ts(&log, 1, 1700000000, 6, unknowns);
	pb_kv(&log, 2, "event", unknowns);
	pb_str(&ms, 1, "spans.dropped");
	pb_uint(&ms, 2, 3);
	pb_ts(&im, 1, 1700000000, 0, unknowns);
	pb_uint(&im, 2, 10);
	pb_msg(&im, 3, &log);
	pb_msg(&im, 4, &ms);
	pb_msg(&im, 5, &ms);
	if (unknowns) {
		pb_unknowns(&ref);
		pb_unknowns(&log);
		pb_unknowns(&sp);
		pb_unknowns(&rep);
		pb_unknowns(&auth);
		pb_unknowns(&ms);
		pb_unknowns(&im);
	}
	pb_msg(&sp, 7, &log);
	m->n = 0;
	if (unknowns)
		pb_unknowns(m);
	pb_msg(m, 1, &rep);
	pb_msg(m, 2, &auth);
	pb_msg(m, 3, &sp);
	pb_uint(m, 5, 40);
	pb_msg(m, 6, &im);
	if (unknowns)
		pb_unknowns(m);
}

/*
 * The tests.
 */
static void
test_walk_equals_unpack_on_generated_reports(void **state)
{
	static const size_t spans[] = { 1, 2, 17, 100 };
	struct got g = { 0 };
	size_t i, j, len;
	uint8_t *p;

	for (i = 0; i < sizeof spans / sizeof spans[0]; i++) {
		p = gen(spans[i], 10, 15, i + 1, LTB_LS_VALID, 0, &len);
		assert_int_equal(agree(p, len, &g), (long)spans[i]);
		for (j = 0; j < g.n; j++) {
			assert_int_equal(g.s[j].invalid, LTB_LS_VALID);
			assert_true(g.s[j].trace_id != 0);
			assert_true(g.s[j].span_id != 0);
			if (j > 0)
				assert_true(g.s[j].span_id !=
				    g.s[j - 1].span_id);
		}
		got_free(&g);
		free(p);
	}
}

static void
test_generated_span_is_about_940_bytes(void **state)
{
	size_t l1, l101;
	uint8_t *a = gen(1, 10, 15, 1, LTB_LS_VALID, 0, &l1);
	uint8_t *b = gen(101, 10, 15, 1, LTB_LS_VALID, 0, &l101);
	size_t per = (l101 - l1) / 100;

	assert_in_range(per, 900, 980);
	free(a);
	free(b);
}

static void
test_generator_is_deterministic_and_seeded(void **state)
{
	size_t la, lb, lc;
	uint8_t *a = gen(20, 10, 15, 7, LTB_LS_VALID, 0, &la);
	uint8_t *b = gen(20, 10, 15, 7, LTB_LS_VALID, 0, &lb);
	uint8_t *c = gen(20, 10, 15, 8, LTB_LS_VALID, 0, &lc);
	struct got ga = { 0 }, gc = { 0 };
	size_t i, j;

	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	agree(a, la, &ga);
	agree(c, lc, &gc);
	for (i = 0; i < ga.n; i++)
		for (j = 0; j < gc.n; j++)
			assert_true(ga.s[i].span_id != gc.s[j].span_id);
	got_free(&ga);
	got_free(&gc);
	free(a);
	free(b);
	free(c);
}

static void
test_each_invalid_reason_is_flagged_on_every_span(void **state)
{
	struct got g = { 0 };
	size_t j, len;
	uint8_t *p;
	int why;

	for (why = LTB_LS_VALID; why < LTB_LS_NINVALID; why++) {
		/* also with no tags: lsgen then adds an empty-key tag */
		int tags = why == LTB_LS_EMPTY_KEY ? 0 : 10;

		p = gen(5, tags, 15, 3, (enum ltb_ls_invalid)why, 0, &len);
		assert_int_equal(agree(p, len, &g), 5);
		for (j = 0; j < g.n; j++)
			assert_int_equal(g.s[j].invalid, why);
		got_free(&g);
		free(p);
	}
}

static void
test_duplicates_are_kept_as_separate_spans(void **state)
{
	struct got g = { 0 };
	size_t len, i;
	uint8_t *p = gen(4, 10, 15, 5, LTB_LS_VALID, 2, &len);

	assert_int_equal(agree(p, len, &g), 12);
	for (i = 0; i < 12; i += 3) {
		assert_int_equal(g.s[i].span_id, g.s[i + 1].span_id);
		assert_int_equal(g.s[i].span_id, g.s[i + 2].span_id);
		assert_true(g.s[i].span_id != g.s[(i + 3) % 12].span_id);
	}
	got_free(&g);
	free(p);
}

static void
test_empty_report_has_no_spans(void **state)
{
	size_t len;
	uint8_t *p = gen(0, 10, 15, 1, LTB_LS_VALID, 0, &len);

	assert_int_equal(agree((const uint8_t *)"", 0, NULL), 0);
	assert_int_equal(agree(p, len, NULL), 0);
	free(p);
}

static void
test_unknown_fields_at_every_level_are_skipped(void **state)
{
	struct pb plain, odd;
	struct got a = { 0 }, b = { 0 };

	pb_report(&plain, 0);
	pb_report(&odd, 1);
	assert_true(odd.n > plain.n + 200);
	assert_int_equal(agree(plain.b, plain.n, &a), 1);
	assert_int_equal(agree(odd.b, odd.n, &b), 1);
	assert_int_equal(b.s[0].trace_id, 0x1111);
	assert_int_equal(b.s[0].span_id, 0x2222);
	assert_int_equal(b.s[0].invalid, LTB_LS_VALID);
	assert_same_spans(&a, &b);
	got_free(&a);
	got_free(&b);
}

static void
test_group_wire_types_are_refused_at_every_level(void **state)
{
	struct pb m;
	size_t i, nested = 0;
	unsigned w;

	/* a group key (wire type 3, 4, 6 or 7) written over each byte of
	 * the report in turn: wherever it lands, walk and protobuf-c agree,
	 * and where it lands on a key it is refused */
	pb_report(&m, 0);
	for (w = 3; w <= 7; w++) {
		if (w == 5)
			continue;
		for (i = 0; i + 1 < m.n; i++) {
			uint8_t q[4096 + 2];

			memcpy(q, m.b, m.n);
			q[i] = (uint8_t)(15 << 3 | w);
			if (agree(q, m.n, NULL) < 0)
				nested++;
		}
	}
	assert_true(nested > 0);
	/* and at the top level, always */
	for (w = 3; w <= 7; w++) {
		uint8_t q[2] = { (uint8_t)(15 << 3 | w), 0 };

		if (w != 5)
			assert_int_equal(agree(q, 2, NULL), -1);
	}
}

/* Wire encodings, each with protobuf-c 1.4.1's verdict. */
static const struct rule {
	const char *what;
	const char *hex;
	int accept;
} rules[] = {
	{ "empty span", "1a00", 1 },
	{ "one-byte key for field 0", "0000", 0 },
	{ "one-byte key for field 0, 64-bit", "010000000000000000", 0 },
	{ "two-byte key for field 0 is unknown", "800000", 1 },
	{ "five-byte key", "f8ffffff0f00", 1 },
	{ "five-byte key, bits past 32 dropped", "f8ffffff7f00", 1 },
	{ "six-byte key", "f8ffffffff0f00", 0 },
	{ "non-minimal key for spans", "9a800000", 1 },
	{ "wire type 3", "7b", 0 },
	{ "wire type 4", "7c", 0 },
	{ "wire type 6", "7e00", 0 },
	{ "wire type 7", "7f00", 0 },
	{ "ten-byte varint", "78ffffffffffffffffff01", 1 },
	{ "ten-byte varint, overflowing", "78ffffffffffffffffff7f", 1 },
	{ "eleven-byte varint", "78ffffffffffffffffffff01", 0 },
	{ "unterminated varint", "78ff", 0 },
	{ "64-bit, 8 bytes", "790102030405060708", 1 },
	{ "64-bit, 7 bytes", "7901020304050607", 0 },
	{ "32-bit, 4 bytes", "7d01020304", 1 },
	{ "32-bit, 3 bytes", "7d010203", 0 },
	{ "length past the end", "7a0300", 0 },
	{ "non-minimal length", "7a810000", 1 },
	{ "five-byte length", "7a8080808000", 1 },
	{ "six-byte length", "7a808080808000", 0 },
	{ "length 2^32 (not truncated)", "7a8080808010", 0 },
	{ "length over INT_MAX", "7affffffff0f00", 0 },
	{ "spans as varint", "1801", 0 },
	{ "reporter as 32-bit", "0d01020304", 0 },
	{ "timestamp_offset as bytes", "2a00", 0 },
	{ "timestamp_offset 10-byte", "28ffffffffffffffffff01", 1 },
	{ "span_context as varint", "1a020801", 0 },
	{ "operation_name as varint", "1a021001", 0 },
	{ "duration as bytes", "1a022a00", 0 },
	{ "trace_id as 64-bit", "1a0b0a0909" "0100000000000000", 0 },
	{ "tag key as varint", "1a0432020801", 0 },
	{ "tag int_value as bytes", "1a0432021a00", 0 },
	{ "tag double_value as varint", "1a0432022000", 0 },
	{ "tag double_value 64-bit", "1a0b3209210000000000000000", 1 },
	{ "tag bool_value as varint", "1a0432022801", 1 },
	{ "tag bool_value as 64-bit", "1a0b3209290100000000000000", 1 },
	{ "tag bool_value as bytes", "1a0732052a03010203", 1 },
	{ "tag bool_value as 32-bit", "1a073205" "2d01020304", 1 },
	{ "tag bool_value as group", "1a0332012b", 0 },
	{ "operation_name not UTF-8", "1a041202fffe", 1 },
	{ "tag key lone continuation byte", "1a053203" "0a0180", 1 },
	{ "relationship out of range", "1a041a020863", 1 },
	{ "relationship 10-byte", "1a0d1a0b08ffffffffffffffffff01", 1 },
	{ "relationship as bytes", "1a041a020a00", 0 },
	{ "baggage entry key as varint", "1a060a041a020801", 0 },
	{ "baggage entry with no key or value", "1a040a021a00", 1 },
	{ "nanos as 32-bit", "1a07220515" "00000000", 0 },
	{ "log timestamp as varint", "1a043a020801", 0 },
	{ "metrics sample name as varint", "32042202" "0801", 0 },
	{ "metrics sample double as varint", "32042202" "1800", 0 },
	{ "auth token as varint", "12020801", 0 },
	{ "reporter id as bytes", "0a020a00", 0 },
	{ "truncated nested length", "1a020a05", 0 },
	{ "nested message ends mid-field", "1a030a0108", 0 },
};

static size_t
unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	for (; s[0] && s[1]; s += 2) {
		assert_true(sscanf(s, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void
test_wire_rules_match_protobuf_c(void **state)
{
	uint8_t b[64];
	size_t i, n;
	long r;

	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		n = unhex(rules[i].hex, b);
		r = agree(b, n, NULL);
		if ((r >= 0) != rules[i].accept)
			fail_msg("%s: %s, expected %s", rules[i].what,
			    r >= 0 ? "accepted" : "refused",
			    rules[i].accept ? "accept" : "refuse");
	}
}

static void
test_later_span_context_replaces_earlier_ids(void **state)
{
	struct pb sp = { .n = 0 }, m = { .n = 0 };
	struct got g = { 0 };

	pb_ctx(&sp, 1, 5, 6, 0);
	pb_ctx(&sp, 1, 0, 7, 0);	/* trace_id absent: becomes 0 */
	pb_str(&sp, 2, "op");
	pb_msg(&m, 3, &sp);
	assert_int_equal(agree(m.b, m.n, &g), 1);
	assert_int_equal(g.s[0].trace_id, 0);
	assert_int_equal(g.s[0].span_id, 7);
	assert_int_equal(g.s[0].invalid, LTB_LS_ZERO_TRACE_ID);
	got_free(&g);
}

/* One span built field by field, to probe each validation rule. */
static enum ltb_ls_invalid
verdict(int ctx, uint64_t trace, uint64_t span, const char *op, int start,
    int64_t sec, int32_t ns, int logts, int32_t logns, int ref,
    uint64_t refspan, const char *tagkey, const char *logkey)
{
	struct pb sp = { .n = 0 }, m = { .n = 0 }, r = { .n = 0 };
	struct pb l = { .n = 0 };
	struct got g = { 0 };
	enum ltb_ls_invalid why;

	if (ctx)
		pb_ctx(&sp, 1, trace, span, 0);
	if (op)
		pb_str(&sp, 2, op);
	if (ref) {
		if (ref > 1)
			pb_ctx(&r, 2, 0, refspan, 0);
		pb_msg(&sp, 3, &r);
	}
	if (start)
		pb_ts(&sp, 4, sec, ns, 0);
	if (tagkey)
		pb_kv(&sp, 6, tagkey, 0);
	if (logts)
		pb_ts(&l, 1, 1700000000, logns, 0);
	if (logkey)
		pb_kv(&l, 2, logkey, 0);
	pb_msg(&sp, 7, &l);
	pb_msg(&m, 3, &sp);
	assert_int_equal(agree(m.b, m.n, &g), 1);
	why = g.s[0].invalid;
	got_free(&g);
	return why;
}

static void
test_validation_rules_in_order(void **state)
{
	/* ctx trace span op start sec ns logts logns ref refspan tag logkey */
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 1, 0, 2, 9, "k", "e"),
	    LTB_LS_VALID);
	assert_int_equal(verdict(0, 1, 2, "", 0, -1, 0, 0, 0, 1, 0, "", ""),
	    LTB_LS_NO_CONTEXT);
	assert_int_equal(verdict(1, 0, 0, "", 0, 0, 0, 0, 0, 0, 0, "", ""),
	    LTB_LS_ZERO_TRACE_ID);
	assert_int_equal(verdict(1, 1, 0, "", 0, 0, 0, 0, 0, 0, 0, "", ""),
	    LTB_LS_ZERO_SPAN_ID);
	assert_int_equal(verdict(1, 1, 2, "", 0, 0, 0, 0, 0, 0, 0, "", ""),
	    LTB_LS_NO_OPERATION);
	assert_int_equal(verdict(1, 1, 2, NULL, 1, 0, 0, 0, 0, 0, 0, "", ""),
	    LTB_LS_NO_OPERATION);
	assert_int_equal(verdict(1, 1, 2, "op", 0, 0, 0, 1, -1, 1, 0, "", ""),
	    LTB_LS_NO_START);
	assert_int_equal(verdict(1, 1, 2, "op", 1, -1, 0, 0, 0, 1, 0, "", ""),
	    LTB_LS_BAD_TIMESTAMP);
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 1000000000, 0, 0, 1, 0,
	    "", ""), LTB_LS_BAD_TIMESTAMP);
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, -1, 0, 0, 1, 0, "", ""),
	    LTB_LS_BAD_TIMESTAMP);
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 999999999, 1, -5, 1, 0,
	    "", ""), LTB_LS_BAD_TIMESTAMP);
	/* a log without a timestamp is fine */
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 0, 0, 2, 9, "k", "e"),
	    LTB_LS_VALID);
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 0, 0, 1, 0, "", ""),
	    LTB_LS_BAD_REFERENCE);
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 0, 0, 2, 0, "", ""),
	    LTB_LS_BAD_REFERENCE);
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 0, 0, 2, 9, "", "e"),
	    LTB_LS_EMPTY_KEY);
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 0, 0, 2, 9, "k", ""),
	    LTB_LS_EMPTY_KEY);
	/* no reference at all is fine */
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 0, 0, 0, 0, "k", "e"),
	    LTB_LS_VALID);
}

static void
test_key_or_operation_starting_with_nul_reads_as_empty(void **state)
{
	struct pb sp = { .n = 0 }, m = { .n = 0 }, kv = { .n = 0 };
	struct got g = { 0 };

	/* protobuf-c hands out C strings, so "\0x" is "" to its users */
	pb_ctx(&sp, 1, 1, 2, 0);
	pb_str(&sp, 2, "op");
	pb_ts(&sp, 4, 1, 0, 0);
	pb_bytes(&kv, 1, "\0x", 2);
	pb_msg(&sp, 6, &kv);
	pb_msg(&m, 3, &sp);
	assert_int_equal(agree(m.b, m.n, &g), 1);
	assert_int_equal(g.s[0].invalid, LTB_LS_EMPTY_KEY);
	got_free(&g);

	sp.n = m.n = 0;
	pb_ctx(&sp, 1, 1, 2, 0);
	pb_bytes(&sp, 2, "\0op", 3);
	pb_msg(&m, 3, &sp);
	assert_int_equal(agree(m.b, m.n, &g), 1);
	assert_int_equal(g.s[0].invalid, LTB_LS_NO_OPERATION);
	got_free(&g);
}

static void
test_js_style_reference_with_only_span_id_is_valid(void **state)
{
	/* the npm lightstep-tracer sends child references without trace_id */
	assert_int_equal(verdict(1, 1, 2, "op", 1, 0, 0, 1, 0, 2, 42, "k", "e"),
	    LTB_LS_VALID);
}

static void
test_malformed_kinds_are_refused(void **state)
{
	struct got g = { 0 };
	size_t len, i, key = 0, data = 0;
	uint8_t *p = gen(3, 10, 15, 9, LTB_LS_VALID, 0, &len);
	uint8_t junk[200];
	uint64_t x = 42;

	/* find the last span */
	for (i = 0; i < len;) {
		size_t l = 0, at = i++;
		unsigned sh = 0;

		do
			l |= (size_t)(p[i] & 0x7f) << sh, sh += 7;
		while (p[i++] & 0x80);
		if (p[at] == 0x1a)
			key = at, data = i;
		i += l;
	}
	assert_true(key > 0);
	/* truncated inside the last span: the first two still walk */
	assert_int_equal(ltb_ls_walk_report(p, data + 100, collect, &g, NULL),
	    -1);
	assert_int_equal(g.n, 2);
	assert_int_equal(agree(p, data + 100, NULL), -1);
	/* badwire */
	p[key] = 0x18;
	assert_int_equal(agree(p, len, NULL), -1);
	/* garbage: most random bodies are refused, and agree() checks
	 * the verdicts match on every one */
	for (i = 0; i < 200; i++) {
		size_t k;

		for (k = 0; k < sizeof junk; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			junk[k] = (uint8_t)(x >> 56);
		}
		agree(junk, sizeof junk, NULL);
	}
	got_free(&g);
	free(p);
}

static void
test_every_truncation_agrees(void **state)
{
	size_t len, i, accepted = 0;
	uint8_t *p = gen(2, 3, 3, 11, LTB_LS_VALID, 0, &len);

	/* cuts at top-level field boundaries are well formed, others not */
	for (i = 0; i <= len; i++)
		if (agree(p, i, NULL) >= 0)
			accepted++;
	assert_true(accepted >= 4 && accepted < 10);
	free(p);
}

/*
 * The walk's fast paths (a timestamp, a key-value, a log, a span context,
 * a reference in the layout tracers send) at their edges: varints of every
 * length, nanos that wrap at 32 bits, the fields in another order, one
 * missing, one extra, lengths at 128. Each sub-message goes in every place
 * it can take in a span, the span last in the body (no room past it for
 * the word reads) or followed by more, and must agree with protobuf-c,
 * streamed or not.
 */
static void
edge_ts(struct pb *t, int i)
{
	static const uint64_t sec[] = { 0, 1, 1700000000, (1ull << 49) - 1,
		(1ull << 56) - 1, 1ull << 56, (1ull << 63) - 1, 1ull << 63,
		(uint64_t)-1 };
	static const uint64_t ns[] = { 0, 5, 999999999, 1000000000,
		0x80000000u, (1ull << 32) + 5, (1ull << 32) + 1000000000,
		(1ull << 35) - 1, 1ull << 56, (uint64_t)-1, (uint64_t)-5 };
	int ns_n = (int)(sizeof ns / sizeof ns[0]);
	int sec_n = (int)(sizeof sec / sizeof sec[0]);

	t->n = 0;
	if (i < sec_n * ns_n) {
		pb_uint(t, 1, sec[i / ns_n]);
		pb_uint(t, 2, ns[i % ns_n]);
		return;
	}
	switch (i - sec_n * ns_n) {
	case 0:		/* nanos first */
		pb_uint(t, 2, 7);
		pb_uint(t, 1, 1700000000);
		break;
	case 1:		/* seconds alone, nanos alone */
		pb_uint(t, 1, 1700000000);
		break;
	case 2:
		pb_uint(t, 2, 1000000001);
		break;
	case 3:		/* nanos in a longer form than needed */
		pb_uint(t, 1, 1700000000);
		pb_raw(t, "\x10\x85\x80\x80\x80\x00", 6);
		break;
	case 4:		/* the first seconds replaced */
		pb_uint(t, 1, (uint64_t)-1);
		pb_uint(t, 1, 1);
		pb_uint(t, 2, 1);
		break;
	case 5:		/* an unknown field after */
		pb_uint(t, 1, 1);
		pb_uint(t, 2, 1);
		pb_uint(t, 3, 1);
		break;
	case 6:		/* nanos past the end: 11-byte varint, cut varint */
		pb_uint(t, 1, 1);
		pb_raw(t, "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		    12);
		break;
	case 7:
		pb_uint(t, 1, 1);
		pb_raw(t, "\x10\xff\xff", 3);
		break;
	case 8:		/* seconds with the wrong wire type */
		pb_key(t, 1, 2);
		pb_raw(t, "\x01\x01", 2);
		pb_uint(t, 2, 1);
		break;
	default:
		t->n = (size_t)-1;
	}
}

static void
edge_kv(struct pb *kv, int i)
{
	static const char long_s[] = "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789";

	kv->n = 0;
	switch (i) {
	case 0: pb_str(kv, 1, "k"); pb_str(kv, 2, "v"); break;
	case 1: pb_str(kv, 1, ""); pb_str(kv, 2, "v"); break;
	case 2: pb_bytes(kv, 1, "\0x", 2); pb_str(kv, 2, "v"); break;
	case 3: pb_str(kv, 1, "k"); pb_str(kv, 2, ""); break;
	case 4: pb_str(kv, 1, "k"); pb_str(kv, 2, long_s + 8); break;
	case 5: pb_str(kv, 1, "k"); pb_str(kv, 2, long_s + 4); break;
	case 6: pb_str(kv, 1, long_s + 3); pb_str(kv, 2, "v"); break;
	case 7: pb_str(kv, 1, "k"); pb_uint(kv, 3, 0); break;
	case 8: pb_str(kv, 1, "k"); pb_uint(kv, 3, (uint64_t)-1); break;
	case 9:		/* an 11-byte int */
		pb_str(kv, 1, "k");
		pb_raw(kv, "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		    12);
		break;
	case 10:
		pb_str(kv, 1, "k");
		pb_key(kv, 4, 1);
		pb_raw(kv, "\1\2\3\4\5\6\7\10", 8);
		break;
	case 11:	/* a double one byte short */
		pb_str(kv, 1, "k");
		pb_key(kv, 4, 1);
		pb_raw(kv, "\1\2\3\4\5\6\7", 7);
		break;
	case 12: pb_str(kv, 1, "k"); pb_uint(kv, 5, 1); break;
	case 13:	/* bool takes any wire type */
		pb_str(kv, 1, "k");
		pb_bytes(kv, 5, "\1", 1);
		break;
	case 14: pb_str(kv, 1, "k"); pb_str(kv, 6, "{}"); break;
	case 15: pb_str(kv, 1, "k"); break;
	case 16: pb_str(kv, 2, "v"); break;
	case 17: pb_str(kv, 2, "v"); pb_str(kv, 1, "k"); break;
	case 18: pb_str(kv, 1, "k"); pb_str(kv, 2, "v"); pb_str(kv, 2, "w");
		break;
	case 19: pb_str(kv, 1, "k"); pb_uint(kv, 2, 1); break;
	case 20: pb_str(kv, 1, "k"); pb_str(kv, 3, "v"); break;
	case 21: pb_str(kv, 1, "k"); pb_str(kv, 2, "v"); pb_uint(kv, 9, 1);
		break;
	default:
		kv->n = (size_t)-1;
	}
}

static void
edge_ctx(struct pb *c, int i)
{
	static const uint64_t id[] = { 0, 1, 127, 128, (1ull << 56) - 1,
		1ull << 56, 1ull << 63, (uint64_t)-1 };
	int id_n = (int)(sizeof id / sizeof id[0]);

	c->n = 0;
	if (i < id_n * id_n) {
		pb_uint(c, 1, id[i / id_n]);
		pb_uint(c, 2, id[i % id_n]);
		return;
	}
	switch (i - id_n * id_n) {
	case 0: pb_uint(c, 2, 9); pb_uint(c, 1, 8); break;
	case 1: pb_uint(c, 1, 8); break;
	case 2: pb_uint(c, 2, 9); break;
	case 3:		/* with baggage */
		pb_uint(c, 1, 8);
		pb_uint(c, 2, 9);
		pb_kv(c, 3, "b", 0);
		break;
	case 4:		/* an 11-byte span id */
		pb_uint(c, 1, 8);
		pb_raw(c, "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		    12);
		break;
	case 5: pb_uint(c, 1, 8); pb_uint(c, 2, 9); pb_uint(c, 2, 0); break;
	default:
		c->n = (size_t)-1;
	}
}

/* A span with sub-message sub in place `where`, the rest the usual. */
static void
edge_span(struct pb *sp, int where, const struct pb *sub)
{
	struct pb c = { .n = 0 }, t = { .n = 0 }, kv = { .n = 0 };
	struct pb l = { .n = 0 }, r = { .n = 0 };

	sp->n = 0;
	pb_uint(&c, 1, 0x1111);
	pb_uint(&c, 2, 0x2222);
	pb_uint(&t, 1, 1700000000);
	pb_uint(&t, 2, 123456789);
	pb_str(&kv, 1, "k");
	pb_str(&kv, 2, "v");
	pb_msg(sp, 1, where == 0 ? sub : &c);
	pb_str(sp, 2, "op");
	if (where == 1) {
		pb_msg(sp, 3, sub);
	} else if (where == 2) {		/* a relationship, then sub */
		pb_uint(&r, 1, 1);
		pb_msg(&r, 2, sub);
		pb_msg(sp, 3, &r);
	} else if (where == 3) {
		pb_raw(&r, "\x08\x80\x01", 3);	/* two-byte relationship */
		pb_msg(&r, 2, sub);
		pb_msg(sp, 3, &r);
	} else {
		pb_msg(&r, 2, &c);
		pb_msg(sp, 3, &r);
	}
	pb_msg(sp, 4, where == 4 ? sub : &t);
	pb_uint(sp, 5, 1000);
	pb_msg(sp, 6, where == 5 ? sub : &kv);
	pb_msg(sp, 6, &kv);
	/* the log's timestamp or its field, in the usual order or not */
	if (where == 8 || where == 10) {
		pb_msg(&l, 2, where == 8 ? sub : &kv);
		pb_msg(&l, 1, where == 10 ? sub : &t);
	} else {
		pb_msg(&l, 1, where == 6 ? sub : &t);
		pb_msg(&l, 2, where == 7 ? sub : &kv);
	}
	pb_msg(sp, 7, &l);
	pb_msg(sp, 7, where == 9 ? sub : &l);
}

static void
edge_agrees(const struct pb *sp)
{
	struct pb m = { .n = 0 };
	size_t cuts[2];

	/* the span last, then with a field after it */
	pb_msg(&m, 3, sp);
	agree(m.b, m.n, NULL);
	cuts[0] = m.n / 3;
	cuts[1] = m.n / 2;
	stream_agrees(m.b, m.n, cuts, 2);
	pb_str(&m, 15, "padding past the span, for the word reads");
	agree(m.b, m.n, NULL);
	stream_agrees(m.b, m.n, cuts, 2);
}

static void
test_fast_paths_agree_at_their_edges(void **state)
{
	struct pb sub, sp, l;
	int i, where;

	for (i = 0; edge_ts(&sub, i), sub.n != (size_t)-1; i++)
		for (where = 4; where <= 10; where += 2) {
			edge_span(&sp, where == 8 ? 4 : where, &sub);
			edge_agrees(&sp);
		}
	for (i = 0; edge_kv(&sub, i), sub.n != (size_t)-1; i++)
		for (where = 5; where <= 8; where++) {
			edge_span(&sp, where, &sub);
			edge_agrees(&sp);
		}
	for (i = 0; edge_ctx(&sub, i), sub.n != (size_t)-1; i++)
		for (where = 0; where <= 3; where++) {
			edge_span(&sp, where, &sub);
			edge_agrees(&sp);
		}
	/* logs around 128 bytes: a one-byte length or two */
	for (i = 100; i < 140; i++) {
		struct pb kv = { .n = 0 }, t = { .n = 0 };
		char v[160];

		memset(v, 'v', sizeof v);
		pb_str(&kv, 1, "k");
		pb_bytes(&kv, 2, v, (size_t)i - 20);
		pb_uint(&t, 1, 1700000000);
		pb_uint(&t, 2, 5);
		l.n = 0;
		pb_msg(&l, 1, &t);
		pb_msg(&l, 2, &kv);
		edge_span(&sp, 9, &l);
		edge_agrees(&sp);
		edge_span(&sp, 5, &kv);
		edge_agrees(&sp);
	}
}

static void
test_stream_every_split_point_equals_one_shot(void **state)
{
	size_t len, i;
	uint8_t *p = gen(3, 4, 4, 13, LTB_LS_VALID, 0, &len);
	struct pb odd;

	for (i = 0; i <= len; i++)
		stream_agrees(p, len, &i, 1);
	pb_report(&odd, 1);
	for (i = 0; i <= odd.n; i++)
		stream_agrees(odd.b, odd.n, &i, 1);
	free(p);
}

static void
test_stream_byte_at_a_time_equals_one_shot(void **state)
{
	size_t len, i, *cuts;
	uint8_t *p = gen(20, 10, 15, 17, LTB_LS_BAD_REFERENCE, 1, &len);
	struct got g = { 0 };

	cuts = malloc(len * sizeof *cuts);
	assert_non_null(cuts);
	for (i = 0; i < len; i++)
		cuts[i] = i;
	stream_agrees(p, len, cuts, len);
	assert_int_equal(stream_cuts(p, len, cuts, len, 4096, &g), 40);
	for (i = 0; i < g.n; i++)
		assert_int_equal(g.s[i].invalid, LTB_LS_BAD_REFERENCE);
	got_free(&g);
	free(cuts);
	free(p);
}

static void
test_stream_random_splits_equal_one_shot(void **state)
{
	size_t len, i, k, n, cuts[16];
	uint8_t *p = gen(30, 10, 15, 19, LTB_LS_VALID, 0, &len);
	uint64_t x = 7;

	for (i = 0; i < 300; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		n = 1 + (x >> 60);
		for (k = 0; k < n; k++) {
			x = x * 6364136223846793005ull +
			    1442695040888963407ull;
			cuts[k] = (size_t)((x >> 33) % (len + 1));
		}
		/* ascending, repeats allowed (empty pieces) */
		for (k = 1; k < n; k++) {
			size_t j = k, t = cuts[k];

			while (j > 0 && cuts[j - 1] > t) {
				cuts[j] = cuts[j - 1];
				j--;
			}
			cuts[j] = t;
		}
		stream_agrees(p, len, cuts, n);
	}
	free(p);
}

static void
test_stream_field_over_max_field_is_too_large(void **state)
{
	struct ltb_ls_stream s;
	size_t len;
	uint8_t *p = gen(2, 10, 15, 21, LTB_LS_VALID, 0, &len);
	uint8_t big[3 + 5000];
	int r;

	/* a span (~940 bytes) over a 512-byte limit, in one piece or two */
	ltb_ls_stream_init(&s, 512);
	r = ltb_ls_stream_feed(&s, p, len, NULL, NULL);
	assert_int_equal(r, LTB_LS_TOO_LARGE);
	assert_non_null(s.why);
	/* and it stays failed */
	assert_int_equal(ltb_ls_stream_feed(&s, p, 1, NULL, NULL),
	    LTB_LS_TOO_LARGE);
	assert_int_equal(ltb_ls_stream_end(&s), LTB_LS_TOO_LARGE);
	ltb_ls_stream_free(&s);

	ltb_ls_stream_init(&s, 512);
	r = ltb_ls_stream_feed(&s, p, len / 2, NULL, NULL);
	if (r >= 0)
		r = ltb_ls_stream_feed(&s, p + len / 2, len - len / 2, NULL,
		    NULL);
	assert_int_equal(r, LTB_LS_TOO_LARGE);
	ltb_ls_stream_free(&s);

	/* with room it passes, holding no more than the largest field */
	ltb_ls_stream_init(&s, 1024);
	assert_true(ltb_ls_stream_feed(&s, p, len / 2, NULL, NULL) >= 0);
	assert_true(ltb_ls_stream_feed(&s, p + len / 2, len - len / 2, NULL,
	    NULL) >= 0);
	assert_int_equal(ltb_ls_stream_end(&s), 0);
	assert_int_equal(s.spans, 2);
	assert_true(s.capheld <= 1024);
	ltb_ls_stream_free(&s);

	/* an unknown field over the limit is skipped, never held */
	big[0] = 0x7a;				/* field 15, bytes */
	big[1] = 0x88;				/* length 5000 */
	big[2] = 0x27;
	memset(big + 3, 0xee, 5000);
	ltb_ls_stream_init(&s, 512);
	assert_true(ltb_ls_stream_feed(&s, big, 100, NULL, NULL) >= 0);
	assert_true(ltb_ls_stream_feed(&s, big + 100, sizeof big - 100, NULL,
	    NULL) >= 0);
	assert_int_equal(ltb_ls_stream_end(&s), 0);
	assert_int_equal(s.capheld, 0);
	assert_null(s.held);
	ltb_ls_stream_free(&s);
	free(p);
}

static void
test_stream_end_refuses_a_truncated_body(void **state)
{
	struct ltb_ls_stream s;
	size_t len, cut;
	uint8_t *p = gen(2, 10, 15, 23, LTB_LS_VALID, 0, &len);
	static const uint8_t partial[][3] = {
		{ 0x9a },		/* half a key */
		{ 0x1a, 0x85 },		/* half a length */
		{ 0x78, 0x80 },		/* half a varint */
		{ 0x79, 1, 2 },		/* 3 of 8 bytes */
	};
	static const size_t plen[] = { 1, 2, 2, 3 };
	size_t i;

	for (cut = 1; cut < len; cut += 97) {
		ltb_ls_stream_init(&s, 1 << 20);
		assert_true(ltb_ls_stream_feed(&s, p, cut, NULL, NULL) >= 0);
		if (ltb_ls_walk_report(p, cut, NULL, NULL, NULL) < 0)
			assert_int_equal(ltb_ls_stream_end(&s),
			    LTB_LS_MALFORMED);
		else
			assert_int_equal(ltb_ls_stream_end(&s), 0);
		ltb_ls_stream_free(&s);
	}
	for (i = 0; i < sizeof plen / sizeof plen[0]; i++) {
		ltb_ls_stream_init(&s, 1 << 20);
		assert_int_equal(ltb_ls_stream_feed(&s, partial[i], plen[i],
		    NULL, NULL), 0);
		assert_int_equal(ltb_ls_stream_end(&s), LTB_LS_MALFORMED);
		assert_non_null(s.why);
		ltb_ls_stream_free(&s);
	}
	free(p);
}

static void
test_stream_feed_returns_spans_completed(void **state)
{
	struct ltb_ls_stream s;
	size_t len;
	uint8_t *p = gen(5, 10, 15, 25, LTB_LS_VALID, 0, &len);

	ltb_ls_stream_init(&s, 1 << 20);
	assert_int_equal(ltb_ls_stream_feed(&s, p, len, NULL, NULL), 5);
	assert_int_equal(ltb_ls_stream_feed(&s, p, 0, NULL, NULL), 0);
	assert_int_equal(ltb_ls_stream_end(&s), 0);
	assert_int_equal(s.spans, 5);
	assert_int_equal(s.bytes, len);
	ltb_ls_stream_free(&s);
	free(p);
}

static void
test_response_round_trips_through_protobuf_c(void **state)
{
	uint8_t buf[64];
	Lightstep__Collector__ReportResponse *r;
	uint64_t rx = 1700000000123456789ull, tx = 1700000000987654321ull;
	size_t n;

	n = ltb_ls_response(buf, sizeof buf, rx, tx);
	assert_true(n > 0 && n <= sizeof buf);
	r = lightstep__collector__report_response__unpack(NULL, n, buf);
	assert_non_null(r);
	assert_non_null(r->receive_timestamp);
	assert_non_null(r->transmit_timestamp);
	assert_int_equal(r->receive_timestamp->seconds, 1700000000);
	assert_int_equal(r->receive_timestamp->nanos, 123456789);
	assert_int_equal(r->transmit_timestamp->seconds, 1700000000);
	assert_int_equal(r->transmit_timestamp->nanos, 987654321);
	assert_int_equal(r->n_commands, 0);
	lightstep__collector__report_response__free_unpacked(r, NULL);
	/* the largest times fit 64 bytes; a small buffer gets 0 */
	assert_true(ltb_ls_response(buf, sizeof buf, UINT64_MAX,
	    UINT64_MAX) > 0);
	assert_int_equal(ltb_ls_response(buf, 8, rx, tx), 0);
}

static void
test_invalid_names_are_stable(void **state)
{
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_VALID), "valid");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_NO_CONTEXT),
	    "no_context");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_ZERO_TRACE_ID),
	    "zero_trace_id");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_ZERO_SPAN_ID),
	    "zero_span_id");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_NO_OPERATION),
	    "no_operation");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_NO_START), "no_start");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_BAD_TIMESTAMP),
	    "bad_timestamp");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_BAD_REFERENCE),
	    "bad_reference");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_EMPTY_KEY),
	    "empty_key");
	assert_string_equal(ltb_ls_invalid_name(LTB_LS_NINVALID), "unknown");
}

/*
 * Seeded random mutations of valid reports: bit flips, byte stores,
 * truncations, insertions, deletions and repeats. Each must get the same
 * verdict and spans from walk and unpack, and from a two-piece stream.
 */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_random_mutations_agree(void **state)
{
	enum { ROUNDS = 20000, CAP = 8192 };
	static uint8_t q[CAP];
	uint8_t *base[8];
	size_t blen[8], nbase = 0, i, n, at, k;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct pb odd;
	long ok = 0, bad = 0;

	base[nbase] = gen(1, 2, 2, 1, LTB_LS_VALID, 0, &blen[nbase]), nbase++;
	base[nbase] = gen(2, 1, 1, 2, LTB_LS_BAD_TIMESTAMP, 0, &blen[nbase]),
	    nbase++;
	base[nbase] = gen(3, 0, 2, 3, LTB_LS_EMPTY_KEY, 1, &blen[nbase]),
	    nbase++;
	base[nbase] = gen(1, 10, 15, 4, LTB_LS_VALID, 0, &blen[nbase]),
	    nbase++;
	base[nbase] = gen(2, 1, 0, 5, LTB_LS_BAD_REFERENCE, 0, &blen[nbase]),
	    nbase++;
	pb_report(&odd, 1);
	base[nbase] = malloc(odd.n);
	assert_non_null(base[nbase]);
	memcpy(base[nbase], odd.b, odd.n);
	blen[nbase++] = odd.n;

	for (i = 0; i < ROUNDS; i++) {
		size_t b = rnd(&x) % nbase, muts = 1 + rnd(&x) % 3, m;

		n = blen[b];
		memcpy(q, base[b], n);
		for (m = 0; m < muts; m++) {
			at = n ? rnd(&x) % n : 0;
			switch (rnd(&x) % 7) {
			case 0:	/* flip a bit */
				if (n)
					q[at] ^= (uint8_t)(1u << rnd(&x) % 8);
				break;
			case 1:	/* store an interesting byte */
				if (n) {
					static const uint8_t v[] = { 0, 1, 7,
					    8, 0x7f, 0x80, 0xff, 0x0f, 0x1a,
					    0x0a, 0x12, 0x22 };
					q[at] = v[rnd(&x) % sizeof v];
				}
				break;
			case 2:	/* truncate */
				n = at;
				break;
			case 3:	/* insert random bytes */
				k = 1 + rnd(&x) % 8;
				if (n + k > CAP)
					break;
				memmove(q + at + k, q + at, n - at);
				for (size_t j = 0; j < k; j++)
					q[at + j] = (uint8_t)rnd(&x);
				n += k;
				break;
			case 4:	/* delete a range */
				k = 1 + rnd(&x) % 16;
				if (at + k > n)
					k = n - at;
				memmove(q + at, q + at + k, n - at - k);
				n -= k;
				break;
			case 5:	/* repeat a range */
				k = 1 + rnd(&x) % 64;
				if (at + k > n)
					k = n - at;
				if (n + k > CAP)
					break;
				memmove(q + at + k, q + at, n - at);
				n += k;
				break;
			default:	/* a random byte */
				if (n)
					q[at] = (uint8_t)rnd(&x);
			}
		}
		if (agree(q, n, NULL) < 0)
			bad++;
		else
			ok++;
		k = n ? rnd(&x) % (n + 1) : 0;
		stream_agrees(q, n, &k, 1);
	}
	/* the mutations must exercise both verdicts */
	assert_true(ok > ROUNDS / 20);
	assert_true(bad > ROUNDS / 20);
	for (i = 0; i < nbase; i++)
		free(base[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_equals_unpack_on_generated_reports),
		cmocka_unit_test(test_generated_span_is_about_940_bytes),
		cmocka_unit_test(test_generator_is_deterministic_and_seeded),
		cmocka_unit_test(
		    test_each_invalid_reason_is_flagged_on_every_span),
		cmocka_unit_test(test_duplicates_are_kept_as_separate_spans),
		cmocka_unit_test(test_empty_report_has_no_spans),
		cmocka_unit_test(
		    test_unknown_fields_at_every_level_are_skipped),
		cmocka_unit_test(
		    test_group_wire_types_are_refused_at_every_level),
		cmocka_unit_test(test_wire_rules_match_protobuf_c),
		cmocka_unit_test(test_later_span_context_replaces_earlier_ids),
		cmocka_unit_test(test_validation_rules_in_order),
		cmocka_unit_test(
		    test_key_or_operation_starting_with_nul_reads_as_empty),
		cmocka_unit_test(
		    test_js_style_reference_with_only_span_id_is_valid),
		cmocka_unit_test(test_malformed_kinds_are_refused),
		cmocka_unit_test(test_every_truncation_agrees),
		cmocka_unit_test(test_fast_paths_agree_at_their_edges),
		cmocka_unit_test(
		    test_stream_every_split_point_equals_one_shot),
		cmocka_unit_test(test_stream_byte_at_a_time_equals_one_shot),
		cmocka_unit_test(test_stream_random_splits_equal_one_shot),
		cmocka_unit_test(test_stream_field_over_max_field_is_too_large),
		cmocka_unit_test(test_stream_end_refuses_a_truncated_body),
		cmocka_unit_test(test_stream_feed_returns_spans_completed),
		cmocka_unit_test(test_response_round_trips_through_protobuf_c),
		cmocka_unit_test(test_invalid_names_are_stable),
		cmocka_unit_test(test_random_mutations_agree),
	};

	return cmocka_run_group_tests_name("lsproto", tests, NULL, NULL);
}
