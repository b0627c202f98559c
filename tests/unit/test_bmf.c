/*
 * test_bmf.c: verdicts as Bencher Metric Format (common/judge/ltb_bmf.c).
 *
 * Each test judges a gate over a few result records built here, turns the
 * verdict into BMF and checks that every figure written is the verdict's
 * own (value, interval), under the benchmark and measure names ltb_bmf.h
 * promises, and that figures nobody measured are left out, not zeros.
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

#include "judge/ltb_bmf.h"
#include "judge/ltb_cost.h"
#include "judge/ltb_gates.h"

static unsigned long lineno;

/* One result record, given as JSON text after printf. */
static void __attribute__((format(printf, 2, 3)))
rec(struct ltb_results *rs, const char *fmt, ...)
{
	char json[2048];
	va_list ap;
	cJSON *o;

	va_start(ap, fmt);
	vsnprintf(json, sizeof json, fmt, ap);
	va_end(ap);
	o = cJSON_Parse(json);
	assert_non_null(o);
	assert_int_equal(ltb_results_add(rs, o, "t.jsonl", ++lineno), 0);
}

/* A run of CLIENT counting UNIT at SPS for 10 s. */
static void
run(struct ltb_results *rs, const char *client, const char *unit, int trace,
    double sps, int trial, double cpu, double dropped)
{
	rec(rs, "{\"type\":\"result\",\"v\":1,\"client\":\"%s\",\"unit\":\"%s\","
	    "\"trace\":%s,\"target_sps\":%g,\"runtime\":10,\"trial\":%d,"
	    "\"spans_sent\":%g,\"dropped\":%g,\"spans_invalid\":0,"
	    "\"cpu_usage\":%g,\"sps\":%g,\"program_time\":%g,"
	    "\"clock_time\":10,\"memory_last\":3000000,\"exit_status\":0}",
	    client, unit, trace ? "true" : "false", sps, trial, sps * 10,
	    dropped, cpu, sps, cpu * 10);
}

/* Traced and NoOp runs at two rates, two trials a side. */
static void
two_rates(struct ltb_results *rs, const char *client, const char *unit)
{
	run(rs, client, unit, 0, 500, 0, 0.700, 0);
	run(rs, client, unit, 0, 500, 1, 0.702, 0);
	run(rs, client, unit, 1, 500, 0, 0.760, 0);
	run(rs, client, unit, 1, 500, 1, 0.771, 3);
	run(rs, client, unit, 0, 1000, 0, 0.701, 0);
	run(rs, client, unit, 0, 1000, 1, 0.699, 0);
	run(rs, client, unit, 1, 1000, 0, 0.790, 0);
	run(rs, client, unit, 1, 1000, 1, 0.800, 1);
}

/* A --trace both plan whose pairs cost 0.02 s plus 2000 ns a span, with
 * a little deterministic noise, at three rates. */
static void
paired(struct ltb_results *rs)
{
	static const double rates[] = { 10000, 20000, 40000 };
	int r, t, pair = 0;

	for (r = 0; r < 3; r++)
		for (t = 0; t < 3; t++, pair++) {
			double spans = rates[r] * 3;
			double noise = ((pair * 7) % 5 - 2) * 0.002;
			double base = 2.1, test = base + 0.02 + 2e-6 * spans +
			    noise;
			int arm;

			for (arm = 0; arm < 2; arm++)
				rec(rs, "{\"type\":\"result\",\"v\":1,"
				    "\"client\":\"c\",\"trace\":%s,"
				    "\"target_sps\":%g,\"runtime\":3,"
				    "\"trial\":%d,\"pair\":%d,\"arm\":\"%s\","
				    "\"spans_sent\":%g,\"program_time\":%.6f,"
				    "\"clock_time\":3,\"cpu_usage\":%.6f,"
				    "\"sps\":%g,\"exit_status\":0}",
				    arm ? "true" : "false", rates[r], t, pair,
				    arm ? "test" : "base", spans,
				    arm ? test : base, (arm ? test : base) / 3,
				    rates[r]);
		}
}

static struct ltb_gate
gate(enum ltb_gate_kind kind, double limit)
{
	struct ltb_gate g;

	memset(&g, 0, sizeof g);
	g.kind = kind;
	g.limit = limit;
	g.max_halfwidth = 0.5;
	return g;
}

static void
judge(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v)
{
	char err[1024];

	if (ltb_gate_eval(g, rs, v, err, sizeof err) != 0)
		fail_msg("%s", err);
}

