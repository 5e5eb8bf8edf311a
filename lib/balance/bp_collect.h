/* bp_collect.h - the requester's side of the balancing protocol (balance_proto.h):
 * collecting the offers that answer its help request until the offer window ends, then
 * keeping those still valid long enough to be accepted. Pure: driven by (now, offer)
 * calls. */
#ifndef VMC_BP_COLLECT_H
#define VMC_BP_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "balance_proto.h"

struct bp_collect {
	int active;
	uint64_t seq;
	int64_t deadline;
	struct bp_offer *offers;
	int64_t *received; /* when each offer came */
	size_t n, cap;
};

void bp_collect_init(struct bp_collect *c);
void bp_collect_free(struct bp_collect *c);
/* Starts collecting offers for request seq until deadline; forgets earlier offers. */
void bp_collect_start(struct bp_collect *c, uint64_t seq, int64_t deadline);
/* Keeps an offer for the current request. Returns 0 if kept, -1 if it is not for the
 * current request or came after the deadline (the caller releases it). */
int bp_collect_add(struct bp_collect *c, int64_t now, const struct bp_offer *o);
/* 1 once the deadline has passed while collecting. */
int bp_collect_due(const struct bp_collect *c, int64_t now);
/* Ends collecting; offers that will still be valid guard_ms from now stay at the front
 * of c->offers, their count is returned; the rest follow them up to c->n. */
size_t bp_collect_finish(struct bp_collect *c, int64_t now, int64_t guard_ms);

#endif
