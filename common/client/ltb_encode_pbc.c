/*
 * ltb_encode_pbc.c: reports packed by protobuf-c, the oracle of the
 * hand-written encoder; see ltb_encode_pbc.h. It builds the whole request
 * the obvious way, as the tracer did before ltb_encode.c, so that what the
 * two share is only the protocol.
 */
#include <stdlib.h>
#include <string.h>

#include "lightstep_collector.pb-c.h"
#include "otlp_trace.pb-c.h"
#include "client/ltb_encode_pbc.h"

typedef Lightstep__Collector__KeyValue Kv;
typedef Lightstep__Collector__Log Log;
typedef Lightstep__Collector__Span Span;
typedef Lightstep__Collector__SpanContext Ctx;
typedef Lightstep__Collector__Reference Ref;
typedef Lightstep__Collector__Timestamp Ts;
typedef Ltb__Otlp__Span Ospan;
typedef Ltb__Otlp__KeyValue Okv;
typedef Ltb__Otlp__AnyValue Oany;
typedef Ltb__Otlp__Span__Event Oevent;

/* Everything one report's structs take, freed together. */
struct pool {
	void **p;
	size_t n, cap;
	int failed;
};

static void *
take(struct pool *pl, size_t n, size_t size)
{
	void *p, **np;

	if (pl->failed)
		return NULL;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;

		if ((np = realloc(pl->p, cap * sizeof *np)) == NULL)
			goto fail;
		pl->p = np;
		pl->cap = cap;
	}
	if ((p = calloc(n ? n : 1, size)) == NULL)
		goto fail;
	pl->p[pl->n++] = p;
	return p;
fail:
	pl->failed = 1;
	return NULL;
}

static void
pool_free(struct pool *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		free(pl->p[i]);
	free(pl->p);
}

/* --- LightStep ----------------------------------------------------------- */

static Kv *
ls_kv(struct pool *pl, const char *key, const char *value)
{
	static const Kv init = LIGHTSTEP__COLLECTOR__KEY_VALUE__INIT;
	Kv *kv = take(pl, 1, sizeof *kv);

	if (kv == NULL)
		return NULL;
	*kv = init;
	kv->key = (char *)key;
	kv->value_case = LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
	kv->string_value = (char *)value;
	return kv;
}

static Ts *
ls_ts(struct pool *pl, uint64_t ns)
{
	static const Ts init = LIGHTSTEP__COLLECTOR__TIMESTAMP__INIT;
	Ts *ts = take(pl, 1, sizeof *ts);

	if (ts == NULL)
		return NULL;
	*ts = init;
	ts->seconds = (int64_t)(ns / 1000000000u);
	ts->nanos = (int32_t)(ns % 1000000000u);
	return ts;
}

static Ctx *
ls_ctx(struct pool *pl, uint64_t trace_id, uint64_t span_id)
{
	static const Ctx init = LIGHTSTEP__COLLECTOR__SPAN_CONTEXT__INIT;
	Ctx *c = take(pl, 1, sizeof *c);

	if (c == NULL)
		return NULL;
	*c = init;
	c->trace_id = trace_id;
	c->span_id = span_id;
	return c;
}

