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
 *  - The reporter packs with protobuf-c from structs it lays out in arrays
 *    of its own that only grow, so a steady state packs without malloc.
 *    It frames the outer messages itself and lets protobuf-c pack one span
 *    at a time (see encode_lightstep and encode_otlp).
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

#include "lightstep_collector.pb-c.h"
#include "otlp_trace.pb-c.h"
#include "client/ltb_tracer.h"
#include "core/ltb_clock.h"
#include "core/ltb_hash.h"

typedef Lightstep__Collector__KeyValue Kv;
typedef Lightstep__Collector__Log Log;
typedef Lightstep__Collector__Span Span;
typedef Lightstep__Collector__SpanContext Ctx;
typedef Lightstep__Collector__Reference Ref;
typedef Lightstep__Collector__Timestamp Ts;
typedef Ltb__Otlp__Span Ospan;
typedef Ltb__Otlp__KeyValue Okv;
typedef Ltb__Otlp__AnyValue Oany;
typedef Ltb__Otlp__Span__Event Oevent;

#define STRBLK 512		/* bytes of a span's first string block */
#define FIRST_BUF 1024		/* buffer slots allocated at first */

struct tag {
	const char *key, *value;
};

struct log {
	uint64_t ns;
	const char *key, *value;
};

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
	uint64_t start_ns, finish_ns;	/* CLOCK_REALTIME */
	struct tag *tags;
	struct log *logs;
	uint32_t ntags, captags, nlogs, caplogs;
	struct strblk *strs;
	int inert;			/* records nothing: NoOp, or no memory */
};

struct port {
	CURL *h;
	char url[128];
	char errbuf[CURL_ERROR_SIZE];
};

/* The protobuf-c structs of a span, owned by the reporter, grow-only. */
struct espan {
	Span sp;
	Ctx ctx, refctx;
	Ref ref, *refp;
	Ts start;
};

struct elog {
	Log lg;
	Ts ts;
	Kv kv, *kvp;
};

/* The same for OTLP: a string attribute, an event, a span's ids. */
struct oattr {
	Okv kv;
	Oany v;
};

struct oevent {
	Oevent ev;
	struct oattr a;
	Okv *ap;
};

struct ospan {
	Ospan sp;
	uint8_t ids[32];		/* trace id, span id, parent span id */
};

struct encoder {
	enum ltb_tracer_protocol protocol;
	uint8_t *out;			/* the report is out[start..len) */
	size_t start, len, capout;
	char *token, *component;

	/* LightStep */
	struct espan sp;		/* one span at a time */
	Kv *tags, **tagp;
	struct elog *logs;
	Log **logp;
	size_t captags, captagp, caplogs, caplogp;
	uint64_t reporter_id;

	/* OTLP */
	struct ospan osp;		/* one span at a time */
	struct oattr *oattrs;
	Okv **oattrp;
	struct oevent *oevents;
	Oevent **oeventp;
	size_t capoattrs, capoattrp, capoevents, capoeventp;
	uint64_t trace_hi;		/* the high half of every trace id */
	uint8_t *resource, *scope;	/* framed as fields, packed once */
	size_t nresource, nscope;
};

struct ltb_tracer {
	int noop;
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
	struct encoder enc;
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
	return s;
}

const struct ltb_span_context *
ltb_span_context(const struct ltb_span *s)
{
	return &s->ctx;
}

void
ltb_span_set_tag(struct ltb_span *s, const char *key, const char *value)
{
	struct tag *tg;

	if (s->inert || key == NULL || value == NULL)
		return;
	if (s->ntags == s->captags) {
		size_t cap = s->captags;

		if (s->ntags == UINT32_MAX / 2 ||
		    reserve(&s->tags, &cap, (size_t)s->ntags + 1,
		    sizeof *s->tags) < 0)
			return;
		s->captags = (uint32_t)cap;
	}
	tg = &s->tags[s->ntags++];
	tg->key = key;
	tg->value = value;
}

