/*
 * ltb_encode.c: the tracer's hand-written protobuf encoder; see
 * ltb_encode.h.
 *
 * The rules followed are protobuf-c's for proto3, since its bytes are the
 * oracle: fields in number order; a scalar or string field is left out
 * when zero or empty, a message field written whenever present (even
 * empty), a oneof string whenever its case is set (even empty). Every
 * field number used is below 16, so every tag is one byte.
 *
 * Writing backwards, a message's contents are in place before its tag
 * and length, so its length is the distance walked: nothing is sized
 * before it is written. What is measured first is only room: each span's
 * strings' lengths (the one strlen each costs, kept in e->lens for the
 * writing) and a bound on its bytes, so that the writing checks nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "client/ltb_encode.h"

enum { VARINT = 0, FIXED64 = 1, LEN = 2 };

/* --- sizes --------------------------------------------------------------- */

static inline size_t
vlen(uint64_t v)
{
	/* 7 bits a byte: (index of the top bit) / 7 + 1, without a loop */
	return ((size_t)(63 - __builtin_clzll(v | 1)) * 9 + 73) / 64;
}

/* --- writing, backwards ------------------------------------------------- */

/*
 * Each put_ writes a field to end just before p and returns where it
 * begins: a message's fields go last first, and its length is known when
 * its tag and length are written, since its contents are already there.
 */
static inline uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	uint8_t *q;

	if (v < 0x80) {		/* most lengths: one byte */
		*--p = (uint8_t)v;
		return p;
	}
	q = p -= vlen(v);

	while (v >= 0x80) {
		*q++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*q = (uint8_t)v;
	return p;
}

/* The tag and length of a length-delimited field of n bytes, before them. */
static inline uint8_t *
put_ld(uint8_t *p, unsigned field, size_t n)
{
	p = put_varint(p, n);
	*--p = (uint8_t)(field << 3 | LEN);
	return p;
}

static inline uint8_t *
put_bytes(uint8_t *p, unsigned field, const void *s, size_t n)
{
	p -= n;
	memcpy(p, s, n);
	return put_ld(p, field, n);
}

static inline uint8_t *
put_opt_str(uint8_t *p, unsigned field, const char *s, size_t n)
{
	return n ? put_bytes(p, field, s, n) : p;
}

static inline uint8_t *
put_opt_varint(uint8_t *p, unsigned field, uint64_t v)
{
	if (v == 0)
		return p;
	p = put_varint(p, v);
	*--p = (uint8_t)(field << 3 | VARINT);
	return p;
}

static inline uint8_t *
put_opt_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
	int i;

	if (v == 0)
		return p;
	p -= 8;
	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
	*--p = (uint8_t)(field << 3 | FIXED64);
	return p;
}

static inline uint8_t *
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	p -= 8;
	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p;
}

static inline uint8_t *
put_ts(uint8_t *p, unsigned field, uint64_t ns)
{
	uint8_t *end = p;

	p = put_opt_varint(p, 2, ns % 1000000000u);
	p = put_opt_varint(p, 1, ns / 1000000000u);
	return put_ld(p, field, (size_t)(end - p));
}

static inline uint8_t *
put_ls_kv(uint8_t *p, unsigned field, const char *k, size_t nk,
    const char *v, size_t nv)
{
	uint8_t *end = p;

	p = put_bytes(p, 2, v, nv);		/* string_value */
	p = put_opt_str(p, 1, k, nk);
	return put_ld(p, field, (size_t)(end - p));
}

static inline uint8_t *
put_otlp_kv(uint8_t *p, unsigned field, const char *k, size_t nk,
    const char *v, size_t nv)
{
	uint8_t *end = p;

	p = put_bytes(p, 1, v, nv);		/* string_value */
	p = put_ld(p, 2, (size_t)(end - p));	/* value: AnyValue */
	p = put_opt_str(p, 1, k, nk);
	return put_ld(p, field, (size_t)(end - p));
}

/* --- the buffer ---------------------------------------------------------- */

/* Room for need elements of size in *p; capacity only grows. */
static int
grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp, *np;
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	if (n > SIZE_MAX / size || (np = realloc(*p, n * size)) == NULL)
		return -1;
	*p = np;
	*cap = n;
	return 0;
}

/* Room for n more bytes before out[start]: the report so far moves to
 * the end of a bigger buffer, where it stays. */
static int
room(struct ltb_enc *e, size_t n)
{
	size_t used = e->cap - e->start, cap = e->cap ? e->cap : 4096;
	uint8_t *nb;

	if (n <= e->start)
		return 0;
	if (n > SIZE_MAX / 2 - used)
		return -1;
	while (cap < used + n)
		cap *= 2;
	if ((nb = malloc(cap)) == NULL)
		return -1;
	if (used > 0)
		memcpy(nb + cap - used, e->out + e->start, used);
	free(e->out);
	e->out = nb;
	e->start = cap - used;
	e->cap = cap;
	return 0;
}

