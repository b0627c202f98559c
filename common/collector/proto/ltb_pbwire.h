/*
 * ltb_pbwire.h: reading the protobuf wire format in place, the way the
 * protocols' validating walks need it (LightStep's, OTLP's).
 *
 * Static inline, because it is the hot path of ltb-satellite: every key
 * and length of every span goes through here. Nothing allocates, nothing
 * copies. The rules are protobuf-c 1.4.1's, which is every walk's oracle
 * (read off protobuf-c.c, confirmed by the differential tests and fuzz
 * targets of each walk):
 *
 *  - a field key is a varint of at most 5 bytes; its first byte must have
 *    some bit of 0xf8 set (a one-byte key for field 0 is refused, but a
 *    longer one for field 0 is an unknown field); the field number is the
 *    key's value >> 3, cut to 32 bits; the wire type is the low 3 bits;
 *  - wire types 0, 1, 2 and 5 are accepted anywhere, known field or not;
 *    3, 4 (groups), 6 and 7 are refused;
 *  - a varint is at most 10 bytes, and the 10th byte is not checked for
 *    overflow; 32-bit and 64-bit fields need their 4 or 8 bytes;
 *  - a length is a varint of at most 5 bytes (non-minimal encodings are
 *    fine), at most INT_MAX, and must fit in what is left of its message;
 *  - a known field with the wrong wire type is refused: varint scalars
 *    need 0, fixed64 and doubles 1, fixed32 5, strings, bytes and messages
 *    2; but a bool takes any of the four accepted wire types;
 *  - strings are not checked for UTF-8; enum values are not range checked.
 *
 * Primitive readers take the cursor and the end of the enclosing message
 * and return the cursor past what they read with the value, or a NULL
 * cursor if malformed. Cursors travel by value, in registers: taking their
 * address would pin them to the stack in every walker. Nearly every key and
 * length is one byte, so the PB_ macros inline that case and call the
 * readers only for the rest. Where 8 bytes can be read (even past e, up to
 * lim), varints are read a word at a time (ltb_pb_varint, ltb_pb_varlen8),
 * their stop byte found from the word's high bits; a walker's fast path
 * for a whole message uses them, and falls back to the general walker for
 * any layout it does not know.
 *
 * The macros are for message walkers written as
 *
 *	static const char *
 *	w_msg(const uint8_t *p, const uint8_t *e, const uint8_t *lim)
 *	{
 *		uint64_t k;
 *		size_t n;
 *
 *		while (p < e) {
 *			PB_KEY();
 *			switch (k) {
 *			case PB_K(1, PB_BYTES):
 *				PB_LEN(n);
 *				p += n;
 *				break;
 *			PB_OTHER(PB_F(1));
 *			}
 *		}
 *		return NULL;
 *	}
 *
 * [p, e) is exactly one message; lim (>= e) is the end of readable memory,
 * for PB_VARINT's unrolled decode. A walker returns NULL or the static
 * reason the message is malformed; the macros return from it. Each loop
 * switches on the whole key, field << 3 | wire type, so a known field with
 * its right wire type is one case; PB_OTHER(known) ends the switch: a
 * known field number (below 32) with any other wire type is refused,
 * anything else is an unknown field and skipped. PB_RUN(k, n) reads the
 * rest of a repeated field's run in a loop of its own.
 */
#ifndef LTB_PBWIRE_H
#define LTB_PBWIRE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Reasons a walk refuses a body; static, short. */
static const char LTB_PB_E_KEY[] = "bad field key";
static const char LTB_PB_E_WIRE[] = "wrong wire type for a known field";
static const char LTB_PB_E_WIRETYPE[] = "unsupported wire type";
static const char LTB_PB_E_VARINT[] = "bad varint";
static const char LTB_PB_E_LEN[] = "bad length prefix";
static const char LTB_PB_E_SHORT[] = "fixed-width field past end";

/* Wire types, and keys: field << 3 | wire type. */
enum { PB_VAR = 0, PB_I64 = 1, PB_BYTES = 2, PB_I32 = 5 };
#define PB_K(f, w) ((f) << 3 | (w))
#define PB_F(n) (1u << (n))

struct ltb_pb_cur {
	const uint8_t *p;	/* NULL: malformed */
	uint64_t v;		/* the value; the reason if p is NULL */
};

static const struct ltb_pb_cur ltb_pb_nocur = { NULL, 0 };

/* A key at p < e: up to 5 bytes, field number cut to 32 bits. Returns
 * v = field << 3 | wire type. */
