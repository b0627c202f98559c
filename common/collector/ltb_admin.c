/*
 * ltb_admin.c: the admin API of a satellite group, on its own port; see
 * ltb_satellite.h for what each path does.
 *
 * One single-threaded libmicrohttpd daemon: admin requests are few and
 * short, and it stays up while the satellites are down, so a controller
 * can always ask what arrived and bring them back.
 *
 * POST /script takes a JSON list of steps (ltb_script.h), refused whole
 * with 400 and the reason when any of it is wrong; GET /script shows the
 * one playing. /reset zeroes the steps' counts but keeps the script and
 * its clock, as it keeps the mode: both say how to answer, not what
 * arrived.
 *
 * The guard comes first, before a byte of a body is read: a web page in
 * a browser on this machine can send a "simple" cross-origin POST (no
 * preflight, text/plain) to a loopback port, or come through a DNS name
 * of its own that it points at 127.0.0.1 (DNS rebinding). The first
 * carries an Origin header, the second a Host that is not loopback;
 * programs (curl, ltb-sample) send neither, so both are refused. A token
 * replaces both checks: a page cannot know it, nor send an Authorization
 * header cross-origin without a preflight, which is refused too. With a
 * token every path wants it, /stats as well: the one rule is simpler to
 * get right, and what a benchmark counted is its owner's to read.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include "collector/ltb_group.h"
#include "collector/ltb_script.h"

#define ADMIN_BODY_MAX (LTB_SCRIPT_MAX_BYTES + 1)	/* a script fits */

static enum MHD_Result
admin_json(struct MHD_Connection *c, unsigned status, cJSON *obj)
{
	char *s;
	enum MHD_Result rc;

	if (obj == NULL)
		return MHD_NO;
	s = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (s == NULL)
		return MHD_NO;
	rc = ltb_http_answer(c, status, "application/json", s, strlen(s));
	free(s);
	return rc;
}

static enum MHD_Result
admin_count(struct MHD_Connection *c, uint64_t n)
{
	return ltb_http_answer_text(c, MHD_HTTP_OK, "%llu\n",
	    (unsigned long long)n);
}

struct admin_req {
	char body[ADMIN_BODY_MAX];
	size_t len;
	int too_long;
};

static enum MHD_Result
admin_mode(struct ltb_sat *g, struct MHD_Connection *c, struct admin_req *a)
{
	char name[sizeof a->body];
	const char *q;
	size_t n;
	int mode;

	/* Either ?mode=NAME or the body, plain or as a JSON string. */
	q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
	if (q != NULL) {
		snprintf(name, sizeof name, "%s", q);
	} else {
		const char *s = a->body;

		n = a->len;
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
		    s[n - 1] == ' '))
			n--;
		if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
			s++;
			n -= 2;
		}
		memcpy(name, s, n);
		name[n] = '\0';
	}
	if (a->too_long || (mode = ltb_sat_mode_parse(name)) < 0)
		return ltb_http_answer_text(c, MHD_HTTP_BAD_REQUEST, "unknown mode "
		    "'%.64s': use typical, slow_succeed or slow_fail\n", name);
	ltb_sat_set_mode(g, mode);
	return admin_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
}

static enum MHD_Result
admin_script(struct ltb_sat *g, struct MHD_Connection *c,
    struct admin_req *a)
{
	struct ltb_script *sc;
	char err[512];
	enum MHD_Result rc;

	if (a->too_long)
		return ltb_http_answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "bad script: over %d bytes\n", ADMIN_BODY_MAX - 1);
	if ((sc = malloc(sizeof *sc)) == NULL)
		return MHD_NO;
	if (ltb_script_parse(sc, a->body, a->len, err, sizeof err) < 0) {
		rc = ltb_http_answer_text(c, MHD_HTTP_BAD_REQUEST,
		    "bad script: %s\n", err);
	} else {
		ltb_sat_set_script(g, sc);
		rc = admin_json(c, MHD_HTTP_OK, ltb_sat_script_json(g));
	}
	free(sc);
	return rc;
}

