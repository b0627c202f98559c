/*
 * test_budget.c: the satellite group's memory budget
 * (common/collector/ltb_budget.c) and what takes from it: the protocols'
 * held buffers (ltb_pbhold) and the streaming walks that gather fields in
 * them (ltb_pbstream.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_collector.h"
#include "collector/proto/ltb_lightstep_walk.h"
#include "collector/proto/ltb_otlp_walk.h"
#include "collector/proto/ltb_pbstream.h"

static uint64_t
used(struct ltb_budget *b)
{
	return atomic_load(&b->used);
}

static uint64_t
peak(struct ltb_budget *b)
{
	return atomic_load(&b->peak);
}

static void
a_take_past_the_limit_fails_and_takes_nothing(void **unused)
{
	struct ltb_budget b;

	ltb_budget_init(&b, 100);
	assert_int_equal(ltb_budget_take(&b, 60), 0);
	assert_int_equal(ltb_budget_take(&b, 41), -1);
	assert_int_equal(used(&b), 60);
	assert_int_equal(ltb_budget_take(&b, 40), 0);	/* exactly full */
	assert_int_equal(ltb_budget_take(&b, 1), -1);
	assert_int_equal(ltb_budget_take(&b, SIZE_MAX), -1);
	ltb_budget_give(&b, 40);
	assert_int_equal(used(&b), 60);
	assert_int_equal(peak(&b), 100);
	ltb_budget_reset_peak(&b);
	assert_int_equal(peak(&b), 60);
	ltb_budget_give(&b, 60);
	assert_int_equal(used(&b), 0);
}

static void
a_limit_of_zero_counts_without_refusing(void **unused)
{
	struct ltb_budget b;

	ltb_budget_init(&b, 0);
	assert_int_equal(ltb_budget_take(&b, (size_t)1 << 40), 0);
	assert_int_equal(ltb_budget_take(&b, (size_t)1 << 40), 0);
	assert_int_equal(used(&b), (uint64_t)2 << 40);
	/* and no budget at all takes anything */
	assert_int_equal(ltb_budget_take(NULL, SIZE_MAX), 0);
	ltb_budget_give(NULL, 5);
}

/* Threads taking and giving at once: the limit is never passed, and
 * everything taken comes back. */
#define NTHREADS 8
#define ROUNDS 200000
#define LIMIT 1000

struct racer {
	struct ltb_budget *b;
	unsigned seed;
	uint64_t taken, over;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	size_t held[4] = { 0 };

	for (int i = 0; i < ROUNDS; i++) {
		size_t k = (size_t)i % 4, n = 1 + rand_r(&r->seed) % 300;

		ltb_budget_give(r->b, held[k]);
		held[k] = 0;
		if (ltb_budget_take(r->b, n) == 0) {
			held[k] = n;
			r->taken++;
		}
		r->over += used(r->b) > LIMIT;
	}
	for (size_t k = 0; k < 4; k++)
		ltb_budget_give(r->b, held[k]);
	return NULL;
}

static void
threads_never_pass_the_limit(void **unused)
{
	struct ltb_budget b;
	struct racer r[NTHREADS];
	pthread_t t[NTHREADS];
	uint64_t taken = 0;

	ltb_budget_init(&b, LIMIT);
	for (int i = 0; i < NTHREADS; i++) {
		r[i] = (struct racer){ .b = &b, .seed = (unsigned)i + 1 };
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].over, 0);
		taken += r[i].taken;
	}
	assert_int_equal(used(&b), 0);
	assert_true(peak(&b) <= LIMIT);
	/* it was contended: some takes failed, most went through */
	assert_true(taken < (uint64_t)NTHREADS * ROUNDS);
	assert_true(taken > (uint64_t)NTHREADS * ROUNDS / 4);
}

static void
a_hold_takes_its_room_before_it_grows_and_gives_it_back(void **unused)
{
	static uint8_t bytes[20000];
	struct ltb_budget b;
	struct ltb_pbhold h = { 0 };

	ltb_budget_init(&b, 10000);
	h.budget = &b;
	assert_int_equal(ltb_pbhold_add(&h, bytes, 100, sizeof bytes), 0);
	assert_int_equal(h.cap, 4096);
	assert_int_equal(used(&b), 4096);
	assert_int_equal(ltb_pbhold_add(&h, bytes, 4000, sizeof bytes), 0);
	assert_int_equal(h.cap, 8192);
	assert_int_equal(used(&b), 8192);
	/* growing to 16 KiB does not fit: refused as busy, h unchanged */
	assert_int_equal(ltb_pbhold_add(&h, bytes, 5000, sizeof bytes),
	    LTB_PBHOLD_BUSY);
	assert_int_equal(h.len, 4100);
	assert_int_equal(h.cap, 8192);
	assert_int_equal(used(&b), 8192);
	/* over its own limit is still -1, not busy */
	assert_int_equal(ltb_pbhold_add(&h, bytes, 5000, 5000), -1);
	ltb_pbhold_free(&h);
	assert_int_equal(used(&b), 0);
	assert_int_equal(peak(&b), 8192);
}

