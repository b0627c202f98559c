/*
 * ltb_stats.h: the few statistics ltb's gates and graphs need.
 *
 * Means and sample standard deviations of trials, Student's t quantiles
 * (for any real degrees of freedom, through the regularized incomplete
 * beta function), the 95% interval of a mean and Welch's interval for the
 * difference of two means (traced minus NoOp CPU), and linear
 * interpolation, and a least-squares line with intervals (a tracer's cost
 * per span). ltb-assert's gates and ltb-plot's spread both use them.
 *
 * Nothing here allocates. Where a figure cannot be computed (no samples,
 * one sample for a spread, degrees of freedom out of range) the result is
 * NAN, so callers can print it as null.
 */
#ifndef LTB_STATS_H
#define LTB_STATS_H

#include <stddef.h>

/* A tracer whose traced runs make fewer than LTB_HELD_PACE of the NoOp
 * runs' spans a second has not held the planned rate: it waited (on a
 * synchronous send), which stretched its runs, so NoOp's cpu_usage is of
 * another pace. Gates and graphs then compare CPU-seconds per second at
 * the traced runs' pace, program_time * sps / spans_sent, instead. */
#define LTB_HELD_PACE 0.8

/* Did traced runs making traced_sps fall behind NoOp runs making
 * noop_sps? */
int ltb_fell_behind(double traced_sps, double noop_sps);
/* A run's CPU-seconds per second at pace spans a second: it took
 * program_time CPU-seconds for spans spans. */
double ltb_cpu_at_pace(double program_time, double spans, double pace);

/* qsort's comparison of doubles, ascending. */
int ltb_cmp_double(const void *a, const void *b);

/* Median of x[0..n-1], which it sorts; the mean of the middle two when n
 * is even; NAN when n is 0. */
double ltb_median(double *x, size_t n);

/* Mean of x[0..n-1]; NAN when n is 0. */
double ltb_mean(const double *x, size_t n);

/* Sample standard deviation (n - 1 in the denominator); NAN when n < 2. */
double ltb_stddev(const double *x, size_t n);

/* Student's t distribution with df degrees of freedom (df > 0, real):
 * P(T <= t). NAN for a bad df. */
double ltb_t_cdf(double t, double df);

/* The p quantile of Student's t with df degrees of freedom, 0 < p < 1,
 * df > 0 and real: ltb_t_quantile(0.975, 5) is 2.5706. Accurate to about
 * 1e-9 relative. NAN for p or df out of range. */
double ltb_t_quantile(double p, double df);

/* An interval around an estimate. When it cannot be computed (too few
 * samples) known is 0 and lo, hi and df are NAN; est is still set when
 * there is any sample on each side. */
struct ltb_interval {
	double est;	/* the estimate: a mean, or a difference of means */
	double lo;
	double hi;
	double df;	/* degrees of freedom of the t quantile used */
	int known;
};

/* The conf (0.95) interval of the mean of x[0..n-1]: mean +- t * s/sqrt(n),
 * df = n - 1. Unknown when n < 2. Returns 0, or -1 when n is 0 or conf is
 * not in (0, 1) (*out is then all NAN). */
int ltb_mean_interval(const double *x, size_t n, double conf,
    struct ltb_interval *out);

/* Welch's conf interval for mean(a) - mean(b), without assuming equal
 * variances (Welch-Satterthwaite degrees of freedom). Unknown when either
 * side has fewer than 2 samples; when both sides have no spread at all the
 * interval is the point [d, d] with df = na + nb - 2. Returns 0, or -1 when
 * a side is empty or conf is not in (0, 1). */
int ltb_welch_interval(const double *a, size_t na, const double *b,
    size_t nb, double conf, struct ltb_interval *out);

/*
 * Ordinary least squares y = a + b x over n points, with conf intervals of
 * the slope b and the intercept a from their standard errors and Student's
 * t with n - 2 degrees of freedom. slope_se_hc3 is the slope's HC3
 * standard error (MacKinnon and White), which stays honest when the noise
 * grows with x; the intervals use the classical one. known is 0 (and the figures NAN) with
 * fewer than 3 points or when every x is the same.
 */
struct ltb_fit {
	double slope, slope_lo, slope_hi, slope_se;
	double slope_se_hc3;	/* heteroscedasticity-consistent (HC3) */
	double intercept, intercept_lo, intercept_hi, intercept_se;
	double resid_sd;	/* sqrt(residual sum of squares / (n - 2)) */
	double df;
	int known;
};

/* Returns 0, or -1 when conf is not in (0, 1). */
int ltb_ols(const double *x, const double *y, size_t n, double conf,
    struct ltb_fit *out);

/* The y at x on the line through (x0, y0) and (x1, y1); y0 when x0 == x1.
 * Extrapolates outside [x0, x1]. */
double ltb_lerp(double x0, double y0, double x1, double y1, double x);

#endif
