/*
 * test_progress.c: the ETA of a plan and its words (common/run/
 * ltb_progress.c): the runs left's own runtimes plus the mean overhead of
 * the runs done, the run under way counted from where it is, a figure
 * that is only a lower bound before any run has ended, and the clock
 * time it names, in the local time zone (UTC here, set before any test).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "run/ltb_progress.h"

#define assert_close(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* 2026-12-02 07:38:20 UTC */
#define NOW ((time_t)1796197100)

static void
eta_is_the_runtimes_left_plus_the_mean_overhead(void **unused)
{
	/* mixed runtimes: each run left its own */
	const double left[] = { 10, 30, 5 };
	const double over[] = { 1.0, 2.0, 3.0 };
	int lower = -1;

	assert_close(ltb_eta_s(left, 3, 0, over, 3, &lower),
	    45 + 3 * 2.0, 1e-9);
	assert_int_equal(lower, 0);
	/* one run left */
	assert_close(ltb_eta_s(left + 2, 1, 0, over, 1, &lower), 5 + 1.0,
	    1e-9);
	assert_int_equal(lower, 0);
}

static void
before_any_run_ends_the_eta_is_the_runtimes_alone_and_a_lower_bound(void **unused)
{
	const double left[] = { 10, 10, 10 };
	int lower = 0;

	assert_close(ltb_eta_s(left, 3, 0, NULL, 0, &lower), 30, 1e-9);
	assert_int_equal(lower, 1);
}

static void
the_run_under_way_counts_from_where_it_is(void **unused)
{
	const double left[] = { 10, 20 };
	const double over[] = { 2.0 };
	int lower = 0;

	/* 4 s into a 10 s run with 2 s of overhead: 8 s of it left */
	assert_close(ltb_eta_s(left, 2, 4, over, 1, &lower), 8 + 22, 1e-9);
	/* a run past its runtime and overhead has nothing left, not less */
	assert_close(ltb_eta_s(left, 2, 15, over, 1, &lower), 22, 1e-9);
	/* the first run, under way: its runtime left, still a lower bound */
	assert_close(ltb_eta_s(left, 2, 4, NULL, 0, &lower), 6 + 20, 1e-9);
	assert_int_equal(lower, 1);
}

static void
nothing_left_is_zero_and_no_bound(void **unused)
{
	const double over[] = { 2.0 };
	int lower = 1;

	assert_close(ltb_eta_s(NULL, 0, 0, over, 1, &lower), 0, 0);
	assert_int_equal(lower, 0);
	lower = 1;
	assert_close(ltb_eta_s(NULL, 0, 0, NULL, 0, &lower), 0, 0);
	assert_int_equal(lower, 0);
}

static void
a_negative_mean_overhead_takes_nothing_off(void **unused)
{
	/* runs that ended before their runtime do not shorten the rest */
	const double left[] = { 10, 10 };
	const double over[] = { -3.0, 1.0 };
	int lower = 1;

	assert_close(ltb_eta_s(left, 2, 0, over, 2, &lower), 20, 1e-9);
	assert_int_equal(lower, 0);
}

static void
the_eta_in_words(void **unused)
{
	char buf[128];

	assert_int_equal(ltb_eta_format(42, 0, NOW, buf, sizeof buf), 1);
	assert_string_equal(buf, "eta 42s (ends ~07:39)");
	ltb_eta_format(220, 0, NOW, buf, sizeof buf);
	assert_string_equal(buf, "eta 3m40s (ends ~07:42)");
	/* rounded to the second, carried into the minute */
	ltb_eta_format(59.6, 0, NOW, buf, sizeof buf);
	assert_string_equal(buf, "eta 1m00s (ends ~07:39)");
	ltb_eta_format(0.3, 0, NOW, buf, sizeof buf);
	assert_string_equal(buf, "eta 0s (ends ~07:38)");
	/* an hour and more: to the minute */
	ltb_eta_format(3600 + 5 * 60 + 20, 0, NOW, buf, sizeof buf);
	assert_string_equal(buf, "eta 1h05m (ends ~08:43)");
	/* another day names the day */
	ltb_eta_format(20 * 3600, 0, NOW, buf, sizeof buf);
	assert_string_equal(buf, "eta 20h00m (ends ~2026-12-03 03:38)");
}

static void
a_lower_bound_says_so(void **unused)
{
	char buf[128];

	ltb_eta_format(220, 1, NOW, buf, sizeof buf);
	assert_string_equal(buf, "eta >3m40s (ends after 07:42)");
}

static void
the_eta_in_words_is_cut_to_the_buffer(void **unused)
{
	char buf[8];

	assert_int_equal(ltb_eta_format(220, 0, NOW, buf, sizeof buf), 1);
	assert_string_equal(buf, "eta 3m4");
	/* no figure, no words */
	assert_int_equal(ltb_eta_format(NAN, 0, NOW, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ltb_eta_format(-1, 0, NOW, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eta_is_the_runtimes_left_plus_the_mean_overhead),
		cmocka_unit_test(before_any_run_ends_the_eta_is_the_runtimes_alone_and_a_lower_bound),
		cmocka_unit_test(the_run_under_way_counts_from_where_it_is),
		cmocka_unit_test(nothing_left_is_zero_and_no_bound),
		cmocka_unit_test(a_negative_mean_overhead_takes_nothing_off),
		cmocka_unit_test(the_eta_in_words),
		cmocka_unit_test(a_lower_bound_says_so),
		cmocka_unit_test(the_eta_in_words_is_cut_to_the_buffer),
	};

	/* The clock time an ETA names is local: pin the zone. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
