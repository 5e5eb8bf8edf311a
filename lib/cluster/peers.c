/* peers.c - the other hosts as their messages describe them. */
#include "peers.h"

#include "../core/limits.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEERS_RESV_ID_MAX 128

struct peers_resv {
	char host[VMC_NAME_MAX + 1];
	char id[PEERS_RESV_ID_MAX + 1];
	int64_t mem_mb;
	int64_t ended; /* 0 while the migration runs, else when it ended */
};

struct peers {
	struct peer *hosts;
	size_t n, cap;
	struct peers_resv *resv;
	size_t nresv, capresv;
};

struct peers *peers_new(void)
{
	return calloc(1, sizeof(struct peers));
}

void peers_free(struct peers *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->hosts[i].vms);
	free(p->hosts);
	free(p->resv);
	free(p);
}

static struct peer *peers_get(struct peers *p, const char *host, int create)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->hosts[i].name, host) == 0)
			return &p->hosts[i];
	if (!create || strlen(host) > VMC_NAME_MAX)
		return NULL;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct peer *n = realloc(p->hosts, cap * sizeof(*n));
		if (!n)
			return NULL;
		p->hosts = n;
		p->cap = cap;
	}
	struct peer *h = &p->hosts[p->n++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", host);
	return h;
}

static const char *peers_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double peers_num(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int peers_on_state(struct peers *p, const char *host, const cJSON *msg)
{
	if (!msg) {
		struct peer *h = peers_get(p, host, 0);
		if (h) {
			free(h->vms);
			*h = p->hosts[--p->n];
		}
		return 0;
	}
	const char *state = peers_str(msg, "state");
	if (!state)
		return -1;
	struct peer *h = peers_get(p, host, 1);
	if (!h)
		return -1;
	snprintf(h->state, sizeof(h->state), "%s", state);
	h->session = (int64_t)peers_num(msg, "session", 0);
	const char *addr = peers_str(msg, "migrate_addr");
	snprintf(h->migrate_addr, sizeof(h->migrate_addr), "%s", addr ? addr : "");
	const char *drv = peers_str(msg, "driver");
	snprintf(h->driver, sizeof(h->driver), "%s", drv ? drv : "");
	if (!h->have_load) {
		h->cpus = (int)peers_num(msg, "cpus", 0);
		h->mem_total_mb = (int64_t)peers_num(msg, "mem_total_mb", 0);
	}
	return 0;
}

/* Drops the holds of ended migrations towards host: its new load shows them. */
static void peers_expire(struct peers *p, const char *host, int64_t now)
{
	for (size_t i = 0; i < p->nresv;) {
		struct peers_resv *r = &p->resv[i];
		if (r->ended && r->ended < now && strcmp(r->host, host) == 0)
			*r = p->resv[--p->nresv];
		else
			i++;
	}
}

/* The host figures of a load or summary message received at now; leaving: the VMs the
 * host lists as outgoing or migrating, which bound its migrations_out. */
static void peers_take(struct peers *p, struct peer *h, const cJSON *msg, size_t leaving,
                       int64_t now)
{
	h->have_load = 1;
	h->load_rx = now;
	h->cpus = (int)lim_clamp(LIM_HOST, "cpus", peers_num(msg, "cpus", h->cpus));
	h->cpu = lim_clamp(LIM_HOST, "cpu", peers_num(msg, "cpu", 0));
	h->mem_total_mb = (int64_t)lim_clamp(
	    LIM_HOST, "mem_total_mb", peers_num(msg, "mem_total_mb", (double)h->mem_total_mb));
	h->mem_free_mb =
	    (int64_t)lim_clamp(LIM_HOST, "mem_free_mb", peers_num(msg, "mem_free_mb", 0));
	if (h->mem_free_mb > h->mem_total_mb)
		h->mem_free_mb = h->mem_total_mb;
	/* a host runs no more outgoing migrations than the VMs it lists as leaving */
	double out = lim_clamp(LIM_HOST, "migrations_out", peers_num(msg, "migrations_out", 0));
	h->migrations_out = out > (double)leaving ? (int)leaving : (int)out;
	h->migrations_in =
	    (int)lim_clamp(LIM_HOST, "migrations_in", peers_num(msg, "migrations_in", 0));
	h->refresh_ms = (int64_t)lim_clamp(LIM_HOST, "refresh_ms", peers_num(msg, "refresh_ms", 0));
	/* only the host's own state message (its birth) makes it known or offline; a load
	 * says maintenance or online of a host already up */
	const char *state = peers_str(msg, "state");
	if (state && h->state[0] && strcmp(h->state, "offline") != 0 &&
	    strcmp(state, "offline") != 0)
		snprintf(h->state, sizeof(h->state), "%s", state);
	peers_expire(p, h->name, now);
}

static int peers_leaving(const char *state)
{
	return state && (strcmp(state, "outgoing") == 0 || strcmp(state, "migrating") == 0);
}

int peers_on_load(struct peers *p, const char *host, const cJSON *msg, int64_t now)
{
	const cJSON *vms = cJSON_GetObjectItem(msg, "vms");
	if (!cJSON_IsArray(vms) || !cJSON_IsNumber(cJSON_GetObjectItem(msg, "mem_free_mb")))
		return -1;
	size_t n = (size_t)cJSON_GetArraySize(vms);
	struct peer_vm *list = calloc(n ? n : 1, sizeof(*list));
	if (!list)
		return -1;
	size_t k = 0, leaving = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, vms)
	{
		const char *name = peers_str(v, "name");
		if (!name || strlen(name) > VMC_NAME_MAX)
			continue;
		snprintf(list[k].name, sizeof(list[k].name), "%s", name);
		const char *st = peers_str(v, "state");
		snprintf(list[k].state, sizeof(list[k].state), "%s", st ? st : "");
		list[k].mem_mb = (int64_t)lim_clamp(LIM_VM, "mem_mb", peers_num(v, "mem_mb", 0));
		leaving += peers_leaving(st);
		k++;
	}
	struct peer *h = peers_get(p, host, 1);
	if (!h) {
		free(list);
		return -1;
	}
	free(h->vms);
	h->vms = list;
	h->nvms = k;
	peers_take(p, h, msg, leaving, now);
	return 0;
}

