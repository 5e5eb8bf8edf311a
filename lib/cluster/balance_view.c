/* balance_view.c - a balancer's view from the cluster model and its own loads. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_view.h"
#include "bal_parse.h"

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		abort();
	return p;
}

void bview_init(struct bview *v, const char *self)
{
	memset(v, 0, sizeof *v);
	snprintf(v->self, sizeof v->self, "%s", self ? self : "");
}

void bview_free(struct bview *v)
{
	free(v->own_vms);
	free(v->guests);
	free(v->flat);
	memset(v, 0, sizeof *v);
}

int bview_own_load(struct bview *v, struct cluster_model *m, const cJSON *load, char *err,
                   size_t errlen)
{
	const char *state;
	const cJSON *arr;
	struct bal_host hh;
	memset(&hh, 0, sizeof hh);
	if (bal_parse_host(load, &hh, &state, err, errlen) < 0 ||
	    msg_get_array(load, NULL, "vms", 1, &arr, err, errlen) < 0)
		return -1;
	size_t n = (size_t)cJSON_GetArraySize(arr);
	struct bal_vm *vms = calloc(n + 1, sizeof *vms);
	struct rule_guest *gs = calloc(n + 1, sizeof *gs);
	if (!vms || !gs)
		abort();
	size_t k = 0, i = 0;
	int dropped = 0, leaving = 0;
	char why[VMC_ERR_MAX];
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		char ctx[32];
		int holds;
		snprintf(ctx, sizeof ctx, "vms[%zu]", i++);
		int r = bal_parse_vm(o, ctx, &vms[k], &gs[k], &holds, why, sizeof why);
		if (r != 0 && !dropped++) /* the first one is reported */
			snprintf(err, errlen, "%s (%s dropped)", why,
			         r > 0 ? "its guest figures" : "the vm");
		if (r >= 0 && holds)
			k++;
		const cJSON *vs = cJSON_GetObjectItemCaseSensitive(o, "state");
		leaving += cJSON_IsString(vs) && bal_state_leaving(vs->valuestring);
	}
	free(v->own_vms);
	free(v->guests);
	v->own_vms = vms;
	v->guests = gs;
	v->nguests = k;
	for (i = 0; i < k; i++)
		gs[i].vm = vms[i].name;
	cluster_model_host_bal_take(m, v->self, state);
	const struct cm_host *mh = cluster_model_host_find(m, v->self);
	snprintf(hh.name, sizeof hh.name, "%s", v->self);
	hh.state = mh ? (enum bal_host_state)mh->bal_state : BAL_OFFLINE;
	hh.mem_reserve_mb = -1;
	/* a host runs no more outgoing migrations than the VMs it lists as leaving */
	if (hh.migrations_out > leaving)
		hh.migrations_out = leaving;
	hh.vms = vms;
	hh.nvms = k;
	v->own = hh;
	v->have_own = 1;
	v->built = 0;
	return dropped ? 1 : 0;
}

const struct bal_host *bview_own(const struct bview *v)
{
	return v->have_own ? &v->own : NULL;
}

const struct rule_guest *bview_guests(const struct bview *v, size_t *n)
{
	*n = v->have_own ? v->nguests : 0;
	return v->have_own ? v->guests : NULL;
}

/* Another host's figures from its summary (its VMs are set by the caller: its records
 * that hold resources, each with a share of vm_cpu by its vCPUs as its demand). */
static void peer_host(const struct cm_host *h, struct bal_host *bh)
{
	memset(bh, 0, sizeof *bh);
	memcpy(bh->name, h->name, strlen(h->name) + 1);
	bh->state = (enum bal_host_state)h->bal_state;
	bh->cpus = h->cpus;
	bh->cpu = h->load;
	bh->mem_total_mb = h->mem_total_mb;
	bh->mem_free_mb = h->mem_free_mb;
	bh->mem_reserve_mb = -1;
	bh->migrations_out = h->migrations_out;
	bh->migrations_in = h->migrations_in;
}

const struct bal_view *bview_get(struct bview *v, const struct cluster_model *m, int64_t now)
{
	v->view.now_ms = now;
	if (v->built && v->version == cluster_model_version(m))
		return &v->view;
	size_t n = cluster_model_host_count(m);
	if (n + 1 > v->capflat) { /* never NULL, even empty */
		v->flat = xrealloc(v->flat, (n + 1) * sizeof *v->flat);
		v->capflat = n + 1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cm_host *h = cluster_model_host_at(m, i);
		if (!h->bal_born)
			continue;
		if (v->self[0] && strcmp(h->name, v->self) == 0) {
			if (!v->have_own)
				continue;
			v->flat[k] = v->own;
			v->flat[k++].state = (enum bal_host_state)h->bal_state;
		} else if (h->has_summary) {
			size_t nvms;
			const struct bal_vm *vms = cluster_model_host_held(h, &nvms);
			peer_host(h, &v->flat[k]);
			/* the balancer only reads a view; every plan copies before it moves */
			v->flat[k].vms = (struct bal_vm *)vms;
			v->flat[k++].nvms = nvms;
		}
	}
	v->view = (struct bal_view){v->flat, k, now};
	v->version = cluster_model_version(m);
	v->built = 1;
	return &v->view;
}
