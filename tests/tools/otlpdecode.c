/*
 * otlpdecode: print what an OTLP/HTTP protobuf answer holds, for tests.
 *
 *   otlpdecode response FILE   an ExportTraceServiceResponse: "partial_success
 *                              unset", or "rejected_spans N" and
 *                              "error_message TEXT"
 *   otlpdecode status FILE     a google.rpc.Status: "code N", "message TEXT"
 *   otlpdecode request FILE    an ExportTraceServiceRequest in the OTLP JSON
 *                              mapping, one line
 *
 * Decodes with protobuf-c's generated unpacker, so what it prints is what
 * the library reads, independent of ltb-satellite's own encoder and walk.
 * Exit: 0 printed; 1 the file does not unpack; 2 usage; 3 cannot read it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_trace.pb-c.h"
#include "collector/proto/ltb_otlp_gen.h"

#define USAGE "usage: otlpdecode response|status|request FILE\n"

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *b;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((b = realloc(buf, cap)) == NULL)
				goto fail;
			buf = b;
		}
		if ((got = fread(buf + n, 1, cap - n, f)) == 0)
			break;
		n += got;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

static int
response(const uint8_t *p, size_t n)
{
	Ltb__Otlp__ExportTraceServiceResponse *r;

	r = ltb__otlp__export_trace_service_response__unpack(NULL, n, p);
	if (r == NULL)
		return 1;
	if (r->partial_success == NULL)
		printf("partial_success unset\n");
	else
		printf("rejected_spans %lld\nerror_message %s\n",
		    (long long)r->partial_success->rejected_spans,
		    r->partial_success->error_message);
	ltb__otlp__export_trace_service_response__free_unpacked(r, NULL);
	return 0;
}

static int
status(const uint8_t *p, size_t n)
{
	Ltb__Otlp__RpcStatus *s;

	if ((s = ltb__otlp__rpc_status__unpack(NULL, n, p)) == NULL)
		return 1;
	printf("code %d\nmessage %s\n", s->code, s->message);
	ltb__otlp__rpc_status__free_unpacked(s, NULL);
	return 0;
}

static int
request(const uint8_t *p, size_t n)
{
	char *s = ltb_otlp_to_json(p, n, NULL);

	if (s == NULL)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t *p;
	size_t n = 0;
	int rc;

	if (argc != 3 || (strcmp(argv[1], "response") &&
	    strcmp(argv[1], "status") && strcmp(argv[1], "request"))) {
		fputs(USAGE, stderr);
		return 2;
	}
	if ((p = slurp(argv[2], &n)) == NULL) {
		fprintf(stderr, "otlpdecode: cannot read %s\n", argv[2]);
		return 3;
	}
	rc = !strcmp(argv[1], "response") ? response(p, n) :
	    !strcmp(argv[1], "status") ? status(p, n) : request(p, n);
	if (rc != 0)
		fprintf(stderr, "otlpdecode: %s: not a protobuf %s\n", argv[2],
		    argv[1]);
	free(p);
	if (fflush(stdout) || ferror(stdout))
		return 3;
	return rc;
}
