/*
 * ltb_otlp_walk.c: reading OTLP trace export requests, protobuf, two ways.
 *
 * The walk reads the wire format directly (ltb_pbwire.h): no allocation
 * for a span that arrives in one piece, no copy, strings skipped by length,
 * one small function per message type. It is ltb-satellite's hot path for
 * OTLP, so it decodes only what validation needs (the span's ids, name and
 * times) and merely frame-checks the rest.
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
 * The streaming walk steps through the request, its ResourceSpans and
 * their ScopeSpans a key at a time, keeping where each open one ends, and
 * hands each leaf (Span, Resource, InstrumentationScope) to its walker
 * whole: in place when it lies in one piece, else once gathered.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_trace.pb-c.h"
#include "core/ltb_hash.h"
#include "collector/ltb_dupset.h"
#include "collector/proto/ltb_otlp_walk.h"
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
	switch (p[0]) {
	case PB_K(1, PB_BYTES):		/* string_value */
	case PB_K(7, PB_BYTES):		/* bytes_value */
		if (p[1] >= 0x80 || (size_t)p[1] + 2 != n)
			return 0;
		*which = p[0] >> 3;
		*carries = p[0] == PB_K(7, PB_BYTES) && p[1] > 0;
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

	if (n < 4 || p[0] != PB_K(1, PB_BYTES) || (kl = p[1]) >= 0x80 ||
	    kl + 4 > n)
		return 0;
	p += 2 + kl;
	n -= 2 + kl;
	if (p[0] != PB_K(2, PB_BYTES) || (vl = p[1]) >= 0x80 || vl + 2 != n)
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
			ATTRIBUTE();
			break;
		case PB_K(11, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_event(p, p + n, lim));
			p += n;
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
 * A byte-at-a-time state machine for the keys and lengths of the request,
 * its ResourceSpans and their ScopeSpans, which are a few bytes per span,
 * and the in-place walkers above for the leaves.
 */
enum {
	S_KEY,		/* reading a key; shift = bits read so far */
	S_LEN,		/* reading a length prefix */
	S_VARINT,	/* skipping a varint value; shift counts its bytes */
	S_SKIP,		/* skipping `left` bytes */
	S_HOLD,		/* gathering `left` more bytes of a leaf */
};

/* What a length-delimited field is, by depth and field number. */
enum { F_UNKNOWN, F_FRAME, F_LEAF_RESOURCE, F_LEAF_SCOPE, F_LEAF_SPAN };

static const char E_TRUNC[] = "truncated body";
static const char E_LARGE[] = "a span, resource or scope longer than max_field";
static const char E_NOMEM[] = "out of memory holding a field";

/* Known fields of the request (depth 0), ResourceSpans (1), ScopeSpans (2):
 * all are length-delimited. */
static int
known(unsigned depth, uint32_t f)
{
	return depth == 0 ? f == 1 : f >= 1 && f <= 3;
}

static int
kind_of(unsigned depth, uint32_t f)
{
	switch (depth) {
	case 0:
		return f == 1 ? F_FRAME : F_UNKNOWN;
	case 1:
		return f == 1 ? F_LEAF_RESOURCE : f == 2 ? F_FRAME : F_UNKNOWN;
	default:
		return f == 1 ? F_LEAF_SCOPE : f == 2 ? F_LEAF_SPAN : F_UNKNOWN;
	}
}

/* Walk a leaf of depth's field f, n bytes at p; a span goes to fn. */
static const char *
leaf(struct ltb_otlp_stream *s, const uint8_t *p, size_t n,
    const uint8_t *lim, ltb_otlp_span_fn *fn, void *ctx)
{
	struct ltb_otlp_span sp;
	const char *r;

	switch (kind_of(s->depth, s->field)) {
	case F_LEAF_RESOURCE:
		return w_resource(p, p + n, lim);
	case F_LEAF_SCOPE:
		return w_scope(p, p + n, lim);
	case F_LEAF_SPAN:
		if ((r = w_span(p, p + n, lim, &sp)) != NULL)
			return r;
		s->spans++;
		if (fn != NULL)
			fn(ctx, &sp);
		return NULL;
	}
	return NULL;
}

