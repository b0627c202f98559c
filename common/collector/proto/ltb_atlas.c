/*
 * ltb_atlas.c: Atlas publish (see ltb_collector.h): POST /api/v1/publish
 * with a JSON body of measurements, each one unit, answered as Atlas's
 * PublishApi does.
 *
 * Two bodies are read, both application/json:
 *
 *  - Atlas's batch, the documented form (PublishPayloads.decodeBatch):
 *      {"tags": {common tags},
 *       "metrics": [{"tags": {"name": ..., ...}, "timestamp": ms,
 *                    "value": number}, ...]}
 *    a metric's tags over the common ones; "start" and "values" are the
 *    legacy names of timestamp and value, as Atlas still reads them.
 *  - what nflx-spectator 1.0.0 (npm) really sends to the URI it is given:
 *    the aggregator's compact array, a string table and then, for each
 *    measurement, its tag count, that many key and value positions in the
 *    table (the name among them), an op (0 add, 10 max) and the value:
 *      [n, "s0", ..., "sn-1", ntags, k, v, ..., op, value, ntags, ...]
 *    It has no timestamp. This is the atlas-aggregator's update payload
 *    (iep-apps' PayloadDecoder); Atlas's own /api/v1/publish would refuse
 *    it. As the aggregator does, characters outside Atlas's set are
 *    replaced (with '_'), not refused: nflx-spectator sends its own
 *    ipc.client.call meter tagged ipc.endpoint=/api/v1/publish.
 *
 * cJSON reads the body whole, held up to max_field within the group's
 * memory budget, and its tree is taken from the budget while it lives, as
 * for OTLP's JSON (ltb_otlp_json_bound). The body is walked twice: once
 * to check its shape, so nothing is counted from a body refused, then to
 * hand each measurement to the sink (key 0: a measurement has no identity
 * and is never a duplicate) with its validation result.
 *
 * Validation is Atlas's (atlas-webapi's reference.conf rules, in their
 * order, after the age check): a timestamp no more than one step (60 s)
 * away from when the message began; a name; keys of 2 to 60 characters;
 * a name of 2 to 255, other values of 1 to 120; keys and values of
 * [-._A-Za-z0-9^~] only (the batch form); at most 20 user tags (those not nf. or atlas.);
 * under nf. and atlas. only the keys Atlas allows. Where Atlas refuses the
 * whole body for a metric's field of the wrong type (a string timestamp,
 * a tag value that is an object), ltb counts that one metric invalid
 * (bad_timestamp, bad_value, bad_tags) and reads on, so the others are
 * counted. More than LTB_ATLAS_MAX_TAGS tags in one object is
 * too_many_tags without a look at duplicates.
 *
 * Answers: 200 with no body when every measurement is valid; 202
 * {"type":"partial","errorCount":N,"message":[...]} when some are not;
 * 400 {"type":"error","errorCount":N,"message":[...]} when none is
 * (messages: the first 5 failures, "reason (tags={...})", as Atlas's
 * FailureMessage); 400 {"type":"error","message":"..."} (Atlas's
 * DiagnosticMessage) for a body that is not a payload, or an empty one.
 * Smile (Jackson's binary JSON, which the Java client can send) is not
 * read: 415.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_body.h"
#include "collector/ltb_collector.h"
#include "collector/proto/ltb_otlp_walk.h"
#include "collector/proto/ltb_pbstream.h"

#define LTB_ATLAS_MAX_TAGS 64	/* tags of one object ltb looks at */
#define MAX_AGE_MS 60000	/* Atlas's max-age: one step */
#define MAX_USER_TAGS 20
#define NMESSAGES 5		/* failures an answer describes */
#define MESSAGE_MAX 200		/* bytes of one */
#define SHOW_MAX 40		/* bytes of a key or value in a message */
#define OP_ADD 0
#define OP_MAX 10

static const char CT_JSON[] = "application/json";
static const char *const atlas_content_types[] = { CT_JSON, NULL };

