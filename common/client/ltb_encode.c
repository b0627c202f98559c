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
 * A span is sized before it is written: its strings' lengths (the one
 * strlen each costs) are kept in e->lens between the two passes, and the
 * lengths of its small messages (a timestamp, a key-value) are recomputed
 * where they are written, which costs less than storing them.
 */
#include <stdlib.h>
#include <string.h>

#include "client/ltb_encode.h"

enum { VARINT = 0, FIXED64 = 1, LEN = 2 };

/* --- sizes --------------------------------------------------------------- */

static size_t
vlen(uint64_t v)
{
	/* 7 bits a byte: (index of the top bit) / 7 + 1, without a loop */
	return ((size_t)(63 - __builtin_clzll(v | 1)) * 9 + 73) / 64;
}

/* A length-delimited field holding n bytes. */
static size_t
ld(size_t n)
{
	return 1 + vlen(n) + n;
}

/* A proto3 string or varint field: absent when empty or zero. */
static size_t
opt_str(size_t n)
{
	return n ? ld(n) : 0;
}

static size_t
opt_varint(uint64_t v)
{
	return v ? 1 + vlen(v) : 0;
}

static size_t
opt_fixed64(uint64_t v)
{
	return v ? 9 : 0;
}

/* LightStep's Timestamp of a time in ns. */
static size_t
ts_size(uint64_t ns)
{
	return opt_varint(ns / 1000000000u) + opt_varint(ns % 1000000000u);
}

/* A KeyValue holding a string (LightStep's oneof, or OTLP's AnyValue). */
static size_t
ls_kv_size(size_t k, size_t v)
{
	return opt_str(k) + ld(v);
}

static size_t
otlp_kv_size(size_t k, size_t v)
{
	return opt_str(k) + ld(ld(v));
}

/* --- writing ------------------------------------------------------------- */

static uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* The tag and length of a length-delimited field, its n bytes to follow. */
static uint8_t *
put_ld(uint8_t *p, unsigned field, size_t n)
{
	*p++ = (uint8_t)(field << 3 | LEN);
	return put_varint(p, n);
}

static uint8_t *
put_bytes(uint8_t *p, unsigned field, const void *s, size_t n)
{
	p = put_ld(p, field, n);
	memcpy(p, s, n);
	return p + n;
}

static uint8_t *
put_opt_str(uint8_t *p, unsigned field, const char *s, size_t n)
{
	return n ? put_bytes(p, field, s, n) : p;
}

static uint8_t *
put_opt_varint(uint8_t *p, unsigned field, uint64_t v)
{
	if (v == 0)
		return p;
	*p++ = (uint8_t)(field << 3 | VARINT);
	return put_varint(p, v);
}

static uint8_t *
put_opt_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
	int i;

	if (v == 0)
		return p;
	*p++ = (uint8_t)(field << 3 | FIXED64);
	for (i = 0; i < 8; i++, v >>= 8)
		*p++ = (uint8_t)v;
	return p;
}

static uint8_t *
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + 8;
}

static uint8_t *
put_ts(uint8_t *p, unsigned field, uint64_t ns)
{
	p = put_ld(p, field, ts_size(ns));
	p = put_opt_varint(p, 1, ns / 1000000000u);
	return put_opt_varint(p, 2, ns % 1000000000u);
}

static uint8_t *
put_ls_kv(uint8_t *p, unsigned field, const char *k, size_t nk,
    const char *v, size_t nv)
{
	p = put_ld(p, field, ls_kv_size(nk, nv));
	p = put_opt_str(p, 1, k, nk);
	return put_bytes(p, 2, v, nv);	/* string_value */
}

static uint8_t *
put_otlp_kv(uint8_t *p, unsigned field, const char *k, size_t nk,
    const char *v, size_t nv)
{
	p = put_ld(p, field, otlp_kv_size(nk, nv));
	p = put_opt_str(p, 1, k, nk);
	p = put_ld(p, 2, ld(nv));		/* value: AnyValue */
	return put_bytes(p, 1, v, nv);		/* string_value */
}

/* --- the buffer ---------------------------------------------------------- */

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

