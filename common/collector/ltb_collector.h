/*
 * ltb_collector.h: what a protocol is, to the satellite group.
 *
 * A satellite group owns sockets, transports, limits, modes, scripts and
 * counters; a protocol owns only the bytes of one message. A transport
 * (an HTTP request body, a datagram, a stretch of a TCP stream) hands the
 * group one message at a time: begin with what the transport knows of it
 * (path, content type, encoding), feed its bytes in pieces of any size,
 * end. The protocol reads the pieces as they come, tells the group about
 * each unit it finds (a span, a measurement, a trace point) through a
 * sink, and at the end builds the answer.
 *
 * The group decodes a content encoding (gzip) before the protocol sees a
 * byte, and applies its limits to the decoded bytes. A protocol never
 * counts, never sleeps and never touches a socket.
 *
 * Every protocol is one file in collector/proto/ and one line in the table
 * of ltb_protocols.c.
 */
#ifndef LTB_COLLECTOR_H
#define LTB_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

struct ltb_budget;
struct cJSON;

/* How a protocol's messages arrive. */
enum ltb_transport {
	LTB_TRANSPORT_HTTP,		/* a request body, routed by path */
	LTB_TRANSPORT_UDP,		/* one datagram */
	LTB_TRANSPORT_UNIX_DGRAM,	/* one datagram on a unix socket */
	LTB_TRANSPORT_TCP,		/* a plain stream, framed by the protocol */
	LTB_NTRANSPORTS
};

/* What the transport knows of one message. Borrowed for begin: a
 * protocol copies what it keeps. */
struct ltb_message {
	const char *path;		/* HTTP: the request path; else NULL */
	const char *content_type;	/* media type, lower case, without
					 * parameters; "" when none was sent */
	const char *encoding;		/* as sent ("gzip"); "" for none. The
					 * bytes fed are already decoded. */
	uint64_t start_real_ns;		/* when it began, ns since the epoch */
	size_t max_field;		/* bytes the protocol may hold at once */
	int full;			/* ltb-satellite --validate full: read
					 * by the library's unpack, held whole */
	uint64_t claim_rejected;	/* a script asks the answer to say this
					 * many units were rejected (OTLP's
					 * partial_success); 0: say the truth */
	struct ltb_budget *budget;	/* the group's (ltb_budget.h): what
					 * the protocol holds is taken from
					 * it; NULL: no budget */
	int body_taken;			/* max_field bytes are taken from it
					 * already for a body held whole:
					 * hold it without taking again */
	void *shared;			/* the protocol's state shared by
					 * every message of the group
					 * (shared_size bytes); NULL for a
					 * protocol without one */
};

/* Where a protocol sends what it finds; owned by the group. */
struct ltb_span_sink {
	/* One unit: a key identifying it (for duplicate detection; see
	 * ltb_dupset_key; 0 for a unit with no identity, as a metric's
	 * update, which is never a duplicate) and its validation result, an
	 * index below the protocol's ninvalid, 0 for valid. */
	void (*span)(void *ctx, uint64_t key, unsigned invalid);
	/* The kind of the valid unit just given to span (a meter type),
	 * an index below the protocol's nkinds; only protocols with kinds
	 * call it. */
	void (*kind)(void *ctx, unsigned kind);
	void *ctx;
};

/* The answer to a message. status 0 means 200 (or, for datagrams,
 * nothing to send). */
struct ltb_reply {
	unsigned status;
	const char *content_type;	/* static */
	uint8_t body[1024];
	size_t len;
	char retry_after[72];		/* HTTP Retry-After, "" for none; the
					 * group's (a script's), never a
					 * protocol's */
};

/* Return codes of begin, feed and end. */
enum {
	LTB_COLLECT_OK = 0,
	LTB_COLLECT_MALFORMED = -1,	/* 400: the message cannot be read */
	LTB_COLLECT_TOO_LARGE = -2,	/* 413: a part exceeds max_field */
	LTB_COLLECT_UNSUPPORTED = -3,	/* 415: a content type it cannot read */
	LTB_COLLECT_BUSY = -4		/* 503: no room in the memory budget
					 * for what it must hold; retry */
};

