/*
 * sink.c: a do-nothing HTTP server, the baseline for the satellite bench.
 *
 * It uses the same HTTP library and threading model as ltb-satellite
 * (libmicrohttpd, one thread per connection plus an internal polling thread,
 * 256 KiB of memory per connection) but reads and discards every request
 * body and answers 200 with an empty body. What the satellite costs beyond
 * this is the cost of its own work: decoding, validating, counting.
 *
 * With --inflate it does one thing more, so that a gzip intake can be
 * compared like with like: a body sent with Content-Encoding gzip or
 * deflate is inflated by zlib as it arrives, into one buffer per
 * connection thread, and what comes out is thrown away (counted in the
 * stats line's "inflated"). A body zlib cannot read is inflated no
 * further, counted in "inflate_errors", and still answered 200.
 *
 * Same CLI shape as ltb-satellite for the parts tests/bench/run uses:
 * `--ports 0,0,0,0` (0 = ephemeral), binds 127.0.0.1, prints one JSON ready
 * line on stdout once every port accepts, and on SIGTERM or SIGINT prints a
 * final stats line and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#define PROG "sink"
#define MAX_PORTS 64
#define CONN_MEMORY_LIMIT ((size_t)256 * 1024)
#define INFLATE_CHUNK (64 * 1024)

#define USAGE \
	"usage: " PROG " [--ports P[,P...]] [--inflate]\n" \
	"\n" \
	"  --ports LIST  ports to listen on, 127.0.0.1, 0 = ephemeral (default 0)\n" \
	"  --inflate     inflate gzip and deflate bodies, discarding the output\n" \
	"  -h, --help    this text\n" \
	"\n" \
	"Prints {\"type\":\"ready\",...} once listening; SIGTERM prints a stats\n" \
	"line and exits 0. Exit codes: 0 ok, 2 usage, 3 cannot listen.\n"

static atomic_ullong requests;
static atomic_ullong body_bytes;
static atomic_ullong inflated, inflate_errors;
static struct MHD_Response *ok_response;
static int inflate_on;

/* What the first call leaves in *con_cls: a plain body, or one to
 * inflate. */
static int plain_marker, inflate_marker;

/* A connection's thread's inflater: set up once, reset per request. */
static _Thread_local struct {
	z_stream z;
	int open, failed;
	unsigned char out[INFLATE_CHUNK];
} zs;

/* Ready zs for a body of Content-Encoding enc: 1, or 0 to read it as
 * it is (none, or one zlib does not know). */
static int
inflate_begin(const char *enc)
{
	int bits;

	if (enc == NULL)
		return 0;
	if (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0)
		bits = 16 + MAX_WBITS;
	else if (strcasecmp(enc, "deflate") == 0)
		bits = MAX_WBITS;
	else
		return 0;
	zs.failed = 0;
	if (zs.open)
		return inflateReset2(&zs.z, bits) == Z_OK;
	if (inflateInit2(&zs.z, bits) != Z_OK)
		return 0;
	zs.open = 1;
	return 1;
}

/* Inflate a piece, throwing the output away; gzip members follow one
 * another, as the satellite reads them. */
static void
inflate_piece(const char *p, size_t n)
{
	unsigned long long out = 0;
	int rc;

	if (zs.failed)
		return;
	zs.z.next_in = (Bytef *)p;
	zs.z.avail_in = (uInt)n;
	do {
		zs.z.next_out = zs.out;
		zs.z.avail_out = sizeof zs.out;
		rc = inflate(&zs.z, Z_NO_FLUSH);
		out += sizeof zs.out - zs.z.avail_out;
		if (rc == Z_STREAM_END) {
			if (zs.z.avail_in == 0)
				break;
			if (inflateReset(&zs.z) == Z_OK)
				continue;
		}
		if (rc == Z_BUF_ERROR)
			break;		/* no progress without more input */
		if (rc != Z_OK) {
			zs.failed = 1;
			atomic_fetch_add_explicit(&inflate_errors, 1,
			    memory_order_relaxed);
			break;
		}
	} while (zs.z.avail_in > 0 || zs.z.avail_out == 0);
	atomic_fetch_add_explicit(&inflated, out, memory_order_relaxed);
}

