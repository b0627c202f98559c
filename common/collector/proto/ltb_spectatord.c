/*
 * ltb_spectatord.c: spectatord's line protocol (see ltb_collector.h), the
 * one Netflix's thin metrics clients (spectator-py, spectator-go's
 * thin writer, c-spectator) write to a UDP port or a unix datagram socket.
 *
 * One message is one datagram; it holds lines split on '\n', each one
 * meter update:
 *
 *   TYPE[,EXTRA]:NAME[,KEY=VALUE]*:VALUE
 *
 * TYPE is one letter (c counter, C monotonic counter, U monotonic counter
 * of a uint64, d distribution summary, D percentile one, t timer in
 * seconds, T percentile timer, g gauge, m max gauge, A age gauge, X
 * monotonic sampled); EXTRA is an integer, a gauge's TTL in seconds or a
 * monotonic sampled's timestamp in ms (required for X). Empty lines are
 * skipped; the last line may end with or without '\n'.
 *
 * Each line is one unit without identity (key 0: an update is never a
 * duplicate), valid or invalid by the first thing wrong with it, read left
 * to right. Characters outside [-._A-Za-z0-9~^] in a name or a tag are
 * invalid_characters, but only for a line otherwise right: the clients
 * replace them with '_' before they send (and spectatord again as it
 * interns a name, its kAtlasChars), so they show a client bug, not a
 * broken line. A valid line's meter type is its kind. The rules are
 * spectatord's own (server/spectatord.cc, parse_line and get_measurement),
 * kept where they are strict and made strict where spectatord lets a
 * client bug through, with a log line or without a word:
 *
 *  - a value with anything but whitespace after its number ("1abc", which
 *    spectatord takes as 1 with a warning) is bad_value; for U, a value
 *    that is not an unsigned 64-bit integer too ("-1", which strtoull
 *    wraps; 2^64; "21.5", which spectatord truncates);
 *  - an X line without a timestamp (which spectatord takes and drops) is
 *    missing_timestamp;
 *  - an empty tag key or value, or a tag without '=', is bad_tag;
 *  - a NUL byte is a character like any other (spectatord reads a
 *    datagram as a C string and stops at the first).
 *
 * A datagram is never refused for its lines: end always succeeds, with
 * nothing to send back. Pieces of any size are read alike: the line a
 * piece leaves unfinished is carried to the next, in the state while it
 * is short, else in a buffer taken from the group's budget; a line longer
 * than max_field (at most a datagram's 65,536 bytes) is line_too_long
 * however it was cut.
 */
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "collector/ltb_collector.h"
#include "collector/proto/ltb_pbstream.h"

enum { DGRAM_MAX = 65536, SHORT_CARRY = 1024, NUMBER_COPY = 64 };

/* Validation results: index i is sd_invalid_names[i]. */
enum sd_invalid {
	SD_VALID,
	SD_UNKNOWN_TYPE,	/* TYPE is not one of the eleven letters */
	SD_MISSING_SEPARATOR,	/* TYPE alone ("Expecting separator") */
	SD_BAD_EXTRA,		/* EXTRA not an integer followed by ':' */
	SD_INVALID_TTL,		/* g: EXTRA <= 0 ("Invalid ttl specified
				 * for gauge") */
	SD_INVALID_TIMESTAMP,	/* X: EXTRA <= 0 */
	SD_MISSING_TIMESTAMP,	/* X without EXTRA */
	SD_MISSING_NAME,	/* empty NAME ("Missing name") */
	SD_BAD_TAG,		/* a tag without '=', or an empty key or
				 * value */
	SD_MISSING_VALUE,	/* no ':' before VALUE, or VALUE empty */
	SD_BAD_VALUE,		/* VALUE not a number ("Unable to parse
				 * value for measurement") */
	SD_INVALID_CHARACTERS,	/* outside [-._A-Za-z0-9~^] in a name or a
				 * tag */
	SD_LINE_TOO_LONG,	/* longer than max_field */
	SD_NINVALID
};

