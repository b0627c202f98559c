/*
 * test_spectatord.c: the spectatord line protocol (ltb_proto_spectatord),
 * driven as the satellite group drives it: begin, feed in pieces, end,
 * release.
 *
 * Every meter type, the EXTRA rules (a gauge's TTL, a monotonic
 * sampled's required timestamp), every parse error by its reason, empty
 * lines and the last line with or without '\n', the longest datagram
 * (65,536 bytes) and lines past max_field; and the same datagram cut at
 * every byte offset, and fed a byte at a time, giving the same units in
 * the same order; and each reason wherever a line's separators fall
 * against the 64-byte windows its name and tags are read in.
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
#include "collector/ltb_collector.h"

static const struct ltb_collector_proto *const P = &ltb_proto_spectatord;

enum { MAXU = 40000 };

/* The units of one datagram: each line's reason and, if valid, kind. */
struct units {
	unsigned invalid[MAXU];
	int kind[MAXU];		/* -1: none given */
	size_t n;
	int kinds_without_unit;	/* kind() called not right after a valid
				 * span() */
};

static void
sink_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct units *u = ctx;

	assert_int_equal(key, 0);
	assert_true(invalid < P->ninvalid);
	assert_true(u->n < MAXU);
	u->invalid[u->n] = invalid;
	u->kind[u->n++] = -1;
}

static void
sink_kind(void *ctx, unsigned kind)
{
	struct units *u = ctx;

	assert_true(kind < P->nkinds);
	if (u->n == 0 || u->kind[u->n - 1] != -1 || u->invalid[u->n - 1] != 0)
		u->kinds_without_unit = 1;
	else
		u->kind[u->n - 1] = (int)kind;
}

/* The index of reason name, or fail. */
static unsigned
reason(const char *name)
{
	for (unsigned i = 0; i < P->ninvalid; i++)
		if (strcmp(P->invalid_names[i], name) == 0)
			return i;
	fail_msg("no reason named %s", name);
	return 0;
}

static int
kind(const char *name)
{
	for (unsigned i = 0; i < P->nkinds; i++)
		if (strcmp(P->kind_names[i], name) == 0)
			return (int)i;
	fail_msg("no kind named %s", name);
	return 0;
}

/*
 * d[0..n) as one message cut at cuts[0..ncuts) (ascending; empty pieces
 * are not fed), or step bytes at a time if step > 0; max_field max; with
 * budget (may be NULL). Returns the first failure or end's code.
 */
static int
run_with(const uint8_t *d, size_t n, const size_t *cuts, size_t ncuts,
    size_t step, size_t max, struct ltb_budget *budget, struct units *u)
{
	struct ltb_message m = { .content_type = "", .encoding = "",
		.max_field = max, .budget = budget };
	struct ltb_span_sink sink = { .span = sink_span, .kind = sink_kind,
		.ctx = u };
	struct ltb_reply reply;
	const char *why = NULL;
	void *state = calloc(1, P->state_size);
	size_t at = 0, i;
	int rc;

	assert_non_null(state);
	memset(&reply, 0, sizeof reply);
	u->n = 0;
	u->kinds_without_unit = 0;
	assert_int_equal(P->begin(state, &m), LTB_COLLECT_OK);
	rc = LTB_COLLECT_OK;
	if (step > 0) {
		for (at = 0; rc == LTB_COLLECT_OK && at < n; at += step)
			rc = P->feed(state, d + at, n - at < step ? n - at :
			    step, &sink, &why);
	} else {
		for (i = 0; rc == LTB_COLLECT_OK && i <= ncuts; i++) {
			size_t to = i < ncuts ? cuts[i] : n;

			if (to == at)
				continue;
			rc = P->feed(state, d + at, to - at, &sink, &why);
			at = to;
		}
	}
	if (rc == LTB_COLLECT_OK) {
		rc = P->end(state, &sink, &reply, &why);
		assert_int_equal(reply.status, 0);
		assert_int_equal(reply.len, 0);
	} else
		assert_non_null(why);
	P->release(state);
	free(state);
	assert_false(u->kinds_without_unit);
	return rc;
}

static struct units U, V;

/* s fed whole, as the listener feeds a datagram. */
static struct units *
whole(const char *s)
{
	assert_int_equal(run_with((const uint8_t *)s, strlen(s), NULL, 0, 0,
	    1 << 24, NULL, &U), LTB_COLLECT_OK);
	return &U;
}

