/*
 * fuzz_osprofiler.c: libFuzzer target for the OSProfiler protocol
 * (ltb_proto_osprofiler): its values, and the pairing of their points.
 *
 * An input whose first byte is even is one value, under the key its
 * "base_id" names (else the bare prefix). Fed whole, one byte at a time
 * (values up to ONE_BY_ONE bytes) and cut where its last bytes say, it
 * gives the same units; and it is exactly one of: an invalid unit (key
 * 0), a start kept open, a stop without its start.
 *
 * An input whose first byte is odd is a sequence of values, one a line,
 * to one group's shared state. Each value does exactly one thing, seen in
 * the units and the protocol's own counts: an invalid unit; a start that
 * opens a point, or is a duplicate, or overflows (and may be a broken
 * parent); a stop that completes an open point (a valid unit with a key
 * never given before, or a stop_mismatch with it), gives again the key of
 * a completed one, or is unmatched.
 *
 * Any disagreement aborts. Seeds: tests/fuzz/seeds/osprofiler/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/ltb_collector.h"

static const struct ltb_collector_proto *const P = &ltb_proto_osprofiler;

enum { MAXU = 4096, ONE_BY_ONE = 4096, KEYMAX = 128 };

struct units {
	uint64_t keys[MAXU];
	unsigned invalid[MAXU];
	size_t n;
};

static struct units whole, other, seq;
static uint64_t given[MAXU];
static size_t ngiven;
static uint64_t shared[1 << 10];

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_osprofiler: %s\n", what);
		abort();
	}
}

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct units *u = ctx;

	must(invalid < P->ninvalid, "a reason past the names");
	must(u->n < MAXU, "more units than values");
	u->keys[u->n] = key;
	u->invalid[u->n++] = invalid;
}

static unsigned
reason(const char *name)
{
	for (unsigned i = 0; i < P->ninvalid; i++)
		if (strcmp(P->invalid_names[i], name) == 0)
			return i;
	must(0, "a reason missing");
	return 0;
}

/* The key a value is pushed under, from its "base_id" as text. */
static void
key_of(const uint8_t *d, size_t n, char *key)
{
	static const char tag[] = "\"base_id\": \"";
	size_t t = sizeof tag - 1, i, j;

	strcpy(key, P->path);
	for (i = 0; i + t <= n; i++)
		if (memcmp(d + i, tag, t) == 0)
			break;
	if (i + t > n)
		return;
	for (i += t, j = strlen(key); i < n && d[i] != '"' && j < 60; i++)
		key[j++] = (char)d[i];
	key[j] = '\0';
}

/* One value; step > 0 feeds it step bytes at a time, else cut at cut. */
static void
one(const char *key, const uint8_t *d, size_t n, size_t step, size_t cut,
    struct units *u)
{
	static uint64_t state[1 << 10];
	struct ltb_message m = { .path = key, .content_type = "",
		.encoding = "", .max_field = 1 << 20, .shared = shared };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = u };
	struct ltb_reply reply;
	const char *why = NULL;
	size_t at = 0, len;
	int rc;

	must(P->state_size <= sizeof state, "state size");
	memset(state, 0, P->state_size);
	must(P->begin(state, &m) == LTB_COLLECT_OK, "begin");
	for (rc = LTB_COLLECT_OK; rc == LTB_COLLECT_OK && at < n; at += len) {
		len = step > 0 ? step : cut > at ? cut - at : n - at;
		if (len > n - at)
			len = n - at;
		rc = P->feed(state, d + at, len, &sink, &why);
	}
	must(rc == LTB_COLLECT_OK, "a value refused");
	must(P->end(state, &sink, &reply, &why) == LTB_COLLECT_OK,
	    "a value refused at its end");
	P->release(state);
}

static void
shared_start(void)
{
	must(P->shared_size <= sizeof shared, "shared size");
	memset(shared, 0, P->shared_size);
	must(P->shared_init(shared, NULL) == 0, "shared_init");
}

/* The protocol's own counts: unmatched_starts, unmatched_stops,
 * broken_parents, duplicate_starts, pairing_overflow. */
