/*
 * ltb_resp_parse.c: RESP2 request framing; see ltb_resp_parse.h.
 *
 * A state machine over bytes, so a command may be cut at any byte and
 * several may come in one piece. Header lines (*N, $len) are at most 31
 * bytes and kept in a small array; bulks and inline lines go to buf,
 * grown as their bytes arrive (never to a length merely announced: a
 * peer claiming 512 MiB and sending nothing holds nothing), each taken
 * from the budget first. The error texts are Redis's own where Redis has
 * one, so clients that match them behave as against Redis.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_resp_parse.h"

enum { S_START, S_MBULK, S_BULKHDR, S_BULK, S_CRLF, S_SKIP, S_INLINE,
    S_DONE, S_DEAD };

#define KEEP_CAP (64u * 1024)	/* buf kept between commands */

void
ltb_resp_init(struct ltb_resp_parser *p, uint64_t max_bulk,
    struct ltb_budget *budget)
{
	memset(p, 0, sizeof *p);
	p->max_bulk = max_bulk ? max_bulk : LTB_RESP_MAX_BULK;
	p->budget = budget;
}

static void
drop_buffers(struct ltb_resp_parser *p)
{
	ltb_budget_give(p->budget, p->cap + p->acap * sizeof *p->args);
	free(p->buf);
	free(p->args);
	p->buf = NULL;
	p->args = NULL;
	p->cap = p->acap = 0;
}

void
ltb_resp_free(struct ltb_resp_parser *p)
{
	drop_buffers(p);
	p->state = S_DEAD;
}

const char *
ltb_resp_arg(const struct ltb_resp_parser *p, size_t i, size_t *len)
{
	if (len != NULL)
		*len = p->args[i].len;
	return (const char *)p->buf + p->args[i].off;
}

int
ltb_resp_pending(const struct ltb_resp_parser *p)
{
	return p->state != S_START && p->state != S_DONE && p->state != S_DEAD;
}

/* ---- holding -------------------------------------------------------------- */

/* Room for want bytes in buf: 0, or -1 (over the budget or memory). */
static int
grow_buf(struct ltb_resp_parser *p, size_t want)
{
	size_t ncap = p->cap ? p->cap : 256;
	uint8_t *nb;

	if (want <= p->cap)
		return 0;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (ltb_budget_take(p->budget, ncap - p->cap) < 0)
		return -1;
	if ((nb = realloc(p->buf, ncap)) == NULL) {
		ltb_budget_give(p->budget, ncap - p->cap);
		return -1;
	}
	p->buf = nb;
	p->cap = ncap;
	return 0;
}

/* Room for one more argument. */
static int
grow_args(struct ltb_resp_parser *p)
{
	size_t ncap = p->acap ? p->acap * 2 : 16;
	struct ltb_resp_arg *na;

	if (p->argc < p->acap)
		return 0;
	if (ltb_budget_take(p->budget, (ncap - p->acap) * sizeof *na) < 0)
		return -1;
	if ((na = realloc(p->args, ncap * sizeof *na)) == NULL) {
		ltb_budget_give(p->budget, (ncap - p->acap) * sizeof *na);
		return -1;
	}
	p->args = na;
	p->acap = ncap;
	return 0;
}

/* Between commands: forget the last one; a big buffer is let go. */
static void
next_command(struct ltb_resp_parser *p)
{
	p->argc = p->len = p->nargs = p->llen = 0;
	p->need = 0;
	p->refusing = p->crlf = 0;
	p->err[0] = '\0';
	if (p->cap > KEEP_CAP || p->acap * sizeof *p->args > KEEP_CAP)
		drop_buffers(p);
	p->state = S_START;
}

static int
fatal(struct ltb_resp_parser *p, const char *msg)
{
	snprintf(p->err, sizeof p->err, "Protocol error: %s", msg);
	p->state = S_DEAD;
	return LTB_RESP_FATAL;
}

/* The rest of the command is skipped; the first reason is the one told. */
static void refuse(struct ltb_resp_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
refuse(struct ltb_resp_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->refusing) {
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof p->err, fmt, ap);
		va_end(ap);
	}
	p->refusing = 1;
}

/* ---- numbers and lines ---------------------------------------------------- */

/* A whole decimal integer, optionally negative, as Redis's string2ll:
 * 0, or -1 when s is not one. */
