/*
 * ltb_lightstep_walk.c: reading LightStep collector reports, two ways.
 *
 * The walk reads the protobuf wire format directly: no allocation, no copy,
 * string bytes skipped by length, one small function per message type. It
 * is the hot path of ltb-satellite (well over a million spans a second), so
 * it decodes only what validation needs and merely frame-checks the rest.
 * The layouts every tracer sends (a span's tags and logs, their timestamps
 * and key-values, its span contexts) have fast paths that check them byte
 * for byte without a loop or a call; the span reads its tags and logs in
 * runs; any other layout goes to the general walkers, which read anything.
 * Both give the same answer on every input (test_lightstep_walk's edge
 * cases, the fuzz targets).
 *
 * It must accept exactly what protobuf-c 1.4.1's generated unpacker
 * accepts, because that unpacker is its oracle. The wire rules (keys,
 * varints, lengths, wire types) are those of ltb_pbwire.h, which this walk
 * shares with OTLP's; confirmed for this schema by probing the library (see
 * tests/unit/test_lightstep_walk.c, tests/fuzz/fuzz_report.c). Beyond them:
 *
 *  - a bool (KeyValue.bool_value) takes any of the four accepted wire types;
 *  - a singular message given twice is merged, and the merge keeps the
 *    later occurrence's scalars even where they are absent (0): so a span's
 *    span_context ids, and a timestamp's seconds and nanos, are those of
 *    its last occurrence; within one occurrence the last value wins;
 *  - unknown fields are only framed; there are no required fields.
 *
 * One difference is left on purpose: protobuf-c refuses a message of more
 * than about 2^27 fields (its scan tables run out); the walk does not look
 * for that, as such a body is hundreds of megabytes.
 *
 * The unpacked strings are C strings, so to the unpack a key or operation
 * name that starts with a NUL byte is empty; the walk reads it so too.
 *
 * The streaming walk is ltb_pbstream.h's reader, told which top-level
 * fields are leaves for the walkers here.
 *
 * The unpack does the same job with protobuf-c and validates the unpacked
 * structs; tests and `--validate full` use it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lightstep_collector.pb-c.h"
#include "collector/proto/ltb_lightstep_walk.h"
#include "collector/proto/ltb_pbstream.h"
#include "collector/proto/ltb_pbwire.h"

static const char *const invalid_names[LTB_LS_NINVALID] = {
	"valid", "no_context", "zero_trace_id", "zero_span_id",
	"no_operation", "no_start", "bad_timestamp", "bad_reference",
	"empty_key",
};

const char *
ltb_ls_invalid_name(enum ltb_ls_invalid why)
{
	if ((unsigned)why >= LTB_LS_NINVALID)
		return "unknown";
	return invalid_names[why];
}

/* The wire primitives and walker macros are ltb_pbwire.h's. */

/* Timestamp; *bad says whether it breaks the [0, 1e9) nanos, >= 0 seconds
 * rule. */
static const char *
w_timestamp(const uint8_t *p, const uint8_t *e, const uint8_t *lim, int *bad)
{
	uint64_t sec = 0, nanos = 0, k;
	int32_t ns;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_VAR):
			PB_VARINT(sec);
			break;
		case PB_K(2, PB_VAR):
			PB_VARINT(nanos);
			break;
		PB_OTHER(PB_F(1) | PB_F(2));
		}
	}
	/* int32 nanos is the low 32 bits of the varint, as protobuf-c reads */
	ns = (int32_t)(uint32_t)nanos;
	*bad = (int64_t)sec < 0 || ns < 0 || ns >= 1000000000;
	return NULL;
}

/* A map<string, string> entry of SpanContext.baggage. */
static const char *
w_baggage(const uint8_t *p, const uint8_t *e)
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
		PB_OTHER(PB_F(1) | PB_F(2));
		}
	}
	return NULL;
}

