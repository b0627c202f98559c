/*
 * ltb_satellite_admin.c: the satellite admin client, over libcurl; see
 * ltb_satellite_admin.h. Also what a run makes of the group's counts: their
 * difference over the run and, when nothing intact arrived, why.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/ltb_clock.h"
#include "core/ltb_net.h"
#include "collector/ltb_collector.h"
#include "core/ltb_proc.h"
#include "run/ltb_satellite_admin.h"

struct buf {
	char *p;
	size_t len;
};

static size_t
on_data(char *data, size_t size, size_t n, void *cls)
{
	struct buf *b = cls;
	char *p;

	if (b->len + size * n > 1u << 20)	/* admin answers are small */
		return 0;
	if ((p = realloc(b->p, b->len + size * n + 1)) == NULL)
		return 0;
	memcpy(p + b->len, data, size * n);
	b->p = p;
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/* One admin request, POSTing post (NULL for a GET); the answer's body
 * (NUL-terminated) in *body, owned by the caller. */
static int
admin(struct ltb_satgroup *g, const char *post, const char *path,
    char **body, char *err, size_t errlen)
{
	struct buf b = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	const char *token = getenv("LTB_ADMIN_TOKEN");
	char url[256], auth[512];
	long status = 0;
	CURLcode rc;
	CURL *c;

	snprintf(url, sizeof url, "%s%s", g->admin_url, path);
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (post != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	/* A group started with --admin-token wants it on every request. */
	if (token != NULL && token[0] != '\0') {
		snprintf(auth, sizeof auth, "Authorization: Bearer %.400s",
		    token);
		if ((hdrs = curl_slist_append(NULL, auth)) == NULL) {
			curl_easy_cleanup(c);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK || status != 200) {
		if (rc != CURLE_OK)
			snprintf(err, errlen, "cannot reach satellite admin "
			    "%s: %s", url, curl_easy_strerror(rc));
		else if (b.len > 0) {
			/* The satellite says why, in a line of text. */
			while (b.len > 0 && b.p[b.len - 1] == '\n')
				b.p[--b.len] = '\0';
			snprintf(err, errlen, "satellite admin %s answered "
			    "%ld: %.300s", url, status, b.p);
		} else
			snprintf(err, errlen, "satellite admin %s answered %ld",
			    url, status);
		free(b.p);
		return -1;
	}
	*body = b.p ? b.p : strdup("");
	return *body ? 0 : -1;
}

int
ltb_satgroup_post(struct ltb_satgroup *g, const char *what, char *err,
    size_t errlen)
{
	char path[32], *body;

	snprintf(path, sizeof path, "/%s", what);
	if (admin(g, "", path, &body, err, errlen) < 0)
		return -1;
	free(body);
	return 0;
}

int
ltb_satgroup_script(struct ltb_satgroup *g, const char *json, char *err,
    size_t errlen)
{
	char *body;

	if (admin(g, json, "/script", &body, err, errlen) < 0)
		return -1;
	free(body);
	return 0;
}

/* ---- counts ------------------------------------------------------------ */

/* A name as a message can quote it: printable ASCII, no quotes or
 * backslashes, cut to LTB_SATCOUNT_NAME_LEN. The satellite sends them so
 * already; another program's /stats need not. */
static void
name_safe(char *dst, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i < LTB_SATCOUNT_NAME_LEN; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch > ' ' && ch < 0x7f && ch != '"' && ch != '\\' ?
		    (char)ch : '?';
	}
	dst[i] = '\0';
}

static uint64_t
map_find(const struct ltb_satcount_map *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].name, name) == 0)
			return m->e[i].n;
	return 0;
}

static void
map_add(struct ltb_satcount_map *m, const char *raw, uint64_t n)
{
	char name[LTB_SATCOUNT_NAME_LEN + 1];

	name_safe(name, raw);
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].name, name) == 0) {
			m->e[i].n += n;
			return;
		}
	if (m->n == LTB_SATCOUNT_NAMES) {
		m->other += n;
		return;
	}
	memcpy(m->e[m->n].name, name, sizeof name);
	m->e[m->n++].n = n;
}

/* A JSON count: a number, whole, 0 or more, below 2^64. */
static int
count_of(const cJSON *v, uint64_t *n)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble >= 18446744073709551616.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -1;
	*n = (uint64_t)v->valuedouble;
	return 0;
}

