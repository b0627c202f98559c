/*
 * test_lsthrift.c: the LightStep thrift walk (ltb_lsthrift_walk.h).
 *
 * Bodies are built here by a small Thrift binary writer (for what a tracer
 * never sends: every header form, unknown fields of every type, wrong
 * types, limits) and by python3-thrift (tests/tools/lsthrift.py encode: the
 * seeds in tests/fuzz/seeds/lightstep_thrift/). On each: the spans and
 * verdict it must give; the same however the body is cut; malformed when
 * cut short anywhere. The line-for-line differential against python3-thrift
 * on many bodies is tests/ltb-satellite-thrift.bats's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collector/proto/ltb_lsthrift.h"
#include "collector/proto/ltb_lsthrift_walk.h"

enum { MAXGOT = 64, MAXF = 1 << 20 };

/* TType */
enum { BOOL = 2, BYTE = 3, DBL = 4, I16 = 6, I32 = 8, I64 = 10, STR = 11,
	STRUCT = 12, MAP = 13, SET = 14, LIST = 15 };

struct got {
	struct ltb_lst_span s[MAXGOT];
	size_t n;
};

static void
collect(void *ctx, const struct ltb_lst_span *span)
{
	struct got *g = ctx;

	assert_true(g->n < MAXGOT);
	g->s[g->n++] = *span;
}

/* --- a Thrift binary writer --- */

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof b->b);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
u8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	put(b, &c, 1);
}

static void
i16(struct buf *b, int v)
{
	u8(b, (unsigned)v >> 8 & 0xff);
	u8(b, (unsigned)v & 0xff);
}

static void
i32(struct buf *b, int64_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		u8(b, (unsigned)((uint64_t)v >> s) & 0xff);
}

static void
i64(struct buf *b, int64_t v)
{
	i32(b, (int64_t)((uint64_t)v >> 32));
	i32(b, (int64_t)(uint32_t)v);
}

static void
str(struct buf *b, const char *s)
{
	i32(b, (int64_t)strlen(s));
	put(b, s, strlen(s));
}

static void
fld(struct buf *b, unsigned type, int id)
{
	u8(b, type);
	i16(b, id);
}

static void
list(struct buf *b, unsigned etype, int64_t n)
{
	u8(b, etype);
	i32(b, n);
}

static void
header(struct buf *b)
{
	i32(b, (int64_t)0x80010001u);
	str(b, "Report");
	i32(b, 42);
	fld(b, STRUCT, 2);	/* args.request */
}

/* A span: guid g, trace t (NULL: none), name, start, end. */
static void
span(struct buf *b, const char *g, const char *t, int64_t start,
    int64_t end)
{
	if (g != NULL) {
		fld(b, STR, 1);
		str(b, g);
	}
	if (t != NULL) {
		fld(b, STR, 11);
		str(b, t);
	}
	fld(b, STR, 3);
	str(b, "op");
	fld(b, I64, 5);
	i64(b, start);
	fld(b, I64, 6);
	i64(b, end);
	u8(b, 0);
}

/* A whole strict call of n spans ("s1".., trace "t"). */
static void
report(struct buf *b, int n)
{
	char g[8];

	header(b);
	fld(b, LIST, 3);
	list(b, STRUCT, n);
	for (int i = 0; i < n; i++) {
		snprintf(g, sizeof g, "s%d", i + 1);
		span(b, g, "t", 10, 20);
	}
	u8(b, 0);	/* request */
	u8(b, 0);	/* args */
}

static uint64_t
hash(const char *s)
{
	return ltb_lst_hash(LTB_LST_HASH_INIT, (const uint8_t *)s, strlen(s));
}

/* Walk p whole: the verdict (0 or LTB_LST_*), spans into g. */
static int
walk(const uint8_t *p, size_t n, size_t max_field, struct got *g,
    struct ltb_lst_walk *w)
{
	int rc;

