/*
 * ltb_calibrate.h: finding the sleep per unit of work that makes a
 * client, with the NoOp tracer, use the target CPU.
 *
 * First the work rate: two NoOp runs without sleep, of different lengths,
 * whose difference cancels the client's start-up cost. Then runs at the
 * calibration rate, each correcting the work rate and the sleep per work
 * from what the kernel measured, until the CPU is within tolerance.
 */
#ifndef LTB_CALIBRATE_H
#define LTB_CALIBRATE_H

#include <stddef.h>

#include "run/ltb_plan.h"
#include "run/ltb_run.h"

struct ltb_calibrate_opts {
	const char *client;		/* registry name */
	const char *client_cmd;		/* or a command */
	double target_cpu;		/* 0.7 */
	double sps;			/* rate of the calibration runs, 500 */
	double runtime;			/* s per calibration run, 3 */
	int max_runs;			/* 6 */
	double tolerance;		/* 0.01 */
};

void ltb_calibrate_default(struct ltb_calibrate_opts *o);

/* Calibrate; progress lines go through r->prog on stderr. 0 with out
 * filled, -1 with a message in err. */
int ltb_calibrate(struct ltb_runner *r, const struct ltb_calibrate_opts *o,
    struct ltb_calibration *out, char *err, size_t errlen);

#endif
