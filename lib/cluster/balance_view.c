/* balance_view.c - the cluster view from load and state messages. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_view.h"
#include "../core/limits.h"

void bview_init(struct bview *v)
{
	memset(v, 0, sizeof *v);
}

void bview_free(struct bview *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->hosts[i].vms);
		free(v->hosts[i].guests);
		free(v->hosts[i].recs);
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
	h->stated = 1;
	if (h->h.state != BAL_OFFLINE)
		h->born = 1;
}

void bview_live_load(struct bview *v, const char *host, const cJSON *load)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(load, "state");
	if (!msg_load_has_birth(load))
		return; /* only an agent's own load carries its birth (session, address) */
	struct bview_host *h = host_get(v, host);
	if (!h->stated && cJSON_IsString(st))
		bview_state(v, host, st->valuestring);
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

/* The guest agent's figures of a VM, within lib/core/limits.c's bounds. 0, or -1 with err. */
static int guest_parse(const cJSON *guest, const char *ctx, struct bal_vm *vm, struct rule_guest *g,
                       char *err, size_t errlen)
{
	char gctx[80];
	snprintf(gctx, sizeof gctx, "%s.guest", ctx);
	double steal = -1;
	if (lim_get_num(guest, LIM_GUEST, gctx, "steal", 0, &steal, err, errlen) < 0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "cpu", 0, &g->cpu, err, errlen) < 0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "load1", 0, &g->load1, err, errlen) < 0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "mem_used_mb", 0, &g->mem_used_mb, err, errlen) <
	        0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "mem_total_mb", 0, &g->mem_total_mb, err, errlen) <
	        0) {
		memset(g, 0, sizeof *g);
		return -1;
	}
	vm->steal = steal;
	g->steal = steal >= 0 ? steal : 0;
	g->known = 1;
	return 0;
}

/* One VM of a load message. Returns 0; 1 if its guest figures were dropped (err says
 * why; the VM stays, as if it had no guest agent); -1 if the VM itself is bad. */
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
	    lim_get_int(o, LIM_VM, ctx, "vcpus", 1, &vcpus, err, errlen) < 0 ||
	    lim_get_int(o, LIM_VM, ctx, "mem_mb", 1, &mem, err, errlen) < 0 ||
	    lim_get_num(o, LIM_VM, ctx, "cpu", 0, &vm->cpu, err, errlen) < 0 ||
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
	if (guest && guest_parse(guest, ctx, vm, g, err, errlen) < 0)
		return 1;
	return 0;
}

/* The host's own figures of a load message. 0, or -1 with err. */
static int host_parse(const cJSON *load, struct bal_host *hh, const char **state, char *err,
                      size_t errlen)
{
	int64_t cpus, total, freemb, mout = 0, min = 0;
	double cpu = 0;
	*state = "online";
	if (msg_get_str(load, NULL, "state", 0, 32, state, err, errlen) < 0 ||
	    lim_get_int(load, LIM_HOST, NULL, "cpus", 1, &cpus, err, errlen) < 0 ||
	    lim_get_num(load, LIM_HOST, NULL, "cpu", 1, &cpu, err, errlen) < 0 ||
	    lim_get_int(load, LIM_HOST, NULL, "mem_total_mb", 1, &total, err, errlen) < 0 ||
	    lim_get_int(load, LIM_HOST, NULL, "mem_free_mb", 1, &freemb, err, errlen) < 0 ||
	    lim_get_int(load, LIM_HOST, NULL, "migrations_out", 0, &mout, err, errlen) < 0 ||
	    lim_get_int(load, LIM_HOST, NULL, "migrations_in", 0, &min, err, errlen) < 0)
		return -1;
	if (freemb > total) {
		snprintf(err, errlen, "mem_free_mb: %lld is more than mem_total_mb %lld",
		         (long long)freemb, (long long)total);
		return -1;
	}
	hh->cpus = (int)cpus;
	hh->cpu = cpu;
	hh->mem_total_mb = total;
	hh->mem_free_mb = freemb;
	hh->migrations_out = (int)mout;
	hh->migrations_in = (int)min;
	return 0;
}

