/*
 * dgramsend: send datagrams of lines to a UDP port or a unix datagram
 * socket, for the tests of ltb-satellite's datagram listeners.
 *
 * Each datagram is the LINE arguments joined by newlines (a trailing
 * newline with --newline). Bounded: --count datagrams (at most 10M), at
 * --rate a second (0: as fast as send goes), and never longer than
 * --max-seconds. With --connect the socket is connected first and send()
 * used, so an ICMP port unreachable comes back as ECONNREFUSED on a later
 * send, as a metrics client on a connected socket sees it.
 *
 * Prints one JSON line: {"type":"send","sent":N,"errors":E,
 * "econnrefused":R,"eagain":A,"enoent":M,"other_errors":O,"seconds":S}.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/ltb_clock.h"
#include "core/ltb_parse.h"

#define PROG "dgramsend"
#define MAX_COUNT 10000000u
#define MAX_DGRAM 65536

static const char usage[] =
"usage: " PROG " (--udp PORT [--host ADDR] | --unix PATH) [--count N]\n"
"                 [--rate N] [--connect] [--newline] [--max-seconds S]\n"
"                 LINE...\n"
"\n"
"Send --count (1) datagrams, each the LINEs joined by newlines, to\n"
"127.0.0.1:PORT (or ADDR) over UDP or to a unix datagram socket, at\n"
"--rate a second (0, the default: as fast as send goes), for at most\n"
"--max-seconds (30). --connect: a connected socket and send(). --newline:\n"
"end each datagram with a newline. Prints one JSON line of counts.\n"
"Exit: 0 done (send errors are counted, not fatal); 2 usage; 3 no socket.\n";

static void
die_usage(const char *what)
{
	fprintf(stderr, PROG ": %s\n%s", what, usage);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "udp", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'H' },
		{ "unix", required_argument, NULL, 'x' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "connect", no_argument, NULL, 'c' },
		{ "newline", no_argument, NULL, 'l' },
		{ "max-seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *host = "127.0.0.1", *path = NULL, *why;
	uint64_t port = 0, count = 1, rate = 0, max_s = 30, v;
	uint64_t sent = 0, refused = 0, again = 0, noent = 0, other = 0;
	int conn = 0, newline = 0, ch, fd, udp = 0;
	struct sockaddr_storage sa;
	socklen_t salen;
	static char buf[MAX_DGRAM];
	size_t len = 0;
	uint64_t t0, deadline;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			if (ltb_parse_uint(optarg, 1, 65535, &port, &why) < 0)
				die_usage("bad --udp");
			udp = 1;
			break;
		case 'H':
			host = optarg;
			break;
		case 'x':
			path = optarg;
			break;
		case 'n':
			if (ltb_parse_uint(optarg, 0, MAX_COUNT, &count, &why) < 0)
				die_usage("bad --count");
			break;
		case 'r':
			if (ltb_parse_uint(optarg, 0, 100000000, &rate, &why) < 0)
				die_usage("bad --rate");
			break;
		case 's':
			if (ltb_parse_uint(optarg, 1, 600, &max_s, &why) < 0)
				die_usage("bad --max-seconds");
			break;
		case 'c':
			conn = 1;
			break;
		case 'l':
			newline = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			die_usage("unknown option");
		}
	}
	if (udp == (path != NULL))
		die_usage("give one of --udp and --unix");
	for (int i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 1 > sizeof buf)
			die_usage("the lines do not fit a datagram");
		memcpy(buf + len, argv[i], n);
		len += n;
		if (i + 1 < argc || newline)
			buf[len++] = '\n';
	}
	memset(&sa, 0, sizeof sa);
	if (udp) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			die_usage("bad --host: an IPv4 address");
		salen = sizeof *in;
	} else {
		struct sockaddr_un *un = (struct sockaddr_un *)&sa;

		if (strlen(path) >= sizeof un->sun_path)
			die_usage("--unix path too long");
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		salen = sizeof *un;
	}
	if ((fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, PROG ": cannot make a socket: %s\n",
		    strerror(errno));
		return 3;
	}
	if (conn && connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		fprintf(stderr, PROG ": cannot connect: %s\n", strerror(errno));
		return 3;
	}
	t0 = ltb_mono_ns();
	deadline = t0 + max_s * 1000000000u;
	for (uint64_t i = 0; i < count; i++) {
		ssize_t r;

		if (rate > 0)
			ltb_sleep_until_ns(t0 + i * 1000000000u / rate);
		if (ltb_mono_ns() > deadline)
			break;
		r = conn ? send(fd, buf, len, 0) : sendto(fd, buf, len, 0,
		    (struct sockaddr *)&sa, salen);
		if (r >= 0)
			sent++;
		else if (errno == ECONNREFUSED)
			refused++;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			again++;
		else if (errno == ENOENT)
			noent++;
		else
			other++;
	}
	v = refused + again + noent + other;
	printf("{\"type\":\"send\",\"sent\":%llu,\"errors\":%llu,"
	    "\"econnrefused\":%llu,\"eagain\":%llu,\"enoent\":%llu,"
	    "\"other_errors\":%llu,\"seconds\":%.3f}\n",
	    (unsigned long long)sent, (unsigned long long)v,
	    (unsigned long long)refused, (unsigned long long)again,
	    (unsigned long long)noent, (unsigned long long)other,
	    (double)(ltb_mono_ns() - t0) / 1e9);
	close(fd);
	return fflush(stdout) == 0 ? 0 : 3;
}
