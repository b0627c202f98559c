/*
 * ltb_log.h: exit codes and the stderr voice of every ltb tool.
 *
 * Only a tool's main prints and exits; the rest of common/ returns errors to
 * it. These helpers give every message the same shape, "prog: what failed:
 * why", so a line in a CI log says which tool spoke.
 */
#ifndef LTB_LOG_H
#define LTB_LOG_H

/* Exit codes, the same for every tool (and listed in each --help). */
enum {
	LTB_EXIT_OK = 0,	/* success, or every gate passed */
	LTB_EXIT_FAIL = 1,	/* a gate failed, or a run failed */
	LTB_EXIT_USAGE = 2,	/* usage error or malformed input */
	LTB_EXIT_SYS = 3,	/* system failure: bind, spawn, unreachable peer */
	LTB_EXIT_INCONCLUSIVE = 4 /* too noisy, or an interval too wide, to
				   * decide: neither a pass nor a failure */
};

/* The program name used as the prefix; set once from main. */
extern const char *ltb_prog;

/* "prog: message\n" on stderr. */
void ltb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ltb_warn, then exit(code). For mains only. */
void ltb_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
