/* balance.c - the balancing decision engine: demand, loads, candidates, offers and
 * the requester's choice. Pure. The rules are described in balance.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_impl.h"

static const char *const state_names[] = {"online", "offline", "maintenance", "standby"};
static const char *const mode_names[] = {"balance", "consolidate", "evacuate"};

const char *bal_host_state_name(enum bal_host_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "?";
}

int bal_host_state_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const char *bal_mode_name(enum bal_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "?";
}

int bal_mode_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (name && strcmp(name, mode_names[i]) == 0)
			return i;
	return -1;
}

void bal_vm_tags(struct bal_vm *vm, const char *const *tags, size_t n)
{
	static const struct {
		const char *prefix;
		size_t off; /* field to copy the rest into */
	} groups[] = {{"affinity:", offsetof(struct bal_vm, affinity)},
	              {"anti-affinity:", offsetof(struct bal_vm, anti)},
	              /* the forms that pass the name check (vm.create tags, vmc-confd) */
	              {"affinity.", offsetof(struct bal_vm, affinity)},
	              {"anti.", offsetof(struct bal_vm, anti)}};
	for (size_t i = 0; i < n; i++) {
		const char *t = tags[i];
		if (!t)
			continue;
		if (strcmp(t, "pinned") == 0)
			vm->flags |= BAL_VM_PINNED;
		else if (strcmp(t, "nobalance") == 0)
			vm->flags |= BAL_VM_EXCLUDED;
		for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
			size_t pl = strlen(groups[g].prefix);
			if (strncmp(t, groups[g].prefix, pl) == 0 && t[pl])
				snprintf((char *)vm + groups[g].off, VMC_NAME_MAX + 1, "%.64s",
				         t + pl);
		}
	}
}

int bal_view_find(const struct bal_view *v, const char *host)
{
	for (size_t i = 0; i < v->nhosts; i++)
		if (strcmp(v->hosts[i].name, host) == 0)
			return (int)i;
	return -1;
}

static int host_cpus(const struct bal_host *h)
{
	return h->cpus > 0 ? h->cpus : 1;
}

double bal_vm_demand(const struct bal_host *h, const struct bal_vm *vm,
                     const struct rule_settings *s, int *unknown)
{
	double cap = 100.0 * (vm->vcpus > 0 ? vm->vcpus : 1);
	if (cap > 100.0 * host_cpus(h))
		cap = 100.0 * host_cpus(h);
	if (unknown)
		*unknown = 0;
	if (vm->flags & BAL_VM_INCOMING)
		return vm->cpu;
	double use = vm->cpu > 0 ? vm->cpu : 0;
	if (vm->steal >= 0)
		return fmin(cap, use + vm->steal);
	if (h->cpu >= s->saturated) {
		if (unknown)
			*unknown = 1;
		return fmax(cap, use);
	}
	return use;
}

double bal_host_load(const struct bal_host *h, const struct rule_settings *s)
{
	double use = 0, demand = 0;
	for (size_t i = 0; i < h->nvms; i++) {
		if (!(h->vms[i].flags & BAL_VM_INCOMING))
			use += h->vms[i].cpu > 0 ? h->vms[i].cpu : 0;
		demand += bal_vm_demand(h, &h->vms[i], s, NULL);
	}
	double overhead = h->cpu * host_cpus(h) - use;
	if (overhead < 0)
		overhead = 0;
	return (overhead + demand) / host_cpus(h);
}

int64_t bal_host_room_mb(const struct bal_host *h, const struct rule_settings *s)
{
	int64_t room =
	    h->mem_free_mb - (h->mem_reserve_mb >= 0 ? h->mem_reserve_mb : s->mem_reserve_mb);
	for (size_t i = 0; i < h->nvms; i++)
		if (h->vms[i].flags & BAL_VM_INCOMING)
			room -= h->vms[i].mem_mb;
	return room;
}

int bal_host_find_vm(const struct bal_host *h, const char *name)
{
	for (size_t k = 0; k < h->nvms; k++)
		if (strcmp(h->vms[k].name, name) == 0)
			return (int)k;
	return -1;
}

double bal_cluster_mean(const struct bal_view *v, const struct rule_settings *s)
{
	double work = 0, cpus = 0;
	for (size_t i = 0; i < v->nhosts; i++) {
		const struct bal_host *h = &v->hosts[i];
		if (h->state == BAL_STANDBY)
			cpus += host_cpus(h); /* empty capacity, there to be powered on */
		if (h->state != BAL_ONLINE)
			continue;
		work += bal_host_load(h, s) * host_cpus(h);
		cpus += host_cpus(h);
	}
	return cpus > 0 ? work / cpus : 0;
}

double bal_target(const struct bal_view *v, const struct rule_settings *s)
{
	return fmax(s->high, bal_cluster_mean(v, s) + s->margin / 2);
}

