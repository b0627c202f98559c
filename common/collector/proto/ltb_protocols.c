/*
 * ltb_protocols.c: the table of protocols a satellite group serves, one
 * line each. Adding a protocol is its file in this folder and its line
 * here.
 */
#include <string.h>

#include "collector/ltb_collector.h"

const struct ltb_collector_proto *const ltb_collector_protocols[] = {
	&ltb_proto_lightstep,	/* HTTP POST /api/v2/reports, protobuf */
	&ltb_proto_lightstep_thrift,	/* HTTP POST /_rpc/v1/reports/binary, thrift */
	&ltb_proto_otlp,	/* HTTP POST /v1/traces, protobuf and JSON */
	&ltb_proto_atlas,	/* HTTP POST /api/v1/publish, JSON */
	&ltb_proto_spectatord,	/* datagrams (UDP, unix): spectatord lines */
	&ltb_proto_osprofiler,	/* TCP (RESP): OSProfiler redis driver LPUSHes */
	&ltb_proto_lightstep_thrift_json, /* HTTP POST /api/v0/reports, JSON */
	NULL
};

size_t
ltb_collector_nprotocols(void)
{
	return sizeof ltb_collector_protocols / sizeof ltb_collector_protocols[0]
	    - 1;
}

const struct ltb_collector_proto *
ltb_collector_find(const char *name)
{
	for (size_t i = 0; ltb_collector_protocols[i] != NULL; i++)
		if (strcmp(ltb_collector_protocols[i]->name, name) == 0)
			return ltb_collector_protocols[i];
	return NULL;
}

int
ltb_collector_reads(const struct ltb_collector_proto *p,
    const char *content_type)
{
	if (p->content_types == NULL)
		return 1;
	for (size_t i = 0; p->content_types[i] != NULL; i++)
		if (strcmp(p->content_types[i], content_type) == 0)
			return 1;
	return 0;
}
