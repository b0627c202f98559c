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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static enum MHD_Result
on_admin_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct admin_req *a = *req_cls;

	if (a == NULL) {
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

int
ltb_admin_start(struct ltb_sat *g, char *err, size_t errlen)
{
	struct MHD_Daemon *d;
	int fd;

	if ((fd = ltb_listen(&g->addr, g->cfg.admin_port, &g->admin_port, err,
	    errlen)) < 0)
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

