/*
 * ltb_otlp_gen.c: realistic OTLP trace export requests for tests and
 * benchmarks.
 *
 * The spans look like what an instrumented web service's OpenTelemetry
 * SDK sends: HTTP, SQL and cache operations, the semantic conventions'
 * attributes (url.full, db.system, server.address, ...; strings, an int
 * and a bool), short events ("cache miss", "retrying") and an error
 * status on the failed ones. The request is built as protobuf-c structs on
 * the heap and packed by protobuf-c, so it is also a fixture the walk can
 * be checked against; the JSON form is printed from the packed bytes.
 *
 * Every byte is a function of the options: ids come from splitmix64 seeded
 * with g->seed, and texts are picked by index.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "otlp_trace.pb-c.h"
#include "core/ltb_hash.h"
#include "collector/proto/ltb_otlp_gen.h"

typedef Ltb__Otlp__KeyValue Kv;
typedef Ltb__Otlp__AnyValue Any;
typedef Ltb__Otlp__Span Span;
typedef Ltb__Otlp__Span__Event Event;

static uint64_t
nonzero(uint64_t *x)
{
	uint64_t v;

	while ((v = ltb_splitmix64(x)) == 0)
		;
	return v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static const char *const operations[] = {
	"GET /api/v1/resource", "SELECT orders", "redis GET session",
	"POST /api/v1/orders", "HTTP GET inventory", "render template",
	"kafka produce events", "auth.VerifyToken",
};

/* Event names, 8 to 20 characters. */
static const char *const events[] = {
	"cache miss", "query started", "rows fetched: 42", "retrying",
	"connection acquired", "lock wait", "response written",
	"token validated", "payload decoded", "cache hit", "timeout set",
	"pool exhausted", "request parsed", "headers sent", "flush done",
};

/* One span's worth of storage, so a request is a few big allocations. */
struct gspan {
	Span sp;
	Ltb__Otlp__Status status;
	uint8_t trace[16], id[16], parent[16];
	char url[64], peer[32], user[24];
};

static void
kv_string(Kv *kv, Any *v, const char *key, const char *s)
{
	ltb__otlp__key_value__init(kv);
	ltb__otlp__any_value__init(v);
	kv->key = (char *)key;
	kv->value = v;
	v->value_case = LTB__OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = (char *)s;
}

/* Attribute i of a span: a realistic key and value, some varying. */
static void
attribute(Kv *kv, Any *v, struct gspan *g, int i, uint64_t r, int failed)
{
	switch (i % 10) {
	case 0:
		snprintf(g->url, sizeof g->url,
		    "https://example.com/api/v1/resource/%05u",
		    (unsigned)(r % 100000));
		kv_string(kv, v, "url.full", g->url);
		break;
	case 1:
		kv_string(kv, v, "http.request.method",
		    (r >> 20) % 4 ? "GET" : "POST");
		break;
	case 2:
		kv_string(kv, v, "http.response.status_code", "");
		v->value_case = LTB__OTLP__ANY_VALUE__VALUE_INT_VALUE;
		v->int_value = failed ? 503 : 200;
		break;
	case 3:
		kv_string(kv, v, "network.protocol.version", "1.1");
		break;
	case 4:
		snprintf(g->peer, sizeof g->peer, "db-%02u.internal",
		    (unsigned)((r >> 32) % 16));
		kv_string(kv, v, "server.address", g->peer);
		break;
	case 5:
		kv_string(kv, v, "db.system", "postgresql");
		break;
	case 6:
		snprintf(g->user, sizeof g->user, "u-%08u",
		    (unsigned)((r >> 8) % 100000000));
		kv_string(kv, v, "enduser.id", g->user);
		break;
	case 7:
		kv_string(kv, v, "cloud.region", "us-east-1");
		break;
	case 8:
		kv_string(kv, v, "error", "");
		v->value_case = LTB__OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
		v->bool_value = failed;
		break;
	default:
		kv_string(kv, v, "component", "net/http");
	}
}

