/*
 * test_tracer.c: the C client's tracer (common/client/ltb_tracer.c).
 *
 * What it encodes is checked against the two readers of ltb_lightstep_walk.h (the
 * satellite's walk and protobuf-c's unpack) and, for references, tags and
 * logs, against protobuf-c's unpacked message; its OTLP reports against
 * protobuf-c's unpacked ExportTraceServiceRequest, span by span. Its accounting is checked
 * through a transport that records what it is given: drops when the buffer
 * is full, on failed reports, and at stop. Its HTTP path is checked
 * against a real satellite group started in this process on ephemeral
 * ports, and against a port where nothing listens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lightstep_collector.pb-c.h"
#include "otlp_trace.pb-c.h"
#include "collector/proto/ltb_lightstep_walk.h"
#include "collector/ltb_satellite.h"
#include "client/ltb_tracer.h"

/* --- a transport that keeps what it is given ----------------------------- */

struct sink {
	pthread_mutex_t mu;
	uint8_t *body[64];
	size_t len[64];
	size_t n;		/* reports given */
	int fail;		/* answer -1 */
	unsigned delay_ms;	/* before answering */
};

static void
sink_init(struct sink *k)
{
	memset(k, 0, sizeof *k);
	pthread_mutex_init(&k->mu, NULL);
}

static void
sink_free(struct sink *k)
{
	size_t i;

	for (i = 0; i < k->n && i < 64; i++)
		free(k->body[i]);
	pthread_mutex_destroy(&k->mu);
}

static size_t
sink_count(struct sink *k)
{
	size_t n;

	pthread_mutex_lock(&k->mu);
	n = k->n;
	pthread_mutex_unlock(&k->mu);
	return n;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
sink_transport(void *ctx, const uint8_t *body, size_t len, char *err,
    size_t errlen)
{
	struct sink *k = ctx;

	if (k->delay_ms)
		sleep_ms(k->delay_ms);
	pthread_mutex_lock(&k->mu);
	if (k->n < 64) {
		k->body[k->n] = malloc(len ? len : 1);
		if (k->body[k->n] != NULL)
			memcpy(k->body[k->n], body, len);
		k->len[k->n] = len;
	}
	k->n++;
	pthread_mutex_unlock(&k->mu);
	if (k->fail) {
		snprintf(err, errlen, "refused by the test");
		return -1;
	}
	return 0;
}

static struct ltb_tracer *
sink_tracer_speaking(struct sink *k, size_t max, unsigned period_ms,
    enum ltb_tracer_protocol protocol)
{
	struct ltb_tracer_config c;
	struct ltb_tracer *t;
	char err[256] = "";

	ltb_tracer_config_default(&c);
	c.protocol = protocol;
	c.transport = sink_transport;
	c.transport_ctx = k;
	c.max_buffered_spans = max;
	c.reporting_period_ms = period_ms;
	t = ltb_tracer_new(&c, err, sizeof err);
	if (t == NULL)
		fail_msg("ltb_tracer_new: %s", err);
	return t;
}

static struct ltb_tracer *
sink_tracer(struct sink *k, size_t max, unsigned period_ms)
{
	return sink_tracer_speaking(k, max, period_ms, LTB_TRACER_LIGHTSTEP);
}

/* Spans the readers of ltb_lightstep_walk.h saw. */
struct got {
	struct ltb_ls_span s[256];
	size_t n;
};

static void
collect(void *ctx, const struct ltb_ls_span *span)
{
	struct got *g = ctx;

	if (g->n < 256)
		g->s[g->n] = *span;
	g->n++;
}

static void
assert_stats_add_up(struct ltb_tracer *t)
{
	struct ltb_tracer_stats st;

	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_finished, st.spans_reported +
	    st.spans_dropped);
}

static const char *const tag_keys[] = { "http.url", "http.method",
	"component" };
static const char *const tag_values[] = { "https://example.com/x", "GET",
	"net/http" };

/* --- encoding ------------------------------------------------------------ */

