/*
 * test_atlas.c: the Atlas publish protocol (ltb_proto_atlas), driven as
 * the satellite group drives it: begin, feed, end (or refuse), release.
 *
 * Each measurement is one unit with key 0, judged by Atlas's publish
 * rules in their order; the answer is Atlas's: 200 with nothing, 202
 * "partial" or 400 "error" with errorCount and messages, 400 with a
 * DiagnosticMessage for a body that is not a payload. Both bodies are
 * read: Atlas's documented batch and the compact array nflx-spectator
 * 1.0.0 sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_collector.h"

#define NOW_MS 1700000000000ull
#define MAXU 64

/* Reasons by their index in the protocol's table. */
static unsigned
reason(const char *name)
{
	const struct ltb_collector_proto *p = &ltb_proto_atlas;

	for (unsigned i = 0; i < p->ninvalid; i++)
		if (strcmp(p->invalid_names[i], name) == 0)
			return i;
	fail_msg("no reason %s", name);
	return 0;
}

struct result {
	int rc;
	const char *why;
	struct ltb_reply reply;
	unsigned invalid[MAXU];
	uint64_t keys[MAXU];
	size_t n;
};

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct result *r = ctx;

	assert_true(r->n < MAXU);
	r->keys[r->n] = key;
	r->invalid[r->n++] = invalid;
}

/* One message; budget may be NULL. */
static void
run_budget(const char *body, const char *ctype, uint64_t claim,
    struct ltb_budget *budget, struct result *r)
{
	const struct ltb_collector_proto *p = &ltb_proto_atlas;
	struct ltb_message m = { .path = p->path, .content_type = ctype,
		.encoding = "", .start_real_ns = NOW_MS * 1000000ull,
		.max_field = 1 << 20, .claim_rejected = claim,
		.budget = budget };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = r };
	void *state = calloc(1, p->state_size);
	size_t n = strlen(body), half = n / 2;

	assert_non_null(state);
	memset(r, 0, sizeof *r);
	r->rc = p->begin(state, &m);
	if (r->rc != LTB_COLLECT_OK) {
		free(state);
		return;
	}
	/* in two pieces, as a transport may hand it */
	r->rc = p->feed(state, (const uint8_t *)body, half, &sink, &r->why);
	if (r->rc == LTB_COLLECT_OK)
		r->rc = p->feed(state, (const uint8_t *)body + half, n - half,
		    &sink, &r->why);
	if (r->rc == LTB_COLLECT_OK)
		r->rc = p->end(state, &sink, &r->reply, &r->why);
	if (r->rc != LTB_COLLECT_OK) {
		memset(&r->reply, 0, sizeof r->reply);
		r->reply.status = 400;
		p->refuse(state, r->rc, r->why, &r->reply);
	}
	p->release(state);
	free(state);
}

static void
run(const char *body, struct result *r)
{
	run_budget(body, "application/json", 0, NULL, r);
}

/* The answer's body, parsed (the caller deletes it). */
static cJSON *
answer(const struct result *r)
{
	cJSON *o = cJSON_ParseWithLength((const char *)r->reply.body,
	    r->reply.len);

	assert_non_null(o);
	return o;
}

static void
assert_reasons(const struct result *r, const char *const *names, size_t n)
{
	assert_int_equal(r->n, n);
	for (size_t i = 0; i < n; i++) {
		if (r->invalid[i] != reason(names[i]))
			fail_msg("measurement %zu: %s, not %s", i,
			    ltb_proto_atlas.invalid_names[r->invalid[i]],
			    names[i]);
		assert_int_equal(r->keys[i], 0);
	}
}

/* A batch of one metric with these tags (JSON object text). */
static void
one(const char *tags, struct result *r)
{
	char body[4096];

	snprintf(body, sizeof body, "{\"metrics\":[{\"tags\":%s,"
	    "\"timestamp\":%llu,\"value\":1}]}", tags, NOW_MS);
	run(body, r);
}

