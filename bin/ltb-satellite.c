/*
 * ltb-satellite: a group of mock satellites (collectors) for tracers.
 *
 * Listens on a range of ports, receives what tracers report (in every
 * protocol of the table, common/collector/proto/ltb_protocols.c), counts
 * and validates it, and
 * answers admin queries on its own port. Prints one "ready" record on
 * stdout once every port accepts connections, and one "stats" record when
 * SIGTERM or SIGINT stops it. See common/collector/ltb_satellite.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "core/ltb_jsonl.h"
#include "core/ltb_log.h"
#include "core/ltb_parse.h"
#include "collector/ltb_collector.h"
#include "collector/ltb_satellite.h"

static const char usage[] =
"usage: ltb-satellite [-p ports] [-b address] [-a port] [-m mode]\n"
"                     [--udp ports] [--unix path] [--resp ports]\n"
"                     [--keep-traces n] [--keep-bytes size]\n"
"                     [--admin-bind address] [--admin-token token]\n"
"                     [--bandwidth rate] [--validate walk|full]\n"
"                     [--max-body size] [--memory-budget size]\n"
"                     [--max-connections n]\n"
"                     [--max-connections-total n] [--idle-timeout seconds]\n"
"                     [--header-timeout seconds] [--body-timeout seconds]\n"
"                     [--tls [--cert file --key file] [--cert-out file]]\n"
"\n"
"Mock collectors for tracers, one per port, in one process.\n"
"\n"
"  -p, --ports LIST          ports to listen on: 8360-8367 (default), a\n"
"                            list like 8360,8362, or 0 for any free port\n"
"  -b, --bind ADDRESS        address to bind (default 127.0.0.1)\n"
"      --udp LIST            UDP ports too, on -b's address, as -p (0 for\n"
"                            any): one datagram is one message of\n"
"                            spectatord's line protocol\n"
"      --unix PATH           a unix datagram socket too, the same protocol;\n"
"                            a stale socket there is replaced, a file that\n"
"                            is not a socket refused; removed at exit\n"
"      --resp LIST           RESP ports too (Redis's protocol over TCP), on\n"
"                            -b's address, as -p (0 for any): LPUSH or\n"
"                            RPUSH to a key under a protocol's prefix\n"
"                            (below) makes each value one of its messages;\n"
"                            keys are kept and read back (SCAN, LRANGE,\n"
"                            LINDEX, GET...) as from a Redis server\n"
"      --keep-traces N       keys the RESP ports keep, the oldest evicted\n"
"                            first (default 1000)\n"
"      --keep-bytes SIZE     bytes they keep, keys and values, taken from\n"
"                            the memory budget too (default 64M)\n"
"  -a, --admin-port PORT     admin port (default 8359; 0 for any)\n"
"      --admin-bind ADDRESS  address of the admin port (default: -b's when\n"
"                            it is loopback, else 127.0.0.1); another than\n"
"                            loopback is warned about on stderr\n"
"      --admin-token TOKEN   admin requests must carry 'Authorization:\n"
"                            Bearer TOKEN' (default $LTB_ADMIN_TOKEN;\n"
"                            none: loopback requests without Origin)\n"
"  -m, --mode MODE           typical (default), slow_succeed, slow_fail\n"
"      --bandwidth RATE      receive cap per satellite in bytes/s, K/M/G\n"
"                            suffixes (default 50M, as the original; 0: none)\n"
"      --validate HOW        walk: streaming validating walk (default);\n"
"                            full: protobuf-c unpack of each whole body\n"
"      --max-body SIZE       largest request body (default 64M; 0: none)\n"
"      --memory-budget SIZE  bytes all reports in flight may hold at once,\n"
"                            every port together (default 256M; 0: no\n"
"                            limit). Over it a report is answered 503 with\n"
"                            Retry-After: 1 (or, mid-body, hung up on) and\n"
"                            counted rejected.memory_budget\n"
"      --max-connections N   open connections per satellite (default 256)\n"
"      --max-connections-total N\n"
"                            open connections of all satellites together\n"
"                            (default 1024). Both limits are lowered, with\n"
"                            a warning, to fit the descriptors allowed\n"
"      --idle-timeout S      close connections idle (accepted, or between\n"
"                            requests) for S s (default 30; 0: never)\n"
"      --header-timeout S    close a request whose headers are not all in\n"
"                            S s after its request line, or a TLS handshake\n"
"                            not done in S s (default 5; 0: never)\n"
"      --body-timeout S      close a request whose body stalls for S s\n"
"                            (default 10; 0: never)\n"
"      --tls                 serve HTTPS (TLS 1.2, mbedtls) instead of HTTP\n"
"                            on every port: every protocol, the same paths\n"
"                            (the admin port stays plain HTTP)\n"
"      --cert FILE           the certificate (PEM, chain after it) and\n"
"      --key FILE            its private key (PEM, unencrypted); without\n"
"                            them, a self-signed ECDSA P-256 certificate\n"
"                            is made at start, for DNS:localhost,\n"
"                            IP:127.0.0.1, IP:::1 and the bind address,\n"
"                            valid for a year (both imply --tls)\n"
"      --cert-out FILE       write the certificate in PEM to FILE, for\n"
"                            clients to verify it (curl --cacert FILE);\n"
"                            the ready record names it (implies --tls)\n"
"  -h, --help                this text\n"
"\n"
"Admin:   GET /spans_received, GET /stats, POST /reset, POST /down,\n"
"         POST /up, POST /mode (body: the mode's name),\n"
"         POST /script, GET /script (answers over time, below).\n"
"         Refused, and counted as admin_refused: with an Origin header\n"
"         or a Host that is not loopback (403: a web page sent it), or,\n"
"         with a token, without 'Authorization: Bearer TOKEN' (401).\n"
"\n"
"Script:  POST /script with a JSON list of steps, times in seconds from\n"
"         the post, in order and not overlapping; [] clears it:\n"
"           [{\"at_s\": 5, \"for_s\": 10, \"status\": 429, \"retry_after\": \"2\"},\n"
"            {\"at_s\": 20, \"for_s\": 2, \"drop\": true},\n"
"            {\"at_s\": 30, \"for_s\": 5, \"delay_ms\": 300},\n"
"            {\"at_s\": 40, \"for_s\": 5, \"partial_success\": 3}]\n"
"         status 400, 429, 500, 502, 503 or 504 (retry_after: the\n"
"         Retry-After header), drop: hang up without answering,\n"
"         partial_success N: 200 claiming N spans rejected where the\n"
"         protocol can say so, delay_ms D: answer D ms after the message\n"
"         was read (alone or with any). A step answers, in place of the\n"
"         mode, every message that begins in it and can be read. Spans of\n"
"         a refused message are received and counted refused_spans; a\n"
"         retry that gets through is a duplicate, counted retried_spans.\n"
"         /stats counts each step's answers under \"script\". POST /reset\n"
"         zeroes those counts but keeps the script and its clock, as it\n"
"         keeps the mode.\n"
"stdout:  {\"type\":\"ready\",...} when listening (\"tls\": true or false;\n"
"         \"cert\": the --cert-out file), {\"type\":\"stats\",...} on SIGTERM\n"
"         or SIGINT. With --tls, /stats counts tls_handshake_failures:\n"
"         connections that never completed a handshake (plain HTTP sent\n"
"         to a TLS port, say).\n"
"\n"
"Connections: when a satellite (or the group) is full, a new connection\n"
"         evicts the one idle longest or longest over its headers, so a\n"
"         tracer with a report always gets in; when every one is busy\n"
"         with a body or an answer, the new one is closed. /stats counts,\n"
"         per port and in all: connections (accepted), connections_open\n"
"         (now), refused_connections (closed at once: nothing could be\n"
"         evicted), evicted_connections (closed to make room),\n"
"         header_timeouts, body_timeouts, idle_timeouts (closed by a\n"
"         deadline). POST /reset zeroes them all but connections_open.\n"
"\n"
"Datagrams: nothing is answered. Each counts as a request; /stats has,\n"
"         per port (\"transport\": \"udp\" or \"unix_dgram\") and in all,\n"
"         socket_drops: datagrams the kernel dropped at the socket, its\n"
"         receive buffer full (a burst not read in time), and per port\n"
"         rcvbuf_bytes, the buffer the kernel gave. /down closes the\n"
"         sockets (a connected UDP sender sees ECONNREFUSED) and removes\n"
"         the unix socket; /up binds them again. The ready record lists\n"
"         \"udp_ports\" and \"unix_socket\" (a path, or null). Modes and\n"
"         --bandwidth hold a datagram port's reader too: held back, it\n"
"         drops at the socket.\n"
"\n"
"RESP:    one thread per connection (so a delay holds only its own);\n"
"         pipelined commands answered in order; a bulk over --max-body\n"
"         (0: Redis's 512M) refused with an error, the connection kept;\n"
"         framing that cannot be read answered with an error, then\n"
"         closed. LPUSH to a key no protocol reads is kept and counted in\n"
"         unknown_paths. /stats \"kept\": keys, bytes, evicted_keys,\n"
"         not_kept (a value that could not fit); POST /reset zeroes the\n"
"         last two and keeps the keys. The ready record lists\n"
"         \"resp_ports\".\n"
"\n"
"Exit: 0 stopped by a signal; 2 usage; 3 cannot bind or start, or cannot\n"
"read the certificate or key, or write --cert-out.\n";

/* The usage text, then the protocols as the table has them. */
static void
print_usage(FILE *f)
{
	const struct ltb_collector_proto *p;

	fputs(usage, f);
	fputs("\nProtocols served on every port (unit counted):\n", f);
	for (size_t i = 0; (p = ltb_collector_protocols[i]) != NULL; i++)
		if (p->transport == LTB_TRANSPORT_HTTP)
			fprintf(f, "  %-21s POST %-23s %s\n", p->name, p->path,
			    p->unit);
	for (size_t i = 0; (p = ltb_collector_protocols[i]) != NULL; i++)
		if (p->transport == LTB_TRANSPORT_UDP ||
		    p->transport == LTB_TRANSPORT_UNIX_DGRAM)
			fprintf(f, "  %-21s datagrams on --udp and --unix  %s\n",
			    p->name, p->unit);
	for (size_t i = 0; (p = ltb_collector_protocols[i]) != NULL; i++)
		if (p->transport == LTB_TRANSPORT_TCP)
			fprintf(f, "  %-21s LPUSH %s* on --resp  %s\n", p->name,
			    p->path, p->unit);
}