static void
test_report_round_trips_through_both_readers(void **unused)
{
	static const char *const ops[6] = { "client/request", "server/handle",
		"auth/verify", "cache/lookup", "db/query", "db/read" };
	struct ltb_span_context ctx[18], parent[18];
	struct ltb_span *s[6];
	struct sink k;
	struct ltb_tracer *t;
	struct got w = { .n = 0 }, u = { .n = 0 };
	Lightstep__Collector__ReportRequest *req;
	uint8_t *again;
	size_t i, j, c, n = 0;
	const char *why = NULL;

	sink_init(&k);
	t = sink_tracer(&k, 1000, 60000);
	/* three chains of six nested spans, finished innermost first */
	for (c = 0; c < 3; c++) {
		for (i = 0; i < 6; i++) {
			s[i] = ltb_span_start(t, ops[i],
			    i ? ltb_span_context(s[i - 1]) : NULL);
			for (j = 0; j < 3; j++)
				ltb_span_set_tag(s[i], tag_keys[j],
				    tag_values[j]);
			for (j = 0; j < i; j++)
				ltb_span_log(s[i], "event", "cache miss");
		}
		for (i = 6; i-- > 0;) {
			ctx[n] = *ltb_span_context(s[i]);
			parent[n] = i ? *ltb_span_context(s[i - 1]) :
			    (struct ltb_span_context){ 0, 0 };
			assert_int_not_equal(ctx[n].trace_id, 0);
			assert_int_not_equal(ctx[n].span_id, 0);
			if (i)
				assert_int_equal(ctx[n].trace_id,
				    parent[n].trace_id);
			n++;
			ltb_span_finish(s[i]);
		}
	}
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	assert_int_equal(sink_count(&k), 1);

	assert_int_equal(ltb_ls_walk_report(k.body[0], k.len[0], collect, &w,
	    &why), 18);
	assert_int_equal(ltb_ls_unpack_report(k.body[0], k.len[0], collect,
	    &u, &why), 18);
	for (i = 0; i < 18; i++) {
		assert_int_equal(w.s[i].invalid, LTB_LS_VALID);
		assert_int_equal(u.s[i].invalid, LTB_LS_VALID);
		assert_int_equal(w.s[i].trace_id, ctx[i].trace_id);
		assert_int_equal(w.s[i].span_id, ctx[i].span_id);
		assert_int_equal(u.s[i].span_id, ctx[i].span_id);
	}

	req = lightstep__collector__report_request__unpack(NULL, k.len[0],
	    k.body[0]);
	assert_non_null(req);
	assert_non_null(req->auth);
	assert_string_equal(req->auth->access_token, "ltb");
	assert_non_null(req->reporter);
	assert_int_not_equal(req->reporter->reporter_id, 0);
	assert_int_equal(req->n_spans, 18);
	/* framed span by span, the bytes are protobuf-c's own */
	again = malloc(k.len[0]);
	assert_non_null(again);
	assert_int_equal(
	    lightstep__collector__report_request__get_packed_size(req),
	    k.len[0]);
	lightstep__collector__report_request__pack(req, again);
	assert_memory_equal(again, k.body[0], k.len[0]);
	free(again);
	for (i = 0; i < 18; i++) {
		Lightstep__Collector__Span *sp = req->spans[i];
		size_t depth = 5 - i % 6;

		assert_string_equal(sp->operation_name, ops[depth]);
		assert_int_equal(sp->n_tags, 3);
		assert_string_equal(sp->tags[0]->key, "http.url");
		assert_string_equal(sp->tags[0]->string_value,
		    "https://example.com/x");
		assert_int_equal(sp->n_logs, depth);
		for (j = 0; j < sp->n_logs; j++) {
			assert_int_equal(sp->logs[j]->n_fields, 1);
			assert_string_equal(sp->logs[j]->fields[0]->key,
			    "event");
			assert_non_null(sp->logs[j]->timestamp);
		}
		if (depth == 0) {
			assert_int_equal(sp->n_references, 0);
		} else {
			assert_int_equal(sp->n_references, 1);
			assert_int_equal(sp->references[0]->relationship,
			  LIGHTSTEP__COLLECTOR__REFERENCE__RELATIONSHIP__CHILD_OF);
			assert_int_equal(
			    sp->references[0]->span_context->span_id,
			    parent[i].span_id);
			assert_int_equal(
			    sp->references[0]->span_context->trace_id,
			    parent[i].trace_id);
		}
		assert_non_null(sp->start_timestamp);
		assert_true(sp->start_timestamp->seconds > 1600000000);
	}
	lightstep__collector__report_request__free_unpacked(req, NULL);
	assert_stats_add_up(t);
	ltb_tracer_free(t);
	sink_free(&k);
}

static void
test_strdup_copies_belong_to_the_span(void **unused)
{
	struct sink k;
	struct ltb_tracer *t;
	struct ltb_span *s;
	Lightstep__Collector__ReportRequest *req;
	char value[600];

	sink_init(&k);
	t = sink_tracer(&k, 100, 60000);
	s = ltb_span_start(t, "copy", NULL);
	strcpy(value, "short");
	ltb_span_set_tag(s, "a", ltb_span_strdup(s, value));
	memset(value, 'x', sizeof value - 1);
	value[sizeof value - 1] = '\0';
	ltb_span_set_tag(s, "b", ltb_span_strdup(s, value));
	strcpy(value, "overwritten");
	ltb_span_finish(s);
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	req = lightstep__collector__report_request__unpack(NULL, k.len[0],
	    k.body[0]);
	assert_non_null(req);
	assert_int_equal(req->spans[0]->n_tags, 2);
	assert_string_equal(req->spans[0]->tags[0]->string_value, "short");
	assert_int_equal(strlen(req->spans[0]->tags[1]->string_value), 599);
	lightstep__collector__report_request__free_unpacked(req, NULL);
	ltb_tracer_free(t);
	sink_free(&k);
}

/*
 * Logs and finishes are timed by the instrumented thread's cheap clock and
 * turned into ns by the reporter: they must still say real time, from the
 * span's start, within a few ms (the sleeps' slack), in both protocols.
 */
static int64_t
ts_ns(const Lightstep__Collector__Timestamp *ts)
{
	return ts->seconds * 1000000000ll + ts->nanos;
}

