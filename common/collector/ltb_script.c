/*
 * ltb_script.c: parsing and the timeline of a satellite script; see
 * ltb_script.h.
 *
 * Every way a step can be wrong has its own message, naming the step by
 * its index and the field, because the person reading it wrote the
 * script by hand and is about to start a benchmark with it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_script.h"

static const unsigned statuses[] = { 400, 429, 500, 502, 503, 504 };
#define STATUSES "400, 429, 500, 502, 503 or 504"

static const char *const keys[] = {
	"at_s", "for_s", "status", "retry_after", "drop", "partial_success",
	"delay_ms", NULL
};

static int say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

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
known_key(const char *k)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], k) == 0)
			return 1;
	return 0;
}

static int
whole(const cJSON *v, double min, double max)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble == floor(v->valuedouble) &&
	    v->valuedouble >= min && v->valuedouble <= max;
}

/* A time in seconds: at_s from 0 on, for_s above 0. */
static int
seconds(const cJSON *v, size_t i, const char *key, int positive,
    double *out, char *err, size_t errlen)
{
	char val[64];

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return say(err, errlen, "steps[%zu].%s is %s: a number of "
		    "seconds", i, key, shown(v, val, sizeof val));
	if (v->valuedouble < 0 || (positive && v->valuedouble == 0))
		return say(err, errlen, "steps[%zu].%s is %s: %s", i, key,
		    shown(v, val, sizeof val), positive ?
		    "a step lasts more than 0 s" : "a time from 0 s on");
	if (v->valuedouble > LTB_SCRIPT_MAX_S)
		return say(err, errlen, "steps[%zu].%s is %s: at most %.0f s "
		    "(a week)", i, key, shown(v, val, sizeof val),
		    LTB_SCRIPT_MAX_S);
	*out = v->valuedouble;
	return 0;
}

/* Retry-After as sent: a string of printable ASCII (delay-seconds or an
 * HTTP-date; nothing that could end the header), or a whole number of
 * seconds. */
