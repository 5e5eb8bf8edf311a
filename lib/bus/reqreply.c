/* reqreply.c - commands waiting for their one reply: a hash table of pending requests
 * by id, a ring of the ids that ended lately (to tell a late or repeated reply from a
 * stranger's), deadlines judged against the caller's clock. */
#include "reqreply.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"

/* Ended ids remembered to name late and repeated replies. */
#define REQREPLY_ENDED 64
#define REQREPLY_MIN_BUCKETS 16

struct rr_entry {
	struct rr_entry *next; /* in its bucket */
	char id[VMC_ID_MAX + 1];
	int64_t deadline;
	unsigned long order; /* of adding: ties of deadlines end in this order */
	reqreply_fn *fn;
	void *ud;
};

struct reqreply {
	struct rr_entry **buckets;
	size_t nbuckets, count;
	unsigned long order, seq;
	char ended[REQREPLY_ENDED][VMC_ID_MAX + 1];
	size_t ended_next;
	struct reqreply_stats stats;
	reqreply_watch_fn *watch;
	void *watch_ud;
	int depth, dirty; /* watch calls held back while an operation runs callbacks */
};

static size_t rr_hash(const char *id)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)h;
}

static int rr_id_ok(const char *id)
{
	return id && id[0] && strnlen(id, VMC_ID_MAX + 1) <= VMC_ID_MAX;
}

struct reqreply *reqreply_new(void)
{
	struct reqreply *rr = calloc(1, sizeof(*rr));
	if (!rr)
		return NULL;
	rr->buckets = calloc(REQREPLY_MIN_BUCKETS, sizeof(*rr->buckets));
	if (!rr->buckets) {
		free(rr);
		return NULL;
	}
	rr->nbuckets = REQREPLY_MIN_BUCKETS;
	return rr;
}

void reqreply_free(struct reqreply *rr)
{
	if (!rr)
		return;
	rr->watch = NULL; /* its owner may be gone already */
	reqreply_cancel_all(rr);
	free(rr->buckets);
	free(rr);
}

static void rr_begin(struct reqreply *rr)
{
	rr->depth++;
}

static void rr_done(struct reqreply *rr)
{
	if (--rr->depth == 0 && rr->dirty) {
		rr->dirty = 0;
		if (rr->watch)
			rr->watch(rr, rr->watch_ud);
	}
}

static struct rr_entry **rr_slot(const struct reqreply *rr, const char *id)
{
	struct rr_entry **p = &rr->buckets[rr_hash(id) & (rr->nbuckets - 1)];
	while (*p && strcmp((*p)->id, id) != 0)
		p = &(*p)->next;
	return p;
}

/* Doubles the buckets when the table is fuller than one entry per bucket. */
static void rr_grow(struct reqreply *rr)
{
	if (rr->count < rr->nbuckets || rr->nbuckets > SIZE_MAX / 4 / sizeof(*rr->buckets))
		return;
	size_t n = rr->nbuckets * 2;
	struct rr_entry **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < rr->nbuckets; i++)
		while (rr->buckets[i]) {
			struct rr_entry *e = rr->buckets[i];
			rr->buckets[i] = e->next;
			size_t k = rr_hash(e->id) & (n - 1);
			e->next = b[k];
			b[k] = e;
		}
	free(rr->buckets);
	rr->buckets = b;
	rr->nbuckets = n;
}

int reqreply_add(struct reqreply *rr, const char *id, int64_t deadline_ms, reqreply_fn *fn,
                 void *ud)
{
	if (!rr_id_ok(id) || *rr_slot(rr, id))
		return -1;
	struct rr_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	memcpy(e->id, id, strlen(id) + 1);
	e->deadline = deadline_ms;
	e->order = ++rr->order;
	e->fn = fn;
	e->ud = ud;
	rr_grow(rr);
	struct rr_entry **p = rr_slot(rr, id);
	*p = e;
	rr->count++;
	rr->stats.added++;
	rr_begin(rr);
	rr->dirty = 1;
	rr_done(rr);
	return 0;
}

/* Unlinks the entry at slot p, remembers its id as ended, runs its callback, frees it. */
static void rr_end(struct reqreply *rr, struct rr_entry **p, enum reqreply_end end,
                   const cJSON *reply)
{
	struct rr_entry *e = *p;
	*p = e->next;
	rr->count--;
	memcpy(rr->ended[rr->ended_next], e->id, sizeof(e->id));
	rr->ended_next = (rr->ended_next + 1) % REQREPLY_ENDED;
	if (end == REQREPLY_REPLIED)
		rr->stats.replied++;
	else if (end == REQREPLY_TIMED_OUT)
		rr->stats.timed_out++;
	else
		rr->stats.cancelled++;
	rr_begin(rr);
	rr->dirty = 1;
	if (e->fn)
		e->fn(e->ud, e->id, end, reply);
	free(e);
	rr_done(rr);
}

