/* listing.c - `vmc hosts` and `vmc vms` from the cluster model (see listing.h). */
#include "listing.h"

#include "../../lib/cluster/cluster_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hosts and VMs alike start with their name. */
static int by_name(const void *x, const void *y)
{
	const void *const *a = x, *const *b = y;
	return strcmp((const char *)*a, (const char *)*b);
}

/* The n objects get(m, i) returns (only those where keep says so), sorted by name, in a
 * new array of *nout (free it). */
static const void **sorted(const struct cluster_model *m, size_t n,
                           const void *(*get)(const struct cluster_model *, size_t),
                           int (*keep)(const void *, const char *), const char *arg, size_t *nout)
{
	const void **items = calloc(n ? n : 1, sizeof(*items));
	*nout = 0;
	if (!items)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const void *o = get(m, i);
		if (o && (!keep || keep(o, arg)))
			items[(*nout)++] = o;
	}
	qsort(items, *nout, sizeof(*items), by_name);
	return items;
}

static const void *host_at(const struct cluster_model *m, size_t i)
{
	return cluster_model_host_at(m, i);
}

static const void *vm_at(const struct cluster_model *m, size_t i)
{
	return cluster_model_vm_at(m, i);
}

static cJSON *host_json(const struct cm_host *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", h->name);
	cJSON_AddStringToObject(o, "state", cm_host_state_name(h->state));
	cJSON_AddNumberToObject(o, "cpus", h->cpus);
	cJSON_AddNumberToObject(o, "cpu", h->cpu);
	cJSON_AddNumberToObject(o, "mem_total_mb", (double)h->mem_total_mb);
	cJSON_AddNumberToObject(o, "mem_used_mb", (double)h->mem_used_mb);
	cJSON_AddNumberToObject(o, "mem_free_mb", (double)h->mem_free_mb);
	cJSON_AddNumberToObject(o, "vms", h->nvms);
	cJSON_AddNumberToObject(o, "migrations_out", h->migrations_out);
	cJSON_AddNumberToObject(o, "migrations_in", h->migrations_in);
	cJSON_AddNumberToObject(o, "session", (double)h->session);
	cJSON_AddStringToObject(o, "driver", h->driver);
	cJSON_AddNumberToObject(o, "last_seen_ms", (double)h->sent_ms);
	return o;
}

cJSON *listing_hosts(const struct cluster_model *m)
{
	cJSON *arr = cJSON_CreateArray();
	size_t n;
	const void **hosts = sorted(m, cluster_model_host_count(m), host_at, NULL, NULL, &n);
	for (size_t i = 0; hosts && i < n; i++)
		cJSON_AddItemToArray(arr, host_json(hosts[i]));
	free(hosts);
	return arr;
}

/* The tags as the load listed them: an array of the names. */
static cJSON *tags_json(const char *tags)
{
	cJSON *arr = cJSON_CreateArray();
	for (const char *p = tags; *p;) {
		size_t k = strcspn(p, ",");
		char name[CM_TAGS_MAX];
		snprintf(name, sizeof(name), "%.*s", (int)k, p);
		cJSON_AddItemToArray(arr, cJSON_CreateString(name));
		p += k + (p[k] == ',');
	}
	return arr;
}

static cJSON *guest_json(const struct cm_vm *v)
{
	cJSON *g = cJSON_CreateObject();
	for (size_t i = 0; i < CM_GUEST_FIELDS; i++)
		if (v->guest_has & (1u << i))
			cJSON_AddNumberToObject(g, cm_guest_field_name(i), v->guest[i]);
	return g;
}

/* A VM as its host's load has it, then its host and that host's state. One whose host is
 * not live (offline: its agent is gone) is shown so rather than with the last figures as
 * if current: state "unknown" (the last one as last_state) and cpu null. */
static cJSON *vm_json(const struct cluster_model *m, const struct cm_vm *v)
{
	const struct cm_host *h = cluster_model_host_find(m, v->host);
	int live = !cluster_model_vm_stale(m, v);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", v->name);
	if (live)
		cJSON_AddStringToObject(o, "state", v->state);
	cJSON_AddNumberToObject(o, "vcpus", v->vcpus);
	cJSON_AddNumberToObject(o, "mem_mb", (double)v->mem_mb);
	if (live)
		cJSON_AddNumberToObject(o, "cpu", v->cpu);
	if (v->has_io) {
		cJSON_AddNumberToObject(o, "net_rx", (double)v->net_rx);
		cJSON_AddNumberToObject(o, "net_tx", (double)v->net_tx);
		cJSON_AddNumberToObject(o, "blk_rd", (double)v->blk_rd);
		cJSON_AddNumberToObject(o, "blk_wr", (double)v->blk_wr);
	}
	if (v->has_tags)
		cJSON_AddItemToObject(o, "tags", tags_json(v->tags));
	if (v->hold_until_ms > 0)
		cJSON_AddNumberToObject(o, "held_until", (double)v->hold_until_ms);
	if (v->guest_has)
		cJSON_AddItemToObject(o, "guest", guest_json(v));
	cJSON_AddStringToObject(o, "host", v->host);
	cJSON_AddStringToObject(o, "host_state",
	                        cm_host_state_name(h ? h->state : CM_HOST_UNKNOWN));
	if (!live) {
		cJSON_AddStringToObject(o, "last_state", v->state);
		cJSON_AddStringToObject(o, "state", "unknown");
		cJSON_AddNullToObject(o, "cpu");
	}
	return o;
}

/* A VM some host lists (only_host: that one). */
static int vm_listed(const void *o, const char *only_host)
{
	const struct cm_vm *v = o;
	return v->host[0] && (!only_host || strcmp(v->host, only_host) == 0);
}

cJSON *listing_vms(const struct cluster_model *m, const char *only_host)
{
	cJSON *arr = cJSON_CreateArray();
	size_t n;
	const void **vms = sorted(m, cluster_model_vm_count(m), vm_at, vm_listed, only_host, &n);
	for (size_t i = 0; vms && i < n; i++)
		cJSON_AddItemToArray(arr, vm_json(m, vms[i]));
	free(vms);
	return arr;
}
