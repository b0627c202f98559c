/*
 * ltb_otlp_walk.c: reading OTLP trace export requests, protobuf, two ways.
 *
 * The walk reads the wire format directly (ltb_pbwire.h): no allocation
 * for a span that arrives in one piece, no copy, strings skipped by length,
 * one small function per message type. It is ltb-satellite's hot path for
 * OTLP, so it decodes only what validation needs (the span's ids, name and
 * times) and merely frame-checks the rest. A span's attributes and events
 * are read in runs, and the usual attribute and event (simple_keyvalue,
 * simple_event) checked without a call; anything else goes to the general
 * walkers.
 *
 * It must accept exactly what protobuf-c 1.4.1's generated unpacker
 * accepts, because that unpacker is its oracle. The wire rules are those
 * of ltb_pbwire.h. For this schema, read off protobuf-c.c:
 *
 *  - a field given twice: the last value wins (ids, name, times), a
 *    repeated field collects them all, a singular message (resource, scope,
 *    status, a KeyValue's value) is merged;
 *  - AnyValue's members are a oneof: the last member given is the value.
 *    A member given twice is replaced, not merged. bool_value takes any of
 *    the four accepted wire types;
 *  - merging two KeyValue.value occurrences fails, and so does the whole
 *    unpack, when neither has a member set (protobuf-c looks up the field
 *    of oneof case 0). When only the earlier has one, the merge carries it
 *    over, except a string_value (its default is "" and the merge compares
 *    with that) or an empty bytes_value (NULL data): then the merged value
 *    has none, and a third empty occurrence fails. w_keyvalue models this;
 *  - the other merges (Resource, InstrumentationScope, Status) cannot fail;
 *  - strings are C strings to the unpack, so a name that starts with a
 *    NUL byte is empty; the walk reads it so too.
 *
 * Two differences on purpose: the walk refuses attribute values nested
 * deeper than LTB_OTLP_MAX_NESTING, and the unpack first walks for that
 * alone, because protobuf-c would recurse until its stack overflows; and
 * protobuf-c refuses a message of more than about 2^27 fields, which the
 * walk does not look for (such a body is hundreds of megabytes).
 *
 * The streaming walk (ltb_pbstream.h's reader) steps through the request,
 * its ResourceSpans and their ScopeSpans a key at a time, keeping where
 * each open one ends, and hands each leaf (Span, Resource,
 * InstrumentationScope) to its walker whole: in place when it lies in one
 * piece, else once gathered.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_trace.pb-c.h"
#include "core/ltb_hash.h"
#include "collector/ltb_dupset.h"
#include "collector/proto/ltb_otlp_walk.h"
#include "collector/proto/ltb_pbstream.h"
#include "collector/proto/ltb_pbwire.h"

static const char *const invalid_names[LTB_OTLP_NINVALID] = {
	"valid", "bad_trace_id", "bad_span_id", "bad_parent_span_id",
	"no_name", "end_before_start",
};

const char *
ltb_otlp_invalid_name(enum ltb_otlp_invalid why)
{
	if ((unsigned)why >= LTB_OTLP_NINVALID)
		return "unknown";
	return invalid_names[why];
}

uint64_t
ltb_otlp_key(const struct ltb_otlp_span *s)
{
	return ltb_dupset_key(ltb_mix64(s->trace_hi) ^ s->trace_lo,
	    s->span_id);
}

static const char E_MERGE[] =
    "an attribute value given twice, neither with a value";
static const char E_DEEP[] = "attribute values nested too deep";

static inline uint64_t
be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* ---- the message walkers (see ltb_pbwire.h for their shape) ----------- */

static const char *w_anyvalue(const uint8_t *p, const uint8_t *e,
    const uint8_t *lim, unsigned depth, unsigned *which, int *carries);
static const char *w_keyvalue(const uint8_t *p, const uint8_t *e,
    const uint8_t *lim, unsigned depth);

