/*
 * ltb_budget.h: one memory budget for a satellite group.
 *
 * Every byte a message holds (its state, an inflater, a field gathered
 * from pieces, a whole body under --validate full) is taken from the
 * group's budget before it is allocated and given back when freed, so
 * that whatever the peers send, what all messages hold together stays
 * under the limit. A take that would go over fails without taking: the
 * message is then refused with 503 and Retry-After (LTB_COLLECT_BUSY),
 * not failed as if memory ran out.
 *
 * Lock-free: used is one atomic, a take a compare-and-swap loop, so a
 * take never lets used pass limit even when many connection threads take
 * at once. peak is the most used has been since the last reset.
 */
#ifndef LTB_BUDGET_H
#define LTB_BUDGET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Why a message over the budget is refused. */
#define LTB_BUDGET_WHY "over the satellite's memory budget"

struct ltb_budget {
	uint64_t limit;			/* bytes; 0: no limit, only counted */
	atomic_uint_fast64_t used, peak;
};

/* Start b empty with this limit. */
void ltb_budget_init(struct ltb_budget *b, uint64_t limit);
/*
 * Take n bytes: 0, or -1 (nothing taken) when used + n would pass the
 * limit. A NULL budget takes anything.
 */
int ltb_budget_take(struct ltb_budget *b, size_t n);
/* Give back n bytes taken before. NULL: nothing. */
void ltb_budget_give(struct ltb_budget *b, size_t n);
/* Forget the peak: it starts again from what is used now. */
void ltb_budget_reset_peak(struct ltb_budget *b);

#endif
