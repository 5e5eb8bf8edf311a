/* avoid.h - hosts to keep away from for a while: each failure with a host doubles the
 * time it is avoided (from base_ms up to max_ms); a success forgets it. A balancer uses
 * it so that a destination that does not answer is not chosen again at once. Pure: the
 * caller hands in the time. */
#ifndef VMC_AVOID_H
#define VMC_AVOID_H

#include <stddef.h>
#include <stdint.h>

#include "../bus/msg.h"

#define AVOID_MAX 64 /* hosts remembered; beyond, the one whose wait ends first goes */

struct avoid_host {
	char host[VMC_NAME_MAX + 1];
	int fails;
	int64_t until;
};

struct avoid {
	struct avoid_host h[AVOID_MAX];
	size_t n;
	int64_t base_ms, max_ms;
};

void avoid_init(struct avoid *a, int64_t base_ms, int64_t max_ms);
/* Something with host failed at now: avoid it for base_ms, then twice as long each
 * further failure, at most max_ms. Returns how long. */
int64_t avoid_failed(struct avoid *a, const char *host, int64_t now);
/* Something with host worked: forget its failures. */
void avoid_ok(struct avoid *a, const char *host);
/* 1 if host is to be avoided at now. */
int avoid_is(const struct avoid *a, const char *host, int64_t now);

#endif
