/*
 * test_plan.c: plans (common/run/ltb_plan.c): the run order (rounds by
 * trial, rates shuffled by the seed, each pair's runs adjacent and ABBA),
 * sharding that keeps pairs whole, the pair, arm, seed and planted cost
 * every record carries, and the plan flags that set them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ltb_jsonl.h"
#include "run/ltb_plan.h"

#define MAXREC 512

struct recs {
	cJSON *r[MAXREC];
	size_t n;
};

static void
collect(cJSON *rec, void *ctx)
{
	struct recs *s = ctx;

	assert_true(s->n < MAXREC);
	s->r[s->n++] = rec;
}

static void
recs_free(struct recs *s)
{
	for (size_t i = 0; i < s->n; i++)
		cJSON_Delete(s->r[i]);
	s->n = 0;
}

static const struct ltb_calibration cal = {
	.client = "c", .target_cpu = 0.7, .sleep_per_work_ns = 1,
	.work_per_second = 1e9,
};

/* A plan of rates 100, 200, ... (nsps of them), trials, trace. */
static void
opts(struct ltb_plan_opts *o, size_t nsps, unsigned trials, int trace)
{
	ltb_plan_default(o);
	o->client = "c";
	o->nsps = nsps;
	for (size_t i = 0; i < nsps; i++)
		o->sps[i] = 100.0 * (double)(i + 1);
	o->trials = trials;
	o->runtime = 1;
	o->trace = trace;
}

static void
plan(const struct ltb_plan_opts *o, struct recs *s)
{
	long n;

	s->n = 0;
	n = ltb_plan(o, &cal, collect, s);
	assert_int_equal(n, (long)s->n);
}

static long
num(const cJSON *r, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);

	if (!cJSON_IsNumber(v))
		fail_msg("record without a number \"%s\"", key);
	return (long)v->valuedouble;
}

static const char *
arm(const cJSON *r)
{
	return ltb_json_str(r, "arm", "(none)");
}

/* The rate index of a record: its sps / 100 - 1. */
static long
rate(const cJSON *r)
{
	return num(r, "target_sps") / 100 - 1;
}

/* Every pair's two runs adjacent, the same (rate, trial) and pair number
 * g = rate * trials + trial; base and test in ABBA order over the plan's
 * own pairs; each run Trace as its arm says. */
static void
assert_abba(const struct recs *s, unsigned trials, int base_trace,
    int test_trace)
{
	assert_int_equal(s->n % 2, 0);
	for (size_t k = 0; k < s->n / 2; k++) {
		const cJSON *a = s->r[2 * k], *b = s->r[2 * k + 1];
		const char *first = k % 2 == 0 ? "base" : "test";
		const char *second = k % 2 == 0 ? "test" : "base";

		assert_int_equal(num(a, "pair"), num(b, "pair"));
		assert_int_equal(num(a, "target_sps"), num(b, "target_sps"));
		assert_int_equal(num(a, "trial"), num(b, "trial"));
		assert_int_equal(num(a, "pair"), rate(a) * trials +
		    num(a, "trial"));
		assert_string_equal(arm(a), first);
		assert_string_equal(arm(b), second);
		assert_int_equal(ltb_json_bool(a, "Trace", -1),
		    k % 2 == 0 ? base_trace : test_trace);
		assert_int_equal(ltb_json_bool(b, "Trace", -1),
		    k % 2 == 0 ? test_trace : base_trace);
	}
}

static void
both_runs_pairs_adjacent_base_then_test_then_swapped(void **unused)
{
	struct ltb_plan_opts o;
	struct recs s;

	opts(&o, 4, 3, LTB_TRACE_BOTH);
	plan(&o, &s);
	assert_int_equal(s.n, 24);
	assert_abba(&s, 3, 0, 1);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(num(s.r[i], "index"), (long)i);
	recs_free(&s);
}