static const char *const sd_invalid_names[SD_NINVALID] = {
	"valid", "unknown_type", "missing_separator", "bad_extra",
	"invalid_ttl", "invalid_timestamp", "missing_timestamp",
	"missing_name", "bad_tag", "missing_value", "bad_value",
	"invalid_characters", "line_too_long",
};

/* Meter types, the kinds: index i is sd_kind_names[i]. */
static const char *const sd_kind_names[] = {
	"c", "C", "U", "d", "D", "t", "T", "g", "m", "A", "X",
};
enum { SD_NKINDS = sizeof sd_kind_names / sizeof sd_kind_names[0] };
enum { KIND_U = 2, KIND_G = 7, KIND_X = 10 };

/* Byte classes, a table lookup a byte. */
enum {
	C_OK = 1,	/* allowed in a name or a tag */
	C_COMMA = 2,
	C_COLON = 4,
	C_EQUALS = 8,
	C_DIGIT = 16,
	C_SPACE = 32,	/* isspace in the C locale */
};

static const unsigned char cls[256] = {
	['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\v'] = C_SPACE,
	['\f'] = C_SPACE, ['\r'] = C_SPACE, [' '] = C_SPACE,
	[','] = C_COMMA, [':'] = C_COLON, ['='] = C_EQUALS,
	['-'] = C_OK, ['.'] = C_OK, ['_'] = C_OK, ['~'] = C_OK, ['^'] = C_OK,
	['0'] = C_OK | C_DIGIT, ['1'] = C_OK | C_DIGIT,
	['2'] = C_OK | C_DIGIT, ['3'] = C_OK | C_DIGIT,
	['4'] = C_OK | C_DIGIT, ['5'] = C_OK | C_DIGIT,
	['6'] = C_OK | C_DIGIT, ['7'] = C_OK | C_DIGIT,
	['8'] = C_OK | C_DIGIT, ['9'] = C_OK | C_DIGIT,
	['A'] = C_OK, ['B'] = C_OK, ['C'] = C_OK, ['D'] = C_OK, ['E'] = C_OK,
	['F'] = C_OK, ['G'] = C_OK, ['H'] = C_OK, ['I'] = C_OK, ['J'] = C_OK,
	['K'] = C_OK, ['L'] = C_OK, ['M'] = C_OK, ['N'] = C_OK, ['O'] = C_OK,
	['P'] = C_OK, ['Q'] = C_OK, ['R'] = C_OK, ['S'] = C_OK, ['T'] = C_OK,
	['U'] = C_OK, ['V'] = C_OK, ['W'] = C_OK, ['X'] = C_OK, ['Y'] = C_OK,
	['Z'] = C_OK,
	['a'] = C_OK, ['b'] = C_OK, ['c'] = C_OK, ['d'] = C_OK, ['e'] = C_OK,
	['f'] = C_OK, ['g'] = C_OK, ['h'] = C_OK, ['i'] = C_OK, ['j'] = C_OK,
	['k'] = C_OK, ['l'] = C_OK, ['m'] = C_OK, ['n'] = C_OK, ['o'] = C_OK,
	['p'] = C_OK, ['q'] = C_OK, ['r'] = C_OK, ['s'] = C_OK, ['t'] = C_OK,
	['u'] = C_OK, ['v'] = C_OK, ['w'] = C_OK, ['x'] = C_OK, ['y'] = C_OK,
	['z'] = C_OK,
};

/* A type letter's kind + 1; 0 for a byte that is no type. */
static const unsigned char kind_of[256] = {
	['c'] = 1, ['C'] = 2, ['U'] = 3, ['d'] = 4, ['D'] = 5, ['t'] = 6,
	['T'] = 7, ['g'] = 8, ['m'] = 9, ['A'] = 10, ['X'] = 11,
};

