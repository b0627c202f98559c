/*
 * ltb-plot: the graphs and the HTML report of ltb's result records.
 *
 * Reads result records (and keeps verdict and calibration records for the
 * report), computes the aggregates a graph needs (common/plot/ltb_plot.h) and
 * has gnuplot draw them: the program it writes carries the numbers inline,
 * so --script shows exactly what is drawn and can be run by hand.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ltb_jsonl.h"
#include "core/ltb_log.h"
#include "plot/ltb_plot.h"

static const char usage[] =
"usage: ltb-plot disconnect|memory|cpu|dropped -o FILE [options] [FILE...]\n"
"       ltb-plot report -o FILE [--baseline FILE] [options] [FILE...]\n"
"       ltb-plot GRAPH --script [-o FILE] [options] [FILE...]\n"
"\n"
"Draws result records (from the FILEs, or stdin when none or -) with\n"
"gnuplot; verdict and calibration records go into the report, other\n"
"records are skipped. Failed runs are left out of the graphs.\n"
"\n"
"  disconnect  memory over time of the four unreliable-satellite runs:\n"
"              NoOp, traced, satellites down, down then up (red and green\n"
"              lines where they went down and came back)\n"
"  memory      memory over time of the traced runs, a line per target_sps\n"
"  cpu         CPU against achieved span rate, NoOp and traced (mean and\n"
"              spread of trials), and traced minus NoOp: the tracer's CPU,\n"
"              with the cost per span fitted over the pairs (traced minus\n"
"              NoOp program_time against spans, as ltb-assert's\n"
"              per-span gate fits it) drawn as a line with its 95%\n"
"              interval, and said in words, resolved or not\n"
"  dropped     percent of spans dropped and CPU against span rate (traced)\n"
"  report      one self-contained HTML page: how much of the plan ran\n"
"              (from the plan_end records, flagged when it stopped short),\n"
"              the verdicts, the four graphs (inline SVG), the cost per\n"
"              span with its 95% interval, the runs, calibration and\n"
"              machine noise\n"
"\n"
"  -o, --output FILE   where to draw: PNG, or SVG when FILE ends in .svg;\n"
"                      the HTML page for report; - for stdout\n"
"      --script        print the gnuplot program instead of running it\n"
"                      (with -o, it sets that output)\n"
"      --title TEXT    the title instead of the graph's own\n"
"      --client NAME   the client to draw when the input has several\n"
"      --label TEXT    only the runs with this label (default: those\n"
"                      labelled with the graph's name, as CI's experiments\n"
"                      are, when there are any; else all)\n"
"      --interval S    seconds between memory samples (default: each\n"
"                      run's clock_time over its number of samples)\n"
"      --spread minmax|ci  the bars over trials: lowest to highest trial\n"
"                      (default), or the 95% confidence interval\n"
"      --baseline FILE  report only: results of a baseline run (main's,\n"
"                      say) to compare with: cost per span, CPU, achieved\n"
"                      rate and drops at each rate both have, memory, and\n"
"                      the gates both judged, side by side with the change\n"
"  -h, --help          this text\n"
"\n"
"Exit: 0 drawn; 2 usage, a malformed record (file:line), or no results\n"
"suitable for the graph; 3 gnuplot missing or failed, or a file cannot\n"
"be written.\n";

/* args.graph for "report", which is no graph of its own. */
#define REPORT (-2)

struct args {
	int graph;		/* enum ltb_plot_graph, or REPORT */
	int script;
	const char *output;
	struct ltb_plot_opts opts;
	const char *baseline;
	char **files;
	size_t nfiles;
};

static void __attribute__((format(printf, 1, 2), noreturn))
bad_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ltb_warn("%s", msg);
	fputs(usage, stderr);
	exit(LTB_EXIT_USAGE);
}

