/*
 * test_otlp.c: the OTLP trace readers against their oracle, and the
 * protocol's answers.
 *
 * ltb_otlp_walk must give protobuf-c's verdict on every body, and the same
 * spans; the streaming walk must give the one-shot walk's answer however
 * the body is cut; the JSON reader must read the JSON form of a request as
 * the walk reads its protobuf. Bodies come from ltb_otlpgen, from a small
 * protobuf writer below (for what the generator never sends: unknown
 * fields, odd wire encodings, repeated fields, deep nesting), and from
 * seeded random mutations of both. The protocol (ltb_proto_otlp) is driven
 * as the satellite group drives it: begin, feed, end or refuse, release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "otlp_trace.pb-c.h"
#include "collector/ltb_collector.h"
#include "collector/proto/ltb_otlp_gen.h"
#include "collector/proto/ltb_otlp_walk.h"

/* Spans a reader reported. */
struct got {
	struct ltb_otlp_span *s;
	size_t n, cap;
};

static void
collect(void *ctx, const struct ltb_otlp_span *span)
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
		assert_int_equal(a->s[i].trace_hi, b->s[i].trace_hi);
		assert_int_equal(a->s[i].trace_lo, b->s[i].trace_lo);
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
	const char *why = NULL, *uwhy = NULL;
	long rw, ru;

	rw = ltb_otlp_walk(p, n, collect, &w, &why);
	ru = ltb_otlp_unpack(p, n, collect, &u, &uwhy);
	if ((rw < 0) != (ru < 0))
		fail_msg("walk says %ld (%s), protobuf-c says %ld (%s)", rw,
		    why ? why : "-", ru, uwhy ? uwhy : "-");
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

/* Stream p cut at the given points (ascending); returns what ltb_otlp_walk
 * would, and the spans in *out. */
static long
stream_cuts(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts,
    size_t max_field, struct got *out, int *code)
{
	struct ltb_otlp_stream s;
	size_t at = 0, i;
	long rc = 0;

	ltb_otlp_stream_init(&s, max_field);
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;
		int r = ltb_otlp_stream_feed(&s, p + at, to - at, collect, out);

		if (r < 0) {
			assert_non_null(s.why);
			rc = r;
			break;
		}
		at = to;
	}
	if (rc == 0 && ltb_otlp_stream_end(&s) < 0)
		rc = LTB_OTLP_MALFORMED;
	if (code != NULL)
		*code = (int)rc;
	if (rc == 0)
		rc = (long)s.spans;
	ltb_otlp_stream_free(&s);
	return rc < 0 ? -1 : rc;
}

static void
stream_agrees(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts)
{
	struct got a = { 0 }, b = { 0 };
	long ra, rb;

	ra = ltb_otlp_walk(p, n, collect, &a, NULL);
	rb = stream_cuts(p, n, cuts, ncuts, (size_t)-1, &b, NULL);
	assert_int_equal(ra, rb);
	/* both report the spans before a malformed point */
	assert_same_spans(&a, &b);
	got_free(&a);
	got_free(&b);
}

static uint8_t *
gen(size_t spans, int attrs, int events, uint64_t seed,
    enum ltb_otlp_invalid inv, int dup, size_t *len)
{
	struct ltb_otlpgen g = LTB_OTLPGEN_DEFAULT;
	uint8_t *p;

	g.spans = spans;
	g.num_attrs = attrs;
	g.num_events = events;
	g.seed = seed;
	g.invalid = inv;
	g.duplicates = dup;
	p = ltb_otlpgen_request(&g, len);
	assert_non_null(p);
	return p;
}

/*
 * A small protobuf writer, for bodies the generator does not make.
 */
