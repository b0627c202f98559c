/*
 * ltb_body.h: a message body held whole, for the protocols that read it
 * only at its end (JSON through cJSON; protobuf through protobuf-c's
 * unpack, --validate full): holding its pieces within the field limit
 * and the group's memory budget, and taking room for the tree cJSON
 * builds of it. One place for the answers those steps give (413: too
 * large, 503: no room now), so every protocol gives them alike.
 */
#ifndef LTB_BODY_H
#define LTB_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "collector/proto/ltb_pbstream.h"

struct ltb_budget;

/*
 * Hold n more bytes at p in body, which may hold max in all. Returns
 * LTB_COLLECT_OK; LTB_COLLECT_BUSY when the budget has no room (what
 * body held is given back at once: it will never be read); or
 * LTB_COLLECT_TOO_LARGE past max, *why then too_large (static: "report
 * larger than the body limit").
 */
int ltb_body_hold(struct ltb_pbhold *body, const uint8_t *p, size_t n,
    size_t max, const char *too_large, const char **why);

/*
 * Take from b (NULL: none) the room cJSON's tree of body's bytes may
 * need, into *tree: give it back with ltb_budget_give once the tree is
 * freed. LTB_COLLECT_OK; LTB_COLLECT_TOO_LARGE when the budget could
 * never hold it beside the body (not worth a retry); LTB_COLLECT_BUSY
 * when it has no room now. *why says which.
 */
int ltb_body_take_tree(struct ltb_budget *b, const struct ltb_pbhold *body,
    size_t *tree, const char **why);

#endif
