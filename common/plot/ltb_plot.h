/*
 * ltb_plot.h: ltb-plot's graphs: result records in, gnuplot programs and an
 * HTML report out.
 *
 * ltb-plot loads every record into a struct ltb_plot_data
 * (ltb_plot_add_record): "result" records become runs, "verdict",
 * "calibration" and "plan_end" records are kept for the report, the rest
 * is ignored. The
 * aggregation (ltb_plot_rates, ltb_plot_memory_series,
 * ltb_plot_disconnect_pick) groups runs by tracer and target_sps and
 * computes means, spreads and the tracer's own CPU; ltb_plot_cost fits the
 * cost per span as ltb-assert does (judge/ltb_cost.h), which the cpu graph
 * draws as a line with its interval and the report says in words; none of
 * it draws. The drawing is gnuplot's: ltb_plot_script writes a
 * self-contained gnuplot program with the aggregates inline as datablocks,
 * ltb_plot_render runs gnuplot on it, and ltb_plot_report puts the graphs
 * (inline SVG), the runs, the verdicts, the calibration and the machine
 * noise in one HTML page.
 *
 * Failed runs (a non-empty "error", or exit_status not 0) stay in the
 * report's tables but are left out of every graph.
 *
 * Errors: -1 with errno and a message in the caller's buffer. errno is
 * EINVAL for input that cannot give the graph asked (no suitable runs, a
 * malformed result: "results.jsonl:3: ..."), ENOENT when gnuplot is not
 * installed, anything else for a system failure (gnuplot failed, a file
 * cannot be written).
 */
#ifndef LTB_PLOT_H
#define LTB_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "judge/ltb_cost.h"

/* The graphs, in the order the report shows them. */
enum ltb_plot_graph {
	LTB_PLOT_DISCONNECT,
	LTB_PLOT_MEMORY,
	LTB_PLOT_CPU,
	LTB_PLOT_DROPPED,
	LTB_PLOT_NGRAPHS
};

/* "disconnect", "memory", "cpu", "dropped". */
const char *ltb_plot_graph_name(enum ltb_plot_graph g);

/* The graph named s; -1 when there is none. */
int ltb_plot_graph_parse(const char *s);

/* A satellite event of a run: seconds into the run, down or back up, or
 * a step of their script starting (ltb-sample --satellite-script), which
 * lasts for_s and answers as answer says ("429 Retry-After 2"). */
struct ltb_plot_event {
	double t;
	int up;		/* 0: satellite_down, 1: satellite_up */
	int script;	/* a script_step (up is 0) */
	double for_s;
	char answer[48];
};

/*
 * One result record. Numbers absent or null are NAN (spans_received and
 * dropped are null for NoOp runs). Strings and lists are owned.
 */
struct ltb_plot_run {
	char *client;
	const char *unit;	/* static: "span", "measurement", ...
				 * (records/ltb_records.h, ltb_unit) */
	int trace;
	double target_sps;
	double runtime;
	double trial;
	char *label;		/* "" when none */
	double spans_sent, spans_received, dropped;
	double program_time, clock_time, cpu_usage, sps;
	double memory_last, memory_max;	/* bytes */
	double *cpu_list;
	size_t ncpu;
	double *memory_list;	/* bytes, one per sampling interval */
	size_t nmemory;
	struct ltb_plot_event *events;
	size_t nevents;
	double exit_status;
	char *error;		/* NULL when the run did not fail */
	double steal_s, other_cpu_s, satellite_cpu_s, loadavg;	/* noise */
	char where[256];	/* "results.jsonl:3", for messages */
	char file[240];		/* "results.jsonl" and 3, apart */
	unsigned long line;
	cJSON *rec;		/* the record as read, for the cost fit */
};

/* A plan_end record (ltb-sample's last: how much of its plan ran) and
 * where it was read, "results.jsonl:13". */
struct ltb_plot_plan_end {
	cJSON *rec;		/* owned */
	char where[256];
};

/* Every record read: runs in input order, and the verdict, calibration
 * and plan_end records as they came (owned). */