/* ArrayValue: its values are AnyValues at depth. */
static const char *
w_array(const uint8_t *p, const uint8_t *e, const uint8_t *lim,
    unsigned depth)
{
	uint64_t k;
	size_t n;
	unsigned w;
	int c;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_anyvalue(p, p + n, lim, depth, &w, &c));
			p += n;
			break;
		PB_OTHER(PB_F(1));
		}
	}
	return NULL;
}

/* KeyValueList: its values are KeyValues whose values are at depth. */
static const char *
w_kvlist(const uint8_t *p, const uint8_t *e, const uint8_t *lim,
    unsigned depth)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_keyvalue(p, p + n, lim, depth));
			p += n;
			break;
		PB_OTHER(PB_F(1));
		}
	}
	return NULL;
}

/*
 * AnyValue at nesting depth; *which is its oneof case (the field number
 * of the last member, 0 for none) and *carries whether a merge into a
 * later occurrence without a member keeps it (see the top of this file).
 */
static const char *
w_anyvalue(const uint8_t *p, const uint8_t *e, const uint8_t *lim,
    unsigned depth, unsigned *which, int *carries)
{
	uint64_t k;
	size_t n;
	unsigned c = 0;
	int bytes = 0;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			p += n;
			c = 1;
			break;
		case PB_K(2, PB_VAR):
			PB_SKIPVARINT();
			c = 2;
			break;
		case PB_K(2, PB_I64):
		case PB_K(2, PB_I32):
			PB_SKIPW((unsigned)k & 7);
			c = 2;
			break;
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			p += n;
			c = 2;
			break;
		case PB_K(3, PB_VAR):
			PB_SKIPVARINT();
			c = 3;
			break;
		case PB_K(4, PB_I64):
			PB_SKIPW(PB_I64);
			c = 4;
			break;
		case PB_K(5, PB_BYTES):
			PB_LEN(n);
			if (depth >= LTB_OTLP_MAX_NESTING)
				return E_DEEP;
			PB_SUB(w_array(p, p + n, lim, depth + 1));
			p += n;
			c = 5;
			break;
		case PB_K(6, PB_BYTES):
			PB_LEN(n);
			if (depth >= LTB_OTLP_MAX_NESTING)
				return E_DEEP;
			PB_SUB(w_kvlist(p, p + n, lim, depth + 1));
			p += n;
			c = 6;
			break;
		case PB_K(7, PB_BYTES):
			PB_LEN(n);
			p += n;
			c = 7;
			bytes = n > 0;
			break;
		/* bool_value (2) takes any wire type protobuf-c scans: those
		 * are its cases above; the others PB_OTHER refuses */
		PB_OTHER(PB_F(1) | PB_F(3) | PB_F(4) | PB_F(5) | PB_F(6) |
		    PB_F(7));
		}
	}
	*which = c;
	*carries = (c >= 2 && c <= 6) || (c == 7 && bytes);
	return NULL;
}

/*
 * The AnyValue most attributes are: one scalar member that fills it, with a
 * one-byte key (and length). Read here without a call; anything else goes
 * to w_anyvalue. Returns whether it did.
 */
static inline __attribute__((always_inline)) int
simple_anyvalue(const uint8_t *p, size_t n, unsigned *which, int *carries)
{
	size_t i;

	if (n < 2)
		return 0;
	/* the two members nearly every value is, before the switch */
	if (p[0] == PB_K(1, PB_BYTES)) {
		*which = 1;
		*carries = 0;
		return p[1] < 0x80 && (size_t)p[1] + 2 == n;
	}
	if (p[0] == PB_K(3, PB_VAR) && n == 2) {
		*which = 3;
		*carries = 1;
		return p[1] < 0x80;
	}
	switch (p[0]) {
	case PB_K(7, PB_BYTES):		/* bytes_value */
		if (p[1] >= 0x80 || (size_t)p[1] + 2 != n)
			return 0;
		*which = 7;
		*carries = p[1] > 0;
		return 1;
	case PB_K(2, PB_VAR):		/* bool_value */
	case PB_K(3, PB_VAR):		/* int_value */
		if (n > 11 || p[n - 1] >= 0x80)
			return 0;
		for (i = 1; i < n - 1; i++)
			if (p[i] < 0x80)
				return 0;
		*which = p[0] >> 3;
		*carries = 1;
		return 1;
	case PB_K(4, PB_I64):		/* double_value */
		if (n != 9)
			return 0;
		*which = 4;
		*carries = 1;
		return 1;
	}
	return 0;
}

