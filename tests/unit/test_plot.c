/*
 * test_plot.c: ltb-plot's records, aggregation, quoting and report
 * (common/plot/ltb_plot*.c), without gnuplot.
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

#include "core/ltb_jsonl.h"
#include "plot/ltb_plot.h"

#define assert_close(a, b) assert_true(fabs((a) - (b)) <= 1e-9)

/* Add the JSON line s, read at "t.jsonl:line"; returns what add did. */
static int
add(struct ltb_plot_data *d, const char *s, unsigned long line, char *err,
    size_t errlen)
{
	cJSON *rec = cJSON_Parse(s);

	assert_non_null(rec);
	return ltb_plot_add_record(d, rec, "t.jsonl", line, err, errlen);
}

static void
add_ok(struct ltb_plot_data *d, const char *s)
{
	char err[256];

	if (add(d, s, d->nruns + 1, err, sizeof err) < 0)
		fail_msg("%s", err);
}

/* A result line: client c, trace, rate, cpu, sps, and the rest given. */
static void
result(struct ltb_plot_data *d, int trace, double rate, double cpu,
    double sps, const char *more)
{
	char s[2048];

	snprintf(s, sizeof s, "{\"type\":\"result\",\"v\":1,\"client\":\"c\","
	    "\"trace\":%s,\"target_sps\":%g,\"runtime\":2,\"cpu_usage\":%g,"
	    "\"sps\":%g%s%s}", trace ? "true" : "false", rate, cpu, sps,
	    more[0] ? "," : "", more);
	add_ok(d, s);
}

static void
results_become_runs_and_the_rest_is_sorted(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	const struct ltb_plot_run *r;

	add_ok(&d, "{\"type\":\"control\",\"v\":1}");
	add_ok(&d, "{\"type\":\"verdict\",\"gate\":\"max-cpu\",\"pass\":true}");
	add_ok(&d, "{\"type\":\"calibration\",\"client\":\"c\"}");
	add_ok(&d, "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"spans_sent\":1000,\"dropped\":null,"
	    "\"memory_list\":[1048576,2097152],\"events\":[{\"t\":3,"
	    "\"event\":\"satellite_down\"},{\"t\":4,\"event\":\"other\"},"
	    "{\"t\":8,\"event\":\"satellite_up\"}],\"error\":\"\","
	    "\"noise\":{\"steal_s\":0.5,\"loadavg\":1.25}}");
	/* Kept for the report's plan, with where it was read. */
	add_ok(&d, "{\"type\":\"plan_end\",\"v\":1,\"planned\":3,"
	    "\"runs\":1,\"failed\":0,\"complete\":false,\"why\":\"x\"}");
	assert_int_equal(d.nruns, 1);
	assert_int_equal(d.nverdicts, 1);
	assert_int_equal(d.ncalibrations, 1);
	assert_int_equal(d.nplan_ends, 1);
	assert_string_equal(d.plan_ends[0].where, "t.jsonl:2");
	assert_string_equal(ltb_json_str(d.plan_ends[0].rec, "why", ""), "x");
	r = &d.runs[0];
	assert_string_equal(r->client, "c");
	assert_true(r->trace);
	assert_close(r->target_sps, 500);
	assert_true(isnan(r->dropped));
	assert_true(isnan(r->cpu_usage));
	assert_int_equal(r->nmemory, 2);
	assert_close(r->memory_list[1], 2097152);
	/* Events other than the satellites' are not kept. */
	assert_int_equal(r->nevents, 2);
	assert_false(r->events[0].up);
	assert_true(r->events[1].up);
	assert_close(r->events[1].t, 8);
	/* An empty error is no error. */
	assert_null(r->error);
	assert_false(ltb_plot_run_failed(r));
	assert_close(r->steal_s, 0.5);
	assert_true(isnan(r->other_cpu_s));
	assert_string_equal(r->label, "");
	/* add_ok numbers lines by runs: this is the first. */
	assert_string_equal(r->where, "t.jsonl:1");
	ltb_plot_data_free(&d);
}

