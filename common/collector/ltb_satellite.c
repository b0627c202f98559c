/*
 * ltb_satellite.c: the satellite group; see ltb_satellite.h and, for how
 * its files share the work, ltb_group.h.
 *
 * The group owns the ports, the mode, the duplicate set and every
 * counter; listeners (ltb_http.c, ltb_tls.c, one per transport) own
 * sockets; protocols (proto/, one file each) own the bytes of a message. The
 * figures of /stats are sums of per-port, per-protocol atomic counters,
 * summed again at the top level, as the original controller summed its
 * satellites.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/ltb_dupset.h"
#include "collector/ltb_group.h"
#include "collector/ltb_store.h"
#include "core/ltb_clock.h"
#include "core/ltb_jsonl.h"

const char *const ltb_reject_names[LTB_NREJECT] = {
	"malformed", "too_large", "slow_fail", "wrong_method",
	"unsupported_media_type", "unsupported_encoding", "scripted",
	"memory_budget"
};

static const char *const mode_names[LTB_NMODES] = {
	"typical", "slow_succeed", "slow_fail"
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
	c->memory_budget = 256u << 20;
	c->max_connections = 256;
	c->max_connections_total = 1024;
	c->idle_timeout = 30;
	c->header_timeout = 5;
	c->body_timeout = 10;
	c->dup_window = 1u << 18;
	c->keep_traces = 1000;
	c->keep_bytes = 64u << 20;
}

/* ---- counting what is not a message --------------------------------------- */

size_t
ltb_proto_index(const struct ltb_collector_proto *p)
{
	size_t i;

	for (i = 0; ltb_collector_protocols[i] != NULL; i++)
		if (ltb_collector_protocols[i] == p)
			break;
	return i;
}

/* The path as a short, printable key: what a message can quote as it is.
 * Bytes outside printable ASCII, quotes and backslashes become '?'. */
