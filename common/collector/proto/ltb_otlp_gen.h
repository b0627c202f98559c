/*
 * ltb_otlp_gen.h: realistic OTLP trace export requests, protobuf (packed
 * by protobuf-c) and JSON (the OTLP JSON mapping, printed by cJSON).
 *
 * Test and benchmark fixtures: what an OpenTelemetry SDK sends. One
 * resource (service.name and the telemetry.sdk.* attributes) and one scope
 * by default; each span has 16-byte trace and 8-byte span ids, a parent
 * (the span before it in its trace of 16), a name, a kind, start and end
 * times, flags, num_attrs attributes (the LightStep fixtures' tags under
 * OpenTelemetry's names: strings, an int and a bool), num_events events (the LightStep fixtures'
 * logs: a name and one attribute each) and a status. With 10 attributes and
 * 15 events a span packs to about as many bytes as a LightStep fixture
 * span. Ids come from a seeded generator, so the same options give the
 * same bytes, and distinct seeds give distinct ids.
 */
#ifndef LTB_OTLP_GEN_H
#define LTB_OTLP_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "collector/proto/ltb_otlp_walk.h"

struct ltb_otlpgen {
	size_t spans;		/* distinct spans in the request */
	int num_attrs;		/* attributes per span (10) */
	int num_events;		/* events per span, one attribute each (15) */
	uint64_t seed;		/* ids; nonzero */
	/* Faults, for tests: make every span invalid for this reason
	 * (LTB_OTLP_VALID for none): bad ids alternate between all zero and
	 * the wrong length; or repeat each span this many extra times (0 for
	 * none): the request then holds spans * (1 + duplicates) spans, each
	 * copy right after its original. */
	enum ltb_otlp_invalid invalid;
	int duplicates;
	/* Spans spread over this many ResourceSpans, each with this many
	 * ScopeSpans, in blocks of consecutive spans (0 means 1). */
	int resources;
	int scopes;
};
#define LTB_OTLPGEN_DEFAULT { 100, 10, 15, 1, LTB_OTLP_VALID, 0, 1, 1 }

/* Encode an ExportTraceServiceRequest. Returns a malloc'd buffer the
 * caller frees, with its length in *len, or NULL with errno set. */
uint8_t *ltb_otlpgen_request(const struct ltb_otlpgen *g, size_t *len);

/* The same request in the OTLP JSON mapping: a malloc'd NUL-terminated
 * string, its length in *len, or NULL with errno set. */
char *ltb_otlpgen_json(const struct ltb_otlpgen *g, size_t *len);

/* Any packed ExportTraceServiceRequest in the OTLP JSON mapping (what
 * ltb_otlpgen_json prints), or NULL with errno set (EINVAL: protobuf-c
 * refuses it). */
char *ltb_otlp_to_json(const uint8_t *p, size_t n, size_t *len);

#endif
