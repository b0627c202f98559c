/*
 * ltb_parse.c: command-line value parsing; see ltb_parse.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ltb_parse.h"

/* strtoull that refuses signs, blanks and empty strings. */
static int
parse_digits(const char *s, char **end, uint64_t *out)
{
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int
ltb_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	char *end;
	uint64_t v;

	if (parse_digits(s, &end, &v) < 0 || *end != '\0') {
		*why = "not a whole number";
		return -1;
	}
	if (v < min || v > max) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

static int
add_port(uint64_t p, uint16_t *ports, size_t max, size_t *n, const char **why)
{
	if (p > 65535) {
		*why = "port above 65535";
		return -1;
	}
	if (*n == max) {
		*why = "too many ports";
		return -1;
	}
	for (size_t i = 0; p != 0 && i < *n; i++)
		if (ports[i] == p) {
			*why = "port listed twice";
			return -1;
		}
	ports[(*n)++] = (uint16_t)p;
	return 0;
}

int
ltb_parse_ports(const char *s, uint16_t *ports, size_t max, size_t *n,
    const char **why)
{
	const char *p = s;
	char *end;
	uint64_t lo, hi;

	*n = 0;
	for (;;) {
		if (parse_digits(p, &end, &lo) < 0)
			goto bad;
		hi = lo;
		if (*end == '-') {
			if (parse_digits(end + 1, &end, &hi) < 0)
				goto bad;
			if (hi < lo || lo == 0) {
				*why = "bad range";
				return -1;
			}
		}
		for (uint64_t v = lo; v <= hi; v++)
			if (add_port(v, ports, max, n, why) < 0)
				return -1;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
bad:
	*why = "expected PORT, LOW-HIGH, or a comma-separated list of them";
	return -1;
}

int
ltb_parse_size(const char *s, uint64_t *out, const char **why)
{
	char *end;
	uint64_t v, mul = 1;

	if (parse_digits(s, &end, &v) < 0)
		goto bad;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	default: goto bad;
	}
	/* Allow "50MiB" and "50MB" spellings of the same binary unit. */
	if (mul > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end != '\0')
		goto bad;
	if (v > UINT64_MAX / mul) {
		*why = "too large";
		return -1;
	}
	*out = v * mul;
	return 0;
bad:
	*why = "expected a number with an optional K, M or G suffix";
	return -1;
}

int
ltb_parse_seconds(const char *s, uint64_t *ns, const char **why)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)*s) && *s != '.')
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0)
		goto bad;
	if (v > 1e9) {
		*why = "too large";
		return -1;
	}
	*ns = (uint64_t)(v * 1e9 + 0.5);
	return 0;
bad:
	*why = "expected seconds, like 10 or 0.5";
	return -1;
}

int
ltb_parse_double(const char *s, double min, double max, double *out,
    const char **why)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v) ||
	    isspace((unsigned char)s[0])) {
		*why = "not a number";
		return -1;
	}
	if (v < min || v > max) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}