static Span *
ls_span(struct pool *pl, const struct ltb_enc_span *s)
{
	static const Span span_init = LIGHTSTEP__COLLECTOR__SPAN__INIT;
	static const Ref ref_init = LIGHTSTEP__COLLECTOR__REFERENCE__INIT;
	static const Log log_init = LIGHTSTEP__COLLECTOR__LOG__INIT;
	Span *sp = take(pl, 1, sizeof *sp);
	size_t j;

	if (sp == NULL)
		return NULL;
	*sp = span_init;
	sp->span_context = ls_ctx(pl, s->trace_id, s->span_id);
	sp->operation_name = (char *)s->op;
	if (s->parent != 0) {
		Ref *r = take(pl, 1, sizeof *r);

		sp->references = take(pl, 1, sizeof *sp->references);
		if (r == NULL || sp->references == NULL)
			return NULL;
		*r = ref_init;
		r->relationship =
		    LIGHTSTEP__COLLECTOR__REFERENCE__RELATIONSHIP__CHILD_OF;
		r->span_context = ls_ctx(pl, s->trace_id, s->parent);
		sp->references[0] = r;
		sp->n_references = 1;
	}
	sp->start_timestamp = ls_ts(pl, s->start_ns);
	sp->duration_micros = (s->finish_ns - s->start_ns) / 1000;
	sp->tags = take(pl, s->ntags, sizeof *sp->tags);
	sp->logs = take(pl, s->nlogs, sizeof *sp->logs);
	if (sp->tags == NULL || sp->logs == NULL)
		return NULL;
	sp->n_tags = s->ntags;
	for (j = 0; j < s->ntags; j++)
		sp->tags[j] = ls_kv(pl, s->tags[j].key, s->tags[j].value);
	sp->n_logs = s->nlogs;
	for (j = 0; j < s->nlogs; j++) {
		Log *lg = take(pl, 1, sizeof *lg);

		if (lg == NULL)
			return NULL;
		*lg = log_init;
		lg->fields = take(pl, 1, sizeof *lg->fields);
		lg->timestamp = ls_ts(pl, s->logs[j].ns);
		if (lg->fields == NULL)
			return NULL;
		lg->fields[0] = ls_kv(pl, s->logs[j].key, s->logs[j].value);
		lg->n_fields = 1;
		sp->logs[j] = lg;
	}
	return sp;
}

