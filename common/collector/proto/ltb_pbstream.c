/*
 * ltb_pbstream.c: the resumable protobuf reader of ltb_pbstream.h, and the
 * buffer the protocols hold fields and bodies in.
 *
 * A byte-at-a-time state machine for keys and lengths, which are a few
 * bytes per span, and the protocol's in-place walkers for the leaves; a
 * key and length wholly in the piece at hand are read at once
 * (fast_field), and a leaf held across pieces gets zeroed room past its
 * end for the walkers' word reads (got_held). The
 * body's own end is only known at ltb_pbstream_end; a frame's is known
 * from its length, so inside a frame a key, varint or length that would
 * run past its end is refused as soon as the frame's last byte is read,
 * with the reason protobuf-c's view of that message gives.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/proto/ltb_pbstream.h"
#include "collector/proto/ltb_pbwire.h"

int
ltb_pbhold_add(struct ltb_pbhold *h, const uint8_t *p, size_t n, size_t limit)
{
	size_t cap;
	uint8_t *b;

	if (n == 0)
		return 0;	/* p may be NULL */
	if (n > limit - h->len)
		return -1;
	if (h->len + n > h->cap) {
		cap = h->cap ? h->cap * 2 : 4096;
		if (cap < h->len + n)
			cap = h->len + n;
		if (cap > limit)
			cap = limit;
		/* Taken before the allocation, so what is held never passes
		 * the budget. (realloc may hold old and new for a moment;
		 * big holds are mmapped, and moved rather than copied.) */
		if (ltb_budget_take(h->budget, cap - h->cap) < 0)
			return LTB_PBHOLD_BUSY;
		if ((b = realloc(h->buf, cap)) == NULL) {
			ltb_budget_give(h->budget, cap - h->cap);
			return -1;
		}
		h->buf = b;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
	return 0;
}

void
ltb_pbhold_free(struct ltb_pbhold *h)
{
	free(h->buf);
	ltb_budget_give(h->budget, h->cap);
	h->buf = NULL;
	h->len = h->cap = 0;
}

/* Room before each allocation for its size; keeps malloc's alignment. */
#define PBA_HEAD _Alignof(max_align_t)

static void *
pballoc_alloc(void *ctx, size_t n)
{
	struct ltb_pballoc *a = ctx;
	unsigned char *p;

	if (n > SIZE_MAX - PBA_HEAD)
		return NULL;
	if (ltb_budget_take(a->budget, n + PBA_HEAD) < 0) {
		a->refused = 1;
		return NULL;
	}
	if ((p = malloc(n + PBA_HEAD)) == NULL) {
		ltb_budget_give(a->budget, n + PBA_HEAD);
		return NULL;
	}
	memcpy(p, &n, sizeof n);
	return p + PBA_HEAD;
}

static void
pballoc_free(void *ctx, void *q)
{
	struct ltb_pballoc *a = ctx;
	unsigned char *p;
	size_t n;

	if (q == NULL)
		return;
	p = (unsigned char *)q - PBA_HEAD;
	memcpy(&n, p, sizeof n);
	ltb_budget_give(a->budget, n + PBA_HEAD);
	free(p);
}

void
ltb_pballoc_init(struct ltb_pballoc *a, struct ltb_budget *b)
{
	a->pc.alloc = pballoc_alloc;
	a->pc.free = pballoc_free;
	a->pc.allocator_data = a;
	a->budget = b;
	a->refused = 0;
}

enum {
	S_KEY,		/* reading a key; shift = bits read so far */
	S_LEN,		/* reading a length prefix */
	S_VARINT,	/* skipping a varint value; shift counts its bytes */
	S_SKIP,		/* skipping `left` bytes */
	S_HOLD,		/* gathering `left` more bytes of a leaf */
};

static const char E_TRUNC[] = "truncated body";
static const char E_NOMEM[] = "out of memory holding a field";
static const char E_BUSY[] = LTB_BUDGET_WHY;

void
ltb_pbstream_init(struct ltb_pbstream *r, const struct ltb_pbschema *schema,
    size_t max_field)
{
	memset(r, 0, sizeof *r);
	r->schema = schema;
	r->state = S_KEY;
	r->max_field = max_field;
}

void
ltb_pbstream_budget(struct ltb_pbstream *r, struct ltb_budget *b)
{
	r->held.budget = b;
}

void
ltb_pbstream_free(struct ltb_pbstream *r)
{
	ltb_pbhold_free(&r->held);
}

static int
fail(struct ltb_pbstream *r, int code, const char *why)
{
	r->failed = code;
	r->why = why;
	return code;
}

/* The schema's entry for field f of the open frame, or NULL. The entry
 * last found is tried first: a body is mostly one field (spans) over and
 * over. */
static const struct ltb_pbfield *
lookup(struct ltb_pbstream *r, uint32_t f)
{
	const struct ltb_pbfield *d = r->hit;

	if (d != NULL && d->field == f && d->depth == r->depth)
		return d;
	for (d = r->schema->fields; d->field != 0; d++)
		if (d->field == f && d->depth == r->depth)
			return r->hit = d;
	return NULL;
}

