/*
 * ltb_store.c: the kept keys of the RESP ports; see ltb_store.h.
 *
 * A chained hash table finds a key; a doubly linked list holds the keys
 * in creation order, oldest first, which is both SCAN's order (creation
 * numbers only grow along it) and eviction's. A list's values sit in a
 * ring of pointers, so that LPUSH and RPUSH are both O(1) and an index
 * is one step. What an entry costs (cost_key, cost_value) counts the
 * allocations it makes, so that max_bytes and the budget see what the
 * process holds, not only the payload.
 */
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_store.h"
#include "core/ltb_hash.h"

struct value {
	size_t len;
	unsigned char b[];
};

struct entry {
	struct entry *hnext;		/* in its hash chain */
	struct entry *prev, *next;	/* in creation order */
	uint64_t id;			/* creation number, from 1 */
	enum ltb_store_type type;
	size_t bytes;			/* what it costs, all counted */
	struct value **ring;		/* a list's values */
	size_t head, n, cap;
	struct value *str;		/* a string's */
	size_t klen;
	char key[];			/* klen bytes and a NUL */
};

struct ltb_store {
	pthread_mutex_t lock;
	size_t max_keys;
	uint64_t max_bytes;
	struct ltb_budget *budget;
	struct entry **tab;
	size_t nbuckets;		/* a power of 2 */
	struct entry *oldest, *newest;
	uint64_t next_id;
	struct ltb_store_counts c;
};

static size_t
cost_key(size_t klen)
{
	return sizeof(struct entry) + klen + 1;
}

static size_t
cost_value(size_t vlen)
{
	/* the value, and its pointer in the ring (grown in doubles: on
	 * average under two pointers each) */
	return sizeof(struct value) + vlen + 2 * sizeof(struct value *);
}

