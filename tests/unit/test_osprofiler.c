/*
 * test_osprofiler.c: the OSProfiler protocol (ltb_proto_osprofiler),
 * driven as the RESP listener drives it: one LPUSH value is one message
 * (begin with the key as path, feed, end, release), every message of a
 * group sharing one pairing state (shared_init ... shared_free).
 *
 * A trace point is one unit, given when its stop pairs with its start;
 * a message wrong in any way is one invalid unit by its first fault. The
 * messages are real ones, captured from Debian's python3-osprofiler 3.4.3
 * (notifier.set, with the redis driver's project and service added).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_collector.h"

#define P (&ltb_proto_osprofiler)
#define MAXU 64
#define BASE "1ed18140-2830-4dd0-bfbe-0d42edc1d391"
#define KEY "osprofiler_opt:" BASE
#define ID_A "a98e2b5b-305d-44ae-b255-76186e53fcfd"
#define ID_B "6a472ce2-71c4-4e47-9822-a74436b8a51c"
#define ID_X "0f3c9d7e-55aa-4b1c-8d2e-123456789abc"
#define TS "2026-12-02T00:52:21.493368"

/* One trace as python3-osprofiler sends it: a, b inside a, c inside a
 * failing with an exception. */
static const char *const real[] = {
	"{\"name\": \"a-start\", \"base_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"trace_id\": \"a98e2b5b-305d-44ae-b255-76186e53fcfd\", \"parent_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"timestamp\": \"2026-12-02T00:52:21.493368\", \"info\": {\"k\": \"v\", \"host\": \"vm\"}, \"project\": \"ltb\", \"service\": \"bench\"}",
	"{\"name\": \"b-start\", \"base_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"trace_id\": \"6a472ce2-71c4-4e47-9822-a74436b8a51c\", \"parent_id\": \"a98e2b5b-305d-44ae-b255-76186e53fcfd\", \"timestamp\": \"2026-12-02T00:52:21.493447\", \"info\": {\"host\": \"vm\"}, \"project\": \"ltb\", \"service\": \"bench\"}",
	"{\"name\": \"b-stop\", \"base_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"trace_id\": \"6a472ce2-71c4-4e47-9822-a74436b8a51c\", \"parent_id\": \"a98e2b5b-305d-44ae-b255-76186e53fcfd\", \"timestamp\": \"2026-12-02T00:52:21.493471\", \"info\": {\"host\": \"vm\"}, \"project\": \"ltb\", \"service\": \"bench\"}",
	"{\"name\": \"c-start\", \"base_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"trace_id\": \"d87458bb-8c57-4f94-bef9-766a30c93414\", \"parent_id\": \"a98e2b5b-305d-44ae-b255-76186e53fcfd\", \"timestamp\": \"2026-12-02T00:52:21.493500\", \"info\": {\"x\": 1, \"host\": \"vm\"}, \"project\": \"ltb\", \"service\": \"bench\"}",
	"{\"name\": \"c-stop\", \"base_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"trace_id\": \"d87458bb-8c57-4f94-bef9-766a30c93414\", \"parent_id\": \"a98e2b5b-305d-44ae-b255-76186e53fcfd\", \"timestamp\": \"2026-12-02T00:52:21.493530\", \"info\": {\"etype\": \"ValueError\", \"message\": \"boom\", \"host\": \"vm\"}, \"project\": \"ltb\", \"service\": \"bench\"}",
	"{\"name\": \"a-stop\", \"base_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"trace_id\": \"a98e2b5b-305d-44ae-b255-76186e53fcfd\", \"parent_id\": \"1ed18140-2830-4dd0-bfbe-0d42edc1d391\", \"timestamp\": \"2026-12-02T00:52:21.493546\", \"info\": {\"host\": \"vm\"}, \"project\": \"ltb\", \"service\": \"bench\"}",
};