static const char *
w_context(const uint8_t *p, const uint8_t *e, const uint8_t *lim,
    uint64_t *trace, uint64_t *span)
{
	uint64_t k, t = 0, s = 0;
	size_t n;

	/* a later occurrence replaces even the ids it lacks (see top) */
	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_VAR):
			PB_VARINT(t);
			break;
		case PB_K(2, PB_VAR):
			PB_VARINT(s);
			break;
		case PB_K(3, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_baggage(p, p + n));
			p += n;
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3));
		}
	}
	*trace = t;
	*span = s;
	return NULL;
}

/* KeyValue; *empty says whether its key is empty or absent. */
static const char *
w_keyvalue(const uint8_t *p, const uint8_t *e, int *empty)
{
	uint64_t k;
	size_t n;
	int haskey = 0;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			haskey = n && *p;	/* a C string: NUL ends it */
			p += n;
			break;
		case PB_K(2, PB_BYTES):
		case PB_K(6, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(3, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(4, PB_I64):
			PB_SKIPW(PB_I64);
			break;
		/* bool_value (5) takes any wire type protobuf-c scans, so it
		 * is left to OTHER */
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3) | PB_F(4) | PB_F(6));
		}
	}
	*empty = !haskey;
	return NULL;
}

static const char *
w_log(const uint8_t *p, const uint8_t *e, const uint8_t *lim, int *badts,
    int *empty)
{
	uint64_t k;
	size_t n;
	int bad = 0, emp = 0, x;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_timestamp(p, p + n, lim, &bad));
			p += n;
			break;
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_keyvalue(p, p + n, &x));
			emp |= x;
			p += n;
			break;
		PB_OTHER(PB_F(1) | PB_F(2));
		}
	}
	*badts = bad;
	*empty = emp;
	return NULL;
}

/*
 * The fast paths: the layouts every tracer sends, read without a loop or a
 * call and checked byte for byte. Each returns what its message says, or
 * -1 for any other layout, which is then left to the general walker above
 * (it reads everything). Each takes messages of 4 <= n < 128 bytes only
 * (FAST_N), so that a length inside that fits is below 128 and is one
 * byte. Each reads only inside the n bytes at p, with two exceptions: the
 * 8-byte words of ltb_pb_varlen8 and ltb_pb_fixed64, which timestamps
 * take only when the span is told there is room (ROOM bytes readable past
 * its end), and ltb_pb_varint's, which checks for itself.
 *
 * A *_layout function is the check alone, for a caller that has checked n
 * and the room itself: the log, whose fields are inside its own n.
 */
#define FAST_N(n) ((size_t)(n) - 4 < 0x80 - 4)
#define ROOM 18		/* a timestamp's key, 8 bytes, a key, 8 bytes */

/* A Timestamp of seconds then nanos, each a varint of at most 8 bytes
 * (so seconds are not negative), filling n bytes at p: whether it is bad,
 * as w_timestamp says. */
static inline __attribute__((always_inline)) int
timestamp_layout(const uint8_t *p, size_t n)
{
	uint64_t w, stop;
	unsigned sl;

	if (p[0] != PB_K(1, PB_VAR))
		return -1;
	sl = ltb_pb_varlen8(p + 1);
	if (sl == 0 || sl + 3 > n || p[1 + sl] != PB_K(2, PB_VAR))
		return -1;
	p += 2 + sl;
	w = ltb_pb_fixed64(p);
	stop = ~w & 0x8080808080808080u;
	if (stop == 0 || 2 + sl + __builtin_ctzll(stop) / 8 + 1 != n)
		return -1;
	/*
	 * int32 nanos are the low 32 bits: base-128 digits d0..d4 in the
	 * first 5 bytes, d4 cut to 4 bits; negative ones are >= 1e9
	 * unsigned. Digits below 128 compare in order, so with each in its
	 * byte the word compares as the number does: 1e9 is 3, 92, 107, 20,
	 * 0 (d4..d0), 0x035c6b1400.
	 */
	w &= (stop ^ (stop - 1)) & 0x0f7f7f7f7fu;
	return w >= 0x035c6b1400u;
}