struct pb {
	uint8_t b[8192];
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
pb_fixed64(struct pb *m, uint32_t f, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pb_key(m, f, 1);
	pb_raw(m, b, 8);
}

static void
pb_fixed32(struct pb *m, uint32_t f, uint32_t v)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pb_key(m, f, 5);
	pb_raw(m, b, 4);
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
 * and long-form field-0 keys. Field numbers from 17 on are unknown to
 * every OTLP message. */
static void
pb_unknowns(struct pb *m)
{
	static const uint8_t field0[] = { 0x80, 0x00, 0x07 };	/* key 0 */

	pb_uint(m, 17, 12345);
	pb_key(m, 18, 1);
	pb_raw(m, "\1\2\3\4\5\6\7\10", 8);
	pb_key(m, 2047, 5);
	pb_raw(m, "\1\2\3\4", 4);
	pb_str(m, 536870911, "unknown bytes");	/* largest field number */
	pb_raw(m, field0, sizeof field0);
}

static const uint8_t TRACE[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d,
	0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
static const uint8_t SPAN[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02,
	0xb7 };
static const uint8_t PARENT[8] = { 0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a,
	0xd8 };

/* A string attribute. */
static void
pb_attr(struct pb *m, uint32_t f, const char *k, const char *v,
    int unknowns)
{
	struct pb kv = { .n = 0 }, av = { .n = 0 };

	pb_str(&av, 1, v);
	if (unknowns)
		pb_unknowns(&av);
	pb_str(&kv, 1, k);
	pb_msg(&kv, 2, &av);
	if (unknowns)
		pb_unknowns(&kv);
	pb_msg(m, f, &kv);
}

/* One span with every field, every message carrying unknown fields if
 * asked. */
static void
pb_span(struct pb *sp, int unknowns)
{
	struct pb ev = { .n = 0 }, ln = { .n = 0 }, st = { .n = 0 };

	sp->n = 0;
	pb_bytes(sp, 1, TRACE, 16);
	pb_bytes(sp, 2, SPAN, 8);
	pb_str(sp, 3, "vendor=value");
	pb_bytes(sp, 4, PARENT, 8);
	pb_fixed32(sp, 16, 0x101);
	pb_str(sp, 5, "POST /cart");
	pb_uint(sp, 6, 2);
	pb_fixed64(sp, 7, 1700000000000000000ull);
	pb_fixed64(sp, 8, 1700000000250000000ull);
	pb_attr(sp, 9, "http.request.method", "POST", unknowns);
	pb_uint(sp, 10, 1);
	pb_fixed64(&ev, 1, 1700000000100000000ull);
	pb_str(&ev, 2, "cache miss");
	pb_attr(&ev, 3, "event.index", "0", unknowns);
	pb_uint(&ev, 4, 0);
	pb_bytes(&ln, 1, TRACE, 16);
	pb_bytes(&ln, 2, PARENT, 8);
	pb_str(&ln, 3, "");
	pb_attr(&ln, 4, "link.kind", "follows", unknowns);
	pb_uint(&ln, 5, 0);
	pb_fixed32(&ln, 6, 1);
	pb_str(&st, 2, "upstream unavailable");
	pb_uint(&st, 3, 2);
	pb_uint(&st, 1, 9);	/* the reserved deprecated code: unknown */
	if (unknowns) {
		pb_unknowns(&ev);
		pb_unknowns(&ln);
		pb_unknowns(&st);
	}
	pb_msg(sp, 11, &ev);
	pb_uint(sp, 12, 0);
	pb_msg(sp, 13, &ln);
	pb_uint(sp, 14, 0);
	pb_msg(sp, 15, &st);
	if (unknowns)
		pb_unknowns(sp);
}

/* A request around one span: resource, scope, schema URLs. */
static void
pb_request_of(struct pb *m, const struct pb *sp, int unknowns)
{
	struct pb res = { .n = 0 }, sc = { .n = 0 }, ss = { .n = 0 };
	struct pb rs = { .n = 0 };

	pb_attr(&res, 1, "service.name", "checkout", unknowns);
	pb_uint(&res, 2, 0);
	pb_str(&sc, 1, "checkout.http");
	pb_str(&sc, 2, "2.1.0");
	pb_attr(&sc, 3, "scope.owner", "payments",
	    unknowns);
	pb_uint(&sc, 4, 0);
	if (unknowns) {
		pb_unknowns(&res);
		pb_unknowns(&sc);
		pb_unknowns(&ss);
	}
	pb_msg(&ss, 1, &sc);
	pb_msg(&ss, 2, sp);
	pb_str(&ss, 3, "https://opentelemetry.io/schemas/1.24.0");
	if (unknowns)
		pb_unknowns(&rs);
	pb_msg(&rs, 1, &res);
	pb_msg(&rs, 2, &ss);
	pb_str(&rs, 3, "https://opentelemetry.io/schemas/1.24.0");
	if (unknowns)
		pb_unknowns(&rs);
	m->n = 0;
	if (unknowns)
		pb_unknowns(m);
	pb_msg(m, 1, &rs);
	if (unknowns)
		pb_unknowns(m);
}

static void
pb_request(struct pb *m, int unknowns)
{
	struct pb sp;

	pb_span(&sp, unknowns);
	pb_request_of(m, &sp, unknowns);
}

static uint64_t
be(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The protobuf readers.
 */
static void
test_walk_equals_unpack_on_generated_requests(void **state)
{
	static const size_t spans[] = { 1, 2, 17, 100 };
	struct got g = { 0 };
	size_t i, j, len;
	uint8_t *p;

	for (i = 0; i < sizeof spans / sizeof spans[0]; i++) {
		p = gen(spans[i], 10, 15, i + 1, LTB_OTLP_VALID, 0, &len);
		assert_int_equal(agree(p, len, &g), (long)spans[i]);
		for (j = 0; j < g.n; j++) {
			assert_int_equal(g.s[j].invalid, LTB_OTLP_VALID);
			assert_true(g.s[j].trace_hi != 0);
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
test_spans_in_many_resources_and_scopes_are_all_read(void **state)
{
	struct ltb_otlpgen g = LTB_OTLPGEN_DEFAULT;
	struct got a = { 0 }, b = { 0 };
	uint8_t *p, *q;
	size_t n, m;

	g.spans = 50;
	p = ltb_otlpgen_request(&g, &n);
	g.resources = 3;
	g.scopes = 4;
	q = ltb_otlpgen_request(&g, &m);
	assert_non_null(p);
	assert_non_null(q);
	assert_true(m > n);
	assert_int_equal(agree(p, n, &a), 50);
	assert_int_equal(agree(q, m, &b), 50);
	assert_same_spans(&a, &b);
	got_free(&a);
	got_free(&b);
	free(p);
	free(q);
}

static void
test_generated_span_is_about_as_large_as_lightstep_s(void **state)
{
	size_t l1, l101;
	uint8_t *a = gen(1, 10, 15, 1, LTB_OTLP_VALID, 0, &l1);
	uint8_t *b = gen(101, 10, 15, 1, LTB_OTLP_VALID, 0, &l101);
	size_t per = (l101 - l1) / 100;

	/* LightStep's fixture span is about 940 bytes */
	assert_in_range(per, 800, 1100);
	free(a);
	free(b);
}

static void
test_generator_is_deterministic_and_seeded(void **state)
{
	size_t la, lb, lc;
	uint8_t *a = gen(20, 10, 15, 7, LTB_OTLP_VALID, 0, &la);
	uint8_t *b = gen(20, 10, 15, 7, LTB_OTLP_VALID, 0, &lb);
	uint8_t *c = gen(20, 10, 15, 8, LTB_OTLP_VALID, 0, &lc);
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
	struct got g = { 0 }, j = { 0 };
	size_t k, len, jlen;
	uint8_t *p;
	char *js;
	int why;

	for (why = LTB_OTLP_VALID; why < LTB_OTLP_NINVALID; why++) {
		struct ltb_otlpgen o = LTB_OTLPGEN_DEFAULT;

		p = gen(6, 10, 15, 3, (enum ltb_otlp_invalid)why, 0, &len);
		assert_int_equal(agree(p, len, &g), 6);
		for (k = 0; k < g.n; k++)
			assert_int_equal(g.s[k].invalid, why);
		/* and the JSON form reads the same */
		o.spans = 6;
		o.seed = 3;
		o.invalid = (enum ltb_otlp_invalid)why;
		js = ltb_otlpgen_json(&o, &jlen);
		assert_non_null(js);
		assert_int_equal(ltb_otlp_json((const uint8_t *)js, jlen,
		    collect, &j, NULL), 6);
		assert_same_spans(&g, &j);
		got_free(&g);
		got_free(&j);
		free(js);
		free(p);
	}
}

static void
test_duplicates_are_kept_as_separate_spans(void **state)
{
	struct got g = { 0 };
	size_t i, len;
	uint8_t *p = gen(4, 2, 2, 9, LTB_OTLP_VALID, 2, &len);

	assert_int_equal(agree(p, len, &g), 12);
	for (i = 0; i < 12; i += 3) {
		assert_int_equal(g.s[i].span_id, g.s[i + 1].span_id);
		assert_int_equal(g.s[i].span_id, g.s[i + 2].span_id);
		assert_int_equal(ltb_otlp_key(&g.s[i]),
		    ltb_otlp_key(&g.s[i + 2]));
		if (i > 0)
			assert_true(ltb_otlp_key(&g.s[i]) !=
			    ltb_otlp_key(&g.s[i - 1]));
	}
	got_free(&g);
	free(p);
}

static void
test_key_depends_on_both_halves_of_the_trace_id(void **state)
{
	struct ltb_otlp_span a = { 1, 2, 3, LTB_OTLP_VALID }, b = a, c = a;

	b.trace_hi = 2;
	c.trace_lo = 3;
	assert_true(ltb_otlp_key(&a) != ltb_otlp_key(&b));
	assert_true(ltb_otlp_key(&a) != ltb_otlp_key(&c));
	assert_true(ltb_otlp_key(&b) != ltb_otlp_key(&c));
}

static void
test_empty_request_has_no_spans(void **state)
{
	size_t len;
	uint8_t *p = gen(0, 10, 15, 1, LTB_OTLP_VALID, 0, &len);

	assert_int_equal(agree((const uint8_t *)"", 0, NULL), 0);
	assert_int_equal(agree(p, len, NULL), 0);
	/* an empty ResourceSpans, an empty ScopeSpans */
	assert_int_equal(agree((const uint8_t *)"\x0a\x00", 2, NULL), 0);
	assert_int_equal(agree((const uint8_t *)"\x0a\x02\x12\x00", 4, NULL),
	    0);
	free(p);
}

static void
test_unknown_fields_at_every_level_are_skipped(void **state)
{
	struct pb plain, odd;
	struct got a = { 0 }, b = { 0 };

	pb_request(&plain, 0);
	pb_request(&odd, 1);
	assert_true(odd.n > plain.n + 300);
	assert_int_equal(agree(plain.b, plain.n, &a), 1);
	assert_int_equal(agree(odd.b, odd.n, &b), 1);
	assert_int_equal(b.s[0].trace_hi, be(TRACE));
	assert_int_equal(b.s[0].trace_lo, be(TRACE + 8));
	assert_int_equal(b.s[0].span_id, be(SPAN));
	assert_int_equal(b.s[0].invalid, LTB_OTLP_VALID);
	assert_same_spans(&a, &b);
	got_free(&a);
	got_free(&b);
}

/* Every known field of every message, given with each wrong wire type
 * (and the group types), must be refused by both readers. */
static void
test_wrong_wire_types_are_refused_at_every_level(void **state)
{
	static const unsigned wires[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	/* the span's fields and their right wire types */
	static const struct { uint32_t f; unsigned w; } span_fields[] = {
		{ 1, 2 }, { 2, 2 }, { 3, 2 }, { 4, 2 }, { 5, 2 }, { 6, 0 },
		{ 7, 1 }, { 8, 1 }, { 9, 2 }, { 10, 0 }, { 11, 2 }, { 12, 0 },
		{ 13, 2 }, { 14, 0 }, { 15, 2 }, { 16, 5 },
	};
	struct pb sp, base, m;
	size_t i, w, refused = 0;

	pb_span(&base, 0);
	for (i = 0; i < sizeof span_fields / sizeof span_fields[0]; i++)
		for (w = 0; w < 8; w++) {
			if (wires[w] == span_fields[i].w)
				continue;
			sp = base;
			pb_key(&sp, span_fields[i].f, wires[w]);
			/* a value of the size its wire type says, so the
			 * type is all that is wrong */
			pb_raw(&sp, "\0\0\0\0\0\0\0\0",
			    wires[w] == 1 ? 8 : wires[w] == 5 ? 4 : 1);
			pb_request_of(&m, &sp, 0);
			assert_int_equal(agree(m.b, m.n, NULL), -1);
			refused++;
		}
	assert_int_equal(refused, 16 * 7);

	/* the frames: request, ResourceSpans, ScopeSpans, as varints */
	assert_int_equal(agree((const uint8_t *)"\x08\x01", 2, NULL), -1);
	for (i = 1; i <= 3; i++) {
		uint8_t b[4] = { 0x0a, 0x02, (uint8_t)(i << 3), 0x01 };
		uint8_t c[6] = { 0x0a, 0x04, 0x12, 0x02, (uint8_t)(i << 3),
			0x01 };

		assert_int_equal(agree(b, 4, NULL), -1);
		assert_int_equal(agree(c, 6, NULL), -1);
	}
	/* groups are refused anywhere, even unknown */
	assert_int_equal(agree((const uint8_t *)"\x0a\x02\xa3\x01", 4, NULL),
	    -1);
	assert_int_equal(agree((const uint8_t *)"\x9b\x01", 2, NULL), -1);
}

/* AnyValue: bool_value takes any of the accepted wire types; the others
 * are refused for each member. */
static void
test_anyvalue_members_and_bool_wire_types(void **state)
{
	static const unsigned right[8] = { 0, 2, 0, 0, 1, 2, 2, 2 };
	struct pb sp, m, av, kv;
	unsigned f, w;

	for (f = 1; f <= 7; f++)
		for (w = 0; w < 8; w++) {
			long r;

			av.n = 0;
			pb_key(&av, f, w);
			/* a value of the size its wire type says */
			pb_raw(&av, "\0\0\0\0\0\0\0\0",
			    w == 1 ? 8 : w == 5 ? 4 : 1);
			kv.n = 0;
			pb_str(&kv, 1, "k");
			pb_msg(&kv, 2, &av);
			pb_span(&sp, 0);
			pb_msg(&sp, 9, &kv);
			pb_request_of(&m, &sp, 0);
			r = agree(m.b, m.n, NULL);
			if (w == 3 || w == 4 || w == 6 || w == 7)
				assert_int_equal(r, -1);
			else if (f == 2 || w == right[f])
				assert_int_equal(r, 1);
			else
				assert_int_equal(r, -1);
		}
}

/* Append to sp an attribute whose value is given once per member in
 * members (0: an empty AnyValue; 7 with len: bytes_value of that many
 * bytes; others: that member with a small value). */
static void
attr_values(struct pb *sp, const unsigned *members, size_t n, int bytes_len)
{
	struct pb kv = { .n = 0 };
	size_t i;

	pb_str(&kv, 1, "k");
	for (i = 0; i < n; i++) {
		struct pb av = { .n = 0 }, sub = { .n = 0 };

		switch (members[i]) {
		case 0:
			break;
		case 1:
			pb_str(&av, 1, "s");
			break;
		case 2:
			pb_uint(&av, 2, 1);
			break;
		case 3:
			pb_uint(&av, 3, 42);
			break;
		case 4:
			pb_fixed64(&av, 4, 0x3ff0000000000000ull);
			break;
		case 5:
		case 6:
			pb_msg(&av, members[i], &sub);
			break;
		case 7:
			pb_bytes(&av, 7, "xyz", (size_t)bytes_len);
			break;
		}
		pb_msg(&kv, 2, &av);
	}
	pb_msg(sp, 9, &kv);
}

static long
with_values(const unsigned *members, size_t n, int bytes_len)
{
	struct pb sp, m;

	pb_span(&sp, 0);
	attr_values(&sp, members, n, bytes_len);
	pb_request_of(&m, &sp, 0);
	return agree(m.b, m.n, NULL);
}

/* protobuf-c merges a KeyValue's value given twice, and the merge fails
 * when neither has a member; the walk must say the same. */
static void
test_attribute_value_given_twice_merges_like_protobuf_c(void **state)
{
	static const unsigned none_none[] = { 0, 0 };
	static const unsigned none_none_none[] = { 0, 0, 0 };
	static const unsigned str_none[] = { 1, 0 };
	static const unsigned str_none_none[] = { 1, 0, 0 };
	static const unsigned int_none_none[] = { 3, 0, 0 };
	static const unsigned none_int_none[] = { 0, 3, 0 };
	static const unsigned bytes_none_none[] = { 7, 0, 0 };
	static const unsigned arr_none_none[] = { 5, 0, 0 };
	static const unsigned kv_none_none[] = { 6, 0, 0 };
	static const unsigned bool_none_none[] = { 2, 0, 0 };
	static const unsigned dbl_none_none[] = { 4, 0, 0 };
	static const unsigned int_str[] = { 3, 1 };
	static const unsigned one_none[] = { 0 };

	assert_int_equal(with_values(one_none, 1, 0), 1);
	assert_int_equal(with_values(none_none, 2, 0), -1);
	assert_int_equal(with_values(none_none_none, 3, 0), -1);
	assert_int_equal(with_values(str_none, 2, 0), 1);
	/* a string is not carried over: the third finds none */
	assert_int_equal(with_values(str_none_none, 3, 0), -1);
	assert_int_equal(with_values(int_none_none, 3, 0), 1);
	assert_int_equal(with_values(none_int_none, 3, 0), 1);
	assert_int_equal(with_values(bytes_none_none, 3, 3), 1);
	/* empty bytes are not carried over either */
	assert_int_equal(with_values(bytes_none_none, 3, 0), -1);
	assert_int_equal(with_values(arr_none_none, 3, 0), 1);
	assert_int_equal(with_values(kv_none_none, 3, 0), 1);
	assert_int_equal(with_values(bool_none_none, 3, 0), 1);
	assert_int_equal(with_values(dbl_none_none, 3, 0), 1);
	assert_int_equal(with_values(int_str, 2, 0), 1);
}

/* An attribute value of depth levels of arrays (or key-value lists). */
static void
nested(struct pb *out, unsigned depth, int kvlist)
{
	static struct pb a, b;
	unsigned i;

	a.n = 0;
	pb_str(&a, 1, "leaf");
	for (i = 0; i < depth; i++) {
		b.n = 0;
		if (kvlist) {
			struct pb kv = { .n = 0 }, l = { .n = 0 };

			pb_str(&kv, 1, "k");
			pb_msg(&kv, 2, &a);
			pb_msg(&l, 1, &kv);
			pb_msg(&b, 6, &l);
		} else {
			struct pb l = { .n = 0 };

			pb_msg(&l, 1, &a);
			pb_msg(&b, 5, &l);
		}
		a = b;
	}
	*out = a;
}

static void
test_nesting_is_bounded_for_both_readers(void **state)
{
	struct pb sp, m, av, kv;
	int kvlist;
	const char *why = NULL;

	for (kvlist = 0; kvlist <= 1; kvlist++) {
		nested(&av, LTB_OTLP_MAX_NESTING, kvlist);
		kv.n = 0;
		pb_str(&kv, 1, "deep");
		pb_msg(&kv, 2, &av);
		pb_span(&sp, 0);
		pb_msg(&sp, 9, &kv);
		pb_request_of(&m, &sp, 0);
		assert_int_equal(agree(m.b, m.n, NULL), 1);

		nested(&av, LTB_OTLP_MAX_NESTING + 1, kvlist);
		kv.n = 0;
		pb_str(&kv, 1, "deep");
		pb_msg(&kv, 2, &av);
		pb_span(&sp, 0);
		pb_msg(&sp, 9, &kv);
		pb_request_of(&m, &sp, 0);
		assert_int_equal(agree(m.b, m.n, NULL), -1);
		assert_int_equal(ltb_otlp_unpack(m.b, m.n, NULL, NULL, &why),
		    -1);
		assert_non_null(strstr(why, "nested"));
	}
}

static void
test_later_fields_replace_earlier_ones(void **state)
{
	static const uint8_t other[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		11, 12, 13, 14, 15, 16 };
	struct pb sp, m;
	struct got g = { 0 };

	/* a zero trace id, then a good one: the good one counts */
	sp.n = 0;
	pb_bytes(&sp, 1, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	pb_span(&m, 0);
	pb_raw(&sp, m.b, m.n);
	pb_bytes(&sp, 1, other, 16);
	pb_fixed64(&sp, 8, 0);	/* and an end before the start */
	pb_request_of(&m, &sp, 0);
	assert_int_equal(agree(m.b, m.n, &g), 1);
	assert_int_equal(g.s[0].trace_hi, be(other));
	assert_int_equal(g.s[0].invalid, LTB_OTLP_END_BEFORE_START);
	got_free(&g);
}

/* Build one span from parts and return its verdict. */
static enum ltb_otlp_invalid
judge(const void *trace, size_t tlen, const void *span, size_t slen,
    const void *parent, size_t plen, const char *name, size_t nlen,
    uint64_t start, uint64_t end)
{
	struct pb sp = { .n = 0 }, m;
	struct got g = { 0 };
	enum ltb_otlp_invalid r;

	if (trace != NULL)
		pb_bytes(&sp, 1, trace, tlen);
	if (span != NULL)
		pb_bytes(&sp, 2, span, slen);
	if (parent != NULL)
		pb_bytes(&sp, 4, parent, plen);
	if (name != NULL)
		pb_bytes(&sp, 5, name, nlen);
	pb_fixed64(&sp, 7, start);
	pb_fixed64(&sp, 8, end);
	pb_request_of(&m, &sp, 0);
	assert_int_equal(agree(m.b, m.n, &g), 1);
	r = g.s[0].invalid;
	got_free(&g);
	return r;
}

static void
test_validation_rules_in_order(void **state)
{
	static const uint8_t z[16];

	assert_int_equal(judge(TRACE, 16, SPAN, 8, PARENT, 8, "n", 1, 1, 2),
	    LTB_OTLP_VALID);
	/* a root span: no parent, or an empty one */
	assert_int_equal(judge(TRACE, 16, SPAN, 8, NULL, 0, "n", 1, 1, 1),
	    LTB_OTLP_VALID);
	assert_int_equal(judge(TRACE, 16, SPAN, 8, PARENT, 0, "n", 1, 1, 1),
	    LTB_OTLP_VALID);
	/* SDKs differ on a zero parent; 8 bytes is all we ask */
	assert_int_equal(judge(TRACE, 16, SPAN, 8, z, 8, "n", 1, 1, 1),
	    LTB_OTLP_VALID);
	assert_int_equal(judge(NULL, 0, SPAN, 8, NULL, 0, "n", 1, 1, 2),
	    LTB_OTLP_BAD_TRACE_ID);
	assert_int_equal(judge(z, 16, SPAN, 8, NULL, 0, "n", 1, 1, 2),
	    LTB_OTLP_BAD_TRACE_ID);
	assert_int_equal(judge(TRACE, 15, SPAN, 8, NULL, 0, "n", 1, 1, 2),
	    LTB_OTLP_BAD_TRACE_ID);
	assert_int_equal(judge(TRACE, 16, NULL, 0, NULL, 0, "n", 1, 1, 2),
	    LTB_OTLP_BAD_SPAN_ID);
	assert_int_equal(judge(TRACE, 16, z, 8, NULL, 0, "n", 1, 1, 2),
	    LTB_OTLP_BAD_SPAN_ID);
	assert_int_equal(judge(TRACE, 16, TRACE, 16, NULL, 0, "n", 1, 1, 2),
	    LTB_OTLP_BAD_SPAN_ID);
	assert_int_equal(judge(TRACE, 16, SPAN, 8, PARENT, 4, "n", 1, 1, 2),
	    LTB_OTLP_BAD_PARENT_SPAN_ID);
	assert_int_equal(judge(TRACE, 16, SPAN, 8, NULL, 0, NULL, 0, 1, 2),
	    LTB_OTLP_NO_NAME);
	assert_int_equal(judge(TRACE, 16, SPAN, 8, NULL, 0, "", 0, 1, 2),
	    LTB_OTLP_NO_NAME);
	/* a C string to protobuf-c: a leading NUL makes it empty */
	assert_int_equal(judge(TRACE, 16, SPAN, 8, NULL, 0, "\0x", 2, 1, 2),
	    LTB_OTLP_NO_NAME);
	assert_int_equal(judge(TRACE, 16, SPAN, 8, NULL, 0, "n", 1, 3, 2),
	    LTB_OTLP_END_BEFORE_START);
	/* the first problem wins */
	assert_int_equal(judge(z, 16, z, 8, PARENT, 4, "", 0, 3, 2),
	    LTB_OTLP_BAD_TRACE_ID);
	assert_int_equal(judge(TRACE, 16, SPAN, 8, PARENT, 4, "", 0, 3, 2),
	    LTB_OTLP_BAD_PARENT_SPAN_ID);
}

static void
test_every_truncation_agrees(void **state)
{
	struct pb m;
	size_t n;

	pb_request(&m, 1);
	for (n = 0; n <= m.n; n++)
		agree(m.b, n, NULL);
}

/*
 * The walk's fast paths (an event of time, name and simple attributes; an
 * attribute of a string or small int; the runs of both in a span) at their
 * edges: fields missing, reordered, extra or of the wrong wire type,
 * values that are not simple, events around 128 bytes. Each event goes in
 * a span between two usual ones, and must agree with protobuf-c, streamed
 * or not.
 */
static void
edge_event(struct pb *ev, int i)
{
	struct pb kv = { .n = 0 }, av = { .n = 0 };

	ev->n = 0;
	switch (i) {
	case 0: pb_fixed64(ev, 1, 5); pb_str(ev, 2, "e"); break;
	case 1: pb_fixed64(ev, 1, 5); pb_str(ev, 2, "e");
		pb_attr(ev, 3, "k", "v", 0); break;
	case 2: pb_fixed64(ev, 1, 5); pb_str(ev, 2, "e");
		pb_attr(ev, 3, "k", "v", 0); pb_attr(ev, 3, "l", "w", 0);
		break;
	case 3: pb_fixed64(ev, 1, 5); pb_str(ev, 2, "e");
		pb_attr(ev, 3, "k", "v", 0); pb_uint(ev, 4, 1); break;
	case 4: pb_str(ev, 2, "e"); pb_fixed64(ev, 1, 5); break;
	case 5: pb_str(ev, 2, "e"); break;
	case 6: pb_fixed64(ev, 1, 5); break;
	case 7: pb_uint(ev, 1, 5); pb_str(ev, 2, "e"); break;
	case 8: pb_fixed64(ev, 1, 5); pb_str(ev, 2, "");
		pb_attr(ev, 3, "", "", 0); break;
	case 9: pb_fixed64(ev, 1, 5); pb_str(ev, 2, "e");
		pb_str(ev, 3, "k"); break;	/* not a key-value */
	case 10:	/* an int, a bool, a double, bytes, an empty value */
	case 11:
	case 12:
	case 13:
	case 14:
	case 15:
		pb_fixed64(ev, 1, 5);
		pb_str(ev, 2, "e");
		pb_str(&kv, 1, "k");
		if (i == 10)
			pb_uint(&av, 3, 7);
		else if (i == 11)
			pb_uint(&av, 2, 1);
		else if (i == 12)
			pb_fixed64(&av, 4, 1);
		else if (i == 13)
			pb_bytes(&av, 7, "", 0);
		else if (i == 14)
			pb_uint(&av, 3, (uint64_t)-1);
		pb_msg(&kv, 2, &av);
		pb_msg(ev, 3, &kv);
		break;
	case 16:	/* a truncated int inside a value of two bytes */
		pb_fixed64(ev, 1, 5);
		pb_str(ev, 2, "e");
		pb_str(&kv, 1, "k");
		pb_raw(&av, "\x18\x80", 2);
		pb_msg(&kv, 2, &av);
		pb_msg(ev, 3, &kv);
		break;
	case 17:	/* the time one byte short */
		pb_key(ev, 1, 1);
		pb_raw(ev, "\1\2\3\4\5\6\7", 7);
		break;
	default:
		if (i < 18 + 40) {	/* 108 to 147 bytes */
			char v[160];

			memset(v, 'v', sizeof v);
			v[i - 18 + 80] = '\0';
			pb_fixed64(ev, 1, 5);
			pb_str(ev, 2, "e");
			pb_attr(ev, 3, "k", v, 0);
			break;
		}
		ev->n = (size_t)-1;
	}
}

static void
test_fast_paths_agree_at_their_edges(void **state)
{
	struct pb sp, ev, usual = { .n = 0 }, m;
	size_t cuts[2];
	int i;

	pb_fixed64(&usual, 1, 5);
	pb_str(&usual, 2, "usual");
	pb_attr(&usual, 3, "k", "v", 0);
	for (i = 0; edge_event(&ev, i), ev.n != (size_t)-1; i++) {
		sp.n = 0;
		pb_bytes(&sp, 1, TRACE, 16);
		pb_bytes(&sp, 2, SPAN, 8);
		pb_str(&sp, 5, "op");
		pb_attr(&sp, 9, "a", "b", 0);
		/* the event as an attribute too: a run with a stranger */
		pb_msg(&sp, 9, &ev);
		pb_attr(&sp, 9, "c", "d", 0);
		pb_msg(&sp, 11, &usual);
		pb_msg(&sp, 11, &ev);
		pb_msg(&sp, 11, &usual);
		pb_request_of(&m, &sp, 0);
		agree(m.b, m.n, NULL);
		cuts[0] = m.n / 3;
		cuts[1] = m.n / 2;
		stream_agrees(m.b, m.n, cuts, 2);
		/* and without the stranger attribute */
		sp.n = 0;
		pb_bytes(&sp, 1, TRACE, 16);
		pb_bytes(&sp, 2, SPAN, 8);
		pb_str(&sp, 5, "op");
		pb_msg(&sp, 11, &ev);
		pb_request_of(&m, &sp, 0);
		agree(m.b, m.n, NULL);
		stream_agrees(m.b, m.n, cuts, 2);
	}
}

static void
test_stream_every_split_point_equals_one_shot(void **state)
{
	struct pb m;
	size_t cut;

	pb_request(&m, 1);
	for (cut = 0; cut <= m.n; cut++)
		stream_agrees(m.b, m.n, &cut, 1);
}

static void
test_stream_byte_at_a_time_equals_one_shot(void **state)
{
	size_t len, i, *cuts;
	uint8_t *p = gen(20, 3, 2, 5, LTB_OTLP_NO_NAME, 1, &len);
	struct ltb_otlpgen g = LTB_OTLPGEN_DEFAULT;
	uint8_t *q;
	size_t qlen;

	cuts = malloc(len * sizeof *cuts);
	assert_non_null(cuts);
	for (i = 0; i < len; i++)
		cuts[i] = i;
	stream_agrees(p, len, cuts, len);
	free(cuts);
	free(p);

	g.spans = 30;
	g.resources = 2;
	g.scopes = 3;
	q = ltb_otlpgen_request(&g, &qlen);
	assert_non_null(q);
	cuts = malloc(qlen * sizeof *cuts);
	assert_non_null(cuts);
	for (i = 0; i < qlen; i++)
		cuts[i] = i;
	stream_agrees(q, qlen, cuts, qlen);
	free(cuts);
	free(q);
}

static void
test_stream_random_splits_equal_one_shot(void **state)
{
	size_t len, cuts[8], i, j;
	uint8_t *p = gen(50, 10, 15, 6, LTB_OTLP_VALID, 0, &len);
	uint64_t x = 12345;

	for (i = 0; i < 200; i++) {
		size_t n = 1 + rnd(&x) % 8;

		for (j = 0; j < n; j++)
			cuts[j] = rnd(&x) % (len + 1);
		/* ascending */
		for (j = 1; j < n; j++)
			for (size_t k = j; k > 0 && cuts[k] < cuts[k - 1];
			    k--) {
				size_t t = cuts[k];

				cuts[k] = cuts[k - 1];
				cuts[k - 1] = t;
			}
		stream_agrees(p, len, cuts, n);
	}
	free(p);
}

/* A span over max_field is too large at once; the frames around it are
 * not held, so a request far over max_field made of small spans is fine,
 * and memory stays at the size of one span. */
static void
test_stream_holds_spans_never_frames(void **state)
{
	struct ltb_otlp_stream s;
	size_t len, i, span_bytes;
	uint8_t *p = gen(200, 10, 15, 4, LTB_OTLP_VALID, 0, &len);
	long got;
	int code;

	span_bytes = len / 200;
	/* cut every 1000 bytes: most spans straddle */
	ltb_otlp_stream_init(&s, 2 * span_bytes);
	for (i = 0; i < len; i += 1000) {
		size_t k = len - i < 1000 ? len - i : 1000;

		assert_true(ltb_otlp_stream_feed(&s, p + i, k, NULL, NULL) >=
		    0);
		assert_true(s.capheld <= 2 * span_bytes);
	}
	assert_int_equal(ltb_otlp_stream_end(&s), 0);
	assert_int_equal(s.spans, 200);
	ltb_otlp_stream_free(&s);

	/* a span larger than max_field: too large, cut or not */
	got = stream_cuts(p, len, NULL, 0, span_bytes / 2, NULL, &code);
	assert_int_equal(got, -1);
	assert_int_equal(code, LTB_OTLP_TOO_LARGE);
	i = 100;
	got = stream_cuts(p, len, &i, 1, span_bytes / 2, NULL, &code);
	assert_int_equal(code, LTB_OTLP_TOO_LARGE);
	free(p);
}

static void
test_stream_feed_returns_spans_completed(void **state)
{
	struct ltb_otlp_stream s;
	size_t len, i, total = 0;
	uint8_t *p = gen(10, 1, 1, 2, LTB_OTLP_VALID, 0, &len);
	int r;

	ltb_otlp_stream_init(&s, 1 << 20);
	for (i = 0; i < len; i += 7) {
		r = ltb_otlp_stream_feed(&s, p + i, len - i < 7 ? len - i : 7,
		    NULL, NULL);
		assert_true(r >= 0);
		total += (size_t)r;
	}
	assert_int_equal(total, 10);
	assert_int_equal(ltb_otlp_stream_end(&s), 0);
	/* failed stays failed */
	ltb_otlp_stream_free(&s);
	ltb_otlp_stream_init(&s, 1 << 20);
	assert_true(ltb_otlp_stream_feed(&s, (const uint8_t *)"\x00", 1, NULL,
	    NULL) < 0);
	assert_true(ltb_otlp_stream_feed(&s, p, len, NULL, NULL) < 0);
	assert_true(ltb_otlp_stream_end(&s) < 0);
	ltb_otlp_stream_free(&s);
	free(p);
}

static void
test_invalid_names_are_stable(void **state)
{
	const struct ltb_collector_proto *p = &ltb_proto_otlp;
	unsigned i;

	assert_string_equal(ltb_otlp_invalid_name(LTB_OTLP_BAD_TRACE_ID),
	    "bad_trace_id");
	assert_string_equal(ltb_otlp_invalid_name(LTB_OTLP_BAD_SPAN_ID),
	    "bad_span_id");
	assert_string_equal(
	    ltb_otlp_invalid_name(LTB_OTLP_BAD_PARENT_SPAN_ID),
	    "bad_parent_span_id");
	assert_string_equal(ltb_otlp_invalid_name(LTB_OTLP_NO_NAME),
	    "no_name");
	assert_string_equal(ltb_otlp_invalid_name(LTB_OTLP_END_BEFORE_START),
	    "end_before_start");
	assert_string_equal(ltb_otlp_invalid_name(LTB_OTLP_NINVALID),
	    "unknown");
	assert_int_equal(p->ninvalid, LTB_OTLP_NINVALID);
	for (i = 0; i < p->ninvalid; i++)
		assert_string_equal(p->invalid_names[i],
		    ltb_otlp_invalid_name((enum ltb_otlp_invalid)i));
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

	base[nbase] = gen(1, 2, 2, 1, LTB_OTLP_VALID, 0, &blen[nbase]),
	    nbase++;
	base[nbase] = gen(2, 1, 1, 2, LTB_OTLP_BAD_SPAN_ID, 0, &blen[nbase]),
	    nbase++;
	base[nbase] = gen(3, 0, 2, 3, LTB_OTLP_NO_NAME, 1, &blen[nbase]),
	    nbase++;
	base[nbase] = gen(1, 10, 5, 4, LTB_OTLP_VALID, 0, &blen[nbase]),
	    nbase++;
	pb_request(&odd, 1);
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
					    8, 0x7f, 0x80, 0xff, 0x0f, 0x0a,
					    0x12, 0x1a, 0x22, 0x39, 0x41 };
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

/*
 * The JSON reader.
 */
static long
json(const char *s, struct got *g)
{
	return ltb_otlp_json((const uint8_t *)s, strlen(s),
	    g != NULL ? collect : NULL, g, NULL);
}

/* A request as an SDK's JSON exporter writes it: upper-case hex is fine. */
static const char HAND[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
    "\"service.name\",\"value\":{\"stringValue\":\"checkout\"}}]},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"checkout.http\",\"version\":"
    "\"2.1.0\"},\"spans\":[{\"traceId\":"
    "\"4BF92F3577B34DA6A3CE929D0E0E4736\",\"spanId\":\"00F067AA0BA902B7\","
    "\"parentSpanId\":\"53995C3F42CD8AD8\",\"name\":\"POST /cart\","
    "\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":"
    "\"1700000000250000000\",\"kind\":2,\"attributes\":[{\"key\":"
    "\"http.request.method\",\"value\":{\"stringValue\":\"POST\"}},"
    "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":"
    "\"200\"}}],\"events\":[{\"timeUnixNano\":\"1700000000100000000\","
    "\"name\":\"cart loaded\"}],\"status\":{\"code\":1}}]}]}]}";

static void
test_json_reads_a_hand_written_request(void **state)
{
	struct got g = { 0 }, p = { 0 };
	struct pb m;

	assert_int_equal(json(HAND, &g), 1);
	assert_int_equal(g.s[0].trace_hi, be(TRACE));
	assert_int_equal(g.s[0].trace_lo, be(TRACE + 8));
	assert_int_equal(g.s[0].span_id, be(SPAN));
	assert_int_equal(g.s[0].invalid, LTB_OTLP_VALID);
	/* the same span in protobuf: the same ids, so the same key */
	pb_request(&m, 0);
	assert_int_equal(agree(m.b, m.n, &p), 1);
	assert_same_spans(&g, &p);
	assert_int_equal(ltb_otlp_key(&g.s[0]), ltb_otlp_key(&p.s[0]));
	got_free(&g);
	got_free(&p);
}

static void
test_json_of_generated_requests_reads_as_protobuf(void **state)
{
	struct ltb_otlpgen o = LTB_OTLPGEN_DEFAULT;
	struct got a = { 0 }, b = { 0 };
	uint8_t *p;
	char *js;
	size_t n, jn;

	o.spans = 40;
	o.duplicates = 1;
	o.resources = 2;
	o.scopes = 2;
	p = ltb_otlpgen_request(&o, &n);
	js = ltb_otlpgen_json(&o, &jn);
	assert_non_null(p);
	assert_non_null(js);
	assert_int_equal(strlen(js), jn);
	assert_int_equal(agree(p, n, &a), 80);
	assert_int_equal(ltb_otlp_json((const uint8_t *)js, jn, collect, &b,
	    NULL), 80);
	assert_same_spans(&a, &b);
	/* the mapping's forms: hex ids, string times, integer kinds */
	assert_non_null(strstr(js, "\"startTimeUnixNano\":\"17"));
	assert_non_null(strstr(js, "\"kind\":2"));
	assert_non_null(strstr(js, "\"intValue\":\"200\""));
	assert_null(strstr(js, "trace_id"));
	got_free(&a);
	got_free(&b);
	free(p);
	free(js);
}

#define SPAN_JSON(fields) \
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{" fields "}]}]}]}"
#define IDS "\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\"," \
    "\"spanId\":\"00f067aa0ba902b7\""

static enum ltb_otlp_invalid
json_judge(const char *s)
{
	struct got g = { 0 };
	enum ltb_otlp_invalid r;

	if (json(s, &g) != 1)
		fail_msg("not one span: %s", s);
	r = g.s[0].invalid;
	got_free(&g);
	return r;
}

static void
test_json_validation_and_mapping_forms(void **state)
{
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"n\"")),
	    LTB_OTLP_VALID);
	/* times as numbers, and unknown keys of every kind */
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"n\","
	    "\"startTimeUnixNano\":5,\"endTimeUnixNano\":6,\"future\":"
	    "{\"a\":[1,2,{}]},\"trace_id\":\"zz\"")), LTB_OTLP_VALID);
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"n\","
	    "\"startTimeUnixNano\":\"6\",\"endTimeUnixNano\":5")),
	    LTB_OTLP_END_BEFORE_START);
	/* null is absent */
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"n\","
	    "\"parentSpanId\":null,\"endTimeUnixNano\":null")),
	    LTB_OTLP_VALID);
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"n\","
	    "\"parentSpanId\":\"\"")), LTB_OTLP_VALID);
	assert_int_equal(json_judge(SPAN_JSON(IDS)), LTB_OTLP_NO_NAME);
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"\"")),
	    LTB_OTLP_NO_NAME);
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"n\","
	    "\"parentSpanId\":\"5399\"")), LTB_OTLP_BAD_PARENT_SPAN_ID);
	/* base64 ids (the plain proto3 mapping), odd or bad hex: bad ids */
	assert_int_equal(json_judge(SPAN_JSON("\"traceId\":"
	    "\"S/kvNXezTaajzpKdDg5HNg==\",\"spanId\":\"00f067aa0ba902b7\","
	    "\"name\":\"n\"")), LTB_OTLP_BAD_TRACE_ID);
	assert_int_equal(json_judge(SPAN_JSON("\"traceId\":"
	    "\"4bf92f3577b34da6a3ce929d0e0e473\",\"spanId\":"
	    "\"00f067aa0ba902b7\",\"name\":\"n\"")), LTB_OTLP_BAD_TRACE_ID);
	assert_int_equal(json_judge(SPAN_JSON("\"traceId\":"
	    "\"00000000000000000000000000000000\",\"spanId\":"
	    "\"00f067aa0ba902b7\",\"name\":\"n\"")), LTB_OTLP_BAD_TRACE_ID);
	assert_int_equal(json_judge(SPAN_JSON("\"traceId\":"
	    "\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":"
	    "\"00f067aa0ba902bg\",\"name\":\"n\"")), LTB_OTLP_BAD_SPAN_ID);
	/* the last of a repeated key wins, as the last field does */
	assert_int_equal(json_judge(SPAN_JSON(IDS ",\"name\":\"\","
	    "\"name\":\"n\"")), LTB_OTLP_VALID);
}

