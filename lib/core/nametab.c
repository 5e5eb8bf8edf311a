/* nametab.c - objects keyed by name: dense array plus a linear-probing hash index
 * (load factor at most 1/2, backward-shift deletion, so no tombstones). */
#include "nametab.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "nametab: out of memory\n");
		abort();
	}
	return q;
}

static size_t *idx_of(const struct nametab *t, void *obj)
{
	return (size_t *)((char *)obj + t->idx_off);
}

void nametab_init(struct nametab *t, size_t idx_off)
{
	memset(t, 0, sizeof(*t));
	t->idx_off = idx_off;
}

void nametab_free(struct nametab *t, int free_items)
{
	if (free_items)
		for (size_t i = 0; i < t->n; i++)
			free(t->items[i]);
	free(t->items);
	free(t->slots);
	nametab_init(t, t->idx_off);
}

/* The slot holding name, or the empty slot where it would go. */
static size_t slot_of(const struct nametab *t, const char *name)
{
	size_t mask = t->cap - 1;
	size_t i = name_hash(name) & mask;
	while (t->slots[i] && strcmp((const char *)t->slots[i], name) != 0)
		i = (i + 1) & mask;
	return i;
}

void *nametab_find(const struct nametab *t, const char *name)
{
	if (!t->cap)
		return NULL;
	return t->slots[slot_of(t, name)];
}

static void index_grow(struct nametab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 16;
	free(t->slots);
	t->slots = xrealloc(NULL, ncap * sizeof(void *));
	memset(t->slots, 0, ncap * sizeof(void *));
	t->cap = ncap;
	for (size_t i = 0; i < t->n; i++)
		t->slots[slot_of(t, (const char *)t->items[i])] = t->items[i];
}

void nametab_add(struct nametab *t, void *obj)
{
	if (t->n == t->cap_items) {
		t->cap_items = t->cap_items ? t->cap_items * 2 : 16;
		t->items = xrealloc(t->items, t->cap_items * sizeof(void *));
	}
	*idx_of(t, obj) = t->n;
	t->items[t->n++] = obj;
	if (t->n * 2 > t->cap)
		index_grow(t); /* re-indexes every item, obj included */
	else
		t->slots[slot_of(t, (const char *)obj)] = obj;
}

/* Is k (a home slot) cyclically within (i, j]? */
static int between(size_t i, size_t k, size_t j)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

void nametab_del(struct nametab *t, void *obj)
{
	size_t mask = t->cap - 1;
	size_t i = slot_of(t, (const char *)obj);
	if (t->slots[i] != obj)
		return;
	t->slots[i] = NULL;
	for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = name_hash((const char *)t->slots[j]) & mask;
		if (between(i, home, j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j] = NULL;
		i = j;
	}
	size_t at = *idx_of(t, obj);
	t->items[at] = t->items[--t->n];
	*idx_of(t, t->items[at]) = at;
}