/* A LightStep report of one span whose operation_name is n bytes. */
static size_t
one_span_report(uint8_t *p, size_t n)
{
	size_t span = 6 + 1 + 3 + n, k = 0;

	p[k++] = 0x1a;			/* spans, length as 3 varint bytes */
	p[k++] = (uint8_t)(span & 0x7f) | 0x80;
	p[k++] = (uint8_t)((span >> 7) & 0x7f) | 0x80;
	p[k++] = (uint8_t)(span >> 14);
	memcpy(p + k, "\x0a\x04\x08\x07\x10\x09", 6);	/* span_context */
	k += 6;
	p[k++] = 0x12;			/* operation_name */
	p[k++] = (uint8_t)(n & 0x7f) | 0x80;
	p[k++] = (uint8_t)((n >> 7) & 0x7f) | 0x80;
	p[k++] = (uint8_t)(n >> 14);
	memset(p + k, 'o', n);
	return k + n;
}

static void
count_span(void *ctx, const struct ltb_ls_span *s)
{
	(*(int *)ctx)++;
}

/* Fed in 1000-byte pieces, so the span straddles and is gathered. */
static int
walk_in_pieces(const uint8_t *p, size_t n, struct ltb_budget *b,
    struct ltb_ls_stream *s, int *spans)
{
	int rc = 0;

	ltb_ls_stream_init(s, 1 << 20);
	ltb_ls_stream_budget(s, b);
	for (size_t i = 0; i < n && rc >= 0; i += 1000)
		rc = ltb_ls_stream_feed(s, p + i, n - i < 1000 ? n - i : 1000,
		    count_span, spans);
	if (rc >= 0)
		rc = ltb_ls_stream_end(s);
	return rc;
}

static void
a_walk_gathers_a_field_inside_the_budget_or_fails_busy(void **unused)
{
	static uint8_t body[100000];
	size_t n = one_span_report(body, 50000);
	struct ltb_ls_stream s;
	struct ltb_budget b;
	int spans = 0;

	/* room enough: the span is counted, and its room given back */
	ltb_budget_init(&b, 1 << 20);
	assert_int_equal(walk_in_pieces(body, n, &b, &s, &spans), 0);
	assert_int_equal(spans, 1);
	assert_true(peak(&b) >= 50000);
	ltb_ls_stream_free(&s);
	assert_int_equal(used(&b), 0);

	/* too little: busy, for the budget's reason, and nothing kept */
	ltb_budget_init(&b, 40000);
	spans = 0;
	assert_int_equal(walk_in_pieces(body, n, &b, &s, &spans),
	    LTB_LS_BUSY);
	assert_string_equal(s.why, LTB_BUDGET_WHY);
	assert_int_equal(spans, 0);
	assert_int_equal(used(&b), 0);
	assert_true(peak(&b) <= 40000);
	ltb_ls_stream_free(&s);
	assert_int_equal(used(&b), 0);
}

/* ---- the protocols, as the group drives them ---------------------------- */

static void
no_sink(void *ctx, uint64_t key, unsigned invalid)
{
	(*(int *)ctx)++;
}

struct run {
	int rc, units;
	const char *why;
	struct ltb_reply reply;		/* refuse's, for a failure */
};

/* One message of p, full or not, through begin, feed in 1000-byte
 * pieces, end; refuse with 503 on LTB_COLLECT_BUSY; release. */
static void
run_proto(const struct ltb_collector_proto *p, const char *ctype, int full,
    struct ltb_budget *b, const uint8_t *body, size_t n, struct run *r)
{
	struct ltb_message m = { .path = p->path, .content_type = ctype,
		.encoding = "", .start_real_ns = 1, .max_field = 1 << 20,
		.full = full, .budget = b };
	struct ltb_span_sink sink = { .span = no_sink, .ctx = &r->units };
	void *state = calloc(1, p->state_size);

