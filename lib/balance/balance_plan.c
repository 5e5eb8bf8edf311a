/* balance_plan.c - whole-cluster plans: what the cluster would do now, moving
 * nothing (dry run, `vmc plan`, and the reference the protocol is measured
 * against). Pure.
 *
 * The plan runs the same requests, offers and choices as the decentralised
 * protocol, one after the other, on a copy of the view in which each move is
 * applied. Demands are fixed at the start (a moved VM keeps its estimate). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_impl.h"
#include "../cluster/placement.h"

/* A copy of the view that moves can be applied to. */
struct work {
	struct bal_view v;
	size_t *cap; /* allocated VMs per host */
	const struct rule_settings *s;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static void work_copy(struct work *w, const struct bal_view *v, const struct rule_settings *s)
{
	w->s = s;
	w->v = *v;
	w->v.hosts = xrealloc(NULL, v->nhosts * sizeof *w->v.hosts);
	w->cap = xrealloc(NULL, v->nhosts * sizeof *w->cap);
	for (size_t i = 0; i < v->nhosts; i++) {
		struct bal_host *h = &w->v.hosts[i];
		*h = v->hosts[i];
		w->cap[i] = h->nvms;
		h->vms = xrealloc(NULL, h->nvms * sizeof *h->vms);
		if (h->nvms)
			memcpy(h->vms, v->hosts[i].vms, h->nvms * sizeof *h->vms);
	}
}

static void work_free(struct work *w)
{
	for (size_t i = 0; i < w->v.nhosts; i++)
		free(w->v.hosts[i].vms);
	free(w->v.hosts);
	free(w->cap);
}

/* Fixes every VM's demand as its use (steal 0), keeping each host's load. */
static void work_fix_demand(struct work *w)
{
	for (size_t i = 0; i < w->v.nhosts; i++) {
		struct bal_host *h = &w->v.hosts[i];
		double load = bal_host_load(h, w->s);
		double demand = 0;
		for (size_t k = 0; k < h->nvms; k++) {
			struct bal_vm *vm = &h->vms[k];
			int unknown;
			vm->cpu = bal_vm_demand(h, vm, w->s, &unknown);
			if (unknown)
				vm->flags |= BAL_VM_UNKNOWN_;
			vm->steal = 0;
			if (!(vm->flags & BAL_VM_INCOMING))
				demand += vm->cpu;
		}
		int cpus = h->cpus > 0 ? h->cpus : 1;
		/* measured cpu now stands for overhead + demand of the VMs running here */
		double incoming = 0;
		for (size_t k = 0; k < h->nvms; k++)
			if (h->vms[k].flags & BAL_VM_INCOMING)
				incoming += h->vms[k].cpu;
		h->cpu = load - incoming / cpus;
		if (h->cpu * cpus < demand)
			h->cpu = demand / cpus;
	}
}

/* Moves a VM between hosts of the copy and records the move. */
static void work_move(struct work *w, size_t from, size_t to, const char *vm, int unknown,
                      struct bal_plan *out, size_t *capm)
{
	struct bal_host *a = &w->v.hosts[from], *b = &w->v.hosts[to];
	int k = bal_host_find_vm(a, vm);
	if (k < 0)
		return;
	const struct rule_settings *s = w->s;
	struct bal_move mv = {.from = from, .to = to, .unknown = unknown};
	snprintf(mv.vm, sizeof mv.vm, "%s", vm);
	mv.from_before = bal_host_load(a, s);
	mv.to_before = bal_host_load(b, s);
	struct bal_vm x = a->vms[k];
	a->vms[k] = a->vms[--a->nvms];
	int ca = a->cpus > 0 ? a->cpus : 1, cb = b->cpus > 0 ? b->cpus : 1;
	a->cpu -= x.cpu / ca;
	a->mem_free_mb += x.mem_mb;
	if (b->nvms == w->cap[to]) {
		w->cap[to] = w->cap[to] ? w->cap[to] * 2 : 8;
		b->vms = xrealloc(b->vms, w->cap[to] * sizeof *b->vms);
	}
	x.last_move_ms = w->v.now_ms > 0 ? w->v.now_ms : 1;
	x.moves_hour++;
	b->vms[b->nvms++] = x;
	b->cpu += x.cpu / cb;
	b->mem_free_mb -= x.mem_mb;
	mv.cpu = x.cpu;
	mv.mem_mb = x.mem_mb;
	mv.from_after = bal_host_load(a, s);
	mv.to_after = bal_host_load(b, s);
	if (out->n == *capm) {
		*capm = *capm ? *capm * 2 : 16;
		out->moves = xrealloc(out->moves, *capm * sizeof *out->moves);
	}
	out->moves[out->n++] = mv;
}

static void apply_take(struct work *w, size_t from, size_t to, const struct bal_cand *cands,
                       const struct bal_take *t, struct bal_plan *out, size_t *capm)
{
	for (size_t k = 0; k < t->n; k++)
		work_move(w, from, to, cands[t->idx[k]].vm, cands[t->idx[k]].unknown, out, capm);
}

/* One request of host src in balance mode, answered by every other host. Returns 1 if
 * it moved something. */
static int balance_round(struct work *w, size_t src, double target, struct bal_plan *out,
                         size_t *capm)
{
	const struct rule_settings *s = w->s;
	struct bal_host *h = &w->v.hosts[src];
	struct bal_cand cands[BAL_MAX_CANDS];
	size_t nc = bal_candidates(&w->v, src, s, BAL_MODE_BALANCE, cands, BAL_MAX_CANDS);
	if (!nc)
		return 0;
	struct bal_request req = {
	    h->name, BAL_MODE_BALANCE,  bal_host_load(h, s), h->cpus > 0 ? h->cpus : 1, cands,
	    nc,      bal_goal(&w->v, s)};
	size_t nh = w->v.nhosts;
	struct bal_offer_view *offers = xrealloc(NULL, nh * sizeof *offers);
	const char **names = xrealloc(NULL, nh * BAL_MAX_CANDS * sizeof *names);
	size_t *host_of = xrealloc(NULL, nh * sizeof *host_of);
	size_t no = 0;
	for (size_t d = 0; d < nh; d++) {
		struct bal_take t;
		if (d == src || bal_offer(&w->v, d, &req, s, target, &t) == 0)
			continue;
		const char **vn = names + no * BAL_MAX_CANDS;
		for (size_t k = 0; k < t.n; k++)
			vn[k] = cands[t.idx[k]].vm;
		offers[no] = (struct bal_offer_view){
		    w->v.hosts[d].name, t.dst_before,
		    w->v.hosts[d].cpus > 0 ? w->v.hosts[d].cpus : 1, vn, t.n};
		host_of[no++] = d;
	}
	struct bal_take take;
	int best = bal_choose(&req, offers, no, s, target, &take);
	if (best >= 0)
		apply_take(w, src, host_of[best], cands, &take, out, capm);
	free(offers);
	free(names);
	free(host_of);
	return best >= 0;
}

static int load_desc(const struct work *w, size_t a, size_t b)
{
	double la = bal_host_load(&w->v.hosts[a], w->s), lb = bal_host_load(&w->v.hosts[b], w->s);
	if (la != lb)
		return la > lb;
	return strcmp(w->v.hosts[a].name, w->v.hosts[b].name) < 0;
}

static int consolidate_before(const struct work *w, size_t a, size_t b)
{
	const struct bal_host *ha = &w->v.hosts[a], *hb = &w->v.hosts[b];
	return bal_consolidate_before(bal_host_load(ha, w->s), ha->name, bal_host_load(hb, w->s),
	                              hb->name);
}

static void plan_balance(struct work *w, size_t only, struct bal_plan *out, size_t *capm)
{
	const struct rule_settings *s = w->s;
	double target = bal_target(&w->v, s);
	size_t nh = w->v.nhosts;
	size_t *order = xrealloc(NULL, nh * sizeof *order);
	for (;;) {
		size_t n = 0;
		for (size_t i = 0; i < nh; i++)
			if (w->v.hosts[i].state == BAL_ONLINE && (only >= nh || only == i) &&
			    bal_host_load(&w->v.hosts[i], s) > s->high)
				order[n++] = i;
		/* most loaded first (insertion sort: n is small and mostly sorted) */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && load_desc(w, order[j], order[j - 1]); j--) {
				size_t t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		int moved = 0;
		for (size_t i = 0; i < n && !moved; i++)
			moved = balance_round(w, order[i], target, out, capm);
		if (!moved)
			break;
	}
	free(order);
}

/* Places every candidate of host src on the other hosts not in skip (may be NULL),
 * each with its affinity group, through the one placement (placement.h): consolidate
 * packs (the fullest destination that stays under consolidate_max), evacuate spreads
 * (the least loaded). Returns the number of candidates it could not place. */
static size_t place_all(struct work *w, size_t src, enum bal_mode mode, const char *skip,
                        struct bal_plan *out, size_t *capm)
{
	const struct rule_settings *s = w->s;
	struct bal_cand cands[BAL_MAX_CANDS];
	size_t nc = bal_candidates(&w->v, src, s, mode, cands, BAL_MAX_CANDS);
	size_t unplaced = 0;
	char done[BAL_MAX_CANDS] = {0};
	struct place_opts o = {mode == BAL_MODE_CONSOLIDATE ? PLACE_PACK : PLACE_SPREAD,
	                       s->consolidate_max, src, skip};
	for (size_t i = 0; i < nc; i++) {
		if (done[i])
			continue;
		/* the unit: this candidate and its affinity group */
		struct place_vm unit[BAL_MAX_UNIT];
		size_t at[BAL_MAX_UNIT];
		size_t nu = 0;
		for (size_t j = i; j < nc && nu < BAL_MAX_UNIT; j++)
			if (j == i || (cands[i].affinity[0] &&
			               strcmp(cands[j].affinity, cands[i].affinity) == 0)) {
				const struct bal_cand *c = &cands[j];
				unit[nu] = (struct place_vm){c->vm,       c->mem_mb, c->cpu,
				                             c->affinity, c->anti,   0};
				at[nu++] = j;
				done[j] = 1;
			}
		int best = place_rank(&w->v, s, unit, nu, &o, NULL, 0, NULL, NULL);
		if (best < 0) {
			unplaced += nu;
			continue;
		}
		for (size_t k = 0; k < nu; k++)
			work_move(w, src, (size_t)best, cands[at[k]].vm, cands[at[k]].unknown, out,
			          capm);
	}
	return unplaced;
}

static size_t running_vms(const struct bal_host *h)
{
	size_t n = 0;
	for (size_t k = 0; k < h->nvms; k++)
		n += !(h->vms[k].flags & BAL_VM_INCOMING);
	return n;
}

static void plan_consolidate(struct work *w, size_t only, struct bal_plan *out, size_t *capm)
{
	size_t nh = w->v.nhosts;
	char *skip = calloc(nh ? nh : 1, 1), *keep = calloc(nh ? nh : 1, 1);
	size_t *order = xrealloc(NULL, nh * sizeof *order);
	if (!skip || !keep)
		abort();
	size_t n = 0, online = 0;
	for (size_t i = 0; i < nh; i++) {
		if (w->v.hosts[i].state != BAL_ONLINE)
			continue;
		online++;
		if (only >= nh || only == i)
			order[n++] = i;
	}
	/* least loaded first: they are the ones to empty */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && consolidate_before(w, order[j], order[j - 1]); j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < n && online > 1; i++) {
		size_t h = order[i];
		if (keep[h])
			continue;
		struct bal_cand c[BAL_MAX_CANDS];
		size_t running = running_vms(&w->v.hosts[h]);
		if (running > BAL_MAX_CANDS || bal_candidates(&w->v, h, w->s, BAL_MODE_CONSOLIDATE,
		                                              c, BAL_MAX_CANDS) != running)
			continue; /* something on it may not move */
		struct work snap;
		work_copy(&snap, &w->v, w->s);
		size_t before = out->n;
		skip[h] = 1;
		if (place_all(w, h, BAL_MODE_CONSOLIDATE, skip, out, capm) == 0) {
			for (size_t k = before; k < out->n; k++)
				keep[out->moves[k].to] = 1;
			if (out->nemptied < sizeof out->emptied / sizeof out->emptied[0])
				out->emptied[out->nemptied++] = h;
			online--;
			work_free(&snap);
			continue;
		}
		skip[h] = 0;
		out->n = before;
		work_free(w);
		*w = snap;
	}
	free(order);
	free(skip);
	free(keep);
}