static void
bad_results_name_file_and_line(void **unused)
{
	static const struct {
		const char *rec, *msg;
	} bad[] = {
		{ "{\"type\":\"result\",\"trace\":true,\"target_sps\":1}",
		    "t.jsonl:7: result with no \"client\"" },
		{ "{\"type\":\"result\",\"client\":\"c\",\"target_sps\":1}",
		    "t.jsonl:7: result with no \"trace\"" },
		{ "{\"type\":\"result\",\"client\":\"c\",\"trace\":1,"
		    "\"target_sps\":1}",
		    "t.jsonl:7: result with a non-boolean \"trace\"" },
		{ "{\"type\":\"result\",\"client\":\"c\",\"trace\":true}",
		    "t.jsonl:7: result with no \"target_sps\"" },
		{ "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
		    "\"target_sps\":1,\"cpu_usage\":\"high\"}",
		    "t.jsonl:7: result with a non-number \"cpu_usage\"" },
		{ "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
		    "\"target_sps\":1,\"memory_list\":[1,\"2\"]}",
		    "t.jsonl:7: result with a non-number in \"memory_list\"" },
		{ "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
		    "\"target_sps\":1,\"events\":[{\"t\":\"x\"}]}",
		    "t.jsonl:7: result with a malformed event in \"events\"" },
		{ "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
		    "\"target_sps\":1,\"noise\":[]}",
		    "t.jsonl:7: result with a non-object \"noise\"" },
	};
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		assert_int_equal(add(&d, bad[i].rec, 7, err, sizeof err), -1);
		assert_int_equal(errno, EINVAL);
		assert_string_equal(err, bad[i].msg);
	}
	assert_int_equal(d.nruns, 0);
	ltb_plot_data_free(&d);
}

static void
one_client_or_a_choice(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	const char *client;
	char err[256];

	result(&d, 1, 100, 0.7, 100, "");
	assert_int_equal(ltb_plot_client(&d, NULL, &client, err, sizeof err),
	    0);
	assert_string_equal(client, "c");
	add_ok(&d, "{\"type\":\"result\",\"client\":\"js\",\"trace\":true,"
	    "\"target_sps\":1}");
	result(&d, 1, 100, 0.7, 100, "");
	assert_int_equal(ltb_plot_client(&d, NULL, &client, err, sizeof err),
	    -1);
	assert_string_equal(err, "results from several clients (c, js): "
	    "choose one with --client");
	assert_int_equal(ltb_plot_client(&d, "js", &client, err, sizeof err),
	    0);
	assert_string_equal(client, "js");
	assert_int_equal(ltb_plot_client(&d, "py", &client, err, sizeof err),
	    -1);
	assert_string_equal(err, "no results from client 'py'");
	ltb_plot_data_free(&d);
}

static void
a_tracer_behind_its_rate_is_drawn_in_cpu_seconds(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_rate *v;

	/* 1000 spans planned over 2 s at 500/s: traced made 360/s, its
	 * 1.8 CPU-s over 2.8 s a cpu_usage of 0.64, under NoOp's 0.70. */
	result(&d, 1, 500, 0.64, 360, "\"spans_sent\":1000,"
	    "\"program_time\":1.8");
	result(&d, 0, 500, 0.70, 500, "\"spans_sent\":1000,"
	    "\"program_time\":1.4");
	assert_int_equal(ltb_plot_rates(&d, "c", LTB_PLOT_MINMAX, &v), 1);
	assert_true(v[0].lagged);
	/* 0.4 ms a span more, at the 360 a second it made. */
	assert_close(v[0].overhead.mean, 0.0004 * 360);
	free(v);
	ltb_plot_data_free(&d);
}

