/*
 * ltb_calibrate.c: calibration by measurement; see ltb_calibrate.h.
 *
 * The runs' noise figures are kept (the worst of each) so that a
 * calibration that does not converge can say whether the machine was
 * busy: that is inconclusive, the rest a failure.
 *
 * An argv client has no fetch to open its window: its start-up is
 * measured first, by probes of --repeat 0 (ltb_run_startup), and each
 * calibration run's record carries it, so that the runner takes it out.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/ltb_calibrate.h"
#include "core/ltb_jsonl.h"

/* Runs stop within the tolerance; a result further off than this after
 * the last run is a failure, not a calibration. */
#define MAX_ERROR 0.05

/* The worst noise the calibration runs saw. */
struct noise {
	double other;		/* other processes' CPU, per second of run */
	double steal;		/* steal, per second of run */
	double load;		/* 1-minute load average */
};

/* Busy: no core was left free for the client by the others, the
 * hypervisor took 5% or more, or more were runnable than there are CPUs. */
static int
busy(const struct noise *n)
{
	double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 1)
		ncpu = 1;
	return n->other >= fmax(0.5, ncpu - 1) || n->steal >= 0.05 ||
	    n->load > ncpu;
}

void
ltb_calibrate_default(struct ltb_calibrate_opts *o)
{
	memset(o, 0, sizeof *o);
	o->target_cpu = 0.7;
	o->sps = 500;
	o->runtime = 3;
	o->max_runs = 6;
	o->tolerance = 0.01;
}

/* A NoOp control record for the calibration runs; an argv client's
 * carries its start-up once c has it. */
static cJSON *
noop_record(const struct ltb_calibrate_opts *o,
    const struct ltb_calibration *c, double work, double sleep_ns,
    double repeat, double runtime)
{
	cJSON *rec = ltb_record_new("control");

	if (rec == NULL)
		return NULL;
	cJSON_AddStringToObject(rec, "client", o->client ? o->client : "cmd");
	if (o->client_cmd != NULL)
		cJSON_AddStringToObject(rec, "client_cmd", o->client_cmd);
	cJSON_AddNumberToObject(rec, "target_sps", o->sps);
	cJSON_AddNumberToObject(rec, "runtime", runtime);
	cJSON_AddBoolToObject(rec, "Trace", 0);
	cJSON_AddNumberToObject(rec, "Work", work);
	cJSON_AddNumberToObject(rec, "Sleep", sleep_ns);
	cJSON_AddNumberToObject(rec, "Repeat", repeat);
	cJSON_AddStringToObject(rec, "Protocol",
	    ltb_control_protocol_names[o->protocol]);
	if (o->contract == LTB_CONTRACT_ARGV) {
		cJSON_AddStringToObject(rec, "contract", "argv");
		if (c->startup_cpu >= 0 && c->startup_time >= 0) {
			cJSON_AddNumberToObject(rec, "startup_cpu",
			    c->startup_cpu);
			cJSON_AddNumberToObject(rec, "startup_time",
			    c->startup_time);
		}
	}
	return rec;
}

/* One NoOp run; its CPU and clock seconds. */
static int
measure(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    const struct ltb_calibration *c, double work, double sleep_ns,
    double repeat, double runtime, double *cpu_s, double *clock_s,
    struct noise *nz, char *err, size_t errlen)
{
	cJSON *rec = noop_record(o, c, work, sleep_ns, repeat, runtime), *res;
	const cJSON *noise;
	const char *e;
	double whole;

