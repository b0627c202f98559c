/*
 * ltb_message.c: one message, from a listener to a protocol; see
 * ltb_group.h.
 *
 * Everything a transport-neutral collector does to a message lives here,
 * so that every protocol on every transport gets it the same way: the
 * content type is matched against what the protocol reads, a gzip or
 * deflate body is inflated as it streams in (zlib; the size limit applies
 * to what comes out, so a small bomb cannot grow past it), the bandwidth
 * cap books the wire bytes, units found are counted per protocol and
 * checked for duplicates in batches, and the answer waits out the mode's
 * per-unit delay. When a script (ltb_script.h) is playing, the step in
 * force when the message begins decides its answer at the end instead of
 * the mode: an error status with the protocol's own body and a
 * Retry-After, a hang-up, a late answer, or a 200 that claims units
 * rejected. Knowing it from the start, the units of a message to be
 * refused are marked so in the duplicate set as they arrive: a retry
 * that gets through later is a duplicate and is counted retried.
 *
 * What a message holds is taken from the group's memory budget
 * (ltb_budget.h) before it is allocated: the message and its state as it
 * begins, and the protocol's held bytes as they grow. No room as it
 * begins is a 503 with Retry-After at once; no room later fails the
 * message the same way, answered once its body is read (or hung up on).
 *
 * Counting is exact under concurrency: each piece's units are added to
 * the port's atomic counters in one go; keys go through the duplicate set
 * under one lock per batch.
 *
 * A message's memory is not allocated per message: each thread keeps the
 * last one it freed, with its inflater and output chunk, and the next
 * message on the thread (a connection's next request: a connection has
 * its own thread) begins in it. What the budget is charged stays per
 * message, taken at begin and given back at free, as if allocated; the
 * one kept is freed with its thread.
 */
#include <pthread.h>
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "collector/ltb_dupset.h"
#include "collector/ltb_group.h"
#include "core/ltb_clock.h"

#define KEY_BATCH 256		/* keys checked per duplicate-set lock */
#define DUP_AHEAD 8		/* keys prefetched ahead of the one noted */
#define HELD_CAP (64u << 20)	/* largest held field when max_body is 0 */
#define DISCARD_MAX (1u << 20)	/* body read past a failure before we hang up */
#define INFLATE_CHUNK (64u * 1024)
#define ZLIB_STATE (44u * 1024)	/* inflateInit2's state and 32 KiB window */
#define BUSY_RETRY "1"		/* Retry-After of a refusal for the budget */
#define MEDIA_KEEP 128		/* bytes of a content type we look at */
#define DELAY_SLICE_NS 50000000u /* a script's delay looks up this often */

/* Per-unit delay of each mode, in picoseconds, as the original: 0.05 us,
 * 1 us, 0.01 us. */
static const uint64_t mode_delay_ps[LTB_NMODES] = { 50000, 1000000, 10000 };

enum coding { CODING_IDENTITY, CODING_GZIP, CODING_DEFLATE };

struct ltb_msg {
	/* Kept while the message waits for the next on its thread. */
	size_t cap;			/* bytes of state[] */
	z_stream z;
	int z_open, z_bits;		/* z is set up, for z_bits */
	uint8_t *zout;			/* INFLATE_CHUNK, or NULL */
	/* Zeroed as each message begins, from port to keys. */
	struct ltb_port *port;
	const struct ltb_collector_proto *proto;
	struct ltb_proto_counts *pc;	/* port->pc[the protocol's index] */
	int mode;
	int step;			/* the script's step deciding, or -1 */
	uint64_t step_gen;
	struct ltb_script_step st;	/* a copy of it */
	int refused;			/* it refuses: an error or a hang-up */
	uint64_t start_ns;		/* monotonic */
	int owe_delay;			/* the listener waits (ltb_msg_head) */
	uint64_t owed_ns;		/* what it is to wait, after end */
	uint64_t max_body;		/* decoded bytes allowed, 0: any */
	size_t reserved;		/* taken from the budget at begin */
	int rc;				/* LTB_COLLECT_OK while fine */
	const char *why;
	uint64_t discarded;		/* wire bytes read after a failure */
	uint64_t units;			/* in this message */
	uint64_t decoded;		/* body bytes after decoding */
	enum coding coding;
	int z_done;
	/* a piece's worth of counts, added to the port's in one go */
	uint64_t p_units, p_invalid_units;
	uint64_t p_invalid[LTB_MAX_INVALID];
	uint64_t p_kinds[LTB_MAX_KINDS];
	int p_any_kind;
	size_t nkeys;
	/* Written before they are read: not zeroed. */
	uint64_t keys[KEY_BATCH];
	uint8_t kbad[KEY_BATCH];	/* the key's unit is invalid */
	_Alignas(max_align_t) unsigned char state[];
};