static void
bad_usage(const char *fmt, const char *arg, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof msg, fmt, arg);
	if (why != NULL)
		ltb_warn("%s: %s", msg, why);
	else
		ltb_warn("%s", msg);
	print_usage(stderr);
	exit(LTB_EXIT_USAGE);
}

/* What is wrong with an admin token, or NULL: a Bearer token68 (RFC
 * 6750), so that it goes in a header as it is. */
static const char *
token_why(const char *t)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~+/";
	size_t n = strspn(t, ok);

	if (n == 0)
		return "empty, or not starting with a letter, digit or one of "
		    "-._~+/";
	if (strspn(t + n, "=") != strlen(t + n))
		return "only letters, digits and -._~+/ (then = at the end) "
		    "go in a Bearer token";
	if (strlen(t) > LTB_ADMIN_TOKEN_MAX)
		return "over 256 bytes";
	return NULL;
}

/* What is wrong with a --unix path, or NULL: it must fit sun_path, and
 * what is there already must be a socket (a stale one is replaced when
 * bound, one in use refused then). */
static const char *
unix_path_why(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;

	if (path[0] == '\0')
		return "an empty path";
	if (strlen(path) >= sizeof sun.sun_path)
		return "longer than a unix socket's path may be (107 bytes)";
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return "a file that is not a socket is there";
	return NULL;
}