static inline __attribute__((always_inline)) int
fast_timestamp(const uint8_t *p, size_t n, int room)
{
	return room && FAST_N(n) ? timestamp_layout(p, n) : -1;
}

/* A KeyValue of a key then one value (string, int, double, bool or JSON),
 * each with a one-byte key, filling n bytes at p: whether its key is
 * empty, as w_keyvalue says. Two bytes at p must be readable. */
static inline __attribute__((always_inline)) int
keyvalue_layout(const uint8_t *p, size_t n)
{
	size_t kl, m, i;
	int empty;

	if (p[0] != PB_K(1, PB_BYTES) || (kl = p[1]) + 4 > n)
		return -1;
	empty = (kl == 0) | (p[2] == 0);	/* a C string: NUL ends it */
	p += 2 + kl;
	m = n - 2 - kl;
	if (__builtin_expect(p[0] == PB_K(2, PB_BYTES), 1))
		return (size_t)p[1] + 2 == m ? empty : -1;
	switch (p[0]) {
	case PB_K(6, PB_BYTES):
		return (size_t)p[1] + 2 == m ? empty : -1;
	case PB_K(3, PB_VAR):
	case PB_K(5, PB_VAR):
		if (m > 11 || p[m - 1] >= 0x80)
			return -1;
		for (i = 1; i < m - 1; i++)
			if (p[i] < 0x80)
				return -1;
		return empty;
	case PB_K(4, PB_I64):
		return m == 9 ? empty : -1;
	}
	return -1;
}

static inline __attribute__((always_inline)) int
fast_keyvalue(const uint8_t *p, size_t n)
{
	return FAST_N(n) ? keyvalue_layout(p, n) : -1;
}

/* A Log of a timestamp then one field, both fast, filling n bytes at p:
 * LOG_BADTS and LOG_EMPTY, as w_log says. Its field is last: when it is
 * empty, its two bytes are past the log, inside the room. */
enum { LOG_BADTS = 1, LOG_EMPTY = 2 };

static inline __attribute__((always_inline)) int
fast_log(const uint8_t *p, size_t n, int room)
{
	size_t tl;
	int bad, empty;

	/* with room, p[1] can be read, and n < 4 fails below */
	if (!room || n >= 0x80 || p[0] != PB_K(1, PB_BYTES) ||
	    (tl = p[1]) + 4 > n || p[2 + tl] != PB_K(2, PB_BYTES) ||
	    tl + p[3 + tl] + 4 != n)
		return -1;
	if ((bad = timestamp_layout(p + 2, tl)) < 0 ||
	    (empty = keyvalue_layout(p + 4 + tl, p[3 + tl])) < 0)
		return -1;
	return bad * LOG_BADTS | empty * LOG_EMPTY;
}

/* A SpanContext of trace_id then span_id, filling n bytes at p: 0 and
 * its ids, as w_context gives them. */
static inline __attribute__((always_inline)) int
fast_context(const uint8_t *p, size_t n, const uint8_t *lim,
    uint64_t *trace, uint64_t *span)
{
	struct ltb_pb_cur t, sp;

	if (!FAST_N(n) || p[0] != PB_K(1, PB_VAR))
		return -1;
	t = ltb_pb_varint(p + 1, p + n, lim);
	if (t.p == NULL || t.p == p + n || t.p[0] != PB_K(2, PB_VAR))
		return -1;
	sp = ltb_pb_varint(t.p + 1, p + n, lim);
	if (sp.p != p + n)
		return -1;
	*trace = t.v;
	*span = sp.v;
	return 0;
}

/* A Reference of a relationship (or none) then a fast span_context,
 * filling n bytes at p: whether it is bad, as w_reference says. */
static inline __attribute__((always_inline)) int
fast_reference(const uint8_t *p, size_t n, const uint8_t *lim)
{
	uint64_t trace, span;

	if (!FAST_N(n))
		return -1;
	if (p[0] == PB_K(1, PB_VAR) && p[1] < 0x80) {
		p += 2;
		n -= 2;
	}
	if (n < 2 || p[0] != PB_K(2, PB_BYTES) || (size_t)p[1] + 2 != n ||
	    fast_context(p + 2, p[1], lim, &trace, &span) < 0)
		return -1;
	return span == 0;
}