static void
path_key(char *key, const char *url)
{
	size_t len = strlen(url), keep = len > LTB_PATH_KEEP ? LTB_PATH_KEEP - 3 : len;
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
path_count(struct ltb_path_table *t, const char *key)
{
	size_t i;

	t->total++;
	for (i = 0; i < t->npaths; i++)
		if (strcmp(t->p[i].path, key) == 0) {
			t->p[i].n++;
			return;
		}
	if (t->npaths == LTB_MAX_PATHS) {
		t->other++;
		return;
	}
	snprintf(t->p[i].path, sizeof t->p[i].path, "%s", key);
	t->p[i].n = 1;
	t->npaths++;
}

void
ltb_port_connection(struct ltb_port *port)
{
	atomic_fetch_add_explicit(&port->connections, 1, memory_order_relaxed);
}

void
ltb_port_request(struct ltb_port *port)
{
	atomic_fetch_add_explicit(&port->requests, 1, memory_order_relaxed);
}

void
ltb_port_bad_request(struct ltb_port *port)
{
	atomic_fetch_add_explicit(&port->bad_requests, 1, memory_order_relaxed);
}

void
ltb_port_handshake_failure(struct ltb_port *port)
{
	atomic_fetch_add_explicit(&port->tls_handshake_failures, 1,
	    memory_order_relaxed);
}

void
ltb_port_unknown_path(struct ltb_port *port, const char *url)
{
	struct ltb_sat *g = port->group;
	char key[LTB_PATH_KEEP + 1];

	path_key(key, url);
	pthread_mutex_lock(&g->path_lock);
	path_count(&port->paths, key);
	path_count(&g->paths, key);
	pthread_mutex_unlock(&g->path_lock);
}

void
ltb_port_reject(struct ltb_port *port, const struct ltb_collector_proto *p,
    enum ltb_reject why)
{
	atomic_fetch_add_explicit(&port->pc[ltb_proto_index(p)].rejected[why],
	    1, memory_order_relaxed);
}

static void
counts_zero(struct ltb_port *port)
{
	for (size_t k = 0; k < LTB_MAX_PROTOS; k++) {
		struct ltb_proto_counts *n = &port->pc[k];

		atomic_store(&n->units, 0);
		atomic_store(&n->messages, 0);
		atomic_store(&n->bytes, 0);
		atomic_store(&n->duplicates, 0);
		atomic_store(&n->invalid_units, 0);
		atomic_store(&n->refused, 0);
		atomic_store(&n->refused_new, 0);
		atomic_store(&n->retried, 0);
		for (int i = 0; i < LTB_MAX_INVALID; i++)
			atomic_store(&n->invalid[i], 0);
		for (int i = 0; i < LTB_NREJECT; i++)
			atomic_store(&n->rejected[i], 0);
		for (int i = 0; i < LTB_MAX_KINDS; i++)
			atomic_store(&n->kinds[i], 0);
	}
	atomic_store(&port->connections, 0);
	atomic_store(&port->requests, 0);
	atomic_store(&port->tls_handshake_failures, 0);
	atomic_store(&port->refused_connections, 0);
	atomic_store(&port->evicted_connections, 0);
	atomic_store(&port->header_timeouts, 0);
	atomic_store(&port->body_timeouts, 0);
	atomic_store(&port->idle_timeouts, 0);
	atomic_store(&port->bad_requests, 0);
	atomic_store(&port->socket_drops, 0);
}

/* ---- the group ----------------------------------------------------------- */

/* The protocols' shared states (ltb_collector.h), each set up once. */
static int
shared_start(struct ltb_sat *g)
{
	const struct ltb_collector_proto *p;

	for (size_t k = 0; (p = ltb_collector_protocols[k]) != NULL; k++) {
		if (p->shared_size == 0)
			continue;
		if ((g->shared[k] = calloc(1, p->shared_size)) == NULL)
			return -1;
		if (p->shared_init(g->shared[k], &g->budget) < 0) {
			free(g->shared[k]);
			g->shared[k] = NULL;
			return -1;
		}
	}
	return 0;
}

static void
shared_stop(struct ltb_sat *g)
{
	const struct ltb_collector_proto *p;

	for (size_t k = 0; (p = ltb_collector_protocols[k]) != NULL; k++) {
		if (g->shared[k] == NULL)
			continue;
		p->shared_free(g->shared[k]);
		free(g->shared[k]);
		g->shared[k] = NULL;
	}
}

static void
ports_stop(struct ltb_sat *g)
{
	for (size_t i = 0; i < g->nports; i++)
		g->ports[i].listener->stop(&g->ports[i]);
}

/* Start the ports that are not serving. */
static int
ports_start(struct ltb_sat *g, char *err, size_t errlen)
{
	for (size_t i = 0; i < g->nports; i++)
		if (g->ports[i].ls == NULL &&
		    g->ports[i].listener->start(&g->ports[i], err, errlen) < 0)
			return -1;
	return 0;
}

struct ltb_sat *
ltb_sat_start(const struct ltb_sat_config *c, char *err, size_t errlen)
{
	struct ltb_sat *g;
	size_t nports;

	if (ltb_collector_nprotocols() > LTB_MAX_PROTOS) {
		snprintf(err, errlen, "%zu protocols, at most %d: raise "
		    "LTB_MAX_PROTOS", ltb_collector_nprotocols(),
		    LTB_MAX_PROTOS);
		return NULL;
	}
	if ((g = calloc(1, sizeof *g)) == NULL)
		goto nomem;
	g->cfg = *c;
	pthread_mutex_init(&g->state_lock, NULL);
	pthread_mutex_init(&g->dup_lock, NULL);
	pthread_mutex_init(&g->path_lock, NULL);
	pthread_mutex_init(&g->script_lock, NULL);
	pthread_mutex_init(&g->conn_lock, NULL);
	atomic_init(&g->scripted, 0);
	atomic_init(&g->mode, c->mode);
	atomic_init(&g->up, 1);
	for (int i = 0; i < LTB_ADMIN_NREFUSE; i++)
		atomic_init(&g->admin_refused[i], 0);
	ltb_budget_init(&g->budget, c->memory_budget);
	if ((g->dups = ltb_dupset_new(c->dup_window)) == NULL)
		goto nomem;
	if (shared_start(g) < 0)
		goto nomem;
	/* HTTP ports first, then UDP, then the unix socket, then RESP. */
	nports = c->nports + c->nudp + (c->unix_path != NULL) + c->nresp;
	if ((g->ports = calloc(nports, sizeof *g->ports)) == NULL)
		goto nomem;
	/* nports once the address parsed: stop must not walk ports that
	 * are not set up. */
	if (ltb_addr_parse(&g->addr, c->bind, err, errlen) < 0)
		goto fail;
	if (c->unix_path != NULL &&
	    strlen(c->unix_path) >= sizeof g->ports[0].path) {
		snprintf(err, errlen, "cannot bind unix socket %s: a path of "
		    "at most %zu bytes", c->unix_path,
		    sizeof g->ports[0].path - 1);
		goto fail;
	}
	g->nports = nports;
	for (size_t i = 0; i < g->nports; i++) {
		struct ltb_port *pt = &g->ports[i];

		pt->group = g;
		if (i < c->nports) {
			pt->listener = c->tls ? &ltb_listener_tls :
			    &ltb_listener_http;
			pt->port = c->ports[i];
		} else if (i < c->nports + c->nudp) {
			pt->listener = &ltb_listener_udp;
			pt->port = c->udp_ports[i - c->nports];
		} else if (c->unix_path != NULL &&
		    i == c->nports + c->nudp) {
			pt->listener = &ltb_listener_unix;
			snprintf(pt->path, sizeof pt->path, "%s", c->unix_path);
		} else {
			pt->listener = &ltb_listener_resp;
			pt->port = c->resp_ports[i - (nports - c->nresp)];
		}
		pthread_mutex_init(&pt->bw_lock, NULL);
	}
	if (c->tls && (g->tls = ltb_tls_new(c, &g->addr, err, errlen)) == NULL)
		goto fail;
	if (ltb_admin_start(g, err, errlen) < 0)
		goto fail;
	if (ltb_conns_start(g, err, errlen) < 0)
		goto fail;
	/* The RESP ports' kept keys, in the budget like what they hold. */
	if (c->nresp > 0 && (g->resp_store = ltb_store_new(c->keep_traces,
	    c->keep_bytes, &g->budget)) == NULL)
		goto nomem;
	if (ports_start(g, err, errlen) < 0)
		goto fail;
	g->cfg.bind = g->addr.text;
	g->cfg.admin_bind = g->admin_addr.text;
	g->cfg.admin_token = NULL;	/* kept in g->admin_token */
	/* Read and written: nothing borrowed is kept. */
	g->cfg.cert_file = g->cfg.key_file = g->cfg.cert_out = NULL;
	g->cfg.unix_path = NULL;	/* kept in its port's path */
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
	if (g->ports != NULL)
		ports_stop(g);
	ltb_admin_stop(g);
	/* After the ports: every connection is closed, the table empty. */
	ltb_conns_stop(g);
	ltb_store_free(g->resp_store);
	ltb_tls_free(g->tls);
	for (size_t i = 0; i < g->nports; i++)
		pthread_mutex_destroy(&g->ports[i].bw_lock);
	free(g->ports);
	ltb_dupset_free(g->dups);
	shared_stop(g);
	pthread_mutex_destroy(&g->dup_lock);
	pthread_mutex_destroy(&g->path_lock);
	pthread_mutex_destroy(&g->script_lock);
	pthread_mutex_destroy(&g->conn_lock);
	pthread_mutex_destroy(&g->state_lock);
	free(g);
}

int
ltb_sat_admin_public(const struct ltb_sat *g)
{
	return !ltb_addr_is_loopback(&g->admin_addr);
}

int
ltb_sat_down(struct ltb_sat *g)
{
	pthread_mutex_lock(&g->state_lock);
	atomic_store(&g->up, 0);
	ports_stop(g);
	pthread_mutex_unlock(&g->state_lock);
	return 0;
}

int
ltb_sat_up(struct ltb_sat *g, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&g->state_lock);
	if ((rc = ports_start(g, err, errlen)) == 0)
		atomic_store(&g->up, 1);
	else
		ports_stop(g);
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
	for (size_t i = 0; i < g->nports; i++) {
		counts_zero(&g->ports[i]);
		memset(&g->ports[i].paths, 0, sizeof g->ports[i].paths);
	}
	memset(&g->paths, 0, sizeof g->paths);
	pthread_mutex_unlock(&g->path_lock);
	pthread_mutex_unlock(&g->dup_lock);
	pthread_mutex_lock(&g->script_lock);
	memset(g->step_answered, 0, sizeof g->step_answered);
	memset(g->step_units, 0, sizeof g->step_units);
	pthread_mutex_unlock(&g->script_lock);
	for (size_t k = 0; ltb_collector_protocols[k] != NULL; k++)
		if (g->shared[k] != NULL)
			ltb_collector_protocols[k]->shared_reset(g->shared[k]);
	/* The kept keys stay to be read back; only their counts go. */
	if (g->resp_store != NULL)
		ltb_store_reset_counts(g->resp_store);
	ltb_budget_reset_peak(&g->budget);
}