/* One line: its reason's name ("valid" too). */
static const char *
verdict(const char *s)
{
	struct units *u = whole(s);

	assert_int_equal(u->n, 1);
	return P->invalid_names[u->invalid[0]];
}

static void
assert_valid(const char *s, const char *k)
{
	struct units *u = whole(s);

	if (u->n != 1 || u->invalid[0] != 0)
		fail_msg("'%s': %zu units, the first %s", s, u->n,
		    u->n ? P->invalid_names[u->invalid[0]] : "-");
	assert_int_equal(u->kind[0], kind(k));
}

static void
assert_reason(const char *s, const char *r)
{
	const char *got = verdict(s);

	if (strcmp(got, r) != 0)
		fail_msg("'%s': %s, not %s", s, got, r);
}

static void
assert_same_units(const struct units *a, const struct units *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->invalid[i], b->invalid[i]);
		assert_int_equal(a->kind[i], b->kind[i]);
	}
}

static void
test_the_protocol_declares_itself(void **state)
{
	assert_ptr_equal(ltb_collector_find("spectatord"), P);
	assert_string_equal(P->unit, "measurement");
	assert_int_equal(P->transport, LTB_TRANSPORT_UDP);
	assert_null(P->path);
	assert_null(P->content_types);
	assert_string_equal(P->invalid_key, "parse_errors");
	assert_string_equal(P->kinds_key, "by_type");
	assert_string_equal(P->invalid_names[0], "valid");
	assert_true(P->ninvalid <= 16);
	assert_int_equal(P->nkinds, 11);
	/* the letters, as spectatord names its meter types */
	assert_int_equal(strlen("cCUdDtTgmAX"), P->nkinds);
	for (unsigned i = 0; i < P->nkinds; i++) {
		assert_int_equal(strlen(P->kind_names[i]), 1);
		assert_non_null(strchr("cCUdDtTgmAX", P->kind_names[i][0]));
	}
	/* no per-datagram allocation needed beyond the state */
	assert_true(P->state_size <= 4096);
}

static void
test_every_meter_type_is_read(void **state)
{
	assert_valid("c:server.numRequests,nf.app=demo:1", "c");
	assert_valid("C:mono,id=x:42", "C");
	assert_valid("U:mono.uint:18446744073709551615", "U");
	assert_valid("d:dist:12.5", "d");
	assert_valid("D:pdist,k=v:3", "D");
	assert_valid("t:timer:0.002", "t");
	assert_valid("T:ptimer:1.5e-3", "T");
	assert_valid("g:gauge:7", "g");
	assert_valid("m:maxgauge:-3", "m");
	assert_valid("A:age:0", "A");
	assert_valid("X,1543160297100:sampled:12", "X");
}

static void
test_unknown_types_are_parse_errors(void **state)
{
	const char *other = "abefhijklnopqrsuvwxyzBEFGHIJKLMNOPQRSVWYZ0_-";

	for (const char *t = other; *t != '\0'; t++) {
		char line[32];

		snprintf(line, sizeof line, "%c:name:1", *t);
		assert_reason(line, "unknown_type");
	}
	assert_reason("cc:name:1", "unknown_type");
	assert_reason(":name:1", "unknown_type");
	assert_reason("hello world", "unknown_type");
	assert_reason("c", "missing_separator");
}

static void
test_extra_is_a_gauge_ttl_or_a_sampled_timestamp(void **state)
{
	assert_valid("g,60:gauge:7", "g");
	assert_valid("g,+60:gauge:7", "g");
	assert_reason("g,0:gauge:7", "invalid_ttl");
	assert_reason("g,-5:gauge:7", "invalid_ttl");
	assert_reason("g,000:gauge:7", "invalid_ttl");
	assert_reason("g,abc:gauge:7", "bad_extra");
	assert_reason("g,:gauge:7", "bad_extra");
	assert_reason("g,5x:gauge:7", "bad_extra");
	assert_reason("g,60", "bad_extra");
	assert_reason("g,1234567890123456789:gauge:7", "bad_extra");
	/* X needs its timestamp (spectatord drops an X without one) */
	assert_reason("X:sampled:12", "missing_timestamp");
	assert_reason("X,0:sampled:12", "invalid_timestamp");
	assert_reason("X,-1543160297100:sampled:12", "invalid_timestamp");
	assert_reason("X,15x:sampled:12", "bad_extra");
	/* on the other types spectatord reads an integer and ignores it */
	assert_valid("c,5:counter:1", "c");
	assert_valid("t,-5:timer:1", "t");
	assert_reason("c,five:counter:1", "bad_extra");
}

