/*
 * ltb_lsthrift_walk.c: the streaming walk of a LightStep thrift report in
 * the Thrift binary protocol; see ltb_lsthrift_walk.h for the contract.
 *
 * Hand-written on purpose: it is a hot path, and no Thrift library for C
 * reads a message in pieces with fixed memory. It is a byte-driven state
 * machine: a fixed-size item (a header, a field's type and id, a
 * primitive, a string's or a container's length) is gathered in acc, a
 * string's bytes are streamed to whatever the schema says it is for (a
 * guid's hash, a comparison), and containers are frames on a fixed stack.
 * The schema is a table of the structs lightstep_thrift.thrift defines,
 * with the role of the few fields validation reads.
 */
#include <limits.h>
#include <string.h>

#include "collector/proto/ltb_lsthrift_walk.h"

/* Thrift's TType. */
enum {
	T_STOP = 0, T_BOOL = 2, T_BYTE = 3, T_DOUBLE = 4, T_I16 = 6,
	T_I32 = 8, T_I64 = 10, T_STRING = 11, T_STRUCT = 12, T_MAP = 13,
	T_SET = 14, T_LIST = 15
};

enum { ST_DETECT, ST_FIXED, ST_STRING, ST_DONE };

/* Fixed-size items. */
enum {
	W_VERSION, W_NAMELEN, W_OLDTYPE, W_SEQID, W_FTYPE, W_FID, W_VALUE,
	W_STRLEN, W_LISTHDR, W_MAPHDR
};

/* What a field is for, to validation. */
enum {
	R_NONE, R_MSGNAME, R_SPAN_GUID, R_TRACE_GUID, R_NAME, R_JOIN_KEY,
	R_JOIN_VALUE, R_ATTR_KEY, R_OLDEST, R_YOUNGEST, R_JOINS, R_ATTRS
};

/* Structs whose beginning and end validation sees. */
enum { K_PLAIN, K_SPAN, K_JOIN, K_ATTR };

enum { F_STRUCT = 1, F_LIST, F_MAP };

struct lst_field {
	int16_t id;
	uint8_t type, etype;		/* etype: a list's elements */
	uint8_t role;
	const struct lst_desc *child;	/* a struct's, or a list's elements' */
};

struct lst_desc {
	uint8_t kind;
	uint8_t n;
	const struct lst_field *fields;
};

#define DESC(kind, f) { kind, sizeof f / sizeof f[0], f }

/* The schema, leaves first (lightstep_thrift.thrift). */
static const struct lst_field f_keyvalue[] = {
	{ 1, T_STRING, 0, R_NONE, NULL }, { 2, T_STRING, 0, R_NONE, NULL },
};
static const struct lst_desc d_keyvalue = DESC(K_PLAIN, f_keyvalue);

static const struct lst_field f_attr[] = {
	{ 1, T_STRING, 0, R_ATTR_KEY, NULL }, { 2, T_STRING, 0, R_NONE, NULL },
};
static const struct lst_desc d_attr = DESC(K_ATTR, f_attr);

static const struct lst_field f_counter[] = {
	{ 1, T_STRING, 0, R_NONE, NULL }, { 2, T_I64, 0, R_NONE, NULL },
};
static const struct lst_desc d_counter = DESC(K_PLAIN, f_counter);

static const struct lst_field f_runtime[] = {
	{ 1, T_STRING, 0, R_NONE, NULL }, { 2, T_I64, 0, R_NONE, NULL },
	{ 3, T_STRING, 0, R_NONE, NULL },
	{ 4, T_LIST, T_STRUCT, R_NONE, &d_keyvalue },
};
static const struct lst_desc d_runtime = DESC(K_PLAIN, f_runtime);

