/*
 * test_records.c: the record schemas (common/records/ltb_records.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "records/ltb_records.h"

/* A result as ltb-sample writes it for a traced run. */
static const char good[] = "{\"type\":\"result\",\"v\":1,\"client\":\"c\","
    "\"trace\":true,\"unit\":\"span\",\"target_sps\":500,\"runtime\":1,"
    "\"trial\":0,\"label\":\"\",\"spans_sent\":500,\"spans_sent_from\":"
    "\"client\",\"spans_received\":500,\"spans_duplicate\":0,"
    "\"spans_invalid\":0,\"invalid_by_reason\":{},\"reports_rejected\":0,"
    "\"dropped\":0,\"program_time\":0.7,\"clock_time\":1.0,\"cpu_usage\":0.7,"
    "\"startup_cpu\":0.01,\"startup_time\":0.02,\"sps\":500,"
    "\"memory_last\":1e7,\"memory_max\":1.1e7,\"cpu_list\":[0.7],"
    "\"memory_list\":[1e7],\"events\":[{\"t\":0.5,\"event\":\"x\"}],"
    "\"exit_status\":0,\"noise\":{\"steal_s\":0,\"loadavg\":-1}}";

/* check good with key set to the JSON value json (NULL: removed). */
static int
check_with(const char *key, const char *json, char *err, size_t len)
{
	cJSON *rec = cJSON_Parse(good);
	int rc;

	assert_non_null(rec);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, key);
	if (json != NULL)
		cJSON_AddItemToObject(rec, key, cJSON_Parse(json));
	rc = ltb_record_check(rec, err, len);
	cJSON_Delete(rec);
	return rc;
}

static void
a_written_result_passes(void **unused)
{
	char err[256];

	assert_int_equal(check_with("label", "\"x\"", err, sizeof err), 0);
	/* A NoOp run counts nothing. */
	assert_int_equal(check_with("spans_received", "null", err,
	    sizeof err), 0);
	/* Fields a newer writer adds are let through. */
	assert_int_equal(check_with("something_new", "[1]", err, sizeof err),
	    0);
}

static void
units_are_span_measurement_or_trace_point(void **unused)
{
	char err[256];

	assert_int_equal(check_with("unit", "\"measurement\"", err,
	    sizeof err), 0);
	assert_int_equal(check_with("unit", "\"trace point\"", err,
	    sizeof err), 0);
	/* an older writer's result has none */
	assert_int_equal(check_with("unit", NULL, err, sizeof err), 0);
	assert_int_equal(check_with("unit", "\"measurements\"", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "\"unit\""));
}

