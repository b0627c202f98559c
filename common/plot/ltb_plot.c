/*
 * ltb_plot.c: ltb-plot's records and aggregation; see ltb_plot.h.
 *
 * Result records become struct ltb_plot_run, checked field by field so
 * that a bad record is named by file and line before anything is drawn.
 * The aggregates the graphs need (per-rate means and spreads, the
 * tracer's own CPU, memory over time, the four disconnect runs) are
 * computed here, apart from the gnuplot programs (ltb_plot_gp.c) so they
 * can be tested alone. The cost per span is ltb-assert's own fit
 * (judge/ltb_cost.h) over copies of the records, so that the graph and the
 * gate never disagree.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ltb_jsonl.h"
#include "plot/ltb_plot.h"
#include "core/ltb_stats.h"
#include "judge/ltb_gates.h"
#include "records/ltb_records.h"

static const char *const graph_names[LTB_PLOT_NGRAPHS] = {
	"disconnect", "memory", "cpu", "dropped"
};

const char *
ltb_plot_graph_name(enum ltb_plot_graph g)
{
	return (unsigned)g < LTB_PLOT_NGRAPHS ? graph_names[g] : "?";
}

int
ltb_plot_graph_parse(const char *s)
{
	int g;

	for (g = 0; g < LTB_PLOT_NGRAPHS; g++)
		if (strcmp(s, graph_names[g]) == 0)
			return g;
	return -1;
}

enum ltb_plot_format
ltb_plot_format_of(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n >= 4 && strcasecmp(path + n - 4, ".svg") == 0 ?
	    LTB_PLOT_SVG : LTB_PLOT_PNG;
}

/* Grow *v (of element size) so that one more fits. */
static int
grow(void *v, size_t size, size_t n, size_t *cap)
{
	void **p = v, *q;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if ((q = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = q;
	*cap = ncap;
	return 0;
}

static void
run_free(struct ltb_plot_run *r)
{
	free(r->client);
	free(r->label);
	free(r->cpu_list);
	free(r->memory_list);
	free(r->events);
	free(r->error);
	cJSON_Delete(r->rec);
}

void
ltb_plot_data_free(struct ltb_plot_data *d)
{
	size_t i;

	for (i = 0; i < d->nruns; i++)
		run_free(&d->runs[i]);
	for (i = 0; i < d->nverdicts; i++)
		cJSON_Delete(d->verdicts[i]);
	for (i = 0; i < d->ncalibrations; i++)
		cJSON_Delete(d->calibrations[i]);
	for (i = 0; i < d->nplan_ends; i++)
		cJSON_Delete(d->plan_ends[i].rec);
	free(d->runs);
	free(d->verdicts);
	free(d->calibrations);
	free(d->plan_ends);
	memset(d, 0, sizeof *d);
}

/*
 * Reading a result: each helper checks one field and says what is wrong
 * with it in err, after the record's place.
 */
struct reading {
	const cJSON *rec;
	const char *where;
	char *err;
	size_t errlen;
};

static int
bad(struct reading *rd, const char *key, const char *what)
{
	snprintf(rd->err, rd->errlen, "%s: result with %s \"%s\"", rd->where,
	    what, key);
	errno = EINVAL;
	return -1;
}

/* A number, or NAN when absent or null; not a number is an error. */
static int
num(struct reading *rd, const cJSON *obj, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NAN;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return bad(rd, key, "a non-number");
	*out = v->valuedouble;
	return 0;
}

/* A copy of a string, *out NULL when absent or null. */
static int
str(struct reading *rd, const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rd->rec, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return bad(rd, key, "a non-string");
	if ((*out = strdup(v->valuestring)) == NULL)
		return -1;
	return 0;
}

static int
numlist(struct reading *rd, const char *key, double **out, size_t *n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rd->rec, key), *e;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return bad(rd, key, "a non-list");
	if (cJSON_GetArraySize(v) == 0)
		return 0;
	if ((*out = calloc((size_t)cJSON_GetArraySize(v), sizeof **out)) ==
	    NULL)
		return -1;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
			return bad(rd, key, "a non-number in");
		(*out)[i++] = e->valuedouble;
	}
	*n = i;
	return 0;
}