static void
test_each_parse_error_has_its_reason(void **state)
{
	assert_reason("c:", "missing_name");
	assert_reason("c::1", "missing_name");
	assert_reason("c:,k=v:1", "missing_name");
	assert_reason("c:name", "missing_value");
	assert_reason("c:name:", "missing_value");
	assert_reason("c:name,k=v", "missing_value");
	assert_reason("c:name,k=v:", "missing_value");
	assert_reason("c:name,k:1", "bad_tag");
	assert_reason("c:name,=v:1", "bad_tag");
	assert_reason("c:name,k=:1", "bad_tag");
	assert_reason("c:name,:1", "bad_tag");
	assert_reason("c:name,,k=v:1", "bad_tag");
	assert_reason("c:name,k=v,:1", "bad_tag");
	assert_reason("c:name,k=", "bad_tag");
	assert_reason("c:name:abc", "bad_value");
	assert_reason("c:name:1abc", "bad_value");
	assert_reason("c:name:1:2", "bad_value");
	assert_reason("c:name:1.2.3", "bad_value");
	assert_reason("c:name:1e", "bad_value");
	assert_reason("c:name:.", "bad_value");
	assert_reason("c:name:-", "bad_value");
	assert_reason("U:name:-1", "bad_value");
	assert_reason("U:name:1.5", "bad_value");
	assert_reason("U:name:18446744073709551616", "bad_value");
	assert_reason("U:name:", "missing_value");
	assert_reason("c:na me:1", "invalid_characters");
	assert_reason("c:name,k=v v:1", "invalid_characters");
	assert_reason("c:name,k\\x=v:1", "invalid_characters");
	assert_reason("c:n\xc3\xa9:1", "invalid_characters");
	assert_reason("c:name,k=a=b:1", "invalid_characters");
	assert_reason("c:name=x:1", "invalid_characters");
	/* the first thing wrong, left to right, is the reason */
	assert_reason("c:na me:abc", "bad_value");
	assert_reason("z:na me:abc", "unknown_type");
	assert_reason("c:na me,k:1", "bad_tag");
}

/*
 * Names and tags are read 64 bytes at a time (16 at a time within): the
 * same line with its name or a tag value longer by 0 to 200 bytes moves
 * every separator across those boundaries. Its reason stays, whether it
 * is alone, the last line, or followed by another, and fed whole or a
 * byte at a time.
 */
static void
test_reasons_hold_wherever_the_separators_fall(void **state)
{
	static const struct {
		const char *fmt, *reason;
	} lines[] = {
		{ "c:n%s:1", "valid" },
		{ "c:n%s,k=v:1", "valid" },
		{ "t:name,k=v%s,k2=v2,k3=v3:0.5", "valid" },
		{ "g,60:n%s,a=b:2", "valid" },
		{ "X,1700000000000:n%s,a=b:2", "valid" },
		{ "c:n%s,k=v,k=v,k=v,k=v,k=v,k=v,k=v,k=v,k=v,k=v,k=v:1",
		    "valid" },
		{ "c:n%s", "missing_value" },
		{ "c:n%s,k=v", "missing_value" },
		{ "c:n%s,k:1", "bad_tag" },
		{ "c:n%s,=v:1", "bad_tag" },
		{ "c:n%s,k=:1", "bad_tag" },
		{ "c:n%s,k=v,:1", "bad_tag" },
		{ "c:n%s,,k=v:1", "bad_tag" },
		{ "c:name,k=v%s,k:1", "bad_tag" },
		{ "c:n%s:1x", "bad_value" },
		{ "c:n%s x:1", "invalid_characters" },
		{ "c:n%s,k=a=b:1", "invalid_characters" },
		{ "c:name,k=v%s,k=v v:1", "invalid_characters" },
		{ "c:n%s=x:1", "invalid_characters" },
	};
	char pad[201], one[512], many[3 * sizeof one + 16];
	unsigned r;

	(void)state;
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		r = reason(lines[i].reason);
		for (size_t k = 0; k <= 200; k++) {
			memset(pad, 'a', k);
			pad[k] = '\0';
			snprintf(one, sizeof one, lines[i].fmt, pad);
			if (strcmp(verdict(one), lines[i].reason) != 0)
				fail_msg("'%s': %s", one, verdict(one));
			/* first, then last, then in the middle of three */
			snprintf(many, sizeof many, "%s\nc:x:1\n%s\nc:y:2\n%s",
			    one, one, one);
			assert_int_equal(run_with((const uint8_t *)many,
			    strlen(many), NULL, 0, 0, 1 << 24, NULL, &U),
			    LTB_COLLECT_OK);
			assert_int_equal(run_with((const uint8_t *)many,
			    strlen(many), NULL, 0, 1, 1 << 24, NULL, &V),
			    LTB_COLLECT_OK);
			assert_same_units(&U, &V);
			assert_int_equal(U.n, 5);
			if (U.invalid[0] != r || U.invalid[2] != r ||
			    U.invalid[4] != r || U.invalid[1] != 0 ||
			    U.invalid[3] != 0)
				fail_msg("'%s' among others: %s", one,
				    P->invalid_names[U.invalid[0]]);
		}
	}
}

