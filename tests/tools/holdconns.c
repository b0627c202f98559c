/*
 * holdconns: open many TCP connections to a port and hold them, as a
 * hostile or broken peer would, for the connection tests.
 *
 *   holdconns --port P [--address A] [--connections N] [--slowloris]
 *             [--seconds S] [--open-seconds O]
 *
 * Opens N connections (default 100; at most 128 connecting at once, each
 * given 1 s), sends nothing on them (idle), or with --slowloris a request
 * line and one header line at once and then one more header line a
 * second each, never ending the headers. Once done opening (all tried,
 * or O seconds gone, default 5) it prints {"type":"held","v":1,"open":K,
 * "failed":F}; after S seconds (default 20) from its start it closes
 * everything, prints {"type":"done","v":1,"opened":..,"failed":..,
 * "closed_by_peer":..,"open":..} and exits 0, whatever happened. The load
 * is bounded in count and in time. Exit 2 on misuse.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ltb_clock.h"
#include "core/ltb_parse.h"

#define INFLIGHT 128
#define CONNECT_NS 1000000000ull
#define TICK_NS 1000000000ull

enum { S_NONE, S_CONNECTING, S_OPEN, S_CLOSED };

struct slot {
	int fd, state;
	uint64_t t0;
};

static struct {
	struct sockaddr_in to;
	unsigned n;
	int slowloris;
	uint64_t end, open_end;
	unsigned opened, failed, closed_by_peer, open, inflight;
	unsigned lines, open_at_end;
} h;

static void
usage(void)
{
	fputs("usage: holdconns --port P [--address A] [--connections N] "
	    "[--slowloris] [--seconds S] [--open-seconds O]\n", stderr);
	exit(2);
}

static uint64_t
num(const char *s, uint64_t min, uint64_t max)
{
	const char *why;
	uint64_t v;

	if (ltb_parse_uint(s, min, max, &v, &why) < 0) {
		fprintf(stderr, "holdconns: bad number '%s': %s\n", s, why);
		usage();
	}
	return v;
}

/* Two thousand connections want more than the usual 1024 descriptors. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
slot_close(struct slot *s, int state)
{
	if (s->state == S_CONNECTING)
		h.inflight--;
	if (s->state == S_OPEN)
		h.open--;
	close(s->fd);
	s->fd = -1;
	s->state = state;
}

static void
say(struct slot *s, const char *line)
{
	if (send(s->fd, line, strlen(line), MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK) {
		h.closed_by_peer++;
		slot_close(s, S_CLOSED);
	}
}

static void
connect_one(struct slot *s, uint64_t now)
{
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		h.failed++;
		s->state = S_CLOSED;
		return;
	}
	s->t0 = now;
	s->state = S_CONNECTING;
	h.inflight++;
	if (connect(s->fd, (struct sockaddr *)&h.to, sizeof h.to) < 0 &&
	    errno != EINPROGRESS) {
		h.failed++;
		slot_close(s, S_CLOSED);
	}
}

static void
connected(struct slot *s)
{
	int e = 0;
	socklen_t len = sizeof e;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0) {
		h.failed++;
		slot_close(s, S_CLOSED);
		return;
	}
	h.inflight--;
	s->state = S_OPEN;
	h.opened++;
	h.open++;
	if (h.slowloris)
		say(s, "POST /api/v2/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n");
}

/* Something to read on an open connection: its end, or an answer. */
static void
readable(struct slot *s)
{
	char buf[4096];
	ssize_t n = recv(s->fd, buf, sizeof buf, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		h.closed_by_peer++;
		slot_close(s, S_CLOSED);
	}
}