static void
parse_args(int argc, char **argv, struct ltb_sat_config *c)
{
	enum { O_BANDWIDTH = 256, O_VALIDATE, O_MAX_BODY, O_MAX_CONN, O_IDLE,
	    O_TLS, O_CERT, O_KEY, O_CERT_OUT, O_MAX_CONN_TOTAL, O_HEADER_TO,
	    O_BODY_TO, O_ADMIN_BIND, O_ADMIN_TOKEN, O_MEMORY_BUDGET, O_UDP,
	    O_UNIX, O_RESP, O_KEEP_TRACES, O_KEEP_BYTES };
	static const struct option longopts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "udp", required_argument, NULL, O_UDP },
		{ "unix", required_argument, NULL, O_UNIX },
		{ "resp", required_argument, NULL, O_RESP },
		{ "keep-traces", required_argument, NULL, O_KEEP_TRACES },
		{ "keep-bytes", required_argument, NULL, O_KEEP_BYTES },
		{ "admin-port", required_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "admin-bind", required_argument, NULL, O_ADMIN_BIND },
		{ "admin-token", required_argument, NULL, O_ADMIN_TOKEN },
		{ "bandwidth", required_argument, NULL, O_BANDWIDTH },
		{ "validate", required_argument, NULL, O_VALIDATE },
		{ "max-body", required_argument, NULL, O_MAX_BODY },
		{ "memory-budget", required_argument, NULL, O_MEMORY_BUDGET },
		{ "max-connections", required_argument, NULL, O_MAX_CONN },
		{ "max-connections-total", required_argument, NULL,
		    O_MAX_CONN_TOTAL },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "header-timeout", required_argument, NULL, O_HEADER_TO },
		{ "body-timeout", required_argument, NULL, O_BODY_TO },
		{ "tls", no_argument, NULL, O_TLS },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "cert-out", required_argument, NULL, O_CERT_OUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *why = NULL, *tok;
	struct in6_addr a6;
	struct in_addr a4;
	uint64_t v;
	int ch;

	while ((ch = getopt_long(argc, argv, "p:b:a:m:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'p':
			if (ltb_parse_ports(optarg, c->ports, LTB_MAX_PORTS,
			    &c->nports, &why) < 0)
				bad_usage("bad --ports '%s'", optarg, why);
			break;
		case O_UDP:
			if (ltb_parse_ports(optarg, c->udp_ports, LTB_MAX_PORTS,
			    &c->nudp, &why) < 0)
				bad_usage("bad --udp '%s'", optarg, why);
			break;
		case O_RESP:
			if (ltb_parse_ports(optarg, c->resp_ports,
			    LTB_MAX_PORTS, &c->nresp, &why) < 0)
				bad_usage("bad --resp '%s'", optarg, why);
			break;
		case O_KEEP_TRACES:
			if (ltb_parse_uint(optarg, 1, 10000000, &v, &why) < 0)
				bad_usage("bad --keep-traces '%s'", optarg, why);
			c->keep_traces = (size_t)v;
			break;
		case O_KEEP_BYTES:
			if (ltb_parse_size(optarg, &c->keep_bytes, &why) < 0)
				bad_usage("bad --keep-bytes '%s'", optarg, why);
			break;
		case O_UNIX:
			if ((why = unix_path_why(optarg)) != NULL)
				bad_usage("bad --unix '%s'", optarg, why);
			c->unix_path = optarg;
			break;
		case 'b':
			/* A typo in an address is misuse, not a failed bind. */
			if (inet_pton(AF_INET, optarg, &a4) != 1 &&
			    inet_pton(AF_INET6, optarg, &a6) != 1)
				bad_usage("bad --bind '%s'", optarg,
				    "not an IPv4 or IPv6 address");
			c->bind = optarg;
			break;
		case O_ADMIN_BIND:
			if (inet_pton(AF_INET, optarg, &a4) != 1 &&
			    inet_pton(AF_INET6, optarg, &a6) != 1)
				bad_usage("bad --admin-bind '%s'", optarg,
				    "not an IPv4 or IPv6 address");
			c->admin_bind = optarg;
			break;
		case O_ADMIN_TOKEN:
			if ((why = token_why(optarg)) != NULL)
				bad_usage("bad --admin-token: %s", why, NULL);
			c->admin_token = optarg;
			break;
		case 'a':
			if (ltb_parse_uint(optarg, 0, 65535, &v, &why) < 0)
				bad_usage("bad --admin-port '%s'", optarg, why);
			c->admin_port = (uint16_t)v;
			break;
		case 'm':
			if ((c->mode = ltb_sat_mode_parse(optarg)) < 0)
				bad_usage("unknown mode '%s'", optarg,
				    "use typical, slow_succeed or slow_fail");
			break;
		case O_BANDWIDTH:
			if (ltb_parse_size(optarg, &c->bandwidth, &why) < 0)
				bad_usage("bad --bandwidth '%s'", optarg, why);
			break;
		case O_VALIDATE:
			if (strcmp(optarg, "walk") != 0 &&
			    strcmp(optarg, "full") != 0)
				bad_usage("bad --validate '%s'", optarg,
				    "use walk or full");
			c->full_validate = strcmp(optarg, "full") == 0;
			break;
		case O_MAX_BODY:
			if (ltb_parse_size(optarg, &c->max_body, &why) < 0)
				bad_usage("bad --max-body '%s'", optarg, why);
			break;
		case O_MEMORY_BUDGET:
			if (ltb_parse_size(optarg, &c->memory_budget, &why) < 0)
				bad_usage("bad --memory-budget '%s'", optarg,
				    why);
			break;
		case O_MAX_CONN:
			if (ltb_parse_uint(optarg, 1, 100000, &v, &why) < 0)
				bad_usage("bad --max-connections '%s'", optarg,
				    why);
			c->max_connections = (unsigned)v;
			break;
		case O_MAX_CONN_TOTAL:
			if (ltb_parse_uint(optarg, 1, 1000000, &v, &why) < 0)
				bad_usage("bad --max-connections-total '%s'",
				    optarg, why);
			c->max_connections_total = (unsigned)v;
			break;
		case O_HEADER_TO:
			if (ltb_parse_uint(optarg, 0, 86400, &v, &why) < 0)
				bad_usage("bad --header-timeout '%s'", optarg,
				    why);
			c->header_timeout = (unsigned)v;
			break;
		case O_BODY_TO:
			if (ltb_parse_uint(optarg, 0, 86400, &v, &why) < 0)
				bad_usage("bad --body-timeout '%s'", optarg,
				    why);
			c->body_timeout = (unsigned)v;
			break;
		case O_IDLE:
			if (ltb_parse_uint(optarg, 0, 86400, &v, &why) < 0)
				bad_usage("bad --idle-timeout '%s'", optarg,
				    why);
			c->idle_timeout = (unsigned)v;
			break;
		case O_TLS:
			c->tls = 1;
			break;
		case O_CERT:
			c->cert_file = optarg;
			c->tls = 1;
			break;
		case O_KEY:
			c->key_file = optarg;
			c->tls = 1;
			break;
		case O_CERT_OUT:
			c->cert_out = optarg;
			c->tls = 1;
			break;
		case 'h':
			print_usage(stdout);
			exit(LTB_EXIT_OK);
		default:
			print_usage(stderr);
			exit(LTB_EXIT_USAGE);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind], NULL);
	/* From the environment, the token stays out of ps. */
	if (c->admin_token == NULL && (tok = getenv("LTB_ADMIN_TOKEN")) !=
	    NULL && tok[0] != '\0') {
		if ((why = token_why(tok)) != NULL)
			bad_usage("bad LTB_ADMIN_TOKEN: %s", why, NULL);
		c->admin_token = tok;
	}
	if ((c->cert_file == NULL) != (c->key_file == NULL))
		bad_usage("%s", c->cert_file != NULL ? "--cert without --key" :
		    "--key without --cert", "give both, or neither for a "
		    "self-signed certificate");
}

