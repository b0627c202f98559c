/*
 * walk_bench.c: what reading one span costs, walk versus protobuf-c unpack.
 *
 * Generates a 1000-span report (10 tags, 15 logs: ~940 bytes a span), reads
 * it repeatedly with ltb_ls_walk_report and with ltb_ls_unpack_report, and
 * prints the measured CPU nanoseconds per span as JSON lines:
 *
 *   {"type":"bench","name":"walk_ns_per_span","value":...,"unit":"ns"}
 *   {"type":"bench","name":"unpack_ns_per_span","value":...,"unit":"ns"}
 *
 * Each figure is the best of several timed rounds, so a noisy neighbour
 * inflates it less.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ltb_log.h"
#include "collector/proto/ltb_lightstep_gen.h"
#include "collector/proto/ltb_lightstep_walk.h"

typedef long reader(const uint8_t *, size_t, ltb_ls_span_fn *, void *,
    const char **);

static void
count(void *ctx, const struct ltb_ls_span *s)
{
	*(unsigned long *)ctx += s->invalid == LTB_LS_VALID;
}

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Best ns per span over rounds of about 0.1 s each. */
static double
measure(reader *rd, const uint8_t *p, size_t n, size_t spans)
{
	double best = 0;
	unsigned long valid = 0;
	int round, i, iters = 1;

	/* size the rounds */
	for (;;) {
		double t0 = cpu_ns(), t;

		for (i = 0; i < iters; i++)
			if (rd(p, n, count, &valid, NULL) != (long)spans)
				ltb_die(LTB_EXIT_FAIL, "reader refused the report");
		t = cpu_ns() - t0;
		if (t > 1e8 / 4)
			break;
		iters *= 2;
	}
	for (round = 0; round < 5; round++) {
		double t0 = cpu_ns(), t;

		for (i = 0; i < iters; i++)
			rd(p, n, count, &valid, NULL);
		t = (cpu_ns() - t0) / ((double)iters * spans);
		if (round == 0 || t < best)
			best = t;
	}
	if (valid == 0)
		ltb_die(LTB_EXIT_FAIL, "no valid span");
	return best;
}

int
main(void)
{
	struct ltb_lsgen g = LTB_LSGEN_DEFAULT;
	uint8_t *p;
	size_t n;
	double w, u;

	ltb_prog = "walk_bench";
	g.spans = 1000;
	if ((p = ltb_lsgen_report(&g, &n)) == NULL)
		ltb_die(LTB_EXIT_SYS, "cannot generate a report");
	w = measure(ltb_ls_walk_report, p, n, g.spans);
	u = measure(ltb_ls_unpack_report, p, n, g.spans);
	printf("{\"type\":\"bench\",\"name\":\"walk_ns_per_span\","
	    "\"value\":%.1f,\"unit\":\"ns\",\"span_bytes\":%zu}\n", w,
	    n / g.spans);
	printf("{\"type\":\"bench\",\"name\":\"unpack_ns_per_span\","
	    "\"value\":%.1f,\"unit\":\"ns\",\"span_bytes\":%zu}\n", u,
	    n / g.spans);
	free(p);
	if (fflush(stdout) || ferror(stdout))
		ltb_die(LTB_EXIT_SYS, "cannot write stdout");
	return LTB_EXIT_OK;
}
