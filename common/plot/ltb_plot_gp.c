/*
 * ltb_plot_gp.c: the gnuplot programs of ltb-plot's graphs; see ltb_plot.h.
 *
 * Each graph is one self-contained gnuplot program: the terminal (pngcairo
 * or svg), the aggregates of ltb_plot.c as inline datablocks
 * ($name << EOD ... EOD), then titles, axes and plots. Nothing here reads
 * a file or runs gnuplot (ltb_plot_run.c does); text from the records
 * reaches gnuplot only as single-quoted strings, with the terminal in
 * noenhanced mode so that "_" or "^" in a client's name stay as they are.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/ltb_plot.h"
#include "records/ltb_records.h"

/* Colours: NoOp, traced, the tracer's own CPU and its fit, dropped. */
#define C_NOOP "#1f77b4"
#define C_TRACED "#ff7f0e"
#define C_OVERHEAD "#9467bd"
#define C_FIT "#4b2a7a"
#define C_DROPPED "#d62728"
#define C_DOWN "#e00000"
#define C_UP "#00a000"
#define C_SCRIPT "#e0a000"

/* Rates spanning more than this ratio get a logarithmic x axis. */
#define LOG_RATIO 30.0

void
ltb_plot_gp_string(FILE *f, const char *s)
{
	putc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("''", f);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			putc(' ', f);
		else
			putc(*s, f);
	}
	putc('\'', f);
}

/* "# ..." comments carry no quoting, only no newline. */
static void
comment(FILE *f, const char *s)
{
	fputs("# ", f);
	for (; *s != '\0'; s++)
		putc((unsigned char)*s < 0x20 ? ' ' : *s, f);
	putc('\n', f);
}

static void
header(FILE *f, enum ltb_plot_graph g, const char *client,
    const struct ltb_plot_opts *o, int w, int h)
{
	char line[512];

	snprintf(line, sizeof line, "ltb-plot %s graph of client %s; run "
	    "it with gnuplot", ltb_plot_graph_name(g), client);
	comment(f, line);
	fputs("set encoding utf8\n", f);
	if (o->format == LTB_PLOT_SVG)
		fprintf(f, "set terminal svg size %d,%d noenhanced "
		    "font 'sans,11' background '#ffffff'\n", w, h);
	else
		fprintf(f, "set terminal pngcairo size %d,%d noenhanced "
		    "font 'sans,10' background '#ffffff'\n", w, h);
	if (o->output != NULL) {
		fputs("set output ", f);
		ltb_plot_gp_string(f, o->output);
		putc('\n', f);
	}
	fputs("set grid lc rgb '#b8b8b8' dt 3\n"
	    "set key opaque box lc rgb '#c0c0c0'\n"
	    "set border lc rgb '#404040'\n", f);
}

/* set title / set multiplot title: --title, or ours with the client. */
static void
title(FILE *f, const char *cmd, const struct ltb_plot_opts *o,
    const char *what, const char *client)
{
	char t[512];

	if (o->title != NULL)
		snprintf(t, sizeof t, "%s", o->title);
	else
		snprintf(t, sizeof t, "%s: %s", client, what);
	fprintf(f, "%s ", cmd);
	ltb_plot_gp_string(f, t);
	fputs(" font ',13'\n", f);
}

static void
g10(FILE *f, double x)
{
	fprintf(f, "%.10g", x);
}

/* An x axis over [lo, hi] achieved spans/s (or the unit's: measurements/s):
 * linear from 0, or logarithmic when the rates span orders of magnitude. */
static void
rate_axis(FILE *f, double lo, double hi, const char *unit)
{
	fprintf(f, "set xlabel '%s rate achieved (%s/s)'\n",
	    ltb_unit_word(unit), ltb_unit_plural(unit));
	if (lo > 0 && hi / lo > LOG_RATIO) {
		fputs("set logscale x\nset mxtics 10\n", f);
		fputs("set xrange [", f);
		g10(f, lo / 1.5);
		putc(':', f);
		g10(f, hi * 1.5);
		fputs("]\n", f);
	} else {
		fputs("unset logscale x\nset xrange [0:", f);
		g10(f, hi > 0 ? hi * 1.08 : 1);
		fputs("]\n", f);
	}
}