static int
retry_after(const cJSON *v, size_t i, char *out, char *err, size_t errlen)
{
	char val[64];
	size_t n;

	if (whole(v, 0, 1e9)) {
		snprintf(out, LTB_SCRIPT_RETRY_AFTER_LEN + 1, "%.0f",
		    v->valuedouble);
		return 0;
	}
	if (!cJSON_IsString(v))
		return say(err, errlen, "steps[%zu].retry_after is %s: seconds "
		    "(\"2\" or 2) or an HTTP-date, as the header says it", i,
		    shown(v, val, sizeof val));
	n = strlen(v->valuestring);
	if (n == 0 || n > LTB_SCRIPT_RETRY_AFTER_LEN)
		return say(err, errlen, "steps[%zu].retry_after is %s: 1 to %d "
		    "characters", i, shown(v, val, sizeof val),
		    LTB_SCRIPT_RETRY_AFTER_LEN);
	for (size_t k = 0; k < n; k++) {
		unsigned char ch = (unsigned char)v->valuestring[k];

		if (ch < ' ' || ch >= 0x7f)
			return say(err, errlen, "steps[%zu].retry_after is "
			    "%s: printable ASCII only", i,
			    shown(v, val, sizeof val));
	}
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

static int
status(const cJSON *v, size_t i, unsigned *out, char *err, size_t errlen)
{
	char val[64];

	if (whole(v, 0, 999))
		for (size_t k = 0; k < sizeof statuses / sizeof statuses[0];
		    k++)
			if ((unsigned)v->valuedouble == statuses[k]) {
				*out = statuses[k];
				return 0;
			}
	return say(err, errlen, "steps[%zu].status is %s: use " STATUSES, i,
	    shown(v, val, sizeof val));
}

/* One field of step i into st. */
static int
field(struct ltb_script_step *st, size_t i, const cJSON *v, char *err,
    size_t errlen)
{
	const char *k = v->string;
	char val[64];

	if (strcmp(k, "at_s") == 0)
		return seconds(v, i, k, 0, &st->at_s, err, errlen);
	if (strcmp(k, "for_s") == 0)
		return seconds(v, i, k, 1, &st->for_s, err, errlen);
	if (strcmp(k, "status") == 0)
		return status(v, i, &st->status, err, errlen);
	if (strcmp(k, "retry_after") == 0)
		return retry_after(v, i, st->retry_after, err, errlen);
	if (strcmp(k, "drop") == 0) {
		if (!cJSON_IsTrue(v))
			return say(err, errlen, "steps[%zu].drop is %s: true, "
			    "or leave it out", i, shown(v, val, sizeof val));
		st->drop = 1;
		return 0;
	}
	if (strcmp(k, "partial_success") == 0) {
		if (!whole(v, 1, 1e9))
			return say(err, errlen, "steps[%zu].partial_success is "
			    "%s: the units to claim rejected, 1 to 1000000000",
			    i, shown(v, val, sizeof val));
		st->partial_success = (uint64_t)v->valuedouble;
		return 0;
	}
	/* delay_ms, the last of the keys */
	if (!whole(v, 1, LTB_SCRIPT_MAX_DELAY_MS))
		return say(err, errlen, "steps[%zu].delay_ms is %s: whole "
		    "milliseconds, 1 to %d", i, shown(v, val, sizeof val),
		    LTB_SCRIPT_MAX_DELAY_MS);
	st->delay_ms = (uint64_t)v->valuedouble;
	return 0;
}

/* What a step must say, whatever the order of its keys. */
static int
step_check(const struct ltb_script_step *st, size_t i, const cJSON *o,
    char *err, size_t errlen)
{
	int answers = (st->status != 0) + st->drop + (st->partial_success != 0);

	if (cJSON_GetObjectItemCaseSensitive(o, "at_s") == NULL)
		return say(err, errlen, "steps[%zu] has no at_s: when it "
		    "starts, in seconds after the script is posted", i);
	if (cJSON_GetObjectItemCaseSensitive(o, "for_s") == NULL)
		return say(err, errlen, "steps[%zu] has no for_s: how many "
		    "seconds it lasts", i);
	if (answers > 1)
		return say(err, errlen, "steps[%zu] says more than one answer: "
		    "one of status, drop or partial_success (delay_ms goes "
		    "with any)", i);
	if (st->retry_after[0] != '\0' && st->status == 0)
		return say(err, errlen, "steps[%zu].retry_after needs a status "
		    "to go with (429 or 503)", i);
	if (answers == 0 && st->delay_ms == 0)
		return say(err, errlen, "steps[%zu] says no answer: give status, "
		    "drop, partial_success or delay_ms", i);
	if (st->at_s + st->for_s > LTB_SCRIPT_MAX_S)
		return say(err, errlen, "steps[%zu] ends at %g s: at most %.0f "
		    "s (a week)", i, st->at_s + st->for_s, LTB_SCRIPT_MAX_S);
	return 0;
}

static int
step_parse(struct ltb_script_step *st, size_t i, const cJSON *o, char *err,
    size_t errlen)
{
	const cJSON *v, *w;
	char val[64];

	memset(st, 0, sizeof *st);
	if (!cJSON_IsObject(o))
		return say(err, errlen, "steps[%zu] is %s: an object like "
		    "{\"at_s\": 5, \"for_s\": 10, \"status\": 429}", i,
		    shown(o, val, sizeof val));
	cJSON_ArrayForEach(v, o) {
		if (!known_key(v->string))
			return say(err, errlen, "steps[%zu] has an unknown key "
			    "\"%.40s\" (known: at_s, for_s, status, "
			    "retry_after, drop, partial_success, delay_ms)", i,
			    v->string);
		for (w = o->child; w != v; w = w->next)
			if (strcmp(w->string, v->string) == 0)
				return say(err, errlen, "steps[%zu].%s is "
				    "given twice", i, v->string);
		if (field(st, i, v, err, errlen) < 0)
			return -1;
	}
	return step_check(st, i, o, err, errlen);
}

int
ltb_script_from_json(struct ltb_script *s, const cJSON *list, char *err,
    size_t errlen)
{
	const cJSON *o;
	size_t i = 0;
	int n;

	memset(s, 0, sizeof *s);
	if (!cJSON_IsArray(list))
		return say(err, errlen, "a script is a JSON list of steps, like "
		    "[{\"at_s\": 5, \"for_s\": 10, \"status\": 429}]; [] for "
		    "none");
	if ((n = cJSON_GetArraySize(list)) > LTB_SCRIPT_MAX_STEPS)
		return say(err, errlen, "%d steps: at most %d", n,
		    LTB_SCRIPT_MAX_STEPS);
	cJSON_ArrayForEach(o, list) {
		struct ltb_script_step *st = &s->step[i];

		if (step_parse(st, i, o, err, errlen) < 0)
			goto fail;
		if (i > 0 && st->at_s < s->step[i - 1].at_s +
		    s->step[i - 1].for_s) {
			say(err, errlen, "steps[%zu].at_s is %g: it starts "
			    "before steps[%zu] ends (at %g s); steps go in time "
			    "order and do not overlap", i, st->at_s, i - 1,
			    s->step[i - 1].at_s + s->step[i - 1].for_s);
			goto fail;
		}
		i++;
	}
	s->n = i;
	return 0;
fail:
	memset(s, 0, sizeof *s);
	return -1;
}

int
ltb_script_parse(struct ltb_script *s, const char *json, size_t len,
    char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *list;
	int rc;

	memset(s, 0, sizeof *s);
	list = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (list == NULL) {
		size_t at = end != NULL && end >= json ? (size_t)(end - json) :
		    0;
		unsigned line = 1;

		for (size_t k = 0; k < at && k < len; k++)
			line += json[k] == '\n';
		return say(err, errlen, "not JSON (line %u, byte %zu)", line,
		    at);
	}
	rc = ltb_script_from_json(s, list, err, errlen);
	cJSON_Delete(list);
	return rc;
}

int
ltb_script_load(struct ltb_script *s, const char *path, char **json,
    char *err, size_t errlen)
{
	char why[512], *text = NULL;
	size_t len = 0;
	FILE *f;

	*json = NULL;
	memset(s, 0, sizeof *s);
	if ((f = fopen(path, "r")) == NULL)
		return say(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
	if ((text = malloc(LTB_SCRIPT_MAX_BYTES + 2)) == NULL) {
		fclose(f);
		return say(err, errlen, "out of memory");
	}
	len = fread(text, 1, LTB_SCRIPT_MAX_BYTES + 1, f);
	if (ferror(f)) {
		say(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (len > LTB_SCRIPT_MAX_BYTES) {
		say(err, errlen, "%s: over %d bytes, more than a satellite "
		    "takes", path, LTB_SCRIPT_MAX_BYTES);
		goto fail;
	}
	text[len] = '\0';
	if (ltb_script_parse(s, text, len, why, sizeof why) < 0) {
		say(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	fclose(f);
	*json = text;
	return 0;
fail:
	fclose(f);
	free(text);
	return -1;
}

int
ltb_script_active(const struct ltb_script *s, double t)
{
	for (size_t i = 0; i < s->n; i++) {
		if (t < s->step[i].at_s)
			return -1;	/* in time order: none later either */
		if (t < s->step[i].at_s + s->step[i].for_s)
			return (int)i;
	}
	return -1;
}

int
ltb_script_step_refuses(const struct ltb_script_step *st)
{
	return st->status != 0 || st->drop;
}

cJSON *
ltb_script_step_json(const struct ltb_script_step *st)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "at_s", st->at_s);
	cJSON_AddNumberToObject(o, "for_s", st->for_s);
	if (st->status)
		cJSON_AddNumberToObject(o, "status", st->status);
	if (st->retry_after[0] != '\0')
		cJSON_AddStringToObject(o, "retry_after", st->retry_after);
	if (st->drop)
		cJSON_AddBoolToObject(o, "drop", 1);
	if (st->partial_success)
		cJSON_AddNumberToObject(o, "partial_success",
		    (double)st->partial_success);
	if (st->delay_ms)
		cJSON_AddNumberToObject(o, "delay_ms", (double)st->delay_ms);
	return o;
}

void
ltb_script_step_describe(const struct ltb_script_step *st, char *buf,
    size_t len)
{
	int n = 0;

	if (st->status && st->retry_after[0] != '\0')
		n = snprintf(buf, len, "%u Retry-After %s", st->status,
		    st->retry_after);
	else if (st->status)
		n = snprintf(buf, len, "%u", st->status);
	else if (st->drop)
		n = snprintf(buf, len, "drop");
	else if (st->partial_success)
		n = snprintf(buf, len, "partial_success %llu",
		    (unsigned long long)st->partial_success);
	if (st->delay_ms && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " after %llu ms",
		    (unsigned long long)st->delay_ms);
	else if (st->delay_ms)
		snprintf(buf, len, "delay %llu ms",
		    (unsigned long long)st->delay_ms);
	else if (n == 0 && len > 0)
		buf[0] = '\0';
}
