/*
 * ltb_gates.h: result records in, gate verdicts out (ltb-assert's logic).
 *
 * ltb-assert loads every "result" record into a struct ltb_results, then
 * evaluates each gate of its command line into a struct ltb_verdict, which
 * becomes a "verdict" record (ltb_verdict_record) and a JUnit test case
 * (ltb_verdicts_junit). The gates are the original regression tests made
 * general:
 *
 *   max-cpu            every traced run's cpu_usage <= limit (all runs when
 *                      none is traced)
 *   max-dropped        every traced run's dropped <= limit
 *   max-dropped-ratio  every traced run's dropped / spans_sent <= limit
 *   max-invalid        every traced run's spans_invalid <= limit
 *   max-overhead       at each target_sps with traced and NoOp runs, mean
 *                      traced minus mean NoOp cpu_usage <= limit; Welch 95%
 *                      interval and CPU-ns per span per rate. Where the
 *                      traced runs did not hold the NoOp runs' pace (a
 *                      tracer that waits on its sends), CPU-seconds per
 *                      second at the traced runs' pace on both sides
 *                      instead: NoOp's cpu_usage is of another pace
 *   max-ns-per-span    the tracer's CPU-ns per span, the slope of paired
 *                      extra CPU against spans (judge/ltb_cost.h), with
 *                      its 95% interval: passes when the whole interval
 *                      is <= limit, fails when all of it is above,
 *                      inconclusive otherwise
 *   max-regression     this input's cost per span against a baseline
 *                      input's: fails only when the relative increase is
 *                      resolved (its interval's low end) above limit;
 *                      inconclusive when it looks above but is not
 *                      resolved, when either cost is not resolved from
 *                      zero, or when the interval is wider than
 *                      max_halfwidth either side; passes otherwise. CPU at each rate, memory
 *                      and drops are compared and reported beside it.
 *                      Refused between different machines' results.
 *   max-memory-growth  at each target_sps with two runtimes or more, mean
 *                      memory_last of the longest runtime over that of the
 *                      shortest <= limit (traced runs)
 *   min-throughput     the achieved rate (mean traced sps) at which the
 *                      overhead first exceeds at_overhead, interpolated
 *                      linearly between rates (from 0 sps, 0 overhead below
 *                      the lowest rate), >= limit; the highest rate
 *                      measured when the overhead never exceeds it. A
 *                      rate the traced runs could not hold (lagged) ends
 *                      the walk like an overhead above at_overhead: the
 *                      throughput is at most the rate held below it
 *   expect             every run's FIELD OP VALUE holds
 *   plan               the input is whole: it ends with plan_end records
 *                      (one per ltb-sample), each complete, with as many
 *                      results as they planned, none failed. A plan that
 *                      stopped because its calibration was inconclusive
 *                      makes the verdict inconclusive.
 *
 * A failed run (a non-empty "error", or a non-zero exit_status) fails every
 * gate that uses it, and the verdict's detail carries its error. Input that
 * cannot answer a gate (a result without a field the gate needs, no
 * traced runs, no rate with two runtimes) is not a verdict but an error:
 * ltb_gate_eval returns -1 with a message naming the file and line.
 */
#ifndef LTB_GATES_H
#define LTB_GATES_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

enum ltb_gate_kind {
	LTB_GATE_MAX_CPU,
	LTB_GATE_MAX_DROPPED,
	LTB_GATE_MAX_DROPPED_RATIO,
	LTB_GATE_MAX_INVALID,
	LTB_GATE_MAX_OVERHEAD,
	LTB_GATE_MAX_MEMORY_GROWTH,
	LTB_GATE_MAX_NS_PER_SPAN,
	LTB_GATE_MAX_REGRESSION,
	LTB_GATE_MIN_THROUGHPUT,	/* the last gate with a flag of its own */
	LTB_GATE_EXPECT,
	LTB_GATE_PLAN			/* every gate run checks it first */
};

/* The gate's name in verdicts, "max-cpu"; its flag is "--" and the name. */
const char *ltb_gate_name(enum ltb_gate_kind kind);

enum ltb_op { LTB_OP_EQ, LTB_OP_NE, LTB_OP_LT, LTB_OP_LE, LTB_OP_GT,
	LTB_OP_GE };

enum ltb_expect_type { LTB_EXPECT_NUMBER, LTB_EXPECT_BOOL,
	LTB_EXPECT_STRING, LTB_EXPECT_NULL };

