/*
 * test_protocols.c: what every protocol in ltb_collector_protocols owes the
 * satellite group, checked entry by entry.
 *
 * A protocol sees a message in pieces of whatever size the transport
 * hands it, so the same bytes fed whole, one byte at a time, or cut
 * anywhere must give the same units (keys and validation results, in
 * order), the same verdict and the same answer's status and content type;
 * and its streaming reading must agree with --validate full on the
 * verdict, and on the units when the message is read. The bodies are each
 * protocol's fuzz seeds (tests/fuzz/seeds/NAME/, which every protocol must
 * have) and seeded mutations of them, fed under every content type the
 * protocol declares. Nothing here knows one protocol from another: a new
 * table line is checked as soon as its seeds exist.
 *
 * LTB_SEEDS names the seeds folder (default tests/fuzz/seeds, from the top
 * of the tree, where make test runs).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collector/ltb_collector.h"

/* What one message came to. */
struct outcome {
	int rc;			/* LTB_COLLECT_*: the first failure, or end's */
	unsigned status;	/* the answer's: 200, 400, 413, 415 */
	const char *content_type;	/* the answer's; NULL: the group's */
	uint64_t *keys;
	unsigned *invalid;
	size_t n, cap;
};

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct outcome *o = ctx;

	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 256;
		o->keys = realloc(o->keys, o->cap * sizeof *o->keys);
		o->invalid = realloc(o->invalid, o->cap * sizeof *o->invalid);
		assert_non_null(o->keys);
		assert_non_null(o->invalid);
	}
	o->keys[o->n] = key;
	o->invalid[o->n++] = invalid;
}

static void
outcome_free(struct outcome *o)
{
	free(o->keys);
	free(o->invalid);
	memset(o, 0, sizeof *o);
}

static unsigned
status_of(int rc)
{
	switch (rc) {
	case LTB_COLLECT_OK:
		return 200;
	case LTB_COLLECT_TOO_LARGE:
		return 413;
	case LTB_COLLECT_UNSUPPORTED:
		return 415;
	default:
		return 400;
	}
}

static void
shared_end(const struct ltb_collector_proto *p, void *shared)
{
	if (shared == NULL)
		return;
	p->shared_free(shared);
	free(shared);
}

/*
 * One message through p as the group runs it: begin, the body in pieces
 * cut at cuts[0..ncuts) (ascending; the group never feeds an empty piece,
 * so neither does this), end; on a failure no more feeds, and refuse (if p
 * has it) with the status the group answers.
 */
static void
run(const struct ltb_collector_proto *p, const char *ctype, int full,
    const uint8_t *b, size_t n, const size_t *cuts, size_t ncuts,
    struct outcome *o)
{
	struct ltb_message m = { .path = p->path, .content_type = ctype,
		.encoding = "", .start_real_ns = 1700000000000000000ull,
		.max_field = 1 << 24, .full = full };
	struct ltb_span_sink sink = { .span = sink_span, .ctx = o };
	struct ltb_reply reply;
	const char *why = "";
	void *state = calloc(1, p->state_size ? p->state_size : 1);
	void *shared = NULL;
	size_t at = 0, i;
	int rc;

	assert_non_null(state);
	/* a fresh group's shared state for each message, so that every
	 * way of feeding it starts from the same */
	if (p->shared_size > 0) {
		assert_non_null(shared = calloc(1, p->shared_size));
		assert_int_equal(p->shared_init(shared, NULL), 0);
		m.shared = shared;
	}
	memset(&reply, 0, sizeof reply);
	o->n = 0;
	rc = p->begin(state, &m);
	if (rc != LTB_COLLECT_OK) {
		free(state);
		shared_end(p, shared);
		o->rc = rc;
		o->status = status_of(rc);
		o->content_type = NULL;
		return;
	}
	for (i = 0; rc == LTB_COLLECT_OK && i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		if (to == at)
			continue;
		rc = p->feed(state, b + at, to - at, &sink, &why);
		if (rc != LTB_COLLECT_OK)
			assert_non_null(why);
		at = to;
	}
	if (rc == LTB_COLLECT_OK)
		rc = p->end(state, &sink, &reply, &why);
	o->rc = rc;
	if (rc == LTB_COLLECT_OK) {
		o->status = reply.status ? reply.status : 200;
		o->content_type = reply.content_type;
	} else {
		assert_non_null(why);
		o->status = status_of(rc);
		o->content_type = NULL;
		if (p->refuse != NULL) {
			reply.status = o->status;
			p->refuse(state, rc, why, &reply);
			o->content_type = reply.content_type;
			assert_true(reply.len <= sizeof reply.body);
		}
	}
	p->release(state);
	free(state);
	shared_end(p, shared);
}

