/*
 * ltb_plot_html.c: ltb-plot's HTML report; see ltb_plot.h.
 *
 * One page that needs nothing else: first how much of the plan ran (a
 * report of a plan cut short must say so before anything else, or its
 * graphs pass for the whole story), then the verdicts, the comparison with
 * a baseline when one is given, the graphs as inline SVG (gnuplot's own,
 * with its element ids prefixed per figure so that two figures' "gpPt0"
 * markers do not collide), the cpu graph's cost per span in words and as
 * a table with its interval, a row per run, the machine noise of each run
 * and the calibrations. Every text that comes from the records goes
 * through ltb_plot_html_text.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ltb_jsonl.h"
#include "plot/ltb_plot.h"
#include "records/ltb_records.h"

static const char style[] =
"body{font-family:sans-serif;margin:1.5em auto;max-width:72em;"
"padding:0 1em;color:#202020}\n"
"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;"
"border-bottom:1px solid #ccc}\n"
"table{border-collapse:collapse;font-size:.9em;margin:.5em 0}\n"
"th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}\n"
"th{background:#f0f0f0}td.t{text-align:left}\n"
"tr.failed td{background:#fde8e8}\n"
"span.pass{color:#fff;background:#1a7f37;font-weight:bold;"
"padding:0 .4em}\n"
"span.fail{color:#fff;background:#c62828;font-weight:bold;"
"padding:0 .4em}\n"
"span.inconclusive{color:#fff;background:#8a5a00;font-weight:bold;"
"padding:0 .4em}\n"
"p.cost{background:#f3eefa;padding:.4em .6em}\n"
"p.plan{padding:.4em .6em}p.complete{background:#e6f4ea}\n"
"p.incomplete,p.failed{background:#fde8e8;border:2px solid #c62828}\n"
"p.incomplete strong,p.failed strong{color:#c62828}\n"
"figure{margin:1em 0}figure svg{max-width:100%;height:auto}\n"
"figcaption{font-weight:bold;margin-bottom:.3em}\n"
"p.skip{color:#8a5a00;background:#fff6e0;padding:.4em .6em}\n";

/* Each with the unit's word where it has one ("span rate"); the dropped
 * graph's starts with the plural, and caption() writes it. */
static const char *const captions[LTB_PLOT_NGRAPHS] = {
	/* Parenthesised: one string on purpose (clang -Wstring-concatenation). */
	("Memory with unreliable satellites (NoOp, traced, satellites down, "
	    "down then up)"),
	"Memory over time at each %s rate (traced)",
	"CPU against %s rate, NoOp and traced, and the tracer's own CPU",
	NULL,
};

/* Caption of graph g in unit's words. */
static void
caption(char *buf, size_t len, enum ltb_plot_graph g, const char *unit)
{
	char plural[32];

	snprintf(plural, sizeof plural, "%s", ltb_unit_plural(unit));
	plural[0] = (char)(plural[0] - 'a' + 'A');
	if (g == LTB_PLOT_DROPPED)
		snprintf(buf, len, "%s dropped and CPU against %s rate "
		    "(traced)", plural, ltb_unit_word(unit));
	else if ((unsigned)g < LTB_PLOT_NGRAPHS && g != LTB_PLOT_DISCONNECT)
		snprintf(buf, len, captions[g], ltb_unit_word(unit));
	else
		snprintf(buf, len, "%s", (unsigned)g < LTB_PLOT_NGRAPHS ?
		    captions[g] : ltb_plot_graph_name(g));
}

void
ltb_plot_html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			putc(*s, f);
		}
	}
}

/* A number cell, "-" when unknown. */
static void
td_num(FILE *f, const char *fmt, double x)
{
	fputs("<td>", f);
	if (isnan(x))
		fputs("-", f);
	else
		fprintf(f, fmt, x);
	fputs("</td>", f);
}

static void
td_text(FILE *f, const char *s)
{
	fputs("<td class=\"t\">", f);
	ltb_plot_html_text(f, s);
	fputs("</td>", f);
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The ids of one figure so far, to tell a repeated one. */
struct idset {
	char **v;
	size_t n, cap;
};

/* How many times id was seen before; -1 when out of memory. */
static long
seen(struct idset *ids, const char *id, size_t len)
{
	size_t i;
	long k = 0;
	char **p;

	for (i = 0; i < ids->n; i++)
		if (strlen(ids->v[i]) == len && memcmp(ids->v[i], id, len) ==
		    0)
			k++;
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 64;
		if ((p = realloc(ids->v, ids->cap * sizeof *p)) == NULL)
			return -1;
		ids->v = p;
	}
	if ((ids->v[ids->n] = strndup(id, len)) == NULL)
		return -1;
	ids->n++;
	return k;
}