static void
test_log_and_finish_times_are_real(void **unused)
{
	struct sink k;
	struct ltb_tracer *t;
	struct ltb_span *s;
	Lightstep__Collector__ReportRequest *req;
	Lightstep__Collector__Span *sp;
	Ltb__Otlp__ExportTraceServiceRequest *oreq;
	Ltb__Otlp__Span *os;
	int64_t start, ms = 1000000;
	int proto;

	for (proto = 0; proto < 2; proto++) {
		sink_init(&k);
		t = sink_tracer_speaking(&k, 100, 60000, proto ?
		    LTB_TRACER_OTLP : LTB_TRACER_LIGHTSTEP);
		s = ltb_span_start(t, "slow", NULL);
		sleep_ms(30);
		ltb_span_log(s, "event", "after 30 ms");
		sleep_ms(30);
		ltb_span_finish(s);
		assert_int_equal(ltb_tracer_flush(t, 5000), 0);
		assert_int_equal(k.n, 1);
		if (proto == 0) {
			req = lightstep__collector__report_request__unpack(
			    NULL, k.len[0], k.body[0]);
			assert_non_null(req);
			sp = req->spans[0];
			start = ts_ns(sp->start_timestamp);
			assert_in_range(ts_ns(sp->logs[0]->timestamp) - start,
			    29 * ms, 45 * ms);
			assert_in_range(sp->duration_micros, 59000, 90000);
			lightstep__collector__report_request__free_unpacked(
			    req, NULL);
		} else {
			oreq = ltb__otlp__export_trace_service_request__unpack(
			    NULL, k.len[0], k.body[0]);
			assert_non_null(oreq);
			os = oreq->resource_spans[0]->scope_spans[0]->spans[0];
			start = (int64_t)os->start_time_unix_nano;
			assert_in_range((int64_t)os->events[0]->time_unix_nano -
			    start, 29 * ms, 45 * ms);
			assert_in_range((int64_t)os->end_time_unix_nano - start,
			    59 * ms, 90 * ms);
			ltb__otlp__export_trace_service_request__free_unpacked(
			    oreq, NULL);
		}
		ltb_tracer_free(t);
		sink_free(&k);
	}
}

/* --- OTLP ---------------------------------------------------------------- */

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The string attribute key of kv's list, or NULL. */
static const char *
attr(Ltb__Otlp__KeyValue **kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i]->key, key) == 0) {
			assert_non_null(kv[i]->value);
			assert_int_equal(kv[i]->value->value_case,
			    LTB__OTLP__ANY_VALUE__VALUE_STRING_VALUE);
			return kv[i]->value->string_value;
		}
	return NULL;
}

static void
test_otlp_report_unpacks_span_by_span(void **unused)
{
	static const char *const ops[6] = { "client/request", "server/handle",
		"auth/verify", "cache/lookup", "db/query", "db/read" };
	struct ltb_span_context ctx[18], parent[18];
	struct ltb_span *s[6];
	struct sink k;
	struct ltb_tracer *t;
	Ltb__Otlp__ExportTraceServiceRequest *req;
	Ltb__Otlp__ResourceSpans *rs;
	Ltb__Otlp__ScopeSpans *ss;
	uint8_t *again;
	uint64_t hi = 0;
	size_t i, j, c, n = 0;

	sink_init(&k);
	t = sink_tracer_speaking(&k, 1000, 60000, LTB_TRACER_OTLP);
	for (c = 0; c < 3; c++) {
		for (i = 0; i < 6; i++) {
			s[i] = ltb_span_start(t, ops[i],
			    i ? ltb_span_context(s[i - 1]) : NULL);
			for (j = 0; j < 3; j++)
				ltb_span_set_tag(s[i], tag_keys[j],
				    tag_values[j]);
			for (j = 0; j < i; j++)
				ltb_span_log(s[i], "event", "cache miss");
		}
		for (i = 6; i-- > 0;) {
			ctx[n] = *ltb_span_context(s[i]);
			parent[n] = i ? *ltb_span_context(s[i - 1]) :
			    (struct ltb_span_context){ 0, 0 };
			n++;
			ltb_span_finish(s[i]);
		}
	}
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	assert_int_equal(sink_count(&k), 1);

	req = ltb__otlp__export_trace_service_request__unpack(NULL, k.len[0],
	    k.body[0]);
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, 1);
	rs = req->resource_spans[0];
	assert_non_null(rs->resource);
	assert_string_equal(attr(rs->resource->attributes,
	    rs->resource->n_attributes, "service.name"), "ltb");
	assert_int_equal(rs->n_scope_spans, 1);
	ss = rs->scope_spans[0];
	assert_non_null(ss->scope);
	assert_string_equal(ss->scope->name, "ltb-tracer-c");
	assert_int_equal(ss->n_spans, 18);
	/* framed by the tracer, the bytes are protobuf-c's own */
	assert_int_equal(
	    ltb__otlp__export_trace_service_request__get_packed_size(req),
	    k.len[0]);
	again = malloc(k.len[0]);
	assert_non_null(again);
	ltb__otlp__export_trace_service_request__pack(req, again);
	assert_memory_equal(again, k.body[0], k.len[0]);
	free(again);

	for (i = 0; i < 18; i++) {
		Ltb__Otlp__Span *sp = ss->spans[i];
		size_t depth = 5 - i % 6;

		/* 16-byte trace ids: the context's id low, one high half */
		assert_int_equal(sp->trace_id.len, 16);
		assert_int_equal(be64(sp->trace_id.data + 8), ctx[i].trace_id);
		if (i == 0)
			hi = be64(sp->trace_id.data);
		assert_int_not_equal(hi, 0);
		assert_int_equal(be64(sp->trace_id.data), hi);
		assert_int_equal(sp->span_id.len, 8);
		assert_int_equal(be64(sp->span_id.data), ctx[i].span_id);
		assert_int_not_equal(ctx[i].span_id, 0);
		if (depth == 0) {
			assert_int_equal(sp->parent_span_id.len, 0);
		} else {
			assert_int_equal(sp->parent_span_id.len, 8);
			assert_int_equal(be64(sp->parent_span_id.data),
			    parent[i].span_id);
			assert_int_equal(parent[i].trace_id, ctx[i].trace_id);
		}
		assert_string_equal(sp->name, ops[depth]);
		assert_int_equal(sp->kind,
		    LTB__OTLP__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL);
		assert_true(sp->start_time_unix_nano > 1600000000ull *
		    1000000000ull);
		assert_true(sp->start_time_unix_nano <= sp->end_time_unix_nano);
		assert_int_equal(sp->n_attributes, 3);
		for (j = 0; j < 3; j++)
			assert_string_equal(attr(sp->attributes,
			    sp->n_attributes, tag_keys[j]), tag_values[j]);
		assert_int_equal(sp->n_events, depth);
		for (j = 0; j < sp->n_events; j++) {
			Ltb__Otlp__Span__Event *ev = sp->events[j];

			assert_string_equal(ev->name, "log");
			assert_int_equal(ev->n_attributes, 1);
			assert_string_equal(attr(ev->attributes,
			    ev->n_attributes, "event"), "cache miss");
			assert_true(ev->time_unix_nano >=
			    sp->start_time_unix_nano);
			assert_true(ev->time_unix_nano <=
			    sp->end_time_unix_nano);
		}
	}
	ltb__otlp__export_trace_service_request__free_unpacked(req, NULL);
	assert_stats_add_up(t);
	ltb_tracer_free(t);
	sink_free(&k);
}

