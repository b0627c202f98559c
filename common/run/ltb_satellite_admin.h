/*
 * ltb_satellite_admin.h: driving a satellite group from outside, through its
 * admin port: counting what it received (and what it saw that was not a
 * report, to say why nothing arrived), taking it down and up, playing a
 * script of answers (ltb_script.h). Also
 * starting a group of our own (an ltb-satellite child) when the user named
 * none, and stopping it again.
 *
 * Every admin request carries "Authorization: Bearer $LTB_ADMIN_TOKEN"
 * when that is set: what a group started with --admin-token wants.
 */
#ifndef LTB_SATELLITE_ADMIN_H
#define LTB_SATELLITE_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "run/ltb_control_msg.h"

struct ltb_satgroup {
	char admin_url[128];	/* "http://127.0.0.1:8359" */
	char host[64];		/* where tracers send: the bind address */
	uint16_t ports[LTB_CONTROL_MAX_PORTS];
	size_t nports;
	pid_t pid;		/* our ltb-satellite child, or 0 */
	int out_fd;		/* its stdout, for its last words */
	/* spectatord's datagram sockets (ltb-satellite --udp, --unix), for
	 * metrics clients; none when the group serves none */
	uint16_t udp_ports[LTB_CONTROL_MAX_PORTS];
	size_t nudp;
	char unix_socket[LTB_CONTROL_UNIX_MAX];	/* "": none */
	int datagrams_known;	/* its record said which it serves (a group
				 * without the keys serves none, or is older
				 * than --udp and cannot say) */
	/* RESP ports (ltb-satellite --resp), for OSProfiler clients */
	uint16_t resp_ports[LTB_CONTROL_MAX_PORTS];
	size_t nresp;
	int resp_known;		/* its record said which (as datagrams_known) */
};

/*
 * Start `satellite` (a path or a name in PATH) with its default ports
 * replaced by nports ports the kernel picks, plus extra (NULL-ended, may
 * be NULL) arguments; wait for its ready record (at most 10 s). 0, or -1
 * with a message in err. The ready record's udp_ports and unix_socket,
 * when it has them, fill the datagram sockets, and its resp_ports the
 * RESP ports.
 */
int ltb_satgroup_spawn(struct ltb_satgroup *g, const char *satellite,
    size_t nports, char *const extra[], char *err, size_t errlen);

/*
 * The same, on the HTTP ports want (nports of them; a 0 is a port the
 * kernel picks). The wanted ports are looked at first (bound on 127.0.0.1
 * and closed again); when one is busy, or the group does not start on
 * them (one taken in between), fallback says what then: 1, start it on
 * nports free ports instead and return 1, with why in busy ("cannot bind
 * 127.0.0.1:8360: Address already in use"); 0, fail with that in err.
 * 0 when the group listens on want; -1 with a message in err.
 */
int ltb_satgroup_spawn_on(struct ltb_satgroup *g, const char *satellite,
    const uint16_t *want, size_t nports, int fallback, char *const extra[],
    char *busy, size_t busylen, char *err, size_t errlen);

/*
 * The extra arguments that make a group serve metrics clients too:
 * "--udp 0,0,..." (nudp ports the kernel picks) and "--unix PATH", into
 * args (room for 5, NULL-ended; ports is its storage, at least
 * LTB_CONTROL_MAX_PORTS * 2 bytes). path NULL: no unix socket.
 */
void ltb_satgroup_datagram_args(size_t nudp, const char *path, char *ports,
    char *args[5]);

/*
 * The extra arguments that make a group serve OSProfiler clients too:
 * "--resp 0,0,..." (nresp ports the kernel picks), into args (room for 3,
 * NULL-ended; ports is its storage, at least LTB_CONTROL_MAX_PORTS * 2
 * bytes).
 */
void ltb_satgroup_resp_args(size_t nresp, char *ports, char *args[3]);

/* Use a running group: ask its admin URL which ports it serves, and
 * where (ltb_satgroup_host); and which datagram sockets, when its /stats
 * says (top-level udp_ports and unix_socket, or entries of ports with a
 * "transport" of "udp" or "unix_dgram"; entries of another transport
 * than "http" are no HTTP port); and which RESP ports (top-level
 * resp_ports, or entries with a "transport" of "tcp").
 * http://[::1]:8359 is fine. */
int ltb_satgroup_attach(struct ltb_satgroup *g, const char *admin_url,
    char *err, size_t errlen);

/* Fill g's HTTP ports, host (the record's bind, else 127.0.0.1),
 * datagram sockets and RESP ports from a ready or stats record (as
 * attach and spawn read them). 0, or -1 when it names no HTTP port or a
 * bad one. */
int ltb_satgroup_take_ports(struct ltb_satgroup *g, const cJSON *rec);

/* Where tracers reach a group: bind, the address its stats record says
 * its ports listen on, unless that is the wildcard (0.0.0.0, ::) or NULL
 * (an older satellite); then the host of admin_url, IPv6 without its
 * brackets ("::1": tracers bracket it in their URLs). 0 with it in host,
 * or -1 with a message in err. */
int ltb_satgroup_host(const char *admin_url, const char *bind, char *host,
    size_t len, char *err, size_t errlen);