static int
parse_map(struct ltb_satcount_map *m, const cJSON *rec, const char *key,
    char *err, size_t errlen)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(rec, key), *v;
	uint64_t n;

	if (o == NULL)
		return 0;
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "stats record: %s is not an object", key);
		return -1;
	}
	cJSON_ArrayForEach(v, o) {
		if (count_of(v, &n) < 0) {
			snprintf(err, errlen, "stats record: %s.%.64s is not a "
			    "count", key, v->string);
			return -1;
		}
		map_add(m, v->string, n);
	}
	return 0;
}

int
ltb_satcounts_parse(struct ltb_satcounts *c, const char *json, char *err,
    size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
	} counts[] = {
		{ "spans_received", offsetof(struct ltb_satcounts,
		    spans_received) },
		{ "invalid_spans", offsetof(struct ltb_satcounts,
		    spans_invalid) },
		{ "duplicate_spans", offsetof(struct ltb_satcounts,
		    spans_duplicate) },
		{ "reports", offsetof(struct ltb_satcounts, reports) },
		{ "rejected_reports", offsetof(struct ltb_satcounts,
		    reports_rejected) },
		{ "bytes", offsetof(struct ltb_satcounts, bytes) },
		{ "connections", offsetof(struct ltb_satcounts, connections) },
		{ "requests", offsetof(struct ltb_satcounts, requests) },
		{ "unknown_path_requests", offsetof(struct ltb_satcounts,
		    unknown_path_requests) },
	};
	/* Counts an older satellite does not have: 0 then. */
	static const struct {
		const char *key;
		size_t off;
	} newer[] = {
		{ "refused_spans", offsetof(struct ltb_satcounts,
		    spans_refused) },
		{ "refused_new_spans", offsetof(struct ltb_satcounts,
		    spans_refused_new) },
		{ "retried_spans", offsetof(struct ltb_satcounts,
		    spans_retried) },
		{ "tls_handshake_failures", offsetof(struct ltb_satcounts,
		    tls_failures) },
		{ "socket_drops", offsetof(struct ltb_satcounts,
		    socket_drops) },
	};
	const cJSON *v;
	const cJSON *type, *other;
	cJSON *rec;
	uint64_t n;

	memset(c, 0, sizeof *c);
	rec = cJSON_Parse(json);
	type = cJSON_GetObjectItemCaseSensitive(rec, "type");
	if (!cJSON_IsObject(rec) || !cJSON_IsString(type) ||
	    strcmp(type->valuestring, "stats") != 0) {
		snprintf(err, errlen, "not a stats record: %.60s", json);
		goto fail;
	}
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		if (count_of(cJSON_GetObjectItemCaseSensitive(rec,
		    counts[i].key), (uint64_t *)((char *)c +
		    counts[i].off)) < 0) {
			snprintf(err, errlen, "stats record: no count %s "
			    "(an older ltb-satellite?)", counts[i].key);
			goto fail;
		}
	for (size_t i = 0; i < sizeof newer / sizeof newer[0]; i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(rec,
		    newer[i].key)) != NULL && count_of(v, (uint64_t *)((char *)c +
		    newer[i].off)) < 0) {
			snprintf(err, errlen, "stats record: %s is not a count",
			    newer[i].key);
			goto fail;
		}
	if (parse_map(&c->invalid_by_reason, rec, "invalid", err, errlen) < 0 ||
	    parse_map(&c->rejected_by_reason, rec, "rejected", err, errlen) <
	    0 || parse_map(&c->unknown_paths, rec, "unknown_paths", err,
	    errlen) < 0)
		goto fail;
	other = cJSON_GetObjectItemCaseSensitive(rec, "unknown_paths_other");
	if (other != NULL) {
		if (count_of(other, &n) < 0) {
			snprintf(err, errlen, "stats record: "
			    "unknown_paths_other is not a count");
			goto fail;
		}
		c->unknown_paths.other += n;
	}
	cJSON_Delete(rec);
	return 0;
fail:
	cJSON_Delete(rec);
	memset(c, 0, sizeof *c);
	return -1;
}