/* Reports after the first reuse the encoder's arrays: a smaller batch
 * after a bigger one carries only its own spans, whole. */
static void
test_otlp_reports_stay_whole_when_reused(void **unused)
{
	Ltb__Otlp__ExportTraceServiceRequest *req;
	struct sink k;
	struct ltb_tracer *t;
	struct ltb_span *s;
	size_t r, i, want[3] = { 40, 7, 1 };

	sink_init(&k);
	t = sink_tracer_speaking(&k, 1000, 60000, LTB_TRACER_OTLP);
	for (r = 0; r < 3; r++) {
		for (i = 0; i < want[r]; i++) {
			s = ltb_span_start(t, r == 1 ? "second" : "op", NULL);
			if (r != 2)
				ltb_span_set_tag(s, "k", "v");
			ltb_span_log(s, "event", "e");
			ltb_span_finish(s);
		}
		assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	}
	assert_int_equal(sink_count(&k), 3);
	for (r = 0; r < 3; r++) {
		req = ltb__otlp__export_trace_service_request__unpack(NULL,
		    k.len[r], k.body[r]);
		assert_non_null(req);
		assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans,
		    want[r]);
		for (i = 0; i < want[r]; i++) {
			Ltb__Otlp__Span *sp =
			    req->resource_spans[0]->scope_spans[0]->spans[i];

			assert_string_equal(sp->name, r == 1 ? "second" : "op");
			assert_int_equal(sp->n_attributes, r == 2 ? 0 : 1);
			assert_int_equal(sp->n_events, 1);
			assert_int_equal(sp->parent_span_id.len, 0);
		}
		ltb__otlp__export_trace_service_request__free_unpacked(req,
		    NULL);
	}
	assert_stats_add_up(t);
	ltb_tracer_free(t);
	sink_free(&k);
}

/* --- accounting ---------------------------------------------------------- */

static void
test_a_full_buffer_drops_and_counts(void **unused)
{
	struct ltb_tracer_stats st;
	struct sink k;
	struct ltb_tracer *t;
	struct got g = { .n = 0 };
	int i;

	sink_init(&k);
	t = sink_tracer(&k, 10, 60000);
	for (i = 0; i < 25; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_started, 25);
	assert_int_equal(st.spans_finished, 25);
	assert_int_equal(st.spans_dropped, 15);
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_reported, 10);
	assert_int_equal(st.reports_ok, 1);
	assert_int_equal(st.bytes_sent, k.len[0]);
	assert_int_equal(ltb_ls_walk_report(k.body[0], k.len[0], collect, &g,
	    NULL), 10);
	/* the buffer is empty again: room for 10 more */
	for (i = 0; i < 10; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_dropped, 15);
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	assert_stats_add_up(t);
	ltb_tracer_free(t);
	sink_free(&k);
}

static void
test_a_failed_report_drops_its_spans(void **unused)
{
	struct ltb_tracer_stats st;
	struct sink k;
	struct ltb_tracer *t;
	int i;

	sink_init(&k);
	k.fail = 1;
	t = sink_tracer(&k, 100, 60000);
	for (i = 0; i < 40; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.reports_failed, 1);
	assert_int_equal(st.reports_ok, 0);
	assert_int_equal(st.spans_dropped, 40);
	assert_int_equal(st.bytes_sent, 0);
	assert_string_equal(st.last_error, "refused by the test");
	ltb_tracer_free(t);
	sink_free(&k);
}

