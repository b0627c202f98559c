/*
 * ltb_http.c: the HTTP listener of a satellite port; see ltb_group.h.
 *
 * HTTP is libmicrohttpd's: one daemon per port, each connection on its
 * own thread, so a mode's delay or a bandwidth wait holds back only its
 * connection. The listening socket comes from ltb_net.h, so "down" can
 * close it (MHD_stop_daemon) and "up" can bind the same port again. The
 * TLS listener (ltb_tls.c) runs the same daemon without a listening
 * socket and hands it each connection decrypted.
 *
 * Every connection has a slot in the group's table (ltb_conns.c): the
 * accept policy callback admits it or not (evicting another when full),
 * the connection notices open and close its slot, and the request's
 * steps mark its phase: request line read (HEADERS), access handler
 * called (BODY, and again after each piece), body complete or a piece
 * in our hands (ANSWERING: the satellite's turn, no deadline), request
 * done (IDLE).
 *
 * A request is routed by its path to the HTTP protocol that serves it and
 * becomes one message (ltb_message.c), its Content-Type and
 * Content-Encoding handed on as they came; everything else (unknown
 * paths, wrong methods, requests whose framing is ambiguous) is answered
 * here and counted on the port.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sys/socket.h>

#include <microhttpd.h>

#include "collector/ltb_group.h"

/*
 * libmicrohttpd's memory per connection; half of it is the read buffer,
 * so it sets the size of the pieces a body comes in: each piece costs a
 * poll and a recv, and a span straddling two is gathered. But 0.9.75
 * zeroes the whole of it after every request (MHD_pool_reset), a cost
 * per request that grows with it. At 64 KiB a 1000-span report (940 KB)
 * took 62 system calls; at 128 KiB 34, for a memset of 64 KiB more per
 * request; at 256 KiB 20, but the memset is then as dear as what it
 * saves on a 100-span report.
 */
#define CONN_MEMORY (128 * 1024)

/* An uncapped connection's receive buffer (the kernel doubles it, up to
 * net.core.rmem_max): room for a whole report of a few MB. See
 * open_window. */
#define RCVBUF (4 * 1024 * 1024)

/* Each connection's thread runs our handlers, nothing deeper than a
 * protocol's walk (bounded nesting), zlib's inflate and cJSON's parse (at
 * most CJSON_NESTING_LIMIT, 1000, levels of a few hundred bytes): 512 KiB
 * leaves room for that, even under the sanitizers, where the default
 * (8 MiB, the stack ulimit) would reserve 8 GiB for a thousand
 * connections. */
#define THREAD_STACK (512 * 1024)

/* The accept policy: before a connection is set up (ours, or one the TLS
 * listener adds). */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	return ltb_conns_admit(cls) ? MHD_YES : MHD_NO;
}

static struct ltb_conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* libmicrohttpd calls these once per connection set up and closed (the
 * close before it closes the descriptor), and once per request, as soon
 * as its request line is read: before the access handler, whatever the
 * request turns out to be. */
static void
conn_notice(struct ltb_port *port, struct MHD_Connection *c,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci != NULL ?
		    ltb_conn_open(port, ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		ltb_conn_close(*socket_context);
		*socket_context = NULL;
	}
}

/*
 * Without a bandwidth cap, let the peer put a whole report in the
 * kernel's hands at once. With the receive buffer autotuning leaves it
 * (a few hundred KB at first), a peer faster than our walk fills the
 * window, and then every read we make reopens it: the ACK it sends is
 * processed at once on loopback, in our thread, and so is the peer's
 * sending of the next segments, counted as our CPU. Measured on 1000-span
 * reports over loopback, that was half our system time. With a cap the
 * window stays as the kernel sets it: holding the peer back is the
 * cap's point.
 */
static void
open_window(struct ltb_port *port, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	int v = RCVBUF;

	if (port->group->cfg.bandwidth != 0)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		(void)setsockopt(ci->connect_fd, SOL_SOCKET, SO_RCVBUF, &v,
		    sizeof v);
}

/* On our own socket: counted here. */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ltb_port_connection(cls);
		open_window(cls, c);
	}
	conn_notice(cls, c, socket_context, toe);
}