int
ltb_satgroup_counts(struct ltb_satgroup *g, struct ltb_satcounts *c,
    char *err, size_t errlen)
{
	char *body, why[256];
	int rc;

	if (admin(g, NULL, "/stats", &body, err, errlen) < 0)
		return -1;
	if ((rc = ltb_satcounts_parse(c, body, why, sizeof why)) < 0)
		snprintf(err, errlen, "satellite admin %s/stats: %s",
		    g->admin_url, why);
	free(body);
	return rc;
}

/* Counters only grow, unless the group was reset in between: then what
 * came since is after's count itself. */
static uint64_t
since(uint64_t after, uint64_t before)
{
	return after >= before ? after - before : after;
}

static void
map_diff(struct ltb_satcount_map *d, const struct ltb_satcount_map *a,
    const struct ltb_satcount_map *b)
{
	for (size_t i = 0; i < a->n; i++) {
		d->e[i] = a->e[i];
		d->e[i].n = since(a->e[i].n, map_find(b, a->e[i].name));
	}
	d->n = a->n;
	d->other = since(a->other, b->other);
}

void
ltb_satcounts_diff(struct ltb_satcounts *d, const struct ltb_satcounts *after,
    const struct ltb_satcounts *before)
{
	struct ltb_satcounts r;

	memset(&r, 0, sizeof r);
	r.spans_received = since(after->spans_received, before->spans_received);
	r.spans_invalid = since(after->spans_invalid, before->spans_invalid);
	r.spans_duplicate = since(after->spans_duplicate,
	    before->spans_duplicate);
	r.spans_refused = since(after->spans_refused, before->spans_refused);
	r.spans_refused_new = since(after->spans_refused_new,
	    before->spans_refused_new);
	r.spans_retried = since(after->spans_retried, before->spans_retried);
	r.reports = since(after->reports, before->reports);
	r.reports_rejected = since(after->reports_rejected,
	    before->reports_rejected);
	r.bytes = since(after->bytes, before->bytes);
	r.connections = since(after->connections, before->connections);
	r.requests = since(after->requests, before->requests);
	r.tls_failures = since(after->tls_failures, before->tls_failures);
	r.socket_drops = since(after->socket_drops, before->socket_drops);
	r.unknown_path_requests = since(after->unknown_path_requests,
	    before->unknown_path_requests);
	map_diff(&r.invalid_by_reason, &after->invalid_by_reason,
	    &before->invalid_by_reason);
	map_diff(&r.rejected_by_reason, &after->rejected_by_reason,
	    &before->rejected_by_reason);
	map_diff(&r.unknown_paths, &after->unknown_paths,
	    &before->unknown_paths);
	*d = r;
}

uint64_t
ltb_satcounts_refused_only(const struct ltb_satcounts *d)
{
	return d->spans_refused_new > d->spans_retried ?
	    d->spans_refused_new - d->spans_retried : 0;
}

uint64_t
ltb_satcounts_intact(const struct ltb_satcounts *d)
{
	uint64_t broken = d->spans_invalid + d->spans_duplicate +
	    ltb_satcounts_refused_only(d);

	return d->spans_received > broken ? d->spans_received - broken : 0;
}

int
ltb_satcount_map_json(cJSON *obj, const char *key,
    const struct ltb_satcount_map *m)
{
	cJSON *o = cJSON_AddObjectToObject(obj, key);

	if (o == NULL)
		return -1;
	for (size_t i = 0; i < m->n; i++)
		if (cJSON_AddNumberToObject(o, m->e[i].name,
		    (double)m->e[i].n) == NULL)
			return -1;
	if (m->other > 0 &&
	    cJSON_AddNumberToObject(o, "other", (double)m->other) == NULL)
		return -1;
	return 0;
}

/* ---- saying why nothing arrived ---------------------------------------- */

/* A line built piece by piece into a caller's buffer, cut at its end. */
struct line {
	char *p;
	size_t len, at;
};

static void __attribute__((format(printf, 2, 3)))
put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len == 0 || l->at >= l->len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->p + l->at, l->len - l->at, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->at += (size_t)n < l->len - l->at ? (size_t)n :
		    l->len - l->at - 1;
}

/* "3 requests", "1 request". */
static void
put_n(struct line *l, uint64_t n, const char *one, const char *many)
{
	put(l, "%llu %s", (unsigned long long)n, n == 1 ? one : many);
}