/* Reference; *bad unless it has a span_context with a nonzero span_id. */
static const char *
w_reference(const uint8_t *p, const uint8_t *e, const uint8_t *lim, int *bad)
{
	uint64_t k, trace, span = 0;
	size_t n;
	int has = 0;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_context(p, p + n, lim, &trace, &span));
			has = 1;
			p += n;
			break;
		PB_OTHER(PB_F(1) | PB_F(2));
		}
	}
	*bad = !has || span == 0;
	return NULL;
}

/* A span; tags and logs come in runs, each read in a loop of its own. */
static const char *
w_span(const uint8_t *p, const uint8_t *e, const uint8_t *lim,
    struct ltb_ls_span *s)
{
	uint64_t k, trace = 0, span = 0;
	size_t n;
	int hasop = 0, has_ctx = 0, has_start = 0, bad_start = 0, bad_ref = 0;
	int empty = 0, logs = 0, x, y, z;
	int room = lim - e >= ROOM;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			if (fast_context(p, n, lim, &trace, &span) < 0)
				PB_SUB(w_context(p, p + n, lim, &trace, &span));
			has_ctx = 1;
			p += n;
			break;
		case PB_K(2, PB_BYTES):
			PB_LEN(n);
			hasop = n && *p;	/* a C string: NUL ends it */
			p += n;
			break;
		case PB_K(3, PB_BYTES):
			PB_LEN(n);
			if ((x = fast_reference(p, n, lim)) < 0)
				PB_SUB(w_reference(p, p + n, lim, &x));
			bad_ref |= x;
			p += n;
			break;
		case PB_K(4, PB_BYTES):
			PB_LEN(n);
			if ((bad_start = fast_timestamp(p, n, room)) < 0)
				PB_SUB(w_timestamp(p, p + n, lim, &bad_start));
			has_start = 1;
			p += n;
			break;
		case PB_K(5, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(6, PB_BYTES):
			PB_LEN(n);
			do {
				if ((x = fast_keyvalue(p, n)) < 0)
					PB_SUB(w_keyvalue(p, p + n, &y));
				empty |= x < 0 ? y : x;
				p += n;
			} while (PB_RUN(PB_K(6, PB_BYTES), n));
			break;
		case PB_K(7, PB_BYTES):
			PB_LEN(n);
			do {
				if ((x = fast_log(p, n, room)) < 0) {
					PB_SUB(w_log(p, p + n, lim, &y, &z));
					x = y * LOG_BADTS | z * LOG_EMPTY;
				}
				logs |= x;
				p += n;
			} while (PB_RUN(PB_K(7, PB_BYTES), n));
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3) | PB_F(4) | PB_F(5) |
		    PB_F(6) | PB_F(7));
		}
	}
	s->trace_id = trace;
	s->span_id = span;
	if (!has_ctx)
		s->invalid = LTB_LS_NO_CONTEXT;
	else if (trace == 0)
		s->invalid = LTB_LS_ZERO_TRACE_ID;
	else if (span == 0)
		s->invalid = LTB_LS_ZERO_SPAN_ID;
	else if (!hasop)
		s->invalid = LTB_LS_NO_OPERATION;
	else if (!has_start)
		s->invalid = LTB_LS_NO_START;
	else if (bad_start || (logs & LOG_BADTS))
		s->invalid = LTB_LS_BAD_TIMESTAMP;
	else if (bad_ref)
		s->invalid = LTB_LS_BAD_REFERENCE;
	else if (empty || (logs & LOG_EMPTY))
		s->invalid = LTB_LS_EMPTY_KEY;
	else
		s->invalid = LTB_LS_VALID;
	return NULL;
}

