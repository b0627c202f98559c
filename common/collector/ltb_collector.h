/*
 * ltb_collector.h: the protocols a mock satellite speaks, as plug-ins.
 *
 * ltb-satellite owns the sockets, HTTP, limits, modes and counters; a
 * protocol owns only the bytes of a request body: it reads them as they
 * arrive, tells the satellite about each span it finds, and builds the
 * answer. LightStep's report protocol is the first; OTLP/HTTP, OSProfiler
 * messages and spectatord's line protocol plug in the same way, by adding a
 * table entry to ltb_collector_protocols.
 */
#ifndef LTB_COLLECTOR_H
#define LTB_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

/* Where a protocol sends what it finds; owned by the satellite. */
struct ltb_span_sink {
	/* One span: a key identifying it (for duplicate detection; see
	 * ltb_dupset_key) and its validation result, below the protocol's
	 * ninvalid, 0 for valid. */
	void (*span)(void *ctx, uint64_t key, unsigned invalid);
	void *ctx;
};

/* What a protocol answers when a body was read whole. The satellite sends
 * it with status 200, unless its mode says otherwise. */
struct ltb_reply {
	const char *content_type;
	uint8_t body[256];
	size_t len;
};

/* Return codes of feed and end. */
enum {
	LTB_COLLECT_OK = 0,
	LTB_COLLECT_MALFORMED = -1,	/* 400: the body cannot be read */
	LTB_COLLECT_TOO_LARGE = -2	/* 413: a part exceeds max_field */
};

struct ltb_collector_proto {
	const char *name;		/* "lightstep" */
	const char *path;		/* POST target, "/api/v2/reports" */
	unsigned ninvalid;		/* validation results, 0 = valid */
	const char *(*invalid_name)(unsigned why);	/* JSON key of each */
	size_t state_size;		/* bytes of per-request state */

	/* Start reading one body into state (state_size bytes, zeroed).
	 * full: read it by the library's complete unpack instead of the
	 * streaming walk (ltb-satellite --validate full); the body is then
	 * held whole, up to max_field bytes. */
	int (*begin)(void *state, size_t max_field, int full);
	/* A piece of the body. Returns LTB_COLLECT_*; on error *why is set to
	 * a short static reason. Spans found are given to sink. */
	int (*feed)(void *state, const uint8_t *p, size_t n,
	    const struct ltb_span_sink *sink, const char **why);
	/* The body is complete: check it ended cleanly and fill reply with
	 * the answer (receive_ns: when the request started). */
	int (*end)(void *state, const struct ltb_span_sink *sink,
	    uint64_t receive_ns, struct ltb_reply *reply, const char **why);
	/* Release what begin and feed took; called exactly once per begin. */
	void (*release)(void *state);
};

/* The protocols ltb-satellite serves, NULL-ended. */
extern const struct ltb_collector_proto *const ltb_collector_protocols[];

extern const struct ltb_collector_proto ltb_proto_lightstep;

#endif
