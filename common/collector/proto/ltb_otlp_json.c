/*
 * ltb_otlp_json.c: reading an OTLP/HTTP JSON trace export request.
 *
 * The OTLP JSON mapping is proto3's with OTLP's changes: keys are
 * lowerCamelCase field names, trace and span ids are hex strings (either
 * case), enums are integers, 64-bit integers are decimal strings or
 * numbers, and unknown keys are ignored. cJSON parses the body whole; the
 * reader then visits resourceSpans[].scopeSpans[].spans[] and reads what
 * validation needs, the same as the protobuf walk: ids, name, start and
 * end times.
 *
 * What it refuses (the body "cannot be read", 400): bytes that are not
 * one JSON value, a top level that is not an object, a known key of the
 * path to the spans whose value has the wrong JSON type (resourceSpans not
 * an array, a span not an object, ...), a name that is not a string, a
 * time that is not an unsigned 64-bit integer. null is the absent value,
 * as in proto3. What it flags, like the walk: an id that is not hex of the
 * right length (including a base64 id, which the standard proto3 mapping
 * would send) is a bad id, as a wrong-length id is in protobuf.
 *
 * cJSON keeps numbers as doubles, so a time sent as a JSON number beyond
 * 2^53 loses its low bits; OTLP senders send times as strings.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/proto/ltb_otlp_walk.h"

struct span_in {
	uint8_t trace[16], span[8];
	size_t tlen, slen, plen;	/* valid bytes; SIZE_MAX: not hex */
	int named;
	uint64_t start, end;
};

/* Hex digit value, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An id: a hex string of up to 2 * cap digits into out. Sets *len to its
 * bytes, or to (size_t)-1 when it is not hex or too long. -1 if v is not
 * a string (or null). */
static int
read_id(const cJSON *v, uint8_t *out, size_t cap, size_t *len)
{
	const char *s;
	size_t n, i;

	if (cJSON_IsNull(v)) {
		*len = 0;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -1;
	s = v->valuestring;
	n = strlen(s);
	if (n % 2 || n / 2 > cap) {
		*len = (size_t)-1;
		return 0;
	}
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			*len = (size_t)-1;
			return 0;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* A fixed64: a decimal string or a number, unsigned and integral. */
static int
read_u64(const cJSON *v, uint64_t *out)
{
	if (cJSON_IsNull(v)) {
		*out = 0;
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (!(d >= 0) || d >= 18446744073709551616.0 || floor(d) != d)
			return -1;
		*out = (uint64_t)d;
		return 0;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		unsigned long long x;
		char *end;

		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		x = strtoull(s, &end, 10);
		if (errno || *end != '\0')
			return -1;
		*out = x;
		return 0;
	}
	return -1;
}

static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* One span object into *s; NULL or why it cannot be read. Last key wins,
 * as the last field does in protobuf. */
static const char *
read_span(const cJSON *o, struct span_in *s)
{
	const cJSON *c;
	uint8_t parent[8];

	memset(s, 0, sizeof *s);
	cJSON_ArrayForEach(c, o) {
		const char *k = c->string;

		if (strcmp(k, "traceId") == 0) {
			if (read_id(c, s->trace, 16, &s->tlen) < 0)
				return "span traceId is not a string";
		} else if (strcmp(k, "spanId") == 0) {
			if (read_id(c, s->span, 8, &s->slen) < 0)
				return "span spanId is not a string";
		} else if (strcmp(k, "parentSpanId") == 0) {
			if (read_id(c, parent, 8, &s->plen) < 0)
				return "span parentSpanId is not a string";
		} else if (strcmp(k, "name") == 0) {
			if (cJSON_IsNull(c))
				s->named = 0;
			else if (!cJSON_IsString(c))
				return "span name is not a string";
			else
				s->named = c->valuestring[0] != '\0';
		} else if (strcmp(k, "startTimeUnixNano") == 0) {
			if (read_u64(c, &s->start) < 0)
				return "span startTimeUnixNano is not an "
				    "unsigned 64-bit integer";
		} else if (strcmp(k, "endTimeUnixNano") == 0) {
			if (read_u64(c, &s->end) < 0)
				return "span endTimeUnixNano is not an "
				    "unsigned 64-bit integer";
		}
	}
	return NULL;
}

static void
judge(const struct span_in *in, struct ltb_otlp_span *s)
{
	s->trace_hi = in->tlen == 16 ? be(in->trace, 8) : 0;
	s->trace_lo = in->tlen == 16 ? be(in->trace + 8, 8) : 0;
	s->span_id = in->slen == 8 ? be(in->span, 8) : 0;
	if (in->tlen != 16 || all_zero(in->trace, 16))
		s->invalid = LTB_OTLP_BAD_TRACE_ID;
	else if (in->slen != 8 || all_zero(in->span, 8))
		s->invalid = LTB_OTLP_BAD_SPAN_ID;
	else if (in->plen != 0 && in->plen != 8)
		s->invalid = LTB_OTLP_BAD_PARENT_SPAN_ID;
	else if (!in->named)
		s->invalid = LTB_OTLP_NO_NAME;
	else if (in->end < in->start)
		s->invalid = LTB_OTLP_END_BEFORE_START;
	else
		s->invalid = LTB_OTLP_VALID;
}

/* o's member key: an array, or NULL when absent or null; *bad when it is
 * there with another type. */
static const cJSON *
list(const cJSON *o, const char *key, int *bad)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, key);

	*bad = 0;
	if (c == NULL || cJSON_IsNull(c))
		return NULL;
	if (!cJSON_IsArray(c)) {
		*bad = 1;
		return NULL;
	}
	return c;
}

