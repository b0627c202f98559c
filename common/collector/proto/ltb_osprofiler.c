/*
 * ltb_osprofiler.c: OSProfiler's trace points as its redis driver sends
 * them (see ltb_collector.h): each notification is one
 *     LPUSH osprofiler_opt:<base_id> <json>
 * and the RESP listener hands this protocol each value as one message,
 * the whole key as its path. A value is one JSON object, as
 * osprofiler/profiler.py's _notify makes it and the driver adds project
 * and service to:
 *     {"name": "<name>-start" | "<name>-stop", "base_id": UUID,
 *      "trace_id": UUID, "parent_id": UUID,
 *      "timestamp": "%Y-%m-%dT%H:%M:%S.%f", "info": {...}, ...}
 *
 * The unit is the trace point, which is two messages: its start and its
 * stop, with one trace_id, which may come on different connections. A
 * group keeps the points it has seen start (shared state, one lock), and
 * a stop that finds its start makes the point one unit, keyed by a hash
 * of the trace_id, so that a second stop of one point is the group's
 * duplicate. A start alone is no unit; what is left open, what stops
 * without starting, starts twice or names a parent that is no point of
 * its trace are this protocol's own counts in /stats.
 *
 * A value is never refused for what it says: OSProfiler's LPUSH must not
 * fail in the traced program. A value wrong in any way is one invalid
 * unit (key 0), by the first fault found, in the order of the reasons'
 * table; it takes no part in pairing. Only the group's limits fail a
 * message: a value over max_field (too large), no room in the budget
 * (busy).
 *
 * A value is a few hundred bytes: it is gathered in the message's own
 * state, with no allocation (a larger one in a held buffer from the
 * budget), and read with cJSON at the end, its tree taken from the
 * budget while it lives. Points are kept in a pool indexed by an
 * open-addressing table, both grown by doubling from the budget given
 * to shared_init; at most MAX_OPEN are open at once (beyond,
 * pairing_overflow: the start is not kept), and the last KEEP_DONE
 * completed are remembered (first in, first out) as parents and for
 * second starts and stops.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/ltb_budget.h"
#include "collector/ltb_collector.h"
#include "collector/proto/ltb_otlp_walk.h"
#include "collector/proto/ltb_pbstream.h"
#include "core/ltb_hash.h"

#define KEY_PREFIX "osprofiler_opt:"
#define SMALL 2048		/* bytes of a value held in the state */
#define UUID_LEN 36
#define KEY_MAX (sizeof KEY_PREFIX + UUID_LEN)	/* with its NUL */
#define MAX_OPEN (1u << 20)	/* points open at once */
#define KEEP_DONE 65536u	/* completed points remembered */
#define POOL_MIN 1024u		/* points of the first pool */
#define POOL_MAX (MAX_OPEN + KEEP_DONE)

enum osp_invalid {
	OSP_VALID,
	OSP_NOT_JSON,
	OSP_NOT_OBJECT,
	OSP_BAD_NAME,
	OSP_BAD_BASE_ID,
	OSP_KEY_MISMATCH,
	OSP_BAD_TRACE_ID,
	OSP_BAD_PARENT_ID,
	OSP_BAD_TIMESTAMP,
	OSP_BAD_INFO,
	OSP_STOP_MISMATCH,
	OSP_NINVALID
};

static const char *const osp_invalid_names[OSP_NINVALID] = {
	"valid", "not_json", "not_object", "bad_name", "bad_base_id",
	"key_mismatch", "bad_trace_id", "bad_parent_id", "bad_timestamp",
	"bad_info", "stop_mismatch",
};

/* One trace point, its ids as 16 bytes. */
struct point {
	uint64_t key;		/* the unit's key: a hash of trace */
	uint64_t name;		/* a hash of its name without -start */
	uint8_t trace[16], base[16], parent[16];
	uint32_t next;		/* the free list, by index + 1 */
	uint32_t done;		/* stopped (in the FIFO), else open */
};

struct osp_shared {
	pthread_mutex_t lock;
	struct ltb_budget *budget;	/* borrowed; NULL: none */
	struct point *pool;		/* cap points, used below high */
	uint32_t cap, high, free;	/* free: a list by index + 1 */
	uint32_t *index;		/* nindex slots, point index + 1 */
	size_t nindex;			/* a power of two, >= 2 cap */
	uint32_t *fifo;			/* KEEP_DONE completed, oldest at
					 * head */
	uint32_t head, ndone;
	size_t taken;			/* from budget */
	uint64_t open, unmatched_stops, broken_parents, duplicate_starts,
	    overflow;
};

