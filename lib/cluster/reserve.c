/* reserve.c - the one table of memory reservations: placements, holds of migrations
 * and the balancer's promises (see reserve.h and reserve_promise.h). Pure. */
#include "reserve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/nametab.h"

#define HOLD_ID_MAX 128

struct hold {
	char host[VMC_NAME_MAX + 1];
	char id[HOLD_ID_MAX + 1];
	int64_t mem_mb;
	int64_t ended; /* 0 while the migration runs, else when it ended */
};

/* An offer's promise (reserve_promise.h). */
struct promise {
	char id[BP_RESV_ID_MAX + 1];
	char requester[VMC_NAME_MAX + 1];
	uint64_t seq;
	int64_t expires;
	int accepted;
	struct bal_vm vms[BAL_MAX_CANDS]; /* name, cpu (demand), mem_mb, groups */
	int64_t seen_at[BAL_MAX_CANDS];   /* first load sample showing it here; 0 not yet */
	size_t nvms;
};

struct reservations {
	struct nametab t; /* placements, by VM */
	struct hold *holds;
	size_t nholds, capholds;
	struct promise *promises;
	size_t npromises, cappromises;
	uint64_t next_promise; /* the last promise id's number */
};

struct reservations *reserve_new(void)
{
	struct reservations *r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "reserve: out of memory\n");
		abort();
	}
	nametab_init(&r->t, offsetof(struct reservation, idx_));
	return r;
}

void reserve_free(struct reservations *r)
{
	if (!r)
		return;
	nametab_free(&r->t, 1);
	free(r->holds);
	free(r->promises);
	free(r);
}

static void drop(struct reservations *r, struct reservation *x)
{
	nametab_del(&r->t, x);
	free(x);
}

int reserve_add(struct reservations *r, const struct cluster_model *m, const char *host,
                const char *vm, int64_t mem_mb, int vcpus, const char *const *tags, size_t ntags,
                int64_t expires_ms)
{
	if (!cluster_model_host_find(m, host) || strlen(vm) > VMC_NAME_MAX)
		return -1;
	struct reservation *x = nametab_find(&r->t, vm);
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x)
			return -1;
		snprintf(x->vm, sizeof(x->vm), "%s", vm);
		nametab_add(&r->t, x);
	}
	snprintf(x->host, sizeof(x->host), "%s", host);
	x->mem_mb = mem_mb;
	x->vcpus = vcpus;
	x->expires_ms = expires_ms;
	size_t used = 0;
	x->tags[0] = '\0';
	for (size_t i = 0; i < ntags; i++) {
		int n = snprintf(x->tags + used, sizeof(x->tags) - used, "%s%s", used ? "," : "",
		                 tags[i]);
		if (n < 0 || (size_t)n >= sizeof(x->tags) - used || strchr(tags[i], ',')) {
			x->tags[used] = '\0'; /* what fits, whole names only */
			break;
		}
		used += (size_t)n;
	}
	return 0;
}

void reserve_release(struct reservations *r, const char *vm)
{
	struct reservation *x = nametab_find(&r->t, vm);
	if (x)
		drop(r, x);
}

void reserve_expire(struct reservations *r, int64_t now_ms)
{
	for (size_t i = r->t.n; i-- > 0;) {
		struct reservation *x = r->t.items[i];
		if (x->expires_ms <= now_ms)
			drop(r, x);
	}
}

void reserve_sync(struct reservations *r, const struct cluster_model *m)
{
	for (size_t i = r->t.n; i-- > 0;) {
		struct reservation *x = r->t.items[i];
		const struct cm_vm *v = cluster_model_vm_find(m, x->vm);
		if (!cluster_model_host_find(m, x->host) || (v && strcmp(v->host, x->host) == 0))
			drop(r, x);
	}
}

size_t reserve_count(const struct reservations *r)
{
	return r->t.n;
}

const struct reservation *reserve_at(const struct reservations *r, size_t i)
{
	return i < r->t.n ? r->t.items[i] : NULL;
}

const struct reservation *reserve_find(const struct reservations *r, const char *vm)
{
	return nametab_find(&r->t, vm);
}