/* ---- counting ------------------------------------------------------------ */

/* Add the piece's counts to the port's; duplicates first, so a reader of
 * /stats never sees more duplicates than units. */
static void
msg_commit(struct ltb_msg *m)
{
	struct ltb_sat *g = m->port->group;
	struct ltb_proto_counts *n = m->pc;
	uint64_t dups = 0, fresh = 0, retried = 0;
	enum ltb_dup_seen seen;

	if (m->nkeys > 0) {
		pthread_mutex_lock(&g->dup_lock);
		for (size_t i = 0; i < m->nkeys; i++) {
			/* a few keys ahead, so their cache misses overlap */
			if (i + DUP_AHEAD < m->nkeys)
				ltb_dupset_prefetch(g->dups,
				    m->keys[i + DUP_AHEAD]);
			seen = ltb_dupset_note(g->dups, m->keys[i], m->refused);
			dups += seen != LTB_DUP_NEW;
			/* What was sent, refused and not yet through: valid
			 * units only, as invalid ones are never intact. */
			if (m->kbad[i])
				continue;
			fresh += m->refused && seen == LTB_DUP_NEW;
			retried += !m->refused && seen == LTB_DUP_REFUSED;
		}
		pthread_mutex_unlock(&g->dup_lock);
		m->nkeys = 0;
	}
	if (dups)
		atomic_fetch_add_explicit(&n->duplicates, dups,
		    memory_order_relaxed);
	if (fresh)
		atomic_fetch_add_explicit(&n->refused_new, fresh,
		    memory_order_relaxed);
	if (retried)
		atomic_fetch_add_explicit(&n->retried, retried,
		    memory_order_relaxed);
	if (m->refused && m->p_units)
		atomic_fetch_add_explicit(&n->refused, m->p_units,
		    memory_order_relaxed);
	if (m->p_invalid_units) {
		for (unsigned i = 1; i < LTB_MAX_INVALID; i++)
			if (m->p_invalid[i]) {
				atomic_fetch_add_explicit(&n->invalid[i],
				    m->p_invalid[i], memory_order_relaxed);
				m->p_invalid[i] = 0;
			}
		atomic_fetch_add_explicit(&n->invalid_units,
		    m->p_invalid_units, memory_order_relaxed);
		m->p_invalid_units = 0;
	}
	if (m->p_any_kind) {
		for (unsigned i = 0; i < LTB_MAX_KINDS; i++)
			if (m->p_kinds[i]) {
				atomic_fetch_add_explicit(&n->kinds[i],
				    m->p_kinds[i], memory_order_relaxed);
				m->p_kinds[i] = 0;
			}
		m->p_any_kind = 0;
	}
	if (m->p_units) {
		atomic_fetch_add_explicit(&n->units, m->p_units,
		    memory_order_relaxed);
		m->p_units = 0;
	}
}

