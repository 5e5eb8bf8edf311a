/* placement.c - the one placement: rules and ranking (see placement.h). Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../balance/balance_impl.h"
#include "placement.h"

struct scored {
	size_t host;
	double after;
	int64_t left;
	const char *name;
};

/* Spread: lowest load after, then most memory left, then the name that sorts first. */
static int spread_cmp(const void *pa, const void *pb)
{
	const struct scored *a = pa, *b = pb;
	if (a->after != b->after)
		return a->after < b->after ? -1 : 1;
	if (a->left != b->left)
		return a->left > b->left ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Pack: highest load after, then the name that sorts last. */
static int pack_cmp(const void *pa, const void *pb)
{
	const struct scored *a = pa, *b = pb;
	if (a->after != b->after)
		return a->after > b->after ? -1 : 1;
	return strcmp(b->name, a->name);
}

static int has(const char *group)
{
	return group && group[0];
}

/* 1 if h runs or expects a VM of the group (anti: anti-affinity, else affinity). */
static int runs_group(const struct bal_host *h, const char *group, int anti)
{
	if (!has(group))
		return 0;
	for (size_t k = 0; k < h->nvms; k++)
		if (strcmp(anti ? h->vms[k].anti : h->vms[k].affinity, group) == 0)
			return 1;
	return 0;
}

/* The anti-affinity group of a unit member that h runs, or that two members share
 * (NULL: none). */
static const char *anti_clash(const struct bal_host *h, const struct place_vm *unit, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (!has(unit[k].anti))
			continue;
		if (runs_group(h, unit[k].anti, 1))
			return unit[k].anti;
		for (size_t q = 0; q < k; q++)
			if (has(unit[q].anti) && strcmp(unit[q].anti, unit[k].anti) == 0)
				return unit[k].anti;
	}
	return NULL;
}

/* The unit's affinity group ("" if none). */
static const char *unit_affinity(const struct place_vm *unit, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (has(unit[k].affinity))
			return unit[k].affinity;
	return "";
}

/* 1 if host i is online and neither the source nor skipped. */
static int open_to(const struct bal_view *v, const struct place_opts *o, size_t i)
{
	return v->hosts[i].state == BAL_ONLINE && i != o->from && !(o->skip && o->skip[i]);
}

/* Sets why for the case where no host qualified. */
static void explain(const struct bal_view *v, const struct rule_settings *s,
                    const struct place_opts *o, const char *group, int stage, struct place_why *why)
{
	static const enum place_fail by_stage[] = {PLACE_NO_HOST, PLACE_NO_MEMORY, PLACE_ANTI,
	                                           PLACE_AFFINITY, PLACE_LOAD};
	why->fail = by_stage[stage];
	why->group = why->fail == PLACE_ANTI || why->fail == PLACE_AFFINITY ? group : "";
	why->most_room_mb = 0;
	why->where = "";
	int64_t most = INT64_MIN;
	for (size_t i = 0; i < v->nhosts; i++) {
		int64_t room = bal_host_room_mb(&v->hosts[i], s);
		if (open_to(v, o, i) && room > most) {
			most = room;
			why->where = v->hosts[i].name;
		}
	}
	if (most > 0)
		why->most_room_mb = most;
}

int place_rank(const struct bal_view *v, const struct rule_settings *s, const struct place_vm *unit,
               size_t n, const struct place_opts *o, size_t *order, size_t max, size_t *count,
               struct place_why *why)
{
	struct place_why ignored;
	if (!why)
		why = &ignored;
	memset(why, 0, sizeof *why);
	why->where = why->group = "";
	if (count)
		*count = 0;
	if (n == 0) {
		why->fail = PLACE_NO_HOST;
		return -1;
	}
	for (size_t k = 0; o->from != SIZE_MAX && k < n; k++)
		if (unit[k].flags & BAL_VM_PINNED) {
			why->fail = PLACE_PINNED;
			return -1;
		}
	double cpu = 0;
	int64_t mem = 0;
	for (size_t k = 0; k < n; k++) {
		cpu += unit[k].cpu;
		mem += unit[k].mem_mb;
	}
	const char *affinity = unit_affinity(unit, n), *clash = NULL;
	int group_elsewhere = 0;
	for (size_t i = 0; i < v->nhosts; i++)
		group_elsewhere |= v->hosts[i].state == BAL_ONLINE && i != o->from &&
		                   runs_group(&v->hosts[i], affinity, 0);
	struct scored *sc = calloc(v->nhosts ? v->nhosts : 1, sizeof *sc);
	if (!sc)
		abort();
	size_t ns = 0;
	int stage = 0; /* the furthest rule a host got past: state, memory, anti, affinity */
	for (size_t i = 0; i < v->nhosts; i++) {
		const struct bal_host *h = &v->hosts[i];
		if (!open_to(v, o, i))
			continue;
		stage = stage > 1 ? stage : 1;
		int64_t room = bal_host_room_mb(h, s);
		if (room < mem)
			continue;
		stage = stage > 2 ? stage : 2;
		const char *c = anti_clash(h, unit, n);
		if (c) {
			clash = c;
			continue;
		}
		stage = stage > 3 ? stage : 3;
		if (group_elsewhere && !runs_group(h, affinity, 0))
			continue;
		stage = 4;
		int cpus = h->cpus > 0 ? h->cpus : 1;
		double after = bal_host_load(h, s) + cpu / cpus;
		if (o->goal == PLACE_PACK && after > o->max_load + BAL_EPS)
			continue;
		sc[ns++] = (struct scored){i, after, room - mem, h->name};
	}
	qsort(sc, ns, sizeof *sc, o->goal == PLACE_PACK ? pack_cmp : spread_cmp);
	for (size_t i = 0; order && i < ns && i < max; i++)
		order[i] = sc[i].host;
	if (count)
		*count = ns;
	int best = ns ? (int)sc[0].host : -1;
	free(sc);
	if (best < 0) {
		const char *group = stage == 2 ? (clash ? clash : "") : affinity;
		explain(v, s, o, group, stage, why);
	}
	return best;
}

int place_choose(const struct bal_view *v, const struct rule_settings *s, const struct place_req *r,
                 size_t *order, size_t max, size_t *n, char *err, size_t errlen)
{
	struct place_vm pv = {r->vm, r->mem_mb, r->cpu, r->affinity, r->anti, 0};
	struct place_opts o = {.goal = PLACE_SPREAD, .from = SIZE_MAX};
	struct place_why why;
	int best = place_rank(v, s, &pv, 1, &o, order, max, n, &why);
	if (best >= 0)
		return best;
	switch (why.fail) {
	case PLACE_NO_MEMORY:
		snprintf(err, errlen, "no online host has %lld MiB free (most: %lld on %s)",
		         (long long)r->mem_mb, (long long)why.most_room_mb, why.where);
		break;
	case PLACE_ANTI:
		snprintf(err, errlen, "every host with room runs a VM of anti-affinity group %.64s",
		         why.group);
		break;
	case PLACE_AFFINITY:
		snprintf(err, errlen, "no host of affinity group %.64s has room", why.group);
		break;
	default:
		snprintf(err, errlen,
		         "no online host (all are offline, in maintenance or standby)");
	}
	return -1;
}