static void
test_values_are_numbers_as_spectatord_reads_them(void **state)
{
	static const char *const ok[] = {
		"0", "1", "-1", "+1", "1.", ".5", "-0.25", "1e9", "1E-9",
		"2.5e+3", "0x10", "nan", "inf", "-Infinity", " 1", "1 ",
		"1\r", "1e999", "123456789012345678901234567890",
	};
	char line[128];

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(line, sizeof line, "d:dist:%s", ok[i]);
		assert_valid(line, "d");
	}
	assert_valid("U:u:0", "U");
	assert_valid("U:u:+7", "U");
	assert_valid("U:u: 7 ", "U");
	assert_valid("U:u:18446744073709551615", "U");
}

static void
test_empty_lines_and_the_last_newline(void **state)
{
	struct units *u;

	u = whole("c:a:1\n\n\nc:b:2\n");
	assert_int_equal(u->n, 2);
	u = whole("c:a:1\nc:b:2");
	assert_int_equal(u->n, 2);
	assert_int_equal(u->invalid[1], 0);
	u = whole("\n\nc:a:1");
	assert_int_equal(u->n, 1);
	u = whole("\n");
	assert_int_equal(u->n, 0);
	u = whole("");
	assert_int_equal(u->n, 0);
	/* a line of one space is no empty line */
	u = whole("c:a:1\n \n");
	assert_int_equal(u->n, 2);
	assert_int_equal(u->invalid[1], reason("unknown_type"));
	/* CRLF: the '\r' is the value's trailing whitespace */
	u = whole("c:a:1\r\nc:b:2\r\n");
	assert_int_equal(u->n, 2);
	assert_int_equal(u->invalid[0], 0);
	assert_int_equal(u->invalid[1], 0);
}

/* A datagram with every kind and every reason, some lines long. */
static size_t
mixed(uint8_t *d, size_t cap)
{
	static const char *const lines[] = {
		"c:a,nf.app=demo:1", "", "C:b:42", "U:c:7", "d:d:1.5",
		"D:e:3", "t:f:0.1", "T:g:0.2", "g,60:h:7", "m:i:1", "A:j:0",
		"X,1543160297100:k:12", "z:n:1", "c", "c,x:n:1", "g,0:n:1",
		"X,0:n:1", "X:n:1", "c::1", "c:n,k:1", "c:n", "c:n:x",
		"c:n m:1", "", "",
	};
	size_t n = 0, i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		size_t l = strlen(lines[i]);

		assert_true(n + l + 1 < cap);
		memcpy(d + n, lines[i], l);
		n += l;
		d[n++] = '\n';
	}
	/* a long line that goes to the held buffer when carried */
	memcpy(d + n, "T:long", 6);
	n += 6;
	for (i = 0; i < 300; i++) {
		memcpy(d + n, ",key=value", 10);
		n += 10;
	}
	memcpy(d + n, ":0.5\nc:last:1", 13);
	n += 13;
	return n;
}

