/*
 * ltb_lightstep_thrift.c: LightStep's thrift report protocol (see
 * ltb_collector.h): POST /_rpc/v1/reports/binary with a Thrift binary call
 * of ReportingService.Report (lightstep_thrift.thrift), what the legacy
 * Python tracer (before 4.0, and use_thrift=True) and the C++ tracer send;
 * answered by a REPLY message holding a ReportResponse.
 *
 * The body always goes through the streaming walk of ltb_lsthrift_walk.h,
 * --validate full included: there is no Thrift library for C here to be
 * its second reader, and the walk holds nothing, so a report of any length
 * is counted as its spans arrive.
 */
#include "collector/ltb_collector.h"
#include "core/ltb_clock.h"
#include "collector/proto/ltb_lsthrift.h"
#include "collector/proto/ltb_lsthrift_walk.h"

struct lst_state {
	uint64_t receive_ns;
	struct ltb_lst_walk walk;
};

/* Adapts the walk's per-span callback to the satellite's sink. */
static void
lst_span(void *ctx, const struct ltb_lst_span *span)
{
	const struct ltb_span_sink *sink = ctx;

	sink->span(sink->ctx, ltb_lst_key(span), ltb_lst_check(span));
}

static int
lst_begin(void *state, const struct ltb_message *m)
{
	struct lst_state *s = state;

	s->receive_ns = m->start_real_ns;
	ltb_lst_walk_init(&s->walk, m->max_field);
	return LTB_COLLECT_OK;
}

static int
lst_code(struct lst_state *s, int rc, const char **why)
{
	if (rc >= 0)
		return LTB_COLLECT_OK;
	*why = s->walk.why;
	return rc == LTB_LST_TOO_LARGE ? LTB_COLLECT_TOO_LARGE :
	    LTB_COLLECT_MALFORMED;
}

static int
lst_feed(void *state, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	struct lst_state *s = state;

	return lst_code(s, ltb_lst_walk_feed(&s->walk, p, n, lst_span,
	    (void *)sink), why);
}

static int
lst_end(void *state, const struct ltb_span_sink *sink,
    struct ltb_reply *reply, const char **why)
{
	struct lst_state *s = state;
	int rc;

	(void)sink;
	rc = lst_code(s, ltb_lst_walk_end(&s->walk), why);
	if (rc != LTB_COLLECT_OK)
		return rc;
	reply->content_type = "application/x-thrift";
	reply->len = ltb_lst_reply(&s->walk, reply->body, sizeof reply->body,
	    s->receive_ns, ltb_real_ns());
	return LTB_COLLECT_OK;
}

static void
lst_release(void *state)
{
	(void)state;	/* the walk holds nothing */
}

const struct ltb_collector_proto ltb_proto_lightstep_thrift = {
	.name = "lightstep_thrift",
	.unit = "span",
	.transport = LTB_TRANSPORT_HTTP,
	.path = "/_rpc/v1/reports/binary",
	/* application/x-thrift, octet-stream, none: any is read. */
	.content_types = NULL,
	.invalid_names = ltb_lst_invalid_names,
	.ninvalid = LTB_LST_NINVALID,
	.state_size = sizeof(struct lst_state),
	.begin = lst_begin,
	.feed = lst_feed,
	.end = lst_end,
	.release = lst_release,
};