static int
parse_ll(const char *s, size_t n, long long *out)
{
	unsigned long long v = 0;
	size_t i = 0;
	int neg = 0;

	if (n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || n - i > 19)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > (unsigned long long)INT64_MAX)
		return -1;
	*out = neg ? -(long long)v : (long long)v;
	return 0;
}

/* Gather a header line; 1 when complete (without its \r\n), 0 for more,
 * -1 when too long. */
static int
take_line(struct ltb_resp_parser *p, const uint8_t *in, size_t n, size_t *i)
{
	while (*i < n) {
		uint8_t c = in[(*i)++];

		if (c == '\n') {
			if (p->llen > 0 && p->line[p->llen - 1] == '\r')
				p->llen--;
			return 1;
		}
		if (p->llen == sizeof p->line - 1)
			return -1;
		p->line[p->llen++] = (char)c;
	}
	return 0;
}

/* ---- states --------------------------------------------------------------- */

static int
on_mbulk(struct ltb_resp_parser *p)
{
	long long v;

	/* line[0] is the '*' */
	if (parse_ll(p->line + 1, p->llen - 1, &v) < 0 ||
	    v > (long long)LTB_RESP_MAX_ARGS)
		return fatal(p, "invalid multibulk length");
	p->llen = 0;
	if (v <= 0) {			/* *0, *-1: nothing, as Redis */
		p->state = S_START;
		return LTB_RESP_MORE;
	}
	p->nargs = (size_t)v;
	p->state = S_BULKHDR;
	return LTB_RESP_MORE;
}

/* The argument being read starts in buf. */
static int
start_arg(struct ltb_resp_parser *p, uint64_t len)
{
	if (grow_args(p) < 0 || grow_buf(p, p->len + 1) < 0)
		return -1;
	p->args[p->argc].off = p->len;
	p->args[p->argc].len = (size_t)len;
	return 0;
}

static int
on_bulkhdr(struct ltb_resp_parser *p)
{
	uint64_t held = p->len - p->argc;	/* bytes, without NULs */
	long long v;
	char c[8];

	if (p->line[0] != '$') {
		snprintf(c, sizeof c, "%c", p->llen ? p->line[0] : ' ');
		snprintf(p->err, sizeof p->err, "Protocol error: expected "
		    "'$', got '%s'", c);
		p->state = S_DEAD;
		return LTB_RESP_FATAL;
	}
	if (parse_ll(p->line + 1, p->llen - 1, &v) < 0 || v < 0)
		return fatal(p, "invalid bulk length");
	p->llen = 0;
	p->need = (uint64_t)v;
	if (!p->refusing && p->need > p->max_bulk)
		refuse(p, "Protocol error: bulk length %llu over the limit "
		    "%llu", (unsigned long long)v,
		    (unsigned long long)p->max_bulk);
	else if (!p->refusing && held + p->need > p->max_bulk)
		refuse(p, "Protocol error: command of %llu bytes over the "
		    "limit %llu", (unsigned long long)(held + p->need),
		    (unsigned long long)p->max_bulk);
	else if (!p->refusing && start_arg(p, p->need) < 0)
		refuse(p, "ltb-satellite: 503: %s", LTB_BUDGET_WHY);
	p->state = p->refusing ? S_SKIP : S_BULK;
	if (p->refusing)
		p->need += 2;		/* its CRLF, unchecked */
	return LTB_RESP_MORE;
}

/* One argument (or a skipped one) is done: the command may be. */
static int
arg_done(struct ltb_resp_parser *p)
{
	if (!p->refusing) {
		p->buf[p->len++] = '\0';
		p->argc++;
	}
	if (--p->nargs > 0) {
		p->state = S_BULKHDR;
		return LTB_RESP_MORE;
	}
	p->state = S_DONE;
	return p->refusing ? LTB_RESP_REFUSED : LTB_RESP_COMMAND;
}