static inline struct ltb_pb_cur
ltb_pb_key_slow(const uint8_t *p, const uint8_t *e)
{
	size_t max = (size_t)(e - p) < 5 ? (size_t)(e - p) : 5;
	uint64_t v;
	size_t i;

	/* protobuf-c refuses a first key byte with no field-number bits */
	if ((p[0] & 0xf8) == 0)
		return ltb_pb_nocur;
	if (p[0] < 0x80)
		return (struct ltb_pb_cur){ p + 1, p[0] };
	v = p[0] & 0x7f;
	for (i = 1; i < max; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			return (struct ltb_pb_cur){ p + i + 1,
			    (uint64_t)(uint32_t)(v >> 3) << 3 | (p[0] & 7) };
	}
	return ltb_pb_nocur;
}

static inline struct ltb_pb_cur
ltb_pb_varint_slow(const uint8_t *p, const uint8_t *e)
{
	size_t max = (size_t)(e - p) < 10 ? (size_t)(e - p) : 10;
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < max; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			return (struct ltb_pb_cur){ p + i + 1, r };
	}
	return ltb_pb_nocur;
}

/* A little-endian fixed64 at p, 8 bytes readable. */
static inline uint64_t
ltb_pb_fixed64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/*
 * Varints read a word at a time: 8 bytes at p must be readable. The stop
 * byte is the lowest without its high bit. The caller checks that the
 * length fits its message.
 *
 * ltb_pb_varlen8: the varint's length, 1 to 8, or 0 if it does not stop
 * in those 8 bytes. ltb_pb_pack7: the 7 low bits of each byte of x, packed
 * by pairs, fours, eights (the high bits must be clear). ltb_pb_varint8:
 * length and value, the length 0 as ltb_pb_varlen8's.
 */
static inline __attribute__((always_inline)) unsigned
ltb_pb_varlen8(const uint8_t *p)
{
	uint64_t stop = ~ltb_pb_fixed64(p) & 0x8080808080808080u;

	return stop ? (unsigned)__builtin_ctzll(stop) / 8 + 1 : 0;
}

static inline __attribute__((always_inline)) uint64_t
ltb_pb_pack7(uint64_t x)
{
	x = (x & 0x007f007f007f007fu) | (x & 0x7f007f007f007f00u) >> 1;
	x = (x & 0x00003fff00003fffu) | (x & 0x3fff00003fff0000u) >> 2;
	return (x & 0x000000000fffffffu) | (x & 0x0fffffff00000000u) >> 4;
}

struct ltb_pb_var8 {
	unsigned len;
	uint64_t v;
};

static inline __attribute__((always_inline)) struct ltb_pb_var8
ltb_pb_varint8(const uint8_t *p)
{
	uint64_t w = ltb_pb_fixed64(p), stop;

	stop = ~w & 0x8080808080808080u;
	if (stop == 0)
		return (struct ltb_pb_var8){ 0, 0 };
	return (struct ltb_pb_var8){ (unsigned)__builtin_ctzll(stop) / 8 + 1,
		ltb_pb_pack7(w & (stop ^ (stop - 1)) & 0x7f7f7f7f7f7f7f7fu) };
}

/*
 * A varint inside [p, e); lim (>= e) is the end of readable memory. When 10
 * bytes can be read, even past e near the end of a small message, decode a
 * word at a time with one bounds check and hold the result to e: a byte
 * alone, 8 bytes as one word, or that word and the last two bytes. Bits
 * past 64 fall off, as they do in protobuf-c.
 */
static inline __attribute__((always_inline)) struct ltb_pb_cur
ltb_pb_varint(const uint8_t *p, const uint8_t *e, const uint8_t *lim)
{
	struct ltb_pb_var8 c;
	uint64_t v;
	unsigned len;

	if (lim - p < 10)
		return ltb_pb_varint_slow(p, e);
	if (p[0] < 0x80) {
		len = 1;
		v = p[0];
	} else if ((c = ltb_pb_varint8(p)).len != 0) {
		len = c.len;
		v = c.v;
	} else {
		v = ltb_pb_pack7(ltb_pb_fixed64(p) & 0x7f7f7f7f7f7f7f7fu);
		if (p[8] < 0x80) {
			len = 9;
			v |= (uint64_t)p[8] << 56;
		} else if (p[9] < 0x80) {
			len = 10;
			v |= (uint64_t)(p[8] & 0x7f) << 56 | (uint64_t)p[9] << 63;
		} else {
			return ltb_pb_nocur;
		}
	}
	if (len > (size_t)(e - p))
		return ltb_pb_nocur;
	return (struct ltb_pb_cur){ p + len, v };
}

static inline __attribute__((always_inline)) const uint8_t *
ltb_pb_skip_varint(const uint8_t *p, const uint8_t *e)
{
	size_t max = (size_t)(e - p) < 10 ? (size_t)(e - p) : 10;
	size_t i;

	for (i = 0; i < max; i++)
		if (!(p[i] & 0x80))
			return p + i + 1;
	return NULL;
}