void
ltb_satgroup_where(const struct ltb_satgroup *g, char *buf, size_t len)
{
	struct line l = { buf, len, 0 };

	if (len > 0)
		buf[0] = '\0';
	put(&l, strchr(g->host, ':') != NULL && g->host[0] != '[' ?
	    "[%s]" : "%s", g->host);
	for (size_t i = 0; i < g->nports; i++)
		put(&l, "%s%u", i ? "," : ":", g->ports[i]);
}

/* What a path no protocol serves is, when we know: the transports tracers
 * speak that ltb-satellite does not (a path it serves never gets here). */
static const char *
path_hint(const char *path)
{
	static const char *const hints[][2] = {
		{ "/v1/metrics", "OTLP/HTTP metrics, which ltb does not serve "
		    "yet" },
		{ "/api/v2/spans", "Zipkin, which ltb does not serve" },
		{ "/api/traces", "Jaeger's HTTP thrift, which ltb does not "
		    "serve" },
	};

	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
		if (strcmp(path, hints[i][0]) == 0)
			return hints[i][1];
	return NULL;
}

static const char *
reject_hint(const char *why)
{
	if (strcmp(why, "too_large") == 0)
		return "over --max-body";
	if (strcmp(why, "slow_fail") == 0)
		return "satellites in slow_fail mode";
	if (strcmp(why, "wrong_method") == 0)
		return "not POSTed";
	if (strcmp(why, "scripted") == 0)
		return "the satellites' script said so";
	if (strcmp(why, "memory_budget") == 0)
		return "over the satellites' --memory-budget: 503, retry";
	return NULL;
}

/* "name n (hint), name n, other n": the names counted at least once. */
static void
put_map(struct line *l, const struct ltb_satcount_map *m,
    const char *(*hint)(const char *), const char *other)
{
	const char *sep = "", *h;

	for (size_t i = 0; i < m->n; i++) {
		if (m->e[i].n == 0)
			continue;
		put(l, "%s%s %llu", sep, m->e[i].name,
		    (unsigned long long)m->e[i].n);
		if (hint != NULL && (h = hint(m->e[i].name)) != NULL)
			put(l, " (%s)", h);
		sep = ", ";
	}
	if (m->other > 0)
		put(l, "%s%s %llu", sep, other, (unsigned long long)m->other);
}

/* The HTTP paths served; a datagram or stream protocol has none. */
static void
put_served(struct line *l)
{
	const char *sep = "";

	for (size_t i = 0; ltb_collector_protocols[i] != NULL; i++) {
		if (ltb_collector_protocols[i]->transport !=
		    LTB_TRANSPORT_HTTP)
			continue;
		put(l, "%sPOST %s", sep, ltb_collector_protocols[i]->path);
		sep = ", ";
	}
}