/* The separators and the bytes not allowed in a name or a tag ("other"
 * holds every one of them, ',' ':' '=' included) and the line ends,
 * a bit a byte of a window of 64 (see tags_fast below). */
struct seps {
	uint64_t comma, colon, equals, other, newline;
};

struct sd_state {
	size_t max;			/* longest line: max_field, 64 KiB */
	int skipping;			/* in a line too long, until its '\n' */
	size_t nshort;			/* carried bytes in shortbuf */
	struct ltb_pbhold held;		/* carried bytes once past shortbuf;
					 * held.cap > 0: the carry is here */
	int tail_ok;			/* tail: the masks of the carry, read
					 * whole from one piece */
	struct seps tail;
	uint8_t shortbuf[SHORT_CARRY];
};

/*
 * The first index from i on whose byte is in stop (or n); *bad is set when
 * a byte before it is not allowed in a name or a tag.
 */
static size_t
token(const uint8_t *p, size_t i, size_t n, unsigned stop, int *bad)
{
	unsigned c;

	for (; i < n; i++) {
		c = cls[p[i]];
		if (c & stop)
			break;
		if (!(c & C_OK))
			*bad = 1;
	}
	return i;
}

/* Only whitespace from i to n? */
static int
blank_from(const uint8_t *p, size_t i, size_t n)
{
	for (; i < n; i++)
		if (!(cls[p[i]] & C_SPACE))
			return 0;
	return 1;
}

/* Decimal digits from *i; how many. */
static size_t
digits(const uint8_t *p, size_t *i, size_t n)
{
	size_t from = *i;

	while (*i < n && (cls[p[*i]] & C_DIGIT))
		(*i)++;
	return *i - from;
}

/*
 * A number as strtod reads it, all of p[0..n) but trailing whitespace, as
 * spectatord needs it. The plain decimal forms are checked here, without
 * a copy; anything else (leading whitespace, nan, inf, hex) is handed to
 * strtod itself, copied, up to NUMBER_COPY bytes: no client writes a
 * longer one in those forms.
 */
static int
is_double(const uint8_t *p, size_t n)
{
	char copy[NUMBER_COPY + 1], *end;
	size_t i = 0, whole, frac = 0;

	if (i < n && (p[i] == '-' || p[i] == '+'))
		i++;
	whole = digits(p, &i, n);
	if (i < n && p[i] == '.') {
		i++;
		frac = digits(p, &i, n);
	}
	if (whole + frac > 0) {
		if (i < n && (p[i] == 'e' || p[i] == 'E')) {
			size_t e = i + 1;

			if (e < n && (p[e] == '-' || p[e] == '+'))
				e++;
			if (digits(p, &e, n) > 0)
				i = e;
		}
		if (blank_from(p, i, n))
			return 1;
	}
	if (n > NUMBER_COPY)
		return 0;
	memcpy(copy, p, n);
	copy[n] = '\0';
	(void)strtod(copy, &end);
	return end != copy && blank_from(p, (size_t)(end - copy), n);
}

/* An unsigned 64-bit integer as strtoull reads it, but never negative and
 * never past UINT64_MAX, then only whitespace. */
static int
is_uint64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i = 0, from;
	unsigned d;

	while (i < n && (cls[p[i]] & C_SPACE))
		i++;
	if (i < n && p[i] == '+')
		i++;
	for (from = i; i < n && (cls[p[i]] & C_DIGIT); i++) {
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return i > from && blank_from(p, i, n);
}

/*
 * EXTRA, p[*i..) up to its ':': an integer as strtoll reads it (a sign, at
 * most 18 digits). Returns 1 with *positive set, 0 when not an integer
 * followed by ':'. *i is left at the ':'.
 */
