/*
 * ltb_resp.c: the RESP listener of a satellite group (Redis's protocol
 * over TCP, for OSProfiler's redis driver); see ltb_group.h.
 *
 * Not served yet: starting a RESP port fails with a message that says so.
 */
#include <stdio.h>

#include "collector/ltb_group.h"

static int
resp_start(struct ltb_port *port, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot serve RESP on port %u: not built yet",
	    (unsigned)port->port);
	return -1;
}

static void
resp_stop(struct ltb_port *port)
{
	(void)port;
}

const struct ltb_listener ltb_listener_resp = {
	.name = "resp",
	.transport = LTB_TRANSPORT_TCP,
	.start = resp_start,
	.stop = resp_stop,
};
