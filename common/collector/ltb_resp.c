/*
 * ltb_resp.c: the RESP listener of a satellite group (Redis's protocol
 * over TCP, for OSProfiler's redis driver); see ltb_group.h.
 *
 * A thread accepts; each connection has a thread of its own, so that a
 * mode's delay or a script's holds only that connection, as for HTTP.
 * Connections go through the group's table (ltb_conns.c): admission with
 * the same limits and fair eviction, and the reaper's deadlines (idle
 * between commands, a command stalled part way as a body).
 *
 * A connection reads a piece, frames it into commands
 * (ltb_resp_parse.c), answers each in order into its output buffer and
 * writes the buffer once the piece is used up: a pipelined batch is
 * answered in one write. Commands are the few that redis-py, redis-cli
 * and OSProfiler's driver send, answered as Redis 7 answers them, errors
 * word for word. LPUSH and RPUSH to a key that begins with the path of a
 * protocol of the table whose transport is TCP (OSProfiler's
 * "osprofiler_opt:") make each value one message of it, driven through
 * ltb_msg_* like an HTTP body, so modes, scripts, limits and counts are
 * the same; what it accepts is kept in the group's store (ltb_store.c),
 * which SCAN, LRANGE, LINDEX and GET read back.
 *
 * Stopping closes the listening socket, shuts every connection down and
 * joins every thread before it returns: nothing of the port is left.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "collector/ltb_group.h"
#include "collector/ltb_resp_parse.h"
#include "collector/ltb_store.h"

#define THREAD_STACK (512 * 1024)	/* as ltb_http.c: room under ASan */
#define READ_CHUNK (64 * 1024)
#define OUT_FLUSH (64 * 1024)		/* write the answers past this */
#define BUF_KEEP (1024 * 1024)		/* answer buffer kept between pieces */
#define SEND_TIMEOUT_S 10		/* a peer that does not read */
#define SCAN_COUNT 10			/* SCAN's default COUNT, Redis's */
#define NAME_MAX_LEN 128		/* CLIENT SETNAME kept */
#define REDIS_VERSION "7.0.15"		/* Debian bookworm's, as we answer */
#define NDB 16				/* SELECT 0..15 */

struct resp;

struct buf {
	char *b;
	size_t len, cap;
	int oom;
};

struct conn {
	struct conn *prev, *next;	/* under resp->lock */
	struct resp *r;
	struct ltb_port *port;
	int fd;
	pthread_t thread;
	struct ltb_conn *slot;
	struct ltb_resp_parser parser;
	struct buf out, tmp;		/* answers; an array being built */
	int closing;			/* QUIT, a fatal error, a hang-up */
	uint64_t id;			/* CLIENT ID */
	char name[NAME_MAX_LEN + 1];
	uint8_t in[READ_CHUNK];
};

struct resp {
	struct ltb_port *port;
	int fd, stopfd;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	pthread_cond_t gone;		/* a connection's thread ended */
	struct conn *live, *done;	/* running; ended, to be joined */
};

static atomic_uint_fast64_t next_client_id = 1;

/* ---- answers -------------------------------------------------------------- */