/* Added by the TLS listener, which counts what it accepts. */
static void
on_added_connection(void *cls, struct MHD_Connection *c,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	conn_notice(cls, c, socket_context, toe);
}

/* What the URI callback hands the access handler's first call as
 * *req_cls: a request line was read and the handler has not run yet. A
 * request that ends still holding it was answered by libmicrohttpd alone
 * (on_request_done). */
static char line_seen;
/* And once the handler has answered a message (and freed it). */
static char answered;

static void *
on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	ltb_port_request(cls);
	ltb_conn_mark(conn_of(c), LTB_CONN_HEADERS);
	return &line_seen;	/* the access handler's first *req_cls */
}

/* ---- answers ------------------------------------------------------------- */

/* An answer, with one more header (name: value) when name is not NULL:
 * a Retry-After, or the Connection: close of a refusal. */
static int
answer(struct MHD_Connection *c, unsigned status, const char *type,
    const void *body, size_t len, const char *name, const char *value)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (name != NULL)
		MHD_add_response_header(resp, name, value);
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

int
ltb_http_answer(struct MHD_Connection *c, unsigned status, const char *type,
    const void *body, size_t len)
{
	return answer(c, status, type, body, len, NULL, NULL);
}

int
ltb_http_answer_text(struct MHD_Connection *c, unsigned status,
    const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	return ltb_http_answer(c, status, "text/plain", buf, (size_t)n);
}

static enum MHD_Result
answer_reply(struct MHD_Connection *c, const struct ltb_reply *r)
{
	/* Hang up without a word: the connection closes, the client sees
	 * an empty reply. */
	if (r->status == LTB_REPLY_DROP)
		return MHD_NO;
	return answer(c, r->status ? r->status : MHD_HTTP_OK,
	    r->content_type, r->body, r->len,
	    r->retry_after[0] != '\0' ? MHD_HTTP_HEADER_RETRY_AFTER : NULL,
	    r->retry_after);
}

/* ---- routing ------------------------------------------------------------- */

static const struct ltb_collector_proto *
proto_for(const char *path)
{
	const struct ltb_collector_proto *p;

	for (size_t i = 0; (p = ltb_collector_protocols[i]) != NULL; i++)
		if (p->transport == LTB_TRANSPORT_HTTP &&
		    strcmp(path, p->path) == 0)
			return p;
	return NULL;
}

static uint64_t
port_units(struct ltb_port *port)
{
	uint64_t n = 0;

	for (size_t i = 0; i < ltb_collector_nprotocols(); i++)
		n += atomic_load(&port->pc[i].units);
	return n;
}

static uint64_t
declared_length(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long v;
	char *end;

	if (cl == NULL)
		return UINT64_MAX;
	errno = 0;
	v = strtoull(cl, &end, 10);
	if (errno != 0 || end == cl || *end != '\0')
		return UINT64_MAX;
	return v;
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- framing ------------------------------------------------------------ */

/*
 * A request whose body two readers could delimit differently is refused
 * before anything reads its body: that is how a request is smuggled past
 * a proxy in front of us, the proxy taking one length and we another.
 * libmicrohttpd 0.9.75 takes the first of two Content-Length headers,
 * lets Transfer-Encoding win over Content-Length, and reads a body of any
 * Transfer-Encoding but "chunked" until the peer closes; so what it
 * accepts and no proxy would agree on is refused here, whatever the path:
 * more than one Content-Length (same value or not), Content-Length beside
 * Transfer-Encoding, a Transfer-Encoding other than one "chunked", a
 * Content-Length not all digits, a header name that is not a token
 * ("Content-Length : 5" is not Content-Length to the library, and is to
 * some proxies). The answer closes the connection: what follows the
 * headers is not read as a next request.
 *
 * What the library refuses itself never reaches the handler: a
 * Content-Length it cannot read (400; 413 past 2^64-1), a header line
 * without a colon (400), a request line without a space ("GARBAGE":
 * closed without an answer) or without a valid HTTP version (400). For
 * those with a header section, 0.9.75 writes its status line and headers
 * twice (connection.c: parse_connection_headers queues the error and
 * builds its header, then the state machine moves on to the reply and
 * builds it again); the client sees the error status first and the
 * connection closes, so nothing is read as a report. No callback runs
 * between the two, so it cannot be mended from here; Debian bookworm has
 * 0.9.75 only. on_request_done counts them in bad_requests; a request
 * line without a space is seen by nothing of ours but the connection's
 * accept.
 */

struct framing {
	unsigned lengths;		/* Content-Length headers */
	unsigned encodings;		/* Transfer-Encoding headers */
	const char *why;		/* the first fault found */
};

/* RFC 9110 token characters. */
static int
is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || strchr(extra, *s) != NULL))
			return 0;
	return 1;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static enum MHD_Result
framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct framing *f = cls;

	if (value == NULL)
		value = "";
	if (!is_token(key)) {
		if (f->why == NULL)
			f->why = "a header name that is not a token";
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (++f->lengths > 1 && f->why == NULL)
			f->why = "more than one Content-Length";
		if (!all_digits(value) && f->why == NULL)
			f->why = "a Content-Length that is not a number";
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		if (++f->encodings > 1 && f->why == NULL)
			f->why = "more than one Transfer-Encoding";
		if (strcasecmp(value, "chunked") != 0 && f->why == NULL)
			f->why = "a Transfer-Encoding other than chunked";
	}
	return MHD_YES;
}

/* Why the request's framing is ambiguous, or NULL when it is not. */
static const char *
framing_fault(struct MHD_Connection *c)
{
	struct framing f = { 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, framing_header, &f);
	if (f.why == NULL && f.lengths > 0 && f.encodings > 0)
		f.why = "both Content-Length and Transfer-Encoding";
	return f.why;
}

/* 400, and the connection closes after it. */
static enum MHD_Result
refuse_framing(struct ltb_port *port, struct MHD_Connection *c,
    const char *why)
{
	char buf[128];
	int n;

	ltb_port_bad_request(port);
	n = snprintf(buf, sizeof buf, "ambiguous request: %s\n", why);
	return answer(c, MHD_HTTP_BAD_REQUEST, "text/plain", buf,
	    n < 0 ? 0 : (size_t)n, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* The first call for a request: route it, or answer at once. */
static enum MHD_Result
request_start(struct ltb_port *port, struct MHD_Connection *c,
    const char *url, const char *method, void **req_cls)
{
	const struct ltb_collector_proto *p;
	struct ltb_msg_head head;
	struct ltb_reply reply;
	struct ltb_msg *m;
	const char *why;

	*req_cls = NULL;
	if ((why = framing_fault(c)) != NULL)
		return refuse_framing(port, c, why);
	if (strcmp(url, "/spans_received") == 0) {
		if (strcmp(method, "GET") != 0)
			return ltb_http_answer_text(c,
			    MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
		return ltb_http_answer_text(c, MHD_HTTP_OK, "%llu\n",
		    (unsigned long long)port_units(port));
	}
	if ((p = proto_for(url)) == NULL) {
		ltb_port_unknown_path(port, url);
		return ltb_http_answer_text(c, MHD_HTTP_NOT_FOUND,
		    "no such path: %s\n", url);
	}
	if (strcmp(method, "POST") != 0) {
		ltb_port_reject(port, p, LTB_REJECT_WRONG_METHOD);
		return ltb_http_answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "%s reports are POSTed\n", p->name);
	}
	head = (struct ltb_msg_head){
		.path = url,
		.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
		.encoding = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING),
		.declared_len = declared_length(c),
	};
	if ((m = ltb_msg_begin(port, p, &head, &reply)) == NULL)
		return answer_reply(c, &reply);
	*req_cls = m;
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct ltb_port *port = cls;
	struct ltb_msg *m = *req_cls;
	struct ltb_reply reply;
	struct ltb_conn *lc;
	int rc;

	if (m == NULL || *req_cls == &line_seen) {
		ltb_conn_mark(conn_of(c), LTB_CONN_BODY);
		return request_start(port, c, url, method, req_cls);
	}
	/* The library calls no more once answered; should it, hang up. */
	if (*req_cls == &answered)
		return MHD_NO;
	/* Going down: drop the connection rather than finish the report. */
	if (!atomic_load(&port->group->up))
		return MHD_NO;
	if (*size == 0) {
		ltb_conn_mark(conn_of(c), LTB_CONN_ANSWERING);
		ltb_msg_end(m, &reply);
		rc = answer_reply(c, &reply);
		ltb_msg_free(m);
		*req_cls = &answered;
		return rc;
	}
	/* While the piece is ours (the bandwidth cap may hold it), the body
	 * deadline does not run: it is the peer's progress it measures. */
	lc = conn_of(c);
	ltb_conn_mark(lc, LTB_CONN_ANSWERING);
	rc = ltb_msg_feed(m, (const uint8_t *)data, *size);
	ltb_conn_mark(lc, LTB_CONN_BODY);
	if (rc < 0)
		return MHD_NO;
	*size = 0;
	return MHD_YES;
}

static void
on_request_done(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	void *r = *req_cls;

	*req_cls = NULL;
	ltb_conn_mark(conn_of(c), LTB_CONN_IDLE);
	if (r == NULL || r == &answered)
		return;
	/* An error answer went out that is not ours: the library refused
	 * the request itself, before the handler ran (a bad length) or in
	 * the body (bad chunked framing). See "framing" above. */
	if (toe == MHD_REQUEST_TERMINATED_WITH_ERROR &&
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS) != NULL)
		ltb_port_bad_request(cls);
	if (r != &line_seen)
		ltb_msg_free(r);
}

