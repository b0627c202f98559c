/*
 * test_stats.c: means, spreads, Student's t and Welch's interval
 * (common/core/ltb_stats.c). Reference values from statistical tables and, for
 * non-integer degrees of freedom, from mpmath at 30 digits.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ltb_stats.h"

#define assert_close(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* The median sorts its copy: odd counts take the middle, even ones the
 * mean of the middle two. */
static void
median_of_odd_and_even_counts(void **unused)
{
	double odd[] = { 0.3, 0.1, 0.2 }, even[] = { 4, 1, 3, 2 };

	assert_true(ltb_median(odd, 3) == 0.2);
	assert_true(odd[0] == 0.1 && odd[2] == 0.3);
	assert_true(ltb_median(even, 4) == 2.5);
	assert_true(isnan(ltb_median(even, 0)));
}

static void
mean_and_stddev_of_trials(void **unused)
{
	const double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };

	assert_close(ltb_mean(x, 8), 5.0, 1e-12);
	/* Sample (n - 1) deviation: sqrt(32 / 7). */
	assert_close(ltb_stddev(x, 8), sqrt(32.0 / 7.0), 1e-12);
	assert_close(ltb_mean(x, 1), 2.0, 0);
}

static void
no_spread_from_too_few_samples(void **unused)
{
	const double x[] = { 0.7 };

	assert_true(isnan(ltb_mean(x, 0)));
	assert_true(isnan(ltb_stddev(x, 1)));
	assert_true(isnan(ltb_stddev(x, 0)));
}

static void
stddev_does_not_cancel_close_values(void **unused)
{
	const double x[] = { 1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3 };

	assert_close(ltb_stddev(x, 3), 0.1, 1e-6);
}

static void
t_quantiles_match_the_tables(void **unused)
{
	static const struct {
		double p, df, t;
	} ref[] = {
		{ 0.975, 1, 12.7062047361747 },
		{ 0.975, 2, 4.30265272974946 },
		{ 0.975, 5, 2.57058183563631 },
		{ 0.975, 30, 2.04227245630124 },
		{ 0.975, 100, 1.98397151852355 },
		{ 0.975, 1000, 1.96233908082641 },
		{ 0.975, 1e6, 1.95996635681411 },
		{ 0.995, 3, 5.84090930973336 },
		{ 0.9, 4, 1.53320627405894 },
		/* Welch's degrees of freedom are rarely whole. */
		{ 0.975, 2.5, 3.57465484200368 },
		{ 0.975, 7.3, 2.3450667365477 },
	};
	size_t i;

	for (i = 0; i < sizeof ref / sizeof ref[0]; i++) {
		double t = ltb_t_quantile(ref[i].p, ref[i].df);

		assert_close(t, ref[i].t, 1e-9 * ref[i].t);
		/* And symmetric below the median. */
		assert_close(ltb_t_quantile(1 - ref[i].p, ref[i].df), -t,
		    1e-9 * ref[i].t);
	}
	assert_close(ltb_t_quantile(0.5, 3), 0, 0);
}

static void
t_quantile_beyond_the_table_is_normal(void **unused)
{
	assert_close(ltb_t_quantile(0.975, 1e9), 1.959963984540054, 1e-9);
}

static void
t_cdf_inverts_the_quantile(void **unused)
{
	assert_close(ltb_t_cdf(0, 4), 0.5, 1e-15);
	assert_close(ltb_t_cdf(12.7062047361747, 1), 0.975, 1e-12);
	assert_close(ltb_t_cdf(-2.57058183563631, 5), 0.025, 1e-12);
	assert_close(ltb_t_cdf(ltb_t_quantile(0.999, 3.7), 3.7), 0.999,
	    1e-12);
}

static void
t_quantile_rejects_bad_arguments(void **unused)
{
	assert_true(isnan(ltb_t_quantile(0, 5)));
	assert_true(isnan(ltb_t_quantile(1, 5)));
	assert_true(isnan(ltb_t_quantile(0.975, 0)));
	assert_true(isnan(ltb_t_quantile(0.975, -1)));
	assert_true(isnan(ltb_t_quantile(NAN, 5)));
	assert_true(isnan(ltb_t_cdf(1, 0)));
}

static void
welch_interval_with_equal_variances(void **unused)
{
	/* Both variances 1, n = 3: df = 4, se = sqrt(2/3), t = 2.776445. */
	const double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
	struct ltb_interval iv;
	double half = 2.77644510519779 * sqrt(2.0 / 3.0);

	assert_int_equal(ltb_welch_interval(a, 3, b, 3, 0.95, &iv), 0);
	assert_true(iv.known);
	assert_close(iv.est, -3, 1e-12);
	assert_close(iv.df, 4, 1e-12);
	assert_close(iv.lo, -3 - half, 1e-9);
	assert_close(iv.hi, -3 + half, 1e-9);
}

static void
welch_interval_with_unequal_variances(void **unused)
{
	/* Traced and NoOp CPU of a few trials; reference from mpmath. */
	const double traced[] = { 0.771, 0.764, 0.779, 0.768 };
	const double noop[] = { 0.702, 0.699, 0.705 };
	struct ltb_interval iv;

	assert_int_equal(ltb_welch_interval(traced, 4, noop, 3, 0.95, &iv),
	    0);
	assert_true(iv.known);
	assert_close(iv.est, 0.0685, 1e-12);
	assert_close(iv.df, 4.458667470605969, 1e-9);
	assert_close(iv.lo, 0.0588519524945832, 1e-9);
	assert_close(iv.hi, 0.0781480475054168, 1e-9);
}