/*
 * Every connection is a descriptor (three over TLS: the peer's and both
 * ends of the pair to the daemon), and each daemon may hold LTB_CONN_SLACK
 * more than our limits while it cleans up. Raise the soft limit to the
 * hard one; if the limits still cannot all be open at once, lower them,
 * and say so: a limit that cannot be reached would refuse connections
 * uncounted, at accept.
 */
#define SPARE_FDS 256	/* listening sockets, admin, logs, certificate files */
#define SLACK_FDS 64	/* LTB_CONN_SLACK, libmicrohttpd's room over ours */

static void
fit_nofile(struct ltb_sat_config *c)
{
	unsigned per = c->tls ? 3 : 1, total, port;
	struct rlimit rl;
	uint64_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
	room = room > SPARE_FDS + c->nports * SLACK_FDS * per ?
	    (room - SPARE_FDS - c->nports * SLACK_FDS * per) / per : 1;
	total = c->max_connections_total;
	port = c->max_connections;
	if (total > room)
		total = (unsigned)room;
	if (port > total)
		port = total;
	if (total < c->max_connections_total)
		ltb_warn("--max-connections-total lowered from %u to %u: "
		    "%llu descriptors allowed (RLIMIT_NOFILE)",
		    c->max_connections_total, total,
		    (unsigned long long)rl.rlim_cur);
	if (port < c->max_connections && port < total)
		ltb_warn("--max-connections lowered from %u to %u: "
		    "%llu descriptors allowed (RLIMIT_NOFILE)",
		    c->max_connections, port,
		    (unsigned long long)rl.rlim_cur);
	c->max_connections_total = total;
	c->max_connections = port;
}