/*
 * The lengths of s's strings in e->lens (the operation, then each tag's
 * key and value, then each log's), the one strlen each costs; and room
 * for s in either protocol: at most 160 bytes besides its strings, and 96
 * for each tag or log (tags, lengths and the varints of a log's time).
 */
static int
measure(struct ltb_enc *e, const struct ltb_enc_span *s)
{
	size_t *l, j, n;

	if (s->ntags > SIZE_MAX / 1024 || s->nlogs > SIZE_MAX / 1024 ||
	    grow(&e->lens, &e->caplens, 1 + 2 * (s->ntags + s->nlogs),
	    sizeof *e->lens) < 0)
		return -1;
	l = e->lens;
	n = 160 + (*l++ = strlen(s->op));
	for (j = 0; j < s->ntags; j++) {
		n += 96 + (*l++ = strlen(s->tags[j].key));
		n += *l++ = strlen(s->tags[j].value);
	}
	for (j = 0; j < s->nlogs; j++) {
		n += 96 + (*l++ = strlen(s->logs[j].key));
		n += *l++ = strlen(s->logs[j].value);
	}
	return room(e, n);
}

/* --- LightStep ----------------------------------------------------------- */

static inline uint8_t *
put_ls_ctx(uint8_t *p, unsigned field, uint64_t trace_id, uint64_t span_id)
{
	uint8_t *end = p;

	p = put_opt_varint(p, 2, span_id);
	p = put_opt_varint(p, 1, trace_id);
	return put_ld(p, field, (size_t)(end - p));
}

/* A Span's fields, last first; l: its string lengths. */
static uint8_t *
put_ls_span(uint8_t *p, const struct ltb_enc_span *s, const size_t *l)
{
	uint8_t *end;
	size_t j;

	l += 1 + 2 * (s->ntags + s->nlogs);
	for (j = s->nlogs; j-- > 0;) {
		const struct ltb_enc_log *g = &s->logs[j];

		l -= 2;
		end = p;
		p = put_ls_kv(p, 2, g->key, l[0], g->value, l[1]);
		p = put_ts(p, 1, g->ns);
		p = put_ld(p, 7, (size_t)(end - p));
	}
	for (j = s->ntags; j-- > 0;) {
		l -= 2;
		p = put_ls_kv(p, 6, s->tags[j].key, l[0], s->tags[j].value,
		    l[1]);
	}
	p = put_opt_varint(p, 5, (s->finish_ns - s->start_ns) / 1000);
	p = put_ts(p, 4, s->start_ns);
	if (s->parent != 0) {	/* relationship CHILD_OF is 0: absent */
		end = p;
		p = put_ls_ctx(p, 2, s->trace_id, s->parent);
		p = put_ld(p, 3, (size_t)(end - p));
	}
	p = put_opt_str(p, 2, s->op, l[-1]);
	return put_ls_ctx(p, 1, s->trace_id, s->span_id);
}

static const char *const ls_rep_keys[3] = { "lightstep.tracer_platform",
	"lightstep.tracer_version", "lightstep.component_name" };

/* The ReportRequest's reporter and auth fields, the same in every one,
 * written into end just before p. */
static uint8_t *
put_ls_prefix(uint8_t *p, const struct ltb_enc_config *c)
{
	const char *vals[3] = { "c", "ltb-1", c->component };
	uint8_t *end = p;
	int i;

	p = put_opt_str(p, 1, c->token, strlen(c->token));
	p = put_ld(p, 2, (size_t)(end - p));
	end = p;
	for (i = 2; i >= 0; i--)
		p = put_ls_kv(p, 4, ls_rep_keys[i], strlen(ls_rep_keys[i]),
		    vals[i], strlen(vals[i]));
	p = put_opt_varint(p, 1, c->reporter_id);
	return put_ld(p, 1, (size_t)(end - p));
}

/* --- OTLP ---------------------------------------------------------------- */

#define EVENT_NAME "log"

static uint8_t *
put_otlp_span(uint8_t *p, const struct ltb_enc_span *s, const size_t *l,
    uint64_t trace_hi)
{
	uint8_t *end;
	size_t j;

	l += 1 + 2 * (s->ntags + s->nlogs);
	for (j = s->nlogs; j-- > 0;) {
		const struct ltb_enc_log *g = &s->logs[j];

		l -= 2;
		end = p;
		p = put_otlp_kv(p, 3, g->key, l[0], g->value, l[1]);
		p = put_bytes(p, 2, EVENT_NAME, sizeof EVENT_NAME - 1);
		p = put_opt_fixed64(p, 1, g->ns);
		p = put_ld(p, 11, (size_t)(end - p));
	}
	for (j = s->ntags; j-- > 0;) {
		l -= 2;
		p = put_otlp_kv(p, 9, s->tags[j].key, l[0], s->tags[j].value,
		    l[1]);
	}
	p = put_opt_fixed64(p, 8, s->finish_ns);
	p = put_opt_fixed64(p, 7, s->start_ns);
	*--p = 1;			/* kind: SPAN_KIND_INTERNAL */
	*--p = 6 << 3 | VARINT;
	p = put_opt_str(p, 5, s->op, l[-1]);
	if (s->parent != 0) {
		p = put_be64(p, s->parent);
		p = put_ld(p, 4, 8);
	}
	p = put_be64(p, s->span_id);
	p = put_ld(p, 2, 8);
	p = put_be64(p, s->trace_id);
	p = put_be64(p, trace_hi);
	return put_ld(p, 1, 16);
}

