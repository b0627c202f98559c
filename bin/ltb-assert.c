/*
 * ltb-assert: check gates over result records, for CI.
 *
 * Reads the "result" records ltb-sample writes (other records pass by
 * unread), evaluates each gate of the command line (common/judge/ltb_gates.h),
 * and says what it found three ways: a PASS or FAIL line per gate on
 * stderr, a "verdict" record per gate on stdout, and optionally a JUnit
 * report for CI's test results and a Bencher Metric Format file of the
 * gates' figures for the services that track them over time. No results
 * at all is an error, never a pass.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/ltb_bmf.h"
#include "judge/ltb_gates.h"
#include "core/ltb_jsonl.h"
#include "core/ltb_log.h"

static const char usage[] =
"usage: ltb-assert [--max-cpu X] [--max-dropped N] [--max-dropped-ratio R]\n"
"                  [--max-overhead X] [--max-memory-growth R]\n"
"                  [--min-throughput SPS --at-overhead X]\n"
"                  [--max-ns-per-span NS]\n"
"                  [--baseline FILE --max-regression R\n"
"                   [--allow-different-machine] [--max-interval W]]\n"
"                  [--max-noise CPU]\n"
"                  [--expect 'FIELD OP VALUE']... [--junit FILE]\n"
"                  [--bmf FILE] [FILE...]\n"
"\n"
"Checks gates over result records (from the FILEs, or stdin when none or\n"
"-); other records are skipped. At least one gate; each once, but --expect.\n"
"Traced runs have \"trace\": true, NoOp runs false.\n"
"\n"
"Every check also judges the plan: the input must end with ltb-sample's\n"
"plan_end record (one per ltb-sample whose output is given), complete,\n"
"with every planned result present and none failed.\n"
"\n"
"  --max-cpu X             every traced run's cpu_usage <= X (every run\n"
"                          when none is traced)\n"
"  --max-dropped N         every traced run's dropped <= N\n"
"  --max-dropped-ratio R   every traced run's dropped/spans_sent <= R\n"
"  --max-invalid N         every traced run's spans_invalid <= N\n"
"  --max-overhead X        at each target_sps, mean traced minus mean NoOp\n"
"                          cpu_usage <= X; reports a Welch 95% interval and\n"
"                          the tracer's CPU-ns per span. Where the traced\n"
"                          runs made under 0.8 of NoOp's sps (a tracer that\n"
"                          waits on its sends, which dilutes cpu_usage),\n"
"                          CPU-seconds per second at the traced runs' pace\n"
"                          (program_time * sps / spans_sent) instead\n"
"  --max-memory-growth R   at each target_sps, mean memory_last of the\n"
"                          longest traced runs over that of the shortest\n"
"                          <= R (needs two runtimes at a rate)\n"
"  --max-ns-per-span NS    the tracer's CPU-ns per span <= NS: the slope of\n"
"                          each pair's extra CPU (traced minus NoOp\n"
"                          program_time, or test minus base arm) against\n"
"                          its spans, by least squares over every rate,\n"
"                          with a 95% interval; its intercept, the fixed\n"
"                          cost per run, is reported apart. Passes when\n"
"                          the whole interval is <= NS, fails when all of\n"
"                          it is above, inconclusive otherwise\n"
"  --baseline FILE         results of a baseline run (main's, say), for:\n"
"  --max-regression R      this input's cost per span against FILE's:\n"
"                          fails only when the relative increase is\n"
"                          resolved above R (the interval's low end > R);\n"
"                          inconclusive when it looks above R but is not\n"
"                          resolved, or a cost is not resolved from zero;\n"
"                          reports CPU at each rate, memory and drops too.\n"
"                          Refused across machines (the results'\n"
"                          fingerprints: cpu_model, cores, kernel,\n"
"                          work_per_second, client) unless\n"
"  --allow-different-machine\n"
"  --max-interval W        max-regression is inconclusive, not a pass, when\n"
"                          its 95% interval reaches further than W either\n"
"                          side of the change (default 0.5: +-50%)\n"
"  --max-noise CPU         make the two gates above inconclusive when other\n"
"                          processes and steal took more than CPU on\n"
"                          average during the runs (default 0.5; 0: never)\n"
"  --min-throughput SPS    the achieved sps at which the overhead first\n"
"  --at-overhead X         exceeds X, interpolated between rates, >= SPS;\n"
"                          a rate the traced runs cannot hold (as above)\n"
"                          ends it at the rate held below\n"
"  --expect 'FIELD OP VALUE'\n"
"                          every run's top-level FIELD OP VALUE, OP one of\n"
"                          == != < <= > >=, VALUE a number, true, false,\n"
"                          null or a string ('quoted' to keep \"1\" a string)\n"
"  --junit FILE            also write a JUnit XML report to FILE\n"
"  --bmf FILE              also write the gates' figures (with their 95%\n"
"                          intervals) to FILE as Bencher Metric Format:\n"
"                          benchmarks CLIENT/GATE and CLIENT/GATE/RATEsps;\n"
"                          a figure not measured is left out. FILE is\n"
"                          replaced, not added to\n"
"  -h, --help              this text\n"
"\n"
"A failed run (an error, or exit_status not 0) fails every gate using it.\n"
"stdout: a {\"type\":\"verdict\",...} record per gate; stderr: a PASS or\n"
"FAIL line per gate.\n"
"\n"
"Exit: 0 every gate passed; 1 a gate failed, a run failed or the plan is\n"
"incomplete; 2 usage, no records, or bad input (a malformed line, a record\n"
"of the wrong shape or version, a result without a field a gate needs);\n"
"3 cannot write stdout, the JUnit or the BMF file; 4 inconclusive and none failed\n"
"(too noisy, or an interval too wide, to decide; or the plan stopped on an\n"
"inconclusive calibration): measure again, longer or on a quieter machine\n";

#define MAX_GATES 64

struct args {
	struct ltb_gate gates[MAX_GATES];
	size_t ngates;
	const char *junit;
	const char *bmf;
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

/* A gate's limit: a finite number, not negative. */
static double
limit(const char *opt, const char *s)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(x) || x < 0)
		bad_usage("bad --%s '%s': not a number >= 0", opt, s);
	return x;
}