/* The sink a protocol hands each unit to. */
static void
msg_unit(void *ctx, uint64_t key, unsigned invalid)
{
	struct ltb_msg *m = ctx;

	m->units++;
	/* slow_fail answers 400: what it received is not counted. */
	if (m->mode == LTB_MODE_SLOW_FAIL)
		return;
	m->p_units++;
	if (invalid > 0 && invalid < LTB_MAX_INVALID) {
		m->p_invalid[invalid]++;
		m->p_invalid_units++;
	}
	/* A unit without identity is never a duplicate: nothing to note.
	 * Counts go to the port every KEY_BATCH units; keys, never more
	 * than units since the last commit, cannot fill the batch first. */
	if (key != 0) {
		m->kbad[m->nkeys] = invalid > 0;
		m->keys[m->nkeys++] = key;
	}
	if (m->p_units == KEY_BATCH)
		msg_commit(m);
}

/* The kind of the unit just given: counted with the piece's units. */
static void
msg_kind(void *ctx, unsigned kind)
{
	struct ltb_msg *m = ctx;

	if (m->mode == LTB_MODE_SLOW_FAIL || kind >= LTB_MAX_KINDS ||
	    kind >= m->proto->nkinds)
		return;
	m->p_kinds[kind]++;
	m->p_any_kind = 1;
}

static const struct ltb_span_sink *
msg_sink(struct ltb_msg *m, struct ltb_span_sink *sink)
{
	sink->span = msg_unit;
	sink->kind = msg_kind;
	sink->ctx = m;
	return sink;
}

/* ---- answers ------------------------------------------------------------- */

