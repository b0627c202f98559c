/*
 * ltb_gates.c: loading result records and judging gates; see ltb_gates.h.
 *
 * Each gate picks the runs it uses (traced runs, or every run at rates with
 * both traced and NoOp runs, ...), counts the failed ones among them, and
 * reduces the rest to one figure compared with its limit. Messages are
 * built here, so that ltb-assert's stderr line, its verdict record and its
 * JUnit report say the same thing.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/ltb_gates.h"
#include "judge/ltb_cost.h"
#include "core/ltb_jsonl.h"
#include "core/ltb_stats.h"
#include "records/ltb_records.h"

static const char *const gate_names[] = {
	[LTB_GATE_MAX_CPU] = "max-cpu",
	[LTB_GATE_MAX_DROPPED] = "max-dropped",
	[LTB_GATE_MAX_DROPPED_RATIO] = "max-dropped-ratio",
	[LTB_GATE_MAX_INVALID] = "max-invalid",
	[LTB_GATE_MAX_OVERHEAD] = "max-overhead",
	[LTB_GATE_MAX_MEMORY_GROWTH] = "max-memory-growth",
	[LTB_GATE_MAX_NS_PER_SPAN] = "max-ns-per-span",
	[LTB_GATE_MAX_REGRESSION] = "max-regression",
	[LTB_GATE_MIN_THROUGHPUT] = "min-throughput",
	[LTB_GATE_EXPECT] = "expect",
	[LTB_GATE_PLAN] = "plan",
};

/* Two-character operators first, so "<=" is not read as "<". */
static const struct {
	const char *s;
	enum ltb_op op;
} ops[] = {
	{ "==", LTB_OP_EQ }, { "!=", LTB_OP_NE }, { "<=", LTB_OP_LE },
	{ ">=", LTB_OP_GE }, { "<", LTB_OP_LT }, { ">", LTB_OP_GT },
};

const char *
ltb_gate_name(enum ltb_gate_kind kind)
{
	return gate_names[kind];
}

static const char *
op_str(enum ltb_op op)
{
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (ops[i].op == op)
			return ops[i].s;
	return "?";
}

/* snprintf through a va_list: truncation of messages is expected and
 * harmless, and this keeps the compiler from warning about it. */
static void __attribute__((format(printf, 3, 4)))
say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Numbers for people: integers whole, others to six digits. */
static char *
fmtnum(char *buf, size_t len, double x)
{
	if (isnan(x))
		say(buf, len, "unknown");
	else if (isinf(x))
		say(buf, len, "%s", x > 0 ? "infinity" : "-infinity");
	else if (x == floor(x) && fabs(x) < 1e15)
		say(buf, len, "%.0f", x);
	else
		say(buf, len, "%.6g", x);
	return buf;
}

#define NUM(x) fmtnum((char[48]){ 0 }, 48, (x))

static char *
fmtbytes(char *buf, size_t len, double b)
{
	if (isnan(b))
		say(buf, len, "unknown");
	else if (b >= 1024.0 * 1024 * 1024)
		say(buf, len, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else if (b >= 1024.0 * 1024)
		say(buf, len, "%.1f MiB", b / (1024.0 * 1024));
	else if (b >= 1024.0)
		say(buf, len, "%.0f KiB", b / 1024.0);
	else
		say(buf, len, "%.0f B", b);
	return buf;
}

#define BYTES(x) fmtbytes((char[48]){ 0 }, 48, (x))

int
ltb_expect_parse(const char *s, struct ltb_expect *e, const char **why)
{
	const char *val, *end;
	size_t n, i, vlen;
	char *num_end;

	memset(e, 0, sizeof *e);
	s += strspn(s, " \t");
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (n == 0) {
		*why = "expected FIELD OP VALUE, FIELD a result field name";
		return -1;
	}
	if (n >= sizeof e->field) {
		*why = "FIELD is too long";
		return -1;
	}
	memcpy(e->field, s, n);
	s += n;
	s += strspn(s, " \t");
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strncmp(s, ops[i].s, strlen(ops[i].s)) == 0)
			break;
	if (i == sizeof ops / sizeof ops[0]) {
		*why = "OP must be one of == != < <= > >=";
		return -1;
	}
	e->op = ops[i].op;
	s += strlen(ops[i].s);
	val = s + strspn(s, " \t");
	end = val + strlen(val);
	while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = (size_t)(end - val);
	if (vlen == 0) {
		*why = "no VALUE after OP";
		return -1;
	}
	if (vlen >= sizeof e->str) {
		*why = "VALUE is too long";
		return -1;
	}
	if (vlen >= 2 && (val[0] == '\'' || val[0] == '"') &&
	    end[-1] == val[0]) {
		e->type = LTB_EXPECT_STRING;
		memcpy(e->str, val + 1, vlen - 2);
	} else if (vlen == 4 && strncmp(val, "true", 4) == 0) {
		e->type = LTB_EXPECT_BOOL;
		e->boolean = 1;
	} else if (vlen == 5 && strncmp(val, "false", 5) == 0) {
		e->type = LTB_EXPECT_BOOL;
	} else if (vlen == 4 && strncmp(val, "null", 4) == 0) {
		e->type = LTB_EXPECT_NULL;
	} else {
		memcpy(e->str, val, vlen);
		errno = 0;
		e->num = strtod(e->str, &num_end);
		if (*num_end == '\0' && errno == 0 && isfinite(e->num)) {
			e->type = LTB_EXPECT_NUMBER;
			e->str[0] = '\0';
		} else {
			e->type = LTB_EXPECT_STRING;
			e->num = 0;
		}
	}
	if (e->type != LTB_EXPECT_NUMBER && e->op != LTB_OP_EQ &&
	    e->op != LTB_OP_NE) {
		*why = "< <= > >= compare numbers only";
		return -1;
	}
	say(e->text, sizeof e->text, "%s %s %.*s", e->field, op_str(e->op),
	    (int)vlen, val);
	return 0;
}

/* One plan_end record into the tally. */
static void
tally_plan(struct ltb_plan_tally *t, const cJSON *rec)
{
	const cJSON *missing = cJSON_GetObjectItemCaseSensitive(rec,
	    "missing"), *m;
	size_t used = 0;

	t->ends++;
	t->planned += ltb_json_num(rec, "planned", 0);
	t->runs += ltb_json_num(rec, "runs", 0);
	t->failed += ltb_json_num(rec, "failed", 0);
	if (ltb_json_bool(rec, "complete", 0))
		return;
	if (t->incomplete++ > 0)
		return;
	t->inconclusive += ltb_json_bool(rec, "inconclusive", 0) == 1;
	say(t->why, sizeof t->why, "%s", ltb_json_str(rec, "why",
	    "no reason given"));
	cJSON_ArrayForEach(m, missing) {
		if (!cJSON_IsString(m) || used >= sizeof t->missing)
			continue;
		used += (size_t)snprintf(t->missing + used,
		    sizeof t->missing - used, "%s%s", used ? ", " : "",
		    m->valuestring);
	}
}

int
ltb_results_add(struct ltb_results *rs, cJSON *rec, const char *src,
    unsigned long line)
{
	struct ltb_result *r;
	const char *type = ltb_json_str(rec, "type", ""), *arm;
	const cJSON *noise;

	if (strcmp(type, "plan_end") == 0) {
		tally_plan(&rs->plan, rec);
		cJSON_Delete(rec);
		return 0;
	}
	if (strcmp(type, "result") != 0) {
		cJSON_Delete(rec);
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct ltb_result *v = realloc(rs->v, cap * sizeof *v);

		if (v == NULL) {
			cJSON_Delete(rec);
			errno = ENOMEM;
			return -1;
		}
		rs->v = v;
		rs->cap = cap;
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof *r);
	r->rec = rec;
	r->src = src;
	r->line = line;
	r->client = ltb_json_str(rec, "client", "?");
	/* the schema refuses any other: a bad one is none */
	if ((r->unit = ltb_unit(rec)) == NULL)
		r->unit = "span";
	r->trace = ltb_json_bool(rec, "trace", -1);
	r->target_sps = ltb_json_num(rec, "target_sps", NAN);
	r->runtime = ltb_json_num(rec, "runtime", NAN);
	r->trial = ltb_json_num(rec, "trial", NAN);
	r->spans_sent = ltb_json_num(rec, "spans_sent", NAN);
	r->dropped = ltb_json_num(rec, "dropped", NAN);
	r->spans_invalid = ltb_json_num(rec, "spans_invalid", NAN);
	r->cpu_usage = ltb_json_num(rec, "cpu_usage", NAN);
	r->sps = ltb_json_num(rec, "sps", NAN);
	r->memory_last = ltb_json_num(rec, "memory_last", NAN);
	r->memory_max = ltb_json_num(rec, "memory_max", NAN);
	r->program_time = ltb_json_num(rec, "program_time", NAN);
	r->clock_time = ltb_json_num(rec, "clock_time", NAN);
	r->pair = ltb_json_num(rec, "pair", NAN);
	arm = ltb_json_str(rec, "arm", "");
	r->arm = strcmp(arm, "base") == 0 ? 0 : strcmp(arm, "test") == 0 ? 1 :
	    -1;
	r->planted_ns = ltb_json_num(rec, "planted_ns", 0);
	noise = cJSON_GetObjectItemCaseSensitive(rec, "noise");
	r->noise_cpu_s = cJSON_IsObject(noise) ?
	    ltb_json_num(noise, "other_cpu_s", 0) +
	    ltb_json_num(noise, "steal_s", 0) : NAN;
	r->label = ltb_json_str(rec, "label", "");
	r->fingerprint = cJSON_GetObjectItemCaseSensitive(rec, "fingerprint");
	if (!cJSON_IsObject(r->fingerprint))
		r->fingerprint = NULL;
	r->exit_status = ltb_json_num(rec, "exit_status", NAN);
	r->error = ltb_json_str(rec, "error", NULL);
	if (r->error != NULL && r->error[0] == '\0')
		r->error = NULL;
	r->failed = r->error != NULL ||
	    (!isnan(r->exit_status) && r->exit_status != 0);
	return 0;
}

