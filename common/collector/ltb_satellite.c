/*
 * ltb_satellite.c: the mock satellite group; see ltb_satellite.h.
 *
 * HTTP is libmicrohttpd's: one daemon per satellite port, each connection
 * on its own thread, plus one single-threaded daemon for the admin port.
 * The listening sockets come from ltb_net.h, so "down" can close them
 * (MHD_stop_daemon) and "up" can bind the same ports again.
 *
 * Counting is exact under concurrency: each request gathers the spans of
 * one piece of body and adds them to its satellite's atomic counters in
 * one go; span keys go through the duplicate set under one lock per batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "collector/ltb_collector.h"
#include "collector/ltb_dupset.h"
#include "core/ltb_jsonl.h"
#include "core/ltb_net.h"
#include "collector/ltb_satellite.h"

#define MAX_INVALID 16		/* validation reasons a protocol may have */
#define KEY_BATCH 256		/* span keys checked per duplicate-set lock */
#define CONN_MEMORY (64 * 1024) /* MHD read buffer: big pieces, few calls */
#define HELD_CAP (64u << 20)	/* largest held field when max_body is 0 */
#define DISCARD_MAX (1u << 20)	/* body read past a failure before we hang up */
#define MAX_PATHS 16		/* unknown paths kept by name, per table */
#define PATH_KEEP 64		/* bytes of an unknown path kept, "..." if cut */

enum reject {
	REJECT_MALFORMED,
	REJECT_TOO_LARGE,
	REJECT_SLOW_FAIL,
	REJECT_WRONG_METHOD,	/* not a POST to a report path */
	NREJECT
};
static const char *const reject_names[NREJECT] = {
	"malformed", "too_large", "slow_fail", "wrong_method"
};

/* Per-span delay of each mode, in picoseconds, as the original: 0.05 us,
 * 1 us, 0.01 us. */
static const uint64_t mode_delay_ps[LTB_NMODES] = { 50000, 1000000, 10000 };
static const char *const mode_names[LTB_NMODES] = {
	"typical", "slow_succeed", "slow_fail"
};

struct counts {
	atomic_uint_fast64_t spans, reports, bytes, duplicates, invalid_spans;
	atomic_uint_fast64_t invalid[MAX_INVALID];
	atomic_uint_fast64_t rejected[NREJECT];
	/* What tells "nothing reached us" from "something did, but no
	 * report": connections accepted and HTTP requests begun. */
	atomic_uint_fast64_t connections, requests;
};

/* Requests to paths no protocol serves, by path: a tracer speaking a
 * transport we do not serve shows up here. Bounded: the first MAX_PATHS
 * paths by name, the rest only counted. Under the group's path_lock. */
struct path_table {
	struct {
		char path[PATH_KEEP + 1];
		uint64_t n;
	} p[MAX_PATHS];
	size_t npaths;
	uint64_t other;			/* requests to paths beyond those */
	uint64_t total;
};

struct satellite {
	struct ltb_sat *group;
	uint16_t port;
	struct MHD_Daemon *daemon;	/* NULL while down */
	struct counts n;
	struct path_table paths;	/* under group->path_lock */
	pthread_mutex_t bw_lock;
	uint64_t bw_next_ns;		/* when the link is free again */
};

struct ltb_sat {
	struct ltb_sat_config cfg;
	struct ltb_addr addr;		/* where every port binds */
	struct satellite *sats;
	size_t nsats;
	struct MHD_Daemon *admin;
	uint16_t admin_port;
	atomic_int mode;
	atomic_int up;
	pthread_mutex_t state_lock;	/* serialises down/up/stop */
	pthread_mutex_t dup_lock;
	struct ltb_dupset *dups;
	/* The group's own table, not a merge of the ports': which paths it
	 * names stays fixed until a reset, so two snapshots subtract. */
	pthread_mutex_t path_lock;
	struct path_table paths;
};