static void
run(struct slot *sl)
{
	struct pollfd *pfd = calloc(h.n, sizeof *pfd);
	unsigned *who = calloc(h.n, sizeof *who);
	uint64_t now, next_tick = ltb_mono_ns() + TICK_NS;
	unsigned next = 0, np, i;
	int held = 0;
	char line[64];

	if (pfd == NULL || who == NULL) {
		fprintf(stderr, "holdconns: out of memory\n");
		exit(1);
	}
	while ((now = ltb_mono_ns()) < h.end) {
		while (next < h.n && h.inflight < INFLIGHT && now < h.open_end)
			connect_one(&sl[next++], now);
		if (!held && h.inflight == 0 && (next == h.n || now >= h.open_end)) {
			printf("{\"type\":\"held\",\"v\":1,\"open\":%u,"
			    "\"failed\":%u}\n", h.open, h.failed);
			fflush(stdout);
			held = 1;
		}
		for (np = 0, i = 0; i < next; i++) {
			if (sl[i].state != S_CONNECTING && sl[i].state != S_OPEN)
				continue;
			pfd[np].fd = sl[i].fd;
			pfd[np].events = sl[i].state == S_OPEN ? POLLIN : POLLOUT;
			pfd[np].revents = 0;
			who[np++] = i;
		}
		if (poll(pfd, np, 100) < 0 && errno != EINTR)
			break;
		now = ltb_mono_ns();
		for (i = 0; i < np; i++) {
			struct slot *s = &sl[who[i]];

			if (s->state == S_CONNECTING && pfd[i].revents)
				connected(s);
			else if (s->state == S_CONNECTING && now - s->t0 > CONNECT_NS) {
				h.failed++;
				slot_close(s, S_CLOSED);
			} else if (s->state == S_OPEN && pfd[i].revents)
				readable(s);
		}
		if (h.slowloris && now >= next_tick) {
			snprintf(line, sizeof line, "X-Slow-%u: x\r\n", h.lines++);
			for (i = 0; i < next; i++)
				if (sl[i].state == S_OPEN)
					say(&sl[i], line);
			next_tick = now + TICK_NS;
		}
	}
	h.open_at_end = h.open;
	for (i = 0; i < next; i++)
		if (sl[i].state == S_CONNECTING || sl[i].state == S_OPEN)
			slot_close(&sl[i], S_NONE);
	free(pfd);
	free(who);
}

int
main(int argc, char **argv)
{
	enum { O_SLOW = 256, O_OPEN };
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "address", required_argument, NULL, 'a' },
		{ "connections", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "open-seconds", required_argument, NULL, O_OPEN },
		{ "slowloris", no_argument, NULL, O_SLOW },
		{ NULL, 0, NULL, 0 }
	};
	const char *addr = "127.0.0.1";
	uint64_t port = 0, secs = 20, open_secs = 5, t0;
	struct slot *sl;
	int ch;

	h.n = 100;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': port = num(optarg, 1, 65535); break;
		case 'a': addr = optarg; break;
		case 'n': h.n = (unsigned)num(optarg, 1, 100000); break;
		case 's': secs = num(optarg, 1, 3600); break;
		case O_OPEN: open_secs = num(optarg, 1, 3600); break;
		case O_SLOW: h.slowloris = 1; break;
		default: usage();
		}
	}
	if (port == 0 || optind != argc)
		usage();
	h.to.sin_family = AF_INET;
	h.to.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &h.to.sin_addr) != 1) {
		fprintf(stderr, "holdconns: bad --address '%s'\n", addr);
		usage();
	}
	raise_nofile();
	if ((sl = calloc(h.n, sizeof *sl)) == NULL) {
		fprintf(stderr, "holdconns: out of memory\n");
		return 1;
	}
	t0 = ltb_mono_ns();
	h.end = t0 + secs * 1000000000ull;
	h.open_end = t0 + open_secs * 1000000000ull;
	run(sl);
	printf("{\"type\":\"done\",\"v\":1,\"opened\":%u,\"failed\":%u,"
	    "\"closed_by_peer\":%u,\"open\":%u}\n", h.opened, h.failed,
	    h.closed_by_peer, h.open_at_end);
	free(sl);
	return 0;
}