/* Per-request state is not needed: discard each chunk and, on the final
 * call, queue the one shared empty response (MHD reference-counts it). */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	if (*con_cls == NULL) {
		*con_cls = inflate_on && inflate_begin(
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_ENCODING)) ?
		    &inflate_marker : &plain_marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		atomic_fetch_add_explicit(&body_bytes, *upload_data_size,
		    memory_order_relaxed);
		if (*con_cls == &inflate_marker)
			inflate_piece(upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	atomic_fetch_add_explicit(&requests, 1, memory_order_relaxed);
	return MHD_queue_response(c, MHD_HTTP_OK, ok_response);
}

static int
parse_ports(const char *s, unsigned short *ports, int max)
{
	int n = 0;
	char *end;

	for (;;) {
		long v;

		if (n == max)
			return -1;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || end == s || v < 0 || v > 65535)
			return -1;
		ports[n++] = (unsigned short)v;
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "inflate", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned short ports[MAX_PORTS] = { 0 };
	struct MHD_Daemon *d[MAX_PORTS] = { NULL };
	int nports = 1, i, c, sig, rc = 3;
	sigset_t set;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			nports = parse_ports(optarg, ports, MAX_PORTS);
			if (nports < 1) {
				fprintf(stderr, PROG ": bad --ports '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case 'i':
			inflate_on = 1;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			fputs(USAGE, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return 2;
	}

	/* Block the stop signals before MHD starts its threads, so they
	 * inherit the mask and sigwait() below is the one place they land. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	ok_response = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	if (ok_response == NULL) {
		fprintf(stderr, PROG ": cannot create response\n");
		return 3;
	}

	for (i = 0; i < nports; i++) {
		struct sockaddr_in sa;
		const union MHD_DaemonInfo *info;

		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons(ports[i]);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		d[i] = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
		    MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
		    handle, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		    MHD_OPTION_END);
		if (d[i] == NULL) {
			fprintf(stderr, PROG ": cannot listen on 127.0.0.1:%u\n",
			    (unsigned)ports[i]);
			goto out;
		}
		info = MHD_get_daemon_info(d[i], MHD_DAEMON_INFO_BIND_PORT);
		if (info == NULL || info->port == 0) {
			fprintf(stderr, PROG ": cannot learn bound port\n");
			goto out;
		}
		ports[i] = info->port;
	}

	printf("{\"type\":\"ready\",\"v\":1,\"pid\":%ld,\"bind\":\"127.0.0.1\","
	    "\"ports\":[", (long)getpid());
	for (i = 0; i < nports; i++)
		printf("%s%u", i ? "," : "", (unsigned)ports[i]);
	printf("]}\n");
	fflush(stdout);

	do {
		if (sigwait(&set, &sig) != 0)
			sig = 0;
	} while (sig != SIGTERM && sig != SIGINT);

	rc = 0;
out:
	for (i = 0; i < nports; i++)
		if (d[i] != NULL)
			MHD_stop_daemon(d[i]);
	MHD_destroy_response(ok_response);
	if (rc == 0) {
		printf("{\"type\":\"stats\",\"v\":1,\"requests\":%llu,"
		    "\"bytes\":%llu,\"inflated\":%llu,"
		    "\"inflate_errors\":%llu}\n",
		    (unsigned long long)atomic_load(&requests),
		    (unsigned long long)atomic_load(&body_bytes),
		    (unsigned long long)atomic_load(&inflated),
		    (unsigned long long)atomic_load(&inflate_errors));
		if (fflush(stdout) != 0 || ferror(stdout))
			rc = 3;
	}
	return rc;
}