/* ---- the listener -------------------------------------------------------- */

struct MHD_Daemon *
ltb_http_daemon(struct ltb_port *port, int fd, char *err, size_t errlen)
{
	struct ltb_sat *g = port->group;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	unsigned limit, timeout;
	struct MHD_Daemon *d;

	/* Without a listening socket the caller adds the connections, and
	 * counts them: what it accepted, not what it handed on. */
	if (fd < 0)
		flags |= MHD_USE_NO_LISTEN_SOCKET;
	/* The listening socket comes last, so that without one the list
	 * ends there: libmicrohttpd refuses MHD_OPTION_LISTEN_SOCKET -1. */
	/* Our limits admit (ltb_conns.c); the daemon's, above them, only
	 * keeps room for connections shut down and not yet cleaned up. Its
	 * timeout is a backstop behind our deadlines, later than they. */
	limit = g->cfg.max_connections < g->cfg.max_connections_total ?
	    g->cfg.max_connections : g->cfg.max_connections_total;
	timeout = g->cfg.idle_timeout ? g->cfg.idle_timeout + 10 : 0;
	d = MHD_start_daemon(flags,
	    0, on_accept, port, on_request, port,
	    MHD_OPTION_CONNECTION_LIMIT, limit + LTB_CONN_SLACK,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
	    MHD_OPTION_NOTIFY_COMPLETED, on_request_done, port,
	    MHD_OPTION_NOTIFY_CONNECTION,
	    fd >= 0 ? on_connection : on_added_connection, port,
	    MHD_OPTION_URI_LOG_CALLBACK, on_request_line, port,
	    fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, fd,
	    MHD_OPTION_END);
	if (d == NULL)
		snprintf(err, errlen, "cannot start satellite on port %u",
		    port->port);
	return d;
}

static int
http_start(struct ltb_port *port, char *err, size_t errlen)
{
	struct ltb_sat *g = port->group;
	uint16_t bound;
	int fd;

	if ((fd = ltb_listen(&g->addr, port->port, &bound, err, errlen)) < 0)
		return -1;
	port->port = bound;
	if ((port->ls = ltb_http_daemon(port, fd, err, errlen)) == NULL) {
		close(fd);
		return -1;
	}
	return 0;
}

static void
http_stop(struct ltb_port *port)
{
	if (port->ls != NULL) {
		MHD_stop_daemon(port->ls);
		port->ls = NULL;
	}
}

const struct ltb_listener ltb_listener_http = {
	.name = "http",
	.transport = LTB_TRANSPORT_HTTP,
	.start = http_start,
	.stop = http_stop,
};
