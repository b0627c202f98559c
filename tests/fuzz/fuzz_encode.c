/*
 * fuzz_encode.c: libFuzzer target for the tracer's hand-written encoder
 * (ltb_encode.c) against protobuf-c packing the same report
 * (ltb_encode_pbc.c).
 *
 * The input is read as a report: a protocol, the reporter's id, token and
 * component, OTLP's trace-id high half, then spans while bytes remain,
 * each with ids and timestamps (zero, all ones, small or any 64 bits),
 * an operation, and up to 31 tags and 31 logs. Strings are bytes of the
 * input, NULs included, taken as C strings, as the tracer's callers give
 * them. Every report is encoded twice with one encoder (a reused buffer
 * must forget the last report) and once by protobuf-c; any difference in
 * the bytes aborts. No seeds are needed: any bytes are a report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ltb_encode.h"
#include "client/ltb_encode_pbc.h"

enum { MAXSPANS = 64, MAXN = 31 };

struct in {
	const uint8_t *p;
	size_t n;
	char *strs;		/* where strings are copied, NUL-ended */
};

static uint8_t
u8(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t
raw64(struct in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | u8(in);
	return v;
}

/* An id or a time, its shape chosen by a byte. */
static uint64_t
u64(struct in *in)
{
	switch (u8(in) % 4) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX;
	case 2:
		return u8(in);
	default:
		return raw64(in);
	}
}

/* A string of up to 255 input bytes, NULs and all. */
static const char *
str(struct in *in)
{
	size_t n = u8(in);
	char *s = in->strs;

	if (n > in->n)
		n = in->n;
	memcpy(s, in->p, n);
	s[n] = '\0';
	in->p += n;
	in->n -= n;
	in->strs += n + 1;
	return s;
}

static struct ltb_enc_tag tags[MAXSPANS][MAXN];
static struct ltb_enc_log logs[MAXSPANS][MAXN];
static struct ltb_enc_span spans[MAXSPANS];

static size_t
read_spans(struct in *in)
{
	size_t n, j;

	for (n = 0; n < MAXSPANS && in->n > 0; n++) {
		struct ltb_enc_span *s = &spans[n];

		s->trace_id = u64(in);
		s->span_id = u64(in);
		s->parent = u64(in);
		s->op = str(in);
		s->start_ns = u64(in);
		s->finish_ns = u64(in);
		s->ntags = u8(in) % (MAXN + 1);
		s->nlogs = u8(in) % (MAXN + 1);
		for (j = 0; j < s->ntags; j++) {
			tags[n][j].key = str(in);
			tags[n][j].value = str(in);
		}
		for (j = 0; j < s->nlogs; j++) {
			logs[n][j].ns = u64(in);
			logs[n][j].key = str(in);
			logs[n][j].value = str(in);
		}
		s->tags = tags[n];
		s->logs = logs[n];
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, NULL };
	struct ltb_enc_config c;
	struct ltb_enc e;
	const uint8_t *body;
	uint8_t *want;
	size_t n, i, len, wlen;
	char *strs;
	int round;

	/* every string takes at least its length byte and adds one NUL,
	 * and strings read past the end are empty */
	if ((strs = malloc(2 * size + 4 * (2 * MAXN + 1) * MAXSPANS + 64)) ==
	    NULL)
		abort();
	in.strs = strs;
	c.protocol = u8(&in) & 1 ? LTB_TRACER_OTLP : LTB_TRACER_LIGHTSTEP;
	c.reporter_id = u64(&in);
	c.trace_hi = u64(&in);
	c.token = str(&in);
	c.component = str(&in);
	n = read_spans(&in);

	if (ltb_enc_init(&e, &c) < 0)
		abort();
	for (round = 0; round < 2; round++) {
		if (ltb_enc_begin(&e) < 0)
			abort();
		for (i = n; i-- > 0;)
			if (ltb_enc_span(&e, &spans[i]) < 0)
				abort();
		if (ltb_enc_end(&e, &body, &len) < 0)
			abort();
	}
	if ((want = ltb_enc_pbc_report(&c, spans, n, &wlen)) == NULL)
		abort();
	if (len != wlen || memcmp(body, want, len) != 0) {
		fprintf(stderr, "fuzz_encode: %zu bytes, protobuf-c %zu\n",
		    len, wlen);
		abort();
	}
	free(want);
	ltb_enc_free(&e);
	free(strs);
	return 0;
}
