/*
 * meter_bench.c: what ltb_meter (the metrics writer clients/c-spectator
 * links) costs per update, beside spectator-py's published figures.
 *
 * As spectator-py's benchmark did, one counter with two tags is
 * incremented in a tight loop on one thread, its line sent to a real
 * receiving socket on loopback drained by a thread of this process (with
 * recvmmsg, and a large receive buffer): over UDP and over a unix
 * datagram socket, a datagram per line (line_buffer_bytes 0) and with a
 * 2048-byte line buffer (its flusher every 5 s, spectator-py's period).
 * The same buffered over UDP with a timer whose values are no integers
 * (formatted with snprintf, where a counter's 1 is written by hand), the
 * seed figure null for it: spectator-py published none. For each it
 * prints
 *
 *   {"type":"bench","bench":"meter_writer","transport":"udp",
 *    "meter":"counter","line_buffer_bytes":0,"line_bytes":74,"updates":N,
 *    "ns_per_update":C,"wall_ns_per_update":W,"updates_per_s":R,
 *    "lines_received":L,"lines_lost":X,"send_failures":F,
 *    "seed_spectator_py_updates_per_s":80626}
 *
 * ns_per_update is the updating thread's CPU (CLOCK_THREAD_CPUTIME_ID)
 * per update, updates_per_s what the loop achieved in wall time (the
 * figure spectator-py's is: 80,626/s over udp, 90,811/s over unix, about
 * 150K/s with a 2 KB buffer, the Python process at 100% CPU), each the
 * median of TRIALS trials. lines_lost is what the receiver did not get
 * (UDP: the kernel dropped it at the receive buffer; unix datagrams hold
 * the sender back instead). A NoOp line gives the floor: the call alone.
 *
 *   meter_bench [UPDATES_PER_TRIAL [TRIALS]]      (100000, 5)
 *
 * Exit 0; 1 when a socket cannot be set up.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/ltb_clock.h"
#include "core/ltb_stats.h"
#include "client/ltb_meter.h"

#define MAX_TRIALS 31
#define BATCH 64

/* A line of 74 bytes, as spectator-py's benchmark's was. */
static const char *const keys[] = { "nf.app", "nf.cluster" };
static const char *const values[] = { "benchmark-app",
	"benchmark-main" };
static const char *const name = "spectator.bench.counter";
static const char *const tname = "spectator.bench.timer__";	/* as long */

struct drain {
	int fd;
	volatile int stop;
	uint64_t lines;
	pthread_t th;
};

static void *
drain_loop(void *arg)
{
	struct drain *d = arg;
	static char bufs[BATCH][LTB_METER_DATAGRAM_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];

	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof bufs[i];
		memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int n = recvmmsg(d->fd, msgs, BATCH, MSG_WAITFORONE, NULL);

		if (n <= 0) {
			if (d->stop)
				break;
			continue;
		}
		for (int i = 0; i < n; i++) {
			const char *p = bufs[i];
			unsigned len = msgs[i].msg_len;

			if (len > 0)
				d->lines++;
			for (unsigned j = 0; j < len; j++)
				if (p[j] == '\n')
					d->lines++;
		}
	}
	return NULL;
}

static int
bind_udp(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = 32 << 20;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	*port = ntohs(a.sin_port);
	return fd;
}

static int
bind_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), sz = 32 << 20;

	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	return fd;
}

static double
thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct figures {
	double cpu_ns, wall_ns;
	uint64_t received, failed;
	size_t line_bytes;
};

/* One trial: n updates through a fresh writer to the receiver. */
static int
trial(int transport, uint16_t port, const char *path, unsigned buffer,
    char type, struct drain *d, size_t n, struct figures *f)
{
	struct ltb_meter_config cfg;
	struct ltb_meter_writer *w;
	struct ltb_meter *m;
	struct ltb_meter_stats st;
	uint64_t before = d->lines, w0;
	double c0;
	char err[256], line[256];

	ltb_meter_config_default(&cfg);
	cfg.transport = transport;
	cfg.port = port;
	cfg.unix_path = path;
	cfg.line_buffer_bytes = buffer;
	if ((w = ltb_meter_writer_new(&cfg, err, sizeof err)) == NULL ||
	    (m = ltb_meter_new(w, type, type == 'c' ? name : tname, 2, keys,
	    values, err, sizeof err)) == NULL) {
		fprintf(stderr, "meter_bench: %s\n", err);
		ltb_meter_writer_free(w);
		return -1;
	}
	f->line_bytes = ltb_meter_format(m, 0, type == 'c' ? 1 : 0.000375,
	    line, sizeof line);
	w0 = ltb_mono_ns();
	c0 = thread_ns();
	if (type == 'c')
		for (size_t i = 0; i < n; i++)
			ltb_meter_update(m, 1);
	else		/* seconds that are no integer: snprintf's path */
		for (size_t i = 0; i < n; i++)
			ltb_meter_update(m, 0.000125 * (double)(1 + i % 8));
	f->cpu_ns = (thread_ns() - c0) / (double)n;
	f->wall_ns = (double)(ltb_mono_ns() - w0) / (double)n;
	ltb_meter_writer_close(w);
	ltb_meter_writer_stats(w, &st);
	ltb_meter_writer_free(w);
	f->failed = st.lines_failed;
	/* what is in flight arrives within a moment of the last send */
	if (transport != LTB_METER_NOOP) {
		uint64_t want = before + st.lines - st.lines_failed, until =
		    ltb_mono_ns() + 1000000000u;

		while (d->lines < want && ltb_mono_ns() < until)
			usleep(1000);
		usleep(20000);
	}
	f->received = d->lines - before;
	return 0;
}

