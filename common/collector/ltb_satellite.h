/*
 * ltb_satellite.h: a group of mock satellites (collectors) in one process.
 *
 * Each satellite listens on one port and receives what tracers report, in
 * every protocol of the table (ltb_collector.h), bodies plain, gzip or
 * deflate, counting units (spans), reports and bytes per protocol,
 * validating units and spotting duplicates. So that silence can be
 * explained, it also counts what was not a report: connections accepted,
 * open, refused, evicted and closed by a deadline (ltb_conns.c), HTTP
 * requests, requests by unknown path (the first 16 paths by name, the
 * rest as unknown_paths_other) and rejected reports by reason. An admin
 * port, which stays up while the satellites are down, answers queries and
 * drives the group:
 * take it down (tracers then see connection refused) and bring it back,
 * change its mode, reset its counters, and play a script of answers over
 * time (ltb_script.h: 429 with Retry-After, 503, hang-ups, delays,
 * partial successes), each step counted.
 *
 * The admin port listens on loopback unless admin_bind says otherwise
 * (-b moves the satellites, not it), and serves only what a program on
 * this machine would send: a request with an Origin header (a web page
 * sent it) or a Host that is not loopback (a page come through a DNS
 * name of its own: DNS rebinding) is refused with 403. With admin_token
 * set, every request must carry "Authorization: Bearer TOKEN" instead,
 * and then neither matters; without it, 401. Refusals count in /stats
 * as admin_refused, which /reset keeps.
 *
 * One memory budget (ltb_budget.h) bounds what all messages of all ports
 * hold at once: their state, inflaters, fields gathered across pieces and
 * bodies held whole, taken before they are allocated. A message it has
 * no room for is refused with 503 and Retry-After, counted rejected as
 * memory_budget.
 *
 * Modes keep the original mock satellites' meaning: every report is
 * answered no sooner than a per-span delay after it started (typical
 * 0.05 us, slow_succeed 1 us, slow_fail 0.01 us), and slow_fail then
 * answers 400 without counting anything. Each connection has its own
 * thread, so a delay or a bandwidth wait holds back only its connection.
 *
 * With tls set, every port speaks HTTPS instead (TLS 1.2, mbedtls), with
 * the certificate and key named or, by default, a self-signed certificate
 * made at start for the bind address, localhost and 127.0.0.1.
 *
 * Datagram ports (UDP, a unix datagram socket) take one message per
 * datagram, answer nothing, and count what the kernel dropped at the
 * socket (socket_drops): a burst not read in time is lost there, and
 * /stats says so. Down closes them too (a connected UDP sender then sees
 * ECONNREFUSED) and removes the unix socket's path.
 *
 * A script's step decides the answer of every message that begins in it
 * and that its protocol reads whole (one it cannot read is answered as
 * always), in place of the mode: an error status in the protocol's own
 * form, with Retry-After when the step gives one; a hang-up; a late
 * answer; a 200 claiming units rejected. Units of a refused message did
 * arrive, so they are received (spans_received) as well as refused; a
 * retry that gets through is then a duplicate, and counted retried.
 */
#ifndef LTB_SATELLITE_H
#define LTB_SATELLITE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/ltb_parse.h"

enum ltb_sat_mode {
	LTB_MODE_TYPICAL,
	LTB_MODE_SLOW_SUCCEED,
	LTB_MODE_SLOW_FAIL,
	LTB_NMODES
};

/* "typical", "slow_succeed", "slow_fail". */
const char *ltb_sat_mode_name(int mode);
/* The mode named s; -1 if none. */
int ltb_sat_mode_parse(const char *s);

#define LTB_ADMIN_TOKEN_MAX 256	/* bytes of an admin token */