struct units {
	uint64_t keys[MAXU];
	unsigned invalid[MAXU];
	size_t n;
};

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct units *u = ctx;

	assert_true(u->n < MAXU);
	assert_true(invalid < P->ninvalid);
	u->keys[u->n] = key;
	u->invalid[u->n++] = invalid;
}

static unsigned
reason(const char *name)
{
	for (unsigned i = 0; i < P->ninvalid; i++)
		if (strcmp(P->invalid_names[i], name) == 0)
			return i;
	fail_msg("no reason %s", name);
	return 0;
}

static void *
shared_new(struct ltb_budget *b)
{
	void *sh = calloc(1, P->shared_size);

	assert_non_null(sh);
	assert_int_equal(P->shared_init(sh, b), 0);
	return sh;
}

static void
shared_del(void *sh)
{
	P->shared_free(sh);
	free(sh);
}

/* One of the protocol's own /stats counts. */
static double
stat(void *sh, const char *name)
{
	cJSON *o = cJSON_CreateObject(), *v;
	double d;

	P->shared_stats(sh, o);
	v = cJSON_GetObjectItemCaseSensitive(o, name);
	assert_non_null(v);
	d = v->valuedouble;
	cJSON_Delete(o);
	return d;
}

/* One message under key, its value cut into pieces of step bytes (0:
 * whole, else also cut once at cut when cut is nonzero). Returns end's
 * code; units go to u. */
static int
feed_cut(void *sh, const char *key, const char *v, size_t step, size_t cut,
    size_t max_field, struct units *u)
{
	struct ltb_message m = { .path = key, .content_type = "",
		.encoding = "", .start_real_ns = 1764636741000000000ull,
		.max_field = max_field, .shared = sh };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = u };
	struct ltb_reply reply;
	const char *why = NULL;
	void *state = calloc(1, P->state_size);
	size_t n = strlen(v), at = 0, len;
	int rc;

	assert_non_null(state);
	memset(&reply, 0, sizeof reply);
	assert_int_equal(P->begin(state, &m), LTB_COLLECT_OK);
	rc = LTB_COLLECT_OK;
	while (rc == LTB_COLLECT_OK && at < n) {
		len = cut > at ? cut - at : step ? step : n - at;
		if (len > n - at)
			len = n - at;
		rc = P->feed(state, (const uint8_t *)v + at, len, &sink, &why);
		at += len;
	}
	if (rc == LTB_COLLECT_OK)
		rc = P->end(state, &sink, &reply, &why);
	else
		assert_non_null(why);
	if (rc == LTB_COLLECT_OK)
		assert_int_equal(reply.status, 0);
	P->release(state);
	free(state);
	return rc;
}

static int
feed(void *sh, const char *key, const char *v, struct units *u)
{
	return feed_cut(sh, key, v, 0, 0, 1 << 20, u);
}

/* A message of these fields (NULL: left out) into buf (2048 bytes);
 * info is JSON text. */
static const char *
make_in(char *buf, const char *name, const char *base, const char *trace,
    const char *parent, const char *ts, const char *info)
{
	size_t n = 0;

#define FIELD(k, v, q) do { if ((v) != NULL) n += (size_t)snprintf(buf + n, \
	2048 - n, "%s\"%s\": %s%s%s", n > 1 ? ", " : "", k, q, v, q); \
	} while (0)
	n = (size_t)snprintf(buf, 2048, "{");
	FIELD("name", name, "\"");
	FIELD("base_id", base, "\"");
	FIELD("trace_id", trace, "\"");
	FIELD("parent_id", parent, "\"");
	FIELD("timestamp", ts, "\"");
	FIELD("info", info, "");
#undef FIELD
	snprintf(buf + n, 2048 - n, "}");
	return buf;
}

static const char *
make(const char *name, const char *base, const char *trace,
    const char *parent, const char *ts, const char *info)
{
	static char buf[2048];

	return make_in(buf, name, base, trace, parent, ts, info);
}