int
ltb_satcounts_diagnose(const struct ltb_satcounts *d,
    const struct ltb_satgroup *g, char *buf, size_t len)
{
	struct line l = { buf, len, 0 };
	const char *sep = "";
	char where[256];
	int reported = d->spans_received > 0 || d->reports > 0 ||
	    d->reports_rejected > 0;

	if (len > 0)
		buf[0] = '\0';
	if (ltb_satcounts_intact(d) > 0)
		return 0;
	ltb_satgroup_where(g, where, sizeof where);
	if (d->connections == 0 && d->requests == 0 && !reported) {
		put(&l, "no connection reached the satellites at %s: is the "
		    "client pointed at the right host and ports?", where);
		return 1;
	}
	if (d->requests == 0 && !reported && d->tls_failures > 0) {
		put_n(&l, d->tls_failures, "connection", "connections");
		put(&l, " to the satellites at %s failed the TLS handshake: "
		    "they serve TLS (--tls); is the client reporting over "
		    "https (Tls in its control message)?", where);
		return 1;
	}
	if (d->requests == 0 && !reported) {
		put_n(&l, d->connections, "connection", "connections");
		put(&l, " reached the satellites at %s but sent no HTTP "
		    "request: is the client speaking TLS or another protocol "
		    "to them?", where);
		return 1;
	}
	put(&l, "the satellites at %s received no intact span: ", where);
	if (d->unknown_path_requests > 0) {
		put_n(&l, d->unknown_path_requests, "request", "requests");
		put(&l, " to paths no protocol serves (ltb serves ");
		put_served(&l);
		put(&l, "): ");
		put_map(&l, &d->unknown_paths, path_hint, "other paths");
		sep = "; ";
	}
	if (d->reports_rejected > 0) {
		put(&l, "%s", sep);
		put_n(&l, d->reports_rejected, "report rejected",
		    "reports rejected");
		put(&l, ": ");
		put_map(&l, &d->rejected_by_reason, reject_hint, "other");
		sep = "; ";
	}
	if (d->spans_received > 0) {
		put(&l, "%s", sep);
		put_n(&l, d->spans_received, "span arrived", "spans arrived");
		put(&l, ", none intact: ");
		if (d->spans_invalid > 0) {
			put(&l, "%llu invalid (",
			    (unsigned long long)d->spans_invalid);
			put_map(&l, &d->invalid_by_reason, NULL, "other");
			put(&l, ")%s", d->spans_duplicate > 0 ? ", " : "");
		}
		if (d->spans_duplicate > 0)
			put_n(&l, d->spans_duplicate, "duplicate",
			    "duplicates");
		if (ltb_satcounts_refused_only(d) > 0) {
			put(&l, "%s", d->spans_invalid > 0 ||
			    d->spans_duplicate > 0 ? ", " : "");
			put_n(&l, ltb_satcounts_refused_only(d), "refused by "
			    "the satellites' script and never sent again",
			    "refused by the satellites' script and never sent "
			    "again");
		}
		sep = "; ";
	} else if (d->reports > 0) {
		put(&l, "%s", sep);
		put_n(&l, d->reports, "report held no span",
		    "reports held no span");
		sep = "; ";
	}
	if (*sep == '\0') {
		put_n(&l, d->requests, "request", "requests");
		put(&l, ", none of them a report");
	}
	return 1;
}

/* A port number of a record: 1 to 65535. */
static int
port_of(const cJSON *num, uint16_t *port)
{
	if (!cJSON_IsNumber(num) || num->valuedouble < 1 ||
	    num->valuedouble > 65535)
		return -1;
	*port = (uint16_t)num->valuedouble;
	return 0;
}

/* A unix socket's path, if it fits sun_path. */
static int
take_unix(struct ltb_satgroup *g, const cJSON *path)
{
	if (!cJSON_IsString(path) || path->valuestring[0] == '\0' ||
	    strlen(path->valuestring) >= sizeof g->unix_socket)
		return -1;
	snprintf(g->unix_socket, sizeof g->unix_socket, "%s",
	    path->valuestring);
	return 0;
}

/* The RESP ports of a ready record, its resp_ports (null: none), when
 * it has them. */
static int
take_resp(struct ltb_satgroup *g, const cJSON *rec)
{
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(rec,
	    "resp_ports"), *p;

	if (resp == NULL)
		return 0;
	if (!cJSON_IsArray(resp) && !cJSON_IsNull(resp))
		return -1;
	g->resp_known = 1;
	g->nresp = 0;
	cJSON_ArrayForEach(p, resp) {
		if (g->nresp == LTB_CONTROL_MAX_PORTS ||
		    port_of(p, &g->resp_ports[g->nresp]) < 0)
			return -1;
		g->nresp++;
	}
	return 0;
}

/* The datagram sockets of a ready or stats record: its udp_ports and
 * unix_socket (null: none), when it has them. */
static int
take_datagrams(struct ltb_satgroup *g, const cJSON *rec)
{
	const cJSON *udp = cJSON_GetObjectItemCaseSensitive(rec, "udp_ports");
	const cJSON *sock = cJSON_GetObjectItemCaseSensitive(rec,
	    "unix_socket"), *p;

	if (udp == NULL && sock == NULL)
		return 0;
	g->datagrams_known = 1;
	g->nudp = 0;
	cJSON_ArrayForEach(p, udp) {
		if (g->nudp == LTB_CONTROL_MAX_PORTS ||
		    port_of(p, &g->udp_ports[g->nudp]) < 0)
			return -1;
		g->nudp++;
	}
	if (udp != NULL && !cJSON_IsArray(udp) && !cJSON_IsNull(udp))
		return -1;
	g->unix_socket[0] = '\0';
	if (sock != NULL && !cJSON_IsNull(sock) && take_unix(g, sock) < 0)
		return -1;
	return 0;
}

/* An entry of a stats record's ports with a "transport" of "tcp": a
 * RESP port, unless the top-level resp_ports said them already. */
