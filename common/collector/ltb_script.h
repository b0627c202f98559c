/*
 * ltb_script.h: what a satellite group answers, and when.
 *
 * A script is a list of steps, each a stretch of time counted from when
 * the script was posted (admin POST /script) and what every message that
 * begins in it is answered:
 *
 *   {"at_s": 5, "for_s": 10, "status": 429, "retry_after": "2"}
 *   {"at_s": 20, "for_s": 5, "status": 503}
 *   {"at_s": 30, "for_s": 2, "drop": true}
 *   {"at_s": 40, "for_s": 5, "delay_ms": 300}
 *   {"at_s": 50, "for_s": 5, "partial_success": 3}
 *
 * status (400, 429, 500, 502, 503, 504, with an optional Retry-After),
 * drop (hang up without an answer) and partial_success (200, but the
 * answer says N units were rejected, where the protocol can say so) are
 * one each; delay_ms holds the answer back and goes alone or with any of
 * them. Outside every step the group answers as its mode says.
 *
 * Parsing is strict, so that a typo in a benchmark's script is an error
 * rather than a quiet no-op: unknown keys, wrong types, negative or
 * overlapping times are refused with a message naming the step (by its
 * index, from 0, as in /stats) and the field. The satellite (ltb_admin.c)
 * and ltb-sample (before any run) use the same parser.
 */
#ifndef LTB_SCRIPT_H
#define LTB_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define LTB_SCRIPT_MAX_STEPS 64
#define LTB_SCRIPT_MAX_S 604800.0	/* a week: times within it */
#define LTB_SCRIPT_MAX_DELAY_MS 60000	/* a minute */
#define LTB_SCRIPT_RETRY_AFTER_LEN 64	/* bytes of a Retry-After value */
#define LTB_SCRIPT_MAX_BYTES 16383	/* of a script's JSON text */

struct ltb_script_step {
	double at_s, for_s;		/* from the post; for_s > 0 */
	unsigned status;		/* an HTTP error status, or 0 */
	char retry_after[LTB_SCRIPT_RETRY_AFTER_LEN + 1];	/* "": none */
	int drop;			/* hang up without answering */
	uint64_t partial_success;	/* units claimed rejected, or 0 */
	uint64_t delay_ms;		/* answer this late, or 0 */
};

struct ltb_script {
	struct ltb_script_step step[LTB_SCRIPT_MAX_STEPS];
	size_t n;			/* 0: no script */
};

/*
 * A script from a JSON list of steps (len bytes of json, not necessarily
 * NUL-terminated). 0, or -1 with a message in err: "steps[2].status is
 * 418: use 400, 429, 500, 502, 503 or 504". "[]" is the empty script.
 */
int ltb_script_parse(struct ltb_script *s, const char *json, size_t len,
    char *err, size_t errlen);
/* The same from a file, whose text is kept in *json (NUL-terminated, the
 * caller frees it) for posting as it is. 0, or -1 with a message in err
 * naming the file: "s.json: steps[0].at_s is -1: a time from 0 s on". */
int ltb_script_load(struct ltb_script *s, const char *path, char **json,
    char *err, size_t errlen);
/* The same from a parsed list (borrowed). */
int ltb_script_from_json(struct ltb_script *s, const cJSON *list, char *err,
    size_t errlen);

/* The step active t seconds after the post, or -1 when none is. */
int ltb_script_active(const struct ltb_script *s, double t);

/* Does a message answered by st count as refused: told it was not taken
 * (an error status) or hung up on? A delay or a partial success is not. */
int ltb_script_step_refuses(const struct ltb_script_step *st);

/* The step as it would be posted: a new object, NULL on allocation
 * failure. */
cJSON *ltb_script_step_json(const struct ltb_script_step *st);

/* A few words for a person or a graph: "429 Retry-After 2", "503",
 * "drop", "delay 300 ms", "partial_success 3", "503 after 300 ms". */
void ltb_script_step_describe(const struct ltb_script_step *st, char *buf,
    size_t len);

#endif
