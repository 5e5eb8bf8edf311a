/* avoid.c - hosts avoided with exponential backoff (see avoid.h). */
#include "avoid.h"

#include <stdio.h>
#include <string.h>

void avoid_init(struct avoid *a, int64_t base_ms, int64_t max_ms)
{
	memset(a, 0, sizeof *a);
	a->base_ms = base_ms > 0 ? base_ms : 1;
	a->max_ms = max_ms > a->base_ms ? max_ms : a->base_ms;
}

static struct avoid_host *avoid_find(const struct avoid *a, const char *host)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->h[i].host, host) == 0)
			return (struct avoid_host *)&a->h[i];
	return NULL;
}

int64_t avoid_failed(struct avoid *a, const char *host, int64_t now)
{
	struct avoid_host *e = avoid_find(a, host);
	if (!e) {
		if (a->n < AVOID_MAX) {
			e = &a->h[a->n++];
		} else {
			e = &a->h[0];
			for (size_t i = 1; i < a->n; i++)
				if (a->h[i].until < e->until)
					e = &a->h[i];
		}
		memset(e, 0, sizeof *e);
		snprintf(e->host, sizeof e->host, "%s", host);
	}
	int64_t wait = a->base_ms;
	for (int i = 0; i < e->fails && wait < a->max_ms; i++)
		wait *= 2;
	if (wait > a->max_ms)
		wait = a->max_ms;
	if (e->fails < 64)
		e->fails++;
	e->until = now + wait;
	return wait;
}

void avoid_ok(struct avoid *a, const char *host)
{
	struct avoid_host *e = avoid_find(a, host);
	if (e)
		*e = a->h[--a->n];
}

int avoid_is(const struct avoid *a, const char *host, int64_t now)
{
	const struct avoid_host *e = avoid_find(a, host);
	return e && now < e->until;
}
