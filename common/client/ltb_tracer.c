/*
 * ltb_tracer.c: a reporting tracer for the LightStep collector protocol
 * and OTLP/HTTP; see ltb_tracer.h for the contract.
 *
 * Where the time goes, and why it is arranged so:
 *
 *  - Span records are pooled. ltb_span_start pops one from a free list,
 *    ltb_span_finish pushes it into the active buffer, the reporter pushes
 *    the batch back onto the free list after sending. A record keeps the
 *    capacity of its tag and log arrays, so once the pool is warm the
 *    instrumented thread does not allocate. Tags and logs are pointers to
 *    the caller's strings: copying them is the caller's choice
 *    (ltb_span_strdup), not a cost every span pays.
 *  - One mutex guards the pool, the buffer and the counters. It is held
 *    for a few stores at a time: the reporter swaps the whole buffer for
 *    the spare one in O(1), and gives a batch back by splicing one list.
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
#define FIRST_BUF 1024		/* buffer slots allocated at first */

/* Strings a span copied (ltb_span_strdup); blocks never move. */
struct strblk {
	struct strblk *next;
	size_t used, cap;
	char buf[];
};

struct ltb_span {
	struct ltb_tracer *t;
	struct ltb_span *next;		/* in the free list, or a batch */
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

	/* mu guards everything from here to st */
	pthread_mutex_t mu;
	pthread_cond_t wake;		/* to the reporter: flush, or stop */
	pthread_cond_t done;		/* to flushers: spans were handled */
	struct ltb_span *free;		/* the pool */
	struct ltb_span **buf;		/* the active buffer */
	size_t nbuf, capbuf;
	struct ltb_span **spare;	/* the other one, or the reporter's */
	size_t capspare;
	size_t max;
	uint64_t accepted;		/* spans put in the buffer, ever */
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

/* --- the instrumented side ---------------------------------------------- */

struct ltb_span *
ltb_span_start(struct ltb_tracer *t, const char *operation,
    const struct ltb_span_context *parent)
{
	struct ltb_span *s;
	struct strblk *b;

	if (t->noop)
		return &t->inert;
	pthread_mutex_lock(&t->mu);
	t->st.spans_started++;
	if ((s = t->free) != NULL)
		t->free = s->next;
	pthread_mutex_unlock(&t->mu);
	if (s == NULL && (s = calloc(1, sizeof *s)) == NULL) {
		/* The caller still gets a span to finish; it is lost. */
		pthread_mutex_lock(&t->mu);
		t->st.spans_finished++;
		t->st.spans_dropped++;
		pthread_mutex_unlock(&t->mu);
		return &t->inert;
	}
	s->t = t;
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

void
ltb_span_set_tag(struct ltb_span *s, const char *key, const char *value)
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
ltb_span_log(struct ltb_span *s, const char *key, const char *value)
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

/* With mu held: room for one more span in the active buffer. */
static int
grow_buffer(struct ltb_tracer *t)
{
	size_t cap = t->capbuf ? t->capbuf * 2 : FIRST_BUF;
	struct ltb_span **nb;

	if (cap > t->max)
		cap = t->max;
	if ((nb = realloc(t->buf, cap * sizeof *nb)) == NULL)
		return -1;
	t->buf = nb;
	t->capbuf = cap;
	return 0;
}

void
ltb_span_finish(struct ltb_span *s)
{
	struct ltb_tracer *t;

	if (s->inert)
		return;
	t = s->t;
	s->finish_tick = ticks(t);
	pthread_mutex_lock(&t->mu);
	t->st.spans_finished++;
	if (t->stopped || t->nbuf >= t->max ||
	    (t->nbuf == t->capbuf && grow_buffer(t) < 0)) {
		t->st.spans_dropped++;
		s->next = t->free;
		t->free = s;
	} else {
		t->buf[t->nbuf++] = s;
		t->accepted++;
	}
	pthread_mutex_unlock(&t->mu);
}

/* --- encoding ------------------------------------------------------------ */

/* A report of n spans, in t->enc; 0, or -1 when out of memory. */
static int
encode(struct ltb_tracer *t, struct ltb_span *const *batch, size_t n,
    const uint8_t **body, size_t *len)
{
	struct ltb_enc_span es;
	double rate = tick_rate(t);
	size_t i, j;

	if (ltb_enc_begin(&t->enc) < 0)
		return -1;
	/* the encoder writes backwards: the last span first */
	for (i = n; i-- > 0;) {
		struct ltb_span *s = batch[i];

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
report(struct ltb_tracer *t, struct ltb_span *const *batch, size_t n,
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

/* A report's worth of records goes back to the pool; string blocks past
 * the first are freed here, off the instrumented thread. */
static struct ltb_span *
chain(struct ltb_span **batch, size_t n, struct ltb_span **last)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct strblk *first = batch[i]->strs, *b, *nb;

		if (first != NULL) {
			for (b = first->next; b != NULL; b = nb) {
				nb = b->next;
				free(b);
			}
			first->next = NULL;
		}
		batch[i]->next = i + 1 < n ? batch[i + 1] : NULL;
	}
	*last = batch[n - 1];
	return batch[0];
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
		struct ltb_span **batch, *first, *last;
		size_t n, cap, len = 0;
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
		if (t->nbuf == 0)
			continue;

		batch = t->buf;
		n = t->nbuf;
		cap = t->capbuf;
		t->buf = t->spare;
		t->capbuf = t->capspare;
		t->nbuf = 0;
		t->spare = NULL;
		t->capspare = 0;
		pthread_mutex_unlock(&t->mu);

		err[0] = '\0';
		ok = report(t, batch, n, &len, err, sizeof err) == 0;
		first = chain(batch, n, &last);

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
		last->next = t->free;
		t->free = first;
		t->spare = batch;
		t->capspare = cap;
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
	t->max = c->max_buffered_spans;
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
	target = t->accepted;
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
	if (t->noop) {
		memset(st, 0, sizeof *st);
		return;
	}
	pthread_mutex_lock(&t->mu);
	*st = t->st;
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
	size_t i;

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

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->nbuf; i++) {
		t->buf[i]->next = t->free;
		t->free = t->buf[i];
	}
	t->st.spans_dropped += t->nbuf;
	t->handled += t->nbuf;
	t->nbuf = 0;
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
	struct ltb_span *s, *ns;
	size_t i;

	if (t == NULL)
		return;
	ltb_tracer_stop(t);
	for (s = t->free; s != NULL; s = ns) {
		ns = s->next;
		span_free(s);
	}
	free(t->buf);
	free(t->spare);
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
