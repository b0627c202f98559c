/*
 * ltb_meter.c: the metrics writer in spectatord's line protocol (see
 * ltb_meter.h): meters whose line heads are made once, an update that
 * formats only its value, and the UDP or unix datagram socket it goes
 * out on, a line a datagram or gathered in a line buffer.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
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
#include "client/ltb_meter.h"

#define VALUE_MAX 48		/* a value, an X's ",TIMESTAMP", the NUL */
#define SEND_TIMEOUT_MS 1000

struct ltb_meter {
	struct ltb_meter_writer *w;
	char type;
	char *head;		/* "TYPE:NAME,K=V,...:" */
	size_t head_len;
};

struct ltb_meter_writer {
	int transport;
	int fd;
	struct sockaddr_un sun;		/* unix: to connect again */
	int broken;			/* unix: its reader went away */
	int no_flush;
	unsigned period_ms;
	int closed;
	/* the line an update formats, before it goes out */
	char *line;
	size_t line_cap;
	/* line buffer: cap 0 when there is none */
	char *buf;
	size_t cap, used;
	uint64_t buf_lines;
	int locked;			/* buffered: lock and flusher in use */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t flusher;
	int flusher_running, stop;
	struct ltb_meter_stats st;
	struct ltb_meter **meters;
	size_t nmeters;
};

static const char types[] = "cCUdDtTgmAX";

void
ltb_meter_config_default(struct ltb_meter_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->transport = LTB_METER_UDP;
	cfg->host = "127.0.0.1";
	cfg->port = 1234;
	cfg->flush_period_ms = 5000;
}

