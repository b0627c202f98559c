/*
 * test_gates.c: loading results and judging gates (common/judge/ltb_gates.c).
 *
 * Each test builds a few result records the way ltb-sample writes them and
 * checks the verdict's figures, its pass or fail, and its words.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "judge/ltb_gates.h"
#include "core/ltb_stats.h"

#define assert_close(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))
#define NONE NAN

static unsigned long lineno;

/* One run as ltb-sample reports it; NONE leaves a field out. */
static void
run(struct ltb_results *rs, int trace, double sps, double runtime,
    int trial, double cpu, double achieved, double dropped, double mem)
{
	cJSON *o = cJSON_CreateObject();

	assert_non_null(o);
	cJSON_AddStringToObject(o, "type", "result");
	cJSON_AddNumberToObject(o, "v", 1);
	cJSON_AddStringToObject(o, "client", "c");
	cJSON_AddBoolToObject(o, "trace", trace);
	cJSON_AddNumberToObject(o, "target_sps", sps);
	cJSON_AddNumberToObject(o, "runtime", runtime);
	cJSON_AddNumberToObject(o, "trial", trial);
	cJSON_AddNumberToObject(o, "spans_sent", sps * runtime);
	if (!trace)
		cJSON_AddNullToObject(o, "dropped");
	else if (!isnan(dropped))
		cJSON_AddNumberToObject(o, "dropped", dropped);
	if (!isnan(cpu))
		cJSON_AddNumberToObject(o, "cpu_usage", cpu);
	if (!isnan(achieved))
		cJSON_AddNumberToObject(o, "sps", achieved);
	if (!isnan(mem))
		cJSON_AddNumberToObject(o, "memory_last", mem);
	cJSON_AddNumberToObject(o, "exit_status", 0);
	assert_int_equal(ltb_results_add(rs, o, "t.jsonl", ++lineno), 0);
}

static void
raw(struct ltb_results *rs, const char *json)
{
	cJSON *o = cJSON_Parse(json);

	assert_non_null(o);
	assert_int_equal(ltb_results_add(rs, o, "t.jsonl", ++lineno), 0);
}

static int
setup(void **state)
{
	struct ltb_results *rs = calloc(1, sizeof *rs);

	lineno = 0;
	*state = rs;
	return rs == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	ltb_results_free(*state);
	free(*state);
	return 0;
}

static struct ltb_gate
gate(enum ltb_gate_kind kind, double limit)
{
	struct ltb_gate g;

	memset(&g, 0, sizeof g);
	g.kind = kind;
	g.limit = limit;
	return g;
}

static void
expect_parse_reads_every_form(void **unused)
{
	struct ltb_expect e;
	const char *why = NULL;

	assert_int_equal(ltb_expect_parse("exit_status == 0", &e, &why), 0);
	assert_string_equal(e.field, "exit_status");
	assert_int_equal(e.op, LTB_OP_EQ);
	assert_int_equal(e.type, LTB_EXPECT_NUMBER);
	assert_close(e.num, 0, 0);
	assert_string_equal(e.text, "exit_status == 0");

	assert_int_equal(ltb_expect_parse("cpu_usage<=0.8", &e, &why), 0);
	assert_int_equal(e.op, LTB_OP_LE);
	assert_close(e.num, 0.8, 0);

	assert_int_equal(ltb_expect_parse(" trace != false ", &e, &why), 0);
	assert_int_equal(e.op, LTB_OP_NE);
	assert_int_equal(e.type, LTB_EXPECT_BOOL);
	assert_int_equal(e.boolean, 0);

	assert_int_equal(ltb_expect_parse("label == 'two words'", &e, &why),
	    0);
	assert_int_equal(e.type, LTB_EXPECT_STRING);
	assert_string_equal(e.str, "two words");

	/* Quoted digits stay a string; bare words are strings too. */
	assert_int_equal(ltb_expect_parse("label == \"1\"", &e, &why), 0);
	assert_int_equal(e.type, LTB_EXPECT_STRING);
	assert_string_equal(e.str, "1");
	assert_int_equal(ltb_expect_parse("client == python", &e, &why), 0);
	assert_int_equal(e.type, LTB_EXPECT_STRING);
	assert_string_equal(e.str, "python");

	assert_int_equal(ltb_expect_parse("error == null", &e, &why), 0);
	assert_int_equal(e.type, LTB_EXPECT_NULL);
}