/* One report request in flight; protocol state follows it. */
struct request {
	struct satellite *sat;
	const struct ltb_collector_proto *proto;
	int mode;
	uint64_t start_ns;		/* monotonic */
	uint64_t start_real_ns;
	unsigned status;		/* 0 while fine, else the HTTP answer */
	const char *why;
	uint64_t discarded;		/* body bytes read after a failure */
	uint64_t spans;			/* in this request */
	uint64_t body_bytes;
	/* a piece's worth of counts, added to sat->n in one go */
	uint64_t p_spans, p_invalid_spans;
	uint64_t p_invalid[MAX_INVALID];
	uint64_t keys[KEY_BATCH];
	size_t nkeys;
	_Alignas(max_align_t) unsigned char state[];
};

const char *
ltb_sat_mode_name(int mode)
{
	return mode >= 0 && mode < LTB_NMODES ? mode_names[mode] : "unknown";
}

int
ltb_sat_mode_parse(const char *s)
{
	for (int i = 0; i < LTB_NMODES; i++)
		if (strcmp(s, mode_names[i]) == 0)
			return i;
	/* The original's docs spelled it slow_success. */
	if (strcmp(s, "slow_success") == 0)
		return LTB_MODE_SLOW_SUCCEED;
	return -1;
}

void
ltb_sat_config_default(struct ltb_sat_config *c)
{
	memset(c, 0, sizeof *c);
	c->bind = "127.0.0.1";
	for (c->nports = 0; c->nports < 8; c->nports++)
		c->ports[c->nports] = (uint16_t)(8360 + c->nports);
	c->admin_port = 8359;
	c->mode = LTB_MODE_TYPICAL;
	c->bandwidth = 50u << 20;
	c->max_body = 64u << 20;
	c->max_connections = 64;
	c->idle_timeout = 30;
	c->dup_window = 1u << 18;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_until(uint64_t when_ns)
{
	/* Most reports take longer to read than their delay: then there is
	 * nothing to wait for, and no reason to enter the kernel. */
	if (mono_ns() >= when_ns)
		return;
	struct timespec ts = {
		.tv_sec = (time_t)(when_ns / 1000000000u),
		.tv_nsec = (long)(when_ns % 1000000000u)
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static void
counts_zero(struct counts *n)
{
	atomic_store(&n->spans, 0);
	atomic_store(&n->reports, 0);
	atomic_store(&n->bytes, 0);
	atomic_store(&n->duplicates, 0);
	atomic_store(&n->invalid_spans, 0);
	for (int i = 0; i < MAX_INVALID; i++)
		atomic_store(&n->invalid[i], 0);
	for (int i = 0; i < NREJECT; i++)
		atomic_store(&n->rejected[i], 0);
	atomic_store(&n->connections, 0);
	atomic_store(&n->requests, 0);
}

/* The path as a short, printable key: what a message can quote as it is.
 * Bytes outside printable ASCII, quotes and backslashes become '?'. */
static void
path_key(char *key, const char *url)
{
	size_t len = strlen(url), keep = len > PATH_KEEP ? PATH_KEEP - 3 : len;
	size_t i;

	for (i = 0; i < keep; i++) {
		unsigned char ch = (unsigned char)url[i];

		key[i] = ch > ' ' && ch < 0x7f && ch != '"' && ch != '\\' ?
		    (char)ch : '?';
	}
	if (keep < len) {
		memcpy(key + i, "...", 3);
		i += 3;
	}
	key[i] = '\0';
}

static void
path_count(struct path_table *t, const char *key)
{
	size_t i;

	t->total++;
	for (i = 0; i < t->npaths; i++)
		if (strcmp(t->p[i].path, key) == 0) {
			t->p[i].n++;
			return;
		}
	if (t->npaths == MAX_PATHS) {
		t->other++;
		return;
	}
	snprintf(t->p[i].path, sizeof t->p[i].path, "%s", key);
	t->p[i].n = 1;
	t->npaths++;
}

/* ---- counting ---------------------------------------------------------- */

/* Add the piece's counts to the satellite's; duplicates first, so a reader
 * of /stats never sees more duplicates than spans. */
static void
request_commit(struct request *r)
{
	struct ltb_sat *g = r->sat->group;
	struct counts *n = &r->sat->n;
	uint64_t dups = 0;

	if (r->nkeys > 0) {
		pthread_mutex_lock(&g->dup_lock);
		for (size_t i = 0; i < r->nkeys; i++)
			dups += (uint64_t)ltb_dupset_add(g->dups, r->keys[i]);
		pthread_mutex_unlock(&g->dup_lock);
		r->nkeys = 0;
	}
	if (dups)
		atomic_fetch_add_explicit(&n->duplicates, dups,
		    memory_order_relaxed);
	if (r->p_invalid_spans) {
		for (unsigned i = 1; i < MAX_INVALID; i++)
			if (r->p_invalid[i]) {
				atomic_fetch_add_explicit(&n->invalid[i],
				    r->p_invalid[i], memory_order_relaxed);
				r->p_invalid[i] = 0;
			}
		atomic_fetch_add_explicit(&n->invalid_spans,
		    r->p_invalid_spans, memory_order_relaxed);
		r->p_invalid_spans = 0;
	}
	if (r->p_spans) {
		atomic_fetch_add_explicit(&n->spans, r->p_spans,
		    memory_order_relaxed);
		r->p_spans = 0;
	}
}

/* The sink a protocol hands each span to. */
static void
request_span(void *ctx, uint64_t key, unsigned invalid)
{
	struct request *r = ctx;

	r->spans++;
	/* slow_fail answers 400: what it received is not counted. */
	if (r->mode == LTB_MODE_SLOW_FAIL)
		return;
	r->p_spans++;
	if (invalid > 0 && invalid < MAX_INVALID) {
		r->p_invalid[invalid]++;
		r->p_invalid_spans++;
	}
	r->keys[r->nkeys++] = key;
	if (r->nkeys == KEY_BATCH)
		request_commit(r);
}

static void
request_reject(struct request *r, enum reject why)
{
	atomic_fetch_add_explicit(&r->sat->n.rejected[why], 1,
	    memory_order_relaxed);
}

static void
sat_reject(struct satellite *sat, enum reject why)
{
	atomic_fetch_add_explicit(&sat->n.rejected[why], 1,
	    memory_order_relaxed);
}

static void
sat_unknown_path(struct satellite *sat, const char *url)
{
	struct ltb_sat *g = sat->group;
	char key[PATH_KEEP + 1];

	path_key(key, url);
	pthread_mutex_lock(&g->path_lock);
	path_count(&sat->paths, key);
	path_count(&g->paths, key);
	pthread_mutex_unlock(&g->path_lock);
}

/* libmicrohttpd calls these once per connection accepted and once per
 * request, as soon as its request line is read: before the access
 * handler, whatever the request turns out to be. */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct satellite *sat = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add_explicit(&sat->n.connections, 1,
		    memory_order_relaxed);
}

static void *
on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct satellite *sat = cls;

	atomic_fetch_add_explicit(&sat->n.requests, 1, memory_order_relaxed);
	return NULL;		/* the access handler's first *req_cls */
}

/* ---- HTTP answers ------------------------------------------------------ */

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status, const char *type,
    const void *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
answer_text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result
answer_text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
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
	return answer(c, status, "text/plain", buf, (size_t)n);
}