size_t bal_plan(const struct bal_view *v, const struct rule_settings *s, enum bal_mode mode,
                size_t only, struct bal_plan *out)
{
	if (mode == BAL_MODE_EVACUATE)
		return bal_plan_evacuate(v, s, only, NULL, out);
	memset(out, 0, sizeof *out);
	struct work w;
	work_copy(&w, v, s);
	work_fix_demand(&w);
	size_t capm = 0;
	if (mode == BAL_MODE_BALANCE)
		plan_balance(&w, only, out, &capm);
	else
		plan_consolidate(&w, only, out, &capm);
	work_free(&w);
	return out->n;
}

size_t bal_plan_evacuate(const struct bal_view *v, const struct rule_settings *s, size_t src,
                         const char *skip, struct bal_plan *out)
{
	memset(out, 0, sizeof *out);
	if (src >= v->nhosts)
		return 0;
	struct work w;
	work_copy(&w, v, s);
	work_fix_demand(&w);
	size_t capm = 0;
	place_all(&w, src, BAL_MODE_EVACUATE, skip, out, &capm);
	out->unplaced = running_vms(&w.v.hosts[src]);
	work_free(&w);
	return out->n;
}

void bal_plan_free(struct bal_plan *p)
{
	free(p->moves);
	p->moves = NULL;
	p->n = 0;
}

