/*
 * ltb_lsthrift_walk.h: the LightStep thrift report in the Thrift binary
 * protocol (what /_rpc/v1/reports/binary receives; the schema is
 * lightstep_thrift.thrift), read as it arrives, in pieces of any size.
 *
 * The body is one of three forms, told by its first byte:
 *
 *  - 0x80 and up: a strict message header (i32 0x8001xxTT, name, seqid),
 *    what every Thrift RPC client writes by default;
 *  - 0x00: an old, non-strict header (i32 name length, name, type byte,
 *    seqid), which TBinaryProtocol's readMessageBegin also reads;
 *  - 0x01 to 0x7f: a bare ReportRequest struct, no message at all (its
 *    first byte is a field type). An empty bare struct (the single byte
 *    0x00) reads as an old header, and is malformed: truncated.
 *
 * A message must be a CALL (or ONEWAY) of "Report"; its args struct is
 * ReportingService.Report's {1: Auth, 2: ReportRequest}. Nothing may follow
 * the message (or the bare struct).
 *
 * The walk holds nothing but a stack of open containers and a few bytes of
 * the primitive being read, so memory is fixed whatever the body's length
 * (no allocation at all). Every field of every known struct must come with
 * the type the schema gives it (a list's element type included), else the
 * body is malformed; unknown fields are skipped by their type at any depth,
 * and a type Thrift does not define is malformed once a value of it is
 * read (as TProtocol.skip does). Containers nest at most LTB_LST_MAXDEPTH
 * deep; a negative length or count is malformed; a string (or binary)
 * longer than max_field fails at once with LTB_LST_TOO_LARGE, so a huge
 * claimed length is refused before its bytes come.
 *
 * Per SpanRecord it fills a struct ltb_lst_span (ltb_lsthrift.h) as its
 * fields arrive (guids hashed, never held) and calls back when the span's
 * struct ends; a field given twice counts as its last occurrence, as
 * Thrift's readers do (a join_ids or attributes list given again replaces
 * the earlier one). The first join id of join_ids whose TraceKey is
 * "trace_guid" and whose Value is not empty gives the trace guid when
 * trace_guid (11) is absent or empty. An attribute's Key absent counts as
 * empty.
 *
 * Its oracle is tests/tools/lsthrift.py (python3-thrift), line for line.
 */
#ifndef LTB_LSTHRIFT_WALK_H
#define LTB_LSTHRIFT_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "collector/proto/ltb_lsthrift.h"

/* Open containers at once: the args struct is 1, a span's attribute 8. */
#define LTB_LST_MAXDEPTH 24

enum { LTB_LST_MALFORMED = -1, LTB_LST_TOO_LARGE = -2 };

/* The body's form, known from its first byte. */
enum ltb_lst_form {
	LTB_LST_FORM_NONE = 0,	/* no byte yet */
	LTB_LST_FORM_STRICT,	/* versioned message header */
	LTB_LST_FORM_OLD,	/* non-strict message header */
	LTB_LST_FORM_BARE	/* a ReportRequest struct alone */
};

/* Message types (TMessageType). */
enum { LTB_LST_CALL = 1, LTB_LST_REPLY = 2, LTB_LST_ONEWAY = 4 };

/* Called per SpanRecord, in wire order; the span is borrowed. */
typedef void ltb_lst_span_fn(void *ctx, const struct ltb_lst_span *span);

struct lst_desc;

/* One open container (private). */
struct ltb_lst_frame {
	const struct lst_desc *desc;	/* a known struct, its elements' */
	uint8_t kind;			/* struct, list (or set), map */
	uint8_t etype[2];		/* element (map: key, value) types */
	uint64_t left;			/* elements still to come */
};

struct ltb_lst_walk {
	/* private */
	int state;
	int what;			/* the fixed-size item being read */
	uint8_t acc[8];
	unsigned need, have;
	uint64_t str_left, str_pos;	/* the string being read */
	int role;			/* of the string or value being read */
	uint8_t vtype;			/* type of the value being read */
	const struct lst_desc *vdesc;	/* its struct's, or a list's elements' */
	const struct lst_field *field;	/* the known field being read */
	unsigned depth;
	struct ltb_lst_frame stack[LTB_LST_MAXDEPTH];
	struct ltb_lst_span span;	/* the SpanRecord being read */
	uint64_t tg_hash, join_hash, jv_hash;
	int tg_has, join_found, match, jv_has, ak_empty;
	size_t max_field;
	int failed;
	/* public, read-only, as of the last call */
	enum ltb_lst_form form;
	int msgtype;			/* LTB_LST_CALL or ONEWAY; 0 bare */
	int32_t seqid;
	uint64_t spans;			/* spans reported so far */
	uint64_t bytes;			/* bytes fed so far */
	const char *why;		/* reason of the failure, static */
};

void ltb_lst_walk_init(struct ltb_lst_walk *w, size_t max_field);
/* Returns the spans this piece completed (>= 0, at most INT_MAX), or
 * LTB_LST_MALFORMED / LTB_LST_TOO_LARGE (w->why says why); after a failure
 * every later call returns the same. p may be NULL when n is 0. */
int ltb_lst_walk_feed(struct ltb_lst_walk *w, const uint8_t *p, size_t n,
    ltb_lst_span_fn *fn, void *ctx);
/* The body is over: fails if it stopped before the message's end. */
int ltb_lst_walk_end(struct ltb_lst_walk *w);

/*
 * The answer to a walked body into buf (cap bytes): a REPLY message of
 * "Report" with the call's seqid whose result's success (field 0) is a
 * ReportResponse with its Timing (receive and transmit, ns since the epoch,
 * written as micros); for a bare body, the ReportResponse struct alone; for
 * a ONEWAY call, nothing. Returns its length (0 for nothing, or if cap is
 * too small: 64 bytes always suffice).
 */
size_t ltb_lst_reply(const struct ltb_lst_walk *w, uint8_t *buf, size_t cap,
    uint64_t receive_ns, uint64_t transmit_ns);

#endif
