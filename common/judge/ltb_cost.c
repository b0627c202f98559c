/*
 * ltb_cost.c: pairing runs and fitting the cost per span; see ltb_cost.h.
 *
 * A run's role is its arm ("test" or "base") when the plan gave one, else
 * traced (test) or NoOp (base). Two runs pair when they are the two roles
 * of one group: same client, label, rate, trial and pair number (not the
 * planted cost: in an A/A plan the test arm alone plants it). Anything else (a run whose partner is missing, or failed) is
 * counted, never silently fitted.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/ltb_cost.h"
#include "core/ltb_stats.h"
#include "records/ltb_records.h"

static int
role(const struct ltb_result *r)
{
	if (r->arm >= 0)
		return r->arm;
	return r->trace == 1 ? 1 : r->trace == 0 ? 0 : -1;
}

static int
same_num(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static int
same_group(const struct ltb_result *a, const struct ltb_result *b)
{
	return strcmp(a->client, b->client) == 0 &&
	    strcmp(a->label, b->label) == 0 &&
	    same_num(a->target_sps, b->target_sps) &&
	    same_num(a->trial, b->trial) && same_num(a->pair, b->pair);
}

static int
need(const struct ltb_result *r, double x, const char *key, char *err,
    size_t errlen)
{
	if (!isnan(x))
		return 0;
	snprintf(err, errlen, "%s:%lu: result has no \"%s\" (needed for the "
	    "cost per span)", r->src, r->line, key);
	errno = EINVAL;
	return -1;
}

/* The base run of test run t's group, in *base (NULL if none). -1 when
 * there are two: the input holds one plan's runs twice. */
static int
find_base(const struct ltb_results *rs, const struct ltb_result *t,
    const struct ltb_result **base, char *err, size_t errlen)
{
	size_t i;

	*base = NULL;
	for (i = 0; i < rs->n; i++) {
		const struct ltb_result *r = &rs->v[i];

		if (role(r) != 0 || !same_group(r, t))
			continue;
		if (*base != NULL) {
			snprintf(err, errlen, "%s:%lu and %s:%lu: two base "
			    "runs for the pair of %s:%lu: give each plan's "
			    "results once", (*base)->src, (*base)->line,
			    r->src, r->line, t->src, t->line);
			errno = EINVAL;
			return -1;
		}
		*base = r;
	}
	return 0;
}

static void
unknown(struct ltb_cost *c)
{
	c->known = c->resolved = 0;
	c->ns_per_span = c->lo = c->hi = c->se = NAN;
	c->intercept_s = c->intercept_lo = c->intercept_hi = NAN;
	c->df = c->resid_sd = NAN;
}

static int
fit(struct ltb_cost *c)
{
	double *x = malloc((c->npairs ? c->npairs : 1) * sizeof *x);
	double *y = malloc((c->npairs ? c->npairs : 1) * sizeof *y);
	struct ltb_fit f;
	double se, t;
	size_t i;

	if (x == NULL || y == NULL) {
		free(x);
		free(y);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < c->npairs; i++) {
		x[i] = c->pairs[i].spans;
		y[i] = c->pairs[i].extra_s;
	}
	ltb_ols(x, y, c->npairs, 0.95, &f);
	free(x);
	free(y);
	if (!f.known)
		return 0;
	c->known = 1;
	c->ns_per_span = f.slope * 1e9;
	/* Noise grows with the rate (the tracer's own CPU varies), and then
	 * the classical error is too small: take the larger of it and HC3. */
	se = fmax(f.slope_se, isnan(f.slope_se_hc3) ? 0 : f.slope_se_hc3);
	t = ltb_t_quantile(0.975, f.df);
	c->se = se * 1e9;
	c->lo = (f.slope - t * se) * 1e9;
	c->hi = (f.slope + t * se) * 1e9;
	c->intercept_s = f.intercept;
	c->intercept_lo = f.intercept_lo;
	c->intercept_hi = f.intercept_hi;
	c->df = f.df;
	c->resid_sd = f.resid_sd;
	c->resolved = c->lo > 0 || c->hi < 0;
	return 0;
}

int
ltb_cost_fit(const struct ltb_results *rs, struct ltb_cost *c, char *err,
    size_t errlen)
{
	unsigned char *paired = calloc(rs->n ? rs->n : 1, 1);
	size_t i;

	memset(c, 0, sizeof *c);
	unknown(c);
	c->method = "ols";
	c->unit = rs->n > 0 ? rs->v[0].unit : "span";
	c->pairs = calloc(rs->n ? rs->n : 1, sizeof *c->pairs);
	if (paired == NULL || c->pairs == NULL)
		goto nomem;
	for (i = 0; i < rs->n; i++) {
		const struct ltb_result *t = &rs->v[i], *b;
		struct ltb_cost_pair *p;

		if (role(t) != 1)
			continue;
		if (find_base(rs, t, &b, err, errlen) < 0)
			goto fail;
		if (b == NULL)
			continue;
		paired[i] = 1;
		paired[b - rs->v] = 1;
		if (t->failed || b->failed) {
			c->failed++;
			continue;
		}
		if (need(t, t->program_time, "program_time", err, errlen) < 0 ||
		    need(b, b->program_time, "program_time", err, errlen) < 0 ||
		    need(t, t->spans_sent, "spans_sent", err, errlen) < 0)
			goto fail;
		p = &c->pairs[c->npairs++];
		p->spans = t->spans_sent;
		p->extra_s = t->program_time - b->program_time;
		p->target_sps = t->target_sps;
		p->test = t;
		p->base = b;
	}
	for (i = 0; i < rs->n; i++)
		if (!paired[i] && role(&rs->v[i]) >= 0 && !rs->v[i].failed)
			c->unpaired++;
	free(paired);
	paired = NULL;	/* the failure path below frees it too */
	if (fit(c) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "%s", strerror(ENOMEM));
	errno = ENOMEM;
fail:
	free(paired);
	ltb_cost_free(c);
	return -1;
}

void
ltb_cost_free(struct ltb_cost *c)
{
	free(c->pairs);
	c->pairs = NULL;
	c->npairs = 0;
}

void
ltb_cost_line(const struct ltb_cost *c, char *buf, size_t len)
{
	const char *u = ltb_unit_word(c->unit);

	if (!c->known)
		snprintf(buf, len, "cost per %s not known: %zu pair%s (it "
		    "needs 3 or more, traced and NoOp at 2 rates or more)",
		    u, c->npairs, c->npairs == 1 ? "" : "s");
	else if (!c->resolved)
		snprintf(buf, len, "cost per %s not resolved: %.0f to %.0f "
		    "ns/%s over %zu pairs (more rates, trials or longer runs "
		    "would resolve it)", u, c->lo, c->hi, u, c->npairs);
	else
		snprintf(buf, len, "%.0f ns/%s (95%% CI %.0f to %.0f, OLS "
		    "over %zu pairs)", c->ns_per_span, u, c->lo, c->hi,
		    c->npairs);
}
