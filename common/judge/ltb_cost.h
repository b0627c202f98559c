/*
 * ltb_cost.h: a tracer's CPU cost per span, from paired runs.
 *
 * Traced minus NoOp cpu_usage at one rate is mostly noise: cpu_usage
 * divides by a clock time that sleep jitter moves, and one rate cannot
 * tell a fixed cost (loading, connecting, the last flush) from a cost per
 * span. So a pair is the two runs of one (rate, trial) group, the "test"
 * arm (traced) and the "base" arm (NoOp, or in an A/A plan the same
 * tracer again), and its extra CPU is test program_time minus base
 * program_time. Over all pairs, at every rate, ordinary least squares
 * fits
 *
 *     extra CPU-seconds = intercept + slope * spans
 *
 * The slope is the cost per span and the intercept the fixed cost per
 * run, each with a 95% interval from its standard error and Student's t
 * with npairs - 2 degrees of freedom. The slope's standard error is the
 * larger of the classical and the HC3 estimate: the noise of a pair grows
 * with its rate, and the classical one alone then claims too much. Pairs come from the records'
 * "pair" and "arm" fields; records without them (older plans) pair by
 * target_sps and trial, traced against NoOp.
 */
#ifndef LTB_COST_H
#define LTB_COST_H

#include <stddef.h>

#include "judge/ltb_gates.h"

/* One pair: its spans (the test run's spans_sent) and extra CPU. */
struct ltb_cost_pair {
	double spans;
	double extra_s;
	double target_sps;
	const struct ltb_result *test;	/* borrowed */
	const struct ltb_result *base;
};

struct ltb_cost {
	struct ltb_cost_pair *pairs;	/* owned; ltb_cost_free */
	size_t npairs;
	size_t unpaired;	/* successful runs without a partner */
	size_t failed;		/* pairs left out because a run failed */
	int known;		/* >= 3 pairs over >= 2 span counts */
	double ns_per_span;	/* the slope, CPU-ns per span */
	double lo, hi;		/* its 95% interval */
	double se;		/* its standard error, ns */
	double intercept_s;	/* fixed extra CPU-seconds per run */
	double intercept_lo, intercept_hi;
	double df;		/* npairs - 2 */
	double resid_sd;	/* the residuals' spread, CPU-seconds */
	int resolved;		/* the slope's interval excludes 0 */
	const char *method;	/* "ols": static */
	const char *unit;	/* static: what a pair's spans count, the
				 * unit of its results ("span", ...) */
};

/*
 * Fit the cost over the successful runs of rs. Returns 0 with *c filled
 * (known is 0 when there are too few pairs: then the figures are NAN), or
 * -1 with errno ENOMEM, or EINVAL and a message in err when a record
 * lacks a field the fit needs (program_time, spans_sent).
 */
int ltb_cost_fit(const struct ltb_results *rs, struct ltb_cost *c,
    char *err, size_t errlen);

void ltb_cost_free(struct ltb_cost *c);

/* "1903 ns/span (95% CI 1701 to 2105, OLS over 9 pairs)", or, when the
 * interval holds 0, "not resolved: -300 to 800 ns/span over 9 pairs (more
 * rates or longer runs would resolve it)"; in c's unit ("ns/measurement"). */
void ltb_cost_line(const struct ltb_cost *c, char *buf, size_t len);

#endif