void
ltb_results_free(struct ltb_results *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		cJSON_Delete(rs->v[i].rec);
	free(rs->v);
	rs->v = NULL;
	rs->n = rs->cap = 0;
}

/* A rate in a unit, for people: "sps" as the original said of spans,
 * "measurements/s" of a metrics client's. */
static const char *
rate_word(const char *unit)
{
	if (strcmp(unit, "measurement") == 0)
		return "measurements/s";
	if (strcmp(unit, "trace point") == 0)
		return "trace points/s";
	return "sps";
}

/* "c traced 500 sps trial 1", "c-spectator traced 500 measurements/s" */
static char *
describe(const struct ltb_result *r, char *buf, size_t len)
{
	const char *how = r->trace == 1 ? "traced" :
	    r->trace == 0 ? "NoOp" : "(trace?)";

	if (isnan(r->trial))
		say(buf, len, "%s %s %s %s", r->client, how,
		    NUM(r->target_sps), rate_word(r->unit));
	else
		say(buf, len, "%s %s %s %s trial %s", r->client, how,
		    NUM(r->target_sps), rate_word(r->unit), NUM(r->trial));
	return buf;
}

#define DESCRIBE(r) describe((r), (char[256]){ 0 }, 256)

static const char *
failure_text(const struct ltb_result *r, char *buf, size_t len)
{
	if (r->error != NULL)
		return r->error;
	say(buf, len, "exit status %s", NUM(r->exit_status));
	return buf;
}

/* The flag that asked for g, for messages: "--max-cpu". */
static const char *
flag(const struct ltb_gate *g, char *buf, size_t len)
{
	if (g->kind == LTB_GATE_EXPECT)
		say(buf, len, "--expect '%s'", g->expect.text);
	else
		say(buf, len, "--%s", ltb_gate_name(g->kind));
	return buf;
}

#define FLAG(g) flag((g), (char[448]){ 0 }, 448)

/* The input cannot answer g: r lacks key (or it has another type). */
static int
missing(const struct ltb_result *r, const char *key, const char *type,
    const struct ltb_gate *g, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->rec, key);

	if (it == NULL)
		say(err, errlen, "%s:%lu: result has no \"%s\" (needed by %s)",
		    r->src, r->line, key, FLAG(g));
	else if (cJSON_IsNull(it))
		say(err, errlen, "%s:%lu: result's \"%s\" is null (needed by "
		    "%s)", r->src, r->line, key, FLAG(g));
	else
		say(err, errlen, "%s:%lu: result's \"%s\" is not a %s (needed "
		    "by %s)", r->src, r->line, key, type, FLAG(g));
	errno = EINVAL;
	return -1;
}

#define NEED(r, field, g, err, errlen) \
	do { \
		if (isnan((r)->field)) \
			return missing((r), #field, "number", (g), (err), \
			    (errlen)); \
	} while (0)

static int
need_trace(const struct ltb_results *rs, const struct ltb_gate *g, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].trace < 0)
			return missing(&rs->v[i], "trace", "boolean", g, err,
			    errlen);
	return 0;
}

static int
any_traced(const struct ltb_results *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].trace == 1)
			return 1;
	return 0;
}

/* A run the gate uses; 1 when it failed (and is counted as such). */
static int
use(struct ltb_verdict *v, const struct ltb_result *r)
{
	v->runs++;
	if (!r->failed)
		return 0;
	if (v->first_failed == NULL)
		v->first_failed = r;
	v->failed++;
	return 1;
}

/* Settle the verdict: failed runs fail it whatever the figures say, and
 * then lead its text; otherwise ok decides. */
static void
finish(struct ltb_verdict *v, int ok, const char *summary,
    const char *detail)
{
	char why[64];

	if (v->failed == 0) {
		v->pass = ok;
		say(v->summary, sizeof v->summary, "%s", summary);
		say(v->detail, sizeof v->detail, "%s", detail);
		return;
	}
	v->pass = 0;
	say(v->summary, sizeof v->summary, "%zu of %zu runs failed",
	    v->failed, v->runs);
	if (summary[0] != '\0')
		say(v->detail, sizeof v->detail, "%s: %s; the rest: %s%s%s%s",
		    DESCRIBE(v->first_failed),
		    failure_text(v->first_failed, why, sizeof why), summary,
		    detail[0] != '\0' ? " (" : "", detail,
		    detail[0] != '\0' ? ")" : "");
	else
		say(v->detail, sizeof v->detail, "%s: %s",
		    DESCRIBE(v->first_failed),
		    failure_text(v->first_failed, why, sizeof why));
}

/* For the "every run's X <= limit" gates: v->value and v->worst are set. */
static void
finish_max(struct ltb_verdict *v, const char *worst_note, const char *note)
{
	char summary[256] = "", detail[768] = "";
	double limit = v->gate->limit;
	int ok = !isnan(v->value) && v->value <= limit;

	if (!isnan(v->value)) {
		say(summary, sizeof summary, "%s %s %s", NUM(v->value),
		    ok ? "<=" : ">", NUM(limit));
		say(detail, sizeof detail, "worst: %s%s%s%s%s",
		    DESCRIBE(v->worst), worst_note ? ", " : "",
		    worst_note ? worst_note : "", note ? "; " : "",
		    note ? note : "");
	}
	finish(v, ok, summary, detail);
}

static int
gate_max_cpu(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	int traced;
	size_t i;

	if (need_trace(rs, g, err, errlen) < 0)
		return -1;
	/* NoOp runs are the calibration, not the tracer; they count only
	 * when there is nothing else. */
	traced = any_traced(rs);
	v->value = NAN;
	for (i = 0; i < rs->n; i++) {
		const struct ltb_result *r = &rs->v[i];

		if ((traced && r->trace != 1) || use(v, r))
			continue;
		NEED(r, cpu_usage, g, err, errlen);
		if (isnan(v->value) || r->cpu_usage > v->value) {
			v->value = r->cpu_usage;
			v->worst = r;
		}
	}
	finish_max(v, NULL,
	    traced ? NULL : "no traced runs, so every run checked");
	return 0;
}

static int
gate_max_dropped(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	int ratio = g->kind == LTB_GATE_MAX_DROPPED_RATIO;
	char note[128] = "";
	size_t i;

	if (need_trace(rs, g, err, errlen) < 0)
		return -1;
	if (!any_traced(rs)) {
		say(err, errlen, "%s checks traced runs, and there are none",
		    FLAG(g));
		errno = EINVAL;
		return -1;
	}
	v->value = NAN;
	for (i = 0; i < rs->n; i++) {
		const struct ltb_result *r = &rs->v[i];
		double x;

		if (r->trace != 1 || use(v, r))
			continue;
		if (g->kind == LTB_GATE_MAX_INVALID) {
			NEED(r, spans_invalid, g, err, errlen);
			x = r->spans_invalid;
		} else {
			NEED(r, dropped, g, err, errlen);
			x = r->dropped;
		}
		if (ratio) {
			NEED(r, spans_sent, g, err, errlen);
			if (r->spans_sent > 0)
				x = r->dropped / r->spans_sent;
			else
				x = r->dropped > 0 ? INFINITY : 0;
		}
		if (isnan(v->value) || x > v->value) {
			v->value = x;
			v->worst = r;
		}
	}
	if (ratio && v->worst != NULL)
		say(note, sizeof note, "%s of %s %s dropped",
		    NUM(v->worst->dropped), NUM(v->worst->spans_sent),
		    ltb_unit_plural(v->unit));
	finish_max(v, note[0] ? note : NULL, NULL);
	return 0;
}

/* The distinct values of target_sps among the runs that pass keep (all
 * when NULL), ascending, into a new array; -1 when out of memory. */
