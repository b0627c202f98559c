/*
 * ltb_dupset.c: bounded duplicate detection for span ids; see ltb_dupset.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_dupset.h"
#include "core/ltb_hash.h"

struct ltb_dupset {
	uint64_t *gen[2];	/* gen[cur] is filling, gen[!cur] is older */
	size_t cur;
	size_t used;		/* keys in gen[cur] */
	size_t mask;		/* slots - 1 */
	size_t limit;		/* rotate when used reaches it: half the slots */
};

uint64_t
ltb_dupset_key(uint64_t trace_id, uint64_t span_id)
{
	/* The mixer over both ids; 0 is the empty slot, so it is moved
	 * aside. */
	uint64_t z = ltb_mix64(span_id ^ (trace_id * LTB_GOLDEN64));

	return z ? z : 1;
}

struct ltb_dupset *
ltb_dupset_new(size_t window)
{
	struct ltb_dupset *d;
	size_t slots = 64;

	while (slots < 2 * window) {
		if (slots > SIZE_MAX / 4 / sizeof(uint64_t)) {
			errno = EINVAL;
			return NULL;
		}
		slots <<= 1;
	}
	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	d->gen[0] = calloc(slots, sizeof(uint64_t));
	d->gen[1] = calloc(slots, sizeof(uint64_t));
	if (d->gen[0] == NULL || d->gen[1] == NULL) {
		ltb_dupset_free(d);
		errno = ENOMEM;
		return NULL;
	}
	d->mask = slots - 1;
	d->limit = slots / 2;
	return d;
}

void
ltb_dupset_free(struct ltb_dupset *d)
{
	if (d == NULL)
		return;
	free(d->gen[0]);
	free(d->gen[1]);
	free(d);
}

static int
table_has(const uint64_t *t, size_t mask, uint64_t key)
{
	for (size_t i = key & mask;; i = (i + 1) & mask) {
		if (t[i] == key)
			return 1;
		if (t[i] == 0)
			return 0;
	}
}

int
ltb_dupset_add(struct ltb_dupset *d, uint64_t key)
{
	uint64_t *t;
	size_t i;

	if (key == 0)
		key = 1;
	if (table_has(d->gen[!d->cur], d->mask, key))
		return 1;
	t = d->gen[d->cur];
	for (i = key & d->mask; t[i] != 0; i = (i + 1) & d->mask)
		if (t[i] == key)
			return 1;
	t[i] = key;
	if (++d->used == d->limit) {
		d->cur = !d->cur;
		memset(d->gen[d->cur], 0, (d->mask + 1) * sizeof(uint64_t));
		d->used = 0;
	}
	return 0;
}

void
ltb_dupset_clear(struct ltb_dupset *d)
{
	memset(d->gen[0], 0, (d->mask + 1) * sizeof(uint64_t));
	memset(d->gen[1], 0, (d->mask + 1) * sizeof(uint64_t));
	d->used = 0;
}
