/*
 * loadgen.c: HTTP load generator for the satellite bench.
 *
 * Posts one pre-encoded body (a LightStep ReportRequest made by mkreport, an
 * OTLP ExportTraceServiceRequest made by mkotlp) over and over, as fast as the server answers: C threads, each with its own
 * libcurl easy handle and so its own keep-alive connection, connections
 * spread round-robin over the URLs given. The body is read into memory once
 * and handed to libcurl by pointer. Stops by itself after --seconds (no new
 * request starts after the deadline) or --requests in all, whichever comes
 * first. Every answer must be 200; anything else, or a transport error,
 * counts as a failure. --content-type says what the body is (default
 * application/octet-stream); --gzip compresses it once, with zlib, before
 * the load starts, and sends it with Content-Encoding: gzip.
 * https URLs work too (libcurl's TLS), checked against --cacert or not at
 * all (--insecure); --fresh makes every request on a new connection, so the
 * cost of connecting (and of a TLS handshake) shows. --pause-on-error S
 * waits S seconds after a transport error (connection refused or cut)
 * before the next request on that connection, so a satellite taken down
 * does not turn the load into a spin of refused connects. --pace RATE
 * holds each connection to RATE body bytes a second by waiting before a
 * request that would run ahead of it: the same bytes at the same rate as a
 * satellite's bandwidth cap lets through, but paced by the sender, so the
 * bench can tell what the cap itself costs from what a slower load costs.
 *
 * Prints one JSON line on stdout:
 *   {"type":"load","requests":R,"spans":S,"bytes":B,"seconds":T,
 *    "failures":F,"connections":C,"spans_per_report":N,"cpu_s":U,
 *    "connects":K,"connect_us":T,"handshake_us":H,"transport_errors":E}
 * requests counts every request made; spans and bytes only those answered
 * 200 (spans = N per such request, bytes = request body bytes as sent,
 * compressed with --gzip); seconds is
 * the wall time from the first request to the end of the last one; cpu_s is
 * loadgen's own user+system CPU time, to tell whether it was the bottleneck.
 * connects counts the connections made; connect_us is the mean time of a TCP
 * connect and handshake_us the mean time of a TLS handshake after it (0 for
 * http), as libcurl measured them, over the requests that connected.
 * transport_errors counts the failures that got no HTTP answer at all.
 *
 * Exit codes: 0 all requests answered 200; 1 some failed; 2 usage;
 * 3 system failure (cannot read the body, cannot start libcurl or threads).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <zlib.h>

#include "core/ltb_clock.h"

#define PROG "loadgen"
#define MAX_URLS 64
#define MAX_CONNECTIONS 1024
#define UPLOAD_BUFFER (2L * 1024 * 1024)	/* libcurl's maximum */
#define SOCKET_BUFFER (4 * 1024 * 1024)

#define USAGE \
	"usage: " PROG " --url URL[,URL...] --body FILE --spans-per-report N\n" \
	"       --connections C (--seconds S | --requests R)\n" \
"       [--content-type TYPE] [--gzip]\n" \
	"\n" \
	"  --url LIST            servers to POST to; connection i uses URL i mod n\n" \
	"  --body FILE           request body\n" \
"  --content-type TYPE   its Content-Type (application/octet-stream)\n" \
"  --gzip                gzip the body once and send Content-Encoding: gzip\n" \
	"  --spans-per-report N  spans in the body, for the span count\n" \
	"  --connections C       keep-alive connections, one thread each (1)\n" \
	"  --seconds S           start no request after S seconds\n" \
	"  --requests R          make R requests in all\n" \
	"  --fresh               a new connection for every request, with a\n" \
	"                        full TLS handshake (--resume: a resumed one)\n" \
	"  --cacert FILE         verify https servers against FILE\n" \
	"  --insecure            do not verify https servers\n" \
"  --pause-on-error S    after a transport error, wait S seconds (0)\n" \
"  --pace RATE           at most RATE body bytes/s on each connection\n" \
	"  -h, --help            this text\n" \
	"\n" \
	"Prints one {\"type\":\"load\",...} line. Exit codes: 0 ok, 1 some\n" \
	"requests failed, 2 usage, 3 system failure.\n"

struct load {
	const char *body;
	size_t body_len;
	const char *content_type;
	int gzip;
	double deadline;		/* monotonic seconds; 0 for none */
	int fresh, resume, insecure;
	const char *cacert;
	long long max_requests;		/* 0 for none */
	uint64_t error_pause_ns;	/* after a transport error */
	double pace;			/* body bytes/s per connection; 0 none */
	uint64_t t0_ns;			/* when the load began */
	atomic_llong issued;		/* requests claimed so far */
};

struct conn {
	struct load *load;
	const char *url;
	pthread_t thread;
	long long requests, ok, errors;
	long long connects;
	curl_off_t connect_us, handshake_us;	/* sums over connects */
	int last_error_logged;
};

static size_t
discard(char *p, size_t size, size_t n, void *cls)
{
	return size * n;
}