static uint8_t *
ls_report(struct pool *pl, const struct ltb_enc_config *c,
    const struct ltb_enc_span *spans, size_t n, size_t *len)
{
	Lightstep__Collector__ReportRequest req =
	    LIGHTSTEP__COLLECTOR__REPORT_REQUEST__INIT;
	Lightstep__Collector__Reporter rep =
	    LIGHTSTEP__COLLECTOR__REPORTER__INIT;
	Lightstep__Collector__Auth auth = LIGHTSTEP__COLLECTOR__AUTH__INIT;
	Kv *reptags[3];
	uint8_t *out;
	size_t i;

	reptags[0] = ls_kv(pl, "lightstep.tracer_platform", "c");
	reptags[1] = ls_kv(pl, "lightstep.tracer_version", "ltb-1");
	reptags[2] = ls_kv(pl, "lightstep.component_name",
	    c->component ? c->component : "");
	rep.reporter_id = c->reporter_id;
	rep.n_tags = 3;
	rep.tags = reptags;
	auth.access_token = (char *)(c->token ? c->token : "");
	req.reporter = &rep;
	req.auth = &auth;
	req.n_spans = n;
	if ((req.spans = take(pl, n, sizeof *req.spans)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		req.spans[i] = ls_span(pl, &spans[i]);
	if (pl->failed)
		return NULL;
	*len = lightstep__collector__report_request__get_packed_size(&req);
	if ((out = malloc(*len ? *len : 1)) == NULL)
		return NULL;
	lightstep__collector__report_request__pack(&req, out);
	return out;
}

/* --- OTLP ---------------------------------------------------------------- */

static Okv *
otlp_kv(struct pool *pl, const char *key, const char *value)
{
	static const Okv kv_init = LTB__OTLP__KEY_VALUE__INIT;
	static const Oany any_init = LTB__OTLP__ANY_VALUE__INIT;
	Okv *kv = take(pl, 1, sizeof *kv);
	Oany *v = take(pl, 1, sizeof *v);

	if (kv == NULL || v == NULL)
		return NULL;
	*kv = kv_init;
	*v = any_init;
	kv->key = (char *)key;
	v->value_case = LTB__OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = (char *)value;
	kv->value = v;
	return kv;
}

static uint8_t *
be64(struct pool *pl, uint64_t hi, uint64_t lo, size_t n)
{
	uint8_t *p = take(pl, 16, 1);
	int i;

	if (p == NULL)
		return NULL;
	for (i = 7; i >= 0; i--, hi >>= 8, lo >>= 8) {
		p[i] = (uint8_t)hi;
		p[8 + i] = (uint8_t)lo;
	}
	return n == 8 ? p + 8 : p;
}

static Ospan *
otlp_span(struct pool *pl, const struct ltb_enc_config *c,
    const struct ltb_enc_span *s)
{
	static const Ospan span_init = LTB__OTLP__SPAN__INIT;
	static const Oevent event_init = LTB__OTLP__SPAN__EVENT__INIT;
	Ospan *sp = take(pl, 1, sizeof *sp);
	size_t j;

	if (sp == NULL)
		return NULL;
	*sp = span_init;
	sp->trace_id.data = be64(pl, c->trace_hi, s->trace_id, 16);
	sp->trace_id.len = 16;
	sp->span_id.data = be64(pl, 0, s->span_id, 8);
	sp->span_id.len = 8;
	if (s->parent != 0) {
		sp->parent_span_id.data = be64(pl, 0, s->parent, 8);
		sp->parent_span_id.len = 8;
	}
	sp->name = (char *)s->op;
	sp->kind = LTB__OTLP__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
	sp->start_time_unix_nano = s->start_ns;
	sp->end_time_unix_nano = s->finish_ns;
	sp->attributes = take(pl, s->ntags, sizeof *sp->attributes);
	sp->events = take(pl, s->nlogs, sizeof *sp->events);
	if (sp->attributes == NULL || sp->events == NULL)
		return NULL;
	sp->n_attributes = s->ntags;
	for (j = 0; j < s->ntags; j++)
		sp->attributes[j] = otlp_kv(pl, s->tags[j].key,
		    s->tags[j].value);
	sp->n_events = s->nlogs;
	for (j = 0; j < s->nlogs; j++) {
		Oevent *ev = take(pl, 1, sizeof *ev);

		if (ev == NULL)
			return NULL;
		*ev = event_init;
		ev->time_unix_nano = s->logs[j].ns;
		ev->name = "log";
		if ((ev->attributes = take(pl, 1,
		    sizeof *ev->attributes)) == NULL)
			return NULL;
		ev->attributes[0] = otlp_kv(pl, s->logs[j].key,
		    s->logs[j].value);
		ev->n_attributes = 1;
		sp->events[j] = ev;
	}
	return sp;
}

static uint8_t *
otlp_report(struct pool *pl, const struct ltb_enc_config *c,
    const struct ltb_enc_span *spans, size_t n, size_t *len)
{
	Ltb__Otlp__ExportTraceServiceRequest req =
	    LTB__OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	Ltb__Otlp__ResourceSpans rs = LTB__OTLP__RESOURCE_SPANS__INIT;
	Ltb__Otlp__ScopeSpans ss = LTB__OTLP__SCOPE_SPANS__INIT;
	Ltb__Otlp__Resource res = LTB__OTLP__RESOURCE__INIT;
	Ltb__Otlp__InstrumentationScope scope =
	    LTB__OTLP__INSTRUMENTATION_SCOPE__INIT;
	Ltb__Otlp__ResourceSpans *rsp = &rs;
	Ltb__Otlp__ScopeSpans *ssp = &ss;
	Okv *attrs[3];
	uint8_t *out;
	size_t i;

	attrs[0] = otlp_kv(pl, "service.name",
	    c->component ? c->component : "");
	attrs[1] = otlp_kv(pl, "telemetry.sdk.name", "ltb-tracer-c");
	attrs[2] = otlp_kv(pl, "telemetry.sdk.version", "1");
	res.n_attributes = 3;
	res.attributes = attrs;
	scope.name = "ltb-tracer-c";
	scope.version = "1";
	ss.scope = &scope;
	ss.n_spans = n;
	if ((ss.spans = take(pl, n, sizeof *ss.spans)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		ss.spans[i] = otlp_span(pl, c, &spans[i]);
	if (pl->failed)
		return NULL;
	rs.resource = &res;
	rs.n_scope_spans = 1;
	rs.scope_spans = &ssp;
	req.n_resource_spans = 1;
	req.resource_spans = &rsp;
	*len = ltb__otlp__export_trace_service_request__get_packed_size(&req);
	if ((out = malloc(*len ? *len : 1)) == NULL)
		return NULL;
	ltb__otlp__export_trace_service_request__pack(&req, out);
	return out;
}

uint8_t *
ltb_enc_pbc_report(const struct ltb_enc_config *c,
    const struct ltb_enc_span *spans, size_t n, size_t *len)
{
	struct pool pl = { NULL, 0, 0, 0 };
	uint8_t *out;

	out = c->protocol == LTB_TRACER_OTLP ?
	    otlp_report(&pl, c, spans, n, len) :
	    ls_report(&pl, c, spans, n, len);
	pool_free(&pl);
	return out;
}
