/*
 * ltb_group.h: the inside of a satellite group, shared by its files and
 * by nothing else.
 *
 *   ltb_satellite.c   the group: ports, modes, counters, records
 *   ltb_message.c     one message from a transport to a protocol: content
 *                     decoding, limits, the mode's delay, counting
 *   ltb_http.c        the HTTP listener (libmicrohttpd), one per port
 *   ltb_tls.c         the HTTPS listener: TLS (mbedtls) in front of the
 *                     HTTP listener's daemon
 *   ltb_dgram.c       the datagram listeners: UDP and unix sockets
 *   ltb_resp.c        the RESP listener (Redis protocol over TCP) and
 *                     the keys it keeps for reading back
 *   ltb_conns.c       open connections: admission, fair eviction, deadlines
 *   ltb_admin.c       the admin API, on its own port
 *   ltb_script.c      parsing a script of answers over time
 *
 * A listener knows sockets and its transport's framing; it finds the
 * protocol for a message and drives it through ltb_msg_*. It never counts
 * units itself, and a protocol never sees a socket. A new transport is a
 * new listener file and an entry in ltb_listeners.
 */
#ifndef LTB_GROUP_H
#define LTB_GROUP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "collector/ltb_bucket.h"
#include "collector/ltb_budget.h"
#include "collector/ltb_collector.h"
#include "collector/ltb_satellite.h"
#include "collector/ltb_script.h"
#include "core/ltb_net.h"

#define LTB_MAX_PROTOS 8	/* entries of ltb_collector_protocols */
#define LTB_MAX_INVALID 16	/* validation results of one protocol */
#define LTB_MAX_KINDS 16	/* kinds of unit of one protocol */
#define LTB_MAX_PATHS 16	/* unknown paths kept by name, per table */
#define LTB_PATH_KEEP 64	/* bytes of an unknown path kept */

/* Why a message was refused; the keys of /stats "rejected". */
enum ltb_reject {
	LTB_REJECT_MALFORMED,
	LTB_REJECT_TOO_LARGE,
	LTB_REJECT_SLOW_FAIL,
	LTB_REJECT_WRONG_METHOD,	/* not a POST to a protocol's path */
	LTB_REJECT_MEDIA_TYPE,		/* a content type the protocol does not read */
	LTB_REJECT_ENCODING,		/* a content encoding we do not decode */
	LTB_REJECT_SCRIPTED,		/* a script's error status or hang-up */
	LTB_REJECT_MEMORY_BUDGET,	/* 503: no room in the memory budget */
	LTB_NREJECT
};
extern const char *const ltb_reject_names[LTB_NREJECT];

/* What one protocol received on one port. Units of refused messages (a
 * script's error or hang-up) are received like any: refused counts them
 * again, every copy; refused_new those the group had never seen, valid
 * ones; retried the valid units accepted that until then had only been
 * refused, once each. refused_new - retried is what was sent, refused and
 * never got through. */
struct ltb_proto_counts {
	atomic_uint_fast64_t units, messages, bytes, duplicates, invalid_units;
	atomic_uint_fast64_t refused, refused_new, retried;
	atomic_uint_fast64_t invalid[LTB_MAX_INVALID];
	atomic_uint_fast64_t rejected[LTB_NREJECT];
	atomic_uint_fast64_t kinds[LTB_MAX_KINDS];
};

/* Requests to paths no protocol serves, by path: a tracer speaking a
 * transport we do not serve shows up here. Bounded: the first
 * LTB_MAX_PATHS paths by name, the rest only counted. Under the group's
 * path_lock. */
struct ltb_path_table {
	struct {
		char path[LTB_PATH_KEEP + 1];
		uint64_t n;
	} p[LTB_MAX_PATHS];
	size_t npaths;
	uint64_t other;
	uint64_t total;
};

struct ltb_listener;
struct ltb_tls;

