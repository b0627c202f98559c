/*
 * test_meter.c: the metrics writer (common/client/ltb_meter.c): lines
 * formatted exactly as spectatord reads them (every meter type, tags,
 * characters replaced), received exactly by a real UDP socket and a real
 * unix datagram socket, the line buffer flushed when full, by its
 * flusher and at close, NoFlush's lines counted as unsent, and send()
 * failures counted by errno (a connected UDP socket to a closed loopback
 * port: ECONNREFUSED; a unix socket whose reader went away and came back).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/ltb_meter.h"

static const char *const keys[] = { "nf.app", "status", "a:b", "k" };
static const char *const values[] = { "api", "200", "x=y,z", "~^-._Az09" };

static struct ltb_meter_writer *
noop_writer(void)
{
	struct ltb_meter_config cfg;
	struct ltb_meter_writer *w;
	char err[256];

	ltb_meter_config_default(&cfg);
	cfg.transport = LTB_METER_NOOP;
	w = ltb_meter_writer_new(&cfg, err, sizeof err);
	if (w == NULL)
		fail_msg("%s", err);
	return w;
}

static struct ltb_meter *
meter(struct ltb_meter_writer *w, char type, const char *name, unsigned n)
{
	char err[256];
	struct ltb_meter *m = ltb_meter_new(w, type, name, n, keys, values,
	    err, sizeof err);

	if (m == NULL)
		fail_msg("%c %s: %s", type, name, err);
	return m;
}

static void
line_is(struct ltb_meter *m, uint64_t ts, double v, const char *want)
{
	char buf[256];
	size_t n = ltb_meter_format(m, ts, v, buf, sizeof buf);

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void
test_format_types(void **state)
{
	struct ltb_meter_writer *w = noop_writer();
	const char *t;

	for (t = "cCUdDtTgmA"; *t != '\0'; t++) {
		char want[64];

		snprintf(want, sizeof want, "%c:server.requestCount:1", *t);
		line_is(meter(w, *t, "server.requestCount", 0), 0, 1, want);
	}
	line_is(meter(w, 'X', "monotonic.Source", 0), 1543160297100, 42,
	    "X,1543160297100:monotonic.Source:42");
	line_is(meter(w, 'X', "s", 1), 7, 1, "X,7:s,nf.app=api:1");
	ltb_meter_writer_free(w);
}

static void
test_format_values(void **state)
{
	struct ltb_meter_writer *w = noop_writer();
	struct ltb_meter *m = meter(w, 'g', "g", 0);

	line_is(m, 0, 0, "g:g:0");
	line_is(m, 0, -5, "g:g:-5");
	line_is(m, 0, 123456789012, "g:g:123456789012");
	line_is(m, 0, 0.5, "g:g:0.5");
	line_is(m, 0, 0.1, "g:g:0.1");
	line_is(m, 0, 0.000125, "g:g:0.000125");
	line_is(m, 0, 1.0 / 3, "g:g:0.33333333333333331");
	line_is(m, 0, -2.25, "g:g:-2.25");
	line_is(m, 0, 1e20, "g:g:1e+20");
	ltb_meter_writer_free(w);
}

static void
test_format_tags_and_escaping(void **state)
{
	struct ltb_meter_writer *w = noop_writer();
	char err[256];

	line_is(meter(w, 'c', "server.requestCount", 2), 0, 1,
	    "c:server.requestCount,nf.app=api,status=200:1");
	/* ':' '=' ',' '/' ' ' are what a line's syntax or spectatord
	 * refuses: replaced by '_'; "-._~^" and alphanumerics stay. */
	line_is(meter(w, 't', "my timer/1 ms", 4), 0, 0.25,
	    "t:my_timer_1_ms,nf.app=api,status=200,a_b=x_y_z,"
	    "k=~^-._Az09:0.25");
	assert_null(ltb_meter_new(w, 'z', "x", 0, keys, values, err,
	    sizeof err));
	assert_non_null(strstr(err, "not one of"));
	assert_null(ltb_meter_new(w, 'c', "", 0, keys, values, err,
	    sizeof err));
	{
		const char *k[] = { "a" }, *v[] = { "" };

		assert_null(ltb_meter_new(w, 'c', "x", 1, k, v, err,
		    sizeof err));
		assert_non_null(strstr(err, "empty"));
	}
	ltb_meter_writer_free(w);
}

