/*
 * ltb_hash.h: the one 64-bit mixer ltb uses, for span ids and keys.
 *
 * SplitMix64's finaliser: cheap, and every input bit moves every output
 * bit, so ids drawn from a counter look random and keys made from ids
 * spread over a hash table. The tracer draws span ids with it, the
 * report generator makes fixture ids with it, and the duplicate set folds
 * (trace id, span id) pairs into one key with it.
 */
#ifndef LTB_HASH_H
#define LTB_HASH_H

#include <stdint.h>

#define LTB_GOLDEN64 0x9e3779b97f4a7c15ull

/* Mix z. */
static inline uint64_t
ltb_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The next value of the SplitMix64 sequence at *state. */
static inline uint64_t
ltb_splitmix64(uint64_t *state)
{
	return ltb_mix64(*state += LTB_GOLDEN64);
}

#endif
