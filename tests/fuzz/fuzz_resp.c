/*
 * fuzz_resp.c: libFuzzer conformance target for RESP2 request framing
 * (common/collector/ltb_resp_parse.c).
 *
 * The input's first byte chooses the bulk limit (0: Redis's 512 MiB,
 * else 1 to 255 bytes); the rest is the stream. On every input:
 *
 *  - fed whole, cut at points drawn from the input's own hash, and one
 *    byte at a time (inputs up to ONE_BY_ONE bytes), it gives the same
 *    results: the same commands with the same arguments, the same
 *    refusals and the same fatal error, in order;
 *  - every argument ends in a NUL, no command's arguments pass the
 *    limit, and each call takes at least a byte or reports something;
 *  - after a fatal error nothing more is taken;
 *  - every byte taken from the budget is given back by free.
 *
 * Any disagreement aborts. Seeds: tests/fuzz/seeds/resp/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_resp_parse.h"
#include "core/ltb_hash.h"

enum { ONE_BY_ONE = 4096, TRACE_MAX = 1 << 20 };

/* What a run gave, as one string of records. */
struct trace {
	uint8_t *b;
	size_t n;
};

static struct trace whole, other;

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_resp: %s\n", what);
		abort();
	}
}

static void
rec(struct trace *t, const void *p, size_t n)
{
	if (t->n + n > TRACE_MAX)
		n = TRACE_MAX - t->n;	/* cut alike on both sides */
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void
rec_result(struct trace *t, const struct ltb_resp_parser *p, int rc,
    uint64_t max_bulk)
{
	uint64_t held = 0;
	size_t len;
	char tag = (char)('0' + rc);

	rec(t, &tag, 1);
	if (rc != LTB_RESP_COMMAND) {
		rec(t, p->err, strlen(p->err) + 1);
		return;
	}
	must(p->argc > 0, "a command without arguments");
	rec(t, &p->argc, sizeof p->argc);
	for (size_t i = 0; i < p->argc; i++) {
		const char *a = ltb_resp_arg(p, i, &len);

		must(a[len] == '\0', "an argument without its NUL");
		held += len;
		rec(t, &len, sizeof len);
		rec(t, a, len);
	}
	must(max_bulk == 0 || held <= max_bulk || held <= LTB_RESP_INLINE_MAX,
	    "a command over the limit");
}

/* Feed data cut at the points step() chooses; returns the trace. */
static void
run(struct trace *t, const uint8_t *data, size_t n, uint64_t max_bulk,
    uint64_t seed, int bytewise)
{
	struct ltb_resp_parser p;
	struct ltb_budget b;
	size_t at = 0, end, used;
	int rc, dead = 0;

	t->n = 0;
	ltb_budget_init(&b, 0);
	ltb_resp_init(&p, max_bulk, &b);
	while (at < n && !dead) {
		if (bytewise)
			end = at + 1;
		else if (seed == 0)
			end = n;
		else
			end = at + 1 + ltb_splitmix64(&seed) % (n - at);
		while (at < end) {
			rc = ltb_resp_feed(&p, data + at, end - at, &used);
			must(used <= end - at, "took more than given");
			at += used;
			if (rc == LTB_RESP_MORE) {
				must(at == end, "MORE with bytes left");
				break;
			}
			rec_result(t, &p, rc, max_bulk);
			if (rc == LTB_RESP_FATAL) {
				must(ltb_resp_feed(&p, data, n, &used) ==
				    LTB_RESP_FATAL && used == 0,
				    "fed after a fatal error");
				dead = 1;
				break;
			}
			must(used > 0 || rc != LTB_RESP_MORE, "no progress");
		}
	}
	ltb_resp_free(&p);
	must(atomic_load(&b.used) == 0, "budget not given back");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t max_bulk, seed = LTB_GOLDEN64;

	if (whole.b == NULL) {
		whole.b = malloc(TRACE_MAX);
		other.b = malloc(TRACE_MAX);
		must(whole.b != NULL && other.b != NULL, "out of memory");
	}
	if (size < 1)
		return 0;
	max_bulk = data[0];
	data++;
	size--;
	for (size_t i = 0; i < size; i++)
		seed = ltb_mix64(seed ^ data[i]);
	run(&whole, data, size, max_bulk, 0, 0);
	for (int k = 0; k < 3; k++) {
		run(&other, data, size, max_bulk, seed + (uint64_t)k + 1, 0);
		must(other.n == whole.n && memcmp(other.b, whole.b, whole.n) ==
		    0, "cut pieces disagree with the whole");
	}
	if (size <= ONE_BY_ONE) {
		run(&other, data, size, max_bulk, 0, 1);
		must(other.n == whole.n && memcmp(other.b, whole.b, whole.n) ==
		    0, "byte at a time disagrees with the whole");
	}
	return 0;
}