static const struct lst_field f_log[] = {
	{ 1, T_I64, 0, R_NONE, NULL },
	{ 13, T_LIST, T_STRUCT, R_NONE, &d_keyvalue },
	{ 2, T_STRING, 0, R_NONE, NULL }, { 3, T_STRING, 0, R_NONE, NULL },
	{ 4, T_STRING, 0, R_NONE, NULL }, { 5, T_STRING, 0, R_NONE, NULL },
	{ 6, T_STRING, 0, R_NONE, NULL }, { 7, T_I64, 0, R_NONE, NULL },
	{ 8, T_STRING, 0, R_NONE, NULL }, { 9, T_I64, 0, R_NONE, NULL },
	{ 10, T_LIST, T_STRING, R_NONE, NULL },
	{ 11, T_STRING, 0, R_NONE, NULL }, { 12, T_BOOL, 0, R_NONE, NULL },
};
static const struct lst_desc d_log = DESC(K_PLAIN, f_log);

static const struct lst_field f_join[] = {
	{ 1, T_STRING, 0, R_JOIN_KEY, NULL },
	{ 2, T_STRING, 0, R_JOIN_VALUE, NULL },
};
static const struct lst_desc d_join = DESC(K_JOIN, f_join);

static const struct lst_field f_span[] = {
	{ 1, T_STRING, 0, R_SPAN_GUID, NULL },
	{ 11, T_STRING, 0, R_TRACE_GUID, NULL },
	{ 2, T_STRING, 0, R_NONE, NULL },
	{ 3, T_STRING, 0, R_NAME, NULL },
	{ 4, T_LIST, T_STRUCT, R_JOINS, &d_join },
	{ 5, T_I64, 0, R_OLDEST, NULL }, { 6, T_I64, 0, R_YOUNGEST, NULL },
	{ 8, T_LIST, T_STRUCT, R_ATTRS, &d_attr },
	{ 9, T_BOOL, 0, R_NONE, NULL },
	{ 10, T_LIST, T_STRUCT, R_NONE, &d_log },
};
static const struct lst_desc d_span = DESC(K_SPAN, f_span);

static const struct lst_field f_sample[] = {
	{ 1, T_STRING, 0, R_NONE, NULL }, { 2, T_I64, 0, R_NONE, NULL },
	{ 3, T_DOUBLE, 0, R_NONE, NULL },
};
static const struct lst_desc d_sample = DESC(K_PLAIN, f_sample);

static const struct lst_field f_metrics[] = {
	{ 1, T_LIST, T_STRUCT, R_NONE, &d_sample },
	{ 2, T_LIST, T_STRUCT, R_NONE, &d_sample },
};
static const struct lst_desc d_metrics = DESC(K_PLAIN, f_metrics);

static const struct lst_field f_request[] = {
	{ 1, T_STRUCT, 0, R_NONE, &d_runtime },
	{ 3, T_LIST, T_STRUCT, R_NONE, &d_span },
	{ 4, T_LIST, T_STRUCT, R_NONE, &d_log },
	{ 5, T_I64, 0, R_NONE, NULL }, { 7, T_I64, 0, R_NONE, NULL },
	{ 8, T_I64, 0, R_NONE, NULL },
	{ 9, T_LIST, T_STRUCT, R_NONE, &d_counter },
	{ 10, T_LIST, T_STRUCT, R_NONE, &d_log },
	{ 11, T_STRUCT, 0, R_NONE, &d_metrics },
};
static const struct lst_desc d_request = DESC(K_PLAIN, f_request);

static const struct lst_field f_auth[] = {
	{ 1, T_STRING, 0, R_NONE, NULL },
};
static const struct lst_desc d_auth = DESC(K_PLAIN, f_auth);

/* ReportingService.Report's arguments. */
static const struct lst_field f_args[] = {
	{ 1, T_STRUCT, 0, R_NONE, &d_auth },
	{ 2, T_STRUCT, 0, R_NONE, &d_request },
};
static const struct lst_desc d_args = DESC(K_PLAIN, f_args);

static const char method[] = "Report";
static const char trace_key[] = "trace_guid";