static void
parse_args(int argc, char **argv, struct args *a)
{
	enum { O_SCRIPT = 256, O_TITLE, O_CLIENT, O_LABEL, O_INTERVAL,
		O_SPREAD, O_BASELINE };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "script", no_argument, NULL, O_SCRIPT },
		{ "title", required_argument, NULL, O_TITLE },
		{ "client", required_argument, NULL, O_CLIENT },
		{ "label", required_argument, NULL, O_LABEL },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "spread", required_argument, NULL, O_SPREAD },
		{ "baseline", required_argument, NULL, O_BASELINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	char *end;
	int ch;

	memset(a, 0, sizeof *a);
	a->opts.spread = LTB_PLOT_MINMAX;
	/* getopt's own messages would start with argv[0], not our name. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case ':':
			bad_usage("option '%s' needs a value", argv[optind - 1]);
		case '?':
			if (strncmp(argv[optind - 1], "--", 2) != 0 &&
			    optopt > 0 && optopt < 256)
				bad_usage("bad option '-%c'", optopt);
			bad_usage("bad option '%s'", argv[optind - 1]);
		case 'o':
			if (optarg[0] == '\0')
				bad_usage("empty --output");
			a->output = optarg;
			break;
		case O_SCRIPT:
			a->script = 1;
			break;
		case O_TITLE:
			a->opts.title = optarg;
			break;
		case O_CLIENT:
			a->opts.client = optarg;
			break;
		case O_LABEL:
			a->opts.label = optarg;
			break;
		case O_INTERVAL:
			errno = 0;
			a->opts.interval = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || errno != 0 ||
			    !isfinite(a->opts.interval) ||
			    a->opts.interval <= 0)
				bad_usage("bad --interval '%s': not a number "
				    "of seconds > 0", optarg);
			break;
		case O_SPREAD:
			if (strcmp(optarg, "minmax") == 0)
				a->opts.spread = LTB_PLOT_MINMAX;
			else if (strcmp(optarg, "ci") == 0)
				a->opts.spread = LTB_PLOT_CI95;
			else
				bad_usage("bad --spread '%s': minmax or ci",
				    optarg);
			break;
		case O_BASELINE:
			if (a->baseline != NULL)
				bad_usage("--baseline given twice");
			a->baseline = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(LTB_EXIT_OK);
		default:
			bad_usage("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		bad_usage("no graph named: disconnect, memory, cpu, dropped "
		    "or report");
	cmd = argv[optind++];
	if (strcmp(cmd, "report") == 0)
		a->graph = REPORT;
	else if ((a->graph = ltb_plot_graph_parse(cmd)) < 0)
		bad_usage("unknown graph '%s': disconnect, memory, cpu, "
		    "dropped or report", cmd);
	if (a->output == NULL && !a->script)
		bad_usage("no -o FILE to draw into");
	if (a->baseline != NULL && a->graph != REPORT)
		bad_usage("--baseline is for report: the graphs draw one input");
	a->opts.baseline_name = a->baseline;
	/* The report's graphs are SVG whatever the page is called. */
	a->opts.format = a->graph == REPORT ? LTB_PLOT_SVG :
	    ltb_plot_format_of(a->output);
	if (a->script && a->graph != REPORT && a->output != NULL &&
	    strcmp(a->output, "-") != 0)
		a->opts.output = a->output;
	a->files = argv + optind;
	a->nfiles = (size_t)(argc - optind);
}

static int
add_record(cJSON *rec, const char *name, unsigned long line, void *ctx,
    char *err, size_t errlen)
{
	return ltb_plot_add_record(ctx, rec, name, line, err, errlen);
}

/* Every record of one input into d; dies on bad input. */
static void
read_input(const char *path, struct ltb_plot_data *d)
{
	char err[1024];

	if (ltb_jsonl_read_path(path, add_record, d, err, sizeof err) < 0)
		ltb_die(errno == ENOMEM ? LTB_EXIT_SYS : LTB_EXIT_USAGE, "%s",
		    err);
}

/* "stdin", or the files named, for the no-results message. */
static void
inputs(const struct args *a, char *buf, size_t len)
{
	size_t i, used = 0;

	snprintf(buf, len, "stdin");
	for (i = 0; i < a->nfiles && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i ? ", " : "", strcmp(a->files[i], "-") == 0 ? "stdin" :
		    a->files[i]);
}

/* gnuplot's stderr, a line at a time under our name. */
static void
show_said(char *said)
{
	char *line, *next;

	for (line = said; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line != '\0')
			ltb_warn("gnuplot: %s", line);
	}
	free(said);
}

/* The exit code for a failure with errno e from common/. */
static int
code_of(int e)
{
	return e == EINVAL ? LTB_EXIT_USAGE : LTB_EXIT_SYS;
}

static int
finish_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ltb_warn("cannot write to stdout: %s", strerror(errno));
		return LTB_EXIT_SYS;
	}
	return LTB_EXIT_OK;
}