static void
wrong_types_and_bounds_are_refused(void **unused)
{
	static const struct {
		const char *key, *json, *msg;
	} bad[] = {
		{ "exit_status", "\"1\"", "result's \"exit_status\" is \"1\", "
		    "not a number" },
		{ "exit_status", "true", "result's \"exit_status\" is true, "
		    "not a number" },
		{ "exit_status", NULL, "result has no \"exit_status\"" },
		{ "exit_status", "0.5", "result's \"exit_status\" is 0.5, not "
		    "a whole number" },
		{ "error", "5", "result's \"error\" is 5, not a string" },
		{ "error", "{}", "result's \"error\" is {}, not a string" },
		{ "error", "\"\"", "result's \"error\" is \"\", empty" },
		{ "cpu_usage", "-0.5", "result's \"cpu_usage\" is -0.5, below "
		    "0" },
		{ "spans_sent", "-1", "result's \"spans_sent\" is -1, below "
		    "0" },
		{ "spans_sent_from", "\"guess\"", "result's \"spans_sent_from\" "
		    "is \"guess\", not one of the values it can have" },
		{ "trace", "null", "result's \"trace\" is null, and cannot be" },
		{ "invalid_by_reason", "{\"x\":-1}", "result's "
		    "\"invalid_by_reason\" is {\"x\":-1}, not an object of "
		    "counts" },
		{ "noise", "{\"steal_s\":\"a\"}", "result's \"steal_s\" is "
		    "\"a\", not a number" },
		{ "events", "[{\"t\":1}]", "result's \"events\" is {\"t\":1}, "
		    "not an event ({\"t\": seconds, \"event\": name})" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		if (check_with(bad[i].key, bad[i].json, err, sizeof err) != -1)
			fail_msg("%s = %s passed", bad[i].key,
			    bad[i].json ? bad[i].json : "(removed)");
		assert_int_equal(errno, EINVAL);
		assert_string_equal(err, bad[i].msg);
	}
}

/* The fields a paired plan's result carries, and its fingerprint. */
static void
pairs_and_the_fingerprint(void **unused)
{
	static const char fp[] = "{\"cpu_model\":\"Xeon\",\"cores\":2,"
	    "\"kernel\":\"6.1.0\",\"work_per_second\":1e9,\"client\":\"c\","
	    "\"tracer\":\"ltb-tracer lightstep 0.1\"}";
	static const struct {
		const char *key, *json, *msg;	/* msg NULL: it passes */
	} cases[] = {
		{ "pair", "3", NULL },
		{ "arm", "\"base\"", NULL },
		{ "arm", "\"test\"", NULL },
		{ "seed", "0", NULL },
		{ "planted_ns", "5000", NULL },
		{ "planted_ns_measured", "4987.5", NULL },
		{ "fingerprint", fp, NULL },
		{ "fingerprint", "{\"cpu_model\":null,\"cores\":1,\"kernel\":"
		    "\"6.1\",\"work_per_second\":null,\"client\":\"cmd\","
		    "\"tracer\":null}", NULL },
		{ "pair", "-1", "result's \"pair\" is -1, below 0" },
		{ "pair", "1.5", "result's \"pair\" is 1.5, not a whole "
		    "number" },
		{ "arm", "\"a\"", "result's \"arm\" is \"a\", not one of the "
		    "values it can have" },
		{ "seed", "\"1\"", "result's \"seed\" is \"1\", not a number" },
		{ "planted_ns", "-5", "result's \"planted_ns\" is -5, below 0" },
		{ "planted_ns_measured", "-1", "result's \"planted_ns_measured\" "
		    "is -1, below 0" },
		{ "fingerprint", "[]", "result's \"fingerprint\" is [], not an "
		    "object" },
		{ "fingerprint", "{\"cpu_model\":\"x\",\"kernel\":\"6.1\","
		    "\"work_per_second\":1,\"client\":\"c\",\"tracer\":null}",
		    "result has no \"cores\"" },
		{ "fingerprint", "{\"cpu_model\":\"x\",\"cores\":2,\"kernel\":"
		    "\"\",\"work_per_second\":1,\"client\":\"c\",\"tracer\":"
		    "null}", "result's \"kernel\" is \"\", empty" },
		{ "fingerprint", "{\"cpu_model\":\"x\",\"cores\":2,\"kernel\":"
		    "\"6.1\",\"work_per_second\":1,\"client\":\"c\",\"tracer\":"
		    "5}", "result's \"tracer\" is 5, not a string" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = check_with(cases[i].key, cases[i].json, err,
		    sizeof err);

		if (cases[i].msg == NULL) {
			if (rc != 0)
				fail_msg("%s = %s refused: %s", cases[i].key,
				    cases[i].json, err);
			continue;
		}
		if (rc != -1)
			fail_msg("%s = %s passed", cases[i].key,
			    cases[i].json);
		assert_string_equal(err, cases[i].msg);
	}
}

/* A control record of a paired plan. */
static void
control_records_of_pairs(void **unused)
{
	char err[256];
	cJSON *r = cJSON_Parse("{\"type\":\"control\",\"v\":1,\"client\":"
	    "\"c\",\"target_sps\":100,\"runtime\":1,\"trial\":0,\"index\":"
	    "3,\"pair\":1,\"arm\":\"test\",\"seed\":1,\"planted_ns\":5000,"
	    "\"work_per_second\":1e9,\"Trace\":true}");

	assert_non_null(r);
	assert_int_equal(ltb_record_check(r, err, sizeof err), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "arm",
	    cJSON_CreateString("other"));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	assert_string_equal(err, "control's \"arm\" is \"other\", not one "
	    "of the values it can have");
	cJSON_ReplaceItemInObjectCaseSensitive(r, "arm",
	    cJSON_CreateString("base"));
	cJSON_ReplaceItemInObjectCaseSensitive(r, "planted_ns",
	    cJSON_CreateNumber(-1));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "planted_ns",
	    cJSON_CreateNumber(0));
	cJSON_ReplaceItemInObjectCaseSensitive(r, "work_per_second",
	    cJSON_CreateString("fast"));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "work_per_second",
	    cJSON_CreateNumber(1));
	cJSON_ReplaceItemInObjectCaseSensitive(r, "pair",
	    cJSON_CreateNumber(0.5));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	assert_string_equal(err, "control's \"pair\" is 0.5, not a whole "
	    "number");
	cJSON_Delete(r);
}