static int
bad(struct ltb_lst_walk *w, const char *why)
{
	w->why = why;
	return LTB_LST_MALFORMED;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
fixed(struct ltb_lst_walk *w, int what, unsigned n)
{
	w->state = ST_FIXED;
	w->what = what;
	w->need = n;
	w->have = 0;
}

static const struct lst_field *
find(const struct lst_desc *d, int16_t id)
{
	for (unsigned i = 0; d != NULL && i < d->n; i++)
		if (d->fields[i].id == id)
			return &d->fields[i];
	return NULL;
}

static int
push(struct ltb_lst_walk *w, uint8_t kind, const struct lst_desc *d)
{
	struct ltb_lst_frame *f;

	if (w->depth == LTB_LST_MAXDEPTH)
		return bad(w, "thrift containers nested too deep");
	f = &w->stack[w->depth++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->desc = d;
	return 0;
}

/* A known struct begins: what its end will be checked against. */
static void
struct_begin(struct ltb_lst_walk *w, const struct lst_desc *d)
{
	switch (d->kind) {
	case K_SPAN:
		memset(&w->span, 0, sizeof w->span);
		w->tg_has = w->join_found = 0;
		break;
	case K_JOIN:
		w->match = w->jv_has = 0;
		break;
	case K_ATTR:
		w->ak_empty = 1;	/* a Key absent is empty */
		break;
	}
}

static void
struct_end(struct ltb_lst_walk *w, const struct lst_desc *d,
    ltb_lst_span_fn *fn, void *ctx)
{
	struct ltb_lst_span *s = &w->span;

	switch (d->kind) {
	case K_SPAN:
		s->has_trace_guid = w->tg_has || w->join_found;
		s->trace_guid = w->tg_has ? w->tg_hash :
		    w->join_found ? w->join_hash : 0;
		if (!s->has_span_guid)
			s->span_guid = 0;
		w->spans++;
		if (fn != NULL)
			fn(ctx, s);
		break;
	case K_JOIN:
		if (w->match && w->jv_has && !w->join_found) {
			w->join_found = 1;
			w->join_hash = w->jv_hash;
		}
		break;
	case K_ATTR:
		if (w->ak_empty)
			s->empty_key = 1;
		break;
	}
}

/* Start reading a value of type t; d is its struct's (or a list's
 * elements') schema, f the known field it is, or NULL. */
static int
begin_value(struct ltb_lst_walk *w, uint8_t t, const struct lst_desc *d,
    const struct lst_field *f)
{
	static const uint8_t width[16] = {
		[T_BOOL] = 1, [T_BYTE] = 1, [T_DOUBLE] = 8, [T_I16] = 2,
		[T_I32] = 4, [T_I64] = 8,
	};

	w->vtype = t;
	w->vdesc = d;
	w->field = f;
	w->role = f != NULL ? f->role : R_NONE;
	/* a list given again replaces the earlier one, as Thrift reads */
	if (w->role == R_JOINS)
		w->join_found = 0;
	else if (w->role == R_ATTRS)
		w->span.empty_key = 0;
	switch (t) {
	case T_STRING:
		fixed(w, W_STRLEN, 4);
		return 0;
	case T_STRUCT:
		if (push(w, F_STRUCT, d) < 0)
			return LTB_LST_MALFORMED;
		if (d != NULL)
			struct_begin(w, d);
		fixed(w, W_FTYPE, 1);
		return 0;
	case T_LIST:
	case T_SET:
		fixed(w, W_LISTHDR, 5);
		return 0;
	case T_MAP:
		fixed(w, W_MAPHDR, 6);
		return 0;
	}
	if (t >= 16 || width[t] == 0)
		return bad(w, "a thrift type that does not exist");
	fixed(w, W_VALUE, width[t]);
	return 0;
}

/* A value is complete: what comes next is up to the open container. */
static int
value_done(struct ltb_lst_walk *w)
{
	struct ltb_lst_frame *top;
	uint8_t t;

	for (;;) {
		if (w->depth == 0) {
			w->state = ST_DONE;
			return 0;
		}
		top = &w->stack[w->depth - 1];
		if (top->kind == F_STRUCT) {
			fixed(w, W_FTYPE, 1);
			return 0;
		}
		if (top->left == 0) {
			w->depth--;
			continue;
		}
		/* a map alternates keys (left even) and values */
		t = top->kind == F_MAP && top->left % 2 == 1 ? top->etype[1] :
		    top->etype[0];
		top->left--;
		return begin_value(w, t, top->kind == F_LIST ? top->desc : NULL,
		    NULL);
	}
}

static void
string_begin(struct ltb_lst_walk *w, uint64_t len)
{
	switch (w->role) {
	case R_MSGNAME:
		w->match = len == sizeof method - 1;
		break;
	case R_SPAN_GUID:
		w->span.has_span_guid = len > 0;
		w->span.span_guid = LTB_LST_HASH_INIT;
		break;
	case R_TRACE_GUID:
		w->tg_has = len > 0;
		w->tg_hash = LTB_LST_HASH_INIT;
		break;
	case R_NAME:
		w->span.has_name = len > 0;
		break;
	case R_JOIN_KEY:
		w->match = len == sizeof trace_key - 1;
		break;
	case R_JOIN_VALUE:
		w->jv_has = len > 0;
		w->jv_hash = LTB_LST_HASH_INIT;
		break;
	case R_ATTR_KEY:
		w->ak_empty = len == 0;
		break;
	}
}

static void
string_bytes(struct ltb_lst_walk *w, const uint8_t *p, size_t n)
{
	const char *target = w->role == R_MSGNAME ? method : trace_key;

	switch (w->role) {
	case R_SPAN_GUID:
		w->span.span_guid = ltb_lst_hash(w->span.span_guid, p, n);
		break;
	case R_TRACE_GUID:
		w->tg_hash = ltb_lst_hash(w->tg_hash, p, n);
		break;
	case R_JOIN_VALUE:
		w->jv_hash = ltb_lst_hash(w->jv_hash, p, n);
		break;
	case R_MSGNAME:
	case R_JOIN_KEY:
		/* match says the length is the target's: str_pos + n fits */
		if (w->match && memcmp(target + w->str_pos, p, n) != 0)
			w->match = 0;
		break;
	}
}

/* The message's name is read: what the header says next. */
static int
name_done(struct ltb_lst_walk *w)
{
	if (!w->match)
		return bad(w, "not a thrift call of Report");
	if (w->form == LTB_LST_FORM_OLD)
		fixed(w, W_OLDTYPE, 1);
	else
		fixed(w, W_SEQID, 4);
	return 0;
}

static int
string_done(struct ltb_lst_walk *w)
{
	if (w->role == R_MSGNAME)
		return name_done(w);
	return value_done(w);
}

static int
on_strlen(struct ltb_lst_walk *w)
{
	int32_t len = (int32_t)be32(w->acc);

	if (len < 0)
		return bad(w, "a thrift string of negative length");
	if (w->role == R_MSGNAME && (size_t)len != sizeof method - 1)
		return bad(w, "not a thrift call of Report");
	if ((uint64_t)len > w->max_field) {
		w->why = "a thrift string larger than the body limit";
		return LTB_LST_TOO_LARGE;
	}
	string_begin(w, (uint64_t)len);
	if (len == 0)
		return string_done(w);
	w->state = ST_STRING;
	w->str_left = (uint64_t)len;
	w->str_pos = 0;
	return 0;
}

static int
on_container(struct ltb_lst_walk *w)
{
	int32_t n;
	struct ltb_lst_frame *f;
	int map = w->what == W_MAPHDR;

	n = (int32_t)be32(w->acc + (map ? 2 : 1));
	if (n < 0)
		return bad(w, "a thrift container of negative size");
	if (w->field != NULL && w->acc[0] != w->field->etype)
		return bad(w, "a known thrift list of the wrong element type");
	if (push(w, map ? F_MAP : F_LIST, w->vdesc) < 0)
		return LTB_LST_MALFORMED;
	f = &w->stack[w->depth - 1];
	f->etype[0] = w->acc[0];
	f->etype[1] = map ? w->acc[1] : 0;
	f->left = map ? 2 * (uint64_t)n : (uint64_t)n;
	return value_done(w);
}

static int
on_field(struct ltb_lst_walk *w)
{
	const struct ltb_lst_frame *top = &w->stack[w->depth - 1];
	int16_t id = (int16_t)((uint16_t)w->acc[0] << 8 | w->acc[1]);
	const struct lst_field *f = find(top->desc, id);

	if (f == NULL)
		return begin_value(w, w->vtype, NULL, NULL);
	if (f->type != w->vtype)
		return bad(w, "a known thrift field of the wrong type");
	return begin_value(w, w->vtype, f->child, f);
}

static void
on_value(struct ltb_lst_walk *w)
{
	int64_t v = (int64_t)((uint64_t)be32(w->acc) << 32 | be32(w->acc + 4));

	if (w->role == R_OLDEST) {
		w->span.has_oldest = 1;
		w->span.oldest_micros = v;
	} else if (w->role == R_YOUNGEST) {
		w->span.has_youngest = 1;
		w->span.youngest_micros = v;
	}
}

static int
on_header(struct ltb_lst_walk *w)
{
	uint32_t v = be32(w->acc);

	switch (w->what) {
	case W_VERSION:
		/* bits 8-15 are not looked at, as in TBinaryProtocol */
		if ((v & 0xffff0000u) != 0x80010000u)
			return bad(w, "a thrift message of an unknown version");
		w->msgtype = (int)(v & 0xff);
		if (w->msgtype != LTB_LST_CALL && w->msgtype != LTB_LST_ONEWAY)
			return bad(w, "a thrift message that is not a call");
		fixed(w, W_NAMELEN, 4);
		return 0;
	case W_OLDTYPE:
		w->msgtype = w->acc[0];
		if (w->msgtype != LTB_LST_CALL && w->msgtype != LTB_LST_ONEWAY)
			return bad(w, "a thrift message that is not a call");
		fixed(w, W_SEQID, 4);
		return 0;
	case W_SEQID:
		w->seqid = (int32_t)v;
		return begin_value(w, T_STRUCT, &d_args, NULL);
	}
	/* W_NAMELEN */
	w->role = R_MSGNAME;
	return on_strlen(w);
}

/* acc holds the item w->what: act on it. */
static int
on_fixed(struct ltb_lst_walk *w, ltb_lst_span_fn *fn, void *ctx)
{
	struct ltb_lst_frame *top;

	switch (w->what) {
	case W_FTYPE:
		if (w->acc[0] != T_STOP) {
			w->vtype = w->acc[0];
			fixed(w, W_FID, 2);
			return 0;
		}
		top = &w->stack[--w->depth];
		if (top->desc != NULL)
			struct_end(w, top->desc, fn, ctx);
		return value_done(w);
	case W_FID:
		return on_field(w);
	case W_VALUE:
		on_value(w);
		return value_done(w);
	case W_STRLEN:
		return on_strlen(w);
	case W_LISTHDR:
	case W_MAPHDR:
		return on_container(w);
	}
	return on_header(w);
}

/* The first byte tells the form (see the header); it is not consumed. */
static int
detect(struct ltb_lst_walk *w, uint8_t b)
{
	if (b >= 0x80) {
		w->form = LTB_LST_FORM_STRICT;
		fixed(w, W_VERSION, 4);
		return 0;
	}
	if (b == 0) {
		w->form = LTB_LST_FORM_OLD;
		fixed(w, W_NAMELEN, 4);
		return 0;
	}
	w->form = LTB_LST_FORM_BARE;
	return begin_value(w, T_STRUCT, &d_request, NULL);
}

void
ltb_lst_walk_init(struct ltb_lst_walk *w, size_t max_field)
{
	memset(w, 0, sizeof *w);
	w->state = ST_DETECT;
	w->max_field = max_field;
}

static int
step(struct ltb_lst_walk *w, const uint8_t *p, size_t n, size_t *used,
    ltb_lst_span_fn *fn, void *ctx)
{
	size_t k;

	*used = 0;
	switch (w->state) {
	case ST_DETECT:
		return detect(w, p[0]);
	case ST_FIXED:
		k = w->need - w->have < n ? w->need - w->have : n;
		memcpy(w->acc + w->have, p, k);
		w->have += (unsigned)k;
		*used = k;
		return w->have == w->need ? on_fixed(w, fn, ctx) : 0;
	case ST_STRING:
		k = w->str_left < n ? (size_t)w->str_left : n;
		string_bytes(w, p, k);
		w->str_left -= k;
		w->str_pos += k;
		*used = k;
		return w->str_left == 0 ? string_done(w) : 0;
	}
	return bad(w, "bytes after the end of the thrift message");
}

int
ltb_lst_walk_feed(struct ltb_lst_walk *w, const uint8_t *p, size_t n,
    ltb_lst_span_fn *fn, void *ctx)
{
	uint64_t before = w->spans;
	size_t used;
	int rc;

	if (w->failed)
		return w->failed;
	w->bytes += n;
	while (n > 0) {
		rc = step(w, p, n, &used, fn, ctx);
		if (rc < 0) {
			w->failed = rc;
			return rc;
		}
		p += used;
		n -= used;
	}
	return w->spans - before > INT_MAX ? INT_MAX :
	    (int)(w->spans - before);
}

int
ltb_lst_walk_end(struct ltb_lst_walk *w)
{
	if (w->failed)
		return w->failed;
	if (w->state != ST_DONE) {
		w->failed = bad(w, w->form == LTB_LST_FORM_NONE ?
		    "an empty thrift body" : "a truncated thrift message");
		return w->failed;
	}
	return 0;
}

/* Writers of the answer: p advances; the caller made room. */
static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *
put_field(uint8_t *p, uint8_t type, uint16_t id)
{
	p[0] = type;
	p[1] = (uint8_t)(id >> 8);
	p[2] = (uint8_t)id;
	return p + 3;
}

static uint8_t *
put_i64(uint8_t *p, uint16_t id, uint64_t v)
{
	p = put_field(p, T_I64, id);
	p = put32(p, (uint32_t)(v >> 32));
	return put32(p, (uint32_t)v);
}

size_t
ltb_lst_reply(const struct ltb_lst_walk *w, uint8_t *buf, size_t cap,
    uint64_t receive_ns, uint64_t transmit_ns)
{
	uint8_t *p = buf;

	if (cap < 64 || w->msgtype == LTB_LST_ONEWAY)
		return 0;
	if (w->form != LTB_LST_FORM_BARE) {
		/* the server writes strict headers, whatever it read */
		p = put32(p, 0x80010000u | LTB_LST_REPLY);
		p = put32(p, sizeof method - 1);
		memcpy(p, method, sizeof method - 1);
		p += sizeof method - 1;
		p = put32(p, (uint32_t)w->seqid);
		p = put_field(p, T_STRUCT, 0);	/* success */
	}
	p = put_field(p, T_STRUCT, 2);		/* ReportResponse.timing */
	p = put_i64(p, 1, receive_ns / 1000);
	p = put_i64(p, 2, transmit_ns / 1000);
	*p++ = T_STOP;				/* Timing */
	*p++ = T_STOP;				/* ReportResponse */
	if (w->form != LTB_LST_FORM_BARE)
		*p++ = T_STOP;			/* the result */
	return (size_t)(p - buf);
}