static void
rounds_by_trial_each_a_permutation_of_the_rates(void **unused)
{
	struct ltb_plan_opts o;
	struct recs s;
	int same_every_round = 1;

	opts(&o, 5, 4, LTB_TRACE_BOTH);
	plan(&o, &s);
	for (unsigned t = 0; t < 4; t++) {
		int seen[5] = { 0 };

		for (size_t j = 0; j < 5; j++) {
			const cJSON *r = s.r[2 * (t * 5 + j)];

			assert_int_equal(num(r, "trial"), t);
			seen[rate(r)]++;
			if (t > 0 && rate(r) != rate(s.r[2 * j]))
				same_every_round = 0;
		}
		for (size_t j = 0; j < 5; j++)
			assert_int_equal(seen[j], 1);
	}
	/* A new permutation each round, not one repeated. */
	assert_false(same_every_round);
	recs_free(&s);
}

/* The order of a plan as text: its rates and arms, one word a run. */
static void
order(const struct ltb_plan_opts *o, char *buf, size_t len)
{
	struct recs s;
	size_t n = 0;

	plan(o, &s);
	buf[0] = '\0';
	for (size_t i = 0; i < s.n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%ld:%ld:%s ",
		    rate(s.r[i]), num(s.r[i], "trial"), arm(s.r[i]));
	recs_free(&s);
}

static void
the_seed_decides_the_order(void **unused)
{
	struct ltb_plan_opts o;
	char a[4096], b[4096];
	struct recs s;

	opts(&o, 3, 2, LTB_TRACE_BOTH);
	o.seed = 7;
	order(&o, a, sizeof a);
	order(&o, b, sizeof b);
	assert_string_equal(a, b);
	/* Other seeds, other orders. */
	for (uint64_t seed = 1; seed <= 4; seed++) {
		o.seed = seed;
		order(&o, b, sizeof b);
		if (strcmp(a, b) == 0)
			fail_msg("seeds 7 and %llu give the same order: %s",
			    (unsigned long long)seed, a);
	}
	/* The default seed is 1, and every record says its seed. */
	ltb_plan_default(&o);
	assert_int_equal(o.seed, 1);
	opts(&o, 3, 1, LTB_TRACE_ON);
	o.seed = 42;
	plan(&o, &s);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(num(s.r[i], "seed"), 42);
	recs_free(&s);
}

static void
aa_plans_run_the_same_client_in_both_arms(void **unused)
{
	struct ltb_plan_opts o;
	struct recs s;

	opts(&o, 3, 2, LTB_TRACE_AA);
	plan(&o, &s);
	assert_int_equal(s.n, 12);
	assert_abba(&s, 2, 1, 1);
	recs_free(&s);
	opts(&o, 3, 2, LTB_TRACE_AA_NOOP);
	plan(&o, &s);
	assert_int_equal(s.n, 12);
	assert_abba(&s, 2, 0, 0);
	recs_free(&s);
}