static void
declares_what_the_group_needs(void **unused)
{
	(void)unused;
	assert_string_equal(P->name, "osprofiler");
	assert_string_equal(P->unit, "trace point");
	assert_int_equal(P->transport, LTB_TRANSPORT_TCP);
	assert_string_equal(P->path, "osprofiler_opt:");
	assert_null(P->content_types);
	assert_true(P->ninvalid <= 16);
	assert_true(P->shared_size > 0);
	assert_ptr_equal(ltb_collector_find("osprofiler"), P);
}

static void
a_real_trace_is_three_points(void **unused)
{
	struct units u = { 0 };
	void *sh = shared_new(NULL);

	(void)unused;
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(feed(sh, KEY, real[i], &u), LTB_COLLECT_OK);
	/* b, c and a complete, in that order, each valid with a key */
	assert_int_equal(u.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(u.invalid[i], 0);
		assert_true(u.keys[i] != 0);
	}
	assert_true(u.keys[0] != u.keys[1] && u.keys[1] != u.keys[2] &&
	    u.keys[0] != u.keys[2]);
	assert_true(stat(sh, "unmatched_starts") == 0);
	assert_true(stat(sh, "unmatched_stops") == 0);
	assert_true(stat(sh, "broken_parents") == 0);
	assert_true(stat(sh, "duplicate_starts") == 0);
	assert_true(stat(sh, "pairing_overflow") == 0);
	shared_del(sh);
}

static void
the_start_alone_is_not_a_unit(void **unused)
{
	struct units u = { 0 };
	void *sh = shared_new(NULL);

	(void)unused;
	feed(sh, KEY, real[0], &u);
	feed(sh, KEY, real[1], &u);
	assert_int_equal(u.n, 0);
	assert_true(stat(sh, "unmatched_starts") == 2);
	feed(sh, KEY, real[2], &u);
	assert_int_equal(u.n, 1);
	assert_true(stat(sh, "unmatched_starts") == 1);
	shared_del(sh);
}

