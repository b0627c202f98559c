/*
 * ltb_client_loop.h: what every C client of ltb does around its library:
 * fetch the control message once, do Work multiplications per unit, and
 * pay the sleep debt the message asks for.
 *
 * The tracer client (clients/c) and the metrics client
 * (clients/c-spectator) share it, so the two load the machine the same
 * way per unit (a span, a measurement) and differ only by the library
 * they drive.
 */
#ifndef LTB_CLIENT_LOOP_H
#define LTB_CLIENT_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "run/ltb_control_msg.h"

/*
 * GET url (any URL libcurl reads, file:// included; never through a
 * proxy; 10 s at most, 1 MiB at most) and read it into c (which holds the
 * defaults, or what the caller set). curl_global_init must have been
 * called. Returns 0, or -1 with the whole reason in err: "cannot fetch
 * the control message from URL: WHY" or "bad control message from URL:
 * WHY".
 */
int ltb_client_fetch_control(const char *url, struct ltb_control *c,
    char *err, size_t errlen);

/* n floating-point multiplications the compiler cannot drop. */
void ltb_client_work(uint64_t n);

/* Sleep ns on the monotonic clock, all of it (EINTR resumed). */
void ltb_client_sleep_ns(uint64_t ns);

/*
 * Sleep debt: Sleep ns accrue per unit; whenever the debt exceeds
 * SleepInterval the client sleeps SleepInterval and pays that much back
 * (with no SleepInterval it pays as it goes). pause (ctx, ns) sleeps; the
 * reference client's also tells its plant the time was not CPU.
 */
struct ltb_client_pace {
	uint64_t sleep_ns;		/* Sleep, per unit */
	uint64_t interval_ns;		/* SleepInterval */
	uint64_t debt;
	void (*pause)(void *ctx, uint64_t ns);
	void *ctx;
};

/* Ready p for c's Sleep and SleepInterval; pause NULL: just sleep. */
void ltb_client_pace_init(struct ltb_client_pace *p,
    const struct ltb_control *c, void (*pause)(void *, uint64_t), void *ctx);
/* k units were made: add their debt, sleep what is due. */
void ltb_client_pace_add(struct ltb_client_pace *p, uint64_t k);
/* At the end: sleep the debt left, so that a run lasts as long as its
 * units at the planned rate take. */
void ltb_client_pace_finish(struct ltb_client_pace *p);

/*
 * NumTags tags of a unit: the client's own first (nfirst of them, what an
 * instrumented service sets), then numbered "tag.N" = "value.N". keys and
 * values hold n each and a NULL; the numbered strings live in one block.
 */
struct ltb_client_tags {
	const char **keys, **values;
	char *block;
};

/* Make n tags from the first ones given. 0, or -1 out of memory (then
 * free what it made with ltb_client_tags_free). */
int ltb_client_tags_make(struct ltb_client_tags *t, unsigned n,
    const char *const *first_keys, const char *const *first_values,
    size_t nfirst);
void ltb_client_tags_free(struct ltb_client_tags *t);

#endif
