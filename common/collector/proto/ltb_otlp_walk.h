/*
 * ltb_otlp_walk.h: the OTLP trace export request (ExportTraceServiceRequest,
 * see otlp_trace.proto), read the way a mock collector needs it.
 *
 * Three readers with one contract, each reporting the spans it finds in
 * wire order with their ids and validation result:
 *
 *  - the walk (ltb_otlp_walk, ltb_otlp_stream_*): a validating walk of the
 *    protobuf wire format that materialises nothing. It checks framing, wire
 *    types and lengths of every known field at every depth, skips unknown
 *    fields, and pulls out only what validation needs. Fed a body in pieces,
 *    it counts each span as its last byte arrives, with memory bounded by
 *    the largest span (or resource, or scope) that straddles two pieces: it
 *    steps into ResourceSpans and ScopeSpans as they come, so a request of
 *    any length is never held.
 *
 *  - the unpack (ltb_otlp_unpack): protobuf-c's generated unpacker, then
 *    the same validation on the unpacked message. It is `ltb-satellite
 *    --validate full` and the oracle the walk is tested and fuzzed
 *    against: on every input both give the same verdict (malformed or not)
 *    and, when well formed, the same spans with the same ids and the same
 *    validation results, in the same order.
 *
 *  - the JSON reader (ltb_otlp_json): the OTLP JSON mapping (lowerCamelCase
 *    keys, ids as hex strings, enums as integers, 64-bit integers as strings
 *    or numbers, unknown keys ignored), parsed whole by cJSON.
 *
 * "Malformed" means the body cannot be read: the request is refused (400).
 * "Invalid" means a readable span that is really wrong for a collector
 * (enum ltb_otlp_invalid): it is received, counted and flagged, and the
 * answer's partial_success says it was rejected.
 */
#ifndef LTB_OTLP_WALK_H
#define LTB_OTLP_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "collector/proto/ltb_pbstream.h"

/* Why a readable span is invalid; the first problem found wins, checked in
 * this order. */
enum ltb_otlp_invalid {
	LTB_OTLP_VALID = 0,
	LTB_OTLP_BAD_TRACE_ID,		/* not 16 bytes, or all zero */
	LTB_OTLP_BAD_SPAN_ID,		/* not 8 bytes, or all zero */
	LTB_OTLP_BAD_PARENT_SPAN_ID,	/* neither empty nor 8 bytes */
	LTB_OTLP_NO_NAME,		/* name empty or absent */
	LTB_OTLP_END_BEFORE_START,	/* end_time_unix_nano < start */
	LTB_OTLP_NINVALID
};

/* Short stable name of a reason ("bad_trace_id", ...), a JSON key. */
const char *ltb_otlp_invalid_name(enum ltb_otlp_invalid why);

/* What a reader reports of one span. The ids are their bytes read big
 * endian (a trace id as two halves); an id of the wrong length is 0. */
struct ltb_otlp_span {
	uint64_t trace_hi, trace_lo;
	uint64_t span_id;
	enum ltb_otlp_invalid invalid;
};

/* Called once per span, in wire order. The span is borrowed for the call. */
typedef void ltb_otlp_span_fn(void *ctx, const struct ltb_otlp_span *span);

/* The duplicate-detection key of a span: its 16-byte trace id and 8-byte
 * span id folded into 64 bits (see ltb_dupset_key). */
uint64_t ltb_otlp_key(const struct ltb_otlp_span *span);

/* Attribute values (AnyValue in an array or key-value list in an AnyValue)
 * nest at most this deep. protobuf-c has no limit and recurses, so a small
 * body of deep nesting would overflow its stack; every reader refuses it. */
#define LTB_OTLP_MAX_NESTING 64

/*
 * Walk a whole request body of n bytes. Calls fn (may be NULL) for each
 * span. Returns the number of spans, or -1 if the body is malformed, with
 * *why (if why is not NULL) set to a short static reason. On -1, fn may
 * already have been called for the spans before the malformed point.
 */