	memset(g, 0, sizeof *g);
	ltb_lst_walk_init(w, max_field);
	rc = ltb_lst_walk_feed(w, p, n, collect, g);
	if (rc >= 0)
		rc = ltb_lst_walk_end(w);
	return rc < 0 ? rc : 0;
}

static int
walk_buf(const struct buf *b, struct got *g)
{
	struct ltb_lst_walk w;

	return walk(b->b, b->n, MAXF, g, &w);
}

static void
assert_same(const struct got *a, const struct got *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_memory_equal(&a->s[i], &b->s[i], sizeof a->s[i]);
}

/* Cut at every offset, and fed a byte at a time: the whole walk's answer;
 * every truncation is malformed. */
static void
assert_any_cut(const uint8_t *p, size_t n)
{
	struct ltb_lst_walk w;
	struct got whole, cut;
	int rc = walk(p, n, MAXF, &whole, &w), r;

	for (size_t k = 0; k <= n; k++) {
		memset(&cut, 0, sizeof cut);
		ltb_lst_walk_init(&w, MAXF);
		r = ltb_lst_walk_feed(&w, p, k, collect, &cut);
		if (r >= 0)
			r = ltb_lst_walk_feed(&w, p + k, n - k, collect, &cut);
		if (r >= 0)
			r = ltb_lst_walk_end(&w);
		assert_int_equal(r < 0 ? r : 0, rc);
		assert_same(&whole, &cut);
	}
	memset(&cut, 0, sizeof cut);
	ltb_lst_walk_init(&w, MAXF);
	r = 0;
	for (size_t k = 0; k < n && r >= 0; k++)
		r = ltb_lst_walk_feed(&w, p + k, 1, collect, &cut);
	if (r >= 0)
		r = ltb_lst_walk_end(&w);
	assert_int_equal(r < 0 ? r : 0, rc);
	assert_same(&whole, &cut);
	if (rc != 0)
		return;
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(walk(p, k, MAXF, &cut, &w), LTB_LST_MALFORMED);
		assert_true(cut.n <= whole.n);
	}
}

static void
test_strict_call(void **st)
{
	struct buf b = { .n = 0 };
	struct ltb_lst_walk w;
	struct got g;
	uint8_t r[64];
	size_t n;

	(void)st;
	report(&b, 2);
	assert_int_equal(walk(b.b, b.n, MAXF, &g, &w), 0);
	assert_int_equal(w.form, LTB_LST_FORM_STRICT);
	assert_int_equal(w.msgtype, LTB_LST_CALL);
	assert_int_equal(w.seqid, 42);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.s[0].span_guid, hash("s1"));
	assert_int_equal(g.s[1].span_guid, hash("s2"));
	assert_int_equal(g.s[0].trace_guid, hash("t"));
	assert_true(g.s[0].has_name && g.s[0].has_oldest && g.s[0].has_youngest);
	assert_int_equal(g.s[0].oldest_micros, 10);
	assert_int_equal(g.s[0].youngest_micros, 20);
	assert_int_equal(ltb_lst_check(&g.s[1]), LTB_LST_VALID);
	assert_any_cut(b.b, b.n);

	/* the answer: REPLY "Report" 42, result.success.timing */
	n = ltb_lst_reply(&w, r, sizeof r, 5000, 9000);
	assert_true(n > 0);
	assert_memory_equal(r, "\x80\x01\x00\x02\x00\x00\x00\x06Report"
	    "\x00\x00\x00\x2a\x0c\x00\x00\x0c\x00\x02\x0a\x00\x01", 27);
	assert_int_equal(r[34], 5);	/* receive: 5 micros */
	assert_int_equal(r[45], 9);	/* transmit */
	assert_memory_equal(r + n - 3, "\0\0\0", 3);
}

