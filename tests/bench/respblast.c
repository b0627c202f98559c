/*
 * respblast: the load of the RESP intake bench. Sends OSProfiler trace
 * points as its redis driver does, one `LPUSH osprofiler_opt:<base_id>
 * <json>` a message, to 127.0.0.1:PORT over --connections connections
 * (default 2), each pipelined --pipeline commands deep (default 32): a
 * batch of P commands in one write, then its P replies, which must all be
 * integers (`:N`, the list's length); anything else counts as an error.
 *
 * The messages are those of Debian's python3-osprofiler (3.4.3, redis
 * driver), captured with `redis-cli MONITOR`: a trace of --points nested
 * points (default 3) is their starts outermost first, then their stops
 * innermost first; a start's info has 10 tags and the host, a stop's the
 * host alone (about 400 bytes a message on average). Every trace has its
 * own base_id and every point its own trace_id (a run salt, the
 * connection, the point and the trace's number in the UUID), so points
 * pair on the receiver even when the connections interleave: each
 * connection sends whole traces of its own. The commands of a position in
 * the trace are built once; a new trace rewrites only the trace number in
 * its ids.
 *
 * Bounded: no trace starts after --seconds (default 5, at most 600) or
 * once --count messages are sent in all (rounded up to whole traces), and
 * a reply that takes 10 s ends the connection.
 *
 * Prints one JSON line: {"type":"respblast","messages":M,"points":K,
 * "traces":T,"bytes":B,"seconds":S,"messages_per_s":R,"errors":E,
 * "connections":C,"pipeline":P,"points_per_trace":N,"cpu_s":U}; messages
 * are those answered with an integer, points the points whose stop was,
 * errors the commands answered otherwise or not at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/ltb_clock.h"
#include "core/ltb_parse.h"

#define PROG "respblast"
#define MAX_POINTS 32
#define MAX_CONNS 64
#define MAX_PIPELINE 1024
#define MSG_MAX 1024		/* one RESP command, with room */
#define NIDS 4			/* trace numbers in a command: see build() */
#define REPLY_TIMEOUT 10	/* seconds */

static const char usage[] =
"usage: " PROG " --port PORT [--connections C] [--pipeline P]\n"
"       [--points N] [--count M] [--seconds S]\n"
"\n"
"Send OSProfiler redis-driver messages (LPUSH osprofiler_opt:<base_id>\n"
"<json>) to 127.0.0.1:PORT over C connections (2), P commands in flight\n"
"on each (32), traces of N nested points (3), for S seconds (5, at most\n"
"600) or M messages in all, whichever comes first. Every reply must be\n"
"an integer. Prints one JSON line of what was answered and the sender's\n"
"own CPU. Exit: 0 every reply an integer; 1 some errors; 2 usage;\n"
"3 cannot connect.\n";

/* Point names as an OpenStack request nests them. */
static const char *const names[] = {
	"wsgi", "rpc", "compute", "db", "driver", "neutron_api",
};

struct blast {
	uint16_t port;
	unsigned points, pipeline;
	uint64_t per_conn;		/* messages a connection may start */
	uint64_t deadline_ns;
	unsigned salt;
	char host[64];
	char stamp[32];			/* "2026-12-02T00:50:55" */
};

/* A position in the trace: its command, and where its ids' trace numbers
 * are (12 hex digits each). */
struct cmd {
	char buf[MSG_MAX];
	size_t len;
	size_t ids[NIDS];
};

struct conn {
	const struct blast *b;
	unsigned id;
	pthread_t thread;
	struct cmd cmds[2 * MAX_POINTS];
	char *out, *in;
	size_t inlen, incap;
	uint64_t sent, answered, points, traces, errors, bytes;
	int fd;
	char why[160];
	char first_err[96];		/* the first error reply */
};

static void
die_usage(const char *what)
{
	fprintf(stderr, PROG ": %s\n%s", what, usage);
	exit(2);
}

/* The UUID of point p (0: the trace's base) of a connection's trace:
 * salt-conn-4ppp-8000-<trace number>, the number written later. */