static void reply_text(struct ltb_reply *r, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
reply_text(struct ltb_reply *r, unsigned status, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->status = status;
	r->content_type = "text/plain";
	va_start(ap, fmt);
	n = vsnprintf((char *)r->body, sizeof r->body, fmt, ap);
	va_end(ap);
	r->len = n < 0 ? 0 : (size_t)n >= sizeof r->body ?
	    sizeof r->body - 1 : (size_t)n;
}

static unsigned
status_of(int rc)
{
	switch (rc) {
	case LTB_COLLECT_TOO_LARGE:
		return 413;
	case LTB_COLLECT_UNSUPPORTED:
		return 415;
	case LTB_COLLECT_BUSY:
		return 503;
	default:
		return 400;
	}
}

/* The answer to a failed message: the protocol's own form if it has one,
 * else a line of text. */
static void
reply_failure(struct ltb_msg *m, struct ltb_reply *r)
{
	static const char *const what[] = {
		[0] = "malformed report", [1] = "report too large",
		[2] = "unsupported report", [3] = "satellite busy, retry"
	};
	unsigned status = status_of(m->rc);

	memset(r, 0, sizeof *r);
	r->status = status;
	if (m->proto->refuse != NULL)
		m->proto->refuse(m->state, m->rc, m->why, r);
	if (r->content_type == NULL)
		reply_text(r, status, "%s: %s\n", what[status == 413 ? 1 :
		    status == 415 ? 2 : status == 503 ? 3 : 0], m->why);
	if (m->rc == LTB_COLLECT_BUSY)
		snprintf(r->retry_after, sizeof r->retry_after, BUSY_RETRY);
}

/* ---- content type and encoding ------------------------------------------- */

/* "Application/JSON; charset=utf-8" -> "application/json". */
static void
media_type(char *out, size_t cap, const char *ct)
{
	size_t i = 0;

	if (ct != NULL) {
		while (*ct == ' ' || *ct == '\t')
			ct++;
		for (; ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' &&
		    ct[i] != '\t' && i + 1 < cap; i++)
			out[i] = (char)tolower((unsigned char)ct[i]);
	}
	out[i] = '\0';
}

static int
coding_parse(const char *enc, enum coding *c)
{
	if (enc == NULL || *enc == '\0' || strcasecmp(enc, "identity") == 0)
		*c = CODING_IDENTITY;
	else if (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0)
		*c = CODING_GZIP;
	else if (strcasecmp(enc, "deflate") == 0)
		*c = CODING_DEFLATE;
	else
		return -1;
	return 0;
}

/* Set up the inflater, or reset the one the message kept: for another
 * wrapper, inflateReset2 keeps the window (both are 32 KiB). */
static int
inflate_open(struct ltb_msg *m)
{
	/* 16 + 15: a gzip wrapper; 15: zlib's (HTTP's "deflate"). */
	int bits = m->coding == CODING_GZIP ? 16 + MAX_WBITS : MAX_WBITS;

	if (m->zout == NULL && (m->zout = malloc(INFLATE_CHUNK)) == NULL)
		return -1;
	if (m->z_open) {
		if (inflateReset2(&m->z, bits) == Z_OK) {
			m->z_bits = bits;
			return 0;
		}
		inflateEnd(&m->z);
		m->z_open = 0;
	}
	memset(&m->z, 0, sizeof m->z);
	if (inflateInit2(&m->z, bits) != Z_OK)
		return -1;
	m->z_open = 1;
	m->z_bits = bits;
	return 0;
}

/* ---- the thread's spare message ------------------------------------------ */

static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static pthread_key_t spare_key;
static int spare_ok;
static size_t state_max;	/* the largest protocol state */

static void
msg_unmake(void *v)
{
	struct ltb_msg *m = v;

	if (m->z_open)
		inflateEnd(&m->z);
	free(m->zout);
	free(m);
}

/* One size for every protocol: any message fits the spare. */
static void
spare_init(void)
{
	const struct ltb_collector_proto *p;

	for (size_t i = 0; (p = ltb_collector_protocols[i]) != NULL; i++)
		if (p->state_size > state_max)
			state_max = p->state_size;
	spare_ok = pthread_key_create(&spare_key, msg_unmake) == 0;
}

/* The thread's spare, or a new message with room for state bytes; its
 * per-message fields are not yet zeroed. */
static struct ltb_msg *
msg_get(size_t state)
{
	struct ltb_msg *m;
	size_t cap;

	pthread_once(&spare_once, spare_init);
	if (spare_ok && (m = pthread_getspecific(spare_key)) != NULL) {
		if (m->cap >= state) {
			(void)pthread_setspecific(spare_key, NULL);
			return m;
		}
	}
	cap = state > state_max ? state : state_max;
	if ((m = malloc(sizeof *m + cap)) == NULL)
		return NULL;
	m->cap = cap;
	m->z_open = 0;
	m->zout = NULL;
	return m;
}

/* m is done with: the thread's spare, unless it has one. */
static void
msg_put(struct ltb_msg *m)
{
	if (spare_ok && pthread_getspecific(spare_key) == NULL &&
	    pthread_setspecific(spare_key, m) == 0)
		return;
	msg_unmake(m);
}

/* ---- the message --------------------------------------------------------- */

/*
 * Answer a message refused before its body: in the protocol's own form
 * when it has one (OTLP wants a google.rpc.Status for every 4xx), for
 * which its state is begun as if for a message of the protocol's first
 * content type when the one sent is not one it reads; otherwise a line of
 * text saying what to do.
 */
static void
refuse_early(const struct ltb_collector_proto *p, const char *ct,
    unsigned status, int rc, const char *why, struct ltb_reply *reply)
{
	struct ltb_message info = { .path = p->path, .encoding = "",
	    .max_field = 1 };
	void *state;

	info.content_type = ltb_collector_reads(p, ct) ? ct :
	    p->content_types[0];
	memset(reply, 0, sizeof *reply);
	if (p->refuse != NULL && (state = calloc(1, p->state_size)) != NULL) {
		if (p->begin(state, &info) == LTB_COLLECT_OK) {
			reply->status = status;
			p->refuse(state, rc, why, reply);
			p->release(state);
		}
		free(state);
		if (reply->content_type != NULL)
			return;
	}
	if (status == 415 && !ltb_collector_reads(p, ct))
		reply_text(reply, status, "%s does not read content type "
		    "'%s'\n", p->name, ct);
	else if (status == 503)
		reply_text(reply, status, "satellite busy, retry: %s\n", why);
	else
		reply_text(reply, status, "%s: %s\n", status == 413 ?
		    "report too large" : "unsupported report", why);
}

/* The most a protocol may hold of a message: --max-body, or HELD_CAP. */
static size_t
held_cap(const struct ltb_sat *g)
{
	return g->cfg.max_body ? (size_t)g->cfg.max_body : HELD_CAP;
}

/*
 * What a message takes from the budget as it begins: the message, the
 * protocol's state and, for a compressed body, the inflater. The bytes
 * the protocol gathers are taken as they come, but a body held whole
 * (--validate full) whose length is declared and not encoded is taken
 * whole at once, with what it may hold (*max_field) cut to it: refused
 * then, it gets its 503 before a byte of it is sent. Else *max_field is
 * held_cap.
 */
static size_t
reservation(const struct ltb_sat *g, const struct ltb_collector_proto *p,
    enum coding coding, const struct ltb_msg_head *head, size_t *max_field)
{
	size_t n = sizeof(struct ltb_msg) + p->state_size;

	*max_field = held_cap(g);
	if (coding != CODING_IDENTITY)
		n += INFLATE_CHUNK + ZLIB_STATE;
	else if (g->cfg.full_validate && head->declared_len < *max_field) {
		/* at least 1: a max_field of 0 would refuse any byte */
		*max_field = head->declared_len ? (size_t)head->declared_len : 1;
		n += *max_field;
	}
	return n;
}

/* Give back what begin took, the protocol's state aside. */
static void
msg_destroy(struct ltb_msg *m)
{
	ltb_budget_give(&m->port->group->budget, m->reserved);
	msg_put(m);
}

struct ltb_msg *
ltb_msg_begin(struct ltb_port *port, const struct ltb_collector_proto *p,
    const struct ltb_msg_head *head, struct ltb_reply *reply)
{
	struct ltb_sat *g = port->group;
	char ct[MEDIA_KEEP];
	struct ltb_message info;
	struct ltb_msg *m;
	enum coding coding;
	size_t reserved, max_field;

	memset(reply, 0, sizeof *reply);
	media_type(ct, sizeof ct, head->content_type);
	if (!ltb_collector_reads(p, ct)) {
		ltb_port_reject(port, p, LTB_REJECT_MEDIA_TYPE);
		refuse_early(p, ct, 415, LTB_COLLECT_UNSUPPORTED,
		    "a content type this protocol does not read", reply);
		return NULL;
	}
	if (coding_parse(head->encoding, &coding) < 0) {
		ltb_port_reject(port, p, LTB_REJECT_ENCODING);
		refuse_early(p, ct, 415, LTB_COLLECT_UNSUPPORTED,
		    "unsupported content encoding: use gzip, deflate or none",
		    reply);
		return NULL;
	}
	if (g->cfg.max_body && head->declared_len != UINT64_MAX &&
	    head->declared_len > g->cfg.max_body) {
		ltb_port_reject(port, p, LTB_REJECT_TOO_LARGE);
		refuse_early(p, ct, 413, LTB_COLLECT_TOO_LARGE,
		    "declared length over the body limit", reply);
		return NULL;
	}
	reserved = reservation(g, p, coding, head, &max_field);
	if (g->budget.limit && reserved > g->budget.limit) {
		/* Never, not later either. */
		ltb_port_reject(port, p, LTB_REJECT_TOO_LARGE);
		refuse_early(p, ct, 413, LTB_COLLECT_TOO_LARGE,
		    "declared length over the satellite's memory budget",
		    reply);
		return NULL;
	}
	if (ltb_budget_take(&g->budget, reserved) < 0) {
		ltb_port_reject(port, p, LTB_REJECT_MEMORY_BUDGET);
		refuse_early(p, ct, 503, LTB_COLLECT_BUSY, LTB_BUDGET_WHY,
		    reply);
		snprintf(reply->retry_after, sizeof reply->retry_after,
		    BUSY_RETRY);
		return NULL;
	}
	if ((m = msg_get(p->state_size)) == NULL) {
		ltb_budget_give(&g->budget, reserved);
		goto nomem;
	}
	memset(&m->port, 0, offsetof(struct ltb_msg, keys) -
	    offsetof(struct ltb_msg, port));
	memset(m->state, 0, p->state_size);
	m->reserved = reserved;
	m->port = port;
	m->proto = p;
	m->pc = &port->pc[ltb_proto_index(p)];
	m->mode = atomic_load(&g->mode);
	/* A step in force replaces the mode for this message. */
	if ((m->step = ltb_sat_script_step(g, &m->st, &m->step_gen)) >= 0) {
		m->mode = LTB_MODE_TYPICAL;
		m->refused = ltb_script_step_refuses(&m->st);
	}
	m->start_ns = ltb_mono_ns();
	m->owe_delay = head->owe_delay;
	m->max_body = g->cfg.max_body;
	m->coding = coding;
	info = (struct ltb_message){
		.path = head->path, .content_type = ct,
		.encoding = head->encoding != NULL ? head->encoding : "",
		.start_real_ns = ltb_real_ns(),
		.max_field = max_field,
		.full = g->cfg.full_validate,
		.claim_rejected = m->step >= 0 ? m->st.partial_success : 0,
		.budget = &g->budget,
		/* A body reserved whole holds inside what was reserved. */
		.body_taken = max_field < held_cap(g),
		.shared = g->shared[ltb_proto_index(p)],
	};
	if (coding != CODING_IDENTITY && inflate_open(m) < 0) {
		msg_destroy(m);
		goto nomem;
	}
	if ((m->rc = p->begin(m->state, &info)) != LTB_COLLECT_OK) {
		/* Nothing of the protocol's to release or to answer with. */
		ltb_port_reject(port, p, m->rc == LTB_COLLECT_UNSUPPORTED ?
		    LTB_REJECT_MEDIA_TYPE : LTB_REJECT_MALFORMED);
		reply_text(reply, status_of(m->rc), "%s cannot read this "
		    "message\n", p->name);
		msg_destroy(m);
		return NULL;
	}
	return m;
nomem:
	reply_text(reply, 503, "out of memory\n");
	return NULL;
}

static void
msg_fail(struct ltb_msg *m, int rc, const char *why)
{
	m->rc = rc;
	m->why = why;
	ltb_port_reject(m->port, m->proto, rc == LTB_COLLECT_TOO_LARGE ?
	    LTB_REJECT_TOO_LARGE : rc == LTB_COLLECT_UNSUPPORTED ?
	    LTB_REJECT_MEDIA_TYPE : rc == LTB_COLLECT_BUSY ?
	    LTB_REJECT_MEMORY_BUDGET : LTB_REJECT_MALFORMED);
}

static int wait_while_up(struct ltb_sat *g, uint64_t when_ns);

#define THROTTLE_SLICE_NS 200000000u /* a throttle's wait up to this is one sleep */

/* Throttle to the port's bandwidth (ltb_bucket.h): a piece that fits the
 * bucket goes on at once; one that empties it waits, once, for a quantum
 * of the rate; not a wake-up per piece. */
static void
throttle(struct ltb_port *port, size_t n)
{
	uint64_t bw = port->group->cfg.bandwidth, now, until;

	if (bw == 0)
		return;
	now = ltb_mono_ns();
	pthread_mutex_lock(&port->bw_lock);
	until = ltb_bucket_take(&port->bw, bw, n, now);
	pthread_mutex_unlock(&port->bw_lock);
	/* One sleep for a quantum's wait; in slices at a low rate, so that
	 * /down need not wait for it. */
	if (until > now + THROTTLE_SLICE_NS)
		(void)wait_while_up(port->group, until);
	else if (until > now)
		ltb_sleep_until_ns(until);
}

/* Decoded bytes to the protocol. */
static void
msg_deliver(struct ltb_msg *m, const uint8_t *p, size_t n)
{
	struct ltb_span_sink sink;
	const char *why = "";
	int rc;

	m->decoded += n;
	if (m->max_body && m->decoded > m->max_body) {
		msg_fail(m, LTB_COLLECT_TOO_LARGE,
		    m->coding == CODING_IDENTITY ? "body over the limit" :
		    "body over the limit once inflated");
		return;
	}
	rc = m->proto->feed(m->state, p, n, msg_sink(m, &sink), &why);
	msg_commit(m);
	if (rc != LTB_COLLECT_OK)
		msg_fail(m, rc, why);
}

/* Inflate a piece and deliver what comes out, chunk by chunk. Members of
 * a gzip body follow one another (RFC 1952): after one ends, the next
 * begins if bytes remain. */
static void
msg_inflate(struct ltb_msg *m, const uint8_t *p, size_t n)
{
	z_stream *z = &m->z;
	size_t out;
	int zrc;

	z->next_in = (Bytef *)p;
	z->avail_in = (uInt)n;
	do {
		if (m->z_done) {
			if (z->avail_in == 0)
				break;
			if (inflateReset(z) != Z_OK) {
				msg_fail(m, LTB_COLLECT_MALFORMED,
				    "cannot restart the inflater");
				return;
			}
			m->z_done = 0;
		}
		z->next_out = m->zout;
		z->avail_out = INFLATE_CHUNK;
		zrc = inflate(z, Z_NO_FLUSH);
		if (zrc == Z_STREAM_END)
			m->z_done = 1;
		else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			msg_fail(m, LTB_COLLECT_MALFORMED, m->coding ==
			    CODING_GZIP ? "not a gzip body" :
			    "not a deflate body");
			return;
		}
		if ((out = INFLATE_CHUNK - z->avail_out) > 0)
			msg_deliver(m, m->zout, out);
		if (zrc == Z_BUF_ERROR)
			break;		/* no progress without more input */
		/* A full output chunk may have more behind it. */
	} while ((z->avail_in > 0 || z->avail_out == 0) &&
	    m->rc == LTB_COLLECT_OK);
}

