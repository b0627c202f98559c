/*
 * ltb_progress.c: progress in words, for the tools that show it, and the
 * ETA of a plan; see ltb_progress.h. One wording, whichever tool prints
 * it; the ETA a pure function of figures the tool keeps, so that it can
 * be tested without running anything.
 */
#include <math.h>
#include <stdio.h>

#include "core/ltb_stats.h"
#include "run/ltb_progress.h"

int
ltb_progress_line(const struct ltb_progress_event *ev, char *buf,
    size_t len)
{
	int n = -1;

	switch (ev->what) {
	case LTB_PROGRESS_SAMPLE:
		n = snprintf(buf, len, "%s %s %.0f sps: %.0f/%.0f s, cpu %.2f, "
		    "rss %.1f MB", ev->client, ev->u.sample.trace ? "traced" :
		    "noop", ev->u.sample.target_sps, ev->u.sample.done_s,
		    ev->u.sample.runtime_s, ev->u.sample.cpu,
		    (double)ev->u.sample.rss / 1e6);
		break;
	case LTB_PROGRESS_CLIENT_OUTPUT:
		if (ev->u.output.skipped > 0)
			n = snprintf(buf, len, "%s: %llu bytes of the client's "
			    "output not shown; its last %zu bytes:",
			    ev->client,
			    (unsigned long long)ev->u.output.skipped,
			    ev->u.output.len);
		break;
	case LTB_PROGRESS_CALIBRATE_RATE:
		n = snprintf(buf, len, "calibrate %s: %.4g work/s; aiming at "
		    "%.2f CPU", ev->client, ev->u.calibrate.work_per_second,
		    ev->u.calibrate.target_cpu);
		break;
	case LTB_PROGRESS_NOTE:
		n = snprintf(buf, len, "%s", ev->u.note);
		break;
	case LTB_PROGRESS_CALIBRATE_RUN:
		n = snprintf(buf, len, "calibrate %s: run %d: cpu %.3f (sleep "
		    "%.4g ns/work)", ev->client, ev->u.calibrate.run,
		    ev->u.calibrate.cpu, ev->u.calibrate.sleep_per_work_ns);
		break;
	}
	if (n < 0) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	return 1;
}

double
ltb_eta_s(const double *runtimes, size_t nleft, double elapsed_s,
    const double *overheads, size_t nover, int *lower_bound)
{
	double over = 0, s = 0;

	*lower_bound = nleft > 0 && nover == 0;
	if (nleft == 0)
		return 0;
	/* A run that ended early (a client that exited before its runtime)
	 * must not make the rest look shorter than their runtimes. */
	if (nover > 0)
		over = fmax(0, ltb_mean(overheads, nover));
	s = fmax(0, runtimes[0] + over - elapsed_s);
	for (size_t i = 1; i < nleft; i++)
		s += runtimes[i] + over;
	return s;
}

int
ltb_eta_format(double eta_s, int lower_bound, time_t now, char *buf,
    size_t len)
{
	char dur[32], end[32];
	long long r, m;
	time_t t;
	struct tm tn, te;

	if (len > 0)
		buf[0] = '\0';
	if (!(eta_s >= 0) || eta_s > 1e9)
		return 0;
	r = llround(eta_s);
	/* Past an hour, seconds are noise in the estimate. */
	if (r < 60)
		snprintf(dur, sizeof dur, "%llds", r);
	else if (r < 3600)
		snprintf(dur, sizeof dur, "%lldm%02llds", r / 60, r % 60);
	else {
		m = llround(eta_s / 60);
		snprintf(dur, sizeof dur, "%lldh%02lldm", m / 60, m % 60);
	}
	t = now + (time_t)r;
	if (localtime_r(&now, &tn) == NULL || localtime_r(&t, &te) == NULL)
		return 0;
	strftime(end, sizeof end, te.tm_yday == tn.tm_yday &&
	    te.tm_year == tn.tm_year ? "%H:%M" : "%Y-%m-%d %H:%M", &te);
	snprintf(buf, len, lower_bound ? "eta >%s (ends after %s)" :
	    "eta %s (ends ~%s)", dur, end);
	return 1;
}