static int
distinct_rates(const struct ltb_results *rs, int traced_only, double **out,
    size_t *n)
{
	double *v = malloc((rs->n ? rs->n : 1) * sizeof *v);
	size_t i, k = 0;

	if (v == NULL)
		return -1;
	for (i = 0; i < rs->n; i++)
		if (!traced_only || rs->v[i].trace == 1)
			v[k++] = rs->v[i].target_sps;
	qsort(v, k, sizeof *v, ltb_cmp_double);
	*n = 0;
	for (i = 0; i < k; i++)
		if (*n == 0 || v[i] != v[*n - 1])
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

static void
rate_unknown(struct ltb_rate *rt, double target_sps)
{
	memset(rt, 0, sizeof *rt);
	rt->target_sps = target_sps;
	rt->traced_cpu = rt->noop_cpu = rt->overhead = NAN;
	rt->lo = rt->hi = rt->df = rt->sps = rt->ns_per_span = NAN;
	rt->short_runtime = rt->long_runtime = NAN;
	rt->short_memory = rt->long_memory = rt->growth = NAN;
}

/*
 * At a rate the traced runs could not hold (ltb_rate.lagged), each run's
 * CPU-seconds per second at the pace the traced runs kept, program_time
 * * pace / spans_sent, into tc (traced) and nc (NoOp), in the order
 * overhead_rates took the runs. A tracer that waits on its sends
 * stretches the run, so NoOp's cpu_usage, at the planned pace, is not
 * what the same program uses at the traced one's: scaled to it, the
 * difference is the tracer's CPU per span times the spans it made a
 * second, as the per-span fit has it.
 */
static int
paced_cpu(const struct ltb_gate *g, const struct ltb_results *rs,
    double rate, double pace, double *tc, double *nc, char *err,
    size_t errlen)
{
	size_t nt = 0, nn = 0;

	for (size_t i = 0; i < rs->n; i++) {
		const struct ltb_result *r = &rs->v[i];
		double u;

		if (r->target_sps != rate || r->failed)
			continue;
		if (isnan(r->program_time))
			return missing(r, "program_time", "number", g, err,
			    errlen);
		if (isnan(r->spans_sent) || r->spans_sent <= 0)
			return missing(r, "spans_sent", "positive number", g,
			    err, errlen);
		u = ltb_cpu_at_pace(r->program_time, r->spans_sent, pace);
		if (r->trace == 1)
			tc[nt++] = u;
		else
			nc[nn++] = u;
	}
	return 0;
}

/*
 * The per-rate overhead of max-overhead and min-throughput into v->rates:
 * every target_sps with both traced and NoOp runs (failed ones included,
 * so that a rate whose traced runs all failed is not quietly skipped).
 * *unpaired counts the rates with one side only.
 */
static int
overhead_rates(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, size_t *unpaired, char *err, size_t errlen)
{
	double *rates = NULL, *tc = NULL, *nc = NULL, *ts = NULL, *ns = NULL;
	size_t nr, i, j;
	int rc = -1;

	*unpaired = 0;
	if (need_trace(rs, g, err, errlen) < 0)
		return -1;
	for (i = 0; i < rs->n; i++)
		if (isnan(rs->v[i].target_sps))
			return missing(&rs->v[i], "target_sps", "number", g,
			    err, errlen);
	if (distinct_rates(rs, 0, &rates, &nr) < 0)
		goto nomem;
	tc = malloc(rs->n * sizeof *tc);
	nc = malloc(rs->n * sizeof *nc);
	ts = malloc(rs->n * sizeof *ts);
	ns = malloc(rs->n * sizeof *ns);
	v->rates = calloc(nr, sizeof *v->rates);
	if (tc == NULL || nc == NULL || ts == NULL || ns == NULL ||
	    v->rates == NULL)
		goto nomem;
	for (j = 0; j < nr; j++) {
		size_t ntall = 0, nnall = 0, nt = 0, nn = 0, nns = 0;
		struct ltb_interval iv;
		struct ltb_rate *rt;

		for (i = 0; i < rs->n; i++) {
			if (rs->v[i].target_sps != rates[j])
				continue;
			if (rs->v[i].trace == 1)
				ntall++;
			else
				nnall++;
		}
		if (ntall == 0 || nnall == 0) {
			(*unpaired)++;
			continue;
		}
		for (i = 0; i < rs->n; i++) {
			const struct ltb_result *r = &rs->v[i];

			if (r->target_sps != rates[j] || use(v, r))
				continue;
			if (isnan(r->cpu_usage)) {
				missing(r, "cpu_usage", "number", g, err,
				    errlen);
				goto out;
			}
			if (r->trace == 1) {
				if (isnan(r->sps)) {
					missing(r, "sps", "number", g, err,
					    errlen);
					goto out;
				}
				tc[nt] = r->cpu_usage;
				ts[nt++] = r->sps;
			} else {
				nc[nn++] = r->cpu_usage;
				/* older NoOp results may not say */
				if (!isnan(r->sps))
					ns[nns++] = r->sps;
			}
		}
		rt = &v->rates[v->nrates++];
		rate_unknown(rt, rates[j]);
		rt->ntraced = nt;
		rt->nnoop = nn;
		rt->sps = ltb_mean(ts, nt);
		rt->noop_sps = nns > 0 ? ltb_mean(ns, nns) : NAN;
		rt->lagged = nt > 0 && nns > 0 &&
		    ltb_fell_behind(rt->sps, rt->noop_sps);
		if (rt->lagged && paced_cpu(g, rs, rates[j], rt->sps, tc,
		    nc, err, errlen) < 0)
			goto out;
		rt->traced_cpu = ltb_mean(tc, nt);
		rt->noop_cpu = ltb_mean(nc, nn);
		if (ltb_welch_interval(tc, nt, nc, nn, 0.95, &iv) == 0) {
			rt->overhead = iv.est;
			rt->lo = iv.lo;
			rt->hi = iv.hi;
			rt->df = iv.df;
			if (rt->sps > 0)
				rt->ns_per_span = rt->overhead * 1e9 / rt->sps;
		}
	}
	if (v->nrates == 0) {
		say(err, errlen, "%s needs traced and NoOp runs at the same "
		    "target_sps", FLAG(g));
		errno = EINVAL;
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	say(err, errlen, "%s", strerror(ENOMEM));
	errno = ENOMEM;
out:
	free(rates);
	free(tc);
	free(nc);
	free(ts);
	free(ns);
	return rc;
}

static int cost_of(const struct ltb_results *rs, struct ltb_cost **out,
    char *err, size_t errlen);

static void
unpaired_note(char *buf, size_t len, size_t unpaired)
{
	if (unpaired == 0)
		buf[0] = '\0';
	else
		say(buf, len, "; %zu rate%s without both traced and NoOp runs "
		    "skipped", unpaired, unpaired == 1 ? "" : "s");
}

/* What max-overhead says of the rates the traced runs could not hold:
 * their figures are at the traced runs' pace (ltb_rate.lagged). */
static void
lag_note(const struct ltb_verdict *v, char *buf, size_t len)
{
	const struct ltb_rate *first = NULL;
	size_t n = 0;

	buf[0] = '\0';
	for (size_t j = 0; j < v->nrates; j++)
		if (v->rates[j].lagged && n++ == 0)
			first = &v->rates[j];
	if (first == NULL)
		return;
	say(buf, len, "; at %zu rate%s the traced runs fell behind NoOp's "
	    "pace (at %s %s: %s against %s): there NoOp's CPU-seconds a "
	    "span are taken at the traced runs' pace, since their waiting "
	    "stretched them", n, n == 1 ? "" : "s",
	    NUM(first->target_sps), rate_word(v->unit), NUM(first->sps),
	    NUM(first->noop_sps));
}

static int
gate_max_overhead(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	char summary[256] = "", detail[768] = "", ci[128], ns[64] = "",
	    skipped[128], per_span[320] = "", lagged[256];
	const struct ltb_rate *w = NULL;
	size_t unpaired, j;
	int ok;

	if (overhead_rates(g, rs, v, &unpaired, err, errlen) < 0)
		return -1;
	/* The per-span figure beside the original's difference of means,
	 * when the runs pair up at two rates or more. */
	if (cost_of(rs, &v->cost, err, errlen) < 0) {
		if (errno != EINVAL)
			return -1;
		/* runs without program_time: the original's figure alone */
		err[0] = '\0';
	} else if (v->cost->known) {
		ltb_cost_line(v->cost, per_span, sizeof per_span);
	}
	for (j = 0; j < v->nrates; j++)
		if (!isnan(v->rates[j].overhead) &&
		    (w == NULL || v->rates[j].overhead > w->overhead))
			w = &v->rates[j];
	v->value = w ? w->overhead : NAN;
	ok = w != NULL && w->overhead <= g->limit;
	if (w != NULL) {
		say(summary, sizeof summary, "%s %s %s", NUM(w->overhead),
		    ok ? "<=" : ">", NUM(g->limit));
		if (isnan(w->lo))
			say(ci, sizeof ci, "95%% CI unknown: one run on a side");
		else
			say(ci, sizeof ci, "95%% CI %s to %s", NUM(w->lo),
			    NUM(w->hi));
		if (!isnan(w->ns_per_span))
			say(ns, sizeof ns, ", %s CPU-ns/%s",
			    NUM(round(w->ns_per_span)), ltb_unit_word(v->unit));
		unpaired_note(skipped, sizeof skipped, unpaired);
		lag_note(v, lagged, sizeof lagged);
		say(detail, sizeof detail, "worst at %s %s: traced %s - NoOp "
		    "%s, %s%s; %zu rate%s%s%s%s%s", NUM(w->target_sps),
		    rate_word(v->unit),
		    NUM(w->traced_cpu), NUM(w->noop_cpu), ci, ns, v->nrates,
		    v->nrates == 1 ? "" : "s", skipped, lagged,
		    per_span[0] ? "; " : "", per_span);
	}
	finish(v, ok, summary, detail);
	return 0;
}

/* Fit the cost per span of rs into a new *out. 0, or -1 (err set). */
static int
cost_of(const struct ltb_results *rs, struct ltb_cost **out, char *err,
    size_t errlen)
{
	struct ltb_cost *c = malloc(sizeof *c);

	*out = NULL;
	if (c == NULL) {
		say(err, errlen, "%s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	if (ltb_cost_fit(rs, c, err, errlen) < 0) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static void
cost_release(struct ltb_cost *c)
{
	if (c != NULL)
		ltb_cost_free(c);
	free(c);
}

/* Every run of c's pairs into v's counts (failed pairs fail the gate). */
static void
use_pairs(struct ltb_verdict *v, const struct ltb_results *rs,
    const struct ltb_cost *c)
{
	size_t i;

	for (i = 0; i < c->npairs; i++) {
		use(v, c->pairs[i].test);
		use(v, c->pairs[i].base);
	}
	/* a failed run is in no pair: count it here so that it fails */
	for (i = 0; i < rs->n; i++)
		if (rs->v[i].failed)
			use(v, &rs->v[i]);
}

/* Mean CPU other processes and steal took, per second, over c's runs:
 * NAN when no run says. */
static double
pairs_noise(const struct ltb_cost *c)
{
	double sum = 0, clock = 0;
	size_t i;

	for (i = 0; i < c->npairs; i++) {
		const struct ltb_result *r[2] = { c->pairs[i].test,
		    c->pairs[i].base };

		for (int k = 0; k < 2; k++) {
			if (isnan(r[k]->noise_cpu_s) || isnan(r[k]->clock_time))
				continue;
			sum += r[k]->noise_cpu_s;
			clock += r[k]->clock_time;
		}
	}
	return clock > 0 ? sum / clock : NAN;
}

static int
too_noisy(const struct ltb_gate *g, double noise)
{
	return g->max_noise > 0 && !isnan(noise) && noise > g->max_noise;
}

static int
need_cost(const struct ltb_gate *g, const struct ltb_cost *c,
    const char *which, char *err, size_t errlen)
{
	if (c->known)
		return 0;
	say(err, errlen, "%s%s needs paired runs (test and base, e.g. "
	    "traced and NoOp: plan --trace both) at 2 rates or more, 3 "
	    "pairs at least; %s has %zu pair%s", FLAG(g), which, which[0] ?
	    which + 1 : "the input", c->npairs, c->npairs == 1 ? "" : "s");
	errno = EINVAL;
	return -1;
}

static int
gate_max_ns_per_span(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	char summary[256] = "", detail[768] = "";
	const struct ltb_cost *c;
	int ok;

	if (cost_of(rs, &v->cost, err, errlen) < 0)
		return -1;
	c = v->cost;
	use_pairs(v, rs, c);
	if (c->failed == 0 && v->failed == 0 &&
	    need_cost(g, c, "", err, errlen) < 0)
		return -1;
	v->value = c->ns_per_span;
	v->noise = pairs_noise(c);
	ok = c->known && c->hi <= g->limit;
	if (c->known) {
		say(summary, sizeof summary, "%s ns/%s, 95%% CI %s to %s, %s "
		    "%s", NUM(round(c->ns_per_span)), ltb_unit_word(v->unit),
		    NUM(round(c->lo)),
		    NUM(round(c->hi)), ok ? "<=" : c->lo > g->limit ? ">" :
		    "holds", NUM(g->limit));
		say(detail, sizeof detail, "OLS over %zu pairs%s; fixed cost "
		    "%s CPU-s a run (95%% CI %s to %s)%s", c->npairs,
		    c->resolved ? "" : ", not resolved from zero",
		    NUM(c->intercept_s), NUM(c->intercept_lo),
		    NUM(c->intercept_hi), c->unpaired ? "; some runs had no "
		    "partner and were left out" : "");
	}
	finish(v, ok, summary, detail);
	if (v->failed > 0 || !c->known)
		return 0;
	if (too_noisy(g, v->noise)) {
		v->pass = 0;
		v->inconclusive = 1;
		say(v->detail, sizeof v->detail, "the machine was busy: other "
		    "processes and steal took %s CPU on average during the "
		    "runs (--max-noise %s); measure again on a quieter "
		    "machine; %s", NUM(v->noise), NUM(g->max_noise), detail);
	} else if (!ok && !(c->lo > g->limit)) {
		v->inconclusive = 1;
		say(v->detail, sizeof v->detail, "the interval holds the limit: "
		    "more pairs, rates or longer runs would decide; %s",
		    detail);
	}
	return 0;
}

/* The fingerprint field key of a and b differ (numbers within 5%). */
static int
field_differs(const cJSON *a, const cJSON *b, const char *key, char *buf,
    size_t len)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, key);
	const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, key);
	char *sx, *sy;
	int differs;

	if (cJSON_IsNumber(x) && cJSON_IsNumber(y))
		differs = fabs(x->valuedouble - y->valuedouble) >
		    0.05 * fmax(fabs(x->valuedouble), fabs(y->valuedouble));
	else
		differs = !cJSON_Compare(x, y, 1);
	if (!differs)
		return 0;
	sx = x ? cJSON_PrintUnformatted(x) : NULL;
	sy = y ? cJSON_PrintUnformatted(y) : NULL;
	say(buf, len, "%s %s here, %s in the baseline", key,
	    sx ? sx : "absent", sy ? sy : "absent");
	cJSON_free(sx);
	cJSON_free(sy);
	return 1;
}

/* -1 (err set) when this input and the baseline come from different
 * machines, or do not say which. Tracer versions may differ: that is
 * what a comparison is for. */
static int
same_machine(const struct ltb_gate *g, const struct ltb_cost *c,
    const struct ltb_cost *b, char *note, size_t notelen, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "cpu_model", "cores", "kernel",
	    "work_per_second", "client" };
	const cJSON *fc = c->npairs ? c->pairs[0].test->fingerprint : NULL;
	const cJSON *fb = b->npairs ? b->pairs[0].test->fingerprint : NULL;
	const struct ltb_result *rc = c->pairs[0].test, *rb = b->pairs[0].test;
	char why[400] = "";
	size_t i;

	note[0] = '\0';
	if (fc == NULL || fb == NULL) {
		say(why, sizeof why, "%s has no fingerprint", fc == NULL ?
		    "this input" : g->baseline_name);
	} else {
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (field_differs(fc, fb, keys[i], why, sizeof why))
				break;
		field_differs(fc, fb, "tracer", note, notelen);
	}
	if (why[0] == '\0' || g->allow_different_machine)
		return 0;
	say(err, errlen, "%s:%lu and %s:%lu: not measured on the same "
	    "machine (%s): compare runs of one machine, or pass "
	    "--allow-different-machine", rc->src, rc->line, rb->src, rb->line,
	    why);
	errno = EINVAL;
	return -1;
}

/* Mean and Welch interval of a figure of the test runs at one rate, here
 * against the baseline: "cpu at 1000 sps +3.1% (95% CI -1.2% to 7.4%)". */
static void
compare_figure(const struct ltb_cost *c, const struct ltb_cost *b,
    double rate, int memory, char *buf, size_t len)
{
	double x[256] = { 0 }, y[256] = { 0 };
	size_t nx = 0, ny = 0, i;
	struct ltb_interval iv;
	double base;

	buf[0] = '\0';
	for (i = 0; i < c->npairs && nx < 256; i++)
		if (isnan(rate) || c->pairs[i].target_sps == rate)
			x[nx++] = memory ? c->pairs[i].test->memory_max :
			    c->pairs[i].test->cpu_usage;
	for (i = 0; i < b->npairs && ny < 256; i++)
		if (isnan(rate) || b->pairs[i].target_sps == rate)
			y[ny++] = memory ? b->pairs[i].test->memory_max :
			    b->pairs[i].test->cpu_usage;
	base = ltb_mean(y, ny);
	if (nx == 0 || ny == 0 || !(base > 0))
		return;
	if (ltb_welch_interval(x, nx, y, ny, 0.95, &iv) < 0 || !iv.known) {
		say(buf, len, "%s%s%s %+.1f%%", memory ? "memory" : "cpu",
		    isnan(rate) ? "" : " at ", isnan(rate) ? "" : NUM(rate),
		    (ltb_mean(x, nx) / base - 1) * 100);
		return;
	}
	say(buf, len, "%s%s%s %+.1f%% (95%% CI %+.1f%% to %+.1f%%)",
	    memory ? "memory" : "cpu", isnan(rate) ? "" : " at ",
	    isnan(rate) ? "" : NUM(rate), iv.est / base * 100,
	    iv.lo / base * 100, iv.hi / base * 100);
}

static double
dropped_total(const struct ltb_cost *c)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < c->npairs; i++)
		if (!isnan(c->pairs[i].test->dropped))
			sum += c->pairs[i].test->dropped;
	return sum;
}