int
ltb_msg_feed(struct ltb_msg *m, const uint8_t *p, size_t n)
{
	if (m->rc != LTB_COLLECT_OK) {
		/* A listener that can only answer once the body is read reads
		 * the rest and drops it; but a peer streaming garbage must not
		 * hold the connection forever. */
		m->discarded += n;
		return m->discarded > DISCARD_MAX ? -1 : 0;
	}
	if (m->mode != LTB_MODE_SLOW_FAIL)
		atomic_fetch_add_explicit(&m->pc->bytes, n,
		    memory_order_relaxed);
	throttle(m->port, n);
	if (m->coding == CODING_IDENTITY)
		msg_deliver(m, p, n);
	else
		msg_inflate(m, p, n);
	return 0;
}

/* Wait until when_ns, in slices, unless the group goes down: a long
 * scripted delay must not hold up /down or a stop. 0 once waited, -1 if
 * the group went down meanwhile. */
static int
wait_while_up(struct ltb_sat *g, uint64_t when_ns)
{
	uint64_t now;

	while ((now = ltb_mono_ns()) < when_ns) {
		if (!atomic_load(&g->up))
			return -1;
		ltb_sleep_until_ns(when_ns - now > DELAY_SLICE_NS ?
		    now + DELAY_SLICE_NS : when_ns);
	}
	return atomic_load(&g->up) ? 0 : -1;
}