static void
idset_free(struct idset *ids)
{
	while (ids->n > 0)
		free(ids->v[--ids->n]);
	free(ids->v);
}

/*
 * gnuplot's SVG without its XML prolog, every id="x" as id="fN-x" and
 * every reference to one (href="#x", url(#x)) to match, so figures do not
 * share ids. gnuplot itself repeats some ids of its plot groups (a key
 * drawn twice); a repeat becomes "fN-x-2", leaving references (which
 * name the marker definitions, never repeated) to the first.
 */
static int
inline_svg(FILE *f, const char *svg, int fig)
{
	const char *s = strstr(svg, "<svg"), *q;
	struct idset ids = { NULL, 0, 0 };
	char prev = ' ';
	long k;

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		/* An attribute name follows a blank: "valid='" is no id. */
		if ((prev == ' ' || prev == '\t' || prev == '\n') &&
		    (starts(s, "id='") || starts(s, "id=\"")) &&
		    (q = strchr(s + 4, s[3])) != NULL) {
			if ((k = seen(&ids, s + 4, (size_t)(q - s - 4))) < 0) {
				idset_free(&ids);
				errno = ENOMEM;
				return -1;
			}
			fprintf(f, "%.4sf%d-%.*s", s, fig, (int)(q - s - 4),
			    s + 4);
			if (k > 0)
				fprintf(f, "-%ld", k + 1);
			s = q;
		} else if (starts(s, "href='#") || starts(s, "href=\"#")) {
			fprintf(f, "%.7sf%d-", s, fig);
			s += 7;
		} else if (starts(s, "url(#")) {
			fprintf(f, "url(#f%d-", fig);
			s += 5;
		} else {
			putc(*s, f);
			prev = *s++;
			continue;
		}
		prev = s[-1];
	}
	putc('\n', f);
	idset_free(&ids);
	return 0;
}

/* A fitted figure to four digits, but whole from 10000 on: "16146", not
 * "1.615e+04", for nanoseconds. */
static void
fit_num(FILE *f, double x)
{
	if (fabs(x) >= 1e4 && fabs(x) < 1e15)
		fprintf(f, "%.0f", x);
	else
		fprintf(f, "%.4g", x);
}

/* "6310 ± 1531": a fitted figure and the half width of its 95% interval
 * (Student's, so symmetric), in one cell. */
static void
td_pm(FILE *f, const char *id, double x, double lo, double hi)
{
	if (id != NULL)
		fprintf(f, "<td id=\"%s\">", id);
	else
		fputs("<td>", f);
	if (isnan(x))
		fputs("-", f);
	else {
		fit_num(f, x);
		if (!isnan(lo) && !isnan(hi)) {
			fputs(" &#177; ", f);
			fit_num(f, (hi - lo) / 2);
		}
	}
	fputs("</td>", f);
}

/* "lo to hi" of a fit. */
static void
td_interval(FILE *f, double lo, double hi)
{
	fputs("<td>", f);
	fit_num(f, lo);
	fputs(" to ", f);
	fit_num(f, hi);
	fputs("</td>", f);
}

/* The fit as numbers, for a reader who wants the figure and its interval
 * rather than the sentence: the unresolved sentence gives only the
 * interval, and the estimate itself is worth seeing next to it. */
static void
cost_table(FILE *f, const struct ltb_cost *c)
{
	const char *word = ltb_unit_word(c->unit);

	if (!c->known)
		return;
	fprintf(f, "<table class=\"cost\" id=\"cost-table\">\n<tr><th></th>"
	    "<th>estimate &#177; 95%% CI</th><th>95%% CI</th><th>pairs</th>"
	    "<th>resolved</th></tr>\n<tr><th>cost per %s (ns/%s)</th>",
	    word, word);
	td_pm(f, "cost-ns", c->ns_per_span, c->lo, c->hi);
	td_interval(f, c->lo, c->hi);
	fprintf(f, "<td>%zu</td>", c->npairs);
	td_text(f, c->resolved ? "resolved" : "not resolved from 0");
	fputs("</tr>\n<tr><th>fixed cost per run (CPU-s)</th>", f);
	td_pm(f, "cost-fixed", c->intercept_s, c->intercept_lo,
	    c->intercept_hi);
	td_interval(f, c->intercept_lo, c->intercept_hi);
	fprintf(f, "<td>%zu</td>", c->npairs);
	td_text(f, "");
	fputs("</tr>\n</table>\n", f);
}

