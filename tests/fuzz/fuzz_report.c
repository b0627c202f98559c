/*
 * fuzz_report.c: libFuzzer target for the LightStep report readers.
 *
 * Differential: on every input the walk (ltb_ls_walk_report) and protobuf-c
 * (ltb_ls_unpack_report) must agree on the verdict and, when well formed,
 * on every span's ids and validation result. The streaming walk, fed the
 * input in two or three pieces cut where the input's last bytes say, must
 * give the one-shot walk's answer, spans included. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/proto/ltb_lightstep_walk.h"

enum { MAXSPANS = 1 << 16 };

struct got {
	struct ltb_ls_span s[MAXSPANS];
	size_t n;
	int over;
};

static struct got walk, unpack, stream;

static void
collect(void *ctx, const struct ltb_ls_span *span)
{
	struct got *g = ctx;

	if (g->n == MAXSPANS) {
		g->over = 1;
		return;
	}
	g->s[g->n++] = *span;
}

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_report: disagreement: %s\n", what);
		abort();
	}
}

static void
same_spans(const struct got *a, const struct got *b, const char *what)
{
	size_t i;

	must(a->n == b->n, what);
	for (i = 0; i < a->n; i++) {
		must(a->s[i].trace_id == b->s[i].trace_id, what);
		must(a->s[i].span_id == b->s[i].span_id, what);
		must(a->s[i].invalid == b->s[i].invalid, what);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct ltb_ls_stream s;
	const char *why = NULL;
	size_t cut1 = 0, cut2 = 0;
	long rw, ru, rs;
	int r;

	walk.n = unpack.n = stream.n = 0;
	walk.over = unpack.over = stream.over = 0;
	rw = ltb_ls_walk_report(p, n, collect, &walk, &why);
	ru = ltb_ls_unpack_report(p, n, collect, &unpack, NULL);
	must((rw < 0) == (ru < 0), "verdict");
	if (rw < 0) {
		must(why != NULL, "reason");
		must(unpack.n == 0, "unpack called fn on a refused body");
	} else {
		must(rw == ru, "span count");
		must((size_t)rw == walk.n || walk.over, "walk count vs calls");
		same_spans(&walk, &unpack, "spans");
	}

	/* two cuts from the input's tail, so the fuzzer steers them */
	if (n >= 2) {
		cut1 = (p[n - 1] | (size_t)p[n - 2] << 8) % (n + 1);
		cut2 = cut1 + (p[n - 2] % 7 ? 0 : (n - cut1) / 2);
	}
	ltb_ls_stream_init(&s, (size_t)-1);
	r = ltb_ls_stream_feed(&s, p, cut1, collect, &stream);
	if (r >= 0)
		r = ltb_ls_stream_feed(&s, p + cut1, cut2 - cut1, collect,
		    &stream);
	if (r >= 0)
		r = ltb_ls_stream_feed(&s, p + cut2, n - cut2, collect,
		    &stream);
	if (r >= 0)
		r = ltb_ls_stream_end(&s);
	rs = r < 0 ? -1 : (long)s.spans;
	must(r != LTB_LS_TOO_LARGE, "too large without a limit");
	must(rs == rw, "stream verdict");
	same_spans(&walk, &stream, "stream spans");
	ltb_ls_stream_free(&s);
	return 0;
}