/* The answer of the script's step to a message read whole; reply holds
 * the protocol's success answer. */
static void
script_answer(struct ltb_msg *m, struct ltb_reply *reply, uint64_t read_ns)
{
	const struct ltb_script_step *st = &m->st;
	struct ltb_sat *g = m->port->group;
	char what[96];

	if (st->delay_ms &&
	    wait_while_up(g, read_ns + st->delay_ms * 1000000u) < 0) {
		reply->status = LTB_REPLY_DROP;		/* going down */
		return;
	}
	ltb_sat_script_answered(g, m->step_gen, m->step, m->units);
	if (st->drop) {
		ltb_port_reject(m->port, m->proto, LTB_REJECT_SCRIPTED);
		memset(reply, 0, sizeof *reply);
		reply->status = LTB_REPLY_DROP;
		return;
	}
	if (st->status) {
		ltb_port_reject(m->port, m->proto, LTB_REJECT_SCRIPTED);
		memset(reply, 0, sizeof *reply);
		reply->status = st->status;
		ltb_script_step_describe(st, what, sizeof what);
		if (m->proto->refuse != NULL)
			m->proto->refuse(m->state, LTB_COLLECT_OK,
			    "scripted answer", reply);
		if (reply->content_type == NULL)
			reply_text(reply, st->status, "satellite script, step "
			    "%d: %s\n", m->step, what);
		reply->status = st->status;
		snprintf(reply->retry_after, sizeof reply->retry_after, "%s",
		    st->retry_after);
		return;
	}
	/* A delay or a partial success (the protocol built it, told at
	 * begin): the message is taken. */
	atomic_fetch_add_explicit(&m->pc->messages, 1, memory_order_relaxed);
	if (reply->status == 0)
		reply->status = 200;
}

