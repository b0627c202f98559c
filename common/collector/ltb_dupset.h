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

/* Forget everything. */
void ltb_dupset_clear(struct ltb_dupset *d);

/* Mix a (trace id, span id) pair into one well-spread key. */
uint64_t ltb_dupset_key(uint64_t trace_id, uint64_t span_id);

#endif