int peers_on_summary(struct peers *p, const char *host, const cJSON *msg, int64_t now)
{
	if (!cJSON_IsNumber(cJSON_GetObjectItem(msg, "mem_free_mb")))
		return -1;
	struct peer *h = peers_get(p, host, 1);
	if (!h)
		return -1;
	size_t leaving = 0;
	for (size_t i = 0; i < h->nvms; i++)
		leaving += peers_leaving(h->vms[i].state);
	peers_take(p, h, msg, leaving, now);
	return 0;
}

int peers_on_vm(struct peers *p, const char *host, const char *vm, const cJSON *msg)
{
	const char *on = msg ? peers_str(msg, "host") : NULL;
	const char *name = msg ? peers_str(msg, "name") : NULL;
	const char *st = msg ? peers_str(msg, "state") : NULL;
	if (msg && (!on || strcmp(on, host) != 0 || !name || strcmp(name, vm) != 0 || !st))
		return -1; /* a record names its VM and the host whose topic it is on */
	struct peer *h = peers_get(p, host, msg != NULL);
	if (!h)
		return msg ? -1 : 0;
	size_t i;
	for (i = 0; i < h->nvms && strcmp(h->vms[i].name, vm) != 0; i++)
		;
	if (!msg) {
		if (i < h->nvms)
			h->vms[i] = h->vms[--h->nvms];
		return 0;
	}
	if (strlen(vm) > VMC_NAME_MAX)
		return -1;
	if (i == h->nvms) {
		struct peer_vm *nv = realloc(h->vms, (h->nvms + 1) * sizeof(*nv));
		if (!nv)
			return -1;
		h->vms = nv;
		h->nvms++;
		snprintf(h->vms[i].name, sizeof(h->vms[i].name), "%s", vm);
	}
	snprintf(h->vms[i].state, sizeof(h->vms[i].state), "%s", st);
	h->vms[i].mem_mb = (int64_t)lim_clamp(LIM_VM, "mem_mb", peers_num(msg, "mem_mb", 0));
	return 0;
}

const struct peer *peers_find(const struct peers *p, const char *host)
{
	return peers_get((struct peers *)p, host, 0);
}

size_t peers_count(const struct peers *p)
{
	return p->n;
}

const struct peer *peers_at(const struct peers *p, size_t i)
{
	return i < p->n ? &p->hosts[i] : NULL;
}

int64_t peers_free_mb(const struct peers *p, const char *host)
{
	const struct peer *h = peers_find(p, host);
	if (!h || !h->have_load)
		return -1;
	int64_t free_mb = h->mem_free_mb;
	for (size_t i = 0; i < p->nresv; i++)
		if (strcmp(p->resv[i].host, host) == 0)
			free_mb -= p->resv[i].mem_mb;
	return free_mb;
}

void peers_view_free(const struct peers *p, struct bal_host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t free_mb = peers_free_mb(p, hosts[i].name);
		if (free_mb >= 0)
			hosts[i].mem_free_mb = free_mb;
	}
}

int peers_migrations_out(const struct peers *p, const char *self, int64_t now, int64_t ttl_ms)
{
	int64_t n = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct peer *h = &p->hosts[i];
		if (self && strcmp(h->name, self) == 0)
			continue;
		if (!h->have_load || strcmp(h->state, "offline") == 0 || now - h->load_rx > ttl_ms)
			continue; /* a count nobody refreshes is stale, not busy */
		n += h->migrations_out;
		if (n > INT_MAX / 2)
			return INT_MAX / 2;
	}
	return (int)n;
}

const char *peers_vm_host(const struct peers *p, const char *vm, const char *skip)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct peer *h = &p->hosts[i];
		if (skip && strcmp(h->name, skip) == 0)
			continue;
		for (size_t j = 0; j < h->nvms; j++)
			if (strcmp(h->vms[j].name, vm) == 0)
				return h->name;
	}
	return NULL;
}

int peers_reserve(struct peers *p, const char *host, const char *id, int64_t mem_mb)
{
	if (strlen(host) > VMC_NAME_MAX || strlen(id) > PEERS_RESV_ID_MAX)
		return -1;
	if (p->nresv == p->capresv) {
		size_t cap = p->capresv ? p->capresv * 2 : 16;
		struct peers_resv *n = realloc(p->resv, cap * sizeof(*n));
		if (!n)
			return -1;
		p->resv = n;
		p->capresv = cap;
	}
	struct peers_resv *r = &p->resv[p->nresv++];
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->mem_mb = mem_mb;
	r->ended = 0;
	return 0;
}

void peers_release(struct peers *p, const char *id, int moved, int64_t now)
{
	for (size_t i = 0; i < p->nresv; i++) {
		if (strcmp(p->resv[i].id, id) != 0)
			continue;
		if (moved) {
			p->resv[i].ended = now > 0 ? now : 1;
		} else {
			p->resv[i] = p->resv[--p->nresv];
		}
		return;
	}
}