static enum MHD_Result
admin_route(struct ltb_sat *g, struct MHD_Connection *c, const char *url,
    const char *method, struct admin_req *a)
{
	int get = strcmp(method, "GET") == 0;
	int post = strcmp(method, "POST") == 0;
	char err[256];

	if (strcmp(url, "/spans_received") == 0 && get)
		return admin_count(c, ltb_sat_spans_received(g));
	if ((strcmp(url, "/stats") == 0 || strcmp(url, "/") == 0) && get)
		return admin_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	if (strcmp(url, "/reset") == 0 && post) {
		ltb_sat_reset(g);
		return admin_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	}
	if (strcmp(url, "/down") == 0 && post) {
		if (ltb_sat_down(g) < 0)
			return ltb_http_answer_text(c, 500,
			    "cannot go down: %s\n", strerror(errno));
		return admin_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	}
	if (strcmp(url, "/up") == 0 && post) {
		if (ltb_sat_up(g, err, sizeof err) < 0)
			return ltb_http_answer_text(c, 500,
			    "cannot come up: %s\n", err);
		return admin_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	}
	if (strcmp(url, "/mode") == 0 && post)
		return admin_mode(g, c, a);
	if (strcmp(url, "/script") == 0 && post)
		return admin_script(g, c, a);
	if (strcmp(url, "/script") == 0 && get)
		return admin_json(c, MHD_HTTP_OK, ltb_sat_script_json(g));
	if (strcmp(url, "/spans_received") == 0 || strcmp(url, "/stats") == 0 ||
	    strcmp(url, "/reset") == 0 || strcmp(url, "/down") == 0 ||
	    strcmp(url, "/up") == 0 || strcmp(url, "/mode") == 0 ||
	    strcmp(url, "/script") == 0)
		return ltb_http_answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "wrong method %s for %s\n", method, url);
	return ltb_http_answer_text(c, MHD_HTTP_NOT_FOUND, "no such path: %s "
	    "(try /stats, /spans_received, /reset, /down, /up, /mode, "
	    "/script)\n", url);
}

/* ---- the guard ------------------------------------------------------------- */

const char *const ltb_admin_refuse_names[LTB_ADMIN_NREFUSE] = {
	"origin", "host", "token"
};

/* 1 when v is "Bearer TOKEN" with g's token; in time that does not depend
 * on where they differ. */