static void
each_reason_is_one_invalid_unit(void **unused)
{
	static const struct {
		const char *key, *why;
		const char *name, *base, *trace, *parent, *ts, *info;
		const char *raw;	/* the whole value instead */
	} c[] = {
#define F(k, w, n, b, t, p, s, i) { .key = k, .why = w, .name = n, \
	.base = b, .trace = t, .parent = p, .ts = s, .info = i }
#define RAW(k, w, r) { .key = k, .why = w, .raw = r }
		RAW(KEY, "not_json", "{\"name\": \"a-start\""),
		RAW(KEY, "not_json", "{} {}"),
		RAW(KEY, "not_json", ""),
		RAW(KEY, "not_object", "[1, 2]"),
		RAW(KEY, "not_object", "\"a-start\""),
		F(KEY, "bad_name", NULL, BASE, ID_A, BASE, TS, "{}"),
		F(KEY, "bad_name", "a-begin", BASE, ID_A, BASE, TS, "{}"),
		F(KEY, "bad_name", "a-start ", BASE, ID_A, BASE, TS, "{}"),
		F(KEY, "bad_base_id", "a-start", NULL, ID_A, BASE, TS, "{}"),
		F(KEY, "bad_base_id", "a-start", "1ed18140-2830-4dd0-bfbe-"
		    "0d42edc1d39", ID_A, BASE, TS, "{}"),
		F(KEY, "bad_base_id", "a-start", "1ed18140x2830-4dd0-bfbe-"
		    "0d42edc1d391", ID_A, BASE, TS, "{}"),
		F(KEY, "bad_base_id", "a-start", "1ed18140-2830-4dd0-bfbe-"
		    "0d42edc1d39g", ID_A, BASE, TS, "{}"),
		F("osprofiler_opt:" ID_A, "key_mismatch", "a-start", BASE,
		    ID_A, BASE, TS, "{}"),
		F("osprofiler_opt:", "key_mismatch", "a-start", BASE, ID_A,
		    BASE, TS, "{}"),
		F(KEY "x", "key_mismatch", "a-start", BASE, ID_A, BASE, TS,
		    "{}"),
		F(KEY, "bad_trace_id", "a-start", BASE, "nope", BASE, TS, "{}"),
		F(KEY, "bad_trace_id", "a-start", BASE, NULL, BASE, TS, "{}"),
		F(KEY, "bad_parent_id", "a-start", BASE, ID_A, "", TS, "{}"),
		F(KEY, "bad_parent_id", "a-start", BASE, ID_A, NULL, TS, "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE, NULL, "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "2026-12-02 00:52:21.493368", "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "2026-12-02T00:52:21", "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "2026-02-29T00:52:21.493368", "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "2026-13-02T00:52:21.493368", "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "2026-12-02T24:00:00.000000", "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "2026-12-02T23:60:00.000000", "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "0000-12-02T23:00:00.000000", "{}"),
		F(KEY, "bad_timestamp", "a-start", BASE, ID_A, BASE,
		    "2026-12-02T00:52:21.4933680", "{}"),
		F(KEY, "bad_info", "a-start", BASE, ID_A, BASE, TS, "[]"),
		F(KEY, "bad_info", "a-start", BASE, ID_A, BASE, TS, "null"),
		/* leap day, and an info left out: both fine */
		F(KEY, "valid", "a-start", BASE, ID_A, BASE,
		    "2024-02-29T23:59:59.999999", NULL),
#undef F
#undef RAW
	};
	char raw[64];

	(void)unused;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct units u = { 0 };
		void *sh = shared_new(NULL);
		const char *v = c[i].raw != NULL ? c[i].raw : make(c[i].name,
		    c[i].base, c[i].trace, c[i].parent, c[i].ts, c[i].info);
		unsigned want = reason(c[i].why);

		assert_int_equal(feed(sh, c[i].key, v, &u), LTB_COLLECT_OK);
		if (want == 0) {
			assert_int_equal(u.n, 0);
			assert_true(stat(sh, "unmatched_starts") == 1);
		} else {
			if (u.n != 1 || u.invalid[0] != want)
				fail_msg("case %zu (%s): %zu units, first %s", i,
				    c[i].why, u.n, u.n ? P->invalid_names[
				    u.invalid[0]] : "none");
			assert_int_equal(u.keys[0], 0);
			assert_true(stat(sh, "unmatched_starts") == 0);
		}
		shared_del(sh);
	}
	/* a stop that is not its start's: name, base_id or parent_id */
	for (int k = 0; k < 3; k++) {
		struct units u = { 0 };
		void *sh = shared_new(NULL);

		snprintf(raw, sizeof raw, "osprofiler_opt:%s", k == 1 ? ID_X :
		    BASE);
		feed(sh, KEY, make("a-start", BASE, ID_A, BASE, TS, "{}"), &u);
		feed(sh, raw, make(k == 0 ? "b-stop" : "a-stop", k == 1 ?
		    ID_X : BASE, ID_A, k == 2 ? ID_X : BASE, TS, "{}"), &u);
		assert_int_equal(u.n, 1);
		assert_int_equal(u.invalid[0], reason("stop_mismatch"));
		assert_true(stat(sh, "unmatched_starts") == 0);
		shared_del(sh);
	}
}