/* KeyValue whose value is at depth; models the merge of a value given
 * more than once (see the top of this file). */
static const char *
w_keyvalue(const uint8_t *p, const uint8_t *e, const uint8_t *lim,
    unsigned depth)
{
	uint64_t k;
	size_t n;
	unsigned which, acc = 0;
	int carries, acc_carries = 0, seen = 0;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			if (!simple_anyvalue(p, n, &which, &carries))
				PB_SUB(w_anyvalue(p, p + n, lim, depth, &which,
				    &carries));
			p += n;
			if (seen && which == 0) {
				if (acc == 0)
					return E_MERGE;
				if (!acc_carries)
					acc = 0;
			} else {
				acc = which;
				acc_carries = carries;
			}
			seen = 1;
			break;
		PB_OTHER(PB_F(1) | PB_F(2));
		}
	}
	return NULL;
}

/* The KeyValue most attributes are, n bytes at p: a key and one simple
 * value, each with a one-byte key and length, filling it. Checked here
 * without a call; anything else goes to w_keyvalue. */
static inline __attribute__((always_inline)) int
simple_keyvalue(const uint8_t *p, size_t n)
{
	size_t kl, vl;
	unsigned which;
	int carries;

	/* below 128 bytes, a length inside that fits is below 128 */
	if (n < 4 || p[0] != PB_K(1, PB_BYTES) || (kl = p[1]) + 4 > n ||
	    (n >= 0x80 && kl >= 0x80))
		return 0;
	p += 2 + kl;
	n -= 2 + kl;
	if (p[0] != PB_K(2, PB_BYTES) || (vl = p[1]) + 2 != n ||
	    (n >= 0x80 && vl >= 0x80))
		return 0;
	return simple_anyvalue(p + 2, vl, &which, &carries);
}

/* The attributes of anything but an attribute value: a KeyValue at depth
 * 0. */
#define ATTRIBUTE() do { \
	PB_LEN(n); \
	if (!simple_keyvalue(p, n)) \
		PB_SUB(w_keyvalue(p, p + n, lim, 0)); \
	p += n; \
} while (0)

static const char *
w_event(const uint8_t *p, const uint8_t *e, const uint8_t *lim)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_I64):
			PB_SKIPW(PB_I64);
			break;
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(3, PB_BYTES):
			ATTRIBUTE();
			break;
		case PB_K(4, PB_VAR):
			PB_SKIPVARINT();
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3) | PB_F(4));
		}
	}
	return NULL;
}

/*
 * The Event most events are, n bytes at p: its time, its name and a run of
 * attributes, each simple_keyvalue, with one-byte keys and lengths, filling
 * it; n < 128, so every length inside that fits is one byte. Checked here
 * without a call; anything else goes to w_event.
 */
static inline __attribute__((always_inline)) int
simple_event(const uint8_t *p, size_t n)
{
	const uint8_t *e = p + n;
	size_t m;

	if (n < 11 || n >= 0x80 || p[0] != PB_K(1, PB_I64) ||
	    p[9] != PB_K(2, PB_BYTES) || (size_t)p[10] + 11 > n)
		return 0;
	for (p += 11 + p[10]; p < e; p += 2 + m)
		if (e - p < 2 || p[0] != PB_K(3, PB_BYTES) ||
		    (m = p[1]) + 2 > (size_t)(e - p) ||
		    !simple_keyvalue(p + 2, m))
			return 0;
	return 1;
}

