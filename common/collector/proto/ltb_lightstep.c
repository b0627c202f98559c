/*
 * ltb_lightstep.c: the LightStep report protocol (see ltb_collector.h):
 * POST /api/v2/reports with a protobuf lightstep.collector.ReportRequest
 * body, answered by a ReportResponse.
 *
 * By default the body goes through the streaming walk of
 * ltb_lightstep_walk.h, so spans are counted as they arrive whatever the
 * request's length; with full validation it is held whole (ltb_pbhold)
 * and unpacked by protobuf-c.
 */
#include "collector/ltb_body.h"
#include "collector/ltb_collector.h"
#include "core/ltb_clock.h"
#include "collector/ltb_dupset.h"
#include "collector/proto/ltb_lightstep_walk.h"
#include "collector/proto/ltb_pbstream.h"

struct ls_state {
	int full;
	uint64_t receive_ns;
	size_t max;
	struct ltb_budget *budget;	/* the group's, borrowed */
	struct ltb_ls_stream stream;	/* walk */
	struct ltb_pbhold body;		/* full: the whole body */
};

/* Index i is enum ltb_ls_invalid's i. */
static const char *const ls_invalid_names[LTB_LS_NINVALID] = {
	"valid", "no_context", "zero_trace_id", "zero_span_id",
	"no_operation", "no_start", "bad_timestamp", "bad_reference",
	"empty_key",
};

/* Adapts the reader's per-span callback to the satellite's sink. */
static void
ls_span(void *ctx, const struct ltb_ls_span *span)
{
	const struct ltb_span_sink *sink = ctx;

	sink->span(sink->ctx, ltb_dupset_key(span->trace_id, span->span_id),
	    (unsigned)span->invalid);
}

static int
ls_begin(void *state, const struct ltb_message *m)
{
	struct ls_state *s = state;

	s->full = m->full;
	s->max = m->max_field;
	s->receive_ns = m->start_real_ns;
	s->budget = m->budget;
	s->body.budget = m->body_taken ? NULL : m->budget;
	if (!s->full) {
		ltb_ls_stream_init(&s->stream, s->max);
		ltb_ls_stream_budget(&s->stream, m->budget);
	}
	return LTB_COLLECT_OK;
}

static int
ls_feed(void *state, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	struct ls_state *s = state;
	int rc;

	if (s->full)
		return ltb_body_hold(&s->body, p, n, s->max,
		    "report larger than the body limit", why);
	rc = ltb_ls_stream_feed(&s->stream, p, n, ls_span, (void *)sink);
	if (rc == LTB_LS_BUSY) {
		*why = s->stream.why;
		return LTB_COLLECT_BUSY;
	}
	if (rc == LTB_LS_TOO_LARGE) {
		*why = "a report field larger than the body limit";
		return LTB_COLLECT_TOO_LARGE;
	}
	if (rc < 0) {
		*why = s->stream.why;
		return LTB_COLLECT_MALFORMED;
	}
	return LTB_COLLECT_OK;
}

static int
ls_end(void *state, const struct ltb_span_sink *sink,
    struct ltb_reply *reply, const char **why)
{
	struct ls_state *s = state;
	long rc;

	if (s->full) {
		rc = ltb_ls_unpack_report_in(s->body.buf, s->body.len,
		    s->budget, ls_span, (void *)sink, why);
		if (rc == LTB_LS_BUSY)
			return LTB_COLLECT_BUSY;
		if (rc < 0)
			return LTB_COLLECT_MALFORMED;
	} else if (ltb_ls_stream_end(&s->stream) < 0) {
		*why = s->stream.why;
		return LTB_COLLECT_MALFORMED;
	}
	reply->content_type = "application/octet-stream";
	reply->len = ltb_ls_response(reply->body, sizeof reply->body,
	    s->receive_ns, ltb_real_ns());
	return LTB_COLLECT_OK;
}

static void
ls_release(void *state)
{
	struct ls_state *s = state;

	if (s->full)
		ltb_pbhold_free(&s->body);
	else
		ltb_ls_stream_free(&s->stream);
}

const struct ltb_collector_proto ltb_proto_lightstep = {
	.name = "lightstep",
	.unit = "span",
	.transport = LTB_TRANSPORT_HTTP,
	.path = "/api/v2/reports",
	/* Tracers differ (octet-stream, x-protobuf, none): any is read. */
	.content_types = NULL,
	.invalid_names = ls_invalid_names,
	.ninvalid = LTB_LS_NINVALID,
	.state_size = sizeof(struct ls_state),
	.begin = ls_begin,
	.feed = ls_feed,
	.end = ls_end,
	.release = ls_release,
};