/* ---- the script ------------------------------------------------------------ */

void
ltb_sat_set_script(struct ltb_sat *g, const struct ltb_script *sc)
{
	pthread_mutex_lock(&g->script_lock);
	g->script = *sc;
	g->script_t0_ns = ltb_mono_ns();
	g->script_gen++;
	memset(g->step_answered, 0, sizeof g->step_answered);
	memset(g->step_units, 0, sizeof g->step_units);
	atomic_store(&g->scripted, sc->n > 0);
	pthread_mutex_unlock(&g->script_lock);
}

/* Seconds since the script was posted; under script_lock. */
static double
script_elapsed(const struct ltb_sat *g)
{
	return (double)(ltb_mono_ns() - g->script_t0_ns) / 1e9;
}

int
ltb_sat_script_step(struct ltb_sat *g, struct ltb_script_step *st,
    uint64_t *gen)
{
	int i;

	if (!atomic_load_explicit(&g->scripted, memory_order_relaxed))
		return -1;
	pthread_mutex_lock(&g->script_lock);
	if ((i = ltb_script_active(&g->script, script_elapsed(g))) >= 0) {
		*st = g->script.step[i];
		*gen = g->script_gen;
	}
	pthread_mutex_unlock(&g->script_lock);
	return i;
}

void
ltb_sat_script_answered(struct ltb_sat *g, uint64_t gen, int index,
    uint64_t units)
{
	pthread_mutex_lock(&g->script_lock);
	if (gen == g->script_gen && index >= 0 &&
	    (size_t)index < g->script.n) {
		g->step_answered[index]++;
		g->step_units[index] += units;
	}
	pthread_mutex_unlock(&g->script_lock);
}

