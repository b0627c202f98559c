/*
 * ltb_body.c: a message body held whole; see ltb_body.h.
 */
#include "collector/ltb_body.h"
#include "collector/ltb_budget.h"
#include "collector/ltb_collector.h"
#include "collector/proto/ltb_otlp_walk.h"

int
ltb_body_hold(struct ltb_pbhold *body, const uint8_t *p, size_t n,
    size_t max, const char *too_large, const char **why)
{
	int rc = ltb_pbhold_add(body, p, n, max);

	if (rc == LTB_PBHOLD_BUSY) {
		/* Never read now: give its room back at once. */
		ltb_pbhold_free(body);
		*why = LTB_BUDGET_WHY;
		return LTB_COLLECT_BUSY;
	}
	if (rc < 0) {
		*why = too_large;
		return LTB_COLLECT_TOO_LARGE;
	}
	return LTB_COLLECT_OK;
}

int
ltb_body_take_tree(struct ltb_budget *b, const struct ltb_pbhold *body,
    size_t *tree, const char **why)
{
	*tree = ltb_otlp_json_bound(body->buf, body->len);
	/* cJSON's tree is many times the body: one the budget could never
	 * hold beside the body is too large, not a reason to retry. */
	if (b != NULL && b->limit && *tree > b->limit - body->cap) {
		*why = "too large to read within the satellite's memory budget";
		*tree = 0;
		return LTB_COLLECT_TOO_LARGE;
	}
	if (ltb_budget_take(b, *tree) < 0) {
		*why = LTB_BUDGET_WHY;
		*tree = 0;
		return LTB_COLLECT_BUSY;
	}
	return LTB_COLLECT_OK;
}
