/*
 * ltb_run.h: one benchmark run, from a control record to a result record.
 *
 * The runner serves the control message, starts the client under a keeper
 * (ltb_proc_spawn_kept: nothing of the client's tree outlives the run, or
 * us) with LTB_CONTROL_URL, and measures the window from the client's
 * fetch of its message to its exit (what came before is its start-up,
 * reported apart): samples the CPU and memory of its whole tree every
 * interval, drives the satellites' admin API at the times asked (counted
 * from the fetch; a script of answers is posted at the fetch and its
 * steps recorded as events as they start), and when the client exits (or times out, or never
 * fetches its message) takes exact totals from the kernel and the
 * satellites' counts, and builds the result.
 *
 * A record with "contract": "argv" starts the client the original
 * LightStep Benchmarks' way instead: its command, then --trace 0|1 --sleep
 * NS --sleep_interval NS --work N --repeat N --no_flush 0|1 --num_tags N
 * --num_logs N from the message (which is still served, and
 * LTB_CONTROL_URL still set: harmless, the client need not fetch). No
 * fetch opens its window: it is the whole process less its start-up,
 * which a run of --repeat 0 (the same flags otherwise) measures: the
 * record's startup_cpu and startup_time (from the calibration), else
 * probes the runner makes once per client and trace and keeps.
 *
 * The caller blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD in every thread
 * before starting any (so only the runner's sigtimedwait sees them), and
 * should be a child subreaper (ltb_proc_become_subreaper).
 */
#ifndef LTB_RUN_H
#define LTB_RUN_H

#include <signal.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "collector/ltb_script.h"
#include "core/ltb_host.h"
#include "run/ltb_control_server.h"
#include "run/ltb_progress.h"
#include "run/ltb_satellite_admin.h"

/* An argv client's start-up, probed once per client and trace. */
#define LTB_RUN_STARTUPS 32
struct ltb_startup {
	char key[512];			/* client_cmd, or client name */
	int trace;
	double cpu, time;		/* CPU-s, s */
	int none;			/* its probe failed: nothing taken out */
};

struct ltb_runner {
	struct ltb_ctlserver *ctl;	/* borrowed */
	struct ltb_satgroup *sats;	/* borrowed */
	double interval;		/* sampling period, s */
	int no_timeout;
	double down_at, up_at;		/* s after start; < 0: never */
	/* A script for the satellites (borrowed; NULL: none), as parsed and
	 * as its JSON text, posted to them at each fetch and cleared when
	 * the client exits. */
	const struct ltb_script *script;
	const char *script_json;
	double fetch_timeout;		/* s to wait for the first fetch */
	struct ltb_progress progress;	/* samples and the client's output */
	struct ltb_host host;		/* the machine, for the fingerprint */
	int interrupted;		/* out: the signal that stopped us */
	/* Calibration runs (ltb_calibrate sets it): an argv run that ends
	 * within its start-up has an empty window, not an error: the
	 * calibration grows its runs until Work shows. */
	int calibrating;
	struct ltb_startup startup[LTB_RUN_STARTUPS];	/* probed */
	size_t nstartup;
};

/* Defaults: 1 s sampling, timeouts on, no satellite events, 10 s fetch,
 * no progress; and the host read, once for all the runs. */
void ltb_runner_init(struct ltb_runner *r);

/*
 * Run the control record rec (borrowed). Returns a new result record (the
 * caller owns it), which carries "error" when the run failed (client could
 * not start, crashed, hung, never fetched); NULL with a message in err on
 * a system failure or when interrupted (r->interrupted then holds the
 * signal number). The result copies the record's pair, arm, seed and
 * planted_ns when it has them, the client's planted_ns_measured when its
 * summary line says one, and carries a "fingerprint": the host's CPU
 * model, cores and kernel, the record's work_per_second, the client, and
 * the tracer its summary line names.
 */
cJSON *ltb_run(struct ltb_runner *r, const cJSON *rec, char *err,
    size_t errlen);

/*
 * The start-up of the argv client of rec (borrowed): LTB_RUN_PROBES runs
 * of rec with Repeat 0, the whole of each process measured, their median
 * CPU-s into *cpu and seconds into *time (each its own median). 0; 1 when
 * a probe failed, its result's error in err; -1 with a message in err on a
 * system failure or when interrupted, as ltb_run.
 */
#define LTB_RUN_PROBES 3
int ltb_run_startup(struct ltb_runner *r, const cJSON *rec, double *cpu,
    double *time, char *err, size_t errlen);

#endif
