/*
 * ltb_jsonl.h: JSON-lines records, the data stream between ltb tools.
 *
 * One JSON object per line, each with "type" and "v". Lines are flushed as
 * they are written so a pipeline streams.
 */
#ifndef LTB_JSONL_H
#define LTB_JSONL_H

#include <stdio.h>

#include <cjson/cJSON.h>

#define LTB_RECORD_VERSION 1

/* A new record object {"type": type, "v": 1}; NULL on allocation failure.
 * The caller owns it (cJSON_Delete). */
cJSON *ltb_record_new(const char *type);

/* Write rec as one line on f and flush. Borrows rec. Returns 0, or -1 with
 * errno set (EPIPE when the reader went away). */
int ltb_jsonl_write(FILE *f, const cJSON *rec);

/*
 * Reading records, with file and line for messages. Blank lines are
 * skipped; every other line must be a JSON object with a string "type", a
 * "v" this ltb reads, and, for the record types with a schema, the fields
 * that schema asks for (records/ltb_records.h): a reader never sees a
 * record of the wrong shape.
 */
struct ltb_jsonl_reader {
	FILE *f;		/* borrowed */
	const char *name;	/* for messages: a path, or "stdin" */
	unsigned long line;	/* of the record last returned */
	char *buf;
	size_t cap;
};

/* Borrows f and name; they must outlive the reader. */
void ltb_jsonl_reader_init(struct ltb_jsonl_reader *r, FILE *f,
    const char *name);

/*
 * The next record: 1 with *rec set (the caller owns it), 0 at end of
 * input, -1 on a malformed line (errno EINVAL) or a read error, with a
 * message in err ("results.jsonl:12: not a JSON object").
 */
int ltb_jsonl_next(struct ltb_jsonl_reader *r, cJSON **rec, char *err,
    size_t errlen);

void ltb_jsonl_reader_free(struct ltb_jsonl_reader *r);

/*
 * A record handler for ltb_jsonl_read_path: takes rec (also on failure);
 * name ("stdin" or the path given) is stable while the caller's path is.
 * Returns 0 to go on, 1 to stop reading, -1 to fail with a message in err
 * and errno set.
 */
typedef int ltb_record_fn(cJSON *rec, const char *name, unsigned long line,
    void *ctx, char *err, size_t errlen);

/*
 * Every record of path ("-" for stdin), in order, to fn. Returns 0, or -1
 * with a message in err: the file cannot be opened ("cannot open 'x': No
 * such file or directory", errno from open), a line is malformed (errno
 * EINVAL), it cannot be read, or fn failed (fn's errno).
 */
int ltb_jsonl_read_path(const char *path, ltb_record_fn *fn, void *ctx,
    char *err, size_t errlen);

/* Field helpers for records: the number, string or bool at key, or dflt
 * when absent or of another type. */
double ltb_json_num(const cJSON *obj, const char *key, double dflt);
const char *ltb_json_str(const cJSON *obj, const char *key, const char *dflt);
int ltb_json_bool(const cJSON *obj, const char *key, int dflt);

#endif