static const char *
w_link(const uint8_t *p, const uint8_t *e, const uint8_t *lim)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
		case PB_K(2, PB_BYTES):
		case PB_K(3, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(4, PB_BYTES):
			ATTRIBUTE();
			break;
		case PB_K(5, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(6, PB_I32):
			PB_SKIPW(PB_I32);
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3) | PB_F(4) | PB_F(5) |
		    PB_F(6));
		}
	}
	return NULL;
}

static const char *
w_status(const uint8_t *p, const uint8_t *e)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(3, PB_VAR):
			PB_SKIPVARINT();
			break;
		PB_OTHER(PB_F(2) | PB_F(3));
		}
	}
	return NULL;
}

static const char *
w_resource(const uint8_t *p, const uint8_t *e, const uint8_t *lim)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			ATTRIBUTE();
			break;
		case PB_K(2, PB_VAR):
			PB_SKIPVARINT();
			break;
		PB_OTHER(PB_F(1) | PB_F(2));
		}
	}
	return NULL;
}

static const char *
w_scope(const uint8_t *p, const uint8_t *e, const uint8_t *lim)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(3, PB_BYTES):
			ATTRIBUTE();
			break;
		case PB_K(4, PB_VAR):
			PB_SKIPVARINT();
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3) | PB_F(4));
		}
	}
	return NULL;
}

/* The validation, shared by the walk and the unpack. */
static enum ltb_otlp_invalid
judge(size_t tlen, const uint8_t *t, size_t slen, const uint8_t *sp,
    size_t plen, int named, uint64_t start, uint64_t end)
{
	if (tlen != 16 || all_zero(t, 16))
		return LTB_OTLP_BAD_TRACE_ID;
	if (slen != 8 || all_zero(sp, 8))
		return LTB_OTLP_BAD_SPAN_ID;
	if (plen != 0 && plen != 8)
		return LTB_OTLP_BAD_PARENT_SPAN_ID;
	if (!named)
		return LTB_OTLP_NO_NAME;
	if (end < start)
		return LTB_OTLP_END_BEFORE_START;
	return LTB_OTLP_VALID;
}

static void
ids(struct ltb_otlp_span *s, size_t tlen, const uint8_t *t, size_t slen,
    const uint8_t *sp)
{
	s->trace_hi = tlen == 16 ? be64(t) : 0;
	s->trace_lo = tlen == 16 ? be64(t + 8) : 0;
	s->span_id = slen == 8 ? be64(sp) : 0;
}

static const char *
w_span(const uint8_t *p, const uint8_t *e, const uint8_t *lim,
    struct ltb_otlp_span *s)
{
	const uint8_t *t = NULL, *sp = NULL;
	size_t tlen = 0, slen = 0, plen = 0, n;
	uint64_t k, start = 0, end = 0;
	int named = 0;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			t = p;
			tlen = n;
			p += n;
			break;
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			sp = p;
			slen = n;
			p += n;
			break;
		case PB_K(4, PB_BYTES):
			PB_LEN(n);
			plen = n;
			p += n;
			break;
		case PB_K(5, PB_BYTES):
			PB_LEN(n);
			named = n && *p;	/* a C string: NUL ends it */
			p += n;
			break;
		case PB_K(3, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(6, PB_VAR):
		case PB_K(10, PB_VAR):
		case PB_K(12, PB_VAR):
		case PB_K(14, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(7, PB_I64):
			if (e - p < 8)
				return LTB_PB_E_SHORT;
			start = ltb_pb_fixed64(p);
			p += 8;
			break;
		case PB_K(8, PB_I64):
			if (e - p < 8)
				return LTB_PB_E_SHORT;
			end = ltb_pb_fixed64(p);
			p += 8;
			break;
		case PB_K(9, PB_BYTES):
			PB_LEN(n);
			do {
				if (!simple_keyvalue(p, n))
					PB_SUB(w_keyvalue(p, p + n, lim, 0));
				p += n;
			} while (PB_RUN(PB_K(9, PB_BYTES), n));
			break;
		case PB_K(11, PB_BYTES):
			PB_LEN(n);
			do {
				if (!simple_event(p, n))
					PB_SUB(w_event(p, p + n, lim));
				p += n;
			} while (PB_RUN(PB_K(11, PB_BYTES), n));
			break;
		case PB_K(13, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_link(p, p + n, lim));
			p += n;
			break;
		case PB_K(15, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_status(p, p + n));
			p += n;
			break;
		case PB_K(16, PB_I32):
			PB_SKIPW(PB_I32);
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3) | PB_F(4) | PB_F(5) |
		    PB_F(6) | PB_F(7) | PB_F(8) | PB_F(9) | PB_F(10) |
		    PB_F(11) | PB_F(12) | PB_F(13) | PB_F(14) | PB_F(15) |
		    PB_F(16));
		}
	}
	ids(s, tlen, t, slen, sp);
	s->invalid = judge(tlen, t, slen, sp, plen, named, start, end);
	return NULL;
}

