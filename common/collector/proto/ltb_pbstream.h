/*
 * ltb_pbstream.h: a protobuf message read as it arrives, in pieces of any
 * size, for the protocols' streaming walks (LightStep's, OTLP's); and the
 * buffer both protocols gather a field or a whole body in.
 *
 * The reader steps through the keys and lengths of a message a byte at a
 * time, and of the messages it is told to descend into (a stack of open
 * frames, each with where it ends). What each length-delimited field is
 * comes from the protocol's schema, a table of (depth, field) entries:
 *
 *  - a frame (LTB_PB_FRAME): a message stepped into key by key and never
 *    held, so a request of any length costs no memory (OTLP's
 *    ResourceSpans and ScopeSpans);
 *  - a leaf (LTB_PB_LEAF): a message handed whole to the schema's leaf
 *    function, in place when it lies in one piece, else once gathered (a
 *    resource, a reporter...); an item (LTB_PB_ITEM) is a leaf that is
 *    one of what the body carries, and counted (a span);
 *  - a known field that is neither (LTB_PB_SKIP), and any field the table
 *    does not name: framed and skipped, never held.
 *
 * A field the table names must come with the wire type it gives, else the
 * body is malformed. A leaf or item longer than max_field fails with
 * LTB_PB_TOO_LARGE as soon as its length is read, whether or not it
 * straddles pieces, so the verdict never depends on where the body was
 * cut. The held buffer grows with the bytes that arrive, not with the
 * length the body claims. The wire rules are ltb_pbwire.h's; the reasons
 * are its static strings and the ones below, byte for byte what the walks
 * always said.
 *
 *   struct ltb_pbstream r;
 *   ltb_pbstream_init(&r, &schema, max_field);
 *   while (data) if (ltb_pbstream_feed(&r, p, n, ctx) < 0) ... r.why
 *   if (ltb_pbstream_end(&r) < 0) ... r.why     (truncated body)
 *   ltb_pbstream_free(&r);
 *
 * After a failure the reader stays failed: later calls return the same
 * code. The protocols wrap it in their own stream types
 * (ltb_lightstep_walk.h, ltb_otlp_walk.h), a schema and a copy of the
 * public fields under the names their callers have always read.
 */
#ifndef LTB_PBSTREAM_H
#define LTB_PBSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "collector/ltb_budget.h"

/* A growing buffer: a field or a body gathered from pieces. Zero it to
 * start, and set budget to take its room from (ltb_budget.h; NULL: none,
 * borrowed); ltb_pbhold_free frees it and gives its room back. */
struct ltb_pbhold {
	uint8_t *buf;
	size_t len, cap;
	struct ltb_budget *budget;
};

/* ltb_pbhold_add's refusal when the budget has no room. */
enum { LTB_PBHOLD_BUSY = -2 };

/*
 * Append n bytes at p to h, which may hold at most limit bytes. Room grows
 * with the bytes that arrive (doubling from 4 KiB), never past limit, and
 * each growth is taken from h->budget before it is allocated. Returns 0;
 * -1 when they would not fit in limit or memory ran out; LTB_PBHOLD_BUSY
 * when the budget has no room for the growth (h is then unchanged).
 */
int ltb_pbhold_add(struct ltb_pbhold *h, const uint8_t *p, size_t n,
    size_t limit);
void ltb_pbhold_free(struct ltb_pbhold *h);

/*
 * A protobuf-c allocator that takes each allocation from a budget before
 * making it, and gives it back when protobuf-c frees it: an unpack
 * (--validate full) builds its tree inside the group's budget. Hand
 * &a.pc to protobuf-c's unpack and free_unpacked; after a failed unpack,
 * refused says whether the budget was why.
 */
struct ltb_pballoc {
	ProtobufCAllocator pc;
	struct ltb_budget *budget;	/* borrowed; NULL: none */
	int refused;
};
void ltb_pballoc_init(struct ltb_pballoc *a, struct ltb_budget *b);

/* What a field named by a schema is (see top). */
enum { LTB_PB_SKIP = 1, LTB_PB_FRAME, LTB_PB_LEAF, LTB_PB_ITEM };

/* One entry of a schema: field `field` of the message at `depth` (0 the
 * body, 1 a frame in it, ...), with wire type `wire` (ltb_pbwire.h's
 * PB_VAR, PB_I64, PB_BYTES or PB_I32; a frame, a leaf or an item is
 * PB_BYTES). A leaf's or item's tag is handed to the leaf function. */
struct ltb_pbfield {
	uint8_t depth, wire, role;
	uint32_t field;
	int tag;
};

/* Frames nest at most LTB_PB_MAXDEPTH - 1 deep (the body is depth 0). */
#define LTB_PB_MAXDEPTH 4

/* Walk the n bytes at p of a leaf or item tagged tag; lim (>= p + n) is the end of
 * readable memory (ltb_pbwire.h). Returns NULL, or the static reason it is
 * malformed. ctx is ltb_pbstream_feed's. */
typedef const char *ltb_pb_leaf_fn(void *ctx, int tag, const uint8_t *p,
    size_t n, const uint8_t *lim);

struct ltb_pbschema {
	const struct ltb_pbfield *fields;	/* ends with field 0 */
	ltb_pb_leaf_fn *leaf;
	const char *too_large;	/* why a leaf over max_field fails */
};

/* LTB_PB_BUSY: a leaf to gather found no room in the budget. */
enum { LTB_PB_MALFORMED = -1, LTB_PB_TOO_LARGE = -2, LTB_PB_BUSY = -3 };

struct ltb_pbstream {
	/* private */
	const struct ltb_pbschema *schema;
	const struct ltb_pbfield *cur;	/* the current field's entry, or NULL */
	const struct ltb_pbfield *hit;	/* the entry last looked up, or NULL */
	int state;
	uint64_t acc;		/* varint being read */
	unsigned shift;
	uint32_t field;		/* the current field's number */
	unsigned wire;		/* and its wire type */
	uint64_t left;		/* bytes of the current field still to come */
	uint64_t pos;		/* bytes consumed */
	unsigned depth;		/* of the open frame; 0 the body */
	uint64_t end[LTB_PB_MAXDEPTH];	/* where frames 1.. end, in pos */
	struct ltb_pbhold held;	/* a straddling leaf, being gathered */
	size_t max_field;
	int failed;
	/* public, read-only */
	uint64_t items;		/* items walked so far */
	uint64_t bytes;		/* bytes fed so far */
	const char *why;	/* reason of the failure, static */
};

/* The schema is borrowed for the reader's life. */
void ltb_pbstream_init(struct ltb_pbstream *r,
    const struct ltb_pbschema *schema, size_t max_field);
/* Take what the reader holds from b (borrowed; NULL: no budget). Before
 * the first feed. */
void ltb_pbstream_budget(struct ltb_pbstream *r, struct ltb_budget *b);
/* Returns the number of items this piece completed (>= 0, at most
 * INT_MAX), or a negative code (r->why says why); ctx goes to the leaf
 * function. p may be NULL when n is 0. */
int ltb_pbstream_feed(struct ltb_pbstream *r, const uint8_t *p, size_t n,
    void *ctx);
/* The body is over: fails if it stopped inside a field or a frame. */
int ltb_pbstream_end(struct ltb_pbstream *r);
void ltb_pbstream_free(struct ltb_pbstream *r);

#endif
