/* ha_plan.h - where the VMs of a dead host start again. Pure.
 *
 * Every VM goes through the one placement function (placement.h: memory,
 * anti-affinity, load), in priority order (highest first, then name), on a copy
 * of the view that grows with each choice, so that two VMs of one plan never
 * count the same free memory twice nor share a host their anti-affinity group
 * forbids. VMs already assigned (restarts recorded but not yet seen in their
 * target's load) are applied to the copy first. */
#ifndef VMC_HA_PLAN_H
#define VMC_HA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../balance/balance.h"
#include "../bus/msg.h"

struct ha_plan_vm {
	char name[VMC_NAME_MAX + 1];
	int vcpus;
	int64_t mem_mb;
	int priority;                  /* higher first */
	char anti[VMC_NAME_MAX + 1];   /* anti-affinity group, "" none */
	int assigned;                  /* in: 1 if already assigned to target */
	char target[VMC_NAME_MAX + 1]; /* in: where it is assigned (assigned = 1);
	                                  out: the chosen host, "" if none */
	char why[160];                 /* out: why no host qualifies */
};

/* The priority a VM's tags give it: "priority-N" or "priority:N" (N from -1000 to
 * 1000), else 0. */
int ha_plan_priority(const char *const *tags, size_t n);

/* Places every VM of vms not yet assigned among the hosts of v other than dead
 * (which is treated as offline). Returns how many could not be placed, or -1 (out of
 * memory). vms is sorted into the order of the decisions. */
int ha_plan(const struct bal_view *v, const struct rule_settings *s, const char *dead,
            struct ha_plan_vm *vms, size_t n);

#endif