static void
test_old_and_bare(void **st)
{
	struct buf strict = { .n = 0 }, old = { .n = 0 }, bare = { .n = 0 };
	struct ltb_lst_walk w;
	struct got a, b;
	uint8_t r[64];

	(void)st;
	report(&strict, 3);
	/* non-strict: name length, name, type byte, seqid */
	str(&old, "Report");
	u8(&old, 1);
	i32(&old, 7);
	put(&old, strict.b + 18, strict.n - 18);
	assert_int_equal(walk_buf(&strict, &a), 0);
	assert_int_equal(walk(old.b, old.n, MAXF, &b, &w), 0);
	assert_int_equal(w.form, LTB_LST_FORM_OLD);
	assert_int_equal(w.seqid, 7);
	assert_same(&a, &b);
	assert_any_cut(old.b, old.n);

	/* bare: the ReportRequest alone (after header's field 2, less
	 * args' STOP) */
	put(&bare, strict.b + 21, strict.n - 22);
	assert_int_equal(walk(bare.b, bare.n, MAXF, &b, &w), 0);
	assert_int_equal(w.form, LTB_LST_FORM_BARE);
	assert_same(&a, &b);
	assert_any_cut(bare.b, bare.n);
	/* its answer is a bare ReportResponse */
	assert_int_equal(ltb_lst_reply(&w, r, sizeof r, 0, 0), 3 + 22 + 2);
	assert_int_equal(r[0], STRUCT);

	/* a ONEWAY call has no answer */
	strict.b[3] = 4;
	assert_int_equal(walk(strict.b, strict.n, MAXF, &b, &w), 0);
	assert_int_equal(ltb_lst_reply(&w, r, sizeof r, 0, 0), 0);
}

/* Unknown fields of every type, at every level, are skipped. */
static void
unknowns(struct buf *b)
{
	fld(b, BOOL, 50);
	u8(b, 7);
	fld(b, BYTE, -3);
	u8(b, 0xff);
	fld(b, DBL, 51);
	i64(b, 0);
	fld(b, I16, 52);
	i16(b, -1);
	fld(b, I32, 53);
	i32(b, 1);
	fld(b, I64, 54);
	i64(b, 1);
	fld(b, STR, 55);
	str(b, "\x0c\x00\x01");
	fld(b, STRUCT, 56);
	fld(b, STR, 1);		/* an unknown struct's field 1 is nothing */
	i32(b, 0);
	fld(b, MAP, 1);
	u8(b, STR);
	u8(b, LIST);
	i32(b, 1);
	str(b, "k");
	list(b, SET, 1);
	list(b, I32, 2);
	i32(b, 1);
	i32(b, 2);
	u8(b, 0);
	fld(b, LIST, 57);
	list(b, 1, 0);		/* VOID elements: none to read */
}