enum atlas_invalid {
	ATLAS_VALID,
	ATLAS_MISSING_NAME,
	ATLAS_KEY_LENGTH,
	ATLAS_VALUE_LENGTH,
	ATLAS_BAD_CHARACTERS,
	ATLAS_TOO_MANY_TAGS,
	ATLAS_RESERVED_KEY,
	ATLAS_BAD_TAGS,
	ATLAS_BAD_TIMESTAMP,
	ATLAS_DATA_TOO_OLD,
	ATLAS_DATA_FROM_FUTURE,
	ATLAS_BAD_VALUE,
	ATLAS_BAD_OP,
	ATLAS_NINVALID
};

static const char *const atlas_invalid_names[ATLAS_NINVALID] = {
	"valid", "missing_name", "key_length", "value_length",
	"bad_characters", "too_many_tags", "reserved_key", "bad_tags",
	"bad_timestamp", "data_too_old", "data_from_future", "bad_value",
	"bad_op",
};

/* Keys Atlas allows under its reserved prefixes. */
static const char *const atlas_allowed[] = {
	"aggr", "dstype", "offset", "legacy", NULL
};
static const char *const nf_allowed[] = {
	"account", "ami", "app", "asg", "cluster", "container", "country",
	"country.rollup", "job", "node", "process", "region", "shard1",
	"shard2", "stack", "subnet", "task", "vmtype", "vpc", "zone", NULL
};

struct tag {
	const char *k, *v;
};

struct atlas_state {
	size_t max;
	struct ltb_budget *budget;	/* the group's, borrowed */
	uint64_t claim;			/* m->claim_rejected */
	int64_t now_ms;			/* when the message began */
	struct ltb_pbhold body;
	/* what the second walk found */
	uint64_t units, invalid;
	unsigned nmsg;
	char msg[NMESSAGES][MESSAGE_MAX];
};

/* One walk over a parsed body: shape checked, and with report set each
 * measurement judged and handed to sink. */
struct walk {
	struct atlas_state *s;
	const struct ltb_span_sink *sink;	/* NULL: check the shape only */
	const char *why;			/* the shape's fault */
	uint64_t count;
};

/* ---- Atlas's rules -------------------------------------------------------- */

/* Characters as Java counts them (UTF-16 units), for the length rules. */
static size_t
jlen(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n += *p >= 0xf0 ? 2 : 1;
	return n;
}

static int
valid_chars(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '^' || c == '~'))
			return 0;
	}
	return 1;
}

static int
restricted(const char *k)
{
	return strncmp(k, "nf.", 3) == 0 || strncmp(k, "atlas.", 6) == 0;
}

static int
allowed(const char *k, const char *prefix, const char *const *keys)
{
	size_t n = strlen(prefix);

	if (strncmp(k, prefix, n) != 0)
		return 1;
	for (; *keys != NULL; keys++)
		if (strcmp(k + n, *keys) == 0)
			return 1;
	return 0;
}

/* s cut to SHOW_MAX bytes for a message. */
static const char *
show(const char *s, char *buf, size_t cap)
{
	if (strlen(s) <= SHOW_MAX)
		return s;
	snprintf(buf, cap, "%.*s...", SHOW_MAX, s);
	return buf;
}

/* The first rule tags break, with Atlas's words for it in msg; 0 when
 * none. */