static void
unmatched_and_broken_points_are_counted(void **unused)
{
	struct units u = { 0 };
	void *sh = shared_new(NULL);

	(void)unused;
	/* a stop without its start: not a unit */
	feed(sh, KEY, real[2], &u);
	assert_int_equal(u.n, 0);
	assert_true(stat(sh, "unmatched_stops") == 1);
	/* a start whose parent is no point of its trace: it still counts */
	feed(sh, KEY, make("d-start", BASE, ID_B, ID_X, TS, "{}"), &u);
	assert_true(stat(sh, "broken_parents") == 1);
	feed(sh, KEY, make("d-stop", BASE, ID_B, ID_X, TS, "{}"), &u);
	assert_int_equal(u.n, 1);
	assert_int_equal(u.invalid[0], 0);
	/* a parent of another trace is broken too */
	feed(sh, KEY, make("e-start", BASE, ID_X, BASE, TS, "{}"), &u);
	feed(sh, "osprofiler_opt:" ID_A, make("f-start", ID_A,
	    "11111111-2222-3333-4444-555555555555", ID_X, TS, "{}"), &u);
	assert_true(stat(sh, "broken_parents") == 2);
	/* a parent open, or completed not long ago, is not broken */
	feed(sh, KEY, make("g-start", BASE,
	    "21111111-2222-3333-4444-555555555555", ID_X, TS, "{}"), &u);
	feed(sh, KEY, make("h-start", BASE,
	    "31111111-2222-3333-4444-555555555555", ID_B, TS, "{}"), &u);
	assert_true(stat(sh, "broken_parents") == 2);
	assert_true(stat(sh, "unmatched_starts") == 4);
	assert_true(stat(sh, "unmatched_stops") == 1);
	shared_del(sh);
}

static void
duplicates_are_counted(void **unused)
{
	struct units u = { 0 };
	void *sh = shared_new(NULL);

	(void)unused;
	feed(sh, KEY, real[0], &u);
	feed(sh, KEY, real[0], &u);
	assert_true(stat(sh, "duplicate_starts") == 1);
	assert_true(stat(sh, "unmatched_starts") == 1);
	feed(sh, KEY, real[5], &u);
	/* a second start of a completed point */
	feed(sh, KEY, real[0], &u);
	assert_true(stat(sh, "duplicate_starts") == 2);
	/* a second stop: the same key again, for the group to flag */
	feed(sh, KEY, real[5], &u);
	assert_int_equal(u.n, 2);
	assert_int_equal(u.keys[0], u.keys[1]);
	assert_int_equal(u.invalid[1], 0);
	assert_true(stat(sh, "unmatched_starts") == 0);
	assert_true(stat(sh, "unmatched_stops") == 0);
	shared_del(sh);
}

static void
pieces_read_as_the_whole(void **unused)
{
	(void)unused;
	for (size_t r = 0; r < 6; r++) {
		size_t n = strlen(real[r]);
		struct units whole = { 0 }, u;
		void *sh = shared_new(NULL);

		/* a start before each stop, so that a stop is a unit */
		if (r == 2 || r == 4 || r == 5)
			feed(sh, KEY, real[r == 2 ? 1 : r == 4 ? 3 : 0], &whole);
		assert_int_equal(feed(sh, KEY, real[r], &whole),
		    LTB_COLLECT_OK);
		shared_del(sh);
		for (size_t cut = 0; cut <= n + 1; cut++) {
			memset(&u, 0, sizeof u);
			sh = shared_new(NULL);
			if (r == 2 || r == 4 || r == 5)
				feed(sh, KEY, real[r == 2 ? 1 : r == 4 ? 3 : 0],
				    &u);
			/* cut once at every byte, and last one byte at a
			 * time */
			assert_int_equal(feed_cut(sh, KEY, real[r],
			    cut == n + 1, cut == n + 1 ? 0 : cut, 1 << 20, &u),
			    LTB_COLLECT_OK);
			assert_int_equal(u.n, whole.n);
			for (size_t i = 0; i < u.n; i++) {
				assert_int_equal(u.keys[i], whole.keys[i]);
				assert_int_equal(u.invalid[i], whole.invalid[i]);
			}
			shared_del(sh);
		}
	}
}