/* Make span i of g invalid for g->invalid. */
static void
spoil(struct gspan *g, enum ltb_otlp_invalid why, size_t i)
{
	int odd = i % 2;

	switch (why) {
	case LTB_OTLP_BAD_TRACE_ID:
		if (odd)
			g->sp.trace_id.len = 8;
		else
			memset(g->trace, 0, 16);
		break;
	case LTB_OTLP_BAD_SPAN_ID:
		if (odd)
			g->sp.span_id.len = 16;
		else
			memset(g->id, 0, 8);
		break;
	case LTB_OTLP_BAD_PARENT_SPAN_ID:
		g->sp.parent_span_id.data = g->parent;
		g->sp.parent_span_id.len = odd ? 16 : 4;
		break;
	case LTB_OTLP_NO_NAME:
		g->sp.name = "";
		break;
	case LTB_OTLP_END_BEFORE_START:
		g->sp.end_time_unix_nano = g->sp.start_time_unix_nano - 1;
		break;
	default:
		break;
	}
}

uint8_t *
ltb_otlpgen_request(const struct ltb_otlpgen *o, size_t *len)
{
	Ltb__Otlp__ExportTraceServiceRequest req =
	    LTB__OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	Ltb__Otlp__Resource res = LTB__OTLP__RESOURCE__INIT;
	Ltb__Otlp__InstrumentationScope scope =
	    LTB__OTLP__INSTRUMENTATION_SCOPE__INIT;
	Kv rkv[5];
	Any rav[5];
	Kv *rkvp[5];
	Ltb__Otlp__ResourceSpans *rs = NULL, **rsp = NULL;
	Ltb__Otlp__ScopeSpans *ss = NULL, **ssp = NULL;
	struct gspan *gs = NULL;
	Span **spp = NULL;
	Kv *kvs = NULL, **kvp = NULL;
	Any *avs = NULL;
	Event *evs = NULL, **evp = NULL;
	uint8_t *out = NULL;
	size_t i, j, k, na, ne, total, nblocks, b;
	uint64_t rng, thi = 0, tlo = 0, prev = 0;
	int e = 0, nres, nsc;

	if (o == NULL || len == NULL || o->num_attrs < 0 ||
	    o->num_events < 0 || o->duplicates < 0 || o->resources < 0 ||
	    o->scopes < 0 || (unsigned)o->invalid >= LTB_OTLP_NINVALID) {
		errno = EINVAL;
		return NULL;
	}
	na = (size_t)o->num_attrs;
	ne = (size_t)o->num_events;
	nres = o->resources ? o->resources : 1;
	nsc = o->scopes ? o->scopes : 1;
	if (o->spans > ((size_t)1 << 32) / ((size_t)o->duplicates + 1) ||
	    na + ne > ((size_t)1 << 20) || nres > 1 << 16 || nsc > 1 << 16) {
		errno = EOVERFLOW;
		return NULL;
	}
	total = o->spans * ((size_t)o->duplicates + 1);
	nblocks = (size_t)nres * (size_t)nsc;
	rng = o->seed;

	/* calloc(0, ...) may be NULL, so every count gets at least one; each
	 * span's attributes, then its events' one attribute each */
	gs = calloc(o->spans + 1, sizeof *gs);
	spp = calloc(total + 1, sizeof *spp);
	kvs = calloc(o->spans * (na + ne) + 1, sizeof *kvs);
	kvp = calloc(o->spans * (na + ne) + 1, sizeof *kvp);
	avs = calloc(o->spans * (na + ne) + 1, sizeof *avs);
	evs = calloc(o->spans * ne + 1, sizeof *evs);
	evp = calloc(o->spans * ne + 1, sizeof *evp);
	rs = calloc((size_t)nres, sizeof *rs);
	rsp = calloc((size_t)nres, sizeof *rsp);
	ss = calloc(nblocks, sizeof *ss);
	ssp = calloc(nblocks, sizeof *ssp);
	if (!gs || !spp || !kvs || !kvp || !avs || !evs || !evp || !rs ||
	    !rsp || !ss || !ssp)
		goto fail;

	for (i = 0; i < o->spans; i++) {
		struct gspan *g = &gs[i];
		Kv *ak = kvs + i * (na + ne), **akp = kvp + i * (na + ne);
		Any *av = avs + i * (na + ne);
		Kv *ek = ak + na, **ekp = akp + na;
		Any *ev = av + na;
		Event *eg = evs + i * ne, **egp = evp + i * ne;
		uint64_t r = ltb_splitmix64(&rng);
		uint64_t start = 1700000000000000000ull +
		    (uint64_t)i * 125000000ull + r % 1000000000u;
		uint64_t dur = (150 + r % 50000) * 1000;
		int failed = (r >> 24) % 16 == 0;

		/* a trace of 16 spans, each the child of the one before; the
		 * first one is the root */
		if (i % 16 == 0) {
			thi = nonzero(&rng);
			tlo = ltb_splitmix64(&rng);
			prev = 0;
		}
		ltb__otlp__span__init(&g->sp);
		put_be64(g->trace, thi);
		put_be64(g->trace + 8, tlo);
		put_be64(g->id, nonzero(&rng));
		put_be64(g->id + 8, nonzero(&rng));
		put_be64(g->parent, prev);
		put_be64(g->parent + 8, nonzero(&rng));
		g->sp.trace_id.data = g->trace;
		g->sp.trace_id.len = 16;
		g->sp.span_id.data = g->id;
		g->sp.span_id.len = 8;
		if (prev != 0) {
			g->sp.parent_span_id.data = g->parent;
			g->sp.parent_span_id.len = 8;
		}
		prev = 0;	/* the next span's parent: this one */
		for (j = 0; j < 8; j++)
			prev = prev << 8 | g->id[j];
		g->sp.flags = 0x101;	/* sampled; is_remote known, false */
		g->sp.name = (char *)operations[i % (sizeof operations /
		    sizeof operations[0])];
		g->sp.kind = i % 16 == 0 ?
		    LTB__OTLP__SPAN__SPAN_KIND__SPAN_KIND_SERVER :
		    LTB__OTLP__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
		g->sp.start_time_unix_nano = start;
		g->sp.end_time_unix_nano = start + dur;
		g->sp.n_attributes = na;
		g->sp.attributes = akp;
		for (j = 0; j < na; j++) {
			attribute(&ak[j], &av[j], g, (int)j, r, failed);
			akp[j] = &ak[j];
		}
		g->sp.n_events = ne;
		g->sp.events = egp;
		for (j = 0; j < ne; j++) {
			ltb__otlp__span__event__init(&eg[j]);
			eg[j].time_unix_nano = start + (j + 1) * dur / (ne + 1);
			eg[j].name = (char *)events[(i + j) %
			    (sizeof events / sizeof events[0])];
			kv_string(&ek[j], &ev[j], "event.index", "");
			ev[j].value_case = LTB__OTLP__ANY_VALUE__VALUE_INT_VALUE;
			ev[j].int_value = (int64_t)j;
			ekp[j] = &ek[j];
			eg[j].n_attributes = 1;
			eg[j].attributes = &ekp[j];
			egp[j] = &eg[j];
		}
		if (failed) {
			ltb__otlp__status__init(&g->status);
			g->status.code =
			    LTB__OTLP__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
			g->status.message = "upstream unavailable";
			g->sp.status = &g->status;
		}
		spoil(g, o->invalid, i);
	}
	/* each span followed by its duplicates */
	for (i = 0, k = 0; i < o->spans; i++)
		for (j = 0; j <= (size_t)o->duplicates; j++)
			spp[k++] = &gs[i].sp;

	kv_string(&rkv[0], &rav[0], "service.name", "ltb-fixture");
	kv_string(&rkv[1], &rav[1], "telemetry.sdk.language", "c");
	kv_string(&rkv[2], &rav[2], "telemetry.sdk.name", "ltb");
	kv_string(&rkv[3], &rav[3], "telemetry.sdk.version", "1.0.0");
	kv_string(&rkv[4], &rav[4], "host.name", "bench-host-01");
	for (i = 0; i < 5; i++)
		rkvp[i] = &rkv[i];
	res.n_attributes = 5;
	res.attributes = rkvp;
	scope.name = "ltb.fixture";
	scope.version = "1.0.0";

	/* blocks of consecutive spans, nsc scopes in each resource */
	for (b = 0; b < nblocks; b++) {
		ltb__otlp__scope_spans__init(&ss[b]);
		ss[b].scope = &scope;
		ss[b].n_spans = (b + 1) * total / nblocks - b * total / nblocks;
		ss[b].spans = spp + b * total / nblocks;
		ssp[b] = &ss[b];
	}
	for (i = 0; i < (size_t)nres; i++) {
		ltb__otlp__resource_spans__init(&rs[i]);
		rs[i].resource = &res;
		rs[i].n_scope_spans = (size_t)nsc;
		rs[i].scope_spans = ssp + i * (size_t)nsc;
		rs[i].schema_url = "https://opentelemetry.io/schemas/1.24.0";
		rsp[i] = &rs[i];
	}
	req.n_resource_spans = (size_t)nres;
	req.resource_spans = rsp;

	*len = ltb__otlp__export_trace_service_request__get_packed_size(&req);
	if ((out = malloc(*len ? *len : 1)) == NULL)
		goto fail;
	ltb__otlp__export_trace_service_request__pack(&req, out);
	goto out;
fail:
	e = errno ? errno : ENOMEM;
out:
	free(gs);
	free(spp);
	free(kvs);
	free(kvp);
	free(avs);
	free(evs);
	free(evp);
	free(rs);
	free(rsp);
	free(ss);
	free(ssp);
	if (out == NULL)
		errno = e;
	return out;
}

