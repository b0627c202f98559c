/*
 * ltb_store.h: the keys a satellite group's RESP ports keep, so that a
 * consumer (`osprofiler trace show`) reads back what was sent, as from
 * Redis.
 *
 * One store per group, shared by its RESP ports, under one mutex. Keys
 * are lists or strings, in the order they were made; each has a creation
 * number, SCAN's cursor, that eviction does not change. Bounded: at most
 * max_keys keys (making one more evicts the oldest) and max_bytes bytes
 * of keys, values and their bookkeeping, every byte also taken from the
 * group's memory budget before it is allocated and given back when
 * freed. A value that does not fit evicts the oldest keys until it does;
 * one that cannot fit in an empty store is not kept (counted not_kept).
 *
 * Reading functions hand values to a callback under the lock: it must
 * not call back into the store.
 */
#ifndef LTB_STORE_H
#define LTB_STORE_H

#include <stddef.h>
#include <stdint.h>

struct ltb_budget;
struct ltb_store;

enum ltb_store_type { LTB_STORE_NONE, LTB_STORE_LIST, LTB_STORE_STRING };

/* Return codes of the writing calls. */
enum {
	LTB_STORE_OK = 0,
	LTB_STORE_NOT_KEPT = 1,		/* no room: dropped, counted */
	LTB_STORE_WRONGTYPE = -1	/* a list call on a string, or back */
};

struct ltb_store_counts {
	uint64_t keys, bytes, evicted_keys, not_kept;
};

/* A value handed to a reader: bytes, or NULL for nil. */
typedef void ltb_store_each(void *ctx, const void *v, size_t len);

/* A store of at most max_keys keys (at least 1) and max_bytes bytes,
 * taking from budget (borrowed; may be NULL). NULL when out of memory. */
struct ltb_store *ltb_store_new(size_t max_keys, uint64_t max_bytes,
    struct ltb_budget *budget);
/* Free s and all it holds (given back to the budget). NULL: nothing. */
void ltb_store_free(struct ltb_store *s);

/* LPUSH (left 1) or RPUSH one value: LTB_STORE_*, with the list's length
 * after it in *len. */
int ltb_store_push(struct ltb_store *s, const void *key, size_t klen,
    const void *v, size_t vlen, int left, size_t *len);
/* SET: the key holds v, a string, whatever it held; with nx only if it
 * did not exist, with xx only if it did (*done 0 when it did not). */
int ltb_store_set(struct ltb_store *s, const void *key, size_t klen,
    const void *v, size_t vlen, int nx, int xx, int *done);
/* GET: each(v) once (NULL for a missing key). 0, or WRONGTYPE. */
int ltb_store_get(struct ltb_store *s, const void *key, size_t klen,
    ltb_store_each *each, void *ctx);
/* LRANGE with Redis's index rules (negative from the end, clamped): the
 * count of values in *n, then each. 0, or WRONGTYPE (nothing called). */
int ltb_store_range(struct ltb_store *s, const void *key, size_t klen,
    long long start, long long stop, void (*count)(void *, size_t),
    ltb_store_each *each, void *ctx);
/* LINDEX: each(v) once, NULL when out of range or missing. 0, or
 * WRONGTYPE. */
int ltb_store_index(struct ltb_store *s, const void *key, size_t klen,
    long long i, ltb_store_each *each, void *ctx);
/* LLEN: the length in *len (0 missing). 0, or WRONGTYPE. */
int ltb_store_llen(struct ltb_store *s, const void *key, size_t klen,
    size_t *len);
/* The key's type (NONE when missing). */
enum ltb_store_type ltb_store_type(struct ltb_store *s, const void *key,
    size_t klen);
/* DEL: 1 if it was there. */
int ltb_store_del(struct ltb_store *s, const void *key, size_t klen);
/* FLUSHDB. */
void ltb_store_flush(struct ltb_store *s);

/*
 * SCAN from cursor: the keys whose creation number is cursor or more, in
 * order, at most count of them looked at; each key that matches the
 * fnmatch(3) pattern (NULL: all) and type (NONE: any) goes to each. The
 * next cursor, 0 once the end is reached.
 */
uint64_t ltb_store_scan(struct ltb_store *s, uint64_t cursor, size_t count,
    const char *pattern, enum ltb_store_type type, ltb_store_each *each,
    void *ctx);

void ltb_store_counts(struct ltb_store *s, struct ltb_store_counts *c);
/* /reset: zero evicted_keys and not_kept; the keys stay. */
void ltb_store_reset_counts(struct ltb_store *s);

#endif