/* ---- the streaming walk ------------------------------------------------ */

/*
 * ltb_pbstream.h's reader, told where the leaves are: the request's
 * resource_spans (1) and their scope_spans (2) are frames, stepped
 * through; a ResourceSpans' resource (1) and a ScopeSpans' scope (1) are
 * leaves, its spans (2) the items counted; schema_url (3), known at both
 * levels, is skipped.
 */
static const char E_LARGE[] = "a span, resource or scope longer than max_field";

enum { T_RESOURCE = 1, T_SCOPE, T_SPAN };

static const struct ltb_pbfield otlp_fields[] = {
	/* depth, wire, role, field, tag */
	{ 0, PB_BYTES, LTB_PB_FRAME, 1, 0 },
	{ 1, PB_BYTES, LTB_PB_LEAF, 1, T_RESOURCE },
	{ 1, PB_BYTES, LTB_PB_FRAME, 2, 0 },
	{ 1, PB_BYTES, LTB_PB_SKIP, 3, 0 },
	{ 2, PB_BYTES, LTB_PB_LEAF, 1, T_SCOPE },
	{ 2, PB_BYTES, LTB_PB_ITEM, 2, T_SPAN },
	{ 2, PB_BYTES, LTB_PB_SKIP, 3, 0 },
	{ 0, 0, 0, 0, 0 },
};

/* What a feed hands the leaves: the caller's callback. */
struct feed {
	ltb_otlp_span_fn *fn;
	void *ctx;
};

/* Walk a leaf, n bytes at p; a span goes to fn. */
static const char *
leaf(void *ctx, int tag, const uint8_t *p, size_t n, const uint8_t *lim)
{
	const struct feed *f = ctx;
	struct ltb_otlp_span sp;
	const char *r;

	switch (tag) {
	case T_RESOURCE:
		return w_resource(p, p + n, lim);
	case T_SCOPE:
		return w_scope(p, p + n, lim);
	}
	if ((r = w_span(p, p + n, lim, &sp)) == NULL && f->fn != NULL)
		f->fn(f->ctx, &sp);
	return r;
}

static const struct ltb_pbschema otlp_schema = {
	otlp_fields, leaf, E_LARGE,
};

/* Copy out what the header says callers may read. */
static int
publish(struct ltb_otlp_stream *s, int rc)
{
	s->spans = s->r.items;
	s->why = s->r.why;
	s->held = s->r.held.buf;
	s->capheld = s->r.held.cap;
	return rc;
}

void
ltb_otlp_stream_init(struct ltb_otlp_stream *s, size_t max_field)
{
	ltb_pbstream_init(&s->r, &otlp_schema, max_field);
	publish(s, 0);
}