/* A message read: what pairing needs of it. */
struct notice {
	int stop;
	uint64_t name;
	uint8_t trace[16], base[16], parent[16];
};

struct osp_state {
	size_t max;
	struct ltb_budget *budget;	/* the group's, borrowed */
	struct osp_shared *sh;		/* the group's; NULL: no pairing */
	char key[KEY_MAX];		/* the key, "" when longer */
	size_t len;			/* bytes in small */
	struct ltb_pbhold big;		/* the value, once past SMALL */
	char small[SMALL];
};

/* ---- reading a value ----------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A UUID as text, 8-4-4-4-12 hex digits, into 16 bytes: 0 or -1. */
static int
uuid_read(const cJSON *v, uint8_t out[16])
{
	const char *s;
	int hi, lo;

	if (!cJSON_IsString(v) || strlen(s = v->valuestring) != UUID_LEN)
		return -1;
	for (int i = 0, o = 0; i < UUID_LEN; o++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -1;
		}
		if ((hi = hexval(s[i])) < 0 || (lo = hexval(s[i + 1])) < 0)
			return -1;
		out[o] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

static int
digits(const char *s, size_t n, int *out)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

/* profiler.py's strftime("%Y-%m-%dT%H:%M:%S.%f"), a date Python's
 * datetime can hold: 2026-12-02T00:45:07.750624. */
static int
timestamp_ok(const cJSON *v)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	const char *s;
	int y, mo, d, h, mi, se, us;

	if (!cJSON_IsString(v) || strlen(s = v->valuestring) != 26)
		return 0;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.')
		return 0;
	if (digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 ||
	    digits(s + 8, 2, &d) < 0 || digits(s + 11, 2, &h) < 0 ||
	    digits(s + 14, 2, &mi) < 0 || digits(s + 17, 2, &se) < 0 ||
	    digits(s + 20, 6, &us) < 0)
		return 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || se > 59)
		return 0;
	/* 29 February of a year that is not a leap year */
	return !(mo == 2 && d == 29 &&
	    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

/* A 64-bit hash of n bytes (FNV-1a, mixed). */
static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return ltb_mix64(h);
}

/* The name's kind (start or stop) and a hash of what precedes it. */
static int
name_read(const cJSON *v, struct notice *n)
{
	size_t len;
	const char *s;

	if (!cJSON_IsString(v))
		return -1;
	s = v->valuestring;
	len = strlen(s);
	if (len >= 6 && strcmp(s + len - 6, "-start") == 0)
		len -= 6;
	else if (len >= 5 && strcmp(s + len - 5, "-stop") == 0) {
		len -= 5;
		n->stop = 1;
	} else
		return -1;
	n->name = hash_bytes(s, len);
	return 0;
}

/* The first fault of a value's object, OSP_VALID with n filled. Last key
 * wins, as for Python's json, which `osprofiler trace show` reads with. */
static unsigned
judge(const cJSON *o, const char *key, struct notice *n)
{
	const cJSON *c, *name = NULL, *base = NULL, *trace = NULL,
	    *parent = NULL, *ts = NULL, *info = NULL;

	cJSON_ArrayForEach(c, o) {
		if (strcmp(c->string, "name") == 0)
			name = c;
		else if (strcmp(c->string, "base_id") == 0)
			base = c;
		else if (strcmp(c->string, "trace_id") == 0)
			trace = c;
		else if (strcmp(c->string, "parent_id") == 0)
			parent = c;
		else if (strcmp(c->string, "timestamp") == 0)
			ts = c;
		else if (strcmp(c->string, "info") == 0)
			info = c;
	}
	if (name_read(name, n) < 0)
		return OSP_BAD_NAME;
	if (uuid_read(base, n->base) < 0)
		return OSP_BAD_BASE_ID;
	if (strncmp(key, KEY_PREFIX, sizeof KEY_PREFIX - 1) != 0 ||
	    strcmp(key + sizeof KEY_PREFIX - 1, base->valuestring) != 0)
		return OSP_KEY_MISMATCH;
	if (uuid_read(trace, n->trace) < 0)
		return OSP_BAD_TRACE_ID;
	if (uuid_read(parent, n->parent) < 0)
		return OSP_BAD_PARENT_ID;
	if (!timestamp_ok(ts))
		return OSP_BAD_TIMESTAMP;
	if (info != NULL && !cJSON_IsObject(info))
		return OSP_BAD_INFO;
	return OSP_VALID;
}