/* Room for n more bytes of report. */
static int
room(struct ltb_enc *e, size_t n)
{
	if (n > SIZE_MAX - e->len)
		return -1;
	return grow(&e->out, &e->cap, e->len + n, 1);
}

/* The lengths of s's strings in e->lens: the operation, then each tag's
 * key and value, then each log's. */
static int
measure(struct ltb_enc *e, const struct ltb_enc_span *s)
{
	size_t *l, j;

	if (s->ntags > (SIZE_MAX - 1) / 4 ||
	    s->nlogs > (SIZE_MAX - 1) / 4 - s->ntags ||
	    grow(&e->lens, &e->caplens, 1 + 2 * (s->ntags + s->nlogs),
	    sizeof *e->lens) < 0)
		return -1;
	l = e->lens;
	*l++ = strlen(s->op);
	for (j = 0; j < s->ntags; j++) {
		*l++ = strlen(s->tags[j].key);
		*l++ = strlen(s->tags[j].value);
	}
	for (j = 0; j < s->nlogs; j++) {
		*l++ = strlen(s->logs[j].key);
		*l++ = strlen(s->logs[j].value);
	}
	return 0;
}

/* --- LightStep ----------------------------------------------------------- */

static size_t
ls_ctx_size(uint64_t trace_id, uint64_t span_id)
{
	return opt_varint(trace_id) + opt_varint(span_id);
}

static size_t
ls_span_size(const struct ltb_enc_span *s, const size_t *l)
{
	size_t n, j;

	n = ld(ls_ctx_size(s->trace_id, s->span_id)) + opt_str(l[0]);
	if (s->parent != 0)	/* relationship CHILD_OF is 0: absent */
		n += ld(ld(ls_ctx_size(s->trace_id, s->parent)));
	n += ld(ts_size(s->start_ns));
	n += opt_varint((s->finish_ns - s->start_ns) / 1000);
	l++;
	for (j = 0; j < s->ntags; j++, l += 2)
		n += ld(ls_kv_size(l[0], l[1]));
	for (j = 0; j < s->nlogs; j++, l += 2)
		n += ld(ld(ts_size(s->logs[j].ns)) +
		    ld(ls_kv_size(l[0], l[1])));
	return n;
}

static uint8_t *
put_ls_ctx(uint8_t *p, unsigned field, uint64_t trace_id, uint64_t span_id)
{
	p = put_ld(p, field, ls_ctx_size(trace_id, span_id));
	p = put_opt_varint(p, 1, trace_id);
	return put_opt_varint(p, 2, span_id);
}

static uint8_t *
put_ls_span(uint8_t *p, const struct ltb_enc_span *s, const size_t *l)
{
	size_t j;

	p = put_ls_ctx(p, 1, s->trace_id, s->span_id);
	p = put_opt_str(p, 2, s->op, l[0]);
	if (s->parent != 0) {
		p = put_ld(p, 3, ld(ls_ctx_size(s->trace_id, s->parent)));
		p = put_ls_ctx(p, 2, s->trace_id, s->parent);
	}
	p = put_ts(p, 4, s->start_ns);
	p = put_opt_varint(p, 5, (s->finish_ns - s->start_ns) / 1000);
	l++;
	for (j = 0; j < s->ntags; j++, l += 2)
		p = put_ls_kv(p, 6, s->tags[j].key, l[0], s->tags[j].value,
		    l[1]);
	for (j = 0; j < s->nlogs; j++, l += 2) {
		const struct ltb_enc_log *g = &s->logs[j];

		p = put_ld(p, 7, ld(ts_size(g->ns)) +
		    ld(ls_kv_size(l[0], l[1])));
		p = put_ts(p, 1, g->ns);
		p = put_ls_kv(p, 2, g->key, l[0], g->value, l[1]);
	}
	return p;
}

static const char *const ls_rep_keys[3] = { "lightstep.tracer_platform",
	"lightstep.tracer_version", "lightstep.component_name" };