void
ltb_msg_end(struct ltb_msg *m, struct ltb_reply *reply)
{
	struct ltb_span_sink sink;
	const char *why = "";
	uint64_t delay_ns, read_ns;
	int rc;

	memset(reply, 0, sizeof *reply);
	if (m->rc == LTB_COLLECT_OK && m->coding != CODING_IDENTITY &&
	    !m->z_done)
		msg_fail(m, LTB_COLLECT_MALFORMED, "truncated compressed body");
	if (m->rc != LTB_COLLECT_OK) {
		reply_failure(m, reply);
		return;
	}
	rc = m->proto->end(m->state, msg_sink(m, &sink), reply, &why);
	msg_commit(m);
	if (rc != LTB_COLLECT_OK) {
		msg_fail(m, rc, why);
		reply_failure(m, reply);
		return;
	}
	/* The mode's delay counts from when the message began: the time
	 * spent reading it is part of the answer's latency. */
	read_ns = ltb_mono_ns();
	delay_ns = m->units * mode_delay_ps[m->mode] / 1000;
	/* A datagram listener's one thread would pay a sleep's own cost,
	 * tens of us, for every message owing a us: it sleeps once for a
	 * batch instead. */
	if (m->owe_delay)
		m->owed_ns = m->start_ns + delay_ns > read_ns ?
		    m->start_ns + delay_ns - read_ns : 0;
	else
		ltb_sleep_until_ns(m->start_ns + delay_ns);
	if (m->step >= 0) {
		script_answer(m, reply, read_ns);
		return;
	}
	if (m->mode == LTB_MODE_SLOW_FAIL) {
		ltb_port_reject(m->port, m->proto, LTB_REJECT_SLOW_FAIL);
		memset(reply, 0, sizeof *reply);
		reply->status = 400;
		if (m->proto->refuse != NULL)
			m->proto->refuse(m->state, LTB_COLLECT_OK,
			    "satellite in slow_fail mode", reply);
		if (reply->content_type == NULL)
			reply_text(reply, 400, "satellite in slow_fail mode: "
			    "report refused\n");
		return;
	}
	atomic_fetch_add_explicit(&m->pc->messages, 1, memory_order_relaxed);
	if (reply->status == 0)
		reply->status = 200;
}

void
ltb_msg_free(struct ltb_msg *m)
{
	if (m == NULL)
		return;
	m->proto->release(m->state);
	msg_destroy(m);
}

uint64_t
ltb_msg_owed_ns(const struct ltb_msg *m)
{
	return m->owed_ns;
}