static void
rates_give_means_spreads_and_the_tracers_cpu(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_rate *v;

	/* Given out of order, with a failed run that must not count. */
	result(&d, 1, 1000, 0.80, 990, "\"spans_sent\":2000,\"dropped\":20");
	result(&d, 0, 1000, 0.70, 1000, "");
	result(&d, 1, 100, 0.72, 100, "\"spans_sent\":200,\"dropped\":0");
	result(&d, 1, 1000, 0.84, 1010, "\"spans_sent\":2000,\"dropped\":0");
	result(&d, 0, 1000, 0.72, 996, "");
	result(&d, 1, 1000, 0.99, 5, "\"error\":\"crashed\"");
	result(&d, 0, 100, 0.71, 100, "\"exit_status\":0");

	assert_int_equal(ltb_plot_rates(&d, "c", LTB_PLOT_MINMAX, &v), 2);
	assert_close(v[0].target_sps, 100);
	assert_close(v[1].target_sps, 1000);
	assert_int_equal(v[1].traced_cpu.n, 2);
	assert_close(v[1].traced_cpu.mean, 0.82);
	assert_close(v[1].traced_cpu.lo, 0.80);
	assert_close(v[1].traced_cpu.hi, 0.84);
	assert_close(v[1].traced_sps.mean, 1000);
	assert_close(v[1].noop_cpu.mean, 0.71);
	assert_close(v[1].noop_sps.mean, 998);
	/* 0.82 - 0.71, from 0.80 - 0.72 to 0.84 - 0.70. */
	assert_close(v[1].overhead.mean, 0.11);
	assert_close(v[1].overhead.lo, 0.08);
	assert_close(v[1].overhead.hi, 0.14);
	/* 1% and 0% dropped. */
	assert_int_equal(v[1].dropped_pct.n, 2);
	assert_close(v[1].dropped_pct.mean, 0.5);
	assert_close(v[1].dropped_pct.hi, 1);
	/* One trial a side: no spread but the point. */
	assert_close(v[0].overhead.mean, 0.01);
	assert_close(v[0].overhead.lo, 0.01);
	free(v);

	/* A 95% interval: 0.82 +- t(0.975, 1) * 0.02. */
	assert_int_equal(ltb_plot_rates(&d, "c", LTB_PLOT_CI95, &v), 2);
	assert_close(v[1].traced_cpu.lo, 0.82 - 12.7062047361747 * 0.02);
	/* Unknown with one trial: the mean. */
	assert_close(v[0].traced_cpu.lo, 0.72);
	assert_close(v[0].traced_cpu.hi, 0.72);
	free(v);
	ltb_plot_data_free(&d);
}

static void
memory_series_average_trials_per_rate_and_runtime(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_series *s;

	result(&d, 1, 500, 0.7, 500, "\"clock_time\":3,"
	    "\"memory_list\":[1048576,2097152,3145728]");
	result(&d, 1, 100, 0.7, 100, "\"clock_time\":2,"
	    "\"memory_list\":[1048576,1048576]");
	result(&d, 1, 500, 0.7, 500, "\"clock_time\":2,"
	    "\"memory_list\":[3145728,4194304]");
	/* Left out: NoOp, failed, with satellite events, no samples. */
	result(&d, 0, 500, 0.7, 500, "\"memory_list\":[1]");
	result(&d, 1, 500, 0.7, 500, "\"memory_list\":[1],\"error\":\"x\"");
	result(&d, 1, 500, 0.7, 500, "\"memory_list\":[1],\"events\":"
	    "[{\"t\":1,\"event\":\"satellite_down\"}]");
	result(&d, 1, 2000, 0.7, 2000, "");

	assert_int_equal(ltb_plot_memory_series(&d, "c", 0, &s), 2);
	assert_close(s[0].target_sps, 100);
	assert_int_equal(s[1].nruns, 2);
	assert_int_equal(s[1].n, 3);
	/* Sample k at (k + 1) * clock_time / samples: 1 s for both. */
	assert_close(s[1].t[0], 1);
	assert_close(s[1].mib[0], 2);
	assert_close(s[1].mib[1], 3);
	/* Only the longer run has a third sample. */
	assert_close(s[1].t[2], 3);
	assert_close(s[1].mib[2], 3);
	ltb_plot_series_free(s, 2);

	assert_int_equal(ltb_plot_memory_series(&d, "c", 0.5, &s), 2);
	assert_close(s[1].t[1], 1.0);
	ltb_plot_series_free(s, 2);
	ltb_plot_data_free(&d);
}

static void
script_steps_are_kept_with_their_length_and_answer(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	const struct ltb_plot_run *r;
	char err[256];

	add_ok(&d, "{\"type\":\"result\",\"client\":\"c\",\"trace\":true,"
	    "\"target_sps\":500,\"spans_sent\":1000,\"events\":[{\"t\":1.5,"
	    "\"event\":\"script_step\",\"step\":0,\"for_s\":2,"
	    "\"answer\":\"429 Retry-After 2\"},{\"t\":5,\"event\":"
	    "\"satellite_down\"}]}");
	r = &d.runs[0];
	assert_int_equal(r->nevents, 2);
	assert_true(r->events[0].script);
	assert_false(r->events[0].up);
	assert_close(r->events[0].t, 1.5);
	assert_close(r->events[0].for_s, 2);
	assert_string_equal(r->events[0].answer, "429 Retry-After 2");
	assert_false(r->events[1].script);
	/* A step must say how long it lasts. */
	assert_int_equal(add(&d, "{\"type\":\"result\",\"client\":\"c\","
	    "\"trace\":true,\"target_sps\":1,\"events\":[{\"t\":1,"
	    "\"event\":\"script_step\"}]}", 9, err, sizeof err), -1);
	assert_string_equal(err, "t.jsonl:9: result with a malformed "
	    "script_step in \"events\"");
	ltb_plot_data_free(&d);
}