/* The other figures of max-regression, into buf: CPU at each rate the
 * two share, memory, drops. */
static void
other_figures(const struct ltb_cost *c, const struct ltb_cost *b,
    char *buf, size_t len)
{
	char part[160];
	size_t used = 0, i, j;
	double seen[64];
	size_t nseen = 0;

	buf[0] = '\0';
	for (i = 0; i < c->npairs && nseen < 64; i++) {
		double rate = c->pairs[i].target_sps;

		for (j = 0; j < nseen && seen[j] != rate; j++)
			;
		if (j < nseen)
			continue;
		seen[nseen++] = rate;
		compare_figure(c, b, rate, 0, part, sizeof part);
		if (part[0] != '\0' && used < len)
			used += (size_t)snprintf(buf + used, len - used,
			    "%s%s", used ? "; " : "", part);
	}
	compare_figure(c, b, NAN, 1, part, sizeof part);
	if (part[0] != '\0' && used < len)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    used ? "; " : "", part);
	if (used < len)
		snprintf(buf + used, len - used, "%sdropped %s (baseline %s)",
		    used ? "; " : "", NUM(dropped_total(c)),
		    NUM(dropped_total(b)));
}

/*
 * Fieller's interval of the ratio c/b - 1 of two independent estimates
 * with standard errors sc and sb, at the t given: the ratios rho for which
 * (c - rho b)^2 <= t^2 (sc^2 + rho^2 sb^2). Unlike the delta method it
 * widens as it should when the baseline itself is uncertain, and "the
 * increase is above R" is exactly "c - (1 + R) b is resolved above 0".
 * NAN when b is not resolved from zero at this t (the set is unbounded).
 */
