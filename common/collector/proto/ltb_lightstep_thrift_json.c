/*
 * ltb_lightstep_thrift_json.c: LightStep's thrift report in its JSON form
 * (see ltb_collector.h): POST /api/v0/reports with a JSON ReportRequest,
 * as lightstep-tracer for Node (npm, 0.35.0) sends it with
 * transport: "thrift" (its transport_httpthrift.js: JSON.stringify of the
 * thrift objects, gzip by default, Content-Type application/json),
 * answered by a JSON ReportResponse.
 *
 * The body, as that tracer sends it (tests/fixtures/lsthrift-json/):
 *   {"runtime": {...}, "oldest_micros": N, "youngest_micros": N,
 *    "span_records": [{"span_guid": "hex", "trace_guid": "hex",
 *      "runtime_guid": "hex", "span_name": "op", "join_ids": null,
 *      "oldest_micros": N, "youngest_micros": N,
 *      "attributes": [{"Key": "k", "Value": "v"}], "error_flag": false,
 *      "log_records": [...]}, ...], "internal_logs": [], ...}
 * Absent fields are null (the thrift objects' unset members); i64s are
 * JSON numbers (micros since the epoch stay under 2^53). A decimal string
 * is taken for an i64 too, as a sender keeping 64-bit values exact beyond
 * 2^53 would write one; cJSON keeps numbers as doubles.
 *
 * Each span_records element fills a struct ltb_lst_span (ltb_lsthrift.h),
 * the model the binary form shares, so both flag and de-duplicate alike:
 * guids are hashed over their string's bytes; the trace guid is
 * trace_guid's, or when that is absent or empty the first join id whose
 * TraceKey is "trace_guid"; an attribute whose Key is empty (or absent)
 * flags empty_key. Unknown keys are ignored.
 *
 * What it refuses (400, the reason as the body): bytes that are not one
 * JSON value, a top level that is not an object, span_records that is not
 * an array, a span that is not an object, and a field it reads with the
 * wrong JSON type (a guid or name that is not a string, a time that is
 * not a 64-bit integer, attributes or join_ids not an array of objects).
 *
 * As for Atlas and OTLP's JSON, cJSON parses the body whole: the body is
 * held up to max_field within the group's budget, and cJSON's tree (at
 * most ltb_otlp_json_bound) is taken from the budget while it lives. The
 * tree is walked twice: once to check its shape, so nothing is counted
 * from a body refused, then to hand each span to the sink.
 *
 * The answer the tracer takes as success is a 200 with a JSON body it can
 * parse (an empty one is its "unexpected empty response"):
 *   {"timing":{"receive_micros":R,"transmit_micros":T},"commands":[]}
 * the timing feeding its clock-skew correction as crouton's did.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_body.h"
#include "collector/ltb_collector.h"
#include "collector/proto/ltb_lsthrift.h"
#include "collector/proto/ltb_otlp_walk.h"
#include "collector/proto/ltb_pbstream.h"
#include "core/ltb_clock.h"

static const char CT_JSON[] = "application/json";
static const char *const lstj_content_types[] = { CT_JSON, NULL };

struct lstj_state {
	size_t max;
	uint64_t receive_ns;
	struct ltb_budget *budget;	/* the group's, borrowed */
	struct ltb_pbhold body;
};

/* ---- fields ---------------------------------------------------------------- */

/* A guid: absent (null) or a string, hashed; *has when not empty. -1 if v
 * is another type. */
static int
read_guid(const cJSON *v, uint64_t *h, int *has)
{
	size_t n;

	*has = 0;
	*h = 0;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	n = strlen(v->valuestring);
	*h = ltb_lst_hash(LTB_LST_HASH_INIT, (const uint8_t *)v->valuestring,
	    n);
	*has = n > 0;
	return 0;
}

/* An i64: absent (null), a JSON number that is an integer, or a decimal
 * string; *has when present. -1 for anything else. */
static int
read_i64(const cJSON *v, int64_t *out, int *has)
{
	*has = 0;
	*out = 0;
	if (cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		/* -2^63 is exact in a double; 2^63 is the first beyond */
		if (!(d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0) || floor(d) != d)
			return -1;
		*out = (int64_t)d;
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		long long x;
		char *end;

		if (!(*s >= '0' && *s <= '9') && !(*s == '-' &&
		    s[1] >= '0' && s[1] <= '9'))
			return -1;
		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno || *end != '\0')
			return -1;
		*out = x;
	} else
		return -1;
	*has = 1;
	return 0;
}