static void
same_units(const struct outcome *a, const struct outcome *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->keys[i], b->keys[i]);
		assert_int_equal(a->invalid[i], b->invalid[i]);
	}
}

static void
same_outcome(const struct outcome *a, const struct outcome *b)
{
	assert_int_equal(a->rc, b->rc);
	assert_int_equal(a->status, b->status);
	if (a->content_type == NULL || b->content_type == NULL)
		assert_ptr_equal(a->content_type, b->content_type);
	else
		assert_string_equal(a->content_type, b->content_type);
	same_units(a, b);
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Every check on one body under one content type. */
static void
conform(const struct ltb_collector_proto *p, const char *ctype,
    const uint8_t *b, size_t n, uint64_t *x)
{
	struct outcome whole = { 0 }, bytes = { 0 }, cut = { 0 }, full = { 0 };
	size_t *each, cuts[3], i;
	unsigned j;

	run(p, ctype, 0, b, n, NULL, 0, &whole);
	/* one byte at a time */
	each = malloc((n ? n : 1) * sizeof *each);
	assert_non_null(each);
	for (i = 0; i < n; i++)
		each[i] = i + 1;
	run(p, ctype, 0, b, n, each, n ? n - 1 : 0, &bytes);
	free(each);
	same_outcome(&whole, &bytes);
	/* cut at random places (some cuts fall together) */
	for (j = 0; j < 3; j++) {
		for (i = 0; i < 3; i++)
			cuts[i] = n ? rnd(x) % (n + 1) : 0;
		if (cuts[0] > cuts[1]) {
			size_t t = cuts[0];
			cuts[0] = cuts[1];
			cuts[1] = t;
		}
		if (cuts[1] > cuts[2]) {
			size_t t = cuts[1];
			cuts[1] = cuts[2];
			cuts[2] = t;
		}
		if (cuts[0] > cuts[1]) {
			size_t t = cuts[0];
			cuts[0] = cuts[1];
			cuts[1] = t;
		}
		run(p, ctype, 0, b, n, cuts, 3, &cut);
		same_outcome(&whole, &cut);
	}
	/* --validate full: the same verdict; the same units when read */
	run(p, ctype, 1, b, n, NULL, 0, &full);
	assert_int_equal(whole.rc == LTB_COLLECT_OK,
	    full.rc == LTB_COLLECT_OK);
	if (whole.rc == LTB_COLLECT_OK)
		same_outcome(&whole, &full);
	for (i = 0; i < whole.n; i++)
		assert_true(whole.invalid[i] < p->ninvalid);
	outcome_free(&whole);
	outcome_free(&bytes);
	outcome_free(&cut);
	outcome_free(&full);
}

/* One byte-level mutation of b (n bytes, room for cap) in place. */
static size_t
mutate(uint8_t *b, size_t n, size_t cap, uint64_t *x)
{
	size_t at = n ? rnd(x) % n : 0, k;

	switch (rnd(x) % 5) {
	case 0:
		if (n)
			b[at] ^= (uint8_t)(1u << rnd(x) % 8);
		return n;
	case 1:
		return at;	/* truncate */
	case 2:
		k = 1 + rnd(x) % 8;
		if (n + k > cap)
			return n;
		memmove(b + at + k, b + at, n - at);
		for (size_t j = 0; j < k; j++)
			b[at + j] = (uint8_t)rnd(x);
		return n + k;
	case 3:
		k = 1 + rnd(x) % 16;
		if (at + k > n)
			k = n - at;
		memmove(b + at, b + at + k, n - at - k);
		return n - k;
	default:
		if (n)
			b[at] = (uint8_t)rnd(x);
		return n;
	}
}

static const char *
seeds_dir(void)
{
	const char *d = getenv("LTB_SEEDS");

	return d != NULL && *d ? d : "tests/fuzz/seeds";
}

static uint8_t *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	b = malloc((size_t)len + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return b;
}

enum { MUTANTS = 40, CAP = 1 << 16 };

static void
conform_protocol(const struct ltb_collector_proto *p)
{
	static const char *const any[] = { "", NULL };
	const char *const *types = p->content_types ? p->content_types : any;
	static uint8_t q[CAP];
	char dir[512], path[1024];
	struct dirent *de;
	uint64_t x = 0x2545f4914f6cdd1dull;
	size_t nseeds = 0, n, qn, t;
	uint8_t *b;
	DIR *d;
	int k;

	snprintf(dir, sizeof dir, "%s/%s", seeds_dir(), p->name);
	if ((d = opendir(dir)) == NULL)
		fail_msg("protocol %s has no seeds in %s", p->name, dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		b = slurp(path, &n);
		nseeds++;
		for (t = 0; types[t] != NULL; t++) {
			conform(p, types[t], b, n, &x);
			for (k = 0; k < MUTANTS && n <= CAP; k++) {
				int m, muts = 1 + (int)(rnd(&x) % 3);

				memcpy(q, b, n);
				qn = n;
				for (m = 0; m < muts; m++)
					qn = mutate(q, qn, CAP, &x);
				conform(p, types[t], q, qn, &x);
			}
		}
		free(b);
	}
	closedir(d);
	if (nseeds == 0)
		fail_msg("protocol %s has no seeds in %s", p->name, dir);
}

static void
test_every_protocol_reads_pieces_as_it_reads_the_whole(void **state)
{
	size_t i;

	assert_true(ltb_collector_nprotocols() > 0);
	for (i = 0; ltb_collector_protocols[i] != NULL; i++)
		conform_protocol(ltb_collector_protocols[i]);
}

static void
test_every_protocol_declares_what_the_group_needs(void **state)
{
	size_t i, j;

	for (i = 0; ltb_collector_protocols[i] != NULL; i++) {
		const struct ltb_collector_proto *p = ltb_collector_protocols[i];

		assert_non_null(p->name);
		assert_non_null(p->unit);
		assert_true(p->transport < LTB_NTRANSPORTS);
		if (p->transport == LTB_TRANSPORT_HTTP) {
			assert_non_null(p->path);
			assert_int_equal(p->path[0], '/');
		}
		assert_true(p->ninvalid >= 1);
		assert_non_null(p->invalid_names);
		for (j = 0; j < p->ninvalid; j++)
			assert_non_null(p->invalid_names[j]);
		assert_non_null(p->begin);
		assert_non_null(p->feed);
		assert_non_null(p->end);
		assert_non_null(p->release);
		if (p->shared_size > 0) {
			assert_non_null(p->shared_init);
			assert_non_null(p->shared_free);
			assert_non_null(p->shared_reset);
			assert_non_null(p->shared_stats);
		}
		assert_ptr_equal(ltb_collector_find(p->name), p);
		/* one protocol per name and per HTTP path */
		for (j = 0; j < i; j++) {
			const struct ltb_collector_proto *o =
			    ltb_collector_protocols[j];

			assert_string_not_equal(o->name, p->name);
			if (o->transport == LTB_TRANSPORT_HTTP &&
			    p->transport == LTB_TRANSPORT_HTTP)
				assert_string_not_equal(o->path, p->path);
		}
		if (p->content_types != NULL)
			for (j = 0; p->content_types[j] != NULL; j++)
				assert_true(ltb_collector_reads(p,
				    p->content_types[j]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_every_protocol_declares_what_the_group_needs),
		cmocka_unit_test(
		    test_every_protocol_reads_pieces_as_it_reads_the_whole),
	};

	return cmocka_run_group_tests_name("protocols", tests, NULL, NULL);
}