/* One listening port of the group. */
struct ltb_port {
	struct ltb_sat *group;
	const struct ltb_listener *listener;
	uint16_t port;			/* as bound */
	void *ls;			/* the listener's state; NULL while down */
	struct ltb_proto_counts pc[LTB_MAX_PROTOS];
	/* What tells "nothing reached us" from "something did, but no
	 * message": connections accepted and requests begun. */
	atomic_uint_fast64_t connections, requests;
	atomic_uint_fast64_t tls_handshake_failures;
	/* Requests refused for their HTTP itself before any protocol saw
	 * them: ambiguous framing (ltb_http.c), bad lengths the library
	 * answered on its own. */
	atomic_uint_fast64_t bad_requests;
	struct ltb_path_table paths;	/* under group->path_lock */
	/* Connections (ltb_conns.c): refused when full and nothing could
	 * be evicted, evicted to make room, closed by a deadline. */
	atomic_uint_fast64_t refused_connections, evicted_connections;
	atomic_uint_fast64_t header_timeouts, body_timeouts, idle_timeouts;
	unsigned conns_open;		/* under group->conn_lock */
	pthread_mutex_t bw_lock;
	struct ltb_bucket bw;		/* the --bandwidth cap, under bw_lock */
	/* Datagram ports (ltb_dgram.c): what the kernel dropped at the
	 * socket, over every socket the port has had; the receive buffer
	 * it gave (SO_RCVBUF as read back); a unix socket's path. */
	atomic_uint_fast64_t socket_drops;
	atomic_int rcvbuf;
	char path[108];			/* sizeof sun_path; "" for none */
};

/* A transport. start binds (or rebinds) port->port and serves it; stop
 * closes it and every connection, and returns once no message of it is in
 * flight. */
struct ltb_listener {
	const char *name;		/* "http" */
	enum ltb_transport transport;
	int (*start)(struct ltb_port *port, char *err, size_t errlen);
	void (*stop)(struct ltb_port *port);
};
extern const struct ltb_listener ltb_listener_http;
extern const struct ltb_listener ltb_listener_tls;
extern const struct ltb_listener ltb_listener_udp;
extern const struct ltb_listener ltb_listener_unix;
extern const struct ltb_listener ltb_listener_resp;

#define LTB_ADMIN_NREFUSE 3	/* enum ltb_admin_refuse, below */

struct ltb_sat {
	struct ltb_sat_config cfg;
	struct ltb_addr addr;		/* where every port binds */
	struct ltb_port *ports;
	size_t nports;
	void *admin;			/* ltb_admin.c's */
	struct ltb_tls *tls;		/* ltb_tls.c's; NULL without --tls */
	uint16_t admin_port;
	/* The admin port's own address (loopback unless told otherwise),
	 * its token ("" for none) and the requests it refused, by reason
	 * (ltb_admin.c: origin, host, token). */
	struct ltb_addr admin_addr;
	char admin_token[LTB_ADMIN_TOKEN_MAX + 1];
	atomic_uint_least64_t admin_refused[LTB_ADMIN_NREFUSE];
	atomic_int mode;
	atomic_int up;
	/* What every message of every port holds (ltb_message.c, and the
	 * protocols' held fields and bodies): cfg.memory_budget bytes. */
	struct ltb_budget budget;
	pthread_mutex_t state_lock;	/* serialises down/up/stop */
	pthread_mutex_t dup_lock;
	struct ltb_dupset *dups;
	/* Each protocol's state shared by its messages (shared_size bytes,
	 * NULL for none), by index in ltb_collector_protocols. */
	void *shared[LTB_MAX_PROTOS];
	/* The RESP ports' kept keys (ltb_resp.c's): what SCAN, LRANGE and
	 * GET read back, shared by every RESP port; NULL without one. */
	void *resp_store;
	/* The group's own table, not a merge of the ports': which paths it
	 * names stays fixed until a reset, so two snapshots subtract. */
	pthread_mutex_t path_lock;
	struct ltb_path_table paths;
	/* The script and what each of its steps answered, under
	 * script_lock; scripted (steps > 0) is read without it, so a group
	 * without a script never takes the lock. gen changes at each post:
	 * a message begun under an old script is not counted in the new. */
	pthread_mutex_t script_lock;
	atomic_int scripted;
	struct ltb_script script;
	uint64_t script_t0_ns;		/* when posted, monotonic */
	uint64_t script_gen;
	uint64_t step_answered[LTB_SCRIPT_MAX_STEPS];
	uint64_t step_units[LTB_SCRIPT_MAX_STEPS];
	/* Every port's open connections and the reaper (ltb_conns.c),
	 * under conn_lock. */
	pthread_mutex_t conn_lock;
	pthread_cond_t conn_wake;
	struct ltb_conn *conn_head;
	unsigned conns_open;
	int reaper_running, reaper_stop;
	pthread_t reaper;
};