/* A length prefix not in one byte, or not fitting: at most 5 bytes, at
 * most INT_MAX, and inside the message. */
static inline struct ltb_pb_cur
ltb_pb_len_slow(const uint8_t *p, const uint8_t *e)
{
	size_t max = (size_t)(e - p) < 5 ? (size_t)(e - p) : 5;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < max; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (v > INT_MAX || v > (uint64_t)(e - p - i - 1))
				return ltb_pb_nocur;
			return (struct ltb_pb_cur){ p + i + 1, v };
		}
	}
	return ltb_pb_nocur;
}

/* Skip the value of a field of wire type w; on failure v is the reason. */
static inline struct ltb_pb_cur
ltb_pb_skip(const uint8_t *p, const uint8_t *e, unsigned w)
{
	struct ltb_pb_cur c;

	switch (w) {
	case PB_VAR:
		if ((p = ltb_pb_skip_varint(p, e)) == NULL)
			return (struct ltb_pb_cur){ NULL,
			    (uintptr_t)LTB_PB_E_VARINT };
		return (struct ltb_pb_cur){ p, 0 };
	case PB_I64:
		if (e - p < 8)
			return (struct ltb_pb_cur){ NULL,
			    (uintptr_t)LTB_PB_E_SHORT };
		return (struct ltb_pb_cur){ p + 8, 0 };
	case PB_BYTES:
		if (p < e && p[0] < 0x80 && (size_t)p[0] < (size_t)(e - p))
			return (struct ltb_pb_cur){ p + 1 + p[0], 0 };
		c = ltb_pb_len_slow(p, e);
		if (c.p == NULL)
			return (struct ltb_pb_cur){ NULL,
			    (uintptr_t)LTB_PB_E_LEN };
		return (struct ltb_pb_cur){ c.p + c.v, 0 };
	case PB_I32:
		if (e - p < 4)
			return (struct ltb_pb_cur){ NULL,
			    (uintptr_t)LTB_PB_E_SHORT };
		return (struct ltb_pb_cur){ p + 4, 0 };
	default:
		return (struct ltb_pb_cur){ NULL,
		    (uintptr_t)LTB_PB_E_WIRETYPE };
	}
}

/* The walker macros; they use the walker's p, e, lim and k (see top). */
#define PB_KEY() do { \
	if ((uint8_t)(*p - 8) < 0x78) { \
		k = *p++; \
	} else { \
		struct ltb_pb_cur c_ = ltb_pb_key_slow(p, e); \
		if (c_.p == NULL) \
			return LTB_PB_E_KEY; \
		p = c_.p; \
		k = c_.v; \
	} \
} while (0)
#define PB_LEN(n) do { \
	if (p < e && *p < 0x80 && (size_t)*p < (size_t)(e - p)) { \
		(n) = *p++; \
	} else { \
		struct ltb_pb_cur c_ = ltb_pb_len_slow(p, e); \
		if (c_.p == NULL) \
			return LTB_PB_E_LEN; \
		p = c_.p; \
		(n) = (size_t)c_.v; \
	} \
} while (0)
#define PB_VARINT(x) do { \
	struct ltb_pb_cur c_ = ltb_pb_varint(p, e, lim); \
	if (c_.p == NULL) \
		return LTB_PB_E_VARINT; \
	p = c_.p; \
	(x) = c_.v; \
} while (0)
#define PB_SKIPVARINT() do { \
	if ((p = ltb_pb_skip_varint(p, e)) == NULL) \
		return LTB_PB_E_VARINT; \
} while (0)
#define PB_SKIPW(w) do { \
	struct ltb_pb_cur c_ = ltb_pb_skip(p, e, (w)); \
	if (c_.p == NULL) \
		return (const char *)(uintptr_t)c_.v; \
	p = c_.p; \
} while (0)
#define PB_OTHER(known) \
	default: \
		if ((k >> 3) < 32 && ((known) >> (k >> 3) & 1)) \
			return LTB_PB_E_WIRE; \
		PB_SKIPW((unsigned)k & 7)
/* Is the next field k, with a one-byte key and a one-byte length n that
 * fits? Then step over both: a repeated field's run is read in a loop of
 * its own, and anything else is left to the walker's switch. */
#define PB_RUN(k, n) (e - p >= 2 && p[0] == (k) && p[1] < 0x80 && \
	(size_t)p[1] <= (size_t)(e - p) - 2 && ((n) = p[1], p += 2, 1))
#define PB_SUB(call) do { \
	const char *why_ = (call); \
	if (why_ != NULL) \
		return why_; \
} while (0)

#endif
