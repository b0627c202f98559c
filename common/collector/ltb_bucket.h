/*
 * ltb_bucket.h: the bandwidth cap of a satellite port, as a token bucket
 * refilled by time.
 *
 * The cap paces a peer through TCP: a connection that does not read
 * leaves the sender blocked on a full socket buffer. Sleeping once per
 * piece read (32 KiB from libmicrohttpd) costs a wake-up, a context switch
 * and a cold cache per piece, which at 50 MiB/s was more CPU than the
 * collecting itself. So a piece that fits the bucket passes at once, and
 * a taker that empties it waits once, until a quantum (50 ms of the rate,
 * at least 64 KiB) is back: one wake-up per quantum, not per piece, and
 * the long-run rate exact (a wait only lets tokens in, it loses none).
 * Measured at 50 MiB/s on 1000-span reports, CPU per span fell as the
 * quantum grew from 10 ms (about 1.0 CPU-s per million spans) to 50 ms
 * (0.85, what the satellite costs uncapped), and no further beyond.
 *
 * The bucket holds 100 ms of the rate, at least 256 KiB (but never more
 * than a second's worth): that is how much passes at once after a quiet
 * spell.
 *
 * Not thread-safe: the caller serialises (one lock per port); the wait
 * itself is the caller's, outside the lock.
 */
#ifndef LTB_BUCKET_H
#define LTB_BUCKET_H

#include <stdint.h>

/* All zero is a full bucket. */
struct ltb_bucket {
	uint64_t full_ns;	/* when it is full again, monotonic */
};

/* Take n bytes at now_ns from a bucket refilled at rate bytes/s (0: no
 * cap). Returns when the taker may go on: now_ns at once, or the time to
 * sleep until. */
uint64_t ltb_bucket_take(struct ltb_bucket *b, uint64_t rate, uint64_t n,
    uint64_t now_ns);

/* The bucket's depth and quantum at a rate, as time: for the tests. */
uint64_t ltb_bucket_depth_ns(uint64_t rate);
uint64_t ltb_bucket_quantum_ns(uint64_t rate);

#endif
