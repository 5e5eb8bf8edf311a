/* balance_view.c - the cluster view from load and state messages. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_view.h"

#define BIG 1e9

void bview_init(struct bview *v)
{
	memset(v, 0, sizeof *v);
}

void bview_free(struct bview *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->hosts[i].vms);
		free(v->hosts[i].guests);
	}
	free(v->hosts);
	free(v->flat);
	memset(v, 0, sizeof *v);
}

static struct bview_host *host_get(struct bview *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->hosts[i].h.name, name) == 0)
			return &v->hosts[i];
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		struct bview_host *nh = realloc(v->hosts, v->cap * sizeof *nh);
		if (!nh)
			abort();
		v->hosts = nh;
	}
	struct bview_host *h = &v->hosts[v->n++];
	memset(h, 0, sizeof *h);
	snprintf(h->h.name, sizeof h->h.name, "%s", name);
	h->h.mem_reserve_mb = -1;
	h->h.state = BAL_OFFLINE;
	return h;
}

void bview_state(struct bview *v, const char *host, const char *state)
{
	int s = bal_host_state_parse(state);
	struct bview_host *h = host_get(v, host);
	if (h->h.state == BAL_STANDBY && (s < 0 || s == BAL_OFFLINE))
		return; /* powered off by consolidation: standby until it comes back */
	h->h.state = s < 0 ? BAL_OFFLINE : s;
}

/* States of VMs that hold CPU and memory; the last ones are being migrated. */
static const struct {
	const char *name;
	unsigned flags;
} vm_states[] = {{"running", 0},
                 {"paused", 0},
                 {"migrating", BAL_VM_MIGRATING},
                 {"outgoing", BAL_VM_MIGRATING},
                 {"incoming", BAL_VM_MIGRATING}};

static int vm_parse(const cJSON *o, const char *ctx, struct bal_vm *vm, struct rule_guest *g,
                    int *holds, char *err, size_t errlen)
{
	const char *name, *state;
	int64_t vcpus, mem;
	const cJSON *tags = NULL, *guest = NULL;
	memset(vm, 0, sizeof *vm);
	memset(g, 0, sizeof *g);
	if (msg_get_name(o, ctx, "name", 1, &name, err, errlen) < 0 ||
	    msg_get_str(o, ctx, "state", 1, 32, &state, err, errlen) < 0 ||
	    msg_get_int(o, ctx, "vcpus", 1, 0, 4096, &vcpus, err, errlen) < 0 ||
	    msg_get_int(o, ctx, "mem_mb", 1, 0, INT64_C(1) << 40, &mem, err, errlen) < 0 ||
	    msg_get_num(o, ctx, "cpu", 0, 0, BIG, &vm->cpu, err, errlen) < 0 ||
	    msg_get_array(o, ctx, "tags", 0, &tags, err, errlen) < 0 ||
	    msg_get_obj(o, ctx, "guest", 0, &guest, err, errlen) < 0 ||
	    msg_get_int(o, ctx, "held_until", 0, 0, INT64_C(1) << 52, &vm->held_until, err,
	                errlen) < 0)
		return -1;
	snprintf(vm->name, sizeof vm->name, "%s", name);
	vm->vcpus = (int)vcpus;
	vm->mem_mb = mem;
	vm->steal = -1;
	*holds = 0;
	for (size_t i = 0; i < sizeof vm_states / sizeof vm_states[0]; i++) {
		if (strcmp(state, vm_states[i].name) == 0) {
			*holds = 1;
			vm->flags |= vm_states[i].flags;
		}
	}
	const char *list[32];
	size_t n = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		if (cJSON_IsString(t) && n < 32)
			list[n++] = t->valuestring;
	}
	bal_vm_tags(vm, list, n);
	if (guest) {
		char gctx[80];
		snprintf(gctx, sizeof gctx, "%s.guest", ctx);
		double steal = -1;
		if (msg_get_num(guest, gctx, "steal", 0, 0, BIG, &steal, err, errlen) < 0 ||
		    msg_get_num(guest, gctx, "cpu", 0, 0, BIG, &g->cpu, err, errlen) < 0 ||
		    msg_get_num(guest, gctx, "load1", 0, 0, BIG, &g->load1, err, errlen) < 0 ||
		    msg_get_num(guest, gctx, "mem_used_mb", 0, 0, BIG, &g->mem_used_mb, err,
		                errlen) < 0 ||
		    msg_get_num(guest, gctx, "mem_total_mb", 0, 0, BIG, &g->mem_total_mb, err,
		                errlen) < 0)
			return -1;
		vm->steal = steal;
		g->steal = steal >= 0 ? steal : 0;
		g->known = 1;
	}
	return 0;
}