static void
test_noop_writes_nothing(void **state)
{
	struct ltb_meter_writer *w = noop_writer();
	struct ltb_meter_stats st;
	struct ltb_meter *m = meter(w, 'c', "c", 2);

	for (int i = 0; i < 100; i++)
		ltb_meter_update(m, 1);
	ltb_meter_writer_close(w);
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.lines, 0);
	assert_int_equal(st.datagrams, 0);
	assert_string_equal(ltb_meter_writer_transport(w), "noop");
	ltb_meter_writer_free(w);
}

/* A UDP socket on 127.0.0.1, its port in *port; reads time out in 2 s. */
static int
udp_receiver(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	*port = ntohs(a.sin_port);
	return fd;
}

static char sock_dir[64];

static int
unix_receiver(char *path, size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (sock_dir[0] == '\0') {
		snprintf(sock_dir, sizeof sock_dir, "/tmp/test_meter.XXXXXX");
		assert_non_null(mkdtemp(sock_dir));
	}
	snprintf(path, len, "%s/s.sock", sock_dir);
	unlink(path);
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

/* The next datagram, as a string. */
static void
received(int fd, const char *want)
{
	char buf[70000];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);

	if (n < 0)
		fail_msg("expected '%s', got nothing: %s", want,
		    strerror(errno));
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* Nothing waiting. */
static void
nothing(int fd)
{
	char buf[16];

	assert_int_equal(recv(fd, buf, sizeof buf, MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static struct ltb_meter_writer *
writer(int transport, uint16_t port, const char *path, unsigned buffer,
    unsigned period_ms, int no_flush)
{
	struct ltb_meter_config cfg;
	struct ltb_meter_writer *w;
	char err[256];

	ltb_meter_config_default(&cfg);
	cfg.transport = transport;
	cfg.port = port;
	cfg.unix_path = path;
	cfg.line_buffer_bytes = buffer;
	cfg.flush_period_ms = period_ms;
	cfg.no_flush = no_flush;
	if ((w = ltb_meter_writer_new(&cfg, err, sizeof err)) == NULL)
		fail_msg("%s", err);
	return w;
}

static void
updates_arrive(struct ltb_meter_writer *w, int fd)
{
	struct ltb_meter_stats st;

	ltb_meter_update(meter(w, 'c', "server.requestCount", 2), 1);
	ltb_meter_update(meter(w, 't', "server.latency", 1), 0.0125);
	ltb_meter_update_u64(meter(w, 'U', "bytes", 0), UINT64_MAX);
	ltb_meter_update_at(meter(w, 'X', "sampled", 0), 1700000000123, 7);
	received(fd, "c:server.requestCount,nf.app=api,status=200:1");
	received(fd, "t:server.latency,nf.app=api:0.0125");
	received(fd, "U:bytes:18446744073709551615");
	received(fd, "X,1700000000123:sampled:7");
	nothing(fd);
	ltb_meter_writer_close(w);
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.lines, 4);
	assert_int_equal(st.datagrams, 4);
	assert_int_equal(st.lines_failed, 0);
}

static void
test_udp_receives_every_line(void **state)
{
	uint16_t port;
	int fd = udp_receiver(&port);
	struct ltb_meter_writer *w = writer(LTB_METER_UDP, port, NULL, 0, 0, 0);

	assert_string_equal(ltb_meter_writer_transport(w), "udp");
	updates_arrive(w, fd);
	ltb_meter_writer_free(w);
	close(fd);
}

static void
test_unix_receives_every_line(void **state)
{
	char path[128];
	int fd = unix_receiver(path, sizeof path);
	struct ltb_meter_writer *w = writer(LTB_METER_UNIX, 0, path, 0, 0, 0);

	assert_string_equal(ltb_meter_writer_transport(w), "unix");
	updates_arrive(w, fd);
	ltb_meter_writer_free(w);
	close(fd);
	unlink(path);
}

static void
test_unix_missing_socket_refused(void **state)
{
	struct ltb_meter_config cfg;
	char err[256];

	ltb_meter_config_default(&cfg);
	cfg.transport = LTB_METER_UNIX;
	cfg.unix_path = "/nonexistent/ltb-meter.sock";
	assert_null(ltb_meter_writer_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "cannot connect to unix socket "
	    "/nonexistent/ltb-meter.sock: No such file or directory"));
	cfg.line_buffer_bytes = 65537;
	assert_null(ltb_meter_writer_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "LineBufferBytes 65537"));
}

/* Lines of 10 bytes ("c:abcd:NNN" for NNN 100..999) in a 32-byte buffer:
 * two fit with their newline (21), a third too (32), a fourth does not. */
static void
buffer_flushes(int transport)
{
	uint16_t port = 0;
	char path[128] = "";
	int fd = transport == LTB_METER_UDP ? udp_receiver(&port) :
	    unix_receiver(path, sizeof path);
	struct ltb_meter_writer *w = writer(transport, port, path, 32, 0, 0);
	struct ltb_meter *m = meter(w, 'c', "abcd", 0);
	struct ltb_meter_stats st;

	ltb_meter_update(m, 101);
	ltb_meter_update(m, 102);
	nothing(fd);
	ltb_meter_update(m, 103);
	/* exactly full: sent at once */
	received(fd, "c:abcd:101\nc:abcd:102\nc:abcd:103");
	ltb_meter_update(m, 104);
	ltb_meter_update(m, 105);
	ltb_meter_update(m, 1.5);	/* 10 bytes too, "c:abcd:1.5" */
	ltb_meter_update(m, 106);	/* does not fit: the three go */
	received(fd, "c:abcd:104\nc:abcd:105\nc:abcd:1.5");
	nothing(fd);
	ltb_meter_writer_close(w);
	received(fd, "c:abcd:106");
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.lines, 7);
	assert_int_equal(st.datagrams, 3);
	assert_int_equal(st.lines_unsent, 0);
	/* after close: nothing more */
	ltb_meter_update(m, 107);
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.lines, 7);
	ltb_meter_writer_free(w);
	close(fd);
	if (path[0] != '\0')
		unlink(path);
}