static void
uuid(char *s, const struct blast *b, unsigned conn, unsigned p)
{
	snprintf(s, 37, "%08x-%04x-4%03x-8000-000000000000", b->salt,
	    conn & 0xffff, p & 0xfff);
}

/* Where the trace number of id at s (36 chars) begins. */
#define TNUM_OFF 24

/*
 * Command k of a trace: k < points, point k's start, else the stop of
 * point 2*points-1-k. Both carry base_id (in the key and the JSON),
 * trace_id and parent_id, in that order: the NIDS trace numbers.
 */
static int
build(struct cmd *c, const struct blast *b, unsigned conn, unsigned k)
{
	char base[37], tid[37], pid[37], json[MSG_MAX], info[512];
	unsigned p = k < b->points ? k : 2 * b->points - 1 - k;
	int start = k < b->points, n, ni = 0;
	size_t il = 0;
	char *at;

	uuid(base, b, conn, 0);
	uuid(tid, b, conn, p + 1);
	uuid(pid, b, conn, p);	/* point 0's parent is the base */
	info[0] = '\0';
	for (unsigned t = 0; start && t < 10; t++)
		il += (size_t)snprintf(info + il, sizeof info - il,
		    "\"tag%u\": \"value%u\", ", t, t);
	n = snprintf(json, sizeof json, "{\"name\": \"%s-%s\", "
	    "\"base_id\": \"%s\", \"trace_id\": \"%s\", \"parent_id\": \"%s\", "
	    "\"timestamp\": \"%s.%06u\", \"info\": {%s\"host\": \"%s\"}, "
	    "\"project\": \"ltb\", \"service\": \"bench\"}",
	    names[p % (sizeof names / sizeof *names)], start ? "start" : "stop",
	    base, tid, pid, b->stamp, (k * 1237u) % 1000000u, info, b->host);
	if (n < 0 || (size_t)n >= sizeof json)
		return -1;
	n = snprintf(c->buf, sizeof c->buf, "*3\r\n$5\r\nLPUSH\r\n"
	    "$51\r\nosprofiler_opt:%s\r\n$%d\r\n%s\r\n", base, n, json);
	if (n < 0 || (size_t)n >= sizeof c->buf)
		return -1;
	c->len = (size_t)n;
	/* The ids in the order they were written: key, base, trace, parent. */
	at = c->buf;
	for (; ni < NIDS; ni++) {
		at = strstr(at, ni < 2 ? base : ni == 2 ? tid : pid);
		if (at == NULL)
			return -1;
		c->ids[ni] = (size_t)(at - c->buf) + TNUM_OFF;
		at += 36;
	}
	return 0;
}

/* Trace t's number into every id of the commands. */
static void
number(struct conn *c, uint64_t t)
{
	static const char hex[] = "0123456789abcdef";
	char d[12];

	for (int i = 11; i >= 0; i--, t >>= 4)
		d[i] = hex[t & 15];
	for (unsigned k = 0; k < 2 * c->b->points; k++)
		for (unsigned i = 0; i < NIDS; i++)
			memcpy(c->cmds[k].buf + c->cmds[k].ids[i], d, 12);
}

