/*
 * ltb_dupset.h: has this span been seen before? Bounded memory.
 *
 * A collector that remembered every span id would grow without end over a
 * long run. A tracer that sends a span twice does so soon after (a retry,
 * a flush racing a report), so the set remembers a sliding window of
 * recent keys: two generations of an open-addressing table; when the
 * current one is half full the older is dropped and the current becomes
 * the older. Every key among the last `window` inserted is found; older
 * ones may be forgotten. Memory is fixed at creation: 32 bytes per window
 * slot.
 *
 * Not thread-safe: the caller serialises (ltb-satellite holds a mutex per
 * batch of keys).
 */
#ifndef LTB_DUPSET_H
#define LTB_DUPSET_H

#include <stddef.h>
#include <stdint.h>

struct ltb_dupset;

/* window is rounded up to a power of two. NULL with errno on failure. */
struct ltb_dupset *ltb_dupset_new(size_t window);
void ltb_dupset_free(struct ltb_dupset *d);

/* Insert key; returns 1 if it was already there (a duplicate), else 0. */
int ltb_dupset_add(struct ltb_dupset *d, uint64_t key);

/*
 * What a key was before ltb_dupset_note. A collector told to refuse
 * messages (a script's 429) still sees their spans; a retry that gets
 * through is then a duplicate, and this tells it apart from a span that
 * had already been taken.
 */
enum ltb_dup_seen {
	LTB_DUP_NEW,		/* not seen */
	LTB_DUP_TAKEN,		/* seen in an accepted message */
	LTB_DUP_REFUSED		/* seen, but only in refused messages */
};
/* Insert key, from a refused message or not: a key once accepted stays
 * so. Keys differing only in their top bit are one key here. */
enum ltb_dup_seen ltb_dupset_note(struct ltb_dupset *d, uint64_t key,
    int refused);

/* Ask the CPU for the slots key would be looked up in, ahead of its
 * ltb_dupset_note: a window of millions of spans is megabytes of table,
 * so each note is two cache misses, and a caller with a batch of keys
 * overlaps them by prefetching a few keys ahead. Only a hint: nothing is
 * read or written. Under the same lock as the notes. */
void ltb_dupset_prefetch(const struct ltb_dupset *d, uint64_t key);

/* Forget everything. */
void ltb_dupset_clear(struct ltb_dupset *d);

/* Mix a (trace id, span id) pair into one well-spread key. */
uint64_t ltb_dupset_key(uint64_t trace_id, uint64_t span_id);

#endif