static int
run(const char *how, int transport, unsigned buffer, char type, double seed,
    size_t n, int trials)
{
	struct drain d = { .fd = -1 };
	struct figures f[MAX_TRIALS];
	double cpu[MAX_TRIALS], wall[MAX_TRIALS];
	uint64_t received = 0, failed = 0;
	uint16_t port = 0;
	char path[64] = "";
	int rc = -1;

	if (transport == LTB_METER_UDP)
		d.fd = bind_udp(&port);
	else if (transport == LTB_METER_UNIX) {
		snprintf(path, sizeof path, "/tmp/meter_bench.%d.sock",
		    (int)getpid());
		d.fd = bind_unix(path);
	}
	if (transport != LTB_METER_NOOP) {
		if (d.fd < 0) {
			fprintf(stderr, "meter_bench: cannot bind a %s "
			    "receiver: %s\n", how, strerror(errno));
			return -1;
		}
		/* recvmmsg's own timeout is only looked at after a
		 * datagram: the socket's lets the drain see stop */
		struct timeval tv = { 0, 50000 };

		setsockopt(d.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		pthread_create(&d.th, NULL, drain_loop, &d);
	}
	for (int t = 0; t < trials; t++) {
		if (trial(transport, port, path, buffer, type, &d, n,
		    &f[t]) < 0)
			goto out;
		cpu[t] = f[t].cpu_ns;
		wall[t] = f[t].wall_ns;
		received += f[t].received;
		failed += f[t].failed;
	}
	printf("{\"type\":\"bench\",\"bench\":\"meter_writer\","
	    "\"transport\":\"%s\",\"meter\":\"%s\",\"line_buffer_bytes\":%u,"
	    "\"line_bytes\":%zu,\"updates\":%zu,\"trials\":%d,"
	    "\"ns_per_update\":%.1f,\"wall_ns_per_update\":%.1f,"
	    "\"updates_per_s\":%.0f,", how, type == 'c' ? "counter" : "timer",
	    buffer, f[0].line_bytes,
	    n * (size_t)trials, trials, ltb_median(cpu, (size_t)trials),
	    ltb_median(wall, (size_t)trials),
	    1e9 / ltb_median(wall, (size_t)trials));
	if (transport == LTB_METER_NOOP)
		printf("\"lines_received\":null,\"lines_lost\":null,"
		    "\"send_failures\":null,");
	else
		printf("\"lines_received\":%llu,\"lines_lost\":%llu,"
		    "\"send_failures\":%llu,", (unsigned long long)received,
		    (unsigned long long)(n * (size_t)trials - received),
		    (unsigned long long)failed);
	if (seed > 0)
		printf("\"seed_spectator_py_updates_per_s\":%.0f}\n", seed);
	else
		printf("\"seed_spectator_py_updates_per_s\":null}\n");
	fflush(stdout);
	rc = 0;
out:
	if (transport != LTB_METER_NOOP) {
		d.stop = 1;
		pthread_join(d.th, NULL);
		close(d.fd);
	}
	if (path[0] != '\0')
		unlink(path);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int trials = argc > 2 ? atoi(argv[2]) : 5;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: meter_bench [UPDATES_PER_TRIAL [TRIALS]] "
		    "(100000, 5): JSON lines, the metrics writer's cost per "
		    "update\n");
		return 0;
	}
	if (n == 0 || trials < 1 || trials > MAX_TRIALS) {
		fprintf(stderr, "usage: meter_bench [UPDATES_PER_TRIAL "
		    "[TRIALS (1-%d)]]\n", MAX_TRIALS);
		return 2;
	}
	/* spectator-py 1.0.6's published figures, its README */
	if (run("noop", LTB_METER_NOOP, 0, 'c', 0, n, trials) < 0 ||
	    run("udp", LTB_METER_UDP, 0, 'c', 80626, n, trials) < 0 ||
	    run("udp", LTB_METER_UDP, 2048, 'c', 150000, n, trials) < 0 ||
	    run("udp", LTB_METER_UDP, 2048, 't', 0, n, trials) < 0 ||
	    run("unix", LTB_METER_UNIX, 0, 'c', 90811, n, trials) < 0 ||
	    run("unix", LTB_METER_UNIX, 2048, 'c', 150000, n, trials) < 0)
		return 1;
	return 0;
}