static const char *
w_reporter(const uint8_t *p, const uint8_t *e)
{
	uint64_t k;
	size_t n;
	int x;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(4, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_keyvalue(p, p + n, &x));
			p += n;
			break;
		PB_OTHER(PB_F(1) | PB_F(4));
		}
	}
	return NULL;
}

static const char *
w_auth(const uint8_t *p, const uint8_t *e)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		PB_OTHER(PB_F(1));
		}
	}
	return NULL;
}

static const char *
w_sample(const uint8_t *p, const uint8_t *e)
{
	uint64_t k;
	size_t n;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			p += n;
			break;
		case PB_K(2, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(3, PB_I64):
			PB_SKIPW(PB_I64);
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3));
		}
	}
	return NULL;
}

static const char *
w_metrics(const uint8_t *p, const uint8_t *e, const uint8_t *lim)
{
	uint64_t k;
	size_t n;
	int x, y;

	while (p < e) {
		PB_KEY();
		switch (k) {
		case PB_K(1, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_timestamp(p, p + n, lim, &x));
			p += n;
			break;
		case PB_K(2, PB_VAR):
			PB_SKIPVARINT();
			break;
		case PB_K(3, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_log(p, p + n, lim, &x, &y));
			p += n;
			break;
		case PB_K(4, PB_BYTES):
		case PB_K(5, PB_BYTES):
			PB_LEN(n);
			PB_SUB(w_sample(p, p + n));
			p += n;
			break;
		PB_OTHER(PB_F(1) | PB_F(2) | PB_F(3) | PB_F(4) | PB_F(5));
		}
	}
	return NULL;
}

/* ReportRequest's length-delimited known fields, walked whole: field f's
 * n bytes at p. Calls fn for a span. */
static const char *
w_top(uint32_t f, const uint8_t *p, size_t n, const uint8_t *lim,
    ltb_ls_span_fn *fn, void *ctx, int *isspan)
{
	struct ltb_ls_span s;

	*isspan = 0;
	switch (f) {
	case 1:
		return w_reporter(p, p + n);
	case 2:
		return w_auth(p, p + n);
	case 3:
		PB_SUB(w_span(p, p + n, lim, &s));
		*isspan = 1;
		if (fn != NULL)
			fn(ctx, &s);
		return NULL;
	case 6:
		return w_metrics(p, p + n, lim);
	}
	return NULL;
}

/* Which ReportRequest fields are known, and their wire type. */
static int
top_known(uint32_t f)
{
	return f == 1 || f == 2 || f == 3 || f == 5 || f == 6;
}

static unsigned
top_wire(uint32_t f)
{
	return f == 5 ? 0 : 2;
}

long
ltb_ls_walk_report(const uint8_t *p, size_t len, ltb_ls_span_fn *fn,
    void *ctx, const char **why)
{
	const uint8_t *e = p + len;
	const char *r = NULL;
	struct ltb_pb_cur c;
	long spans = 0;
	uint32_t f;
	unsigned w;
	int isspan;

	while (p < e) {
		/* a span with a length of one or two bytes that fits: nearly
		 * every field of a report */
		if (p[0] == PB_K(3, PB_BYTES) && e - p >= 3 &&
		    (p[1] < 0x80 || p[2] < 0x80)) {
			c.v = p[1] < 0x80 ? p[1] : (p[1] & 0x7f) | p[2] << 7;
			c.p = p + (p[1] < 0x80 ? 2 : 3);
			if (c.v <= (size_t)(e - c.p)) {
				p = c.p;
				if ((r = w_top(3, p, c.v, e, fn, ctx,
				    &isspan)) != NULL)
					goto fail;
				spans++;
				p += c.v;
				continue;
			}
		}
		if ((c = ltb_pb_key_slow(p, e)).p == NULL) {
			r = LTB_PB_E_KEY;
			goto fail;
		}
		p = c.p;
		f = (uint32_t)(c.v >> 3);
		w = c.v & 7;
		if (top_known(f) && w != top_wire(f)) {
			r = LTB_PB_E_WIRE;
			goto fail;
		}
		if (w != 2 || !top_known(f)) {
			if ((c = ltb_pb_skip(p, e, w)).p == NULL) {
				r = (const char *)(uintptr_t)c.v;
				goto fail;
			}
			p = c.p;
			continue;
		}
		if ((c = ltb_pb_len_slow(p, e)).p == NULL) {
			r = LTB_PB_E_LEN;
			goto fail;
		}
		p = c.p;
		if ((r = w_top(f, p, c.v, e, fn, ctx, &isspan)) != NULL)
			goto fail;
		spans += isspan;
		p += c.v;
	}
	return spans;
fail:
	if (why != NULL)
		*why = r;
	return -1;
}