static enum MHD_Result
answer_json(struct MHD_Connection *c, unsigned status, cJSON *obj)
{
	char *s;
	enum MHD_Result rc;

	if (obj == NULL)
		return MHD_NO;
	s = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (s == NULL)
		return MHD_NO;
	rc = answer(c, status, "application/json", s, strlen(s));
	free(s);
	return rc;
}

static uint64_t
sat_spans(const struct satellite *sat)
{
	return atomic_load(&sat->n.spans);
}

static enum MHD_Result
answer_count(struct MHD_Connection *c, uint64_t n)
{
	return answer_text(c, MHD_HTTP_OK, "%llu\n", (unsigned long long)n);
}

/* ---- the satellites' request handler ----------------------------------- */

static const struct ltb_collector_proto *
proto_for(const char *url)
{
	for (size_t i = 0; ltb_collector_protocols[i] != NULL; i++)
		if (strcmp(url, ltb_collector_protocols[i]->path) == 0)
			return ltb_collector_protocols[i];
	return NULL;
}

/* Throttle to the satellite's bandwidth: each piece books the link for
 * its length; the connection waits until its booking ends. */
static void
throttle(struct satellite *sat, size_t n)
{
	uint64_t bw = sat->group->cfg.bandwidth, now, t, end;

	if (bw == 0)
		return;
	now = mono_ns();
	pthread_mutex_lock(&sat->bw_lock);
	t = sat->bw_next_ns > now ? sat->bw_next_ns : now;
	end = t + (uint64_t)((double)n * 1e9 / (double)bw);
	sat->bw_next_ns = end;
	pthread_mutex_unlock(&sat->bw_lock);
	if (end > now)
		sleep_until(end);
}