/* The ReportRequest's reporter and auth fields, the same in every one. */
static int
ls_prefix(struct ltb_enc *e)
{
	const char *vals[3] = { "c", "ltb-1", e->c.component };
	size_t rep, auth, ntok = strlen(e->c.token), i;
	uint8_t *p;

	rep = opt_varint(e->c.reporter_id);
	for (i = 0; i < 3; i++)
		rep += ld(ls_kv_size(strlen(ls_rep_keys[i]), strlen(vals[i])));
	auth = opt_str(ntok);
	e->nprefix = ld(rep) + ld(auth);
	if ((p = e->prefix = malloc(e->nprefix)) == NULL)
		return -1;
	p = put_ld(p, 1, rep);
	p = put_opt_varint(p, 1, e->c.reporter_id);
	for (i = 0; i < 3; i++)
		p = put_ls_kv(p, 4, ls_rep_keys[i], strlen(ls_rep_keys[i]),
		    vals[i], strlen(vals[i]));
	p = put_ld(p, 2, auth);
	put_opt_str(p, 1, e->c.token, ntok);
	return 0;
}

/* --- OTLP ---------------------------------------------------------------- */

#define EVENT_NAME "log"

static size_t
otlp_span_size(const struct ltb_enc_span *s, const size_t *l)
{
	size_t n, j;

	n = ld(16) + ld(8) + (s->parent != 0 ? ld(8) : 0) + opt_str(l[0]) +
	    2 + opt_fixed64(s->start_ns) + opt_fixed64(s->finish_ns);
	l++;
	for (j = 0; j < s->ntags; j++, l += 2)
		n += ld(otlp_kv_size(l[0], l[1]));
	for (j = 0; j < s->nlogs; j++, l += 2)
		n += ld(opt_fixed64(s->logs[j].ns) +
		    ld(sizeof EVENT_NAME - 1) + ld(otlp_kv_size(l[0], l[1])));
	return n;
}

static uint8_t *
put_otlp_span(uint8_t *p, const struct ltb_enc_span *s, const size_t *l,
    uint64_t trace_hi)
{
	size_t j;

	p = put_ld(p, 1, 16);
	p = put_be64(p, trace_hi);
	p = put_be64(p, s->trace_id);
	p = put_ld(p, 2, 8);
	p = put_be64(p, s->span_id);
	if (s->parent != 0) {
		p = put_ld(p, 4, 8);
		p = put_be64(p, s->parent);
	}
	p = put_opt_str(p, 5, s->op, l[0]);
	*p++ = 6 << 3 | VARINT;		/* kind: SPAN_KIND_INTERNAL */
	*p++ = 1;
	p = put_opt_fixed64(p, 7, s->start_ns);
	p = put_opt_fixed64(p, 8, s->finish_ns);
	l++;
	for (j = 0; j < s->ntags; j++, l += 2)
		p = put_otlp_kv(p, 9, s->tags[j].key, l[0], s->tags[j].value,
		    l[1]);
	for (j = 0; j < s->nlogs; j++, l += 2) {
		const struct ltb_enc_log *g = &s->logs[j];

		p = put_ld(p, 11, opt_fixed64(g->ns) +
		    ld(sizeof EVENT_NAME - 1) + ld(otlp_kv_size(l[0], l[1])));
		p = put_opt_fixed64(p, 1, g->ns);
		p = put_bytes(p, 2, EVENT_NAME, sizeof EVENT_NAME - 1);
		p = put_otlp_kv(p, 3, g->key, l[0], g->value, l[1]);
	}
	return p;
}

static const char *const otlp_res_keys[3] = { "service.name",
	"telemetry.sdk.name", "telemetry.sdk.version" };
#define SCOPE_NAME "ltb-tracer-c"
#define SCOPE_VERSION "1"

/* The ResourceSpans' resource field and the ScopeSpans' scope field,
 * framed, the same in every report. */