static int
bulk_bytes(struct ltb_resp_parser *p, const uint8_t *in, size_t n, size_t *i)
{
	size_t k = n - *i < p->need ? n - *i : (size_t)p->need;

	if (p->state == S_SKIP) {
		*i += k;
		p->need -= k;
		return p->need == 0 ? arg_done(p) : LTB_RESP_MORE;
	}
	if (grow_buf(p, p->len + k + 1) < 0) {
		/* No room: the rest of it goes by unheld. */
		refuse(p, "ltb-satellite: 503: %s", LTB_BUDGET_WHY);
		p->state = S_SKIP;
		p->need += 2;
		return LTB_RESP_MORE;
	}
	memcpy(p->buf + p->len, in + *i, k);
	p->len += k;
	*i += k;
	p->need -= k;
	if (p->need == 0)
		p->state = S_CRLF;
	return LTB_RESP_MORE;
}

static int
bulk_crlf(struct ltb_resp_parser *p, const uint8_t *in, size_t n, size_t *i)
{
	while (*i < n && p->crlf < 2) {
		if (in[*i] != (p->crlf == 0 ? '\r' : '\n'))
			return fatal(p, "expected CRLF after a bulk");
		(*i)++;
		p->crlf++;
	}
	if (p->crlf < 2)
		return LTB_RESP_MORE;
	p->crlf = 0;
	return arg_done(p);
}

/* Split the inline line in buf into words, in place. */
static int
inline_split(struct ltb_resp_parser *p)
{
	size_t i = 0, n = p->len;

	if (n > 0 && p->buf[n - 1] == '\r')
		n--;
	while (i < n) {
		while (i < n && (p->buf[i] == ' ' || p->buf[i] == '\t'))
			i++;
		if (i == n)
			break;
		if (grow_args(p) < 0) {
			snprintf(p->err, sizeof p->err, "ltb-satellite: 503: "
			    "%s", LTB_BUDGET_WHY);
			p->state = S_DONE;
			return LTB_RESP_REFUSED;
		}
		p->args[p->argc].off = i;
		while (i < n && p->buf[i] != ' ' && p->buf[i] != '\t')
			i++;
		p->args[p->argc].len = i - p->args[p->argc].off;
		p->argc++;
		if (i < n)
			p->buf[i++] = '\0';
	}
	p->buf[n] = '\0';
	if (p->argc == 0) {		/* an empty line: nothing, as Redis */
		next_command(p);
		return LTB_RESP_MORE;
	}
	p->state = S_DONE;
	return LTB_RESP_COMMAND;
}

static int
inline_bytes(struct ltb_resp_parser *p, const uint8_t *in, size_t n, size_t *i)
{
	const uint8_t *nl = memchr(in + *i, '\n', n - *i);
	size_t k = nl != NULL ? (size_t)(nl - (in + *i)) : n - *i;

	if (p->len + k > LTB_RESP_INLINE_MAX)
		return fatal(p, "too big inline request");
	if (grow_buf(p, p->len + k + 1) < 0)
		return fatal(p, "no room for an inline request in the "
		    "satellite's memory budget");
	memcpy(p->buf + p->len, in + *i, k);
	p->len += k;
	*i += k;
	if (nl == NULL)
		return LTB_RESP_MORE;
	(*i)++;				/* the \n */
	return inline_split(p);
}

static int
header(struct ltb_resp_parser *p, const uint8_t *in, size_t n, size_t *i)
{
	int r = take_line(p, in, n, i);

	if (r < 0)
		return fatal(p, p->state == S_MBULK ?
		    "too big mbulk count string" : "too big bulk count string");
	if (r == 0)
		return LTB_RESP_MORE;
	return p->state == S_MBULK ? on_mbulk(p) : on_bulkhdr(p);
}

int
ltb_resp_feed(struct ltb_resp_parser *p, const uint8_t *in, size_t n,
    size_t *used)
{
	size_t i = 0;
	int r = LTB_RESP_MORE;

	if (p->state == S_DEAD) {
		*used = 0;
		return LTB_RESP_FATAL;
	}
	if (p->state == S_DONE)
		next_command(p);
	while (i < n && r == LTB_RESP_MORE) {
		switch (p->state) {
		case S_START:
			p->state = in[i] == '*' ? S_MBULK : S_INLINE;
			break;
		case S_MBULK:
		case S_BULKHDR:
			r = header(p, in, n, &i);
			break;
		case S_BULK:
		case S_SKIP:
			r = bulk_bytes(p, in, n, &i);
			break;
		case S_CRLF:
			r = bulk_crlf(p, in, n, &i);
			break;
		case S_INLINE:
			r = inline_bytes(p, in, n, &i);
			break;
		}
	}
	*used = i;
	return r;
}
