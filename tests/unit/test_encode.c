/*
 * test_encode.c: the tracer's hand-written encoder (ltb_encode.c) against
 * protobuf-c (ltb_encode_pbc.c), byte for byte, in both protocols: every
 * report here is encoded by both and the bytes compared; the LightStep
 * ones are also unpacked by protobuf-c, to be sure the oracle itself
 * says what the tracer means.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lightstep_collector.pb-c.h"
#include "otlp_trace.pb-c.h"
#include "client/ltb_encode.h"
#include "client/ltb_encode_pbc.h"

static const struct ltb_enc_tag tags[3] = { { "http.url",
	"https://example.com/" }, { "", "empty key" }, { "empty value", "" } };
static const struct ltb_enc_log logs[2] = {
	{ 1700000000123456789ull, "event", "cache miss" },
	{ 0, "", "" } };

static struct ltb_enc_config
config(enum ltb_tracer_protocol protocol)
{
	struct ltb_enc_config c = { protocol, 0x1234567890abcdefull, "token",
		"component", 0xfedcba9876543210ull };

	return c;
}

/* n spans encoded by both, compared; returns 0 if the same. */
static int
same_bytes(const struct ltb_enc_config *c, const struct ltb_enc_span *s,
    size_t n)
{
	struct ltb_enc e;
	const uint8_t *body;
	uint8_t *want;
	size_t len, wlen, i;
	int rc;

	assert_int_equal(ltb_enc_init(&e, c), 0);
	/* twice: a second report must not keep anything of the first */
	for (rc = 0; rc < 2; rc++) {
		assert_int_equal(ltb_enc_begin(&e), 0);
		for (i = n; i-- > 0;)
			assert_int_equal(ltb_enc_span(&e, &s[i]), 0);
		assert_int_equal(ltb_enc_end(&e, &body, &len), 0);
	}
	assert_non_null(want = ltb_enc_pbc_report(c, s, n, &wlen));
	rc = len == wlen && memcmp(body, want, len) == 0 ? 0 : -1;
	if (rc != 0) {
		for (i = 0; i < len && i < wlen && body[i] == want[i]; i++)
			;
		fprintf(stderr, "lengths %zu, protobuf-c %zu; first "
		    "difference at byte %zu\n", len, wlen, i);
	}
	ltb_enc_free(&e);
	free(want);
	return rc;
}

static struct ltb_enc_span
full_span(void)
{
	struct ltb_enc_span s = { 0 };

	s.trace_id = 0x8000000000000001ull;
	s.span_id = 42;
	s.parent = UINT64_MAX;
	s.op = "db/query";
	s.start_ns = 1700000000000000000ull;
	s.finish_ns = s.start_ns + 123456789;
	s.tags = tags;
	s.ntags = 3;
	s.logs = logs;
	s.nlogs = 2;
	return s;
}

static void
test_a_span_with_everything(void **unused)
{
	struct ltb_enc_span s = full_span();
	struct ltb_enc_config ls = config(LTB_TRACER_LIGHTSTEP);
	struct ltb_enc_config otlp = config(LTB_TRACER_OTLP);

	assert_int_equal(same_bytes(&ls, &s, 1), 0);
	assert_int_equal(same_bytes(&otlp, &s, 1), 0);
}

/* Zeros are where proto3 leaves fields out; a root has no reference. */
static void
test_zeros_and_empties(void **unused)
{
	struct ltb_enc_span s = { 0 };
	struct ltb_enc_config c = config(LTB_TRACER_LIGHTSTEP);

	s.op = "";
	assert_int_equal(same_bytes(&c, &s, 1), 0);
	c.protocol = LTB_TRACER_OTLP;
	assert_int_equal(same_bytes(&c, &s, 1), 0);
	c.reporter_id = 0;
	c.trace_hi = 0;
	c.token = "";
	c.component = "";
	assert_int_equal(same_bytes(&c, &s, 1), 0);
	c.protocol = LTB_TRACER_LIGHTSTEP;
	assert_int_equal(same_bytes(&c, &s, 1), 0);
}

static void
test_no_spans(void **unused)
{
	struct ltb_enc_config c = config(LTB_TRACER_LIGHTSTEP);

	assert_int_equal(same_bytes(&c, NULL, 0), 0);
	c.protocol = LTB_TRACER_OTLP;
	assert_int_equal(same_bytes(&c, NULL, 0), 0);
}

/* Many spans, long strings: lengths of several varint bytes at every
 * level, and a buffer that has to grow. */
static void
test_many_big_spans(void **unused)
{
	enum { N = 300, NT = 40 };
	struct ltb_enc_span *s = calloc(N, sizeof *s);
	struct ltb_enc_tag *tg = calloc(NT, sizeof *tg);
	struct ltb_enc_log *lg = calloc(NT, sizeof *lg);
	char *big = malloc(20000);
	struct ltb_enc_config c = config(LTB_TRACER_LIGHTSTEP);
	size_t i;

	assert_non_null(s);
	assert_non_null(tg);
	assert_non_null(lg);
	assert_non_null(big);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	for (i = 0; i < NT; i++) {
		tg[i].key = i % 2 ? big + 19999 - i * 50 : "k";
		tg[i].value = i % 3 ? big + 19999 - i * i : "";
		lg[i].ns = (uint64_t)i << 58;
		lg[i].key = "event";
		lg[i].value = big + 19999 - i * 3;
	}
	for (i = 0; i < N; i++) {
		s[i] = full_span();
		s[i].trace_id = (uint64_t)i << (i % 64);
		s[i].span_id = ~(uint64_t)i;
		s[i].parent = i % 2 ? i : 0;
		s[i].tags = tg;
		s[i].ntags = i % NT;
		s[i].logs = lg;
		s[i].nlogs = (i * 7) % NT;
		/* one span of 20000 bytes: three-byte lengths */
		s[i].op = i == 0 ? big : big + 19999 - i;
	}
	assert_int_equal(same_bytes(&c, s, N), 0);
	c.protocol = LTB_TRACER_OTLP;
	assert_int_equal(same_bytes(&c, s, N), 0);
	free(big);
	free(lg);
	free(tg);
	free(s);
}

/* The oracle says what the tracer means: protobuf-c reads it back. */
static void
test_the_oracle_reads_back(void **unused)
{
	struct ltb_enc_span s = full_span();
	struct ltb_enc_config c = config(LTB_TRACER_LIGHTSTEP);
	Lightstep__Collector__ReportRequest *req;
	uint8_t *b;
	size_t len;

	assert_non_null(b = ltb_enc_pbc_report(&c, &s, 1, &len));
	assert_non_null(req = lightstep__collector__report_request__unpack(
	    NULL, len, b));
	assert_int_equal(req->n_spans, 1);
	assert_int_equal(req->spans[0]->span_context->span_id, 42);
	assert_int_equal(req->spans[0]->references[0]->span_context->span_id,
	    UINT64_MAX);
	assert_int_equal(req->spans[0]->n_tags, 3);
	assert_string_equal(req->spans[0]->tags[1]->string_value, "empty key");
	assert_int_equal(req->spans[0]->n_logs, 2);
	assert_int_equal(req->spans[0]->duration_micros, 123456);
	assert_string_equal(req->auth->access_token, "token");
	lightstep__collector__report_request__free_unpacked(req, NULL);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_span_with_everything),
		cmocka_unit_test(test_zeros_and_empties),
		cmocka_unit_test(test_no_spans),
		cmocka_unit_test(test_many_big_spans),
		cmocka_unit_test(test_the_oracle_reads_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