static int rr_ended_lately(const struct reqreply *rr, const char *id)
{
	for (size_t i = 0; i < REQREPLY_ENDED; i++)
		if (rr->ended[i][0] && strcmp(rr->ended[i], id) == 0)
			return 1;
	return 0;
}

enum reqreply_match reqreply_reply(struct reqreply *rr, const cJSON *reply)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(reply, "id");
	if (!cJSON_IsString(j) || !rr_id_ok(j->valuestring)) {
		rr->stats.bad_id++;
		return REQREPLY_BAD_ID;
	}
	struct rr_entry **p = rr_slot(rr, j->valuestring);
	if (*p) {
		rr_end(rr, p, REQREPLY_REPLIED, reply);
		return REQREPLY_DELIVERED;
	}
	if (rr_ended_lately(rr, j->valuestring)) {
		rr->stats.late++;
		return REQREPLY_LATE;
	}
	rr->stats.unknown++;
	return REQREPLY_UNKNOWN;
}

/* The slot of the request that ends first among those due at now (by deadline, then by
 * order of adding), or NULL. */
static struct rr_entry **rr_first_due(struct reqreply *rr, int64_t now)
{
	struct rr_entry **best = NULL;
	for (size_t i = 0; i < rr->nbuckets; i++)
		for (struct rr_entry **p = &rr->buckets[i]; *p; p = &(*p)->next) {
			const struct rr_entry *e = *p;
			if (e->deadline > now)
				continue;
			if (!best || e->deadline < (*best)->deadline ||
			    (e->deadline == (*best)->deadline && e->order < (*best)->order))
				best = p;
		}
	return best;
}

size_t reqreply_expire(struct reqreply *rr, int64_t now_ms)
{
	size_t n = 0;
	struct rr_entry **p;
	rr_begin(rr);
	while ((p = rr_first_due(rr, now_ms)) != NULL) {
		rr_end(rr, p, REQREPLY_TIMED_OUT, NULL);
		n++;
	}
	rr_done(rr);
	return n;
}

int reqreply_cancel(struct reqreply *rr, const char *id)
{
	if (!rr_id_ok(id))
		return 0;
	struct rr_entry **p = rr_slot(rr, id);
	if (!*p)
		return 0;
	rr_end(rr, p, REQREPLY_CANCELLED, NULL);
	return 1;
}

size_t reqreply_cancel_all(struct reqreply *rr)
{
	size_t n = 0;
	rr_begin(rr);
	/* the earliest first, as they would have timed out */
	struct rr_entry **p;
	while ((p = rr_first_due(rr, INT64_MAX)) != NULL) {
		rr_end(rr, p, REQREPLY_CANCELLED, NULL);
		n++;
	}
	rr_done(rr);
	return n;
}

int reqreply_next_deadline(const struct reqreply *rr, int64_t *deadline_ms)
{
	int found = 0;
	for (size_t i = 0; i < rr->nbuckets; i++)
		for (const struct rr_entry *e = rr->buckets[i]; e; e = e->next)
			if (!found || e->deadline < *deadline_ms) {
				*deadline_ms = e->deadline;
				found = 1;
			}
	return found;
}

size_t reqreply_pending(const struct reqreply *rr)
{
	return rr->count;
}

int reqreply_waiting(const struct reqreply *rr, const char *id)
{
	return rr_id_ok(id) && *rr_slot(rr, id) != NULL;
}

const struct reqreply_stats *reqreply_stats(const struct reqreply *rr)
{
	return &rr->stats;
}

unsigned long reqreply_seq(struct reqreply *rr)
{
	return ++rr->seq;
}

const char *reqreply_match_name(enum reqreply_match m)
{
	switch (m) {
	case REQREPLY_DELIVERED:
		return "delivered";
	case REQREPLY_LATE:
		return "late";
	case REQREPLY_UNKNOWN:
		return "unknown";
	case REQREPLY_BAD_ID:
		return "bad id";
	}
	return "?";
}

void reqreply_watch(struct reqreply *rr, reqreply_watch_fn *fn, void *ud)
{
	rr->watch = fn;
	rr->watch_ud = ud;
}