static const char *
spread_words(enum ltb_plot_spread s)
{
	return s == LTB_PLOT_CI95 ? "bars: 95% confidence interval" :
	    "bars: lowest to highest trial";
}

static size_t
max_trials(const struct ltb_plot_rate *v, size_t n)
{
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		if (v[i].noop_cpu.n > m)
			m = v[i].noop_cpu.n;
		if (v[i].traced_cpu.n > m)
			m = v[i].traced_cpu.n;
	}
	return m;
}

static int
nothing(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: nothing to draw", what);
	errno = EINVAL;
	return -1;
}

/* A datablock row: target, x, then a stat's mean lo hi n. */
static void
row(FILE *f, double target, double x, const struct ltb_plot_stat *s)
{
	g10(f, target);
	putc(' ', f);
	g10(f, x);
	putc(' ', f);
	g10(f, s->mean);
	putc(' ', f);
	g10(f, s->lo);
	putc(' ', f);
	g10(f, s->hi);
	fprintf(f, " %zu\n", s->n);
}

/* The fitted cost per span as the tracer's CPU at each rate of pc, at
 * the rate its traced runs achieved: a datablock $fit; and the pairs it
 * was fitted to, $pairs. Returns the rows of $fit. */
static size_t
fit_rows(FILE *f, const struct ltb_plot_cost *pc)
{
	const char *u = ltb_unit_word(pc->fit.unit);
	size_t i, rows = 0;

	fprintf(f, "# the cost per %s fitted over the pairs, as tracer CPU: "
	    "(fixed cost + ns/%s * %s) / run time\n", u, u,
	    ltb_unit_plural(pc->fit.unit));
	fputs(
	    "# target_sps  achieved_sps  cpu  lo  hi  pairs\n"
	    "$fit << EOD\n", f);
	for (i = 0; i < pc->nrates; i++) {
		const struct ltb_plot_cost_rate *r = &pc->rates[i];

		if (isnan(r->cpu))
			continue;
		g10(f, r->target_sps);
		putc(' ', f);
		g10(f, r->sps);
		putc(' ', f);
		g10(f, r->cpu);
		putc(' ', f);
		g10(f, isnan(r->lo) ? r->cpu : r->lo);
		putc(' ', f);
		g10(f, isnan(r->hi) ? r->cpu : r->hi);
		fprintf(f, " %zu\n", r->npairs);
		rows++;
	}
	fputs("EOD\n# each pair: traced minus NoOp program_time over the "
	    "traced run's clock_time\n"
	    "# target_sps  achieved_sps  cpu\n$pairs << EOD\n", f);
	for (i = 0; i < pc->fit.npairs; i++) {
		if (isnan(pc->points[i].cpu) || isnan(pc->points[i].sps))
			continue;
		g10(f, pc->points[i].target_sps);
		putc(' ', f);
		g10(f, pc->points[i].sps);
		putc(' ', f);
		g10(f, pc->points[i].cpu);
		putc('\n', f);
	}
	fputs("EOD\n", f);
	return rows;
}