void
ltb_otlp_stream_init(struct ltb_otlp_stream *s, size_t max_field)
{
	memset(s, 0, sizeof *s);
	s->state = S_KEY;
	s->max_field = max_field;
}

void
ltb_otlp_stream_free(struct ltb_otlp_stream *s)
{
	free(s->held);
	s->held = NULL;
	s->nheld = s->capheld = 0;
}

static int
stream_fail(struct ltb_otlp_stream *s, int code, const char *why)
{
	s->failed = code;
	s->why = why;
	return code;
}

/* Make room to hold need bytes of a leaf of total bytes. Room grows with
 * the bytes that actually arrive, not with the length the body claims. */
static int
hold_room(struct ltb_otlp_stream *s, size_t need, size_t total)
{
	size_t cap;
	uint8_t *h;

	if (s->capheld >= need)
		return 0;
	cap = s->capheld ? s->capheld * 2 : 4096;
	if (cap < need)
		cap = need;
	if (cap > total)
		cap = total;
	if ((h = realloc(s->held, cap)) == NULL)
		return -1;
	s->held = h;
	s->capheld = cap;
	return 0;
}

/* Close the frames that end here. */
static void
pop(struct ltb_otlp_stream *s)
{
	while (s->depth > 0 && s->pos == s->end[s->depth])
		s->depth--;
}

/* Is the byte just read the last of the open frame (so a varint that
 * goes on runs out of its message)? */
static int
at_frame_end(const struct ltb_otlp_stream *s)
{
	return s->depth > 0 && s->pos == s->end[s->depth];
}

/* Does a field of n more bytes fit in the open frame? The request's own
 * end is only known at ltb_otlp_stream_end. */
static int
fits(const struct ltb_otlp_stream *s, uint64_t n)
{
	return s->depth == 0 || n <= s->end[s->depth] - s->pos;
}