static int
bearer_ok(const struct ltb_sat *g, const char *v)
{
	size_t n = strlen(g->admin_token), m;
	unsigned char diff = 0;

	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return 0;
	for (v += 7; *v == ' '; v++)
		;
	m = strlen(v);
	while (m > 0 && v[m - 1] == ' ')
		m--;
	if (m != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(v[i] ^ g->admin_token[i]);
	return diff == 0;
}

static enum MHD_Result
admin_unauthorized(struct MHD_Connection *c)
{
	static const char text[] = "unauthorized: this admin API was started "
	    "with --admin-token: send the header 'Authorization: Bearer "
	    "TOKEN' (ltb-sample sends $LTB_ADMIN_TOKEN)\n";
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(sizeof text - 1, (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	    "Bearer realm=\"ltb-satellite admin\"");
	rc = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return rc;
}

/*
 * Answer and count a request the guard refuses, returning 1 with *rc
 * set; 0 for one to serve. Only a request's headers are looked at, so it
 * is refused before its body is read.
 */
static int
admin_guard(struct ltb_sat *g, struct MHD_Connection *c, enum MHD_Result *rc)
{
	const char *origin, *host;
	enum ltb_admin_refuse why;

	if (g->admin_token[0] != '\0') {
		if (bearer_ok(g, MHD_lookup_connection_value(c,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
			return 0;
		*rc = admin_unauthorized(c);
		why = LTB_ADMIN_REFUSE_TOKEN;
		goto refused;
	}
	origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ORIGIN);
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	if (origin != NULL) {
		*rc = ltb_http_answer_text(c, MHD_HTTP_FORBIDDEN, "refused: "
		    "the request carries an Origin header (%.80s): a web page "
		    "sent it, and the admin API obeys only programs on this "
		    "machine (curl, ltb-sample), which send none. To drive it "
		    "from a page or elsewhere, start ltb-satellite with "
		    "--admin-token and send 'Authorization: Bearer TOKEN'\n",
		    origin);
		why = LTB_ADMIN_REFUSE_ORIGIN;
		goto refused;
	}
	/* HTTP/1.0 may send no Host; a browser always does. */
	if (host != NULL && !ltb_host_is_loopback(host)) {
		*rc = ltb_http_answer_text(c, MHD_HTTP_FORBIDDEN, "refused: "
		    "Host '%.80s' is not loopback (localhost, 127.0.0.1, "
		    "[::1]): a web page that reaches this port through a DNS "
		    "name of its own (DNS rebinding) sends that name. Ask "
		    "through a loopback address, or start ltb-satellite with "
		    "--admin-token and send 'Authorization: Bearer TOKEN'\n",
		    host);
		why = LTB_ADMIN_REFUSE_HOST;
		goto refused;
	}
	return 0;
refused:
	atomic_fetch_add_explicit(&g->admin_refused[why], 1,
	    memory_order_relaxed);
	return 1;
}

/* ---- serving ------------------------------------------------------------- */

static enum MHD_Result
on_admin_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct admin_req *a = *req_cls;
	enum MHD_Result rc;

	if (a == NULL) {
		if (admin_guard(cls, c, &rc))
			return rc;
		if ((a = calloc(1, sizeof *a)) == NULL)
			return MHD_NO;
		*req_cls = a;
		return MHD_YES;
	}
	if (*size > 0) {
		if (*size > sizeof a->body - 1 - a->len)
			a->too_long = 1;
		else {
			memcpy(a->body + a->len, data, *size);
			a->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	return admin_route(cls, c, url, method, a);
}

static void
on_admin_done(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	free(*req_cls);
	*req_cls = NULL;
}

/* Where the admin port listens: admin_bind, else the satellites' address
 * when it is loopback, else 127.0.0.1; and the token it wants. */
static int
admin_config(struct ltb_sat *g, char *err, size_t errlen)
{
	const char *bind = g->cfg.admin_bind;
	const char *token = g->cfg.admin_token ? g->cfg.admin_token : "";

	if (bind == NULL)
		bind = ltb_addr_is_loopback(&g->addr) ? g->addr.text :
		    "127.0.0.1";
	if (ltb_addr_parse(&g->admin_addr, bind, err, errlen) < 0)
		return -1;
	if (strlen(token) > LTB_ADMIN_TOKEN_MAX) {
		snprintf(err, errlen, "admin token over %d bytes",
		    LTB_ADMIN_TOKEN_MAX);
		return -1;
	}
	snprintf(g->admin_token, sizeof g->admin_token, "%s", token);
	return 0;
}

int
ltb_admin_start(struct ltb_sat *g, char *err, size_t errlen)
{
	struct MHD_Daemon *d;
	int fd;

	if (admin_config(g, err, errlen) < 0)
		return -1;
	if ((fd = ltb_listen(&g->admin_addr, g->cfg.admin_port,
	    &g->admin_port, err, errlen)) < 0)
		return -1;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO,
	    0, NULL, NULL, on_admin_request, g,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_admin_done, g,
	    MHD_OPTION_END);
	if (d == NULL) {
		snprintf(err, errlen, "cannot start the admin port %u",
		    g->admin_port);
		close(fd);
		return -1;
	}
	g->admin = d;
	return 0;
}

void
ltb_admin_stop(struct ltb_sat *g)
{
	if (g->admin != NULL) {
		MHD_stop_daemon(g->admin);
		g->admin = NULL;
	}
}