/* Close the frames that end here. */
static void
pop(struct ltb_pbstream *r)
{
	while (r->depth > 0 && r->pos == r->end[r->depth])
		r->depth--;
}

/* Is the byte just read the last of the open frame (so a varint that
 * goes on runs out of its message)? */
static int
at_frame_end(const struct ltb_pbstream *r)
{
	return r->depth > 0 && r->pos == r->end[r->depth];
}

/* Does a field of n more bytes fit in the open frame? */
static int
fits(const struct ltb_pbstream *r, uint64_t n)
{
	return r->depth == 0 || n <= r->end[r->depth] - r->pos;
}

/* A key's last byte was read: check the field, choose the next state. */
static int
got_key(struct ltb_pbstream *r)
{
	r->field = (uint32_t)(r->acc >> 3);
	r->wire = r->acc & 7;
	r->shift = 0;
	r->acc = 0;
	r->cur = lookup(r, r->field);
	if (r->cur != NULL && r->wire != r->cur->wire)
		return fail(r, LTB_PB_MALFORMED, LTB_PB_E_WIRE);
	/* a varint or a length needs a byte of its own */
	if ((r->wire == PB_VAR || r->wire == PB_BYTES) && at_frame_end(r))
		return fail(r, LTB_PB_MALFORMED, r->wire == PB_VAR ?
		    LTB_PB_E_VARINT : LTB_PB_E_LEN);
	switch (r->wire) {
	case PB_VAR:
		r->state = S_VARINT;
		return 0;
	case PB_I64:
	case PB_I32:
		r->left = r->wire == PB_I64 ? 8 : 4;
		if (!fits(r, r->left))
			return fail(r, LTB_PB_MALFORMED, LTB_PB_E_SHORT);
		r->state = S_SKIP;
		return 0;
	case PB_BYTES:
		r->state = S_LEN;
		return 0;
	default:
		return fail(r, LTB_PB_MALFORMED, LTB_PB_E_WIRETYPE);
	}
}

/*
 * A length's last byte was read, and avail bytes follow in this piece at
 * *pp: skip the field, open its frame, walk its leaf in place, or start
 * holding it.
 */
static int
got_len(struct ltb_pbstream *r, const uint8_t **pp, size_t avail, void *ctx)
{
	int role = r->cur != NULL ? r->cur->role : 0;
	const char *why;

	r->left = r->acc;
	r->acc = 0;
	r->shift = 0;
	if (r->left > INT_MAX || !fits(r, r->left))
		return fail(r, LTB_PB_MALFORMED, LTB_PB_E_LEN);
	switch (role) {
	case LTB_PB_FRAME:
		r->depth++;
		r->end[r->depth] = r->pos + r->left;
		r->state = S_KEY;
		return 0;
	case LTB_PB_LEAF:
	case LTB_PB_ITEM:
		/* Refused whether or not it straddles, so the verdict does
		 * not depend on the cuts. */
		if (r->left > r->max_field)
			return fail(r, LTB_PB_TOO_LARGE, r->schema->too_large);
		if (avail < r->left) {
			r->held.len = 0;
			r->state = S_HOLD;
			return 0;
		}
		why = r->schema->leaf(ctx, r->cur->tag, *pp, (size_t)r->left,
		    *pp + avail);
		if (why != NULL)
			return fail(r, LTB_PB_MALFORMED, why);
		r->items += role == LTB_PB_ITEM;
		*pp += r->left;
		r->pos += r->left;
		r->state = S_KEY;
		return 0;
	default:
		r->state = r->left ? S_SKIP : S_KEY;
		return 0;
	}
}

/*
 * Zeroed bytes past a held leaf, when its buffer has room for them: the
 * walkers' fast paths read words up to this far past a message's end
 * (ltb_pbwire.h's lim), and take their slow paths without them.
 */
#define HELD_PAD 32

/* The room the held buffer may take past the leaf for its pad: what
 * max_field leaves, so the room held never passes max_field. */
static size_t
pad_room(const struct ltb_pbstream *r)
{
	uint64_t spare = r->max_field - (r->held.len + r->left);

	return spare < HELD_PAD ? (size_t)spare : HELD_PAD;
}

/* The held leaf is whole: walk it. */
static int
got_held(struct ltb_pbstream *r, void *ctx)
{
	uint8_t *h = r->held.buf;
	size_t pad = r->held.cap - r->held.len < HELD_PAD ? 0 : HELD_PAD;
	const char *why;

	memset(h + r->held.len, 0, pad);
	why = r->schema->leaf(ctx, r->cur->tag, h, r->held.len,
	    h + r->held.len + pad);
	if (why != NULL)
		return fail(r, LTB_PB_MALFORMED, why);
	r->items += r->cur->role == LTB_PB_ITEM;
	r->held.len = 0;
	r->state = S_KEY;
	return 0;
}