static int
take_tcp(struct ltb_satgroup *g, const cJSON *p, int listed)
{
	if (listed)
		return 1;
	g->resp_known = 1;
	if (g->nresp == LTB_CONTROL_MAX_PORTS || port_of(
	    cJSON_GetObjectItemCaseSensitive(p, "port"),
	    &g->resp_ports[g->nresp]) < 0)
		return -1;
	g->nresp++;
	return 1;
}

/* An entry of a stats record's ports with a "transport" other than
 * "http": a socket tracers do not POST to, taken when a datagram one
 * ("udp" with its port, "unix_dgram" with its path) or a RESP one
 * ("tcp"). 1 when it was one, 0 when it is an HTTP port, -1 when it is
 * broken. listed: the top-level keys named the datagram sockets (bit 0)
 * and the RESP ports (bit 1). */
static int
take_transport(struct ltb_satgroup *g, const cJSON *p, int listed)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "transport");

	if (!cJSON_IsString(t) || strcmp(t->valuestring, "http") == 0)
		return 0;
	if (strcmp(t->valuestring, "tcp") == 0)
		return take_tcp(g, p, listed & 2);
	if (listed & 1)		/* the top-level keys said it already */
		return 1;
	g->datagrams_known = 1;
	if (strcmp(t->valuestring, "udp") == 0) {
		if (g->nudp == LTB_CONTROL_MAX_PORTS || port_of(
		    cJSON_GetObjectItemCaseSensitive(p, "port"),
		    &g->udp_ports[g->nudp]) < 0)
			return -1;
		g->nudp++;
	} else if ((strcmp(t->valuestring, "unix_dgram") == 0 ||
	    strcmp(t->valuestring, "unix") == 0) &&
	    take_unix(g, cJSON_GetObjectItemCaseSensitive(p, "path")) < 0)
		return -1;
	return 1;
}

int
ltb_satgroup_take_ports(struct ltb_satgroup *g, const cJSON *rec)
{
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(rec, "ports");
	const cJSON *bind = cJSON_GetObjectItemCaseSensitive(rec, "bind");
	const cJSON *p, *num;
	int listed, other;

	g->nports = 0;
	g->nudp = 0;
	g->unix_socket[0] = '\0';
	g->datagrams_known = 0;
	g->nresp = 0;
	g->resp_known = 0;
	if (take_datagrams(g, rec) < 0 || take_resp(g, rec) < 0)
		return -1;
	listed = g->datagrams_known | g->resp_known << 1;
	cJSON_ArrayForEach(p, ports) {
		if (cJSON_IsObject(p) &&
		    (other = take_transport(g, p, listed)) != 0) {
			if (other < 0)
				return -1;
			continue;
		}
		num = cJSON_IsObject(p) ?
		    cJSON_GetObjectItemCaseSensitive(p, "port") : p;
		if (!cJSON_IsNumber(num) || g->nports == LTB_CONTROL_MAX_PORTS)
			return -1;
		g->ports[g->nports++] = (uint16_t)num->valuedouble;
	}
	snprintf(g->host, sizeof g->host, "%s",
	    cJSON_IsString(bind) ? bind->valuestring : "127.0.0.1");
	return g->nports > 0 ? 0 : -1;
}

int
ltb_satgroup_host(const char *admin_url, const char *bind, char *host,
    size_t len, char *err, size_t errlen)
{
	struct ltb_addr a;
	char why[128];
	CURLU *u;
	char *h = NULL;
	size_t n;
	int rc = -1;

	if (bind != NULL && ltb_addr_parse(&a, bind, why, sizeof why) == 0 &&
	    !ltb_addr_is_any(&a)) {
		snprintf(host, len, "%s", bind);
		return 0;
	}
	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, admin_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		snprintf(err, errlen, "bad satellite admin URL '%.200s': not "
		    "http://HOST:PORT", admin_url);
		goto out;
	}
	/* curl keeps an IPv6 literal's brackets; tracers are given the
	 * address, and bracket it in their URLs themselves. */
	n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h[n - 1] = '\0';
		memmove(h, h + 1, n - 1);
	}
	if (strlen(h) >= len) {
		snprintf(err, errlen, "satellite host too long: %.200s", h);
		goto out;
	}
	snprintf(host, len, "%s", h);
	rc = 0;