static void
test_cuts_at_every_offset_give_the_same_units(void **state)
{
	static uint8_t d[8192];
	size_t n = mixed(d, sizeof d), c, c2;

	assert_int_equal(run_with(d, n, NULL, 0, 0, 1 << 24, NULL, &U),
	    LTB_COLLECT_OK);
	assert_int_equal(U.n, 24);
	/* every kind and every reason but line_too_long is in it */
	for (unsigned r = 1; r < P->ninvalid; r++) {
		size_t i = 0;

		while (i < U.n && U.invalid[i] != r)
			i++;
		assert_true(i < U.n || r == reason("line_too_long"));
	}
	for (int k = 0; k < (int)P->nkinds; k++) {
		size_t i = 0;

		while (i < U.n && U.kind[i] != k)
			i++;
		assert_true(i < U.n);
	}
	for (c = 0; c <= n; c++) {
		assert_int_equal(run_with(d, n, &c, 1, 0, 1 << 24, NULL, &V),
		    LTB_COLLECT_OK);
		assert_same_units(&U, &V);
	}
	for (c = 0; c <= n; c += 7)
		for (c2 = c; c2 <= n; c2 += 13) {
			size_t cuts[2] = { c, c2 };

			assert_int_equal(run_with(d, n, cuts, 2, 0, 1 << 24,
			    NULL, &V), LTB_COLLECT_OK);
			assert_same_units(&U, &V);
		}
	for (c = 1; c <= 5; c++) {
		assert_int_equal(run_with(d, n, NULL, 0, c, 1 << 24, NULL, &V),
		    LTB_COLLECT_OK);
		assert_same_units(&U, &V);
	}
}

/* "c:NAME:1" of exactly len bytes, at d. */
static size_t
line_of(uint8_t *d, size_t len)
{
	assert_true(len >= 5);
	memcpy(d, "c:", 2);
	memset(d + 2, 'n', len - 4);
	memcpy(d + len - 2, ":1", 2);
	return len;
}

static void
test_lines_past_max_field_are_too_long_however_cut(void **state)
{
	static uint8_t d[4096];
	size_t n = 0, c;

	n += line_of(d + n, 10);
	d[n++] = '\n';
	n += line_of(d + n, 33);	/* one past max_field */
	d[n++] = '\n';
	n += line_of(d + n, 32);	/* just fits */
	d[n++] = '\n';
	n += line_of(d + n, 200);
	d[n++] = '\n';
	n += line_of(d + n, 40);	/* the last, without '\n' */
	assert_int_equal(run_with(d, n, NULL, 0, 0, 32, NULL, &U),
	    LTB_COLLECT_OK);
	assert_int_equal(U.n, 5);
	assert_int_equal(U.invalid[0], 0);
	assert_int_equal(U.invalid[1], reason("line_too_long"));
	assert_int_equal(U.invalid[2], 0);
	assert_int_equal(U.invalid[3], reason("line_too_long"));
	assert_int_equal(U.invalid[4], reason("line_too_long"));
	for (c = 0; c <= n; c++) {
		size_t cuts[2] = { c / 2, c };

		assert_int_equal(run_with(d, n, &c, 1, 0, 32, NULL, &V),
		    LTB_COLLECT_OK);
		assert_same_units(&U, &V);
		assert_int_equal(run_with(d, n, cuts, 2, 0, 32, NULL, &V),
		    LTB_COLLECT_OK);
		assert_same_units(&U, &V);
	}
	assert_int_equal(run_with(d, n, NULL, 0, 1, 32, NULL, &V),
	    LTB_COLLECT_OK);
	assert_same_units(&U, &V);
}