/* Index of p in ltb_collector_protocols. */
size_t ltb_proto_index(const struct ltb_collector_proto *p);

/* Counting what is not a message. */
void ltb_port_connection(struct ltb_port *port);
void ltb_port_request(struct ltb_port *port);
void ltb_port_handshake_failure(struct ltb_port *port);
void ltb_port_bad_request(struct ltb_port *port);
void ltb_port_unknown_path(struct ltb_port *port, const char *path);
void ltb_port_reject(struct ltb_port *port, const struct ltb_collector_proto *p,
    enum ltb_reject why);

/* The step of the script active now, copied into *st with the script's
 * generation in *gen: its index, or -1 when none is. */
int ltb_sat_script_step(struct ltb_sat *g, struct ltb_script_step *st,
    uint64_t *gen);
/* Step index of generation gen answered a message of units units. */
void ltb_sat_script_answered(struct ltb_sat *g, uint64_t gen, int index,
    uint64_t units);

/* ---- connections (ltb_conns.c) ------------------------------------------ */

/*
 * Where a connection is in its request, for the deadlines and for
 * choosing whom to evict: IDLE (accepted, or between requests), HEADERS
 * (request line read, headers not complete), BODY (headers complete,
 * waiting for the body's next piece), ANSWERING (the satellite's turn: a
 * piece being read, the bandwidth cap, a mode's delay, the answer going
 * out; never reaped, never evicted).
 */
enum ltb_conn_phase {
	LTB_CONN_IDLE,
	LTB_CONN_HEADERS,
	LTB_CONN_BODY,
	LTB_CONN_ANSWERING
};

/* Slack over our limits given to libmicrohttpd's own: room for the
 * connections shut down but not yet cleaned up, so that the daemon never
 * refuses (or stops accepting) while we would admit. */
#define LTB_CONN_SLACK 64

struct ltb_conn;

/* Init and start the group's table and reaper thread, and stop them
 * (once every port is stopped). Start: 0, or -1 with a message in err. */
int ltb_conns_start(struct ltb_sat *g, char *err, size_t errlen);
void ltb_conns_stop(struct ltb_sat *g);
/* A new connection to port, before it is set up: 1 to admit it (having
 * evicted another to make room if the port or the group is full), 0 to
 * refuse it (full of connections in BODY or ANSWERING), counted. */
int ltb_conns_admit(struct ltb_port *port);
/* The connection on fd was set up: its slot, in IDLE; NULL when out of
 * memory (then it is only subject to libmicrohttpd's timeout). */
struct ltb_conn *ltb_conn_open(struct ltb_port *port, int fd);
/* It is closing; before its fd is closed. c may be NULL. */
void ltb_conn_close(struct ltb_conn *c);
/* It enters phase ph now; or, in BODY, made progress now. No lock. */
void ltb_conn_mark(struct ltb_conn *c, enum ltb_conn_phase ph);

/* ---- one message (ltb_message.c) ---------------------------------------- */

