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

#endif
