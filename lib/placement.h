/* placement.h - where a NEW VM should run (the configuration agent asks). Pure.
 *
 * Memory is hard: a host qualifies only if the VM's memory fits in what is free
 * after the hypervisor reserve and promises to incoming VMs. Only online hosts
 * qualify (never maintenance, offline or standby). A host running a VM of the
 * same anti-affinity group never qualifies; if VMs of the same affinity group
 * run somewhere, only their hosts qualify. Among the rest the least loaded after
 * the placement wins (load + cpu / cpus), then the one with the most memory
 * left, then the name. */
#ifndef VMC_PLACEMENT_H
#define VMC_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "balance.h"

struct place_req {
	const char *vm;
	int vcpus;
	int64_t mem_mb;
	double cpu;           /* expected demand, % of one CPU (0 if unknown) */
	const char *affinity; /* NULL or "" for none */
	const char *anti;
};

/* Ranks the qualifying hosts, best first, into order (at most max; may be NULL)
 * and their number into *n (may be NULL). Returns the best host's index, or -1 with
 * err saying why none qualifies (e.g. "no online host has 4096 MiB free (most: 2048
 * on h2)"). */
int place_choose(const struct bal_view *v, const struct rule_settings *s, const struct place_req *r,
                 size_t *order, size_t max, size_t *n, char *err, size_t errlen);

#endif