static void
put(struct buf *o, const void *p, size_t n)
{
	size_t ncap;
	char *nb;

	if (o->oom || n == 0)
		return;
	if (o->len + n > o->cap) {
		for (ncap = o->cap ? o->cap : 4096; ncap < o->len + n; ncap *= 2)
			;
		if ((nb = realloc(o->b, ncap)) == NULL) {
			o->oom = 1;
			return;
		}
		o->b = nb;
		o->cap = ncap;
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

static void putf(struct buf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct buf *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1);
}

static void
put_bulk(struct buf *o, const void *v, size_t n)
{
	if (v == NULL) {
		put(o, "$-1\r\n", 5);
		return;
	}
	putf(o, "$%zu\r\n", n);
	put(o, v, n);
	put(o, "\r\n", 2);
}

/* Empty o; a big buffer (a long LRANGE's) is let go rather than kept by
 * a connection that may sit idle for long. */
static void
buf_clear(struct buf *o)
{
	o->len = 0;
	if (o->cap > BUF_KEEP) {
		free(o->b);
		o->b = NULL;
		o->cap = 0;
	}
}

static void
put_str(struct buf *o, const char *s)
{
	put_bulk(o, s, strlen(s));
}

/* An error line: "-" then text, its CR and LF made spaces as Redis does. */
static void
put_err(struct buf *o, const char *text)
{
	size_t at = o->len;

	put(o, "-", 1);
	put(o, text, strlen(text));
	for (size_t i = at; !o->oom && i < o->len; i++)
		if (o->b[i] == '\r' || o->b[i] == '\n')
			o->b[i] = ' ';
	put(o, "\r\n", 2);
}

static void puterrf(struct buf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
puterrf(struct buf *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	put_err(o, line);
}

/* The store's readers' callbacks: a bulk, a count, a key into tmp. */
static void
each_bulk(void *ctx, const void *v, size_t n)
{
	put_bulk(ctx, v, n);
}

static void
each_count(void *ctx, size_t n)
{
	putf(ctx, "*%zu\r\n", n);
}

struct gather {
	struct buf *b;
	size_t n;
};

static void
each_gather(void *ctx, const void *v, size_t n)
{
	struct gather *g = ctx;

	put_bulk(g->b, v, n);
	g->n++;
}

/* ---- commands -------------------------------------------------------------- */

static const char *
arg(struct conn *c, size_t i, size_t *len)
{
	return ltb_resp_arg(&c->parser, i, len);
}

static int
is(struct conn *c, size_t i, const char *word)
{
	return strcasecmp(arg(c, i, NULL), word) == 0;
}

/* A whole integer argument: 0, or -1 having answered Redis's error. */
static int
int_arg(struct conn *c, size_t i, long long *v)
{
	const char *s = arg(c, i, NULL);
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *s == ' ' ||
	    *s == '+') {
		put_err(&c->out, "ERR value is not an integer or out of range");
		return -1;
	}
	return 0;
}

static struct ltb_store *
store(struct conn *c)
{
	return c->port->group->resp_store;
}

static void
wrongtype(struct conn *c)
{
	put_err(&c->out, "WRONGTYPE Operation against a key holding the "
	    "wrong kind of value");
}

static void
cmd_ping(struct conn *c, size_t argc)
{
	size_t n;
	const char *m;

	if (argc > 2) {
		put_err(&c->out, "ERR wrong number of arguments for 'ping' "
		    "command");
		return;
	}
	if (argc == 1) {
		put(&c->out, "+PONG\r\n", 7);
		return;
	}
	m = arg(c, 1, &n);
	put_bulk(&c->out, m, n);
}

static void
cmd_echo(struct conn *c, size_t argc)
{
	size_t n;
	const char *m = arg(c, 1, &n);

	put_bulk(&c->out, m, n);
}

static void
cmd_quit(struct conn *c, size_t argc)
{
	put(&c->out, "+OK\r\n", 5);
	c->closing = 1;
}

static void
cmd_hello(struct conn *c, size_t argc)
{
	long long v;
	char *end;
	const char *s;

	if (argc >= 2) {
		s = arg(c, 1, NULL);
		v = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0') {
			put_err(&c->out, "ERR Protocol version is not an "
			    "integer or out of range");
			return;
		}
		if (v != 2) {
			put_err(&c->out, "NOPROTO unsupported protocol "
			    "version");
			return;
		}
	}
	/* AUTH and SETNAME options: no password is configured, and the
	 * name is only kept; both answered as by the reply below. */
	for (size_t i = 2; i + 1 < argc; i++)
		if (is(c, i, "setname")) {
			snprintf(c->name, sizeof c->name, "%s",
			    arg(c, i + 1, NULL));
			i++;
		} else if (is(c, i, "auth") && i + 2 < argc)
			i += 2;
	put(&c->out, "*14\r\n", 5);
	put_str(&c->out, "server");
	put_str(&c->out, "redis");
	put_str(&c->out, "version");
	put_str(&c->out, REDIS_VERSION);
	put_str(&c->out, "proto");
	put(&c->out, ":2\r\n", 4);
	put_str(&c->out, "id");
	putf(&c->out, ":%llu\r\n", (unsigned long long)c->id);
	put_str(&c->out, "mode");
	put_str(&c->out, "standalone");
	put_str(&c->out, "role");
	put_str(&c->out, "master");
	put_str(&c->out, "modules");
	put(&c->out, "*0\r\n", 4);
}

