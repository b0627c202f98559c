/*
 * fuzz_script.c: libFuzzer target for the satellite script parser
 * (common/collector/ltb_script.c), which reads what anyone may POST to a
 * satellite's admin port.
 *
 * The input is a script's JSON text. Whatever it is, the parser either
 * refuses it, saying why and leaving no step, or takes it, and then what
 * it took must hold: steps in time order without overlap, each with one
 * answer at most and something to do, a Retry-After that cannot end its
 * header; each step written back (as /script shows it) reads back the
 * same; the step active at any time is one whose time it is. A breach
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ltb_script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_step(const struct ltb_script_step *st, const struct ltb_script_step *prev)
{
	struct ltb_script again;
	char err[512], words[128], json[512], *back;
	cJSON *o;
	int n;

	if (!(st->at_s >= 0) || !(st->for_s > 0) ||
	    st->at_s + st->for_s > LTB_SCRIPT_MAX_S)
		abort();
	if (prev != NULL && st->at_s < prev->at_s + prev->for_s)
		abort();
	if ((st->status != 0) + st->drop + (st->partial_success != 0) > 1 ||
	    (st->status == 0 && !st->drop && st->partial_success == 0 &&
	    st->delay_ms == 0) || st->delay_ms > LTB_SCRIPT_MAX_DELAY_MS)
		abort();
	for (const char *p = st->retry_after; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
			abort();
	if (st->retry_after[0] != '\0' && st->status == 0)
		abort();
	ltb_script_step_describe(st, words, sizeof words);
	if ((o = ltb_script_step_json(st)) == NULL)
		return;
	back = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (back == NULL)
		return;
	n = snprintf(json, sizeof json, "[%s]", back);
	cJSON_free(back);
	if (n < 0 || (size_t)n >= sizeof json)
		abort();
	if (ltb_script_parse(&again, json, (size_t)n, err, sizeof err) < 0 ||
	    again.n != 1 || again.step[0].status != st->status ||
	    again.step[0].drop != st->drop ||
	    again.step[0].partial_success != st->partial_success ||
	    again.step[0].delay_ms != st->delay_ms ||
	    strcmp(again.step[0].retry_after, st->retry_after) != 0 ||
	    again.step[0].at_s != st->at_s || again.step[0].for_s != st->for_s)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ltb_script s;
	char err[512] = "";
	int i;

	if (ltb_script_parse(&s, (const char *)data, size, err,
	    sizeof err) < 0) {
		if (s.n != 0 || err[0] == '\0')
			abort();
		return 0;
	}
	if (s.n > LTB_SCRIPT_MAX_STEPS)
		abort();
	for (size_t k = 0; k < s.n; k++)
		check_step(&s.step[k], k ? &s.step[k - 1] : NULL);
	for (size_t k = 0; k < s.n; k++) {
		double ts[] = { s.step[k].at_s, s.step[k].at_s +
		    s.step[k].for_s / 2 };

		for (size_t j = 0; j < 2; j++)
			if ((i = ltb_script_active(&s, ts[j])) < 0 ||
			    (size_t)i != k)
				abort();
	}
	if (ltb_script_active(&s, -1) != -1)
		abort();
	return 0;
}