static void
disconnect_picks_one_run_of_each_kind(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	const struct ltb_plot_run *pick[LTB_PLOT_DISC_N];
	const char *down = "\"memory_list\":[1],\"events\":[{\"t\":30,"
	    "\"event\":\"satellite_down\"}]";
	const char *downup = "\"memory_list\":[1],\"events\":[{\"t\":30,"
	    "\"event\":\"satellite_down\"},{\"t\":120,"
	    "\"event\":\"satellite_up\"}]";

	const char *script = "\"memory_list\":[1],\"events\":[{\"t\":3,"
	    "\"event\":\"script_step\",\"for_s\":2,\"answer\":\"503\"}]";

	result(&d, 1, 50, 0.7, 50, downup);
	result(&d, 1, 50, 0.7, 50, "\"memory_list\":[1]");
	result(&d, 1, 50, 0.7, 50, down);
	result(&d, 1, 50, 0.7, 50, "\"memory_list\":[2]");
	assert_int_equal(ltb_plot_disconnect_pick(&d, "c", pick), 3);
	assert_null(pick[LTB_PLOT_DISC_NOOP]);
	assert_ptr_equal(pick[LTB_PLOT_DISC_TRACED], &d.runs[1]);
	assert_ptr_equal(pick[LTB_PLOT_DISC_DOWN], &d.runs[2]);
	assert_ptr_equal(pick[LTB_PLOT_DISC_DOWNUP], &d.runs[0]);
	assert_null(pick[LTB_PLOT_DISC_SCRIPT]);
	/* A scripted run is neither merely traced nor taken down. */
	result(&d, 1, 50, 0.7, 50, script);
	assert_int_equal(ltb_plot_disconnect_pick(&d, "c", pick), 4);
	assert_ptr_equal(pick[LTB_PLOT_DISC_SCRIPT], &d.runs[4]);
	assert_ptr_equal(pick[LTB_PLOT_DISC_TRACED], &d.runs[1]);
	ltb_plot_data_free(&d);
}

static void
select_borrows_the_runs_of_a_label(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO, view;

	result(&d, 1, 50, 0.7, 50, "\"label\":\"memory\"");
	result(&d, 1, 50, 0.7, 50, "");
	result(&d, 0, 50, 0.7, 50, "\"label\":\"memory\"");
	assert_int_equal(ltb_plot_select(&d, "memory", &view), 2);
	assert_ptr_equal(view.runs[1].client, d.runs[2].client);
	free(view.runs);
	assert_int_equal(ltb_plot_select(&d, "cpu", &view), 0);
	free(view.runs);
	ltb_plot_data_free(&d);
}

/* What fn writes on a memory stream, for checking. */
static char *
written(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, s);
	fclose(f);
	return buf;
}

static void
strings_are_quoted_for_gnuplot_and_html(void **unused)
{
	char *s;

	s = written(ltb_plot_gp_string, "it's\na_b");
	assert_string_equal(s, "'it''s a_b'");
	free(s);
	s = written(ltb_plot_html_text, "<a href=\"x\">&'</a>");
	assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
	    "&lt;/a&gt;");
	free(s);
}

static void
graph_names_and_formats(void **unused)
{
	assert_int_equal(ltb_plot_graph_parse("cpu"), LTB_PLOT_CPU);
	assert_int_equal(ltb_plot_graph_parse("report"), -1);
	assert_string_equal(ltb_plot_graph_name(LTB_PLOT_DISCONNECT),
	    "disconnect");
	assert_int_equal(ltb_plot_format_of("a/b.SVG"), LTB_PLOT_SVG);
	assert_int_equal(ltb_plot_format_of("a.svg.png"), LTB_PLOT_PNG);
	assert_int_equal(ltb_plot_format_of("svg"), LTB_PLOT_PNG);
}