/* The measure object bench/measure of bmf, which must be there. */
static const cJSON *
measure(const cJSON *bmf, const char *bench, const char *name)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(bmf, bench);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(b, name);

	if (!cJSON_IsObject(m))
		fail_msg("no %s / %s in the BMF", bench, name);
	return m;
}

static double
num(const cJSON *m, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(m, key);

	if (!cJSON_IsNumber(x))
		fail_msg("no number %s", key);
	return x->valuedouble;
}

static int
has(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
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

static void
cpu_is_client_slash_gate_with_no_interval(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_verdict v;
	const cJSON *m;
	cJSON *bmf;

	two_rates(rs, "c", "span");
	judge(&g, rs, &v);
	assert_non_null(bmf = ltb_bmf(&v, 1, rs));
	assert_int_equal(cJSON_GetArraySize(bmf), 1);
	m = measure(bmf, "c/max-cpu", "cpu_usage");
	assert_true(num(m, "value") == v.value);
	assert_true(v.value == 0.8);
	assert_false(has(m, "lower_value"));
	assert_false(has(m, "upper_value"));
	assert_int_equal(cJSON_GetArraySize(m), 1);
	cJSON_Delete(bmf);
	ltb_verdict_free(&v);
}

static void
a_failed_gates_figure_is_still_written(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_DROPPED, 0);
	struct ltb_verdict v;
	cJSON *bmf;

	two_rates(rs, "c", "span");
	judge(&g, rs, &v);
	assert_false(v.pass);
	assert_non_null(bmf = ltb_bmf(&v, 1, rs));
	assert_true(num(measure(bmf, "c/max-dropped", "dropped_spans"),
	    "value") == 3);
	cJSON_Delete(bmf);
	ltb_verdict_free(&v);
}

static void
overhead_per_rate_carries_the_welch_interval(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_OVERHEAD, 0.2);
	struct ltb_verdict v;
	const cJSON *m;
	cJSON *bmf;
	size_t i;

	two_rates(rs, "c", "span");
	judge(&g, rs, &v);
	assert_int_equal(v.nrates, 2);
	assert_non_null(bmf = ltb_bmf(&v, 1, rs));
	m = measure(bmf, "c/max-overhead", "cpu_overhead");
	assert_true(num(m, "value") == v.value);
	assert_false(has(m, "lower_value"));
	for (i = 0; i < 2; i++) {
		const struct ltb_rate *rt = &v.rates[i];
		char name[64];

		snprintf(name, sizeof name, "c/max-overhead/%gsps",
		    rt->target_sps);
		m = measure(bmf, name, "cpu_overhead");
		assert_true(isfinite(rt->lo));
		assert_true(num(m, "value") == rt->overhead);
		assert_true(num(m, "lower_value") == rt->lo);
		assert_true(num(m, "upper_value") == rt->hi);
		assert_true(rt->lo <= rt->overhead && rt->overhead <= rt->hi);
		m = measure(bmf, name, "ns_per_span");
		assert_true(num(m, "value") == rt->ns_per_span);
		assert_false(has(m, "lower_value"));
	}
	assert_true(has(bmf, "c/max-overhead/500sps"));
	assert_true(has(bmf, "c/max-overhead/1000sps"));
	/* the gate's own figure and one benchmark a rate, nothing else */
	assert_int_equal(cJSON_GetArraySize(bmf), 3);
	cJSON_Delete(bmf);
	ltb_verdict_free(&v);
}

static void
overhead_with_one_run_a_side_has_no_bounds(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_OVERHEAD, 0.2);
	struct ltb_verdict v;
	const cJSON *m;
	cJSON *bmf;

	run(rs, "c", "span", 0, 500, 0, 0.70, 0);
	run(rs, "c", "span", 1, 500, 0, 0.75, 0);
	judge(&g, rs, &v);
	assert_true(isnan(v.rates[0].lo));
	assert_non_null(bmf = ltb_bmf(&v, 1, rs));
	m = measure(bmf, "c/max-overhead/500sps", "cpu_overhead");
	assert_true(num(m, "value") == v.rates[0].overhead);
	assert_false(has(m, "lower_value"));
	assert_false(has(m, "upper_value"));
	cJSON_Delete(bmf);
	ltb_verdict_free(&v);
}