cJSON *
ltb_sat_script_json(struct ltb_sat *g)
{
	cJSON *o = cJSON_CreateObject(), *steps, *st;
	int active;

	if (o == NULL)
		return NULL;
	pthread_mutex_lock(&g->script_lock);
	steps = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; steps != NULL && i < g->script.n; i++) {
		if ((st = ltb_script_step_json(&g->script.step[i])) == NULL)
			break;
		cJSON_AddNumberToObject(st, "answered",
		    (double)g->step_answered[i]);
		cJSON_AddNumberToObject(st, "units", (double)g->step_units[i]);
		cJSON_AddItemToArray(steps, st);
	}
	active = ltb_script_active(&g->script, script_elapsed(g));
	if (active >= 0)
		cJSON_AddNumberToObject(o, "active", active);
	else
		cJSON_AddNullToObject(o, "active");
	if (g->script.n > 0)
		cJSON_AddNumberToObject(o, "elapsed_s",
		    round(script_elapsed(g) * 1000) / 1000);
	else
		cJSON_AddNullToObject(o, "elapsed_s");
	pthread_mutex_unlock(&g->script_lock);
	return o;
}

uint64_t
ltb_sat_spans_received(struct ltb_sat *g)
{
	uint64_t n = 0;

	for (size_t i = 0; i < g->nports; i++)
		for (size_t k = 0; k < ltb_collector_nprotocols(); k++)
			n += atomic_load(&g->ports[i].pc[k].units);
	return n;
}

/* ---- records --------------------------------------------------------------- */

static const char *const transport_names[LTB_NTRANSPORTS] = {
	"http", "udp", "unix_dgram", "tcp"
};

