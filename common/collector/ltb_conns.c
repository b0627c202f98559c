/*
 * ltb_conns.c: the open connections of a satellite group: who gets in
 * when the ports are full, and how long a connection may take; see
 * ltb_group.h.
 *
 * A peer that opens connections and sends nothing, or sends its headers
 * a byte at a time, must not lock tracers out. libmicrohttpd alone cannot
 * say no fairly: at its limit it stops accepting, and its timeout starts
 * again at every byte. So every connection of the group has a slot here,
 * in one list under the group's conn_lock, with its phase and when that
 * began (ltb_conn_phase): the HTTP listener marks the phases, without the
 * lock.
 *
 * Admission (libmicrohttpd's accept policy callback, before a connection
 * is set up): under the port's limit (max_connections) and the group's
 * (max_connections_total), it gets in. Over one of them, the connection
 * least likely to be a working tracer's is evicted to make room: of the
 * IDLE and HEADERS connections of the full port (or the full group), the
 * one whose phase began longest ago. A connection that has been sending
 * headers for as long as another has sat idle goes first: a tracer's
 * connection idle between reports is one it will use again, while no
 * tracer takes seconds over its headers. When all are in BODY or
 * ANSWERING, work is under way on every one: the newcomer is refused.
 *
 * Deadlines, one reaper thread per group, every REAP_MS: HEADERS for
 * longer than header_timeout, BODY without a byte for body_timeout, IDLE
 * for idle_timeout. libmicrohttpd's own timeout stays, later, as a
 * backstop.
 *
 * Closing a connection from here is shutdown(2) of its socket, the owning
 * thread then sees the end and libmicrohttpd cleans it up. The slot goes
 * (ltb_conn_close, from the daemon's "closed" notice) under conn_lock
 * before the daemon closes the descriptor, and shutdown is only called
 * under conn_lock on a slot still listed: so the descriptor shut down is
 * always the connection's own, never one reused since. A slot shut down
 * stays listed until then, "doomed": not counted open, never chosen twice.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "collector/ltb_group.h"
#include "core/ltb_clock.h"

#define REAP_MS 250

/* The phase and when it began (in BODY: the last progress), one word so
 * that the reaper reads both at once without a lock: ms << 2 | phase. */
struct ltb_conn {
	struct ltb_conn *prev, *next;	/* under conn_lock */
	struct ltb_port *port;
	int fd;
	int doomed;			/* under conn_lock */
	atomic_uint_fast64_t state;
};

static uint64_t
now_ms(void)
{
	return ltb_mono_ns() / 1000000u;
}

static uint64_t
state_word(enum ltb_conn_phase ph, uint64_t ms)
{
	return ms << 2 | (uint64_t)ph;
}

void
ltb_conn_mark(struct ltb_conn *c, enum ltb_conn_phase ph)
{
	if (c != NULL)
		atomic_store_explicit(&c->state, state_word(ph, now_ms()),
		    memory_order_relaxed);
}

static void
count(atomic_uint_fast64_t *n)
{
	atomic_fetch_add_explicit(n, 1, memory_order_relaxed);
}

/* Shut c down, under conn_lock: from now on it is not open. */
static void
doom(struct ltb_conn *c)
{
	struct ltb_sat *g = c->port->group;

	shutdown(c->fd, SHUT_RDWR);
	c->doomed = 1;
	c->port->conns_open--;
	g->conns_open--;
}

/* ---- admission ------------------------------------------------------------ */

/* Of the group's connections (of port only, when not NULL), the IDLE or
 * HEADERS one whose phase began first, HEADERS first at equal times;
 * NULL if none. Under conn_lock. */
static struct ltb_conn *
victim(struct ltb_sat *g, const struct ltb_port *only)
{
	struct ltb_conn *best = NULL, *c;
	uint64_t best_ms = 0, s, ms;
	int best_idle = 0, idle;

	for (c = g->conn_head; c != NULL; c = c->next) {
		if (c->doomed || (only != NULL && c->port != only))
			continue;
		s = atomic_load_explicit(&c->state, memory_order_relaxed);
		if ((s & 3) != LTB_CONN_IDLE && (s & 3) != LTB_CONN_HEADERS)
			continue;
		ms = s >> 2;
		idle = (s & 3) == LTB_CONN_IDLE;
		if (best == NULL || ms < best_ms ||
		    (ms == best_ms && best_idle && !idle)) {
			best = c;
			best_ms = ms;
			best_idle = idle;
		}
	}
	return best;
}

