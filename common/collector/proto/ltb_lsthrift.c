/*
 * ltb_lsthrift.c: validation and identity of a LightStep thrift span; see
 * ltb_lsthrift.h.
 */
#include "collector/ltb_dupset.h"
#include "collector/proto/ltb_lsthrift.h"

/* Index i is enum ltb_lst_invalid's i. */
const char *const ltb_lst_invalid_names[LTB_LST_NINVALID] = {
	"valid", "no_span_guid", "no_trace_guid", "no_name", "no_start",
	"bad_timestamp", "empty_key",
};

unsigned
ltb_lst_check(const struct ltb_lst_span *s)
{
	if (!s->has_span_guid)
		return LTB_LST_NO_SPAN_GUID;
	if (!s->has_trace_guid)
		return LTB_LST_NO_TRACE_GUID;
	if (!s->has_name)
		return LTB_LST_NO_NAME;
	if (!s->has_oldest)
		return LTB_LST_NO_START;
	if (s->oldest_micros < 0 || (s->has_youngest &&
	    (s->youngest_micros < 0 || s->youngest_micros < s->oldest_micros)))
		return LTB_LST_BAD_TIMESTAMP;
	if (s->empty_key)
		return LTB_LST_EMPTY_KEY;
	return LTB_LST_VALID;
}

uint64_t
ltb_lst_key(const struct ltb_lst_span *s)
{
	return ltb_dupset_key(s->trace_guid, s->span_guid);
}