static void
script_without_suitable_runs_says_why(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_opts o = { 0 };
	char err[256], *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	result(&d, 0, 50, 0.7, 50, "\"memory_list\":[1]");
	errno = 0;
	assert_int_equal(ltb_plot_script(f, LTB_PLOT_MEMORY, &d, &o, err,
	    sizeof err), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "no traced results with memory_list: "
	    "nothing to draw");
	assert_int_equal(ltb_plot_script(f, LTB_PLOT_CPU, &d, &o, err,
	    sizeof err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "$noop << EOD\n50 50 0.7 0.7 0.7 1\n"));
	assert_non_null(strstr(buf, "set terminal pngcairo"));
	assert_null(strstr(buf, "$overhead using"));
	free(buf);
	ltb_plot_data_free(&d);
}

static void
report_prefixes_svg_ids_per_figure(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_opts o = { 0 };
	struct ltb_plot_figure figs[2];
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	result(&d, 1, 50, 0.7, 50, "");
	memset(figs, 0, sizeof figs);
	figs[0].graph = LTB_PLOT_CPU;
	figs[0].svg = "<?xml version=\"1.0\"?>\n<svg valid='1'><g id='a'/>"
	    "<g id='a'/><use xlink:href='#a'/><path fill='url(#b)'/></svg>";
	figs[1].graph = LTB_PLOT_DROPPED;
	snprintf(figs[1].note, sizeof figs[1].note, "no <drops>");
	assert_int_equal(ltb_plot_report(f, &d, &o, figs, 2), 0);
	fclose(f);
	assert_non_null(strstr(buf, "<svg valid='1'><g id='f1-a'/>"
	    "<g id='f1-a-2'/><use xlink:href='#f1-a'/>"
	    "<path fill='url(#f1-b)'/></svg>"));
	assert_null(strstr(buf, "<?xml"));
	assert_non_null(strstr(buf, "No dropped graph: no &lt;drops&gt;."));
	free(buf);
	ltb_plot_data_free(&d);
}

/* A pair at rate with spans, its NoOp run using base CPU-s and its traced
 * run base + extra, each over clock seconds; label "cpu" or none. */
static void
pair(struct ltb_plot_data *d, double rate, int trial, double spans,
    double base, double extra, double clock, const char *label)
{
	char more[512];
	int t;

	for (t = 1; t >= 0; t--) {
		snprintf(more, sizeof more, "\"trial\":%d,\"spans_sent\":%g,"
		    "\"program_time\":%.10g,\"clock_time\":%g,\"label\":"
		    "\"%s\"", trial, spans, t ? base + extra : base, clock,
		    label);
		result(d, t, rate, (t ? base + extra : base) / clock,
		    spans / clock, more);
	}
}

static void
cost_is_the_judges_fit_as_cpu_at_each_rate(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_opts o = { 0 };
	struct ltb_plot_cost pc;
	char err[256];
	size_t i;

	/* 10 ms a run and 2000 ns a span, exactly: the interval is the
	 * point, and the fitted line passes through every pair. */
	pair(&d, 1000, 0, 2000, 1.4, 0.01 + 2000 * 2e-6, 2, "cpu");
	pair(&d, 1000, 1, 2000, 1.4, 0.01 + 2000 * 2e-6, 2, "cpu");
	pair(&d, 4000, 0, 8000, 1.4, 0.01 + 8000 * 2e-6, 2.5, "cpu");
	pair(&d, 2000, 0, 4000, 1.4, 0.01 + 4000 * 2e-6, 2, "cpu");
	/* another experiment's runs, which the cpu graph does not draw */
	pair(&d, 2000, 0, 4000, 1.4, 0.5, 2, "dropped");
	assert_int_equal(ltb_plot_cpu_cost(&d, &o, &pc, err, sizeof err), 0);
	assert_true(pc.fit.known && pc.fit.resolved);
	assert_int_equal(pc.fit.npairs, 4);
	assert_true(fabs(pc.fit.ns_per_span - 2000) < 1e-3);
	assert_true(fabs(pc.fit.intercept_s - 0.01) < 1e-9);
	for (i = 0; i < pc.fit.npairs; i++)
		assert_null(pc.fit.pairs[i].test);
	/* the pairs as points: extra CPU-s over the traced clock time */
	for (i = 0; i < pc.fit.npairs; i++)
		if (pc.points[i].target_sps == 4000) {
			assert_true(fabs(pc.points[i].cpu - 0.026 / 2.5) <
			    1e-9);
			assert_close(pc.points[i].sps, 8000 / 2.5);
		}
	assert_string_equal(pc.line, "cost per span: 2000 ns/span (95% CI "
	    "2000 to 2000, OLS over 4 pairs)");
	/* by rate, ascending; CPU over each rate's own clock time */
	assert_int_equal(pc.nrates, 3);
	assert_close(pc.rates[0].target_sps, 1000);
	assert_int_equal(pc.rates[0].npairs, 2);
	assert_close(pc.rates[0].spans, 2000);
	assert_true(fabs(pc.rates[0].cpu - 0.014 / 2) < 1e-9);
	assert_close(pc.rates[1].target_sps, 2000);
	assert_close(pc.rates[2].target_sps, 4000);
	assert_close(pc.rates[2].clock_s, 2.5);
	assert_close(pc.rates[2].sps, 8000 / 2.5);
	assert_true(fabs(pc.rates[2].cpu - 0.026 / 2.5) < 1e-9);
	assert_true(fabs(pc.rates[2].lo - pc.rates[2].cpu) < 1e-9);
	assert_true(fabs(pc.rates[2].hi - pc.rates[2].cpu) < 1e-9);
	ltb_plot_cost_free(&pc);

	/* all the runs: the other experiment's pair bends the line */
	assert_int_equal(ltb_plot_cost(&d, "c", &pc), 0);
	assert_int_equal(pc.fit.npairs, 5);
	assert_true(pc.rates[1].hi > pc.rates[1].lo);
	ltb_plot_cost_free(&pc);
	ltb_plot_data_free(&d);
}