static void
expect_parse_rejects_nonsense(void **unused)
{
	struct ltb_expect e;
	const char *why = NULL;

	assert_int_equal(ltb_expect_parse("", &e, &why), -1);
	assert_non_null(why);
	assert_int_equal(ltb_expect_parse("== 3", &e, &why), -1);
	assert_int_equal(ltb_expect_parse("cpu_usage ~ 3", &e, &why), -1);
	assert_non_null(strstr(why, "OP"));
	assert_int_equal(ltb_expect_parse("cpu_usage <", &e, &why), -1);
	assert_int_equal(ltb_expect_parse("trace < true", &e, &why), -1);
	assert_int_equal(ltb_expect_parse("client > 'c'", &e, &why), -1);
}

static void
max_cpu_names_the_worst_traced_run(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v;
	char err[256];

	run(rs, 0, 500, 10, 0, 0.95, 499, NONE, NONE); /* NoOp: not counted */
	run(rs, 1, 500, 10, 0, 0.764, 499, 0, NONE);
	run(rs, 1, 500, 10, 1, 0.771, 499, 0, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_close(v.value, 0.771, 0);
	assert_int_equal(v.runs, 2);
	assert_string_equal(v.summary, "0.771 <= 0.8");
	assert_string_equal(v.detail, "worst: c traced 500 sps trial 1");
	ltb_verdict_free(&v);

	g.limit = 0.77;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_string_equal(v.summary, "0.771 > 0.77");
	ltb_verdict_free(&v);
}

static void
max_cpu_without_traced_runs_checks_all(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v;
	char err[256];

	run(rs, 0, 500, 10, 0, 0.70, 499, NONE, NONE);
	run(rs, 0, 500, 10, 1, 0.83, 499, NONE, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_close(v.value, 0.83, 0);
	assert_non_null(strstr(v.detail, "no traced runs"));
	ltb_verdict_free(&v);
}

static void
a_missing_field_names_file_and_line(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v;
	char err[256];

	run(rs, 1, 500, 10, 0, 0.70, 499, 0, NONE);
	run(rs, 1, 500, 10, 1, NONE, 499, 0, NONE);
	errno = 0;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "t.jsonl:2: result has no \"cpu_usage\" "
	    "(needed by --max-cpu)");
	assert_null(v.rates);
}

static void
a_failed_run_fails_the_gate_with_its_error(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v;
	char err[256];

	run(rs, 1, 500, 10, 0, 0.74, 499, 0, NONE);
	/* Failed runs may lack the figures; that is not bad input. */
	raw(rs, "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"runtime\":10,\"trial\":1,\"exit_status\":1,"
	    "\"error\":\"client exited with status 1\"}");
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_int_equal(v.failed, 1);
	assert_close(v.value, 0.74, 0);
	assert_string_equal(v.summary, "1 of 2 runs failed");
	assert_non_null(strstr(v.detail, "c traced 500 sps trial 1: client "
	    "exited with status 1"));
	ltb_verdict_free(&v);
}

static void
exit_status_alone_marks_a_failed_run(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_DROPPED, 0);
	struct ltb_verdict v;
	char err[256];

	raw(rs, "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":100,\"trial\":0,\"dropped\":0,\"exit_status\":137}");
	assert_true(rs->v[0].failed);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_true(isnan(v.value));
	assert_string_equal(v.detail, "c traced 100 sps trial 0: exit status "
	    "137");
	ltb_verdict_free(&v);
}

static void
max_dropped_counts_traced_runs_only(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_DROPPED, 0);
	struct ltb_verdict v;
	char err[256];

	run(rs, 0, 300, 30, 0, 0.70, 299, NONE, NONE); /* dropped: null */
	run(rs, 1, 300, 30, 0, 0.74, 299, 0, NONE);
	run(rs, 1, 300, 30, 1, 0.74, 299, 12, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_close(v.value, 12, 0);
	assert_string_equal(v.summary, "12 > 0");
	ltb_verdict_free(&v);

	g = gate(LTB_GATE_MAX_DROPPED_RATIO, 0.01);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_close(v.value, 12.0 / 9000, 1e-15);
	assert_non_null(strstr(v.detail, "12 of 9000 spans dropped"));
	ltb_verdict_free(&v);
}

