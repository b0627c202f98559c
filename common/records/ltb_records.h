/*
 * ltb_records.h: the record schemas, in one place (ltb-records(5)).
 *
 * Every tool that writes or reads a record checks it against the table in
 * ltb_records.c: ltb-sample checks each result it is about to write, and
 * ltb-assert and ltb-plot check each record they read before looking at
 * it. So a field's type and bounds are said once, and a record that one
 * tool would refuse is refused by all of them, with the same words.
 *
 * A schema names the fields a record type must have, the fields it may
 * have, and for each its JSON type, whether null is allowed (a NoOp run has
 * no spans_received) and the bounds of a number. Fields the schema does not
 * name are let through: a newer writer of the same version may add some.
 * Record types without a schema pass once their "type" and "v" are right.
 */
#ifndef LTB_RECORDS_H
#define LTB_RECORDS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The one version of the records this ltb writes and reads. */
#define LTB_RECORD_VERSION 1

/*
 * Check rec against its type's schema. Returns 0, or -1 with errno EINVAL
 * and the reason in err, without file or line (the caller knows them):
 * "result's \"exit_status\" is \"1\", not an integer". An unknown "v" is
 * refused with what to do about it.
 */
int ltb_record_check(const cJSON *rec, char *err, size_t errlen);

/* The "v" of rec is one this ltb understands: 0, or -1 with the reason. */
int ltb_record_check_version(const cJSON *rec, char *err, size_t errlen);

/*
 * A result's "unit", what its spans_sent and the counts after it count:
 * "span" (tracers), "measurement" (metrics clients' meter updates),
 * "trace point" (OSProfiler). ltb_unit returns the unit rec names (a
 * static string), "span" when it names none (a result written before
 * units), NULL when it names one of no such name. The words for people:
 * ltb_unit_word ("span", "measurement", "trace point") and
 * ltb_unit_plural ("spans", "measurements", "trace points") of a unit
 * ltb_unit returned.
 */
const char *ltb_unit(const cJSON *rec);
const char *ltb_unit_word(const char *unit);
const char *ltb_unit_plural(const char *unit);

#endif