static void
cost_says_when_there_is_no_fit(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_cost pc;

	pair(&d, 1000, 0, 2000, 1.4, 0.014, 2, "");
	assert_int_equal(ltb_plot_cost(&d, "c", &pc), 0);
	assert_false(pc.fit.known);
	assert_int_equal(pc.nrates, 1);
	assert_true(isnan(pc.rates[0].cpu));
	assert_string_equal(pc.line, "cost per span not known: 1 pair (it "
	    "needs 3 or more, traced and NoOp at 2 rates or more)");
	ltb_plot_cost_free(&pc);
	/* the same plan twice cannot be paired: said, not an error */
	pair(&d, 1000, 0, 2000, 1.4, 0.014, 2, "");
	assert_int_equal(ltb_plot_cost(&d, "c", &pc), 0);
	assert_false(pc.fit.known);
	assert_non_null(strstr(pc.line, "cost per span not known: t.jsonl:"));
	assert_non_null(strstr(pc.line, "two base runs"));
	ltb_plot_cost_free(&pc);
	ltb_plot_data_free(&d);
}

static void
report_shows_inconclusive_verdicts_as_neither(void **unused)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_opts o = { 0 };
	struct ltb_plot_figure fig;
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	result(&d, 1, 50, 0.7, 50, "");
	add_ok(&d, "{\"type\":\"verdict\",\"gate\":\"max-ns-per-span\","
	    "\"pass\":\"inconclusive\"}");
	memset(&fig, 0, sizeof fig);
	fig.graph = LTB_PLOT_CPU;
	assert_int_equal(ltb_plot_report(f, &d, &o, &fig, 1), 0);
	fclose(f);
	assert_non_null(strstr(buf, "<tr class=\"inconclusive\">"));
	assert_non_null(strstr(buf, "<span class=\"inconclusive\">"
	    "INCONCLUSIVE</span>"));
	assert_null(strstr(buf, "FAIL"));
	free(buf);
	ltb_plot_data_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(results_become_runs_and_the_rest_is_sorted),
		cmocka_unit_test(bad_results_name_file_and_line),
		cmocka_unit_test(one_client_or_a_choice),
		cmocka_unit_test(rates_give_means_spreads_and_the_tracers_cpu),
		cmocka_unit_test(a_tracer_behind_its_rate_is_drawn_in_cpu_seconds),
		cmocka_unit_test(
		    memory_series_average_trials_per_rate_and_runtime),
		cmocka_unit_test(
		    script_steps_are_kept_with_their_length_and_answer),
		cmocka_unit_test(disconnect_picks_one_run_of_each_kind),
		cmocka_unit_test(select_borrows_the_runs_of_a_label),
		cmocka_unit_test(strings_are_quoted_for_gnuplot_and_html),
		cmocka_unit_test(graph_names_and_formats),
		cmocka_unit_test(script_without_suitable_runs_says_why),
		cmocka_unit_test(report_prefixes_svg_ids_per_figure),
		cmocka_unit_test(cost_is_the_judges_fit_as_cpu_at_each_rate),
		cmocka_unit_test(cost_says_when_there_is_no_fit),
		cmocka_unit_test(report_shows_inconclusive_verdicts_as_neither),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