/* What the table serves, for the ready record and --help. */
static cJSON *
protocols_list(void)
{
	const struct ltb_collector_proto *p;
	cJSON *a = cJSON_CreateArray(), *o;

	for (size_t i = 0; a != NULL &&
	    (p = ltb_collector_protocols[i]) != NULL; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddStringToObject(o, "name", p->name);
		cJSON_AddStringToObject(o, "unit", p->unit);
		cJSON_AddStringToObject(o, "transport",
		    transport_names[p->transport]);
		if (p->path != NULL)
			cJSON_AddStringToObject(o, "path", p->path);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* A URL that reaches the admin port: on every address, through loopback,
 * since the admin port refuses a Host of 0.0.0.0 (a browser's way in). */
static void
admin_url(struct ltb_sat *g, char *url, size_t len)
{
	struct ltb_addr lo;
	char err[128];

	if (ltb_addr_is_any(&g->admin_addr) && ltb_addr_parse(&lo,
	    g->admin_addr.v6 ? "::1" : "127.0.0.1", err, sizeof err) == 0)
		ltb_addr_url(&lo, g->admin_port, url, len);
	else
		ltb_addr_url(&g->admin_addr, g->admin_port, url, len);
}

/* The unix socket's path, or NULL without one. */
static const char *
unix_socket(const struct ltb_sat *g)
{
	for (size_t i = 0; i < g->nports; i++)
		if (g->ports[i].listener == &ltb_listener_unix)
			return g->ports[i].path;
	return NULL;
}

cJSON *
ltb_sat_ready_record(struct ltb_sat *g)
{
	cJSON *rec = ltb_record_new("ready"), *ports;
	const char *unix_path;
	char url[128];

	if (rec == NULL)
		return NULL;
	admin_url(g, url, sizeof url);
	cJSON_AddNumberToObject(rec, "pid", (double)getpid());
	cJSON_AddStringToObject(rec, "bind", g->addr.text);
	ports = cJSON_AddArrayToObject(rec, "ports");
	for (size_t i = 0; ports != NULL && i < g->nports; i++)
		if (g->ports[i].listener->transport == LTB_TRANSPORT_HTTP)
			cJSON_AddItemToArray(ports,
			    cJSON_CreateNumber(g->ports[i].port));
	ports = cJSON_AddArrayToObject(rec, "udp_ports");
	for (size_t i = 0; ports != NULL && i < g->nports; i++)
		if (g->ports[i].listener == &ltb_listener_udp)
			cJSON_AddItemToArray(ports,
			    cJSON_CreateNumber(g->ports[i].port));
	ports = cJSON_AddArrayToObject(rec, "resp_ports");
	for (size_t i = 0; ports != NULL && i < g->nports; i++)
		if (g->ports[i].listener == &ltb_listener_resp)
			cJSON_AddItemToArray(ports,
			    cJSON_CreateNumber(g->ports[i].port));
	if ((unix_path = unix_socket(g)) != NULL)
		cJSON_AddStringToObject(rec, "unix_socket", unix_path);
	else
		cJSON_AddNullToObject(rec, "unix_socket");
	cJSON_AddNumberToObject(rec, "admin_port", g->admin_port);
	cJSON_AddStringToObject(rec, "admin_bind", g->admin_addr.text);
	cJSON_AddStringToObject(rec, "admin_url", url);
	cJSON_AddStringToObject(rec, "mode",
	    ltb_sat_mode_name(atomic_load(&g->mode)));
	cJSON_AddStringToObject(rec, "validate",
	    g->cfg.full_validate ? "full" : "walk");
	cJSON_AddBoolToObject(rec, "tls", g->cfg.tls);
	if (ltb_tls_cert_out(g->tls) != NULL)
		cJSON_AddStringToObject(rec, "cert", ltb_tls_cert_out(g->tls));
	cJSON_AddItemToObject(rec, "protocols", protocols_list());
	return rec;
}

static void
add_paths(cJSON *obj, struct ltb_sat *g, const struct ltb_path_table *t)
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

/* One protocol's counts, summed over the ports (or one port). */
struct sums {
	uint64_t units, messages, bytes, dups, inv;
	uint64_t refused, refused_new, retried;
	uint64_t invalid[LTB_MAX_INVALID], rejected[LTB_NREJECT];
	uint64_t kinds[LTB_MAX_KINDS];
};

static void
sum_protocol(struct sums *s, struct ltb_sat *g, const struct ltb_port *only,
    size_t k)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < g->nports; i++) {
		const struct ltb_proto_counts *n = &g->ports[i].pc[k];

		if (only != NULL && only != &g->ports[i])
			continue;
		s->units += atomic_load(&n->units);
		s->messages += atomic_load(&n->messages);
		s->bytes += atomic_load(&n->bytes);
		s->dups += atomic_load(&n->duplicates);
		s->inv += atomic_load(&n->invalid_units);
		s->refused += atomic_load(&n->refused);
		s->refused_new += atomic_load(&n->refused_new);
		s->retried += atomic_load(&n->retried);
		for (int r = 0; r < LTB_MAX_INVALID; r++)
			s->invalid[r] += atomic_load(&n->invalid[r]);
		for (int r = 0; r < LTB_NREJECT; r++)
			s->rejected[r] += atomic_load(&n->rejected[r]);
		for (int r = 0; r < LTB_MAX_KINDS; r++)
			s->kinds[r] += atomic_load(&n->kinds[r]);
	}
}

static void
add_rejected(cJSON *obj, const uint64_t *rejected)
{
	cJSON *o = cJSON_AddObjectToObject(obj, "rejected");

	for (int r = 0; o != NULL && r < LTB_NREJECT; r++)
		cJSON_AddNumberToObject(o, ltb_reject_names[r],
		    (double)rejected[r]);
}

/* Add n to obj[key], creating it: reasons of several protocols with one
 * name are one figure at the top level. */
static void
add_to(cJSON *obj, const char *key, uint64_t n)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL)
		cJSON_AddNumberToObject(obj, key, (double)n);
	else
		cJSON_SetNumberValue(v, v->valuedouble + (double)n);
}

