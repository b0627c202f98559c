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

/* "http://127.0.0.1:8024" or "http://[::1]:8024" into buf. */
void ltb_addr_url(const struct ltb_addr *a, uint16_t port, char *buf,
    size_t len);

#endif