static void
test_json_that_cannot_be_read_is_refused(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "null", "\"x\"", "{} {}", "{}x",
		"{\"resourceSpans\":{}}",
		"{\"resourceSpans\":[1]}",
		"{\"resourceSpans\":[{\"scopeSpans\":\"x\"}]}",
		"{\"resourceSpans\":[{\"scopeSpans\":[[]]}]}",
		"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":{}}]}]}",
		"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[1]}]}]}",
		SPAN_JSON("\"traceId\":5"),
		SPAN_JSON("\"spanId\":[]"),
		SPAN_JSON("\"parentSpanId\":true"),
		SPAN_JSON("\"name\":1"),
		SPAN_JSON("\"startTimeUnixNano\":-1"),
		SPAN_JSON("\"startTimeUnixNano\":1.5"),
		SPAN_JSON("\"endTimeUnixNano\":\"12x\""),
		SPAN_JSON("\"endTimeUnixNano\":\"\""),
		SPAN_JSON("\"endTimeUnixNano\":\"-3\""),
		SPAN_JSON("\"endTimeUnixNano\":\"18446744073709551616\""),
		SPAN_JSON("\"endTimeUnixNano\":{}"),
	};
	const char *why;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct got g = { 0 };

		why = NULL;
		if (ltb_otlp_json((const uint8_t *)bad[i], strlen(bad[i]),
		    collect, &g, &why) != -1)
			fail_msg("read: %s", bad[i]);
		assert_non_null(why);
		assert_int_equal(g.n, 0);	/* nothing from a refused body */
		got_free(&g);
	}
	/* white space around one value is fine; so is no span at all */
	assert_int_equal(json(" {} \n", NULL), 0);
	assert_int_equal(json("{\"resourceSpans\":null}", NULL), 0);
	assert_int_equal(json("{\"resourceSpans\":[{}]}", NULL), 0);
}