static void
test_a_datagram_of_65536_bytes(void **state)
{
	static uint8_t d[65536 + 2];
	struct ltb_budget b;
	size_t n = 0, lines = 0, c;

	/* lines of 80 bytes and a last one to fill it exactly */
	while (sizeof d - 2 - n > 200) {
		n += line_of(d + n, 79);
		d[n++] = '\n';
		lines++;
	}
	n += line_of(d + n, 65536 - n);
	lines++;
	assert_int_equal(n, 65536);
	assert_int_equal(run_with(d, n, NULL, 0, 0, 1 << 24, NULL, &U),
	    LTB_COLLECT_OK);
	assert_int_equal(U.n, lines);
	for (size_t i = 0; i < U.n; i++) {
		assert_int_equal(U.invalid[i], 0);
		assert_int_equal(U.kind[i], kind("c"));
	}
	for (c = 0; c <= n; c += 997) {
		assert_int_equal(run_with(d, n, &c, 1, 0, 1 << 24, NULL, &V),
		    LTB_COLLECT_OK);
		assert_same_units(&U, &V);
	}
	assert_int_equal(run_with(d, n, NULL, 0, 1, 1 << 24, NULL, &V),
	    LTB_COLLECT_OK);
	assert_same_units(&U, &V);

	/* one line of 65,536 bytes is read; one more byte is too long */
	n = line_of(d, 65536);
	ltb_budget_init(&b, 0);
	for (c = 1; c < n; c += 4099) {
		assert_int_equal(run_with(d, n, &c, 1, 0, 1 << 24, &b, &V),
		    LTB_COLLECT_OK);
		assert_int_equal(V.n, 1);
		assert_int_equal(V.invalid[0], 0);
	}
	/* the carry came from the budget, and went back to it */
	assert_true(atomic_load(&b.peak) >= 65536);
	assert_int_equal(atomic_load(&b.used), 0);
	static uint8_t e[65537 + 8];
	n = line_of(e, 65537);
	memcpy(e + n, "\nc:x:1", 6);
	for (c = 0; c <= n; c += 4099) {
		/* with its '\n', and as the last line */
		assert_int_equal(run_with(e, n + 6, &c, 1, 0, 1 << 24, &b, &V),
		    LTB_COLLECT_OK);
		assert_int_equal(V.n, 2);
		assert_int_equal(V.invalid[0], reason("line_too_long"));
		assert_int_equal(V.invalid[1], 0);
		assert_int_equal(run_with(e, n, &c, 1, 0, 1 << 24, &b, &V),
		    LTB_COLLECT_OK);
		assert_int_equal(V.n, 1);
		assert_int_equal(V.invalid[0], reason("line_too_long"));
	}
	assert_int_equal(atomic_load(&b.used), 0);
}

static void
test_a_datagram_fed_whole_takes_nothing(void **state)
{
	static uint8_t d[65536];
	struct ltb_budget b;
	size_t n = 0, c = 3000;

	ltb_budget_init(&b, 0);
	while (n < 60000) {
		n += line_of(d + n, 500);
		d[n++] = '\n';
	}
	/* the last, without '\n', carried in the state till end: lines up
	 * to 1 KiB are, a longer one takes from the budget */
	n += line_of(d + n, 1024);
	assert_int_equal(run_with(d, n, NULL, 0, 0, 1 << 24, &b, &U),
	    LTB_COLLECT_OK);
	assert_int_equal(atomic_load(&b.peak), 0);
	/* a short line cut in two is carried in the state */
	assert_int_equal(run_with(d, n, &c, 1, 0, 1 << 24, &b, &V),
	    LTB_COLLECT_OK);
	assert_same_units(&U, &V);
	assert_int_equal(atomic_load(&b.peak), 0);
}

static void
test_a_long_carry_over_the_budget_is_busy(void **state)
{
	static uint8_t d[8192];
	struct ltb_budget b;
	size_t n = line_of(d, 5000), c = 2500;

	ltb_budget_init(&b, 4096);
	assert_int_equal(run_with(d, n, &c, 1, 0, 1 << 24, &b, &V),
	    LTB_COLLECT_BUSY);
	assert_int_equal(atomic_load(&b.used), 0);
	ltb_budget_init(&b, 1 << 20);
	assert_int_equal(run_with(d, n, &c, 1, 0, 1 << 24, &b, &V),
	    LTB_COLLECT_OK);
	assert_int_equal(V.n, 1);
	assert_int_equal(V.invalid[0], 0);
	assert_int_equal(atomic_load(&b.used), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_protocol_declares_itself),
		cmocka_unit_test(test_every_meter_type_is_read),
		cmocka_unit_test(test_unknown_types_are_parse_errors),
		cmocka_unit_test(
		    test_extra_is_a_gauge_ttl_or_a_sampled_timestamp),
		cmocka_unit_test(test_each_parse_error_has_its_reason),
		cmocka_unit_test(
		    test_reasons_hold_wherever_the_separators_fall),
		cmocka_unit_test(
		    test_values_are_numbers_as_spectatord_reads_them),
		cmocka_unit_test(test_empty_lines_and_the_last_newline),
		cmocka_unit_test(
		    test_cuts_at_every_offset_give_the_same_units),
		cmocka_unit_test(
		    test_lines_past_max_field_are_too_long_however_cut),
		cmocka_unit_test(test_a_datagram_of_65536_bytes),
		cmocka_unit_test(test_a_datagram_fed_whole_takes_nothing),
		cmocka_unit_test(test_a_long_carry_over_the_budget_is_busy),
	};

	return cmocka_run_group_tests_name("spectatord", tests, NULL, NULL);
}
