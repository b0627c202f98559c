/*
 * ltb_tracer.c: a reporting tracer for the LightStep collector protocol
 * and OTLP/HTTP; see ltb_tracer.h for the contract.
 *
 * Where the time goes, and why it is arranged so:
 *
 *  - Span records are pooled, and each thread keeps a cache of them per
 *    tracer: ltb_span_start pops one from the cache (refilled BATCH at a
 *    time from the pool, under its lock), ltb_span_finish stores it in a
 *    slot of the active buffer, the reporter gives the batch back to the
 *    pool after sending. A record keeps the capacity of its tag and log
 *    arrays, so once the pool is warm the instrumented thread does not
 *    allocate, and takes a lock once every BATCH spans. Tags and logs are
 *    pointers to the caller's strings: copying them is the caller's
 *    choice (ltb_span_strdup), not a cost every span pays.
 *  - Finishing takes no lock: one compare-and-swap takes a slot of the
 *    active buffer while fewer than max are taken (see state below), so
 *    exactly as many spans wait, and are dropped, as under a lock; the
 *    reporter swaps buffers with one exchange. Counters of the hot path
 *    are the thread's own (started) or touched only by drops; stats add
 *    them up.
 *  - One mutex guards the pool, the list of caches and the reporter's
 *    counters, held for a few stores at a time.
 *  - A span's start is read from CLOCK_REALTIME; its logs and finish are
 *    TSC ticks where the TSC is invariant, 12 ns against the vDSO's 30
 *    (16 reads a span of 15 logs), turned into ns by the reporter (see
 *    ticks()).
 *  - The reporter encodes with ltb_encode.c, written by hand for these two
 *    messages (protobuf-c, its oracle in the tests, packed a span in 2800
 *    ns of the 3900 encoding took), into one buffer that only grows, so a
 *    steady state encodes without malloc.
 *  - Each satellite port has its own curl easy handle, so its connection
 *    is kept alive between reports; ports are taken in turn.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "client/ltb_encode.h"
#include "client/ltb_tracer.h"
#include "core/ltb_clock.h"
#include "core/ltb_hash.h"

#define STRBLK 512		/* bytes of a span's first string block */
#define FIRST_BUF 1024		/* slots of a buffer's first segment */
#define NSEG 23			/* segments: FIRST_BUF << 22 > 2^32 slots */
#define BATCH 64		/* records a thread takes from the pool at once */
#define CLOSED UINT32_MAX	/* the count of a stopped tracer's buffer */
#define MAX_BUF (CLOSED - 1)	/* max_buffered_spans above is taken as this */

/* Strings a span copied (ltb_span_strdup); blocks never move. */
struct strblk {
	struct strblk *next;
	size_t used, cap;
	char buf[];
};

struct ltb_span {
	struct ltb_tracer *t;
	struct ltb_span *next;		/* in a cache, or a chain */
	struct ltb_span *nextchain;	/* a chain's first: the pool's next */
	uint32_t nchain;		/* a chain's first: its records */
	struct ltb_span_context ctx;
	uint64_t parent;		/* parent span id; 0: a root */
	const char *op;
	uint64_t start_ns;		/* CLOCK_REALTIME */
	uint64_t start_tick, finish_tick;	/* see ticks(); each log's
					 * ns holds ticks until the reporter
					 * converts them (span_times) */
	struct ltb_enc_tag *tags;
	struct ltb_enc_log *logs;
	uint32_t ntags, captags, nlogs, caplogs;
	struct strblk *strs;
	int inert;			/* records nothing: NoOp, or no memory */
	int tsc;			/* its tracer's, kept near its logs */
};

/*
 * One of the two buffers finished spans wait in: segments of FIRST_BUF << i
 * slots, made when first needed and kept, so a slot never moves while a
 * finishing thread stores into it. A slot is NULL until its span is stored.
 */
struct buffer {
	_Atomic(struct ltb_span *) *seg[NSEG];	/* made under mu */
	unsigned nseg;				/* under mu */
	_Atomic size_t cap;			/* slots in the segments made */
};

/*
 * A thread's records for one tracer, taken from the pool BATCH at a time.
 * The thread owns it and lists it (tl_head); the tracer lists it too
 * (t->caches, under t->mu) so that stats can count it and free can
 * reclaim it. Who links it to whom is guarded by caches_mu.
 */
struct cache {
	_Atomic(struct ltb_tracer *) t;	/* NULL: its tracer was freed */
	struct ltb_span *free;
	unsigned nfree;
	_Atomic uint64_t started;	/* written by the owner only */
	struct cache *tnext;		/* in t->caches */
	struct cache *next;		/* in the owner's list */
};

struct port {
	CURL *h;
	char url[128];
	char errbuf[CURL_ERROR_SIZE];
};

struct ltb_tracer {
	int noop;
	int tsc;			/* ticks are the TSC's, not ns */
	uint64_t mono0, tick0;		/* calibration: ticks at mono ns */
	struct ltb_span inert;

	/*
	 * Finishing takes no lock: the state is the active buffer's
	 * generation (high half; its parity names the buffer) and how many
	 * slots of it are taken (low half, CLOSED once stopped). A finishing
	 * thread takes slot n by moving n to n + 1 while n < max, then
	 * stores its span there; the reporter swaps buffers by moving to the
	 * next generation at 0, then waits for the slots it was given to be
	 * stored. So exactly max spans may wait, as with a lock.
	 */
	_Atomic uint64_t state;
	struct buffer bufs[2];
	uint32_t max;
	_Atomic uint64_t finish_drops;	/* finished into a full buffer, or
					 * after the stop */

