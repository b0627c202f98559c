/*
 * ltb_records.c: the record schemas and the one checker; see ltb_records.h.
 *
 * A schema is a table of fields. Adding a field to a record is one line
 * here, plus the writer that fills it; every reader then refuses the same
 * wrong values. Bounds are what makes a figure meaningful, not what is
 * likely: a CPU share can exceed 1 on a machine with cores, but it is
 * never negative.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/ltb_records.h"

enum ftype {
	F_NUM,		/* a finite number */
	F_COUNT,	/* a whole number >= 0 */
	F_INT,		/* a whole number */
	F_BOOL,
	F_STR,
	F_NUMS,		/* a list of finite numbers */
	F_STRS,		/* a list of strings */
	F_COUNTS,	/* an object of NAME: count */
	F_EVENTS,	/* a list of {"t": number, "event": string} */
	F_PASS,		/* true, false or "inconclusive" */
	F_INTERVAL,	/* [lo, hi], finite numbers, lo <= hi */
	F_OBJ,		/* an object, checked by the sub-schema */
	F_ANY
};

#define REQ	0x1	/* must be present */
#define NUL	0x2	/* may be null */
#define NONNEG	0x4	/* a number >= 0 */
#define NONEMPTY 0x8	/* a string with something in it */

struct field {
	const char *name;
	enum ftype type;
	unsigned flags;
	const char *const *values;	/* F_STR: the allowed ones, or NULL */
	const struct field *sub;	/* F_OBJ: its fields, NULL-ended */
};

struct schema {
	const char *type;
	const struct field *fields;	/* NULL-ended */
};

static const char *const spans_sent_from[] = { "client", "plan", NULL };
static const char *const arms[] = { "base", "test", NULL };
/* How a client was started (ltb-client(7)), and where an argv run's
 * start-up, taken out of its window, was measured. */
static const char *const contracts[] = { "http", "argv", NULL };
static const char *const startup_froms[] = { "calibration", "probe", "none",
    NULL };
/* What spans_sent and the counts after it count: tracers' spans, metrics
 * clients' measurements (meter updates), OSProfiler's trace points; and
 * their words, in the same order. */
static const char *const units[] = { "span", "measurement", "trace point",
    NULL };
static const char *const unit_words[][2] = { { "span", "spans" },
    { "measurement", "measurements" }, { "trace point", "trace points" } };

const char *
ltb_unit(const cJSON *rec)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(rec, "unit");

	if (u == NULL || cJSON_IsNull(u))
		return units[0];
	for (size_t i = 0; cJSON_IsString(u) && units[i] != NULL; i++)
		if (strcmp(u->valuestring, units[i]) == 0)
			return units[i];
	return NULL;
}

static size_t
unit_index(const char *unit)
{
	for (size_t i = 0; units[i] != NULL; i++)
		if (unit != NULL && strcmp(unit, units[i]) == 0)
			return i;
	return 0;
}

const char *
ltb_unit_word(const char *unit)
{
	return unit_words[unit_index(unit)][0];
}

const char *
ltb_unit_plural(const char *unit)
{
	return unit_words[unit_index(unit)][1];
}

/* The plan's identity of a run, in its control record and its result:
 * its (rate, trial) pair and arm (paired plans only), the seed that
 * ordered the plan, the CPU planted per span. */
#define PLAN_FIELDS \
	{ "pair", F_COUNT, 0, NULL, NULL }, \
	{ "arm", F_STR, 0, arms, NULL }, \
	{ "seed", F_COUNT, 0, NULL, NULL }, \
	{ "planted_ns", F_COUNT, 0, NULL, NULL }

/* What a result was measured on and with; a baseline from a different
 * one is not comparable. */
