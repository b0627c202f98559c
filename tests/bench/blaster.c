/*
 * blaster: the load of the spectatord intake bench. Sends UDP datagrams
 * of --lines spectatord protocol lines (20, or 1 as spectator-py sends by
 * default) to 127.0.0.1:PORT from one thread, for --seconds, at full
 * speed or at --rate lines a second, with sendmmsg in batches so that the
 * sender is not what limits the receiver.
 *
 * The lines are a meter mix as a service reports: counters, timers,
 * gauges and distribution summaries, a few tags each, names varied so
 * the datagrams are not all one. Each datagram is DGRAMS built up front.
 *
 * Prints one JSON line: {"type":"blast","lines_per_datagram":N,
 * "datagrams":D,"lines":L,"bytes":B,"seconds":S,"send_errors":E,
 * "cpu_s":C} (datagrams and lines sent, not counting those refused).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ltb_clock.h"
#include "core/ltb_parse.h"

#define PROG "blaster"
#define DGRAMS 64		/* distinct datagrams, sent in turn */
#define BATCH 32		/* datagrams per sendmmsg */
#define MAX_LINES 500

static const char usage[] =
"usage: " PROG " --port PORT [--lines N] [--seconds S] [--rate LINES]\n"
"\n"
"Send UDP datagrams of N spectatord lines (default 20) to 127.0.0.1:PORT\n"
"for S seconds (default 5, at most 600), as fast as sendmmsg goes or at\n"
"LINES lines a second. Prints one JSON line of what was sent and the\n"
"sender's own CPU. Exit: 0 done; 2 usage; 3 no socket.\n";

static const char *const meter[] = {
	"c:server.requestCount,nf.app=ltb,status=2xx,method=GET:1",
	"t:server.requestLatency,nf.app=ltb,status=2xx:0.0123",
	"g:jvm.memoryUsage,nf.app=ltb,id=heap:123456789",
	"d:server.responseSize,nf.app=ltb,status=2xx:2048",
	"c:client.errors,nf.app=ltb,reason=timeout:1",
	"T:db.queryTime,nf.app=ltb,table=users:0.004",
	"m:queue.depthMax,nf.app=ltb,queue=in:17",
	"C:bytes.total,nf.app=ltb,dir=out:987654",
};

static void
die_usage(const char *what)
{
	fprintf(stderr, PROG ": %s\n%s", what, usage);
	exit(2);
}

/* Datagram k: n lines, each a meter of the mix with an index tag. */
static size_t
datagram(char *buf, size_t cap, unsigned k, unsigned n)
{
	size_t len = 0;
	int w;

	for (unsigned i = 0; i < n; i++) {
		const char *m = meter[(k + i) % (sizeof meter / sizeof *meter)];
		const char *val = strrchr(m, ':');

		w = snprintf(buf + len, cap - len, "%.*s,i=%u%s%s",
		    (int)(val - m), m, (k * n + i) % 1000, val,
		    i + 1 < n ? "\n" : "");
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	return len;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "lines", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t port = 0, lines = 20, secs = 5, rate = 0;
	uint64_t dgrams = 0, bytes = 0, errs = 0, t0, t1, now, batches = 0;
	static char bufs[DGRAMS][MAX_LINES * 96];
	static struct mmsghdr mm[DGRAMS];
	static struct iovec iov[DGRAMS];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *why;
	double c0;
	int ch, fd;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (ltb_parse_uint(optarg, 1, 65535, &port, &why) < 0)
				die_usage("bad --port");
			break;
		case 'n':
			if (ltb_parse_uint(optarg, 1, MAX_LINES, &lines, &why) < 0)
				die_usage("bad --lines");
			break;
		case 's':
			if (ltb_parse_uint(optarg, 1, 600, &secs, &why) < 0)
				die_usage("bad --seconds");
			break;
		case 'r':
			if (ltb_parse_uint(optarg, 0, 1000000000, &rate, &why) < 0)
				die_usage("bad --rate");
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			die_usage("unknown option");
		}
	}
	if (port == 0)
		die_usage("--port is needed");
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, PROG ": cannot make a socket to 127.0.0.1:%u: "
		    "%s\n", (unsigned)port, strerror(errno));
		return 3;
	}
	for (unsigned k = 0; k < DGRAMS; k++) {
		iov[k].iov_base = bufs[k];
		iov[k].iov_len = datagram(bufs[k], sizeof bufs[k], k,
		    (unsigned)lines);
		mm[k].msg_hdr.msg_iov = &iov[k];
		mm[k].msg_hdr.msg_iovlen = 1;
	}
	c0 = cpu_s();
	t0 = ltb_mono_ns();
	t1 = t0 + secs * 1000000000u;
	while ((now = ltb_mono_ns()) < t1) {
		unsigned off = (unsigned)(batches * BATCH % DGRAMS);
		int n;

		/* Paced: batch b leaves when its lines are due. */
		if (rate > 0)
			ltb_sleep_until_ns(t0 + (uint64_t)((double)dgrams *
			    (double)lines / (double)rate * 1e9));
		n = sendmmsg(fd, mm + off, BATCH, 0);
		batches++;
		if (n < 0) {
			errs++;
			continue;
		}
		for (int i = 0; i < n; i++)
			bytes += iov[off + (unsigned)i].iov_len;
		dgrams += (uint64_t)n;
		errs += (uint64_t)(BATCH - n);
	}
	now = ltb_mono_ns();
	printf("{\"type\":\"blast\",\"lines_per_datagram\":%llu,"
	    "\"datagrams\":%llu,\"lines\":%llu,\"bytes\":%llu,"
	    "\"seconds\":%.3f,\"send_errors\":%llu,\"cpu_s\":%.3f}\n",
	    (unsigned long long)lines, (unsigned long long)dgrams,
	    (unsigned long long)(dgrams * lines), (unsigned long long)bytes,
	    (double)(now - t0) / 1e9, (unsigned long long)errs,
	    cpu_s() - c0);
	close(fd);
	return fflush(stdout) == 0 ? 0 : 3;
}
