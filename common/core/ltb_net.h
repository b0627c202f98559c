/*
 * ltb_net.h: listening sockets for the tools' HTTP servers.
 *
 * The servers (satellites, their admin port, the control server) are
 * libmicrohttpd's, but we create their listening sockets ourselves so that
 * a bind failure can say exactly why, port 0 can tell which port it got,
 * and a satellite taken down can bind the same port again.
 */
#ifndef LTB_NET_H
#define LTB_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ltb_addr {
	struct sockaddr_storage sa;	/* port 0 */
	socklen_t len;
	char text[64];			/* "127.0.0.1" or "::1" */
	int v6;
};

/* Parse an IPv4 or IPv6 literal. 0, or -1 with a message in err. */
int ltb_addr_parse(struct ltb_addr *a, const char *s, char *err,
    size_t errlen);

/* A listening TCP socket (close-on-exec, SO_REUSEADDR) on a:port, port 0
 * for any; the port bound in *bound. The fd, or -1 with a message in err
 * ("cannot bind 127.0.0.1:8360: Address already in use"). */
int ltb_listen(const struct ltb_addr *a, uint16_t port, uint16_t *bound,
    char *err, size_t errlen);

/* 1 when a is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x), else
 * 0: what only this machine can reach. */
int ltb_addr_is_loopback(const struct ltb_addr *a);
/* 1 when a is the wildcard address (0.0.0.0 or ::), else 0. */
int ltb_addr_is_any(const struct ltb_addr *a);

/* 1 when host, an HTTP Host header's value, names this machine's
 * loopback: "localhost" (or "localhost."), an address of 127.0.0.0/8 or
 * "[::1]", each with or without ":port"; else 0. A page that reaches a
 * loopback port through a DNS name of its own (DNS rebinding) sends that
 * name, not one of these. */
int ltb_host_is_loopback(const char *host);

/* "http://127.0.0.1:8024" or "http://[::1]:8024" into buf. */
void ltb_addr_url(const struct ltb_addr *a, uint16_t port, char *buf,
    size_t len);

#endif