/* The first standby host by name not in taken (NULL: none taken), or -1. */
static int standby_next(const struct bal_view *v, const char *taken)
{
	int pick = -1;
	for (size_t i = 0; i < v->nhosts; i++)
		if (v->hosts[i].state == BAL_STANDBY && !(taken && taken[i]) &&
		    (pick < 0 || strcmp(v->hosts[i].name, v->hosts[pick].name) < 0))
			pick = (int)i;
	return pick;
}

size_t bal_standby_needed(const struct bal_view *v, const struct rule_settings *s, size_t *out,
                          size_t max)
{
	double work = 0, cpus = 0;
	for (size_t i = 0; i < v->nhosts; i++) {
		const struct bal_host *h = &v->hosts[i];
		if (h->state != BAL_ONLINE)
			continue;
		int c = h->cpus > 0 ? h->cpus : 1;
		work += bal_host_load(h, s) * c;
		cpus += c;
	}
	char *taken = calloc(v->nhosts ? v->nhosts : 1, 1);
	if (!taken)
		abort();
	size_t n = 0;
	double level = s->high - s->margin > 1 ? s->high - s->margin : 1;
	while (n < max && (n == 0 || work > level * cpus)) {
		int pick = standby_next(v, taken);
		if (pick < 0)
			break;
		taken[pick] = 1;
		out[n++] = (size_t)pick;
		cpus += v->hosts[pick].cpus > 0 ? v->hosts[pick].cpus : 1;
	}
	free(taken);
	return n;
}

