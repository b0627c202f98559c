/*
 * ltb_host.h: the machine the figures are measured on.
 *
 * A result's "fingerprint" names the machine (its CPU model, online CPUs
 * and kernel release) beside the calibration's work rate and the client
 * and tracer that ran, so that a run is compared with a baseline measured
 * on the same kind of machine, or the comparison is refused. None of it
 * changes while a tool runs: read it once (ltb_runner_init does).
 */
#ifndef LTB_HOST_H
#define LTB_HOST_H

#include <stddef.h>

struct ltb_host {
	char cpu_model[256];	/* /proc/cpuinfo "model name"; "" if none */
	long cores;		/* online CPUs; 0 if unknown */
	char kernel[128];	/* uname's release; "" if unknown */
};

/* This machine's. Never fails: what cannot be read is left unknown. */
void ltb_host_read(struct ltb_host *h);

/*
 * The first "model name" of a cpuinfo file (path), its spaces trimmed,
 * in buf. 0, or -1 when the file cannot be read or names no model (some
 * architectures say none): then buf is "".
 */
int ltb_host_cpu_model(const char *path, char *buf, size_t len);

#endif