static void
single_runs_have_no_arm(void **unused)
{
	struct ltb_plan_opts o;
	struct recs s;

	opts(&o, 3, 2, LTB_TRACE_ON);
	plan(&o, &s);
	assert_int_equal(s.n, 6);
	for (size_t i = 0; i < s.n; i++) {
		assert_null(cJSON_GetObjectItemCaseSensitive(s.r[i], "arm"));
		assert_int_equal(ltb_json_bool(s.r[i], "Trace", -1), 1);
		assert_int_equal(num(s.r[i], "trial"), (long)i / 3);
		assert_int_equal(num(s.r[i], "index"), (long)i);
	}
	recs_free(&s);
	opts(&o, 2, 1, LTB_TRACE_OFF);
	plan(&o, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(ltb_json_bool(s.r[0], "Trace", -1), 0);
	recs_free(&s);
}

static void
shards_keep_pairs_whole_and_make_the_whole(void **unused)
{
	struct ltb_plan_opts o;
	struct recs whole, s;
	char seen[MAXREC] = { 0 }, pairs[MAXREC] = { 0 };
	size_t total = 0;

	opts(&o, 5, 3, LTB_TRACE_BOTH);
	plan(&o, &whole);
	for (unsigned i = 0; i < 3; i++) {
		o.shard = i;
		o.shards = 3;
		plan(&o, &s);
		/* Both runs of a pair together, on the shard g % 3, ABBA
		 * over this shard's own pairs. */
		assert_abba(&s, 3, 0, 1);
		for (size_t j = 0; j < s.n; j++) {
			long g = num(s.r[j], "pair"), idx = num(s.r[j], "index");

			assert_int_equal(g % 3, i);
			assert_true(idx >= 0 && idx < (long)whole.n);
			assert_int_equal(seen[idx], 0);
			seen[idx] = 1;
			pairs[g]++;
			/* In the order of the whole plan. */
			if (j > 0)
				assert_true(idx > num(s.r[j - 1], "index"));
		}
		total += s.n;
		recs_free(&s);
	}
	assert_int_equal(total, whole.n);
	for (size_t g = 0; g < 15; g++)
		assert_int_equal(pairs[g], 2);
	recs_free(&whole);
}

static void
records_carry_the_planted_cost_and_the_work_rate(void **unused)
{
	struct ltb_plan_opts o;
	struct recs s;

	opts(&o, 2, 1, LTB_TRACE_BOTH);
	o.planted_ns = 5000;
	plan(&o, &s);
	/* the test arm plants; the NoOp base arm plants nothing */
	for (size_t i = 0; i < s.n; i++) {
		int test = strcmp(cJSON_GetObjectItem(s.r[i], "arm")->valuestring,
		    "test") == 0;

		assert_int_equal(num(s.r[i], "planted_ns"), test ? 5000 : 0);
		assert_int_equal(num(s.r[i], "PlantedNsPerSpan"),
		    test ? 5000 : 0);
		assert_int_equal(num(s.r[i], "work_per_second"), 1000000000);
	}
	recs_free(&s);
	/* in an A/A plan too: the duet's pairs differ by the plant alone */
	opts(&o, 2, 1, LTB_TRACE_AA);
	o.planted_ns = 5000;
	plan(&o, &s);
	for (size_t i = 0; i < s.n; i++) {
		int test = strcmp(cJSON_GetObjectItem(s.r[i], "arm")->valuestring,
		    "test") == 0;

		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s.r[i], "Trace")));
		assert_int_equal(num(s.r[i], "PlantedNsPerSpan"),
		    test ? 5000 : 0);
	}
	recs_free(&s);
	opts(&o, 1, 1, LTB_TRACE_ON);
	plan(&o, &s);
	assert_int_equal(num(s.r[0], "planted_ns"), 0);
	recs_free(&s);
}

/* ltb_plan_flag with one flag. */
static int
flag(struct ltb_plan_opts *o, int code, const char *arg, char *err,
    size_t len)
{
	char *argv[] = { "x", NULL };
	int next = 1;

	return ltb_plan_flag(o, code, arg, argv, 1, &next, err, len);
}