/*
 * The protocol, driven as the satellite group drives it.
 */
struct sunk {
	uint64_t keys[4096];
	unsigned invalid[4096];
	size_t n;
};

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct sunk *k = ctx;

	assert_true(k->n < 4096);
	k->keys[k->n] = key;
	k->invalid[k->n++] = invalid;
}

/* One message through ltb_proto_otlp in pieces of piece bytes: the rc of
 * the first step that failed (or of end), the reply (refuse's on
 * failure, with the status the group would set). */
static int
message(const char *ctype, int full, size_t max, uint64_t claim,
    const void *body, size_t n, size_t piece, struct sunk *k,
    struct ltb_reply *reply)
{
	const struct ltb_collector_proto *p = &ltb_proto_otlp;
	struct ltb_message m = { .path = "/v1/traces", .content_type = ctype,
		.encoding = "", .start_real_ns = 1, .max_field = max,
		.full = full, .claim_rejected = claim };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = k };
	const char *why = "";
	void *state = calloc(1, p->state_size);
	size_t at;
	int rc;

	assert_non_null(state);
	memset(reply, 0, sizeof *reply);
	k->n = 0;
	if ((rc = p->begin(state, &m)) != LTB_COLLECT_OK) {
		free(state);
		return rc;
	}
	for (at = 0, rc = 0; rc == 0 && at < n; at += piece)
		rc = p->feed(state, (const uint8_t *)body + at,
		    n - at < piece ? n - at : piece, &sink, &why);
	if (rc == 0)
		rc = p->end(state, &sink, reply, &why);
	if (rc != 0) {
		reply->status = rc == LTB_COLLECT_TOO_LARGE ? 413 : 400;
		p->refuse(state, rc, why, reply);
	}
	p->release(state);
	free(state);
	return rc;
}