static void
test_buffer_flushes_when_full_and_at_close(void **state)
{
	buffer_flushes(LTB_METER_UDP);
	buffer_flushes(LTB_METER_UNIX);
}

static void
test_line_longer_than_buffer_goes_alone(void **state)
{
	uint16_t port;
	int fd = udp_receiver(&port);
	struct ltb_meter_writer *w = writer(LTB_METER_UDP, port, NULL, 12, 0, 0);
	struct ltb_meter *s = meter(w, 'c', "a", 0);	/* "c:a:1", 5 */
	struct ltb_meter *l = meter(w, 'c', "server.requestCount", 2);

	ltb_meter_update(s, 1);
	ltb_meter_update(l, 1);
	received(fd, "c:a:1");
	received(fd, "c:server.requestCount,nf.app=api,status=200:1");
	ltb_meter_writer_free(w);
	nothing(fd);
	close(fd);
}

static void
test_no_flush_leaves_lines_counted(void **state)
{
	uint16_t port;
	int fd = udp_receiver(&port);
	struct ltb_meter_writer *w = writer(LTB_METER_UDP, port, NULL, 2048,
	    0, 1);
	struct ltb_meter *m = meter(w, 'g', "g", 1);
	struct ltb_meter_stats st;

	for (int i = 0; i < 5; i++)
		ltb_meter_update(m, i);
	ltb_meter_writer_close(w);
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.lines, 5);
	assert_int_equal(st.lines_unsent, 5);
	assert_int_equal(st.datagrams, 0);
	nothing(fd);
	ltb_meter_writer_free(w);
	close(fd);
}

