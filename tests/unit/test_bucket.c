/*
 * test_bucket.c: the bandwidth cap's token bucket
 * (common/collector/ltb_bucket.c), on a clock the test moves itself.
 *
 * Takers are simulated: each takes a piece, and when told to wait its
 * clock jumps to the time given, as a sleeping connection's would. The
 * pieces are libmicrohttpd's, 32 KiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collector/ltb_bucket.h"

#define NS 1000000000ull
#define PIECE (32u << 10)
#define START_NS (1000 * NS)	/* a monotonic clock well past 0 */

struct run {
	uint64_t end_ns;	/* when the last piece went on */
	uint64_t waits;
	uint64_t shortest_wait_ns;
};

/* ntakers connections on one port take total bytes between them, as fast
 * as the bucket lets them: the taker whose clock is earliest goes next. */
static struct run
take_all(uint64_t rate, uint64_t total, unsigned ntakers)
{
	struct ltb_bucket b = { 0 };
	uint64_t clock[8], left = total, until;
	struct run r = { .shortest_wait_ns = UINT64_MAX };
	unsigned i, t;

	assert_true(ntakers >= 1 && ntakers <= 8);
	for (i = 0; i < ntakers; i++)
		clock[i] = START_NS;
	while (left > 0) {
		uint64_t n = left < PIECE ? left : PIECE;

		for (t = 0, i = 1; i < ntakers; i++)
			if (clock[i] < clock[t])
				t = i;
		until = ltb_bucket_take(&b, rate, n, clock[t]);
		assert_true(until >= clock[t]);
		if (until > clock[t]) {
			r.waits++;
			if (until - clock[t] < r.shortest_wait_ns)
				r.shortest_wait_ns = until - clock[t];
			clock[t] = until;
		}
		left -= n;
	}
	for (i = 0; i < ntakers; i++)
		if (clock[i] > r.end_ns)
			r.end_ns = clock[i];
	return r;
}

static void
no_cap_never_waits(void **unused)
{
	struct ltb_bucket b = { 0 };

	for (int i = 0; i < 1000; i++)
		assert_int_equal(ltb_bucket_take(&b, 0, PIECE, START_NS),
		    START_NS);
}

/* What the bats test checks end to end: 20 MB at 10 MiB/s takes the
 * rate's time, less at most the bucket's depth, more by nothing but a
 * quantum. */
static void
the_long_run_rate_is_exact(void **unused)
{
	const uint64_t rate = 10u << 20, total = 20000000;
	const uint64_t ideal = total * NS / rate;
	struct run r = take_all(rate, total, 1);
	uint64_t took = r.end_ns - START_NS;

	assert_true(took >= ideal - ltb_bucket_depth_ns(rate));
	assert_true(took <= ideal + ltb_bucket_quantum_ns(rate));
	/* Within 10% of the rate, as a cap must be. */
	assert_true(took * 10 >= ideal * 9);
}

static void
many_takers_share_the_rate(void **unused)
{
	const uint64_t rate = 50u << 20, total = 500u << 20;
	const uint64_t ideal = total * NS / rate;
	struct run r = take_all(rate, total, 4);
	uint64_t took = r.end_ns - START_NS;

	assert_true(took >= ideal - ltb_bucket_depth_ns(rate));
	/* Each taker may oversleep its last wait by at most a quantum. */
	assert_true(took <= ideal + ltb_bucket_quantum_ns(rate));
}

/* The point of the bucket: a wake-up per quantum, not per piece. */
static void
waits_once_per_quantum_not_per_piece(void **unused)
{
	const uint64_t rate = 50u << 20, total = 500u << 20;
	const uint64_t pieces = total / PIECE;
	const uint64_t quantum_bytes = ltb_bucket_quantum_ns(rate) * rate / NS;
	struct run r = take_all(rate, total, 1);

	assert_true(r.waits >= 1);
	assert_true(r.waits <= total / quantum_bytes + 1);
	assert_true(r.waits * 20 <= pieces);
	/* And each wait is a long one, a quantum at least. */
	assert_true(r.shortest_wait_ns >= ltb_bucket_quantum_ns(rate));
}

/* After a quiet spell a full bucket lets its depth through at once. */
static void
a_piece_that_fits_passes_at_once(void **unused)
{
	const uint64_t rate = 50u << 20;
	const uint64_t depth_bytes = ltb_bucket_depth_ns(rate) * rate / NS;
	struct ltb_bucket b = { 0 };
	uint64_t now = START_NS, taken;

	for (taken = 0; taken + PIECE <= depth_bytes; taken += PIECE)
		assert_int_equal(ltb_bucket_take(&b, rate, PIECE, now), now);
	/* Past the depth, a wait. */
	assert_true(ltb_bucket_take(&b, rate, 2 * PIECE, now) > now);
	/* A quiet second refills it, and only to its depth. */
	now += 10 * NS;
	for (taken = 0; taken + PIECE <= depth_bytes; taken += PIECE)
		assert_int_equal(ltb_bucket_take(&b, rate, PIECE, now), now);
	assert_true(ltb_bucket_take(&b, rate, 2 * PIECE, now) > now);
}

static void
depth_and_quantum_by_rate(void **unused)
{
	/* 50 MiB/s: 100 ms deep, 50 ms a quantum. */
	assert_int_equal(ltb_bucket_depth_ns(50u << 20), NS / 10);
	assert_int_equal(ltb_bucket_quantum_ns(50u << 20), NS / 20);
	/* 1 MiB/s: 256 KiB deep (250 ms), a 64 KiB quantum. */
	assert_int_equal(ltb_bucket_depth_ns(1u << 20), NS / 4);
	assert_int_equal(ltb_bucket_quantum_ns(1u << 20), NS / 16);
	/* 1 KiB/s: no more than a second deep, a quantum half of it. */
	assert_int_equal(ltb_bucket_depth_ns(1024), NS);
	assert_int_equal(ltb_bucket_quantum_ns(1024), NS / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_cap_never_waits),
		cmocka_unit_test(the_long_run_rate_is_exact),
		cmocka_unit_test(many_takers_share_the_rate),
		cmocka_unit_test(waits_once_per_quantum_not_per_piece),
		cmocka_unit_test(a_piece_that_fits_passes_at_once),
		cmocka_unit_test(depth_and_quantum_by_rate),
	};

	return cmocka_run_group_tests_name("bucket", tests, NULL, NULL);
}
