/*
 * test_lsthrift_json.c: LightStep's thrift report in JSON
 * (ltb_proto_lightstep_thrift_json), driven as the satellite group drives
 * it: begin, feed in pieces, end, release.
 *
 * Each SpanRecord is one unit keyed by ltb_lst_key of its hashed guids and
 * judged by ltb_lst_check, the model the binary form shares; a body that
 * is not a ReportRequest is refused with a reason, and counts nothing; the
 * answer is the JSON ReportResponse lightstep-tracer takes as success.
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
#include "collector/proto/ltb_lsthrift.h"

#define P (&ltb_proto_lightstep_thrift_json)
#define NOW_NS 1700000000000000000ull
#define MAXU 64

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

/* One message of n bytes fed in three pieces; budget may be NULL. */
static void
run_full(const char *body, size_t n, const char *ctype, size_t max_field,
    struct ltb_budget *budget, struct result *r)
{
	struct ltb_message m = { .path = P->path, .content_type = ctype,
		.encoding = "", .start_real_ns = NOW_NS,
		.max_field = max_field, .budget = budget };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = r };
	void *state = calloc(1, P->state_size);
	size_t cut[4] = { 0, n / 3, 2 * n / 3, n };

	assert_non_null(state);
	memset(r, 0, sizeof *r);
	r->rc = P->begin(state, &m);
	if (r->rc != LTB_COLLECT_OK) {
		free(state);
		return;
	}
	for (int i = 0; i < 3 && r->rc == LTB_COLLECT_OK; i++)
		r->rc = P->feed(state, (const uint8_t *)body + cut[i],
		    cut[i + 1] - cut[i], &sink, &r->why);
	if (r->rc == LTB_COLLECT_OK)
		r->rc = P->end(state, &sink, &r->reply, &r->why);
	P->release(state);
	free(state);
}

static void
run(const char *body, struct result *r)
{
	run_full(body, strlen(body), "application/json", 1 << 20, NULL, r);
}

/* A report of one span whose members are the JSON text fields. */
static void
one(const char *fields, struct result *r)
{
	char body[4096];

	snprintf(body, sizeof body, "{\"span_records\":[{%s}]}", fields);
	run(body, r);
}

static uint64_t
guid_key(const char *trace, const char *span)
{
	struct ltb_lst_span s = { 0 };

	s.trace_guid = ltb_lst_hash(LTB_LST_HASH_INIT,
	    (const uint8_t *)trace, strlen(trace));
	s.span_guid = ltb_lst_hash(LTB_LST_HASH_INIT,
	    (const uint8_t *)span, strlen(span));
	return ltb_lst_key(&s);
}

#define GOOD "\"span_guid\":\"1bec3ca24e6f40b0\"," \
	"\"trace_guid\":\"47517b7f0ddc0878\",\"span_name\":\"op\"," \
	"\"oldest_micros\":1796284716798161," \
	"\"youngest_micros\":1796284716798783"

static void
assert_one(const char *fields, unsigned want)
{
	struct result r;

	one(fields, &r);
	if (r.rc != LTB_COLLECT_OK)
		fail_msg("{%s}: refused: %s", fields, r.why);
	assert_int_equal(r.n, 1);
	if (r.invalid[0] != want)
		fail_msg("{%s}: %s, not %s", fields,
		    ltb_lst_invalid_names[r.invalid[0]],
		    ltb_lst_invalid_names[want]);
}

static void
assert_malformed(const char *body, const char *why)
{
	struct result r;

	run(body, &r);
	if (r.rc != LTB_COLLECT_MALFORMED)
		fail_msg("%s: rc %d, not malformed", body, r.rc);
	assert_int_equal(r.n, 0);
	assert_non_null(r.why);
	if (strstr(r.why, why) == NULL)
		fail_msg("%s: reason '%s' does not say '%s'", body, r.why, why);
}

/* ---- tests ----------------------------------------------------------------- */

static void
test_the_table_names_it_with_its_path_and_type(void **st)
{
	(void)st;
	assert_ptr_equal(ltb_collector_find("lightstep_thrift_json"), P);
	assert_string_equal(P->unit, "span");
	assert_int_equal(P->transport, LTB_TRANSPORT_HTTP);
	assert_string_equal(P->path, "/api/v0/reports");
	assert_true(ltb_collector_reads(P, "application/json"));
	assert_false(ltb_collector_reads(P, "application/octet-stream"));
	assert_int_equal(P->ninvalid, LTB_LST_NINVALID);
	assert_string_equal(P->invalid_names[LTB_LST_EMPTY_KEY], "empty_key");
}

/* What lightstep-tracer 0.35.0 sends, cut down: nulls for unset members,
 * i64s as numbers, log records and the runtime beside the spans. */