	/* mu guards everything from here to st */
	pthread_mutex_t mu;
	pthread_cond_t wake;		/* to the reporter: flush, or stop */
	pthread_cond_t done;		/* to flushers: spans were handled */
	struct ltb_span *free;		/* the pool: chains of ~BATCH records */
	struct cache *caches;		/* threads' caches of records */
	uint64_t retired_started;	/* counted by caches now gone */
	uint64_t accepted;		/* spans swapped out of the buffer */
	uint64_t handled;		/* of those, sent or dropped */
	uint64_t flushes;		/* flush requests, ever */
	int stopping, stopped;
	struct ltb_tracer_stats st;

	int sync_ready, running;
	pthread_t thread;
	unsigned period_ms;
	ltb_tracer_transport_fn *transport;
	void *transport_ctx;
	/* the reporter's own, untouched by others while it runs */
	struct port *ports;
	size_t nports, next_port;
	struct curl_slist *headers;
	int curl_ready;
	struct ltb_enc enc;
	char *token, *component;	/* what enc borrows */
};

/* --- ids and clocks ------------------------------------------------------ */

/* SplitMix64 per thread, seeded from the kernel on first use, so threads
 * make ids without sharing state. */
static _Thread_local uint64_t rng_state;
static _Thread_local int rng_seeded;

static uint64_t
rng_next(void)
{
	if (!rng_seeded) {
		if (getrandom(&rng_state, sizeof rng_state, GRND_NONBLOCK) !=
		    (ssize_t)sizeof rng_state)
			rng_state = ltb_mono_ns() ^
			    (uint64_t)(uintptr_t)&rng_state;
		rng_seeded = 1;
	}
	return ltb_splitmix64(&rng_state);
}

/* Zero means "no id" in the protocol. */
static uint64_t
random_id(void)
{
	uint64_t v;

	while ((v = rng_next()) == 0)
		;
	return v;
}

/* A deadline ms from now on the monotonic clock, for condition waits
 * (their clock, see tracer_alloc); its time in ns. */
static uint64_t
deadline_after(struct timespec *ts, unsigned ms)
{
	uint64_t ns = ltb_mono_ns() + (uint64_t)ms * 1000000u;

	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
	return ns;
}

/*
 * The instrumented thread's clock, for logs and finishes: a span's start
 * is read from CLOCK_REALTIME (30 ns here through the vDSO), the rest as
 * ticks of the TSC (12 ns) where the CPU says its rate is invariant, and
 * the reporter turns ticks into ns from the span's start (span_times).
 * With 15 logs a span that is most of what the instrumented thread spends.
 * Elsewhere ticks are CLOCK_REALTIME ns and the rate is 1.
 */
static int
tsc_invariant(void)
{
#ifdef HAVE_TSC
	unsigned a, b, c, d;

	/* CPUID 0x80000007, EDX bit 8: invariant TSC ("nonstop_tsc") */
	if (__get_cpuid(0x80000007, &a, &b, &c, &d) && (d & 1u << 8))
		return 1;
#endif
	return 0;
}

static inline uint64_t
ticks(const struct ltb_tracer *t)
{
#ifdef HAVE_TSC
	if (t->tsc)
		return __rdtsc();
#endif
	return ltb_real_ns();
}

/* Ticks and monotonic ns read together: of three tries, the one whose
 * two tick reads are closest, so a preemption between them is not taken
 * for time. */
static void
tick_pair(const struct ltb_tracer *t, uint64_t *tick, uint64_t *mono)
{
	uint64_t best = UINT64_MAX, a, m, b;
	int i;

	for (i = 0; i < 3; i++) {
		a = ticks(t);
		m = ltb_mono_ns();
		b = ticks(t);
		if (b - a < best) {
			best = b - a;
			*tick = a + (b - a) / 2;
			*mono = m;
		}
	}
}

/* ns a tick, measured since the tracer started, over 1 ms at least (the
 * first report waits for that long if it comes sooner). */
static double
tick_rate(const struct ltb_tracer *t)
{
	uint64_t tick, mono;

	if (!t->tsc)
		return 1;
	do
		tick_pair(t, &tick, &mono);
	while (mono - t->mono0 < 1000000u);
	return tick > t->tick0 ? (double)(mono - t->mono0) /
	    (double)(tick - t->tick0) : 1;
}

/* A time of s in ns from its ticks: never before its start. */
static uint64_t
tick_ns(const struct ltb_span *s, uint64_t tick, double rate)
{
	if (tick <= s->start_tick)
		return s->start_ns;
	return s->start_ns + (uint64_t)((double)(tick - s->start_tick) * rate);
}

/* Make room for need elements in *p; capacity only grows. */
static int
reserve(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp, *np;
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / size || (np = realloc(*p, n * size)) == NULL)
		return -1;
	*p = np;
	*cap = n;
	return 0;
}

/* --- threads' caches of records ----------------------------------------- */

/*
 * Each thread keeps its records for a tracer in a cache of its own, so a
 * span's start takes no lock: the pool's lock is taken once every BATCH
 * spans to refill it. A thread that exits gives its caches back (the
 * key's destructor); a tracer freed while threads live takes its records
 * out of their caches and leaves the caches empty, marked freed, for
 * their threads to reuse or free.
 */
