/* placement.h - the one placement of the cluster: which host a VM, or the VMs of an
 * affinity group moving together (a unit), goes to. Pure.
 *
 * Every placement uses it: vmc-confd for a new VM, a drain for each VM it moves off
 * its host, the balancer's plans (evacuate and consolidate: balance.plan, `vmc plan`,
 * night consolidation) and the HA restart plan.
 *
 * A host qualifies only if it passes every rule:
 *  - state: it is online (never maintenance, offline or standby), it is not the host
 *    the unit leaves, and the caller does not skip it (hosts being emptied, hosts that
 *    refused the VM, hosts a migration cannot reach);
 *  - memory is hard: the unit's memory fits in the host's free memory less its reserve
 *    (the host's own, else the mem_reserve setting) and less what it has promised to
 *    incoming VMs;
 *  - anti-affinity: no VM of a unit member's anti-affinity group runs on (or is
 *    promised to) the host, and no two members share a group;
 *  - affinity: if VMs of the unit's affinity group run on online hosts other than the
 *    one the unit leaves, only those hosts qualify;
 *  - pack goal only: the host's load after the placement stays at or under max_load.
 * A pinned VM never moves: a unit that leaves a host (from set) with a pinned member is
 * refused (PLACE_PINNED); a new pinned VM is placed like any other.
 *
 * Ranking, the same ties for every caller:
 *  - spread (new VMs, drains, evacuation, HA restarts): the lowest load after the
 *    placement (load + the unit's CPU / the host's CPUs), then the most memory left,
 *    then the host name that sorts first;
 *  - pack (consolidation): the highest load after, then the host name that sorts last
 *    (the host that empties last in the consolidation order). */
#ifndef VMC_PLACEMENT_H
#define VMC_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "../balance/balance.h"

/* A new VM for place_choose. */
struct place_req {
	const char *vm;
	int vcpus;
	int64_t mem_mb;
	double cpu;           /* expected demand, % of one CPU (0 if unknown) */
	const char *affinity; /* NULL or "" for none */
	const char *anti;
};

/* One VM of a unit. */
struct place_vm {
	const char *name;
	int64_t mem_mb;
	double cpu;           /* demand, % of one CPU */
	const char *affinity; /* NULL or "" for none */
	const char *anti;     /* NULL or "" for none */
	unsigned flags;       /* BAL_VM_PINNED counts */
};

enum place_goal { PLACE_SPREAD = 0, PLACE_PACK };

struct place_opts {
	enum place_goal goal;
	double max_load;  /* pack: the most a destination may be at after, % */
	size_t from;      /* index of the host the unit leaves; SIZE_MAX for a new VM */
	const char *skip; /* NULL, or one flag per host of the view: never a destination */
};

/* Why no host qualified, the most telling reason first. */
enum place_fail {
	PLACE_OK = 0,
	PLACE_NO_HOST,   /* no online host (that the caller does not skip) */
	PLACE_PINNED,    /* a member is pinned and the unit would move */
	PLACE_NO_MEMORY, /* no such host has the memory */
	PLACE_ANTI,      /* every one with the memory runs a VM of an anti-affinity group */
	PLACE_AFFINITY,  /* the affinity group's hosts cannot take it */
	PLACE_LOAD,      /* pack: every one left would go over max_load */
};

struct place_why {
	enum place_fail fail;
	int64_t most_room_mb; /* the most memory an online host not skipped has (0 if none) */
	const char *where;    /* that host ("" if none) */
	const char *group;    /* PLACE_ANTI, PLACE_AFFINITY: the group ("" otherwise) */
};

/* Ranks the hosts of v that qualify for the n VMs of unit (1 to BAL_MAX_UNIT), best
 * first, into order (at most max; may be NULL) and their number into *count (may be
 * NULL). Returns the best host's index, or -1 with *why (may be NULL) saying why none
 * qualifies. */
int place_rank(const struct bal_view *v, const struct rule_settings *s, const struct place_vm *unit,
               size_t n, const struct place_opts *o, size_t *order, size_t max, size_t *count,
               struct place_why *why);

/* A new VM (spread): ranks as place_rank. Returns the best host's index, or -1 with err
 * saying why none qualifies (e.g. "no online host has 4096 MiB free (most: 2048 on
 * h2)"). */
int place_choose(const struct bal_view *v, const struct rule_settings *s, const struct place_req *r,
                 size_t *order, size_t max, size_t *n, char *err, size_t errlen);

#endif
