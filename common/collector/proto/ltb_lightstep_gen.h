/*
 * ltb_lightstep_gen.h: realistic LightStep reports, encoded with protobuf-c.
 *
 * Test and benchmark fixtures: what a production tracer sends. Each span has
 * a span context, an operation name, one ChildOf reference to the span
 * before it, a start time, a duration, num_tags string tags and num_logs
 * logs of one string field each; with 10 tags and 15 logs a span encodes to
 * about 940 bytes. Ids come from a seeded generator, so the same options
 * give the same bytes, and distinct seeds give distinct span ids.
 */
#ifndef LTB_LIGHTSTEP_GEN_H
#define LTB_LIGHTSTEP_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "collector/proto/ltb_lightstep_walk.h"

struct ltb_lsgen {
	size_t spans;		/* spans in the report */
	int num_tags;		/* string tags per span (10) */
	int num_logs;		/* logs per span, one field each (15) */
	uint64_t seed;		/* ids; nonzero */
	/* Faults, for tests: make every span invalid for this reason
	 * (LTB_LS_VALID for none), or repeat each span id this many extra
	 * times (0 for none): the report then holds spans * (1 + duplicates)
	 * spans, each copy right after its original. */
	enum ltb_ls_invalid invalid;
	int duplicates;
};
#define LTB_LSGEN_DEFAULT { 100, 10, 15, 1, LTB_LS_VALID, 0 }

/* Encode a ReportRequest. Returns a malloc'd buffer the caller frees, with
 * its length in *len, or NULL with errno set. */
uint8_t *ltb_lsgen_report(const struct ltb_lsgen *g, size_t *len);

#endif