struct ltb_plot_data {
	struct ltb_plot_run *runs;
	size_t nruns, runs_cap;
	cJSON **verdicts;
	size_t nverdicts, verdicts_cap;
	cJSON **calibrations;
	size_t ncalibrations, calibrations_cap;
	struct ltb_plot_plan_end *plan_ends;
	size_t nplan_ends, plan_ends_cap;
};

#define LTB_PLOT_DATA_ZERO { NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0 }

/*
 * Take rec, read at file:line: a "result" becomes a run, a "verdict", a
 * "calibration" or a "plan_end" is kept, anything else is freed. Returns 0; or -1 with
 * errno EINVAL and a message naming file and line for a result that lacks
 * client, trace or target_sps or has a field of the wrong type, ENOMEM
 * when out of memory. rec is freed in every case but when kept.
 */
int ltb_plot_add_record(struct ltb_plot_data *d, cJSON *rec,
    const char *file, unsigned long line, char *err, size_t errlen);

void ltb_plot_data_free(struct ltb_plot_data *d);

/*
 * The runs of d labelled label into view, which borrows them: free it with
 * free(view->runs), never ltb_plot_data_free. Verdicts and calibrations
 * are not carried. Returns the number of runs selected, or -1 with errno
 * ENOMEM.
 */
long ltb_plot_select(const struct ltb_plot_data *d, const char *label,
    struct ltb_plot_data *view);

/* 1 when run r failed: an error, or an exit_status other than 0. */
int ltb_plot_run_failed(const struct ltb_plot_run *r);

/*
 * The one client the graphs are about: want when it is given (an error
 * when no run has it), else the client of every run (an error when there
 * are several: "results from several clients (c, js): choose one with
 * --client"). Returns 0 with *client borrowed from d, or -1 with errno
 * EINVAL.
 */
int ltb_plot_client(const struct ltb_plot_data *d, const char *want,
    const char **client, char *err, size_t errlen);

/*
 * The one unit the runs of client in d count ("span", "measurement":
 * static), for a graph's words ("measurements/s"). 0, or -1 with errno
 * EINVAL and a message in err naming two runs in different units: one
 * graph, one unit.
 */
int ltb_plot_unit(const struct ltb_plot_data *d, const char *client,
    const char **unit, char *err, size_t errlen);

/* How the spread of trials is drawn. */
enum ltb_plot_spread {
	LTB_PLOT_MINMAX,	/* from the lowest trial to the highest */
	LTB_PLOT_CI95		/* Student's 95% interval of the mean */
};

/* A figure over trials: mean, spread, and how many trials. lo and hi are
 * the mean when the spread is unknown (one trial, for a CI). */
struct ltb_plot_stat {
	double mean, lo, hi;
	size_t n;		/* 0: no trial at all, the rest is NAN */
};

/* What one target_sps gives, NoOp and traced (successful runs only). */
struct ltb_plot_rate {
	double target_sps;
	struct ltb_plot_stat noop_sps, noop_cpu;	/* achieved sps, CPU */
	struct ltb_plot_stat traced_sps, traced_cpu;
	/* Traced minus NoOp mean CPU: the tracer's own CPU. Spread: min-max
	 * of the difference of any two trials, or Welch's 95% interval. n is
	 * 0 unless both sides have a trial. */
	struct ltb_plot_stat overhead;
	/* The traced runs fell behind the NoOp runs' pace (LTB_HELD_PACE,
	 * ltb_stats.h): overhead is then of CPU-seconds per second at the
	 * traced runs' pace, both sides. */
	int lagged;
	/* Traced runs' dropped / spans_sent * 100, over the traced runs that
	 * know their dropped count. */
	struct ltb_plot_stat dropped_pct;
};

/*
 * The successful runs of client grouped by target_sps, ascending; rates
 * with no run left out. Returns the number of rates with *out set (owned,
 * free()), 0 when there is none, -1 with errno ENOMEM.
 */
long ltb_plot_rates(const struct ltb_plot_data *d, const char *client,
    enum ltb_plot_spread spread, struct ltb_plot_rate **out);