static int
graph(const struct args *a, const struct ltb_plot_data *d)
{
	char err[1024], *said;

	if (a->script) {
		if (ltb_plot_script(stdout, (enum ltb_plot_graph)a->graph, d,
		    &a->opts, err, sizeof err) < 0) {
			ltb_warn("%s", err);
			return code_of(errno);
		}
		return finish_stdout();
	}
	if (ltb_plot_render((enum ltb_plot_graph)a->graph, d, &a->opts,
	    a->output, &said, err, sizeof err) < 0) {
		int e = errno;

		show_said(said);
		ltb_warn("%s", err);
		return code_of(e);
	}
	show_said(said);
	return LTB_EXIT_OK;
}

static int
report(const struct args *a, const struct ltb_plot_data *d)
{
	struct ltb_plot_figure figs[LTB_PLOT_NGRAPHS];
	int g, rc = LTB_EXIT_OK, to_stdout;
	char *said;
	size_t len;
	FILE *f;

	memset(figs, 0, sizeof figs);
	for (g = 0; g < LTB_PLOT_NGRAPHS; g++) {
		figs[g].graph = (enum ltb_plot_graph)g;
		if (a->script) {
			printf("# ---- ltb-plot report: %s graph\n",
			    ltb_plot_graph_name(figs[g].graph));
			if (ltb_plot_script(stdout, figs[g].graph, d,
			    &a->opts, figs[g].note, sizeof figs[g].note) < 0) {
				if (errno != EINVAL) {
					ltb_warn("%s", figs[g].note);
					return LTB_EXIT_SYS;
				}
				printf("# no %s graph: %s\n",
				    ltb_plot_graph_name(figs[g].graph),
				    figs[g].note);
			}
			continue;
		}
		if (ltb_plot_render_mem(figs[g].graph, d, &a->opts,
		    &figs[g].svg, &len, &said, figs[g].note,
		    sizeof figs[g].note) < 0) {
			int e = errno;

			show_said(said);
			if (e != EINVAL) {
				ltb_warn("%s", figs[g].note);
				rc = LTB_EXIT_SYS;
				goto out;
			}
			ltb_warn("no %s graph: %s", ltb_plot_graph_name(
			    figs[g].graph), figs[g].note);
			continue;
		}
		show_said(said);
	}
	if (a->script)
		return finish_stdout();

	to_stdout = strcmp(a->output, "-") == 0;
	if ((f = to_stdout ? stdout : fopen(a->output, "w")) == NULL ||
	    ltb_plot_report(f, d, &a->opts, figs, LTB_PLOT_NGRAPHS) < 0 ||
	    (!to_stdout && fclose(f) == EOF)) {
		ltb_warn("cannot write '%s': %s", a->output, strerror(errno));
		rc = LTB_EXIT_SYS;
	}
out:
	for (g = 0; g < LTB_PLOT_NGRAPHS; g++)
		free(figs[g].svg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ltb_plot_data d = LTB_PLOT_DATA_ZERO;
	struct ltb_plot_data base = LTB_PLOT_DATA_ZERO;
	char buf[1024];
	struct args a;
	size_t i;
	int rc;

	ltb_prog = "ltb-plot";
	parse_args(argc, argv, &a);

	if (a.nfiles == 0)
		read_input("-", &d);
	for (i = 0; i < a.nfiles; i++)
		read_input(a.files[i], &d);
	if (d.nruns == 0) {
		inputs(&a, buf, sizeof buf);
		ltb_die(LTB_EXIT_USAGE, "no result records in %s: nothing to "
		    "draw", buf);
	}
	for (i = 0; i < d.nruns; i++)
		if (ltb_plot_run_failed(&d.runs[i]))
			ltb_warn("%s: failed run left out of the graphs: %s",
			    d.runs[i].where, d.runs[i].error ?
			    d.runs[i].error : "exit status not 0");

	if (a.baseline != NULL) {
		read_input(a.baseline, &base);
		if (base.nruns == 0)
			ltb_die(LTB_EXIT_USAGE, "baseline %s: no result records: "
			    "nothing to compare with", a.baseline);
		a.opts.baseline = &base;
	}

	rc = a.graph == REPORT ? report(&a, &d) : graph(&a, &d);
	ltb_plot_data_free(&d);
	ltb_plot_data_free(&base);
	return rc;
}