static void
test_stop_drops_what_is_unflushed(void **unused)
{
	struct ltb_tracer_stats st;
	struct sink k;
	struct ltb_tracer *t;
	int i;

	sink_init(&k);
	t = sink_tracer(&k, 100, 60000);
	for (i = 0; i < 20; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	ltb_tracer_stop(t);
	ltb_tracer_stop(t);
	/* finished after the stop: dropped at once */
	ltb_span_finish(ltb_span_start(t, "late", NULL));
	ltb_tracer_stats(t, &st);
	assert_int_equal(sink_count(&k), 0);
	assert_int_equal(st.spans_finished, 21);
	assert_int_equal(st.spans_dropped, 21);
	assert_int_equal(ltb_tracer_flush(t, 100), 0);
	ltb_tracer_free(t);
	sink_free(&k);
}

static void
test_flush_waits_for_the_report(void **unused)
{
	struct ltb_tracer_stats st;
	struct sink k;
	struct ltb_tracer *t;
	int i;

	sink_init(&k);
	k.delay_ms = 200;
	t = sink_tracer(&k, 100, 60000);
	for (i = 0; i < 5; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(sink_count(&k), 1);
	assert_int_equal(st.spans_reported, 5);

	/* and gives up in time when the report takes longer */
	k.delay_ms = 500;
	ltb_span_finish(ltb_span_start(t, "op", NULL));
	assert_int_equal(ltb_tracer_flush(t, 50), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_reported, 6);
	/* nothing buffered: returns at once, no empty report */
	assert_int_equal(ltb_tracer_flush(t, 0), 0);
	assert_int_equal(sink_count(&k), 2);
	ltb_tracer_free(t);
	sink_free(&k);
}

static void
test_reports_every_period_without_flush(void **unused)
{
	struct ltb_tracer_stats st;
	struct sink k;
	struct ltb_tracer *t;
	int i;

	sink_init(&k);
	t = sink_tracer(&k, 100, 20);
	for (i = 0; i < 7; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	for (i = 0; i < 300 && sink_count(&k) == 0; i++)
		sleep_ms(10);
	assert_int_equal(sink_count(&k), 1);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_reported, 7);
	ltb_tracer_free(t);
	sink_free(&k);
}

static void
test_noop_records_nothing(void **unused)
{
	struct ltb_tracer_stats st;
	struct ltb_tracer *t = ltb_tracer_noop();
	struct ltb_span *s, *c;

	assert_non_null(t);
	s = ltb_span_start(t, "op", NULL);
	assert_non_null(s);
	c = ltb_span_start(t, "child", ltb_span_context(s));
	ltb_span_set_tag(c, "k", "v");
	ltb_span_log(c, "event", "x");
	assert_null(ltb_span_strdup(c, "x"));
	ltb_span_finish(c);
	ltb_span_finish(s);
	assert_int_equal(ltb_tracer_flush(t, 0), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_started, 0);
	assert_int_equal(st.spans_dropped, 0);
	ltb_tracer_stop(t);
	ltb_tracer_free(t);
}

/* Four threads at once against a small buffer: every span is accounted
 * for, and no id repeats. */
struct worker {
	struct ltb_tracer *t;
	uint64_t ids[2000];
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct ltb_span *s;
	int i;

	for (i = 0; i < 2000; i++) {
		s = ltb_span_start(w->t, "op", NULL);
		ltb_span_set_tag(s, "k", "v");
		ltb_span_log(s, "event", "e");
		w->ids[i] = ltb_span_context(s)->span_id;
		ltb_span_finish(s);
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_threads_share_a_tracer(void **unused)
{
	static struct worker w[4];
	static uint64_t all[8000];
	struct ltb_tracer_stats st;
	pthread_t th[4];
	struct sink k;
	struct ltb_tracer *t;
	size_t i;

	sink_init(&k);
	t = sink_tracer(&k, 500, 1);
	for (i = 0; i < 4; i++) {
		w[i].t = t;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stop(t);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_started, 8000);
	assert_int_equal(st.spans_finished, 8000);
	assert_int_equal(st.spans_reported + st.spans_dropped, 8000);
	for (i = 0; i < 8000; i++)
		all[i] = w[i / 2000].ids[i % 2000];
	qsort(all, 8000, sizeof all[0], cmp_u64);
	for (i = 1; i < 8000; i++)
		assert_int_not_equal(all[i], all[i - 1]);
	ltb_tracer_free(t);
	sink_free(&k);
}

/*
 * Spans from threads that come and go: each thread takes its records from
 * a cache of its own, which goes back to the tracer when the thread exits
 * or the tracer is freed. Whatever the caches hold, every span is
 * accounted for, reported exactly once, and nothing leaks (run it under
 * valgrind or the sanitizers).
 */
static void
count_span(void *ctx, const struct ltb_ls_span *span)
{
	(*(size_t *)ctx)++;
}

/* Spans in the reports a sink kept (it keeps 64). */
static size_t
sink_spans(struct sink *k)
{
	size_t i, n = 0;

	pthread_mutex_lock(&k->mu);
	assert_true(k->n <= 64);
	for (i = 0; i < k->n; i++)
		ltb_ls_walk_report(k->body[i], k->len[i], count_span, &n, NULL);
	pthread_mutex_unlock(&k->mu);
	return n;
}

struct burst {
	struct ltb_tracer *t, *t2;	/* t2: a second tracer, or NULL */
	int spans;
	pthread_barrier_t *hold;	/* wait here once, mid-run, or NULL */
};

static void
traced_span(struct ltb_tracer *t, int i)
{
	struct ltb_span *s = ltb_span_start(t, "op", NULL);
	struct ltb_span *c = ltb_span_start(t, "child", ltb_span_context(s));

	ltb_span_set_tag(c, "k", "v");
	ltb_span_log(c, "event", "e");
	if (i % 7 == 0)
		ltb_span_set_tag(s, "copied", ltb_span_strdup(s, "a copy"));
	ltb_span_finish(c);
	ltb_span_finish(s);
}

/* spans/2 parents with a child each, in t (and t2, in turn); then the
 * barrier; then as many again, in t2 only if there is one. */
static void *
burst(void *arg)
{
	struct burst *b = arg;
	int i;

	for (i = 0; i < b->spans / 2; i++)
		traced_span(b->t2 != NULL && i % 2 ? b->t2 : b->t, i);
	if (b->hold == NULL)
		return NULL;
	pthread_barrier_wait(b->hold);
	pthread_barrier_wait(b->hold);
	for (i = 0; i < b->spans / 2; i++)
		traced_span(b->t2 != NULL ? b->t2 : b->t, i);
	return NULL;
}

static void
test_threads_that_exit_mid_run_lose_no_span(void **unused)
{
	struct ltb_tracer_stats st;
	struct burst b = { NULL, NULL, 600, NULL }, longer;
	pthread_barrier_t hold;
	pthread_t th[3], lt;
	struct sink k;
	struct ltb_tracer *t;
	int wave, i;

	sink_init(&k);
	/* room for every span: none may be dropped */
	t = sink_tracer(&k, 20000, 50);
	b.t = t;
	longer = b;
	longer.hold = &hold;
	assert_int_equal(pthread_barrier_init(&hold, NULL, 2), 0);
	/* one thread lives through three waves of threads that exit */
	assert_int_equal(pthread_create(&lt, NULL, burst, &longer), 0);
	for (wave = 0; wave < 3; wave++) {
		for (i = 0; i < 3; i++)
			assert_int_equal(pthread_create(&th[i], NULL, burst,
			    &b), 0);
		for (i = 0; i < 3; i++)
			pthread_join(th[i], NULL);
		if (wave == 0)
			pthread_barrier_wait(&hold);
	}
	pthread_barrier_wait(&hold);
	pthread_join(lt, NULL);
	pthread_barrier_destroy(&hold);
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	/* 600 spans a thread that exits, 1200 the one that lives on */
	assert_int_equal(st.spans_started, 9 * 600 + 1200);
	assert_int_equal(st.spans_finished, 9 * 600 + 1200);
	assert_int_equal(st.spans_dropped, 0);
	assert_int_equal(st.spans_reported, 9 * 600 + 1200);
	ltb_tracer_free(t);
	assert_int_equal(sink_spans(&k), 9 * 600 + 1200);
	sink_free(&k);
}

/* Threads finish against a full buffer: exactly max wait, the rest are
 * dropped and counted, however many threads there are. */
static void
test_a_full_buffer_drops_exactly_with_threads(void **unused)
{
	struct ltb_tracer_stats st;
	struct burst b = { NULL, NULL, 500, NULL };
	pthread_t th[4];
	struct sink k;
	struct ltb_tracer *t;
	int round, i;

	sink_init(&k);
	t = sink_tracer(&k, 100, 60000);
	b.t = t;
	for (round = 1; round <= 2; round++) {
		for (i = 0; i < 4; i++)
			assert_int_equal(pthread_create(&th[i], NULL, burst,
			    &b), 0);
		for (i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		ltb_tracer_stats(t, &st);
		assert_int_equal(st.spans_started, round * 2000);
		assert_int_equal(st.spans_finished, round * 2000);
		assert_int_equal(st.spans_dropped, round * 1900);
		assert_int_equal(st.spans_reported, (round - 1) * 100);
		/* a flush empties the buffer: room for 100 more */
		assert_int_equal(ltb_tracer_flush(t, 5000), 0);
		ltb_tracer_stats(t, &st);
		assert_int_equal(st.spans_reported, round * 100);
	}
	assert_int_equal(sink_count(&k), 2);
	assert_int_equal(sink_spans(&k), 200);
	/* and after a stop, every span finished is dropped */
	ltb_tracer_stop(t);
	assert_int_equal(pthread_create(&th[0], NULL, burst, &b), 0);
	pthread_join(th[0], NULL);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_finished, 4500);
	assert_int_equal(st.spans_dropped, 4500 - 200);
	assert_stats_add_up(t);
	ltb_tracer_free(t);
	sink_free(&k);
}

/*
 * Two tracers, traced in turn by the same threads: each counts and
 * reports its own spans. One is freed while the threads still live (they
 * stopped tracing it, as the header asks); they go on with the other.
 */
static void
test_threads_trace_two_tracers_and_outlive_one(void **unused)
{
	struct ltb_tracer_stats st;
	struct burst b = { NULL, NULL, 400, NULL };
	pthread_barrier_t hold;
	pthread_t th[3];
	struct sink k1, k2;
	struct ltb_tracer *t1, *t2;
	int i;

	sink_init(&k1);
	sink_init(&k2);
	t1 = sink_tracer(&k1, 20000, 50);
	t2 = sink_tracer(&k2, 20000, 50);
	b.t = t1;
	b.t2 = t2;
	b.hold = &hold;
	assert_int_equal(pthread_barrier_init(&hold, NULL, 4), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, burst, &b), 0);
	/* the main thread traces t1 too, and so holds a cache of its own */
	for (i = 0; i < 50; i++)
		traced_span(t1, i);
	pthread_barrier_wait(&hold);
	/* 400 spans a thread so far, 200 in each tracer; 100 the main's */
	assert_int_equal(ltb_tracer_flush(t1, 5000), 0);
	ltb_tracer_stats(t1, &st);
	assert_int_equal(st.spans_started, 3 * 200 + 100);
	assert_int_equal(st.spans_reported, 3 * 200 + 100);
	ltb_tracer_free(t1);
	assert_int_equal(sink_spans(&k1), 700);
	pthread_barrier_wait(&hold);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&hold);
	assert_int_equal(ltb_tracer_flush(t2, 5000), 0);
	ltb_tracer_stats(t2, &st);
	/* and 400 more a thread in t2 */
	assert_int_equal(st.spans_started, 3 * 600);
	assert_int_equal(st.spans_reported, 3 * 600);
	assert_int_equal(st.spans_dropped, 0);
	/* a tracer made after another was freed starts from nothing */
	t1 = sink_tracer(&k1, 20000, 50);
	traced_span(t1, 1);
	ltb_tracer_stats(t1, &st);
	assert_int_equal(st.spans_started, 2);
	ltb_tracer_free(t1);
	ltb_tracer_free(t2);
	assert_int_equal(sink_spans(&k2), 1800);
	sink_free(&k1);
	sink_free(&k2);
}

/* --- over HTTP ----------------------------------------------------------- */

static struct ltb_tracer *
http_tracer_speaking(const uint16_t *ports, size_t nports,
    unsigned timeout_ms, enum ltb_tracer_protocol protocol, int tls)
{
	struct ltb_tracer_config c;
	struct ltb_tracer *t;
	char err[256] = "";

	ltb_tracer_config_default(&c);
	c.protocol = protocol;
	c.tls = tls;
	c.ports = ports;
	c.nports = nports;
	c.reporting_period_ms = 60000;
	c.timeout_ms = timeout_ms;
	t = ltb_tracer_new(&c, err, sizeof err);
	if (t == NULL)
		fail_msg("ltb_tracer_new: %s", err);
	return t;
}

static struct ltb_tracer *
http_tracer(const uint16_t *ports, size_t nports, unsigned timeout_ms)
{
	return http_tracer_speaking(ports, nports, timeout_ms,
	    LTB_TRACER_LIGHTSTEP, 0);
}

/* A satellite group on two ephemeral ports, in this process. */
static struct ltb_sat *
start_sat(uint16_t ports[2])
{
	struct ltb_sat_config sc;
	struct ltb_sat *sat;
	cJSON *ready, *p;
	size_t n = 0;
	char err[256] = "";

	ltb_sat_config_default(&sc);
	sc.ports[0] = sc.ports[1] = 0;
	sc.nports = 2;
	sc.admin_port = 0;
	sc.bandwidth = 0;
	if ((sat = ltb_sat_start(&sc, err, sizeof err)) == NULL)
		fail_msg("ltb_sat_start: %s", err);
	ready = ltb_sat_ready_record(sat);
	assert_non_null(ready);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ready,
	    "ports"))
		if (n < 2)
			ports[n++] = (uint16_t)p->valuedouble;
	cJSON_Delete(ready);
	assert_int_equal(n, 2);
	return sat;
}

