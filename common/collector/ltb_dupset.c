/*
 * ltb_dupset.c: bounded duplicate detection for span ids; see ltb_dupset.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/*
 * A generation's table, zeroed. Every span's key lands on a random slot
 * of megabytes of table, so with 4 KiB pages nearly every note is a TLB
 * miss as well as a cache miss: a table of 2 MiB or more is mapped on its
 * own, trimmed to a 2 MiB boundary, and the kernel asked for huge pages
 * (a hint; where transparent huge pages are off it changes nothing). A
 * fresh mapping is zero and its pages come as they are touched, so the
 * table costs memory only as keys fill it, as calloc's did.
 */
#define HUGE_PAGE ((size_t)2 << 20)

static int
table_mapped(size_t slots)
{
	return slots * sizeof(uint64_t) >= HUGE_PAGE;
}

static uint64_t *
table_new(size_t slots)
{
	size_t len = slots * sizeof(uint64_t), head, tail;
	uint8_t *m, *t;

	if (!table_mapped(slots))
		return calloc(slots, sizeof(uint64_t));
	m = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	t = (uint8_t *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
	head = (size_t)(t - m);
	tail = HUGE_PAGE - head;
	if (head > 0)
		munmap(m, head);
	if (tail > 0)
		munmap(t + len, tail);
#ifdef MADV_HUGEPAGE
	(void)madvise(t, len, MADV_HUGEPAGE);
#endif
	return (uint64_t *)t;
}

static void
table_free(uint64_t *t, size_t slots)
{
	if (t == NULL)
		return;
	if (table_mapped(slots))
		munmap(t, slots * sizeof(uint64_t));
	else
		free(t);
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
	d->mask = slots - 1;	/* first: ltb_dupset_free needs it */
	d->limit = slots / 2;
	d->gen[0] = table_new(slots);
	d->gen[1] = table_new(slots);
	if (d->gen[0] == NULL || d->gen[1] == NULL) {
		ltb_dupset_free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void
ltb_dupset_free(struct ltb_dupset *d)
{
	if (d == NULL)
		return;
	table_free(d->gen[0], d->mask + 1);
	table_free(d->gen[1], d->mask + 1);
	free(d);
}

/* A slot holds a key without its top bit, which marks a key seen only
 * in refused messages; 0 is the empty slot. */
#define REFUSED_BIT (1ULL << 63)

static uint64_t
key_base(uint64_t key)
{
	key &= ~REFUSED_BIT;
	return key ? key : 1;
}

/* The slot holding base, or NULL. */
static uint64_t *
table_find(uint64_t *t, size_t mask, uint64_t base)
{
	for (size_t i = base & mask;; i = (i + 1) & mask) {
		if ((t[i] & ~REFUSED_BIT) == base)
			return &t[i];
		if (t[i] == 0)
			return NULL;
	}
}

enum ltb_dup_seen
ltb_dupset_note(struct ltb_dupset *d, uint64_t key, int refused)
{
	uint64_t base = key_base(key), *slot, *t;
	size_t i;

	if ((slot = table_find(d->gen[!d->cur], d->mask, base)) != NULL ||
	    (slot = table_find(d->gen[d->cur], d->mask, base)) != NULL) {
		if (!(*slot & REFUSED_BIT))
			return LTB_DUP_TAKEN;
		if (!refused)
			*slot = base;
		return LTB_DUP_REFUSED;
	}
	t = d->gen[d->cur];
	for (i = base & d->mask; t[i] != 0; i = (i + 1) & d->mask)
		;
	t[i] = refused ? base | REFUSED_BIT : base;
	if (++d->used == d->limit) {
		d->cur = !d->cur;
		memset(d->gen[d->cur], 0, (d->mask + 1) * sizeof(uint64_t));
		d->used = 0;
	}
	return LTB_DUP_NEW;
}

void
ltb_dupset_prefetch(const struct ltb_dupset *d, uint64_t key)
{
	size_t i = key_base(key) & d->mask;

	__builtin_prefetch(&d->gen[0][i], 1);
	__builtin_prefetch(&d->gen[1][i], 1);
}

int
ltb_dupset_add(struct ltb_dupset *d, uint64_t key)
{
	return ltb_dupset_note(d, key, 0) != LTB_DUP_NEW;
}

void
ltb_dupset_clear(struct ltb_dupset *d)
{
	memset(d->gen[0], 0, (d->mask + 1) * sizeof(uint64_t));
	memset(d->gen[1], 0, (d->mask + 1) * sizeof(uint64_t));
	d->used = 0;
}
