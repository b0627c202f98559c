/*
 * ltb_log.c: the "prog: message" lines of every ltb tool; see ltb_log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/ltb_log.h"

const char *ltb_prog = "ltb";

static void
vwarn(const char *fmt, va_list ap)
{
	/* One fprintf per line so concurrent writers do not interleave words. */
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	fprintf(stderr, "%s: %s\n", ltb_prog, line);
}

void
ltb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
ltb_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(code);
}