static void
test_flusher_sends_every_period(void **state)
{
	uint16_t port;
	int fd = udp_receiver(&port);
	struct ltb_meter_writer *w = writer(LTB_METER_UDP, port, NULL, 2048,
	    20, 0);
	struct ltb_meter *m = meter(w, 'c', "c", 0);
	struct ltb_meter_stats st;

	/* the writer is left open: only its flusher can send them (the
	 * receiver waits up to 2 s) */
	ltb_meter_update(m, 1);
	received(fd, "c:c:1");
	ltb_meter_update(m, 2);
	received(fd, "c:c:2");
	ltb_meter_writer_close(w);
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.datagrams, 2);
	ltb_meter_writer_free(w);
	close(fd);
}

static void
test_refused_sends_counted(void **state)
{
	uint16_t port;
	int fd = udp_receiver(&port);
	struct ltb_meter_writer *w;
	struct ltb_meter *m;
	struct ltb_meter_stats st;
	char buf[16];

	close(fd);		/* nobody on the port: ICMP port unreachable */
	w = writer(LTB_METER_UDP, port, NULL, 0, 0, 0);
	m = meter(w, 'c', "c", 0);
	for (int i = 0; i < 20; i++)
		ltb_meter_update(m, 1);
	ltb_meter_writer_close(w);
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.lines, 20);
	/* each refusal is the kernel reporting the ICMP answer to a send
	 * before: at most every other line */
	assert_true(st.lines_failed >= 1);
	assert_true(st.lines_failed <= 10);
	assert_int_equal(st.lines_failed_by_errno[ECONNREFUSED],
	    st.lines_failed);
	assert_int_equal(st.datagrams + st.datagrams_failed, 20);
	assert_string_equal(ltb_meter_errno_name(ECONNREFUSED, buf,
	    sizeof buf), "ECONNREFUSED");
	assert_string_equal(ltb_meter_errno_name(LTB_METER_NERRNO - 1, buf,
	    sizeof buf), "other");
	ltb_meter_writer_free(w);
}

static void
test_unix_reader_gone_then_back(void **state)
{
	char path[128];
	int fd = unix_receiver(path, sizeof path);
	struct ltb_meter_writer *w = writer(LTB_METER_UNIX, 0, path, 0, 0, 0);
	struct ltb_meter *m = meter(w, 'c', "c", 0);
	struct ltb_meter_stats st;

	ltb_meter_update(m, 1);
	received(fd, "c:c:1");
	close(fd);
	unlink(path);
	ltb_meter_update(m, 2);		/* refused: the peer is gone */
	ltb_meter_update(m, 3);		/* no socket at the path yet */
	fd = unix_receiver(path, sizeof path);
	ltb_meter_update(m, 4);		/* connected again to the new one */
	received(fd, "c:c:4");
	ltb_meter_writer_stats(w, &st);
	assert_int_equal(st.lines, 4);
	assert_int_equal(st.lines_failed, 2);
	assert_int_equal(st.lines_failed_by_errno[ECONNREFUSED], 1);
	assert_int_equal(st.lines_failed_by_errno[ENOENT], 1);
	ltb_meter_writer_free(w);
	close(fd);
	unlink(path);
}

static int
cleanup(void **state)
{
	if (sock_dir[0] != '\0')
		rmdir(sock_dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_types),
		cmocka_unit_test(test_format_values),
		cmocka_unit_test(test_format_tags_and_escaping),
		cmocka_unit_test(test_noop_writes_nothing),
		cmocka_unit_test(test_udp_receives_every_line),
		cmocka_unit_test(test_unix_receives_every_line),
		cmocka_unit_test(test_unix_missing_socket_refused),
		cmocka_unit_test(test_buffer_flushes_when_full_and_at_close),
		cmocka_unit_test(test_line_longer_than_buffer_goes_alone),
		cmocka_unit_test(test_no_flush_leaves_lines_counted),
		cmocka_unit_test(test_flusher_sends_every_period),
		cmocka_unit_test(test_refused_sends_counted),
		cmocka_unit_test(test_unix_reader_gone_then_back),
	};

	return cmocka_run_group_tests(tests, NULL, cleanup);
}