/*
 * The unpack: protobuf-c and a validation of the structs that must agree,
 * rule for rule, with w_span's.
 */
typedef Lightstep__Collector__Timestamp Ts;
typedef Lightstep__Collector__Span Span;
typedef Lightstep__Collector__KeyValue Kv;

static int
bad_ts(const Ts *t)
{
	return t->seconds < 0 || t->nanos < 0 || t->nanos >= 1000000000;
}

static enum ltb_ls_invalid
check_span(const Span *s)
{
	size_t i, j;
	int badts = 0, badref = 0, empty = 0;

	if (s->span_context == NULL)
		return LTB_LS_NO_CONTEXT;
	if (s->span_context->trace_id == 0)
		return LTB_LS_ZERO_TRACE_ID;
	if (s->span_context->span_id == 0)
		return LTB_LS_ZERO_SPAN_ID;
	if (s->operation_name == NULL || s->operation_name[0] == '\0')
		return LTB_LS_NO_OPERATION;
	if (s->start_timestamp == NULL)
		return LTB_LS_NO_START;
	badts = bad_ts(s->start_timestamp);
	for (i = 0; i < s->n_logs; i++) {
		const Lightstep__Collector__Log *l = s->logs[i];

		if (l->timestamp != NULL && bad_ts(l->timestamp))
			badts = 1;
		for (j = 0; j < l->n_fields; j++)
			if (l->fields[j]->key == NULL ||
			    l->fields[j]->key[0] == '\0')
				empty = 1;
	}
	for (i = 0; i < s->n_references; i++) {
		const Lightstep__Collector__Reference *r = s->references[i];

		if (r->span_context == NULL || r->span_context->span_id == 0)
			badref = 1;
	}
	for (i = 0; i < s->n_tags; i++)
		if (s->tags[i]->key == NULL || s->tags[i]->key[0] == '\0')
			empty = 1;
	if (badts)
		return LTB_LS_BAD_TIMESTAMP;
	if (badref)
		return LTB_LS_BAD_REFERENCE;
	if (empty)
		return LTB_LS_EMPTY_KEY;
	return LTB_LS_VALID;
}

long
ltb_ls_unpack_report(const uint8_t *p, size_t n, ltb_ls_span_fn *fn,
    void *ctx, const char **why)
{
	return ltb_ls_unpack_report_in(p, n, NULL, fn, ctx, why);
}

long
ltb_ls_unpack_report_in(const uint8_t *p, size_t n, struct ltb_budget *b,
    ltb_ls_span_fn *fn, void *ctx, const char **why)
{
	Lightstep__Collector__ReportRequest *r;
	struct ltb_pballoc a;
	struct ltb_ls_span s;
	long spans;
	size_t i;

	ltb_pballoc_init(&a, b);
	r = lightstep__collector__report_request__unpack(&a.pc, n, p);
	if (r == NULL) {
		if (why != NULL)
			*why = a.refused ? LTB_BUDGET_WHY :
			    "protobuf-c refused the report";
		return a.refused ? LTB_LS_BUSY : -1;
	}
	for (i = 0; i < r->n_spans; i++) {
		const Span *sp = r->spans[i];

		s.trace_id = sp->span_context ? sp->span_context->trace_id : 0;
		s.span_id = sp->span_context ? sp->span_context->span_id : 0;
		s.invalid = check_span(sp);
		if (fn != NULL)
			fn(ctx, &s);
	}
	spans = (long)r->n_spans;
	lightstep__collector__report_request__free_unpacked(r, &a.pc);
	return spans;
}