static Ltb__Otlp__ExportTraceServiceResponse *
unpack_response(const struct ltb_reply *r)
{
	Ltb__Otlp__ExportTraceServiceResponse *x;

	x = ltb__otlp__export_trace_service_response__unpack(NULL, r->len,
	    r->body);
	assert_non_null(x);
	return x;
}

static void
test_protocol_declares_itself(void **state)
{
	const struct ltb_collector_proto *p = ltb_collector_find("otlp");

	assert_ptr_equal(p, &ltb_proto_otlp);
	assert_string_equal(p->unit, "span");
	assert_string_equal(p->path, "/v1/traces");
	assert_int_equal(p->transport, LTB_TRANSPORT_HTTP);
	assert_true(ltb_collector_reads(p, "application/x-protobuf"));
	assert_true(ltb_collector_reads(p, "application/json"));
	assert_false(ltb_collector_reads(p, "application/octet-stream"));
	assert_false(ltb_collector_reads(p, ""));
	assert_non_null(p->refuse);
}

static void
test_protocol_answers_success_in_the_request_s_type(void **state)
{
	struct ltb_otlpgen o = LTB_OTLPGEN_DEFAULT;
	static struct sunk k;
	struct ltb_reply r;
	uint8_t *p;
	char *js;
	size_t n, jn;
	int full;

	o.spans = 30;
	p = ltb_otlpgen_request(&o, &n);
	js = ltb_otlpgen_json(&o, &jn);
	for (full = 0; full <= 1; full++) {
		assert_int_equal(message("application/x-protobuf", full,
		    1 << 20, 0, p, n, 333, &k, &r), 0);
		assert_int_equal(k.n, 30);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.content_type, "application/x-protobuf");
		/* full success: an empty response, partial_success unset */
		assert_int_equal(r.len, 0);
	}
	assert_int_equal(message("application/json", 0, 1 << 20, 0, js, jn,
	    333, &k, &r), 0);
	assert_int_equal(k.n, 30);
	assert_string_equal(r.content_type, "application/json");
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.body, "{}", 2);
	free(p);
	free(js);
}