static int
events(struct reading *rd, struct ltb_plot_run *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rd->rec, "events");
	const cJSON *e, *t, *what, *for_s, *answer;
	struct ltb_plot_event *ev;

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return bad(rd, "events", "a non-list");
	if (cJSON_GetArraySize(v) == 0)
		return 0;
	if ((r->events = calloc((size_t)cJSON_GetArraySize(v),
	    sizeof *r->events)) == NULL)
		return -1;
	cJSON_ArrayForEach(e, v) {
		t = cJSON_GetObjectItemCaseSensitive(e, "t");
		what = cJSON_GetObjectItemCaseSensitive(e, "event");
		if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble) ||
		    !cJSON_IsString(what))
			return bad(rd, "events", "a malformed event in");
		ev = &r->events[r->nevents];
		if (strcmp(what->valuestring, "script_step") == 0) {
			for_s = cJSON_GetObjectItemCaseSensitive(e, "for_s");
			answer = cJSON_GetObjectItemCaseSensitive(e, "answer");
			if (!cJSON_IsNumber(for_s) ||
			    !isfinite(for_s->valuedouble) ||
			    for_s->valuedouble <= 0 ||
			    (answer != NULL && !cJSON_IsString(answer)))
				return bad(rd, "events", "a malformed "
				    "script_step in");
			ev->script = 1;
			ev->for_s = for_s->valuedouble;
			snprintf(ev->answer, sizeof ev->answer, "%s",
			    answer != NULL ? answer->valuestring : "");
		} else if (strcmp(what->valuestring, "satellite_down") != 0 &&
		    strcmp(what->valuestring, "satellite_up") != 0)
			continue;	/* events this reader does not know */
		ev->t = t->valuedouble;
		ev->up = strcmp(what->valuestring, "satellite_up") == 0;
		r->nevents++;
	}
	return 0;
}