/*
 * The seconds into the run at which r's memory sample i was taken:
 * (i + 1) * interval, the sampler's first sample coming one interval after
 * the start. interval <= 0 means clock_time / nmemory.
 */
double ltb_plot_sample_time(const struct ltb_plot_run *r, double interval,
    size_t i);

/* Memory over time of the traced runs at one rate and runtime: at each
 * sample, the mean over the runs that have it. */
struct ltb_plot_series {
	double target_sps, runtime;
	size_t nruns;
	double *t;		/* seconds */
	double *mib;		/* MiB */
	size_t n;
};

/*
 * The successful traced runs of client with a memory_list and no
 * satellite events (those are the disconnect graph's), grouped by
 * target_sps and runtime (ascending). Returns the number of series with
 * *out set (free with ltb_plot_series_free), 0 when there is none, -1 with
 * errno ENOMEM.
 */
long ltb_plot_memory_series(const struct ltb_plot_data *d, const char *client,
    double interval, struct ltb_plot_series **out);

void ltb_plot_series_free(struct ltb_plot_series *s, size_t n);

/* The four runs of the unreliable-satellite test. */
enum {
	LTB_PLOT_DISC_NOOP,	/* untraced */
	LTB_PLOT_DISC_TRACED,	/* traced, no satellite event */
	LTB_PLOT_DISC_DOWN,	/* traced, satellites taken down only */
	LTB_PLOT_DISC_DOWNUP,	/* traced, down and then back up */
	LTB_PLOT_DISC_SCRIPT,	/* traced, with a script of answers */
	LTB_PLOT_DISC_N
};

/*
 * The first successful run of client with a memory_list of each kind into
 * pick[] (NULL when there is none, borrowed from d). Returns how many were
 * found.
 */
int ltb_plot_disconnect_pick(const struct ltb_plot_data *d,
    const char *client, const struct ltb_plot_run *pick[LTB_PLOT_DISC_N]);

enum ltb_plot_format { LTB_PLOT_PNG, LTB_PLOT_SVG };

/* The format -o asks for: SVG when path ends in ".svg" (any case). */
enum ltb_plot_format ltb_plot_format_of(const char *path);

struct ltb_plot_opts {
	const char *client;	/* NULL: the only client in the data */
	const char *title;	/* NULL: the graph's own title */
	/* Only the runs with this label; NULL: those labelled with the
	 * graph's name ("memory") when there are any, else all. */
	const char *label;
	double interval;	/* sampling interval, s; <= 0: from the runs */
	enum ltb_plot_spread spread;
	enum ltb_plot_format format;
	const char *output;	/* a "set output" line for it; NULL: none */
	/* The report only: results to compare with (ltb-plot report
	 * --baseline FILE), and what to call them; NULL: none. */
	const struct ltb_plot_data *baseline;
	const char *baseline_name;
};

/*
 * The label whose runs graph g draws: o->label when given, else the
 * graph's name ("cpu") when a run has it as its label (one file of every
 * experiment, as CI labels them, gives each graph its own), else NULL:
 * every run.
 */
const char *ltb_plot_graph_label(enum ltb_plot_graph g,
    const struct ltb_plot_data *d, const struct ltb_plot_opts *o);

/* The fitted cost per span at one rate, as the tracer's CPU. */
struct ltb_plot_cost_rate {
	double target_sps;
	size_t npairs;
	double sps;		/* mean achieved sps of its traced runs */
	double spans;		/* mean spans of its pairs */
	double clock_s;		/* mean clock_time of their traced runs */
	/* (intercept + slope * spans) / clock_s, and the 95% interval of
	 * the fitted line there; NAN when the fit is not known. */
	double cpu, lo, hi;
};

/* A pair as what the fit is made of: its extra CPU-seconds over its
 * traced run's clock time, at the rate that run achieved. Unlike traced
 * minus NoOp cpu_usage, it does not shrink when tracing slows the run. */
struct ltb_plot_cost_point {
	double target_sps, sps, cpu;
};

