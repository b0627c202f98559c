/*
 * walk_bench.c: what reading one span costs, walk versus protobuf-c unpack.
 *
 * Generates a 1000-span LightStep report (10 tags, 15 logs: ~940 bytes a
 * span), reads it repeatedly with ltb_ls_walk_report and with
 * ltb_ls_unpack_report, then the same for a 1000-span OTLP request (10
 * attributes, 15 events) with ltb_otlp_walk and ltb_otlp_unpack (what
 * --validate full costs), and prints the measured CPU nanoseconds per span
 * as JSON lines:
 *
 *   {"type":"bench","name":"walk_ns_per_span","value":...,"unit":"ns"}
 *   {"type":"bench","name":"unpack_ns_per_span","value":...,"unit":"ns"}
 *   {"type":"bench","name":"otlp_walk_ns_per_span","value":...,"unit":"ns"}
 *   {"type":"bench","name":"otlp_unpack_ns_per_span","value":...,"unit":"ns"}
 *
 * and what the spectatord line protocol costs a line: a 20-line datagram
 * (meter types in turn, 3 tags a line: ~75 bytes a line) and a 1-line
 * datagram as spectator-py sends, each read as the satellite group reads
 * a datagram (begin, one feed, end, release):
 *
 *   {"type":"bench","name":"spectatord_ns_per_line","value":...,"unit":"ns"}
 *   {"type":"bench","name":"spectatord_1line_ns_per_line","value":...,...}
 *
 * Each figure is the best of several timed rounds, so a noisy neighbour
 * inflates it less. The LightStep walk's line also says what it should
 * cost (issue 15) and whether it does: "target_ns":150,"meets":true.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ltb_log.h"
#include "collector/proto/ltb_lightstep_gen.h"
#include "collector/proto/ltb_lightstep_walk.h"
#include "collector/proto/ltb_otlp_gen.h"
#include "collector/proto/ltb_otlp_walk.h"
#include "collector/ltb_collector.h"

/* A reader of either protocol, counting valid spans into ctx. */
typedef long reader(const uint8_t *, size_t, void *);

static void
count(void *ctx, const struct ltb_ls_span *s)
{
	*(unsigned long *)ctx += s->invalid == LTB_LS_VALID;
}

static void
count_otlp(void *ctx, const struct ltb_otlp_span *s)
{
	*(unsigned long *)ctx += s->invalid == LTB_OTLP_VALID;
}

static long
ls_walk(const uint8_t *p, size_t n, void *valid)
{
	return ltb_ls_walk_report(p, n, count, valid, NULL);
}

static long
ls_unpack(const uint8_t *p, size_t n, void *valid)
{
	return ltb_ls_unpack_report(p, n, count, valid, NULL);
}

static long
otlp_walk(const uint8_t *p, size_t n, void *valid)
{
	return ltb_otlp_walk(p, n, count_otlp, valid, NULL);
}

static long
otlp_unpack(const uint8_t *p, size_t n, void *valid)
{
	return ltb_otlp_unpack(p, n, count_otlp, valid, NULL);
}

static void
count_line(void *ctx, uint64_t key, unsigned invalid)
{
	*(unsigned long *)ctx += invalid == 0;
}

/* A datagram through ltb_proto_spectatord; its lines, or -1. */
static long
spectatord(const uint8_t *p, size_t n, void *valid)
{
	static uint64_t state[1 << 10];
	const struct ltb_collector_proto *sd = &ltb_proto_spectatord;
	struct ltb_message m = { .content_type = "", .encoding = "",
		.max_field = 1 << 16 };
	struct ltb_span_sink sink = { .span = count_line, .ctx = valid };
	struct ltb_reply reply;
	const char *why;
	unsigned long before = *(unsigned long *)valid;
	long rc;

	if (sd->state_size > sizeof state)
		return -1;
	memset(state, 0, sd->state_size);
	if (sd->begin(state, &m) != LTB_COLLECT_OK)
		return -1;
	rc = sd->feed(state, p, n, &sink, &why) == LTB_COLLECT_OK &&
	    sd->end(state, &sink, &reply, &why) == LTB_COLLECT_OK ?
	    (long)(*(unsigned long *)valid - before) : -1;
	sd->release(state);
	return rc;
}

