/*
 * ltb_otlp.c: the OTLP/HTTP traces protocol (see ltb_collector.h): POST
 * /v1/traces with an ExportTraceServiceRequest body, as protobuf
 * (application/x-protobuf) or in the OTLP JSON mapping (application/json),
 * answered in the request's own content type as the OTLP specification
 * says: 200 with an ExportTraceServiceResponse, whose partial_success
 * counts the spans rejected as invalid; a google.rpc.Status for any other
 * status (400 unreadable, 413 too large, and whatever the group answers:
 * 429, 503, ...).
 *
 * A protobuf body goes through the streaming walk of ltb_otlp_walk.h, so
 * spans are counted as they arrive whatever the request's length; with
 * full validation it is held whole (ltb_pbhold) and unpacked by
 * protobuf-c. A JSON body is held whole too (up to max_field) and read by
 * cJSON at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "otlp_trace.pb-c.h"
#include "collector/ltb_body.h"
#include "collector/ltb_collector.h"
#include "collector/proto/ltb_otlp_walk.h"
#include "collector/proto/ltb_pbstream.h"

static const char CT_PROTOBUF[] = "application/x-protobuf";
static const char CT_JSON[] = "application/json";

static const char *const otlp_content_types[] = {
	CT_PROTOBUF, CT_JSON, NULL
};

/* Index i is enum ltb_otlp_invalid's i. */
static const char *const otlp_invalid_names[LTB_OTLP_NINVALID] = {
	"valid", "bad_trace_id", "bad_span_id", "bad_parent_span_id",
	"no_name", "end_before_start",
};

struct otlp_state {
	int json, full;
	size_t max;
	struct ltb_budget *budget;	/* the group's, borrowed */
	uint64_t claim;			/* m->claim_rejected */
	uint64_t spans, rejected;	/* of this message */
	uint64_t reasons[LTB_OTLP_NINVALID];
	struct ltb_otlp_stream stream;	/* protobuf walk */
	struct ltb_pbhold body;		/* JSON or full: the whole body */
};

/* The reader's per-span callback's context: the message and the sink. */
struct adapt {
	struct otlp_state *s;
	const struct ltb_span_sink *sink;
};

static void
otlp_span(void *ctx, const struct ltb_otlp_span *span)
{
	struct adapt *a = ctx;

	a->s->spans++;
	if (span->invalid != LTB_OTLP_VALID) {
		a->s->rejected++;
		a->s->reasons[span->invalid]++;
	}
	a->sink->span(a->sink->ctx, ltb_otlp_key(span),
	    (unsigned)span->invalid);
}

static int
otlp_begin(void *state, const struct ltb_message *m)
{
	struct otlp_state *s = state;

	if (strcmp(m->content_type, CT_PROTOBUF) == 0)
		s->json = 0;
	else if (strcmp(m->content_type, CT_JSON) == 0)
		s->json = 1;
	else
		return LTB_COLLECT_UNSUPPORTED;
	s->full = m->full;
	s->max = m->max_field;
	s->claim = m->claim_rejected;
	s->budget = m->budget;
	s->body.budget = m->body_taken ? NULL : m->budget;
	if (!s->json && !s->full) {
		ltb_otlp_stream_init(&s->stream, s->max);
		ltb_otlp_stream_budget(&s->stream, m->budget);
	}
	return LTB_COLLECT_OK;
}

static int
otlp_feed(void *state, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	struct otlp_state *s = state;
	struct adapt a = { s, sink };
	int rc;

	if (s->json || s->full)
		return ltb_body_hold(&s->body, p, n, s->max,
		    "request larger than the body limit", why);
	rc = ltb_otlp_stream_feed(&s->stream, p, n, otlp_span, &a);
	if (rc == LTB_OTLP_BUSY) {
		*why = s->stream.why;
		return LTB_COLLECT_BUSY;
	}
	if (rc == LTB_OTLP_TOO_LARGE) {
		*why = s->stream.why;
		return LTB_COLLECT_TOO_LARGE;
	}
	if (rc < 0) {
		*why = s->stream.why;
		return LTB_COLLECT_MALFORMED;
	}
	return LTB_COLLECT_OK;
}

