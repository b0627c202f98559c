/*
 * lsthriftdecode: print what ltb's thrift walk (ltb_lsthrift_walk.h) reads
 * of LightStep thrift report bodies, in the form of tests/tools/lsthrift.py
 * decode, its oracle, so the two are compared line for line.
 *
 *   lsthriftdecode [--max-field N] [--piece N] FILE...
 *
 * Per file: one "SPAN TRACE REASON" line per span (FNV-1a of the guids in
 * hex, "-" for none), then "ok N", "malformed" or "too_large". Each file is
 * fed to the walk as it is read, --piece bytes at a time (default 65536).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/proto/ltb_lsthrift.h"
#include "collector/proto/ltb_lsthrift_walk.h"

static void
print_span(void *ctx, const struct ltb_lst_span *s)
{
	(void)ctx;
	if (s->has_span_guid)
		printf("%016llx ", (unsigned long long)s->span_guid);
	else
		printf("- ");
	if (s->has_trace_guid)
		printf("%016llx ", (unsigned long long)s->trace_guid);
	else
		printf("- ");
	printf("%s\n", ltb_lst_invalid_names[ltb_lst_check(s)]);
}

static void
verdict(const struct ltb_lst_walk *w, int rc)
{
	if (rc == LTB_LST_TOO_LARGE)
		printf("too_large\n");
	else if (rc < 0)
		printf("malformed\n");
	else
		printf("ok %llu\n", (unsigned long long)w->spans);
}

/* 0, or -1 when the file cannot be read (said on stderr). */
static int
decode(const char *path, size_t max_field, uint8_t *buf, size_t piece)
{
	struct ltb_lst_walk w;
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (f == NULL)
		goto fail;
	ltb_lst_walk_init(&w, max_field);
	while (rc >= 0 && (n = fread(buf, 1, piece, f)) > 0)
		rc = ltb_lst_walk_feed(&w, buf, n, print_span, NULL);
	if (ferror(f))
		goto fail;
	if (rc >= 0)
		rc = ltb_lst_walk_end(&w);
	fclose(f);
	verdict(&w, rc);
	return 0;
fail:
	fprintf(stderr, "lsthriftdecode: cannot read %s\n", path);
	if (f != NULL)
		fclose(f);
	return -1;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: lsthriftdecode [--max-field N] [--piece N] FILE...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	size_t max_field = 1u << 22, piece = 65536;
	uint8_t *buf;
	int i, rc = 0;

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--max-field") == 0)
			max_field = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--piece") == 0)
			piece = strtoull(argv[i + 1], NULL, 10);
		else
			return usage();
	}
	if (i == argc || piece == 0)
		return usage();
	if ((buf = malloc(piece)) == NULL) {
		fprintf(stderr, "lsthriftdecode: out of memory\n");
		return 1;
	}
	for (; i < argc; i++)
		if (decode(argv[i], max_field, buf, piece) < 0)
			rc = 1;
	free(buf);
	return rc;
}
