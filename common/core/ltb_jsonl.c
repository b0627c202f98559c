/*
 * ltb_jsonl.c: writing JSON-lines records with cJSON; see ltb_jsonl.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ltb_jsonl.h"
#include "records/ltb_records.h"

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

void
ltb_jsonl_reader_init(struct ltb_jsonl_reader *r, FILE *f, const char *name)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->name = name;
}

static int
blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0';
}

int
ltb_jsonl_next(struct ltb_jsonl_reader *r, cJSON **rec, char *err,
    size_t errlen)
{
	char why[512];
	ssize_t n;
	cJSON *o;

	*rec = NULL;
	for (;;) {
		errno = 0;
		if ((n = getline(&r->buf, &r->cap, r->f)) < 0) {
			if (ferror(r->f)) {
				snprintf(err, errlen, "%s: cannot read: %s",
				    r->name, strerror(errno));
				return -1;
			}
			return 0;
		}
		r->line++;
		if (!blank(r->buf))
			break;
	}
	if ((o = cJSON_ParseWithLength(r->buf, (size_t)n)) == NULL ||
	    !cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s:%lu: not a JSON object", r->name,
		    r->line);
		cJSON_Delete(o);
		errno = EINVAL;
		return -1;
	}
	/* Every reader sees only records that pass their schema. */
	if (ltb_record_check(o, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s:%lu: %s", r->name, r->line, why);
		cJSON_Delete(o);
		errno = EINVAL;
		return -1;
	}
	*rec = o;
	return 1;
}

void
ltb_jsonl_reader_free(struct ltb_jsonl_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

int
ltb_jsonl_read_path(const char *path, ltb_record_fn *fn, void *ctx,
    char *err, size_t errlen)
{
	int is_stdin = strcmp(path, "-") == 0, rc, e;
	const char *name = is_stdin ? "stdin" : path;
	struct ltb_jsonl_reader r;
	cJSON *rec;
	FILE *f;

	if ((f = is_stdin ? stdin : fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	ltb_jsonl_reader_init(&r, f, name);
	while ((rc = ltb_jsonl_next(&r, &rec, err, errlen)) > 0)
		if ((rc = fn(rec, name, r.line, ctx, err, errlen)) != 0)
			break;
	e = errno;
	ltb_jsonl_reader_free(&r);
	if (!is_stdin)
		fclose(f);
	errno = e;
	return rc < 0 ? -1 : 0;
}

double
ltb_json_num(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *
ltb_json_str(const cJSON *obj, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

int
ltb_json_bool(const cJSON *obj, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}