static double
stat_of(struct ltb_sat *sat, const char *key)
{
	cJSON *rec = ltb_sat_stats_record(sat);
	const cJSON *v;
	double d;

	assert_non_null(rec);
	v = cJSON_GetObjectItemCaseSensitive(rec, key);
	assert_true(cJSON_IsNumber(v));
	d = v->valuedouble;
	cJSON_Delete(rec);
	return d;
}

static void
test_a_real_satellite_receives_exactly_the_spans(void **unused)
{
	struct ltb_tracer_stats st;
	struct ltb_sat *sat;
	struct ltb_tracer *t;
	uint16_t ports[2];
	char err[256] = "";
	int i, r;

	sat = start_sat(ports);
	t = http_tracer(ports, 2, 2000);
	/* three reports, so both ports (and a kept-alive connection) serve */
	for (r = 0; r < 3; r++) {
		for (i = 0; i < 100; i++) {
			struct ltb_span *s = ltb_span_start(t, "op", NULL);

			ltb_span_set_tag(s, "k", "v");
			ltb_span_log(s, "event", "e");
			ltb_span_finish(s);
		}
		assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	}
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.reports_ok, 3);
	assert_int_equal(st.reports_failed, 0);
	assert_int_equal(st.spans_reported, 300);
	assert_int_equal(st.spans_dropped, 0);
	assert_int_equal(ltb_sat_spans_received(sat), 300);
	assert_int_equal((uint64_t)stat_of(sat, "invalid_spans"), 0);
	assert_int_equal((uint64_t)stat_of(sat, "duplicate_spans"), 0);
	assert_int_equal((uint64_t)stat_of(sat, "reports"), 3);
	assert_int_equal((uint64_t)stat_of(sat, "bytes"), st.bytes_sent);

	/* taken down: reports fail, spans are dropped, the tracer goes on */
	assert_int_equal(ltb_sat_down(sat), 0);
	for (i = 0; i < 50; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.reports_failed, 1);
	assert_int_equal(st.spans_dropped, 50);
	/* and back: reporting resumes on the same handles */
	assert_int_equal(ltb_sat_up(sat, err, sizeof err), 0);
	for (i = 0; i < 20; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.spans_reported, 320);
	assert_int_equal(ltb_sat_spans_received(sat), 320);
	ltb_tracer_free(t);
	ltb_sat_stop(sat);
}

