/*
 * ltb_progress.c: progress in words, for the tools that show it; see
 * ltb_progress.h. One wording, whichever tool prints it.
 */
#include <stdio.h>

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