static unsigned
rules(const struct tag *t, size_t n, int chars, char *msg, size_t cap)
{
	char a[SHOW_MAX + 4], b[SHOW_MAX + 4];
	size_t i, len, user = 0;
	int named = 0;

	for (i = 0; i < n; i++)
		named |= strcmp(t[i].k, "name") == 0;
	if (!named) {
		snprintf(msg, cap, "missing key 'name'");
		return ATLAS_MISSING_NAME;
	}
	for (i = 0; i < n; i++) {
		if ((len = jlen(t[i].k)) > 60 || len < 2) {
			snprintf(msg, cap, "key too %s: [%s] (%zu %s)",
			    len > 60 ? "long" : "short", show(t[i].k, a, sizeof a),
			    len, len > 60 ? "> 60" : "< 2");
			return ATLAS_KEY_LENGTH;
		}
	}
	for (i = 0; i < n; i++) {
		int name = strcmp(t[i].k, "name") == 0;
		size_t lo = name ? 2 : 1, hi = name ? 255 : 120;

		if ((len = jlen(t[i].v)) > hi || len < lo) {
			snprintf(msg, cap, "value too %s: %s = [%s] (%zu %c %zu)",
			    len > hi ? "long" : "short", t[i].k,
			    show(t[i].v, b, sizeof b), len, len > hi ? '>' : '<',
			    len > hi ? hi : lo);
			return ATLAS_VALUE_LENGTH;
		}
	}
	for (i = 0; chars && i < n; i++) {
		if (!valid_chars(t[i].k)) {
			snprintf(msg, cap, "invalid characters in key: [%s] "
			    "([-._A-Za-z0-9^~] are allowed)",
			    show(t[i].k, a, sizeof a));
			return ATLAS_BAD_CHARACTERS;
		}
		if (!valid_chars(t[i].v)) {
			snprintf(msg, cap, "invalid characters in value: %s = "
			    "[%s] ([-._A-Za-z0-9^~] are allowed)", t[i].k,
			    show(t[i].v, b, sizeof b));
			return ATLAS_BAD_CHARACTERS;
		}
	}
	for (i = 0; i < n; i++)
		user += !restricted(t[i].k);
	if (user > MAX_USER_TAGS) {
		snprintf(msg, cap, "too many user tags: %zu > %d", user,
		    MAX_USER_TAGS);
		return ATLAS_TOO_MANY_TAGS;
	}
	for (int pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			const char *prefix = pass == 0 ? "atlas." : "nf.";

			if (!allowed(t[i].k, prefix, pass == 0 ? atlas_allowed :
			    nf_allowed)) {
				snprintf(msg, cap, "invalid key for reserved "
				    "prefix '%s': %s", prefix, t[i].k);
				return ATLAS_RESERVED_KEY;
			}
		}
	return ATLAS_VALID;
}

/* Drop the earlier of two tags with one key: the last one wins, and a
 * metric's tags come after the common ones. Returns the new count. */
static size_t
dedupe(struct tag *t, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = i + 1; j < n; j++)
			if (strcmp(t[i].k, t[j].k) == 0)
				break;
		if (j == n)
			t[out++] = t[i];
	}
	return out;
}

/* "reason (tags={...})", as Atlas's FailureMessage summarises one. */
static void
note_failure(struct atlas_state *s, const char *reason, const struct tag *t,
    size_t n)
{
	cJSON *o;
	char *txt = NULL;

	if (s->nmsg == NMESSAGES)
		return;
	if ((o = cJSON_CreateObject()) != NULL) {
		for (size_t i = 0; i < n; i++)
			if (cJSON_AddStringToObject(o, t[i].k, t[i].v) == NULL)
				break;
		txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	snprintf(s->msg[s->nmsg], MESSAGE_MAX, "%s (tags=%s)", reason,
	    txt != NULL ? txt : "{}");
	if (strlen(s->msg[s->nmsg]) == MESSAGE_MAX - 1)
		memcpy(s->msg[s->nmsg] + MESSAGE_MAX - 4, "...", 3);
	free(txt);
	s->nmsg++;
}

/* One measurement, judged: counted, handed on, a failure noted. A reason
 * already found (its fields) comes in invalid with its words in msg;
 * chars: the characters rule applies (else they are replaced). */
static void
measurement(struct walk *w, unsigned invalid, char *msg, size_t cap,
    struct tag *t, size_t n, int chars)
{
	w->count++;
	if (w->sink == NULL)
		return;
	if (invalid == ATLAS_VALID)
		invalid = rules(t, n, chars, msg, cap);
	w->s->units++;
	if (invalid != ATLAS_VALID) {
		w->s->invalid++;
		note_failure(w->s, msg, t, n);
	}
	w->sink->span(w->sink->ctx, 0, invalid);
}

/* ---- values --------------------------------------------------------------- */

/* A double as Atlas's nextDouble reads one: a number or a string of one
 * ("NaN"). -1 when it is neither. */
static int
read_double(const cJSON *v, double *out)
{
	char *end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
		*out = strtod(v->valuestring, &end);
		return *end == '\0' ? 0 : -1;
	}
	return -1;
}