/* "3 of 10 spans rejected: bad_trace_id 2, no_name 1", cut to fit. */
static void
rejected_message(const struct otlp_state *s, char *buf, size_t cap)
{
	size_t n;
	unsigned i;

	if (s->claim > 0) {
		snprintf(buf, cap, "%llu spans rejected, as the satellite's "
		    "script says", (unsigned long long)s->claim);
		return;
	}
	n = (size_t)snprintf(buf, cap, "%llu of %llu spans rejected:",
	    (unsigned long long)s->rejected, (unsigned long long)s->spans);
	for (i = 1; i < LTB_OTLP_NINVALID && n < cap; i++)
		if (s->reasons[i])
			n += (size_t)snprintf(buf + n, cap - n, "%s %s %llu",
			    n > 0 && buf[n - 1] == ':' ? "" : ",",
			    otlp_invalid_names[i],
			    (unsigned long long)s->reasons[i]);
}

/* The ExportTraceServiceResponse, partial_success set when rejected > 0. */
static void
response(const struct otlp_state *s, struct ltb_reply *reply)
{
	uint64_t rejected = s->claim > 0 ? s->claim : s->rejected;
	char msg[256];

	reply->status = 0;
	reply->content_type = s->json ? CT_JSON : CT_PROTOBUF;
	reply->len = 0;
	if (rejected == 0) {
		/* full success: partial_success unset */
		if (s->json) {
			memcpy(reply->body, "{}", 2);
			reply->len = 2;
		}
		return;
	}
	rejected_message(s, msg, sizeof msg);
	if (s->json) {
		cJSON *o = cJSON_CreateObject(), *ps;
		char n[24], *txt = NULL;

		snprintf(n, sizeof n, "%llu", (unsigned long long)rejected);
		if (o != NULL &&
		    (ps = cJSON_AddObjectToObject(o, "partialSuccess")) != NULL &&
		    cJSON_AddStringToObject(ps, "rejectedSpans", n) != NULL &&
		    cJSON_AddStringToObject(ps, "errorMessage", msg) != NULL)
			txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (txt != NULL && strlen(txt) <= sizeof reply->body) {
			reply->len = strlen(txt);
			memcpy(reply->body, txt, reply->len);
		}
		free(txt);
	} else {
		Ltb__Otlp__ExportTraceServiceResponse r =
		    LTB__OTLP__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
		Ltb__Otlp__ExportTracePartialSuccess ps =
		    LTB__OTLP__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;

		ps.rejected_spans = (int64_t)rejected;
		ps.error_message = msg;
		r.partial_success = &ps;
		if (ltb__otlp__export_trace_service_response__get_packed_size(
		    &r) <= sizeof reply->body)
			reply->len = ltb__otlp__export_trace_service_response__pack(
			    &r, reply->body);
	}
}

static int
otlp_end(void *state, const struct ltb_span_sink *sink,
    struct ltb_reply *reply, const char **why)
{
	struct otlp_state *s = state;
	struct adapt a = { s, sink };
	size_t tree;
	long rc;

	if (s->json) {
		/* cJSON's tree is taken for while it lives */
		if ((rc = ltb_body_take_tree(s->budget, &s->body, &tree,
		    why)) != LTB_COLLECT_OK)
			return (int)rc;
		rc = ltb_otlp_json(s->body.buf, s->body.len, otlp_span, &a,
		    why);
		ltb_budget_give(s->budget, tree);
		if (rc < 0)
			return LTB_COLLECT_MALFORMED;
	} else if (s->full) {
		rc = ltb_otlp_unpack_in(s->body.buf, s->body.len, s->budget,
		    otlp_span, &a, why);
		if (rc == LTB_OTLP_BUSY)
			return LTB_COLLECT_BUSY;
		if (rc < 0)
			return LTB_COLLECT_MALFORMED;
	} else if (ltb_otlp_stream_end(&s->stream) < 0) {
		*why = s->stream.why;
		return LTB_COLLECT_MALFORMED;
	}
	response(s, reply);
	return LTB_COLLECT_OK;
}

