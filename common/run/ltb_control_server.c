/*
 * ltb_control_server.c: the control server, on libmicrohttpd; see
 * ltb_control_server.h. One polling thread is plenty: a run has one client
 * fetching one small message.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/ltb_clock.h"
#include "run/ltb_control_server.h"
#include "core/ltb_net.h"

struct ltb_ctlserver {
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *daemon6;	/* [::1]:port too, or NULL */
	char url[128];
	pthread_mutex_t lock;
	char *json;		/* the message served */
	unsigned fetches;
	double first;
	char peer[64];
	ltb_ctlserver_hook *hook;
	void *hook_arg;
};

static void
peer_text(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	buf[0] = '\0';
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		    (socklen_t)len);
}

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct ltb_ctlserver *s = cls;
	enum MHD_Result rc;

	if (*req_cls == NULL) {		/* headers only, so far */
		*req_cls = s;
		return MHD_YES;
	}
	if (*size > 0) {		/* a body we do not want */
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/control") != 0)
		return respond(c, MHD_HTTP_NOT_FOUND, "text/plain",
		    "not found: the control message is at /control\n");
	if (strcmp(method, "GET") != 0)
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    "use GET\n");
	pthread_mutex_lock(&s->lock);
	if (s->json == NULL) {
		pthread_mutex_unlock(&s->lock);
		return respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
		    "no control message yet\n");
	}
	if (s->fetches++ == 0) {
		s->first = ltb_mono_s();
		peer_text(c, s->peer, sizeof s->peer);
		if (s->hook != NULL)
			s->hook(s->hook_arg, s->first);
	}
	rc = respond(c, MHD_HTTP_OK, "application/json", s->json);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* A daemon of s on the listening socket fd (closed when it fails). */
static struct MHD_Daemon *
serve_on(struct ltb_ctlserver *s, int fd)
{
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
	    on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_END);

	if (d == NULL)
		close(fd);
	return d;
}

/*
 * A port given on 127.0.0.1 may be one a client hard-codes as
 * "localhost" (the early clients' 8023), which resolves to ::1 first on
 * many hosts; a client that tries only the first address (node before
 * 20) would find nothing there. So the port is served on ::1 too, when
 * the host has it and the port is free there: best effort, nothing lost
 * without it.
 */
static void
serve_v6_too(struct ltb_ctlserver *s, const struct ltb_addr *a,
    uint16_t port)
{
	struct ltb_addr v6;
	uint16_t bound;
	char why[256];
	int fd;

	if (port == 0 || a->v6 || !ltb_addr_is_loopback(a) ||
	    ltb_addr_parse(&v6, "::1", why, sizeof why) < 0 ||
	    (fd = ltb_listen(&v6, port, &bound, why, sizeof why)) < 0)
		return;
	s->daemon6 = serve_on(s, fd);
}

struct ltb_ctlserver *
ltb_ctlserver_start(const char *bind, uint16_t port, char *err,
    size_t errlen)
{
	struct ltb_ctlserver *s;
	struct ltb_addr a;
	uint16_t bound;
	int fd;

	if (ltb_addr_parse(&a, bind, err, errlen) < 0)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	if ((fd = ltb_listen(&a, port, &bound, err, errlen)) < 0)
		goto fail;
	if ((s->daemon = serve_on(s, fd)) == NULL) {
		snprintf(err, errlen, "cannot start the control server on "
		    "port %u", bound);
		goto fail;
	}
	serve_v6_too(s, &a, port);
	ltb_addr_url(&a, bound, s->url, sizeof s->url);
	strncat(s->url, "/control", sizeof s->url - strlen(s->url) - 1);
	return s;
fail:
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

void
ltb_ctlserver_stop(struct ltb_ctlserver *s)
{
	if (s == NULL)
		return;
	if (s->daemon != NULL)
		MHD_stop_daemon(s->daemon);
	if (s->daemon6 != NULL)
		MHD_stop_daemon(s->daemon6);
	pthread_mutex_destroy(&s->lock);
	free(s->json);
	free(s);
}

const char *
ltb_ctlserver_url(const struct ltb_ctlserver *s)
{
	return s->url;
}

void
ltb_ctlserver_on_fetch(struct ltb_ctlserver *s, ltb_ctlserver_hook *fn,
    void *arg)
{
	pthread_mutex_lock(&s->lock);
	s->hook = fn;
	s->hook_arg = arg;
	pthread_mutex_unlock(&s->lock);
}

int
ltb_ctlserver_set(struct ltb_ctlserver *s, const char *json)
{
	char *copy = strdup(json);

	if (copy == NULL)
		return -1;
	pthread_mutex_lock(&s->lock);
	free(s->json);
	s->json = copy;
	s->fetches = 0;
	s->first = 0;
	s->peer[0] = '\0';
	pthread_mutex_unlock(&s->lock);
	return 0;
}

unsigned
ltb_ctlserver_fetches(struct ltb_ctlserver *s, double *first, char *peer,
    size_t peerlen)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->fetches;
	if (first != NULL)
		*first = s->first;
	if (peer != NULL)
		snprintf(peer, peerlen, "%s", s->peer);
	pthread_mutex_unlock(&s->lock);
	return n;
}