static void
fieller(double c, double sc, double b, double sb, double t, double *lo,
    double *hi)
{
	double qa = b * b - t * t * sb * sb, qb = -2 * c * b;
	double qc = c * c - t * t * sc * sc, disc = qb * qb - 4 * qa * qc;

	*lo = *hi = NAN;
	if (!(qa > 0) || disc < 0)
		return;
	*lo = (-qb - sqrt(disc)) / (2 * qa) - 1;
	*hi = (-qb + sqrt(disc)) / (2 * qa) - 1;
}

static int
gate_max_regression(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	char summary[256] = "", detail[768] = "", tracer[256], others[400];
	const struct ltb_cost *c, *b;
	double se, df, t;
	int ok;

	if (g->baseline == NULL || g->baseline->n == 0) {
		say(err, errlen, "%s needs --baseline FILE with result records",
		    FLAG(g));
		errno = EINVAL;
		return -1;
	}
	if (cost_of(rs, &v->cost, err, errlen) < 0 ||
	    cost_of(g->baseline, &v->base_cost, err, errlen) < 0)
		return -1;
	c = v->cost;
	b = v->base_cost;
	use_pairs(v, rs, c);
	if (v->failed > 0) {
		finish(v, 0, "", "");
		return 0;
	}
	if (need_cost(g, c, "", err, errlen) < 0 ||
	    need_cost(g, b, " (baseline)", err, errlen) < 0 ||
	    same_machine(g, c, b, tracer, sizeof tracer, err, errlen) < 0)
		return -1;
	/* The change in ns, with Welch-Satterthwaite degrees of freedom. */
	v->change_ns = c->ns_per_span - b->ns_per_span;
	se = sqrt(c->se * c->se + b->se * b->se);
	df = pow(se, 4) / (pow(c->se, 4) / c->df + pow(b->se, 4) / b->df);
	t = ltb_t_quantile(0.975, df > 1 ? df : 1);
	v->change_lo = v->change_ns - t * se;
	v->change_hi = v->change_ns + t * se;
	v->value = c->ns_per_span / b->ns_per_span - 1;
	fieller(c->ns_per_span, c->se, b->ns_per_span, b->se, t, &v->rel_lo,
	    &v->rel_hi);
	v->noise = fmax(pairs_noise(c), pairs_noise(b));
	other_figures(c, b, others, sizeof others);
	ok = v->value <= g->limit;
	say(summary, sizeof summary, "%+.1f%% (95%% CI %+.1f%% to %+.1f%%) "
	    "%s %+.0f%%", v->value * 100, v->rel_lo * 100, v->rel_hi * 100,
	    v->rel_lo > g->limit ? ">" : ok ? "<=" : "above, not resolved,",
	    g->limit * 100);
	say(detail, sizeof detail, "%s ns/%s against %s (%+.0f ns, 95%% CI "
	    "%+.0f to %+.0f); %s%s%s", NUM(round(c->ns_per_span)),
	    ltb_unit_word(v->unit),
	    NUM(round(b->ns_per_span)), v->change_ns, v->change_lo,
	    v->change_hi, others, tracer[0] ? "; " : "", tracer);
	finish(v, ok || !(v->rel_lo > g->limit), summary, detail);
	if (too_noisy(g, v->noise)) {
		v->pass = 0;
		v->inconclusive = 1;
		say(v->detail, sizeof v->detail, "the machine was busy: other "
		    "processes and steal took %s CPU on average (--max-noise "
		    "%s); measure again on a quieter machine; %s",
		    NUM(v->noise), NUM(g->max_noise), detail);
	} else if (!c->resolved || !b->resolved || isnan(v->rel_lo)) {
		v->pass = 0;
		v->inconclusive = 1;
		say(v->detail, sizeof v->detail, "the cost per %s of %s is "
		    "not resolved from zero, so a relative change means "
		    "nothing: more pairs, rates or longer runs; %s",
		    ltb_unit_word(v->unit), !b->resolved ? "the baseline" :
		    "this run", detail);
	} else if (v->rel_lo > g->limit) {
		v->pass = 0;
	} else if (g->max_halfwidth > 0 &&
	    (v->rel_hi - v->rel_lo) / 2 > g->max_halfwidth) {
		/* [-80%, +170%] around +5% measured nothing worth a pass */
		v->pass = 0;
		v->inconclusive = 1;
		say(v->detail, sizeof v->detail, "the interval is too wide to "
		    "decide (+-%.0f%%, more than --max-interval %.0f%%): more "
		    "pairs, rates or longer runs; %s", (v->rel_hi - v->rel_lo) /
		    2 * 100, g->max_halfwidth * 100, detail);
	} else if (!ok) {
		v->pass = 0;
		v->inconclusive = 1;
		say(v->detail, sizeof v->detail, "looks above the limit but "
		    "is not resolved: measure again (gates.sh --retries) or "
		    "longer; %s", detail);
	}
	return 0;
}

static int
gate_min_throughput(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	char summary[256] = "", detail[768] = "", skipped[128];
	const struct ltb_rate *prev = NULL, *cross = NULL, *lag = NULL;
	double x = g->at_overhead, px = 0, py = 0;
	const char *rate;
	size_t unpaired, j;
	int ok;

	if (overhead_rates(g, rs, v, &unpaired, err, errlen) < 0)
		return -1;
	/* The first crossing, walking up the rates: the throughput the
	 * tracer reaches before its overhead exceeds x. Below the lowest
	 * rate the line starts at the origin, as no spans cost nothing. */
	for (j = 0; j < v->nrates; j++) {
		const struct ltb_rate *rt = &v->rates[j];

		if (isnan(rt->overhead) || isnan(rt->sps))
			continue;
		/* A rate the tracer cannot hold is past its throughput,
		 * whatever its CPU. */
		if (rt->lagged) {
			lag = rt;
			break;
		}
		if (rt->overhead > x) {
			cross = rt;
			break;
		}
		prev = rt;
		px = rt->sps;
		py = rt->overhead;
	}
	v->reached = cross != NULL;
	if (cross != NULL)
		v->value = ltb_lerp(py, px, cross->overhead, cross->sps, x);
	else if (prev != NULL)
		v->value = prev->sps;
	else
		v->value = lag != NULL ? lag->sps : NAN;
	ok = !isnan(v->value) && v->value >= g->limit;
	unpaired_note(skipped, sizeof skipped, unpaired);
	rate = rate_word(v->unit);
	if (!isnan(v->value))
		say(summary, sizeof summary, "%s %s %s %s", NUM(v->value),
		    ok ? ">=" : "<", NUM(g->limit), rate);
	if (cross != NULL && prev != NULL)
		say(detail, sizeof detail, "overhead exceeds %s between %s %s "
		    "(%s) and %s %s (%s)%s", NUM(x), NUM(prev->sps), rate,
		    NUM(prev->overhead), NUM(cross->sps), rate,
		    NUM(cross->overhead), skipped);
	else if (cross != NULL)
		say(detail, sizeof detail, "overhead exceeds %s below the "
		    "lowest rate measured, %s %s (%s); interpolated from 0 "
		    "%s%s", NUM(x), NUM(cross->sps), rate, NUM(cross->overhead),
		    rate, skipped);
	else if (lag != NULL)
		say(detail, sizeof detail, "the traced runs could not hold "
		    "%s %s: they made %s against NoOp's %s (a tracer that waits "
		    "on its sends); %s%s", NUM(lag->target_sps), rate,
		    NUM(lag->sps), NUM(lag->noop_sps), prev != NULL ?
		    "the throughput is the rate held below it" :
		    "no rate measured was held", skipped);
	else if (prev != NULL)
		say(detail, sizeof detail, "overhead %s not reached at the "
		    "highest rate measured, %s %s (%s)%s", NUM(x),
		    NUM(prev->sps), rate, NUM(prev->overhead), skipped);
	finish(v, ok, summary, detail);
	return 0;
}