static int
dial(struct conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT };
	int one = 1;

	sa.sin_port = htons(c->b->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		/* A server gone is an error to count, not a SIGPIPE. */
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Read the replies to the n commands of a batch, the stops among them at
 * the positions stops[] says. An integer is an answer; an error line an
 * error; anything else (a bulk, an array) breaks the framing: -1.
 */
static int
replies(struct conn *c, unsigned n, const unsigned char *stop)
{
	unsigned got = 0;
	size_t pos = 0;

	while (got < n) {
		char *nl = memchr(c->in + pos, '\n', c->inlen - pos);
		ssize_t r;

		if (nl != NULL) {
			char t = c->in[pos];

			if (t == ':') {
				c->answered++;
				c->points += stop[got];
			} else if (t == '-') {
				if (c->errors++ == 0)
					snprintf(c->first_err,
					    sizeof c->first_err, "%.*s",
					    (int)(nl - (c->in + pos)),
					    c->in + pos);
			} else {
				snprintf(c->why, sizeof c->why,
				    "a reply that is not an integer: %.40s",
				    c->in + pos);
				return -1;
			}
			got++;
			pos = (size_t)(nl - c->in) + 1;
			continue;
		}
		memmove(c->in, c->in + pos, c->inlen - pos);
		c->inlen -= pos;
		pos = 0;
		if (c->inlen == c->incap) {
			snprintf(c->why, sizeof c->why, "a reply line too long");
			return -1;
		}
		r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(c->why, sizeof c->why, "%s", r == 0 ?
			    "the server closed the connection" : errno ==
			    EAGAIN ? "no reply in 10 s" : strerror(errno));
			return -1;
		}
		c->inlen += (size_t)r;
	}
	memmove(c->in, c->in + pos, c->inlen - pos);
	c->inlen -= pos;
	return 0;
}

/* One connection: batches of whole or partial traces until a bound, the
 * last trace always finished. */