double bal_goal(const struct bal_view *v, const struct rule_settings *s)
{
	return fmax(s->high - s->margin, bal_cluster_mean(v, s) + s->margin / 2);
}

int bal_vm_movable(const struct bal_vm *vm, enum bal_mode mode, int64_t now,
                   const struct rule_settings *s)
{
	unsigned never = BAL_VM_PINNED | BAL_VM_MIGRATING | BAL_VM_INCOMING;
	if (mode != BAL_MODE_EVACUATE)
		never |= BAL_VM_EXCLUDED;
	if (vm->flags & never)
		return 0;
	if (mode == BAL_MODE_EVACUATE)
		return 1;
	if (vm->held_until > now)
		return 0; /* moved by hand: held there */
	if (vm->last_move_ms > 0 && now - vm->last_move_ms < s->cooldown_ms)
		return 0;
	return vm->moves_hour < s->moves_per_hour;
}

static int cand_tie(const struct bal_cand *a, const struct bal_cand *b)
{
	return strcmp(a->vm, b->vm);
}

/* Balance order: demand, largest first; then smaller memory (cheaper to move). */
static int cand_cmp_cpu(const void *pa, const void *pb)
{
	const struct bal_cand *a = pa, *b = pb;
	if (a->cpu != b->cpu)
		return a->cpu > b->cpu ? -1 : 1;
	if (a->mem_mb != b->mem_mb)
		return a->mem_mb < b->mem_mb ? -1 : 1;
	return cand_tie(a, b);
}

/* Packing order: memory, largest first (first-fit decreasing); then demand. */
static int cand_cmp_mem(const void *pa, const void *pb)
{
	const struct bal_cand *a = pa, *b = pb;
	if (a->mem_mb != b->mem_mb)
		return a->mem_mb > b->mem_mb ? -1 : 1;
	if (a->cpu != b->cpu)
		return a->cpu > b->cpu ? -1 : 1;
	return cand_tie(a, b);
}

void bal_cands_sort(struct bal_cand *c, size_t n, enum bal_mode mode)
{
	qsort(c, n, sizeof *c, mode == BAL_MODE_BALANCE ? cand_cmp_cpu : cand_cmp_mem);
}

/* 1 if every VM of the host in the same affinity group as vm may move. */
static int group_movable(const struct bal_host *h, const struct bal_vm *vm, enum bal_mode mode,
                         int64_t now, const struct rule_settings *s)
{
	if (!vm->affinity[0])
		return 1;
	size_t members = 0;
	for (size_t i = 0; i < h->nvms; i++) {
		const struct bal_vm *o = &h->vms[i];
		if (strcmp(o->affinity, vm->affinity) != 0 || (o->flags & BAL_VM_INCOMING))
			continue;
		if (!bal_vm_movable(o, mode, now, s) || ++members > BAL_MAX_UNIT)
			return 0;
	}
	return 1;
}

size_t bal_candidates(const struct bal_view *v, size_t self, const struct rule_settings *s,
                      enum bal_mode mode, struct bal_cand *out, size_t max)
{
	const struct bal_host *h = &v->hosts[self];
	struct bal_cand *all = calloc(h->nvms ? h->nvms : 1, sizeof *all);
	if (!all)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < h->nvms; i++) {
		const struct bal_vm *vm = &h->vms[i];
		if (!bal_vm_movable(vm, mode, v->now_ms, s) ||
		    !group_movable(h, vm, mode, v->now_ms, s))
			continue;
		struct bal_cand *c = &all[n++];
		snprintf(c->vm, sizeof c->vm, "%s", vm->name);
		c->cpu = bal_vm_demand(h, vm, s, &c->unknown);
		if (vm->flags & BAL_VM_UNKNOWN_)
			c->unknown = 1;
		c->mem_mb = vm->mem_mb;
		snprintf(c->affinity, sizeof c->affinity, "%s", vm->affinity);
		snprintf(c->anti, sizeof c->anti, "%s", vm->anti);
	}
	bal_cands_sort(all, n, mode);
	/* keep whole groups: drop a group whose members would not all fit in max */
	size_t k = 0;
	for (size_t i = 0; i < n && k < max; i++) {
		if (all[i].affinity[0]) {
			int first = 1;
			for (size_t j = 0; j < i; j++)
				if (strcmp(all[j].affinity, all[i].affinity) == 0)
					first = 0;
			if (!first)
				continue;
			size_t members = 0;
			for (size_t j = i; j < n; j++)
				members += strcmp(all[j].affinity, all[i].affinity) == 0;
			if (k + members > max)
				continue;
			for (size_t j = i; j < n; j++)
				if (strcmp(all[j].affinity, all[i].affinity) == 0)
					out[k++] = all[j];
			continue;
		}
		out[k++] = all[i];
	}
	free(all);
	return k;
}