static void
limits_hold(void **unused)
{
	struct ltb_budget b;
	struct units u = { 0 };
	void *sh;

	(void)unused;
	/* over max_field: too large, nothing counted */
	sh = shared_new(NULL);
	assert_int_equal(feed_cut(sh, KEY, real[0], 7, 0, 100, &u),
	    LTB_COLLECT_TOO_LARGE);
	assert_int_equal(u.n, 0);
	assert_true(stat(sh, "unmatched_starts") == 0);
	shared_del(sh);
	/* a budget with no room for the points: the start is not kept */
	ltb_budget_init(&b, 4096);
	sh = shared_new(&b);
	assert_int_equal(feed(sh, KEY, real[0], &u), LTB_COLLECT_OK);
	assert_true(stat(sh, "pairing_overflow") == 1);
	assert_true(stat(sh, "unmatched_starts") == 0);
	feed(sh, KEY, real[5], &u);
	assert_int_equal(u.n, 0);
	assert_true(stat(sh, "unmatched_stops") == 1);
	shared_del(sh);
	assert_int_equal(atomic_load(&b.used), 0);
	/* with room, what the points took is given back at the end */
	ltb_budget_init(&b, 64u << 20);
	sh = shared_new(&b);
	feed(sh, KEY, real[0], &u);
	assert_true(atomic_load(&b.used) > 0);
	assert_true(stat(sh, "unmatched_starts") == 1);
	shared_del(sh);
	assert_int_equal(atomic_load(&b.used), 0);
}

static void
reset_forgets_every_point(void **unused)
{
	struct ltb_budget b;
	struct units u = { 0 };
	void *sh;

	(void)unused;
	ltb_budget_init(&b, 64u << 20);
	sh = shared_new(&b);
	feed(sh, KEY, real[0], &u);
	feed(sh, KEY, real[0], &u);
	feed(sh, KEY, real[2], &u);
	assert_true(stat(sh, "unmatched_starts") == 1);
	assert_true(stat(sh, "duplicate_starts") == 1);
	assert_true(stat(sh, "unmatched_stops") == 1);
	P->shared_reset(sh);
	assert_true(stat(sh, "unmatched_starts") == 0);
	assert_true(stat(sh, "duplicate_starts") == 0);
	assert_true(stat(sh, "unmatched_stops") == 0);
	/* a's start is forgotten: its stop is now unmatched */
	feed(sh, KEY, real[5], &u);
	assert_int_equal(u.n, 0);
	assert_true(stat(sh, "unmatched_stops") == 1);
	shared_del(sh);
	assert_int_equal(atomic_load(&b.used), 0);
}

/* A sink that counts and keeps the last key. */
struct tally {
	uint64_t units, invalid, last;
};

static void
tally_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct tally *t = ctx;

	t->units++;
	t->invalid += invalid != 0;
	t->last = key;
}

/* Point i's start or stop, its parent the trace or point parent + 1. */
static void
point(void *sh, uint32_t i, int stop, uint32_t parent, struct tally *t)
{
	struct ltb_message m = { .path = KEY, .content_type = "",
		.encoding = "", .max_field = 1 << 20, .shared = sh };
	struct ltb_span_sink sink = { .span = tally_span, .ctx = t };
	char trace[40], par[40], v[2048];
	struct ltb_reply reply;
	const char *why;
	uint64_t state[1024];
	int n;

	assert_true(P->state_size <= sizeof state);
	memset(state, 0, P->state_size);
	snprintf(trace, sizeof trace, "%08x-0000-4000-8000-000000000000", i);
	if (parent == 0)
		snprintf(par, sizeof par, "%s", BASE);
	else
		snprintf(par, sizeof par, "%08x-0000-4000-8000-000000000000",
		    parent - 1);
	n = (int)strlen(make_in(v, stop ? "p-stop" : "p-start", BASE, trace,
	    par, TS, "{\"host\": \"vm\"}"));
	assert_int_equal(P->begin(state, &m), LTB_COLLECT_OK);
	assert_int_equal(P->feed(state, (uint8_t *)v, (size_t)n, &sink, &why),
	    LTB_COLLECT_OK);
	assert_int_equal(P->end(state, &sink, &reply, &why), LTB_COLLECT_OK);
	P->release(state);
}