/* A JSON integer: a number with no fraction, within int64. */
static int
read_long(const cJSON *v, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= -9.2e18 && d <= 9.2e18) || floor(d) != d)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* ---- the batch form ------------------------------------------------------- */

/* An object's tags onto t[*n]: ATLAS_VALID, ATLAS_BAD_TAGS (not an object,
 * or a value not a string) or ATLAS_TOO_MANY_TAGS. */
static unsigned
object_tags(const cJSON *o, struct tag *t, size_t *n, char *msg, size_t cap)
{
	const cJSON *c;
	size_t start = *n;

	if (o == NULL || cJSON_IsNull(o))
		return ATLAS_VALID;
	if (!cJSON_IsObject(o)) {
		snprintf(msg, cap, "tags is not an object");
		return ATLAS_BAD_TAGS;
	}
	cJSON_ArrayForEach(c, o) {
		if (*n - start == LTB_ATLAS_MAX_TAGS) {
			snprintf(msg, cap, "too many tags: more than %d",
			    LTB_ATLAS_MAX_TAGS);
			return ATLAS_TOO_MANY_TAGS;
		}
		if (!cJSON_IsString(c)) {
			snprintf(msg, cap, "tag %.*s: value is not a string",
			    SHOW_MAX, c->string);
			return ATLAS_BAD_TAGS;
		}
		t[*n].k = c->string;
		t[(*n)++].v = c->valuestring;
	}
	return ATLAS_VALID;
}

/* One metric of a batch, the common tags in ct[0..nc). */
static const char *
batch_metric(struct walk *w, const cJSON *m, const struct tag *ct, size_t nc,
    unsigned common)
{
	struct tag t[2 * LTB_ATLAS_MAX_TAGS];
	const cJSON *c, *tags = NULL, *ts = NULL, *val = NULL;
	char msg[MESSAGE_MAX] = "";
	unsigned invalid = common;
	size_t n = nc;
	int64_t when;
	double v;

	if (!cJSON_IsObject(m))
		return "a metric is not an object";
	/* Last key wins, as in Atlas's parser; unknown keys are skipped. */
	cJSON_ArrayForEach(c, m) {
		if (strcmp(c->string, "tags") == 0)
			tags = c;
		else if (strcmp(c->string, "timestamp") == 0 ||
		    strcmp(c->string, "start") == 0)
			ts = c;
		else if (strcmp(c->string, "value") == 0 ||
		    strcmp(c->string, "values") == 0)
			val = c;
	}
	if (w->sink == NULL)
		goto out;
	memcpy(t, ct, nc * sizeof *t);
	if (invalid != ATLAS_VALID)
		snprintf(msg, sizeof msg, "common tags: %s",
		    invalid == ATLAS_BAD_TAGS ? "a value is not a string" :
		    "too many tags");
	if (invalid == ATLAS_VALID)
		invalid = object_tags(tags, t, &n, msg, sizeof msg);
	if (invalid == ATLAS_VALID && (ts == NULL || read_long(ts, &when) < 0)) {
		snprintf(msg, sizeof msg, "timestamp is %s", ts == NULL ?
		    "missing" : "not an integer");
		invalid = ATLAS_BAD_TIMESTAMP;
	}
	if (invalid == ATLAS_VALID && val != NULL) {
		/* legacy "values": its first element */
		const cJSON *x = cJSON_IsArray(val) ? val->child : val;

		if (x == NULL || read_double(x, &v) < 0) {
			snprintf(msg, sizeof msg, "value is not a number");
			invalid = ATLAS_BAD_VALUE;
		}
	}
	if (invalid == ATLAS_VALID) {
		int64_t now = w->s->now_ms;

		if (now - when > MAX_AGE_MS) {
			snprintf(msg, sizeof msg, "data is too old: now = %lld, "
			    "timestamp = %lld, %lld > %d", (long long)now,
			    (long long)when, (long long)(now - when),
			    MAX_AGE_MS);
			invalid = ATLAS_DATA_TOO_OLD;
		} else if (now - when < -MAX_AGE_MS) {
			snprintf(msg, sizeof msg, "data is from future: now = "
			    "%lld, timestamp = %lld", (long long)now,
			    (long long)when);
			invalid = ATLAS_DATA_FROM_FUTURE;
		}
	}
	n = dedupe(t, n);
out:
	measurement(w, invalid, msg, sizeof msg, t, n, 1);
	return NULL;
}