int
ltb_conns_admit(struct ltb_port *port)
{
	struct ltb_sat *g = port->group;
	const struct ltb_port *scope;
	struct ltb_conn *v;
	int ok = 1;

	pthread_mutex_lock(&g->conn_lock);
	if (port->conns_open >= g->cfg.max_connections)
		scope = port;
	else if (g->conns_open >= g->cfg.max_connections_total)
		scope = NULL;
	else
		goto out;
	if ((v = victim(g, scope)) != NULL) {
		doom(v);
		count(&v->port->evicted_connections);
	} else {
		count(&port->refused_connections);
		ok = 0;
	}
out:
	pthread_mutex_unlock(&g->conn_lock);
	return ok;
}

struct ltb_conn *
ltb_conn_open(struct ltb_port *port, int fd)
{
	struct ltb_sat *g = port->group;
	struct ltb_conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->port = port;
	c->fd = fd;
	atomic_init(&c->state, state_word(LTB_CONN_IDLE, now_ms()));
	pthread_mutex_lock(&g->conn_lock);
	c->next = g->conn_head;
	if (c->next != NULL)
		c->next->prev = c;
	g->conn_head = c;
	port->conns_open++;
	g->conns_open++;
	pthread_mutex_unlock(&g->conn_lock);
	return c;
}

void
ltb_conn_close(struct ltb_conn *c)
{
	struct ltb_sat *g;

	if (c == NULL)
		return;
	g = c->port->group;
	pthread_mutex_lock(&g->conn_lock);
	if (!c->doomed) {
		c->port->conns_open--;
		g->conns_open--;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conn_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->conn_lock);
	free(c);
}

/* ---- deadlines ------------------------------------------------------------ */

/* Close what is past its deadline, counted on its port. Under conn_lock. */
static void
reap(struct ltb_sat *g, uint64_t now)
{
	const struct ltb_sat_config *cf = &g->cfg;
	struct ltb_conn *c;
	uint64_t s, age;

	for (c = g->conn_head; c != NULL; c = c->next) {
		if (c->doomed)
			continue;
		s = atomic_load_explicit(&c->state, memory_order_relaxed);
		age = now > s >> 2 ? now - (s >> 2) : 0;
		switch (s & 3) {
		case LTB_CONN_IDLE:
			if (cf->idle_timeout && age >= cf->idle_timeout * 1000ull) {
				doom(c);
				count(&c->port->idle_timeouts);
			}
			break;
		case LTB_CONN_HEADERS:
			if (cf->header_timeout &&
			    age >= cf->header_timeout * 1000ull) {
				doom(c);
				count(&c->port->header_timeouts);
			}
			break;
		case LTB_CONN_BODY:
			if (cf->body_timeout && age >= cf->body_timeout * 1000ull) {
				doom(c);
				count(&c->port->body_timeouts);
			}
			break;
		default:
			break;
		}
	}
}

static void *
reaper_main(void *arg)
{
	struct ltb_sat *g = arg;
	struct timespec ts;
	uint64_t when;

	pthread_mutex_lock(&g->conn_lock);
	while (!g->reaper_stop) {
		/* conn_wake runs on CLOCK_MONOTONIC (ltb_conns_start). */
		when = ltb_mono_ns() + REAP_MS * 1000000ull;
		ts.tv_sec = (time_t)(when / 1000000000u);
		ts.tv_nsec = (long)(when % 1000000000u);
		pthread_cond_timedwait(&g->conn_wake, &g->conn_lock, &ts);
		if (!g->reaper_stop)
			reap(g, now_ms());
	}
	pthread_mutex_unlock(&g->conn_lock);
	return NULL;
}

int
ltb_conns_start(struct ltb_sat *g, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->conn_wake, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&g->reaper, NULL, reaper_main, g)) != 0) {
		snprintf(err, errlen, "cannot start the connection reaper: %s",
		    strerror(rc));
		return -1;
	}
	g->reaper_running = 1;
	return 0;
}

void
ltb_conns_stop(struct ltb_sat *g)
{
	if (!g->reaper_running)
		return;
	pthread_mutex_lock(&g->conn_lock);
	g->reaper_stop = 1;
	pthread_cond_signal(&g->conn_wake);
	pthread_mutex_unlock(&g->conn_lock);
	pthread_join(g->reaper, NULL);
	g->reaper_running = 0;
	pthread_cond_destroy(&g->conn_wake);
}
