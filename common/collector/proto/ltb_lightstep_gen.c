/*
 * ltb_lightstep_gen.c: realistic LightStep reports for tests and benchmarks.
 *
 * The spans look like what an instrumented web service sends: HTTP, SQL and
 * cache operations, the usual OpenTracing tags (http.url, db.statement,
 * peer.hostname, ...) and short log events ("cache miss", "retrying"). With
 * the default 10 tags and 15 logs a span packs to about 940 bytes, which is
 * what the satellite's per-span cost is quoted against. The report is built
 * as protobuf-c structs on the heap and packed by protobuf-c, so it is also
 * a fixture that the walk can be checked against.
 *
 * Every byte is a function of the options: ids come from SplitMix64
 * (core/ltb_hash.h) seeded with g->seed, and texts are picked by index.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lightstep_collector.pb-c.h"
#include "collector/proto/ltb_lightstep_gen.h"
#include "core/ltb_hash.h"

typedef Lightstep__Collector__KeyValue Kv;
typedef Lightstep__Collector__Log Log;
typedef Lightstep__Collector__Span Span;
typedef Lightstep__Collector__SpanContext Ctx;
typedef Lightstep__Collector__Reference Ref;
typedef Lightstep__Collector__Timestamp Ts;

static uint64_t
nonzero(uint64_t *x)
{
	uint64_t v;

	while ((v = ltb_splitmix64(x)) == 0)
		;
	return v;
}

static const char *const operations[] = {
	"GET /api/v1/resource", "SELECT orders", "redis GET session",
	"POST /api/v1/orders", "HTTP GET inventory", "render template",
	"kafka produce events", "auth.VerifyToken",
};

/* Log events, 8 to 20 characters. */
static const char *const events[] = {
	"cache miss", "query started", "rows fetched: 42", "retrying",
	"connection acquired", "lock wait", "response written",
	"token validated", "payload decoded", "cache hit", "timeout set",
	"pool exhausted", "request parsed", "headers sent", "flush done",
};

/* One span's worth of storage, so a report is a few big allocations. */
struct gspan {
	Span sp;
	Ctx ctx, refctx;
	Ref ref, *refp;
	Ts start;
	char url[64], peer[32], user[24], status[8];
};

/* Tag i of a span: a realistic key and value, some varying per span. */
static void
tag(Kv *kv, struct gspan *g, int i, uint64_t r)
{
	static const char *const keys[] = {
		"http.url", "http.method", "http.status_code", "component",
		"span.kind", "peer.hostname", "db.type", "user.id", "region",
		"error",
	};

	kv->value_case = LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
	kv->key = (char *)keys[i % 10];
	switch (i % 10) {
	case 0:
		snprintf(g->url, sizeof g->url,
		    "https://example.com/api/v1/resource/%05u",
		    (unsigned)(r % 100000));
		kv->string_value = g->url;
		break;
	case 1:
		kv->string_value = (r >> 20) % 4 ? "GET" : "POST";
		break;
	case 2:
		snprintf(g->status, sizeof g->status, "%u",
		    (r >> 24) % 16 ? 200u : 503u);
		kv->string_value = g->status;
		break;
	case 3:
		kv->string_value = "net/http";
		break;
	case 4:
		kv->string_value = "server";
		break;
	case 5:
		snprintf(g->peer, sizeof g->peer, "db-%02u.internal",
		    (unsigned)((r >> 32) % 16));
		kv->string_value = g->peer;
		break;
	case 6:
		kv->string_value = "postgresql";
		break;
	case 7:
		snprintf(g->user, sizeof g->user, "u-%08u",
		    (unsigned)((r >> 8) % 100000000));
		kv->string_value = g->user;
		break;
	case 8:
		kv->string_value = "us-east-1";
		break;
	default:
		kv->string_value = "false";
	}
}