/* One --expect 'FIELD OP VALUE'. */
struct ltb_expect {
	char field[64];		/* a top-level field of result records */
	enum ltb_op op;
	enum ltb_expect_type type;
	double num;		/* LTB_EXPECT_NUMBER */
	int boolean;		/* LTB_EXPECT_BOOL */
	char str[256];		/* LTB_EXPECT_STRING, without quotes */
	char text[384];		/* normalised: "exit_status == 0" */
};

/*
 * Parse s, "FIELD OP VALUE" with OP one of == != < <= > >= (spaces around
 * OP optional). VALUE is a number, true, false, null, or a string, quoted
 * with '' or "" or bare. Only == and != apply to strings, booleans and
 * null. Returns 0, or -1 with a reason in *why (a static string).
 */
int ltb_expect_parse(const char *s, struct ltb_expect *e, const char **why);

struct ltb_results;

/* A gate to check: kind, limit (the flag's value), and for min-throughput
 * at_overhead, for expect the expression, for max-regression the baseline.
 * max_noise (CPU, 0: not checked) makes max-ns-per-span and max-regression
 * inconclusive when other processes and steal took more than that much
 * CPU on average during the runs they use. */
struct ltb_gate {
	enum ltb_gate_kind kind;
	double limit;
	double at_overhead;
	struct ltb_expect expect;
	const struct ltb_results *baseline;	/* borrowed */
	const char *baseline_name;
	int allow_different_machine;
	double max_noise;
	double max_halfwidth;	/* max-regression: the widest interval (its
				 * relative half-width) a pass may rest on */
};

/* One result record, with the fields the gates read. Numbers absent, null
 * or not numbers are NAN; trace is -1 when absent or not a boolean. */
struct ltb_result {
	cJSON *rec;		/* owned: the whole record, for --expect */
	const char *src;	/* borrowed: file name for messages */
	unsigned long line;
	const char *client;	/* in rec; "?" when absent */
	const char *unit;	/* static: "span", "measurement", ...
				 * (records/ltb_records.h, ltb_unit) */
	int trace;
	double target_sps;
	double runtime;
	double trial;
	double spans_sent;
	double dropped;
	double spans_invalid;
	double cpu_usage;
	double sps;
	double memory_last;
	double memory_max;
	double program_time;
	double clock_time;
	double pair;		/* NAN when absent */
	int arm;		/* -1 absent, 0 "base", 1 "test" */
	double planted_ns;
	double noise_cpu_s;	/* noise.other_cpu_s + noise.steal_s, or NAN */
	const char *label;	/* in rec; "" when absent */
	const cJSON *fingerprint;	/* in rec, or NULL */
	int failed;		/* error set or exit_status non-zero */
	const char *error;	/* in rec: "error", or NULL */
	double exit_status;
};

/* What the plan_end records of the input said, summed. */
struct ltb_plan_tally {
	size_t ends;		/* plan_end records read */
	double planned, runs, failed;
	size_t incomplete;	/* of them, "complete": false */
	size_t inconclusive;	/* of those, stopped by an inconclusive step */
	char why[512];		/* the first incomplete one's "why" */
	char missing[512];	/* its "missing" runs, joined */
};

struct ltb_results {
	struct ltb_result *v;
	size_t n;
	size_t cap;
	struct ltb_plan_tally plan;
};

#define LTB_RESULTS_ZERO { NULL, 0, 0, { 0 } }

/* Add a result or plan_end record (other types are freed and skipped).
 * Takes rec (also on failure); borrows src, which must outlive rs. Returns
 * 0, or -1 with errno ENOMEM. */
int ltb_results_add(struct ltb_results *rs, cJSON *rec, const char *src,
    unsigned long line);

void ltb_results_free(struct ltb_results *rs);

/* Per-rate figures of max-overhead, min-throughput (overhead fields) and
 * max-memory-growth (memory fields). NAN where unknown. */