/* The argv contract's fields: a result's contract and startup_from, a
 * control record's and a calibration's contract and start-up. */
static void
contracts_and_start_ups(void **unused)
{
	char err[256];
	cJSON *r;

	assert_int_equal(check_with("contract", "\"argv\"", err, sizeof err),
	    0);
	assert_int_equal(check_with("contract", "\"http\"", err, sizeof err),
	    0);
	assert_int_equal(check_with("contract", "\"grpc\"", err, sizeof err),
	    -1);
	assert_string_equal(err, "result's \"contract\" is \"grpc\", not "
	    "one of the values it can have");
	assert_int_equal(check_with("startup_from", "\"probe\"", err,
	    sizeof err), 0);
	assert_int_equal(check_with("startup_from", "\"calibration\"", err,
	    sizeof err), 0);
	assert_int_equal(check_with("startup_from", "\"guess\"", err,
	    sizeof err), -1);
	r = cJSON_Parse("{\"type\":\"control\",\"v\":1,\"client\":"
	    "\"c\",\"contract\":\"argv\",\"startup_cpu\":0.1,"
	    "\"startup_time\":0.2}");
	assert_int_equal(ltb_record_check(r, err, sizeof err), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "startup_cpu",
	    cJSON_CreateNumber(-1));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "startup_cpu",
	    cJSON_CreateNumber(0));
	cJSON_ReplaceItemInObjectCaseSensitive(r, "contract",
	    cJSON_CreateString("soap"));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	assert_string_equal(err, "control's \"contract\" is \"soap\", not "
	    "one of the values it can have");
	cJSON_Delete(r);
	r = cJSON_Parse("{\"type\":\"calibration\",\"v\":1,\"client\":"
	    "\"c\",\"target_cpu\":0.7,\"sleep_per_work_ns\":1,"
	    "\"work_per_second\":1e9,\"contract\":\"argv\","
	    "\"startup_cpu\":0.1,\"startup_time\":0.2}");
	assert_int_equal(ltb_record_check(r, err, sizeof err), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "startup_time",
	    cJSON_CreateString("0.2"));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	cJSON_Delete(r);
}

static void
versions_other_than_one_are_refused(void **unused)
{
	char err[256];

	assert_int_equal(check_with("v", "2", err, sizeof err), -1);
	assert_non_null(strstr(err, "version 2; this ltb reads version 1"));
	assert_int_equal(check_with("v", NULL, err, sizeof err), -1);
	assert_string_equal(err, "record has no \"v\" (ltb records carry "
	    "\"v\": 1)");
	assert_int_equal(check_with("v", "\"1\"", err, sizeof err), -1);
}

static void
other_records_and_types(void **unused)
{
	char err[256];
	cJSON *r;

	r = cJSON_Parse("{\"type\":\"plan_end\",\"v\":1,\"planned\":3,"
	    "\"runs\":1,\"failed\":0,\"complete\":false,\"why\":\"x\"}");
	assert_int_equal(ltb_record_check(r, err, sizeof err), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "complete",
	    cJSON_CreateString("no"));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	cJSON_Delete(r);
	r = cJSON_Parse("{\"type\":\"verdict\",\"v\":1,\"gate\":\"plan\","
	    "\"pass\":\"inconclusive\"}");
	assert_int_equal(ltb_record_check(r, err, sizeof err), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "pass",
	    cJSON_CreateString("maybe"));
	assert_int_equal(ltb_record_check(r, err, sizeof err), -1);
	cJSON_Delete(r);
	/* A type without a schema only needs its version right. */
	r = cJSON_Parse("{\"type\":\"ready\",\"v\":1,\"ports\":\"any\"}");
	assert_int_equal(ltb_record_check(r, err, sizeof err), 0);
	cJSON_Delete(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_written_result_passes),
		cmocka_unit_test(units_are_span_measurement_or_trace_point),
		cmocka_unit_test(wrong_types_and_bounds_are_refused),
		cmocka_unit_test(pairs_and_the_fingerprint),
		cmocka_unit_test(control_records_of_pairs),
		cmocka_unit_test(contracts_and_start_ups),
		cmocka_unit_test(versions_other_than_one_are_refused),
		cmocka_unit_test(other_records_and_types),
	};

	return cmocka_run_group_tests_name("records", tests, NULL, NULL);
}
