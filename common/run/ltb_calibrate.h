/*
 * ltb_calibrate.h: finding the sleep per unit of work that makes a
 * client, with the NoOp tracer, use the target CPU.
 *
 * Every figure is of the run's measurement window (from the client's
 * fetch of its control message to its exit), so a client's start-up, even
 * seconds of it, does not count. First the work rate: a probe grown until
 * Work dominates its CPU, then two NoOp runs without sleep, of different
 * lengths, whose difference cancels what is left of fixed costs. Then runs
 * at the calibration rate, each correcting the work rate and the sleep per
 * work from what the kernel measured, until the CPU is within tolerance.
 *
 * A calibration that does not converge on a machine busy with other work
 * (other processes' CPU, steal, load, from the runs' noise figures) is
 * inconclusive, not a failure: the client may be fine, the machine cannot
 * tell.
 *
 * An argv client's window is the whole process less its start-up, which
 * is measured first (the median of a few runs of --repeat 0) and taken
 * out of every run; the calibration keeps it (startup_cpu, startup_time).
 */
#ifndef LTB_CALIBRATE_H
#define LTB_CALIBRATE_H

#include <stddef.h>

#include "run/ltb_client_dir.h"
#include "run/ltb_plan.h"
#include "run/ltb_run.h"

struct ltb_calibrate_opts {
	const char *client;		/* registry name */
	const char *client_cmd;		/* or a command */
	int contract;			/* LTB_CONTRACT_* (ltb_client_dir.h) */
	int protocol;			/* Protocol of its runs, LTB_CONTROL_*
					 * (a metrics client is told it is one
					 * even NoOp) */
	double target_cpu;		/* 0.7 */
	double sps;			/* rate of the calibration runs, 500 */
	double runtime;			/* s per calibration run, 3 */
	int max_runs;			/* 6 */
	double tolerance;		/* 0.01 */
};

void ltb_calibrate_default(struct ltb_calibrate_opts *o);

/* Calibrate; its steps, and its runs' samples, go to r->progress. 0 with out
 * filled; -1 with a message in err (the client cannot be calibrated, or a
 * system failure); LTB_CALIBRATE_INCONCLUSIVE with a message that gives
 * the noise figures when the machine was too busy to converge. */
#define LTB_CALIBRATE_INCONCLUSIVE (-2)
int ltb_calibrate(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    struct ltb_calibration *out, char *err, size_t errlen);

#endif