static int
script_cpu(FILE *f, const struct ltb_plot_data *d, const char *client,
    const char *unit, const struct ltb_plot_opts *o, char *err,
    size_t errlen)
{
	struct ltb_plot_rate *v;
	struct ltb_plot_cost pc;
	size_t i, n, nnoop = 0, ntraced = 0, nover = 0, nfit = 0,
	    nlagged = 0;
	double lo = INFINITY, hi = 0;
	char t[256], sub[512], what[96];
	long rc;

	if ((rc = ltb_plot_rates(d, client, o->spread, &v)) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (rc == 0)
		return nothing(err, errlen, "no successful results with "
		    "cpu_usage and sps");
	n = (size_t)rc;
	if (ltb_plot_cost(d, client, &pc) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(v);
		return -1;
	}
	header(f, LTB_PLOT_CPU, client, o, 900, 820);

	fputs("# target_sps  achieved_sps  cpu_mean  cpu_lo  cpu_hi  "
	    "trials\n$noop << EOD\n", f);
	for (i = 0; i < n; i++)
		if (v[i].noop_cpu.n > 0) {
			row(f, v[i].target_sps, v[i].noop_sps.mean,
			    &v[i].noop_cpu);
			nnoop++;
		}
	fputs("EOD\n$traced << EOD\n", f);
	for (i = 0; i < n; i++)
		if (v[i].traced_cpu.n > 0) {
			row(f, v[i].target_sps, v[i].traced_sps.mean,
			    &v[i].traced_cpu);
			ntraced++;
		}
	fputs("EOD\n# traced minus NoOp mean CPU, at the traced rate\n"
	    "$overhead << EOD\n", f);
	for (i = 0; i < n; i++)
		if (v[i].overhead.n > 0) {
			row(f, v[i].target_sps, v[i].traced_sps.mean,
			    &v[i].overhead);
			nover++;
			nlagged += v[i].lagged;
		}
	fputs("EOD\n", f);
	if (nover > 0 && pc.fit.known)
		nfit = fit_rows(f, &pc);
	for (i = 0; i < n; i++) {
		double a = v[i].noop_sps.n ? v[i].noop_sps.mean : NAN;
		double b = v[i].traced_sps.n ? v[i].traced_sps.mean : NAN;

		if (!isnan(a) && a < lo)
			lo = a;
		if (!isnan(b) && b < lo)
			lo = b;
		if (!isnan(a) && a > hi)
			hi = a;
		if (!isnan(b) && b > hi)
			hi = b;
	}

	snprintf(what, sizeof what, "CPU against %s rate", ltb_unit_word(unit));
	snprintf(t, sizeof t, "mean of %zu trial%s; %s", max_trials(v, n),
	    max_trials(v, n) == 1 ? "" : "s", spread_words(o->spread));
	if (nover > 0) {
		/* Two panels: the runs, then the tracer's own CPU. */
		fputs("set multiplot layout 2,1 ", f);
		title(f, "title", o, what, client);
		snprintf(sub, sizeof sub, "Client program CPU, NoOp and "
		    "traced (%s)", t);
		fputs("set title ", f);
		ltb_plot_gp_string(f, sub);
		putc('\n', f);
	} else {
		snprintf(sub, sizeof sub, "%s (%s)", what, t);
		title(f, "set title", o, sub, client);
	}
	rate_axis(f, lo, hi, unit);
	/* Not from 0: CPU near the calibrated 0.7 would hide the spread
	 * the bars show; the lower panel shows the difference. */
	fputs("set ylabel 'CPU (fraction of one core)'\n"
	    "set yrange [*:*]\n"
	    "set offsets 0, 0, graph 0.15, graph 0.15\n"
	    "set key bottom right\n"
	    "plot ", f);
	if (nnoop > 0)
		fputs("$noop using 2:3:4:5 with yerrorlines lw 2 pt 7 ps 0.8 "
		    "lc rgb '" C_NOOP "' title 'NoOp'", f);
	if (ntraced > 0) {
		snprintf(t, sizeof t, "traced: %s", client);
		fputs(nnoop > 0 ? ", \\\n     " : "", f);
		fputs("$traced using 2:3:4:5 with yerrorlines lw 2 pt 5 "
		    "ps 0.8 lc rgb '" C_TRACED "' title ", f);
		ltb_plot_gp_string(f, t);
	}
	putc('\n', f);
	if (nover > 0) {
		snprintf(t, sizeof t, "The tracer's own CPU: traced minus "
		    "NoOp (%s)", spread_words(o->spread));
		fputs("set title ", f);
		ltb_plot_gp_string(f, t);
		fputs("\nset ylabel 'tracer CPU (fraction of one core)'\n"
		    "set yrange [*:*]\n"
		    "set offsets 0, 0, graph 0.1, graph 0.1\n"
		    "set key top left\n"
		    "set bmargin 5\n"
		    "set label 2 ", f);
		/* What the fit says, in words, under the panel: whether it
		 * could be made, resolved or not. */
		ltb_plot_gp_string(f, pc.line);
		fputs(" at screen 0.5, screen 0.015 center font ',10'\n"
		    "plot 0 with lines lc rgb '#808080' dt 2 notitle, \\\n",
		    f);
		if (nfit > 0) {
			fputs("     $fit using 2:4:5 with filledcurves fc rgb '"
			    C_OVERHEAD "' fillstyle transparent solid 0.18 "
			    "noborder title '95% interval of the fitted line', "
			    "\\\n"
			    "     $fit using 2:3 with lines lw 2 dt 2 lc rgb '"
			    C_FIT "' title ", f);
			snprintf(t, sizeof t, "fit: fixed cost per run + cost "
			    "per %s x %s", ltb_unit_word(unit),
			    ltb_unit_plural(unit));
			ltb_plot_gp_string(f, t);
			fputs(", \\\n"
			    "     $pairs using 2:3 with points pt 6 ps 0.9 "
			    "lc rgb '" C_FIT "' title 'pairs fitted: traced "
			    "minus NoOp program time, over clock time', \\\n",
			    f);
		}
		fputs("     $overhead using 2:3:4:5 with yerrorlines lw 2 pt 9 "
		    "ps 0.9 lc rgb '" C_OVERHEAD "' title ", f);
		snprintf(t, sizeof t, "%s tracer CPU (traced - NoOp%s)",
		    client, nlagged > 0 ? ", at the traced pace where it "
		    "fell behind" : "");
		ltb_plot_gp_string(f, t);
		fputs("\nunset multiplot\n", f);
	}
	ltb_plot_cost_free(&pc);
	free(v);
	return 0;
}

static int
script_dropped(FILE *f, const struct ltb_plot_data *d, const char *client,
    const char *unit, const struct ltb_plot_opts *o, char *err,
    size_t errlen)
{
	const char *units = ltb_unit_plural(unit);
	struct ltb_plot_rate *v;
	double lo = INFINITY, hi = 0, pmax = 0, cmax = 0, top;
	size_t i, n, np = 0;
	char t[256];
	long rc;

	if ((rc = ltb_plot_rates(d, client, o->spread, &v)) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	n = (size_t)rc;
	for (i = 0; i < n; i++)
		if (v[i].dropped_pct.n > 0)
			np++;
	if (np == 0) {
		free(v);
		return nothing(err, errlen, "no traced results with dropped "
		    "and spans_sent");
	}
	header(f, LTB_PLOT_DROPPED, client, o, 900, 560);
	fputs("# target_sps  achieved_sps  dropped_pct_mean  lo  hi  "
	    "trials  cpu_mean  lo  hi  trials\n$dropped << EOD\n", f);
	for (i = 0; i < n; i++) {
		const struct ltb_plot_rate *r = &v[i];

		if (r->dropped_pct.n == 0)
			continue;
		g10(f, r->target_sps);
		fputs(" ", f);
		g10(f, r->traced_sps.mean);
		fprintf(f, " %.10g %.10g %.10g %zu %.10g %.10g %.10g %zu\n",
		    r->dropped_pct.mean, r->dropped_pct.lo,
		    r->dropped_pct.hi, r->dropped_pct.n, r->traced_cpu.mean,
		    r->traced_cpu.lo, r->traced_cpu.hi, r->traced_cpu.n);
		if (r->traced_sps.mean < lo)
			lo = r->traced_sps.mean;
		if (r->traced_sps.mean > hi)
			hi = r->traced_sps.mean;
		if (r->dropped_pct.hi > pmax)
			pmax = r->dropped_pct.hi;
		if (r->traced_cpu.hi > cmax)
			cmax = r->traced_cpu.hi;
	}
	fputs("EOD\n", f);
	snprintf(t, sizeof t, "%s dropped and CPU against %s rate", units,
	    ltb_unit_word(unit));
	title(f, "set title", o, t, client);
	rate_axis(f, lo, hi, unit);
	/* A fixed range: nothing dropped is a flat line at 0, not an
	 * empty range gnuplot has to widen. */
	top = pmax > 0 ? (pmax * 1.15 > 100 ? 105 : pmax * 1.15) : 1;
	/* A little below 0, so a line of nothing dropped is not hidden
	 * in the axis. */
	fprintf(f, "set ylabel '%s dropped (%% of %s sent)' tc rgb '"
	    C_DROPPED "'\nset yrange [", units, units);
	g10(f, -top * 0.03);
	putc(':', f);
	g10(f, top);
	fputs("]\nset ytics nomirror tc rgb '" C_DROPPED "'\n"
	    "set y2label 'CPU (fraction of one core)' tc rgb '" C_NOOP "'\n"
	    "set y2range [", f);
	g10(f, cmax > 0 ? -cmax * 1.15 * 0.03 : -0.03);
	putc(':', f);
	g10(f, cmax > 0 ? cmax * 1.15 : 1);
	fputs("]\nset y2tics nomirror tc rgb '" C_NOOP "'\n"
	    "set key top left\n", f);
	snprintf(t, sizeof t, "traced runs of %s; %s", client,
	    spread_words(o->spread));
	fputs("set label 1 ", f);
	ltb_plot_gp_string(f, t);
	fputs(" at screen 0.99, screen 0.02 right font ',9'\n", f);
	fprintf(f, "plot $dropped using 2:3:4:5 axes x1y1 with yerrorlines "
	    "lw 2 pt 7 ps 0.8 lc rgb '" C_DROPPED "' title '%s dropped (%%)', "
	    "\\\n     $dropped using 2:7:8:9 axes x1y2 with yerrorlines "
	    "lw 2 pt 5 ps 0.8 lc rgb '" C_NOOP "' title ", units);
	snprintf(t, sizeof t, "CPU of %s, traced", client);
	ltb_plot_gp_string(f, t);
	putc('\n', f);
	free(v);
	return 0;
}

/* A label for a memory series: "500 sps", with the runtime when the
 * series differ in it, and the runs averaged. */
static void
series_title(char *t, size_t len, const struct ltb_plot_series *s,
    int runtimes, const char *unit)
{
	size_t used;

	/* "sps", as the original said of spans; "measurements/s" */
	if (strcmp(unit, "span") == 0)
		used = (size_t)snprintf(t, len, "%.10g sps", s->target_sps);
	else
		used = (size_t)snprintf(t, len, "%.10g %s/s", s->target_sps,
		    ltb_unit_plural(unit));
	if (runtimes && used < len)
		used += (size_t)snprintf(t + used, len - used, ", %.10g s run",
		    s->runtime);
	if (s->nruns > 1 && used < len)
		snprintf(t + used, len - used, " (mean of %zu)", s->nruns);
}

static int
script_memory(FILE *f, const struct ltb_plot_data *d, const char *client,
    const char *unit, const struct ltb_plot_opts *o, char *err,
    size_t errlen)
{
	struct ltb_plot_series *s;
	int runtimes = 0;
	size_t i, k, n;
	char t[256];
	long rc;

	if ((rc = ltb_plot_memory_series(d, client, o->interval, &s)) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (rc == 0)
		return nothing(err, errlen, "no traced results with "
		    "memory_list");
	n = (size_t)rc;
	for (i = 1; i < n; i++)
		if (s[i].runtime != s[0].runtime)
			runtimes = 1;
	header(f, LTB_PLOT_MEMORY, client, o, 900, 560);
	for (i = 0; i < n; i++) {
		fprintf(f, "# %.10g sps: time_s  memory_MiB\n$m%zu << EOD\n",
		    s[i].target_sps, i);
		for (k = 0; k < s[i].n; k++)
			fprintf(f, "%.10g %.10g\n", s[i].t[k], s[i].mib[k]);
		fputs("EOD\n", f);
	}
	title(f, "set title", o, "memory over time, traced", client);
	fputs("set xlabel 'time (s)'\n"
	    "set ylabel 'memory, resident (MiB)'\n"
	    "set xrange [0:*]\n"
	    "set key top left\n"
	    "plot ", f);
	for (i = 0; i < n; i++) {
		series_title(t, sizeof t, &s[i], runtimes, unit);
		/* Past gnuplot's eight colours, dashes tell lines apart. */
		fprintf(f, "%s$m%zu using 1:2 with linespoints lw 2 pt 7 "
		    "ps 0.5 lt %zu dt %zu title ", i ? ", \\\n     " : "", i,
		    i % 8 + 1, i / 8 + 1);
		ltb_plot_gp_string(f, t);
	}
	putc('\n', f);
	ltb_plot_series_free(s, n);
	return 0;
}

static const char *const panel_names[LTB_PLOT_DISC_N] = {
	"NoOp", "Traced", "Satellites down", "Satellites down then up",
	"Scripted answers"
};

/* "Traced: c", "Satellites down then up (at 30 s, 120 s)", "Scripted
 * answers (429 Retry-After 2 at 5 s, drop at 20 s)". */
static void
panel_title(char *t, size_t len, int kind, const struct ltb_plot_run *r,
    const char *client)
{
	size_t used, e, n = 0;
	const struct ltb_plot_event *ev;

	if (kind == LTB_PLOT_DISC_TRACED) {
		snprintf(t, len, "Traced: %s", client);
		return;
	}
	used = (size_t)snprintf(t, len, "%s", panel_names[kind]);
	for (e = 0; r != NULL && e < r->nevents && used < len; e++) {
		ev = &r->events[e];
		if (ev->script)
			used += (size_t)snprintf(t + used, len - used,
			    "%s%s at %.3g s", n++ ? ", " : " (", ev->answer,
			    ev->t);
		else
			used += (size_t)snprintf(t + used, len - used,
			    "%s%.3g s", n++ ? ", " : " (at ", ev->t);
	}
	if (n > 0 && used < len)
		snprintf(t + used, len - used, ")");
}

/* The steps of a script as shaded stretches of time, each labelled with
 * its answer at the top; they end where the x axis does. 1 if any. */
static int
script_spans(FILE *f, const struct ltb_plot_run *r, double xmax)
{
	const struct ltb_plot_event *ev;
	int any = 0;
	size_t e;

	fputs("unset object\n", f);
	for (e = 0; e < r->nevents; e++) {
		if (!(ev = &r->events[e])->script)
			continue;
		fprintf(f, "set object %zu rect from ", e + 1);
		g10(f, ev->t);
		fputs(", graph 0 to ", f);
		g10(f, ev->t + ev->for_s < xmax ? ev->t + ev->for_s : xmax);
		fputs(", graph 1 behind fillcolor rgb '" C_SCRIPT "' "
		    "fillstyle transparent solid 0.25 noborder\n", f);
		fprintf(f, "set label %zu ", e + 100);
		ltb_plot_gp_string(f, ev->answer);
		fputs(" at ", f);
		g10(f, ev->t);
		fputs(", graph 0.96 left offset 0.3,0 font ',8' tc rgb "
		    "'#805000' front\n", f);
		any = 1;
	}
	return any;
}

/* The satellite events of r as vertical lines and script steps as shaded
 * stretches, with legend entries. */
static void
event_lines(FILE *f, const struct ltb_plot_run *r, double xmax, char *keys,
    size_t len)
{
	int seen_down = 0, seen_up = 0, seen_script;
	size_t e;

	keys[0] = '\0';
	fputs("unset arrow\n", f);
	for (e = 0; e < r->nevents; e++)
		fprintf(f, "unset label %zu\n", e + 100);
	seen_script = script_spans(f, r, xmax);
	for (e = 0; e < r->nevents; e++) {
		if (r->events[e].script)
			continue;
		fputs("set arrow from ", f);
		g10(f, r->events[e].t);
		fputs(", graph 0 to ", f);
		g10(f, r->events[e].t);
		fprintf(f, ", graph 1 nohead lw 2 lc rgb '%s' front\n",
		    r->events[e].up ? C_UP : C_DOWN);
		if (r->events[e].up)
			seen_up = 1;
		else
			seen_down = 1;
	}
	snprintf(keys, len, "%s%s%s",
	    seen_down ? ", \\\n     keyentry with lines lw 2 lc rgb '"
	    C_DOWN "' title 'satellites down'" : "",
	    seen_up ? ", \\\n     keyentry with lines lw 2 lc rgb '" C_UP
	    "' title 'satellites back up'" : "",
	    seen_script ? ", \\\n     keyentry with boxes fillstyle "
	    "transparent solid 0.25 noborder lc rgb '" C_SCRIPT "' title "
	    "'scripted answers'" : "");
}

static int
script_disconnect(FILE *f, const struct ltb_plot_data *d,
    const char *client, const struct ltb_plot_opts *o, char *err,
    size_t errlen)
{
	const struct ltb_plot_run *pick[LTB_PLOT_DISC_N], *r;
	double tmax = 0, ymin = INFINITY, ymax = 0, pad;
	char t[256], keys[512];
	size_t k, e;
	int i, panels;

	/* Without a run that lost its satellites, or was answered by their
	 * script, this is no disconnect test, whatever else the input
	 * holds. */
	ltb_plot_disconnect_pick(d, client, pick);
	if (pick[LTB_PLOT_DISC_DOWN] == NULL &&
	    pick[LTB_PLOT_DISC_DOWNUP] == NULL &&
	    pick[LTB_PLOT_DISC_SCRIPT] == NULL)
		return nothing(err, errlen, "no traced results with "
		    "memory_list and satellite events (ltb-sample "
		    "--satellite-down-at or --satellite-script)");
	/* The scripted panel only when there is such a run: the four of the
	 * original test stay as they were. */
	panels = pick[LTB_PLOT_DISC_SCRIPT] != NULL ? LTB_PLOT_DISC_N :
	    LTB_PLOT_DISC_SCRIPT;
	header(f, LTB_PLOT_DISCONNECT, client, o, 1100,
	    panels > 4 ? 1200 : 820);
	for (i = 0; i < LTB_PLOT_DISC_N; i++) {
		if ((r = pick[i]) == NULL)
			continue;
		fprintf(f, "# %s (%s): time_s  memory_MiB\n$run%d << EOD\n",
		    panel_names[i], r->where, i);
		for (k = 0; k < r->nmemory; k++) {
			double x = ltb_plot_sample_time(r, o->interval, k);
			double y = r->memory_list[k] / 1048576.0;

			fprintf(f, "%.10g %.10g\n", x, y);
			if (x > tmax)
				tmax = x;
			if (y > ymax)
				ymax = y;
			if (y < ymin)
				ymin = y;
		}
		for (e = 0; e < r->nevents; e++)
			if (r->events[e].t > tmax)
				tmax = r->events[e].t;
		fputs("EOD\n", f);
	}
	/* One scale for the panels, so they compare at a glance. */
	pad = (ymax - ymin) * 0.15;
	if (pad < 0.25)
		pad = 0.25;
	fprintf(f, "set multiplot layout %d,2 ", panels > 4 ? 3 : 2);
	title(f, "title", o, "memory with unreliable satellites", client);
	fputs("set xlabel 'time (s)'\n"
	    "set ylabel 'memory, resident (MiB)'\n"
	    "set key bottom right\n", f);
	fprintf(f, "set xrange [0:%.10g]\n", tmax > 0 ? tmax * 1.03 : 1);
	fprintf(f, "set yrange [%.10g:%.10g]\n",
	    ymin - pad > 0 ? ymin - pad : 0, ymax + pad * 2);
	for (i = 0; i < panels; i++) {
		r = pick[i];
		panel_title(t, sizeof t, i, r, client);
		fputs("set title ", f);
		ltb_plot_gp_string(f, t);
		putc('\n', f);
		if (r == NULL) {
			fputs("unset arrow\nunset object\nset label 1 'no such run in the "
			    "input' at graph 0.5, graph 0.5 center\n"
			    "plot -1e30 notitle\nunset label 1\n", f);
			continue;
		}
		event_lines(f, r, tmax > 0 ? tmax * 1.03 : 1, keys,
		    sizeof keys);
		fprintf(f, "plot $run%d using 1:2 with linespoints lw 2 pt 7 "
		    "ps 0.4 lc rgb '%s' title ", i,
		    i == LTB_PLOT_DISC_NOOP ? C_NOOP : C_TRACED);
		snprintf(t, sizeof t, "traced: %s", client);
		ltb_plot_gp_string(f, i == LTB_PLOT_DISC_NOOP ? "NoOp" : t);
		fprintf(f, "%s\n", keys);
	}
	fputs("unset multiplot\n", f);
	return 0;
}

static int
draw(FILE *f, enum ltb_plot_graph g, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, char *err, size_t errlen)
{
	const char *client, *unit;

	if (d->nruns == 0)
		return nothing(err, errlen, "no result records");
	if (ltb_plot_client(d, o->client, &client, err, errlen) < 0 ||
	    ltb_plot_unit(d, client, &unit, err, errlen) < 0)
		return -1;
	switch (g) {
	case LTB_PLOT_DISCONNECT:
		return script_disconnect(f, d, client, o, err, errlen);
	case LTB_PLOT_MEMORY:
		return script_memory(f, d, client, unit, o, err, errlen);
	case LTB_PLOT_CPU:
		return script_cpu(f, d, client, unit, o, err, errlen);
	case LTB_PLOT_DROPPED:
		return script_dropped(f, d, client, unit, o, err, errlen);
	default:
		snprintf(err, errlen, "no graph %d", (int)g);
		errno = EINVAL;
		return -1;
	}
}

int
ltb_plot_script(FILE *f, enum ltb_plot_graph g,
    const struct ltb_plot_data *d, const struct ltb_plot_opts *o,
    char *err, size_t errlen)
{
	const char *label = ltb_plot_graph_label(g, d, o);
	struct ltb_plot_data view;
	char why[512];
	int rc, e;
	long n;

	if (label == NULL) {
		rc = draw(f, g, d, o, err, errlen);
	} else if ((n = ltb_plot_select(d, label, &view)) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	} else if (n == 0) {
		free(view.runs);
		snprintf(err, errlen, "no results labelled '%s'", label);
		errno = EINVAL;
		return -1;
	} else {
		rc = draw(f, g, &view, o, why, sizeof why);
		e = errno;
		if (rc < 0)
			snprintf(err, errlen, "results labelled '%s': %s",
			    label, why);
		free(view.runs);
		errno = e;
	}
	if (rc < 0)
		return -1;
	if (fflush(f) == EOF || ferror(f)) {
		snprintf(err, errlen, "cannot write the gnuplot program: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}