static void
cmd_auth(struct conn *c, size_t argc)
{
	if (argc > 3)
		put_err(&c->out, "ERR syntax error");
	else if (argc == 2)
		put_err(&c->out, "ERR AUTH <password> called without any "
		    "password configured for the default user. Are you sure "
		    "your configuration is correct?");
	else if (strcmp(arg(c, 1, NULL), "default") == 0)
		put(&c->out, "+OK\r\n", 5);	/* default is nopass */
	else
		put_err(&c->out, "WRONGPASS invalid username-password pair "
		    "or user is disabled.");
}

static void
cmd_client(struct conn *c, size_t argc)
{
	const char *s;
	size_t n;

	if (is(c, 1, "setname") && argc == 3) {
		s = arg(c, 2, &n);
		for (size_t i = 0; i < n; i++)
			if (s[i] <= ' ' || s[i] > '~') {
				put_err(&c->out, "ERR Client names cannot "
				    "contain spaces, newlines or special "
				    "characters.");
				return;
			}
		snprintf(c->name, sizeof c->name, "%s", s);
		put(&c->out, "+OK\r\n", 5);
	} else if (is(c, 1, "getname") && argc == 2)
		put_bulk(&c->out, c->name[0] ? c->name : NULL,
		    strlen(c->name));
	else if (is(c, 1, "setinfo") && argc == 4)
		put(&c->out, "+OK\r\n", 5);
	else if (is(c, 1, "id") && argc == 2)
		putf(&c->out, ":%llu\r\n", (unsigned long long)c->id);
	else if (is(c, 1, "setname") || is(c, 1, "getname") ||
	    is(c, 1, "setinfo") || is(c, 1, "id"))
		puterrf(&c->out, "ERR wrong number of arguments for "
		    "'client|%.32s' command", arg(c, 1, NULL));
	else
		puterrf(&c->out, "ERR unknown subcommand '%.128s'. Try CLIENT "
		    "HELP.", arg(c, 1, NULL));
}

static void
cmd_select(struct conn *c, size_t argc)
{
	long long db;

	if (int_arg(c, 1, &db) < 0)
		return;
	if (db < 0 || db >= NDB)
		put_err(&c->out, "ERR DB index is out of range");
	else
		put(&c->out, "+OK\r\n", 5);
}

/* ---- pushing: a protocol's messages ---------------------------------------- */

/* The protocol whose messages the values of key are, or NULL. */
static const struct ltb_collector_proto *
key_proto(const char *key)
{
	const struct ltb_collector_proto *p;

	for (size_t i = 0; (p = ltb_collector_protocols[i]) != NULL; i++)
		if (p->transport == LTB_TRANSPORT_TCP && p->path != NULL &&
		    strncmp(key, p->path, strlen(p->path)) == 0)
			return p;
	return NULL;
}

/* One value as one message of p: 0 when accepted, else the status of the
 * reply (LTB_REPLY_DROP: hang up), its answer in *reply. */
static unsigned
deliver(struct conn *c, const struct ltb_collector_proto *p, const char *key,
    const char *v, size_t n, struct ltb_reply *reply)
{
	struct ltb_msg_head head = { .path = key, .declared_len = n };
	struct ltb_msg *m;

	if ((m = ltb_msg_begin(c->port, p, &head, reply)) == NULL)
		return reply->status ? reply->status : 503;
	(void)ltb_msg_feed(m, (const uint8_t *)v, n);
	ltb_msg_end(m, reply);
	ltb_msg_free(m);
	if (reply->status == 0 || (reply->status >= 200 && reply->status < 300))
		return 0;
	return reply->status;
}

/* "-ERR ltb-satellite: 503: <the answer's first line>" */
static void
refused(struct conn *c, const struct ltb_reply *reply)
{
	size_t n = 0;

	while (n < reply->len && n < 256 && reply->body[n] != '\n' &&
	    reply->body[n] != '\r')
		n++;
	puterrf(&c->out, "ERR ltb-satellite: %u: %.*s", reply->status, (int)n,
	    (const char *)reply->body);
}

