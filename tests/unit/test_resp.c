/*
 * test_resp.c: RESP2 request framing (common/collector/ltb_resp_parse.c)
 * and the RESP ports' kept keys (common/collector/ltb_store.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_resp_parse.h"
#include "collector/ltb_store.h"

/* ---- framing --------------------------------------------------------------- */

/* What a stream gives, one line per result: "C arg|arg", "R err",
 * "F err"; with the stream cut at the given points (ascending). */
static void
run(const char *in, size_t n, const size_t *cuts, size_t ncuts,
    uint64_t max_bulk, char *out, size_t cap)
{
	struct ltb_resp_parser p;
	size_t at = 0, o = 0, used, len;
	int rc;

	ltb_resp_init(&p, max_bulk, NULL);
	out[0] = '\0';
	for (size_t k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : n;

		while (at < end) {
			rc = ltb_resp_feed(&p, (const uint8_t *)in + at,
			    end - at, &used);
			at += used;
			if (rc == LTB_RESP_MORE)
				continue;
			if (rc == LTB_RESP_COMMAND) {
				o += (size_t)snprintf(out + o, cap - o, "C ");
				for (size_t i = 0; i < p.argc; i++) {
					const char *a = ltb_resp_arg(&p, i,
					    &len);

					assert_int_equal(a[len], '\0');
					o += (size_t)snprintf(out + o, cap - o,
					    "%s%.*s", i ? "|" : "", (int)len, a);
				}
				o += (size_t)snprintf(out + o, cap - o, "\n");
			} else {
				o += (size_t)snprintf(out + o, cap - o, "%c %s\n",
				    rc == LTB_RESP_REFUSED ? 'R' : 'F', p.err);
				if (rc == LTB_RESP_FATAL)
					goto out;
			}
		}
	}
out:
	ltb_resp_free(&p);
}

static void
expect(const char *in, uint64_t max_bulk, const char *want)
{
	size_t n = strlen(in), cut[2];
	char whole[4096], got[4096];

	run(in, n, NULL, 0, max_bulk, whole, sizeof whole);
	assert_string_equal(whole, want);
	/* cut at every point, then at every pair of points */
	for (size_t i = 0; i <= n; i++) {
		cut[0] = i;
		run(in, n, cut, 1, max_bulk, got, sizeof got);
		assert_string_equal(got, want);
		for (size_t j = i; j <= n && n < 200; j++) {
			cut[1] = j;
			run(in, n, cut, 2, max_bulk, got, sizeof got);
			assert_string_equal(got, want);
		}
	}
	/* a byte at a time */
	{
		size_t *all = malloc((n + 1) * sizeof *all);

		for (size_t i = 0; i <= n; i++)
			all[i] = i;
		run(in, n, all, n + 1, max_bulk, got, sizeof got);
		free(all);
		assert_string_equal(got, want);
	}
}

static void
multibulk_commands_pipelined_at_every_split(void **unused)
{
	expect("*1\r\n$4\r\nPING\r\n"
	    "*3\r\n$5\r\nLPUSH\r\n$1\r\nk\r\n$11\r\n{\"a\":\"b c\"}\r\n"
	    "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
	    0, "C PING\nC LPUSH|k|{\"a\":\"b c\"}\nC ECHO|\n");
}

static void
a_bulk_holds_any_byte(void **unused)
{
	expect("*2\r\n$4\r\nECHO\r\n$6\r\na\r\n*$\n\r\n*1\r\n$1\r\nx\r\n", 0,
	    "C ECHO|a\r\n*$\n\nC x\n");
}

static void
inline_commands(void **unused)
{
	expect("PING\r\nset  k\tv\n\r\n\nGET k\r\n", 0,
	    "C PING\nC set|k|v\nC GET|k\n");
}

static void
empty_multibulks_are_nothing(void **unused)
{
	expect("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", 0, "C PING\n");
}

static void
a_bulk_over_the_limit_is_refused_and_skipped(void **unused)
{
	expect("*3\r\n$3\r\nSET\r\n$11\r\nhello world\r\n$1\r\nv\r\n"
	    "*1\r\n$4\r\nPING\r\n", 10,
	    "R Protocol error: bulk length 11 over the limit 10\nC PING\n");
	/* the arguments together: 6 + 6 > 10 */
	expect("*2\r\n$6\r\nabcdef\r\n$6\r\nghijkl\r\n*1\r\n$4\r\nPING\r\n", 10,
	    "R Protocol error: command of 12 bytes over the limit 10\n"
	    "C PING\n");
}