/* The cost per span of the cpu graph's runs, in words: what the graph
 * draws as its fitted line. */
static int
cost(FILE *f, const struct ltb_plot_data *d, const struct ltb_plot_opts *o)
{
	struct ltb_plot_cost pc;
	char err[512];

	if (ltb_plot_cpu_cost(d, o, &pc, err, sizeof err) < 0)
		return errno == ENOMEM ? -1 : 0;
	fprintf(f, "<p class=\"cost\" id=\"cost-per-span\">The tracer's "
	    "CPU, fitted to each pair's extra CPU (traced minus NoOp "
	    "program_time) against its %s over every rate: ",
	    ltb_unit_plural(pc.fit.unit));
	ltb_plot_html_text(f, pc.line);
	if (pc.fit.known) {
		fputs(". Fixed cost per run, apart: ", f);
		fprintf(f, "%.4g CPU-s (95%% CI %.4g to %.4g)",
		    pc.fit.intercept_s, pc.fit.intercept_lo,
		    pc.fit.intercept_hi);
	}
	if (pc.fit.failed > 0)
		fprintf(f, "; %zu pair%s left out, a run failed",
		    pc.fit.failed, pc.fit.failed == 1 ? "" : "s");
	if (pc.fit.unpaired > 0)
		fprintf(f, "; %zu run%s without a partner left out",
		    pc.fit.unpaired, pc.fit.unpaired == 1 ? "" : "s");
	fputs(".</p>\n", f);
	cost_table(f, &pc.fit);
	ltb_plot_cost_free(&pc);
	return 0;
}

static int
figures(FILE *f, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, const struct ltb_plot_figure *figs,
    size_t n)
{
	const char *unit;
	char cap[160], err[512];
	size_t i;

	/* the graphs' unit; runs in two have no graph, but for memory */
	if (ltb_plot_unit(d, o->client, &unit, err, sizeof err) < 0)
		unit = "span";
	fputs("<h2>Graphs</h2>\n", f);
	for (i = 0; i < n; i++) {
		const char *name = ltb_plot_graph_name(figs[i].graph);

		if (figs[i].svg == NULL) {
			fprintf(f, "<p class=\"skip\">No %s graph: ", name);
			ltb_plot_html_text(f, figs[i].note);
			fputs(".</p>\n", f);
			continue;
		}
		fprintf(f, "<figure id=\"graph-%s\">\n<figcaption>", name);
		caption(cap, sizeof cap, figs[i].graph, unit);
		ltb_plot_html_text(f, cap);
		fputs("</figcaption>\n", f);
		if (inline_svg(f, figs[i].svg, (int)i + 1) < 0)
			return -1;
		fputs("</figure>\n", f);
		if (figs[i].graph == LTB_PLOT_CPU && cost(f, d, o) < 0)
			return -1;
	}
	return 0;
}