/* One protocol's own object: its figures in its unit and its reasons. */
static cJSON *
protocol_counts(const struct ltb_collector_proto *p, const struct sums *s,
    void *shared)
{
	cJSON *o = cJSON_CreateObject(), *inv;
	uint64_t nrej = 0;

	if (o == NULL)
		return NULL;
	for (int r = 0; r < LTB_NREJECT; r++)
		nrej += s->rejected[r];
	cJSON_AddStringToObject(o, "unit", p->unit);
	cJSON_AddNumberToObject(o, "received", (double)s->units);
	cJSON_AddNumberToObject(o, "invalid", (double)s->inv);
	cJSON_AddNumberToObject(o, "duplicates", (double)s->dups);
	cJSON_AddNumberToObject(o, "refused", (double)s->refused);
	cJSON_AddNumberToObject(o, "refused_new", (double)s->refused_new);
	cJSON_AddNumberToObject(o, "retried", (double)s->retried);
	cJSON_AddNumberToObject(o, "messages", (double)s->messages);
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	cJSON_AddNumberToObject(o, "rejected_messages", (double)nrej);
	add_rejected(o, s->rejected);
	inv = cJSON_AddObjectToObject(o, p->invalid_key != NULL ?
	    p->invalid_key : "invalid_by_reason");
	for (unsigned r = 1; inv != NULL && r < p->ninvalid &&
	    r < LTB_MAX_INVALID; r++)
		cJSON_AddNumberToObject(inv, p->invalid_names[r],
		    (double)s->invalid[r]);
	if (p->nkinds > 0 && p->kinds_key != NULL &&
	    (inv = cJSON_AddObjectToObject(o, p->kinds_key)) != NULL)
		for (unsigned r = 0; r < p->nkinds && r < LTB_MAX_KINDS; r++)
			cJSON_AddNumberToObject(inv, p->kind_names[r],
			    (double)s->kinds[r]);
	/* The group's own: a port does not have them apart. */
	if (shared != NULL)
		p->shared_stats(shared, o);
	return o;
}

/* The counts of one port, or the sum over all when port is NULL: the
 * totals at the top (spans_received is every protocol's units), then
 * each protocol's own under "protocols". */
