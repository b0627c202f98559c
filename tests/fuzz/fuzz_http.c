/*
 * fuzz_http.c: libFuzzer target over the HTTP listener, whole request
 * streams in.
 *
 * Each input is the bytes a peer sends on one connection: request lines,
 * headers, Content-Length or chunked bodies of any protocol, pipelined
 * requests, whatever comes. Two real satellite groups run in this process
 * (ltb_sat_start: the walk and --validate full, no bandwidth cap, each
 * with one port on 127.0.0.1); the input goes to each port's daemon over
 * a socketpair (MHD_add_connection, as the TLS listener hands on its
 * connections), in two pieces the input's last bytes cut, then the
 * writing side is shut, and the answer is read until the daemon closes. So what runs is the listener as it serves
 * peers: libmicrohttpd's parsing, ltb_http.c's framing checks and
 * routing, ltb_message.c's decoding and limits, every protocol, in the
 * mode the input's length picks (typical, slow_succeed, slow_fail).
 *
 * Besides the sanitizers', a finding is: an answer that does not begin
 * with an HTTP/1.x status line; a connection the daemon does not close
 * within DEADLINE_S of the peer's end (a hang, one connection held for
 * good); a connection not released within DEADLINE_S after it closed.
 * No input can stall the run for longer than those deadlines.
 *
 * Seeds: tests/fuzz/seeds/http/ (the Makefile hands them to this target).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <microhttpd.h>

#include "collector/ltb_group.h"
#include "collector/ltb_satellite.h"
#include "core/ltb_clock.h"

#define DEADLINE_S 10		/* per connection, to close and to release */
#define ANSWER_KEEP 4096	/* bytes of the answer looked at */
#define HOLD_NS 20000000u	/* longest wait for the first piece read */

static struct ltb_sat *groups[2];	/* walk, full */

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_http: %s\n", what);
	abort();
}

static struct ltb_sat *
group_start(int full)
{
	struct ltb_sat_config c;
	struct ltb_sat *g;
	char err[256];

	ltb_sat_config_default(&c);
	c.nports = 1;
	c.ports[0] = 0;
	c.admin_port = 0;
	c.bandwidth = 0;	/* a cap sleeps: nothing to find there */
	c.max_body = 1u << 20;
	c.full_validate = full;
	c.idle_timeout = DEADLINE_S;
	if ((g = ltb_sat_start(&c, err, sizeof err)) == NULL)
		die(err);
	return g;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	signal(SIGPIPE, SIG_IGN);
	groups[0] = group_start(0);
	groups[1] = group_start(1);
	return 0;
}

static unsigned
live_connections(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i;

	i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i != NULL ? i->num_connections : 0;
}

/* An answer is empty (a hang-up) or HTTP/1.x responses. */
static void
check_answer(const uint8_t *a, size_t n)
{
	static const char line[] = "HTTP/1.";

	if (n == 0)
		return;
	if (n < sizeof line - 1 || memcmp(a, line, sizeof line - 1) != 0)
		die("an answer that is not an HTTP/1.x status line");
}

/*
 * Send d to the daemon on a fresh connection, end our side, read the
 * answer until the daemon closes; then wait for the daemon to release
 * the connection, so each input starts on an idle daemon.
 */
static void
one_connection(struct MHD_Daemon *daemon, const uint8_t *d, size_t n)
{
	struct sockaddr_in peer = { .sin_family = AF_INET };
	uint8_t answer[ANSWER_KEEP], buf[65536];
	size_t sent = 0, got = 0, limit = n;
	uint64_t deadline, hold = 0;
	struct pollfd pfd;
	int sv[2], shut = 0, queued;
	ssize_t k;

	peer.sin_port = htons(40000);
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) < 0)
		die("socketpair");
	/* The daemon closes sv[0] itself, whether it takes it or not. */
	if (MHD_add_connection(daemon, sv[0], (const struct sockaddr *)&peer,
	    sizeof peer) != MHD_YES) {
		close(sv[1]);
		return;
	}
	/* Two pieces, cut where the input's last bytes say (as in
	 * fuzz_protocols): the daemon reads the first before the second is
	 * sent, so headers, chunks and inflated bodies end mid-read. */
	if (n >= 2)
		limit = (d[n - 1] | (size_t)d[n - 2] << 8) % (n + 1);
	deadline = ltb_mono_ns() + DEADLINE_S * 1000000000ull;
	for (;;) {
		if (sent == limit && limit < n) {
			if (hold == 0)
				hold = ltb_mono_ns() + HOLD_NS;
			/* Unread bytes in our send queue (a Unix socket's
			 * are until the daemon reads them); the daemon may
			 * not read on (a handler waiting), so not forever. */
			if ((ioctl(sv[1], SIOCOUTQ, &queued) == 0 &&
			    queued == 0) || ltb_mono_ns() > hold)
				limit = n;
		}
		if (sent == n && !shut) {
			shutdown(sv[1], SHUT_WR);
			shut = 1;
		}
		pfd = (struct pollfd){ .fd = sv[1],
		    .events = POLLIN | (sent < limit ? POLLOUT : 0) };
		if (ltb_mono_ns() > deadline)
			die("the daemon did not close the connection in time");
		if (poll(&pfd, 1, sent == limit && limit < n ? 1 : 100) < 0 &&
		    errno != EINTR)
			die("poll");
		if (pfd.revents & POLLOUT) {
			k = send(sv[1], d + sent, limit - sent, MSG_NOSIGNAL);
			if (k > 0)
				sent += (size_t)k;
			else if (k < 0 && errno != EAGAIN && errno != EINTR)
				sent = limit = n;	/* hung up: stop */
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			k = recv(sv[1], buf, sizeof buf, 0);
			if (k == 0)
				break;
			if (k < 0 && errno != EAGAIN && errno != EINTR)
				break;	/* reset: closed too */
			if (k > 0 && got < sizeof answer) {
				size_t keep = (size_t)k < sizeof answer - got ?
				    (size_t)k : sizeof answer - got;

				memcpy(answer + got, buf, keep);
				got += keep;
			}
		}
	}
	close(sv[1]);
	check_answer(answer, got);
	deadline = ltb_mono_ns() + DEADLINE_S * 1000000000ull;
	while (live_connections(daemon) > 0) {
		if (ltb_mono_ns() > deadline)
			die("the daemon did not release a closed connection");
		ltb_sleep_until_ns(ltb_mono_ns() + 100000);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		/* The mode by the length: the same input, the same mode. */
		ltb_sat_set_mode(groups[i], (int)(n % LTB_NMODES));
		one_connection(groups[i]->ports[0].ls, d, n);
	}
	return 0;
}
