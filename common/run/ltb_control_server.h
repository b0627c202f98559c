/*
 * ltb_control_server.h: the control server a client fetches its orders from.
 *
 * Serves the current control message at GET /control (any other path is
 * 404) and remembers whether and when it was fetched, so a client that
 * never asks can be told apart from one that asked and then hung.
 */
#ifndef LTB_CONTROL_SERVER_H
#define LTB_CONTROL_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct ltb_ctlserver;

/* Listen on bind:port (port 0: any free one). NULL with a message in err
 * ("cannot bind 127.0.0.1:8024: Address already in use"). A port given
 * on 127.0.0.1 is served on [::1] too when it can be, for clients that
 * ask "localhost" and try only its first address. */
struct ltb_ctlserver *ltb_ctlserver_start(const char *bind, uint16_t port,
    char *err, size_t errlen);
void ltb_ctlserver_stop(struct ltb_ctlserver *s);

/* The URL clients get in LTB_CONTROL_URL; borrowed, valid until stop. */
const char *ltb_ctlserver_url(const struct ltb_ctlserver *s);

/*
 * The fetch hook: fn(arg, t) is called in the server's thread at the
 * first fetch of each message, before the answer is sent, with the
 * monotonic time (ltb_mono_s) of the fetch, so the caller can take what the
 * client has used up to the start of its measurement window (the client
 * waits for its answer meanwhile). fn runs under the server's lock: it
 * must be quick and must not call back into s. fn NULL: no hook. Once
 * this returns, the previous hook is no longer running and never will.
 */
typedef void ltb_ctlserver_hook(void *arg, double t);
void ltb_ctlserver_on_fetch(struct ltb_ctlserver *s, ltb_ctlserver_hook *fn,
    void *arg);

/* Serve json (copied) from now on, and forget earlier fetches. 0 or -1. */
int ltb_ctlserver_set(struct ltb_ctlserver *s, const char *json);

/* How many times the message was fetched since it was set; the monotonic
 * time (ltb_mono_s) of the first fetch in *first, and the peer's address in
 * peer (may be NULL). */
unsigned ltb_ctlserver_fetches(struct ltb_ctlserver *s, double *first,
    char *peer, size_t peerlen);

#endif
