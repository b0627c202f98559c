/*
 * ltb_stats.c: means, spreads, Student's t and Welch's interval; see
 * ltb_stats.h.
 *
 * The t distribution goes through the regularized incomplete beta function
 * (a continued fraction evaluated with Lentz's method), so Welch's
 * non-integer degrees of freedom need no table; the quantile is found by
 * bisection on the distribution function, which is monotonic and cheap.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "core/ltb_stats.h"

/* Beyond this many degrees of freedom t is the normal distribution to
 * better than 1e-7, and the continued fraction would need thousands of
 * terms. */
#define DF_NORMAL 1e7

int
ltb_fell_behind(double traced_sps, double noop_sps)
{
	return traced_sps < LTB_HELD_PACE * noop_sps;
}

double
ltb_cpu_at_pace(double program_time, double spans, double pace)
{
	return program_time * pace / spans;
}

int
ltb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
ltb_median(double *x, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(x, n, sizeof *x, ltb_cmp_double);
	return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

double
ltb_mean(const double *x, size_t n)
{
	double sum = 0;
	size_t i;

	if (n == 0)
		return NAN;
	for (i = 0; i < n; i++)
		sum += x[i];
	return sum / (double)n;
}

double
ltb_stddev(const double *x, size_t n)
{
	double m, ss = 0;
	size_t i;

	if (n < 2)
		return NAN;
	/* Two passes: the sum of squares about the mean, not the mean of
	 * squares minus the squared mean, which cancels badly for CPU
	 * fractions that agree to several digits. */
	m = ltb_mean(x, n);
	for (i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	return sqrt(ss / (double)(n - 1));
}

/* The continued fraction of the incomplete beta function I_x(a, b), by the
 * modified Lentz method; converges fast for x < (a + 1) / (a + b + 2). */
static double
betacf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-16;
	double c = 1, d, h, aa, del;
	int m;

	d = 1 - (a + b) * x / (a + 1);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (m = 1; m <= 100000; m++) {
		double m2 = 2.0 * m;

		aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

/* The regularized incomplete beta function I_x(a, b), given x and y = 1 - x
 * separately so that an x close to 1 loses no digits. */
static double
betai(double a, double b, double x, double y)
{
	double lbt;

	if (x <= 0)
		return 0;
	if (y <= 0)
		return 1;
	lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y);
	if (x < (a + 1) / (a + b + 2))
		return exp(lbt) * betacf(a, b, x) / a;
	return 1 - exp(lbt) * betacf(b, a, y) / b;
}

double
ltb_t_cdf(double t, double df)
{
	double tail;

	if (!(df > 0) || isnan(t))
		return NAN;
	if (isinf(t))
		return t > 0 ? 1 : 0;
	if (df > DF_NORMAL)
		return 0.5 * erfc(-t / sqrt(2.0));
	/* P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2). */
	tail = 0.5 * betai(df / 2, 0.5, df / (df + t * t),
	    t * t / (df + t * t));
	return t > 0 ? 1 - tail : tail;
}

double
ltb_t_quantile(double p, double df)
{
	double lo = 0, hi = 1;
	int i;

	if (!(p > 0 && p < 1) || !(df > 0) || isinf(df))
		return NAN;
	if (p < 0.5)
		return -ltb_t_quantile(1 - p, df);
	if (p == 0.5)
		return 0;
	/* Bracket, then halve: the distribution function is increasing. */
	while (ltb_t_cdf(hi, df) < p) {
		lo = hi;
		hi *= 2;
		if (isinf(hi))
			return NAN;
	}
	for (i = 0; i < 400 && hi - lo > 1e-14 * hi; i++) {
		double mid = lo + (hi - lo) / 2;

		if (ltb_t_cdf(mid, df) < p)
			lo = mid;
		else
			hi = mid;
	}
	return lo + (hi - lo) / 2;
}

static void
interval_unknown(struct ltb_interval *out, double est)
{
	out->est = est;
	out->lo = out->hi = out->df = NAN;
	out->known = 0;
}

int
ltb_mean_interval(const double *x, size_t n, double conf,
    struct ltb_interval *out)
{
	double half;

	interval_unknown(out, NAN);
	if (n == 0 || !(conf > 0 && conf < 1))
		return -1;
	out->est = ltb_mean(x, n);
	if (n < 2)
		return 0;
	out->df = (double)(n - 1);
	half = ltb_t_quantile(1 - (1 - conf) / 2, out->df) *
	    ltb_stddev(x, n) / sqrt((double)n);
	out->lo = out->est - half;
	out->hi = out->est + half;
	out->known = 1;
	return 0;
}

int
ltb_welch_interval(const double *a, size_t na, const double *b,
    size_t nb, double conf, struct ltb_interval *out)
{
	double sa, sb, se2, half;

	interval_unknown(out, NAN);
	if (na == 0 || nb == 0 || !(conf > 0 && conf < 1))
		return -1;
	out->est = ltb_mean(a, na) - ltb_mean(b, nb);
	if (na < 2 || nb < 2)
		return 0;
	/* Each side's variance of its mean. */
	sa = ltb_stddev(a, na);
	sb = ltb_stddev(b, nb);
	sa = sa * sa / (double)na;
	sb = sb * sb / (double)nb;
	se2 = sa + sb;
	out->known = 1;
	if (se2 == 0) {
		/* Identical trials on both sides: no spread to speak of. */
		out->lo = out->hi = out->est;
		out->df = (double)(na + nb - 2);
		return 0;
	}
	out->df = se2 * se2 /
	    (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
	half = ltb_t_quantile(1 - (1 - conf) / 2, out->df) * sqrt(se2);
	out->lo = out->est - half;
	out->hi = out->est + half;
	return 0;
}

double
ltb_lerp(double x0, double y0, double x1, double y1, double x)
{
	if (x0 == x1)
		return y0;
	return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

int
ltb_ols(const double *x, const double *y, size_t n, double conf,
    struct ltb_fit *out)
{
	double mx, my, sxx = 0, sxy = 0, ssr = 0, hc3 = 0, t, s2;
	size_t i;

	out->slope = out->slope_lo = out->slope_hi = out->slope_se = NAN;
	out->slope_se_hc3 = NAN;
	out->intercept = out->intercept_lo = out->intercept_hi = NAN;
	out->intercept_se = out->resid_sd = out->df = NAN;
	out->known = 0;
	if (!(conf > 0 && conf < 1))
		return -1;
	if (n < 3)
		return 0;
	mx = ltb_mean(x, n);
	my = ltb_mean(y, n);
	for (i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (!(sxx > 0))
		return 0;
	out->slope = sxy / sxx;
	out->intercept = my - out->slope * mx;
	for (i = 0; i < n; i++) {
		double r = y[i] - out->intercept - out->slope * x[i];
		double d = x[i] - mx, h = 1.0 / (double)n + d * d / sxx;

		ssr += r * r;
		/* HC3: each residual inflated by its leverage */
		hc3 += d * d * r * r / ((1 - h) * (1 - h));
	}
	out->slope_se_hc3 = sqrt(hc3) / sxx;
	out->df = (double)n - 2;
	s2 = ssr / out->df;
	out->resid_sd = sqrt(s2);
	out->slope_se = sqrt(s2 / sxx);
	out->intercept_se = sqrt(s2 * (1.0 / (double)n + mx * mx / sxx));
	t = ltb_t_quantile(0.5 + conf / 2, out->df);
	out->slope_lo = out->slope - t * out->slope_se;
	out->slope_hi = out->slope + t * out->slope_se;
	out->intercept_lo = out->intercept - t * out->intercept_se;
	out->intercept_hi = out->intercept + t * out->intercept_se;
	out->known = 1;
	return 0;
}
