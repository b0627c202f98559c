/*
 * ltb_encode.h: the reference tracer's protobuf encoder, written by hand
 * for exactly the two messages it reports: a LightStep
 * lightstep.collector.ReportRequest and an OTLP ExportTraceServiceRequest
 * (one ResourceSpans, one ScopeSpans). It writes the bytes protobuf-c
 * packs for the same request (ltb_encode_pbc.h builds that one, for the
 * tests that compare the two), without building protobuf-c's structs or
 * allocating per span. A report is written backwards, from the end of a
 * buffer that only grows: a message's length is then known when its tag
 * and length are written, so nothing is sized twice or moved.
 *
 * A report: ltb_enc_begin, ltb_enc_span for each span, last first,
 * ltb_enc_end.
 */
#ifndef LTB_ENCODE_H
#define LTB_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "client/ltb_tracer.h"

struct ltb_enc_tag {
	const char *key, *value;	/* a string tag or attribute */
};

struct ltb_enc_log {
	uint64_t ns;			/* CLOCK_REALTIME */
	const char *key, *value;	/* its one string field */
};

/* A finished span as the tracer records it. Strings are C strings:
 * they end at their first NUL, as protobuf-c takes them. */
struct ltb_enc_span {
	uint64_t trace_id, span_id;
	uint64_t parent;		/* parent span id; 0: a root */
	const char *op;
	uint64_t start_ns, finish_ns;	/* CLOCK_REALTIME */
	const struct ltb_enc_tag *tags;
	const struct ltb_enc_log *logs;
	size_t ntags, nlogs;
};

/* What every report of a tracer says besides its spans. */
struct ltb_enc_config {
	enum ltb_tracer_protocol protocol;
	uint64_t reporter_id;		/* LightStep Reporter.reporter_id */
	const char *token;		/* LightStep Auth.access_token */
	const char *component;		/* lightstep.component_name, or OTLP
					 * service.name */
	uint64_t trace_hi;		/* OTLP: every trace id's high half */
};

struct ltb_enc {
	struct ltb_enc_config c;
	uint8_t *out;			/* spans so far: out[start..cap) */
	size_t start, cap;
	uint8_t *prefix;		/* LightStep: reporter and auth;
					 * OTLP: resource, then scope */
	size_t nprefix, nresource;
	size_t *lens;			/* a span's string lengths */
	size_t caplens;
};

/* Set e up for c (borrowed: its strings must outlive e). 0, or -1 when
 * out of memory. */
int ltb_enc_init(struct ltb_enc *e, const struct ltb_enc_config *c);

/* Start a report, forgetting the last one. 0, or -1 when out of memory. */
int ltb_enc_begin(struct ltb_enc *e);

/* Add a span before those added so far: spans go last first. 0, or -1
 * when out of memory. */
int ltb_enc_span(struct ltb_enc *e, const struct ltb_enc_span *s);

/* Finish the report: it is *body, *len bytes, valid until the next
 * ltb_enc_begin or ltb_enc_free. 0, or -1 when out of memory. */
int ltb_enc_end(struct ltb_enc *e, const uint8_t **body, size_t *len);

void ltb_enc_free(struct ltb_enc *e);

#endif