static void
the_new_flags_parse_and_refuse(void **unused)
{
	static const char *const bad_seeds[] = { "", "-1", "x", "1.5",
	    "9007199254740992", "1e3" };
	static const char *const bad_planted[] = { "", "-1", "x", "1.5",
	    "1000000001", "1e3" };
	struct ltb_plan_opts o;
	char err[256], *argv[] = { "x", "--trace", "aa-noop", NULL };
	int next = 2;

	ltb_plan_default(&o);
	assert_int_equal(flag(&o, LTB_OPT_SEED, "123", err, sizeof err), 0);
	assert_int_equal(o.seed, 123);
	assert_int_equal(flag(&o, LTB_OPT_SEED, "0", err, sizeof err), 0);
	assert_int_equal(o.seed, 0);
	assert_int_equal(flag(&o, LTB_OPT_PLANTED_NS, "5000", err,
	    sizeof err), 0);
	assert_int_equal(o.planted_ns, 5000);
	assert_int_equal(flag(&o, LTB_OPT_PLANTED_NS, "1000000000", err,
	    sizeof err), 0);
	for (size_t i = 0; i < sizeof bad_seeds / sizeof bad_seeds[0]; i++) {
		err[0] = '\0';
		assert_int_equal(flag(&o, LTB_OPT_SEED, bad_seeds[i], err,
		    sizeof err), -1);
		assert_non_null(strstr(err, "bad --seed"));
	}
	for (size_t i = 0; i < sizeof bad_planted / sizeof bad_planted[0];
	    i++) {
		err[0] = '\0';
		assert_int_equal(flag(&o, LTB_OPT_PLANTED_NS, bad_planted[i],
		    err, sizeof err), -1);
		assert_non_null(strstr(err, "bad --planted-ns"));
	}
	assert_int_equal(flag(&o, LTB_OPT_TRACE, "aa", err, sizeof err), 0);
	assert_int_equal(o.trace, LTB_TRACE_AA);
	/* "--trace aa-noop", the word apart. */
	assert_int_equal(ltb_plan_flag(&o, LTB_OPT_TRACE, NULL, argv, 3,
	    &next, err, sizeof err), 0);
	assert_int_equal(o.trace, LTB_TRACE_AA_NOOP);
	assert_int_equal(next, 3);
	assert_int_equal(flag(&o, LTB_OPT_TRACE, "ab", err, sizeof err), -1);
	assert_non_null(strstr(err, "aa-noop"));
}

/* --pacing MS: how often clients pay their sleep, in every record's
 * SleepInterval; the original's 100 ms without it. */
static void
pacing_sets_the_sleep_interval(void **unused)
{
	static const char *const bad[] = { "", "0", "-1", "x", "1.5",
	    "60001" };
	struct ltb_plan_opts o;
	struct recs s;
	char err[256];

	opts(&o, 2, 1, LTB_TRACE_ON);
	plan(&o, &s);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(num(s.r[i], "SleepInterval"), 100000000);
	recs_free(&s);
	opts(&o, 2, 1, LTB_TRACE_BOTH);
	assert_int_equal(flag(&o, LTB_OPT_PACING, "1", err, sizeof err), 0);
	plan(&o, &s);
	assert_int_equal(s.n, 4);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(num(s.r[i], "SleepInterval"), 1000000);
	recs_free(&s);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(flag(&o, LTB_OPT_PACING, bad[i], err,
		    sizeof err), -1);
		assert_non_null(strstr(err, "--pacing"));
	}
}

/* --contract argv: every record says so, and carries the start-up of
 * an argv calibration of the same client, of no other. */
static void
argv_plans_carry_the_contract_and_the_start_up(void **unused)
{
	struct ltb_calibration c = cal;
	struct ltb_plan_opts o;
	struct recs s;
	char err[256];

	opts(&o, 2, 1, LTB_TRACE_BOTH);
	plan(&o, &s);
	for (size_t i = 0; i < s.n; i++)
		assert_null(cJSON_GetObjectItem(s.r[i], "contract"));
	recs_free(&s);
	assert_int_equal(flag(&o, LTB_OPT_CONTRACT, "soap", err, sizeof err),
	    -1);
	assert_string_equal(err, "bad --contract 'soap': use http or argv");
	assert_int_equal(flag(&o, LTB_OPT_CONTRACT, "argv", err, sizeof err),
	    0);
	assert_int_equal(o.contract, LTB_CONTRACT_ARGV);
	assert_int_equal(o.contract_set, 1);
	/* an http calibration: no start-up to carry */
	plan(&o, &s);
	assert_int_equal(s.n, 4);
	for (size_t i = 0; i < s.n; i++) {
		assert_string_equal(cJSON_GetObjectItem(s.r[i],
		    "contract")->valuestring, "argv");
		assert_null(cJSON_GetObjectItem(s.r[i], "startup_cpu"));
	}
	recs_free(&s);
	c.contract = LTB_CONTRACT_ARGV;
	c.startup_cpu = 0.25;
	c.startup_time = 0.5;
	assert_int_equal(ltb_plan(&o, &c, collect, &s), 4);
	for (size_t i = 0; i < s.n; i++) {
		const cJSON *cpu = cJSON_GetObjectItem(s.r[i], "startup_cpu");
		const cJSON *t = cJSON_GetObjectItem(s.r[i], "startup_time");

		/* the NoOp probes' start-up is a NoOp run's only: a traced
		 * run's holds the tracer's set-up, probed by the runner */
		if (cJSON_IsTrue(cJSON_GetObjectItem(s.r[i], "Trace"))) {
			assert_null(cpu);
			assert_null(t);
			continue;
		}
		assert_true(cpu->valuedouble == 0.25);
		assert_true(t->valuedouble == 0.5);
	}
	recs_free(&s);
	/* another client's start-up is not this one's */
	o.client = "other";
	assert_int_equal(ltb_plan(&o, &c, collect, &s), 4);
	for (size_t i = 0; i < s.n; i++)
		assert_null(cJSON_GetObjectItem(s.r[i], "startup_cpu"));
	recs_free(&s);
	/* nor is a command's calibration ("cmd", whatever the command was)
	 * a given command's */
	o.client = NULL;
	o.client_cmd = "node other.js";
	snprintf(c.client, sizeof c.client, "cmd");
	assert_int_equal(ltb_plan(&o, &c, collect, &s), 4);
	for (size_t i = 0; i < s.n; i++)
		assert_null(cJSON_GetObjectItem(s.r[i], "startup_cpu"));
	recs_free(&s);
}