/* Takes a host's own figures (hh, from a load or a summary) into its entry: its state as
 * the load says it (see below), migrations_out no more than the VMs leaving. */
static void take_figures(struct bview_host *h, struct bal_host *hh, const char *state, int leaving)
{
	int st = bal_host_state_parse(state);
	/* the state message says whether the host is up; the load only which way. A host
	 * taken for standby (a peer's host.standby: emptied by consolidation) that still
	 * reports itself online or in maintenance was not powered off: it is back. */
	if (h->h.state == BAL_STANDBY) {
		if (st == BAL_ONLINE || st == BAL_MAINTENANCE)
			h->h.state = st;
	} else if (h->h.state != BAL_OFFLINE) {
		h->h.state = st < 0 || st == BAL_OFFLINE || st == BAL_STANDBY ? BAL_OFFLINE : st;
	}
	hh->state = h->h.state;
	snprintf(hh->name, sizeof hh->name, "%s", h->h.name);
	hh->mem_reserve_mb = h->h.mem_reserve_mb;
	/* a host runs no more outgoing migrations than the VMs it lists as leaving */
	if (hh->migrations_out > leaving)
		hh->migrations_out = leaving;
	hh->vms = h->h.vms;
	hh->nvms = h->h.nvms;
	h->h = *hh;
	h->loaded = 1;
}

int bview_load(struct bview *v, const char *host, const cJSON *load, char *err, size_t errlen)
{
	const char *state;
	const cJSON *arr;
	struct bal_host hh;
	memset(&hh, 0, sizeof hh);
	if (host_parse(load, &hh, &state, err, errlen) < 0 ||
	    msg_get_array(load, NULL, "vms", 1, &arr, err, errlen) < 0)
		return -1;
	size_t n = (size_t)cJSON_GetArraySize(arr);
	struct bal_vm *vms = calloc(n + 1, sizeof *vms);
	struct rule_guest *gs = calloc(n + 1, sizeof *gs);
	if (!vms || !gs)
		abort();
	size_t k = 0, i = 0;
	int dropped = 0;
	char why[VMC_ERR_MAX];
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		char ctx[32];
		int holds;
		snprintf(ctx, sizeof ctx, "vms[%zu]", i++);
		int r = vm_parse(o, ctx, &vms[k], &gs[k], &holds, why, sizeof why);
		if (r != 0 && !dropped++) /* the first one is reported */
			snprintf(err, errlen, "%s (%s dropped)", why,
			         r > 0 ? "its guest figures" : "the vm");
		if (r >= 0 && holds)
			k++;
	}
	struct bview_host *h = host_get(v, host);
	free(h->vms);
	free(h->guests);
	h->vms = vms;
	h->guests = gs;
	h->nguests = k;
	h->summary = 0;
	for (i = 0; i < k; i++)
		gs[i].vm = vms[i].name;
	int leaving = 0;
	cJSON_ArrayForEach(o, arr)
	{
		const cJSON *vs = cJSON_GetObjectItemCaseSensitive(o, "state");
		leaving += cJSON_IsString(vs) && (strcmp(vs->valuestring, "outgoing") == 0 ||
		                                  strcmp(vs->valuestring, "migrating") == 0);
	}
	h->h.vms = vms;
	h->h.nvms = k;
	take_figures(h, &hh, state, leaving);
	return dropped ? 1 : 0;
}

/* The VMs of a host known from its summary: its records that hold resources, each with
 * a share of the summary's vm_cpu by its vCPUs (no steal: the share is its demand), and
 * the host's cpu set to its load, so that bal_host_load gives the summary's load. */