static void
cmd_push(struct conn *c, size_t argc, int left)
{
	const char *key = arg(c, 1, NULL), *v;
	const struct ltb_collector_proto *p = key_proto(key);
	struct ltb_reply reply;
	size_t klen, n, len = 0;
	unsigned st;

	(void)arg(c, 1, &klen);
	if (ltb_store_type(store(c), key, klen) == LTB_STORE_STRING) {
		wrongtype(c);
		return;
	}
	if (p == NULL)
		ltb_port_unknown_path(c->port, key);
	for (size_t i = 2; i < argc; i++) {
		v = arg(c, i, &n);
		if (p != NULL && (st = deliver(c, p, key, v, n, &reply)) != 0) {
			if (st == LTB_REPLY_DROP)
				c->closing = 1;
			else
				refused(c, &reply);
			return;
		}
		if (ltb_store_push(store(c), key, klen, v, n, left, &len) ==
		    LTB_STORE_WRONGTYPE) {
			wrongtype(c);
			return;
		}
	}
	putf(&c->out, ":%zu\r\n", len);
}

static void
cmd_lpush(struct conn *c, size_t argc)
{
	cmd_push(c, argc, 1);
}

static void
cmd_rpush(struct conn *c, size_t argc)
{
	cmd_push(c, argc, 0);
}

/* ---- keys ------------------------------------------------------------------ */

static void
cmd_set(struct conn *c, size_t argc)
{
	size_t klen, n;
	const char *key = arg(c, 1, &klen), *v = arg(c, 2, &n);
	int nx = 0, xx = 0, done;
	long long t;

	for (size_t i = 3; i < argc; i++) {
		if (is(c, i, "nx"))
			nx = 1;
		else if (is(c, i, "xx"))
			xx = 1;
		else if (is(c, i, "keepttl"))
			;
		else if ((is(c, i, "ex") || is(c, i, "px") ||
		    is(c, i, "exat") || is(c, i, "pxat")) && i + 1 < argc) {
			if (int_arg(c, ++i, &t) < 0)
				return;
			if (t <= 0) {
				put_err(&c->out, "ERR invalid expire time in "
				    "'set' command");
				return;
			}
		} else {
			put_err(&c->out, "ERR syntax error");
			return;
		}
	}
	if (nx && xx) {
		put_err(&c->out, "ERR syntax error");
		return;
	}
	(void)ltb_store_set(store(c), key, klen, v, n, nx, xx, &done);
	if (done)
		put(&c->out, "+OK\r\n", 5);
	else
		put_bulk(&c->out, NULL, 0);
}

static void
cmd_get(struct conn *c, size_t argc)
{
	size_t klen;
	const char *key = arg(c, 1, &klen);

	if (ltb_store_get(store(c), key, klen, each_bulk, &c->out) < 0)
		wrongtype(c);
}

/* An array of what the gathered each put in tmp. */
static void
put_gathered(struct conn *c, struct gather *g)
{
	putf(&c->out, "*%zu\r\n", g->n);
	put(&c->out, c->tmp.b, c->tmp.len);
	c->out.oom |= c->tmp.oom;	/* a partial array: close instead */
	buf_clear(&c->tmp);
}

static void
cmd_scan(struct conn *c, size_t argc)
{
	struct gather g = { &c->tmp, 0 };
	enum ltb_store_type t = LTB_STORE_NONE;
	const char *s = arg(c, 1, NULL), *match = NULL;
	unsigned long long cursor;
	long long count = SCAN_COUNT;
	char *end, cur[24];
	uint64_t next;
	int type_given = 0;

	errno = 0;
	cursor = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *s == '-') {
		put_err(&c->out, "ERR invalid cursor");
		return;
	}
	for (size_t i = 2; i < argc; i++) {
		if (is(c, i, "match") && i + 1 < argc)
			match = arg(c, ++i, NULL);
		else if (is(c, i, "count") && i + 1 < argc) {
			if (int_arg(c, ++i, &count) < 0)
				return;
			if (count < 1) {
				put_err(&c->out, "ERR syntax error");
				return;
			}
		} else if (is(c, i, "type") && i + 1 < argc) {
			type_given = 1;
			i++;
			t = is(c, i, "list") ? LTB_STORE_LIST : is(c, i,
			    "string") ? LTB_STORE_STRING : LTB_STORE_NONE;
		} else {
			put_err(&c->out, "ERR syntax error");
			return;
		}
	}
	c->tmp.len = 0;
	if (type_given && t == LTB_STORE_NONE)
		next = 0;		/* a type nothing here has */
	else
		next = ltb_store_scan(store(c), cursor, (size_t)count, match, t,
		    each_gather, &g);
	snprintf(cur, sizeof cur, "%llu", (unsigned long long)next);
	put(&c->out, "*2\r\n", 4);
	put_str(&c->out, cur);
	put_gathered(c, &g);
}

