/* bp_collect.c - the requester's collection of offers (see bp_collect.h). Pure. */
#include <stdlib.h>
#include <string.h>

#include "bp_collect.h"

void bp_collect_init(struct bp_collect *c)
{
	memset(c, 0, sizeof *c);
}

void bp_collect_free(struct bp_collect *c)
{
	free(c->offers);
	free(c->received);
	memset(c, 0, sizeof *c);
}

void bp_collect_start(struct bp_collect *c, uint64_t seq, int64_t deadline)
{
	c->active = 1;
	c->seq = seq;
	c->deadline = deadline;
	c->n = 0;
}

int bp_collect_add(struct bp_collect *c, int64_t now, const struct bp_offer *o)
{
	if (!c->active || o->seq != c->seq || now > c->deadline)
		return -1;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->offers[i].reservation, o->reservation) == 0 &&
		    strcmp(c->offers[i].offerer, o->offerer) == 0)
			return 0; /* a duplicate delivery */
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		struct bp_offer *no = realloc(c->offers, c->cap * sizeof *no);
		int64_t *nr = realloc(c->received, c->cap * sizeof *nr);
		if (!no || !nr)
			abort();
		c->offers = no;
		c->received = nr;
	}
	c->offers[c->n] = *o;
	c->received[c->n++] = now;
	return 0;
}

int bp_collect_due(const struct bp_collect *c, int64_t now)
{
	return c->active && now >= c->deadline;
}

size_t bp_collect_finish(struct bp_collect *c, int64_t now, int64_t guard_ms)
{
	c->active = 0;
	size_t good = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->received[i] + c->offers[i].ttl_ms < now + guard_ms)
			continue;
		struct bp_offer t = c->offers[good];
		int64_t tr = c->received[good];
		c->offers[good] = c->offers[i];
		c->received[good] = c->received[i];
		c->offers[i] = t;
		c->received[i] = tr;
		good++;
	}
	return good;
}