static void
counts(uint64_t c[5])
{
	static const char *const names[5] = { "unmatched_starts",
	    "unmatched_stops", "broken_parents", "duplicate_starts",
	    "pairing_overflow" };
	cJSON *o = cJSON_CreateObject(), *v;

	must(o != NULL, "out of memory");
	P->shared_stats(shared, o);
	for (int i = 0; i < 5; i++) {
		v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
		must(cJSON_IsNumber(v), "a count missing");
		c[i] = (uint64_t)v->valuedouble;
	}
	cJSON_Delete(o);
}

static void
single(const uint8_t *d, size_t n)
{
	char key[KEYMAX];
	uint64_t c[5];
	size_t cut = n >= 2 ? (d[n - 1] | (size_t)d[n - 2] << 8) % (n + 1) : 0;

	key_of(d, n, key);
	whole.n = 0;
	shared_start();
	one(key, d, n, 0, 0, &whole);
	counts(c);
	P->shared_free(shared);
	must(whole.n + c[0] + c[1] == 1, "a value is not exactly one thing");
	must(whole.n == 0 || (whole.invalid[0] != 0 && whole.keys[0] == 0),
	    "a lone value is a valid unit");
	for (int k = 0; k < 2; k++) {
		if (k == 0 && n > ONE_BY_ONE)
			continue;
		other.n = 0;
		shared_start();
		one(key, d, n, k == 0 ? 1 : 0, cut, &other);
		P->shared_free(shared);
		must(other.n == whole.n && (whole.n == 0 ||
		    other.invalid[0] == whole.invalid[0]),
		    "pieces read otherwise than the whole");
	}
}

static int
was_given(uint64_t key)
{
	for (size_t i = 0; i < ngiven; i++)
		if (given[i] == key)
			return 1;
	return 0;
}

/* What one value of a sequence did, from the units and the counts. */
static void
judge(const uint64_t b[5], const uint64_t a[5], size_t units0)
{
	size_t du = seq.n - units0;
	int64_t dopen = (int64_t)a[0] - (int64_t)b[0];
	uint64_t dstop = a[1] - b[1], dbroken = a[2] - b[2],
	    ddup = a[3] - b[3], dover = a[4] - b[4];
	unsigned inv = du ? seq.invalid[units0] : 0;
	uint64_t key = du ? seq.keys[units0] : 0;

	must(du <= 1 && dbroken <= 1, "one value, more than one unit");
	if (du == 1 && inv == reason("stop_mismatch")) {
		must(key != 0 && dopen == -1 && !was_given(key), "a mismatch");
		given[ngiven++] = key;
	} else if (du == 1 && inv != 0) {
		must(key == 0 && dopen == 0 && dstop + ddup + dover +
		    dbroken == 0, "an invalid value counted otherwise");
	} else if (du == 1) {
		must(key != 0 && dstop + ddup + dover + dbroken == 0,
		    "a point counted otherwise");
		must(dopen == -1 ? !was_given(key) : dopen == 0 &&
		    was_given(key), "a point's key");
		if (dopen == -1)
			given[ngiven++] = key;
	} else {
		must(dopen >= 0 && (uint64_t)dopen + dstop + ddup + dover == 1,
		    "a value that did not one thing");
		must(dbroken == 0 || dstop == 0, "a stop with a broken parent");
	}
}

static void
sequence(const uint8_t *d, size_t n)
{
	char key[KEYMAX];
	uint64_t b[5], a[5];
	size_t at = 0, end, units0;

	seq.n = 0;
	ngiven = 0;
	shared_start();
	while (at < n && seq.n < MAXU - 1) {
		const uint8_t *nl = memchr(d + at, '\n', n - at);

		end = nl != NULL ? (size_t)(nl - d) : n;
		key_of(d + at, end - at, key);
		counts(b);
		units0 = seq.n;
		one(key, d + at, end - at, 0, 0, &seq);
		counts(a);
		judge(b, a, units0);
		at = end + 1;
	}
	/* a reset forgets every point */
	P->shared_reset(shared);
	counts(a);
	must(a[0] + a[1] + a[2] + a[3] + a[4] == 0, "a reset keeps counts");
	P->shared_free(shared);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	if (d[0] % 2 == 0)
		single(d + 1, n - 1);
	else
		sequence(d + 1, n - 1);
	return 0;
}