int bal_power_on_pick(const struct bal_view *v, const struct rule_settings *s)
{
	int pick = standby_next(v, NULL);
	if (pick < 0)
		return -1;
	if (bal_cluster_mean(v, s) >= s->high - s->margin)
		return pick;
	int over = 0, room = 0;
	for (size_t i = 0; i < v->nhosts; i++) {
		if (v->hosts[i].state != BAL_ONLINE)
			continue;
		double l = bal_host_load(&v->hosts[i], s);
		over |= l > s->high;
		room |= l < s->low;
	}
	return over && !room ? pick : -1;
}

cJSON *bal_plan_json(const struct bal_view *v, const struct rule_settings *s, enum bal_mode mode,
                     size_t only)
{
	struct bal_plan p;
	bal_plan(v, s, mode, only, &p);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", bal_mode_name(mode));
	cJSON *a = cJSON_AddArrayToObject(o, "moves");
	for (size_t i = 0; i < p.n; i++) {
		const struct bal_move *m = &p.moves[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "vm", m->vm);
		cJSON_AddStringToObject(x, "from", v->hosts[m->from].name);
		cJSON_AddStringToObject(x, "to", v->hosts[m->to].name);
		cJSON_AddNumberToObject(x, "cpu", round(m->cpu * 10) / 10);
		cJSON_AddNumberToObject(x, "mem_mb", (double)m->mem_mb);
		cJSON_AddBoolToObject(x, "unknown", m->unknown);
		cJSON_AddNumberToObject(x, "from_before", round(m->from_before * 10) / 10);
		cJSON_AddNumberToObject(x, "from_after", round(m->from_after * 10) / 10);
		cJSON_AddNumberToObject(x, "to_before", round(m->to_before * 10) / 10);
		cJSON_AddNumberToObject(x, "to_after", round(m->to_after * 10) / 10);
		cJSON_AddItemToArray(a, x);
	}
	cJSON *e = cJSON_AddArrayToObject(o, "emptied");
	for (size_t i = 0; i < p.nemptied; i++)
		cJSON_AddItemToArray(e, cJSON_CreateString(v->hosts[p.emptied[i]].name));
	cJSON_AddNumberToObject(o, "unplaced", (double)p.unplaced);
	bal_plan_free(&p);
	return o;
}