/* A calibration record keeps its contract and an argv start-up; one
 * without a contract is http's, with its start-up unknown. */
static void
calibration_records_keep_the_contract(void **unused)
{
	struct ltb_calibration c = cal, back;
	char err[256];
	cJSON *rec;

	c.contract = LTB_CONTRACT_ARGV;
	c.startup_cpu = 0.125;
	c.startup_time = 0.75;
	assert_non_null(rec = ltb_calibration_record(&c));
	assert_string_equal(cJSON_GetObjectItem(rec, "contract")->valuestring,
	    "argv");
	assert_int_equal(ltb_calibration_from_json(&back, rec, err,
	    sizeof err), 0);
	assert_int_equal(back.contract, LTB_CONTRACT_ARGV);
	assert_true(back.startup_cpu == 0.125 && back.startup_time == 0.75);
	cJSON_DeleteItemFromObject(rec, "contract");
	cJSON_DeleteItemFromObject(rec, "startup_time");
	assert_int_equal(ltb_calibration_from_json(&back, rec, err,
	    sizeof err), 0);
	assert_int_equal(back.contract, LTB_CONTRACT_HTTP);
	assert_true(back.startup_cpu < 0 && back.startup_time < 0);
	cJSON_AddStringToObject(rec, "contract", "soap");
	assert_int_equal(ltb_calibration_from_json(&back, rec, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "\"contract\""));
	cJSON_Delete(rec);
	/* an http calibration says so, and has no start-up */
	c = cal;
	c.startup_cpu = c.startup_time = -1;
	assert_non_null(rec = ltb_calibration_record(&c));
	assert_string_equal(cJSON_GetObjectItem(rec, "contract")->valuestring,
	    "http");
	assert_null(cJSON_GetObjectItem(rec, "startup_cpu"));
	cJSON_Delete(rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    both_runs_pairs_adjacent_base_then_test_then_swapped),
		cmocka_unit_test(rounds_by_trial_each_a_permutation_of_the_rates),
		cmocka_unit_test(the_seed_decides_the_order),
		cmocka_unit_test(aa_plans_run_the_same_client_in_both_arms),
		cmocka_unit_test(single_runs_have_no_arm),
		cmocka_unit_test(shards_keep_pairs_whole_and_make_the_whole),
		cmocka_unit_test(records_carry_the_planted_cost_and_the_work_rate),
		cmocka_unit_test(the_new_flags_parse_and_refuse),
		cmocka_unit_test(pacing_sets_the_sleep_interval),
		cmocka_unit_test(argv_plans_carry_the_contract_and_the_start_up),
		cmocka_unit_test(calibration_records_keep_the_contract),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