static pthread_mutex_t caches_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static int cache_key_ok;
static _Thread_local struct cache *tl_last;	/* the one used last */
static _Thread_local struct cache *tl_head;	/* all of this thread's */

static void span_free(struct ltb_span *s);

/*
 * The pool is a stack of chains of records, BATCH long (2 * BATCH at most,
 * from a thread that exits), so a cache is refilled, and a batch given
 * back, in O(1) under the lock: the reporter, which walks the records
 * anyway, chains them outside it.
 */

/* With t->mu held: a chain of n records (next-linked, NULL-ended). */
static void
pool_push(struct ltb_tracer *t, struct ltb_span *chain, uint32_t n)
{
	chain->nchain = n;
	chain->nextchain = t->free;
	t->free = chain;
}

/* With t->mu held: chains first to last (linked by nextchain). */
static void
pool_splice(struct ltb_tracer *t, struct ltb_span *first,
    struct ltb_span *last)
{
	last->nextchain = t->free;
	t->free = first;
}

/* With t->mu held: the pool's first chain, or NULL; its length in *n. */
static struct ltb_span *
pool_pop(struct ltb_tracer *t, uint32_t *n)
{
	struct ltb_span *chain = t->free;

	if (chain != NULL) {
		t->free = chain->nextchain;
		*n = chain->nchain;
	}
	return chain;
}

/* With caches_mu held: c out of its tracer's list, its records and counts
 * into the tracer. */
static void
cache_retire(struct cache *c)
{
	struct ltb_tracer *t = atomic_load(&c->t);
	struct cache **pp;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	for (pp = &t->caches; *pp != NULL; pp = &(*pp)->tnext)
		if (*pp == c) {
			*pp = c->tnext;
			break;
		}
	t->retired_started += atomic_load(&c->started);
	if (c->free != NULL)
		pool_push(t, c->free, c->nfree);
	c->free = NULL;
	pthread_mutex_unlock(&t->mu);
	c->nfree = 0;
	atomic_store(&c->t, NULL);
}

/* A thread exits: its caches go back to their tracers. */
static void
cache_exit(void *head)
{
	struct cache *c, *nc;

	pthread_mutex_lock(&caches_mu);
	for (c = head; c != NULL; c = nc) {
		nc = c->next;
		cache_retire(c);
		free(c);
	}
	pthread_mutex_unlock(&caches_mu);
	tl_head = tl_last = NULL;
}

static void
cache_key_make(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_exit) == 0;
}

/*
 * The calling thread's cache for t, made (or an orphan reused) the first
 * time; NULL if none can be had (out of memory): then spans take their
 * records from the pool under its lock, as before caches.
 */
static __attribute__((noinline)) struct cache *
cache_find(struct ltb_tracer *t)
{
	struct cache *c, *orphan = NULL;

	if (pthread_once(&cache_once, cache_key_make) != 0 || !cache_key_ok)
		return NULL;
	pthread_mutex_lock(&caches_mu);
	for (c = tl_head; c != NULL; c = c->next) {
		struct ltb_tracer *ct = atomic_load(&c->t);

		if (ct == t)
			goto found;
		if (ct == NULL && orphan == NULL)
			orphan = c;
	}
	if ((c = orphan) == NULL) {
		if ((c = calloc(1, sizeof *c)) == NULL)
			goto fail;
		c->next = tl_head;
		if (pthread_setspecific(cache_key, c) != 0) {
			free(c);
			goto fail;
		}
		tl_head = c;
	}
	atomic_store(&c->started, 0);
	pthread_mutex_lock(&t->mu);
	c->tnext = t->caches;
	t->caches = c;
	pthread_mutex_unlock(&t->mu);
	atomic_store(&c->t, t);
found:
	pthread_mutex_unlock(&caches_mu);
	tl_last = c;
	return c;
fail:
	pthread_mutex_unlock(&caches_mu);
	return NULL;
}

static inline struct cache *
cache_of(struct ltb_tracer *t)
{
	struct cache *c = tl_last;

	if (c != NULL && atomic_load_explicit(&c->t, memory_order_relaxed) == t)
		return c;
	return cache_find(t);
}

/*
 * The tracer is being freed (its threads have stopped tracing it): the
 * records its threads' caches hold are freed, the caches left empty and
 * orphaned; this thread's own orphans are freed outright, as it may never
 * exit through the key's destructor (the main thread does not).
 */
static void
caches_reclaim(struct ltb_tracer *t)
{
	struct cache *c, **pp;
	struct ltb_span *s;

	pthread_mutex_lock(&caches_mu);
	for (c = t->caches; c != NULL; c = c->tnext) {
		while ((s = c->free) != NULL) {
			c->free = s->next;
			span_free(s);
		}
		c->nfree = 0;
		atomic_store(&c->t, NULL);
	}
	t->caches = NULL;
	for (pp = &tl_head; (c = *pp) != NULL;) {
		if (atomic_load(&c->t) != NULL) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		if (tl_last == c)
			tl_last = NULL;
		free(c);
	}
	/* once, so that cache_key_ok is read after whoever set it */
	if (pthread_once(&cache_once, cache_key_make) == 0 && cache_key_ok)
		pthread_setspecific(cache_key, tl_head);
	pthread_mutex_unlock(&caches_mu);
}