static void
add_counts(cJSON *obj, struct ltb_sat *g, const struct ltb_port *port)
{
	const struct ltb_collector_proto *p;
	struct sums s, t = { 0 };
	uint64_t conns = 0, reqs = 0, nrej = 0, hsfail = 0, bad = 0, drops = 0;
	uint64_t c_open = 0, c_refused = 0, c_evicted = 0, c_hdr = 0,
	    c_body = 0, c_idle = 0;
	cJSON *inv, *protos;

	inv = cJSON_CreateObject();
	protos = cJSON_CreateObject();
	for (size_t k = 0; (p = ltb_collector_protocols[k]) != NULL; k++) {
		sum_protocol(&s, g, port, k);
		t.units += s.units;
		t.messages += s.messages;
		t.bytes += s.bytes;
		t.dups += s.dups;
		t.inv += s.inv;
		t.refused += s.refused;
		t.refused_new += s.refused_new;
		t.retried += s.retried;
		for (int r = 0; r < LTB_NREJECT; r++)
			t.rejected[r] += s.rejected[r];
		for (unsigned r = 1; inv != NULL && r < p->ninvalid &&
		    r < LTB_MAX_INVALID; r++)
			add_to(inv, p->invalid_names[r], s.invalid[r]);
		if (protos != NULL)
			cJSON_AddItemToObject(protos, p->name,
			    protocol_counts(p, &s, port == NULL ? g->shared[k] :
			    NULL));
	}
	for (size_t i = 0; i < g->nports; i++) {
		if (port != NULL && port != &g->ports[i])
			continue;
		conns += atomic_load(&g->ports[i].connections);
		reqs += atomic_load(&g->ports[i].requests);
		hsfail += atomic_load(&g->ports[i].tls_handshake_failures);
		c_refused += atomic_load(&g->ports[i].refused_connections);
		c_evicted += atomic_load(&g->ports[i].evicted_connections);
		c_hdr += atomic_load(&g->ports[i].header_timeouts);
		c_body += atomic_load(&g->ports[i].body_timeouts);
		c_idle += atomic_load(&g->ports[i].idle_timeouts);
		pthread_mutex_lock(&g->conn_lock);
		c_open += g->ports[i].conns_open;
		pthread_mutex_unlock(&g->conn_lock);
		bad += atomic_load(&g->ports[i].bad_requests);
		drops += atomic_load(&g->ports[i].socket_drops);
	}
	for (int r = 0; r < LTB_NREJECT; r++)
		nrej += t.rejected[r];
	cJSON_AddNumberToObject(obj, "spans_received", (double)t.units);
	cJSON_AddNumberToObject(obj, "reports", (double)t.messages);
	cJSON_AddNumberToObject(obj, "bytes", (double)t.bytes);
	cJSON_AddNumberToObject(obj, "invalid_spans", (double)t.inv);
	cJSON_AddNumberToObject(obj, "duplicate_spans", (double)t.dups);
	cJSON_AddNumberToObject(obj, "refused_spans", (double)t.refused);
	cJSON_AddNumberToObject(obj, "refused_new_spans",
	    (double)t.refused_new);
	cJSON_AddNumberToObject(obj, "retried_spans", (double)t.retried);
	cJSON_AddNumberToObject(obj, "rejected_reports", (double)nrej);
	cJSON_AddNumberToObject(obj, "connections", (double)conns);
	cJSON_AddNumberToObject(obj, "connections_open", (double)c_open);
	cJSON_AddNumberToObject(obj, "refused_connections", (double)c_refused);
	cJSON_AddNumberToObject(obj, "evicted_connections", (double)c_evicted);
	cJSON_AddNumberToObject(obj, "header_timeouts", (double)c_hdr);
	cJSON_AddNumberToObject(obj, "body_timeouts", (double)c_body);
	cJSON_AddNumberToObject(obj, "idle_timeouts", (double)c_idle);
	cJSON_AddNumberToObject(obj, "requests", (double)reqs);
	cJSON_AddNumberToObject(obj, "bad_requests", (double)bad);
	cJSON_AddNumberToObject(obj, "socket_drops", (double)drops);
	if (g->cfg.tls)
		cJSON_AddNumberToObject(obj, "tls_handshake_failures",
		    (double)hsfail);
	add_rejected(obj, t.rejected);
	if (inv != NULL)
		cJSON_AddItemToObject(obj, "invalid", inv);
	add_paths(obj, g, port != NULL ? &port->paths : &g->paths);
	if (protos != NULL)
		cJSON_AddItemToObject(obj, "protocols", protos);
}

