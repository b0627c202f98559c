/*
 * ltb_budget.c: the group's memory budget; see ltb_budget.h.
 */
#include "collector/ltb_budget.h"

void
ltb_budget_init(struct ltb_budget *b, uint64_t limit)
{
	b->limit = limit;
	atomic_init(&b->used, 0);
	atomic_init(&b->peak, 0);
}

/* Raise the peak to at least u. */
static void
note_peak(struct ltb_budget *b, uint64_t u)
{
	uint_fast64_t p = atomic_load_explicit(&b->peak, memory_order_relaxed);

	while (p < u && !atomic_compare_exchange_weak_explicit(&b->peak, &p,
	    u, memory_order_relaxed, memory_order_relaxed))
		;
}

int
ltb_budget_take(struct ltb_budget *b, size_t n)
{
	uint_fast64_t u, want;

	if (b == NULL)
		return 0;
	u = atomic_load_explicit(&b->used, memory_order_relaxed);
	do {
		/* Checked as limit - u, which cannot wrap: u <= limit. */
		if (b->limit && (u > b->limit || n > b->limit - u))
			return -1;
		want = u + n;
	} while (!atomic_compare_exchange_weak_explicit(&b->used, &u, want,
	    memory_order_relaxed, memory_order_relaxed));
	note_peak(b, want);
	return 0;
}

void
ltb_budget_give(struct ltb_budget *b, size_t n)
{
	if (b != NULL && n > 0)
		atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
}

void
ltb_budget_reset_peak(struct ltb_budget *b)
{
	atomic_store(&b->peak, atomic_load(&b->used));
}