/* o's member that must be an array of objects: NULL when absent or null;
 * *bad when it is there with another type or holds a non-object. */
static const cJSON *
objects(const cJSON *v, int *bad)
{
	const cJSON *e;

	*bad = 0;
	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsArray(v)) {
		*bad = 1;
		return NULL;
	}
	cJSON_ArrayForEach(e, v)
		if (!cJSON_IsObject(e)) {
			*bad = 1;
			return NULL;
		}
	return v;
}

/* A string member of a KeyValue or TraceJoinId: NULL when absent or null,
 * "" for bad when it is another type. */
static const char *
member_string(const cJSON *o, const char *key, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad = 1;
		return NULL;
	}
	return v->valuestring;
}

/* attributes: [{Key, Value}]; an empty or absent Key flags the span. */
static const char *
read_attributes(const cJSON *v, struct ltb_lst_span *s)
{
	const cJSON *a, *e;
	int bad;

	a = objects(v, &bad);
	if (bad)
		return "span attributes is not an array of objects";
	cJSON_ArrayForEach(e, a) {
		const char *k = member_string(e, "Key", &bad);

		member_string(e, "Value", &bad);
		if (bad)
			return "an attribute's Key or Value is not a string";
		if (k == NULL || k[0] == '\0')
			s->empty_key = 1;
	}
	return NULL;
}

/* join_ids: [{TraceKey, Value}]; the first "trace_guid" one is the trace
 * guid when the span has no trace_guid of its own. */
static const char *
read_join_ids(const cJSON *v, uint64_t *h, int *has)
{
	const cJSON *a, *e;
	int bad;

	*has = 0;
	a = objects(v, &bad);
	if (bad)
		return "span join_ids is not an array of objects";
	cJSON_ArrayForEach(e, a) {
		const char *k = member_string(e, "TraceKey", &bad);
		const char *val = member_string(e, "Value", &bad);

		if (bad)
			return "a join id's TraceKey or Value is not a string";
		if (*has || k == NULL || strcmp(k, "trace_guid") != 0 ||
		    val == NULL || val[0] == '\0')
			continue;
		*h = ltb_lst_hash(LTB_LST_HASH_INIT, (const uint8_t *)val,
		    strlen(val));
		*has = 1;
	}
	return NULL;
}

/* One SpanRecord into *s (zeroed here); NULL or why it cannot be read.
 * The last of a repeated key wins, as the last field does in thrift. */
static const char *
read_span(const cJSON *o, struct ltb_lst_span *s)
{
	const cJSON *c;
	uint64_t join = 0;
	int has_join = 0;
	const char *why;

	memset(s, 0, sizeof *s);
	cJSON_ArrayForEach(c, o) {
		const char *k = c->string;

		if (strcmp(k, "span_guid") == 0) {
			if (read_guid(c, &s->span_guid, &s->has_span_guid) < 0)
				return "span_guid is not a string";
		} else if (strcmp(k, "trace_guid") == 0) {
			if (read_guid(c, &s->trace_guid, &s->has_trace_guid) < 0)
				return "trace_guid is not a string";
		} else if (strcmp(k, "span_name") == 0) {
			if (cJSON_IsNull(c))
				s->has_name = 0;
			else if (!cJSON_IsString(c))
				return "span_name is not a string";
			else
				s->has_name = c->valuestring[0] != '\0';
		} else if (strcmp(k, "oldest_micros") == 0) {
			if (read_i64(c, &s->oldest_micros, &s->has_oldest) < 0)
				return "oldest_micros is not a 64-bit integer";
		} else if (strcmp(k, "youngest_micros") == 0) {
			if (read_i64(c, &s->youngest_micros,
			    &s->has_youngest) < 0)
				return "youngest_micros is not a 64-bit "
				    "integer";
		} else if (strcmp(k, "attributes") == 0) {
			s->empty_key = 0;
			if ((why = read_attributes(c, s)) != NULL)
				return why;
		} else if (strcmp(k, "join_ids") == 0) {
			if ((why = read_join_ids(c, &join, &has_join)) != NULL)
				return why;
		}
	}
	if (!s->has_trace_guid && has_join) {
		s->trace_guid = join;
		s->has_trace_guid = 1;
	}
	return NULL;
}

/* ---- the report ------------------------------------------------------------ */