static int
read_result(struct reading *rd, struct ltb_plot_run *r)
{
	static const struct {
		const char *key;
		size_t off;
	} nums[] = {
#define N(f) { #f, offsetof(struct ltb_plot_run, f) }
		N(runtime), N(trial), N(spans_sent), N(spans_received),
		N(dropped), N(program_time), N(clock_time), N(cpu_usage),
		N(sps), N(memory_last), N(memory_max), N(exit_status),
#undef N
	};
	const cJSON *trace = cJSON_GetObjectItemCaseSensitive(rd->rec,
	    "trace"), *noise;
	size_t i;

	if (str(rd, "client", &r->client) < 0)
		return -1;
	if (r->client == NULL)
		return bad(rd, "client", "no");
	if ((r->unit = ltb_unit(rd->rec)) == NULL)
		return bad(rd, "unit", "an unknown (span, measurement or "
		    "trace point)");
	if (!cJSON_IsBool(trace))
		return bad(rd, "trace", trace ? "a non-boolean" : "no");
	r->trace = cJSON_IsTrue(trace);
	if (num(rd, rd->rec, "target_sps", &r->target_sps) < 0)
		return -1;
	if (isnan(r->target_sps))
		return bad(rd, "target_sps", "no");
	for (i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (num(rd, rd->rec, nums[i].key,
		    (double *)((char *)r + nums[i].off)) < 0)
			return -1;
	if (str(rd, "label", &r->label) < 0 || str(rd, "error", &r->error) < 0)
		return -1;
	if (r->label == NULL && (r->label = strdup("")) == NULL)
		return -1;
	if (r->error != NULL && r->error[0] == '\0') {
		free(r->error);
		r->error = NULL;
	}
	if (numlist(rd, "cpu_list", &r->cpu_list, &r->ncpu) < 0 ||
	    numlist(rd, "memory_list", &r->memory_list, &r->nmemory) < 0 ||
	    events(rd, r) < 0)
		return -1;
	noise = cJSON_GetObjectItemCaseSensitive(rd->rec, "noise");
	r->steal_s = r->other_cpu_s = r->satellite_cpu_s = r->loadavg = NAN;
	if (noise != NULL && !cJSON_IsNull(noise)) {
		if (!cJSON_IsObject(noise))
			return bad(rd, "noise", "a non-object");
		if (num(rd, noise, "steal_s", &r->steal_s) < 0 ||
		    num(rd, noise, "other_cpu_s", &r->other_cpu_s) < 0 ||
		    num(rd, noise, "satellite_cpu_s",
		    &r->satellite_cpu_s) < 0 ||
		    num(rd, noise, "loadavg", &r->loadavg) < 0)
			return -1;
	}
	return 0;
}

static int
keep(cJSON ***v, size_t *n, size_t *cap, cJSON *rec)
{
	if (grow(v, sizeof **v, *n, cap) < 0)
		return -1;
	(*v)[(*n)++] = rec;
	return 0;
}

int
ltb_plot_add_record(struct ltb_plot_data *d, cJSON *rec, const char *file,
    unsigned long line, char *err, size_t errlen)
{
	const char *type = ltb_json_str(rec, "type", "");
	struct reading rd = { rec, NULL, err, errlen };
	struct ltb_plot_run *r;
	char where[256];
	int rc = 0;

	snprintf(where, sizeof where, "%s:%lu", file, line);
	rd.where = where;
	if (strcmp(type, "verdict") == 0)
		rc = keep(&d->verdicts, &d->nverdicts, &d->verdicts_cap, rec);
	else if (strcmp(type, "calibration") == 0)
		rc = keep(&d->calibrations, &d->ncalibrations,
		    &d->calibrations_cap, rec);
	else if (strcmp(type, "plan_end") == 0) {
		if ((rc = grow(&d->plan_ends, sizeof *d->plan_ends,
		    d->nplan_ends, &d->plan_ends_cap)) == 0) {
			d->plan_ends[d->nplan_ends].rec = rec;
			snprintf(d->plan_ends[d->nplan_ends].where,
			    sizeof d->plan_ends[d->nplan_ends].where, "%s",
			    where);
			d->nplan_ends++;
		}
	} else if (strcmp(type, "result") != 0)
		cJSON_Delete(rec);
	else if (grow(&d->runs, sizeof *d->runs, d->nruns,
	    &d->runs_cap) < 0)
		rc = -1;
	else {
		r = &d->runs[d->nruns];
		memset(r, 0, sizeof *r);
		snprintf(r->where, sizeof r->where, "%s", where);
		snprintf(r->file, sizeof r->file, "%s", file);
		r->line = line;
		if (read_result(&rd, r) < 0) {
			run_free(r);
			cJSON_Delete(rec);
			if (errno == EINVAL)
				return -1;
			snprintf(err, errlen, "%s: %s", where,
			    strerror(ENOMEM));
			errno = ENOMEM;
			return -1;
		}
		r->rec = rec;
		d->nruns++;
		return 0;
	}
	if (rc < 0) {
		cJSON_Delete(rec);
		snprintf(err, errlen, "%s: %s", where, strerror(ENOMEM));
		errno = ENOMEM;
	}
	return rc;
}

long
ltb_plot_select(const struct ltb_plot_data *d, const char *label,
    struct ltb_plot_data *view)
{
	size_t i;

	memset(view, 0, sizeof *view);
	if (d->nruns == 0)
		return 0;
	if ((view->runs = calloc(d->nruns, sizeof *view->runs)) == NULL)
		return -1;
	for (i = 0; i < d->nruns; i++)
		if (strcmp(d->runs[i].label, label) == 0)
			view->runs[view->nruns++] = d->runs[i];
	view->runs_cap = d->nruns;
	return (long)view->nruns;
}

int
ltb_plot_run_failed(const struct ltb_plot_run *r)
{
	return r->error != NULL ||
	    (!isnan(r->exit_status) && r->exit_status != 0);
}

int
ltb_plot_client(const struct ltb_plot_data *d, const char *want,
    const char **client, char *err, size_t errlen)
{
	size_t i, j, used;
	int seen;

	*client = NULL;
	for (i = 0; i < d->nruns; i++) {
		if (want != NULL && strcmp(d->runs[i].client, want) != 0)
			continue;
		if (*client == NULL)
			*client = d->runs[i].client;
		else if (strcmp(*client, d->runs[i].client) != 0)
			break;
	}
	if (*client == NULL) {
		snprintf(err, errlen, "no results from client '%s'", want ?
		    want : "");
		errno = EINVAL;
		return -1;
	}
	if (i == d->nruns)
		return 0;
	used = (size_t)snprintf(err, errlen, "results from several clients (");
	for (i = 0; i < d->nruns && used < errlen; i++) {
		for (seen = 0, j = 0; j < i && !seen; j++)
			seen = strcmp(d->runs[j].client, d->runs[i].client) ==
			    0;
		if (!seen)
			used += (size_t)snprintf(err + used, errlen - used,
			    "%s%s", i ? ", " : "", d->runs[i].client);
	}
	if (used < errlen)
		snprintf(err + used, errlen - used,
		    "): choose one with --client");
	*client = NULL;
	errno = EINVAL;
	return -1;
}

/* A run the graphs of client may use. */
static int
usable(const struct ltb_plot_run *r, const char *client)
{
	return strcmp(r->client, client) == 0 && !ltb_plot_run_failed(r);
}

/* Mean and spread of x[0..n-1]. */
static void
stat_of(const double *x, size_t n, enum ltb_plot_spread spread,
    struct ltb_plot_stat *s)
{
	struct ltb_interval ci;
	size_t i;

	s->n = n;
	s->mean = s->lo = s->hi = NAN;
	if (n == 0)
		return;
	s->mean = ltb_mean(x, n);
	s->lo = s->hi = x[0];
	for (i = 1; i < n; i++) {
		if (x[i] < s->lo)
			s->lo = x[i];
		if (x[i] > s->hi)
			s->hi = x[i];
	}
	if (spread == LTB_PLOT_CI95) {
		s->lo = s->hi = s->mean;
		if (ltb_mean_interval(x, n, 0.95, &ci) == 0 && ci.known) {
			s->lo = ci.lo;
			s->hi = ci.hi;
		}
	}
}

/* Traced minus NoOp: the difference of means, spread either from the
 * extreme pairs of trials or Welch's interval. */
static void
overhead_of(const double *t, size_t nt, const double *u, size_t nu,
    enum ltb_plot_spread spread, struct ltb_plot_stat *s)
{
	struct ltb_plot_stat a, b;
	struct ltb_interval ci;

	s->n = 0;
	s->mean = s->lo = s->hi = NAN;
	if (nt == 0 || nu == 0)
		return;
	stat_of(t, nt, LTB_PLOT_MINMAX, &a);
	stat_of(u, nu, LTB_PLOT_MINMAX, &b);
	s->n = nt < nu ? nt : nu;
	s->mean = a.mean - b.mean;
	s->lo = a.lo - b.hi;
	s->hi = a.hi - b.lo;
	if (spread == LTB_PLOT_CI95) {
		s->lo = s->hi = s->mean;
		if (ltb_welch_interval(t, nt, u, nu, 0.95, &ci) == 0 &&
		    ci.known) {
			s->lo = ci.lo;
			s->hi = ci.hi;
		}
	}
}

/*
 * At a rate the traced runs did not hold: each run's CPU-seconds per
 * second at the traced runs' pace (program_time * pace / spans_sent, as
 * the judge's max-overhead) into t (traced) and u (NoOp), in the order
 * ltb_plot_rates took them; 0, or -1 (t and u untouched) when a run
 * lacks program_time or spans_sent, and the rate keeps cpu_usage.
 */
static int
paced_cpu(const struct ltb_plot_data *d, const char *client, double rate,
    double pace, double *t, double *u, size_t nt, size_t nu)
{
	size_t i, a = 0, b = 0;

	for (i = 0; i < d->nruns; i++) {
		const struct ltb_plot_run *r = &d->runs[i];

		if (!usable(r, client) || isnan(r->cpu_usage) ||
		    isnan(r->sps) || r->target_sps != rate)
			continue;
		if (isnan(r->program_time) || isnan(r->spans_sent) ||
		    r->spans_sent <= 0)
			return -1;
	}
	for (i = 0; i < d->nruns; i++) {
		const struct ltb_plot_run *r = &d->runs[i];
		double x;

		if (!usable(r, client) || isnan(r->cpu_usage) ||
		    isnan(r->sps) || r->target_sps != rate)
			continue;
		x = ltb_cpu_at_pace(r->program_time, r->spans_sent, pace);
		if (r->trace && a < nt)
			t[a++] = x;
		else if (!r->trace && b < nu)
			u[b++] = x;
	}
	return 0;
}

long
ltb_plot_rates(const struct ltb_plot_data *d, const char *client,
    enum ltb_plot_spread spread, struct ltb_plot_rate **out)
{
	double *rates = NULL, *tcpu = NULL, *tsps = NULL, *ucpu = NULL;
	double *usps = NULL, *pct = NULL;
	size_t i, j, k, nrates = 0, nt, nu, np;
	struct ltb_plot_rate *v = NULL;
	const struct ltb_plot_run *r;

	*out = NULL;
	if (d->nruns == 0)
		return 0;
	if ((rates = calloc(d->nruns, sizeof *rates)) == NULL ||
	    (tcpu = calloc(d->nruns, sizeof *tcpu)) == NULL ||
	    (tsps = calloc(d->nruns, sizeof *tsps)) == NULL ||
	    (ucpu = calloc(d->nruns, sizeof *ucpu)) == NULL ||
	    (usps = calloc(d->nruns, sizeof *usps)) == NULL ||
	    (pct = calloc(d->nruns, sizeof *pct)) == NULL)
		goto fail;

	/* The distinct rates with a usable run measuring CPU and rate. */
	for (i = 0; i < d->nruns; i++) {
		r = &d->runs[i];
		if (!usable(r, client) || isnan(r->cpu_usage) ||
		    isnan(r->sps))
			continue;
		for (j = 0; j < nrates && rates[j] != r->target_sps; j++)
			;
		if (j == nrates)
			rates[nrates++] = r->target_sps;
	}
	qsort(rates, nrates, sizeof *rates, ltb_cmp_double);
	if (nrates == 0)
		goto out;
	if ((v = calloc(nrates, sizeof *v)) == NULL)
		goto fail;

	for (k = 0; k < nrates; k++) {
		nt = nu = np = 0;
		for (i = 0; i < d->nruns; i++) {
			r = &d->runs[i];
			if (!usable(r, client) || isnan(r->cpu_usage) ||
			    isnan(r->sps) || r->target_sps != rates[k])
				continue;
			if (r->trace) {
				tcpu[nt] = r->cpu_usage;
				tsps[nt++] = r->sps;
				if (!isnan(r->dropped) &&
				    !isnan(r->spans_sent) &&
				    r->spans_sent > 0)
					pct[np++] = r->dropped /
					    r->spans_sent * 100;
			} else {
				ucpu[nu] = r->cpu_usage;
				usps[nu++] = r->sps;
			}
		}
		v[k].target_sps = rates[k];
		stat_of(usps, nu, spread, &v[k].noop_sps);
		stat_of(ucpu, nu, spread, &v[k].noop_cpu);
		stat_of(tsps, nt, spread, &v[k].traced_sps);
		stat_of(tcpu, nt, spread, &v[k].traced_cpu);
		stat_of(pct, np, spread, &v[k].dropped_pct);
		overhead_of(tcpu, nt, ucpu, nu, spread, &v[k].overhead);
		if (nt > 0 && nu > 0 && ltb_fell_behind(v[k].traced_sps.mean,
		    v[k].noop_sps.mean) &&
		    paced_cpu(d, client, rates[k], v[k].traced_sps.mean, tcpu,
		    ucpu, nt, nu) == 0) {
			v[k].lagged = 1;
			overhead_of(tcpu, nt, ucpu, nu, spread,
			    &v[k].overhead);
		}
	}
out:
	free(rates);
	free(tcpu);
	free(tsps);
	free(ucpu);
	free(usps);
	free(pct);
	*out = v;
	return (long)nrates;
fail:
	free(rates);
	free(tcpu);
	free(tsps);
	free(ucpu);
	free(usps);
	free(pct);
	free(v);
	errno = ENOMEM;
	return -1;
}

double
ltb_plot_sample_time(const struct ltb_plot_run *r, double interval,
    size_t i)
{
	if (interval <= 0) {
		if (r->nmemory == 0 || isnan(r->clock_time) ||
		    r->clock_time <= 0)
			interval = 1;
		else
			interval = r->clock_time / (double)r->nmemory;
	}
	return (double)(i + 1) * interval;
}

void
ltb_plot_series_free(struct ltb_plot_series *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s != NULL; i++) {
		free(s[i].t);
		free(s[i].mib);
	}
	free(s);
}

