/*
 * ltb_satclient.h: driving a satellite group from outside, through its
 * admin port: counting what it received, taking it down and up. Also
 * starting a group of our own (an ltb-satellite child) when the user named
 * none, and stopping it again.
 */
#ifndef LTB_SATCLIENT_H
#define LTB_SATCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run/ltb_control.h"

struct ltb_satgroup {
	char admin_url[128];	/* "http://127.0.0.1:8359" */
	char host[64];		/* where tracers send: the bind address */
	uint16_t ports[LTB_CONTROL_MAX_PORTS];
	size_t nports;
	pid_t pid;		/* our ltb-satellite child, or 0 */
	int out_fd;		/* its stdout, for its last words */
};

/*
 * Start `satellite` (a path or a name in PATH) with its default ports
 * replaced by nports ports the kernel picks, plus extra (NULL-ended, may
 * be NULL) arguments; wait for its ready record (at most 10 s). 0, or -1
 * with a message in err.
 */
int ltb_satgroup_spawn(struct ltb_satgroup *g, const char *satellite,
    size_t nports, char *const extra[], char *err, size_t errlen);

/* Use a running group: ask its admin URL which ports it serves. */
int ltb_satgroup_attach(struct ltb_satgroup *g, const char *admin_url,
    char *err, size_t errlen);

/* Spans received so far (GET /spans_received). */
int ltb_satgroup_spans(struct ltb_satgroup *g, uint64_t *n, char *err,
    size_t errlen);

/* POST /down, /up or /reset. */
int ltb_satgroup_post(struct ltb_satgroup *g, const char *what, char *err,
    size_t errlen);

/* Stop our child (SIGTERM, then SIGKILL after 5 s) and reap it; nothing
 * for an attached group. */
void ltb_satgroup_stop(struct ltb_satgroup *g);

#endif
