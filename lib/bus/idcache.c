/* idcache.c - a bounded map from command id to its state or reply.
 *
 * Entries live in a ring of `capacity` slots in insertion order, so the oldest
 * is evicted first; a chained hash table over the slots gives O(1) average
 * lookups. Slot indexes, not pointers, link the chains. Both tables are allocated
 * at the first id: an agent that gets no command keeps none of their memory (192 KiB
 * for 4096 ids, written over to mark the buckets empty). */
#include "idcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NIL SIZE_MAX

struct idslot {
	char *id;    /* NULL: slot unused */
	char *reply; /* NULL while pending */
	uint64_t hash;
	size_t next; /* next slot in the same bucket, or NIL */
};

struct idcache {
	struct idslot *slots;
	size_t capacity;
	size_t head; /* the oldest slot, next to be reused once full */
	size_t count;
	size_t *buckets;
	size_t nbuckets; /* a power of two, at least 2 * capacity */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct idcache *idcache_new(size_t capacity)
{
	if (capacity == 0)
		capacity = 1;
	if (capacity > SIZE_MAX / 4 / sizeof(struct idslot))
		return NULL;
	struct idcache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->capacity = capacity;
	c->nbuckets = 2;
	while (c->nbuckets < 2 * capacity)
		c->nbuckets *= 2;
	return c;
}

/* The tables, at the first id. 0, or -1 out of memory. */
static int tables(struct idcache *c)
{
	if (c->slots)
		return 0;
	c->slots = calloc(c->capacity, sizeof *c->slots);
	c->buckets = malloc(c->nbuckets * sizeof *c->buckets);
	if (!c->slots || !c->buckets) {
		free(c->slots);
		free(c->buckets);
		c->slots = NULL;
		c->buckets = NULL;
		return -1;
	}
	for (size_t i = 0; i < c->nbuckets; i++)
		c->buckets[i] = NIL;
	return 0;
}

void idcache_free(struct idcache *c)
{
	if (!c)
		return;
	if (c->slots) {
		for (size_t i = 0; i < c->capacity; i++) {
			free(c->slots[i].id);
			free(c->slots[i].reply);
		}
	}
	free(c->slots);
	free(c->buckets);
	free(c);
}

static size_t find(const struct idcache *c, const char *id, uint64_t h)
{
	if (!c->slots)
		return NIL;
	for (size_t i = c->buckets[h & (c->nbuckets - 1)]; i != NIL; i = c->slots[i].next)
		if (c->slots[i].hash == h && strcmp(c->slots[i].id, id) == 0)
			return i;
	return NIL;
}

/* Empties slot i and unlinks it from its bucket. */
static void evict(struct idcache *c, size_t i)
{
	struct idslot *s = &c->slots[i];
	size_t *link = &c->buckets[s->hash & (c->nbuckets - 1)];
	while (*link != i)
		link = &c->slots[*link].next;
	*link = s->next;
	free(s->id);
	free(s->reply);
	memset(s, 0, sizeof *s);
	c->count--;
}

/* Records id in the oldest slot (evicting it if used). Returns the slot, or NIL on OOM. */
static size_t insert(struct idcache *c, const char *id, uint64_t h)
{
	char *copy = tables(c) == 0 ? strdup(id) : NULL;
	if (!copy)
		return NIL;
	size_t i = c->head;
	if (c->slots[i].id)
		evict(c, i);
	c->head = (c->head + 1) % c->capacity;
	struct idslot *s = &c->slots[i];
	size_t b = h & (c->nbuckets - 1);
	s->id = copy;
	s->reply = NULL;
	s->hash = h;
	s->next = c->buckets[b];
	c->buckets[b] = i;
	c->count++;
	return i;
}

enum idcache_state idcache_begin(struct idcache *c, const char *id, const char **reply)
{
	uint64_t h = hash_str(id);
	size_t i = find(c, id, h);
	if (i != NIL) {
		if (!c->slots[i].reply)
			return IDCACHE_PENDING;
		if (reply)
			*reply = c->slots[i].reply;
		return IDCACHE_DONE;
	}
	/* On OOM the command runs unrecorded: better than refusing it. */
	insert(c, id, h);
	return IDCACHE_NEW;
}

int idcache_finish(struct idcache *c, const char *id, const char *reply)
{
	uint64_t h = hash_str(id);
	size_t i = find(c, id, h);
	if (i != NIL && c->slots[i].reply)
		return 0; /* the first reply stays */
	char *copy = strdup(reply ? reply : "");
	if (!copy)
		return -1;
	if (i == NIL)
		i = insert(c, id, h);
	if (i == NIL) {
		free(copy);
		return -1;
	}
	c->slots[i].reply = copy;
	return 0;
}

size_t idcache_count(const struct idcache *c)
{
	return c->count;
}
