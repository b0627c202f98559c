/*
 * ltb_net.c: listening sockets; see ltb_net.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/ltb_net.h"

int
ltb_addr_parse(struct ltb_addr *a, const char *s, char *err, size_t errlen)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;

	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		a->len = sizeof *in4;
	} else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		a->len = sizeof *in6;
		a->v6 = 1;
	} else {
		snprintf(err, errlen, "bad bind address '%s': not an IPv4 "
		    "or IPv6 address", s);
		return -1;
	}
	snprintf(a->text, sizeof a->text, "%s", s);
	return 0;
}

int
ltb_addr_is_loopback(const struct ltb_addr *a)
{
	const struct in6_addr *in6;

	if (!a->v6)
		return (ntohl(((const struct sockaddr_in *)&a->sa)->
		    sin_addr.s_addr) >> 24) == 127;
	in6 = &((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(in6) ||
	    (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
}

int
ltb_addr_is_any(const struct ltb_addr *a)
{
	if (!a->v6)
		return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
}

/* ":1234" or "": what may follow a host in a Host header. */
static int
port_suffix_ok(const char *s)
{
	if (*s == '\0')
		return 1;
	if (*s++ != ':' || *s == '\0' || strlen(s) > 5)
		return 0;
	return strspn(s, "0123456789") == strlen(s);
}

int
ltb_host_is_loopback(const char *host)
{
	struct ltb_addr a;
	char name[64], err[8];
	const char *end;
	size_t n;

	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL ||
		    (n = (size_t)(end - host - 1)) >= sizeof name)
			return 0;
		memcpy(name, host + 1, n);
		name[n] = '\0';
		return port_suffix_ok(end + 1) &&
		    ltb_addr_parse(&a, name, err, sizeof err) == 0 && a.v6 &&
		    ltb_addr_is_loopback(&a);
	}
	n = strcspn(host, ":");
	if (n >= sizeof name || !port_suffix_ok(host + n))
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';
	if (strcasecmp(name, "localhost") == 0 ||
	    strcasecmp(name, "localhost.") == 0)
		return 1;
	return ltb_addr_parse(&a, name, err, sizeof err) == 0 &&
	    ltb_addr_is_loopback(&a);
}

void
ltb_addr_url(const struct ltb_addr *a, uint16_t port, char *buf, size_t len)
{
	snprintf(buf, len, "http://%s%s%s:%u", a->v6 ? "[" : "", a->text,
	    a->v6 ? "]" : "", port);
}

int
ltb_listen(const struct ltb_addr *a, uint16_t port, uint16_t *bound,
    char *err, size_t errlen)
{
	struct sockaddr_storage sa = a->sa;
	socklen_t len = a->len;
	int fd, one = 1;

	if (a->v6)
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&sa)->sin_port = htons(port);
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* Rebinding a port whose old connections sit in TIME_WAIT is the
	 * normal case for a satellite brought back up. The backlog is the
	 * kernel's largest: under a flood of connections the acceptor evicts
	 * old ones to admit new ones, and a tracer's connect that finds the
	 * queue full is dropped silently and retried by its kernel a second
	 * later, a second added to the report being measured. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		goto fail;
	*bound = ntohs(a->v6 ? ((struct sockaddr_in6 *)&sa)->sin6_port :
	    ((struct sockaddr_in *)&sa)->sin_port);
	return fd;
fail:
	snprintf(err, errlen, "cannot bind %s%s%s:%u: %s", a->v6 ? "[" : "",
	    a->text, a->v6 ? "]" : "", port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}