static void
cost_per_span_with_its_interval_and_fixed_cost(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_NS_PER_SPAN, 2500);
	struct ltb_gate o = gate(LTB_GATE_MAX_OVERHEAD, 0.5);
	struct ltb_verdict v[2];
	const cJSON *m;
	cJSON *bmf;

	paired(rs);
	judge(&g, rs, &v[0]);
	judge(&o, rs, &v[1]);
	assert_non_null(v[0].cost);
	assert_true(fabs(v[0].value - 2000) < 100);
	assert_non_null(bmf = ltb_bmf(v, 2, rs));
	m = measure(bmf, "c/max-ns-per-span", "ns_per_span");
	assert_true(num(m, "value") == v[0].value);
	assert_true(num(m, "lower_value") == v[0].cost->lo);
	assert_true(num(m, "upper_value") == v[0].cost->hi);
	assert_true(v[0].cost->lo < v[0].value && v[0].value < v[0].cost->hi);
	m = measure(bmf, "c/max-ns-per-span", "fixed_cost_s");
	assert_true(num(m, "value") == v[0].cost->intercept_s);
	assert_true(num(m, "lower_value") == v[0].cost->intercept_lo);
	assert_true(num(m, "upper_value") == v[0].cost->intercept_hi);
	/* max-overhead's verdict carries the same fit: so does its BMF */
	m = measure(bmf, "c/max-overhead", "ns_per_span");
	assert_true(num(m, "value") == v[1].cost->ns_per_span);
	assert_true(num(m, "lower_value") == v[1].cost->lo);
	assert_true(has(bmf, "c/max-overhead/40000sps"));
	cJSON_Delete(bmf);
	ltb_verdict_free(&v[0]);
	ltb_verdict_free(&v[1]);
}

static void
unknown_figures_are_left_out_never_zero(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.8);
	struct ltb_gate r = gate(LTB_GATE_MAX_DROPPED_RATIO, 0.1);
	struct ltb_verdict v[2];
	cJSON *bmf;

	/* the one traced run failed: max-cpu measured nothing */
	rec(rs, "{\"type\":\"result\",\"v\":1,\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"runtime\":10,\"trial\":0,\"spans_sent\":0,"
	    "\"dropped\":0,\"cpu_usage\":0.5,\"exit_status\":1,"
	    "\"error\":\"client exited with status 1\"}");
	judge(&g, rs, &v[0]);
	assert_true(isnan(v[0].value));
	ltb_results_free(rs);
	/* 5 dropped of 0 sent: an infinite ratio, which JSON cannot say */
	rec(rs, "{\"type\":\"result\",\"v\":1,\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"runtime\":10,\"trial\":0,\"spans_sent\":0,"
	    "\"dropped\":5,\"cpu_usage\":0.5,\"exit_status\":0}");
	judge(&r, rs, &v[1]);
	assert_true(isinf(v[1].value));
	assert_non_null(bmf = ltb_bmf(v, 2, rs));
	assert_int_equal(cJSON_GetArraySize(bmf), 0);
	cJSON_Delete(bmf);
	ltb_verdict_free(&v[0]);
	ltb_verdict_free(&v[1]);
}

static void
plan_and_expect_are_not_figures(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate p = gate(LTB_GATE_PLAN, 0);
	struct ltb_gate e = gate(LTB_GATE_EXPECT, 0);
	struct ltb_gate c = gate(LTB_GATE_MAX_CPU, 0.9);
	struct ltb_verdict v[3];
	const char *why;
	cJSON *bmf;

	assert_int_equal(ltb_expect_parse("cpu_usage < 1", &e.expect, &why),
	    0);
	two_rates(rs, "c", "span");
	judge(&p, rs, &v[0]);
	judge(&e, rs, &v[1]);
	judge(&c, rs, &v[2]);
	assert_true(isfinite(v[0].value) && isfinite(v[1].value));
	assert_non_null(bmf = ltb_bmf(v, 3, rs));
	assert_int_equal(cJSON_GetArraySize(bmf), 1);
	assert_true(has(bmf, "c/max-cpu"));
	cJSON_Delete(bmf);
	ltb_verdict_free(&v[0]);
	ltb_verdict_free(&v[1]);
	ltb_verdict_free(&v[2]);
}

static void
measures_say_the_results_unit(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate d = gate(LTB_GATE_MAX_DROPPED, 10);
	struct ltb_gate i = gate(LTB_GATE_MAX_INVALID, 10);
	struct ltb_gate o = gate(LTB_GATE_MAX_OVERHEAD, 0.5);
	struct ltb_verdict v[3];
	cJSON *bmf;

	two_rates(rs, "c-spectator", "measurement");
	judge(&d, rs, &v[0]);
	judge(&i, rs, &v[1]);
	judge(&o, rs, &v[2]);
	assert_non_null(bmf = ltb_bmf(v, 3, rs));
	assert_true(num(measure(bmf, "c-spectator/max-dropped",
	    "dropped_measurements"), "value") == 3);
	assert_true(num(measure(bmf, "c-spectator/max-invalid",
	    "invalid_measurements"), "value") == 0);
	assert_true(num(measure(bmf, "c-spectator/max-overhead/500sps",
	    "ns_per_measurement"), "value") == v[2].rates[0].ns_per_span);
	assert_false(has(cJSON_GetObjectItem(bmf,
	    "c-spectator/max-overhead/500sps"), "ns_per_span"));
	cJSON_Delete(bmf);
	ltb_verdict_free(&v[0]);
	ltb_verdict_free(&v[1]);
	ltb_verdict_free(&v[2]);
}