static int
otlp_prefix(struct ltb_enc *e)
{
	const char *vals[3] = { e->c.component, SCOPE_NAME, SCOPE_VERSION };
	size_t res = 0, scope, i;
	uint8_t *p;

	for (i = 0; i < 3; i++)
		res += ld(otlp_kv_size(strlen(otlp_res_keys[i]),
		    strlen(vals[i])));
	scope = ld(sizeof SCOPE_NAME - 1) + ld(sizeof SCOPE_VERSION - 1);
	e->nresource = ld(res);
	e->nprefix = e->nresource + ld(scope);
	if ((p = e->prefix = malloc(e->nprefix)) == NULL)
		return -1;
	p = put_ld(p, 1, res);
	for (i = 0; i < 3; i++)
		p = put_otlp_kv(p, 1, otlp_res_keys[i],
		    strlen(otlp_res_keys[i]), vals[i], strlen(vals[i]));
	p = put_ld(p, 1, scope);
	p = put_bytes(p, 1, SCOPE_NAME, sizeof SCOPE_NAME - 1);
	put_bytes(p, 2, SCOPE_VERSION, sizeof SCOPE_VERSION - 1);
	return 0;
}

/* Room for the two enclosing fields' tags and lengths before the spans. */
static size_t
otlp_head(const struct ltb_enc *e)
{
	return e->nprefix + 2 * (1 + 10);
}

/* --- reports ------------------------------------------------------------- */

int
ltb_enc_init(struct ltb_enc *e, const struct ltb_enc_config *c)
{
	memset(e, 0, sizeof *e);
	e->c = *c;
	if (e->c.token == NULL)
		e->c.token = "";
	if (e->c.component == NULL)
		e->c.component = "";
	if (c->protocol == LTB_TRACER_OTLP)
		return otlp_prefix(e);
	return ls_prefix(e);
}

int
ltb_enc_begin(struct ltb_enc *e)
{
	size_t head = e->c.protocol == LTB_TRACER_OTLP ? otlp_head(e) :
	    e->nprefix;

	e->start = e->len = 0;
	if (room(e, head) < 0)
		return -1;
	if (e->c.protocol != LTB_TRACER_OTLP)
		memcpy(e->out, e->prefix, e->nprefix);
	e->len = head;
	return 0;
}

int
ltb_enc_span(struct ltb_enc *e, const struct ltb_enc_span *s)
{
	int otlp = e->c.protocol == LTB_TRACER_OTLP;
	size_t n;
	uint8_t *p;

	if (measure(e, s) < 0)
		return -1;
	n = otlp ? otlp_span_size(s, e->lens) : ls_span_size(s, e->lens);
	if (room(e, 1 + 10 + n) < 0)
		return -1;
	/* ReportRequest.spans is field 3, ScopeSpans.spans field 2 */
	p = put_ld(e->out + e->len, otlp ? 2 : 3, n);
	p = otlp ? put_otlp_span(p, s, e->lens, e->c.trace_hi) :
	    put_ls_span(p, s, e->lens);
	e->len = (size_t)(p - e->out);
	return 0;
}

/* Write n bytes, or a varint, to end just before *at. */
static void
bytes_before(uint8_t *out, size_t *at, const uint8_t *p, size_t n)
{
	*at -= n;
	memcpy(out + *at, p, n);
}

static void
ld_before(uint8_t *out, size_t *at, unsigned field, size_t n)
{
	*at -= 1 + vlen(n);
	put_ld(out + *at, field, n);
}

/*
 * OTLP's spans are inside a ScopeSpans inside a ResourceSpans, whose
 * lengths are known only now: they are written backwards into the room
 * ltb_enc_begin kept, ending where the spans begin, so nothing moves.
 */
void
ltb_enc_end(struct ltb_enc *e, const uint8_t **body, size_t *len)
{
	size_t head = otlp_head(e), at = head, scope_spans, resource_spans;
	size_t nscope = e->nprefix - e->nresource;

	if (e->c.protocol == LTB_TRACER_OTLP) {
		scope_spans = nscope + (e->len - head);
		resource_spans = e->nresource + ld(scope_spans);
		bytes_before(e->out, &at, e->prefix + e->nresource, nscope);
		ld_before(e->out, &at, 2, scope_spans);
		bytes_before(e->out, &at, e->prefix, e->nresource);
		ld_before(e->out, &at, 1, resource_spans);
		e->start = at;
	}
	*body = e->out + e->start;
	*len = e->len - e->start;
}

void
ltb_enc_free(struct ltb_enc *e)
{
	free(e->out);
	free(e->prefix);
	free(e->lens);
	memset(e, 0, sizeof *e);
}
