/*
 * ltb_parse.h: parsing of command-line values shared by the tools.
 *
 * Each returns 0, or -1 with a reason in *why (a static string) so the
 * caller can say "ltb-satellite: bad --ports '8360-': <why>".
 */
#ifndef LTB_PARSE_H
#define LTB_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define LTB_MAX_PORTS 256

/*
 * A list of TCP ports: "8360-8367", "8360", "8360,8362,9000-9001"; 0 stands
 * for a port the kernel picks and may repeat ("0,0,0,0"). Other ports may
 * not repeat. Fills ports[], at most max, and *n.
 */
int ltb_parse_ports(const char *s, uint16_t *ports, size_t max, size_t *n,
    const char **why);

/* An unsigned integer within [min, max]. */
int ltb_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why);

/* A finite decimal number within [min, max], and nothing after it:
 * "0.7x" is refused, never read as 0.7. */
int ltb_parse_double(const char *s, double min, double max, double *out,
    const char **why);

/* A byte count or rate with an optional binary suffix: 512, 64K, 50M, 1G
 * (K = 1024). */
int ltb_parse_size(const char *s, uint64_t *out, const char **why);

/* Seconds, decimal allowed ("0.5"), returned in nanoseconds. */
int ltb_parse_seconds(const char *s, uint64_t *ns, const char **why);

#endif