static uint64_t
hash(const void *key, size_t klen)
{
	const unsigned char *p = key;
	uint64_t h = LTB_GOLDEN64 ^ klen;

	for (size_t i = 0; i < klen; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return ltb_mix64(h);
}

struct ltb_store *
ltb_store_new(size_t max_keys, uint64_t max_bytes, struct ltb_budget *budget)
{
	struct ltb_store *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->max_keys = max_keys ? max_keys : 1;
	s->max_bytes = max_bytes;
	s->budget = budget;
	s->nbuckets = 64;
	s->next_id = 1;
	if ((s->tab = calloc(s->nbuckets, sizeof *s->tab)) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

/* ---- entries -------------------------------------------------------------- */

static struct entry *
find(struct ltb_store *s, const void *key, size_t klen)
{
	struct entry *e = s->tab[hash(key, klen) & (s->nbuckets - 1)];

	for (; e != NULL; e = e->hnext)
		if (e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

static void
entry_free_values(struct entry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->ring[(e->head + i) % e->cap]);
	free(e->ring);
	free(e->str);
	e->ring = NULL;
	e->str = NULL;
	e->n = e->cap = e->head = 0;
}

/* Take e out of the table and the order, free it, give back its bytes. */
static void
unlink_entry(struct ltb_store *s, struct entry *e)
{
	struct entry **pp = &s->tab[hash(e->key, e->klen) & (s->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->oldest = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		s->newest = e->prev;
	s->c.keys--;
	s->c.bytes -= e->bytes;
	ltb_budget_give(s->budget, e->bytes);
	entry_free_values(e);
	free(e);
}

/* Evict the oldest key but keep; 0, or -1 when none is left to evict. */
static int
evict_one(struct ltb_store *s, const struct entry *keep)
{
	struct entry *e = s->oldest;

	if (e == keep && e != NULL)
		e = e->next;
	if (e == NULL)
		return -1;
	unlink_entry(s, e);
	s->c.evicted_keys++;
	return 0;
}

/* Room for n bytes more, in max_bytes and in the budget, evicting the
 * oldest keys but keep: taken from the budget, 0; or -1, nothing taken. */
static int
make_room(struct ltb_store *s, size_t n, const struct entry *keep)
{
	if (n > s->max_bytes)
		return -1;
	while (s->c.bytes + n > s->max_bytes)
		if (evict_one(s, keep) < 0)
			return -1;
	while (ltb_budget_take(s->budget, n) < 0)
		if (evict_one(s, keep) < 0)
			return -1;
	s->c.bytes += n;
	return 0;
}

/* Double the table when it holds more keys than buckets. */
static void
rehash(struct ltb_store *s)
{
	size_t nb = s->nbuckets * 2;
	struct entry **t, *e;

	if (s->c.keys < s->nbuckets || nb > SIZE_MAX / sizeof *t ||
	    (t = calloc(nb, sizeof *t)) == NULL)
		return;		/* longer chains: slower, still right */
	for (e = s->oldest; e != NULL; e = e->next) {
		size_t b = hash(e->key, e->klen) & (nb - 1);

		e->hnext = t[b];
		t[b] = e;
	}
	free(s->tab);
	s->tab = t;
	s->nbuckets = nb;
}

/* A new key of type t that will hold vcost bytes more: made newest, its
 * own bytes and vcost taken. NULL when they cannot fit. */
static struct entry *
make_entry(struct ltb_store *s, const void *key, size_t klen,
    enum ltb_store_type t, size_t vcost)
{
	size_t kc = cost_key(klen);
	struct entry *e;
	size_t b;

	if (kc + vcost < kc || kc + vcost > s->max_bytes)
		return NULL;
	while (s->c.keys >= s->max_keys)
		(void)evict_one(s, NULL);
	if (make_room(s, kc + vcost, NULL) < 0)
		return NULL;
	if ((e = calloc(1, sizeof *e + klen + 1)) == NULL) {
		s->c.bytes -= kc + vcost;
		ltb_budget_give(s->budget, kc + vcost);
		return NULL;
	}
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->type = t;
	e->bytes = kc + vcost;
	e->id = s->next_id++;
	b = hash(key, klen) & (s->nbuckets - 1);
	e->hnext = s->tab[b];
	s->tab[b] = e;
	e->prev = s->newest;
	if (s->newest != NULL)
		s->newest->next = e;
	else
		s->oldest = e;
	s->newest = e;
	s->c.keys++;
	rehash(s);
	return e;
}

static struct value *
value_new(const void *v, size_t vlen)
{
	struct value *x = malloc(sizeof *x + vlen);

	if (x != NULL) {
		x->len = vlen;
		memcpy(x->b, v, vlen);
	}
	return x;
}

/* Room in e's ring for one more; 0 or -1. */
static int
ring_grow(struct entry *e)
{
	size_t ncap = e->cap ? e->cap * 2 : 4;
	struct value **r;

	if (e->n < e->cap)
		return 0;
	if ((r = malloc(ncap * sizeof *r)) == NULL)
		return -1;
	for (size_t i = 0; i < e->n; i++)
		r[i] = e->ring[(e->head + i) % e->cap];
	free(e->ring);
	e->ring = r;
	e->head = 0;
	e->cap = ncap;
	return 0;
}

static struct value *
ring_at(const struct entry *e, size_t i)
{
	return e->ring[(e->head + i) % e->cap];
}

/* ---- writing -------------------------------------------------------------- */

/* The list key, found or made, with vcost bytes taken for a new value;
 * NULL with *rc set when it cannot be. */
static struct entry *
list_for(struct ltb_store *s, const void *key, size_t klen, size_t vcost,
    int *rc)
{
	struct entry *e = find(s, key, klen);

	*rc = LTB_STORE_NOT_KEPT;
	if (e != NULL && e->type != LTB_STORE_LIST) {
		*rc = LTB_STORE_WRONGTYPE;
		return NULL;
	}
	if (e == NULL)
		return make_entry(s, key, klen, LTB_STORE_LIST, vcost);
	if (make_room(s, vcost, e) < 0) {
		/* Only the key itself is left: over the limit with it. */
		unlink_entry(s, e);
		s->c.evicted_keys++;
		return make_entry(s, key, klen, LTB_STORE_LIST, vcost);
	}
	e->bytes += vcost;
	return e;
}

int
ltb_store_push(struct ltb_store *s, const void *key, size_t klen,
    const void *v, size_t vlen, int left, size_t *len)
{
	size_t vcost = cost_value(vlen);
	struct value *x = NULL;
	struct entry *e;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((e = list_for(s, key, klen, vcost, &rc)) == NULL)
		goto out;
	if (ring_grow(e) < 0 || (x = value_new(v, vlen)) == NULL) {
		e->bytes -= vcost;
		s->c.bytes -= vcost;
		ltb_budget_give(s->budget, vcost);
		if (e->n == 0)
			unlink_entry(s, e);
		e = NULL;
		goto out;
	}
	if (left) {
		e->head = (e->head + e->cap - 1) % e->cap;
		e->ring[e->head] = x;
	} else
		e->ring[(e->head + e->n) % e->cap] = x;
	e->n++;
	rc = LTB_STORE_OK;
out:
	if (rc == LTB_STORE_NOT_KEPT)
		s->c.not_kept++;
	if (len != NULL) {
		e = find(s, key, klen);
		*len = e != NULL && e->type == LTB_STORE_LIST ? e->n : 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
ltb_store_set(struct ltb_store *s, const void *key, size_t klen,
    const void *v, size_t vlen, int nx, int xx, int *done)
{
	size_t vcost = cost_value(vlen);
	struct entry *e;
	int rc = LTB_STORE_OK;

	*done = 0;
	pthread_mutex_lock(&s->lock);
	e = find(s, key, klen);
	if ((nx && e != NULL) || (xx && e == NULL))
		goto out;
	*done = 1;
	/* A string replaced is a key made anew: simpler than giving back
	 * part of it, and SET moves nothing SCAN has passed. */
	if (e != NULL)
		unlink_entry(s, e);
	if ((e = make_entry(s, key, klen, LTB_STORE_STRING, vcost)) == NULL ||
	    (e->str = value_new(v, vlen)) == NULL) {
		if (e != NULL)
			unlink_entry(s, e);
		rc = LTB_STORE_NOT_KEPT;
		s->c.not_kept++;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
ltb_store_del(struct ltb_store *s, const void *key, size_t klen)
{
	struct entry *e;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, key, klen)) != NULL)
		unlink_entry(s, e);
	pthread_mutex_unlock(&s->lock);
	return e != NULL;
}

void
ltb_store_flush(struct ltb_store *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->oldest != NULL)
		unlink_entry(s, s->oldest);
	pthread_mutex_unlock(&s->lock);
}

void
ltb_store_free(struct ltb_store *s)
{
	if (s == NULL)
		return;
	ltb_store_flush(s);
	pthread_mutex_destroy(&s->lock);
	free(s->tab);
	free(s);
}

/* ---- reading -------------------------------------------------------------- */

/* The key as a list under the lock: 0 with *e (NULL when missing), or
 * WRONGTYPE. */
static int
list_get(struct ltb_store *s, const void *key, size_t klen, struct entry **e)
{
	*e = find(s, key, klen);
	if (*e != NULL && (*e)->type != LTB_STORE_LIST) {
		*e = NULL;
		return LTB_STORE_WRONGTYPE;
	}
	return 0;
}

int
ltb_store_get(struct ltb_store *s, const void *key, size_t klen,
    ltb_store_each *each, void *ctx)
{
	struct entry *e;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if ((e = find(s, key, klen)) == NULL)
		each(ctx, NULL, 0);
	else if (e->type != LTB_STORE_STRING)
		rc = LTB_STORE_WRONGTYPE;
	else
		each(ctx, e->str->b, e->str->len);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
ltb_store_range(struct ltb_store *s, const void *key, size_t klen,
    long long start, long long stop, void (*count)(void *, size_t),
    ltb_store_each *each, void *ctx)
{
	struct entry *e;
	long long n;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((rc = list_get(s, key, klen, &e)) < 0)
		goto out;
	n = e != NULL ? (long long)e->n : 0;
	/* Redis's rules (lrangeGenericCommand) */
	if (start < 0)
		start += n;
	if (stop < 0)
		stop += n;
	if (start < 0)
		start = 0;
	if (start > stop || start >= n) {
		count(ctx, 0);
		goto out;
	}
	if (stop >= n)
		stop = n - 1;
	count(ctx, (size_t)(stop - start + 1));
	for (long long i = start; i <= stop; i++) {
		struct value *x = ring_at(e, (size_t)i);

		each(ctx, x->b, x->len);
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
ltb_store_index(struct ltb_store *s, const void *key, size_t klen,
    long long i, ltb_store_each *each, void *ctx)
{
	struct entry *e;
	struct value *x;
	int rc;

	pthread_mutex_lock(&s->lock);
	if ((rc = list_get(s, key, klen, &e)) < 0)
		goto out;
	if (e != NULL && i < 0)
		i += (long long)e->n;
	if (e == NULL || i < 0 || i >= (long long)e->n)
		each(ctx, NULL, 0);
	else {
		x = ring_at(e, (size_t)i);
		each(ctx, x->b, x->len);
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
ltb_store_llen(struct ltb_store *s, const void *key, size_t klen,
    size_t *len)
{
	struct entry *e;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = list_get(s, key, klen, &e);
	*len = e != NULL ? e->n : 0;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

enum ltb_store_type
ltb_store_type(struct ltb_store *s, const void *key, size_t klen)
{
	struct entry *e;
	enum ltb_store_type t;

	pthread_mutex_lock(&s->lock);
	t = (e = find(s, key, klen)) != NULL ? e->type : LTB_STORE_NONE;
	pthread_mutex_unlock(&s->lock);
	return t;
}

uint64_t
ltb_store_scan(struct ltb_store *s, uint64_t cursor, size_t count,
    const char *pattern, enum ltb_store_type type, ltb_store_each *each,
    void *ctx)
{
	struct entry *e;
	uint64_t next;

	pthread_mutex_lock(&s->lock);
	for (e = s->oldest; e != NULL && e->id < cursor; e = e->next)
		;
	for (; e != NULL && count > 0; e = e->next, count--) {
		if (type != LTB_STORE_NONE && e->type != type)
			continue;
		if (pattern != NULL && fnmatch(pattern, e->key, 0) != 0)
			continue;
		each(ctx, e->key, e->klen);
	}
	next = e != NULL ? e->id : 0;
	pthread_mutex_unlock(&s->lock);
	return next;
}

void
ltb_store_counts(struct ltb_store *s, struct ltb_store_counts *c)
{
	pthread_mutex_lock(&s->lock);
	*c = s->c;
	pthread_mutex_unlock(&s->lock);
}

void
ltb_store_reset_counts(struct ltb_store *s)
{
	pthread_mutex_lock(&s->lock);
	s->c.evicted_keys = s->c.not_kept = 0;
	pthread_mutex_unlock(&s->lock);
}