static int
open_udp(struct ltb_meter_writer *w, const char *host, uint16_t port,
    char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char serv[8];
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof serv, "%u", (unsigned)port);
	if ((rc = getaddrinfo(host, serv, &hints, &ai)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	w->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (w->fd < 0 || connect(w->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(err, errlen, "cannot connect a UDP socket to %s:%u: "
		    "%s", host, (unsigned)port, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return 0;
}

static int
open_unix(struct ltb_meter_writer *w, const char *path, char *err,
    size_t errlen)
{
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof w->sun.sun_path) {
		snprintf(err, errlen, "unix socket path '%s': empty or longer "
		    "than %zu bytes", path ? path : "",
		    sizeof w->sun.sun_path - 1);
		return -1;
	}
	w->sun.sun_family = AF_UNIX;
	memcpy(w->sun.sun_path, path, strlen(path) + 1);
	w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (w->fd < 0 || connect(w->fd, (struct sockaddr *)&w->sun,
	    sizeof w->sun) < 0) {
		snprintf(err, errlen, "cannot connect to unix socket %s: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A unix datagram socket whose reader went away (closed, or removed and
 * made again at the same path) is connected again to the path before the
 * next send; 0 once it is. */
static int
reconnect_unix(struct ltb_meter_writer *w)
{
	if (connect(w->fd, (struct sockaddr *)&w->sun, sizeof w->sun) < 0)
		return -1;
	w->broken = 0;
	return 0;
}

static void
count_failure(struct ltb_meter_writer *w, int e, uint64_t lines)
{
	w->st.datagrams_failed++;
	w->st.lines_failed += lines;
	w->st.lines_failed_by_errno[e >= 0 && e < LTB_METER_NERRNO - 1 ?
	    e : LTB_METER_NERRNO - 1] += lines;
}

/* Send one datagram of n bytes holding lines lines; count what happened. */
static void
send_datagram(struct ltb_meter_writer *w, const char *p, size_t n,
    uint64_t lines)
{
	int e;

	if (w->broken && reconnect_unix(w) < 0) {
		count_failure(w, errno, lines);
		return;
	}
	if (send(w->fd, p, n, 0) >= 0) {
		w->st.datagrams++;
		w->st.bytes += n;
		return;
	}
	e = errno;
	count_failure(w, e, lines);
	if (w->transport == LTB_METER_UNIX && (e == ECONNREFUSED ||
	    e == ENOTCONN || e == ECONNRESET))
		w->broken = 1;
}

static void
flush_locked(struct ltb_meter_writer *w)
{
	if (w->used == 0)
		return;
	send_datagram(w, w->buf, w->used, w->buf_lines);
	w->used = 0;
	w->buf_lines = 0;
}

static void *
flusher(void *arg)
{
	struct ltb_meter_writer *w = arg;
	struct timespec ts;
	uint64_t next;

	pthread_mutex_lock(&w->lock);
	next = ltb_mono_ns() + (uint64_t)w->period_ms * 1000000u;
	while (!w->stop) {
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		if (pthread_cond_timedwait(&w->wake, &w->lock, &ts) ==
		    ETIMEDOUT || ltb_mono_ns() >= next) {
			flush_locked(w);
			next += (uint64_t)w->period_ms * 1000000u;
			if (next < ltb_mono_ns())
				next = ltb_mono_ns() +
				    (uint64_t)w->period_ms * 1000000u;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int
start_buffer(struct ltb_meter_writer *w, const struct ltb_meter_config *cfg,
    char *err, size_t errlen)
{
	pthread_condattr_t ca;
	int rc;

	w->cap = cfg->line_buffer_bytes;
	if ((w->buf = malloc(w->cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	w->locked = 1;
	w->period_ms = cfg->flush_period_ms;
	if (w->period_ms == 0)
		return 0;
	if ((rc = pthread_create(&w->flusher, NULL, flusher, w)) != 0) {
		snprintf(err, errlen, "cannot start the flusher thread: %s",
		    strerror(rc));
		return -1;
	}
	w->flusher_running = 1;
	return 0;
}

struct ltb_meter_writer *
ltb_meter_writer_new(const struct ltb_meter_config *cfg, char *err,
    size_t errlen)
{
	struct ltb_meter_writer *w;
	struct timeval tv = { SEND_TIMEOUT_MS / 1000,
	    (SEND_TIMEOUT_MS % 1000) * 1000 };

	if (cfg->line_buffer_bytes > LTB_METER_DATAGRAM_MAX) {
		snprintf(err, errlen, "LineBufferBytes %u: more than a "
		    "datagram's %d bytes", cfg->line_buffer_bytes,
		    LTB_METER_DATAGRAM_MAX);
		return NULL;
	}
	if ((w = calloc(1, sizeof *w)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->fd = -1;
	w->transport = cfg->transport;
	w->no_flush = cfg->no_flush;
	w->line_cap = 256;
	if ((w->line = malloc(w->line_cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	switch (cfg->transport) {
	case LTB_METER_NOOP:
		return w;
	case LTB_METER_UDP:
		if (open_udp(w, cfg->host, cfg->port, err, errlen) < 0)
			goto fail;
		break;
	case LTB_METER_UNIX:
		if (open_unix(w, cfg->unix_path, err, errlen) < 0)
			goto fail;
		break;
	default:
		snprintf(err, errlen, "unknown transport %d", cfg->transport);
		goto fail;
	}
	setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (cfg->line_buffer_bytes > 0 && start_buffer(w, cfg, err, errlen) < 0)
		goto fail;
	return w;
fail:
	ltb_meter_writer_free(w);
	return NULL;
}

/* The characters spectatord's clients keep; the rest become '_'. */
static int
valid_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~' || ch == '^';
}

static char *
put_clean(char *p, const char *s)
{
	for (; *s != '\0'; s++)
		*p++ = valid_char((unsigned char)*s) ? *s : '_';
	return p;
}

static int
grow_line(struct ltb_meter_writer *w, size_t need)
{
	char *np;

	if (need <= w->line_cap)
		return 0;
	if ((np = realloc(w->line, need)) == NULL)
		return -1;
	w->line = np;
	w->line_cap = need;
	return 0;
}

static int
add_meter(struct ltb_meter_writer *w, struct ltb_meter *m)
{
	struct ltb_meter **nm;
	int rc = -1;

	if (w->locked)
		pthread_mutex_lock(&w->lock);
	if (grow_line(w, m->head_len + VALUE_MAX) < 0)
		goto out;
	if ((nm = realloc(w->meters, (w->nmeters + 1) * sizeof *nm)) == NULL)
		goto out;
	w->meters = nm;
	w->meters[w->nmeters++] = m;
	rc = 0;
out:
	if (w->locked)
		pthread_mutex_unlock(&w->lock);
	return rc;
}

struct ltb_meter *
ltb_meter_new(struct ltb_meter_writer *w, char type, const char *name,
    unsigned ntags, const char *const *keys, const char *const *values,
    char *err, size_t errlen)
{
	struct ltb_meter *m = NULL;
	size_t len;
	char *p;
	unsigned i;

	if (type == '\0' || strchr(types, type) == NULL) {
		snprintf(err, errlen, "meter type '%c': not one of %s",
		    type ? type : '?', types);
		return NULL;
	}
	if (name == NULL || name[0] == '\0') {
		snprintf(err, errlen, "a meter needs a name");
		return NULL;
	}
	len = 2 + strlen(name) + 1;
	for (i = 0; i < ntags; i++) {
		if (keys[i] == NULL || keys[i][0] == '\0' ||
		    values[i] == NULL || values[i][0] == '\0') {
			snprintf(err, errlen, "meter %s: tag %u has an empty "
			    "key or value", name, i);
			return NULL;
		}
		len += 1 + strlen(keys[i]) + 1 + strlen(values[i]);
	}
	if ((m = calloc(1, sizeof *m)) == NULL ||
	    (m->head = malloc(len + 1)) == NULL)
		goto nomem;
	m->w = w;
	m->type = type;
	p = m->head;
	*p++ = type;
	*p++ = ':';
	p = put_clean(p, name);
	for (i = 0; i < ntags; i++) {
		*p++ = ',';
		p = put_clean(p, keys[i]);
		*p++ = '=';
		p = put_clean(p, values[i]);
	}
	*p++ = ':';
	*p = '\0';
	m->head_len = (size_t)(p - m->head);
	if (add_meter(w, m) < 0)
		goto nomem;
	return m;
nomem:
	if (m != NULL)
		free(m->head);
	free(m);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* An unsigned integer in decimal at p; returns the end. */
static char *
put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* v at p, in at most VALUE_MAX - 24 bytes; returns the end. Integers by
 * hand (counters' 1, gauges' counts: most values); others in the fewest
 * of 15 or 17 significant digits that read back as v, as Python's repr
 * and fmt's {} write them (spectator-py's and spectator-cpp's lines). */
static char *
put_value(char *p, double v)
{
	int n;

	if (v == floor(v) && fabs(v) < 1e15) {
		if (v < 0) {
			*p++ = '-';
			return put_u64(p, (uint64_t)-v);
		}
		return put_u64(p, (uint64_t)v);
	}
	n = snprintf(p, 24, "%.15g", v);
	if (isfinite(v) && strtod(p, NULL) != v)
		n = snprintf(p, 24, "%.17g", v);
	return p + n;
}

/* The line at p (room for m->head_len + VALUE_MAX); its length. */
static size_t
put_line(const struct ltb_meter *m, char *p, uint64_t ts_ms, const double *v,
    uint64_t u)
{
	char *q = p;

	if (m->type == 'X') {
		*q++ = 'X';
		*q++ = ',';
		q = put_u64(q, ts_ms);
		memcpy(q, m->head + 1, m->head_len - 1);
		q += m->head_len - 1;
	} else {
		memcpy(q, m->head, m->head_len);
		q += m->head_len;
	}
	q = v != NULL ? put_value(q, *v) : put_u64(q, u);
	*q = '\0';
	return (size_t)(q - p);
}

size_t
ltb_meter_format(const struct ltb_meter *m, uint64_t ts_ms, double v,
    char *buf, size_t len)
{
	char *tmp = malloc(m->head_len + VALUE_MAX);
	size_t n;

	if (tmp == NULL)
		return 0;
	n = put_line(m, tmp, ts_ms, &v, 0);
	if (len > 0)
		snprintf(buf, len, "%s", tmp);
	free(tmp);
	return n;
}

/* Take the line just formatted in w->line: send it, or buffer it. */
static void
write_line(struct ltb_meter_writer *w, size_t n)
{
	if (w->cap == 0) {
		w->st.lines++;
		send_datagram(w, w->line, n, 1);
		return;
	}
	w->st.lines++;
	if (w->used > 0 && w->used + 1 + n > w->cap)
		flush_locked(w);
	if (n > w->cap) {
		send_datagram(w, w->line, n, 1);
		return;
	}
	if (w->used > 0)
		w->buf[w->used++] = '\n';
	memcpy(w->buf + w->used, w->line, n);
	w->used += n;
	w->buf_lines++;
	if (w->used == w->cap)
		flush_locked(w);
}

static void
update(struct ltb_meter *m, uint64_t ts_ms, const double *v, uint64_t u)
{
	struct ltb_meter_writer *w = m->w;

	if (w->transport == LTB_METER_NOOP)
		return;
	if (w->locked)
		pthread_mutex_lock(&w->lock);
	if (!w->closed)
		write_line(w, put_line(m, w->line, ts_ms, v, u));
	if (w->locked)
		pthread_mutex_unlock(&w->lock);
}

void
ltb_meter_update(struct ltb_meter *m, double v)
{
	update(m, 0, &v, 0);
}

void
ltb_meter_update_u64(struct ltb_meter *m, uint64_t v)
{
	update(m, 0, NULL, v);
}

void
ltb_meter_update_at(struct ltb_meter *m, uint64_t ts_ms, double v)
{
	update(m, ts_ms, &v, 0);
}

void
ltb_meter_writer_flush(struct ltb_meter_writer *w)
{
	if (!w->locked)
		return;
	pthread_mutex_lock(&w->lock);
	flush_locked(w);
	pthread_mutex_unlock(&w->lock);
}

void
ltb_meter_writer_close(struct ltb_meter_writer *w)
{
	if (w->closed)
		return;
	if (!w->locked) {
		w->closed = 1;
		return;
	}
	if (w->flusher_running) {
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->flusher, NULL);
		w->flusher_running = 0;
	}
	pthread_mutex_lock(&w->lock);
	if (w->no_flush) {
		w->st.lines_unsent += w->buf_lines;
		w->used = 0;
		w->buf_lines = 0;
	} else {
		flush_locked(w);
	}
	w->closed = 1;
	pthread_mutex_unlock(&w->lock);
}

void
ltb_meter_writer_stats(struct ltb_meter_writer *w, struct ltb_meter_stats *st)
{
	if (w->locked)
		pthread_mutex_lock(&w->lock);
	*st = w->st;
	if (w->locked)
		pthread_mutex_unlock(&w->lock);
}

const char *
ltb_meter_writer_transport(const struct ltb_meter_writer *w)
{
	return w->transport == LTB_METER_UDP ? "udp" :
	    w->transport == LTB_METER_UNIX ? "unix" : "noop";
}

void
ltb_meter_writer_free(struct ltb_meter_writer *w)
{
	if (w == NULL)
		return;
	ltb_meter_writer_close(w);
	if (w->locked) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
	}
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->nmeters; i++) {
		free(w->meters[i]->head);
		free(w->meters[i]);
	}
	free(w->meters);
	free(w->buf);
	free(w->line);
	free(w);
}

const char *
ltb_meter_errno_name(int slot, char *buf, size_t len)
{
	const char *name;

	if (slot >= LTB_METER_NERRNO - 1)
		return "other";
	if ((name = strerrorname_np(slot)) != NULL)
		return name;
	snprintf(buf, len, "E%d", slot);
	return buf;
}