static void
verdicts(FILE *f, const struct ltb_plot_data *d)
{
	static const char *const cls[] = { "fail", "pass", "inconclusive" };
	static const char *const word[] = { "FAIL", "PASS", "INCONCLUSIVE" };
	static const char *const row[] = { "failed", "passed",
	    "inconclusive" };
	const cJSON *v, *value, *lim, *p;
	size_t i;
	int pass;

	if (d->nverdicts == 0)
		return;
	fputs("<h2>Verdicts</h2>\n<table>\n<tr><th>gate</th><th>verdict</th>"
	    "<th>value</th><th>limit</th><th>detail</th></tr>\n", f);
	for (i = 0; i < d->nverdicts; i++) {
		v = d->verdicts[i];
		/* pass is true, false, or "inconclusive": neither */
		p = cJSON_GetObjectItemCaseSensitive(v, "pass");
		pass = cJSON_IsString(p) && strcmp(p->valuestring,
		    "inconclusive") == 0 ? 2 : cJSON_IsTrue(p);
		value = cJSON_GetObjectItemCaseSensitive(v, "value");
		lim = cJSON_GetObjectItemCaseSensitive(v, "limit");
		fprintf(f, "<tr class=\"%s\">", row[pass]);
		td_text(f, ltb_json_str(v, "gate", "?"));
		fprintf(f, "<td class=\"t\"><span class=\"%s\">%s</span>"
		    "</td>", cls[pass], word[pass]);
		td_num(f, "%.6g", cJSON_IsNumber(value) ?
		    value->valuedouble : NAN);
		td_num(f, "%.6g", cJSON_IsNumber(lim) ? lim->valuedouble :
		    NAN);
		td_text(f, ltb_json_str(v, "detail", ""));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
run_cells(FILE *f, size_t i, const struct ltb_plot_run *r)
{
	fprintf(f, "<td>%zu</td>", i + 1);
	td_text(f, r->client);
	td_text(f, r->trace ? "traced" : "NoOp");
	td_num(f, "%.10g", r->target_sps);
	td_num(f, "%.10g", r->trial);
}

static void
runs(FILE *f, const struct ltb_plot_data *d)
{
	const struct ltb_plot_run *r;
	size_t i;

	fputs("<h2>Runs</h2>\n<table>\n<tr><th>#</th><th>client</th>"
	    "<th>tracer</th><th>target sps</th><th>trial</th>"
	    "<th>runtime (s)</th><th>CPU (cores)</th><th>achieved sps</th>"
	    "<th>spans sent</th><th>received</th><th>dropped</th>"
	    "<th>memory max (MiB)</th><th>exit</th><th>error</th>"
	    "<th>label</th><th>record</th></tr>\n", f);
	for (i = 0; i < d->nruns; i++) {
		r = &d->runs[i];
		fprintf(f, "<tr%s>", ltb_plot_run_failed(r) ?
		    " class=\"failed\"" : "");
		run_cells(f, i, r);
		td_num(f, "%.10g", r->runtime);
		td_num(f, "%.4f", r->cpu_usage);
		td_num(f, "%.2f", r->sps);
		td_num(f, "%.0f", r->spans_sent);
		td_num(f, "%.0f", r->spans_received);
		td_num(f, "%.0f", r->dropped);
		td_num(f, "%.2f", r->memory_max / 1048576.0);
		td_num(f, "%.0f", r->exit_status);
		td_text(f, r->error ? r->error : "");
		td_text(f, r->label);
		td_text(f, r->where);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
noise(FILE *f, const struct ltb_plot_data *d)
{
	const struct ltb_plot_run *r;
	size_t i;

	fputs("<h2>Machine noise</h2>\n<p>What else the machine did during "
	    "each run: CPU time stolen by the hypervisor, CPU used by other "
	    "processes and by the mock satellites, and the 1-minute load "
	    "average at the end.</p>\n<table>\n<tr><th>#</th><th>client</th>"
	    "<th>tracer</th><th>target sps</th><th>trial</th>"
	    "<th>steal (s)</th><th>other CPU (s)</th>"
	    "<th>satellite CPU (s)</th><th>load average</th></tr>\n", f);
	for (i = 0; i < d->nruns; i++) {
		r = &d->runs[i];
		fputs("<tr>", f);
		run_cells(f, i, r);
		td_num(f, "%.2f", r->steal_s);
		td_num(f, "%.2f", r->other_cpu_s);
		td_num(f, "%.2f", r->satellite_cpu_s);
		td_num(f, "%.2f", r->loadavg);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
calibrations(FILE *f, const struct ltb_plot_data *d)
{
	const cJSON *c, *e;
	size_t i;
	char *s;

	if (d->ncalibrations == 0)
		return;
	fputs("<h2>Calibration</h2>\n", f);
	for (i = 0; i < d->ncalibrations; i++) {
		c = d->calibrations[i];
		fputs("<table>\n", f);
		cJSON_ArrayForEach(e, c) {
			if (e->string == NULL || strcmp(e->string, "type") ==
			    0 || strcmp(e->string, "v") == 0)
				continue;
			fputs("<tr><th>", f);
			ltb_plot_html_text(f, e->string);
			fputs("</th>", f);
			if (cJSON_IsString(e))
				td_text(f, e->valuestring);
			else if (cJSON_IsNumber(e))
				td_num(f, "%.6g", e->valuedouble);
			else if ((s = cJSON_PrintUnformatted(e)) != NULL) {
				td_text(f, s);
				cJSON_free(s);
			}
			fputs("</tr>\n", f);
		}
		fputs("</table>\n", f);
	}
}

/* What the plan_end records of d say, summed over them (one per
 * ltb-sample whose output was given). */
struct plan_sum {
	size_t ends, incomplete;
	double planned, runs, failed;
	const char *why;	/* the first incomplete one's, or NULL */
};

static void
plan_sum(const struct ltb_plot_data *d, struct plan_sum *ps)
{
	const cJSON *rec;
	size_t i;

	memset(ps, 0, sizeof *ps);
	ps->ends = d->nplan_ends;
	for (i = 0; i < d->nplan_ends; i++) {
		rec = d->plan_ends[i].rec;
		ps->planned += ltb_json_num(rec, "planned", 0);
		ps->runs += ltb_json_num(rec, "runs", 0);
		ps->failed += ltb_json_num(rec, "failed", 0);
		if (!ltb_json_bool(rec, "complete", 0)) {
			if (ps->incomplete++ == 0)
				ps->why = ltb_json_str(rec, "why", NULL);
		}
	}
}

/* "12 of 14 planned runs, none failed" */
static void
plan_counts(FILE *f, const struct plan_sum *ps)
{
	fprintf(f, "%.0f of %.0f planned run%s, ", ps->runs, ps->planned,
	    ps->planned == 1 ? "" : "s");
	if (ps->failed == 0)
		fputs("none failed", f);
	else
		fprintf(f, "%.0f failed", ps->failed);
}

/* The missing runs of the incomplete plans, "a, b", at most max of them. */
static void
plan_missing(FILE *f, const struct ltb_plot_data *d, size_t max)
{
	const cJSON *m, *e;
	size_t i, n = 0, more = 0;

	for (i = 0; i < d->nplan_ends; i++) {
		m = cJSON_GetObjectItemCaseSensitive(d->plan_ends[i].rec,
		    "missing");
		cJSON_ArrayForEach(e, m) {
			if (!cJSON_IsString(e))
				continue;
			if (n == max) {
				more++;
				continue;
			}
			if (n++ == 0)
				fputs(" Missing: ", f);
			else
				fputs(", ", f);
			ltb_plot_html_text(f, e->valuestring);
		}
	}
	if (more > 0)
		fprintf(f, " and %zu more", more);
	if (n > 0)
		putc('.', f);
}

/*
 * How much of the plan ran, first on the page: a plan cut short (or input
 * that cannot say, with no plan_end record) is flagged in red, so nobody
 * reads its graphs as the whole measurement; then a row per plan_end.
 */
static void
plan(FILE *f, const struct ltb_plot_data *d)
{
	struct plan_sum ps;
	const cJSON *rec;
	const char *why;
	size_t i;
	int whole;

	plan_sum(d, &ps);
	if (ps.ends == 0) {
		fputs("<p class=\"plan incomplete\" id=\"plan\"><strong>NOT "
		    "KNOWN TO BE WHOLE</strong>: no plan_end record in the "
		    "input (ltb-sample ends its output with one however its "
		    "plan ends): runs may be missing.</p>\n", f);
		return;
	}
	if (ps.incomplete > 0) {
		fputs("<p class=\"plan incomplete\" id=\"plan\"><strong>"
		    "INCOMPLETE</strong>: ", f);
		plan_counts(f, &ps);
		if (ps.incomplete > 1)
			fprintf(f, "; %zu of %zu plans stopped short", ps.incomplete,
			    ps.ends);
		if (ps.why != NULL) {
			fputs("; ", f);
			ltb_plot_html_text(f, ps.why);
		}
		putc('.', f);
		plan_missing(f, d, 20);
		fputs("</p>\n", f);
	} else if (ps.failed > 0) {
		fputs("<p class=\"plan failed\" id=\"plan\"><strong>RUNS "
		    "FAILED</strong>: the plan ran to its end, ", f);
		plan_counts(f, &ps);
		fputs(" (in the tables, left out of the graphs).</p>\n", f);
	} else {
		fputs("<p class=\"plan complete\" id=\"plan\">The plan ran "
		    "whole: ", f);
		plan_counts(f, &ps);
		fputs(".</p>\n", f);
	}
	fputs("<table id=\"plan-table\">\n<tr><th>plan_end</th><th>planned"
	    "</th><th>runs</th><th>failed</th><th>complete</th><th>why</th>"
	    "</tr>\n", f);
	for (i = 0; i < d->nplan_ends; i++) {
		rec = d->plan_ends[i].rec;
		whole = ltb_json_bool(rec, "complete", 0);
		why = ltb_json_str(rec, "why", "");
		fprintf(f, "<tr%s>", whole ? "" : " class=\"failed\"");
		td_text(f, d->plan_ends[i].where);
		td_num(f, "%.0f", ltb_json_num(rec, "planned", NAN));
		td_num(f, "%.0f", ltb_json_num(rec, "runs", NAN));
		td_num(f, "%.0f", ltb_json_num(rec, "failed", NAN));
		td_text(f, whole ? "yes" : "no");
		td_text(f, why);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/*
 * The comparison with a baseline (ltb-plot report --baseline FILE): the
 * same figures of the two inputs side by side, over the runs the cpu
 * graph draws of each (its label and client).
 */

/* The change from base to cur: relative when base is not 0. */
static void
td_change(FILE *f, double cur, double base)
{
	if (isnan(cur) || isnan(base))
		fputs("<td>-</td>", f);
	else if (cur == base)
		fputs("<td class=\"same\">0</td>", f);
	else if (base == 0)
		fprintf(f, "<td class=\"%s\">%+.4g</td>", cur > base ? "up" :
		    "down", cur - base);
	else
		fprintf(f, "<td class=\"%s\">%+.1f%%</td>", cur > base ? "up" :
		    "down", (cur - base) / fabs(base) * 100);
}

/* One row: name, the two figures in fmt, the change. */
static void
compare_row(FILE *f, const char *name, const char *fmt, double cur,
    double base)
{
	fputs("<tr><th>", f);
	ltb_plot_html_text(f, name);
	fputs("</th>", f);
	td_num(f, fmt, cur);
	td_num(f, fmt, base);
	td_change(f, cur, base);
	fputs("</tr>\n", f);
}

/* The runs the cpu graph draws of a report's input, and their client. */
struct cpu_view {
	struct ltb_plot_data d;	/* borrows the runs */
	int owned;		/* d.runs is a selection of ours to free */
	const char *client;
};

/* 0, or -1 with errno and err. */
static int
cpu_runs(const struct ltb_plot_data *d, const struct ltb_plot_opts *o,
    struct cpu_view *v, char *err, size_t errlen)
{
	const char *label = ltb_plot_graph_label(LTB_PLOT_CPU, d, o);

	memset(v, 0, sizeof *v);
	if (label != NULL) {
		if (ltb_plot_select(d, label, &v->d) < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		v->owned = 1;
	} else {
		v->d.runs = d->runs;
		v->d.nruns = d->nruns;
	}
	if (ltb_plot_client(&v->d, o->client, &v->client, err, errlen) < 0) {
		if (v->owned)
			free(v->d.runs);
		return -1;
	}
	return 0;
}

static void
cpu_runs_free(struct cpu_view *v)
{
	if (v->owned)
		free(v->d.runs);
}

/* The mean memory_max, MiB, of the successful traced runs of client. */
static double
memory_max(const struct ltb_plot_data *d, const char *client)
{
	double sum = 0;
	size_t i, n = 0;

	for (i = 0; i < d->nruns; i++) {
		const struct ltb_plot_run *r = &d->runs[i];

		if (!r->trace || ltb_plot_run_failed(r) ||
		    strcmp(r->client, client) != 0 || isnan(r->memory_max))
			continue;
		sum += r->memory_max / 1048576.0;
		n++;
	}
	return n ? sum / (double)n : NAN;
}

/* A verdict's value and word in one cell: "12 PASS". */
static void
td_verdict(FILE *f, const cJSON *v)
{
	static const char *const cls[] = { "fail", "pass", "inconclusive" };
	static const char *const word[] = { "FAIL", "PASS", "INCONCLUSIVE" };
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(v, "value");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "pass");
	int pass = cJSON_IsString(p) && strcmp(p->valuestring,
	    "inconclusive") == 0 ? 2 : cJSON_IsTrue(p);

	fputs("<td>", f);
	if (cJSON_IsNumber(value))
		fprintf(f, "%.6g ", value->valuedouble);
	fprintf(f, "<span class=\"%s\">%s</span></td>", cls[pass], word[pass]);
}

/* The gates both inputs judged, value against value. */
static void
compare_gates(FILE *f, const struct ltb_plot_data *d,
    const struct ltb_plot_data *b)
{
	const cJSON *cv, *bv, *x, *y;
	const char *gate;
	size_t i, j;

	for (i = 0; i < d->nverdicts; i++) {
		cv = d->verdicts[i];
		gate = ltb_json_str(cv, "gate", "?");
		for (j = 0; j < b->nverdicts; j++)
			if (strcmp(ltb_json_str(b->verdicts[j], "gate", ""),
			    gate) == 0)
				break;
		if (j == b->nverdicts)
			continue;
		bv = b->verdicts[j];
		fputs("<tr><th>gate ", f);
		ltb_plot_html_text(f, gate);
		fputs("</th>", f);
		td_verdict(f, cv);
		td_verdict(f, bv);
		x = cJSON_GetObjectItemCaseSensitive(cv, "value");
		y = cJSON_GetObjectItemCaseSensitive(bv, "value");
		td_change(f, cJSON_IsNumber(x) ? x->valuedouble : NAN,
		    cJSON_IsNumber(y) ? y->valuedouble : NAN);
		fputs("</tr>\n", f);
	}
}

/* "its plan ran whole", or what is wrong with it. */
static void
plan_words(FILE *f, const struct ltb_plot_data *b)
{
	struct plan_sum ps;

	plan_sum(b, &ps);
	if (ps.ends == 0)
		fputs("it has no plan_end record: it may not be whole", f);
	else if (ps.incomplete > 0) {
		fputs("its plan is <strong>incomplete</strong> (", f);
		plan_counts(f, &ps);
		if (ps.why != NULL) {
			fputs("; ", f);
			ltb_plot_html_text(f, ps.why);
		}
		putc(')', f);
	} else if (ps.failed > 0) {
		fputs("its plan ran to its end but ", f);
		plan_counts(f, &ps);
	} else
		fputs("its plan ran whole", f);
}

/* Both sides' rows of the cost: the fit and its interval, and the change
 * of the estimates. */
static void
compare_cost(FILE *f, const struct ltb_cost *c, const struct ltb_cost *b)
{
	const char *word = ltb_unit_word(c->unit);
	double cn = c->known ? c->ns_per_span : NAN;
	double bn = b->known ? b->ns_per_span : NAN;

	fprintf(f, "<tr><th>cost per %s (ns/%s)</th>", word, word);
	td_pm(f, NULL, cn, c->lo, c->hi);
	td_pm(f, NULL, bn, b->lo, b->hi);
	td_change(f, cn, bn);
	fputs("</tr>\n<tr><th>fixed cost per run (CPU-s)</th>", f);
	cn = c->known ? c->intercept_s : NAN;
	bn = b->known ? b->intercept_s : NAN;
	td_pm(f, NULL, cn, c->intercept_lo, c->intercept_hi);
	td_pm(f, NULL, bn, b->intercept_lo, b->intercept_hi);
	td_change(f, cn, bn);
	fputs("</tr>\n", f);
}

/* Per rate both have: the tracer's CPU, the traced CPU, the achieved
 * rate and the drops. */
static void
compare_rates(FILE *f, const struct ltb_plot_rate *cr, long nc,
    const struct ltb_plot_rate *br, long nb)
{
	char name[128];
	long i, j;

	for (i = 0; i < nc; i++) {
		for (j = 0; j < nb && br[j].target_sps != cr[i].target_sps; j++)
			;
		if (j == nb)
			continue;
		snprintf(name, sizeof name, "tracer CPU at %g sps (cores)",
		    cr[i].target_sps);
		compare_row(f, name, "%.4f", cr[i].overhead.n ?
		    cr[i].overhead.mean : NAN, br[j].overhead.n ?
		    br[j].overhead.mean : NAN);
		snprintf(name, sizeof name, "CPU at %g sps (traced, cores)",
		    cr[i].target_sps);
		compare_row(f, name, "%.4f", cr[i].traced_cpu.n ?
		    cr[i].traced_cpu.mean : NAN, br[j].traced_cpu.n ?
		    br[j].traced_cpu.mean : NAN);
		snprintf(name, sizeof name, "achieved sps at %g sps (traced)",
		    cr[i].target_sps);
		compare_row(f, name, "%.2f", cr[i].traced_sps.n ?
		    cr[i].traced_sps.mean : NAN, br[j].traced_sps.n ?
		    br[j].traced_sps.mean : NAN);
		snprintf(name, sizeof name, "dropped at %g sps (traced, %%)",
		    cr[i].target_sps);
		compare_row(f, name, "%.3g", cr[i].dropped_pct.n ?
		    cr[i].dropped_pct.mean : NAN, br[j].dropped_pct.n ?
		    br[j].dropped_pct.mean : NAN);
	}
}

static int
baseline(FILE *f, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o)
{
	const struct ltb_plot_data *b = o->baseline;
	struct cpu_view cv, bv;
	struct ltb_plot_cost cc, bc;
	struct ltb_plot_rate *cr = NULL, *br = NULL;
	const char *cclient, *bclient;
	char err[512];
	long nc = 0, nb = 0;
	int rc = -1;

	if (b == NULL)
		return 0;
	fputs("<h2 id=\"baseline\">Against the baseline</h2>\n<p>Baseline: ",
	    f);
	ltb_plot_html_text(f, o->baseline_name ? o->baseline_name : "?");
	if (cpu_runs(d, o, &cv, err, sizeof err) < 0) {
		fputs(".</p>\n<p class=\"skip\">No comparison: ", f);
		ltb_plot_html_text(f, err);
		fputs(".</p>\n", f);
		return errno == ENOMEM ? -1 : 0;
	}
	if (cpu_runs(b, o, &bv, err, sizeof err) < 0) {
		cpu_runs_free(&cv);
		fputs(".</p>\n<p class=\"skip\">No comparison: the baseline's "
		    "", f);
		ltb_plot_html_text(f, err);
		fputs(".</p>\n", f);
		return errno == ENOMEM ? -1 : 0;
	}
	cclient = cv.client;
	bclient = bv.client;
	fprintf(f, ", %zu run%s of ", bv.d.nruns, bv.d.nruns == 1 ? "" :
	    "s");
	ltb_plot_html_text(f, bclient);
	fputs("; ", f);
	plan_words(f, b);
	fputs(".</p>\n", f);
	if (strcmp(cclient, bclient) != 0) {
		fputs("<p class=\"skip\">The baseline's client is not this "
		    "report's (", f);
		ltb_plot_html_text(f, cclient);
		fputs("): the figures compare two clients.</p>\n", f);
	}
	memset(&cc, 0, sizeof cc);
	memset(&bc, 0, sizeof bc);
	if (ltb_plot_cost(&cv.d, cclient, &cc) < 0 ||
	    ltb_plot_cost(&bv.d, bclient, &bc) < 0 ||
	    (nc = ltb_plot_rates(&cv.d, cclient, o->spread, &cr)) < 0 ||
	    (nb = ltb_plot_rates(&bv.d, bclient, o->spread, &br)) < 0)
		goto out;
	fputs("<table id=\"baseline-table\">\n<tr><th>figure</th>"
	    "<th>this report</th><th>baseline</th><th>change</th></tr>\n",
	    f);
	compare_cost(f, &cc.fit, &bc.fit);
	compare_rates(f, cr, nc, br, nb);
	compare_row(f, "memory max, traced (MiB)", "%.2f",
	    memory_max(&cv.d, cclient), memory_max(&bv.d, bclient));
	compare_gates(f, d, b);
	fputs("</table>\n", f);
	rc = 0;
out:
	free(cr);
	free(br);
	ltb_plot_cost_free(&cc);
	ltb_plot_cost_free(&bc);
	cpu_runs_free(&cv);
	cpu_runs_free(&bv);
	if (rc < 0)
		errno = ENOMEM;
	return rc;
}

/* "c", or "c, js-lightstep": the clients of the runs. */
static void
clients(FILE *f, const struct ltb_plot_data *d)
{
	size_t i, j;
	int first = 1;

	for (i = 0; i < d->nruns; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(d->runs[j].client, d->runs[i].client) == 0)
				break;
		if (j < i)
			continue;
		if (!first)
			fputs(", ", f);
		ltb_plot_html_text(f, d->runs[i].client);
		first = 0;
	}
}

int
ltb_plot_report(FILE *f, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, const struct ltb_plot_figure *figs,
    size_t nfigs)
{
	size_t i, traced = 0, failed = 0;

	for (i = 0; i < d->nruns; i++) {
		traced += d->runs[i].trace != 0;
		failed += ltb_plot_run_failed(&d->runs[i]) != 0;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>", f);
	if (o->title != NULL)
		ltb_plot_html_text(f, o->title);
	else {
		fputs("ltb report: ", f);
		clients(f, d);
	}
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>",
	    style);
	if (o->title != NULL)
		ltb_plot_html_text(f, o->title);
	else {
		fputs("Tracer benchmark: ", f);
		clients(f, d);
	}
	fprintf(f, "</h1>\n<p>%zu run%s: %zu traced, %zu NoOp; %zu failed "
	    "(in the tables, left out of the graphs).</p>\n", d->nruns,
	    d->nruns == 1 ? "" : "s", traced, d->nruns - traced, failed);
	plan(f, d);
	verdicts(f, d);
	if (baseline(f, d, o) < 0 || figures(f, d, o, figs, nfigs) < 0)
		return -1;
	runs(f, d);
	noise(f, d);
	calibrations(f, d);
	fputs("</body>\n</html>\n", f);
	if (fflush(f) == EOF || ferror(f))
		return -1;
	return 0;
}