struct ltb_sat_config {
	const char *bind;		/* address, IPv4 or IPv6 literal */
	uint16_t ports[LTB_MAX_PORTS];	/* 0: the kernel picks */
	size_t nports;
	/* Datagram ports (spectatord's lines): UDP on bind, 0 for any, and
	 * a unix datagram socket at unix_path (NULL: none), removed when
	 * the group stops or goes down. */
	uint16_t udp_ports[LTB_MAX_PORTS];
	size_t nudp;
	const char *unix_path;
	/* RESP ports (Redis protocol over TCP: OSProfiler's redis driver)
	 * on bind, 0 for any; and the traces they keep to be read back:
	 * the keys of the last keep_traces traces, at most keep_bytes
	 * bytes of them (taken from the memory budget too). */
	uint16_t resp_ports[LTB_MAX_PORTS];
	size_t nresp;
	size_t keep_traces;
	uint64_t keep_bytes;
	uint16_t admin_port;		/* 0: the kernel picks */
	const char *admin_bind;		/* NULL: bind when it is loopback,
					 * else 127.0.0.1 */
	const char *admin_token;	/* NULL: none; else what requests
					 * must carry as a Bearer token */
	int mode;
	uint64_t bandwidth;		/* bytes/s per satellite, 0: no cap */
	int full_validate;		/* protobuf-c unpack, body held whole */
	uint64_t max_body;		/* bytes per request, 0: no limit */
	uint64_t memory_budget;		/* bytes all messages of the group
					 * hold at once, 0: no limit */
	unsigned max_connections;	/* per satellite */
	unsigned max_connections_total;	/* over the group */
	unsigned idle_timeout;		/* seconds, 0: none */
	unsigned header_timeout;	/* seconds to finish headers, 0: none */
	unsigned body_timeout;		/* seconds without body bytes, 0: none */
	size_t dup_window;		/* spans remembered for duplicates */
	int tls;			/* every port serves HTTPS, not HTTP */
	const char *cert_file;		/* PEM; NULL: a self-signed one, made */
	const char *key_file;		/* PEM, with cert_file */
	const char *cert_out;		/* write the certificate here; NULL */
};

/* Fill c with the defaults (127.0.0.1, 8360-8367, admin 8359, typical,
 * 50 MiB/s, walk, 64 MiB, a 256 MiB memory budget, 256 connections a port and 1024 in all, 30 s
 * idle, 5 s for headers, 10 s without body bytes). */
void ltb_sat_config_default(struct ltb_sat_config *c);

struct ltb_sat;

/*
 * Bind every port and start serving; returns once every port accepts
 * connections. Borrows c (copies what it keeps). On failure returns NULL
 * with a message in err ("cannot bind 127.0.0.1:8360: Address already in
 * use").
 */
struct ltb_sat *ltb_sat_start(const struct ltb_sat_config *c, char *err,
    size_t errlen);

/* Stop everything, close every connection, free the group. */
void ltb_sat_stop(struct ltb_sat *s);

/* 1 when the admin port listens on an address other than loopback, as
 * admin_bind asked: the tool warns, since whoever reaches it can drive
 * the group. 0 otherwise. */
int ltb_sat_admin_public(const struct ltb_sat *s);

/* Take the satellites down: close their listening sockets and every open
 * connection. The admin port stays. Idempotent. 0, or -1 with errno. */
int ltb_sat_down(struct ltb_sat *s);
/* Bring them back on the same ports. 0, or -1 with a message in err. */
int ltb_sat_up(struct ltb_sat *s, char *err, size_t errlen);
void ltb_sat_set_mode(struct ltb_sat *s, int mode);
/* Zero every counter, the script's steps' too, and forget seen span
 * ids. The mode and the script stay, the script on its own clock. */
void ltb_sat_reset(struct ltb_sat *s);

struct ltb_script;
/* Play sc (borrowed, copied) from now: its times count from this call,
 * and the old script's counts go. An empty script (no step) clears. */
void ltb_sat_set_script(struct ltb_sat *s, const struct ltb_script *sc);
/* The script as /script and /stats show it, a new object: {"steps": [the
 * steps, each with "answered" (messages) and "units" (in them)],
 * "active": the index of the step in force or null, "elapsed_s": since
 * it was posted or null}. NULL on allocation failure. */
cJSON *ltb_sat_script_json(struct ltb_sat *s);

/* Spans received by all satellites, duplicates included. */
uint64_t ltb_sat_spans_received(struct ltb_sat *s);

/* New records for the caller to own: {"type":"ready",...} and
 * {"type":"stats",...}. NULL on allocation failure. */
cJSON *ltb_sat_ready_record(struct ltb_sat *s);
cJSON *ltb_sat_stats_record(struct ltb_sat *s);

#endif