static int
gate_max_memory_growth(const struct ltb_gate *g,
    const struct ltb_results *rs, struct ltb_verdict *v, char *err,
    size_t errlen)
{
	char summary[256] = "", detail[768] = "";
	const struct ltb_rate *w = NULL;
	double *rates = NULL;
	size_t nr, i, j;
	int ok;

	if (need_trace(rs, g, err, errlen) < 0)
		return -1;
	for (i = 0; i < rs->n; i++) {
		const struct ltb_result *r = &rs->v[i];

		if (r->trace != 1)
			continue;
		NEED(r, target_sps, g, err, errlen);
		NEED(r, runtime, g, err, errlen);
	}
	if (distinct_rates(rs, 1, &rates, &nr) < 0 ||
	    (v->rates = calloc(nr ? nr : 1, sizeof *v->rates)) == NULL) {
		free(rates);
		say(err, errlen, "%s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	for (j = 0; j < nr; j++) {
		double lo = INFINITY, hi = -INFINITY, ssum = 0, lsum = 0;
		size_t ns = 0, nl = 0;
		struct ltb_rate *rt;

		for (i = 0; i < rs->n; i++) {
			const struct ltb_result *r = &rs->v[i];

			if (r->trace != 1 || r->target_sps != rates[j])
				continue;
			lo = fmin(lo, r->runtime);
			hi = fmax(hi, r->runtime);
		}
		if (!(lo < hi))
			continue;
		/* Only the shortest and the longest runs; a trial's memory
		 * is the mean of its runs at that runtime. */
		for (i = 0; i < rs->n; i++) {
			const struct ltb_result *r = &rs->v[i];

			if (r->trace != 1 || r->target_sps != rates[j] ||
			    (r->runtime != lo && r->runtime != hi) || use(v, r))
				continue;
			if (isnan(r->memory_last)) {
				free(rates);
				return missing(r, "memory_last", "number", g,
				    err, errlen);
			}
			if (r->runtime == lo) {
				ssum += r->memory_last;
				ns++;
			} else {
				lsum += r->memory_last;
				nl++;
			}
		}
		rt = &v->rates[v->nrates++];
		rate_unknown(rt, rates[j]);
		rt->short_runtime = lo;
		rt->long_runtime = hi;
		rt->ntraced = ns + nl;
		if (ns > 0)
			rt->short_memory = ssum / (double)ns;
		if (nl > 0)
			rt->long_memory = lsum / (double)nl;
		if (ns > 0 && nl > 0)
			rt->growth = rt->short_memory > 0 ?
			    rt->long_memory / rt->short_memory :
			    rt->long_memory > 0 ? INFINITY : 1;
	}
	free(rates);
	if (v->nrates == 0) {
		say(err, errlen, "%s needs results with two runtimes at the "
		    "same target_sps (traced runs)", FLAG(g));
		errno = EINVAL;
		return -1;
	}
	for (j = 0; j < v->nrates; j++)
		if (!isnan(v->rates[j].growth) &&
		    (w == NULL || v->rates[j].growth > w->growth))
			w = &v->rates[j];
	v->value = w ? w->growth : NAN;
	ok = w != NULL && w->growth <= g->limit;
	if (w != NULL) {
		say(summary, sizeof summary, "%s %s %s", NUM(w->growth),
		    ok ? "<=" : ">", NUM(g->limit));
		say(detail, sizeof detail, "worst at %s %s: %s after %s s, %s "
		    "after %s s", NUM(w->target_sps), rate_word(v->unit),
		    BYTES(w->short_memory),
		    NUM(w->short_runtime), BYTES(w->long_memory),
		    NUM(w->long_runtime));
	}
	finish(v, ok, summary, detail);
	return 0;
}

/* Does item satisfy e? Across types only != holds. */
static int
holds(const struct ltb_expect *e, const cJSON *it)
{
	int eq;

	switch (e->type) {
	case LTB_EXPECT_NUMBER:
		if (!cJSON_IsNumber(it))
			return e->op == LTB_OP_NE;
		switch (e->op) {
		case LTB_OP_EQ: return it->valuedouble == e->num;
		case LTB_OP_NE: return it->valuedouble != e->num;
		case LTB_OP_LT: return it->valuedouble < e->num;
		case LTB_OP_LE: return it->valuedouble <= e->num;
		case LTB_OP_GT: return it->valuedouble > e->num;
		case LTB_OP_GE: return it->valuedouble >= e->num;
		}
		return 0;
	case LTB_EXPECT_BOOL:
		eq = cJSON_IsBool(it) && cJSON_IsTrue(it) == e->boolean;
		break;
	case LTB_EXPECT_STRING:
		eq = cJSON_IsString(it) && strcmp(it->valuestring, e->str) == 0;
		break;
	case LTB_EXPECT_NULL:
	default:
		eq = cJSON_IsNull(it);
		break;
	}
	return e->op == LTB_OP_EQ ? eq : !eq;
}

/* item as JSON text, shortened for a message. */
static char *
show(const cJSON *it, char *buf, size_t len)
{
	char *s = cJSON_PrintUnformatted(it);

	say(buf, len, "%s", s ? s : "?");
	free(s);
	return buf;
}

static int
gate_expect(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	const struct ltb_expect *e = &g->expect;
	int ordered = e->op != LTB_OP_EQ && e->op != LTB_OP_NE;
	int want_max = e->op == LTB_OP_LT || e->op == LTB_OP_LE;
	const struct ltb_result *bad = NULL, *extreme = NULL;
	const cJSON *bad_it = NULL, *extreme_it = NULL, *first_it = NULL;
	char summary[256], detail[768] = "", shown[128];
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const struct ltb_result *r = &rs->v[i];
		const cJSON *it;

		if (use(v, r))
			continue;
		it = cJSON_GetObjectItemCaseSensitive(r->rec, e->field);
		if (it == NULL)
			return missing(r, e->field, "value", g, err, errlen);
		if (first_it == NULL)
			first_it = it;
		if (!holds(e, it)) {
			if (bad == NULL) {
				bad = r;
				bad_it = it;
			}
			v->failing++;
		}
		if (ordered && cJSON_IsNumber(it) && (extreme == NULL ||
		    (want_max ? it->valuedouble > extreme_it->valuedouble :
		    it->valuedouble < extreme_it->valuedouble))) {
			extreme = r;
			extreme_it = it;
		}
	}
	if (bad != NULL) {
		v->worst = bad;
		v->value_item = bad_it;
	} else if (extreme != NULL) {
		v->worst = extreme;
		v->value_item = extreme_it;
	} else {
		v->value_item = first_it;
	}
	v->value = cJSON_IsNumber(v->value_item) ?
	    v->value_item->valuedouble : NAN;
	if (bad != NULL) {
		say(summary, sizeof summary, "fails for %zu of %zu runs",
		    v->failing, v->runs - v->failed);
		say(detail, sizeof detail, "first: %s has %s %s",
		    DESCRIBE(bad), e->field, show(bad_it, shown, sizeof shown));
	} else if (first_it != NULL) {
		say(summary, sizeof summary, "holds for all %zu runs",
		    v->runs - v->failed);
		if (extreme != NULL)
			say(detail, sizeof detail, "worst: %s has %s %s",
			    DESCRIBE(extreme), e->field,
			    show(extreme_it, shown, sizeof shown));
	} else {
		summary[0] = '\0';
	}
	finish(v, bad == NULL && first_it != NULL, summary, detail);
	return 0;
}

/* The input is whole: every plan ended, complete, with all its runs here
 * and none failed. What is missing is said, so a CI log tells why. */
static int
gate_plan(const struct ltb_results *rs, struct ltb_verdict *v)
{
	const struct ltb_plan_tally *t = &rs->plan;
	char why[64];
	size_t i;

	for (i = 0; i < rs->n; i++)
		use(v, &rs->v[i]);
	v->value = (double)rs->n;
	v->limit = t->ends > 0 ? t->planned : NAN;
	v->pass = 0;
	if (t->ends == 0) {
		say(v->summary, sizeof v->summary, "no plan_end record after "
		    "%zu result%s", rs->n, rs->n == 1 ? "" : "s");
		say(v->detail, sizeof v->detail, "the input was cut short: "
		    "ltb-sample ends its output with a plan_end record, even "
		    "when a run fails; did it die, or was its output cut (head, "
		    "a failed tee)?");
		return 0;
	}
	if (t->incomplete > 0) {
		v->inconclusive = t->inconclusive > 0 && v->failed == 0;
		say(v->summary, sizeof v->summary, "the plan did not finish: "
		    "%zu of %s planned runs", rs->n, NUM(t->planned));
		say(v->detail, sizeof v->detail, "%s%s%s", t->why,
		    t->missing[0] ? "; missing: " : "", t->missing);
		return 0;
	}
	if ((double)rs->n < t->planned) {
		say(v->summary, sizeof v->summary, "%zu of %s planned runs in "
		    "the input", rs->n, NUM(t->planned));
		say(v->detail, sizeof v->detail, "results are missing: were "
		    "some lines lost, or files left out of the input?");
		return 0;
	}
	if (v->failed > 0) {
		say(v->summary, sizeof v->summary, "%zu of %zu runs failed",
		    v->failed, v->runs);
		say(v->detail, sizeof v->detail, "first: %s: %s",
		    DESCRIBE(v->first_failed),
		    failure_text(v->first_failed, why, sizeof why));
		return 0;
	}
	v->pass = 1;
	say(v->summary, sizeof v->summary, "%zu of %s planned runs, none "
	    "failed", rs->n, NUM(t->planned));
	return 0;
}