static const char *
walk_batch(struct walk *w, const cJSON *root)
{
	struct tag t[LTB_ATLAS_MAX_TAGS];
	const cJSON *c, *tags = NULL, *metrics = NULL, *m;
	char msg[MESSAGE_MAX];
	unsigned common;
	const char *why;
	size_t nc = 0;

	cJSON_ArrayForEach(c, root) {
		if (strcmp(c->string, "tags") == 0)
			tags = c;
		else if (strcmp(c->string, "metrics") == 0)
			metrics = c;
		else
			return "invalid field: a payload has tags and "
			    "metrics only";
	}
	if (tags != NULL && !cJSON_IsObject(tags) && !cJSON_IsNull(tags))
		return "tags is not an object";
	if (metrics != NULL && !cJSON_IsArray(metrics) &&
	    !cJSON_IsNull(metrics))
		return "metrics is not an array";
	common = object_tags(tags, t, &nc, msg, sizeof msg);
	if (common != ATLAS_VALID)
		nc = 0;
	cJSON_ArrayForEach(m, metrics)
		if ((why = batch_metric(w, m, t, nc, common)) != NULL)
			return why;
	return NULL;
}

/* ---- the compact form (nflx-spectator 1.0.0) ------------------------------ */

static int
read_index(const cJSON *v, size_t n, size_t *out)
{
	int64_t i;

	if (read_long(v, &i) < 0 || i < 0 || (uint64_t)i >= n)
		return -1;
	*out = (size_t)i;
	return 0;
}

static const char *
walk_compact(struct walk *w, const cJSON *root)
{
	struct tag t[LTB_ATLAS_MAX_TAGS];
	const char **table = NULL;
	const cJSON *c = root->child;
	const char *why = NULL;
	int64_t nstr, ntags;
	size_t tsize = 0, i;

	if (read_long(c, &nstr) < 0 || nstr < 0 ||
	    nstr > cJSON_GetArraySize(root)) {
		why = "the string table's size is not a count of strings";
		goto out;
	}
	if (w->sink != NULL && nstr > 0) {
		tsize = (size_t)nstr * sizeof *table;
		if (ltb_budget_take(w->s->budget, tsize) < 0) {
			why = LTB_BUDGET_WHY;
			tsize = 0;
			goto out;
		}
		if ((table = malloc(tsize)) == NULL) {
			why = "out of memory";
			goto out;
		}
	}
	for (c = c->next, i = 0; i < (size_t)nstr; i++, c = c->next) {
		if (!cJSON_IsString(c)) {
			why = "the string table holds a value not a string";
			goto out;
		}
		if (table != NULL)
			table[i] = c->valuestring;
	}
	while (c != NULL) {
		char msg[MESSAGE_MAX] = "";
		unsigned invalid = ATLAS_VALID;
		size_t n = 0, k, v;
		int64_t op;
		double val;

		if (read_long(c, &ntags) < 0 || ntags < 0) {
			why = "a measurement's tag count is not a count";
			goto out;
		}
		for (c = c->next, i = 0; i < (uint64_t)ntags; i++) {
			const cJSON *kc = c, *vc = c != NULL ? c->next : NULL;

			if (vc == NULL) {
				why = "a measurement is cut short";
				goto out;
			}
			c = vc->next;
			if (w->sink == NULL || invalid != ATLAS_VALID)
				continue;
			if (read_index(kc, (size_t)nstr, &k) < 0 ||
			    read_index(vc, (size_t)nstr, &v) < 0) {
				snprintf(msg, sizeof msg, "tag %zu: not a "
				    "position in the string table", i);
				invalid = ATLAS_BAD_TAGS;
			} else if (n == LTB_ATLAS_MAX_TAGS) {
				snprintf(msg, sizeof msg, "too many tags: more "
				    "than %d", LTB_ATLAS_MAX_TAGS);
				invalid = ATLAS_TOO_MANY_TAGS;
			} else {
				t[n].k = table[k];
				t[n++].v = table[v];
			}
		}
		if (c == NULL || c->next == NULL) {
			why = "a measurement is cut short";
			goto out;
		}
		if (w->sink != NULL && invalid == ATLAS_VALID &&
		    (read_long(c, &op) < 0 || (op != OP_ADD && op != OP_MAX))) {
			snprintf(msg, sizeof msg, "op is not 0 (add) or 10 "
			    "(max)");
			invalid = ATLAS_BAD_OP;
		}
		c = c->next;
		if (w->sink != NULL && invalid == ATLAS_VALID &&
		    read_double(c, &val) < 0) {
			snprintf(msg, sizeof msg, "value is not a number");
			invalid = ATLAS_BAD_VALUE;
		}
		c = c->next;
		if (w->sink != NULL)
			n = dedupe(t, n);
		measurement(w, invalid, msg, sizeof msg, t, n, 0);
	}
out:
	free(table);
	ltb_budget_give(w->s->budget, tsize);
	return why;
}