static void
test_a_real_satellite_receives_exactly_the_otlp_spans(void **unused)
{
	struct ltb_tracer_stats st;
	struct ltb_sat *sat;
	struct ltb_tracer *t;
	struct ltb_span *s[3];
	uint16_t ports[2];
	int i, j, r;

	sat = start_sat(ports);
	t = http_tracer_speaking(ports, 2, 2000, LTB_TRACER_OTLP, 0);
	/* three reports of chains of three, tagged and logged */
	for (r = 0; r < 3; r++) {
		for (i = 0; i < 100; i++) {
			for (j = 0; j < 3; j++) {
				s[j] = ltb_span_start(t, "op",
				    j ? ltb_span_context(s[j - 1]) : NULL);
				ltb_span_set_tag(s[j], "k", "v");
				ltb_span_log(s[j], "event", "e");
			}
			for (j = 3; j-- > 0;)
				ltb_span_finish(s[j]);
		}
		assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	}
	ltb_tracer_stats(t, &st);
	if (st.reports_failed > 0)
		fail_msg("%s", st.last_error);
	assert_int_equal(st.reports_ok, 3);
	assert_int_equal(st.spans_reported, 900);
	assert_int_equal(ltb_sat_spans_received(sat), 900);
	assert_int_equal((uint64_t)stat_of(sat, "invalid_spans"), 0);
	assert_int_equal((uint64_t)stat_of(sat, "duplicate_spans"), 0);
	ltb_tracer_free(t);
	ltb_sat_stop(sat);
}

