/*
 * ltb_bmf.c: verdicts' figures as Bencher Metric Format (see ltb_bmf.h
 * for the names). Every number written is one the verdict record carries
 * (ltb_gates.c, ltb_verdict_record), so what a tracking service plots is
 * what ltb-assert judged; unknown figures are left out rather than
 * written as something JSON can hold.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/ltb_bmf.h"
#include "judge/ltb_cost.h"
#include "records/ltb_records.h"

/* What the figures are named by: the benchmark's prefix and the unit's
 * words, singular and plural ("trace_point", "trace_points"). */
struct names {
	char client[256];
	char unit[32];
	char units[32];
	int bad;		/* out of memory */
};

/* s with its spaces as '_', into buf: measure names are one word. */
static void
word(char *buf, size_t len, const char *s)
{
	size_t i;

	snprintf(buf, len, "%s", s);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == ' ')
			buf[i] = '_';
}

/* The results' clients in the order they first appear, joined by '+':
 * one client is the usual case (a stage of gates.sh judges one); several
 * are named all, so that their figures never pass for one client's. */
static void
client_names(const struct ltb_results *rs, char *buf, size_t len)
{
	size_t i, j, used = 0;

	buf[0] = '\0';
	for (i = 0; i < rs->n; i++) {
		const char *c = rs->v[i].client;

		for (j = 0; j < i; j++)
			if (strcmp(rs->v[j].client, c) == 0)
				break;
		if (j < i || used >= len)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    used ? "+" : "", c);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "?");
}

/* The benchmark object called name in bmf, made when new. */
static cJSON *
benchmark(cJSON *bmf, const char *name, struct names *nm)
{
	cJSON *b = cJSON_GetObjectItemCaseSensitive(bmf, name);

	if (b == NULL && (b = cJSON_AddObjectToObject(bmf, name)) == NULL)
		nm->bad = 1;
	return b;
}

/*
 * Measure key = {"value": x, "lower_value": lo, "upper_value": hi} in the
 * benchmark called bench. Nothing when x is not finite (unknown: every
 * run failed; or a ratio over nothing), the bounds only when both are.
 */
static void
figure(cJSON *bmf, const char *bench, const char *key, double x, double lo,
    double hi, struct names *nm)
{
	cJSON *b, *m;

	if (!isfinite(x))
		return;
	if ((b = benchmark(bmf, bench, nm)) == NULL)
		return;
	/* A gate is written once, so a measure is too; were it given
	 * twice, the first stays rather than a duplicate key. */
	if (cJSON_GetObjectItemCaseSensitive(b, key) != NULL)
		return;
	if ((m = cJSON_AddObjectToObject(b, key)) == NULL ||
	    cJSON_AddNumberToObject(m, "value", x) == NULL) {
		nm->bad = 1;
		return;
	}
	if (isfinite(lo) && isfinite(hi) &&
	    (cJSON_AddNumberToObject(m, "lower_value", lo) == NULL ||
	    cJSON_AddNumberToObject(m, "upper_value", hi) == NULL))
		nm->bad = 1;
}

/* A fitted cost per span as measure prefix + "ns_per_" + unit. */
static void
cost_figure(cJSON *bmf, const char *bench, const char *prefix,
    const struct ltb_cost *c, struct names *nm)
{
	char key[96];

	if (c == NULL)
		return;
	snprintf(key, sizeof key, "%sns_per_%s", prefix, nm->unit);
	figure(bmf, bench, key, c->ns_per_span, c->lo, c->hi, nm);
}

/* The per-rate figures of max-overhead and max-memory-growth, a benchmark
 * a rate ("c/max-overhead/500sps"). */
static void
rate_figures(cJSON *bmf, const char *gate, const struct ltb_verdict *v,
    struct names *nm)
{
	char bench[512], key[96];
	size_t j;

	for (j = 0; j < v->nrates; j++) {
		const struct ltb_rate *rt = &v->rates[j];

		if (!isfinite(rt->target_sps))
			continue;
		snprintf(bench, sizeof bench, "%s/%s/%.15gsps", nm->client,
		    gate, rt->target_sps);
		if (v->gate->kind == LTB_GATE_MAX_MEMORY_GROWTH) {
			figure(bmf, bench, "memory_growth", rt->growth, NAN,
			    NAN, nm);
			continue;
		}
		figure(bmf, bench, "cpu_overhead", rt->overhead, rt->lo,
		    rt->hi, nm);
		snprintf(key, sizeof key, "ns_per_%s", nm->unit);
		figure(bmf, bench, key, rt->ns_per_span, NAN, NAN, nm);
	}
}