/*
 * The streaming walk: ltb_pbstream.h's reader, told that ReportRequest's
 * known fields are leaves for w_top (spans, the reporter, ...), and the
 * span counts and public fields kept here.
 */
static const char E_LARGE[] = "top-level field longer than max_field";

/* The leaves' tag is their field number, as w_top takes it; spans (3)
 * are the items counted. */
static const struct ltb_pbfield ls_fields[] = {
	/* depth, wire, role, field, tag */
	{ 0, PB_BYTES, LTB_PB_LEAF, 1, 1 },
	{ 0, PB_BYTES, LTB_PB_LEAF, 2, 2 },
	{ 0, PB_BYTES, LTB_PB_ITEM, 3, 3 },
	{ 0, PB_VAR, LTB_PB_SKIP, 5, 0 },
	{ 0, PB_BYTES, LTB_PB_LEAF, 6, 6 },
	{ 0, 0, 0, 0, 0 },
};

/* What a feed hands the leaves: the caller's callback. */
struct feed {
	ltb_ls_span_fn *fn;
	void *ctx;
};

static const char *
ls_leaf(void *ctx, int tag, const uint8_t *p, size_t n, const uint8_t *lim)
{
	const struct feed *f = ctx;
	int isspan;

	return w_top((uint32_t)tag, p, n, lim, f->fn, f->ctx, &isspan);
}

static const struct ltb_pbschema ls_schema = {
	ls_fields, ls_leaf, E_LARGE,
};

/* Copy out what the header says callers may read. */
static int
publish(struct ltb_ls_stream *s, int rc)
{
	s->spans = s->r.items;
	s->bytes = s->r.bytes;
	s->why = s->r.why;
	s->held = s->r.held.buf;
	s->capheld = s->r.held.cap;
	return rc;
}

void
ltb_ls_stream_init(struct ltb_ls_stream *s, size_t max_field)
{
	ltb_pbstream_init(&s->r, &ls_schema, max_field);
	publish(s, 0);
}

void
ltb_ls_stream_budget(struct ltb_ls_stream *s, struct ltb_budget *b)
{
	ltb_pbstream_budget(&s->r, b);
}

void
ltb_ls_stream_free(struct ltb_ls_stream *s)
{
	ltb_pbstream_free(&s->r);
	publish(s, 0);
}

int
ltb_ls_stream_feed(struct ltb_ls_stream *s, const uint8_t *p, size_t n,
    ltb_ls_span_fn *fn, void *ctx)
{
	struct feed f = { fn, ctx };

	return publish(s, ltb_pbstream_feed(&s->r, p, n, &f));
}

int
ltb_ls_stream_end(struct ltb_ls_stream *s)
{
	return publish(s, ltb_pbstream_end(&s->r));
}

size_t
ltb_ls_response(uint8_t *buf, size_t cap, uint64_t receive_ns,
    uint64_t transmit_ns)
{
	Lightstep__Collector__ReportResponse r =
	    LIGHTSTEP__COLLECTOR__REPORT_RESPONSE__INIT;
	Ts rx = LIGHTSTEP__COLLECTOR__TIMESTAMP__INIT;
	Ts tx = LIGHTSTEP__COLLECTOR__TIMESTAMP__INIT;

	rx.seconds = (int64_t)(receive_ns / 1000000000u);
	rx.nanos = (int32_t)(receive_ns % 1000000000u);
	tx.seconds = (int64_t)(transmit_ns / 1000000000u);
	tx.nanos = (int32_t)(transmit_ns % 1000000000u);
	r.receive_timestamp = &rx;
	r.transmit_timestamp = &tx;
	if (lightstep__collector__report_response__get_packed_size(&r) > cap)
		return 0;
	return lightstep__collector__report_response__pack(&r, buf);
}