/* The baseline of max-regression counts unit too. */
static int
baseline_unit(const struct ltb_gate *g, const char *unit, char *err,
    size_t errlen)
{
	const char *b;

	if (ltb_results_unit(g->baseline, &b, err, errlen) < 0)
		return -1;
	if (strcmp(b, unit) == 0)
		return 0;
	say(err, errlen, "the baseline %s counts %s and this input %s: "
	    "compare runs of one unit", g->baseline_name, ltb_unit_plural(b),
	    ltb_unit_plural(unit));
	errno = EINVAL;
	return -1;
}

/* A blank verdict of g, named: "max-cpu", "expect exit_status == 0". */
static void
verdict_start(struct ltb_verdict *v, const struct ltb_gate *g)
{
	memset(v, 0, sizeof *v);
	v->gate = g;
	v->value = NAN;
	v->change_ns = v->change_lo = v->change_hi = NAN;
	v->rel_lo = v->rel_hi = v->noise = NAN;
	v->unit = "span";
	if (g->kind == LTB_GATE_EXPECT)
		say(v->name, sizeof v->name, "expect %s", g->expect.text);
	else
		say(v->name, sizeof v->name, "%s", ltb_gate_name(g->kind));
}

int
ltb_results_unit(const struct ltb_results *rs, const char **unit, char *err,
    size_t errlen)
{
	size_t i;

	*unit = rs->n > 0 ? rs->v[0].unit : "span";
	for (i = 1; i < rs->n; i++)
		if (strcmp(rs->v[i].unit, *unit) != 0) {
			say(err, errlen, "%s:%lu counts %s, %s:%lu %s: judge "
			    "one unit at a time (a tracer's runs or a metrics "
			    "client's)", rs->v[0].src, rs->v[0].line,
			    ltb_unit_plural(*unit), rs->v[i].src, rs->v[i].line,
			    ltb_unit_plural(rs->v[i].unit));
			errno = EINVAL;
			return -1;
		}
	return 0;
}

int
ltb_gate_eval(const struct ltb_gate *g, const struct ltb_results *rs,
    struct ltb_verdict *v, char *err, size_t errlen)
{
	int rc;

	verdict_start(v, g);
	if (rs->n == 0 && g->kind != LTB_GATE_PLAN) {
		say(err, errlen, "no result records: nothing to check");
		errno = EINVAL;
		return -1;
	}
	/* The plan counts runs and --expect reads fields as they are; the
	 * rest say figures per unit, and a baseline counts the same one. */
	if (g->kind != LTB_GATE_PLAN && g->kind != LTB_GATE_EXPECT &&
	    (ltb_results_unit(rs, &v->unit, err, errlen) < 0 ||
	    (g->kind == LTB_GATE_MAX_REGRESSION && g->baseline != NULL &&
	    g->baseline->n > 0 && baseline_unit(g, v->unit, err,
	    errlen) < 0)))
		return -1;
	switch (g->kind) {
	case LTB_GATE_MAX_CPU:
		rc = gate_max_cpu(g, rs, v, err, errlen);
		break;
	case LTB_GATE_MAX_DROPPED:
	case LTB_GATE_MAX_DROPPED_RATIO:
	case LTB_GATE_MAX_INVALID:
		rc = gate_max_dropped(g, rs, v, err, errlen);
		break;
	case LTB_GATE_PLAN:
		rc = gate_plan(rs, v);
		break;
	case LTB_GATE_MAX_OVERHEAD:
		rc = gate_max_overhead(g, rs, v, err, errlen);
		break;
	case LTB_GATE_MAX_MEMORY_GROWTH:
		rc = gate_max_memory_growth(g, rs, v, err, errlen);
		break;
	case LTB_GATE_MIN_THROUGHPUT:
		rc = gate_min_throughput(g, rs, v, err, errlen);
		break;
	case LTB_GATE_MAX_NS_PER_SPAN:
		rc = gate_max_ns_per_span(g, rs, v, err, errlen);
		break;
	case LTB_GATE_MAX_REGRESSION:
		rc = gate_max_regression(g, rs, v, err, errlen);
		break;
	case LTB_GATE_EXPECT:
		rc = gate_expect(g, rs, v, err, errlen);
		break;
	default:
		say(err, errlen, "unknown gate");
		errno = EINVAL;
		rc = -1;
		break;
	}
	if (rc < 0) {
		int saved = errno;

		ltb_verdict_free(v);
		errno = saved;
	}
	return rc;
}

void
ltb_verdict_unjudged(const struct ltb_gate *g,
    const struct ltb_verdict *plan, const char *why, struct ltb_verdict *v)
{
	verdict_start(v, g);
	v->inconclusive = plan->inconclusive;
	say(v->summary, sizeof v->summary, "not judged: the plan did not "
	    "finish");
	say(v->detail, sizeof v->detail, "%s", why);
}

void
ltb_verdict_free(struct ltb_verdict *v)
{
	cost_release(v->cost);
	cost_release(v->base_cost);
	v->cost = v->base_cost = NULL;
	free(v->rates);
	v->rates = NULL;
	v->nrates = 0;
}

void
ltb_verdict_line(const struct ltb_verdict *v, char *buf, size_t len)
{
	say(buf, len, "%s %s: %s%s%s%s", v->inconclusive ? "INCONCLUSIVE" :
	    v->pass ? "PASS" : "FAIL", v->name,
	    v->summary, v->detail[0] ? " (" : "", v->detail,
	    v->detail[0] ? ")" : "");
}

/* Adding to records: cJSON's Add functions return NULL when out of memory,
 * and *bad remembers it so the builder checks once at the end. */
static void
add_num(cJSON *o, const char *key, double x, int *bad)
{
	/* JSON has no NaN or infinity: unknown figures are null. */
	if ((isfinite(x) ? cJSON_AddNumberToObject(o, key, x) :
	    cJSON_AddNullToObject(o, key)) == NULL)
		*bad = 1;
}

static void
add_str(cJSON *o, const char *key, const char *s, int *bad)
{
	if (cJSON_AddStringToObject(o, key, s) == NULL)
		*bad = 1;
}

static void
add_bool(cJSON *o, const char *key, int b, int *bad)
{
	if (cJSON_AddBoolToObject(o, key, b) == NULL)
		*bad = 1;
}

static void
add_item(cJSON *o, const char *key, cJSON *it, int *bad)
{
	if (it == NULL || !cJSON_AddItemToObject(o, key, it)) {
		cJSON_Delete(it);
		*bad = 1;
	}
}

/* {"client":..,"trace":..,"target_sps":..,"trial":..,"source":"f:3"} */
static cJSON *
run_object(const struct ltb_result *r, int with_error, int *bad)
{
	cJSON *o = cJSON_CreateObject();
	char src[512], why[64];

	if (o == NULL) {
		*bad = 1;
		return NULL;
	}
	add_str(o, "client", r->client, bad);
	if (r->trace >= 0)
		add_bool(o, "trace", r->trace, bad);
	add_num(o, "target_sps", r->target_sps, bad);
	add_num(o, "runtime", r->runtime, bad);
	add_num(o, "trial", r->trial, bad);
	say(src, sizeof src, "%s:%lu", r->src, r->line);
	add_str(o, "source", src, bad);
	if (with_error)
		add_str(o, "error", failure_text(r, why, sizeof why), bad);
	return o;
}

static cJSON *
rate_object(const struct ltb_verdict *v, const struct ltb_rate *rt,
    int *bad)
{
	cJSON *o = cJSON_CreateObject(), *ci;

	if (o == NULL) {
		*bad = 1;
		return NULL;
	}
	add_num(o, "target_sps", rt->target_sps, bad);
	if (v->gate->kind == LTB_GATE_MAX_MEMORY_GROWTH) {
		add_num(o, "runs", (double)rt->ntraced, bad);
		add_num(o, "short_runtime", rt->short_runtime, bad);
		add_num(o, "long_runtime", rt->long_runtime, bad);
		add_num(o, "short_memory", rt->short_memory, bad);
		add_num(o, "long_memory", rt->long_memory, bad);
		add_num(o, "growth", rt->growth, bad);
		return o;
	}
	add_num(o, "traced_runs", (double)rt->ntraced, bad);
	add_num(o, "noop_runs", (double)rt->nnoop, bad);
	add_num(o, "traced_cpu", rt->traced_cpu, bad);
	add_num(o, "noop_cpu", rt->noop_cpu, bad);
	add_num(o, "overhead", rt->overhead, bad);
	if (!isnan(rt->noop_sps))
		add_num(o, "noop_sps", rt->noop_sps, bad);
	if (cJSON_AddBoolToObject(o, "lagged", rt->lagged) == NULL)
		*bad = 1;
	if (isnan(rt->lo)) {
		if (cJSON_AddNullToObject(o, "ci95") == NULL)
			*bad = 1;
	} else {
		const double pair[2] = { rt->lo, rt->hi };

		ci = cJSON_CreateDoubleArray(pair, 2);
		add_item(o, "ci95", ci, bad);
	}
	add_num(o, "df", rt->df, bad);
	add_num(o, "sps", rt->sps, bad);
	add_num(o, "ns_per_span", rt->ns_per_span, bad);
	return o;
}