static struct request *
request_new(struct satellite *sat, const struct ltb_collector_proto *p)
{
	struct ltb_sat *g = sat->group;
	struct request *r;
	size_t max;

	if ((r = calloc(1, sizeof *r + p->state_size)) == NULL)
		return NULL;
	r->sat = sat;
	r->proto = p;
	r->mode = atomic_load(&g->mode);
	r->start_ns = mono_ns();
	r->start_real_ns = real_ns();
	max = g->cfg.max_body ? g->cfg.max_body : HELD_CAP;
	struct ltb_message m = {
		.path = p->path, .content_type = "", .encoding = "",
		.start_real_ns = r->start_real_ns, .max_field = max,
		.full = g->cfg.full_validate
	};
	if (p->begin(r->state, &m) != LTB_COLLECT_OK) {
		free(r);
		return NULL;
	}
	return r;
}

static const struct ltb_span_sink *
request_sink(struct request *r, struct ltb_span_sink *sink)
{
	sink->span = request_span;
	sink->ctx = r;
	return sink;
}

static void
request_fail(struct request *r, int rc, const char *why)
{
	if (rc == LTB_COLLECT_TOO_LARGE) {
		r->status = MHD_HTTP_CONTENT_TOO_LARGE;
		request_reject(r, REJECT_TOO_LARGE);
	} else {
		r->status = MHD_HTTP_BAD_REQUEST;
		request_reject(r, REJECT_MALFORMED);
	}
	r->why = why;
}

static void
request_feed(struct request *r, const char *data, size_t n)
{
	struct ltb_sat *g = r->sat->group;
	struct ltb_span_sink sink;
	const char *why = "";
	int rc;

	r->body_bytes += n;
	if (r->mode != LTB_MODE_SLOW_FAIL)
		atomic_fetch_add_explicit(&r->sat->n.bytes, n,
		    memory_order_relaxed);
	if (g->cfg.max_body && r->body_bytes > g->cfg.max_body) {
		request_fail(r, LTB_COLLECT_TOO_LARGE, "body over the limit");
		return;
	}
	throttle(r->sat, n);
	rc = r->proto->feed(r->state, (const uint8_t *)data, n,
	    request_sink(r, &sink), &why);
	request_commit(r);
	if (rc != LTB_COLLECT_OK)
		request_fail(r, rc, why);
}

static enum MHD_Result
answer_failure(struct MHD_Connection *c, struct request *r)
{
	const char *what = r->status == MHD_HTTP_CONTENT_TOO_LARGE ?
	    "report too large" : "malformed report";

	return answer_text(c, r->status, "%s: %s\n", what, r->why);
}