struct ltb_rate {
	double target_sps;
	size_t ntraced;		/* successful runs on each side */
	size_t nnoop;
	double traced_cpu;	/* means */
	double noop_cpu;
	double overhead;	/* traced_cpu - noop_cpu */
	double lo;		/* Welch 95% interval of overhead, and its df */
	double hi;
	double df;
	double sps;		/* mean achieved sps of the traced runs */
	double noop_sps;	/* and of the NoOp runs */
	/* The traced runs held less than LTB_HELD_PACE (ltb_stats.h) of
	 * the NoOp runs' rate: the tracer waited (a synchronous send),
	 * which stretches their clock, so NoOp's cpu_usage is of another
	 * pace. Then both sides' figures, and overhead, are CPU-seconds per
	 * second at the traced runs' pace (program_time * sps /
	 * spans_sent): overhead is the tracer's CPU a span times the spans
	 * it made a second. */
	int lagged;
	double ns_per_span;	/* overhead * 1e9 / sps: tracer CPU-ns a span */
	double short_runtime;
	double long_runtime;
	double short_memory;	/* mean memory_last at each runtime */
	double long_memory;
	double growth;		/* long_memory / short_memory */
};

struct ltb_cost;

struct ltb_verdict {
	const struct ltb_gate *gate;	/* borrowed */
	struct ltb_cost *cost;	/* owned: the cost per span, when fitted */
	struct ltb_cost *base_cost;	/* owned: max-regression's baseline */
	double change_ns, change_lo, change_hi;	/* max-regression */
	double rel_lo, rel_hi;	/* value's interval (max-regression) */
	double noise;		/* mean noise CPU over the runs used */
	char name[400];		/* "max-cpu", "expect exit_status == 0" */
	double value;		/* NAN: none (every run it used failed) */
	double limit;		/* plan: the runs planned (NAN: unknown) */
	const cJSON *value_item; /* expect: the value as found, or NULL */
	int pass;
	int inconclusive;	/* neither pass nor fail: "pass":"inconclusive" */
	int reached;		/* min-throughput: overhead exceeded at_overhead */
	size_t runs;		/* results the gate used */
	size_t failed;		/* failed runs among them */
	size_t failing;		/* expect: runs where it does not hold */
	const struct ltb_result *worst;	/* borrowed; the run named, or NULL */
	const struct ltb_result *first_failed;
	char summary[256];	/* "0.742 <= 0.8" */
	char detail[768];	/* "worst: c traced 500 sps trial 1" */
	struct ltb_rate *rates;	/* owned */
	size_t nrates;
	const char *unit;	/* static: what the runs counted ("span",
				 * "measurement"), the word of its texts */
};

/*
 * The one unit the results of rs count (a static string; "span" when
 * there are none). 0, or -1 with errno EINVAL and a message in err naming
 * two results that count different ones: ns per span and ns per
 * measurement are not one figure.
 */
int ltb_results_unit(const struct ltb_results *rs, const char **unit,
    char *err, size_t errlen);

/*
 * Evaluate gate g over rs into *v (ltb_verdict_free it). Borrows g and rs,
 * which must outlive *v. Returns 0, or -1 with a message in err: errno
 * EINVAL when the input cannot answer the gate ("results.jsonl:4: result
 * has no \"cpu_usage\" (needed by --max-cpu)", results in two units),
 * ENOMEM otherwise. The texts say the results' unit ("ns/measurement").
 */
int ltb_gate_eval(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen);

void ltb_verdict_free(struct ltb_verdict *v);

/*
 * A verdict for gate g that could not be judged because the plan did not
 * finish (plan, the plan gate's verdict, did not pass): not passed, and
 * inconclusive when the plan was; why is the input's shortfall. Borrows g
 * and plan.
 */
void ltb_verdict_unjudged(const struct ltb_gate *g,
    const struct ltb_verdict *plan, const char *why, struct ltb_verdict *v);

/* The verdict record {"type":"verdict","v":1,"gate":...,"value":...,
 * "limit":...,"pass":...,"detail":...} with the gate's own fields; the
 * caller owns it. NULL when out of memory. */
cJSON *ltb_verdict_record(const struct ltb_verdict *v);

/* "PASS max-cpu: 0.742 <= 0.8 (worst: c traced 500 sps trial 1)", the
 * human line, into buf. */
void ltb_verdict_line(const struct ltb_verdict *v, char *buf, size_t len);

/* JUnit XML on f: one testsuite "ltb-assert", one testcase per verdict, a
 * <failure> for each that failed. Text is escaped, and bytes XML cannot
 * carry (controls, bad UTF-8) become '?'. Returns 0, or -1 with errno
 * when writing failed; does not close f. */
int ltb_verdicts_junit(FILE *f, const struct ltb_verdict *v, size_t n);

#endif
