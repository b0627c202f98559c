/*
 * ltb_resp_parse.h: framing of Redis requests (RESP2), incremental and
 * bounded, for the RESP listener (ltb_resp.c).
 *
 * A request is a multibulk (*N\r\n then N times $len\r\n<bytes>\r\n) or
 * an inline command (words separated by spaces or tabs, ending in \n or
 * \r\n), as Redis reads them. Bytes come in pieces cut anywhere; the
 * parser hands back one command at a time, holding only that command's
 * arguments. Pure: no socket, no lock, nothing printed.
 *
 * Bounds: at most LTB_RESP_MAX_ARGS arguments (Redis's); a bulk, and the
 * arguments of a command together, at most max_bulk bytes. A command
 * over them is refused (LTB_RESP_REFUSED, the message in err) once all
 * its bytes have gone by, skipped without being held: the next command
 * is read as usual. Framing that cannot be resynchronised (a bad length,
 * a header that is not a number, '$' missing) is LTB_RESP_FATAL: the
 * listener answers err and hangs up, as Redis does.
 */
#ifndef LTB_RESP_PARSE_H
#define LTB_RESP_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct ltb_budget;

#define LTB_RESP_MAX_ARGS 1048576u	/* arguments of one command */
#define LTB_RESP_MAX_BULK (512ull << 20)	/* proto-max-bulk-len */
#define LTB_RESP_INLINE_MAX (64u * 1024)	/* Redis's inline limit */

enum {
	LTB_RESP_MORE,		/* every byte taken: give more */
	LTB_RESP_COMMAND,	/* a command is complete: read its args */
	LTB_RESP_REFUSED,	/* a command skipped: answer err, go on */
	LTB_RESP_FATAL		/* answer err and close */
};

struct ltb_resp_arg {
	size_t off, len;
};

struct ltb_resp_parser {
	uint64_t max_bulk;		/* 0 at init: LTB_RESP_MAX_BULK */
	struct ltb_budget *budget;	/* what buf and args hold; NULL */
	/* The command: argc arguments, each in buf at args[i].off,
	 * args[i].len bytes then a NUL. Valid after LTB_RESP_COMMAND until
	 * the next call. */
	size_t argc;
	char err[160];			/* after REFUSED or FATAL */
	/* inside */
	int state;
	uint8_t *buf;
	size_t len, cap;		/* bytes of buf used, allocated */
	struct ltb_resp_arg *args;
	size_t acap;			/* args allocated */
	size_t nargs;			/* bulks the multibulk announced */
	uint64_t need;			/* bytes left of this bulk or skip */
	char line[32];			/* a * or $ header line */
	size_t llen;
	int refusing;			/* skipping the rest of the command */
	int crlf;			/* bytes of a bulk's CRLF seen */
};

/* Set p up: max_bulk 0 for Redis's 512 MiB; budget may be NULL. */
void ltb_resp_init(struct ltb_resp_parser *p, uint64_t max_bulk,
    struct ltb_budget *budget);
/* Free what p holds (and give it back to the budget). */
void ltb_resp_free(struct ltb_resp_parser *p);
/*
 * Read from in[0..n): *used bytes taken. LTB_RESP_MORE once all are
 * taken and no command is complete; else a command, a refusal or a
 * fatal error ended at in[*used - 1]: call again with the rest.
 */
int ltb_resp_feed(struct ltb_resp_parser *p, const uint8_t *in, size_t n,
    size_t *used);
/* Argument i of the command just read (NUL-terminated), its length in
 * *len (may be NULL). */
const char *ltb_resp_arg(const struct ltb_resp_parser *p, size_t i,
    size_t *len);
/* 1 while a command is partly read, else 0. */
int ltb_resp_pending(const struct ltb_resp_parser *p);

#endif