static int
extra(const uint8_t *p, size_t *i, size_t n, int *positive)
{
	int neg = 0;
	size_t nd, from;

	if (*i < n && (p[*i] == '-' || p[*i] == '+'))
		neg = p[(*i)++] == '-';
	from = *i;
	nd = digits(p, i, n);
	if (nd == 0 || nd > 18 || *i == n || p[*i] != ':')
		return 0;
	*positive = !neg;
	if (*positive) {
		/* any digit but zeros */
		*positive = 0;
		for (; from < *i; from++)
			if (p[from] != '0')
				*positive = 1;
	}
	return 1;
}

/* ---- the name and tags at once --------------------------------------------
 *
 * Reading a line byte by byte (token, below) costs a load, a table look-up
 * and a branch whose way depends on the one before for each byte, and a
 * mispredicted branch at the end of each name, key and value: most of what
 * a datagram costs. A well-formed NAME[,KEY=VALUE]* is instead checked 64
 * bytes at a time from bit masks of where its separators are (found 16 at
 * a time with SSE2): no byte outside [-._A-Za-z0-9~^] but ',' and '=';
 * no separator first, last or beside another (no empty name, key or value);
 * and the separators alternate ',' '=' from the first, which a prefix XOR
 * of their mask tells. Only a line that passes takes this way; any other
 * is read byte by byte, which alone says what is wrong first.
 */

#ifdef __SSE2__
/* x - lo < span, unsigned, byte-wise: SSE2 compares only signed bytes,
 * so the range is moved to start at -128. */
static inline __m128i
in_range(__m128i x, int lo, int span)
{
	return _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(-128 - lo))),
	    _mm_set1_epi8((char)(-128 + span)));
}

static inline __attribute__((always_inline)) void
seps16(const uint8_t *q, unsigned k, struct seps *m)
{
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)q);
	__m128i ok = _mm_or_si128(
	    _mm_or_si128(in_range(b, '0', 10),
	    in_range(_mm_or_si128(b, _mm_set1_epi8(0x20)), 'a', 26)),
	    _mm_or_si128(_mm_or_si128(in_range(b, '-', 2), in_range(b, '^', 2)),
	    _mm_cmpeq_epi8(b, _mm_set1_epi8('~'))));

	m->other |= (uint64_t)(~(unsigned)_mm_movemask_epi8(ok) & 0xffffu) << k;
	m->comma |= (uint64_t)(unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(b, _mm_set1_epi8(','))) << k;
	m->colon |= (uint64_t)(unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(b, _mm_set1_epi8(':'))) << k;
	m->equals |= (uint64_t)(unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(b, _mm_set1_epi8('='))) << k;
	m->newline |= (uint64_t)(unsigned)_mm_movemask_epi8(
	    _mm_cmpeq_epi8(b, _mm_set1_epi8('\n'))) << k;
}
#else
static inline __attribute__((always_inline)) void
seps16(const uint8_t *q, unsigned k, struct seps *m)
{
	for (unsigned j = 0; j < 16; j++) {
		m->other |= (uint64_t)!(cls[q[j]] & C_OK) << (k + j);
		m->comma |= (uint64_t)(q[j] == ',') << (k + j);
		m->colon |= (uint64_t)(q[j] == ':') << (k + j);
		m->equals |= (uint64_t)(q[j] == '=') << (k + j);
		m->newline |= (uint64_t)(q[j] == '\n') << (k + j);
	}
}
#endif

/* The masks of p[from..n) (64 bytes at most), of avail readable bytes; a
 * block of 16 that would read past avail is read from a copy. The bits
 * from n on are clear. */
static inline __attribute__((always_inline)) void
seps_at(const uint8_t *p, size_t from, size_t n, size_t avail,
    struct seps *m)
{
	uint8_t tail[16];
	uint64_t keep;
	size_t off;