void
ltb_otlp_stream_budget(struct ltb_otlp_stream *s, struct ltb_budget *b)
{
	ltb_pbstream_budget(&s->r, b);
}

void
ltb_otlp_stream_free(struct ltb_otlp_stream *s)
{
	ltb_pbstream_free(&s->r);
	publish(s, 0);
}

int
ltb_otlp_stream_feed(struct ltb_otlp_stream *s, const uint8_t *p, size_t n,
    ltb_otlp_span_fn *fn, void *ctx)
{
	struct feed f = { fn, ctx };

	return publish(s, ltb_pbstream_feed(&s->r, p, n, &f));
}

int
ltb_otlp_stream_end(struct ltb_otlp_stream *s)
{
	return publish(s, ltb_pbstream_end(&s->r));
}

long
ltb_otlp_walk(const uint8_t *p, size_t n, ltb_otlp_span_fn *fn, void *ctx,
    const char **why)
{
	struct ltb_otlp_stream s;
	int rc;

	ltb_otlp_stream_init(&s, (size_t)-1);
	rc = ltb_otlp_stream_feed(&s, p, n, fn, ctx);
	if (rc >= 0)
		rc = ltb_otlp_stream_end(&s);
	ltb_otlp_stream_free(&s);
	if (rc < 0) {
		if (why != NULL)
			*why = s.why;
		return -1;
	}
	return (long)s.spans;
}

/* ---- the unpack -------------------------------------------------------- */

typedef Ltb__Otlp__Span Span;

/* Does the walk refuse p for nesting alone? Then protobuf-c must not see
 * it. */
static int
too_deep(const uint8_t *p, size_t n)
{
	const char *why = NULL;

	return ltb_otlp_walk(p, n, NULL, NULL, &why) < 0 && why == E_DEEP;
}

long
ltb_otlp_unpack(const uint8_t *p, size_t n, ltb_otlp_span_fn *fn, void *ctx,
    const char **why)
{
	return ltb_otlp_unpack_in(p, n, NULL, fn, ctx, why);
}

long
ltb_otlp_unpack_in(const uint8_t *p, size_t n, struct ltb_budget *b,
    ltb_otlp_span_fn *fn, void *ctx, const char **why)
{
	Ltb__Otlp__ExportTraceServiceRequest *r;
	struct ltb_pballoc a;
	struct ltb_otlp_span s;
	size_t i, j, k;
	long spans = 0;

	if (too_deep(p, n)) {
		if (why != NULL)
			*why = E_DEEP;
		return -1;
	}
	ltb_pballoc_init(&a, b);
	r = ltb__otlp__export_trace_service_request__unpack(&a.pc, n, p);
	if (r == NULL) {
		if (why != NULL)
			*why = a.refused ? LTB_BUDGET_WHY :
			    "protobuf-c refused the request";
		return a.refused ? LTB_OTLP_BUSY : -1;
	}
	for (i = 0; i < r->n_resource_spans; i++) {
		const Ltb__Otlp__ResourceSpans *rs = r->resource_spans[i];

		for (j = 0; j < rs->n_scope_spans; j++) {
			const Ltb__Otlp__ScopeSpans *ss = rs->scope_spans[j];

			for (k = 0; k < ss->n_spans; k++) {
				const Span *sp = ss->spans[k];

				ids(&s, sp->trace_id.len, sp->trace_id.data,
				    sp->span_id.len, sp->span_id.data);
				s.invalid = judge(sp->trace_id.len,
				    sp->trace_id.data, sp->span_id.len,
				    sp->span_id.data, sp->parent_span_id.len,
				    sp->name != NULL && sp->name[0] != '\0',
				    sp->start_time_unix_nano,
				    sp->end_time_unix_nano);
				spans++;
				if (fn != NULL)
					fn(ctx, &s);
			}
		}
	}
	ltb__otlp__export_trace_service_request__free_unpacked(r, &a.pc);
	return spans;
}
