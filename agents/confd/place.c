/* place.c - confd's placement of new VMs (see place.h): its cluster picture as the one
 * placement's view (lib/cluster/placement.h decides), the answer in confd's words and codes. */
#include "place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/cluster/cluster_model.h"
#include "../../lib/cluster/placement.h"
#include "../../lib/cluster/reserve.h"

int confd_place_tag_relevant(const char *tag)
{
	static const char *const prefixes[] = {PLACE_ANTI_PREFIX, PLACE_AFFINITY_PREFIX,
	                                       "anti-affinity:", "affinity:"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(tag, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* Sets a VM's groups from its tags joined by ',' (those placement reads). */
static void vm_groups(struct bal_vm *b, const char *joined)
{
	char buf[CM_TAGS_MAX];
	const char *tags[CM_TAGS_MAX / 2];
	size_t n = 0;
	char *save = NULL;
	snprintf(buf, sizeof buf, "%s", joined);
	for (char *t = strtok_r(buf, ",", &save); t && n < sizeof tags / sizeof tags[0];
	     t = strtok_r(NULL, ",", &save))
		if (confd_place_tag_relevant(t))
			tags[n++] = t;
	bal_vm_tags(b, tags, n);
}

/* A host is a candidate once its own state message says online and its load came (a
 * host known only by its loads never is). */
static enum bal_host_state host_state(const struct cm_host *h)
{
	int st = bal_host_state_parse(cm_host_state_name(h->state));
	return h->has_state && h->have_load && st >= 0 ? (enum bal_host_state)st : BAL_OFFLINE;
}

/* One VM into the placement's view. */
static void view_vm(struct bal_vm *x, const char *name, int vcpus, int64_t mem_mb, double cpu,
                    const char *tags, unsigned flags)
{
	snprintf(x->name, sizeof x->name, "%s", name);
	x->vcpus = vcpus;
	x->mem_mb = mem_mb;
	x->cpu = cpu;
	x->steal = -1;
	x->flags = flags;
	vm_groups(x, tags);
}

/* The cluster as the placement sees it: a host is online only once its state says so
 * and its load was seen; confd's reservations are promises (incoming VMs); confd reads no
 * rules file, so no memory is reserved beyond what each host reports used. Returns the
 * VMs of every host (free it and v->hosts), or NULL. */
static struct bal_vm *view_of(const struct cluster_model *m, const struct reservations *res,
                              struct bal_view *v)
{
	size_t nh = cluster_model_host_count(m), nvms = reserve_count(res);
	for (size_t i = 0; i < nh; i++)
		nvms += cluster_model_host_vm_count(cluster_model_host_at(m, i));
	struct bal_host *hs = calloc(nh ? nh : 1, sizeof *hs);
	struct bal_vm *vs = calloc(nvms ? nvms : 1, sizeof *vs);
	if (!hs || !vs) {
		free(hs);
		free(vs);
		return NULL;
	}
	size_t at = 0;
	for (size_t i = 0; i < nh; i++) {
		const struct cm_host *c = cluster_model_host_at(m, i);
		struct bal_host *b = &hs[i];
		snprintf(b->name, sizeof b->name, "%s", c->name);
		b->state = host_state(c);
		b->cpus = c->cpus;
		b->cpu = c->cpu;
		b->mem_total_mb = c->mem_total_mb;
		b->mem_free_mb =
		    c->mem_free_mb < c->mem_total_mb ? c->mem_free_mb : c->mem_total_mb;
		b->mem_reserve_mb = 0;
		b->vms = vs + at;
		for (size_t k = 0; k < cluster_model_host_vm_count(c); k++) {
			const struct cm_vm *cv = cluster_model_host_vm_at(c, k);
			view_vm(&vs[at++], cv->name, cv->vcpus, cv->mem_mb, cv->cpu, cv->tags, 0);
		}
		for (size_t k = 0; k < reserve_count(res); k++) {
			const struct reservation *x = reserve_at(res, k);
			if (strcmp(x->host, c->name) == 0)
				view_vm(&vs[at++], x->vm, x->vcpus, x->mem_mb, 0, x->tags,
				        BAL_VM_INCOMING);
		}
		b->nvms = (size_t)(vs + at - b->vms);
	}
	*v = (struct bal_view){hs, nh, 0};
	return vs;
}

/* Why the host asked for cannot take r, in confd's words. */
static void explain_host(const struct reservations *res, const struct cm_host *h,
                         const struct confd_place_req *r, const struct place_why *why,
                         enum vmc_err *code, char *err, size_t errlen)
{
	*code = VMC_E_REFUSED;
	switch (why->fail) {
	case PLACE_NO_MEMORY:
		*code = VMC_E_NO_MEMORY;
		snprintf(err, errlen, "host %s has %lld MiB free, vm %s needs %lld MiB", h->name,
		         (long long)reserve_room_mb(res, h), r->vm, (long long)r->mem_mb);
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
static void explain_all(const struct cluster_model *m, const struct confd_place_req *r,
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
		snprintf(err, errlen, "no host is online (known hosts: %zu)",
		         cluster_model_host_count(m));
	}
}

int confd_place_choose(const struct cluster_model *m, const struct reservations *res,
                       const struct confd_place_req *r, char *host, size_t hostlen,
                       enum vmc_err *code, char *err, size_t errlen)
{
	const struct cm_host *want = NULL;
	if (r->host) {
		want = cluster_model_host_find(m, r->host);
		*code = want ? VMC_E_REFUSED : VMC_E_NOT_FOUND;
		if (!want)
			snprintf(err, errlen, "host %s is unknown (no state or load seen)",
			         r->host);
		else if (!want->has_state || want->state != CM_HOST_ONLINE)
			snprintf(err, errlen, "host %s is %s", want->name,
			         want->has_state ? cm_host_state_name(want->state) : "unknown");
		else if (!want->have_load)
			snprintf(err, errlen, "host %s has not published its load yet", want->name);
		else
			*code = VMC_OK;
		if (*code != VMC_OK)
			return -1;
	}
	struct bal_view v = {0};
	size_t nh = cluster_model_host_count(m);
	char *skip = calloc(nh ? nh : 1, 1);
	struct bal_vm *vms = skip ? view_of(m, res, &v) : NULL;
	if (!vms) {
		free(skip);
		*code = VMC_E_INTERNAL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; want && i < nh; i++)
		skip[i] = cluster_model_host_at(m, i) != want;
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
		explain_host(res, want, r, &why, code, err, errlen);
	else
		explain_all(m, r, &why, code, err, errlen);
	free(vms);
	free(v.hosts);
	free(skip);
	return best >= 0 ? 0 : -1;
}
