/* place.c - confd's placement of new VMs (see place.h): its cluster picture as the one
 * placement's view (lib/cluster/placement.h decides), the answer in confd's words and codes. */
#include "place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

#include "../../lib/cluster/placement.h"

/* Sets a VM's groups from its tags as the cluster keeps them (joined by ','). */
static void vm_groups(struct bal_vm *b, const char *joined)
{
	char buf[CLUSTER_TAGS_LEN];
	const char *tags[CLUSTER_TAGS_LEN / 2];
	size_t n = 0;
	char *save = NULL;
	snprintf(buf, sizeof buf, "%s", joined);
	for (char *t = strtok_r(buf, ",", &save); t && n < sizeof tags / sizeof tags[0];
	     t = strtok_r(NULL, ",", &save))
		tags[n++] = t;
	bal_vm_tags(b, tags, n);
}

/* The cluster as the placement sees it: a host is online only once its state says so
 * and its load was seen; confd's reservations are promises; confd reads no rules file,
 * so no memory is reserved beyond what each host reports used. Returns the VMs of every
 * host (free it and v->hosts), or NULL. */
static struct bal_vm *view_of(const struct cluster *cl, struct bal_view *v)
{
	size_t nvms = 0;
	for (size_t i = 0; i < cl->n; i++)
		nvms += cl->hosts[i].nvms;
	struct bal_host *hs = calloc(cl->n ? cl->n : 1, sizeof *hs);
	struct bal_vm *vs = calloc(nvms ? nvms : 1, sizeof *vs);
	if (!hs || !vs) {
		free(hs);
		free(vs);
		return NULL;
	}
	size_t at = 0;
	for (size_t i = 0; i < cl->n; i++) {
		const struct cl_host *c = &cl->hosts[i];
		struct bal_host *b = &hs[i];
		int st = bal_host_state_parse(c->state);
		snprintf(b->name, sizeof b->name, "%s", c->name);
		b->state = c->have_load && st >= 0 ? (enum bal_host_state)st : BAL_OFFLINE;
		b->cpus = c->cpus;
		b->cpu = c->cpu;
		b->mem_total_mb = c->mem_total_mb;
		b->mem_free_mb = c->mem_free_mb;
		b->mem_reserve_mb = 0;
		b->vms = vs + at;
		b->nvms = c->nvms;
		for (size_t k = 0; k < c->nvms; k++) {
			const struct cl_vm *cv = &c->vms[k];
			struct bal_vm *x = &vs[at++];
			snprintf(x->name, sizeof x->name, "%s", cv->name);
			x->vcpus = cv->vcpus;
			x->mem_mb = cv->mem_mb;
			x->cpu = cv->cpu;
			x->steal = -1;
			x->flags = cv->reserved ? BAL_VM_INCOMING : 0;
			vm_groups(x, cv->tags);
		}
	}
	*v = (struct bal_view){hs, cl->n, 0};
	return vs;
}

/* Why the host asked for cannot take r, in confd's words. */
static void explain_host(const struct cl_host *h, const struct confd_place_req *r,
                         const struct place_why *why, enum vmc_err *code, char *err, size_t errlen)
{
	*code = VMC_E_REFUSED;
	switch (why->fail) {
	case PLACE_NO_MEMORY:
		*code = VMC_E_NO_MEMORY;
		snprintf(err, errlen, "host %s has %lld MiB free, vm %s needs %lld MiB", h->name,
		         (long long)cluster_host_room_mb(h), r->vm, (long long)r->mem_mb);
		break;
	case PLACE_ANTI:
		snprintf(err, errlen,
		         "host %s already runs a VM of anti-affinity group %s (tag %s%s)", h->name,
		         why->group, PLACE_ANTI_PREFIX, why->group);
		break;
	case PLACE_AFFINITY:
		snprintf(err, errlen,
		         "host %s runs no VM of affinity group %s, and other hosts do (affinity)",
		         h->name, why->group);
		break;
	default:
		snprintf(err, errlen, "host %s cannot take vm %s", h->name, r->vm);
	}
}

/* Why no host can take r, in confd's words. */
static void explain_all(const struct cluster *cl, const struct confd_place_req *r,
                        const struct place_why *why, enum vmc_err *code, char *err, size_t errlen)
{
	*code = VMC_E_REFUSED;
	switch (why->fail) {
	case PLACE_NO_MEMORY:
		*code = VMC_E_NO_MEMORY;
		snprintf(err, errlen,
		         "no online host has %lld MiB free for vm %s (most free: %s with %lld MiB)",
		         (long long)r->mem_mb, r->vm, why->where, (long long)why->most_room_mb);
		break;
	case PLACE_ANTI:
		snprintf(err, errlen,
		         "no online host can take vm %s: every one with %lld MiB free already "
		         "runs a VM of the same anti-affinity group (%s)",
		         r->vm, (long long)r->mem_mb, why->group);
		break;
	case PLACE_AFFINITY:
		snprintf(err, errlen,
		         "no online host can take vm %s: no host running affinity group %s has "
		         "%lld MiB free",
		         r->vm, why->group, (long long)r->mem_mb);
		break;
	default:
		snprintf(err, errlen, "no host is online (known hosts: %zu)", cl->n);
	}
}

int confd_place_choose(const struct cluster *cl, const struct confd_place_req *r, char *host,
                       size_t hostlen, enum vmc_err *code, char *err, size_t errlen)
{
	const struct cl_host *want = NULL;
	if (r->host) {
		want = cluster_host(cl, r->host);
		*code = want ? VMC_E_REFUSED : VMC_E_NOT_FOUND;
		if (!want)
			snprintf(err, errlen, "host %s is unknown (no state or load seen)",
			         r->host);
		else if (strcmp(want->state, "online") != 0)
			snprintf(err, errlen, "host %s is %s", want->name,
			         want->state[0] ? want->state : "unknown");
		else if (!want->have_load)
			snprintf(err, errlen, "host %s has not published its load yet", want->name);
		else
			*code = VMC_OK;
		if (*code != VMC_OK)
			return -1;
	}
	struct bal_view v = {0};
	char *skip = calloc(cl->n ? cl->n : 1, 1);
	struct bal_vm *vms = skip ? view_of(cl, &v) : NULL;
	if (!vms) {
		free(skip);
		*code = VMC_E_INTERNAL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; want && i < cl->n; i++)
		skip[i] = &cl->hosts[i] != want;
	struct bal_vm groups = {.steal = -1};
	bal_vm_tags(&groups, r->tags, r->ntags);
	struct place_vm pv = {r->vm, r->mem_mb, 0, groups.affinity, groups.anti, 0};
	struct place_opts o = {.goal = PLACE_SPREAD, .from = SIZE_MAX, .skip = skip};
	struct rule_settings s;
	rule_settings_default(&s);
	struct place_why why;
	int best = place_rank(&v, &s, &pv, 1, &o, NULL, 0, NULL, &why);
	if (best >= 0)
		snprintf(host, hostlen, "%s", v.hosts[best].name);
	else if (want)
		explain_host(want, r, &why, code, err, errlen);
	else
		explain_all(cl, r, &why, code, err, errlen);
	free(vms);
	free(v.hosts);
	free(skip);
	return best >= 0 ? 0 : -1;
}