static void
test_unknown_fields(void **st)
{
	struct buf b = { .n = 0 };
	struct got g;

	(void)st;
	i32(&b, (int64_t)0x80010001u);
	str(&b, "Report");
	i32(&b, 1);
	unknowns(&b);
	fld(&b, STRUCT, 2);
	unknowns(&b);
	fld(&b, LIST, 3);
	list(&b, STRUCT, 1);
	unknowns(&b);
	fld(&b, LIST, 8);	/* attributes */
	list(&b, STRUCT, 1);
	unknowns(&b);
	fld(&b, STR, 1);
	str(&b, "key");
	u8(&b, 0);
	span(&b, "s", "t", 1, 2);
	u8(&b, 0);
	u8(&b, 0);
	assert_int_equal(walk_buf(&b, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(ltb_lst_check(&g.s[0]), LTB_LST_VALID);
	assert_any_cut(b.b, b.n);
}

static void
test_trace_from_join(void **st)
{
	struct buf b = { .n = 0 };
	struct got g;

	(void)st;
	header(&b);
	fld(&b, LIST, 3);
	list(&b, STRUCT, 2);
	/* Value before TraceKey; the first matching join id wins */
	fld(&b, LIST, 4);
	list(&b, STRUCT, 3);
	fld(&b, STR, 1);
	str(&b, "trace_guidx");
	fld(&b, STR, 2);
	str(&b, "no");
	u8(&b, 0);
	fld(&b, STR, 2);
	str(&b, "T1");
	fld(&b, STR, 1);
	str(&b, "trace_guid");
	u8(&b, 0);
	fld(&b, STR, 1);
	str(&b, "trace_guid");
	fld(&b, STR, 2);
	str(&b, "T2");
	u8(&b, 0);
	span(&b, "a", NULL, 1, 2);
	/* an attribute without Key; an empty trace_guid is none */
	fld(&b, LIST, 8);
	list(&b, STRUCT, 1);
	fld(&b, STR, 2);
	str(&b, "v");
	u8(&b, 0);
	span(&b, "b", "", 1, 2);
	u8(&b, 0);
	u8(&b, 0);
	assert_int_equal(walk_buf(&b, &g), 0);
	assert_int_equal(g.n, 2);
	assert_true(g.s[0].has_trace_guid);
	assert_int_equal(g.s[0].trace_guid, hash("T1"));
	assert_int_equal(ltb_lst_check(&g.s[1]), LTB_LST_NO_TRACE_GUID);
	assert_int_equal(g.s[1].empty_key, 1);
	assert_any_cut(b.b, b.n);
}

/* A body whose request is `what` then STOPs: its verdict and reason. */
static int
verdict_of(void (*what)(struct buf *), size_t max_field, const char **why)
{
	struct buf b = { .n = 0 };
	struct ltb_lst_walk w;
	struct got g;
	int rc;

	header(&b);
	what(&b);
	u8(&b, 0);
	u8(&b, 0);
	rc = walk(b.b, b.n, max_field, &g, &w);
	*why = w.why;
	return rc;
}

static void bad_span_type(struct buf *b) { fld(b, STR, 3); str(b, "x"); }
static void bad_elem_type(struct buf *b) { fld(b, LIST, 3); list(b, STR, 0); }
static void bad_type(struct buf *b) { fld(b, 1, 99); }
static void neg_len(struct buf *b) { fld(b, STR, 99); i32(b, -1); }
static void neg_count(struct buf *b) { fld(b, LIST, 99); list(b, I32, -1); }
static void huge_len(struct buf *b) { fld(b, STR, 99); i32(b, 0x7fffffff); }
static void at_limit(struct buf *b) { fld(b, STR, 99); str(b, "0123456789"); }

static void
deep(struct buf *b)
{
	/* args and request are 2; 22 lists fill LTB_LST_MAXDEPTH */
	fld(b, LIST, 99);
	for (int i = 0; i < LTB_LST_MAXDEPTH - 3; i++)
		list(b, LIST, 1);
	list(b, I32, 0);
}

static void
too_deep(struct buf *b)
{
	deep(b);
	b->n -= 5;
	list(b, LIST, 1);
	list(b, I32, 0);
}

static void
test_malformed_and_limits(void **st)
{
	const char *why;

	(void)st;
	assert_int_equal(verdict_of(bad_span_type, MAXF, &why),
	    LTB_LST_MALFORMED);
	assert_non_null(strstr(why, "wrong type"));
	assert_int_equal(verdict_of(bad_elem_type, MAXF, &why),
	    LTB_LST_MALFORMED);
	assert_non_null(strstr(why, "element type"));
	assert_int_equal(verdict_of(bad_type, MAXF, &why), LTB_LST_MALFORMED);
	assert_int_equal(verdict_of(neg_len, MAXF, &why), LTB_LST_MALFORMED);
	assert_int_equal(verdict_of(neg_count, MAXF, &why), LTB_LST_MALFORMED);
	assert_int_equal(verdict_of(deep, MAXF, &why), 0);
	assert_int_equal(verdict_of(too_deep, MAXF, &why), LTB_LST_MALFORMED);
	assert_non_null(strstr(why, "deep"));
	assert_int_equal(verdict_of(at_limit, 10, &why), 0);
	assert_int_equal(verdict_of(at_limit, 9, &why), LTB_LST_TOO_LARGE);
	/* refused as its length is read, not once the bytes came */
	assert_int_equal(verdict_of(huge_len, MAXF, &why), LTB_LST_TOO_LARGE);
	assert_non_null(strstr(why, "body limit"));
}

static void
test_bad_headers(void **st)
{
	static const struct { const char *b; size_t n; } bad[] = {
		{ "", 0 },
		{ "\0", 1 },					/* empty bare */
		{ "\x80\x02\x00\x01", 4 },			/* version */
		{ "\x80\x01\x00\x02\0\0\0\x06Report\0\0\0\0\0", 19 }, /* REPLY */
		{ "\x80\x01\x00\x01\0\0\0\x06Repork\0\0\0\0\0", 19 }, /* name */
		{ "\x80\x01\x00\x01\0\0\0\x07Reports\0\0\0\0\0", 20 },
		{ "\0\0\0\x06Report\x02\0\0\0\0\0", 16 },	/* old REPLY */
		{ "\x80\x01\x00\x01\0\0\0\x06Report\0\0\0\0\0\0", 20 }, /* tail */
	};
	struct ltb_lst_walk w;
	struct got g;

	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(walk((const uint8_t *)bad[i].b, bad[i].n, MAXF,
		    &g, &w), LTB_LST_MALFORMED);
		assert_non_null(w.why);
		/* a failed walk stays failed */
		assert_int_equal(ltb_lst_walk_feed(&w, (const uint8_t *)"\0",
		    1, collect, &g), LTB_LST_MALFORMED);
	}
	/* the good one of them: an empty call, bits 8-15 not looked at */
	assert_int_equal(walk((const uint8_t *)
	    "\x80\x01\x7f\x01\0\0\0\x06Report\0\0\0\0\0", 19, MAXF, &g, &w), 0);
}

/* python3-thrift's bodies: the seeds lsthrift.py encode made. */
static size_t
seed(const char *name, uint8_t *p, size_t cap)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "tests/fuzz/seeds/lightstep_thrift/%s",
	    name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(p, 1, cap, f);
	fclose(f);
	assert_true(n > 0 && n < cap);
	return n;
}