static enum MHD_Result
request_finish(struct MHD_Connection *c, struct request *r)
{
	struct ltb_span_sink sink;
	struct ltb_reply reply = { 0 };
	const char *why = "";
	uint64_t delay_ns;
	int rc;

	if (r->status != 0)
		return answer_failure(c, r);
	rc = r->proto->end(r->state, request_sink(r, &sink), &reply, &why);
	request_commit(r);
	if (rc != LTB_COLLECT_OK) {
		request_fail(r, rc, why);
		return answer_failure(c, r);
	}
	/* The mode's delay counts from when the request began: the time
	 * spent reading it is part of the answer's latency. */
	delay_ns = r->spans * mode_delay_ps[r->mode] / 1000;
	sleep_until(r->start_ns + delay_ns);
	if (r->mode == LTB_MODE_SLOW_FAIL) {
		request_reject(r, REJECT_SLOW_FAIL);
		return answer_text(c, MHD_HTTP_BAD_REQUEST,
		    "satellite in slow_fail mode: report refused\n");
	}
	atomic_fetch_add_explicit(&r->sat->n.reports, 1, memory_order_relaxed);
	return answer(c, MHD_HTTP_OK, reply.content_type, reply.body,
	    reply.len);
}

/* The first call for a request: route it, or answer at once. */
static enum MHD_Result
request_start(struct satellite *sat, struct MHD_Connection *c,
    const char *url, const char *method, void **req_cls)
{
	const struct ltb_collector_proto *p;
	const char *cl;
	struct request *r;

	if (strcmp(url, "/spans_received") == 0) {
		if (strcmp(method, "GET") != 0)
			return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "use GET\n");
		return answer_count(c, sat_spans(sat));
	}
	if ((p = proto_for(url)) == NULL) {
		sat_unknown_path(sat, url);
		return answer_text(c, MHD_HTTP_NOT_FOUND, "no such path: %s\n",
		    url);
	}
	if (strcmp(method, "POST") != 0) {
		sat_reject(sat, REJECT_WRONG_METHOD);
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "%s reports are POSTed\n", p->name);
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && sat->group->cfg.max_body &&
	    strtoull(cl, NULL, 10) > sat->group->cfg.max_body) {
		sat_reject(sat, REJECT_TOO_LARGE);
		return answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "report too large: %s bytes, limit %llu\n", cl,
		    (unsigned long long)sat->group->cfg.max_body);
	}
	if ((r = request_new(sat, p)) == NULL)
		return MHD_NO;
	*req_cls = r;
	return MHD_YES;
}

static enum MHD_Result
on_satellite_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **req_cls)
{
	struct satellite *sat = cls;
	struct request *r = *req_cls;

	if (r == NULL)
		return request_start(sat, c, url, method, req_cls);
	/* Going down: drop the connection rather than finish the report. */
	if (!atomic_load(&sat->group->up))
		return MHD_NO;
	if (*size == 0)
		return request_finish(c, r);
	if (r->status == 0)
		request_feed(r, data, *size);
	else
		r->discarded += *size;
	*size = 0;
	/* libmicrohttpd answers only once the body is read, so after a
	 * failure the rest is read and dropped; but a tracer streaming
	 * garbage must not hold the connection forever. */
	if (r->discarded > DISCARD_MAX)
		return MHD_NO;
	return MHD_YES;
}

static void
on_request_done(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request *r = *req_cls;

	if (r == NULL)
		return;
	r->proto->release(r->state);
	free(r);
	*req_cls = NULL;
}

/* ---- sockets and daemons ----------------------------------------------- */

static int
satellite_start(struct satellite *sat, char *err, size_t errlen)
{
	struct ltb_sat *g = sat->group;
	uint16_t bound;
	int fd;

	if ((fd = ltb_listen(&g->addr, sat->port, &bound, err, errlen)) < 0)
		return -1;
	sat->port = bound;
	sat->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO,
	    0, NULL, NULL, on_satellite_request, sat,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, g->cfg.max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, g->cfg.idle_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_request_done, sat,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, sat,
	    MHD_OPTION_URI_LOG_CALLBACK, on_request_line, sat,
	    MHD_OPTION_END);
	if (sat->daemon == NULL) {
		snprintf(err, errlen, "cannot start satellite on port %u",
		    bound);
		close(fd);
		return -1;
	}
	return 0;
}