out:
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

int
ltb_satgroup_attach(struct ltb_satgroup *g, const char *admin_url,
    char *err, size_t errlen)
{
	const cJSON *bind;
	char *body;
	cJSON *rec;
	size_t n;

	memset(g, 0, sizeof *g);
	g->out_fd = -1;
	snprintf(g->admin_url, sizeof g->admin_url, "%s", admin_url);
	n = strlen(g->admin_url);
	if (n > 0 && g->admin_url[n - 1] == '/')
		g->admin_url[n - 1] = '\0';
	if (admin(g, NULL, "/stats", &body, err, errlen) < 0)
		return -1;
	rec = cJSON_Parse(body);
	free(body);
	if (rec == NULL || ltb_satgroup_take_ports(g, rec) < 0) {
		snprintf(err, errlen, "satellite admin %s/stats: no ports "
		    "in its answer", g->admin_url);
		cJSON_Delete(rec);
		return -1;
	}
	/* Tracers go where the ports listen (the stats record's bind), or,
	 * on every address or from an older satellite that does not say,
	 * where we reached the admin port. */
	bind = cJSON_GetObjectItemCaseSensitive(rec, "bind");
	if (ltb_satgroup_host(g->admin_url, cJSON_IsString(bind) ?
	    bind->valuestring : NULL, g->host, sizeof g->host, err,
	    errlen) < 0) {
		cJSON_Delete(rec);
		return -1;
	}
	cJSON_Delete(rec);
	return 0;
}

/* Read the first line from fd within timeout_ms. */
static int
read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	double end = ltb_mono_s() + timeout_ms / 1e3;
	size_t n = 0;

	while (n < len - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)((end - ltb_mono_s()) * 1e3);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		if ((r = read(fd, buf + n, 1)) <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

void
ltb_satgroup_datagram_args(size_t nudp, const char *path, char *ports,
    char *args[5])
{
	size_t n = 0;

	ports[0] = '\0';
	for (size_t i = 0; i < nudp && i < LTB_CONTROL_MAX_PORTS; i++)
		strcat(ports, i ? ",0" : "0");
	args[n++] = "--udp";
	args[n++] = ports;
	if (path != NULL) {
		args[n++] = "--unix";
		args[n++] = (char *)path;
	}
	args[n] = NULL;
}

void
ltb_satgroup_resp_args(size_t nresp, char *ports, char *args[3])
{
	ports[0] = '\0';
	for (size_t i = 0; i < nresp && i < LTB_CONTROL_MAX_PORTS; i++)
		strcat(ports, i ? ",0" : "0");
	args[0] = "--resp";
	args[1] = ports;
	args[2] = NULL;
}

/* Start satellite on the HTTP ports ports ("8360,8361", "0,0"), plus
 * extra, and read its ready record. */
static int
spawn_group(struct ltb_satgroup *g, const char *satellite, char *ports,
    char *const extra[], char *err, size_t errlen)
{
	char line[4096];
	char *argv[64];
	size_t argc = 0;
	int pfd[2];
	cJSON *rec = NULL;
	const cJSON *url;

	memset(g, 0, sizeof *g);
	g->out_fd = -1;
	argv[argc++] = (char *)satellite;
	argv[argc++] = "--ports";
	argv[argc++] = ports;
	argv[argc++] = "--admin-port";
	argv[argc++] = "0";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && argc < 63; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	g->pid = ltb_proc_spawn(argv, NULL, pfd[1], err, errlen);
	close(pfd[1]);
	if (g->pid < 0) {
		g->pid = 0;
		close(pfd[0]);
		return -1;
	}
	g->out_fd = pfd[0];
	if (read_line(g->out_fd, line, sizeof line, 10000) < 0) {
		snprintf(err, errlen, "%s did not get ready (see its messages "
		    "above)", satellite);
		goto fail;
	}
	rec = cJSON_Parse(line);
	url = cJSON_GetObjectItemCaseSensitive(rec, "admin_url");
	if (!cJSON_IsString(url) || ltb_satgroup_take_ports(g, rec) < 0) {
		snprintf(err, errlen, "%s: not a ready record: %.80s",
		    satellite, line);
		goto fail;
	}
	snprintf(g->admin_url, sizeof g->admin_url, "%s", url->valuestring);
	cJSON_Delete(rec);
	return 0;
fail:
	cJSON_Delete(rec);
	ltb_satgroup_stop(g);
	return -1;
}

/* "p1,p2,..." of the first n of want (NULL: n zeros) into buf, which has
 * room for LTB_CONTROL_MAX_PORTS ports of 5 digits. */
static void
ports_arg(const uint16_t *want, size_t n, char *buf)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < LTB_CONTROL_MAX_PORTS; i++)
		off += (size_t)sprintf(buf + off, "%s%u", i ? "," : "",
		    want != NULL ? want[i] : 0u);
}