static void
a_huge_bulk_announced_holds_nothing(void **unused)
{
	struct ltb_resp_parser p;
	struct ltb_budget b;
	const char *hdr = "*2\r\n$4\r\nECHO\r\n$536870912\r\n";
	uint8_t junk[4096];
	size_t used;

	memset(junk, 'x', sizeof junk);
	ltb_budget_init(&b, 0);
	ltb_resp_init(&p, 0, &b);
	assert_int_equal(ltb_resp_feed(&p, (const uint8_t *)hdr, strlen(hdr),
	    &used), LTB_RESP_MORE);
	assert_int_equal(ltb_resp_feed(&p, junk, sizeof junk, &used),
	    LTB_RESP_MORE);
	/* grown as bytes came: a few KiB, not 512 MiB */
	assert_true(atomic_load(&b.used) < 64 * 1024);
	assert_int_equal(ltb_resp_pending(&p), 1);
	ltb_resp_free(&p);
	assert_int_equal(atomic_load(&b.used), 0);
}

static void
a_budget_too_small_refuses_the_command_only(void **unused)
{
	struct ltb_resp_parser p;
	struct ltb_budget b;
	char in[600];
	size_t used, n, at = 0;
	int rc;

	n = (size_t)snprintf(in, sizeof in, "*2\r\n$4\r\nECHO\r\n$500\r\n");
	memset(in + n, 'y', 500);
	n += 500;
	memcpy(in + n, "\r\nPING\r\n", 8);
	n += 8;
	ltb_budget_init(&b, 600);	/* 256 of args, 256 of buf, not 512 */
	ltb_resp_init(&p, 0, &b);
	rc = ltb_resp_feed(&p, (const uint8_t *)in, n, &used);
	assert_int_equal(rc, LTB_RESP_REFUSED);
	assert_non_null(strstr(p.err, "memory budget"));
	at += used;
	rc = ltb_resp_feed(&p, (const uint8_t *)in + at, n - at, &used);
	assert_int_equal(rc, LTB_RESP_COMMAND);
	assert_string_equal(ltb_resp_arg(&p, 0, NULL), "PING");
	ltb_resp_free(&p);
	assert_int_equal(atomic_load(&b.used), 0);
}

static void
framing_that_cannot_resync_is_fatal(void **unused)
{
	expect("*1\r\n$4\r\nPING\r\n*x\r\n", 0,
	    "C PING\nF Protocol error: invalid multibulk length\n");
	expect("*1\r\n#4\r\n", 0, "F Protocol error: expected '$', got '#'\n");
	expect("*1\r\n$-4\r\n", 0, "F Protocol error: invalid bulk length\n");
	expect("*1\r\n$4x\r\n", 0, "F Protocol error: invalid bulk length\n");
	expect("*1048577\r\n", 0,
	    "F Protocol error: invalid multibulk length\n");
	expect("*1\r\n$4\r\nPINGxx", 0,
	    "F Protocol error: expected CRLF after a bulk\n");
	expect("*11111111111111111111111111111111111\r\n", 0,
	    "F Protocol error: too big mbulk count string\n");
}

static void
an_inline_line_over_64k_is_fatal(void **unused)
{
	struct ltb_resp_parser p;
	uint8_t *big = malloc(LTB_RESP_INLINE_MAX + 2);
	size_t used;

	memset(big, 'a', LTB_RESP_INLINE_MAX + 2);
	ltb_resp_init(&p, 0, NULL);
	assert_int_equal(ltb_resp_feed(&p, big, LTB_RESP_INLINE_MAX, &used),
	    LTB_RESP_MORE);
	assert_int_equal(ltb_resp_feed(&p, big, 2, &used), LTB_RESP_FATAL);
	assert_string_equal(p.err, "Protocol error: too big inline request");
	/* dead: nothing more is taken */
	assert_int_equal(ltb_resp_feed(&p, big, 2, &used), LTB_RESP_FATAL);
	assert_int_equal(used, 0);
	ltb_resp_free(&p);
	free(big);
}

/* ---- the store ------------------------------------------------------------- */

struct got {
	char s[1024];
	size_t n;
};

static void
got_each(void *ctx, const void *v, size_t len)
{
	struct got *g = ctx;

	g->n += (size_t)snprintf(g->s + g->n, sizeof g->s - g->n, "%s%.*s",
	    g->n ? "," : "", v != NULL ? (int)len : 3,
	    v != NULL ? (const char *)v : "nil");
}

static void
got_count(void *ctx, size_t n)
{
	(void)ctx;
	(void)n;
}

static const char *
range(struct ltb_store *s, const char *key, long long a, long long b)
{
	static struct got g;

	memset(&g, 0, sizeof g);
	assert_int_equal(ltb_store_range(s, key, strlen(key), a, b, got_count,
	    got_each, &g), 0);
	return g.s;
}

static void
push(struct ltb_store *s, const char *key, const char *v, int left)
{
	size_t len;

	assert_int_equal(ltb_store_push(s, key, strlen(key), v, strlen(v), left,
	    &len), LTB_STORE_OK);
}