static void
satellites_stop(struct ltb_sat *g)
{
	for (size_t i = 0; i < g->nsats; i++)
		if (g->sats[i].daemon != NULL) {
			MHD_stop_daemon(g->sats[i].daemon);
			g->sats[i].daemon = NULL;
		}
}

/* ---- the admin port ---------------------------------------------------- */

struct admin_req {
	char body[128];
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
		return answer_text(c, MHD_HTTP_BAD_REQUEST, "unknown mode "
		    "'%.64s': use typical, slow_succeed or slow_fail\n", name);
	ltb_sat_set_mode(g, mode);
	return answer_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
}

static enum MHD_Result
admin_route(struct ltb_sat *g, struct MHD_Connection *c, const char *url,
    const char *method, struct admin_req *a)
{
	int get = strcmp(method, "GET") == 0;
	int post = strcmp(method, "POST") == 0;
	char err[256];

	if (strcmp(url, "/spans_received") == 0 && get)
		return answer_count(c, ltb_sat_spans_received(g));
	if ((strcmp(url, "/stats") == 0 || strcmp(url, "/") == 0) && get)
		return answer_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	if (strcmp(url, "/reset") == 0 && post) {
		ltb_sat_reset(g);
		return answer_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	}
	if (strcmp(url, "/down") == 0 && post) {
		if (ltb_sat_down(g) < 0)
			return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot go down: %s\n", strerror(errno));
		return answer_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	}
	if (strcmp(url, "/up") == 0 && post) {
		if (ltb_sat_up(g, err, sizeof err) < 0)
			return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot come up: %s\n", err);
		return answer_json(c, MHD_HTTP_OK, ltb_sat_stats_record(g));
	}
	if (strcmp(url, "/mode") == 0 && post)
		return admin_mode(g, c, a);
	if (strcmp(url, "/spans_received") == 0 || strcmp(url, "/stats") == 0 ||
	    strcmp(url, "/reset") == 0 || strcmp(url, "/down") == 0 ||
	    strcmp(url, "/up") == 0 || strcmp(url, "/mode") == 0)
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "wrong method %s for %s\n", method, url);
	return answer_text(c, MHD_HTTP_NOT_FOUND, "no such path: %s "
	    "(try /stats, /spans_received, /reset, /down, /up, /mode)\n", url);
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

static int
admin_start(struct ltb_sat *g, char *err, size_t errlen)
{
	int fd;

	if ((fd = ltb_listen(&g->addr, g->cfg.admin_port, &g->admin_port, err,
	    errlen)) < 0)
		return -1;
	g->admin = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_AUTO, 0, NULL, NULL, on_admin_request, g,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_admin_done, g,
	    MHD_OPTION_END);
	if (g->admin == NULL) {
		snprintf(err, errlen, "cannot start the admin port %u",
		    g->admin_port);
		close(fd);
		return -1;
	}
	return 0;
}

/* ---- the group --------------------------------------------------------- */