static void
test_a_tracers_report_is_counted_and_answered_with_timing(void **st)
{
	struct result r;
	cJSON *a, *t;
	const char *body = "{\"runtime\":{\"guid\":\"7fb2e8b771ffa857\","
	    "\"start_micros\":1796284716784869,\"group_name\":\"c\","
	    "\"attrs\":[{\"Key\":\"lightstep.tracer_version\","
	    "\"Value\":\"0.35.0\"}]},\"span_records\":["
	    "{\"span_guid\":\"02e6e4b00015f568\",\"trace_guid\":"
	    "\"47517b7f0ddc0878\",\"runtime_guid\":\"7fb2e8b771ffa857\","
	    "\"span_name\":\"child\",\"join_ids\":null,\"oldest_micros\":"
	    "1796284716798553,\"youngest_micros\":1796284716798694,"
	    "\"attributes\":[{\"Key\":\"parent_span_guid\",\"Value\":"
	    "\"1bec3ca24e6f40b0\"}],\"error_flag\":false,\"log_records\":[]},"
	    "{" GOOD ",\"log_records\":[{\"timestamp_micros\":1796284716798347,"
	    "\"fields\":[{\"Key\":\"event\",\"Value\":\"e\"}],"
	    "\"runtime_guid\":null}]}],"
	    "\"log_records\":null,\"timestamp_offset_micros\":0,"
	    "\"oldest_micros\":1796284716784869,\"youngest_micros\":"
	    "1796284716799735,\"counters\":null,\"internal_logs\":[],"
	    "\"internal_metrics\":{\"counts\":[],\"gauges\":null}}\n";

	(void)st;
	run(body, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.invalid[0], LTB_LST_VALID);
	assert_int_equal(r.invalid[1], LTB_LST_VALID);
	assert_true(r.keys[0] == guid_key("47517b7f0ddc0878",
	    "02e6e4b00015f568"));
	assert_true(r.keys[1] == guid_key("47517b7f0ddc0878",
	    "1bec3ca24e6f40b0"));
	assert_int_equal(r.reply.status, 0);
	assert_string_equal(r.reply.content_type, "application/json");
	a = cJSON_ParseWithLength((const char *)r.reply.body, r.reply.len);
	assert_non_null(a);
	t = cJSON_GetObjectItemCaseSensitive(a, "timing");
	assert_true(cJSON_GetObjectItemCaseSensitive(t,
	    "receive_micros")->valuedouble == (double)(NOW_NS / 1000));
	assert_true(cJSON_GetObjectItemCaseSensitive(t,
	    "transmit_micros")->valuedouble >= (double)(NOW_NS / 1000));
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a,
	    "commands")));
	cJSON_Delete(a);
}

static void
test_no_spans_is_an_empty_report_answered_as_success(void **st)
{
	struct result r;

	(void)st;
	run("{}", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.n, 0);
	assert_true(r.reply.len > 0);
	run("{\"span_records\":null}", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	run("{\"span_records\":[]}", &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.n, 0);
}

static void
test_each_invalid_reason(void **st)
{
	(void)st;
	assert_one(GOOD, LTB_LST_VALID);
	assert_one("\"trace_guid\":\"t\",\"span_name\":\"op\","
	    "\"oldest_micros\":10", LTB_LST_NO_SPAN_GUID);
	assert_one("\"span_guid\":\"\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":10", LTB_LST_NO_SPAN_GUID);
	assert_one("\"span_guid\":null,\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":10", LTB_LST_NO_SPAN_GUID);
	assert_one("\"span_guid\":\"s\",\"span_name\":\"op\","
	    "\"oldest_micros\":10", LTB_LST_NO_TRACE_GUID);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"\","
	    "\"span_name\":\"op\",\"oldest_micros\":10", LTB_LST_NO_TRACE_GUID);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"oldest_micros\":10", LTB_LST_NO_NAME);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"\",\"oldest_micros\":10", LTB_LST_NO_NAME);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\"", LTB_LST_NO_START);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":null", LTB_LST_NO_START);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":-1", LTB_LST_BAD_TIMESTAMP);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":20,\"youngest_micros\":10",
	    LTB_LST_BAD_TIMESTAMP);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":10,\"youngest_micros\":-1",
	    LTB_LST_BAD_TIMESTAMP);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":10,\"attributes\":"
	    "[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"\",\"Value\":\"2\"}]",
	    LTB_LST_EMPTY_KEY);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":10,\"attributes\":"
	    "[{\"Value\":\"2\"}]", LTB_LST_EMPTY_KEY);
	/* the first problem wins, in ltb_lst_check's order */
	assert_one("\"span_name\":\"\"", LTB_LST_NO_SPAN_GUID);
}