static void
cmd_keys(struct conn *c, size_t argc)
{
	struct gather g = { &c->tmp, 0 };

	c->tmp.len = 0;
	(void)ltb_store_scan(store(c), 0, SIZE_MAX, arg(c, 1, NULL),
	    LTB_STORE_NONE, each_gather, &g);
	put_gathered(c, &g);
}

static void
cmd_lrange(struct conn *c, size_t argc)
{
	size_t klen;
	const char *key = arg(c, 1, &klen);
	long long a, b;

	if (int_arg(c, 2, &a) < 0 || int_arg(c, 3, &b) < 0)
		return;
	if (ltb_store_range(store(c), key, klen, a, b, each_count, each_bulk,
	    &c->out) < 0)
		wrongtype(c);
}

static void
cmd_lindex(struct conn *c, size_t argc)
{
	size_t klen;
	const char *key = arg(c, 1, &klen);
	long long i;

	if (int_arg(c, 2, &i) < 0)
		return;
	if (ltb_store_index(store(c), key, klen, i, each_bulk, &c->out) < 0)
		wrongtype(c);
}

static void
cmd_llen(struct conn *c, size_t argc)
{
	size_t klen, n;
	const char *key = arg(c, 1, &klen);

	if (ltb_store_llen(store(c), key, klen, &n) < 0)
		wrongtype(c);
	else
		putf(&c->out, ":%zu\r\n", n);
}

static void
cmd_del(struct conn *c, size_t argc)
{
	size_t klen, n = 0;

	for (size_t i = 1; i < argc; i++) {
		const char *key = arg(c, i, &klen);

		n += (size_t)ltb_store_del(store(c), key, klen);
	}
	putf(&c->out, ":%zu\r\n", n);
}

static void
cmd_exists(struct conn *c, size_t argc)
{
	size_t klen, n = 0;

	for (size_t i = 1; i < argc; i++) {
		const char *key = arg(c, i, &klen);

		n += ltb_store_type(store(c), key, klen) != LTB_STORE_NONE;
	}
	putf(&c->out, ":%zu\r\n", n);
}

static void
cmd_type(struct conn *c, size_t argc)
{
	static const char *const names[] = { "+none\r\n", "+list\r\n",
	    "+string\r\n" };
	size_t klen;
	const char *key = arg(c, 1, &klen);
	const char *t = names[ltb_store_type(store(c), key, klen)];

	put(&c->out, t, strlen(t));
}

static void
cmd_dbsize(struct conn *c, size_t argc)
{
	struct ltb_store_counts k;

	ltb_store_counts(store(c), &k);
	putf(&c->out, ":%llu\r\n", (unsigned long long)k.keys);
}

static void
cmd_flush(struct conn *c, size_t argc)
{
	if (argc > 2 || (argc == 2 && !is(c, 1, "async") &&
	    !is(c, 1, "sync"))) {
		put_err(&c->out, "ERR syntax error");
		return;
	}
	ltb_store_flush(store(c));
	put(&c->out, "+OK\r\n", 5);
}

static void
cmd_info(struct conn *c, size_t argc)
{
	struct ltb_store_counts k;
	int all = argc == 1 || is(c, 1, "all") || is(c, 1, "default") ||
	    is(c, 1, "everything");
	int server = all || is(c, 1, "server");
	int keyspace = all || is(c, 1, "keyspace");

	ltb_store_counts(store(c), &k);
	c->tmp.len = 0;
	if (server)
		putf(&c->tmp, "# Server\r\nredis_version:%s\r\n"
		    "redis_mode:standalone\r\n", REDIS_VERSION);
	if (server && keyspace)
		put(&c->tmp, "\r\n", 2);
	if (keyspace) {
		put(&c->tmp, "# Keyspace\r\n", 12);
		if (k.keys > 0)
			putf(&c->tmp, "db0:keys=%llu,expires=0,avg_ttl=0\r\n",
			    (unsigned long long)k.keys);
	}
	put_bulk(&c->out, c->tmp.b != NULL ? c->tmp.b : "", c->tmp.len);
	c->out.oom |= c->tmp.oom;
	buf_clear(&c->tmp);
}

static void cmd_command(struct conn *c, size_t argc);