int bal_move_ok(double src, int cpus_s, double dst, int cpus_d, double cpu, double target,
                double margin)
{
	double sa = src - cpu / cpus_s, da = dst + cpu / cpus_d;
	if (da > target + BAL_EPS || da + margin > src + BAL_EPS)
		return 0;
	double dphi = cpus_s * (sa * sa - src * src) + cpus_d * (da * da - dst * dst);
	return dphi < -BAL_EPS;
}

static int anti_clash(const char *g, const struct bal_dst *d, const struct bal_request *req,
                      const size_t *taken, size_t ntaken)
{
	if (!g[0])
		return 0;
	for (size_t i = 0; i < d->nanti; i++)
		if (d->anti[i] && strcmp(d->anti[i], g) == 0)
			return 1;
	for (size_t i = 0; i < ntaken; i++)
		if (strcmp(req->cands[taken[i]].anti, g) == 0)
			return 1;
	return 0;
}

/* The unit starting at candidate i: itself, or every candidate of its affinity group. */
static size_t unit_of(const struct bal_request *req, size_t i, size_t *members)
{
	const struct bal_cand *c = &req->cands[i];
	if (!c->affinity[0]) {
		members[0] = i;
		return 1;
	}
	size_t n = 0;
	for (size_t j = 0; j < req->ncands && n < BAL_MAX_UNIT; j++)
		if (strcmp(req->cands[j].affinity, c->affinity) == 0)
			members[n++] = j;
	return n;
}

static int cpu_ok(const struct bal_request *req, const struct bal_dst *d,
                  const struct rule_settings *s, double target, double taken, double cpu)
{
	double src = req->load - taken / req->cpus;
	double dst = d->load + taken / d->cpus;
	double after = dst + cpu / d->cpus;
	switch (req->mode) {
	case BAL_MODE_BALANCE:
		return bal_move_ok(src, req->cpus, dst, d->cpus, cpu, target, s->margin);
	case BAL_MODE_CONSOLIDATE:
		return after <= s->consolidate_max + BAL_EPS;
	default:
		/* evacuate: CPU is soft, the host must be emptied; a destination takes one unit
		 * whatever its load, more only up to the target, so that they spread */
		return taken <= 0 || after <= target + BAL_EPS;
	}
}

size_t bal_take_units(const struct bal_dst *d, const struct bal_request *req,
                      const struct rule_settings *s, double target, int batch, struct bal_take *out)
{
	memset(out, 0, sizeof *out);
	out->dst_before = d->load;
	char done[BAL_MAX_CANDS] = {0};
	size_t ncands = req->ncands < BAL_MAX_CANDS ? req->ncands : BAL_MAX_CANDS;
	int cpus_ok = req->cpus > 0 && d->cpus > 0;
	for (size_t i = 0; i < ncands && cpus_ok; i++) {
		if (done[i])
			continue;
		if (req->mode == BAL_MODE_BALANCE && req->goal > 0 &&
		    req->load - out->cpu / req->cpus <= req->goal + BAL_EPS)
			break; /* shed enough */
		size_t m[BAL_MAX_UNIT];
		size_t nm = unit_of(req, i, m);
		double cpu = 0;
		int64_t mem = 0;
		int ok = 1;
		for (size_t k = 0; k < nm; k++) {
			done[m[k]] = 1;
			cpu += req->cands[m[k]].cpu;
			mem += req->cands[m[k]].mem_mb;
			if (anti_clash(req->cands[m[k]].anti, d, req, out->idx, out->n))
				ok = 0;
			for (size_t q = 0; q < k; q++)
				if (req->cands[m[k]].anti[0] &&
				    strcmp(req->cands[m[q]].anti, req->cands[m[k]].anti) == 0)
					ok = 0;
		}
		if (!ok || (out->n && out->n + nm > (size_t)batch) ||
		    out->mem_mb + mem > d->room_mb || !cpu_ok(req, d, s, target, out->cpu, cpu))
			continue;
		for (size_t k = 0; k < nm; k++)
			out->idx[out->n++] = m[k];
		out->cpu += cpu;
		out->mem_mb += mem;
		if (out->n >= (size_t)batch)
			break;
	}
	if (cpus_ok) {
		out->src_after = req->load - out->cpu / req->cpus;
		out->dst_after = d->load + out->cpu / d->cpus;
	}
	return out->n;
}

void bal_dst_of(const struct bal_host *h, const struct rule_settings *s, const char **anti,
                struct bal_dst *d)
{
	size_t nanti = 0;
	for (size_t i = 0; i < h->nvms; i++)
		if (h->vms[i].anti[0])
			anti[nanti++] = h->vms[i].anti;
	d->name = h->name;
	d->load = bal_host_load(h, s);
	d->cpus = host_cpus(h);
	d->room_mb = bal_host_room_mb(h, s);
	d->anti = anti;
	d->nanti = nanti;
}