/* google.rpc.Code for an HTTP status, as google/rpc/code.proto maps
 * them; the OTLP specification leaves the code to the server. */
static int
rpc_code(unsigned status)
{
	switch (status) {
	case 400:
	case 415:
		return 3;	/* INVALID_ARGUMENT */
	case 401:
		return 16;	/* UNAUTHENTICATED */
	case 403:
		return 7;	/* PERMISSION_DENIED */
	case 404:
		return 5;	/* NOT_FOUND */
	case 413:
	case 429:
		return 8;	/* RESOURCE_EXHAUSTED */
	case 501:
		return 12;	/* UNIMPLEMENTED */
	case 502:
	case 503:
		return 14;	/* UNAVAILABLE */
	case 504:
		return 4;	/* DEADLINE_EXCEEDED */
	case 500:
		return 13;	/* INTERNAL */
	default:
		return 2;	/* UNKNOWN */
	}
}

static void
status_message(int rc, const char *why, unsigned status, char *buf,
    size_t cap)
{
	const char *what;

	switch (rc) {
	case LTB_COLLECT_MALFORMED:
		what = "cannot read the ExportTraceServiceRequest";
		break;
	case LTB_COLLECT_TOO_LARGE:
		what = "request too large";
		break;
	case LTB_COLLECT_UNSUPPORTED:
		what = "unsupported content type";
		break;
	case LTB_COLLECT_BUSY:
		what = "service unavailable";
		break;
	default:
		switch (status) {
		case 429:
			what = "too many requests";
			break;
		case 502:
			what = "bad gateway";
			break;
		case 503:
			what = "service unavailable";
			break;
		case 504:
			what = "gateway timeout";
			break;
		default:
			what = "request refused";
		}
	}
	if (why != NULL && why[0] != '\0')
		snprintf(buf, cap, "%s: %s", what, why);
	else
		snprintf(buf, cap, "%s", what);
}

static void
otlp_refuse(void *state, int rc, const char *why, struct ltb_reply *reply)
{
	struct otlp_state *s = state;
	char msg[512];
	int code = rpc_code(reply->status);

	status_message(rc, why, reply->status, msg, sizeof msg);
	reply->content_type = s->json ? CT_JSON : CT_PROTOBUF;
	reply->len = 0;
	if (s->json) {
		cJSON *o = cJSON_CreateObject();
		char *txt = NULL;

		if (o != NULL && cJSON_AddNumberToObject(o, "code", code) &&
		    cJSON_AddStringToObject(o, "message", msg))
			txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (txt != NULL && strlen(txt) <= sizeof reply->body) {
			reply->len = strlen(txt);
			memcpy(reply->body, txt, reply->len);
		}
		free(txt);
	} else {
		Ltb__Otlp__RpcStatus st = LTB__OTLP__RPC_STATUS__INIT;

		st.code = code;
		st.message = msg;
		if (ltb__otlp__rpc_status__get_packed_size(&st) <=
		    sizeof reply->body)
			reply->len = ltb__otlp__rpc_status__pack(&st,
			    reply->body);
	}
}

static void
otlp_release(void *state)
{
	struct otlp_state *s = state;

	ltb_pbhold_free(&s->body);
	if (!s->json && !s->full)
		ltb_otlp_stream_free(&s->stream);
}

const struct ltb_collector_proto ltb_proto_otlp = {
	.name = "otlp",
	.unit = "span",
	.transport = LTB_TRANSPORT_HTTP,
	.path = "/v1/traces",
	.content_types = otlp_content_types,
	.invalid_names = otlp_invalid_names,
	.ninvalid = LTB_OTLP_NINVALID,
	.state_size = sizeof(struct otlp_state),
	.begin = otlp_begin,
	.feed = otlp_feed,
	.end = otlp_end,
	.refuse = otlp_refuse,
	.release = otlp_release,
};