/* lines spectatord lines, the meter types in turn, into buf. */
static size_t
spectatord_datagram(char *buf, size_t cap, int lines)
{
	static const char *const types[] = { "c", "t", "g,60", "d", "T",
		"m", "C" };
	size_t n = 0;

	for (int i = 0; i < lines && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n,
		    "%s:server.requests.%d,nf.app=ltb-bench,"
		    "nf.cluster=ltb-bench-main,status=ok:%d.25\n",
		    types[i % 7], i, i);
	if (n >= cap)
		ltb_die(LTB_EXIT_FAIL, "datagram too long");
	return n - 1;	/* no '\n' after the last, as clients send */
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
			if (rd(p, n, &valid) != (long)spans)
				ltb_die(LTB_EXIT_FAIL, "reader refused the report");
		t = cpu_ns() - t0;
		if (t > 1e8 / 4)
			break;
		iters *= 2;
	}
	for (round = 0; round < 5; round++) {
		double t0 = cpu_ns(), t;

		for (i = 0; i < iters; i++)
			rd(p, n, &valid);
		t = (cpu_ns() - t0) / ((double)iters * spans);
		if (round == 0 || t < best)
			best = t;
	}
	if (valid == 0)
		ltb_die(LTB_EXIT_FAIL, "no valid span");
	return best;
}

/* What the LightStep walk should cost a span, in ns. */
#define WALK_TARGET_NS 150

static void
figure_to(const char *name, double ns, size_t span_bytes, int target)
{
	printf("{\"type\":\"bench\",\"name\":\"%s\","
	    "\"value\":%.1f,\"unit\":\"ns\",\"span_bytes\":%zu", name, ns,
	    span_bytes);
	if (target > 0)
		printf(",\"target_ns\":%d,\"meets\":%s", target,
		    ns <= target ? "true" : "false");
	printf("}\n");
}

static void
figure(const char *name, double ns, size_t span_bytes)
{
	figure_to(name, ns, span_bytes, 0);
}

int
main(void)
{
	struct ltb_lsgen g = LTB_LSGEN_DEFAULT;
	struct ltb_otlpgen o = LTB_OTLPGEN_DEFAULT;
	char dgram[4096];
	uint8_t *p;
	size_t n;

	ltb_prog = "walk_bench";
	g.spans = 1000;
	if ((p = ltb_lsgen_report(&g, &n)) == NULL)
		ltb_die(LTB_EXIT_SYS, "cannot generate a report");
	figure_to("walk_ns_per_span", measure(ls_walk, p, n, g.spans),
	    n / g.spans, WALK_TARGET_NS);
	figure("unpack_ns_per_span", measure(ls_unpack, p, n, g.spans),
	    n / g.spans);
	free(p);
	o.spans = 1000;
	if ((p = ltb_otlpgen_request(&o, &n)) == NULL)
		ltb_die(LTB_EXIT_SYS, "cannot generate an OTLP request");
	figure("otlp_walk_ns_per_span", measure(otlp_walk, p, n, o.spans),
	    n / o.spans);
	figure("otlp_unpack_ns_per_span", measure(otlp_unpack, p, n, o.spans),
	    n / o.spans);
	free(p);
	n = spectatord_datagram(dgram, sizeof dgram, 20);
	figure("spectatord_ns_per_line", measure(spectatord,
	    (const uint8_t *)dgram, n, 20), n / 20);
	n = spectatord_datagram(dgram, sizeof dgram, 1);
	figure("spectatord_1line_ns_per_line", measure(spectatord,
	    (const uint8_t *)dgram, n, 1), n);
	if (fflush(stdout) || ferror(stdout))
		ltb_die(LTB_EXIT_SYS, "cannot write stdout");
	return LTB_EXIT_OK;
}