static void
lrange_follows_redis_index_rules(void **unused)
{
	struct ltb_store *s = ltb_store_new(10, 1 << 20, NULL);
	struct got g = { "", 0 };

	push(s, "k", "b", 1);
	push(s, "k", "a", 1);		/* LPUSH: at the front */
	push(s, "k", "c", 0);		/* RPUSH: at the back */
	push(s, "k", "d", 0);
	assert_string_equal(range(s, "k", 0, -1), "a,b,c,d");
	assert_string_equal(range(s, "k", 1, 2), "b,c");
	assert_string_equal(range(s, "k", -2, -1), "c,d");
	assert_string_equal(range(s, "k", -100, 1), "a,b");
	assert_string_equal(range(s, "k", 2, 100), "c,d");
	assert_string_equal(range(s, "k", 3, 1), "");
	assert_string_equal(range(s, "k", 4, 10), "");
	assert_string_equal(range(s, "k", 0, -5), "");
	assert_string_equal(range(s, "missing", 0, -1), "");
	assert_int_equal(ltb_store_index(s, "k", 1, -1, got_each, &g), 0);
	assert_int_equal(ltb_store_index(s, "k", 1, 1, got_each, &g), 0);
	assert_int_equal(ltb_store_index(s, "k", 1, 4, got_each, &g), 0);
	assert_int_equal(ltb_store_index(s, "k", 1, -5, got_each, &g), 0);
	assert_string_equal(g.s, "d,b,nil,nil");
	ltb_store_free(s);
}