static void
test_python_bodies(void **st)
{
	static const char *const all[] = { "strict.bin", "old.bin",
	    "bare-join.bin", "oneway.bin", "unknown.bin", "invalid.bin",
	    "dup.bin", "deep.bin" };
	static uint8_t p[65536];
	struct ltb_lst_walk w;
	struct got g;
	size_t n;

	(void)st;
	/* encode --spans 2: guids 0000000000000001 and ..02, trace ..aa */
	n = seed("strict.bin", p, sizeof p);
	assert_int_equal(walk(p, n, MAXF, &g, &w), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.s[0].span_guid, hash("0000000000000001"));
	assert_int_equal(g.s[1].span_guid, hash("0000000000000002"));
	assert_int_equal(g.s[1].trace_guid, hash("00000000000000aa"));
	/* the trace guid as a join id, in a bare ReportRequest */
	n = seed("bare-join.bin", p, sizeof p);
	assert_int_equal(walk(p, n, MAXF, &g, &w), 0);
	assert_int_equal(w.form, LTB_LST_FORM_BARE);
	assert_int_equal(g.s[0].trace_guid, hash("00000000000000aa"));
	/* one span planted per reason, in the reasons' order */
	n = seed("invalid.bin", p, sizeof p);
	assert_int_equal(walk(p, n, MAXF, &g, &w), 0);
	assert_int_equal(g.n, LTB_LST_NINVALID - 1);
	for (unsigned i = 0; i < g.n; i++)
		assert_int_equal(ltb_lst_check(&g.s[i]), i + 1);
	n = seed("old.bin", p, sizeof p);
	assert_int_equal(walk(p, n, MAXF, &g, &w), 0);
	assert_int_equal(w.form, LTB_LST_FORM_OLD);
	assert_int_equal(w.seqid, 9);
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		n = seed(all[i], p, sizeof p);
		assert_any_cut(p, n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_call),
		cmocka_unit_test(test_old_and_bare),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_trace_from_join),
		cmocka_unit_test(test_malformed_and_limits),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_python_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
