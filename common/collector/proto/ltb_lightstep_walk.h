/*
 * ltb_lightstep_walk.h: the LightStep collector report (lightstep.collector.
 * ReportRequest, see lightstep_collector.proto), read the way a mock
 * collector needs it.
 *
 * Two readers with one contract:
 *
 *  - the walk (ltb_ls_walk_report, ltb_ls_stream_*): a validating walk of the
 *    protobuf wire format that materialises nothing. It checks framing, wire
 *    types and lengths of every known field at every depth, skips unknown
 *    fields, and pulls out only what validation needs. It is the hot path of
 *    ltb-satellite and can be fed a body in pieces, so a tracer that streams
 *    one long chunked request is counted as its spans arrive, with memory
 *    bounded by the largest single top-level field, not by the request.
 *
 *  - the unpack (ltb_ls_unpack_report): protobuf-c's generated unpacker,
 *    followed by the same validation on the unpacked message. It is
 *    `ltb-satellite --validate full` and the oracle the walk is tested and
 *    fuzzed against: on every input both give the same verdict (malformed or
 *    not) and, when well formed, the same spans with the same ids and the
 *    same validation results, in the same order.
 *
 * "Malformed" means protobuf-c would refuse the bytes: the report is
 * rejected. "Invalid" means a well-formed span that is really wrong for a
 * collector (see enum ltb_ls_invalid); it is still received and counted,
 * and flagged. What tracers merely do differently is not invalid: the npm
 * lightstep-tracer sends child references with only a span id, so a
 * reference's trace_id may be 0.
 */
#ifndef LTB_LIGHTSTEP_WALK_H
#define LTB_LIGHTSTEP_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "collector/proto/ltb_pbstream.h"

/* Why a well-formed span is invalid; the first problem found wins, checked
 * in this order. */
enum ltb_ls_invalid {
	LTB_LS_VALID = 0,
	LTB_LS_NO_CONTEXT,	/* no span_context */
	LTB_LS_ZERO_TRACE_ID,	/* span_context.trace_id == 0 */
	LTB_LS_ZERO_SPAN_ID,	/* span_context.span_id == 0 */
	LTB_LS_NO_OPERATION,	/* operation_name empty or absent */
	LTB_LS_NO_START,	/* no start_timestamp */
	LTB_LS_BAD_TIMESTAMP,	/* a timestamp (start or log) with nanos outside
				 * [0, 1e9) or negative seconds */
	LTB_LS_BAD_REFERENCE,	/* a reference without span_context, or whose
				 * span_id is 0 */
	LTB_LS_EMPTY_KEY,	/* a tag or log field with an empty key */
	LTB_LS_NINVALID
};

/* Short stable name of a reason ("no_context", ...), used as a JSON key. */
const char *ltb_ls_invalid_name(enum ltb_ls_invalid why);

/* What a reader reports of one span. */
struct ltb_ls_span {
	uint64_t trace_id;
	uint64_t span_id;
	enum ltb_ls_invalid invalid;
};

/* Called once per span, in wire order. The span is borrowed for the call. */
typedef void ltb_ls_span_fn(void *ctx, const struct ltb_ls_span *span);

/*
 * Walk a whole report body of n bytes. Calls fn (may be NULL) for each span.
 * Returns the number of spans, or -1 if the body is malformed, with *why
 * (if why is not NULL) set to a short static reason. On -1, fn may already
 * have been called for the spans before the malformed point.
 */
long ltb_ls_walk_report(const uint8_t *p, size_t n, ltb_ls_span_fn *fn,
    void *ctx, const char **why);

/* The same contract, by protobuf-c unpack + validation. fn is only called
 * when the whole body unpacked. */
/* The same, its tree taken from budget b (NULL: none): LTB_LS_BUSY, *why
 * LTB_BUDGET_WHY, when it has no room. */
long ltb_ls_unpack_report_in(const uint8_t *p, size_t n,
    struct ltb_budget *b, ltb_ls_span_fn *fn, void *ctx, const char **why);
long ltb_ls_unpack_report(const uint8_t *p, size_t n, ltb_ls_span_fn *fn,
    void *ctx, const char **why);

/*
 * Streaming walk. Feed a body in pieces of any size (down to one byte);
 * spans are reported as soon as their last byte arrives.
 *
 *   struct ltb_ls_stream s;
 *   ltb_ls_stream_init(&s, max_field);
 *   while (data) if (ltb_ls_stream_feed(&s, p, n, fn, ctx) < 0) ... s.why
 *   if (ltb_ls_stream_end(&s) < 0) ... s.why     (truncated body)
 *   ltb_ls_stream_free(&s);
 *
 * max_field bounds the bytes held for one top-level field that straddles
 * pieces (a span, the reporter, ...); a longer field fails the feed with
 * LTB_LS_TOO_LARGE. Unknown length-delimited top-level fields are skipped
 * without being held. A field wholly inside one piece is walked in place.
 * After a failure the stream stays failed: later feeds return the same code.
 *
 * A known top-level field longer than max_field fails as soon as its length
 * is read, even if it would have fitted in one piece, so the verdict never
 * depends on where the body was cut. ltb_ls_stream_feed returns the number
 * of spans this piece completed (>= 0) or a negative code; s.why then says
 * why. Holding is the only allocation, done once a field straddles.
 *
 * It is ltb_pbstream.h's reader with a schema of one level: the
 * request's known fields are leaves.
 */
enum {
	LTB_LS_MALFORMED = LTB_PB_MALFORMED,
	LTB_LS_TOO_LARGE = LTB_PB_TOO_LARGE,
	LTB_LS_BUSY = LTB_PB_BUSY		/* no room in the budget to hold */
};

struct ltb_ls_stream {
	struct ltb_pbstream r;	/* private: the reader, one level deep */
	/* public, read-only, as of the last call */
	uint64_t spans;		/* spans reported so far */
	uint64_t bytes;		/* bytes fed so far */
	const char *why;	/* reason of the failure, static */
	const uint8_t *held;	/* the reader's held field, and its room: */
	size_t capheld;		/* what tests of its memory look at */
};

void ltb_ls_stream_init(struct ltb_ls_stream *s, size_t max_field);
/* Hold what straddles inside budget b (borrowed; NULL: none); a field it
 * has no room for fails the feed with LTB_LS_BUSY. Before the first feed. */
void ltb_ls_stream_budget(struct ltb_ls_stream *s, struct ltb_budget *b);
int ltb_ls_stream_feed(struct ltb_ls_stream *s, const uint8_t *p, size_t n,
    ltb_ls_span_fn *fn, void *ctx);
int ltb_ls_stream_end(struct ltb_ls_stream *s);
void ltb_ls_stream_free(struct ltb_ls_stream *s);

/*
 * Encode a lightstep.collector.ReportResponse with the given receive and
 * transmit times (ns since the epoch) into buf (cap bytes). Returns its
 * length, or 0 if cap is too small (64 bytes always suffice).
 */
size_t ltb_ls_response(uint8_t *buf, size_t cap, uint64_t receive_ns,
    uint64_t transmit_ns);

#endif