static void
assert_one(const char *tags, const char *name)
{
	struct result r;

	one(tags, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_reasons(&r, &name, 1);
}

static void
test_table_entry(void **st)
{
	const struct ltb_collector_proto *p = ltb_collector_find("atlas");

	(void)st;
	assert_ptr_equal(p, &ltb_proto_atlas);
	assert_string_equal(p->unit, "measurement");
	assert_string_equal(p->path, "/api/v1/publish");
	assert_int_equal(p->transport, LTB_TRANSPORT_HTTP);
	assert_true(ltb_collector_reads(p, "application/json"));
	assert_false(ltb_collector_reads(p, "application/x-protobuf"));
	assert_string_equal(p->invalid_names[0], "valid");
}

static void
test_batch_all_valid_is_200_with_nothing(void **st)
{
	static const char *const want[] = { "valid", "valid" };
	struct result r;

	(void)st;
	run("{\"tags\":{\"nf.app\":\"ltb\",\"atlas.dstype\":\"rate\"},"
	    "\"metrics\":[{\"tags\":{\"name\":\"ltb.requests\","
	    "\"statistic\":\"count\"},\"timestamp\":1700000000000,\"value\":3},"
	    "{\"tags\":{\"name\":\"ltb.gauge\"},\"timestamp\":1700000000000,"
	    "\"value\":\"NaN\"}]}", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.reply.status, 0);
	assert_int_equal(r.reply.len, 0);
	assert_reasons(&r, want, 2);
}

static void
test_batch_partial_is_202_with_error_count(void **st)
{
	static const char *const want[] = {
		"valid", "value_length", "missing_name", "bad_characters",
		"data_too_old", "bad_timestamp", "bad_value", "reserved_key",
		"bad_tags",
	};
	struct result r;
	cJSON *o;

	(void)st;
	run("{\"metrics\":["
	    "{\"tags\":{\"name\":\"ok.one\"},\"timestamp\":1700000000000,\"value\":1},"
	    "{\"tags\":{\"name\":\"x\"},\"timestamp\":1700000000000,\"value\":1},"
	    "{\"tags\":{\"nome\":\"y\"},\"timestamp\":1700000000000,\"value\":1},"
	    "{\"tags\":{\"name\":\"bad/chars\"},\"start\":1700000000000,\"values\":[2]},"
	    "{\"tags\":{\"name\":\"old.one\"},\"timestamp\":1600000000000,\"value\":1},"
	    "{\"tags\":{\"name\":\"no.time\"},\"value\":1},"
	    "{\"tags\":{\"name\":\"bad.value\"},\"timestamp\":1700000000000,\"value\":true},"
	    "{\"tags\":{\"name\":\"res\",\"nf.bogus\":\"z\"},\"timestamp\":1700000000000,\"value\":1},"
	    "{\"tags\":{\"name\":{}},\"timestamp\":1700000000000,\"value\":1}]}", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_reasons(&r, want, 9);
	assert_int_equal(r.reply.status, 202);
	assert_string_equal(r.reply.content_type, "application/json");
	o = answer(&r);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring,
	    "partial");
	assert_int_equal(cJSON_GetObjectItem(o, "errorCount")->valueint, 8);
	/* Atlas describes the first 5 failures */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "message")),
	    5);
	assert_non_null(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(o,
	    "message"), 1)->valuestring, "missing key 'name'"));
	cJSON_Delete(o);
}

static void
test_batch_none_valid_is_400_error(void **st)
{
	static const char *const want[] = { "missing_name", "data_from_future" };
	struct result r;
	cJSON *o;

	(void)st;
	run("{\"metrics\":[{\"tags\":{},\"timestamp\":1700000000000,\"value\":1},"
	    "{\"tags\":{\"name\":\"later\"},\"timestamp\":1700000600000,"
	    "\"value\":1}]}", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_reasons(&r, want, 2);
	assert_int_equal(r.reply.status, 400);
	o = answer(&r);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "error");
	assert_int_equal(cJSON_GetObjectItem(o, "errorCount")->valueint, 2);
	cJSON_Delete(o);
}

