/* ha_plan.c - where the VMs of a dead host start again (see ha_plan.h). */
#include "ha_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"

int ha_plan_priority(const char *const *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *end;
		if (strncmp(tags[i], "priority:", 9) != 0 && strncmp(tags[i], "priority-", 9) != 0)
			continue;
		long p = strtol(tags[i] + 9, &end, 10);
		if (*end == '\0' && end != tags[i] + 9 && p >= -1000 && p <= 1000)
			return (int)p;
	}
	return 0;
}

static int plan_cmp(const void *a, const void *b)
{
	const struct ha_plan_vm *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A copy of v whose hosts can take n more VMs each (as promises). */
static struct bal_host *plan_copy(const struct bal_view *v, const char *dead, size_t n)
{
	struct bal_host *hs = calloc(v->nhosts ? v->nhosts : 1, sizeof(*hs));
	if (!hs)
		return NULL;
	for (size_t i = 0; i < v->nhosts; i++) {
		hs[i] = v->hosts[i];
		hs[i].vms = calloc(v->hosts[i].nvms + n + 1, sizeof(struct bal_vm));
		if (!hs[i].vms) {
			for (size_t k = 0; k < i; k++)
				free(hs[k].vms);
			free(hs);
			return NULL;
		}
		if (v->hosts[i].nvms)
			memcpy(hs[i].vms, v->hosts[i].vms,
			       v->hosts[i].nvms * sizeof(struct bal_vm));
		if (strcmp(hs[i].name, dead) == 0)
			hs[i].state = BAL_OFFLINE;
	}
	return hs;
}

/* Adds vm to host i of the copy as a promise: its memory is taken, its group counts. */
static void plan_take(struct bal_host *host, const struct ha_plan_vm *vm)
{
	if (bal_host_find_vm(host, vm->name) >= 0)
		return; /* its load already shows it there */
	struct bal_vm *b = &host->vms[host->nvms++];
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", vm->name);
	b->vcpus = vm->vcpus;
	b->mem_mb = vm->mem_mb;
	b->steal = -1;
	b->flags = BAL_VM_INCOMING;
	snprintf(b->anti, sizeof(b->anti), "%s", vm->anti);
}

int ha_plan(const struct bal_view *v, const struct rule_settings *s, const char *dead,
            struct ha_plan_vm *vms, size_t n)
{
	struct bal_host *hs = plan_copy(v, dead, n);
	if (!hs)
		return -1;
	struct bal_view cv = {.hosts = hs, .nhosts = v->nhosts, .now_ms = v->now_ms};
	qsort(vms, n, sizeof(*vms), plan_cmp);
	for (size_t i = 0; i < n; i++) {
		int at = vms[i].assigned ? bal_view_find(&cv, vms[i].target) : -1;
		if (at >= 0)
			plan_take(&hs[at], &vms[i]);
	}
	int unplaced = 0;
	for (size_t i = 0; i < n; i++) {
		if (vms[i].assigned)
			continue;
		vms[i].target[0] = '\0';
		struct place_req r = {
		    .vm = vms[i].name,
		    .vcpus = vms[i].vcpus,
		    .mem_mb = vms[i].mem_mb,
		    .anti = vms[i].anti[0] ? vms[i].anti : NULL,
		};
		vms[i].why[0] = '\0';
		int at = place_choose(&cv, s, &r, NULL, 0, NULL, vms[i].why, sizeof(vms[i].why));
		if (at < 0) {
			unplaced++;
			continue;
		}
		snprintf(vms[i].target, sizeof(vms[i].target), "%s", hs[at].name);
		plan_take(&hs[at], &vms[i]);
	}
	for (size_t i = 0; i < v->nhosts; i++)
		free(hs[i].vms);
	free(hs);
	return unplaced;
}
