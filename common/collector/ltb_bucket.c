/*
 * ltb_bucket.c: a port's bandwidth cap; see ltb_bucket.h.
 *
 * The state is one time: when the bucket is full again. Tokens at now are
 * the depth less what that time is ahead of now, at the rate; a take
 * pushes it on by the piece's time at the rate. Kept as time, not bytes,
 * there is nothing to refill and nothing to round but the piece's time.
 */
#include "collector/ltb_bucket.h"

#define NS 1000000000u
#define DEPTH_NS (NS / 10)		/* 100 ms */
#define DEPTH_MIN_BYTES (256u << 10)
#define DEPTH_MAX_NS NS
#define QUANTUM_NS (NS / 20)		/* 50 ms */
#define QUANTUM_MIN_BYTES (64u << 10)

/* n bytes at rate, in ns, rounded up; n and rate are far below 2^32 in
 * practice, the double is for the rest. */
static uint64_t
time_of(uint64_t n, uint64_t rate)
{
	if (n < (1u << 30))
		return (n * NS + rate - 1) / rate;
	return (uint64_t)((double)n * 1e9 / (double)rate);
}

uint64_t
ltb_bucket_depth_ns(uint64_t rate)
{
	uint64_t t = time_of(DEPTH_MIN_BYTES, rate);

	if (t > DEPTH_MAX_NS)
		t = DEPTH_MAX_NS;
	return t > DEPTH_NS ? t : DEPTH_NS;
}

uint64_t
ltb_bucket_quantum_ns(uint64_t rate)
{
	uint64_t t = time_of(QUANTUM_MIN_BYTES, rate), half;

	if (t < QUANTUM_NS)
		t = QUANTUM_NS;
	/* Woken with the quantum in, the bucket must not be over full. */
	half = ltb_bucket_depth_ns(rate) / 2;
	return t < half ? t : half;
}

uint64_t
ltb_bucket_take(struct ltb_bucket *b, uint64_t rate, uint64_t n,
    uint64_t now_ns)
{
	uint64_t depth;

	if (rate == 0)
		return now_ns;
	if (b->full_ns < now_ns)
		b->full_ns = now_ns;
	b->full_ns += time_of(n, rate);
	depth = ltb_bucket_depth_ns(rate);
	if (b->full_ns - now_ns <= depth)
		return now_ns;		/* it fit */
	/* In debt: wait until the debt is paid and a quantum is in. */
	return b->full_ns - depth + ltb_bucket_quantum_ns(rate);
}
