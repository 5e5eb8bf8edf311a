/* reqreply_timer.c - one evloop timer per reqreply table, following its earliest
 * deadline. */
#include "reqreply_timer.h"

#include <stdlib.h>

#include "../core/evloop.h"

struct reqreply_timer {
	struct reqreply *rr;
	struct evloop *loop;
	long long timer; /* 0: none */
};

static long reqreply_timer_fire(struct evloop *loop, long long id, void *ud);

static void reqreply_timer_arm(struct reqreply *rr, void *ud)
{
	struct reqreply_timer *t = ud;
	int64_t deadline;
	if (t->timer)
		evloop_del_timer(t->loop, t->timer);
	t->timer = 0;
	if (!reqreply_next_deadline(rr, &deadline))
		return;
	int64_t ms = deadline - evloop_mono_ms();
	t->timer = evloop_add_timer(t->loop, ms > 0 ? (long)ms : 0, reqreply_timer_fire, t);
}

static long reqreply_timer_fire(struct evloop *loop, long long id, void *ud)
{
	struct reqreply_timer *t = ud;
	t->timer = 0; /* this one ends (-1); expiring sets the next through the watch */
	reqreply_expire(t->rr, evloop_mono_ms());
	if (!t->timer) /* nothing was due after all: the next deadline is still ahead */
		reqreply_timer_arm(t->rr, t);
	return -1;
}

struct reqreply_timer *reqreply_timer_new(struct reqreply *rr, struct evloop *loop)
{
	struct reqreply_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->rr = rr;
	t->loop = loop;
	reqreply_watch(rr, reqreply_timer_arm, t);
	reqreply_timer_arm(rr, t);
	return t;
}

void reqreply_timer_free(struct reqreply_timer *t)
{
	if (!t)
		return;
	reqreply_watch(t->rr, NULL, NULL);
	if (t->timer)
		evloop_del_timer(t->loop, t->timer);
	free(t);
}
