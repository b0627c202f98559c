/*
 * test_message.c: one message through the group's message layer
 * (common/collector/ltb_message.c) as a listener drives it: begin, feed
 * in pieces, end, free; on a group made by hand, as test_conns.c does.
 * What is checked here is what the layer keeps from one message to the
 * next on a thread: the message and its inflater are reused, not
 * allocated again, and nothing of one message leaks into the next (its
 * counts, its coding, its budget).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "collector/ltb_dupset.h"
#include "collector/ltb_group.h"

/*
 * Allocations counted by standing in for glibc's allocator (its
 * __libc_* entry points do the work): what a message costs in malloc
 * calls, once the thread has had one. A sanitizer brings its own
 * allocator; there, the counting test is not built: cmocka's TAP says
 * a skipped test "not ok ... # SKIP", which prove counts as failed.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

#if COUNTING
static _Thread_local unsigned long allocs;

void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);

void *
malloc(size_t n)
{
	allocs++;
	return __libc_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	allocs++;
	return __libc_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	allocs++;
	return __libc_realloc(p, n);
}
#endif

struct fixture {
	struct ltb_sat g;
	struct ltb_port port;
};

static struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	ltb_sat_config_default(&f->g.cfg);
	f->g.cfg.bandwidth = 0;
	ltb_budget_init(&f->g.budget, f->g.cfg.memory_budget);
	pthread_mutex_init(&f->g.dup_lock, NULL);
	f->g.dups = ltb_dupset_new(f->g.cfg.dup_window);
	assert_non_null(f->g.dups);
	atomic_init(&f->g.mode, LTB_MODE_TYPICAL);
	atomic_init(&f->g.up, 1);
	f->g.ports = &f->port;
	f->g.nports = 1;
	f->port.group = &f->g;
	return f;
}

static void
fixture_free(struct fixture *f)
{
	ltb_dupset_free(f->g.dups);
	pthread_mutex_destroy(&f->g.dup_lock);
	free(f);
}

/* A LightStep report of n spans, each with its own ids. */
static size_t
report(uint8_t *p, unsigned n, unsigned first)
{
	size_t k = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned id = first + i + 1;

		p[k++] = 0x1a;		/* spans */
		p[k++] = 16;
		p[k++] = 0x0a;		/* span_context: trace_id, span_id */
		p[k++] = 6;
		p[k++] = 0x08;
		p[k++] = (uint8_t)(id & 0x7f) | 0x80;
		p[k++] = (uint8_t)(id >> 7);
		p[k++] = 0x10;
		p[k++] = (uint8_t)(id & 0x7f) | 0x80;
		p[k++] = (uint8_t)(id >> 7);
		p[k++] = 0x12;		/* operation_name "op" */
		p[k++] = 2;
		p[k++] = 'o';
		p[k++] = 'p';
		p[k++] = 0x22;		/* start_timestamp: seconds 1 */
		p[k++] = 2;
		p[k++] = 0x08;
		p[k++] = 1;
	}
	return k;
}

