/*
 * ltb_progress.h: what a run or a calibration has to say while it works.
 *
 * common/ never prints: the runner and the calibration hand each piece of
 * progress, as figures, to a callback the tool owns, and the tool decides
 * whether and how to show it (ltb-sample rewrites one line on a tty;
 * ltb-control prints the calibration's steps). No callback, no progress.
 */
#ifndef LTB_PROGRESS_H
#define LTB_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

enum ltb_progress_what {
	LTB_PROGRESS_SAMPLE,		/* a run sampled its client */
	LTB_PROGRESS_CLIENT_OUTPUT,	/* what a client printed besides its
					 * summary, once it exited */
	LTB_PROGRESS_CALIBRATE_RATE,	/* calibration measured the work rate */
	LTB_PROGRESS_CALIBRATE_RUN,	/* one calibration run at the rate */
	LTB_PROGRESS_NOTE,		/* a line for the person watching: a
					 * step begun, a figure not taken */
};

/* One piece of progress; everything in it is borrowed for the call. */
struct ltb_progress_event {
	enum ltb_progress_what what;
	const char *client;		/* the client's name ("cmd" for a
					 * command) */
	union {
		struct {		/* LTB_PROGRESS_SAMPLE */
			const cJSON *rec;	/* the run's control record */
			int trace;
			double target_sps;
			double done_s;		/* seconds of the window */
			double runtime_s;	/* of the run's runtime */
			double cpu;		/* the window's mean CPU */
			uint64_t rss;		/* the tree's memory, bytes */
		} sample;
		struct {		/* LTB_PROGRESS_CLIENT_OUTPUT */
			const char *text;	/* the last bytes (no NUL) */
			size_t len;
			uint64_t skipped;	/* bytes left out before them */
		} output;
		struct {		/* LTB_PROGRESS_CALIBRATE_* */
			int run;		/* 1, 2, ...; 0 for the rate */
			double work_per_second;
			double target_cpu;
			double cpu;		/* the run's CPU */
			double sleep_per_work_ns;	/* what the run slept */
		} calibrate;
		const char *note;	/* LTB_PROGRESS_NOTE: the line */
	} u;
};

/* The tool's callback and its context; fn NULL says nothing. */
struct ltb_progress {
	void (*fn)(const struct ltb_progress_event *ev, void *ctx);
	void *ctx;
};

/* Hand ev to p's callback, if there is one. */
static inline void
ltb_progress_say(const struct ltb_progress *p,
    const struct ltb_progress_event *ev)
{
	if (p->fn != NULL)
		p->fn(ev, p->ctx);
}

/*
 * The event in words, without the tool's name: one line into buf (cut to
 * len). Returns 1, or 0 with buf empty when the event has no line of its
 * own (a client's output is its text, shown as it is, after the line that
 * says what was left out).
 */
int ltb_progress_line(const struct ltb_progress_event *ev, char *buf,
    size_t len);

/*
 * Seconds until a plan ends: each run not finished yet its own runtime
 * (runtimes[0..nleft), in order; plans mix runtimes) plus the overhead a
 * run costs beyond its runtime (start-up, drain, the satellites' reset),
 * the mean of the nover samples of (wall time - runtime) of the runs done
 * (a negative mean counts as none). elapsed_s is how far into runtimes[0]
 * the plan is, 0 between runs; a run past its runtime and overhead has
 * nothing left. With no sample yet the overhead is unknown: the figure is
 * the runtimes alone and *lower_bound is set to 1, else 0 (nothing left
 * is 0, not a bound). Borrows both arrays; either may be NULL when its
 * count is 0.
 */
double ltb_eta_s(const double *runtimes, size_t nleft, double elapsed_s,
    const double *overheads, size_t nover, int *lower_bound);

/*
 * An ETA in words into buf (cut to len): "eta 3m40s (ends ~07:42)", the
 * end in local time from now, with its date when that is another day;
 * seconds under an hour, minutes from it ("eta 1h05m"). A lower bound
 * says so: "eta >3m40s (ends after 07:42)". Returns 1, or 0 with buf
 * empty when eta_s is no figure (negative, NaN, or past 1e9 s, beyond any
 * plan and any time_t arithmetic we trust).
 */
int ltb_eta_format(double eta_s, int lower_bound, time_t now, char *buf,
    size_t len);

#endif