static void
add_interval(cJSON *o, const char *key, double lo, double hi, int *bad)
{
	const double pair[2] = { lo, hi };

	if (isfinite(lo) && isfinite(hi))
		add_item(o, key, cJSON_CreateDoubleArray(pair, 2), bad);
	else if (cJSON_AddNullToObject(o, key) == NULL)
		*bad = 1;
}

/* {"value":ns,"ci95":[lo,hi],"method":"ols","pairs":N,...} */
static cJSON *
cost_object(const struct ltb_cost *c, int *bad)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		*bad = 1;
		return NULL;
	}
	add_num(o, "value", c->ns_per_span, bad);
	add_interval(o, "ci95", c->lo, c->hi, bad);
	add_str(o, "unit", strcmp(c->unit, "measurement") == 0 ?
	    "ns/measurement" : strcmp(c->unit, "trace point") == 0 ?
	    "ns/trace point" : "ns/span", bad);
	add_str(o, "method", c->method, bad);
	add_num(o, "pairs", (double)c->npairs, bad);
	add_num(o, "unpaired_runs", (double)c->unpaired, bad);
	add_num(o, "se", c->se, bad);
	add_num(o, "df", c->df, bad);
	add_num(o, "intercept_s", c->intercept_s, bad);
	add_interval(o, "intercept_ci95", c->intercept_lo, c->intercept_hi,
	    bad);
	add_num(o, "resid_sd_s", c->resid_sd, bad);
	add_bool(o, "known", c->known, bad);
	add_bool(o, "resolved", c->resolved, bad);
	return o;
}

static void
add_cost_fields(cJSON *rec, const struct ltb_verdict *v, int *bad)
{
	enum ltb_gate_kind k = v->gate->kind;

	if (k == LTB_GATE_MAX_NS_PER_SPAN && v->cost != NULL) {
		add_interval(rec, "ci95", v->cost->lo, v->cost->hi, bad);
		add_str(rec, "method", v->cost->method, bad);
		add_num(rec, "pairs", (double)v->cost->npairs, bad);
		add_num(rec, "intercept_s", v->cost->intercept_s, bad);
		add_interval(rec, "intercept_ci95", v->cost->intercept_lo,
		    v->cost->intercept_hi, bad);
		add_bool(rec, "resolved", v->cost->resolved, bad);
	}
	if (k == LTB_GATE_MAX_REGRESSION && v->cost != NULL) {
		add_interval(rec, "ci95", v->rel_lo, v->rel_hi, bad);
		add_str(rec, "method", "ols slopes, Fieller's interval", bad);
		add_num(rec, "change_ns", v->change_ns, bad);
		add_interval(rec, "change_ns_ci95", v->change_lo,
		    v->change_hi, bad);
		add_num(rec, "ns_per_span", v->cost->ns_per_span, bad);
		if (v->base_cost != NULL)
			add_num(rec, "baseline_ns_per_span",
			    v->base_cost->ns_per_span, bad);
		add_str(rec, "baseline", v->gate->baseline_name ?
		    v->gate->baseline_name : "", bad);
	}
	if (k == LTB_GATE_MAX_NS_PER_SPAN || k == LTB_GATE_MAX_REGRESSION)
		add_num(rec, "noise_cpu", v->noise, bad);
	if (v->cost != NULL)
		add_item(rec, "cost_per_span", cost_object(v->cost, bad), bad);
	if (v->base_cost != NULL)
		add_item(rec, "baseline_cost_per_span",
		    cost_object(v->base_cost, bad), bad);
}

cJSON *
ltb_verdict_record(const struct ltb_verdict *v)
{
	const struct ltb_gate *g = v->gate;
	cJSON *rec = ltb_record_new("verdict"), *rates;
	int bad = 0;
	size_t j;

	if (rec == NULL)
		return NULL;
	add_str(rec, "gate", ltb_gate_name(g->kind), &bad);
	if (g->kind == LTB_GATE_EXPECT) {
		const struct ltb_expect *e = &g->expect;
		cJSON *limit;

		add_str(rec, "expect", e->text, &bad);
		add_str(rec, "field", e->field, &bad);
		add_str(rec, "op", op_str(e->op), &bad);
		add_item(rec, "value", v->value_item ?
		    cJSON_Duplicate(v->value_item, 1) : cJSON_CreateNull(),
		    &bad);
		switch (e->type) {
		case LTB_EXPECT_NUMBER:
			limit = cJSON_CreateNumber(e->num);
			break;
		case LTB_EXPECT_BOOL:
			limit = cJSON_CreateBool(e->boolean);
			break;
		case LTB_EXPECT_STRING:
			limit = cJSON_CreateString(e->str);
			break;
		case LTB_EXPECT_NULL:
		default:
			limit = cJSON_CreateNull();
			break;
		}
		add_item(rec, "limit", limit, &bad);
	} else {
		add_num(rec, "value", v->value, &bad);
		add_num(rec, "limit", g->kind == LTB_GATE_PLAN ?
		    v->limit : g->limit, &bad);
	}
	if (v->inconclusive)
		add_str(rec, "pass", "inconclusive", &bad);
	else
		add_bool(rec, "pass", v->pass, &bad);
	add_str(rec, "summary", v->summary, &bad);
	add_str(rec, "detail", v->detail, &bad);
	if (g->kind == LTB_GATE_MIN_THROUGHPUT) {
		add_num(rec, "at_overhead", g->at_overhead, &bad);
		add_bool(rec, "reached", v->reached, &bad);
	}
	add_cost_fields(rec, v, &bad);
	add_num(rec, "runs", (double)v->runs, &bad);
	add_num(rec, "failed_runs", (double)v->failed, &bad);
	if (g->kind == LTB_GATE_EXPECT)
		add_num(rec, "failing_runs", (double)v->failing, &bad);
	if (v->worst != NULL)
		add_item(rec, "worst", run_object(v->worst, 0, &bad), &bad);
	if (v->first_failed != NULL)
		add_item(rec, "first_failed",
		    run_object(v->first_failed, 1, &bad), &bad);
	if (v->nrates > 0) {
		if ((rates = cJSON_AddArrayToObject(rec, "rates")) == NULL)
			bad = 1;
		for (j = 0; rates != NULL && j < v->nrates; j++) {
			cJSON *o = rate_object(v, &v->rates[j], &bad);

			if (o == NULL || !cJSON_AddItemToArray(rates, o)) {
				cJSON_Delete(o);
				bad = 1;
			}
		}
	}
	if (bad) {
		cJSON_Delete(rec);
		return NULL;
	}
	return rec;
}

/* The length of the valid UTF-8 sequence XML 1.0 allows at p, or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned long cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		cp = (p[0] & 0x0fUL) << 12 | (p[1] & 0x3fUL) << 6 |
		    (p[2] & 0x3fUL);
		if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp == 0xfffe || cp == 0xffff)
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		cp = (p[0] & 0x07UL) << 18 | (p[1] & 0x3fUL) << 12 |
		    (p[2] & 0x3fUL) << 6 | (p[3] & 0x3fUL);
		if (cp < 0x10000 || cp > 0x10ffff)
			return 0;
		return 4;
	}
	return 0;
}

/* s as XML text or attribute value. */
static void
xml_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0) {
			putc('?', f);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\n': fputs("&#10;", f); break;
		case '\r': fputs("&#13;", f); break;
		case '\t': fputs("&#9;", f); break;
		default:
			putc(*p < 0x20 ? '?' : *p, f);
			break;
		}
		p++;
	}
}

int
ltb_verdicts_junit(FILE *f, const struct ltb_verdict *v, size_t n)
{
	size_t i, failures = 0;
	char line[1200];

	size_t errors = 0;

	/* Inconclusive is neither a pass nor a failure: JUnit's error. */
	for (i = 0; i < n; i++) {
		failures += !v[i].pass && !v[i].inconclusive;
		errors += v[i].inconclusive != 0;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuite name=\"ltb-assert\" tests=\"%zu\" failures=\"%zu\" "
	    "errors=\"%zu\" skipped=\"0\">\n", n, failures, errors);
	for (i = 0; i < n; i++) {
		ltb_verdict_line(&v[i], line, sizeof line);
		fputs("  <testcase classname=\"ltb-assert\" name=\"", f);
		xml_put(f, v[i].name);
		fputs("\">\n", f);
		if (!v[i].pass) {
			const char *tag = v[i].inconclusive ? "error" :
			    "failure";

			fprintf(f, "    <%s type=\"", tag);
			xml_put(f, ltb_gate_name(v[i].gate->kind));
			fputs("\" message=\"", f);
			xml_put(f, strchr(line, ' ') + 1);
			fputs("\">", f);
			xml_put(f, line);
			fprintf(f, "</%s>\n", tag);
		} else {
			fputs("    <system-out>", f);
			xml_put(f, line);
			fputs("</system-out>\n", f);
		}
		fputs("  </testcase>\n", f);
	}
	fputs("</testsuite>\n", f);
	if (fflush(f) == EOF || ferror(f)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