static void
max_dropped_needs_traced_runs(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_DROPPED, 0);
	struct ltb_verdict v;
	char err[256];

	run(rs, 0, 300, 30, 0, 0.70, 299, NONE, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "--max-dropped"));
}

static void
overhead_per_rate_with_welch_interval(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_OVERHEAD, 0.1);
	const double traced[] = { 0.771, 0.764, 0.779, 0.768 };
	const double noop[] = { 0.702, 0.699, 0.705 };
	const struct ltb_rate *rt;
	struct ltb_verdict v;
	char err[256];
	int i;

	for (i = 0; i < 4; i++)
		run(rs, 1, 500, 10, i, traced[i], 500 - i, 0, NONE);
	for (i = 0; i < 3; i++)
		run(rs, 0, 500, 10, i, noop[i], 500, NONE, NONE);
	/* A rate with NoOp runs only is skipped, not an error. */
	run(rs, 0, 100, 10, 0, 0.70, 100, NONE, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_int_equal(v.nrates, 1);
	rt = &v.rates[0];
	assert_close(rt->target_sps, 500, 0);
	assert_int_equal(rt->ntraced, 4);
	assert_int_equal(rt->nnoop, 3);
	/* Reference figures from mpmath (see test_stats.c). */
	assert_close(rt->overhead, 0.0685, 1e-12);
	assert_close(rt->lo, 0.0588519524945832, 1e-9);
	assert_close(rt->hi, 0.0781480475054168, 1e-9);
	assert_close(rt->df, 4.458667470605969, 1e-9);
	assert_close(rt->sps, 498.5, 1e-12);
	assert_close(rt->ns_per_span, 0.0685 * 1e9 / 498.5, 1e-6);
	assert_close(v.value, 0.0685, 1e-12);
	assert_non_null(strstr(v.detail, "95% CI 0.058852 to 0.078148"));
	assert_non_null(strstr(v.detail, "1 rate without both"));
	ltb_verdict_free(&v);

	g.limit = 0.05;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	ltb_verdict_free(&v);
}

static void
overhead_interval_unknown_with_one_run(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_OVERHEAD, 0.1);
	struct ltb_verdict v;
	char err[256];
	cJSON *rec;

	run(rs, 1, 500, 10, 0, 0.78, 500, 0, NONE);
	run(rs, 0, 500, 10, 0, 0.70, 500, NONE, NONE);
	run(rs, 0, 500, 10, 1, 0.71, 500, NONE, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_close(v.rates[0].overhead, 0.075, 1e-12);
	assert_true(isnan(v.rates[0].lo));
	assert_non_null(strstr(v.detail, "CI unknown"));
	/* And null in the record, which JSON can carry. */
	rec = ltb_verdict_record(&v);
	assert_non_null(rec);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(rec, "rates"), 0), "ci95")));
	cJSON_Delete(rec);
	ltb_verdict_free(&v);
}

static void
overhead_needs_both_sides_at_a_rate(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_OVERHEAD, 0.1);
	struct ltb_verdict v;
	char err[256];

	run(rs, 1, 500, 10, 0, 0.78, 500, 0, NONE);
	run(rs, 0, 1000, 10, 0, 0.70, 1000, NONE, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "traced and NoOp"));
}

/* Overheads 0.03, 0.06, 0.09, 0.15 at achieved 1000..8000 sps. */
static void
throughput_rates(struct ltb_results *rs)
{
	static const double ov[] = { 0.03, 0.06, 0.09, 0.15 };
	int i;

	for (i = 0; i < 4; i++) {
		double sps = 1000 << i;

		run(rs, 1, sps, 10, 0, 0.70 + ov[i], sps, 0, NONE);
		run(rs, 0, sps, 10, 0, 0.70, sps, NONE, NONE);
	}
}