/* Walk root's spans: check them all, and with sink set hand each on. Run
 * twice, so that nothing is counted from a body refused. */
static const char *
visit(const cJSON *root, const struct ltb_span_sink *sink)
{
	const cJSON *spans, *sp;
	struct ltb_lst_span s;
	const char *why;

	if (!cJSON_IsObject(root))
		return "body is not a JSON object";
	spans = cJSON_GetObjectItemCaseSensitive(root, "span_records");
	if (cJSON_IsNull(spans))
		return NULL;
	if (spans != NULL && !cJSON_IsArray(spans))
		return "span_records is not an array";
	cJSON_ArrayForEach(sp, spans) {
		if (!cJSON_IsObject(sp))
			return "a span record is not an object";
		if ((why = read_span(sp, &s)) != NULL)
			return why;
		if (sink != NULL)
			sink->span(sink->ctx, ltb_lst_key(&s), ltb_lst_check(&s));
	}
	return NULL;
}

/* Parse the body held and walk it: LTB_COLLECT_OK with every span handed
 * on, or LTB_COLLECT_MALFORMED with *why. */
static int
read_body(const struct lstj_state *s, const struct ltb_span_sink *sink,
    const char **why)
{
	const char *end = NULL;
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
	if ((*why = visit(root, NULL)) != NULL)
		goto out;
	visit(root, sink);
	rc = LTB_COLLECT_OK;
out:
	cJSON_Delete(root);
	return rc;
}

/* The ReportResponse into reply: timing in micros, no commands. */
static void
reply_response(uint64_t receive_ns, struct ltb_reply *reply)
{
	cJSON *o = cJSON_CreateObject(), *t;
	char *txt = NULL;

	reply->content_type = CT_JSON;
	reply->len = 0;
	if (o == NULL || (t = cJSON_AddObjectToObject(o, "timing")) == NULL ||
	    !cJSON_AddNumberToObject(t, "receive_micros",
	    (double)(receive_ns / 1000)) ||
	    !cJSON_AddNumberToObject(t, "transmit_micros",
	    (double)(ltb_real_ns() / 1000)) ||
	    !cJSON_AddArrayToObject(o, "commands") ||
	    (txt = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	if (strlen(txt) <= sizeof reply->body) {
		reply->len = strlen(txt);
		memcpy(reply->body, txt, reply->len);
	}
out:
	free(txt);
	cJSON_Delete(o);
}

/* ---- the protocol ---------------------------------------------------------- */

static int
lstj_begin(void *state, const struct ltb_message *m)
{
	struct lstj_state *s = state;

	if (strcmp(m->content_type, CT_JSON) != 0)
		return LTB_COLLECT_UNSUPPORTED;
	s->max = m->max_field;
	s->receive_ns = m->start_real_ns;
	s->budget = m->budget;
	s->body.budget = m->body_taken ? NULL : m->budget;
	return LTB_COLLECT_OK;
}

static int
lstj_feed(void *state, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	struct lstj_state *s = state;

	return ltb_body_hold(&s->body, p, n, s->max,
	    "report larger than the body limit", why);
}

static int
lstj_end(void *state, const struct ltb_span_sink *sink,
    struct ltb_reply *reply, const char **why)
{
	struct lstj_state *s = state;
	size_t tree;
	int rc;

	if ((rc = ltb_body_take_tree(s->budget, &s->body, &tree,
	    why)) != LTB_COLLECT_OK)
		return rc;
	rc = read_body(s, sink, why);
	ltb_budget_give(s->budget, tree);
	if (rc != LTB_COLLECT_OK)
		return rc;
	reply->status = 0;
	reply_response(s->receive_ns, reply);
	return LTB_COLLECT_OK;
}

static void
lstj_release(void *state)
{
	struct lstj_state *s = state;

	ltb_pbhold_free(&s->body);
}

const struct ltb_collector_proto ltb_proto_lightstep_thrift_json = {
	.name = "lightstep_thrift_json",
	.unit = "span",
	.transport = LTB_TRANSPORT_HTTP,
	.path = "/api/v0/reports",
	.content_types = lstj_content_types,
	.invalid_names = ltb_lst_invalid_names,
	.ninvalid = LTB_LST_NINVALID,
	.state_size = sizeof(struct lstj_state),
	.begin = lstj_begin,
	.feed = lstj_feed,
	.end = lstj_end,
	.release = lstj_release,
};
