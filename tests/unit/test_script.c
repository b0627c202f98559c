/*
 * test_script.c: satellite scripts (common/collector/ltb_script.c): what
 * a good script says, every way a bad one is refused and how the message
 * names it, and which step is active when.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "collector/ltb_script.h"

static int
parse(struct ltb_script *s, const char *json, char *err, size_t errlen)
{
	err[0] = '\0';
	return ltb_script_parse(s, json, strlen(json), err, errlen);
}

static void
reads_every_kind_of_step(void **unused)
{
	struct ltb_script s;
	char err[256];

	assert_int_equal(parse(&s, "[{\"at_s\": 5, \"for_s\": 10, "
	    "\"status\": 429, \"retry_after\": \"2\"}, {\"at_s\": 20, "
	    "\"for_s\": 5, \"status\": 503}, {\"at_s\": 30, \"for_s\": 2, "
	    "\"drop\": true}, {\"at_s\": 40, \"for_s\": 5, \"delay_ms\": 300},"
	    " {\"at_s\": 50, \"for_s\": 5, \"partial_success\": 3}, "
	    "{\"at_s\": 60.5, \"for_s\": 0.5, \"status\": 503, "
	    "\"retry_after\": 7, \"delay_ms\": 20}]", err, sizeof err), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.step[0].status, 429);
	assert_string_equal(s.step[0].retry_after, "2");
	assert_true(s.step[0].at_s == 5 && s.step[0].for_s == 10);
	assert_int_equal(s.step[1].status, 503);
	assert_string_equal(s.step[1].retry_after, "");
	assert_true(s.step[2].drop);
	assert_int_equal(s.step[3].delay_ms, 300);
	assert_int_equal(s.step[3].status, 0);
	assert_int_equal(s.step[4].partial_success, 3);
	/* A number of seconds is sent as the header would say it. */
	assert_string_equal(s.step[5].retry_after, "7");
	assert_int_equal(s.step[5].delay_ms, 20);
	assert_true(ltb_script_step_refuses(&s.step[0]));
	assert_true(ltb_script_step_refuses(&s.step[2]));
	assert_false(ltb_script_step_refuses(&s.step[3]));
	assert_false(ltb_script_step_refuses(&s.step[4]));
}

static void
an_empty_list_is_no_script(void **unused)
{
	struct ltb_script s;
	char err[256];

	assert_int_equal(parse(&s, " [ ]\n", err, sizeof err), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(ltb_script_active(&s, 0), -1);
}

static void
refuses_bad_scripts_naming_step_and_field(void **unused)
{
	static const struct {
		const char *json, *says;
	} bad[] = {
		{ "{\"at_s\": 1}", "a script is a JSON list of steps" },
		{ "[{\"at_s\": 1,", "not JSON (line 1, byte " },
		{ "[\n{\"at_s\": 1, \"for_s\": 1, \"status\": 429},\n oops]",
		    "not JSON (line 3" },
		{ "[3]", "steps[0] is 3: an object" },
		{ "[{\"at_s\": 0, \"for_s\": 1, \"status\": 429}, {\"at_s\": 5,"
		    " \"for_s\": 1, \"stauts\": 429}]",
		    "steps[1] has an unknown key \"stauts\"" },
		{ "[{\"at_s\": -1, \"for_s\": 1, \"status\": 429}]",
		    "steps[0].at_s is -1: a time from 0 s on" },
		{ "[{\"at_s\": \"5\", \"for_s\": 1, \"status\": 429}]",
		    "steps[0].at_s is \"5\": a number of seconds" },
		{ "[{\"at_s\": 1, \"for_s\": 0, \"status\": 429}]",
		    "steps[0].for_s is 0: a step lasts more than 0 s" },
		{ "[{\"at_s\": 1, \"for_s\": -2, \"status\": 429}]",
		    "steps[0].for_s is -2" },
		{ "[{\"for_s\": 1, \"status\": 429}]", "steps[0] has no at_s" },
		{ "[{\"at_s\": 1, \"status\": 429}]", "steps[0] has no for_s" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": 418}]",
		    "steps[0].status is 418: use 400, 429, 500, 502, 503 or "
		    "504" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": \"429\"}]",
		    "steps[0].status is \"429\"" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": 429.5}]",
		    "steps[0].status is 429.5" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"drop\": false}]",
		    "steps[0].drop is false: true, or leave it out" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"delay_ms\": -3}]",
		    "steps[0].delay_ms is -3: whole milliseconds" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"delay_ms\": 60001}]",
		    "steps[0].delay_ms is 60001" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"partial_success\": 0}]",
		    "steps[0].partial_success is 0" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"retry_after\": \"2\"}]",
		    "steps[0].retry_after needs a status" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": 429, "
		    "\"retry_after\": \"2\\r\\nX: y\"}]",
		    "steps[0].retry_after is \"2\\r\\nX: y\": printable ASCII" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": 429, "
		    "\"retry_after\": \"\"}]", "steps[0].retry_after is \"\"" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": 429, "
		    "\"retry_after\": true}]", "steps[0].retry_after is true" },
		{ "[{\"at_s\": 1, \"for_s\": 1}]", "steps[0] says no answer" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": 503, "
		    "\"drop\": true}]", "steps[0] says more than one answer" },
		{ "[{\"at_s\": 1, \"for_s\": 1, \"status\": 503, "
		    "\"status\": 429}]", "steps[0].status is given twice" },
		{ "[{\"at_s\": 5, \"for_s\": 10, \"status\": 429}, "
		    "{\"at_s\": 12, \"for_s\": 5, \"status\": 503}]",
		    "steps[1].at_s is 12: it starts before steps[0] ends (at "
		    "15 s)" },
		{ "[{\"at_s\": 20, \"for_s\": 1, \"status\": 429}, "
		    "{\"at_s\": 5, \"for_s\": 1, \"status\": 503}]",
		    "steps[1].at_s is 5: it starts before steps[0] ends" },
		{ "[{\"at_s\": 1e9, \"for_s\": 1, \"status\": 429}]",
		    "steps[0].at_s is 1000000000: at most 604800 s" },
	};
	struct ltb_script s;
	char err[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(&s, bad[i].json, err, sizeof err) != -1 ||
		    strstr(err, bad[i].says) == NULL)
			fail_msg("%s\n  said:     %s\n  expected: %s",
			    bad[i].json, err, bad[i].says);
		assert_int_equal(s.n, 0);
	}
}