/* One run with its CPU-seconds, for a tracer that falls behind. */
static void
paced(struct ltb_results *rs, int trace, double target, int trial,
    double cpu, double sps, double program_time)
{
	char json[512];

	snprintf(json, sizeof json, "{\"type\":\"result\",\"v\":1,"
	    "\"client\":\"py\",\"trace\":%s,\"target_sps\":%g,"
	    "\"runtime\":1,\"trial\":%d,\"spans_sent\":%g,"
	    "\"dropped\":%s,\"cpu_usage\":%g,\"sps\":%g,"
	    "\"program_time\":%g,\"exit_status\":0}",
	    trace ? "true" : "false", target, trial, target,
	    trace ? "0" : "null", cpu, sps, program_time);
	raw(rs, json);
}

static void
overhead_of_a_tracer_that_lags_is_in_cpu_seconds(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_OVERHEAD, 0.1);
	const struct ltb_rate *rt;
	struct ltb_verdict v;
	char err[256];

	/* A tracer that waits on every send: 500 spans take 1.35 s, so its
	 * cpu_usage (0.90 CPU-s over 1.35 s) looks below NoOp's (0.70 CPU-s
	 * over 1 s). */
	paced(rs, 1, 500, 0, 0.66, 370, 0.89);
	paced(rs, 1, 500, 1, 0.68, 372, 0.91);
	paced(rs, 0, 500, 0, 0.70, 500, 0.69);
	paced(rs, 0, 500, 1, 0.71, 499, 0.71);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_int_equal(v.nrates, 1);
	rt = &v.rates[0];
	assert_true(rt->lagged);
	assert_close(rt->noop_sps, 499.5, 1e-9);
	/* CPU-seconds a span (1.8 ms traced, 1.4 ms NoOp) at the traced
	 * runs' 371 spans a second. */
	assert_close(rt->traced_cpu, 0.0018 * 371, 1e-9);
	assert_close(rt->noop_cpu, 0.0014 * 371, 1e-9);
	assert_close(rt->overhead, 0.0004 * 371, 1e-9);
	/* 0.4 ms a span, whatever the pace. */
	assert_close(rt->ns_per_span, 400000, 1e-3);
	assert_false(v.pass);
	assert_non_null(strstr(v.detail, "fell behind NoOp's pace"));
	ltb_verdict_free(&v);
}

static void
overhead_of_a_lagging_tracer_needs_program_time(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_OVERHEAD, 0.1);
	struct ltb_verdict v;
	char err[256];

	run(rs, 1, 500, 1, 0, 0.66, 300, 0, NONE);
	run(rs, 0, 500, 1, 0, 0.70, 500, NONE, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "\"program_time\""));
}

static void
throughput_ends_at_a_rate_the_tracer_cannot_hold(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MIN_THROUGHPUT, 3000);
	struct ltb_verdict v;
	char err[256];

	paced(rs, 1, 1000, 0, 0.72, 990, 0.73);
	paced(rs, 0, 1000, 0, 0.70, 1000, 0.70);
	/* Its cpu_usage stays low at 4000: it only ever made 1200. */
	paced(rs, 1, 4000, 0, 0.60, 1200, 2.0);
	paced(rs, 0, 4000, 0, 0.70, 4000, 0.70);
	g.at_overhead = 0.1;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_close(v.value, 990, 1e-9);
	assert_non_null(strstr(v.detail, "could not hold 4000"));
	ltb_verdict_free(&v);
}

static void
throughput_interpolates_the_crossing(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MIN_THROUGHPUT, 3000);
	struct ltb_verdict v;
	char err[256];

	throughput_rates(rs);
	g.at_overhead = 0.1;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_true(v.reached);
	/* 0.10 lies a sixth of the way from 0.09 (4000) to 0.15 (8000). */
	assert_close(v.value, 4000 + 4000.0 / 6, 1e-6);
	assert_non_null(strstr(v.detail, "between 4000 sps"));
	ltb_verdict_free(&v);

	g.limit = 5000;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	ltb_verdict_free(&v);
}

static void
throughput_never_crossed_is_the_highest_rate(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MIN_THROUGHPUT, 3000);
	struct ltb_verdict v;
	char err[256];

	throughput_rates(rs);
	g.at_overhead = 0.2;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_false(v.reached);
	assert_close(v.value, 8000, 1e-9);
	assert_non_null(strstr(v.detail, "not reached at the highest rate "
	    "measured"));
	ltb_verdict_free(&v);

	g.limit = 10000;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	ltb_verdict_free(&v);
}

