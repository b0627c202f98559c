/*
 * ltb_plot_html.c: ltb-plot's HTML report; see ltb_plot.h.
 *
 * One page that needs nothing else: the graphs as inline SVG (gnuplot's
 * own, with its element ids prefixed per figure so that two figures'
 * "gpPt0" markers do not collide), the cpu graph's cost per span in words,
 * then the verdicts, a row per run, the machine noise of each run and the
 * calibrations. Every text that comes
 * from the records goes through ltb_plot_html_text.
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
".pass{color:#fff;background:#1a7f37;font-weight:bold;padding:0 .4em}\n"
".fail{color:#fff;background:#c62828;font-weight:bold;padding:0 .4em}\n"
".inconclusive{color:#fff;background:#8a5a00;font-weight:bold;"
"padding:0 .4em}\n"
"p.cost{background:#f3eefa;padding:.4em .6em}\n"
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
	verdicts(f, d);
	if (figures(f, d, o, figs, nfigs) < 0)
		return -1;
	runs(f, d);
	noise(f, d);
	calibrations(f, d);
	fputs("</body>\n</html>\n", f);
	if (fflush(f) == EOF || ferror(f))
		return -1;
	return 0;
}