/*
 * Whether the wanted ports can be bound on the loopback the group binds:
 * each is bound and closed again (SO_REUSEADDR, as the satellite binds,
 * so a port whose old connections sit in TIME_WAIT counts as free). 0, or
 * -1 with the first busy port and why in err.
 */
static int
ports_free(const uint16_t *want, size_t n, char *err, size_t errlen)
{
	struct ltb_addr a;
	uint16_t bound;
	int fd;

	if (ltb_addr_parse(&a, "127.0.0.1", err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (want[i] == 0)
			continue;
		if ((fd = ltb_listen(&a, want[i], &bound, err, errlen)) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

int
ltb_satgroup_spawn_on(struct ltb_satgroup *g, const char *satellite,
    const uint16_t *want, size_t nports, int fallback, char *const extra[],
    char *busy, size_t busylen, char *err, size_t errlen)
{
	char ports[LTB_CONTROL_MAX_PORTS * 6 + 1];

	if (busylen > 0)
		busy[0] = '\0';
	if (nports > LTB_CONTROL_MAX_PORTS)
		nports = LTB_CONTROL_MAX_PORTS;
	ports_arg(want, nports, ports);
	if (ports_free(want, nports, busy, busylen) == 0) {
		if (spawn_group(g, satellite, ports, extra, err, errlen) == 0)
			return 0;
		/* Taken between our look and its bind, or it failed for
		 * another reason, which a start on free ports says again. */
		snprintf(busy, busylen, "the satellites could not start on "
		    "%s: %s", ports, err);
	}
	if (!fallback) {
		snprintf(err, errlen, "%s", busy);
		return -1;
	}
	ports_arg(NULL, nports, ports);
	if (spawn_group(g, satellite, ports, extra, err, errlen) < 0)
		return -1;
	return 1;
}

int
ltb_satgroup_spawn(struct ltb_satgroup *g, const char *satellite,
    size_t nports, char *const extra[], char *err, size_t errlen)
{
	char ports[LTB_CONTROL_MAX_PORTS * 6 + 1];

	ports_arg(NULL, nports, ports);
	return spawn_group(g, satellite, ports, extra, err, errlen);
}

/*
 * Wait for our child to exit, reading what it still writes: its last
 * stats record, printed as it stops, is larger than a pipe holds when the
 * group has many ports (17 for a datagram plan: 70 KB), and a child
 * blocked on a full pipe never exits. What it writes is not ours to keep.
 * 1 when it exited, 0 when the deadline passed.
 */
static int
wait_draining(struct ltb_satgroup *g, double end, int *status)
{
	char junk[16384];

	while (waitpid(g->pid, status, WNOHANG) == 0) {
		struct pollfd p = { .fd = g->out_fd, .events = POLLIN };

		if (ltb_mono_s() > end)
			return 0;
		/* The poll is the pause between looks; with nothing left to
		 * read, a sleep is. */
		if (g->out_fd < 0) {
			usleep(10000);
			continue;
		}
		if (poll(&p, 1, 10) > 0 &&
		    read(g->out_fd, junk, sizeof junk) <= 0) {
			close(g->out_fd);
			g->out_fd = -1;
		}
	}
	return 1;
}

int
ltb_satgroup_stop(struct ltb_satgroup *g)
{
	int killed = 0;

	if (g->pid > 0) {
		int status;

		kill(g->pid, SIGTERM);
		if (!wait_draining(g, ltb_mono_s() + 5, &status)) {
			kill(g->pid, SIGKILL);
			waitpid(g->pid, &status, 0);
			killed = 1;
		}
		g->pid = 0;
	}
	if (g->out_fd >= 0) {
		close(g->out_fd);
		g->out_fd = -1;
	}
	return killed;
}