/*
 * What a satellite group counted, from its admin /stats: the group's sums
 * over all its ports, as the original controller summed its satellites.
 * Bounded: fixed arrays, nothing borrowed or allocated. A run's counts are
 * the difference of two snapshots (ltb_satcounts_diff); runs never /reset.
 */
#define LTB_SATCOUNT_NAMES 16	/* names kept per map */
#define LTB_SATCOUNT_NAME_LEN 64	/* bytes kept of a name */

/* Counts by name: reasons or paths. Names beyond LTB_SATCOUNT_NAMES are
 * only summed, in other (for unknown_paths also the satellite's own
 * unknown_paths_other). Names are printable ASCII without quotes or
 * backslashes: a message can quote them as they are. */
struct ltb_satcount_map {
	struct {
		char name[LTB_SATCOUNT_NAME_LEN + 1];
		uint64_t n;
	} e[LTB_SATCOUNT_NAMES];
	size_t n;
	uint64_t other;
};

struct ltb_satcounts {
	uint64_t spans_received;	/* everything, broken and twice too */
	uint64_t spans_invalid;		/* /stats invalid_spans */
	uint64_t spans_duplicate;	/* /stats duplicate_spans */
	/* A script's refusals: spans of refused messages, every copy; those
	 * seen for the first time; and those that got through later, on a
	 * retry. 0 from a satellite without scripts. */
	uint64_t spans_refused;		/* /stats refused_spans */
	uint64_t spans_refused_new;	/* /stats refused_new_spans */
	uint64_t spans_retried;		/* /stats retried_spans */
	uint64_t reports;		/* reports answered 200 */
	uint64_t reports_rejected;	/* /stats rejected_reports */
	uint64_t bytes;
	uint64_t connections;		/* accepted on the satellite ports */
	uint64_t requests;		/* HTTP requests begun on them */
	uint64_t tls_failures;		/* /stats tls_handshake_failures */
	/* datagrams the kernel dropped at the satellites' sockets, their
	 * buffers full: sent, never read (0 from a satellite without
	 * datagram sockets) */
	uint64_t socket_drops;		/* /stats socket_drops */
	uint64_t unknown_path_requests;	/* to paths no protocol serves */
	struct ltb_satcount_map invalid_by_reason;	/* /stats invalid */
	struct ltb_satcount_map rejected_by_reason;	/* /stats rejected */
	struct ltb_satcount_map unknown_paths;		/* path -> requests */
};

/* Read a /stats answer (a JSON stats record) into c. 0, or -1 with a
 * message in err when it is not one or lacks a count. */
int ltb_satcounts_parse(struct ltb_satcounts *c, const char *json,
    char *err, size_t errlen);

/* GET /stats into c. 0, or -1 with a message in err. */
int ltb_satgroup_counts(struct ltb_satgroup *g, struct ltb_satcounts *c,
    char *err, size_t errlen);

/*
 * d = after - before, count by count and name by name (names only in
 * before are dropped). A count that went down means the group was reset
 * in between: its difference is then after's count, what came since. d
 * may be after or before.
 */
void ltb_satcounts_diff(struct ltb_satcounts *d,
    const struct ltb_satcounts *after, const struct ltb_satcounts *before);

/* Spans that arrived only in messages a script refused, and never got
 * through: refused_new - retried. The client was told no; it dropped
 * them, or still meant to retry when the run ended. */
uint64_t ltb_satcounts_refused_only(const struct ltb_satcounts *d);

/* Spans that arrived intact, once and taken: received - duplicate -
 * invalid - refused only, 0 at least (a span can be both). Every span
 * sent is one of these, or dropped: refused only, or never arrived. */
uint64_t ltb_satcounts_intact(const struct ltb_satcounts *d);

/* Add m to obj under key as {"name": n, ...} (plus "other" when not 0).
 * 0, or -1 on allocation failure. */
int ltb_satcount_map_json(cJSON *obj, const char *key,
    const struct ltb_satcount_map *m);

/* Where tracers reach the group: "127.0.0.1:8360,8361", "[::1]:8360". */
void ltb_satgroup_where(const struct ltb_satgroup *g, char *buf,
    size_t len);

/*
 * Given a run's counts d (ltb_satcounts_diff), say in one line what the
 * satellites saw when no intact span arrived: no connection at all,
 * connections without a request, requests to paths no protocol serves
 * (named, with what they are), rejected reports and why, spans that were
 * all invalid or duplicates. g names the host and ports. Returns 1 with
 * the line in buf (cut to len), or 0 with buf empty when intact spans did
 * arrive.
 */
int ltb_satcounts_diagnose(const struct ltb_satcounts *d,
    const struct ltb_satgroup *g, char *buf, size_t len);

/* POST /down, /up or /reset. */
int ltb_satgroup_post(struct ltb_satgroup *g, const char *what, char *err,
    size_t errlen);
/* POST /script with json (a list of steps; "[]" clears). A refusal says
 * the satellite's reason in err. */
int ltb_satgroup_script(struct ltb_satgroup *g, const char *json, char *err,
    size_t errlen);

/* Stop our child (SIGTERM, then SIGKILL after 5 s) and reap it, reading
 * and dropping what it writes meanwhile; nothing for an attached group.
 * 1 when it had to be killed, else 0. */
int ltb_satgroup_stop(struct ltb_satgroup *g);

#endif