	*m = (struct seps){ 0, 0, 0, 0, 0 };
#pragma GCC unroll 4
	for (unsigned k = 0; k < 64; k += 16) {
		if ((off = from + k) >= n)
			break;
		if (avail - off >= sizeof tail) {
			seps16(p + off, k, m);
			continue;
		}
		memset(tail, 0, sizeof tail);
		memcpy(tail, p + off, avail - off);
		seps16(tail, k, m);
		break;
	}
	keep = n - from >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << (n - from)) - 1;
	m->comma &= keep;
	m->colon &= keep;
	m->equals &= keep;
	m->other &= keep;
	m->newline &= keep;
}

/* Only the bits below n (< 64) kept: the masks of a line shorter than the
 * window. */
static inline void
mask_below(struct seps *m, size_t n)
{
	uint64_t keep = ((uint64_t)1 << n) - 1;

	m->comma &= keep;
	m->colon &= keep;
	m->equals &= keep;
	m->other &= keep;
}

/* Bit j: the parity of the bits of x at j and below. */
static inline uint64_t
prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	return x ^ x << 32;
}

/*
 * A well-formed NAME[,KEY=VALUE]* from p[i] (i < 64) to a ':' (see above):
 * the index of that ':', or 0 when it is not one (then the line is read
 * byte by byte). The windows are at 0, 64, ... of the line; m holds the
 * first already, and is overwritten; avail bytes may be read from p.
 */
static size_t
tags_fast(const uint8_t *p, size_t i, size_t n, size_t avail,
    struct seps *m)
{
	uint64_t lo = ~(uint64_t)0 << i, first = (uint64_t)1 << i;
	uint64_t colon, lim, s, edge, odd, inside = 0;

	/* first: the byte that may not be a separator, the name's first
	 * (then the first of a window after a separator); inside: the
	 * window begins within a key. */
	for (size_t base = 0; base < n; base += 64) {
		if (base > 0)
			seps_at(p, base, n, avail, m);
		colon = m->colon & lo;
		colon &= -colon;
		lim = (colon ? colon - 1 : ~(uint64_t)0) & lo;
		s = (m->comma | m->equals) & lim;
		edge = s | colon;
		if ((m->other & lim & ~s) != 0 ||
		    (edge & ((edge << 1) | first)) != 0)
			return 0;
		odd = prefix_xor(s) ^ (inside ? ~(uint64_t)0 : 0);
		if ((m->comma & s & ~odd) != 0 || (m->equals & s & odd) != 0)
			return 0;
		inside ^= (uint64_t)__builtin_parityll(s);
		if (colon != 0)
			return inside ? 0 :
			    base + (size_t)__builtin_ctzll(colon);
		first = edge >> 63;
		lo = ~(uint64_t)0;
	}
	return 0;
}

/*
 * The validation result of one line p[0..n), n > 0, and its kind (set for
 * a valid line); avail bytes may be read from p (n or more: the rest of
 * the piece), m holds the masks of p[0..64) or NULL. Left to right: the
 * first thing wrong is the reason.
 */
static unsigned
line_check(const uint8_t *p, size_t n, size_t avail, struct seps *m,
    unsigned *kind)
{
	struct seps own;
	size_t i, at;
	int bad = 0, positive = 0;
	unsigned k;

	if ((k = kind_of[p[0]]) == 0 ||
	    (n > 1 && !(cls[p[1]] & (C_COMMA | C_COLON))))
		return SD_UNKNOWN_TYPE;
	k--;
	if (n == 1)
		return SD_MISSING_SEPARATOR;
	i = 1;
	if (p[i] == ',') {
		i++;
		if (!extra(p, &i, n, &positive))
			return SD_BAD_EXTRA;
		if (!positive && k == KIND_G)
			return SD_INVALID_TTL;
		if (!positive && k == KIND_X)
			return SD_INVALID_TIMESTAMP;
	} else if (k == KIND_X)
		return SD_MISSING_TIMESTAMP;
	i++;			/* the ':' */

	if (m == NULL) {
		seps_at(p, 0, n, avail, &own);
		m = &own;
	}
	if (i < 64 && (at = tags_fast(p, i, n, avail, m)) != 0) {
		i = at;
		goto value;
	}

	/* NAME */
	at = i;
	i = token(p, i, n, C_COMMA | C_COLON, &bad);
	if (i == n)
		return at == n ? SD_MISSING_NAME : SD_MISSING_VALUE;
	if (i == at)
		return SD_MISSING_NAME;

	/* ,KEY=VALUE ... */
	while (p[i] == ',') {
		at = ++i;
		i = token(p, i, n, C_COMMA | C_COLON | C_EQUALS, &bad);
		if (i == n || p[i] != '=' || i == at)
			return SD_BAD_TAG;
		at = ++i;
		i = token(p, i, n, C_COMMA | C_COLON, &bad);
		if (i == at)
			return SD_BAD_TAG;
		if (i == n)
			return SD_MISSING_VALUE;
	}

	/* :VALUE */
value:
	i++;
	if (i == n)
		return SD_MISSING_VALUE;
	if (!(k == KIND_U ? is_uint64(p + i, n - i) :
	    is_double(p + i, n - i)))
		return SD_BAD_VALUE;
	if (bad)
		return SD_INVALID_CHARACTERS;
	*kind = k;
	return SD_VALID;
}