/* Redis's arity: n exactly, -n at least n, the name counted. */
static const struct cmd {
	const char *name;
	int arity;
	void (*fn)(struct conn *, size_t);
} cmds[] = {
	{ "ping", -1, cmd_ping }, { "echo", 2, cmd_echo },
	{ "quit", -1, cmd_quit }, { "hello", -1, cmd_hello },
	{ "auth", -2, cmd_auth }, { "client", -2, cmd_client },
	{ "select", 2, cmd_select }, { "lpush", -3, cmd_lpush },
	{ "rpush", -3, cmd_rpush }, { "set", -3, cmd_set },
	{ "get", 2, cmd_get }, { "scan", -2, cmd_scan },
	{ "keys", 2, cmd_keys }, { "lrange", 4, cmd_lrange },
	{ "lindex", 3, cmd_lindex }, { "llen", 2, cmd_llen },
	{ "del", -2, cmd_del }, { "exists", -2, cmd_exists },
	{ "type", 2, cmd_type }, { "dbsize", 1, cmd_dbsize },
	{ "flushdb", -1, cmd_flush }, { "flushall", -1, cmd_flush },
	{ "info", -1, cmd_info }, { "command", -1, cmd_command },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static void
cmd_command(struct conn *c, size_t argc)
{
	if (argc >= 2 && is(c, 1, "count"))
		putf(&c->out, ":%zu\r\n", NCMDS);
	else
		put(&c->out, "*0\r\n", 4);	/* no docs, no info */
}

/* Redis's text: the name, then the first arguments quoted, each cut. */
static void
unknown(struct conn *c, size_t argc)
{
	char args[256] = "";
	size_t at = 0, n;
	int k;

	for (size_t i = 1; i < argc && at < sizeof args - 1; i++) {
		const char *a = arg(c, i, &n);

		k = snprintf(args + at, sizeof args - at, "'%.*s' ",
		    (int)(n > 128 ? 128 : n), a);
		if (k < 0)
			break;
		at += (size_t)k;
	}
	puterrf(&c->out, "ERR unknown command '%.128s', with args beginning "
	    "with: %s", arg(c, 0, NULL), args);
}

static void
dispatch(struct conn *c)
{
	size_t argc = c->parser.argc;
	const struct cmd *k = NULL;

	for (size_t i = 0; i < NCMDS && k == NULL; i++)
		if (is(c, 0, cmds[i].name))
			k = &cmds[i];
	if (k == NULL) {
		unknown(c, argc);
		return;
	}
	if ((k->arity > 0 && argc != (size_t)k->arity) ||
	    (k->arity < 0 && argc < (size_t)-k->arity)) {
		puterrf(&c->out, "ERR wrong number of arguments for '%s' "
		    "command", k->name);
		return;
	}
	k->fn(c, argc);
}

/* ---- a connection ---------------------------------------------------------- */

/* Write what is answered: 0, or -1 when the peer is gone. */
static int
flush_out(struct conn *c)
{
	size_t at = 0;
	ssize_t n;

	if (c->out.oom)
		return -1;
	while (at < c->out.len) {
		n = send(c->fd, c->out.b + at, c->out.len - at, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		at += (size_t)n;
	}
	buf_clear(&c->out);
	return 0;
}

/* Answer what a piece holds, in order; 0, or -1 to close. */
static int
serve_piece(struct conn *c, size_t n)
{
	size_t off = 0, used;
	int rc;

	while (off < n && !c->closing) {
		rc = ltb_resp_feed(&c->parser, c->in + off, n - off, &used);
		off += used;
		if (rc == LTB_RESP_MORE)
			break;
		ltb_conn_mark(c->slot, LTB_CONN_ANSWERING);
		ltb_port_request(c->port);
		if (rc == LTB_RESP_COMMAND)
			dispatch(c);
		else {
			ltb_port_bad_request(c->port);
			puterrf(&c->out, "ERR %s", c->parser.err);
			c->closing = rc == LTB_RESP_FATAL;
		}
		if (c->out.len > OUT_FLUSH && flush_out(c) < 0)
			return -1;
	}
	if (flush_out(c) < 0)
		return -1;
	return c->closing ? -1 : 0;
}

static void
conn_serve(struct conn *c)
{
	ssize_t n;

	for (;;) {
		ltb_conn_mark(c->slot, ltb_resp_pending(&c->parser) ?
		    LTB_CONN_BODY : LTB_CONN_IDLE);
		n = recv(c->fd, c->in, sizeof c->in, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || serve_piece(c, (size_t)n) < 0)
			return;
	}
}

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	struct resp *r = c->r;

	conn_serve(c);
	ltb_resp_free(&c->parser);
	free(c->out.b);
	free(c->tmp.b);
	/* Out of the group's table before the descriptor goes: its reaper
	 * shuts down only listed ones; and under our lock, as stop's. */
	ltb_conn_close(c->slot);
	pthread_mutex_lock(&r->lock);
	close(c->fd);
	c->fd = -1;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		r->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = r->done;
	r->done = c;
	pthread_cond_broadcast(&r->gone);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Join the threads that ended. */
static void
join_done(struct resp *r)
{
	struct conn *c, *next;

	pthread_mutex_lock(&r->lock);
	c = r->done;
	r->done = NULL;
	pthread_mutex_unlock(&r->lock);
	for (; c != NULL; c = next) {
		next = c->next;
		pthread_join(c->thread, NULL);
		free(c);
	}
}

/* A connection accepted on fd: admitted and served, or closed. */
static void
conn_start(struct resp *r, int fd)
{
	struct ltb_port *port = r->port;
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	pthread_attr_t attr;
	struct conn *c;
	int rc;

	if (!ltb_conns_admit(port) || (c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	ltb_port_connection(port);
	c->r = r;
	c->port = port;
	c->fd = fd;
	c->id = atomic_fetch_add(&next_client_id, 1);
	ltb_resp_init(&c->parser, port->group->cfg.max_body,
	    &port->group->budget);
	c->slot = ltb_conn_open(port, fd);
	pthread_mutex_lock(&r->lock);
	c->next = r->live;
	if (r->live != NULL)
		r->live->prev = c;
	r->live = c;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	rc = pthread_create(&c->thread, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		r->live = c->next;
		if (r->live != NULL)
			r->live->prev = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (rc != 0) {
		ltb_conn_close(c->slot);
		ltb_resp_free(&c->parser);
		close(fd);
		free(c);
	}
}

static void *
accept_main(void *arg)
{
	struct resp *r = arg;
	struct pollfd pf[2] = {
		{ .fd = r->fd, .events = POLLIN },
		{ .fd = r->stopfd, .events = POLLIN },
	};
	int fd;

	for (;;) {
		join_done(r);
		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		fd = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			conn_start(r, fd);
		else if (errno == EMFILE || errno == ENFILE)
			poll(NULL, 0, 100);	/* let some close first */
	}
	return NULL;
}

/* ---- start and stop -------------------------------------------------------- */

static void
resp_free(struct resp *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->stopfd >= 0)
		close(r->stopfd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->gone);
	free(r);
}

static int
resp_start(struct ltb_port *port, char *err, size_t errlen)
{
	struct resp *r;
	int rc;

	if (port->group->resp_store == NULL) {
		snprintf(err, errlen, "cannot serve RESP on port %u: no store",
		    (unsigned)port->port);
		return -1;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->port = port;
	r->stopfd = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->gone, NULL);
	if ((r->fd = ltb_listen(&port->group->addr, port->port, &port->port,
	    err, errlen)) < 0)
		goto fail;
	if ((r->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "cannot start a RESP listener: %s",
		    strerror(errno));
		goto fail;
	}
	if ((rc = pthread_create(&r->thread, NULL, accept_main, r)) != 0) {
		snprintf(err, errlen, "cannot start a RESP listener's thread: "
		    "%s", strerror(rc));
		goto fail;
	}
	r->running = 1;
	port->ls = r;
	return 0;
fail:
	resp_free(r);
	return -1;
}

static void
resp_stop(struct ltb_port *port)
{
	struct resp *r = port->ls;
	uint64_t one = 1;

	if (r == NULL)
		return;
	(void)!write(r->stopfd, &one, sizeof one);
	pthread_join(r->thread, NULL);
	/* No new connection from here: refused by the kernel. */
	close(r->fd);
	r->fd = -1;
	pthread_mutex_lock(&r->lock);
	for (struct conn *c = r->live; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (r->live != NULL)
		pthread_cond_wait(&r->gone, &r->lock);
	pthread_mutex_unlock(&r->lock);
	join_done(r);
	port->ls = NULL;
	resp_free(r);
}

const struct ltb_listener ltb_listener_resp = {
	.name = "resp",
	.transport = LTB_TRANSPORT_TCP,
	.start = resp_start,
	.stop = resp_stop,
};