static void
test_a_trace_guid_join_id_stands_for_a_trace_guid(void **st)
{
	struct result r, j;

	(void)st;
	one("\"span_guid\":\"s\",\"trace_guid\":\"t1\",\"span_name\":\"op\","
	    "\"oldest_micros\":10", &r);
	one("\"span_guid\":\"s\",\"span_name\":\"op\",\"oldest_micros\":10,"
	    "\"join_ids\":[{\"TraceKey\":\"user\",\"Value\":\"u\"},"
	    "{\"TraceKey\":\"trace_guid\",\"Value\":\"t1\"}]", &j);
	assert_int_equal(j.rc, LTB_COLLECT_OK);
	assert_int_equal(j.invalid[0], LTB_LST_VALID);
	assert_true(j.keys[0] == r.keys[0]);
	/* a join id of another key is no trace guid */
	assert_one("\"span_guid\":\"s\",\"span_name\":\"op\","
	    "\"oldest_micros\":10,\"join_ids\":[{\"TraceKey\":\"user\","
	    "\"Value\":\"u\"}]", LTB_LST_NO_TRACE_GUID);
	/* a span's own trace_guid wins over its join id */
	one("\"span_guid\":\"s\",\"trace_guid\":\"t1\",\"span_name\":\"op\","
	    "\"oldest_micros\":10,\"join_ids\":[{\"TraceKey\":\"trace_guid\","
	    "\"Value\":\"other\"}]", &j);
	assert_true(j.keys[0] == r.keys[0]);
}

static void
test_the_same_guids_are_the_same_key(void **st)
{
	struct result r;

	(void)st;
	run("{\"span_records\":[{" GOOD "},{" GOOD "},"
	    "{\"span_guid\":\"1bec3ca24e6f40b1\",\"trace_guid\":"
	    "\"47517b7f0ddc0878\",\"span_name\":\"op\",\"oldest_micros\":1}]}",
	    &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.n, 3);
	assert_true(r.keys[0] == r.keys[1]);
	assert_true(r.keys[0] != r.keys[2]);
}

static void
test_i64s_as_decimal_strings(void **st)
{
	(void)st;
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":\"1796284716798161\","
	    "\"youngest_micros\":\"1796284716798783\"", LTB_LST_VALID);
	/* beyond 2^53, exact as a string: one past the start is valid */
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":\"9007199254740993\","
	    "\"youngest_micros\":\"9007199254740993\"", LTB_LST_VALID);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":\"9007199254740994\","
	    "\"youngest_micros\":\"9007199254740993\"", LTB_LST_BAD_TIMESTAMP);
	assert_one("\"span_guid\":\"s\",\"trace_guid\":\"t\","
	    "\"span_name\":\"op\",\"oldest_micros\":\"-5\"",
	    LTB_LST_BAD_TIMESTAMP);
	assert_malformed("{\"span_records\":[{\"oldest_micros\":\"12x\"}]}",
	    "oldest_micros is not a 64-bit integer");
	assert_malformed("{\"span_records\":[{\"oldest_micros\":\"\"}]}",
	    "oldest_micros");
	assert_malformed("{\"span_records\":[{\"oldest_micros\":"
	    "\"9223372036854775808\"}]}", "oldest_micros");
	assert_malformed("{\"span_records\":[{\"youngest_micros\":1.5}]}",
	    "youngest_micros is not a 64-bit integer");
	assert_malformed("{\"span_records\":[{\"youngest_micros\":1e300}]}",
	    "youngest_micros");
	assert_malformed("{\"span_records\":[{\"oldest_micros\":true}]}",
	    "oldest_micros");
}

static void
test_malformed_bodies_and_shapes_count_nothing(void **st)
{
	(void)st;
	assert_malformed("", "not JSON");
	assert_malformed("{\"span_records\":[", "not JSON");
	assert_malformed("{} {}", "not one JSON value");
	assert_malformed("[]", "not a JSON object");
	assert_malformed("\"report\"", "not a JSON object");
	assert_malformed("{\"span_records\":{}}",
	    "span_records is not an array");
	assert_malformed("{\"span_records\":\"x\"}",
	    "span_records is not an array");
	/* nothing is counted even from the valid span before the bad one */
	assert_malformed("{\"span_records\":[{" GOOD "},3]}",
	    "a span record is not an object");
	assert_malformed("{\"span_records\":[{\"span_guid\":7}]}",
	    "span_guid is not a string");
	assert_malformed("{\"span_records\":[{\"trace_guid\":[]}]}",
	    "trace_guid is not a string");
	assert_malformed("{\"span_records\":[{\"span_name\":false}]}",
	    "span_name is not a string");
	assert_malformed("{\"span_records\":[{\"attributes\":{}}]}",
	    "attributes is not an array");
	assert_malformed("{\"span_records\":[{\"attributes\":[\"k\"]}]}",
	    "attributes is not an array of objects");
	assert_malformed("{\"span_records\":[{\"attributes\":"
	    "[{\"Key\":1,\"Value\":\"v\"}]}]}", "Key or Value");
	assert_malformed("{\"span_records\":[{\"attributes\":"
	    "[{\"Key\":\"k\",\"Value\":2}]}]}", "Key or Value");
	assert_malformed("{\"span_records\":[{\"join_ids\":3}]}",
	    "join_ids is not an array");
	assert_malformed("{\"span_records\":[{\"join_ids\":"
	    "[{\"TraceKey\":\"trace_guid\",\"Value\":5}]}]}",
	    "TraceKey or Value");
}