static void
test_protocol_rejects_invalid_spans_in_partial_success(void **state)
{
	struct ltb_otlpgen o = LTB_OTLPGEN_DEFAULT;
	Ltb__Otlp__ExportTraceServiceResponse *x;
	static struct sunk k;
	struct ltb_reply r;
	cJSON *j, *ps;
	uint8_t *p;
	char *js;
	size_t n, jn, i;

	o.spans = 7;
	o.invalid = LTB_OTLP_END_BEFORE_START;
	p = ltb_otlpgen_request(&o, &n);
	js = ltb_otlpgen_json(&o, &jn);
	assert_int_equal(message("application/x-protobuf", 0, 1 << 20, 0, p,
	    n, 100, &k, &r), 0);
	assert_int_equal(k.n, 7);
	for (i = 0; i < k.n; i++)
		assert_int_equal(k.invalid[i], LTB_OTLP_END_BEFORE_START);
	x = unpack_response(&r);
	assert_non_null(x->partial_success);
	assert_int_equal(x->partial_success->rejected_spans, 7);
	assert_non_null(strstr(x->partial_success->error_message,
	    "end_before_start 7"));
	ltb__otlp__export_trace_service_response__free_unpacked(x, NULL);

	assert_int_equal(message("application/json", 0, 1 << 20, 0, js, jn,
	    100, &k, &r), 0);
	j = cJSON_ParseWithLength((const char *)r.body, r.len);
	assert_non_null(j);
	ps = cJSON_GetObjectItemCaseSensitive(j, "partialSuccess");
	assert_non_null(ps);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(ps,
	    "rejectedSpans")->valuestring, "7");
	assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(ps,
	    "errorMessage")->valuestring, "end_before_start"));
	cJSON_Delete(j);

	/* a script's claim is said even of valid spans */
	o.invalid = LTB_OTLP_VALID;
	free(p);
	p = ltb_otlpgen_request(&o, &n);
	assert_int_equal(message("application/x-protobuf", 0, 1 << 20, 5, p,
	    n, 100, &k, &r), 0);
	x = unpack_response(&r);
	assert_non_null(x->partial_success);
	assert_int_equal(x->partial_success->rejected_spans, 5);
	ltb__otlp__export_trace_service_response__free_unpacked(x, NULL);
	free(p);
	free(js);
}