/*
 * A key and a length prefix wholly in this piece and inside the open frame:
 * read them at once, as the byte-at-a-time states would, and go on as
 * got_len. Returns 1 if it did, 0 if it left the field to those states
 * (anything but a one-byte key of wire type 2 with a length that ends in
 * the bytes at hand, a known field's wrong wire type included: they say
 * why), or got_len's failure.
 */
static int
fast_field(struct ltb_pbstream *r, const uint8_t **pp, const uint8_t *e,
    void *ctx)
{
	const uint8_t *p = *pp;
	size_t avail = (size_t)(e - p), i;
	uint64_t v = 0;
	int rc;

	pop(r);
	if (r->depth > 0 && r->end[r->depth] - r->pos < avail)
		avail = (size_t)(r->end[r->depth] - r->pos);
	if (avail < 2 || (uint8_t)(p[0] - 8) >= 0x78 ||
	    (p[0] & 7) != PB_BYTES)
		return 0;
	for (i = 1; i < avail && i <= 5; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * (i - 1));
		if (p[i] < 0x80)
			break;
	}
	if (i == avail || i > 5)
		return 0;
	r->cur = lookup(r, p[0] >> 3);
	if (r->cur != NULL && r->cur->wire != PB_BYTES)
		return 0;
	r->field = p[0] >> 3;
	r->wire = PB_BYTES;
	r->acc = v;
	r->pos += i + 1;
	*pp = p + i + 1;
	return (rc = got_len(r, pp, (size_t)(e - *pp), ctx)) < 0 ? rc : 1;
}

int
ltb_pbstream_feed(struct ltb_pbstream *r, const uint8_t *p, size_t n,
    void *ctx)
{
	const uint8_t *e;
	uint64_t before = r->items;
	size_t k;
	uint8_t b;
	int rc = 0;

	if (r->failed)
		return r->failed;
	r->bytes += n;
	if (n == 0)
		return 0;	/* p may be NULL */
	e = p + n;
	while (p < e && rc == 0) {
		switch (r->state) {
		case S_KEY:
			if (r->shift == 0 &&
			    (rc = fast_field(r, &p, e, ctx)) != 0) {
				rc = rc < 0 ? rc : 0;
				break;
			}
			if (r->shift == 0)
				pop(r);
			b = *p++;
			r->pos++;
			if (r->shift == 0) {
				/* protobuf-c refuses a first key byte with no
				 * field-number bits */
				if ((b & 0xf8) == 0)
					return fail(r, LTB_PB_MALFORMED,
					    LTB_PB_E_KEY);
			}
			r->acc |= (uint64_t)(b & 0x7f) << r->shift;
			r->shift += 7;
			if (!(b & 0x80))
				rc = got_key(r);
			else if (r->shift == 35 || at_frame_end(r))
				return fail(r, LTB_PB_MALFORMED, LTB_PB_E_KEY);
			break;
		case S_VARINT:
			b = *p++;
			r->pos++;
			r->shift++;
			if (!(b & 0x80)) {
				r->shift = 0;
				r->state = S_KEY;
			} else if (r->shift == 10 || at_frame_end(r)) {
				return fail(r, LTB_PB_MALFORMED,
				    LTB_PB_E_VARINT);
			}
			break;
		case S_LEN:
			b = *p++;
			r->pos++;
			r->acc |= (uint64_t)(b & 0x7f) << r->shift;
			r->shift += 7;
			if (!(b & 0x80))
				rc = got_len(r, &p, (size_t)(e - p), ctx);
			else if (r->shift == 35 || at_frame_end(r))
				return fail(r, LTB_PB_MALFORMED, LTB_PB_E_LEN);
			break;
		case S_SKIP:
			k = (size_t)(e - p) < r->left ? (size_t)(e - p) :
			    (size_t)r->left;
			p += k;
			r->pos += k;
			r->left -= k;
			if (r->left == 0)
				r->state = S_KEY;
			break;
		case S_HOLD:
			k = (size_t)(e - p) < r->left ? (size_t)(e - p) :
			    (size_t)r->left;
			rc = ltb_pbhold_add(&r->held, p, k,
			    r->held.len + (size_t)r->left + pad_room(r));
			if (rc == LTB_PBHOLD_BUSY) {
				/* Failed for good: what it held goes back
				 * now, not when the connection does. */
				ltb_pbhold_free(&r->held);
				return fail(r, LTB_PB_BUSY, E_BUSY);
			}
			if (rc < 0)
				return fail(r, LTB_PB_TOO_LARGE, E_NOMEM);
			p += k;
			r->pos += k;
			r->left -= k;
			if (r->left == 0)
				rc = got_held(r, ctx);
			break;
		}
	}
	if (rc < 0)
		return rc;
	return r->items - before > INT_MAX ? INT_MAX :
	    (int)(r->items - before);
}

int
ltb_pbstream_end(struct ltb_pbstream *r)
{
	if (r->failed)
		return r->failed;
	if (r->state != S_KEY || r->shift != 0)
		return fail(r, LTB_PB_MALFORMED, E_TRUNC);
	pop(r);
	if (r->depth != 0)
		return fail(r, LTB_PB_MALFORMED, E_TRUNC);
	return 0;
}