static void
test_other_content_types_are_unsupported(void **st)
{
	struct result r;

	(void)st;
	run_full("{}", 2, "application/octet-stream", 1 << 20, NULL, &r);
	assert_int_equal(r.rc, LTB_COLLECT_UNSUPPORTED);
	run_full("{}", 2, "", 1 << 20, NULL, &r);
	assert_int_equal(r.rc, LTB_COLLECT_UNSUPPORTED);
}

static void
test_a_body_over_max_field_is_too_large(void **st)
{
	struct result r;
	const char *body = "{\"span_records\":[{" GOOD "}]}";
	size_t n = strlen(body);

	(void)st;
	run_full(body, n, "application/json", n, NULL, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.n, 1);
	run_full(body, n, "application/json", n - 1, NULL, &r);
	assert_int_equal(r.rc, LTB_COLLECT_TOO_LARGE);
	assert_int_equal(r.n, 0);
	assert_non_null(r.why);
}

static void
test_the_budget_holds_the_body_and_the_tree(void **st)
{
	struct ltb_budget b;
	struct result r;
	const char *body = "{\"span_records\":[{" GOOD "},{" GOOD "}]}";
	size_t n = strlen(body);

	(void)st;
	/* room enough: read, and every byte given back */
	ltb_budget_init(&b, 1 << 20);
	run_full(body, n, "application/json", 1 << 20, &b, &r);
	assert_int_equal(r.rc, LTB_COLLECT_OK);
	assert_int_equal(r.n, 2);
	assert_int_equal(atomic_load(&b.used), 0);
	assert_true(atomic_load(&b.peak) > n);
	/* others hold all but a little: the body itself is busy */
	ltb_budget_init(&b, 1 << 20);
	assert_int_equal(ltb_budget_take(&b, (1 << 20) - 100), 0);
	run_full(body, n, "application/json", 1 << 20, &b, &r);
	assert_int_equal(r.rc, LTB_COLLECT_BUSY);
	assert_int_equal(r.n, 0);
	ltb_budget_give(&b, (1 << 20) - 100);
	assert_int_equal(atomic_load(&b.used), 0);
	/* the body fits but not its tree beside others: busy, retry */
	ltb_budget_init(&b, 1 << 20);
	assert_int_equal(ltb_budget_take(&b, (1 << 20) - 4096 - 200), 0);
	run_full(body, n, "application/json", 1 << 20, &b, &r);
	assert_int_equal(r.rc, LTB_COLLECT_BUSY);
	assert_int_equal(r.n, 0);
	ltb_budget_give(&b, (1 << 20) - 4096 - 200);
	assert_int_equal(atomic_load(&b.used), 0);
	/* a tree no budget this small could hold is too large */
	ltb_budget_init(&b, 4096 + 256);
	run_full(body, n, "application/json", 1 << 20, &b, &r);
	assert_int_equal(r.rc, LTB_COLLECT_TOO_LARGE);
	assert_int_equal(r.n, 0);
	assert_int_equal(atomic_load(&b.used), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_table_names_it_with_its_path_and_type),
		cmocka_unit_test(
		    test_a_tracers_report_is_counted_and_answered_with_timing),
		cmocka_unit_test(
		    test_no_spans_is_an_empty_report_answered_as_success),
		cmocka_unit_test(test_each_invalid_reason),
		cmocka_unit_test(test_a_trace_guid_join_id_stands_for_a_trace_guid),
		cmocka_unit_test(test_the_same_guids_are_the_same_key),
		cmocka_unit_test(test_i64s_as_decimal_strings),
		cmocka_unit_test(test_malformed_bodies_and_shapes_count_nothing),
		cmocka_unit_test(test_other_content_types_are_unsupported),
		cmocka_unit_test(test_a_body_over_max_field_is_too_large),
		cmocka_unit_test(test_the_budget_holds_the_body_and_the_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
