/*
 * ltb_jsonl.c: writing JSON-lines records with cJSON; see ltb_jsonl.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ltb_jsonl.h"

cJSON *
ltb_record_new(const char *type)
{
	cJSON *rec = cJSON_CreateObject();

	if (rec == NULL)
		return NULL;
	if (cJSON_AddStringToObject(rec, "type", type) == NULL ||
	    cJSON_AddNumberToObject(rec, "v", LTB_RECORD_VERSION) == NULL) {
		cJSON_Delete(rec);
		return NULL;
	}
	return rec;
}

int
ltb_jsonl_write(FILE *f, const cJSON *rec)
{
	char *s = cJSON_PrintUnformatted(rec);
	int rc = 0;

	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (fputs(s, f) == EOF || putc('\n', f) == EOF || fflush(f) == EOF)
		rc = -1;
	free(s);
	return rc;
}
