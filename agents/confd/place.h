/* place.h - where a new VM goes. Pure.
 *
 * confd's adapter to the one placement (lib/cluster/placement.h, which states the rules and
 * the ranking): the cluster model (lib/cluster/cluster_model.h) and confd's reservations
 * (lib/cluster/reserve.h) become the placement's view, with these differences of data:
 *   - a host is a candidate only once its state says online and its load was seen;
 *   - confd's reservations are promises on their host (memory and groups count);
 *   - confd reads no rules file: no memory is reserved beyond what a host reports used;
 *   - groups come from the tags "anti.GROUP" / "affinity.GROUP" (or "anti-affinity:GROUP"
 *     / "affinity:GROUP"), of the new VM and of the VMs the hosts run.
 * A host asked for by name must pass the same rules; the errors are confd's. */
#ifndef VMC_PLACE_H
#define VMC_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/bus/msg.h"

struct cluster_model;
struct reservations;

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
int confd_place_choose(const struct cluster_model *m, const struct reservations *res,
                       const struct confd_place_req *r, char *host, size_t hostlen,
                       enum vmc_err *code, char *err, size_t errlen);
/* 1 if a tag matters to placement (anti.*, affinity.*, anti-affinity:*, affinity:*). */
int confd_place_tag_relevant(const char *tag);

#endif