static void summary_vms(struct bview_host *h)
{
	struct bal_vm *vms = calloc(h->nrecs + 1, sizeof *vms);
	if (!vms)
		abort();
	size_t k = 0;
	double vcpus = 0;
	int leaving = 0;
	for (size_t i = 0; i < h->nrecs; i++) {
		leaving += h->recs[i].leaving;
		if (!h->recs[i].holds)
			continue;
		vms[k] = h->recs[i].vm;
		vcpus += vms[k].vcpus > 0 ? vms[k].vcpus : 1;
		k++;
	}
	for (size_t i = 0; i < k; i++) {
		vms[i].cpu = h->sum_vm_cpu * (vms[i].vcpus > 0 ? vms[i].vcpus : 1) / vcpus;
		vms[i].steal = 0;
	}
	free(h->vms);
	free(h->guests);
	h->vms = vms;
	h->guests = NULL;
	h->nguests = 0;
	h->h.vms = vms;
	h->h.nvms = k;
	h->h.cpu = h->sum_load;
	h->h.migrations_out = h->sum_mout < leaving ? h->sum_mout : leaving;
}

int bview_summary(struct bview *v, const char *host, const cJSON *summary, char *err, size_t errlen)
{
	const char *state;
	struct bal_host hh;
	double load = 0, vm_cpu = 0;
	memset(&hh, 0, sizeof hh);
	if (host_parse(summary, &hh, &state, err, errlen) < 0 ||
	    lim_get_num(summary, LIM_HOST, NULL, "load", 1, &load, err, errlen) < 0 ||
	    lim_get_num(summary, LIM_HOST, NULL, "vm_cpu", 1, &vm_cpu, err, errlen) < 0)
		return -1;
	struct bview_host *h = host_get(v, host);
	h->summary = 1;
	h->sum_load = load;
	h->sum_vm_cpu = vm_cpu;
	h->sum_mout = hh.migrations_out;
	take_figures(h, &hh, state, hh.migrations_out);
	summary_vms(h);
	return 0;
}

const struct bal_host *bview_host(const struct bview *v, const char *host)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->hosts[i].h.name, host) == 0)
			return &v->hosts[i].h;
	return NULL;
}

int bview_vm(struct bview *v, const char *host, const char *vm, const cJSON *rec, char *err,
             size_t errlen)
{
	struct bview_rec r;
	struct rule_guest g;
	memset(&r, 0, sizeof r);
	if (rec) {
		const char *on, *state;
		if (msg_get_name(rec, NULL, "host", 1, &on, err, errlen) < 0 ||
		    msg_get_str(rec, NULL, "state", 1, 32, &state, err, errlen) < 0)
			return -1;
		if (strcmp(on, host) != 0) {
			snprintf(err, errlen, "host: \"%s\" is not %s, whose record it is", on,
			         host);
			return -1;
		}
		if (vm_parse(rec, "record", &r.vm, &g, &r.holds, err, errlen) < 0)
			return -1;
		if (strcmp(r.vm.name, vm) != 0) {
			snprintf(err, errlen, "name: \"%s\" is not %s, whose record it is",
			         r.vm.name, vm);
			return -1;
		}
		r.leaving = strcmp(state, "outgoing") == 0 || strcmp(state, "migrating") == 0;
	}
	if (!rec && !bview_host(v, host))
		return 0; /* a cleared record of a host never heard of */
	struct bview_host *h = host_get(v, host);
	size_t i;
	for (i = 0; i < h->nrecs && strcmp(h->recs[i].vm.name, vm) != 0; i++)
		;
	if (!rec) {
		if (i < h->nrecs)
			h->recs[i] = h->recs[--h->nrecs];
	} else {
		if (i == h->nrecs) {
			if (h->nrecs == h->caprecs) {
				h->caprecs = h->caprecs ? h->caprecs * 2 : 8;
				struct bview_rec *nr = realloc(h->recs, h->caprecs * sizeof *nr);
				if (!nr)
					abort();
				h->recs = nr;
			}
			h->nrecs++;
		}
		h->recs[i] = r;
	}
	if (h->summary)
		summary_vms(h);
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
		if (v->hosts[i].loaded && v->hosts[i].born)
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