/* ---- the points ---------------------------------------------------------- */

static uint64_t
point_key(const uint8_t trace[16])
{
	uint64_t k = hash_bytes(trace, 16);

	return k != 0 ? k : 1;
}

/* The slot of trace in the index, or of the empty slot where it would
 * go. */
static size_t
slot_of(const struct osp_shared *s, uint64_t key, const uint8_t trace[16])
{
	size_t mask = s->nindex - 1, i = key & mask;

	for (; s->index[i] != 0; i = (i + 1) & mask) {
		const struct point *p = &s->pool[s->index[i] - 1];

		if (p->key == key && memcmp(p->trace, trace, 16) == 0)
			break;
	}
	return i;
}

static struct point *
find(const struct osp_shared *s, const uint8_t trace[16])
{
	size_t i;

	if (s->index == NULL)
		return NULL;
	i = slot_of(s, point_key(trace), trace);
	return s->index[i] ? &s->pool[s->index[i] - 1] : NULL;
}

/* Empty slot i, moving up what a probe would no longer reach. */
static void
unindex(struct osp_shared *s, size_t i)
{
	size_t mask = s->nindex - 1, j = i, home;

	for (;;) {
		s->index[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (s->index[j] == 0)
				return;
			home = s->pool[s->index[j] - 1].key & mask;
			/* stays when its home is cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) :
			    (i < home || home <= j))
				continue;
			break;
		}
		s->index[i] = s->index[j];
		i = j;
	}
}

static size_t
bytes_for(uint32_t cap, size_t nindex)
{
	return (size_t)cap * sizeof(struct point) + nindex * sizeof(uint32_t) +
	    KEEP_DONE * sizeof(uint32_t);
}

/* Room for twice the points (the first pool, the first time): 0, or -1
 * when the budget or memory has none or the pool is at its most. */
static int
grow(struct osp_shared *s)
{
	uint32_t cap = s->cap == 0 ? POOL_MIN : s->cap >= POOL_MAX / 2 ?
	    POOL_MAX : 2 * s->cap;
	size_t nindex = 1, need;
	struct point *pool;
	uint32_t *index, *fifo = s->fifo;

	if (cap <= s->cap)
		return -1;
	while (nindex < 2 * (size_t)cap)
		nindex <<= 1;
	need = bytes_for(cap, nindex);
	if (ltb_budget_take(s->budget, need - s->taken) < 0)
		return -1;
	pool = realloc(s->pool, cap * sizeof *pool);
	index = calloc(nindex, sizeof *index);
	if (fifo == NULL)
		fifo = malloc(KEEP_DONE * sizeof *fifo);
	if (pool != NULL)
		s->pool = pool;
	if (fifo != NULL)
		s->fifo = fifo;
	if (pool == NULL || index == NULL || fifo == NULL) {
		free(index);
		ltb_budget_give(s->budget, need - s->taken);
		return -1;
	}
	free(s->index);
	s->index = index;
	s->nindex = nindex;
	s->cap = cap;
	s->taken = need;
	/* every point in use again in the new index */
	for (uint32_t k = 0; k < s->high; k++) {
		struct point *p = &s->pool[k];

		if (p->key != 0)
			s->index[slot_of(s, p->key, p->trace)] = k + 1;
	}
	return 0;
}

/* A free point, or NULL. */
static struct point *
take_point(struct osp_shared *s)
{
	struct point *p;

	if (s->free != 0) {
		p = &s->pool[s->free - 1];
		s->free = p->next;
		return p;
	}
	if (s->high == s->cap && grow(s) < 0)
		return NULL;
	return &s->pool[s->high++];
}

/* The oldest completed point forgotten. */
static void
forget_oldest(struct osp_shared *s)
{
	uint32_t k = s->fifo[s->head];
	struct point *p = &s->pool[k];

	unindex(s, slot_of(s, p->key, p->trace));
	p->key = 0;
	p->next = s->free;
	s->free = k + 1;
	s->head = (s->head + 1) % KEEP_DONE;
	s->ndone--;
}

static void
complete(struct osp_shared *s, struct point *p)
{
	p->done = 1;
	s->open--;
	if (s->ndone == KEEP_DONE)
		forget_oldest(s);
	s->fifo[(s->head + s->ndone++) % KEEP_DONE] = (uint32_t)(p - s->pool);
}

static void
start(struct osp_shared *s, const struct notice *n)
{
	const struct point *parent;
	struct point *p;

	if (find(s, n->trace) != NULL) {
		s->duplicate_starts++;
		return;
	}
	if (memcmp(n->parent, n->base, 16) != 0 &&
	    ((parent = find(s, n->parent)) == NULL ||
	    memcmp(parent->base, n->base, 16) != 0))
		s->broken_parents++;
	if (s->open == MAX_OPEN || (p = take_point(s)) == NULL) {
		s->overflow++;
		return;
	}
	p->key = point_key(n->trace);
	p->name = n->name;
	memcpy(p->trace, n->trace, 16);
	memcpy(p->base, n->base, 16);
	memcpy(p->parent, n->parent, 16);
	p->done = 0;
	s->index[slot_of(s, p->key, p->trace)] = (uint32_t)(p - s->pool) + 1;
	s->open++;
}

/* A stop: 0 (not a unit), or 1 with the unit's key and result. */
static int
stop(struct osp_shared *s, const struct notice *n, uint64_t *key,
    unsigned *invalid)
{
	struct point *p = find(s, n->trace);

	if (p == NULL) {
		s->unmatched_stops++;
		return 0;
	}
	*key = p->key;
	*invalid = OSP_VALID;
	if (p->done)
		return 1;	/* again: the group's duplicate */
	if (p->name != n->name || memcmp(p->base, n->base, 16) != 0 ||
	    memcmp(p->parent, n->parent, 16) != 0)
		*invalid = OSP_STOP_MISMATCH;
	complete(s, p);
	return 1;
}

/* ---- the shared state ---------------------------------------------------- */

static int
osp_shared_init(void *shared, struct ltb_budget *budget)
{
	struct osp_shared *s = shared;

	if (pthread_mutex_init(&s->lock, NULL) != 0)
		return -1;
	s->budget = budget;
	return 0;
}

/* Everything given back, counts kept. */
static void
drop_points(struct osp_shared *s)
{
	free(s->pool);
	free(s->index);
	free(s->fifo);
	ltb_budget_give(s->budget, s->taken);
	s->pool = NULL;
	s->index = NULL;
	s->fifo = NULL;
	s->taken = s->nindex = 0;
	s->cap = s->high = s->free = s->head = s->ndone = 0;
	s->open = 0;
}

static void
osp_shared_free(void *shared)
{
	struct osp_shared *s = shared;

	drop_points(s);
	pthread_mutex_destroy(&s->lock);
}

static void
osp_shared_reset(void *shared)
{
	struct osp_shared *s = shared;

	pthread_mutex_lock(&s->lock);
	drop_points(s);
	s->unmatched_stops = s->broken_parents = s->duplicate_starts = 0;
	s->overflow = 0;
	pthread_mutex_unlock(&s->lock);
}

static void
osp_shared_stats(void *shared, cJSON *o)
{
	struct osp_shared *s = shared;
	uint64_t v[5];

	pthread_mutex_lock(&s->lock);
	v[0] = s->open;
	v[1] = s->unmatched_stops;
	v[2] = s->broken_parents;
	v[3] = s->duplicate_starts;
	v[4] = s->overflow;
	pthread_mutex_unlock(&s->lock);
	cJSON_AddNumberToObject(o, "unmatched_starts", (double)v[0]);
	cJSON_AddNumberToObject(o, "unmatched_stops", (double)v[1]);
	cJSON_AddNumberToObject(o, "broken_parents", (double)v[2]);
	cJSON_AddNumberToObject(o, "duplicate_starts", (double)v[3]);
	cJSON_AddNumberToObject(o, "pairing_overflow", (double)v[4]);
}

/* ---- one message ----------------------------------------------------------- */

static int
osp_begin(void *state, const struct ltb_message *m)
{
	struct osp_state *s = state;
	const char *key = m->path != NULL ? m->path : "";

	s->max = m->max_field;
	s->budget = m->budget;
	s->sh = m->shared;
	/* A value held whole is inside what the group reserved. */
	s->big.budget = m->body_taken ? NULL : m->budget;
	/* A key longer than the longest right one is wrong whatever the
	 * value says: kept as "", which never matches. */
	if (strlen(key) < sizeof s->key)
		memcpy(s->key, key, strlen(key) + 1);
	return LTB_COLLECT_OK;
}

static int
osp_feed(void *state, const uint8_t *p, size_t n,
    const struct ltb_span_sink *sink, const char **why)
{
	struct osp_state *s = state;
	size_t had = s->len + s->big.len;
	int rc = 0;

	(void)sink;
	if (had + n > s->max) {
		*why = "value larger than the field limit";
		return LTB_COLLECT_TOO_LARGE;
	}
	if (s->big.buf == NULL && s->len + n <= SMALL) {
		memcpy(s->small + s->len, p, n);
		s->len += n;
		return LTB_COLLECT_OK;
	}
	if (s->big.buf == NULL && s->len > 0) {
		rc = ltb_pbhold_add(&s->big, (const uint8_t *)s->small, s->len,
		    s->max);
		s->len = 0;
	}
	if (rc == 0)
		rc = ltb_pbhold_add(&s->big, p, n, s->max);
	if (rc == LTB_PBHOLD_BUSY) {
		*why = LTB_BUDGET_WHY;
		return LTB_COLLECT_BUSY;
	}
	if (rc < 0) {
		*why = "value larger than the field limit";
		return LTB_COLLECT_TOO_LARGE;
	}
	return LTB_COLLECT_OK;
}

/* The value read and judged: a result, n filled when valid. */
static unsigned
read_value(const char *buf, size_t len, const char *key, struct notice *n)
{
	const char *end = NULL;
	unsigned r;
	cJSON *root;

	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL)
		return OSP_NOT_JSON;
	for (size_t i = (size_t)(end - buf); i < len; i++)
		if (strchr(" \t\r\n", buf[i]) == NULL || buf[i] == '\0') {
			cJSON_Delete(root);
			return OSP_NOT_JSON;
		}
	r = cJSON_IsObject(root) ? judge(root, key, n) : OSP_NOT_OBJECT;
	cJSON_Delete(root);
	return r;
}

/* A valid notice paired: 0, or 1 with a unit to give. */
static int
pair(struct osp_shared *sh, const struct notice *n, uint64_t *key,
    unsigned *invalid)
{
	int unit = 0;

	if (sh == NULL) {
		/* no shared state: every stop is a point, unpaired */
		*key = point_key(n->trace);
		*invalid = OSP_VALID;
		return n->stop;
	}
	pthread_mutex_lock(&sh->lock);
	if (n->stop)
		unit = stop(sh, n, key, invalid);
	else
		start(sh, n);
	pthread_mutex_unlock(&sh->lock);
	return unit;
}

static int
osp_end(void *state, const struct ltb_span_sink *sink,
    struct ltb_reply *reply, const char **why)
{
	struct osp_state *s = state;
	const char *buf = s->big.buf != NULL ? (const char *)s->big.buf :
	    s->small;
	size_t len = s->big.buf != NULL ? s->big.len : s->len;
	size_t tree = ltb_otlp_json_bound((const uint8_t *)buf, len);
	struct notice n = { 0 };
	uint64_t key = 0;
	unsigned invalid;

	reply->status = 0;
	reply->len = 0;
	if (ltb_budget_take(s->budget, tree) < 0) {
		*why = LTB_BUDGET_WHY;
		return LTB_COLLECT_BUSY;
	}
	invalid = read_value(buf, len, s->key, &n);
	ltb_budget_give(s->budget, tree);
	if (invalid != OSP_VALID)
		sink->span(sink->ctx, 0, invalid);
	else if (pair(s->sh, &n, &key, &invalid))
		sink->span(sink->ctx, key, invalid);
	return LTB_COLLECT_OK;
}

static void
osp_release(void *state)
{
	struct osp_state *s = state;

	ltb_pbhold_free(&s->big);
}

const struct ltb_collector_proto ltb_proto_osprofiler = {
	.name = "osprofiler",
	.unit = "trace point",
	.transport = LTB_TRANSPORT_TCP,
	.path = KEY_PREFIX,
	.content_types = NULL,
	.invalid_names = osp_invalid_names,
	.ninvalid = OSP_NINVALID,
	.state_size = sizeof(struct osp_state),
	.begin = osp_begin,
	.feed = osp_feed,
	.end = osp_end,
	.release = osp_release,
	.shared_size = sizeof(struct osp_shared),
	.shared_init = osp_shared_init,
	.shared_free = osp_shared_free,
	.shared_reset = osp_shared_reset,
	.shared_stats = osp_shared_stats,
};