/* ---- the body ------------------------------------------------------------- */

static const char *
walk(struct walk *w, const cJSON *root)
{
	if (cJSON_IsObject(root))
		return walk_batch(w, root);
	if (cJSON_IsArray(root) && cJSON_IsNumber(root->child))
		return walk_compact(w, root);
	return "not a publish payload: neither an object of tags and "
	    "metrics nor nflx-spectator's array";
}

/* Parse and walk: LTB_COLLECT_OK with every measurement handed on, or an
 * error with *why. */
static int
read_body(struct atlas_state *s, const struct ltb_span_sink *sink,
    const char **why)
{
	const char *end = NULL;
	struct walk w = { .s = s };
	cJSON *root;
	int rc = LTB_COLLECT_MALFORMED;

	root = cJSON_ParseWithLengthOpts((const char *)s->body.buf,
	    s->body.len, &end, 0);
	if (root == NULL) {
		*why = "body is not JSON";
		return rc;
	}
	for (size_t i = (size_t)(end - (const char *)s->body.buf);
	    i < s->body.len; i++)
		if (strchr(" \t\r\n", s->body.buf[i]) == NULL) {
			*why = "body is not one JSON value";
			goto out;
		}
	if ((w.why = walk(&w, root)) != NULL) {
		*why = w.why;
		if (strcmp(w.why, LTB_BUDGET_WHY) == 0)
			rc = LTB_COLLECT_BUSY;
		goto out;
	}
	if (w.count == 0) {
		*why = "empty payload";
		goto out;
	}
	w.sink = sink;
	w.count = 0;
	if ((w.why = walk(&w, root)) != NULL) {
		/* Only the budget can fail the second walk, once units are
		 * handed on; they are counted as having arrived. */
		*why = w.why;
		rc = strcmp(w.why, LTB_BUDGET_WHY) == 0 ? LTB_COLLECT_BUSY :
		    LTB_COLLECT_MALFORMED;
		goto out;
	}
	rc = LTB_COLLECT_OK;
out:
	cJSON_Delete(root);
	return rc;
}

/* ---- answers -------------------------------------------------------------- */

/* obj printed into reply, or nothing if it does not fit. */
static void
reply_json(cJSON *o, struct ltb_reply *reply)
{
	char *txt = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

	reply->content_type = CT_JSON;
	reply->len = 0;
	if (txt != NULL && strlen(txt) <= sizeof reply->body) {
		reply->len = strlen(txt);
		memcpy(reply->body, txt, reply->len);
	}
	free(txt);
}

/* Atlas's FailureMessage: type, errorCount and the messages that fit. */
static void
failure_message(const struct atlas_state *s, const char *type, uint64_t count,
    struct ltb_reply *reply)
{
	char claim[96];