int bview_load(struct bview *v, const char *host, const cJSON *load, char *err, size_t errlen)
{
	const char *state = "online";
	int64_t cpus, total, freemb, mout = 0, min = 0;
	double cpu = 0;
	const cJSON *arr;
	if (msg_get_str(load, NULL, "state", 0, 32, &state, err, errlen) < 0 ||
	    msg_get_int(load, NULL, "cpus", 1, 1, 65536, &cpus, err, errlen) < 0 ||
	    msg_get_num(load, NULL, "cpu", 1, 0, 100.0001, &cpu, err, errlen) < 0 ||
	    msg_get_int(load, NULL, "mem_total_mb", 1, 0, INT64_C(1) << 42, &total, err, errlen) <
	        0 ||
	    msg_get_int(load, NULL, "mem_free_mb", 1, 0, INT64_C(1) << 42, &freemb, err, errlen) <
	        0 ||
	    msg_get_int(load, NULL, "migrations_out", 0, 0, 100000, &mout, err, errlen) < 0 ||
	    msg_get_int(load, NULL, "migrations_in", 0, 0, 100000, &min, err, errlen) < 0 ||
	    msg_get_array(load, NULL, "vms", 1, &arr, err, errlen) < 0)
		return -1;
	size_t n = (size_t)cJSON_GetArraySize(arr);
	struct bal_vm *vms = calloc(n + 1, sizeof *vms);
	struct rule_guest *gs = calloc(n + 1, sizeof *gs);
	if (!vms || !gs)
		abort();
	size_t k = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		char ctx[32];
		int holds;
		snprintf(ctx, sizeof ctx, "vms[%zu]", k);
		if (vm_parse(o, ctx, &vms[k], &gs[k], &holds, err, errlen) < 0) {
			free(vms);
			free(gs);
			return -1;
		}
		if (holds)
			k++;
	}
	struct bview_host *h = host_get(v, host);
	free(h->vms);
	free(h->guests);
	h->vms = vms;
	h->guests = gs;
	h->nguests = k;
	for (size_t i = 0; i < k; i++)
		gs[i].vm = vms[i].name;
	int st = bal_host_state_parse(state);
	h->h.state = st < 0 ? BAL_OFFLINE : st;
	h->h.cpus = (int)cpus;
	h->h.cpu = cpu;
	h->h.mem_total_mb = total;
	h->h.mem_free_mb = freemb;
	h->h.migrations_out = (int)mout;
	h->h.migrations_in = (int)min;
	h->h.vms = vms;
	h->h.nvms = k;
	h->loaded = 1;
	return 0;
}

const struct bal_view *bview_get(struct bview *v, int64_t now)
{
	free(v->flat);
	v->flat = calloc(v->n ? v->n : 1, sizeof *v->flat);
	if (!v->flat)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++)
		if (v->hosts[i].loaded)
			v->flat[k++] = v->hosts[i].h;
	v->view = (struct bal_view){v->flat, k, now};
	return &v->view;
}

const struct rule_guest *bview_guests(const struct bview *v, const char *host, size_t *n)
{
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->hosts[i].h.name, host) == 0) {
			*n = v->hosts[i].nguests;
			return v->hosts[i].guests;
		}
	}
	*n = 0;
	return NULL;
}
