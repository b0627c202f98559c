/*
 * ltb_client_loop.c: the control message fetch, the work and the sleep
 * debt of ltb's C clients (see ltb_client_loop.h). Moved here from
 * clients/c/client.c unchanged, so that clients/c-spectator does the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "client/ltb_client_loop.h"

#define CONTROL_MAX (1 << 20)		/* a control message is small */
#define CONTROL_TIMEOUT_MS 10000

/* Where the multiplications go, so the compiler must do them. */
static volatile double sink;

struct body {
	char *p;
	size_t n, cap;
};

static size_t
take(char *p, size_t size, size_t nm, void *ctx)
{
	struct body *b = ctx;
	size_t n = size * nm;
	char *np;

	if (b->n + n + 1 > CONTROL_MAX)
		return 0;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->n + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* GET url into b. 0, or -1 with the reason in err. */
static int
fetch(const char *url, struct body *b, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *h;
	CURLcode rc;

	if ((h = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CONTROL_TIMEOUT_MS);
	/* the controller is local: never a proxy */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	if (rc == CURLE_WRITE_ERROR) {
		snprintf(err, errlen, "body larger than %d bytes or out of "
		    "memory", CONTROL_MAX);
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s",
		    cerr[0] ? cerr : curl_easy_strerror(rc));
		return -1;
	}
	if (b->n == 0) {
		snprintf(err, errlen, "empty body");
		return -1;
	}
	return 0;
}

int
ltb_client_fetch_control(const char *url, struct ltb_control *c, char *err,
    size_t errlen)
{
	struct body body = { NULL, 0, 0 };
	char why[256];
	int rc = -1;

	if (fetch(url, &body, why, sizeof why) < 0) {
		snprintf(err, errlen, "cannot fetch the control message from "
		    "%s: %s", url, why);
		goto out;
	}
	if (ltb_control_parse(c, body.p, body.n, why, sizeof why) < 0) {
		snprintf(err, errlen, "bad control message from %s: %s", url,
		    why);
		goto out;
	}
	rc = 0;
out:
	free(body.p);
	return rc;
}

void
ltb_client_work(uint64_t n)
{
	double x = 1.0;
	uint64_t i;

	for (i = 0; i < n; i++)
		x *= 1.000000001;
	sink = x;
}

void
ltb_client_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000),
	    (long)(ns % 1000000000) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static void
just_sleep(void *ctx, uint64_t ns)
{
	(void)ctx;
	ltb_client_sleep_ns(ns);
}

void
ltb_client_pace_init(struct ltb_client_pace *p, const struct ltb_control *c,
    void (*pause)(void *, uint64_t), void *ctx)
{
	p->sleep_ns = c->sleep_ns;
	p->interval_ns = c->sleep_interval_ns;
	p->debt = 0;
	p->pause = pause != NULL ? pause : just_sleep;
	p->ctx = ctx;
}

void
ltb_client_pace_add(struct ltb_client_pace *p, uint64_t k)
{
	p->debt += p->sleep_ns * k;
	if (p->interval_ns == 0) {
		/* no interval to batch sleeps by: pay as we go */
		if (p->debt > 0)
			p->pause(p->ctx, p->debt);
		p->debt = 0;
	}
	while (p->interval_ns > 0 && p->debt > p->interval_ns) {
		p->pause(p->ctx, p->interval_ns);
		p->debt -= p->interval_ns;
	}
}

void
ltb_client_pace_finish(struct ltb_client_pace *p)
{
	/* The original dropped the debt left at the end, which cuts a short
	 * run short by up to one SleepInterval (10% of a 1 s run); paying it
	 * keeps the run as long as Repeat units at the planned rate take. */
	if (p->debt > 0)
		p->pause(p->ctx, p->debt);
	p->debt = 0;
}

int
ltb_client_tags_make(struct ltb_client_tags *t, unsigned n,
    const char *const *first_keys, const char *const *first_values,
    size_t nfirst)
{
	char *p;
	unsigned i;

	t->keys = calloc(n + 1, sizeof *t->keys);
	t->values = calloc(n + 1, sizeof *t->values);
	t->block = malloc((size_t)n * 48 + 1);
	if (t->keys == NULL || t->values == NULL || t->block == NULL)
		return -1;
	for (i = 0, p = t->block; i < n; i++) {
		if (i < nfirst) {
			t->keys[i] = first_keys[i];
			t->values[i] = first_values[i];
			continue;
		}
		/* "tag.4294967295" and "value.4294967295" fit 48 bytes */
		t->keys[i] = p;
		p += snprintf(p, 24, "tag.%u", i) + 1;
		t->values[i] = p;
		p += snprintf(p, 24, "value.%u", i) + 1;
	}
	return 0;
}

void
ltb_client_tags_free(struct ltb_client_tags *t)
{
	free(t->keys);
	free(t->values);
	free(t->block);
	t->keys = t->values = NULL;
	t->block = NULL;
}
