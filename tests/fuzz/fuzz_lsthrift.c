/*
 * fuzz_lsthrift.c: libFuzzer target for the LightStep thrift walk
 * (ltb_lsthrift_walk.h).
 *
 * Differential, in process: on every input the walk fed whole and fed in
 * pieces (sizes from a PRNG the input seeds, and a byte at a time for
 * inputs up to ONE_BY_ONE bytes) must give the same verdict, the same
 * reason and the same spans (every field of struct ltb_lst_span), in the
 * same order; under a body limit the input's first byte picks, and
 * without one. ASan and UBSan watch for overruns. Any disagreement
 * aborts. The differential against python3-thrift over the seeds and
 * their mutants is tests/ltb-satellite-thrift.bats's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/proto/ltb_lsthrift.h"
#include "collector/proto/ltb_lsthrift_walk.h"

enum { MAXSPANS = 1 << 14, ONE_BY_ONE = 4096 };

struct got {
	struct ltb_lst_span s[MAXSPANS];
	size_t n;
	int over;
	int rc;
	const char *why;
};

static struct got whole, pieces;

static void
collect(void *ctx, const struct ltb_lst_span *span)
{
	struct got *g = ctx;

	if (g->n == MAXSPANS) {
		g->over = 1;
		return;
	}
	g->s[g->n++] = *span;
	/* what the satellite does with each: must not trap */
	(void)ltb_lst_check(span);
	(void)ltb_lst_key(span);
}

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_lsthrift: disagreement: %s\n", what);
		abort();
	}
}

static uint64_t
next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Feed p in pieces of at most step bytes (0: random sizes from rng). */
static void
run(const uint8_t *p, size_t n, size_t max_field, size_t step, uint64_t rng,
    struct got *g)
{
	struct ltb_lst_walk w;
	size_t at = 0, k;
	int rc = 0;

	memset(g, 0, sizeof *g);
	ltb_lst_walk_init(&w, max_field);
	while (rc >= 0 && at < n) {
		k = step ? step : 1 + next(&rng) % 64;
		k = k < n - at ? k : n - at;
		rc = ltb_lst_walk_feed(&w, p + at, k, collect, g);
		must(rc < 0 || (size_t)rc <= k, "spans beyond bytes");
		at += k;
	}
	if (rc >= 0)
		rc = ltb_lst_walk_end(&w);
	must(rc <= 0, "end returned spans");
	must(rc == 0 || w.why != NULL, "a failure without reason");
	must(rc == 0 || ltb_lst_walk_feed(&w, p, n, collect, g) == rc,
	    "a failed walk did not stay failed");
	must(g->over || w.spans == g->n, "spans counted vs called");
	g->rc = rc;
	g->why = w.why;
}

static void
same(const struct got *a, const struct got *b, const char *what)
{
	must(a->rc == b->rc, what);
	must(a->why == b->why, what);
	must(a->n == b->n && a->over == b->over, what);
	for (size_t i = 0; i < a->n; i++)
		must(memcmp(&a->s[i], &b->s[i], sizeof a->s[i]) == 0, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t limits[2] = { (size_t)-1, n ? p[0] : 0 };

	seed ^= ltb_lst_hash(LTB_LST_HASH_INIT, p, n);
	for (int l = 0; l < 2; l++) {
		run(p, n, limits[l], n ? n : 1, 0, &whole);
		must(l == 1 || whole.rc != LTB_LST_TOO_LARGE,
		    "too large without a limit");
		run(p, n, limits[l], 0, seed | 1, &pieces);
		same(&whole, &pieces, "whole vs random pieces");
		if (n <= ONE_BY_ONE) {
			run(p, n, limits[l], 1, 0, &pieces);
			same(&whole, &pieces, "whole vs one byte at a time");
		}
	}
	return 0;
}