/* A loopback port nothing listens on: bound, then closed. */
static uint16_t
closed_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void
test_a_closed_port_drops_the_spans(void **unused)
{
	struct ltb_tracer_stats st;
	struct ltb_tracer *t;
	uint16_t port = closed_port();
	int i;

	t = http_tracer(&port, 1, 2000);
	for (i = 0; i < 30; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.reports_failed, 1);
	assert_int_equal(st.reports_ok, 0);
	assert_int_equal(st.spans_dropped, 30);
	assert_non_null(strstr(st.last_error, "/api/v2/reports"));
	assert_stats_add_up(t);
	ltb_tracer_free(t);
}

static void
test_a_closed_port_drops_otlp_over_https(void **unused)
{
	struct ltb_tracer_stats st;
	struct ltb_tracer *t;
	uint16_t port = closed_port();
	char url[64];
	int i;

	t = http_tracer_speaking(&port, 1, 2000, LTB_TRACER_OTLP, 1);
	for (i = 0; i < 30; i++)
		ltb_span_finish(ltb_span_start(t, "op", NULL));
	assert_int_equal(ltb_tracer_flush(t, 5000), 0);
	ltb_tracer_stats(t, &st);
	assert_int_equal(st.reports_failed, 1);
	assert_int_equal(st.spans_dropped, 30);
	snprintf(url, sizeof url, "POST https://127.0.0.1:%u/v1/traces: ",
	    (unsigned)port);
	if (strncmp(st.last_error, url, strlen(url)) != 0)
		fail_msg("last error: %s", st.last_error);
	assert_stats_add_up(t);
	ltb_tracer_free(t);
}

static void
test_new_refuses_no_ports(void **unused)
{
	struct ltb_tracer_config c;
	char err[256] = "";

	ltb_tracer_config_default(&c);
	assert_null(ltb_tracer_new(&c, err, sizeof err));
	assert_string_equal(err, "no satellite ports");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_round_trips_through_both_readers),
		cmocka_unit_test(test_strdup_copies_belong_to_the_span),
		cmocka_unit_test(test_log_and_finish_times_are_real),
		cmocka_unit_test(test_otlp_report_unpacks_span_by_span),
		cmocka_unit_test(test_otlp_reports_stay_whole_when_reused),
		cmocka_unit_test(test_a_full_buffer_drops_and_counts),
		cmocka_unit_test(test_a_failed_report_drops_its_spans),
		cmocka_unit_test(test_stop_drops_what_is_unflushed),
		cmocka_unit_test(test_flush_waits_for_the_report),
		cmocka_unit_test(test_reports_every_period_without_flush),
		cmocka_unit_test(test_noop_records_nothing),
		cmocka_unit_test(test_threads_share_a_tracer),
		cmocka_unit_test(test_threads_that_exit_mid_run_lose_no_span),
		cmocka_unit_test(test_a_full_buffer_drops_exactly_with_threads),
		cmocka_unit_test(
		    test_threads_trace_two_tracers_and_outlive_one),
		cmocka_unit_test(
		    test_a_real_satellite_receives_exactly_the_spans),
		cmocka_unit_test(
		    test_a_real_satellite_receives_exactly_the_otlp_spans),
		cmocka_unit_test(test_a_closed_port_drops_the_spans),
		cmocka_unit_test(test_a_closed_port_drops_otlp_over_https),
		cmocka_unit_test(test_new_refuses_no_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