static void
refuses_more_than_the_most_steps(void **unused)
{
	char json[LTB_SCRIPT_MAX_STEPS * 64 + 64], err[256];
	struct ltb_script s;
	size_t at = 0;

	json[at++] = '[';
	for (int i = 0; i <= LTB_SCRIPT_MAX_STEPS; i++)
		at += (size_t)snprintf(json + at, sizeof json - at, "%s{\"at_s"
		    "\": %d, \"for_s\": 1, \"status\": 503}", i ? "," : "", i);
	snprintf(json + at, sizeof json - at, "]");
	assert_int_equal(parse(&s, json, err, sizeof err), -1);
	assert_non_null(strstr(err, "65 steps: at most 64"));
}

static void
the_active_step_is_the_one_whose_time_it_is(void **unused)
{
	struct ltb_script s;
	char err[256];

	assert_int_equal(parse(&s, "[{\"at_s\": 1, \"for_s\": 2, "
	    "\"status\": 429}, {\"at_s\": 3, \"for_s\": 1, \"drop\": true}, "
	    "{\"at_s\": 10, \"for_s\": 0.5, \"delay_ms\": 5}]", err,
	    sizeof err), 0);
	assert_int_equal(ltb_script_active(&s, 0), -1);
	assert_int_equal(ltb_script_active(&s, 0.999), -1);
	assert_int_equal(ltb_script_active(&s, 1), 0);
	assert_int_equal(ltb_script_active(&s, 2.999), 0);
	/* One ends where the next begins: the next has it. */
	assert_int_equal(ltb_script_active(&s, 3), 1);
	assert_int_equal(ltb_script_active(&s, 4), -1);
	assert_int_equal(ltb_script_active(&s, 10.25), 2);
	assert_int_equal(ltb_script_active(&s, 10.5), -1);
	assert_int_equal(ltb_script_active(&s, 1e6), -1);
}

static void
describes_and_writes_back_each_step(void **unused)
{
	static const struct {
		const char *step, *words;
	} cases[] = {
		{ "{\"at_s\": 5, \"for_s\": 10, \"status\": 429, "
		    "\"retry_after\": \"2\"}", "429 Retry-After 2" },
		{ "{\"at_s\": 5, \"for_s\": 10, \"status\": 503}", "503" },
		{ "{\"at_s\": 5, \"for_s\": 10, \"drop\": true}", "drop" },
		{ "{\"at_s\": 5, \"for_s\": 10, \"delay_ms\": 300}",
		    "delay 300 ms" },
		{ "{\"at_s\": 5, \"for_s\": 10, \"partial_success\": 3}",
		    "partial_success 3" },
		{ "{\"at_s\": 5, \"for_s\": 10, \"status\": 502, "
		    "\"delay_ms\": 40}", "502 after 40 ms" },
	};
	char json[256], words[64], err[256], *back;
	struct ltb_script s, again;
	cJSON *o;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(json, sizeof json, "[%s]", cases[i].step);
		assert_int_equal(parse(&s, json, err, sizeof err), 0);
		ltb_script_step_describe(&s.step[0], words, sizeof words);
		assert_string_equal(words, cases[i].words);
		/* What /script shows reads back as the same step. */
		o = ltb_script_step_json(&s.step[0]);
		assert_non_null(o);
		back = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		snprintf(json, sizeof json, "[%s]", back);
		cJSON_free(back);
		assert_int_equal(parse(&again, json, err, sizeof err), 0);
		assert_memory_equal(&again.step[0], &s.step[0],
		    sizeof s.step[0]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_every_kind_of_step),
		cmocka_unit_test(an_empty_list_is_no_script),
		cmocka_unit_test(refuses_bad_scripts_naming_step_and_field),
		cmocka_unit_test(refuses_more_than_the_most_steps),
		cmocka_unit_test(the_active_step_is_the_one_whose_time_it_is),
		cmocka_unit_test(describes_and_writes_back_each_step),
	};

	return cmocka_run_group_tests_name("script", tests, NULL, NULL);
}