	for (unsigned keep = s->nmsg + (s->claim > 0); ; keep--) {
		cJSON *o = cJSON_CreateObject(), *a;

		if (o != NULL && cJSON_AddStringToObject(o, "type", type) &&
		    cJSON_AddNumberToObject(o, "errorCount", (double)count) &&
		    (a = cJSON_AddArrayToObject(o, "message")) != NULL) {
			if (s->claim > 0 && keep > 0) {
				snprintf(claim, sizeof claim, "%llu measurements "
				    "rejected, as the satellite's script says",
				    (unsigned long long)s->claim);
				cJSON_AddItemToArray(a, cJSON_CreateString(claim));
			} else
				for (unsigned i = 0; i < keep; i++)
					cJSON_AddItemToArray(a,
					    cJSON_CreateString(s->msg[i]));
		}
		reply_json(o, reply);
		cJSON_Delete(o);
		if (reply->len > 0 || keep == 0)
			return;
	}
}

static int
atlas_begin(void *state, const struct ltb_message *m)
{
	struct atlas_state *s = state;

	if (strcmp(m->content_type, CT_JSON) != 0)
		return LTB_COLLECT_UNSUPPORTED;
	s->max = m->max_field;
	s->claim = m->claim_rejected;
	s->budget = m->budget;
	s->now_ms = (int64_t)(m->start_real_ns / 1000000u);
	s->body.budget = m->body_taken ? NULL : m->budget;
	return LTB_COLLECT_OK;
}

static int
atlas_feed(void *state, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	struct atlas_state *s = state;

	return ltb_body_hold(&s->body, p, n, s->max,
	    "request larger than the body limit", why);
}

static int
atlas_end(void *state, const struct ltb_span_sink *sink,
    struct ltb_reply *reply, const char **why)
{
	struct atlas_state *s = state;
	uint64_t rejected;
	size_t tree;
	int rc;

	if ((rc = ltb_body_take_tree(s->budget, &s->body, &tree,
	    why)) != LTB_COLLECT_OK)
		return rc;
	rc = read_body(s, sink, why);
	ltb_budget_give(s->budget, tree);
	if (rc != LTB_COLLECT_OK)
		return rc;
	/* A script's partial success is a 202 whatever its count. */
	rejected = s->claim > 0 ? s->claim : s->invalid;
	if (rejected == 0) {
		reply->status = 0;
		reply->content_type = CT_JSON;
		reply->len = 0;
	} else if (s->claim == 0 && rejected == s->units) {
		reply->status = 400;
		failure_message(s, "error", rejected, reply);
	} else {
		reply->status = 202;
		failure_message(s, "partial", rejected, reply);
	}
	return LTB_COLLECT_OK;
}

/* Atlas's DiagnosticMessage: {"type":"error","message":"..."}. */
static void
atlas_refuse(void *state, int rc, const char *why, struct ltb_reply *reply)
{
	char msg[512];
	cJSON *o = cJSON_CreateObject();

	(void)state;
	snprintf(msg, sizeof msg, "%s%s%s", rc == LTB_COLLECT_MALFORMED ?
	    "cannot read the publish payload" : rc == LTB_COLLECT_TOO_LARGE ?
	    "request too large" : rc == LTB_COLLECT_UNSUPPORTED ?
	    "unsupported content type" : rc == LTB_COLLECT_BUSY ?
	    "service unavailable" : "request refused",
	    why != NULL && why[0] != '\0' ? ": " : "",
	    why != NULL ? why : "");
	if (o != NULL && cJSON_AddStringToObject(o, "type", "error"))
		cJSON_AddStringToObject(o, "message", msg);
	reply_json(o, reply);
	cJSON_Delete(o);
}

static void
atlas_release(void *state)
{
	struct atlas_state *s = state;

	ltb_pbhold_free(&s->body);
}

const struct ltb_collector_proto ltb_proto_atlas = {
	.name = "atlas",
	.unit = "measurement",
	.transport = LTB_TRANSPORT_HTTP,
	.path = "/api/v1/publish",
	.content_types = atlas_content_types,
	.invalid_names = atlas_invalid_names,
	.ninvalid = ATLAS_NINVALID,
	.state_size = sizeof(struct atlas_state),
	.begin = atlas_begin,
	.feed = atlas_feed,
	.end = atlas_end,
	.refuse = atlas_refuse,
	.release = atlas_release,
};
