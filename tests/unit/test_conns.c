/*
 * test_conns.c: admission, eviction and deadlines of a group's
 * connections (common/collector/ltb_conns.c), on socketpairs standing in
 * for the sockets: an evicted or reaped connection's peer end reads end
 * of file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector/ltb_group.h"

#define NPORTS 2

struct fixture {
	struct ltb_sat g;
	struct ltb_port ports[NPORTS];
	int peer[16];			/* the far ends */
	struct ltb_conn *c[16];
	int n;
};

static struct fixture *
fixture_new(unsigned per_port, unsigned total)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	ltb_sat_config_default(&f->g.cfg);
	f->g.cfg.max_connections = per_port;
	f->g.cfg.max_connections_total = total;
	pthread_mutex_init(&f->g.conn_lock, NULL);
	f->g.ports = f->ports;
	f->g.nports = NPORTS;
	for (int i = 0; i < NPORTS; i++)
		f->ports[i].group = &f->g;
	return f;
}

static void
fixture_free(struct fixture *f)
{
	for (int i = 0; i < f->n; i++) {
		ltb_conn_close(f->c[i]);
		close(f->peer[i]);
	}
	ltb_conns_stop(&f->g);
	pthread_mutex_destroy(&f->g.conn_lock);
	free(f);
}

/* Admit and open a connection on port i; its index, or -1 if refused.
 * Each opens a millisecond after the last, so their ages differ. */
static int
connect_to(struct fixture *f, int port)
{
	int sv[2];
	struct timespec ms = { 0, 2000000 };

	nanosleep(&ms, NULL);
	if (!ltb_conns_admit(&f->ports[port]))
		return -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	f->peer[f->n] = sv[1];
	f->c[f->n] = ltb_conn_open(&f->ports[port], sv[0]);
	assert_non_null(f->c[f->n]);
	return f->n++;
}

/* 1 if connection i was shut down: its far end reads end of file. */
static int
shut(struct fixture *f, int i)
{
	char b;

	return read(f->peer[i], &b, 1) == 0;
}

static void
a_full_port_evicts_the_oldest_idle_connection(void **unused)
{
	struct fixture *f = fixture_new(2, 100);
	int a = connect_to(f, 0), b = connect_to(f, 0), c;

	c = connect_to(f, 0);
	assert_true(c >= 0);
	assert_true(shut(f, a));
	assert_false(shut(f, b));
	assert_false(shut(f, c));
	assert_int_equal(f->ports[0].evicted_connections, 1);
	assert_int_equal(f->ports[0].conns_open, 2);
	assert_int_equal(f->g.conns_open, 2);
	fixture_free(f);
}

static void
slow_headers_are_evicted_before_a_newer_idle_connection(void **unused)
{
	struct fixture *f = fixture_new(2, 100);
	int a = connect_to(f, 0), b = connect_to(f, 0);
	struct timespec ms = { 0, 3000000 };

	/* a, opened first, begins its headers; then b goes idle again
	 * (a request done): a's phase is the older. */
	ltb_conn_mark(f->c[a], LTB_CONN_HEADERS);
	nanosleep(&ms, NULL);
	ltb_conn_mark(f->c[b], LTB_CONN_IDLE);
	assert_true(connect_to(f, 0) >= 0);
	assert_true(shut(f, a));
	assert_false(shut(f, b));
	fixture_free(f);
}

static void
busy_connections_are_never_evicted_and_a_newcomer_is_refused(void **unused)
{
	struct fixture *f = fixture_new(2, 100);
	int a = connect_to(f, 0), b = connect_to(f, 0);

	ltb_conn_mark(f->c[a], LTB_CONN_BODY);
	ltb_conn_mark(f->c[b], LTB_CONN_ANSWERING);
	assert_int_equal(connect_to(f, 0), -1);
	assert_false(shut(f, a));
	assert_false(shut(f, b));
	assert_int_equal(f->ports[0].refused_connections, 1);
	assert_int_equal(f->ports[0].evicted_connections, 0);
	fixture_free(f);
}

static void
a_full_group_evicts_from_any_port_counted_on_that_port(void **unused)
{
	struct fixture *f = fixture_new(10, 2);
	int a = connect_to(f, 1), b = connect_to(f, 1);

	assert_true(connect_to(f, 0) >= 0);
	assert_true(shut(f, a));
	assert_false(shut(f, b));
	assert_int_equal(f->ports[1].evicted_connections, 1);
	assert_int_equal(f->ports[0].evicted_connections, 0);
	assert_int_equal(f->ports[0].conns_open, 1);
	assert_int_equal(f->ports[1].conns_open, 1);
	fixture_free(f);
}

static void
an_evicted_connection_is_chosen_once_and_counted_once(void **unused)
{
	struct fixture *f = fixture_new(1, 100);
	int a = connect_to(f, 0), b, c;

	b = connect_to(f, 0);		/* evicts a */
	c = connect_to(f, 0);		/* evicts b, not a again */
	assert_true(shut(f, a));
	assert_true(shut(f, b));
	assert_false(shut(f, c));
	assert_int_equal(f->ports[0].evicted_connections, 2);
	assert_int_equal(f->ports[0].conns_open, 1);
	fixture_free(f);
}

static void
the_reaper_closes_headers_past_their_deadline_only(void **unused)
{
	struct fixture *f = fixture_new(10, 100);
	char err[256];
	int a, b, c, d;

	f->g.cfg.header_timeout = 1;
	f->g.cfg.body_timeout = 1;
	f->g.cfg.idle_timeout = 30;
	assert_int_equal(ltb_conns_start(&f->g, err, sizeof err), 0);
	a = connect_to(f, 0);
	b = connect_to(f, 0);
	c = connect_to(f, 0);
	d = connect_to(f, 0);
	ltb_conn_mark(f->c[a], LTB_CONN_HEADERS);
	ltb_conn_mark(f->c[b], LTB_CONN_BODY);
	ltb_conn_mark(f->c[c], LTB_CONN_ANSWERING);
	sleep(2);
	assert_true(shut(f, a));
	assert_true(shut(f, b));
	assert_false(shut(f, c));
	assert_false(shut(f, d));	/* idle, 30 s */
	assert_int_equal(f->ports[0].header_timeouts, 1);
	assert_int_equal(f->ports[0].body_timeouts, 1);
	assert_int_equal(f->ports[0].idle_timeouts, 0);
	assert_int_equal(f->ports[0].conns_open, 2);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_full_port_evicts_the_oldest_idle_connection),
		cmocka_unit_test(slow_headers_are_evicted_before_a_newer_idle_connection),
		cmocka_unit_test(busy_connections_are_never_evicted_and_a_newcomer_is_refused),
		cmocka_unit_test(a_full_group_evicts_from_any_port_counted_on_that_port),
		cmocka_unit_test(an_evicted_connection_is_chosen_once_and_counted_once),
		cmocka_unit_test(the_reaper_closes_headers_past_their_deadline_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