int
ltb_otlp_stream_feed(struct ltb_otlp_stream *s, const uint8_t *p, size_t n,
    ltb_otlp_span_fn *fn, void *ctx)
{
	const uint8_t *e;
	const char *r;
	uint64_t before = s->spans;
	size_t k;
	uint8_t b;

	if (s->failed)
		return s->failed;
	if (n == 0)
		return 0;	/* p may be NULL */
	e = p + n;
	while (p < e) {
		switch (s->state) {
		case S_KEY:
			if (s->shift == 0) {
				pop(s);
				b = *p++;
				s->pos++;
				if ((b & 0xf8) == 0)
					return stream_fail(s, LTB_OTLP_MALFORMED,
					    LTB_PB_E_KEY);
				s->acc = 0;
			} else {
				b = *p++;
				s->pos++;
			}
			s->acc |= (uint64_t)(b & 0x7f) << s->shift;
			s->shift += 7;
			if (b & 0x80) {
				if (s->shift == 35 || at_frame_end(s))
					return stream_fail(s, LTB_OTLP_MALFORMED,
					    LTB_PB_E_KEY);
				break;
			}
			s->field = (uint32_t)(s->acc >> 3);
			s->wire = s->acc & 7;
			s->shift = 0;
			s->acc = 0;
			if (known(s->depth, s->field) && s->wire != PB_BYTES)
				return stream_fail(s, LTB_OTLP_MALFORMED,
				    LTB_PB_E_WIRE);
			/* a varint or a length needs a byte of its own */
			if ((s->wire == PB_VAR || s->wire == PB_BYTES) &&
			    at_frame_end(s))
				return stream_fail(s, LTB_OTLP_MALFORMED,
				    s->wire == PB_VAR ? LTB_PB_E_VARINT :
				    LTB_PB_E_LEN);
			switch (s->wire) {
			case PB_VAR:
				s->state = S_VARINT;
				break;
			case PB_I64:
			case PB_I32:
				s->left = s->wire == PB_I64 ? 8 : 4;
				if (!fits(s, s->left))
					return stream_fail(s, LTB_OTLP_MALFORMED,
					    LTB_PB_E_SHORT);
				s->state = S_SKIP;
				break;
			case PB_BYTES:
				s->state = S_LEN;
				break;
			default:
				return stream_fail(s, LTB_OTLP_MALFORMED,
				    LTB_PB_E_WIRETYPE);
			}
			break;
		case S_VARINT:
			b = *p++;
			s->pos++;
			s->shift++;
			if (!(b & 0x80)) {
				s->shift = 0;
				s->state = S_KEY;
			} else if (s->shift == 10 || at_frame_end(s)) {
				return stream_fail(s, LTB_OTLP_MALFORMED,
				    LTB_PB_E_VARINT);
			}
			break;
		case S_LEN:
			b = *p++;
			s->pos++;
			s->acc |= (uint64_t)(b & 0x7f) << s->shift;
			s->shift += 7;
			if (b & 0x80) {
				if (s->shift == 35 || at_frame_end(s))
					return stream_fail(s, LTB_OTLP_MALFORMED,
					    LTB_PB_E_LEN);
				break;
			}
			s->left = s->acc;
			s->acc = 0;
			s->shift = 0;
			if (s->left > INT_MAX || !fits(s, s->left))
				return stream_fail(s, LTB_OTLP_MALFORMED,
				    LTB_PB_E_LEN);
			switch (kind_of(s->depth, s->field)) {
			case F_UNKNOWN:
				s->state = s->left ? S_SKIP : S_KEY;
				break;
			case F_FRAME:
				s->depth++;
				s->end[s->depth] = s->pos + s->left;
				s->state = S_KEY;
				break;
			default:
				/* Refused whether or not it straddles, so the
				 * verdict does not depend on the cuts. */
				if (s->left > s->max_field)
					return stream_fail(s, LTB_OTLP_TOO_LARGE,
					    E_LARGE);
				if ((size_t)(e - p) >= s->left) {
					r = leaf(s, p, (size_t)s->left, e, fn,
					    ctx);
					if (r != NULL)
						return stream_fail(s,
						    LTB_OTLP_MALFORMED, r);
					p += s->left;
					s->pos += s->left;
					s->state = S_KEY;
					break;
				}
				s->nheld = 0;
				s->state = S_HOLD;
			}
			break;
		case S_SKIP:
			k = (size_t)(e - p) < s->left ? (size_t)(e - p) :
			    (size_t)s->left;
			p += k;
			s->pos += k;
			s->left -= k;
			if (s->left == 0)
				s->state = S_KEY;
			break;
		case S_HOLD:
			k = (size_t)(e - p) < s->left ? (size_t)(e - p) :
			    (size_t)s->left;
			if (hold_room(s, s->nheld + k,
			    s->nheld + (size_t)s->left) < 0)
				return stream_fail(s, LTB_OTLP_TOO_LARGE,
				    E_NOMEM);
			memcpy(s->held + s->nheld, p, k);
			s->nheld += k;
			p += k;
			s->pos += k;
			s->left -= k;
			if (s->left)
				break;
			r = leaf(s, s->held, s->nheld, s->held + s->nheld, fn,
			    ctx);
			if (r != NULL)
				return stream_fail(s, LTB_OTLP_MALFORMED, r);
			s->nheld = 0;
			s->state = S_KEY;
			break;
		}
	}
	return (int)(s->spans - before > INT_MAX ? INT_MAX :
	    s->spans - before);
}

int
ltb_otlp_stream_end(struct ltb_otlp_stream *s)
{
	if (s->failed)
		return s->failed;
	if (s->state != S_KEY || s->shift != 0)
		return stream_fail(s, LTB_OTLP_MALFORMED, E_TRUNC);
	pop(s);
	if (s->depth != 0)
		return stream_fail(s, LTB_OTLP_MALFORMED, E_TRUNC);
	return 0;
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
	Ltb__Otlp__ExportTraceServiceRequest *r;
	struct ltb_otlp_span s;
	size_t i, j, k;
	long spans = 0;

	if (too_deep(p, n)) {
		if (why != NULL)
			*why = E_DEEP;
		return -1;
	}
	r = ltb__otlp__export_trace_service_request__unpack(NULL, n, p);
	if (r == NULL) {
		if (why != NULL)
			*why = "protobuf-c refused the request";
		return -1;
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
	ltb__otlp__export_trace_service_request__free_unpacked(r, NULL);
	return spans;
}
