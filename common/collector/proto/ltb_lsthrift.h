/*
 * ltb_lsthrift.h: what a LightStep thrift report says of one span, to the
 * two readers that serve that report (crouton's ReportRequest, see
 * lightstep_thrift.thrift): the binary walk on /_rpc/v1/reports/binary and
 * the JSON form on /api/v0/reports. Each reader fills one struct
 * ltb_lst_span per SpanRecord and asks this file whether the span is valid
 * and what identifies it, so both forms flag and de-duplicate alike.
 *
 * A guid is a string (tracers send 16 hex digits; any bytes are taken):
 * it is hashed as it arrives, so a reader fed in pieces never holds one.
 */
#ifndef LTB_LSTHRIFT_H
#define LTB_LSTHRIFT_H

#include <stddef.h>
#include <stdint.h>

/* Why a well-formed span is invalid; the first problem found wins, in
 * this order. */
enum ltb_lst_invalid {
	LTB_LST_VALID = 0,
	LTB_LST_NO_SPAN_GUID,	/* span_guid (1) absent or empty */
	LTB_LST_NO_TRACE_GUID,	/* neither trace_guid (11) nor a join id
				 * (4) whose TraceKey is "trace_guid" */
	LTB_LST_NO_NAME,	/* span_name (3) absent or empty */
	LTB_LST_NO_START,	/* oldest_micros (5) absent */
	LTB_LST_BAD_TIMESTAMP,	/* oldest or youngest (6) negative, or the
				 * end before the start */
	LTB_LST_EMPTY_KEY,	/* an attribute (8) with an empty Key */
	LTB_LST_NINVALID
};

/* Their names, JSON keys of /stats ("no_span_guid"); [0] is "valid". */
extern const char *const ltb_lst_invalid_names[LTB_LST_NINVALID];

/* What a reader gathered of one SpanRecord. Zero it before each. */
struct ltb_lst_span {
	uint64_t span_guid;		/* ltb_lst_hash of the guid's bytes */
	uint64_t trace_guid;
	int has_span_guid;		/* present and not empty */
	int has_trace_guid;		/* field 11, or a "trace_guid" join id */
	int has_name;			/* span_name present and not empty */
	int has_oldest, has_youngest;
	int64_t oldest_micros, youngest_micros;
	int empty_key;			/* an attribute's Key was "" */
};

/* FNV-1a, fed in pieces: h = ltb_lst_hash(LTB_LST_HASH_INIT, p, n), then
 * h = ltb_lst_hash(h, q, m) for the next piece of the same string. */
#define LTB_LST_HASH_INIT 0xcbf29ce484222325ull

static inline uint64_t
ltb_lst_hash(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The span's validation result, an enum ltb_lst_invalid. */
unsigned ltb_lst_check(const struct ltb_lst_span *s);

/* The span's key for duplicate detection (ltb_dupset_key of its guids). */
uint64_t ltb_lst_key(const struct ltb_lst_span *s);

#endif