static void
verdict_figures(cJSON *bmf, const struct ltb_verdict *v, struct names *nm)
{
	const struct ltb_gate *g = v->gate;
	const char *gate = ltb_gate_name(g->kind);
	char bench[512], key[96];

	snprintf(bench, sizeof bench, "%s/%s", nm->client, gate);
	switch (g->kind) {
	case LTB_GATE_MAX_CPU:
		figure(bmf, bench, "cpu_usage", v->value, NAN, NAN, nm);
		break;
	case LTB_GATE_MAX_DROPPED:
		snprintf(key, sizeof key, "dropped_%s", nm->units);
		figure(bmf, bench, key, v->value, NAN, NAN, nm);
		break;
	case LTB_GATE_MAX_DROPPED_RATIO:
		figure(bmf, bench, "dropped_ratio", v->value, NAN, NAN, nm);
		break;
	case LTB_GATE_MAX_INVALID:
		snprintf(key, sizeof key, "invalid_%s", nm->units);
		figure(bmf, bench, key, v->value, NAN, NAN, nm);
		break;
	case LTB_GATE_MAX_OVERHEAD:
		figure(bmf, bench, "cpu_overhead", v->value, NAN, NAN, nm);
		cost_figure(bmf, bench, "", v->cost, nm);
		rate_figures(bmf, gate, v, nm);
		break;
	case LTB_GATE_MAX_MEMORY_GROWTH:
		figure(bmf, bench, "memory_growth", v->value, NAN, NAN, nm);
		rate_figures(bmf, gate, v, nm);
		break;
	case LTB_GATE_MAX_NS_PER_SPAN:
		if (v->cost == NULL)
			break;
		cost_figure(bmf, bench, "", v->cost, nm);
		figure(bmf, bench, "fixed_cost_s", v->cost->intercept_s,
		    v->cost->intercept_lo, v->cost->intercept_hi, nm);
		break;
	case LTB_GATE_MAX_REGRESSION:
		figure(bmf, bench, "relative_change", v->value, v->rel_lo,
		    v->rel_hi, nm);
		cost_figure(bmf, bench, "", v->cost, nm);
		cost_figure(bmf, bench, "baseline_", v->base_cost, nm);
		snprintf(key, sizeof key, "ns_per_%s_change", nm->unit);
		figure(bmf, bench, key, v->change_ns, v->change_lo,
		    v->change_hi, nm);
		break;
	case LTB_GATE_MIN_THROUGHPUT:
		/* Its rates are max-overhead's figures, written there. */
		snprintf(bench, sizeof bench, "%s/%s@%.15g", nm->client, gate,
		    g->at_overhead);
		snprintf(key, sizeof key, "%s_per_second", nm->units);
		figure(bmf, bench, key, v->value, NAN, NAN, nm);
		break;
	case LTB_GATE_EXPECT:
	case LTB_GATE_PLAN:
	default:
		/* A field the user named, a count of runs: no figure of the
		 * tracer to track. */
		break;
	}
}

cJSON *
ltb_bmf(const struct ltb_verdict *v, size_t n, const struct ltb_results *rs)
{
	cJSON *bmf = cJSON_CreateObject();
	struct names nm;
	const char *unit = rs->n > 0 ? rs->v[0].unit : "span";
	size_t i;

	if (bmf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(&nm, 0, sizeof nm);
	client_names(rs, nm.client, sizeof nm.client);
	/* Every gate refused results of two units, so the first's is all's. */
	word(nm.unit, sizeof nm.unit, unit);
	word(nm.units, sizeof nm.units, ltb_unit_plural(unit));
	for (i = 0; i < n && !nm.bad; i++)
		verdict_figures(bmf, &v[i], &nm);
	if (nm.bad) {
		cJSON_Delete(bmf);
		errno = ENOMEM;
		return NULL;
	}
	return bmf;
}

int
ltb_bmf_write(FILE *f, const struct ltb_verdict *v, size_t n,
    const struct ltb_results *rs)
{
	cJSON *bmf = ltb_bmf(v, n, rs);
	char *text;

	if (bmf == NULL)
		return -1;
	text = cJSON_Print(bmf);
	cJSON_Delete(bmf);
	if (text == NULL) {
		errno = ENOMEM;
		return -1;
	}
	errno = 0;
	fputs(text, f);
	putc('\n', f);
	free(text);
	if (fflush(f) == EOF || ferror(f)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