static void *
run(void *arg)
{
	struct conn *c = arg;
	const struct blast *b = c->b;
	unsigned per_trace = 2 * b->points;
	unsigned char stop[MAX_PIPELINE];
	uint64_t m = 0;

	for (;;) {
		unsigned n = 0;
		size_t len = 0;

		while (n < b->pipeline) {
			unsigned k = (unsigned)(m % per_trace);

			if (k == 0) {
				if (m >= b->per_conn ||
				    ltb_mono_ns() >= b->deadline_ns)
					break;
				number(c, m / per_trace);
				c->traces++;
			}
			memcpy(c->out + len, c->cmds[k].buf, c->cmds[k].len);
			len += c->cmds[k].len;
			stop[n++] = k >= b->points;
			m++;
		}
		if (n == 0)
			break;
		if (write_all(c->fd, c->out, len) < 0) {
			snprintf(c->why, sizeof c->why, "cannot send: %s",
			    strerror(errno));
			c->errors += n;
			break;
		}
		c->sent += n;
		c->bytes += len;
		if (replies(c, n, stop) < 0) {
			/* What is unanswered is lost to us. */
			c->errors += c->sent - c->answered - c->errors;
			break;
		}
	}
	return NULL;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The wall clock's second now, as OSProfiler writes its timestamps. */
static void
stamp(char *s, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(s, cap, "%Y-%m-%dT%H:%M:%S", &tm);
}

static int
setup(struct conn *c, const struct blast *b, unsigned id)
{
	c->b = b;
	c->id = id;
	c->fd = -1;
	for (unsigned k = 0; k < 2 * b->points; k++)
		if (build(&c->cmds[k], b, id, k) < 0) {
			snprintf(c->why, sizeof c->why, "a message too long");
			return -1;
		}
	c->incap = 64 * 1024;
	if ((c->out = malloc((size_t)b->pipeline * MSG_MAX)) == NULL ||
	    (c->in = malloc(c->incap)) == NULL) {
		snprintf(c->why, sizeof c->why, "out of memory");
		return -1;
	}
	if (dial(c) < 0) {
		snprintf(c->why, sizeof c->why, "cannot connect to "
		    "127.0.0.1:%u: %s", (unsigned)b->port, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "connections", required_argument, NULL, 'c' },
		{ "pipeline", required_argument, NULL, 'P' },
		{ "points", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct conn conns[MAX_CONNS];
	uint64_t port = 0, nconn = 2, pipe = 32, points = 3, count = 0;
	uint64_t secs = 5, t0, t1;
	uint64_t answered = 0, npoints = 0, traces = 0, errs = 0;
	uint64_t bytes = 0;
	struct blast b = { 0 };
	const char *why;
	int ch, rc = 0;
	double c0;
	unsigned started = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (ltb_parse_uint(optarg, 1, 65535, &port, &why) < 0)
				die_usage("bad --port");
			break;
		case 'c':
			if (ltb_parse_uint(optarg, 1, MAX_CONNS, &nconn, &why) < 0)
				die_usage("bad --connections");
			break;
		case 'P':
			if (ltb_parse_uint(optarg, 1, MAX_PIPELINE, &pipe,
			    &why) < 0)
				die_usage("bad --pipeline");
			break;
		case 'n':
			if (ltb_parse_uint(optarg, 1, MAX_POINTS, &points,
			    &why) < 0)
				die_usage("bad --points");
			break;
		case 'm':
			if (ltb_parse_uint(optarg, 1, 1000000000000ull, &count,
			    &why) < 0)
				die_usage("bad --count");
			break;
		case 's':
			if (ltb_parse_uint(optarg, 1, 600, &secs, &why) < 0)
				die_usage("bad --seconds");
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			die_usage("unknown option");
		}
	}
	if (optind < argc)
		die_usage("too many arguments");
	if (port == 0)
		die_usage("--port is needed");
	b.port = (uint16_t)port;
	b.points = (unsigned)points;
	b.pipeline = (unsigned)pipe;
	b.per_conn = count == 0 ? UINT64_MAX : (count + nconn - 1) / nconn;
	b.salt = (unsigned)(ltb_real_ns() / 1000) ^ ((unsigned)getpid() << 16);
	if (gethostname(b.host, sizeof b.host) < 0)
		snprintf(b.host, sizeof b.host, "localhost");
	b.host[strcspn(b.host, "\"\\")] = '\0';
	stamp(b.stamp, sizeof b.stamp);

	for (unsigned i = 0; i < nconn; i++)
		if (setup(&conns[i], &b, i) < 0) {
			fprintf(stderr, PROG ": %s\n", conns[i].why);
			return 3;
		}
	c0 = cpu_s();
	t0 = ltb_mono_ns();
	b.deadline_ns = t0 + secs * 1000000000u;
	for (; started < nconn; started++)
		if (pthread_create(&conns[started].thread, NULL, run,
		    &conns[started]) != 0) {
			fprintf(stderr, PROG ": cannot start a thread\n");
			rc = 3;
			break;
		}
	for (unsigned i = 0; i < started; i++) {
		struct conn *c = &conns[i];
		size_t el;

		pthread_join(c->thread, NULL);
		if (c->why[0] != '\0') {
			fprintf(stderr, PROG ": connection %u: %s\n", i, c->why);
			if (rc == 0)
				rc = 1;
		}
		/* The reason, once: the count says how many. */
		if (c->first_err[0] != '\0' && errs == 0) {
			el = strcspn(c->first_err, "\r");
			fprintf(stderr, PROG ": an error reply: %.*s\n",
			    (int)el, c->first_err);
		}
		answered += c->answered;
		npoints += c->points;
		traces += c->traces;
		errs += c->errors;
		bytes += c->bytes;
	}
	t1 = ltb_mono_ns();
	if (errs > 0 && rc == 0)
		rc = 1;
	printf("{\"type\":\"respblast\",\"messages\":%llu,\"points\":%llu,"
	    "\"traces\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
	    "\"messages_per_s\":%.0f,\"errors\":%llu,\"connections\":%u,"
	    "\"pipeline\":%u,\"points_per_trace\":%u,\"cpu_s\":%.3f}\n",
	    (unsigned long long)answered, (unsigned long long)npoints,
	    (unsigned long long)traces, (unsigned long long)bytes,
	    (double)(t1 - t0) / 1e9,
	    (double)answered / ((double)(t1 - t0) / 1e9),
	    (unsigned long long)errs, (unsigned)nconn, b.pipeline, b.points,
	    cpu_s() - c0);
	for (unsigned i = 0; i < nconn; i++) {
		if (conns[i].fd >= 0)
			close(conns[i].fd);
		free(conns[i].out);
		free(conns[i].in);
	}
	if (fflush(stdout) != 0)
		return 3;
	return rc;
}