struct ltb_msg;

/* What a listener knows of a message before its body. */
struct ltb_msg_head {
	const char *path;
	const char *content_type;	/* as sent, parameters and all; NULL */
	const char *encoding;		/* as sent; NULL for none */
	uint64_t declared_len;		/* UINT64_MAX: not declared */
	/* A datagram listener, one thread for every message of its socket,
	 * waits out the mode's delay itself, a batch at a time: end does
	 * not sleep, and ltb_msg_owed_ns says how long it would have. */
	int owe_delay;
};

/* A reply status that means: close the connection without answering. */
#define LTB_REPLY_DROP 1u

/*
 * Begin a message of protocol p on port. Returns it, or NULL when it is
 * answered at once (too large by its declared length, a content type or
 * encoding we cannot read, out of memory): then *reply holds the answer.
 */
struct ltb_msg *ltb_msg_begin(struct ltb_port *port,
    const struct ltb_collector_proto *p, const struct ltb_msg_head *head,
    struct ltb_reply *reply);
/* A piece of the body. 0 to go on; -1 when the listener should hang up
 * (the message failed and too much has come after it). */
int ltb_msg_feed(struct ltb_msg *m, const uint8_t *p, size_t n);
/* The body is complete: wait out the mode's delay and fill *reply with
 * the answer (status LTB_REPLY_DROP: hang up instead). */
void ltb_msg_end(struct ltb_msg *m, struct ltb_reply *reply);
/* Release m; after end, or at any point if the connection went away. */
void ltb_msg_free(struct ltb_msg *m);
/* After end, for a message begun with owe_delay: the ns of the mode's
 * delay still to wait when it ended (0 if its reading took longer). */
uint64_t ltb_msg_owed_ns(const struct ltb_msg *m);

/* ---- HTTP answers (ltb_http.c), for the listener and the admin port ---- */

struct MHD_Connection;
struct MHD_Daemon;
/* Queue an answer; libmicrohttpd's MHD_YES or MHD_NO. */
int ltb_http_answer(struct MHD_Connection *c, unsigned status,
    const char *type, const void *body, size_t len);
int ltb_http_answer_text(struct MHD_Connection *c, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Start an HTTP daemon for port serving the protocols: on the listening
 * socket fd (the daemon's once started), or with fd -1 on none, for
 * connections the caller adds with MHD_add_connection and counts itself.
 * NULL with a message in err. */
struct MHD_Daemon *ltb_http_daemon(struct ltb_port *port, int fd, char *err,
    size_t errlen);

/* ---- TLS (ltb_tls.c) ------------------------------------------------------ */

/* The group's certificate, key and TLS configuration, shared by its ports:
 * the files c names (cert_file, key_file), or a self-signed certificate
 * for a made now; written in PEM to c->cert_out when set. NULL with a
 * message in err naming the file and mbedtls's reason. */
struct ltb_tls *ltb_tls_new(const struct ltb_sat_config *c,
    const struct ltb_addr *a, char *err, size_t errlen);
void ltb_tls_free(struct ltb_tls *t);
/* Where the certificate was written; NULL if nowhere (or t is NULL). */
const char *ltb_tls_cert_out(const struct ltb_tls *t);

/* ---- the admin port (ltb_admin.c) ---------------------------------------- */

/* Why the admin port refused a request, and the names /stats gives. */
enum ltb_admin_refuse {
	LTB_ADMIN_REFUSE_ORIGIN,	/* an Origin header: a web page */
	LTB_ADMIN_REFUSE_HOST,		/* a Host not loopback: rebinding */
	LTB_ADMIN_REFUSE_TOKEN		/* the token wanted, not given */
};
extern const char *const ltb_admin_refuse_names[LTB_ADMIN_NREFUSE];

int ltb_admin_start(struct ltb_sat *g, char *err, size_t errlen);
void ltb_admin_stop(struct ltb_sat *g);

#endif
