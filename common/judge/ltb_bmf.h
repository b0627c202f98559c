/*
 * ltb_bmf.h: verdicts' figures as Bencher Metric Format (ltb-assert --bmf).
 *
 * The services that track benchmarks over time (Bencher, and with a jq
 * conversion github-action-benchmark) read neither ltb's records nor
 * JUnit. BMF is one JSON object of benchmarks, each an object of measures,
 * each {"value": V, "lower_value": L, "upper_value": U}:
 *
 *   {"c/max-cpu": {"cpu_usage": {"value": 0.771}},
 *    "c/max-ns-per-span": {"ns_per_span": {"value": 2028,
 *        "lower_value": 1950, "upper_value": 2106}, ...}, ...}
 *
 * A benchmark is CLIENT/GATE for a gate's own figure (its verdict's
 * "value"), CLIENT/GATE/RATEsps for a per-rate figure (the verdict's
 * "rates"), and CLIENT/min-throughput@X for the throughput at overhead X,
 * since another X is another question. CLIENT is the results' client, or
 * their clients joined by "+". A measure is the figure's name with its
 * unit, in the results' unit ("ns_per_span", "ns_per_measurement"):
 *
 *   max-cpu            cpu_usage (the worst traced run's)
 *   max-dropped        dropped_spans            max-invalid  invalid_spans
 *   max-dropped-ratio  dropped_ratio
 *   max-overhead       cpu_overhead (the worst rate's), ns_per_span (the
 *                      fitted cost, when the runs pair at two rates);
 *                      per rate cpu_overhead (Welch 95% interval) and
 *                      ns_per_span
 *   max-memory-growth  memory_growth; per rate memory_growth
 *   max-ns-per-span    ns_per_span, fixed_cost_s (the intercept)
 *   max-regression     relative_change (+0.1 is 10% more), ns_per_span,
 *                      baseline_ns_per_span, ns_per_span_change
 *   min-throughput     spans_per_second
 *
 * lower_value and upper_value are the figure's 95% interval, where the
 * verdict has one, and are left out where it has none. A figure of a
 * failed or inconclusive verdict is written (it was measured); a figure
 * that is unknown (every run it used failed, an infinite ratio) is left
 * out, never written as 0. The plan and expect gates carry no figure of
 * the tracer (a count of runs; a field the user named) and are not written.
 */
#ifndef LTB_BMF_H
#define LTB_BMF_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "judge/ltb_gates.h"

/* The BMF object of verdicts v[0..n-1], judged over rs (whose clients name
 * the benchmarks); the caller owns it. NULL with errno ENOMEM. */
cJSON *ltb_bmf(const struct ltb_verdict *v, size_t n,
    const struct ltb_results *rs);

/* That object, printed, on f. Returns 0, or -1 with errno when building or
 * writing failed; does not close f. */
int ltb_bmf_write(FILE *f, const struct ltb_verdict *v, size_t n,
    const struct ltb_results *rs);

#endif