/* Bigger socket buffers let one send() move more of a large body. */
static int
set_sockopts(void *cls, curl_socket_t fd, curlsocktype purpose)
{
	int v = SOCKET_BUFFER;

	if (purpose == CURLSOCKTYPE_IPCXN)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	return CURL_SOCKOPT_OK;
}

/* Claim the next request, or say the run is over. */
static int
next_request(struct load *l)
{
	if (l->max_requests > 0 &&
	    atomic_fetch_add(&l->issued, 1) >= l->max_requests)
		return 0;
	if (l->deadline > 0 && ltb_mono_s() >= l->deadline)
		return 0;
	return 1;
}

/* What connecting cost this request, if it connected. */
static void
count_connect(struct conn *c, CURL *e)
{
	curl_off_t tcp = 0, app = 0;
	long n = 0;

	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &n);
	if (n <= 0)
		return;
	curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &tcp);
	curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &app);
	c->connects++;
	c->connect_us += tcp;
	if (app > tcp)
		c->handshake_us += app - tcp;
}

static void *
run_conn(void *arg)
{
	struct conn *c = arg;
	struct load *l = c->load;
	struct curl_slist *hdrs = NULL, *h;
	CURL *e;

	if ((e = curl_easy_init()) == NULL)
		goto fail;
	{
		char ct[256];

		snprintf(ct, sizeof ct, "Content-Type: %s", l->content_type);
		if ((h = curl_slist_append(hdrs, ct)) == NULL)
			goto fail;
		hdrs = h;
	}
	if (l->gzip) {
		h = curl_slist_append(hdrs, "Content-Encoding: gzip");
		if (h == NULL)
			goto fail;
		hdrs = h;
	}
	/* An empty "Expect:" stops libcurl waiting for 100-continue. */
	if ((h = curl_slist_append(hdrs, "Expect:")) == NULL)
		goto fail;
	hdrs = h;
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, l->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)l->body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, set_sockopts);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	if (l->fresh) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		/* A resumed session skips most of the handshake: only when
		 * asked. */
		curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE,
		    (long)l->resume);
	}
	if (l->cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, l->cacert);
	if (l->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}

	while (next_request(l)) {
		CURLcode rc;
		long status = 0;

		if (l->pace > 0)
			ltb_sleep_until_ns(l->t0_ns + (uint64_t)((double)
			    c->requests * (double)l->body_len / l->pace * 1e9));
		rc = curl_easy_perform(e);
		c->requests++;
		if (rc == CURLE_OK) {
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
			count_connect(c, e);
		}
		if (status == 200) {
			c->ok++;
			continue;
		}
		if (rc != CURLE_OK) {
			c->errors++;
			if (l->error_pause_ns > 0)
				ltb_sleep_until_ns(ltb_mono_ns() +
				    l->error_pause_ns);
		}
		/* Say what went wrong once per connection, not per request. */
		if (!c->last_error_logged) {
			c->last_error_logged = 1;
			if (rc != CURLE_OK)
				fprintf(stderr, PROG ": POST %s: %s\n", c->url,
				    curl_easy_strerror(rc));
			else
				fprintf(stderr, PROG ": POST %s: HTTP %ld\n",
				    c->url, status);
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
	return NULL;
fail:
	fprintf(stderr, PROG ": cannot set up libcurl for %s\n", c->url);
	curl_slist_free_all(hdrs);
	if (e != NULL)
		curl_easy_cleanup(e);
	return (void *)1;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((nb = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

/* Gzip n bytes at p (zlib, a gzip wrapper, default level) into a new
 * buffer; NULL if out of memory. */
static char *
gzip_body(const char *p, size_t n, size_t *len)
{
	z_stream z;
	uLong cap;
	char *out;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS,
	    8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)n) + 32;
	if ((out = malloc(cap)) == NULL) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*len = z.total_out;
	deflateEnd(&z);
	return out;
}

static int
split_urls(char *s, const char **urls, int max)
{
	int n = 0;
	char *tok, *save;

	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			return -1;
		urls[n++] = tok;
	}
	return n;
}

static int
parse_num(const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return (errno != 0 || end == s || *end != '\0' || *out < min ||
	    *out > max) ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "body", required_argument, NULL, 'b' },
		{ "spans-per-report", required_argument, NULL, 'n' },
		{ "connections", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "requests", required_argument, NULL, 'r' },
		{ "content-type", required_argument, NULL, 't' },
		{ "gzip", no_argument, NULL, 'z' },
		{ "fresh", no_argument, NULL, 'f' },
		{ "resume", no_argument, NULL, 'R' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "pause-on-error", required_argument, NULL, 'P' },
		{ "pace", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct load load;
	const char *urls[MAX_URLS], *body_path = NULL;
	char *url_arg = NULL;
	struct conn *conns = NULL;
	struct rusage ru;
	double spans_per_report = -1, connections = 1, seconds = 0;
	double requests = 0, t0, elapsed, v;
	long long total = 0, ok = 0, connects = 0, errors = 0;
	curl_off_t connect_us = 0, handshake_us = 0;
	int nurls = 0, i, started = 0, setup_failed = 0, c, li = 0, rc = 3;

	while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (c) {
		case 'u':
			url_arg = optarg;
			break;
		case 'b':
			body_path = optarg;
			break;
		case 'n':
			if (parse_num(optarg, 0, 1e9, &v) < 0 || v != (long)v)
				goto bad;
			spans_per_report = v;
			break;
		case 'c':
			if (parse_num(optarg, 1, MAX_CONNECTIONS, &v) < 0 ||
			    v != (int)v)
				goto bad;
			connections = v;
			break;
		case 's':
			if (parse_num(optarg, 0.001, 1e6, &seconds) < 0)
				goto bad;
			break;
		case 'r':
			if (parse_num(optarg, 1, 1e15, &v) < 0 ||
			    v != (long long)v)
				goto bad;
			requests = v;
			break;
		case 't':
			if (strlen(optarg) > 200 || strpbrk(optarg, "\r\n"))
				goto bad;
			load.content_type = optarg;
			break;
		case 'z':
			load.gzip = 1;
			break;
		case 'f':
			load.fresh = 1;
			break;
		case 'R':
			load.resume = 1;
			break;
		case 'C':
			load.cacert = optarg;
			break;
		case 'k':
			load.insecure = 1;
			break;
		case 'P':
			if (parse_num(optarg, 0, 60, &v) < 0)
				goto bad;
			load.error_pause_ns = (uint64_t)(v * 1e9);
			break;
		case 'p':
			if (parse_num(optarg, 1, 1e12, &load.pace) < 0)
				goto bad;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			fputs(USAGE, stderr);
			return 2;
		}
	}
	if (optind != argc || url_arg == NULL || body_path == NULL ||
	    spans_per_report < 0 || (seconds == 0 && requests == 0)) {
		fputs(USAGE, stderr);
		return 2;
	}
	if ((nurls = split_urls(url_arg, urls, MAX_URLS)) < 1) {
		fprintf(stderr, PROG ": bad --url list\n");
		return 2;
	}

	load.body = read_file(body_path, &load.body_len);
	if (load.body == NULL) {
		fprintf(stderr, PROG ": cannot read body %s: %s\n", body_path,
		    strerror(errno));
		return 3;
	}
	if (load.content_type == NULL)
		load.content_type = "application/octet-stream";
	if (load.gzip) {
		size_t zlen;
		char *z = gzip_body(load.body, load.body_len, &zlen);

		if (z == NULL) {
			fprintf(stderr, PROG ": cannot gzip the body\n");
			goto out;
		}
		free((void *)load.body);
		load.body = z;
		load.body_len = zlen;
	}
	if (curl_global_init(CURL_GLOBAL_ALL) != 0) {
		fprintf(stderr, PROG ": cannot initialise libcurl\n");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	conns = calloc((size_t)connections, sizeof *conns);
	if (conns == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}

	load.max_requests = (long long)requests;
	t0 = ltb_mono_s();
	load.t0_ns = ltb_mono_ns();
	load.deadline = seconds > 0 ? t0 + seconds : 0;
	for (i = 0; i < (int)connections; i++) {
		int err;

		conns[i].load = &load;
		conns[i].url = urls[i % nurls];
		err = pthread_create(&conns[i].thread, NULL, run_conn,
		    &conns[i]);
		if (err != 0) {
			fprintf(stderr, PROG ": cannot start thread: %s\n",
			    strerror(err));
			/* Stop the ones already running, then report. */
			load.deadline = t0;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		void *res;

		pthread_join(conns[i].thread, &res);
		if (res != NULL)
			setup_failed = 1;
		total += conns[i].requests;
		ok += conns[i].ok;
		errors += conns[i].errors;
		connects += conns[i].connects;
		connect_us += conns[i].connect_us;
		handshake_us += conns[i].handshake_us;
	}
	elapsed = ltb_mono_s() - t0;
	getrusage(RUSAGE_SELF, &ru);
	if (setup_failed || started != (int)connections)
		goto out;

	printf("{\"type\":\"load\",\"requests\":%lld,\"spans\":%lld,"
	    "\"bytes\":%lld,\"seconds\":%.6f,\"failures\":%lld,"
	    "\"connections\":%d,\"spans_per_report\":%ld,\"cpu_s\":%.3f,"
	    "\"connects\":%lld,\"connect_us\":%.1f,\"handshake_us\":%.1f,"
	    "\"transport_errors\":%lld}\n",
	    total, ok * (long long)spans_per_report,
	    ok * (long long)load.body_len, elapsed, total - ok,
	    (int)connections, (long)spans_per_report,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	    connects, connects ? (double)connect_us / (double)connects : 0.0,
	    connects ? (double)handshake_us / (double)connects : 0.0,
	    errors);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": cannot write stdout\n");
		goto out;
	}
	rc = total == ok ? 0 : 1;
out:
	free(conns);
	free((void *)load.body);
	curl_global_cleanup();
	return rc;
bad:
	fprintf(stderr, PROG ": bad value '%s' for --%s\n", optarg,
	    opts[li].name);
	fputs(USAGE, stderr);
	return 2;
}