/* Walk the spans of root: count them, and when fn is not NULL report each.
 * Run twice, so that nothing is reported from a body refused later. */
static const char *
visit(const cJSON *root, ltb_otlp_span_fn *fn, void *ctx, long *count)
{
	const cJSON *rs, *r, *ss, *sc, *sps, *sp;
	struct span_in in;
	struct ltb_otlp_span s;
	const char *why;
	int bad;

	*count = 0;
	if (!cJSON_IsObject(root))
		return "body is not a JSON object";
	rs = list(root, "resourceSpans", &bad);
	if (bad)
		return "resourceSpans is not an array";
	cJSON_ArrayForEach(r, rs) {
		if (!cJSON_IsObject(r))
			return "a resourceSpans entry is not an object";
		ss = list(r, "scopeSpans", &bad);
		if (bad)
			return "scopeSpans is not an array";
		cJSON_ArrayForEach(sc, ss) {
			if (!cJSON_IsObject(sc))
				return "a scopeSpans entry is not an object";
			sps = list(sc, "spans", &bad);
			if (bad)
				return "spans is not an array";
			cJSON_ArrayForEach(sp, sps) {
				if (!cJSON_IsObject(sp))
					return "a span is not an object";
				if ((why = read_span(sp, &in)) != NULL)
					return why;
				(*count)++;
				if (fn != NULL) {
					judge(&in, &s);
					fn(ctx, &s);
				}
			}
		}
	}
	return NULL;
}

/* A malloc'd block's own cost beyond what was asked, at most. */
#define MALLOC_OVERHEAD 32

size_t
ltb_otlp_json_bound(const uint8_t *p, size_t n)
{
	size_t nodes = 1;

	/* Every value but the first follows a comma or opens a container:
	 * commas inside strings only overcount. */
	for (size_t i = 0; i < n; i++)
		nodes += p[i] == ',' || p[i] == '[' || p[i] == '{';
	/* A node, its key and its string, each a block; the strings' bytes
	 * come from the body. */
	return nodes * (sizeof(cJSON) + 3 * MALLOC_OVERHEAD) + n;
}

long
ltb_otlp_json(const uint8_t *p, size_t n, ltb_otlp_span_fn *fn, void *ctx,
    const char **why)
{
	const char *end = NULL, *r;
	cJSON *root;
	long spans = -1;
	size_t i;

	root = cJSON_ParseWithLengthOpts((const char *)p, n, &end, 0);
	if (root == NULL) {
		r = "body is not JSON";
		goto fail;
	}
	/* one value, and nothing after it but white space */
	for (i = (size_t)(end - (const char *)p); i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
		    p[i] != '\r') {
			r = "body is not one JSON value";
			goto fail;
		}
	if ((r = visit(root, NULL, NULL, &spans)) != NULL)
		goto fail;
	if (fn != NULL)
		visit(root, fn, ctx, &spans);
	cJSON_Delete(root);
	return spans;
fail:
	cJSON_Delete(root);
	if (why != NULL)
		*why = r;
	return -1;
}