static void
test_the_rules(void **st)
{
	char tags[4096];
	size_t n;

	(void)st;
	assert_one("{\"name\":\"ab\"}", "valid");
	assert_one("{\"name\":\"a\"}", "value_length");
	assert_one("{\"name\":\"ab\",\"k\":\"v\"}", "key_length");
	assert_one("{\"name\":\"ab\",\"key\":\"\"}", "value_length");
	assert_one("{\"name\":\"ab\",\"key\":\"a b\"}", "bad_characters");
	assert_one("{\"name\":\"ab\",\"k y\":\"v\"}", "bad_characters");
	assert_one("{\"name\":\"a-._~^Z9\"}", "valid");
	assert_one("{\"name\":\"ab\",\"nf.app\":\"x\",\"nf.zone\":\"y\","
	    "\"atlas.dstype\":\"gauge\"}", "valid");
	assert_one("{\"name\":\"ab\",\"atlas.foo\":\"x\"}", "reserved_key");
	assert_one("{\"name\":\"ab\",\"key\":3}", "bad_tags");
	/* a key of 61 characters; a name of 256 */
	assert_one("{\"name\":\"ab\",\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaa\":\"v\"}", "key_length");
	n = (size_t)snprintf(tags, sizeof tags, "{\"name\":\"");
	for (int i = 0; i < 256; i++)
		tags[n++] = 'n';
	snprintf(tags + n, sizeof tags - n, "\"}");
	assert_one(tags, "value_length");
	/* 20 user tags with the name pass, 21 do not; nf. ones do not count */
	n = (size_t)snprintf(tags, sizeof tags, "{\"name\":\"ab\"");
	for (int i = 0; i < 19; i++)
		n += (size_t)snprintf(tags + n, sizeof tags - n,
		    ",\"k%02d\":\"v\"", i);
	snprintf(tags + n, sizeof tags - n, ",\"nf.app\":\"x\"}");
	assert_one(tags, "valid");
	snprintf(tags + n, sizeof tags - n, ",\"k99\":\"v\"}");
	assert_one(tags, "too_many_tags");
}

static void
test_metric_tags_override_common_ones(void **st)
{
	static const char *const want[] = { "valid", "value_length" };
	struct result r;

	(void)st;
	/* the common name is too short; the first metric's own wins */
	run("{\"tags\":{\"name\":\"x\"},\"metrics\":[{\"tags\":{\"name\":\"ok\"},"
	    "\"timestamp\":1700000000000,\"value\":1},{\"timestamp\":"
	    "1700000000000,\"value\":1}]}", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_reasons(&r, want, 2);
	assert_int_equal(r.reply.status, 202);
}

static void
test_compact_form_of_nflx_spectator(void **st)
{
	/* '/' is replaced in this form, as the aggregator does */
	static const char *const want[] = {
		"valid", "valid", "valid", "bad_tags", "bad_op",
		"bad_value", "missing_name",
	};
	struct result r;
	cJSON *o;

	(void)st;
	/* as nflx-spectator 1.0.0's Publisher builds it: the table, then
	 * per measurement its tag count, positions, op, value */
	run("[7,\"count\",\"ltb.counter\",\"ltb.tag.0\",\"name\",\"statistic\","
	    "\"value-0\",\"/api/v1/publish\","
	    "3,3,1,4,0,2,5,0,4,"
	    "2,3,6,4,0,10,0.5,"
	    "1,3,1,0,2,"
	    "1,3,7,0,2,"
	    "1,3,1,3,2,"
	    "1,3,1,0,null,"
	    "0,0,1]", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_reasons(&r, want, 7);
	assert_int_equal(r.reply.status, 202);
	o = answer(&r);
	assert_int_equal(cJSON_GetObjectItem(o, "errorCount")->valueint, 4);
	cJSON_Delete(o);
}

static void
test_not_a_payload_is_400_and_counts_nothing(void **st)
{
	static const char *const bad[] = {
		"", "{", "nul", "{} x", "3", "\"s\"", "[]", "[\"s\"]",
		"{\"metrics\":{}}", "{\"metrics\":[1]}", "{\"tags\":[]}",
		"{\"other\":1,\"metrics\":[]}",
		"{\"metrics\":[]}", "{}",
		"[1,\"name\"]", "[2,\"name\",\"ab\",1,0]", "[2,\"name\",\"ab\",1,0,1,0]",
		"[2,\"name\",3,1,0,1,0,1]", "[5,\"name\"]", "[-1]", "[1.5,\"a\"]",
		"[2,\"name\",\"ab\",\"1\",0,1,0,1]",
		/* a good metric, then one that is not an object */
		("{\"metrics\":[{\"tags\":{\"name\":\"ok\"},\"timestamp\":"
		    "1700000000000,\"value\":1},7]}"),
	};
	struct result r;
	cJSON *o;

	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		run(bad[i], &r);
		if (r.rc != LTB_COLLECT_MALFORMED)
			fail_msg("'%s': rc %d, not malformed", bad[i], r.rc);
		if (r.n != 0)
			fail_msg("'%s': %zu units counted", bad[i], r.n);
		o = answer(&r);
		assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring,
		    "error");
		assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "message")));
		cJSON_Delete(o);
	}
	run("{\"metrics\":[]}", &r);
	assert_string_equal(r.why, "empty payload");
}

