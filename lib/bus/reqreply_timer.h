/* reqreply_timer.h - drives a reqreply table's timeouts from an event loop: one timer,
 * always set to the earliest deadline (on evloop_mono_ms), that ends what is due. */
#ifndef VMC_REQREPLY_TIMER_H
#define VMC_REQREPLY_TIMER_H

#include "reqreply.h"

struct evloop;
struct reqreply_timer;

/* Watches rr (replacing any reqreply_watch of it) on loop. NULL when out of memory. The
 * deadlines given to reqreply_add must then be on evloop_mono_ms. */
struct reqreply_timer *reqreply_timer_new(struct reqreply *rr, struct evloop *loop);
/* Stops watching and deletes the timer; rr stays as it is. NULL is fine. Free this before
 * the reqreply table. */
void reqreply_timer_free(struct reqreply_timer *t);

#endif