static struct ltb_gate *
add_gate(struct args *a, enum ltb_gate_kind kind)
{
	struct ltb_gate *g;
	size_t i;

	for (i = 0; i < a->ngates && kind != LTB_GATE_EXPECT; i++)
		if (a->gates[i].kind == kind)
			bad_usage("--%s given twice", ltb_gate_name(kind));
	if (a->ngates == MAX_GATES)
		bad_usage("more than %d gates", MAX_GATES);
	g = &a->gates[a->ngates++];
	memset(g, 0, sizeof *g);
	g->kind = kind;
	return g;
}

static void
parse_args(int argc, char **argv, struct args *a)
{
	enum { O_AT = 256, O_EXPECT, O_JUNIT, O_BMF, O_BASELINE,
	    O_OTHER_MACHINE, O_NOISE, O_WIDTH, O_GATE };
	static const struct option longopts[] = {
		{ "max-cpu", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_CPU },
		{ "max-dropped", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_DROPPED },
		{ "max-dropped-ratio", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_DROPPED_RATIO },
		{ "max-invalid", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_INVALID },
		{ "max-overhead", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_OVERHEAD },
		{ "max-memory-growth", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_MEMORY_GROWTH },
		{ "max-ns-per-span", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_NS_PER_SPAN },
		{ "max-regression", required_argument, NULL,
		    O_GATE + LTB_GATE_MAX_REGRESSION },
		{ "baseline", required_argument, NULL, O_BASELINE },
		{ "allow-different-machine", no_argument, NULL,
		    O_OTHER_MACHINE },
		{ "max-noise", required_argument, NULL, O_NOISE },
		{ "max-interval", required_argument, NULL, O_WIDTH },
		{ "min-throughput", required_argument, NULL,
		    O_GATE + LTB_GATE_MIN_THROUGHPUT },
		{ "at-overhead", required_argument, NULL, O_AT },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "junit", required_argument, NULL, O_JUNIT },
		{ "bmf", required_argument, NULL, O_BMF },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ltb_gate *g, *throughput = NULL, *regression = NULL;
	double at = NAN, noise = 0.5, width = 0.5;
	int other_machine = 0;
	size_t i;
	const char *why;
	int ch;

	memset(a, 0, sizeof *a);
	/* Whatever else is asked, the input must be whole. */
	add_gate(a, LTB_GATE_PLAN);
	/* getopt's own messages would start with argv[0], not our name. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case ':':
			bad_usage("option '%s' needs a value", argv[optind - 1]);
		case '?':
			if (strncmp(argv[optind - 1], "--", 2) != 0 &&
			    optopt > 0 && optopt < 256)
				bad_usage("bad option '-%c'", optopt);
			bad_usage("bad option '%s'", argv[optind - 1]);
		case O_AT:
			if (!isnan(at))
				bad_usage("--at-overhead given twice");
			at = limit("at-overhead", optarg);
			break;
		case O_EXPECT:
			g = add_gate(a, LTB_GATE_EXPECT);
			if (ltb_expect_parse(optarg, &g->expect, &why) < 0)
				bad_usage("bad --expect '%s': %s", optarg, why);
			break;
		case O_BASELINE:
			if (a->baseline != NULL)
				bad_usage("--baseline given twice");
			a->baseline = optarg;
			break;
		case O_OTHER_MACHINE:
			other_machine = 1;
			break;
		case O_NOISE:
			noise = limit("max-noise", optarg);
			break;
		case O_WIDTH:
			width = limit("max-interval", optarg);
			break;
		case O_JUNIT:
			if (a->junit != NULL)
				bad_usage("--junit given twice");
			a->junit = optarg;
			break;
		case O_BMF:
			if (a->bmf != NULL)
				bad_usage("--bmf given twice");
			a->bmf = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(LTB_EXIT_OK);
		default:
			if (ch >= O_GATE &&
			    ch <= O_GATE + LTB_GATE_MIN_THROUGHPUT) {
				g = add_gate(a, (enum ltb_gate_kind)(ch -
				    O_GATE));
				g->limit = limit(ltb_gate_name(g->kind),
				    optarg);
				if (g->kind == LTB_GATE_MIN_THROUGHPUT)
					throughput = g;
				if (g->kind == LTB_GATE_MAX_REGRESSION)
					regression = g;
				break;
			}
			bad_usage("bad option '%s'", argv[optind - 1]);
		}
	}
	if (throughput != NULL && isnan(at))
		bad_usage("--min-throughput needs --at-overhead");
	if (throughput == NULL && !isnan(at))
		bad_usage("--at-overhead goes with --min-throughput");
	if (throughput != NULL)
		throughput->at_overhead = at;
	if (regression != NULL && a->baseline == NULL)
		bad_usage("--max-regression needs --baseline FILE");
	if (regression == NULL && a->baseline != NULL)
		bad_usage("--baseline goes with --max-regression");
	if (regression == NULL && other_machine)
		bad_usage("--allow-different-machine goes with --baseline");
	for (i = 0; i < a->ngates; i++) {
		a->gates[i].max_noise = noise;
		a->gates[i].max_halfwidth = width;
		a->gates[i].allow_different_machine = other_machine;
		a->gates[i].baseline_name = a->baseline;
	}
	if (a->ngates == 1)
		bad_usage("no gate to check");
	a->files = argv + optind;
	a->nfiles = (size_t)(argc - optind);
}

/* A result or plan_end record into the results (ctx); other records are
 * skipped. */
static int
add_result(cJSON *rec, const char *name, unsigned long line, void *ctx,
    char *err, size_t errlen)
{
	if (ltb_results_add(ctx, rec, name, line) < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

/* Every result record of one input into rs; dies on bad input. */
static void
read_input(const char *path, struct ltb_results *rs)
{
	char err[1024];

	if (ltb_jsonl_read_path(path, add_result, rs, err, sizeof err) < 0)
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

static int
write_junit(const char *path, const struct ltb_verdict *v, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || ltb_verdicts_junit(f, v, n) < 0) {
		ltb_warn("cannot write '%s': %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (fclose(f) == EOF) {
		ltb_warn("cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The verdicts' figures as BMF, to path: replaced whole, as the JUnit
 * file is, so a file is one run's figures and a run that measured nothing
 * leaves none of an earlier run's behind. */
static int
write_bmf(const char *path, const struct ltb_verdict *v, size_t n,
    const struct ltb_results *rs)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || ltb_bmf_write(f, v, n, rs) < 0) {
		ltb_warn("cannot write '%s': %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (fclose(f) == EOF) {
		ltb_warn("cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The baseline's results, which must be a whole plan that failed no run:
 * a regression is measured against something that was measured. */
static void
read_baseline(struct args *a, struct ltb_results *base)
{
	const struct ltb_plan_tally *t = &base->plan;
	size_t i;

	read_input(a->baseline, base);
	if (base->n == 0)
		ltb_die(LTB_EXIT_USAGE, "baseline %s: no result records: "
		    "nothing to compare with", a->baseline);
	if (t->ends == 0 || t->incomplete > 0 || t->failed > 0)
		ltb_die(LTB_EXIT_USAGE, "baseline %s: not a whole plan (%s): "
		    "use the output of an ltb-sample run that finished",
		    a->baseline, t->ends == 0 ? "no plan_end record" :
		    t->incomplete > 0 ? t->why : "some runs failed");
	for (i = 0; i < a->ngates; i++)
		a->gates[i].baseline = base;
}

int
main(int argc, char **argv)
{
	struct ltb_results rs = LTB_RESULTS_ZERO, base = LTB_RESULTS_ZERO;
	struct ltb_verdict v[MAX_GATES];
	int stdout_gone = 0, rc = LTB_EXIT_OK;
	char err[1024], line[1200];
	struct args a;
	size_t i, n;

	ltb_prog = "ltb-assert";
	parse_args(argc, argv, &a);
	/* A reader that goes away downstream is no crash: the verdicts still
	 * reach stderr, the JUnit and BMF files and the exit status. */
	signal(SIGPIPE, SIG_IGN);

	if (a.baseline != NULL)
		read_baseline(&a, &base);
	if (a.nfiles == 0)
		read_input("-", &rs);
	for (i = 0; i < a.nfiles; i++)
		read_input(a.files[i], &rs);
	if (rs.n == 0 && rs.plan.ends == 0) {
		inputs(&a, err, sizeof err);
		ltb_die(LTB_EXIT_USAGE, "no result records in %s: nothing to "
		    "check", err);
	}
	/* A plan that ended before any run answers no gate but its own. */
	if (rs.n == 0)
		a.ngates = 1;

	/* Judge every gate before saying anything, so bad input gives one
	 * error and no half set of verdicts. */
	for (n = 0; n < a.ngates; n++) {
		if (ltb_gate_eval(&a.gates[n], &rs, &v[n], err,
		    sizeof err) == 0)
			continue;
		if (errno == EINVAL && n > 0 && !v[0].pass) {
			/* Input short because the plan stopped early is the
			 * plan's verdict, not bad input. */
			ltb_verdict_unjudged(&a.gates[n], &v[0], err, &v[n]);
		} else {
			int code = errno == ENOMEM ? LTB_EXIT_SYS :
			    LTB_EXIT_USAGE;

			ltb_warn("%s", err);
			while (n-- > 0)
				ltb_verdict_free(&v[n]);
			ltb_results_free(&rs);
			ltb_results_free(&base);
			return code;
		}
	}

	for (i = 0; i < n; i++) {
		cJSON *rec = ltb_verdict_record(&v[i]);

		ltb_verdict_line(&v[i], line, sizeof line);
		ltb_warn("%s", line);
		if (v[i].inconclusive && rc == LTB_EXIT_OK)
			rc = LTB_EXIT_INCONCLUSIVE;
		else if (!v[i].pass && !v[i].inconclusive &&
		    (rc == LTB_EXIT_OK || rc == LTB_EXIT_INCONCLUSIVE))
			rc = LTB_EXIT_FAIL;
		if (rec == NULL) {
			ltb_warn("cannot make the verdict record: %s",
			    strerror(ENOMEM));
			rc = LTB_EXIT_SYS;
		} else if (!stdout_gone && ltb_jsonl_write(stdout, rec) < 0) {
			stdout_gone = 1;
			if (errno != EPIPE) {
				ltb_warn("cannot write to stdout: %s",
				    strerror(errno));
				rc = LTB_EXIT_SYS;
			}
		}
		cJSON_Delete(rec);
	}
	if (a.junit != NULL && write_junit(a.junit, v, n) < 0)
		rc = LTB_EXIT_SYS;
	if (a.bmf != NULL && write_bmf(a.bmf, v, n, &rs) < 0)
		rc = LTB_EXIT_SYS;

	for (i = 0; i < n; i++)
		ltb_verdict_free(&v[i]);
	ltb_results_free(&rs);
	ltb_results_free(&base);
	if (!stdout_gone && (ferror(stdout) || fclose(stdout) == EOF) &&
	    errno != EPIPE) {
		ltb_warn("cannot write to stdout: %s", strerror(errno));
		rc = LTB_EXIT_SYS;
	}
	return rc;
}
