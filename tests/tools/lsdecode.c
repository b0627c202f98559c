/*
 * lsdecode: print what a LightStep protobuf message holds, for tests.
 *
 *   lsdecode response FILE   receive_ns N / transmit_ns N / errors N
 *   lsdecode report FILE     spans N, then one "span TRACE SPAN OPERATION"
 *                            line per span
 *
 * Decodes with protobuf-c's generated unpacker, so what it prints is what
 * the library reads, independent of ltb-satellite's own walk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lightstep_collector.pb-c.h"

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

static unsigned long long
ts_ns(const Lightstep__Collector__Timestamp *t)
{
	if (t == NULL)
		return 0;
	return (unsigned long long)t->seconds * 1000000000ull +
	    (unsigned long long)t->nanos;
}

static int
print_response(const uint8_t *p, size_t n)
{
	Lightstep__Collector__ReportResponse *r;

	r = lightstep__collector__report_response__unpack(NULL, n, p);
	if (r == NULL)
		return -1;
	printf("receive_ns %llu\n", ts_ns(r->receive_timestamp));
	printf("transmit_ns %llu\n", ts_ns(r->transmit_timestamp));
	printf("errors %zu\n", r->n_errors);
	lightstep__collector__report_response__free_unpacked(r, NULL);
	return 0;
}

static int
print_report(const uint8_t *p, size_t n)
{
	Lightstep__Collector__ReportRequest *r;

	r = lightstep__collector__report_request__unpack(NULL, n, p);
	if (r == NULL)
		return -1;
	printf("spans %zu\n", r->n_spans);
	for (size_t i = 0; i < r->n_spans; i++) {
		const Lightstep__Collector__Span *s = r->spans[i];
		const Lightstep__Collector__SpanContext *c = s->span_context;

		printf("span %llx %llx %s\n",
		    c ? (unsigned long long)c->trace_id : 0ull,
		    c ? (unsigned long long)c->span_id : 0ull,
		    s->operation_name ? s->operation_name : "");
	}
	lightstep__collector__report_request__free_unpacked(r, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (argc != 3 || (strcmp(argv[1], "response") != 0 &&
	    strcmp(argv[1], "report") != 0)) {
		fprintf(stderr, "usage: lsdecode response|report FILE\n");
		return 2;
	}
	if ((buf = slurp(argv[2], &len)) == NULL) {
		perror("lsdecode");
		return 3;
	}
	rc = strcmp(argv[1], "response") == 0 ?
	    print_response(buf, len) : print_report(buf, len);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "lsdecode: %s: not a valid %s\n", argv[2],
		    argv[1]);
		return 1;
	}
	return 0;
}