/* ---- the JSON mapping -------------------------------------------------- */

static cJSON *any_json(const Any *v);

/* Add key: the hex of b, unless empty (proto3 leaves defaults out). */
static int
add_hex(cJSON *o, const char *key, const ProtobufCBinaryData *b)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;
	cJSON *c;

	if (b->len == 0)
		return 0;
	if ((s = malloc(2 * b->len + 1)) == NULL)
		return -1;
	for (i = 0; i < b->len; i++) {
		s[2 * i] = digits[b->data[i] >> 4];
		s[2 * i + 1] = digits[b->data[i] & 15];
	}
	s[2 * b->len] = '\0';
	c = cJSON_AddStringToObject(o, key, s);
	free(s);
	return c ? 0 : -1;
}

static int
add_base64(cJSON *o, const char *key, const ProtobufCBinaryData *b)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s;
	size_t i, j = 0;
	cJSON *c;

	if ((s = malloc(4 * (b->len / 3 + 1) + 1)) == NULL)
		return -1;
	for (i = 0; i + 2 < b->len; i += 3) {
		uint32_t x = (uint32_t)b->data[i] << 16 |
		    (uint32_t)b->data[i + 1] << 8 | b->data[i + 2];

		s[j++] = b64[x >> 18];
		s[j++] = b64[x >> 12 & 63];
		s[j++] = b64[x >> 6 & 63];
		s[j++] = b64[x & 63];
	}
	if (i < b->len) {
		uint32_t x = (uint32_t)b->data[i] << 16;

		if (i + 1 < b->len)
			x |= (uint32_t)b->data[i + 1] << 8;
		s[j++] = b64[x >> 18];
		s[j++] = b64[x >> 12 & 63];
		s[j++] = i + 1 < b->len ? b64[x >> 6 & 63] : '=';
		s[j++] = '=';
	}
	s[j] = '\0';
	c = cJSON_AddStringToObject(o, key, s);
	free(s);
	return c ? 0 : -1;
}