static void
test_content_type_other_than_json_is_unsupported(void **st)
{
	struct result r;

	(void)st;
	run_budget("{}", "application/x-jackson-smile", 0, NULL, &r);
	assert_int_equal(r.rc, LTB_COLLECT_UNSUPPORTED);
}

static void
test_a_scripts_claim_is_a_partial_answer(void **st)
{
	struct result r;
	cJSON *o;

	(void)st;
	run_budget("{\"metrics\":[{\"tags\":{\"name\":\"ok\"},\"timestamp\":"
	    "1700000000000,\"value\":1}]}", "application/json", 3, NULL, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.reply.status, 202);
	o = answer(&r);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring,
	    "partial");
	assert_int_equal(cJSON_GetObjectItem(o, "errorCount")->valueint, 3);
	cJSON_Delete(o);
}

static void
test_the_budget_holds_the_body_and_the_tree(void **st)
{
	const char *body = "{\"metrics\":[{\"tags\":{\"name\":\"ok\"},"
	    "\"timestamp\":1700000000000,\"value\":1}]}";
	struct ltb_budget b;
	struct result r;

	(void)st;
	/* room for the body, never for its tree: too large */
	ltb_budget_init(&b, 4200);
	run_budget(body, "application/json", 0, &b, &r);
	assert_int_equal(r.rc, LTB_COLLECT_TOO_LARGE);
	assert_int_equal(atomic_load(&b.used), 0);
	/* enough: read, and all given back */
	ltb_budget_init(&b, 1 << 20);
	run_budget(body, "application/json", 0, &b, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(atomic_load(&b.used), 0);
	assert_true(atomic_load(&b.peak) > strlen(body));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_entry),
		cmocka_unit_test(test_batch_all_valid_is_200_with_nothing),
		cmocka_unit_test(test_batch_partial_is_202_with_error_count),
		cmocka_unit_test(test_batch_none_valid_is_400_error),
		cmocka_unit_test(test_the_rules),
		cmocka_unit_test(test_metric_tags_override_common_ones),
		cmocka_unit_test(test_compact_form_of_nflx_spectator),
		cmocka_unit_test(test_not_a_payload_is_400_and_counts_nothing),
		cmocka_unit_test(test_content_type_other_than_json_is_unsupported),
		cmocka_unit_test(test_a_scripts_claim_is_a_partial_answer),
		cmocka_unit_test(test_the_budget_holds_the_body_and_the_tree),
	};

	return cmocka_run_group_tests_name("atlas", tests, NULL, NULL);
}