/* in, compressed: gzip's wrapper (31 bits) or zlib's (15). */
static size_t
compress_as(uint8_t *out, size_t cap, const uint8_t *in, size_t n, int bits)
{
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, bits, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

static uint64_t
units(struct fixture *f)
{
	return atomic_load(&f->port.pc[ltb_proto_index(&ltb_proto_lightstep)]
	    .units);
}

/* One message of body (n bytes, encoding enc, NULL for none) through the
 * layer in pieces of piece bytes; its answer's status. *mp is the
 * message it was, for comparing. */
static unsigned
message_in(struct fixture *f, const char *enc, const uint8_t *body,
    size_t n, size_t piece, struct ltb_msg **mp)
{
	struct ltb_msg_head head = { .path = "/api/v2/reports",
	    .encoding = enc, .declared_len = n };
	struct ltb_reply reply;
	struct ltb_msg *m;

	m = ltb_msg_begin(&f->port, &ltb_proto_lightstep, &head, &reply);
	assert_non_null(m);
	for (size_t i = 0; i < n; i += piece)
		assert_int_equal(ltb_msg_feed(m, body + i,
		    n - i < piece ? n - i : piece), 0);
	ltb_msg_end(m, &reply);
	ltb_msg_free(m);
	assert_int_equal(atomic_load(&f->g.budget.used), 0);
	if (mp != NULL)
		*mp = m;
	return reply.status;
}

/* In 100-byte pieces: spans straddle them. */
static unsigned
one_message(struct fixture *f, const char *enc, const uint8_t *body,
    size_t n, struct ltb_msg **mp)
{
	return message_in(f, enc, body, n, 100, mp);
}

#if COUNTING
static void
a_message_allocates_nothing_once_the_thread_has_had_one(void **unused)
{
	struct fixture *f;
	static uint8_t body[18 * 100], z[4096];
	size_t n, zn;
	unsigned long before;

	f = fixture_new();
	/* Whole bodies, in one piece: no span straddles, so the walk holds
	 * nothing and any allocation is the layer's own. */
	n = report(body, 100, 0);
	assert_int_equal(message_in(f, NULL, body, n, n, NULL), 200);
	n = report(body, 100, 100);
	before = allocs;
	assert_int_equal(message_in(f, NULL, body, n, n, NULL), 200);
	assert_int_equal(allocs - before, 0);
	/* a compressed body: the inflater and its window are kept too */
	n = report(body, 100, 200);
	zn = compress_as(z, sizeof z, body, n, 16 + MAX_WBITS);
	assert_int_equal(message_in(f, "gzip", z, zn, zn, NULL), 200);
	n = report(body, 100, 300);
	zn = compress_as(z, sizeof z, body, n, 16 + MAX_WBITS);
	before = allocs;
	assert_int_equal(message_in(f, "gzip", z, zn, zn, NULL), 200);
	assert_int_equal(allocs - before, 0);
	assert_int_equal(units(f), 400);
	fixture_free(f);
}
#endif

static void
a_thread_reuses_its_message_from_one_to_the_next(void **unused)
{
	struct fixture *f = fixture_new();
	static uint8_t body[18 * 100];
	size_t n = report(body, 100, 0);
	struct ltb_msg *a, *b;

	assert_int_equal(one_message(f, NULL, body, n, &a), 200);
	assert_int_equal(units(f), 100);
	n = report(body, 100, 100);
	assert_int_equal(one_message(f, NULL, body, n, &b), 200);
	assert_int_equal(units(f), 200);
	/* the same memory: freed to the thread, taken back */
	assert_ptr_equal(a, b);
	fixture_free(f);
}

static void
codings_follow_one_another_on_a_reused_message(void **unused)
{
	struct fixture *f = fixture_new();
	static uint8_t body[18 * 100], z[4096];
	size_t n, zn;
	uint64_t u = 0;

	/* gzip, deflate (the other wrapper), none, gzip again: each read
	 * whole, each counted, none seeing the last one's inflater */
	n = report(body, 100, 0);
	zn = compress_as(z, sizeof z, body, n, 16 + MAX_WBITS);
	assert_int_equal(one_message(f, "gzip", z, zn, NULL), 200);
	assert_int_equal(units(f), u += 100);
	n = report(body, 100, 100);
	zn = compress_as(z, sizeof z, body, n, MAX_WBITS);
	assert_int_equal(one_message(f, "deflate", z, zn, NULL), 200);
	assert_int_equal(units(f), u += 100);
	n = report(body, 100, 200);
	assert_int_equal(one_message(f, NULL, body, n, NULL), 200);
	assert_int_equal(units(f), u += 100);
	n = report(body, 100, 300);
	zn = compress_as(z, sizeof z, body, n, 16 + MAX_WBITS);
	/* cut short: the inflater is not done, the message is refused
	 * (what it streamed is counted received) */
	assert_int_equal(one_message(f, "gzip", z, zn / 2, NULL), 400);
	u = units(f);
	assert_int_equal(one_message(f, "gzip", z, zn, NULL), 200);
	assert_int_equal(units(f), u += 100);
	fixture_free(f);
}

static void
a_message_after_a_failed_one_starts_clean(void **unused)
{
	struct fixture *f = fixture_new();
	static uint8_t body[18 * 100];
	size_t n = report(body, 100, 0);
	static const uint8_t junk[] = { 0xff, 0xff, 0xff };
	struct ltb_msg *a, *b;

	assert_int_equal(one_message(f, NULL, junk, sizeof junk, &a), 400);
	assert_int_equal(one_message(f, NULL, body, n, &b), 200);
	assert_ptr_equal(a, b);
	assert_int_equal(units(f), 100);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_thread_reuses_its_message_from_one_to_the_next),
#if COUNTING
		cmocka_unit_test(
		    a_message_allocates_nothing_once_the_thread_has_had_one),
#endif
		cmocka_unit_test(codings_follow_one_another_on_a_reused_message),
		cmocka_unit_test(a_message_after_a_failed_one_starts_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