static void
many_points_grow_and_the_oldest_are_forgotten(void **unused)
{
	enum { OPEN = 3000, MORE = 70000 };
	struct ltb_budget b;
	struct tally t = { 0 };
	uint64_t first, last;
	void *sh;

	(void)unused;
	ltb_budget_init(&b, 256u << 20);
	sh = shared_new(&b);
	/* open at once: past the first pool, twice */
	for (uint32_t i = 0; i < OPEN; i++)
		point(sh, i, 0, i ? i : 0, &t);
	assert_true(stat(sh, "unmatched_starts") == OPEN);
	assert_true(stat(sh, "broken_parents") == 0);
	for (uint32_t i = OPEN; i-- > 0; )
		point(sh, i, 1, i ? i : 0, &t);
	first = t.last;
	assert_int_equal(t.units, OPEN);
	assert_int_equal(t.invalid, 0);
	assert_true(stat(sh, "unmatched_starts") == 0);
	/* more than are remembered: the first are forgotten */
	for (uint32_t i = OPEN; i < OPEN + MORE; i++) {
		point(sh, i, 0, 0, &t);
		point(sh, i, 1, 0, &t);
	}
	last = t.last;
	assert_int_equal(t.units, OPEN + MORE);
	point(sh, 0, 1, 0, &t);
	assert_int_equal(t.units, OPEN + MORE);
	assert_true(stat(sh, "unmatched_stops") == 1);
	point(sh, OPEN + MORE + 1, 0, 1, &t);
	assert_true(stat(sh, "broken_parents") == 1);
	/* the last completed is still known: its parent is not broken, and
	 * its second stop gives its key again */
	point(sh, OPEN + MORE + 2, 0, OPEN + MORE, &t);
	assert_true(stat(sh, "broken_parents") == 1);
	point(sh, OPEN + MORE - 1, 1, 0, &t);
	assert_int_equal(t.units, OPEN + MORE + 1);
	assert_int_equal(t.last, last);
	assert_true(first != last);
	assert_true(stat(sh, "duplicate_starts") == 0);
	assert_true(stat(sh, "pairing_overflow") == 0);
	shared_del(sh);
	assert_int_equal(atomic_load(&b.used), 0);
}

struct worker {
	void *sh;
	uint32_t from;
	struct tally t;
};

static void *
work(void *arg)
{
	struct worker *w = arg;

	for (uint32_t i = w->from; i < w->from + 20000; i++) {
		point(w->sh, i, 0, 0, &w->t);
		point(w->sh, i, 1, 0, &w->t);
	}
	return NULL;
}

static void
connections_pair_at_once(void **unused)
{
	struct worker w[2] = { { .from = 0 }, { .from = 1u << 24 } };
	pthread_t th[2];
	void *sh = shared_new(NULL);

	(void)unused;
	for (int i = 0; i < 2; i++) {
		w[i].sh = sh;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(w[0].t.units + w[1].t.units, 40000);
	assert_int_equal(w[0].t.invalid + w[1].t.invalid, 0);
	assert_true(stat(sh, "unmatched_starts") == 0);
	assert_true(stat(sh, "unmatched_stops") == 0);
	assert_true(stat(sh, "duplicate_starts") == 0);
	shared_del(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(declares_what_the_group_needs),
		cmocka_unit_test(a_real_trace_is_three_points),
		cmocka_unit_test(the_start_alone_is_not_a_unit),
		cmocka_unit_test(each_reason_is_one_invalid_unit),
		cmocka_unit_test(unmatched_and_broken_points_are_counted),
		cmocka_unit_test(duplicates_are_counted),
		cmocka_unit_test(pieces_read_as_the_whole),
		cmocka_unit_test(limits_hold),
		cmocka_unit_test(reset_forgets_every_point),
		cmocka_unit_test(many_points_grow_and_the_oldest_are_forgotten),
		cmocka_unit_test(connections_pair_at_once),
	};

	return cmocka_run_group_tests_name("osprofiler", tests, NULL, NULL);
}
