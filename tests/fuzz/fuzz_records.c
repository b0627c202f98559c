/*
 * fuzz_records.c: libFuzzer target for the record readers.
 *
 * The input is read as JSON lines by the one reader every tool uses
 * (ltb_jsonl_next, which checks each record against its schema). Every
 * record it lets through must then be taken by the readers behind it:
 * ltb-assert's results (ltb_results_add) and ltb-plot's runs
 * (ltb_plot_add_record) may refuse nothing the schema passed, since the
 * schema is the one place that says what a record is. The input also goes
 * to the satellite stats parser (ltb_satcounts_parse), which must not
 * crash on anything. A disagreement aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ltb_jsonl.h"
#include "judge/ltb_gates.h"
#include "plot/ltb_plot.h"
#include "run/ltb_satellite_admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ltb_results rs = LTB_RESULTS_ZERO;
	struct ltb_plot_data pd = LTB_PLOT_DATA_ZERO;
	struct ltb_jsonl_reader r;
	struct ltb_satcounts c;
	char err[1024], *text;
	cJSON *rec;
	FILE *f;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ltb_satcounts_parse(&c, text, err, sizeof err);
	free(text);

	if (size == 0 || (f = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	ltb_jsonl_reader_init(&r, f, "fuzz");
	while (ltb_jsonl_next(&r, &rec, err, sizeof err) > 0) {
		cJSON *copy = cJSON_Duplicate(rec, 1);

		if (copy == NULL || ltb_results_add(&rs, copy, "fuzz", 1) < 0) {
			cJSON_Delete(rec);
			break;
		}
		if (ltb_plot_add_record(&pd, rec, "fuzz", 1, err,
		    sizeof err) < 0 && errno == EINVAL) {
			fprintf(stderr, "schema passed what ltb-plot refused: "
			    "%s\n", err);
			abort();
		}
	}
	ltb_jsonl_reader_free(&r);
	fclose(f);
	ltb_results_free(&rs);
	ltb_plot_data_free(&pd);
	return 0;
}
