/* place.h - where a new VM goes. Pure.
 *
 * confd's own placement until lib/placement.c (the balancer's scoring) is
 * merged; confd_place_choose is the one call confd makes, so switching is one
 * function body. Rules:
 *   - only hosts whose state is online and whose load has been seen;
 *   - memory is hard: the host's free memory less its reservations must hold the VM;
 *   - anti-affinity: a VM tagged "anti.GROUP" never joins a host that runs another
 *     VM tagged "anti.GROUP";
 *   - affinity: a VM tagged "affinity.GROUP" prefers hosts that run one tagged the same;
 *   - then the least loaded host: lowest CPU (in 5 % steps), then fewest VMs, then
 *     most free memory, then name (so the choice is stable). */
#ifndef VMC_PLACE_H
#define VMC_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/msg.h"

struct cluster;

#define PLACE_ANTI_PREFIX "anti."
#define PLACE_AFFINITY_PREFIX "affinity."

struct confd_place_req {
	const char *vm;
	int64_t mem_mb;
	int vcpus;
	const char *const *tags;
	size_t ntags;
	const char *host; /* the host asked for, or NULL to choose */
};

/* Chooses a host for r and writes its name to host. Returns 0, or -1 with *code
 * (VMC_E_NOT_FOUND, VMC_E_REFUSED or VMC_E_NO_MEMORY) and a sentence in err that says why
 * no host fits (e.g. the largest free memory seen). */
int confd_place_choose(const struct cluster *cl, const struct confd_place_req *r, char *host,
                       size_t hostlen, enum vmc_err *code, char *err, size_t errlen);
/* 1 if a tag matters to placement (anti.* or affinity.*). */
int confd_place_tag_relevant(const char *tag);

#endif