	if (rec == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	res = ltb_run(r, rec, err, errlen);
	cJSON_Delete(rec);
	if (res == NULL)
		return -1;
	if ((e = ltb_json_str(res, "error", NULL)) != NULL) {
		snprintf(err, errlen, "calibration run failed: %s", e);
		cJSON_Delete(res);
		return -1;
	}
	*cpu_s = ltb_json_num(res, "program_time", 0);
	*clock_s = ltb_json_num(res, "clock_time", 0);
	whole = *clock_s + ltb_json_num(res, "startup_time", 0);
	noise = cJSON_GetObjectItemCaseSensitive(res, "noise");
	if (whole > 0 && noise != NULL) {
		nz->other = fmax(nz->other,
		    ltb_json_num(noise, "other_cpu_s", 0) / whole);
		nz->steal = fmax(nz->steal,
		    ltb_json_num(noise, "steal_s", 0) / whole);
		nz->load = fmax(nz->load, ltb_json_num(noise, "loadavg", 0));
	}
	cJSON_Delete(res);
	/* An argv run within its start-up has an empty window: work_rate
	 * grows its runs past it. */
	if (*cpu_s < 0 || (*clock_s <= 0 && o->contract != LTB_CONTRACT_ARGV)) {
		snprintf(err, errlen, "calibration run measured no time");
		return -1;
	}
	return 0;
}

/* Work units per CPU-second, start-up cost cancelled out. */
static int
work_rate(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    const struct ltb_calibration *c, double *wps, struct noise *nz,
    char *err, size_t errlen)
{
	const double work = 100000;
	double c1 = 0, c2, t, n1, n2, guess;

	/* Grow a probe until Work, not the fixed costs of a run (the
	 * fetch, the exit), dominates its window's CPU. */
	n1 = 20;
	for (int i = 0; i < 6; i++) {
		if (measure(r, o, c, work, 0, n1, 1, &c1, &t, nz, err,
		    errlen) < 0)
			return -1;
		if (c1 >= 0.2)
			break;
		n1 *= 8;
	}
	if (c1 < 0.2) {
		snprintf(err, errlen, "work rate: %.0f spans of %.0f Work used "
		    "only %.3f CPU-s: is the client doing Work?", n1, work,
		    c1);
		return -1;
	}
	guess = work * n1 / c1;		/* fixed costs included: a bit low */
	n1 = ceil(guess * 0.2 / work);
	n2 = ceil(guess * 1.0 / work);
	if (measure(r, o, c, work, 0, n1, 2, &c1, &t, nz, err, errlen) < 0 ||
	    measure(r, o, c, work, 0, n2, 2, &c2, &t, nz, err, errlen) < 0)
		return -1;
	/* The longer run was sized to use about 0.8 CPU-s more; a client
	 * whose CPU does not follow Work cannot be calibrated. */
	if (c2 - c1 < 0.2) {
		snprintf(err, errlen, "work rate: %.0f times the Work used only "
		    "%.3f CPU-s more (%.3f s vs %.3f s): is the client doing "
		    "Work?", n2 / n1, c2 - c1, c2, c1);
		return -1;
	}
	*wps = work * (n2 - n1) / (c2 - c1);
	return 0;
}

/* An argv client's start-up, by probes of the first run's record with
 * --repeat 0, into c: every calibration run takes it out. */
static int
argv_startup(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    struct ltb_calibration *c, char *err, size_t errlen)
{
	cJSON *rec = noop_record(o, c, 100000, 0, 0, 1);
	char why[1024];
	int rc;

	if (rec == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = ltb_run_startup(r, rec, &c->startup_cpu, &c->startup_time, why,
	    sizeof why);
	cJSON_Delete(rec);
	if (rc != 0) {
		snprintf(err, errlen, "%s%s", rc > 0 ? "calibration: " : "",
		    why);
		c->startup_cpu = c->startup_time = -1;
		return -1;
	}
	return 0;
}

static void
stamp(struct ltb_calibration *c)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(c->created, sizeof c->created, "%Y-%m-%dT%H:%M:%SZ", &tm);
	gethostname(c->host, sizeof c->host - 1);
}

/* A step of the calibration, as it stands in c, to the tool's progress
 * callback. */
static void
say(struct ltb_runner *r, enum ltb_progress_what what,
    const struct ltb_calibration *c, int run, double cpu)
{
	struct ltb_progress_event ev = { .what = what, .client = c->client };

	ev.u.calibrate.run = run;
	ev.u.calibrate.work_per_second = c->work_per_second;
	ev.u.calibrate.target_cpu = c->target_cpu;
	ev.u.calibrate.cpu = cpu;
	ev.u.calibrate.sleep_per_work_ns = c->sleep_per_work_ns;
	ltb_progress_say(&r->progress, &ev);
}

static int
calibrate(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    struct ltb_calibration *out, char *err, size_t errlen);

int
ltb_calibrate(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    struct ltb_calibration *out, char *err, size_t errlen)
{
	/* Calibration runs are NoOp and undisturbed: no satellite events. */
	double down = r->down_at, up = r->up_at;
	const struct ltb_script *script = r->script;
	int rc;

	r->down_at = r->up_at = -1;
	r->script = NULL;
	r->calibrating = 1;
	rc = calibrate(r, o, out, err, errlen);
	r->calibrating = 0;
	r->down_at = down;
	r->up_at = up;
	r->script = script;
	return rc;
}

static int
calibrate(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    struct ltb_calibration *out, char *err, size_t errlen)
{
	double target = o->target_cpu, ratio = (1 - target) / target;
	double work, sleep_ns, repeat, cpu_s, clock_s, cpu;
	struct noise nz = { 0, 0, 0 };

	memset(out, 0, sizeof *out);
	snprintf(out->client, sizeof out->client, "%s",
	    o->client ? o->client : "cmd");
	out->target_cpu = target;
	out->contract = o->contract;
	out->startup_cpu = out->startup_time = -1;
	if (o->contract == LTB_CONTRACT_ARGV &&
	    argv_startup(r, o, out, err, errlen) < 0)
		return -1;
	if (work_rate(r, o, out, &out->work_per_second, &nz, err,
	    errlen) < 0)
		return -1;
	out->sleep_per_work_ns = ratio / out->work_per_second * 1e9;
	say(r, LTB_PROGRESS_CALIBRATE_RATE, out, 0, 0);
	for (int i = 0; i < o->max_runs; i++) {
		double slept, want;

		ltb_plan_span(out, o->sps, &work, &sleep_ns);
		repeat = floor(o->sps * o->runtime + 0.5);
		if (measure(r, o, out, work, sleep_ns, repeat, o->runtime,
		    &cpu_s, &clock_s, &nz, err, errlen) < 0)
			return -1;
		if (clock_s <= 0 || cpu_s <= 0) {
			snprintf(err, errlen, "a calibration run of %.3g s "
			    "measured nothing beyond the client's start-up "
			    "(%.3f s): raise --runtime", o->runtime,
			    out->startup_time);
			return -1;
		}
		cpu = cpu_s / clock_s;
		out->achieved_cpu = cpu;
		out->iterations = i + 1;
		say(r, LTB_PROGRESS_CALIBRATE_RUN, out, i + 1, cpu);
		if (fabs(cpu - target) <= o->tolerance)
			break;
		/* Correct both rates from what was measured: the work rate
		 * from CPU per span, the sleep from how much the client
		 * really slept (oversleep, start-up) for what it was told. */
		out->work_per_second = work * repeat / cpu_s;
		slept = clock_s - cpu_s;
		want = ratio * cpu_s;
		if (slept <= 0 || sleep_ns <= 0)
			out->sleep_per_work_ns *= 2;
		else
			out->sleep_per_work_ns *= want / slept;
	}
	if (fabs(out->achieved_cpu - target) > MAX_ERROR) {
		int inconclusive = busy(&nz);

		snprintf(err, errlen, "calibration %s in %d runs: the last "
		    "used %.3f CPU for %.2f; the machine was %s: other "
		    "processes used up to %.2f CPU, steal %.1f%%, load "
		    "average %.2f on %ld CPUs", inconclusive ?
		    "inconclusive: it did not converge" : "did not converge",
		    o->max_runs, out->achieved_cpu, target, inconclusive ?
		    "busy" : "not busy", nz.other, nz.steal * 100, nz.load,
		    sysconf(_SC_NPROCESSORS_ONLN));
		return inconclusive ? LTB_CALIBRATE_INCONCLUSIVE : -1;
	}
	stamp(out);
	return 0;
}