/* What the admin port refused, in all and by reason. */
static void
add_admin_refused(cJSON *obj, struct ltb_sat *g)
{
	uint64_t n[LTB_ADMIN_NREFUSE], all = 0;
	cJSON *o;

	for (int i = 0; i < LTB_ADMIN_NREFUSE; i++)
		all += n[i] = atomic_load(&g->admin_refused[i]);
	cJSON_AddNumberToObject(obj, "admin_refused", (double)all);
	o = cJSON_AddObjectToObject(obj, "admin_refused_by_reason");
	for (int i = 0; o != NULL && i < LTB_ADMIN_NREFUSE; i++)
		cJSON_AddNumberToObject(o, ltb_admin_refuse_names[i],
		    (double)n[i]);
}

/* "memory_budget": {"limit" (0: none), "used" now, "peak" since a reset},
 * in bytes. */
static void
add_budget(cJSON *obj, struct ltb_budget *b)
{
	cJSON *o = cJSON_AddObjectToObject(obj, "memory_budget");

	if (o == NULL)
		return;
	cJSON_AddNumberToObject(o, "limit", (double)b->limit);
	cJSON_AddNumberToObject(o, "used", (double)atomic_load(&b->used));
	cJSON_AddNumberToObject(o, "peak", (double)atomic_load(&b->peak));
}

/* "kept": what the RESP ports keep to be read back (ltb_store.h): keys
 * and bytes now, keys evicted and values not kept for want of room. */
static void
add_kept(cJSON *obj, struct ltb_store *s)
{
	cJSON *o = cJSON_AddObjectToObject(obj, "kept");
	struct ltb_store_counts k;

	if (o == NULL)
		return;
	ltb_store_counts(s, &k);
	cJSON_AddNumberToObject(o, "keys", (double)k.keys);
	cJSON_AddNumberToObject(o, "bytes", (double)k.bytes);
	cJSON_AddNumberToObject(o, "evicted_keys", (double)k.evicted_keys);
	cJSON_AddNumberToObject(o, "not_kept", (double)k.not_kept);
}

/* Which port: its transport, its number or path, and for a datagram
 * socket the receive buffer the kernel gave. */
static void
port_where(cJSON *o, const struct ltb_port *pt)
{
	enum ltb_transport t = pt->listener->transport;

	cJSON_AddStringToObject(o, "transport", transport_names[t]);
	if (t == LTB_TRANSPORT_UNIX_DGRAM) {
		cJSON_AddNumberToObject(o, "port", 0);
		cJSON_AddStringToObject(o, "path", pt->path);
	} else
		cJSON_AddNumberToObject(o, "port", pt->port);
	if (t == LTB_TRANSPORT_UDP || t == LTB_TRANSPORT_UNIX_DGRAM)
		cJSON_AddNumberToObject(o, "rcvbuf_bytes",
		    atomic_load(&pt->rcvbuf));
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
	/* Where tracers reach the ports: a controller that came through
	 * the admin port may have come another way. */
	cJSON_AddStringToObject(rec, "bind", g->addr.text);
	add_counts(rec, g, NULL);
	add_admin_refused(rec, g);
	add_budget(rec, &g->budget);
	if (g->resp_store != NULL)
		add_kept(rec, g->resp_store);
	cJSON_AddItemToObject(rec, "script", ltb_sat_script_json(g));
	ports = cJSON_AddArrayToObject(rec, "ports");
	for (size_t i = 0; ports != NULL && i < g->nports; i++) {
		if ((p = cJSON_CreateObject()) == NULL)
			break;
		port_where(p, &g->ports[i]);
		add_counts(p, g, &g->ports[i]);
		cJSON_AddItemToArray(ports, p);
	}
	return rec;
}