static int
print_record(cJSON *rec)
{
	int rc = rec != NULL ? ltb_jsonl_write(stdout, rec) : -1;

	cJSON_Delete(rec);
	return rc;
}

/* The admin port is open to whoever reaches it: say so, and what then. */
static void
warn_public(const struct ltb_sat_config *c)
{
	ltb_warn("warning: the admin API listens on %s, not loopback: it can "
	    "reset, take down and re-mode the satellites. %s", c->admin_bind,
	    c->admin_token != NULL ? "Requests must carry the token." :
	    "Requests through an address other than loopback are refused "
	    "(403) unless you set --admin-token.");
}

int
main(int argc, char **argv)
{
	struct ltb_sat_config cfg;
	struct ltb_sat *sat;
	sigset_t stop;
	char err[512];
	int sig;

	ltb_prog = "ltb-satellite";
	ltb_sat_config_default(&cfg);
	parse_args(argc, argv, &cfg);
	fit_nofile(&cfg);

	/* Every thread the daemons start inherits this mask, so the stop
	 * signals reach only sigwait below; a tracer hanging up must not
	 * kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	/* The per-span delays are microseconds; the default 50 us timer
	 * slack would swamp them. Threads inherit the slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	/* The memory budget counts what reports hold; keep the process's
	 * resident memory near that. glibc raises its mmap threshold to the
	 * size of each mmapped block freed (up to 32 MiB), after which big
	 * held fields come from the heaps: a realloc there copies (old and
	 * new resident at once) and a free does not return the pages. A
	 * fixed threshold keeps every hold over 128 KiB mmapped: grown by
	 * mremap, unmapped when freed. And every connection thread would
	 * otherwise get an arena of its own (up to 8 per core), each
	 * keeping what it once held; a few arenas serve a satellite. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_ARENA_MAX, 4);

	if ((sat = ltb_sat_start(&cfg, err, sizeof err)) == NULL)
		ltb_die(LTB_EXIT_SYS, "%s", err);
	if (ltb_sat_admin_public(sat))
		warn_public(&cfg);
	if (print_record(ltb_sat_ready_record(sat)) < 0) {
		ltb_warn("cannot write the ready record: %s", strerror(errno));
		ltb_sat_stop(sat);
		return LTB_EXIT_SYS;
	}

	sigwait(&stop, &sig);

	/* Down first: every connection closed and every request ended, so
	 * the counts below are final. */
	ltb_sat_down(sat);
	if (print_record(ltb_sat_stats_record(sat)) < 0)
		ltb_warn("cannot write the stats record: %s", strerror(errno));
	ltb_sat_stop(sat);
	return LTB_EXIT_OK;
}