/* Runs with satellite events belong to the disconnect graph. */
static int
memory_run(const struct ltb_plot_run *r, const char *client)
{
	return usable(r, client) && r->trace && r->nmemory > 0 &&
	    r->nevents == 0;
}

static int
cmp_series(const void *a, const void *b)
{
	const struct ltb_plot_series *x = a, *y = b;

	if (x->target_sps != y->target_sps)
		return x->target_sps < y->target_sps ? -1 : 1;
	if (x->runtime != y->runtime)
		return x->runtime < y->runtime ? -1 : 1;
	return 0;
}

/* The same runtime: both unknown, or equal. */
static int
same_runtime(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

long
ltb_plot_memory_series(const struct ltb_plot_data *d, const char *client,
    double interval, struct ltb_plot_series **out)
{
	struct ltb_plot_series *v = NULL, *s;
	size_t i, j, k, n = 0, *count = NULL;
	const struct ltb_plot_run *r;

	*out = NULL;
	if (d->nruns == 0)
		return 0;
	if ((v = calloc(d->nruns, sizeof *v)) == NULL)
		goto fail;
	/* The groups, with their longest memory_list. */
	for (i = 0; i < d->nruns; i++) {
		r = &d->runs[i];
		if (!memory_run(r, client))
			continue;
		for (j = 0; j < n && !(v[j].target_sps == r->target_sps &&
		    same_runtime(v[j].runtime, r->runtime)); j++)
			;
		if (j == n) {
			v[n].target_sps = r->target_sps;
			v[n++].runtime = r->runtime;
		}
		v[j].nruns++;
		if (r->nmemory > v[j].n)
			v[j].n = r->nmemory;
	}
	if (n == 0) {
		free(v);
		return 0;
	}
	qsort(v, n, sizeof *v, cmp_series);
	for (j = 0; j < n; j++) {
		s = &v[j];
		if ((s->t = calloc(s->n, sizeof *s->t)) == NULL ||
		    (s->mib = calloc(s->n, sizeof *s->mib)) == NULL ||
		    (count = calloc(s->n, sizeof *count)) == NULL)
			goto fail;
		for (i = 0; i < d->nruns; i++) {
			r = &d->runs[i];
			if (!memory_run(r, client) ||
			    r->target_sps != s->target_sps ||
			    !same_runtime(r->runtime, s->runtime))
				continue;
			for (k = 0; k < r->nmemory; k++) {
				s->t[k] += ltb_plot_sample_time(r, interval,
				    k);
				s->mib[k] += r->memory_list[k] / 1048576.0;
				count[k]++;
			}
		}
		for (k = 0; k < s->n; k++) {
			s->t[k] /= (double)count[k];
			s->mib[k] /= (double)count[k];
		}
		free(count);
		count = NULL;
	}
	*out = v;
	return (long)n;
fail:
	free(count);
	ltb_plot_series_free(v, n);
	errno = ENOMEM;
	return -1;
}

int
ltb_plot_disconnect_pick(const struct ltb_plot_data *d, const char *client,
    const struct ltb_plot_run *pick[LTB_PLOT_DISC_N])
{
	const struct ltb_plot_run *r;
	int kind, found = 0, down, up, script;
	size_t i, e;

	for (kind = 0; kind < LTB_PLOT_DISC_N; kind++)
		pick[kind] = NULL;
	for (i = 0; i < d->nruns; i++) {
		r = &d->runs[i];
		if (!usable(r, client) || r->nmemory == 0)
			continue;
		for (down = up = script = 0, e = 0; e < r->nevents; e++) {
			if (r->events[e].script)
				script++;
			else if (r->events[e].up)
				up++;
			else
				down++;
		}
		if (!r->trace)
			kind = LTB_PLOT_DISC_NOOP;
		else if (script > 0)
			kind = LTB_PLOT_DISC_SCRIPT;
		else if (down == 0 && up == 0)
			kind = LTB_PLOT_DISC_TRACED;
		else if (down > 0 && up == 0)
			kind = LTB_PLOT_DISC_DOWN;
		else if (down > 0)
			kind = LTB_PLOT_DISC_DOWNUP;
		else
			continue;
		if (pick[kind] == NULL) {
			pick[kind] = r;
			found++;
		}
	}
	return found;
}

const char *
ltb_plot_graph_label(enum ltb_plot_graph g, const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o)
{
	const char *name = ltb_plot_graph_name(g);
	size_t i;

	if (o->label != NULL)
		return o->label;
	for (i = 0; i < d->nruns; i++)
		if (strcmp(d->runs[i].label, name) == 0)
			return name;
	return NULL;
}

void
ltb_plot_cost_free(struct ltb_plot_cost *pc)
{
	ltb_cost_free(&pc->fit);
	free(pc->rates);
	free(pc->points);
	pc->rates = NULL;
	pc->points = NULL;
	pc->nrates = 0;
}

/* The pairs as points, and the pairs of each rate (mean spans, achieved
 * rate and clock time, rates ascending), while their runs are still
 * there. */
static int
cost_rates(struct ltb_plot_cost *pc)
{
	const struct ltb_cost *c = &pc->fit;
	struct ltb_plot_cost_rate *v;
	double *rates;
	size_t i, k, n = 0, *nclock, *nsps;

	if (c->npairs == 0)
		return 0;
	v = calloc(c->npairs, sizeof *v);
	rates = calloc(c->npairs, sizeof *rates);
	nclock = calloc(c->npairs, sizeof *nclock);
	nsps = calloc(c->npairs, sizeof *nsps);
	pc->points = calloc(c->npairs, sizeof *pc->points);
	if (v == NULL || rates == NULL || nclock == NULL || nsps == NULL ||
	    pc->points == NULL)
		goto fail;
	for (i = 0; i < c->npairs; i++) {
		for (k = 0; k < n && rates[k] != c->pairs[i].target_sps; k++)
			;
		if (k == n)
			rates[n++] = c->pairs[i].target_sps;
	}
	qsort(rates, n, sizeof *rates, ltb_cmp_double);
	for (i = 0; i < c->npairs; i++) {
		const struct ltb_cost_pair *p = &c->pairs[i];
		struct ltb_plot_cost_point *pt = &pc->points[i];
		double clock = p->test->clock_time, sps = p->test->sps;

		for (k = 0; rates[k] != p->target_sps; k++)
			;
		v[k].npairs++;
		v[k].spans += p->spans;
		pt->target_sps = p->target_sps;
		pt->sps = sps;
		pt->cpu = !isnan(clock) && clock > 0 ? p->extra_s / clock : NAN;
		if (!isnan(clock) && clock > 0) {
			v[k].clock_s += clock;
			nclock[k]++;
		}
		if (!isnan(sps)) {
			v[k].sps += sps;
			nsps[k]++;
		}
	}
	for (k = 0; k < n; k++) {
		v[k].target_sps = rates[k];
		v[k].spans /= (double)v[k].npairs;
		v[k].clock_s = nclock[k] ? v[k].clock_s / (double)nclock[k] :
		    NAN;
		v[k].sps = nsps[k] ? v[k].sps / (double)nsps[k] : rates[k];
		v[k].cpu = v[k].lo = v[k].hi = NAN;
	}
	free(rates);
	free(nclock);
	free(nsps);
	pc->rates = v;
	pc->nrates = n;
	return 0;
fail:
	free(v);
	free(rates);
	free(nclock);
	free(nsps);
	return -1;
}

/* The fitted line as CPU at each rate, with the 95% interval of the line
 * itself (of the mean extra CPU at those spans, not of one run's):
 * t * sqrt(s^2 / n + (x - mean x)^2 * se^2), se the slope's standard error
 * as the fit reports it (the larger of the classical and HC3), so that the
 * band is no narrower than the interval the text gives. */
static void
cost_line(struct ltb_plot_cost *pc)
{
	const struct ltb_cost *c = &pc->fit;
	double xbar = 0, t, a, b, se, y, half;
	size_t i;

	if (!c->known)
		return;
	for (i = 0; i < c->npairs; i++)
		xbar += c->pairs[i].spans;
	xbar /= (double)c->npairs;
	t = ltb_t_quantile(0.975, c->df);
	a = c->intercept_s;
	b = c->ns_per_span / 1e9;
	se = c->se / 1e9;
	for (i = 0; i < pc->nrates; i++) {
		struct ltb_plot_cost_rate *r = &pc->rates[i];

		if (isnan(r->clock_s))
			continue;
		y = a + b * r->spans;
		half = t * sqrt(c->resid_sd * c->resid_sd / (double)c->npairs +
		    (r->spans - xbar) * (r->spans - xbar) * se * se);
		r->cpu = y / r->clock_s;
		r->lo = (y - half) / r->clock_s;
		r->hi = (y + half) / r->clock_s;
	}
}

int
ltb_plot_unit(const struct ltb_plot_data *d, const char *client,
    const char **unit, char *err, size_t errlen)
{
	const struct ltb_plot_run *first = NULL;
	size_t i;

	*unit = "span";
	for (i = 0; i < d->nruns; i++) {
		const struct ltb_plot_run *r = &d->runs[i];

		if (client != NULL && strcmp(r->client, client) != 0)
			continue;
		if (first == NULL) {
			first = r;
			*unit = r->unit;
		} else if (strcmp(r->unit, first->unit) != 0) {
			snprintf(err, errlen, "%s counts %s, %s %s: one graph "
			    "draws one unit (choose the runs with --label or "
			    "--client)", first->where,
			    ltb_unit_plural(first->unit), r->where,
			    ltb_unit_plural(r->unit));
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

int
ltb_plot_cost(const struct ltb_plot_data *d, const char *client,
    struct ltb_plot_cost *pc)
{
	struct ltb_results rs = LTB_RESULTS_ZERO;
	char why[400];
	size_t i;
	cJSON *dup;
	int rc = -1;

	memset(pc, 0, sizeof *pc);
	for (i = 0; i < d->nruns; i++) {
		const struct ltb_plot_run *r = &d->runs[i];

		if (r->rec == NULL || strcmp(r->client, client) != 0)
			continue;
		/* the results own what they are given; d keeps its own */
		if ((dup = cJSON_Duplicate(r->rec, 1)) == NULL ||
		    ltb_results_add(&rs, dup, r->file, r->line) < 0)
			goto out;
	}
	if (ltb_cost_fit(&rs, &pc->fit, why, sizeof why) < 0) {
		if (errno != EINVAL)
			goto out;
		/* what the fit needs is missing: no fit, and why */
		memset(&pc->fit, 0, sizeof pc->fit);
		pc->fit.ns_per_span = pc->fit.lo = pc->fit.hi = NAN;
		pc->fit.method = "ols";
		pc->fit.unit = rs.n > 0 ? rs.v[0].unit : "span";
		snprintf(pc->line, sizeof pc->line, "cost per %s not "
		    "known: %s", ltb_unit_word(pc->fit.unit), why);
		rc = 0;
		goto out;
	}
	if (cost_rates(pc) < 0)
		goto out;
	cost_line(pc);
	/* ltb_cost_line names the cost per unit but when it is resolved */
	i = pc->fit.known && pc->fit.resolved ? (size_t)snprintf(pc->line,
	    sizeof pc->line, "cost per %s: ",
	    ltb_unit_word(pc->fit.unit)) : 0;
	ltb_cost_line(&pc->fit, pc->line + i, sizeof pc->line - i);
	rc = 0;
out:
	/* the pairs outlive the runs they were made of */
	for (i = 0; i < pc->fit.npairs; i++)
		pc->fit.pairs[i].test = pc->fit.pairs[i].base = NULL;
	ltb_results_free(&rs);
	if (rc < 0) {
		ltb_plot_cost_free(pc);
		errno = ENOMEM;
	}
	return rc;
}

int
ltb_plot_cpu_cost(const struct ltb_plot_data *d,
    const struct ltb_plot_opts *o, struct ltb_plot_cost *pc, char *err,
    size_t errlen)
{
	const char *label = ltb_plot_graph_label(LTB_PLOT_CPU, d, o);
	struct ltb_plot_data view = LTB_PLOT_DATA_ZERO;
	const struct ltb_plot_data *runs = d;
	const char *client;
	int rc;

	memset(pc, 0, sizeof *pc);
	if (label != NULL) {
		if (ltb_plot_select(d, label, &view) < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		runs = &view;
	}
	rc = ltb_plot_client(runs, o->client, &client, err, errlen);
	if (rc == 0 && (rc = ltb_plot_cost(runs, client, pc)) < 0)
		snprintf(err, errlen, "%s", strerror(errno));
	free(view.runs);
	return rc;
}