static void
throughput_below_the_lowest_rate_starts_at_zero(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MIN_THROUGHPUT, 3000);
	struct ltb_verdict v;
	char err[256];

	throughput_rates(rs);
	g.at_overhead = 0.02;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_close(v.value, 1000 * 0.02 / 0.03, 1e-6);
	ltb_verdict_free(&v);
}

static void
memory_growth_compares_longest_with_shortest(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_MEMORY_GROWTH, 2);
	struct ltb_verdict v;
	char err[256];

	/* Two trials each; the middle runtime plays no part. */
	run(rs, 1, 500, 5, 0, 0.76, 500, 0, 3000000);
	run(rs, 1, 500, 5, 1, 0.76, 500, 0, 3200000);
	run(rs, 1, 500, 50, 0, 0.76, 500, 0, 9e9);
	run(rs, 1, 500, 100, 0, 0.76, 500, 0, 4000000);
	run(rs, 1, 500, 100, 1, 0.76, 500, 0, 4400000);
	run(rs, 0, 500, 5, 0, 0.70, 500, NONE, 1);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_int_equal(v.runs, 4);
	assert_close(v.value, 4200000.0 / 3100000.0, 1e-12);
	assert_close(v.rates[0].short_runtime, 5, 0);
	assert_close(v.rates[0].long_runtime, 100, 0);
	ltb_verdict_free(&v);

	g.limit = 1.2;
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	ltb_verdict_free(&v);
}

static void
memory_growth_needs_two_runtimes(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_MEMORY_GROWTH, 2);
	struct ltb_verdict v;
	char err[256];

	run(rs, 1, 500, 10, 0, 0.76, 500, 0, 3000000);
	run(rs, 1, 1000, 100, 0, 0.76, 500, 0, 3000000);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "needs results with two runtimes"));
}

static void
expect_checks_every_run(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_EXPECT, 0);
	struct ltb_verdict v;
	const char *why;
	char err[256];
	cJSON *rec;

	run(rs, 1, 500, 10, 0, 0.76, 500, 0, NONE);
	run(rs, 0, 500, 10, 1, 0.70, 500, NONE, NONE);

	assert_int_equal(ltb_expect_parse("cpu_usage < 0.8", &g.expect, &why),
	    0);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	assert_string_equal(v.name, "expect cpu_usage < 0.8");
	assert_close(v.value, 0.76, 0);	/* the closest to failing */
	ltb_verdict_free(&v);

	assert_int_equal(ltb_expect_parse("trace == true", &g.expect, &why),
	    0);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	assert_int_equal(v.failing, 1);
	assert_string_equal(v.detail, "first: c NoOp 500 sps trial 1 has "
	    "trace false");
	rec = ltb_verdict_record(&v);
	assert_non_null(rec);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(rec, "value")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rec, "limit")));
	cJSON_Delete(rec);
	ltb_verdict_free(&v);

	/* A string is never == a number, and always != one. */
	assert_int_equal(ltb_expect_parse("client == 3", &g.expect, &why), 0);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);
	ltb_verdict_free(&v);
	assert_int_equal(ltb_expect_parse("client != 3", &g.expect, &why), 0);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_true(v.pass);
	ltb_verdict_free(&v);

	assert_int_equal(ltb_expect_parse("dropped == null", &g.expect, &why),
	    0);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	assert_false(v.pass);	/* the traced run dropped 0 */
	ltb_verdict_free(&v);

	assert_int_equal(ltb_expect_parse("nosuch == 1", &g.expect, &why), 0);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), -1);
	assert_string_equal(err, "t.jsonl:1: result has no \"nosuch\" "
	    "(needed by --expect 'nosuch == 1')");
}