/* One line, p[0..n) of avail readable bytes, m the masks of its first 64
 * or NULL: its unit to the sink. Empty lines are no unit. */
static void
line(const struct sd_state *s, const uint8_t *p, size_t n, size_t avail,
    struct seps *m, const struct ltb_span_sink *sink)
{
	unsigned invalid, kind = 0;

	if (n == 0)
		return;
	invalid = n > s->max ? SD_LINE_TOO_LONG : line_check(p, n, avail, m, &kind);
	sink->span(sink->ctx, 0, invalid);
	if (invalid == SD_VALID && sink->kind != NULL)
		sink->kind(sink->ctx, kind);
}

static size_t
carry_len(const struct sd_state *s)
{
	return s->held.cap > 0 ? s->held.len : s->nshort;
}

static const uint8_t *
carry_bytes(const struct sd_state *s)
{
	return s->held.cap > 0 ? s->held.buf : s->shortbuf;
}

static void
carry_clear(struct sd_state *s)
{
	s->tail_ok = 0;
	s->held.len = 0;
	s->nshort = 0;
}

/*
 * Add p[0..n) to the line carried over (its length is already checked
 * against s->max): in shortbuf while it fits, else in held, taken from the
 * budget. Returns LTB_COLLECT_OK or LTB_COLLECT_BUSY.
 */
static int
carry_add(struct sd_state *s, const uint8_t *p, size_t n, const char **why)
{
	s->tail_ok = 0;
	if (s->held.cap == 0 && s->nshort + n <= sizeof s->shortbuf) {
		memcpy(s->shortbuf + s->nshort, p, n);
		s->nshort += n;
		return LTB_COLLECT_OK;
	}
	if (s->held.cap == 0 && s->nshort > 0 &&
	    ltb_pbhold_add(&s->held, s->shortbuf, s->nshort, s->max) < 0)
		goto busy;
	if (ltb_pbhold_add(&s->held, p, n, s->max) < 0)
		goto busy;
	return LTB_COLLECT_OK;
busy:
	/* the budget or memory ran out: the line cannot be read */
	ltb_pbhold_free(&s->held);
	carry_clear(s);
	*why = LTB_BUDGET_WHY;
	return LTB_COLLECT_BUSY;
}

/*
 * The end of the line carried over, p[0..n): read it whole, or as
 * line_too_long if it is, unless it was one already. Returns
 * LTB_COLLECT_OK or LTB_COLLECT_BUSY (no room to hold the line).
 */
