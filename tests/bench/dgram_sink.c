/*
 * dgram_sink.c: a do-nothing UDP server, the floor of the spectatord
 * intake bench, as sink.c is for HTTP.
 *
 * The satellite's reading model without its work: one thread reading
 * batches of 32 datagrams of up to 64 KiB with recvmmsg, the receive
 * buffer asked for as big (4 MiB, SO_RCVBUFFORCE), drops read from
 * SO_RXQ_OVFL, the same 200 us pause after a batch that was not full;
 * each datagram is only counted. What the satellite costs
 * beyond this is its own: parsing lines, counting meters.
 *
 * Same shape as ltb-satellite for what tests/bench/run uses: `--udp 0`
 * binds 127.0.0.1 on a port the kernel picks, prints one ready line
 * ({"type":"ready","udp_ports":[P]}) and on SIGTERM or SIGINT a stats
 * line ({"type":"stats","requests":datagrams,"bytes":B,
 * "socket_drops":D}) and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include "core/ltb_clock.h"
#include "core/ltb_parse.h"

#define PROG "dgram_sink"
#define BATCH 32
#define DGRAM_MAX 65536
#define RCVBUF (4 << 20)
#define COALESCE_NS 200000u	/* as ltb_dgram.c */

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

static const char usage[] =
"usage: " PROG " [--udp PORT]\n"
"\n"
"  --udp PORT  the UDP port on 127.0.0.1 (default 0: any free one)\n"
"  -h, --help  this text\n"
"\n"
"Counts datagrams, doing nothing else. Prints {\"type\":\"ready\",...}\n"
"once bound; SIGTERM prints a stats line and exits 0. Exit codes: 0 ok,\n"
"2 usage, 3 cannot bind.\n";

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	stopping = 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "udp", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct mmsghdr mm[BATCH];
	static struct iovec iov[BATCH];
	static union {
		char b[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl[BATCH];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	uint64_t port = 0, dgrams = 0, bytes = 0;
	uint32_t drops = 0, cur;
	struct sigaction act;
	const char *why;
	uint8_t *buf;
	int fd, ch, one = 1, rb = RCVBUF, n;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			if (ltb_parse_uint(optarg, 0, 65535, &port, &why) < 0) {
				fprintf(stderr, PROG ": bad --udp: %s\n%s", why,
				    usage);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fprintf(stderr, PROG ": unknown option\n%s", usage);
			return 2;
		}
	}
	memset(&act, 0, sizeof act);
	act.sa_handler = on_stop;	/* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	/* As ltb-satellite does: a pause of 200 us is 200 us. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((buf = malloc((size_t)BATCH * DGRAM_MAX)) == NULL ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, PROG ": cannot bind udp 127.0.0.1:%u: %s\n",
		    (unsigned)port, strerror(errno));
		return 3;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
	printf("{\"type\":\"ready\",\"pid\":%d,\"udp_ports\":[%u]}\n",
	    (int)getpid(), (unsigned)ntohs(sa.sin_port));
	fflush(stdout);
	while (!stopping) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf + (size_t)i * DGRAM_MAX;
			iov[i].iov_len = DGRAM_MAX;
			mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i],
			    .msg_iovlen = 1, .msg_control = ctl[i].b,
			    .msg_controllen = sizeof ctl[i].b };
		}
		n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };

			(void)poll(&pf, 1, 100);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &mm[i].msg_hdr;
			struct cmsghdr *c;

			dgrams++;
			bytes += mm[i].msg_len;
			for (c = CMSG_FIRSTHDR(h); c != NULL;
			    c = CMSG_NXTHDR(h, c))
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SO_RXQ_OVFL) {
					memcpy(&cur, CMSG_DATA(c), sizeof cur);
					if ((int32_t)(cur - drops) > 0)
						drops = cur;
				}
		}
		if (n < BATCH)
			ltb_sleep_until_ns(ltb_mono_ns() + COALESCE_NS);
	}
	/* The count as it stands: a burst followed by silence carried no
	 * datagram to tell us. */
	{
		uint32_t mi[SK_MEMINFO_VARS] = { 0 };
		socklen_t ml = sizeof mi;

		if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &ml) == 0 &&
		    ml > SK_MEMINFO_DROPS * sizeof mi[0] &&
		    (int32_t)(mi[SK_MEMINFO_DROPS] - drops) > 0)
			drops = mi[SK_MEMINFO_DROPS];
	}
	printf("{\"type\":\"stats\",\"requests\":%llu,\"bytes\":%llu,"
	    "\"socket_drops\":%u}\n", (unsigned long long)dgrams,
	    (unsigned long long)bytes, (unsigned)drops);
	return fflush(stdout) == 0 ? 0 : 3;
}