struct ltb_collector_proto {
	const char *name;		/* "lightstep", "otlp": the /stats key */
	const char *unit;		/* what it counts: "span" */
	enum ltb_transport transport;
	const char *path;		/* HTTP: the POST target; TCP (RESP):
					 * the prefix of the keys whose
					 * values are its messages */
	/* Media types it reads, NULL-ended; NULL: whatever is sent. */
	const char *const *content_types;
	/* Names of its validation results, JSON keys it owns; [0] is the
	 * valid one and is never counted. ninvalid entries. */
	const char *const *invalid_names;
	unsigned ninvalid;
	/* The /stats key of those reasons in the protocol's own object:
	 * NULL for "invalid_by_reason" ("parse_errors" for a line
	 * protocol). */
	const char *invalid_key;
	/* Kinds of valid units counted apart (spectatord's meter types):
	 * nkinds names, shown under kinds_key in the protocol's object;
	 * 0 and NULL for none. */
	const char *const *kind_names;
	unsigned nkinds;
	const char *kinds_key;
	size_t state_size;		/* bytes of per-message state */

	/* Start reading one message into state (state_size bytes, zeroed). */
	int (*begin)(void *state, const struct ltb_message *m);
	/* A piece of the message. Returns LTB_COLLECT_*; on error *why is
	 * set to a short static reason. Units found go to sink. */
	int (*feed)(void *state, const uint8_t *p, size_t n,
	    const struct ltb_span_sink *sink, const char **why);
	/* The message is complete: check it ended cleanly and fill reply
	 * (status 0) with the answer. */
	int (*end)(void *state, const struct ltb_span_sink *sink,
	    struct ltb_reply *reply, const char **why);
	/* Optional: the body of an answer other than success, in the
	 * protocol's own form (OTLP's google.rpc.Status): the message failed
	 * with rc (LTB_COLLECT_*), or the group answers reply->status (a
	 * mode or a script: 400, 429, 503...). reply->status is set; fill
	 * content_type, body and len. NULL: the group answers text/plain.
	 * state is that of a begun message, not released. */
	void (*refuse)(void *state, int rc, const char *why,
	    struct ltb_reply *reply);
	/* Release what begin and feed took; called exactly once per begin
	 * that returned LTB_COLLECT_OK. */
	void (*release)(void *state);

	/*
	 * Optional, for a unit made of several messages (OSProfiler pairs a
	 * trace point's start with its stop, two messages that may come on
	 * different connections): state that outlives a message, one per
	 * group, shared_size bytes zeroed, given to begin as m->shared.
	 * Messages of several connections use it at once: the protocol
	 * locks it itself. shared_size 0: none, and the hooks are NULL.
	 */
	size_t shared_size;
	/* Set it up as the group starts: 0, or -1 (out of memory). What it
	 * holds beyond shared_size it takes from budget (may be NULL) and
	 * gives back. */
	int (*shared_init)(void *shared, struct ltb_budget *budget);
	/* Tear it down as the group stops, every message released. */
	void (*shared_free)(void *shared);
	/* /reset: forget what it holds and zero its own counts. */
	void (*shared_reset)(void *shared);
	/* Its own counts, added to its object in the group's /stats (o is
	 * a cJSON object). */
	void (*shared_stats)(void *shared, struct cJSON *o);
};

/* The protocols a satellite group serves, NULL-ended, and their count. */
extern const struct ltb_collector_proto *const ltb_collector_protocols[];
size_t ltb_collector_nprotocols(void);

/* The protocol named name, or NULL. */
const struct ltb_collector_proto *ltb_collector_find(const char *name);

/* Does p read content_type ("" matches a protocol that takes any)? */
int ltb_collector_reads(const struct ltb_collector_proto *p,
    const char *content_type);

extern const struct ltb_collector_proto ltb_proto_lightstep;
extern const struct ltb_collector_proto ltb_proto_lightstep_thrift;
extern const struct ltb_collector_proto ltb_proto_otlp;
extern const struct ltb_collector_proto ltb_proto_spectatord;
extern const struct ltb_collector_proto ltb_proto_atlas;
extern const struct ltb_collector_proto ltb_proto_osprofiler;
extern const struct ltb_collector_proto ltb_proto_lightstep_thrift_json;

#endif