void
ltb_span_log(struct ltb_span *s, const char *key, const char *value)
{
	struct log *l;

	if (s->inert || key == NULL || value == NULL)
		return;
	if (s->nlogs == s->caplogs) {
		size_t cap = s->caplogs;

		if (s->nlogs == UINT32_MAX / 2 ||
		    reserve(&s->logs, &cap, (size_t)s->nlogs + 1,
		    sizeof *s->logs) < 0)
			return;
		s->caplogs = (uint32_t)cap;
	}
	l = &s->logs[s->nlogs++];
	l->ns = ltb_real_ns();
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
	uint64_t now;

	if (s->inert)
		return;
	t = s->t;
	now = ltb_real_ns();
	s->finish_ns = now > s->start_ns ? now : s->start_ns;
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

static void
set_ts(Ts *ts, uint64_t ns)
{
	static const Ts init = LIGHTSTEP__COLLECTOR__TIMESTAMP__INIT;

	*ts = init;
	ts->seconds = (int64_t)(ns / 1000000000u);
	ts->nanos = (int32_t)(ns % 1000000000u);
}

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Make room for need more bytes after e->len in e->out. */
static int
room(struct encoder *e, size_t need)
{
	if (need > SIZE_MAX - e->len)
		return -1;
	return reserve(&e->out, &e->capout, e->len + need, 1);
}

/*
 * Append field number field (length-delimited) holding message m, packed
 * by protobuf-c. Asking protobuf-c for a message's size packs nothing, so
 * sizing once and packing once is the least it can be asked to do.
 */
static int
put_message(struct encoder *e, unsigned field, const ProtobufCMessage *m)
{
	size_t size = protobuf_c_message_get_packed_size(m);

	if (room(e, 1 + 10 + size) < 0)
		return -1;
	e->out[e->len++] = (uint8_t)(field << 3 | 2);
	e->len += put_varint(e->out + e->len, size);
	e->len += protobuf_c_message_pack(m, e->out + e->len);
	return 0;
}

/* The protobuf-c structs of one LightStep span, in e's scratch space. */
static int
span_structs(struct encoder *e, const struct ltb_span *s)
{
	static const Span span_init = LIGHTSTEP__COLLECTOR__SPAN__INIT;
	static const Ctx ctx_init = LIGHTSTEP__COLLECTOR__SPAN_CONTEXT__INIT;
	static const Ref ref_init = LIGHTSTEP__COLLECTOR__REFERENCE__INIT;
	static const Kv kv_init = LIGHTSTEP__COLLECTOR__KEY_VALUE__INIT;
	static const Log log_init = LIGHTSTEP__COLLECTOR__LOG__INIT;
	struct espan *es = &e->sp;
	size_t j;

	if (reserve(&e->tags, &e->captags, s->ntags, sizeof *e->tags) < 0 ||
	    reserve(&e->tagp, &e->captagp, s->ntags, sizeof *e->tagp) < 0 ||
	    reserve(&e->logs, &e->caplogs, s->nlogs, sizeof *e->logs) < 0 ||
	    reserve(&e->logp, &e->caplogp, s->nlogs, sizeof *e->logp) < 0)
		return -1;
	es->sp = span_init;
	es->ctx = ctx_init;
	es->ctx.trace_id = s->ctx.trace_id;
	es->ctx.span_id = s->ctx.span_id;
	es->sp.span_context = &es->ctx;
	es->sp.operation_name = (char *)s->op;
	if (s->parent != 0) {
		es->refctx = ctx_init;
		es->refctx.trace_id = s->ctx.trace_id;
		es->refctx.span_id = s->parent;
		es->ref = ref_init;
		es->ref.relationship =
		    LIGHTSTEP__COLLECTOR__REFERENCE__RELATIONSHIP__CHILD_OF;
		es->ref.span_context = &es->refctx;
		es->refp = &es->ref;
		es->sp.n_references = 1;
		es->sp.references = &es->refp;
	}
	set_ts(&es->start, s->start_ns);
	es->sp.start_timestamp = &es->start;
	es->sp.duration_micros = (s->finish_ns - s->start_ns) / 1000;

	es->sp.n_tags = s->ntags;
	es->sp.tags = e->tagp;
	for (j = 0; j < s->ntags; j++) {
		Kv *kv = &e->tags[j];

		*kv = kv_init;
		kv->key = (char *)s->tags[j].key;
		kv->value_case =
		    LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
		kv->string_value = (char *)s->tags[j].value;
		e->tagp[j] = kv;
	}
	es->sp.n_logs = s->nlogs;
	es->sp.logs = e->logp;
	for (j = 0; j < s->nlogs; j++) {
		struct elog *el = &e->logs[j];

		el->lg = log_init;
		el->kv = kv_init;
		el->kv.key = (char *)s->logs[j].key;
		el->kv.value_case =
		    LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
		el->kv.string_value = (char *)s->logs[j].value;
		el->kvp = &el->kv;
		set_ts(&el->ts, s->logs[j].ns);
		el->lg.timestamp = &el->ts;
		el->lg.n_fields = 1;
		el->lg.fields = &el->kvp;
		e->logp[j] = &el->lg;
	}
	return 0;
}

/*
 * Pack n spans into e->out as a ReportRequest; its length is e->len.
 * Returns 0, or -1 when out of memory.
 *
 * The bytes are those of protobuf-c's report_request__pack (fields in
 * number order: reporter, auth, then each span), but framed here span by
 * span: packing the whole request would have protobuf-c size the whole
 * tree once more, and would need every span's structs at once, megabytes
 * that miss the cache, where one span's structs stay in it.
 */
static int
encode_lightstep(struct encoder *e, struct ltb_span *const *batch, size_t n)
{
	static const Kv kv_init = LIGHTSTEP__COLLECTOR__KEY_VALUE__INIT;
	Lightstep__Collector__Reporter rep =
	    LIGHTSTEP__COLLECTOR__REPORTER__INIT;
	Lightstep__Collector__Auth auth = LIGHTSTEP__COLLECTOR__AUTH__INIT;
	Kv reptags[3], *reptagp[3];
	size_t i;

	for (i = 0; i < 3; i++) {
		reptags[i] = kv_init;
		reptags[i].value_case =
		    LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
		reptagp[i] = &reptags[i];
	}
	reptags[0].key = "lightstep.tracer_platform";
	reptags[0].string_value = "c";
	reptags[1].key = "lightstep.tracer_version";
	reptags[1].string_value = "ltb-1";
	reptags[2].key = "lightstep.component_name";
	reptags[2].string_value = e->component;
	rep.reporter_id = e->reporter_id;
	rep.n_tags = 3;
	rep.tags = reptagp;
	auth.access_token = e->token;

	e->start = e->len = 0;
	if (put_message(e, 1, &rep.base) < 0 ||
	    put_message(e, 2, &auth.base) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (span_structs(e, batch[i]) < 0 ||
		    put_message(e, 3, &e->sp.sp.base) < 0)
			return -1;
	return 0;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
otlp_attr(struct oattr *a, const char *key, const char *value)
{
	static const Okv kv_init = LTB__OTLP__KEY_VALUE__INIT;
	static const Oany any_init = LTB__OTLP__ANY_VALUE__INIT;

	a->kv = kv_init;
	a->v = any_init;
	a->kv.key = (char *)key;
	a->v.value_case = LTB__OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	a->v.string_value = (char *)value;
	a->kv.value = &a->v;
}

/* The protobuf-c structs of one OTLP span, in e's scratch space. */
static int
otlp_span_structs(struct encoder *e, const struct ltb_span *s)
{
	static const Ospan span_init = LTB__OTLP__SPAN__INIT;
	static const Oevent event_init = LTB__OTLP__SPAN__EVENT__INIT;
	struct ospan *os = &e->osp;
	size_t j;

	if (reserve(&e->oattrs, &e->capoattrs, s->ntags,
	    sizeof *e->oattrs) < 0 ||
	    reserve(&e->oattrp, &e->capoattrp, s->ntags,
	    sizeof *e->oattrp) < 0 ||
	    reserve(&e->oevents, &e->capoevents, s->nlogs,
	    sizeof *e->oevents) < 0 ||
	    reserve(&e->oeventp, &e->capoeventp, s->nlogs,
	    sizeof *e->oeventp) < 0)
		return -1;
	os->sp = span_init;
	put_be64(os->ids, e->trace_hi);
	put_be64(os->ids + 8, s->ctx.trace_id);
	put_be64(os->ids + 16, s->ctx.span_id);
	os->sp.trace_id.data = os->ids;
	os->sp.trace_id.len = 16;
	os->sp.span_id.data = os->ids + 16;
	os->sp.span_id.len = 8;
	if (s->parent != 0) {
		put_be64(os->ids + 24, s->parent);
		os->sp.parent_span_id.data = os->ids + 24;
		os->sp.parent_span_id.len = 8;
	}
	os->sp.name = (char *)s->op;
	os->sp.kind = LTB__OTLP__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
	os->sp.start_time_unix_nano = s->start_ns;
	os->sp.end_time_unix_nano = s->finish_ns;

	os->sp.n_attributes = s->ntags;
	os->sp.attributes = e->oattrp;
	for (j = 0; j < s->ntags; j++) {
		otlp_attr(&e->oattrs[j], s->tags[j].key, s->tags[j].value);
		e->oattrp[j] = &e->oattrs[j].kv;
	}
	os->sp.n_events = s->nlogs;
	os->sp.events = e->oeventp;
	for (j = 0; j < s->nlogs; j++) {
		struct oevent *ev = &e->oevents[j];

		ev->ev = event_init;
		ev->ev.time_unix_nano = s->logs[j].ns;
		ev->ev.name = "log";
		otlp_attr(&ev->a, s->logs[j].key, s->logs[j].value);
		ev->ap = &ev->a.kv;
		ev->ev.n_attributes = 1;
		ev->ev.attributes = &ev->ap;
		e->oeventp[j] = &ev->ev;
	}
	return 0;
}

/* Message m framed as field number field, in a new buffer; NULL when out
 * of memory. */
static uint8_t *
framed(unsigned field, const ProtobufCMessage *m, size_t *len)
{
	size_t size = protobuf_c_message_get_packed_size(m), n = 0;
	uint8_t *p = malloc(1 + 10 + size);

	if (p == NULL)
		return NULL;
	p[n++] = (uint8_t)(field << 3 | 2);
	n += put_varint(p + n, size);
	n += protobuf_c_message_pack(m, p + n);
	*len = n;
	return p;
}

/* What every OTLP report says before its spans: the resource (the
 * service, named component) and the instrumentation scope, packed once. */
static int
otlp_setup(struct encoder *e)
{
	Ltb__Otlp__Resource res = LTB__OTLP__RESOURCE__INIT;
	Ltb__Otlp__InstrumentationScope scope =
	    LTB__OTLP__INSTRUMENTATION_SCOPE__INIT;
	struct oattr a[3];
	Okv *ap[3];
	size_t i;

	otlp_attr(&a[0], "service.name", e->component);
	otlp_attr(&a[1], "telemetry.sdk.name", "ltb-tracer-c");
	otlp_attr(&a[2], "telemetry.sdk.version", "1");
	for (i = 0; i < 3; i++)
		ap[i] = &a[i].kv;
	res.n_attributes = 3;
	res.attributes = ap;
	scope.name = "ltb-tracer-c";
	scope.version = "1";
	if ((e->resource = framed(1, &res.base, &e->nresource)) == NULL ||
	    (e->scope = framed(1, &scope.base, &e->nscope)) == NULL)
		return -1;
	/* Zero would mean "no trace"; the low half is never zero anyway. */
	e->trace_hi = random_id();
	return 0;
}

/* Write bytes, or a varint, or a field's tag, to end just before *at. */
static void
put_before(uint8_t *out, size_t *at, const uint8_t *p, size_t n)
{
	*at -= n;
	memcpy(out + *at, p, n);
}

static void
varint_before(uint8_t *out, size_t *at, uint64_t v)
{
	*at -= varint_len(v);
	put_varint(out + *at, v);
}

/*
 * Pack n spans into e->out as an ExportTraceServiceRequest of one
 * ResourceSpans holding one ScopeSpans; the report is out[start..len).
 * Returns 0, or -1 when out of memory.
 *
 * As for LightStep, protobuf-c packs one span at a time. The spans go
 * first, after room kept for what encloses them; once their length is
 * known the enclosing fields are written backwards into that room, ending
 * where the spans begin, so nothing is sized twice or moved. The bytes
 * are those protobuf-c packs for the whole request.
 */
static int
encode_otlp(struct encoder *e, struct ltb_span *const *batch, size_t n)
{
	size_t head = e->nresource + e->nscope + 2 * (1 + 10);
	size_t i, at, scope_spans, resource_spans;

	e->start = e->len = 0;
	if (room(e, head) < 0)
		return -1;
	e->len = head;
	for (i = 0; i < n; i++)
		if (otlp_span_structs(e, batch[i]) < 0 ||
		    put_message(e, 2, &e->osp.sp.base) < 0)
			return -1;
	scope_spans = e->nscope + (e->len - head);
	resource_spans = e->nresource + 1 + varint_len(scope_spans) +
	    scope_spans;
	at = head;
	put_before(e->out, &at, e->scope, e->nscope);
	varint_before(e->out, &at, scope_spans);
	e->out[--at] = 2 << 3 | 2;	/* ResourceSpans.scope_spans */
	put_before(e->out, &at, e->resource, e->nresource);
	varint_before(e->out, &at, resource_spans);
	e->out[--at] = 1 << 3 | 2;	/* the request's resource_spans */
	e->start = at;
	return 0;
}

static int
encode(struct encoder *e, struct ltb_span *const *batch, size_t n)
{
	if (e->protocol == LTB_TRACER_OTLP)
		return encode_otlp(e, batch, n);
	return encode_lightstep(e, batch, n);
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
	if (t->enc.protocol == LTB_TRACER_OTLP)
		return curl_slist_append(t->headers,
		    "Content-Type: application/x-protobuf") == NULL ? -1 : 0;
	snprintf(hdr, sizeof hdr, "Lightstep-Access-Token: %s",
	    t->enc.token);
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
	*len = 0;
	if (encode(&t->enc, batch, n) < 0) {
		snprintf(err, errlen, "cannot encode %zu spans: out of memory",
		    n);
		return -1;
	}
	*len = t->enc.len - t->enc.start;
	if (t->transport != NULL)
		return t->transport(t->transport_ctx,
		    t->enc.out + t->enc.start, *len, err, errlen);
	return http_post(t, t->enc.out + t->enc.start, *len, err, errlen);
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
	t->enc.protocol = c->protocol;
	t->enc.reporter_id = random_id();
	if ((t->enc.token = strdup(c->access_token ? c->access_token :
	    "ltb")) == NULL ||
	    (t->enc.component = strdup(c->component_name ?
	    c->component_name : "ltb")) == NULL)
		goto nomem;
	if (t->enc.protocol == LTB_TRACER_OTLP && otlp_setup(&t->enc) < 0)
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
	free(t->enc.tags);
	free(t->enc.tagp);
	free(t->enc.logs);
	free(t->enc.logp);
	free(t->enc.oattrs);
	free(t->enc.oattrp);
	free(t->enc.oevents);
	free(t->enc.oeventp);
	free(t->enc.resource);
	free(t->enc.scope);
	free(t->enc.out);
	free(t->enc.token);
	free(t->enc.component);
	if (t->sync_ready) {
		pthread_cond_destroy(&t->done);
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->mu);
	}
	free(t);
}
