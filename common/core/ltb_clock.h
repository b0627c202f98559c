/*
 * ltb_clock.h: the clocks ltb reads, in nanoseconds, in one place.
 *
 * Monotonic time measures intervals (delays, deadlines, rates); real time
 * stamps what leaves the process (span timestamps, report answers). They
 * are inline: the collector and the tracer read them per report and per
 * span.
 */
#ifndef LTB_CLOCK_H
#define LTB_CLOCK_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t
ltb_ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* CLOCK_MONOTONIC, ns. */
static inline uint64_t
ltb_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ltb_ns_of(&ts);
}

/* CLOCK_MONOTONIC, s: for the loops that reckon in seconds (runs,
 * deadlines, polls). */
static inline double
ltb_mono_s(void)
{
	return (double)ltb_mono_ns() / 1e9;
}

/* CLOCK_REALTIME, ns since the epoch. */
static inline uint64_t
ltb_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ltb_ns_of(&ts);
}

/* Sleep until the monotonic clock reads when_ns; at once if it has. */
static inline void
ltb_sleep_until_ns(uint64_t when_ns)
{
	struct timespec ts;

	/* Most waits are already over: then there is no reason to enter
	 * the kernel. */
	if (ltb_mono_ns() >= when_ns)
		return;
	ts.tv_sec = (time_t)(when_ns / 1000000000u);
	ts.tv_nsec = (long)(when_ns % 1000000000u);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

#endif