/* 64-bit integers are decimal strings. */
static int
add_u64(cJSON *o, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof s, "%" PRIu64, v);
	return cJSON_AddStringToObject(o, key, s) ? 0 : -1;
}

static int
add_str(cJSON *o, const char *key, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return 0;
	return cJSON_AddStringToObject(o, key, s) ? 0 : -1;
}

static int
add_num(cJSON *o, const char *key, double v)
{
	if (v == 0)
		return 0;
	return cJSON_AddNumberToObject(o, key, v) ? 0 : -1;
}

static cJSON *
kvs_json(Kv *const *kv, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(a, o))
			goto fail;
		if (add_str(o, "key", kv[i]->key) < 0)
			goto fail;
		if (kv[i]->value != NULL) {
			cJSON *v = any_json(kv[i]->value);

			if (v == NULL || !cJSON_AddItemToObject(o, "value", v))
				goto fail;
		}
	}
	return a;
fail:
	cJSON_Delete(a);
	return NULL;
}

static cJSON *
any_json(const Any *v)
{
	cJSON *o = cJSON_CreateObject(), *c = NULL, *l;
	char s[24];
	size_t i;

	if (o == NULL)
		return NULL;
	switch (v->value_case) {
	case LTB__OTLP__ANY_VALUE__VALUE_STRING_VALUE:
		c = cJSON_AddStringToObject(o, "stringValue", v->string_value);
		break;
	case LTB__OTLP__ANY_VALUE__VALUE_BOOL_VALUE:
		c = cJSON_AddBoolToObject(o, "boolValue", v->bool_value);
		break;
	case LTB__OTLP__ANY_VALUE__VALUE_INT_VALUE:
		snprintf(s, sizeof s, "%" PRId64, v->int_value);
		c = cJSON_AddStringToObject(o, "intValue", s);
		break;
	case LTB__OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE:
		c = cJSON_AddNumberToObject(o, "doubleValue", v->double_value);
		break;
	case LTB__OTLP__ANY_VALUE__VALUE_ARRAY_VALUE:
		c = cJSON_AddObjectToObject(o, "arrayValue");
		l = c ? cJSON_AddArrayToObject(c, "values") : NULL;
		for (i = 0; l != NULL && i < v->array_value->n_values; i++) {
			cJSON *x = any_json(v->array_value->values[i]);

			if (x == NULL || !cJSON_AddItemToArray(l, x)) {
				cJSON_Delete(x);
				l = NULL;
			}
		}
		if (l == NULL)
			c = NULL;
		break;
	case LTB__OTLP__ANY_VALUE__VALUE_KVLIST_VALUE:
		c = cJSON_AddObjectToObject(o, "kvlistValue");
		l = c ? kvs_json(v->kvlist_value->values,
		    v->kvlist_value->n_values) : NULL;
		if (l == NULL || !cJSON_AddItemToObject(c, "values", l))
			c = NULL;
		break;
	case LTB__OTLP__ANY_VALUE__VALUE_BYTES_VALUE:
		c = add_base64(o, "bytesValue", &v->bytes_value) ? NULL : o;
		break;
	default:
		c = o;
	}
	if (c == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Add key: the attributes, unless there are none. */
static int
add_kvs(cJSON *o, const char *key, Kv *const *kv, size_t n)
{
	cJSON *a;

	if (n == 0)
		return 0;
	if ((a = kvs_json(kv, n)) == NULL)
		return -1;
	return cJSON_AddItemToObject(o, key, a) ? 0 : -1;
}

static cJSON *
span_json(const Span *s)
{
	cJSON *o = cJSON_CreateObject(), *a;
	size_t i;
	int bad = o == NULL;

	bad = bad || add_hex(o, "traceId", &s->trace_id) ||
	    add_hex(o, "spanId", &s->span_id) ||
	    add_str(o, "traceState", s->trace_state) ||
	    add_hex(o, "parentSpanId", &s->parent_span_id) ||
	    add_num(o, "flags", s->flags) ||
	    add_str(o, "name", s->name) ||
	    add_num(o, "kind", s->kind) ||
	    add_u64(o, "startTimeUnixNano", s->start_time_unix_nano) ||
	    add_u64(o, "endTimeUnixNano", s->end_time_unix_nano) ||
	    add_kvs(o, "attributes", s->attributes, s->n_attributes) ||
	    add_num(o, "droppedAttributesCount", s->dropped_attributes_count);
	if (!bad && s->n_events) {
		bad = (a = cJSON_AddArrayToObject(o, "events")) == NULL;
		for (i = 0; !bad && i < s->n_events; i++) {
			const Event *ev = s->events[i];
			cJSON *x = cJSON_CreateObject();

			bad = x == NULL || !cJSON_AddItemToArray(a, x) ||
			    add_u64(x, "timeUnixNano", ev->time_unix_nano) ||
			    add_str(x, "name", ev->name) ||
			    add_kvs(x, "attributes", ev->attributes,
			    ev->n_attributes);
		}
	}
	if (!bad && s->n_links) {
		bad = (a = cJSON_AddArrayToObject(o, "links")) == NULL;
		for (i = 0; !bad && i < s->n_links; i++) {
			const Ltb__Otlp__Span__Link *l = s->links[i];
			cJSON *x = cJSON_CreateObject();

			bad = x == NULL || !cJSON_AddItemToArray(a, x) ||
			    add_hex(x, "traceId", &l->trace_id) ||
			    add_hex(x, "spanId", &l->span_id) ||
			    add_str(x, "traceState", l->trace_state) ||
			    add_kvs(x, "attributes", l->attributes,
			    l->n_attributes) ||
			    add_num(x, "flags", l->flags);
		}
	}
	if (!bad && s->status != NULL) {
		bad = (a = cJSON_AddObjectToObject(o, "status")) == NULL ||
		    add_str(a, "message", s->status->message) ||
		    add_num(a, "code", s->status->code);
	}
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *
request_json(const Ltb__Otlp__ExportTraceServiceRequest *r)
{
	cJSON *root = cJSON_CreateObject(), *rsa, *ssa, *spa, *x, *y, *z;
	size_t i, j, k;

	if (root == NULL ||
	    (rsa = cJSON_AddArrayToObject(root, "resourceSpans")) == NULL)
		goto fail;
	for (i = 0; i < r->n_resource_spans; i++) {
		const Ltb__Otlp__ResourceSpans *rs = r->resource_spans[i];

		if ((x = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(rsa, x))
			goto fail;
		if (rs->resource != NULL &&
		    ((y = cJSON_AddObjectToObject(x, "resource")) == NULL ||
		    add_kvs(y, "attributes", rs->resource->attributes,
		    rs->resource->n_attributes)))
			goto fail;
		if ((ssa = cJSON_AddArrayToObject(x, "scopeSpans")) == NULL)
			goto fail;
		for (j = 0; j < rs->n_scope_spans; j++) {
			const Ltb__Otlp__ScopeSpans *ss = rs->scope_spans[j];

			if ((y = cJSON_CreateObject()) == NULL ||
			    !cJSON_AddItemToArray(ssa, y))
				goto fail;
			if (ss->scope != NULL &&
			    ((z = cJSON_AddObjectToObject(y, "scope")) == NULL ||
			    add_str(z, "name", ss->scope->name) ||
			    add_str(z, "version", ss->scope->version)))
				goto fail;
			if ((spa = cJSON_AddArrayToObject(y, "spans")) == NULL)
				goto fail;
			for (k = 0; k < ss->n_spans; k++) {
				if ((z = span_json(ss->spans[k])) == NULL ||
				    !cJSON_AddItemToArray(spa, z))
					goto fail;
			}
			if (add_str(y, "schemaUrl", ss->schema_url))
				goto fail;
		}
		if (add_str(x, "schemaUrl", rs->schema_url))
			goto fail;
	}
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}

char *
ltb_otlp_to_json(const uint8_t *p, size_t n, size_t *len)
{
	Ltb__Otlp__ExportTraceServiceRequest *r;
	cJSON *root;
	char *s;

	if ((r = ltb__otlp__export_trace_service_request__unpack(NULL, n,
	    p)) == NULL) {
		errno = EINVAL;
		return NULL;
	}
	root = request_json(r);
	ltb__otlp__export_trace_service_request__free_unpacked(r, NULL);
	if (root == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (len != NULL)
		*len = strlen(s);
	return s;
}

char *
ltb_otlpgen_json(const struct ltb_otlpgen *g, size_t *len)
{
	uint8_t *p;
	size_t n;
	char *s;
	int e;

	if ((p = ltb_otlpgen_request(g, &n)) == NULL)
		return NULL;
	s = ltb_otlp_to_json(p, n, len);
	e = errno;
	free(p);
	errno = e;
	return s;
}