long ltb_otlp_walk(const uint8_t *p, size_t n, ltb_otlp_span_fn *fn,
    void *ctx, const char **why);

/* The same contract, by protobuf-c unpack + validation (after a walk that
 * only looks for nesting deeper than LTB_OTLP_MAX_NESTING). fn is only
 * called when the whole body unpacked. */
/* The same, its tree taken from budget b (NULL: none): LTB_OTLP_BUSY,
 * *why LTB_BUDGET_WHY, when it has no room. */
long ltb_otlp_unpack_in(const uint8_t *p, size_t n, struct ltb_budget *b,
    ltb_otlp_span_fn *fn, void *ctx, const char **why);
long ltb_otlp_unpack(const uint8_t *p, size_t n, ltb_otlp_span_fn *fn,
    void *ctx, const char **why);

/* The same contract for an OTLP JSON body (need not be NUL-terminated).
 * fn is only called when the whole body was read. */
long ltb_otlp_json(const uint8_t *p, size_t n, ltb_otlp_span_fn *fn,
    void *ctx, const char **why);
/* At least what ltb_otlp_json allocates to read the n bytes at p (cJSON's
 * tree of them), from a count of what can start a value. */
size_t ltb_otlp_json_bound(const uint8_t *p, size_t n);

/*
 * Streaming walk. Feed a body in pieces of any size (down to one byte);
 * spans are reported as soon as their last byte arrives.
 *
 *   struct ltb_otlp_stream s;
 *   ltb_otlp_stream_init(&s, max_field);
 *   while (data) if (ltb_otlp_stream_feed(&s, p, n, fn, ctx) < 0) ... s.why
 *   if (ltb_otlp_stream_end(&s) < 0) ... s.why     (truncated body)
 *   ltb_otlp_stream_free(&s);
 *
 * The request, its ResourceSpans and their ScopeSpans are stepped through
 * key by key and never held. A Span, Resource or InstrumentationScope
 * wholly inside one piece is walked in place; one that straddles pieces is
 * gathered first, so max_field bounds it: a longer one fails with
 * LTB_OTLP_TOO_LARGE as soon as its length is read, whether or not it
 * straddles, so the verdict never depends on where the body was cut.
 * Unknown fields are skipped without being held. ltb_otlp_stream_feed
 * returns the number of spans this piece completed (>= 0) or a negative
 * code, and s.why says why; after a failure the stream stays failed.
 *
 * It is ltb_pbstream.h's reader with a schema of three levels: the
 * request and ResourceSpans are frames, ScopeSpans' spans are leaves.
 */
enum {
	LTB_OTLP_MALFORMED = LTB_PB_MALFORMED,
	LTB_OTLP_TOO_LARGE = LTB_PB_TOO_LARGE,
	LTB_OTLP_BUSY = LTB_PB_BUSY		/* no room in the budget to hold */
};

struct ltb_otlp_stream {
	struct ltb_pbstream r;	/* private: the reader, three levels deep */
	/* public, read-only, as of the last call */
	uint64_t spans;		/* spans reported so far */
	const char *why;	/* reason of the failure, static */
	const uint8_t *held;	/* the reader's held leaf, and its room: */
	size_t capheld;		/* what tests of its memory look at */
};

void ltb_otlp_stream_init(struct ltb_otlp_stream *s, size_t max_field);
/* Hold what straddles inside budget b (borrowed; NULL: none); a field it
 * has no room for fails the feed with LTB_OTLP_BUSY. Before the first feed. */
void ltb_otlp_stream_budget(struct ltb_otlp_stream *s, struct ltb_budget *b);
int ltb_otlp_stream_feed(struct ltb_otlp_stream *s, const uint8_t *p,
    size_t n, ltb_otlp_span_fn *fn, void *ctx);
int ltb_otlp_stream_end(struct ltb_otlp_stream *s);
void ltb_otlp_stream_free(struct ltb_otlp_stream *s);

#endif