static void
test_protocol_refuses_with_a_google_rpc_status(void **state)
{
	static struct sunk k;
	Ltb__Otlp__RpcStatus *st;
	struct ltb_reply r;
	struct ltb_otlpgen o = LTB_OTLPGEN_DEFAULT;
	const struct ltb_collector_proto *p = &ltb_proto_otlp;
	uint8_t *body;
	char *js;
	size_t n, jn;
	cJSON *j;
	void *s;

	/* garbage: 400, INVALID_ARGUMENT, in the request's type */
	assert_int_equal(message("application/x-protobuf", 0, 1 << 20, 0,
	    "\x00garbage", 8, 3, &k, &r), LTB_COLLECT_MALFORMED);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.content_type, "application/x-protobuf");
	st = ltb__otlp__rpc_status__unpack(NULL, r.len, r.body);
	assert_non_null(st);
	assert_int_equal(st->code, 3);
	assert_non_null(strstr(st->message, "cannot read"));
	ltb__otlp__rpc_status__free_unpacked(st, NULL);

	assert_int_equal(message("application/json", 0, 1 << 20, 0,
	    "{\"resourceSpans\":", 17, 3, &k, &r), LTB_COLLECT_MALFORMED);
	assert_string_equal(r.content_type, "application/json");
	j = cJSON_ParseWithLength((const char *)r.body, r.len);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "code")->valueint,
	    3);
	assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(j,
	    "message")->valuestring, "not JSON"));
	cJSON_Delete(j);

	/* over max_field: a span (walk), the body (full, JSON) */
	o.spans = 10;
	body = ltb_otlpgen_request(&o, &n);
	js = ltb_otlpgen_json(&o, &jn);
	assert_int_equal(message("application/x-protobuf", 0, 200, 0, body,
	    n, 1000, &k, &r), LTB_COLLECT_TOO_LARGE);
	assert_int_equal(r.status, 413);
	st = ltb__otlp__rpc_status__unpack(NULL, r.len, r.body);
	assert_non_null(st);
	assert_int_equal(st->code, 8);
	ltb__otlp__rpc_status__free_unpacked(st, NULL);
	assert_int_equal(message("application/x-protobuf", 1, n - 1, 0, body,
	    n, 1000, &k, &r), LTB_COLLECT_TOO_LARGE);
	assert_int_equal(message("application/x-protobuf", 1, n, 0, body,
	    n, 1000, &k, &r), 0);
	assert_int_equal(message("application/json", 0, jn - 1, 0, js, jn,
	    1000, &k, &r), LTB_COLLECT_TOO_LARGE);
	assert_string_equal(r.content_type, "application/json");
	assert_int_equal(message("application/json", 0, jn, 0, js, jn,
	    1000, &k, &r), 0);

	/* a status the group answers (a script's 429), for a begun message */
	s = calloc(1, p->state_size);
	assert_non_null(s);
	{
		struct ltb_message m = { .path = "/v1/traces",
			.content_type = "application/json", .encoding = "",
			.max_field = 100 };

		assert_int_equal(p->begin(s, &m), 0);
		memset(&r, 0, sizeof r);
		r.status = 429;
		p->refuse(s, LTB_COLLECT_OK, NULL, &r);
		p->release(s);
	}
	free(s);
	j = cJSON_ParseWithLength((const char *)r.body, r.len);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "code")->valueint,
	    8);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(j,
	    "message")->valuestring, "too many requests");
	cJSON_Delete(j);

	/* a type it does not read */
	assert_int_equal(message("text/plain", 0, 100, 0, "x", 1, 1, &k, &r),
	    LTB_COLLECT_UNSUPPORTED);
	free(body);
	free(js);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_equals_unpack_on_generated_requests),
		cmocka_unit_test(
		    test_spans_in_many_resources_and_scopes_are_all_read),
		cmocka_unit_test(
		    test_generated_span_is_about_as_large_as_lightstep_s),
		cmocka_unit_test(test_generator_is_deterministic_and_seeded),
		cmocka_unit_test(
		    test_each_invalid_reason_is_flagged_on_every_span),
		cmocka_unit_test(test_duplicates_are_kept_as_separate_spans),
		cmocka_unit_test(
		    test_key_depends_on_both_halves_of_the_trace_id),
		cmocka_unit_test(test_empty_request_has_no_spans),
		cmocka_unit_test(
		    test_unknown_fields_at_every_level_are_skipped),
		cmocka_unit_test(
		    test_wrong_wire_types_are_refused_at_every_level),
		cmocka_unit_test(test_anyvalue_members_and_bool_wire_types),
		cmocka_unit_test(
		    test_attribute_value_given_twice_merges_like_protobuf_c),
		cmocka_unit_test(test_nesting_is_bounded_for_both_readers),
		cmocka_unit_test(test_later_fields_replace_earlier_ones),
		cmocka_unit_test(test_validation_rules_in_order),
		cmocka_unit_test(test_every_truncation_agrees),
		cmocka_unit_test(test_fast_paths_agree_at_their_edges),
		cmocka_unit_test(
		    test_stream_every_split_point_equals_one_shot),
		cmocka_unit_test(test_stream_byte_at_a_time_equals_one_shot),
		cmocka_unit_test(test_stream_random_splits_equal_one_shot),
		cmocka_unit_test(test_stream_holds_spans_never_frames),
		cmocka_unit_test(test_stream_feed_returns_spans_completed),
		cmocka_unit_test(test_invalid_names_are_stable),
		cmocka_unit_test(test_random_mutations_agree),
		cmocka_unit_test(test_json_reads_a_hand_written_request),
		cmocka_unit_test(
		    test_json_of_generated_requests_reads_as_protobuf),
		cmocka_unit_test(test_json_validation_and_mapping_forms),
		cmocka_unit_test(test_json_that_cannot_be_read_is_refused),
		cmocka_unit_test(test_protocol_declares_itself),
		cmocka_unit_test(
		    test_protocol_answers_success_in_the_request_s_type),
		cmocka_unit_test(
		    test_protocol_rejects_invalid_spans_in_partial_success),
		cmocka_unit_test(
		    test_protocol_refuses_with_a_google_rpc_status),
	};

	return cmocka_run_group_tests_name("otlp", tests, NULL, NULL);
}