int bal_consolidate_before(double load_a, const char *a, double load_b, const char *b)
{
	/* loads within rounding of each other are equal: a host's own load and the one its
	 * peers rebuild from its summary may differ in the last bits */
	if (fabs(load_a - load_b) > BAL_LOAD_EPS)
		return load_a < load_b;
	return strcmp(a, b) < 0;
}

size_t bal_offer(const struct bal_view *v, size_t self, const struct bal_request *req,
                 const struct rule_settings *s, double target, struct bal_take *out)
{
	const struct bal_host *h = &v->hosts[self];
	memset(out, 0, sizeof *out);
	if (h->state != BAL_ONLINE || strcmp(h->name, req->requester) == 0)
		return 0;
	double load = bal_host_load(h, s);
	if (req->mode == BAL_MODE_CONSOLIDATE &&
	    bal_consolidate_before(load, h->name, req->load, req->requester))
		return 0; /* the less loaded host empties, the more loaded one fills */
	const char **anti = calloc(h->nvms ? h->nvms : 1, sizeof *anti);
	if (!anti)
		abort();
	struct bal_dst d;
	bal_dst_of(h, s, anti, &d);
	bal_take_units(&d, req, s, target, s->batch, out);
	free(anti);
	return out->n;
}

/* 1 if take a is a better choice than take b for the mode. */
static int better(enum bal_mode mode, const struct bal_take *a, const char *an,
                  const struct bal_take *b, const char *bn)
{
	if (mode == BAL_MODE_BALANCE) {
		if (fabs(a->src_after - b->src_after) > BAL_EPS)
			return a->src_after < b->src_after;
	} else if (a->n != b->n) {
		return a->n > b->n;
	}
	if (mode == BAL_MODE_CONSOLIDATE) {
		if (fabs(a->dst_after - b->dst_after) > BAL_EPS)
			return a->dst_after > b->dst_after;
	} else if (fabs(a->dst_after - b->dst_after) > BAL_EPS) {
		return a->dst_after < b->dst_after;
	}
	/* consolidate: the host that comes last in the consolidation order keeps its VMs */
	return mode == BAL_MODE_CONSOLIDATE ? strcmp(an, bn) > 0 : strcmp(an, bn) < 0;
}

int bal_choose(const struct bal_request *req, const struct bal_offer_view *offers, size_t n,
               const struct rule_settings *s, double target, struct bal_take *take)
{
	int best = -1;
	struct bal_take cur;
	for (size_t o = 0; o < n; o++) {
		/* the request restricted to what this offer takes */
		struct bal_cand sub[BAL_MAX_CANDS];
		size_t map[BAL_MAX_CANDS], ns = 0;
		for (size_t i = 0; i < req->ncands && i < BAL_MAX_CANDS; i++) {
			for (size_t k = 0; k < offers[o].nvms; k++) {
				if (strcmp(offers[o].vms[k], req->cands[i].vm) == 0) {
					map[ns] = i;
					sub[ns++] = req->cands[i];
					break;
				}
			}
		}
		struct bal_request r = *req;
		r.cands = sub;
		r.ncands = ns;
		/* the offerer checked memory and anti-affinity on its side */
		struct bal_dst d = {offers[o].offerer, offers[o].load, offers[o].cpus,
		                    INT64_MAX,         NULL,           0};
		if (bal_take_units(&d, &r, s, target, s->batch, &cur) == 0)
			continue;
		for (size_t k = 0; k < cur.n; k++)
			cur.idx[k] = map[cur.idx[k]];
		if (best < 0 ||
		    better(req->mode, &cur, offers[o].offerer, take, offers[best].offerer)) {
			best = (int)o;
			*take = cur;
		}
	}
	return best;
}

static int dbl_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

int bal_lower_bound(const struct bal_view *v, const struct rule_settings *s)
{
	double level = fmax(s->high, bal_cluster_mean(v, s));
	int total = 0;
	for (size_t i = 0; i < v->nhosts; i++) {
		const struct bal_host *h = &v->hosts[i];
		double load = bal_host_load(h, s);
		if (h->state != BAL_ONLINE || load <= level + 1e-6 || !h->nvms)
			continue;
		double *d = malloc(h->nvms * sizeof *d);
		if (!d)
			abort();
		for (size_t k = 0; k < h->nvms; k++)
			d[k] = bal_vm_demand(h, &h->vms[k], s, NULL);
		qsort(d, h->nvms, sizeof *d, dbl_desc);
		for (size_t k = 0; k < h->nvms && load > level + 1e-6; k++) {
			load -= d[k] / host_cpus(h);
			total++;
		}
		free(d);
	}
	return total;
}