int64_t reserve_room_mb(const struct reservations *r, const struct cm_host *h)
{
	int64_t room = h->mem_free_mb;
	for (size_t i = 0; i < r->t.n; i++) {
		const struct reservation *x = r->t.items[i];
		if (strcmp(x->host, h->name) == 0)
			room -= x->mem_mb;
	}
	return room;
}

const char *reserve_vm_host(const struct reservations *r, const struct cluster_model *m,
                            const char *vm)
{
	const struct cm_vm *v = cluster_model_vm_find(m, vm);
	if (v && v->host[0])
		return v->host;
	const struct reservation *x = nametab_find(&r->t, vm);
	return x ? x->host : NULL;
}

/* 1 while hold x counts: its migration runs, or ended after the last summary of its host. */
static int hold_counts(const struct hold *x, const struct cluster_model *m)
{
	const struct cm_host *h = cluster_model_host_find(m, x->host);
	return !x->ended || !h || h->summary_ms <= x->ended;
}

int reserve_hold(struct reservations *r, const struct cluster_model *m, const char *host,
                 const char *id, int64_t mem_mb)
{
	if (strlen(host) > VMC_NAME_MAX || strlen(id) > HOLD_ID_MAX)
		return -1;
	for (size_t i = 0; i < r->nholds;) {
		if (!hold_counts(&r->holds[i], m))
			r->holds[i] = r->holds[--r->nholds]; /* a summary since its end shows it */
		else
			i++;
	}
	if (r->nholds == r->capholds) {
		size_t cap = r->capholds ? r->capholds * 2 : 16;
		struct hold *n = realloc(r->holds, cap * sizeof(*n));
		if (!n)
			return -1;
		r->holds = n;
		r->capholds = cap;
	}
	struct hold *x = &r->holds[r->nholds++];
	snprintf(x->host, sizeof(x->host), "%s", host);
	snprintf(x->id, sizeof(x->id), "%s", id);
	x->mem_mb = mem_mb;
	x->ended = 0;
	return 0;
}

void reserve_hold_end(struct reservations *r, const char *id, int moved, int64_t now)
{
	for (size_t i = 0; i < r->nholds; i++) {
		if (strcmp(r->holds[i].id, id) != 0)
			continue;
		if (moved)
			r->holds[i].ended = now > 0 ? now : 1;
		else
			r->holds[i] = r->holds[--r->nholds];
		return;
	}
}

int64_t reserve_free_mb(const struct reservations *r, const struct cluster_model *m,
                        const char *host)
{
	const struct cm_host *h = cluster_model_host_find(m, host);
	if (!h || !h->has_summary)
		return -1;
	int64_t free_mb = h->mem_free_mb;
	for (size_t i = 0; i < r->nholds; i++)
		if (strcmp(r->holds[i].host, host) == 0 && hold_counts(&r->holds[i], m))
			free_mb -= r->holds[i].mem_mb;
	return free_mb;
}

void reserve_view_free(const struct reservations *r, const struct cluster_model *m,
                       struct bal_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t free_mb = reserve_free_mb(r, m, hosts[i].name);
		if (free_mb >= 0)
			hosts[i].mem_free_mb = free_mb;
	}
}

/* --- promises of a balancer's offers ------------------------------------------------- */

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, VMC_NAME_MAX + 1, "%s", src ? src : "");
}

static struct promise *promise_find(struct reservations *r, const char *id)
{
	for (size_t i = 0; i < r->npromises; i++)
		if (strcmp(r->promises[i].id, id) == 0)
			return &r->promises[i];
	return NULL;
}

static void promise_drop(struct reservations *r, struct promise *p)
{
	*p = r->promises[--r->npromises];
}

int reserve_promise_has(const struct reservations *r, const char *requester, uint64_t seq)
{
	for (size_t i = 0; i < r->npromises; i++)
		if (r->promises[i].seq == seq && strcmp(r->promises[i].requester, requester) == 0)
			return 1;
	return 0;
}