static void
verdict_record_carries_the_gate(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v;
	char err[256], line[512];
	cJSON *rec;

	run(rs, 1, 500, 10, 1, 0.742, 500, 0, NONE);
	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), 0);
	rec = ltb_verdict_record(&v);
	assert_non_null(rec);
	assert_string_equal(cJSON_GetObjectItem(rec, "type")->valuestring,
	    "verdict");
	assert_int_equal(cJSON_GetObjectItem(rec, "v")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(rec, "gate")->valuestring,
	    "max-cpu");
	assert_close(cJSON_GetObjectItem(rec, "value")->valuedouble, 0.742,
	    0);
	assert_close(cJSON_GetObjectItem(rec, "limit")->valuedouble, 0.8, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rec, "pass")));
	assert_string_equal(cJSON_GetObjectItem(rec, "detail")->valuestring,
	    "worst: c traced 500 sps trial 1");
	cJSON_Delete(rec);
	ltb_verdict_line(&v, line, sizeof line);
	assert_string_equal(line, "PASS max-cpu: 0.742 <= 0.8 (worst: c "
	    "traced 500 sps trial 1)");
	ltb_verdict_free(&v);
}

static void
junit_escapes_what_xml_cannot_carry(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v[2];
	char err[256], *xml = NULL;
	size_t len = 0;
	FILE *f;

	run(rs, 1, 500, 10, 0, 0.70, 500, 0, NONE);
	raw(rs, "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"trial\":1,\"exit_status\":1,"
	    "\"error\":\"<boom> & \\\"bad\\\"\\u0001 \\u00e9 \\n next\"}");
	assert_int_equal(ltb_gate_eval(&g, rs, &v[0], err, sizeof err), 0);
	assert_int_equal(ltb_gate_eval(&g, rs, &v[1], err, sizeof err), 0);
	v[1].pass = 1;	/* one of each, for the counts */
	strcpy(v[1].detail, "bad \xff\xc3 byte, \xed\xa0\x80 surrogate");
	assert_non_null(f = open_memstream(&xml, &len));
	assert_int_equal(ltb_verdicts_junit(f, v, 2), 0);
	fclose(f);
	assert_non_null(strstr(xml, "<testsuite name=\"ltb-assert\" "
	    "tests=\"2\" failures=\"1\""));
	assert_non_null(strstr(xml, "<testcase classname=\"ltb-assert\" "
	    "name=\"max-cpu\">"));
	assert_non_null(strstr(xml, "<failure type=\"max-cpu\" message=\""));
	assert_non_null(strstr(xml, "&lt;boom&gt; &amp; &quot;bad&quot;? "
	    "\xc3\xa9 &#10; next"));
	assert_null(strchr(xml, '\x01'));
	assert_non_null(strstr(xml, "(bad ?? byte, ??? surrogate)"));
	assert_non_null(strstr(xml, "</testsuite>\n"));
	free(xml);
	ltb_verdict_free(&v[0]);
	ltb_verdict_free(&v[1]);
}

static void
no_results_is_an_error_never_a_pass(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v;
	char err[256];

	assert_int_equal(ltb_gate_eval(&g, rs, &v, err, sizeof err), -1);
	assert_int_equal(errno, EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(expect_parse_reads_every_form),
		cmocka_unit_test(expect_parse_rejects_nonsense),
		T(max_cpu_names_the_worst_traced_run),
		T(max_cpu_without_traced_runs_checks_all),
		T(a_missing_field_names_file_and_line),
		T(a_failed_run_fails_the_gate_with_its_error),
		T(exit_status_alone_marks_a_failed_run),
		T(max_dropped_counts_traced_runs_only),
		T(max_dropped_needs_traced_runs),
		T(overhead_per_rate_with_welch_interval),
		T(overhead_interval_unknown_with_one_run),
		T(overhead_needs_both_sides_at_a_rate),
		T(overhead_of_a_tracer_that_lags_is_in_cpu_seconds),
		T(overhead_of_a_lagging_tracer_needs_program_time),
		T(throughput_ends_at_a_rate_the_tracer_cannot_hold),
		T(throughput_interpolates_the_crossing),
		T(throughput_never_crossed_is_the_highest_rate),
		T(throughput_below_the_lowest_rate_starts_at_zero),
		T(memory_growth_compares_longest_with_shortest),
		T(memory_growth_needs_two_runtimes),
		T(expect_checks_every_run),
		T(verdict_record_carries_the_gate),
		T(junit_escapes_what_xml_cannot_carry),
		T(no_results_is_an_error_never_a_pass),
	};

	return cmocka_run_group_tests_name("gates", tests, NULL, NULL);
}
