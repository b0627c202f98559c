/*
 * fuzz_atlas.c: libFuzzer target for the Atlas publish protocol
 * (ltb_proto_atlas), beyond what fuzz_protocols checks of every protocol.
 *
 * Each input is a body, fed whole and cut in two at a place its last byte
 * picks, under a budget, as the satellite group feeds it. On every input:
 *
 *  - both feedings give the same verdict, units and answer;
 *  - a body refused counts no unit and is answered with a JSON
 *    DiagnosticMessage ({"type":"error","message":...});
 *  - a body read counts at least one unit, every key 0; its answer is 200
 *    with no body when none is invalid, else JSON whose errorCount is the
 *    number of invalid units, "partial" with 202 when some are valid,
 *    "error" with 400 when none is;
 *  - the budget is given back whole.
 *
 * Any breach aborts. Seeds: tests/fuzz/seeds/atlas/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_collector.h"

enum { MAXUNITS = 1 << 16 };

struct outcome {
	int rc;
	struct ltb_reply reply;
	unsigned invalid[MAXUNITS];
	size_t n, bad, total;
	int keyed, over;
};

static struct outcome whole, cut;

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_atlas: %s\n", what);
		abort();
	}
}

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct outcome *o = ctx;

	o->keyed |= key != 0;
	o->bad += invalid != 0;
	o->total++;
	if (o->n == MAXUNITS) {
		o->over = 1;
		return;
	}
	o->invalid[o->n++] = invalid;
}

static void
run(const uint8_t *b, size_t n, size_t at, struct outcome *o)
{
	static uint64_t state[1 << 13];
	const struct ltb_collector_proto *p = &ltb_proto_atlas;
	struct ltb_budget budget;
	struct ltb_message m = { .path = p->path,
		.content_type = "application/json", .encoding = "",
		.start_real_ns = 1700000000000000000ull, .max_field = 1 << 20,
		.budget = &budget };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = o };
	const char *why = "";

	must(p->state_size <= sizeof state, "state too large for the target");
	ltb_budget_init(&budget, 64u << 20);
	memset(o, 0, sizeof *o);
	memset(state, 0, p->state_size);
	o->rc = p->begin(state, &m);
	must(o->rc == LTB_COLLECT_OK, "begin refused application/json");
	o->rc = p->feed(state, b, at, &sink, &why);
	if (o->rc == LTB_COLLECT_OK)
		o->rc = p->feed(state, b + at, n - at, &sink, &why);
	if (o->rc == LTB_COLLECT_OK)
		o->rc = p->end(state, &sink, &o->reply, &why);
	if (o->rc != LTB_COLLECT_OK) {
		memset(&o->reply, 0, sizeof o->reply);
		o->reply.status = 400;
		p->refuse(state, o->rc, why, &o->reply);
	}
	p->release(state);
	must(atomic_load(&budget.used) == 0, "budget not given back");
}

static void
check(const struct outcome *o)
{
	cJSON *a = NULL;
	const cJSON *t, *c;

	must(!o->keyed, "a measurement with a key");
	if (o->reply.len > 0) {
		a = cJSON_ParseWithLength((const char *)o->reply.body,
		    o->reply.len);
		must(a != NULL, "answer is not JSON");
	}
	t = cJSON_GetObjectItemCaseSensitive(a, "type");
	c = cJSON_GetObjectItemCaseSensitive(a, "errorCount");
	if (o->rc != LTB_COLLECT_OK) {
		must(o->total == 0, "units counted from a body refused");
		must(cJSON_IsString(t) && strcmp(t->valuestring, "error") == 0,
		    "refusal's type is not error");
		must(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a,
		    "message")), "refusal without a message");
	} else if (o->bad == 0) {
		must(o->total > 0, "a body read without a unit");
		must(o->reply.status == 0 && o->reply.len == 0,
		    "all valid but not a bare 200");
	} else {
		must(cJSON_IsNumber(c) && c->valuedouble == (double)o->bad,
		    "errorCount is not the invalid units");
		must(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a,
		    "message")), "failure without messages");
		if (o->bad == o->total)
			must(o->reply.status == 400 &&
			    strcmp(t->valuestring, "error") == 0,
			    "none valid but not a 400 error");
		else
			must(o->reply.status == 202 &&
			    strcmp(t->valuestring, "partial") == 0,
			    "some valid but not a 202 partial");
	}
	cJSON_Delete(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = size > 0 ? data[size - 1] % (size + 1) : 0;

	run(data, size, size, &whole);
	check(&whole);
	run(data, size, at, &cut);
	must(whole.rc == cut.rc, "verdict differs when cut");
	must(whole.total == cut.total && whole.bad == cut.bad &&
	    memcmp(whole.invalid, cut.invalid, whole.n * sizeof *whole.invalid)
	    == 0, "units differ when cut");
	must(whole.reply.status == cut.reply.status &&
	    whole.reply.len == cut.reply.len &&
	    memcmp(whole.reply.body, cut.reply.body, whole.reply.len) == 0,
	    "answer differs when cut");
	return 0;
}