/* --- the buffer ---------------------------------------------------------- */

static inline _Atomic(struct ltb_span *) *
slot(struct buffer *b, size_t i)
{
	size_t q = i / FIRST_BUF + 1;
	unsigned k = 63 - (unsigned)__builtin_clzll(q);

	return &b->seg[k][i - FIRST_BUF * (((size_t)1 << k) - 1)];
}

/* Segments for slot i of b; out of line: only until the buffer is warm. */
static __attribute__((noinline)) int
grow(struct ltb_tracer *t, struct buffer *b, size_t i)
{
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	while (atomic_load(&b->cap) <= i) {
		unsigned k = b->nseg;

		if (k >= NSEG || (b->seg[k] = calloc(FIRST_BUF << k,
		    sizeof *b->seg[k])) == NULL) {
			rc = -1;
			break;
		}
		b->nseg++;
		atomic_store_explicit(&b->cap, FIRST_BUF * (((size_t)1 <<
		    (k + 1)) - 1), memory_order_release);
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/* Take a slot of the active buffer and store s there; -1 if it is full
 * (or the tracer stopped, or no segment could be made). */
static inline int
buffer_put(struct ltb_tracer *t, struct ltb_span *s)
{
	uint64_t old = atomic_load_explicit(&t->state, memory_order_relaxed);
	struct buffer *b;
	uint32_t n;

	do {
		n = (uint32_t)old;
		if (n >= t->max)
			return -1;
		b = &t->bufs[(old >> 32) & 1];
		if (n >= atomic_load_explicit(&b->cap, memory_order_acquire) &&
		    grow(t, b, n) < 0)
			return -1;
	} while (!atomic_compare_exchange_weak_explicit(&t->state, &old,
	    old + 1, memory_order_acq_rel, memory_order_relaxed));
	atomic_store_explicit(slot(b, n), s, memory_order_release);
	return 0;
}

/* Spans waiting in the active buffer. */
static uint32_t
buffer_count(struct ltb_tracer *t)
{
	uint32_t n = (uint32_t)atomic_load(&t->state);

	return n == CLOSED ? 0 : n;
}

/*
 * With mu held (the reporter and stop change generations only under it):
 * make the next generation the active buffer, with count, and return the
 * last one, whose first *n slots were taken.
 */
static struct buffer *
buffer_swap(struct ltb_tracer *t, uint32_t count, uint32_t *n)
{
	uint64_t gen = atomic_load(&t->state) >> 32, old;

	old = atomic_exchange(&t->state, (gen + 1) << 32 | count);
	*n = (uint32_t)old == CLOSED ? 0 : (uint32_t)old;
	t->accepted += *n;
	return &t->bufs[gen & 1];
}

/* Wait for the n slots a swap gave: a thread that took one may not have
 * stored its span yet (a few instructions, unless it was preempted). */
static void
buffer_wait(struct buffer *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		while (atomic_load_explicit(slot(b, i),
		    memory_order_acquire) == NULL)
			sched_yield();
}

/* Span i of a swapped-out buffer (buffer_wait has seen it stored). */
static inline struct ltb_span *
buffer_span(struct buffer *b, size_t i)
{
	return atomic_load_explicit(slot(b, i), memory_order_relaxed);
}

/*
 * The n spans of a swapped-out buffer as chains of BATCH for the pool,
 * first to *last, its slots emptied for its next generation; string
 * blocks past the first are freed here, off the instrumented thread when
 * the reporter calls. NULL if n is 0.
 */
static struct ltb_span *
buffer_take(struct buffer *b, uint32_t n, struct ltb_span **last)
{
	struct ltb_span *first = NULL, *chain = NULL, *s, *prev = NULL;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct strblk *fb, *bl, *nb;

		s = buffer_span(b, i);
		atomic_store_explicit(slot(b, i), NULL, memory_order_relaxed);
		if ((fb = s->strs) != NULL) {
			for (bl = fb->next; bl != NULL; bl = nb) {
				nb = bl->next;
				free(bl);
			}
			fb->next = NULL;
		}
		s->next = NULL;
		if (i % BATCH == 0) {
			s->nchain = n - i < BATCH ? n - i : BATCH;
			s->nextchain = NULL;
			if (chain != NULL)
				chain->nextchain = s;
			else
				first = s;
			chain = s;
		} else {
			prev->next = s;
		}
		prev = s;
	}
	*last = chain;
	return first;
}

/* --- the instrumented side ---------------------------------------------- */

/*
 * A record for a span when the thread's cache is empty: BATCH from the
 * pool into it, or a new one when the pool has none (only until the pool
 * is warm). Without a cache (no memory for one), one from the pool.
 */
static __attribute__((noinline)) struct ltb_span *
span_take(struct ltb_tracer *t, struct cache *c)
{
	struct ltb_span *s;
	uint32_t n = 0;

	pthread_mutex_lock(&t->mu);
	s = pool_pop(t, &n);
	if (c == NULL) {
		t->st.spans_started++;
		if (s != NULL && n > 1)
			pool_push(t, s->next, n - 1);
		pthread_mutex_unlock(&t->mu);
		return s != NULL ? s : calloc(1, sizeof *s);
	}
	pthread_mutex_unlock(&t->mu);
	c->free = s;
	c->nfree = n;
	if ((s = c->free) != NULL) {
		c->free = s->next;
		c->nfree--;
		return s;
	}
	return calloc(1, sizeof *s);
}

struct ltb_span *
ltb_span_start(struct ltb_tracer *t, const char *operation,
    const struct ltb_span_context *parent)
{
	struct ltb_span *s;
	struct strblk *b;
	struct cache *c;

	if (t->noop)
		return &t->inert;
	if ((c = cache_of(t)) != NULL && (s = c->free) != NULL) {
		c->free = s->next;
		c->nfree--;
	} else if ((s = span_take(t, c)) == NULL) {
		/* The caller still gets a span to finish; it is lost. */
		pthread_mutex_lock(&t->mu);
		t->st.spans_started += c != NULL;
		t->st.spans_finished++;
		t->st.spans_dropped++;
		pthread_mutex_unlock(&t->mu);
		return &t->inert;
	}
	if (c != NULL)
		atomic_store_explicit(&c->started, atomic_load_explicit(
		    &c->started, memory_order_relaxed) + 1,
		    memory_order_relaxed);
	s->t = t;
	s->tsc = t->tsc;
	s->op = operation != NULL && operation[0] != '\0' ? operation : "span";
	s->ntags = s->nlogs = 0;
	for (b = s->strs; b != NULL; b = b->next)
		b->used = 0;
	if (parent != NULL && parent->trace_id != 0) {
		s->ctx.trace_id = parent->trace_id;
		s->parent = parent->span_id;
	} else {
		s->ctx.trace_id = random_id();
		s->parent = 0;
	}
	s->ctx.span_id = random_id();
	s->start_ns = ltb_real_ns();
	s->start_tick = t->tsc ? ticks(t) : s->start_ns;
	return s;
}

const struct ltb_span_context *
ltb_span_context(const struct ltb_span *s)
{
	return &s->ctx;
}

/*
 * Room for one more tag or log in a record's array, whose capacity it
 * keeps when recycled: taken only until the pool is warm, so kept out of
 * line, off the path of every tag and log.
 */
static __attribute__((noinline)) int
more(void *p, uint32_t *cap, size_t size)
{
	size_t n = *cap;

	if (n >= UINT32_MAX / 2 || reserve(p, &n, n + 1, size) < 0)
		return -1;
	*cap = (uint32_t)n;
	return 0;
}

/*
 * Tags and logs are the most frequent calls (25 a span in client_bench),
 * so each is a leaf that only stores what the caller gave: anything else
 * (no room yet, a NULL string, a clock other than the TSC) goes out of
 * line, where saving registers for calls costs only the rare call. An
 * inert span (capacities 0) returns before the call: NoOp spans cost what
 * they did.
 */
static __attribute__((noinline)) void
tag_slow(struct ltb_span *s, const char *key, const char *value)
{
	struct ltb_enc_tag *tg;

	if (s->inert || key == NULL || value == NULL)
		return;
	if (s->ntags == s->captags &&
	    more(&s->tags, &s->captags, sizeof *s->tags) < 0)
		return;
	tg = &s->tags[s->ntags++];
	tg->key = key;
	tg->value = value;
}

void
ltb_span_set_tag(struct ltb_span *s, const char *key, const char *value)
{
	struct ltb_enc_tag *tg;

	if (s->ntags == s->captags || key == NULL || value == NULL) {
		/* a NoOp's spans stop here, as cheap as before the leaf */
		if (!s->inert)
			tag_slow(s, key, value);
		return;
	}
	tg = &s->tags[s->ntags++];
	tg->key = key;
	tg->value = value;
}

static __attribute__((noinline)) void
log_slow(struct ltb_span *s, const char *key, const char *value)
{
	struct ltb_enc_log *l;

	if (s->inert || key == NULL || value == NULL)
		return;
	if (s->nlogs == s->caplogs &&
	    more(&s->logs, &s->caplogs, sizeof *s->logs) < 0)
		return;
	l = &s->logs[s->nlogs++];
	l->ns = ticks(s->t);
	l->key = key;
	l->value = value;
}

void
ltb_span_log(struct ltb_span *s, const char *key, const char *value)
{
#ifdef HAVE_TSC
	struct ltb_enc_log *l;

	if (s->nlogs != s->caplogs && s->tsc && key != NULL &&
	    value != NULL) {
		l = &s->logs[s->nlogs++];
		l->ns = __rdtsc();
		l->key = key;
		l->value = value;
		return;
	}
#endif
	if (!s->inert)
		log_slow(s, key, value);
}

const char *
ltb_span_strdup(struct ltb_span *s, const char *str)
{
	struct strblk *b;
	size_t n;
	char *p;

	if (s->inert || str == NULL)
		return NULL;
	n = strlen(str) + 1;
	for (b = s->strs; b != NULL && b->cap - b->used < n; b = b->next)
		;
	if (b == NULL) {
		size_t cap = n > STRBLK ? n : STRBLK;

		if ((b = malloc(sizeof *b + cap)) == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = s->strs;
		s->strs = b;
	}
	p = b->buf + b->used;
	memcpy(p, str, n);
	b->used += n;
	return p;
}

/*
 * A span finished into a full buffer, or after the stop: counted, and its
 * record kept by this thread's cache; past 2 * BATCH, BATCH go back to the
 * pool, so a thread that only finishes does not hoard records.
 */
static __attribute__((noinline)) void
span_drop(struct ltb_tracer *t, struct ltb_span *s)
{
	struct cache *c = cache_of(t);
	struct ltb_span *first, *last;
	unsigned i;

	atomic_fetch_add_explicit(&t->finish_drops, 1, memory_order_relaxed);
	if (c == NULL) {
		s->next = NULL;
		pthread_mutex_lock(&t->mu);
		pool_push(t, s, 1);
		pthread_mutex_unlock(&t->mu);
		return;
	}
	s->next = c->free;
	c->free = s;
	if (++c->nfree <= 2 * BATCH)
		return;
	first = last = c->free;
	for (i = 1; i < BATCH; i++)
		last = last->next;
	c->free = last->next;
	c->nfree -= BATCH;
	last->next = NULL;
	pthread_mutex_lock(&t->mu);
	pool_push(t, first, BATCH);
	pthread_mutex_unlock(&t->mu);
}

void
ltb_span_finish(struct ltb_span *s)
{
	struct ltb_tracer *t;

	if (s->inert)
		return;
	t = s->t;
	s->finish_tick = ticks(t);
	if (buffer_put(t, s) < 0)
		span_drop(t, s);
}

/* --- encoding ------------------------------------------------------------ */

/* A report of n spans, in t->enc; 0, or -1 when out of memory. */
static int
encode(struct ltb_tracer *t, struct buffer *batch, size_t n,
    const uint8_t **body, size_t *len)
{
	struct ltb_enc_span es;
	double rate = tick_rate(t);
	size_t i, j;

	if (ltb_enc_begin(&t->enc) < 0)
		return -1;
	/* the encoder writes backwards: the last span first */
	for (i = n; i-- > 0;) {
		struct ltb_span *s = buffer_span(batch, i);

		for (j = 0; j < s->nlogs; j++)
			s->logs[j].ns = tick_ns(s, s->logs[j].ns, rate);
		es.trace_id = s->ctx.trace_id;
		es.span_id = s->ctx.span_id;
		es.parent = s->parent;
		es.op = s->op;
		es.start_ns = s->start_ns;
		es.finish_ns = tick_ns(s, s->finish_tick, rate);
		es.tags = s->tags;
		es.ntags = s->ntags;
		es.logs = s->logs;
		es.nlogs = s->nlogs;
		if (ltb_enc_span(&t->enc, &es) < 0)
			return -1;
	}
	return ltb_enc_end(&t->enc, body, len);
}

/* --- sending ------------------------------------------------------------- */

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	return size * n;
}

static int
http_post(struct ltb_tracer *t, const uint8_t *body, size_t len, char *err,
    size_t errlen)
{
	struct port *p = &t->ports[t->next_port++ % t->nports];
	CURLcode rc;
	long code = 0;

	curl_easy_setopt(p->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	p->errbuf[0] = '\0';
	if ((rc = curl_easy_perform(p->h)) != CURLE_OK) {
		snprintf(err, errlen, "POST %s: %s", p->url,
		    p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(err, errlen, "POST %s: HTTP status %ld", p->url, code);
		return -1;
	}
	return 0;
}

/* The request headers of the protocol. */
static int
http_headers(struct ltb_tracer *t)
{
	char hdr[256];

	/* "Expect:" stops curl from waiting for 100-continue on big bodies */
	if ((t->headers = curl_slist_append(NULL, "Expect:")) == NULL)
		return -1;
	if (t->enc.c.protocol == LTB_TRACER_OTLP)
		return curl_slist_append(t->headers,
		    "Content-Type: application/x-protobuf") == NULL ? -1 : 0;
	snprintf(hdr, sizeof hdr, "Lightstep-Access-Token: %s",
	    t->token);
	if (curl_slist_append(t->headers,
	    "Content-Type: application/octet-stream") == NULL ||
	    curl_slist_append(t->headers, hdr) == NULL)
		return -1;
	return 0;
}

/*
 * TLS: with a CA file the satellites' certificate is verified against it,
 * name included; without, not at all, as fits satellites that make their
 * own certificate when they start.
 */
static void
http_tls(CURL *h, const struct ltb_tracer_config *c)
{
	if (c->ca_file != NULL && c->ca_file[0] != '\0') {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	} else {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* One handle per port, set up once so each report only names its body. */
static int
http_setup(struct ltb_tracer *t, const struct ltb_tracer_config *c,
    char *err, size_t errlen)
{
	const char *lb, *rb, *scheme = c->tls ? "https" : "http";
	const char *path = c->protocol == LTB_TRACER_OTLP ? "/v1/traces" :
	    "/api/v2/reports";
	size_t i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	t->curl_ready = 1;
	if (http_headers(t) < 0)
		goto nomem;
	if ((t->ports = calloc(c->nports, sizeof *t->ports)) == NULL)
		goto nomem;
	t->nports = c->nports;
	lb = strchr(c->host, ':') != NULL ? "[" : "";
	rb = *lb ? "]" : "";
	for (i = 0; i < t->nports; i++) {
		struct port *p = &t->ports[i];
		CURL *h;

		if ((size_t)snprintf(p->url, sizeof p->url, "%s://%s%s%s:%u%s",
		    scheme, lb, c->host, rb, (unsigned)c->ports[i], path) >=
		    sizeof p->url) {
			snprintf(err, errlen, "satellite host too long: %s",
			    c->host);
			return -1;
		}
		if ((p->h = h = curl_easy_init()) == NULL)
			goto nomem;
		curl_easy_setopt(h, CURLOPT_URL, p->url);
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, p->errbuf);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)c->timeout_ms);
		curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
		/* the satellite is where we were told, never via a proxy */
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		curl_easy_setopt(h, CURLOPT_USERAGENT, "ltb-tracer-c/1");
		if (c->tls)
			http_tls(h, c);
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* --- the reporter -------------------------------------------------------- */

/* Encode and send a batch; 0 if the satellite took it. */
static int
report(struct ltb_tracer *t, struct buffer *batch, size_t n,
    size_t *len, char *err, size_t errlen)
{
	const uint8_t *body;

	*len = 0;
	if (encode(t, batch, n, &body, len) < 0) {
		snprintf(err, errlen, "cannot encode %zu spans: out of memory",
		    n);
		return -1;
	}
	if (t->transport != NULL)
		return t->transport(t->transport_ctx, body, *len, err, errlen);
	return http_post(t, body, *len, err, errlen);
}

static void *
reporter(void *arg)
{
	struct ltb_tracer *t = arg;
	struct timespec next;
	uint64_t seen, next_ns;
	char err[sizeof t->st.last_error];

	/* named, so profiles tell its time from the instrumented threads' */
	pthread_setname_np(pthread_self(), "ltb-reporter");
	/* from 0, not from t->flushes: a flush may come before we run */
	seen = 0;
	next_ns = deadline_after(&next, t->period_ms);
	pthread_mutex_lock(&t->mu);
	for (;;) {
		struct buffer *batch;
		struct ltb_span *first, *last;
		uint32_t n;
		size_t len = 0;
		int ok;

		while (!t->stopping && seen == t->flushes &&
		    pthread_cond_timedwait(&t->wake, &t->mu, &next) !=
		    ETIMEDOUT)
			;
		if (t->stopping)
			break;
		seen = t->flushes;
		if (ltb_mono_ns() >= next_ns)
			next_ns = deadline_after(&next, t->period_ms);
		if (buffer_count(t) == 0)
			continue;

		batch = buffer_swap(t, 0, &n);
		pthread_mutex_unlock(&t->mu);

		buffer_wait(batch, n);
		err[0] = '\0';
		ok = report(t, batch, n, &len, err, sizeof err) == 0;
		first = buffer_take(batch, n, &last);

		pthread_mutex_lock(&t->mu);
		if (ok) {
			t->st.reports_ok++;
			t->st.spans_reported += n;
			t->st.bytes_sent += len;
		} else {
			t->st.reports_failed++;
			t->st.spans_dropped += n;
			snprintf(t->st.last_error, sizeof t->st.last_error,
			    "%s", err);
		}
		t->handled += n;
		pool_splice(t, first, last);
		pthread_cond_broadcast(&t->done);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* --- the tracer ---------------------------------------------------------- */

void
ltb_tracer_config_default(struct ltb_tracer_config *c)
{
	memset(c, 0, sizeof *c);
	c->host = "127.0.0.1";
	c->reporting_period_ms = 200;
	c->max_buffered_spans = 10000;
	c->timeout_ms = 2000;
	c->access_token = "ltb";
	c->component_name = "ltb";
}

static struct ltb_tracer *
tracer_alloc(void)
{
	struct ltb_tracer *t = calloc(1, sizeof *t);
	pthread_condattr_t ca;

	if (t == NULL)
		return NULL;
	t->inert.t = t;
	t->inert.inert = 1;
	if (pthread_condattr_init(&ca) != 0) {
		free(t);
		return NULL;
	}
	/* waits are deadlines on the monotonic clock: immune to clock steps */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&t->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&t->wake, &ca) != 0) {
		pthread_mutex_destroy(&t->mu);
		goto fail;
	}
	if (pthread_cond_init(&t->done, &ca) != 0) {
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->mu);
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	t->sync_ready = 1;
	return t;
fail:
	pthread_condattr_destroy(&ca);
	free(t);
	return NULL;
}

struct ltb_tracer *
ltb_tracer_noop(void)
{
	struct ltb_tracer *t = tracer_alloc();

	if (t != NULL)
		t->noop = 1;
	return t;
}

struct ltb_tracer *
ltb_tracer_new(const struct ltb_tracer_config *c, char *err, size_t errlen)
{
	struct ltb_tracer *t = NULL;
	struct ltb_enc_config ec;
	int e;

	if (c->transport == NULL && (c->nports == 0 || c->ports == NULL)) {
		snprintf(err, errlen, "no satellite ports");
		return NULL;
	}
	if (c->transport == NULL && (c->host == NULL || c->host[0] == '\0')) {
		snprintf(err, errlen, "no satellite host");
		return NULL;
	}
	if (c->protocol != LTB_TRACER_LIGHTSTEP &&
	    c->protocol != LTB_TRACER_OTLP) {
		snprintf(err, errlen, "unknown protocol %d", (int)c->protocol);
		return NULL;
	}
	if ((t = tracer_alloc()) == NULL)
		goto nomem;
	t->max = c->max_buffered_spans > MAX_BUF ? MAX_BUF :
	    (uint32_t)c->max_buffered_spans;
	t->period_ms = c->reporting_period_ms ? c->reporting_period_ms : 1;
	t->transport = c->transport;
	t->transport_ctx = c->transport_ctx;
	t->tsc = tsc_invariant();
	tick_pair(t, &t->tick0, &t->mono0);
	ec.protocol = c->protocol;
	ec.reporter_id = random_id();
	/* Zero would mean "no trace"; the low half is never zero anyway. */
	ec.trace_hi = random_id();
	if ((t->token = strdup(c->access_token ? c->access_token :
	    "ltb")) == NULL ||
	    (t->component = strdup(c->component_name ?
	    c->component_name : "ltb")) == NULL)
		goto nomem;
	ec.token = t->token;
	ec.component = t->component;
	if (ltb_enc_init(&t->enc, &ec) < 0)
		goto nomem;
	if (t->transport == NULL && http_setup(t, c, err, errlen) < 0)
		goto fail;
	if ((e = pthread_create(&t->thread, NULL, reporter, t)) != 0) {
		snprintf(err, errlen, "cannot start the reporter thread: %s",
		    strerror(e));
		goto fail;
	}
	t->running = 1;
	return t;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	ltb_tracer_free(t);
	return NULL;
}

int
ltb_tracer_flush(struct ltb_tracer *t, unsigned timeout_ms)
{
	struct timespec deadline;
	uint64_t target;

	if (t->noop)
		return 0;
	deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&t->mu);
	target = t->accepted + buffer_count(t);
	if (t->handled < target) {
		t->flushes++;
		pthread_cond_signal(&t->wake);
	}
	while (t->handled < target) {
		if (pthread_cond_timedwait(&t->done, &t->mu, &deadline) ==
		    ETIMEDOUT && t->handled < target) {
			pthread_mutex_unlock(&t->mu);
			errno = ETIMEDOUT;
			return -1;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void
ltb_tracer_stats(struct ltb_tracer *t, struct ltb_tracer_stats *st)
{
	struct cache *c;
	uint64_t drops;

	if (t->noop) {
		memset(st, 0, sizeof *st);
		return;
	}
	pthread_mutex_lock(&t->mu);
	*st = t->st;
	st->spans_started += t->retired_started;
	for (c = t->caches; c != NULL; c = c->tnext)
		st->spans_started += atomic_load_explicit(&c->started,
		    memory_order_relaxed);
	drops = atomic_load_explicit(&t->finish_drops, memory_order_relaxed);
	st->spans_finished += t->accepted + buffer_count(t) + drops;
	st->spans_dropped += drops;
	pthread_mutex_unlock(&t->mu);
}

int
ltb_tracer_reporter_clock(struct ltb_tracer *t, clockid_t *clock)
{
	int rc = -1;

	if (t->noop || !t->sync_ready)
		return -1;
	pthread_mutex_lock(&t->mu);
	if (!t->stopping && t->running &&
	    pthread_getcpuclockid(t->thread, clock) == 0)
		rc = 0;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void
ltb_tracer_stop(struct ltb_tracer *t)
{
	struct buffer *b;
	struct ltb_span *first, *last;
	uint32_t n;

	if (t->noop || !t->sync_ready)
		return;
	pthread_mutex_lock(&t->mu);
	if (t->stopping) {
		/* another caller is stopping it: wait for that to finish */
		while (!t->stopped)
			pthread_cond_wait(&t->done, &t->mu);
		pthread_mutex_unlock(&t->mu);
		return;
	}
	t->stopping = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->mu);

	if (t->running) {
		pthread_join(t->thread, NULL);
		t->running = 0;
	}

	/* closed: spans finished from now on are dropped at once */
	pthread_mutex_lock(&t->mu);
	b = buffer_swap(t, CLOSED, &n);
	pthread_mutex_unlock(&t->mu);
	buffer_wait(b, n);
	first = buffer_take(b, n, &last);

	pthread_mutex_lock(&t->mu);
	if (first != NULL)
		pool_splice(t, first, last);
	t->st.spans_dropped += n;
	t->handled += n;
	t->stopped = 1;
	pthread_cond_broadcast(&t->done);
	pthread_mutex_unlock(&t->mu);
}

static void
span_free(struct ltb_span *s)
{
	struct strblk *b, *nb;

	for (b = s->strs; b != NULL; b = nb) {
		nb = b->next;
		free(b);
	}
	free(s->tags);
	free(s->logs);
	free(s);
}

void
ltb_tracer_free(struct ltb_tracer *t)
{
	struct ltb_span *chain, *nc, *s, *ns;
	size_t i;
	unsigned k;

	if (t == NULL)
		return;
	ltb_tracer_stop(t);
	if (t->sync_ready && !t->noop)
		caches_reclaim(t);
	for (chain = t->free; chain != NULL; chain = nc) {
		nc = chain->nextchain;
		for (s = chain; s != NULL; s = ns) {
			ns = s->next;
			span_free(s);
		}
	}
	for (i = 0; i < 2; i++)
		for (k = 0; k < t->bufs[i].nseg; k++)
			free(t->bufs[i].seg[k]);
	for (i = 0; i < t->nports; i++)
		if (t->ports[i].h != NULL)
			curl_easy_cleanup(t->ports[i].h);
	free(t->ports);
	curl_slist_free_all(t->headers);
	if (t->curl_ready)
		curl_global_cleanup();
	ltb_enc_free(&t->enc);
	free(t->token);
	free(t->component);
	if (t->sync_ready) {
		pthread_cond_destroy(&t->done);
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->mu);
	}
	free(t);
}