static int
carry_finish(struct sd_state *s, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	if (s->skipping) {
		s->skipping = 0;
		return LTB_COLLECT_OK;
	}
	if (carry_len(s) + n > s->max) {
		carry_clear(s);
		sink->span(sink->ctx, 0, SD_LINE_TOO_LONG);
		return LTB_COLLECT_OK;
	}
	if (carry_add(s, p, n, why) != LTB_COLLECT_OK)
		return LTB_COLLECT_BUSY;
	line(s, carry_bytes(s), carry_len(s), carry_len(s), NULL, sink);
	carry_clear(s);
	return LTB_COLLECT_OK;
}

static int
sd_begin(void *state, const struct ltb_message *m)
{
	struct sd_state *s = state;

	s->max = m->max_field > 0 && m->max_field < DGRAM_MAX ?
	    m->max_field : DGRAM_MAX;
	s->held.budget = m->budget;
	return LTB_COLLECT_OK;
}

static int
sd_feed(void *state, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	struct sd_state *s = state;
	const uint8_t *nl;
	struct seps m;
	size_t len;
	int fresh = 0;

	while (n > 0) {
		if ((fresh = !s->skipping && carry_len(s) == 0)) {
			/* the first 64 bytes' masks say where a short line
			 * ends, and are its name and tags' first window */
			seps_at(p, 0, n, n, &m);
			if (m.newline != 0) {
				len = (size_t)__builtin_ctzll(m.newline);
				mask_below(&m, len);
				line(s, p, len, n, &m, sink);
				p += len + 1;
				n -= len + 1;
				continue;
			}
		}
		if ((nl = memchr(p, '\n', n)) == NULL)
			break;
		fresh = 0;
		len = (size_t)(nl - p);
		if (s->skipping || carry_len(s) > 0) {
			if (carry_finish(s, p, len, sink, why) != LTB_COLLECT_OK)
				return LTB_COLLECT_BUSY;
		} else	/* 64 bytes or more: m is all within the line */
			line(s, p, len, n, &m, sink);
		p = nl + 1;
		n -= len + 1;
	}
	if (n == 0 || s->skipping)
		return LTB_COLLECT_OK;
	/* an unfinished line: carried, or known too long already */
	if (carry_len(s) + n > s->max) {
		carry_clear(s);
		s->skipping = 1;
		sink->span(sink->ctx, 0, SD_LINE_TOO_LONG);
		return LTB_COLLECT_OK;
	}
	if (carry_add(s, p, n, why) != LTB_COLLECT_OK)
		return LTB_COLLECT_BUSY;
	/* A datagram's last line is carried to the end, whole and without
	 * its '\n': its masks are those just found, when they hold all of
	 * it. */
	if (fresh && n <= 64) {
		s->tail = m;
		s->tail_ok = 1;
	}
	return LTB_COLLECT_OK;
}

static int
sd_end(void *state, const struct ltb_span_sink *sink,
    struct ltb_reply *reply, const char **why)
{
	struct sd_state *s = state;

	/* the last line, without its '\n' */
	if (!s->skipping && carry_len(s) > 0) {
		line(s, carry_bytes(s), carry_len(s), carry_len(s),
		    s->tail_ok ? &s->tail : NULL, sink);
		carry_clear(s);
	}
	reply->status = 0;
	reply->len = 0;
	return LTB_COLLECT_OK;
}

static void
sd_release(void *state)
{
	struct sd_state *s = state;

	ltb_pbhold_free(&s->held);
}

const struct ltb_collector_proto ltb_proto_spectatord = {
	.name = "spectatord",
	.unit = "measurement",
	/* unix datagram sockets too: the listener says which it serves */
	.transport = LTB_TRANSPORT_UDP,
	.path = NULL,
	.content_types = NULL,
	.invalid_names = sd_invalid_names,
	.ninvalid = SD_NINVALID,
	.invalid_key = "parse_errors",
	.kind_names = sd_kind_names,
	.nkinds = SD_NKINDS,
	.kinds_key = "by_type",
	.state_size = sizeof(struct sd_state),
	.begin = sd_begin,
	.feed = sd_feed,
	.end = sd_end,
	.release = sd_release,
};