static const char *const otlp_res_keys[3] = { "service.name",
	"telemetry.sdk.name", "telemetry.sdk.version" };
#define SCOPE_NAME "ltb-tracer-c"
#define SCOPE_VERSION "1"

/* The ResourceSpans' resource field, written into end just before p. */
static uint8_t *
put_otlp_resource(uint8_t *p, const struct ltb_enc_config *c)
{
	const char *vals[3] = { c->component, SCOPE_NAME, SCOPE_VERSION };
	uint8_t *end = p;
	int i;

	for (i = 2; i >= 0; i--)
		p = put_otlp_kv(p, 1, otlp_res_keys[i],
		    strlen(otlp_res_keys[i]), vals[i], strlen(vals[i]));
	return put_ld(p, 1, (size_t)(end - p));
}

/* The ScopeSpans' scope field. */
static uint8_t *
put_otlp_scope(uint8_t *p)
{
	uint8_t *end = p;

	p = put_bytes(p, 2, SCOPE_VERSION, sizeof SCOPE_VERSION - 1);
	p = put_bytes(p, 1, SCOPE_NAME, sizeof SCOPE_NAME - 1);
	return put_ld(p, 1, (size_t)(end - p));
}

/* --- reports ------------------------------------------------------------- */

/*
 * What every report says besides its spans is written once, here, into
 * e->prefix: LightStep's reporter and auth; OTLP's resource, then scope
 * (nresource bytes, then the rest), to be copied around the spans.
 */
int
ltb_enc_init(struct ltb_enc *e, const struct ltb_enc_config *c)
{
	size_t bound;
	uint8_t *end, *p, *q;

	memset(e, 0, sizeof *e);
	e->c = *c;
	if (e->c.token == NULL)
		e->c.token = "";
	if (e->c.component == NULL)
		e->c.component = "";
	bound = 512 + strlen(e->c.token) + strlen(e->c.component);
	if ((e->prefix = malloc(bound)) == NULL)
		return -1;
	end = e->prefix + bound;
	if (c->protocol == LTB_TRACER_OTLP) {
		q = put_otlp_scope(end);
		p = put_otlp_resource(q, &e->c);
		e->nresource = (size_t)(q - p);
	} else
		p = put_ls_prefix(end, &e->c);
	e->nprefix = (size_t)(end - p);
	memmove(e->prefix, p, e->nprefix);
	return 0;
}

int
ltb_enc_begin(struct ltb_enc *e)
{
	e->start = e->cap;
	return 0;
}

int
ltb_enc_span(struct ltb_enc *e, const struct ltb_enc_span *s)
{
	uint8_t *end, *p;

	if (measure(e, s) < 0)
		return -1;
	end = p = e->out + e->start;
	/* ReportRequest.spans is field 3, ScopeSpans.spans field 2 */
	if (e->c.protocol == LTB_TRACER_OTLP) {
		p = put_otlp_span(p, s, e->lens, e->c.trace_hi);
		p = put_ld(p, 2, (size_t)(end - p));
	} else {
		p = put_ls_span(p, s, e->lens);
		p = put_ld(p, 3, (size_t)(end - p));
	}
	e->start = (size_t)(p - e->out);
	return 0;
}

/* What encloses the spans goes before them, now that their length is
 * known: OTLP's ResourceSpans holding one ScopeSpans. */
int
ltb_enc_end(struct ltb_enc *e, const uint8_t **body, size_t *len)
{
	size_t nscope = e->nprefix - e->nresource, spans;
	uint8_t *p;

	if (room(e, e->nprefix + 2 * (1 + 10)) < 0)
		return -1;
	spans = e->cap - e->start;
	p = e->out + e->start;
	if (e->c.protocol == LTB_TRACER_OTLP) {
		p -= nscope;
		memcpy(p, e->prefix + e->nresource, nscope);
		p = put_ld(p, 2, nscope + spans);
		p -= e->nresource;
		memcpy(p, e->prefix, e->nresource);
		p = put_ld(p, 1, (size_t)(e->out + e->cap - p));
	} else {
		p -= e->nprefix;
		memcpy(p, e->prefix, e->nprefix);
	}
	*body = p;
	*len = (size_t)(e->out + e->cap - p);
	return 0;
}

void
ltb_enc_free(struct ltb_enc *e)
{
	free(e->out);
	free(e->prefix);
	free(e->lens);
	memset(e, 0, sizeof *e);
}