/* The tracer's CPU cost per span (judge/ltb_cost.h) of a graph's runs. */
struct ltb_plot_cost {
	struct ltb_cost fit;	/* its pairs' test and base are NULL */
	struct ltb_plot_cost_rate *rates;	/* owned, by target_sps */
	size_t nrates;
	struct ltb_plot_cost_point *points;	/* owned, one per pair */
	/* ltb_cost_line's text, or why there is no fit: "cost per span not
	 * known: cpu.jsonl:3: result has no \"program_time\" ..." */
	char line[512];
};

/*
 * Fit the cost per span over the runs of client in d (pairs as
 * ltb_cost_fit makes them: a failed run's pair is left out). Input the
 * fit cannot use (a pair without program_time) is no error: the fit is
 * not known and line says why. Returns 0 (ltb_plot_cost_free *pc), or -1
 * with errno ENOMEM.
 */
int ltb_plot_cost(const struct ltb_plot_data *d, const char *client,
    struct ltb_plot_cost *pc);

/*
 * The same over the runs the cpu graph of d draws with o (its label and
 * client). -1 with errno EINVAL and a reason in err when there are none,
 * ENOMEM otherwise.
 */
int ltb_plot_cpu_cost(const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, struct ltb_plot_cost *pc, char *err,
    size_t errlen);

void ltb_plot_cost_free(struct ltb_plot_cost *pc);

/*
 * Write the gnuplot program that draws graph g from d on f: terminal,
 * datablocks, titles, plots. The runs drawn are those of o->label, or,
 * without one, those labelled with the graph's name if any is (so one
 * file of every experiment, as CI labels them, gives each graph its own),
 * else all. Returns 0; -1 with errno EINVAL and a reason
 * in err when d has nothing suitable ("no traced results with memory_list:
 * nothing to draw"), or another errno when f cannot be written.
 */
int ltb_plot_script(FILE *f, enum ltb_plot_graph g,
    const struct ltb_plot_data *d, const struct ltb_plot_opts *o,
    char *err, size_t errlen);

/*
 * Run gnuplot (found in PATH) on program, its stdout to out_fd. What it
 * said on stderr, if anything, goes to *said (owned, free(); NULL when it
 * said nothing), failed or not. Returns 0; -1 with errno ENOENT when there
 * is no gnuplot ("gnuplot not found: install gnuplot-nox ..."), another
 * errno when it cannot be run or exits other than 0, with a reason in err.
 */
int ltb_plot_gnuplot(const char *program, size_t len, int out_fd,
    char **said, char *err, size_t errlen);

/*
 * Draw graph g of d into path, through a temporary file in the same
 * directory renamed into place once gnuplot succeeded. Errors as for
 * ltb_plot_script and ltb_plot_gnuplot.
 */
int ltb_plot_render(enum ltb_plot_graph g, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, const char *path, char **said,
    char *err, size_t errlen);

/*
 * The same into memory: *out (owned, NUL-terminated) and *outlen.
 */
int ltb_plot_render_mem(enum ltb_plot_graph g, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, char **out, size_t *outlen, char **said,
    char *err, size_t errlen);

/* A graph of the report: its SVG, or why there is none. */
struct ltb_plot_figure {
	enum ltb_plot_graph graph;
	char *svg;		/* owned; NULL: skipped */
	char note[512];		/* why it was skipped */
};

/*
 * Write the HTML report on f: how much of the plan ran (from the plan_end
 * records, flagged when a plan stopped short or none says it ran whole),
 * the figures (each SVG inlined, its ids made unique to the figure), the
 * cpu graph's cost per span with its 95% interval, a table of the runs,
 * the verdicts, the calibrations and the machine noise; with
 * o->baseline, the cost per span, per-rate figures and gates of the two
 * side by side with the change. Self-contained; every text from the
 * records escaped. Returns 0, or -1 with errno when f cannot be written.
 */
int ltb_plot_report(FILE *f, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, const struct ltb_plot_figure *figs,
    size_t nfigs);

/* s with & < > " ' as HTML entities, on f. */
void ltb_plot_html_text(FILE *f, const char *s);

/* s as a single-quoted gnuplot string on f: quotes doubled, control
 * characters (which would end the command) as spaces. */
void ltb_plot_gp_string(FILE *f, const char *s);

#endif
