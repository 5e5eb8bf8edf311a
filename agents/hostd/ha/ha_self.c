/* ha_self.c - self-fencing (--self-fence-after), the watchdog model: a host that has lost
 * the broker and the direct check of every other host it knew alive for that long stops
 * its HA VMs itself.
 *
 * The other hosts cannot tell a host whose network failed from a dead one: both are
 * silent on the broker and refuse the direct check. They restart its VMs once their
 * fence hook says it is off; should the hook be wrong (or only wait, where no power
 * switch exists), a host that kept running would run each VM twice. Stopping them here
 * closes that window, at the cost of downtime when only the network failed. Non-HA VMs
 * are left running: nobody restarts them elsewhere. Only VMs running here are stopped;
 * their definitions and records stay, so the VMs start again where the records say
 * (here, if nobody restarted them elsewhere, by an operator's command). */
#include "ha.h"

#include "../../../lib/core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ha_self_job {
	struct ha_ctx *a;
	char vm[VMC_NAME_MAX + 1];
	int rc;
	char err[VMC_ERR_MAX * 2];
};

static void ha_self_run(void *ud)
{
	struct ha_self_job *j = ud;
	j->rc = hv_destroy(j->a->h->hv, j->vm, j->err, sizeof(j->err));
}

static void ha_self_done(struct hostd *h, void *ud)
{
	struct ha_self_job *j = ud;
	struct ha_ctx *a = j->a;
	if (j->rc == 0) {
		log_error("ha: self-fencing: vm %s stopped (no broker and no other host for %g s)",
		          j->vm, h->opts.self_fence_after_s);
		void *n = realloc(a->self_fenced, (a->nself_fenced + 1) * sizeof(*a->self_fenced));
		if (n) {
			a->self_fenced = n;
			snprintf(a->self_fenced[a->nself_fenced++], VMC_NAME_MAX + 1, "%s", j->vm);
		}
	} else {
		log_error("ha: self-fencing: vm %s could not be stopped: %s", j->vm, j->err);
	}
	free(j);
}

/* Stops every HA VM running here that no job holds. */
static void ha_self_stop(struct ha_ctx *a)
{
	struct hostd *h = a->h;
	char err[VMC_ERR_MAX * 2];
	struct hv_vm *vms = NULL;
	size_t n = 0;
	if (hv_list_vms(h->hv, &vms, &n, err, sizeof(err)) < 0) {
		log_error("ha: self-fencing: cannot list the VMs: %s", err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (vms[i].state == HV_VM_INCOMING || hostd_vm_busy(h, vms[i].name) ||
		    !vmstore_has_tag(h->store, vms[i].name, "ha"))
			continue;
		struct ha_self_job *j = calloc(1, sizeof(*j));
		if (!j)
			break;
		j->a = a;
		snprintf(j->vm, sizeof(j->vm), "%s", vms[i].name);
		if (hostd_vmjob_start(h, j->vm, "ha.self-fence", 0, ha_self_run, ha_self_done, j) <
		    0)
			free(j);
	}
	free(vms);
}

/* Once the broker is back: one event per VM stopped. */
static void ha_self_report(struct ha_ctx *a)
{
	for (size_t i = 0; i < a->nself_fenced; i++) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddNumberToObject(f, "after_s", a->h->opts.self_fence_after_s);
		cJSON_AddStringToObject(
		    f, "reason",
		    "this host lost the broker and every other host: it stopped the VM");
		hostd_event(a->h, "ha.self_fenced", a->self_fenced[i], f);
	}
	free(a->self_fenced);
	a->self_fenced = NULL;
	a->nself_fenced = 0;
}

void ha_self_tick(struct ha_ctx *a, int64_t now)
{
	struct hostd *h = a->h;
	if (h->opts.self_fence_after_s <= 0)
		return;
	if (bus_connected(h->bus) || !ha_peers_unreachable(a)) {
		if (a->isolated_since)
			log_info("ha: %s again: no self-fencing", bus_connected(h->bus)
			                                              ? "the broker answers"
			                                              : "another host answers");
		a->isolated_since = 0;
		if (bus_connected(h->bus) && a->nself_fenced)
			ha_self_report(a);
		return;
	}
	if (!a->isolated_since) {
		a->isolated_since = now;
		log_warnx(
		    "ha: no broker and no other host answers: this host's HA VMs stop in %g s "
		    "unless one comes back",
		    h->opts.self_fence_after_s);
	}
	if (now - a->isolated_since >= (int64_t)(h->opts.self_fence_after_s * 1000))
		ha_self_stop(a);
}