int reserve_promise_add(struct reservations *r, const char *host, int64_t now, int64_t ttl_ms,
                        const char *requester, uint64_t seq, const struct bal_cand *cands,
                        const struct bal_take *take, char id[BP_RESV_ID_MAX + 1])
{
	if (r->npromises == r->cappromises) {
		r->cappromises = r->cappromises ? r->cappromises * 2 : 4;
		struct promise *np = realloc(r->promises, r->cappromises * sizeof *np);
		if (!np)
			abort();
		r->promises = np;
	}
	struct promise *p = &r->promises[r->npromises++];
	memset(p, 0, sizeof *p);
	snprintf(p->id, sizeof p->id, "%.24s-%llu", host, (unsigned long long)++r->next_promise);
	copy_name(p->requester, requester);
	p->seq = seq;
	p->expires = now + ttl_ms;
	for (size_t i = 0; i < take->n && i < BAL_MAX_CANDS; i++) {
		const struct bal_cand *c = &cands[take->idx[i]];
		struct bal_vm *v = &p->vms[p->nvms++];
		copy_name(v->name, c->vm);
		v->cpu = c->cpu;
		v->steal = 0;
		v->mem_mb = c->mem_mb;
		v->vcpus = 1;
		v->flags = BAL_VM_INCOMING;
		copy_name(v->anti, c->anti);
		copy_name(v->affinity, c->affinity);
	}
	snprintf(id, BP_RESV_ID_MAX + 1, "%s", p->id);
	return 0;
}

int reserve_promise_accept(struct reservations *r, int64_t now, const char *id,
                           const char *requester, const struct bp_accept_vm *vms, size_t n,
                           int64_t accepted_ttl_ms)
{
	struct promise *p = promise_find(r, id);
	if (!p || p->expires <= now || strcmp(p->requester, requester) != 0 || p->accepted)
		return -1;
	struct bal_vm keep[BAL_MAX_CANDS];
	size_t nk = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < p->nvms && strcmp(p->vms[k].name, vms[i].vm) != 0)
			k++;
		if (k == p->nvms)
			return -1;
		keep[nk++] = p->vms[k];
	}
	memcpy(p->vms, keep, nk * sizeof keep[0]);
	memset(p->seen_at, 0, sizeof p->seen_at);
	p->nvms = nk;
	p->accepted = 1;
	p->expires = now + accepted_ttl_ms;
	if (nk == 0)
		promise_drop(r, p);
	return 0;
}

int reserve_promise_release(struct reservations *r, const char *id, const char *requester)
{
	struct promise *p = promise_find(r, id);
	if (!p || strcmp(p->requester, requester) != 0)
		return -1;
	promise_drop(r, p);
	return 0;
}

size_t reserve_promise_expire(struct reservations *r, int64_t now)
{
	size_t dropped = 0;
	for (size_t i = 0; i < r->npromises;) {
		if (r->promises[i].expires <= now) {
			promise_drop(r, &r->promises[i]);
			dropped++;
		} else {
			i++;
		}
	}
	return dropped;
}

void reserve_promise_arrived(struct reservations *r, const char *vm, double cpu, int64_t now,
                             int64_t hold_ms)
{
	for (size_t i = 0; i < r->npromises;) {
		struct promise *p = &r->promises[i];
		for (size_t k = 0; k < p->nvms; k++) {
			if (p->accepted && strcmp(p->vms[k].name, vm) == 0) {
				if (!p->seen_at[k])
					p->seen_at[k] = now ? now : 1;
				if (cpu >= p->vms[k].cpu * 0.9 || now - p->seen_at[k] >= hold_ms) {
					p->nvms--;
					p->vms[k] = p->vms[p->nvms];
					p->seen_at[k] = p->seen_at[p->nvms];
				}
				break;
			}
		}
		if (p->accepted && p->nvms == 0)
			promise_drop(r, p);
		else
			i++;
	}
}

size_t reserve_promise_count(const struct reservations *r)
{
	return r->npromises;
}

size_t reserve_promise_vm_count(const struct reservations *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->npromises; i++)
		n += r->promises[i].nvms;
	return n;
}

size_t reserve_promise_vms(const struct reservations *r, struct bal_vm *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->npromises; i++)
		for (size_t k = 0; k < r->promises[i].nvms && n < max; k++)
			out[n++] = r->promises[i].vms[k];
	return n;
}

int64_t reserve_promise_next_expiry(const struct reservations *r)
{
	int64_t t = INT64_MAX;
	for (size_t i = 0; i < r->npromises; i++)
		if (r->promises[i].expires < t)
			t = r->promises[i].expires;
	return t;
}