	assert_non_null(state);
	memset(r, 0, sizeof *r);
	r->why = "";
	assert_int_equal(p->begin(state, &m), LTB_COLLECT_OK);
	for (size_t i = 0; i < n && r->rc == LTB_COLLECT_OK; i += 1000)
		r->rc = p->feed(state, body + i, n - i < 1000 ? n - i : 1000,
		    &sink, &r->why);
	if (r->rc == LTB_COLLECT_OK)
		r->rc = p->end(state, &sink, &r->reply, &r->why);
	if (r->rc == LTB_COLLECT_BUSY && p->refuse != NULL) {
		memset(&r->reply, 0, sizeof r->reply);
		r->reply.status = 503;
		p->refuse(state, r->rc, r->why, &r->reply);
	}
	p->release(state);
	free(state);
}

static void
lightstep_is_busy_over_the_budget_walked_or_unpacked(void **unused)
{
	static uint8_t body[100000];
	size_t n = one_span_report(body, 50000);
	struct ltb_budget b;
	struct run r;

	/* the walk gathers the 50 KB span: no room in 40 KB */
	ltb_budget_init(&b, 40000);
	run_proto(&ltb_proto_lightstep, "", 0, &b, body, n, &r);
	assert_int_equal(r.rc, LTB_COLLECT_BUSY);
	assert_string_equal(r.why, LTB_BUDGET_WHY);
	assert_int_equal(used(&b), 0);
	/* full: the body's 64 KiB of room does not fit in 40 KB... */
	run_proto(&ltb_proto_lightstep, "", 1, &b, body, n, &r);
	assert_int_equal(r.rc, LTB_COLLECT_BUSY);
	assert_int_equal(used(&b), 0);
	/* ...and in 80 KB the body fits but not its unpacked copy */
	ltb_budget_init(&b, 80000);
	run_proto(&ltb_proto_lightstep, "", 1, &b, body, n, &r);
	assert_int_equal(r.rc, LTB_COLLECT_BUSY);
	assert_string_equal(r.why, LTB_BUDGET_WHY);
	assert_int_equal(used(&b), 0);
	/* with room for both, the span is counted */
	ltb_budget_init(&b, 200000);
	run_proto(&ltb_proto_lightstep, "", 1, &b, body, n, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.units, 1);
	assert_true(peak(&b) > 65536 + 50000);
	assert_int_equal(used(&b), 0);
}

static const char otlp_json[] =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{"
    "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\","
    "\"spanId\":\"0102030405060708\",\"name\":\"op\","
    "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}]}]}]}";

static void
otlp_json_takes_its_tree_and_answers_busy_in_its_own_form(void **unused)
{
	const uint8_t *body = (const uint8_t *)otlp_json;
	size_t n = sizeof otlp_json - 1;
	struct ltb_budget b;
	struct run r;

	/* room: one span, and the tree given back */
	ltb_budget_init(&b, 1 << 20);
	run_proto(&ltb_proto_otlp, "application/json", 0, &b, body, n, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.units, 1);
	assert_true(peak(&b) >= 4096 + ltb_otlp_json_bound(body, n));
	assert_int_equal(used(&b), 0);
	/* a tree larger than the whole budget: too large, never busy */
	ltb_budget_init(&b, 4096 + 200);
	run_proto(&ltb_proto_otlp, "application/json", 0, &b, body, n, &r);
	assert_int_equal(r.rc, LTB_COLLECT_TOO_LARGE);
	/* the budget taken by others: busy, a google.rpc.Status
	 * UNAVAILABLE saying why */
	ltb_budget_init(&b, 1 << 20);
	assert_int_equal(ltb_budget_take(&b, (1 << 20) - 5000), 0);
	run_proto(&ltb_proto_otlp, "application/json", 0, &b, body, n, &r);
	assert_int_equal(r.rc, LTB_COLLECT_BUSY);
	assert_string_equal(r.reply.content_type, "application/json");
	r.reply.body[r.reply.len < sizeof r.reply.body ? r.reply.len :
	    sizeof r.reply.body - 1] = 0;
	assert_non_null(strstr((char *)r.reply.body, "\"code\":14"));
	assert_non_null(strstr((char *)r.reply.body,
	    "service unavailable: " LTB_BUDGET_WHY));
	assert_int_equal(used(&b), (1 << 20) - 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_take_past_the_limit_fails_and_takes_nothing),
		cmocka_unit_test(a_limit_of_zero_counts_without_refusing),
		cmocka_unit_test(threads_never_pass_the_limit),
		cmocka_unit_test(
		    a_hold_takes_its_room_before_it_grows_and_gives_it_back),
		cmocka_unit_test(
		    a_walk_gathers_a_field_inside_the_budget_or_fails_busy),
		cmocka_unit_test(
		    lightstep_is_busy_over_the_budget_walked_or_unpacked),
		cmocka_unit_test(
		    otlp_json_takes_its_tree_and_answers_busy_in_its_own_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