static const struct field fingerprint_fields[] = {
	{ "cpu_model", F_STR, REQ | NUL | NONEMPTY, NULL, NULL },
	{ "cores", F_COUNT, REQ, NULL, NULL },
	{ "kernel", F_STR, REQ | NONEMPTY, NULL, NULL },
	/* the calibration's: null when the plan did not say */
	{ "work_per_second", F_NUM, REQ | NUL | NONNEG, NULL, NULL },
	{ "client", F_STR, REQ | NONEMPTY, NULL, NULL },
	/* the client's summary line's "tracer", "NAME VERSION" or "noop" */
	{ "tracer", F_STR, REQ | NUL | NONEMPTY, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct field noise_fields[] = {
	{ "steal_s", F_NUM, NUL | NONNEG, NULL, NULL },
	{ "other_cpu_s", F_NUM, NUL | NONNEG, NULL, NULL },
	{ "satellite_cpu_s", F_NUM, NUL | NONNEG, NULL, NULL },
	{ "loadavg", F_NUM, NUL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct field result_fields[] = {
	{ "client", F_STR, REQ | NONEMPTY, NULL, NULL },
	{ "trace", F_BOOL, REQ, NULL, NULL },
	{ "unit", F_STR, NONEMPTY, units, NULL },
	{ "target_sps", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "runtime", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "trial", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "label", F_STR, NUL, NULL, NULL },
	PLAN_FIELDS,
	/* the client's own mean of what it burned a span */
	{ "planted_ns_measured", F_NUM, NONNEG, NULL, NULL },
	{ "spans_sent", F_COUNT, REQ, NULL, NULL },
	{ "spans_sent_from", F_STR, 0, spans_sent_from, NULL },
	/* null in NoOp runs: nothing is reported, so nothing is counted */
	{ "spans_received", F_COUNT, REQ | NUL, NULL, NULL },
	{ "spans_duplicate", F_COUNT, NUL, NULL, NULL },
	{ "spans_invalid", F_COUNT, NUL, NULL, NULL },
	{ "invalid_by_reason", F_COUNTS, NUL, NULL, NULL },
	{ "reports_rejected", F_COUNT, NUL, NULL, NULL },
	/* a satellite script's refusals, and the retries that got through */
	{ "spans_refused", F_COUNT, NUL, NULL, NULL },
	{ "spans_retried", F_COUNT, NUL, NULL, NULL },
	{ "spans_intact", F_COUNT, NUL, NULL, NULL },
	/* may be negative: more arrived intact than the client says it sent */
	{ "dropped", F_NUM, REQ | NUL, NULL, NULL },
	{ "dropped_refused", F_COUNT, NUL, NULL, NULL },
	/* datagrams lost at the satellites' sockets (metrics runs) */
	{ "socket_drops", F_COUNT, NUL, NULL, NULL },
	{ "tracer_dropped", F_COUNT, NUL, NULL, NULL },
	{ "accounting", F_STR, NUL | NONEMPTY, NULL, NULL },
	{ "program_time", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "clock_time", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "cpu_usage", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "startup_cpu", F_NUM, NUL | NONNEG, NULL, NULL },
	{ "startup_time", F_NUM, NUL | NONNEG, NULL, NULL },
	{ "contract", F_STR, 0, contracts, NULL },
	{ "startup_from", F_STR, 0, startup_froms, NULL },
	{ "sps", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "memory_last", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "memory_max", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "cpu_list", F_NUMS, NUL, NULL, NULL },
	{ "memory_list", F_NUMS, NUL, NULL, NULL },
	{ "events", F_EVENTS, NUL, NULL, NULL },
	{ "exit_status", F_INT, REQ, NULL, NULL },
	/* a failed run says why; a run that did not fail has no error */
	{ "error", F_STR, NUL | NONEMPTY, NULL, NULL },
	{ "noise", F_OBJ, NUL, NULL, noise_fields },
	{ "fingerprint", F_OBJ, 0, NULL, fingerprint_fields },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct field plan_end_fields[] = {
	{ "planned", F_COUNT, REQ, NULL, NULL },
	{ "runs", F_COUNT, REQ, NULL, NULL },
	{ "failed", F_COUNT, REQ, NULL, NULL },
	{ "complete", F_BOOL, REQ, NULL, NULL },
	{ "why", F_STR, NUL | NONEMPTY, NULL, NULL },
	{ "missing", F_STRS, NUL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct field verdict_fields[] = {
	{ "gate", F_STR, REQ | NONEMPTY, NULL, NULL },
	{ "pass", F_PASS, REQ, NULL, NULL },
	{ "value", F_ANY, 0, NULL, NULL },	/* expect gates compare any JSON */
	{ "limit", F_ANY, 0, NULL, NULL },
	{ "ci95", F_INTERVAL, NUL, NULL, NULL },
	{ "detail", F_STR, NUL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct field calibration_fields[] = {
	{ "client", F_STR, REQ | NONEMPTY, NULL, NULL },
	{ "target_cpu", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "sleep_per_work_ns", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "work_per_second", F_NUM, REQ | NONNEG, NULL, NULL },
	{ "achieved_cpu", F_NUM, NUL | NONNEG, NULL, NULL },
	{ "host", F_STR, NUL, NULL, NULL },
	{ "created", F_STR, NUL, NULL, NULL },
	{ "contract", F_STR, 0, contracts, NULL },
	{ "startup_cpu", F_NUM, NONNEG, NULL, NULL },
	{ "startup_time", F_NUM, NONNEG, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL }
};

/* The control message's own keys are checked by ltb_control_from_json;
 * these are the plan's. */
static const struct field control_fields[] = {
	{ "client", F_STR, NONEMPTY, NULL, NULL },
	{ "target_sps", F_NUM, NONNEG, NULL, NULL },
	{ "runtime", F_NUM, NONNEG, NULL, NULL },
	{ "trial", F_NUM, NONNEG, NULL, NULL },
	{ "index", F_COUNT, 0, NULL, NULL },
	PLAN_FIELDS,
	{ "work_per_second", F_NUM, NONNEG, NULL, NULL },
	{ "contract", F_STR, 0, contracts, NULL },
	{ "startup_cpu", F_NUM, NONNEG, NULL, NULL },
	{ "startup_time", F_NUM, NONNEG, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct schema schemas[] = {
	{ "result", result_fields },
	{ "plan_end", plan_end_fields },
	{ "verdict", verdict_fields },
	{ "calibration", calibration_fields },
	{ "control", control_fields },
};

/* A value for a message: its JSON, cut short. */
static const char *
shown(const cJSON *v, char *buf, size_t len)
{
	char *s = cJSON_PrintUnformatted(v);

	if (s == NULL)
		snprintf(buf, len, "(unprintable)");
	else if (strlen(s) > 40)
		snprintf(buf, len, "%.37s...", s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
	return buf;
}

static int
refuse(char *err, size_t errlen, const char *rtype, const char *name,
    const cJSON *v, const char *why)
{
	char val[64];

	snprintf(err, errlen, "%s's \"%s\" is %s, %s", rtype, name,
	    shown(v, val, sizeof val), why);
	errno = EINVAL;
	return -1;
}

static int
whole(double x)
{
	return isfinite(x) && x == floor(x);
}

static int
finite_number(const cJSON *v)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble);
}

static int check_fields(const cJSON *obj, const struct field *f,
    const char *rtype, char *err, size_t errlen);

/* One present, non-null value against its field. */
static int
check_value(const cJSON *v, const struct field *f, const char *rtype,
    char *err, size_t errlen)
{
	const cJSON *e, *t, *what;
	size_t i;

	switch (f->type) {
	case F_NUM:
	case F_COUNT:
	case F_INT:
		if (!finite_number(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not a number");
		if ((f->type != F_NUM) && !whole(v->valuedouble))
			return refuse(err, errlen, rtype, f->name, v,
			    "not a whole number");
		if ((f->type == F_COUNT || (f->flags & NONNEG)) &&
		    v->valuedouble < 0)
			return refuse(err, errlen, rtype, f->name, v,
			    "below 0");
		return 0;
	case F_BOOL:
		if (!cJSON_IsBool(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not true or false");
		return 0;
	case F_STR:
		if (!cJSON_IsString(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not a string");
		if ((f->flags & NONEMPTY) && v->valuestring[0] == '\0')
			return refuse(err, errlen, rtype, f->name, v,
			    "empty");
		for (i = 0; f->values != NULL && f->values[i] != NULL; i++)
			if (strcmp(f->values[i], v->valuestring) == 0)
				return 0;
		if (f->values != NULL)
			return refuse(err, errlen, rtype, f->name, v,
			    "not one of the values it can have");
		return 0;
	case F_NUMS:
		if (!cJSON_IsArray(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not a list");
		cJSON_ArrayForEach(e, v)
			if (!finite_number(e))
				return refuse(err, errlen, rtype, f->name, v,
				    "not a list of numbers");
		return 0;
	case F_STRS:
		if (!cJSON_IsArray(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not a list");
		cJSON_ArrayForEach(e, v)
			if (!cJSON_IsString(e))
				return refuse(err, errlen, rtype, f->name, v,
				    "not a list of strings");
		return 0;
	case F_COUNTS:
		if (!cJSON_IsObject(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not an object");
		cJSON_ArrayForEach(e, v)
			if (!finite_number(e) || !whole(e->valuedouble) ||
			    e->valuedouble < 0)
				return refuse(err, errlen, rtype, f->name, v,
				    "not an object of counts");
		return 0;
	case F_EVENTS:
		if (!cJSON_IsArray(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not a list");
		cJSON_ArrayForEach(e, v) {
			t = cJSON_GetObjectItemCaseSensitive(e, "t");
			what = cJSON_GetObjectItemCaseSensitive(e, "event");
			if (!finite_number(t) || !cJSON_IsString(what))
				return refuse(err, errlen, rtype, f->name, e,
				    "not an event ({\"t\": seconds, "
				    "\"event\": name})");
		}
		return 0;
	case F_PASS:
		if (cJSON_IsBool(v) || (cJSON_IsString(v) &&
		    strcmp(v->valuestring, "inconclusive") == 0))
			return 0;
		return refuse(err, errlen, rtype, f->name, v,
		    "not true, false or \"inconclusive\"");
	case F_INTERVAL:
		if (cJSON_GetArraySize(v) != 2 || !cJSON_IsArray(v) ||
		    !finite_number(cJSON_GetArrayItem(v, 0)) ||
		    !finite_number(cJSON_GetArrayItem(v, 1)) ||
		    cJSON_GetArrayItem(v, 0)->valuedouble >
		    cJSON_GetArrayItem(v, 1)->valuedouble)
			return refuse(err, errlen, rtype, f->name, v,
			    "not an interval [low, high]");
		return 0;
	case F_OBJ:
		if (!cJSON_IsObject(v))
			return refuse(err, errlen, rtype, f->name, v,
			    "not an object");
		return check_fields(v, f->sub, rtype, err, errlen);
	case F_ANY:
		return 0;
	}
	return 0;
}

static int
check_fields(const cJSON *obj, const struct field *f, const char *rtype,
    char *err, size_t errlen)
{
	const cJSON *v;

	for (; f->name != NULL; f++) {
		v = cJSON_GetObjectItemCaseSensitive(obj, f->name);
		if (v == NULL) {
			if (!(f->flags & REQ))
				continue;
			snprintf(err, errlen, "%s has no \"%s\"", rtype,
			    f->name);
			errno = EINVAL;
			return -1;
		}
		if (cJSON_IsNull(v)) {
			if (f->flags & NUL)
				continue;
			return refuse(err, errlen, rtype, f->name, v,
			    "and cannot be");
		}
		if (check_value(v, f, rtype, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int
ltb_record_check_version(const cJSON *rec, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "v");
	char val[64];

	if (v == NULL) {
		snprintf(err, errlen, "record has no \"v\" (ltb records "
		    "carry \"v\": %d)", LTB_RECORD_VERSION);
	} else if (!finite_number(v) || !whole(v->valuedouble)) {
		snprintf(err, errlen, "record's \"v\" is %s, not a version "
		    "number", shown(v, val, sizeof val));
	} else if (v->valuedouble != LTB_RECORD_VERSION) {
		snprintf(err, errlen, "record is of version %s; this ltb "
		    "reads version %d: read it with the ltb that wrote it, or "
		    "write it again with this one", shown(v, val, sizeof val),
		    LTB_RECORD_VERSION);
	} else
		return 0;
	errno = EINVAL;
	return -1;
}

int
ltb_record_check(const cJSON *rec, char *err, size_t errlen)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(rec, "type");
	size_t i;

	if (!cJSON_IsObject(rec) || !cJSON_IsString(type)) {
		snprintf(err, errlen, "record has no \"type\"");
		errno = EINVAL;
		return -1;
	}
	if (ltb_record_check_version(rec, err, errlen) < 0)
		return -1;
	for (i = 0; i < sizeof schemas / sizeof schemas[0]; i++)
		if (strcmp(schemas[i].type, type->valuestring) == 0)
			return check_fields(rec, schemas[i].fields,
			    schemas[i].type, err, errlen);
	return 0;
}