uint8_t *
ltb_lsgen_report(const struct ltb_lsgen *o, size_t *len)
{
	Lightstep__Collector__ReportRequest req =
	    LIGHTSTEP__COLLECTOR__REPORT_REQUEST__INIT;
	Lightstep__Collector__Reporter rep =
	    LIGHTSTEP__COLLECTOR__REPORTER__INIT;
	Lightstep__Collector__Auth auth = LIGHTSTEP__COLLECTOR__AUTH__INIT;
	Kv reptags[2] = { LIGHTSTEP__COLLECTOR__KEY_VALUE__INIT,
	    LIGHTSTEP__COLLECTOR__KEY_VALUE__INIT };
	Kv *reptagp[2] = { &reptags[0], &reptags[1] };
	struct gspan *gs = NULL;
	Span **spp = NULL;
	Kv *kvs = NULL, **kvp = NULL;
	Log *logs = NULL, **logp = NULL;
	Ts *logts = NULL;
	uint8_t *out = NULL;
	size_t i, j, k, nt, nl, total;
	uint64_t rng, trace = 0, prev = 0;
	int e = 0;

	if (o == NULL || len == NULL || o->num_tags < 0 || o->num_logs < 0 ||
	    o->duplicates < 0 || (unsigned)o->invalid >= LTB_LS_NINVALID) {
		errno = EINVAL;
		return NULL;
	}
	nt = (size_t)o->num_tags;
	nl = (size_t)o->num_logs;
	if (o->spans > ((size_t)1 << 32) / ((size_t)o->duplicates + 1) ||
	    nt + nl > ((size_t)1 << 20)) {
		errno = EOVERFLOW;
		return NULL;
	}
	total = o->spans * ((size_t)o->duplicates + 1);
	rng = o->seed;

	/* calloc(0, ...) may be NULL, so every count gets at least one */
	gs = calloc(o->spans + 1, sizeof *gs);
	spp = calloc(total + 1, sizeof *spp);
	kvs = calloc(o->spans * (nt + nl) + 1, sizeof *kvs);
	kvp = calloc(o->spans * (nt + nl) + 1, sizeof *kvp);
	logs = calloc(o->spans * nl + 1, sizeof *logs);
	logp = calloc(o->spans * nl + 1, sizeof *logp);
	logts = calloc(o->spans * nl + 1, sizeof *logts);
	if (!gs || !spp || !kvs || !kvp || !logs || !logp || !logts)
		goto fail;

	for (i = 0; i < o->spans; i++) {
		struct gspan *g = &gs[i];
		Kv *tk = kvs + i * (nt + nl), **tkp = kvp + i * (nt + nl);
		Kv *lk = tk + nt, **lkp = tkp + nt;
		Log *lg = logs + i * nl, **lgp = logp + i * nl;
		Ts *lt = logts + i * nl;
		uint64_t r = ltb_splitmix64(&rng);
		int64_t sec = 1700000000 + (int64_t)i / 8;
		int32_t ns = (int32_t)(r % 1000000000u);

		/* a trace of 16 spans, each the child of the one before; the
		 * first one's parent is remote */
		if (i % 16 == 0) {
			trace = nonzero(&rng);
			prev = nonzero(&rng);
		}
		lightstep__collector__span__init(&g->sp);
		lightstep__collector__span_context__init(&g->ctx);
		lightstep__collector__span_context__init(&g->refctx);
		lightstep__collector__reference__init(&g->ref);
		lightstep__collector__timestamp__init(&g->start);
		g->ctx.trace_id = trace;
		g->ctx.span_id = nonzero(&rng);
		g->refctx.trace_id = trace;
		g->refctx.span_id = prev;
		prev = g->ctx.span_id;
		g->ref.relationship =
		    LIGHTSTEP__COLLECTOR__REFERENCE__RELATIONSHIP__CHILD_OF;
		g->ref.span_context = &g->refctx;
		g->refp = &g->ref;
		g->start.seconds = sec;
		g->start.nanos = ns;

		g->sp.span_context = &g->ctx;
		g->sp.operation_name =
		    (char *)operations[i % (sizeof operations /
		    sizeof operations[0])];
		g->sp.n_references = 1;
		g->sp.references = &g->refp;
		g->sp.start_timestamp = &g->start;
		g->sp.duration_micros = 150 + r % 50000;
		g->sp.n_tags = nt;
		g->sp.tags = tkp;
		for (j = 0; j < nt; j++) {
			lightstep__collector__key_value__init(&tk[j]);
			tag(&tk[j], g, (int)j, r);
			tkp[j] = &tk[j];
		}
		g->sp.n_logs = nl;
		g->sp.logs = lgp;
		for (j = 0; j < nl; j++) {
			int64_t at = ns + (int64_t)(j + 1) *
			    (int64_t)(g->sp.duration_micros * 1000 / (nl + 1));

			lightstep__collector__log__init(&lg[j]);
			lightstep__collector__timestamp__init(&lt[j]);
			lightstep__collector__key_value__init(&lk[j]);
			lt[j].seconds = sec + at / 1000000000;
			lt[j].nanos = (int32_t)(at % 1000000000);
			lk[j].key = "event";
			lk[j].value_case =
			    LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
			lk[j].string_value = (char *)events[(i + j) %
			    (sizeof events / sizeof events[0])];
			lkp[j] = &lk[j];
			lg[j].timestamp = &lt[j];
			lg[j].n_fields = 1;
			lg[j].fields = &lkp[j];
			lgp[j] = &lg[j];
		}

		switch (o->invalid) {
		case LTB_LS_NO_CONTEXT:
			g->sp.span_context = NULL;
			break;
		case LTB_LS_ZERO_TRACE_ID:
			g->ctx.trace_id = 0;
			break;
		case LTB_LS_ZERO_SPAN_ID:
			g->ctx.span_id = 0;
			break;
		case LTB_LS_NO_OPERATION:
			g->sp.operation_name = "";
			break;
		case LTB_LS_NO_START:
			g->sp.start_timestamp = NULL;
			break;
		case LTB_LS_BAD_TIMESTAMP:
			g->start.nanos = 1000000000;
			break;
		case LTB_LS_BAD_REFERENCE:
			g->refctx.span_id = 0;
			break;
		case LTB_LS_EMPTY_KEY:
			/* a tag if there is one, else a new empty-key tag */
			if (nt > 0) {
				tk[0].key = "";
			} else {
				static Kv blank =
				    LIGHTSTEP__COLLECTOR__KEY_VALUE__INIT;
				static Kv *blankp = &blank;

				g->sp.n_tags = 1;
				g->sp.tags = &blankp;
			}
			break;
		default:
			break;
		}
	}
	/* each span followed by its duplicates */
	for (i = 0, k = 0; i < o->spans; i++)
		for (j = 0; j <= (size_t)o->duplicates; j++)
			spp[k++] = &gs[i].sp;

	reptags[0].key = "lightstep.tracer_platform";
	reptags[0].value_case =
	    LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
	reptags[0].string_value = "c";
	reptags[1].key = "lightstep.component_name";
	reptags[1].value_case =
	    LIGHTSTEP__COLLECTOR__KEY_VALUE__VALUE_STRING_VALUE;
	reptags[1].string_value = "ltb";
	rep.reporter_id = nonzero(&rng);
	rep.n_tags = 2;
	rep.tags = reptagp;
	auth.access_token = "ltb-test-token";
	req.reporter = &rep;
	req.auth = &auth;
	req.n_spans = total;
	req.spans = spp;

	*len = lightstep__collector__report_request__get_packed_size(&req);
	if ((out = malloc(*len ? *len : 1)) == NULL)
		goto fail;
	lightstep__collector__report_request__pack(&req, out);
	goto out;
fail:
	e = errno ? errno : ENOMEM;
out:
	free(gs);
	free(spp);
	free(kvs);
	free(kvp);
	free(logs);
	free(logp);
	free(logts);
	if (out == NULL)
		errno = e;
	return out;
}