struct ltb_sat *
ltb_sat_start(const struct ltb_sat_config *c, char *err, size_t errlen)
{
	struct ltb_sat *g;

	if ((g = calloc(1, sizeof *g)) == NULL)
		goto nomem;
	g->cfg = *c;
	pthread_mutex_init(&g->state_lock, NULL);
	pthread_mutex_init(&g->dup_lock, NULL);
	pthread_mutex_init(&g->path_lock, NULL);
	atomic_init(&g->mode, c->mode);
	atomic_init(&g->up, 1);
	if ((g->dups = ltb_dupset_new(c->dup_window)) == NULL)
		goto nomem;
	if ((g->sats = calloc(c->nports, sizeof *g->sats)) == NULL)
		goto nomem;
	g->nsats = c->nports;
	if (ltb_addr_parse(&g->addr, c->bind, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < g->nsats; i++) {
		g->sats[i].group = g;
		g->sats[i].port = c->ports[i];
		pthread_mutex_init(&g->sats[i].bw_lock, NULL);
	}
	if (admin_start(g, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < g->nsats; i++)
		if (satellite_start(&g->sats[i], err, errlen) < 0)
			goto fail;
	g->cfg.bind = g->addr.text;
	return g;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	ltb_sat_stop(g);
	return NULL;
}

void
ltb_sat_stop(struct ltb_sat *g)
{
	if (g == NULL)
		return;
	atomic_store(&g->up, 0);
	satellites_stop(g);
	if (g->admin != NULL)
		MHD_stop_daemon(g->admin);
	for (size_t i = 0; i < g->nsats; i++)
		pthread_mutex_destroy(&g->sats[i].bw_lock);
	free(g->sats);
	ltb_dupset_free(g->dups);
	pthread_mutex_destroy(&g->dup_lock);
	pthread_mutex_destroy(&g->path_lock);
	pthread_mutex_destroy(&g->state_lock);
	free(g);
}

int
ltb_sat_down(struct ltb_sat *g)
{
	pthread_mutex_lock(&g->state_lock);
	atomic_store(&g->up, 0);
	satellites_stop(g);
	pthread_mutex_unlock(&g->state_lock);
	return 0;
}

int
ltb_sat_up(struct ltb_sat *g, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&g->state_lock);
	for (size_t i = 0; i < g->nsats && rc == 0; i++)
		if (g->sats[i].daemon == NULL)
			rc = satellite_start(&g->sats[i], err, errlen);
	if (rc == 0)
		atomic_store(&g->up, 1);
	else
		satellites_stop(g);
	pthread_mutex_unlock(&g->state_lock);
	return rc;
}

void
ltb_sat_set_mode(struct ltb_sat *g, int mode)
{
	if (mode >= 0 && mode < LTB_NMODES)
		atomic_store(&g->mode, mode);
}

void
ltb_sat_reset(struct ltb_sat *g)
{
	pthread_mutex_lock(&g->dup_lock);
	ltb_dupset_clear(g->dups);
	pthread_mutex_lock(&g->path_lock);
	for (size_t i = 0; i < g->nsats; i++) {
		counts_zero(&g->sats[i].n);
		memset(&g->sats[i].paths, 0, sizeof g->sats[i].paths);
	}
	memset(&g->paths, 0, sizeof g->paths);
	pthread_mutex_unlock(&g->path_lock);
	pthread_mutex_unlock(&g->dup_lock);
}

uint64_t
ltb_sat_spans_received(struct ltb_sat *g)
{
	uint64_t n = 0;

	for (size_t i = 0; i < g->nsats; i++)
		n += sat_spans(&g->sats[i]);
	return n;
}

cJSON *
ltb_sat_ready_record(struct ltb_sat *g)
{
	cJSON *rec = ltb_record_new("ready"), *ports;
	char url[128];

	if (rec == NULL)
		return NULL;
	ltb_addr_url(&g->addr, g->admin_port, url, sizeof url);
	cJSON_AddNumberToObject(rec, "pid", (double)getpid());
	cJSON_AddStringToObject(rec, "bind", g->addr.text);
	ports = cJSON_AddArrayToObject(rec, "ports");
	for (size_t i = 0; ports != NULL && i < g->nsats; i++)
		cJSON_AddItemToArray(ports,
		    cJSON_CreateNumber(g->sats[i].port));
	cJSON_AddNumberToObject(rec, "admin_port", g->admin_port);
	cJSON_AddStringToObject(rec, "admin_url", url);
	cJSON_AddStringToObject(rec, "mode",
	    ltb_sat_mode_name(atomic_load(&g->mode)));
	cJSON_AddStringToObject(rec, "validate",
	    g->cfg.full_validate ? "full" : "walk");
	return rec;
}

static void
add_paths(cJSON *obj, struct ltb_sat *g, const struct path_table *t)
{
	cJSON *o;

	pthread_mutex_lock(&g->path_lock);
	cJSON_AddNumberToObject(obj, "unknown_path_requests", (double)t->total);
	o = cJSON_AddObjectToObject(obj, "unknown_paths");
	for (size_t i = 0; o != NULL && i < t->npaths; i++)
		cJSON_AddNumberToObject(o, t->p[i].path, (double)t->p[i].n);
	cJSON_AddNumberToObject(obj, "unknown_paths_other", (double)t->other);
	pthread_mutex_unlock(&g->path_lock);
}

/* The counts of one satellite, or the sum over all when sat is NULL: the
 * group's figures are the sums of its ports', as the original controller
 * summed its satellites. */
static void
add_counts(cJSON *obj, struct ltb_sat *g, const struct satellite *sat)
{
	const struct ltb_collector_proto *p = ltb_collector_protocols[0];
	uint64_t spans = 0, reports = 0, bytes = 0, dups = 0, inv = 0;
	uint64_t conns = 0, reqs = 0;
	uint64_t invalid[MAX_INVALID] = { 0 }, rejected[NREJECT] = { 0 };
	uint64_t nrejected = 0;
	cJSON *o;

	for (size_t i = 0; i < g->nsats; i++) {
		const struct counts *n = &g->sats[i].n;

		if (sat != NULL && sat != &g->sats[i])
			continue;
		spans += atomic_load(&n->spans);
		reports += atomic_load(&n->reports);
		bytes += atomic_load(&n->bytes);
		dups += atomic_load(&n->duplicates);
		inv += atomic_load(&n->invalid_spans);
		conns += atomic_load(&n->connections);
		reqs += atomic_load(&n->requests);
		for (int k = 0; k < MAX_INVALID; k++)
			invalid[k] += atomic_load(&n->invalid[k]);
		for (int k = 0; k < NREJECT; k++)
			rejected[k] += atomic_load(&n->rejected[k]);
	}
	for (int k = 0; k < NREJECT; k++)
		nrejected += rejected[k];
	cJSON_AddNumberToObject(obj, "spans_received", (double)spans);
	cJSON_AddNumberToObject(obj, "reports", (double)reports);
	cJSON_AddNumberToObject(obj, "bytes", (double)bytes);
	cJSON_AddNumberToObject(obj, "invalid_spans", (double)inv);
	cJSON_AddNumberToObject(obj, "duplicate_spans", (double)dups);
	cJSON_AddNumberToObject(obj, "rejected_reports", (double)nrejected);
	cJSON_AddNumberToObject(obj, "connections", (double)conns);
	cJSON_AddNumberToObject(obj, "requests", (double)reqs);
	o = cJSON_AddObjectToObject(obj, "rejected");
	for (int k = 0; o != NULL && k < NREJECT; k++)
		cJSON_AddNumberToObject(o, reject_names[k],
		    (double)rejected[k]);
	o = cJSON_AddObjectToObject(obj, "invalid");
	for (unsigned k = 1; o != NULL && k < p->ninvalid && k < MAX_INVALID;
	    k++)
		cJSON_AddNumberToObject(o, p->invalid_names[k],
		    (double)invalid[k]);
	add_paths(obj, g, sat != NULL ? &sat->paths : &g->paths);
}

cJSON *
ltb_sat_stats_record(struct ltb_sat *g)
{
	cJSON *rec = ltb_record_new("stats"), *ports, *p;

	if (rec == NULL)
		return NULL;
	cJSON_AddNumberToObject(rec, "pid", (double)getpid());
	cJSON_AddStringToObject(rec, "mode",
	    ltb_sat_mode_name(atomic_load(&g->mode)));
	cJSON_AddBoolToObject(rec, "up", atomic_load(&g->up));
	add_counts(rec, g, NULL);
	ports = cJSON_AddArrayToObject(rec, "ports");
	for (size_t i = 0; ports != NULL && i < g->nsats; i++) {
		if ((p = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddNumberToObject(p, "port", g->sats[i].port);
		add_counts(p, g, &g->sats[i]);
		cJSON_AddItemToArray(ports, p);
	}
	return rec;
}