static void
welch_interval_unknown_with_one_sample(void **unused)
{
	const double a[] = { 0.78 }, b[] = { 0.70, 0.71 };
	struct ltb_interval iv;

	assert_int_equal(ltb_welch_interval(a, 1, b, 2, 0.95, &iv), 0);
	assert_false(iv.known);
	assert_close(iv.est, 0.075, 1e-12);
	assert_true(isnan(iv.lo));
	assert_true(isnan(iv.hi));
	assert_true(isnan(iv.df));
	assert_int_equal(ltb_welch_interval(a, 1, b, 0, 0.95, &iv), -1);
	assert_int_equal(ltb_welch_interval(a, 1, b, 2, 1.5, &iv), -1);
}

static void
welch_interval_without_spread_is_a_point(void **unused)
{
	const double a[] = { 0.75, 0.75 }, b[] = { 0.5, 0.5, 0.5 };
	struct ltb_interval iv;

	assert_int_equal(ltb_welch_interval(a, 2, b, 3, 0.95, &iv), 0);
	assert_true(iv.known);
	assert_close(iv.lo, iv.est, 0);
	assert_close(iv.hi, iv.est, 0);
	assert_close(iv.df, 3, 0);
}

static void
mean_interval_of_trials(void **unused)
{
	const double x[] = { 1, 2, 3, 4, 5, 6 };
	struct ltb_interval iv;
	/* s = sqrt(3.5), t(0.975, 5) = 2.570582. */
	double half = 2.57058183563631 * sqrt(3.5) / sqrt(6.0);

	assert_int_equal(ltb_mean_interval(x, 6, 0.95, &iv), 0);
	assert_true(iv.known);
	assert_close(iv.est, 3.5, 1e-12);
	assert_close(iv.lo, 3.5 - half, 1e-9);
	assert_close(iv.hi, 3.5 + half, 1e-9);
	assert_int_equal(ltb_mean_interval(x, 1, 0.95, &iv), 0);
	assert_false(iv.known);
	assert_close(iv.est, 1, 0);
	assert_int_equal(ltb_mean_interval(x, 0, 0.95, &iv), -1);
}

static void
lerp_between_and_beyond(void **unused)
{
	assert_close(ltb_lerp(1000, 0.05, 2000, 0.15, 1500), 0.10, 1e-12);
	/* Swapping the axes finds where a line crosses a level. */
	assert_close(ltb_lerp(0.05, 1000, 0.15, 2000, 0.10), 1500, 1e-9);
	assert_close(ltb_lerp(0, 0, 10, 5, 20), 10, 1e-12);
	assert_close(ltb_lerp(3, 7, 3, 9, 3), 7, 0);
}

/* Values from the textbook formulas, with t(0.975, 3) = 3.182446305. */
static void
ols_slope_intercept_and_intervals(void **unused)
{
	const double x[] = { 1, 2, 3, 4, 5 };
	const double y[] = { 2.1, 3.9, 6.2, 7.8, 10.1 };
	struct ltb_fit f;

	assert_int_equal(ltb_ols(x, y, 5, 0.95, &f), 0);
	assert_true(f.known);
	assert_close(f.slope, 1.99, 1e-12);
	assert_close(f.intercept, 0.05, 1e-12);
	assert_close(f.slope_se, 0.05972157622389639, 1e-12);
	assert_close(f.slope_se_hc3, 0.06815348823929458, 1e-12);
	assert_close(f.slope_lo, 1.7999392904005083, 1e-8);
	assert_close(f.slope_hi, 2.1800607095994913, 1e-8);
	assert_close(f.intercept_lo, -0.5803600611302105, 1e-8);
	assert_close(f.intercept_hi, 0.6803600611302137, 1e-8);
	assert_close(f.df, 3, 0);
}

static void
ols_unknown_without_spread_in_x(void **unused)
{
	const double x[] = { 7, 7, 7, 7 }, y[] = { 1, 2, 3, 4 };
	struct ltb_fit f;

	assert_int_equal(ltb_ols(x, y, 4, 0.95, &f), 0);
	assert_false(f.known);
	assert_true(isnan(f.slope));
	assert_int_equal(ltb_ols(x, y, 2, 0.95, &f), 0);
	assert_false(f.known);
	assert_int_equal(ltb_ols(x, y, 4, 1.0, &f), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(median_of_odd_and_even_counts),
		cmocka_unit_test(mean_and_stddev_of_trials),
		cmocka_unit_test(no_spread_from_too_few_samples),
		cmocka_unit_test(stddev_does_not_cancel_close_values),
		cmocka_unit_test(t_quantiles_match_the_tables),
		cmocka_unit_test(t_quantile_beyond_the_table_is_normal),
		cmocka_unit_test(t_cdf_inverts_the_quantile),
		cmocka_unit_test(t_quantile_rejects_bad_arguments),
		cmocka_unit_test(welch_interval_with_equal_variances),
		cmocka_unit_test(welch_interval_with_unequal_variances),
		cmocka_unit_test(welch_interval_unknown_with_one_sample),
		cmocka_unit_test(welch_interval_without_spread_is_a_point),
		cmocka_unit_test(mean_interval_of_trials),
		cmocka_unit_test(lerp_between_and_beyond),
		cmocka_unit_test(ols_slope_intercept_and_intervals),
		cmocka_unit_test(ols_unknown_without_spread_in_x),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