static void
strings_and_lists_do_not_mix(void **unused)
{
	struct ltb_store *s = ltb_store_new(10, 1 << 20, NULL);
	struct got g = { "", 0 };
	size_t len;
	int done;

	assert_int_equal(ltb_store_set(s, "s", 1, "v", 1, 0, 0, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(ltb_store_push(s, "s", 1, "x", 1, 1, &len),
	    LTB_STORE_WRONGTYPE);
	assert_int_equal(ltb_store_llen(s, "s", 1, &len), LTB_STORE_WRONGTYPE);
	push(s, "l", "x", 1);
	assert_int_equal(ltb_store_get(s, "l", 1, got_each, &g),
	    LTB_STORE_WRONGTYPE);
	assert_int_equal(ltb_store_get(s, "s", 1, got_each, &g), 0);
	assert_int_equal(ltb_store_get(s, "z", 1, got_each, &g), 0);
	assert_string_equal(g.s, "v,nil");
	/* NX on an existing key, XX on a missing one: not done */
	assert_int_equal(ltb_store_set(s, "s", 1, "w", 1, 1, 0, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(ltb_store_set(s, "q", 1, "w", 1, 0, 1, &done), 0);
	assert_int_equal(done, 0);
	/* SET replaces a list */
	assert_int_equal(ltb_store_set(s, "l", 1, "w", 1, 0, 0, &done), 0);
	assert_int_equal(ltb_store_type(s, "l", 1), LTB_STORE_STRING);
	ltb_store_free(s);
}

static void
scan_cursor(void *ctx, const void *v, size_t len)
{
	got_each(ctx, v, len);
}

static void
scan_walks_in_creation_order_and_survives_eviction(void **unused)
{
	struct ltb_store *s = ltb_store_new(4, 1 << 20, NULL);
	struct got g = { "", 0 };
	uint64_t cur;

	push(s, "a1", "x", 1);
	push(s, "b2", "x", 1);
	push(s, "a3", "x", 1);
	cur = ltb_store_scan(s, 0, 2, "a*", LTB_STORE_NONE, scan_cursor, &g);
	assert_string_equal(g.s, "a1");
	assert_int_equal(cur, 3);
	/* evicting what SCAN has passed moves nothing it has not */
	assert_int_equal(ltb_store_del(s, "a1", 2), 1);
	push(s, "a4", "x", 1);
	cur = ltb_store_scan(s, cur, 10, "a*", LTB_STORE_LIST, scan_cursor, &g);
	assert_string_equal(g.s, "a1,a3,a4");
	assert_int_equal(cur, 0);
	ltb_store_free(s);
}

static void
the_oldest_key_goes_past_the_count(void **unused)
{
	struct ltb_store *s = ltb_store_new(3, 1 << 20, NULL);
	struct ltb_store_counts c;

	push(s, "k1", "x", 1);
	push(s, "k2", "x", 1);
	push(s, "k3", "x", 1);
	push(s, "k1", "y", 1);		/* an old key grows: nothing evicted */
	push(s, "k4", "x", 1);
	ltb_store_counts(s, &c);
	assert_int_equal(c.keys, 3);
	assert_int_equal(c.evicted_keys, 1);
	assert_int_equal(ltb_store_type(s, "k1", 2), LTB_STORE_NONE);
	assert_int_equal(ltb_store_type(s, "k2", 2), LTB_STORE_LIST);
	assert_int_equal(ltb_store_type(s, "k4", 2), LTB_STORE_LIST);
	ltb_store_free(s);
}

static void
bytes_evict_the_oldest_and_a_value_too_big_is_not_kept(void **unused)
{
	struct ltb_budget b;
	struct ltb_store *s;
	struct ltb_store_counts c;
	char v[400];
	size_t len;

	memset(v, 'v', sizeof v);
	ltb_budget_init(&b, 0);
	s = ltb_store_new(100, 2000, &b);
	for (int i = 0; i < 10; i++) {
		char key[8];

		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(ltb_store_push(s, key, strlen(key), v, sizeof v,
		    1, &len), LTB_STORE_OK);
		ltb_store_counts(s, &c);
		assert_true(c.bytes <= 2000);
		assert_int_equal(atomic_load(&b.used), c.bytes);
	}
	ltb_store_counts(s, &c);
	assert_true(c.keys >= 3 && c.keys < 10);
	assert_int_equal(c.evicted_keys, 10 - c.keys);
	assert_int_equal(ltb_store_type(s, "k9", 2), LTB_STORE_LIST);
	assert_int_equal(ltb_store_type(s, "k0", 2), LTB_STORE_NONE);
	/* over the whole store: dropped, counted, nothing evicted for it */
	{
		char *huge = calloc(1, 3000);

		assert_int_equal(ltb_store_push(s, "h", 1, huge, 3000, 1, &len),
		    LTB_STORE_NOT_KEPT);
		free(huge);
	}
	ltb_store_counts(s, &c);
	assert_int_equal(c.not_kept, 1);
	assert_int_equal(c.evicted_keys, 10 - c.keys);
	ltb_store_free(s);
	assert_int_equal(atomic_load(&b.used), 0);
}

static void
the_budget_evicts_too_and_gets_every_byte_back(void **unused)
{
	struct ltb_budget b;
	struct ltb_store *s;
	struct ltb_store_counts c;
	char v[100];
	size_t len;
	int done;

	memset(v, 'v', sizeof v);
	ltb_budget_init(&b, 1000);
	s = ltb_store_new(100, 1 << 20, &b);
	for (int i = 0; i < 20; i++) {
		char key[8];

		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(ltb_store_push(s, key, strlen(key), v, sizeof v,
		    0, &len), LTB_STORE_OK);
		assert_true(atomic_load(&b.used) <= 1000);
	}
	ltb_store_counts(s, &c);
	assert_true(c.evicted_keys > 0);
	assert_int_equal(ltb_store_set(s, "s", 1, v, sizeof v, 0, 0, &done), 0);
	assert_int_equal(ltb_store_del(s, "s", 1), 1);
	ltb_store_flush(s);
	assert_int_equal(atomic_load(&b.used), 0);
	push(s, "again", "x", 1);
	ltb_store_free(s);
	assert_int_equal(atomic_load(&b.used), 0);
}

static void
many_keys_are_found_again(void **unused)
{
	struct ltb_store *s = ltb_store_new(5000, 1 << 24, NULL);
	size_t len;
	char key[16];

	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "key%d", i);
		push(s, key, "x", 1);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(key, sizeof key, "key%d", i);
		assert_int_equal(ltb_store_llen(s, key, strlen(key), &len), 0);
		assert_int_equal(len, 1);
	}
	ltb_store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(multibulk_commands_pipelined_at_every_split),
		cmocka_unit_test(a_bulk_holds_any_byte),
		cmocka_unit_test(inline_commands),
		cmocka_unit_test(empty_multibulks_are_nothing),
		cmocka_unit_test(a_bulk_over_the_limit_is_refused_and_skipped),
		cmocka_unit_test(a_huge_bulk_announced_holds_nothing),
		cmocka_unit_test(a_budget_too_small_refuses_the_command_only),
		cmocka_unit_test(framing_that_cannot_resync_is_fatal),
		cmocka_unit_test(an_inline_line_over_64k_is_fatal),
		cmocka_unit_test(lrange_follows_redis_index_rules),
		cmocka_unit_test(strings_and_lists_do_not_mix),
		cmocka_unit_test(scan_walks_in_creation_order_and_survives_eviction),
		cmocka_unit_test(the_oldest_key_goes_past_the_count),
		cmocka_unit_test(bytes_evict_the_oldest_and_a_value_too_big_is_not_kept),
		cmocka_unit_test(the_budget_evicts_too_and_gets_every_byte_back),
		cmocka_unit_test(many_keys_are_found_again),
	};

	return cmocka_run_group_tests_name("resp", tests, NULL, NULL);
}