static void
throughput_names_its_overhead(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MIN_THROUGHPUT, 100);
	struct ltb_verdict v;
	const cJSON *m;
	cJSON *bmf;

	g.at_overhead = 0.08;
	two_rates(rs, "c", "span");
	judge(&g, rs, &v);
	assert_non_null(bmf = ltb_bmf(&v, 1, rs));
	m = measure(bmf, "c/min-throughput@0.08", "spans_per_second");
	assert_true(num(m, "value") == v.value);
	assert_true(v.value > 500 && v.value < 1000);
	/* its rates are max-overhead's figures; written once, there */
	assert_int_equal(cJSON_GetArraySize(bmf), 1);
	cJSON_Delete(bmf);
	ltb_verdict_free(&v);
}

static void
memory_growth_overall_and_per_rate(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_MEMORY_GROWTH, 2);
	struct ltb_verdict v;
	cJSON *bmf;

	rec(rs, "{\"type\":\"result\",\"v\":1,\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"runtime\":5,\"trial\":0,"
	    "\"memory_last\":3000000,\"exit_status\":0}");
	rec(rs, "{\"type\":\"result\",\"v\":1,\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"runtime\":100,\"trial\":0,"
	    "\"memory_last\":4500000,\"exit_status\":0}");
	judge(&g, rs, &v);
	assert_non_null(bmf = ltb_bmf(&v, 1, rs));
	assert_true(num(measure(bmf, "c/max-memory-growth", "memory_growth"),
	    "value") == 1.5);
	assert_true(num(measure(bmf, "c/max-memory-growth/500sps",
	    "memory_growth"), "value") == v.rates[0].growth);
	cJSON_Delete(bmf);
	ltb_verdict_free(&v);
}

static void
several_clients_are_joined(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.9);
	struct ltb_verdict v;
	cJSON *bmf;

	run(rs, "c", "span", 1, 500, 0, 0.7, 0);
	run(rs, "js-otel", "span", 1, 500, 0, 0.8, 0);
	run(rs, "c", "span", 1, 500, 1, 0.7, 0);
	judge(&g, rs, &v);
	assert_non_null(bmf = ltb_bmf(&v, 1, rs));
	assert_true(has(bmf, "c+js-otel/max-cpu"));
	cJSON_Delete(bmf);
	ltb_verdict_free(&v);
}

static void
write_prints_the_object_and_says_a_full_disk(void **state)
{
	struct ltb_results *rs = *state;
	struct ltb_gate g = gate(LTB_GATE_MAX_CPU, 0.9);
	struct ltb_verdict v;
	char *buf = NULL;
	size_t len = 0;
	cJSON *got, *want;
	FILE *f;

	two_rates(rs, "c", "span");
	judge(&g, rs, &v);
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(ltb_bmf_write(f, &v, 1, rs), 0);
	fclose(f);
	assert_true(len > 0 && buf[len - 1] == '\n');
	assert_non_null(got = cJSON_Parse(buf));
	assert_non_null(want = ltb_bmf(&v, 1, rs));
	assert_true(cJSON_Compare(got, want, 1));
	cJSON_Delete(got);
	cJSON_Delete(want);
	free(buf);
	if ((f = fopen("/dev/full", "w")) != NULL) {
		errno = 0;
		assert_int_equal(ltb_bmf_write(f, &v, 1, rs), -1);
		assert_int_equal(errno, ENOSPC);
		fclose(f);
	}
	ltb_verdict_free(&v);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(cpu_is_client_slash_gate_with_no_interval),
		T(a_failed_gates_figure_is_still_written),
		T(overhead_per_rate_carries_the_welch_interval),
		T(overhead_with_one_run_a_side_has_no_bounds),
		T(cost_per_span_with_its_interval_and_fixed_cost),
		T(unknown_figures_are_left_out_never_zero),
		T(plan_and_expect_are_not_figures),
		T(measures_say_the_results_unit),
		T(throughput_names_its_overhead),
		T(memory_growth_overall_and_per_rate),
		T(several_clients_are_joined),
		T(write_prints_the_object_and_says_a_full_disk),
	};

	return cmocka_run_group_tests_name("bmf", tests, NULL, NULL);
}
