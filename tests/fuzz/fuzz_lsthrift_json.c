/*
 * fuzz_lsthrift_json.c: libFuzzer target for LightStep's thrift report in
 * JSON (ltb_proto_lightstep_thrift_json), beyond what fuzz_protocols
 * checks of every protocol.
 *
 * Each input is a body, fed whole and cut in two at a place its last byte
 * picks, under a budget, as the satellite group feeds it. On every input:
 *
 *  - both feedings give the same verdict, units and answer status;
 *  - a body refused counts no unit;
 *  - a body read counts exactly the elements of its span_records array,
 *    as cJSON's own tree has it, and is answered with a JSON
 *    ReportResponse (timing and commands);
 *  - differentially, the same body re-serialised by cJSON (its spacing,
 *    escapes and numbers written anew) gives the same verdict and the
 *    same units: the reader depends on the JSON value, not its spelling;
 *  - the budget is given back whole (and ASan finds what is not freed).
 *
 * Any breach aborts. Seeds: tests/fuzz/seeds/lightstep_thrift_json/.
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
	uint64_t keys[MAXUNITS];
	unsigned invalid[MAXUNITS];
	size_t n, total;
};

static struct outcome whole, cut, again;

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_lsthrift_json: %s\n", what);
		abort();
	}
}

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct outcome *o = ctx;

	must(invalid < ltb_proto_lightstep_thrift_json.ninvalid,
	    "a reason beyond the table");
	o->total++;
	if (o->n == MAXUNITS)
		return;
	o->keys[o->n] = key;
	o->invalid[o->n++] = invalid;
}

static void
run(const uint8_t *b, size_t n, size_t at, struct outcome *o)
{
	static uint64_t state[1 << 10];
	const struct ltb_collector_proto *p = &ltb_proto_lightstep_thrift_json;
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
	if (o->rc != LTB_COLLECT_OK)
		must(why != NULL && why[0] != '\0', "refused without a reason");
	p->release(state);
	must(atomic_load(&budget.used) == 0, "budget not given back");
}

/* The elements of root's span_records, as cJSON sees them; 0 for none. */
static size_t
elements(const cJSON *root)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "span_records");

	return cJSON_IsArray(a) ? (size_t)cJSON_GetArraySize(a) : 0;
}

static void
check_answer(const struct outcome *o)
{
	cJSON *a = cJSON_ParseWithLength((const char *)o->reply.body,
	    o->reply.len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "timing");

	must(o->reply.status == 0, "a body read is not a 200");
	must(a != NULL, "the answer is not JSON");
	must(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t,
	    "receive_micros")), "no timing.receive_micros");
	must(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t,
	    "transmit_micros")), "no timing.transmit_micros");
	must(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "commands")),
	    "no commands");
	cJSON_Delete(a);
}

static int
same_units(const struct outcome *x, const struct outcome *y)
{
	return x->total == y->total && x->n == y->n &&
	    memcmp(x->keys, y->keys, x->n * sizeof *x->keys) == 0 &&
	    memcmp(x->invalid, y->invalid, x->n * sizeof *x->invalid) == 0;
}

/* The body written anew by cJSON must read the same. Only one way: a
 * body refused may read once re-serialised, as cJSON writes a number
 * beyond a double (1e400) as null, the absent value. */
static void
reserialised(const uint8_t *data, size_t size)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, size,
	    &end, 0);
	char *txt;

	if (whole.rc == LTB_COLLECT_OK)
		must(root != NULL, "read a body cJSON cannot parse");
	if (root == NULL)
		return;
	must(whole.rc != LTB_COLLECT_OK || whole.total == elements(root),
	    "units are not span_records' elements");
	txt = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (txt == NULL || whole.rc != LTB_COLLECT_OK) {
		free(txt);
		return;
	}
	run((const uint8_t *)txt, strlen(txt), strlen(txt), &again);
	free(txt);
	must(again.rc == LTB_COLLECT_OK, "refused once re-serialised");
	must(same_units(&whole, &again), "units differ re-serialised");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = size > 0 ? data[size - 1] % (size + 1) : 0;

	run(data, size, size, &whole);
	if (whole.rc == LTB_COLLECT_OK)
		check_answer(&whole);
	else
		must(whole.total == 0, "units counted from a body refused");
	run(data, size, at, &cut);
	must(whole.rc == cut.rc, "verdict differs when cut");
	must(same_units(&whole, &cut), "units differ when cut");
	must(whole.reply.status == cut.reply.status, "answer differs when cut");
	reserialised(data, size);
	return 0;
}
