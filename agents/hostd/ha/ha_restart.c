/* ha_restart.c - this host's side of HA: the shared records of the HA VMs it owns, and
 * the restarts the coordinator assigned to it.
 *
 * A restart is recorded before it is made: the coordinator rewrites the VM's record to
 * name this host (with "from": the dead host) before anything starts. This host then
 * defines the VM, creates it, and only then clears "from". Killed at any point, it finds
 * on restart either the VM running (it clears "from") or not (it creates it again), so
 * the VM runs once: no other host may start it, since the record names this one. */
#include "ha.h"

#include "../../../lib/core/log.h"
#include "../../../lib/config/xlcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ha_job {
	struct ha_ctx *a;
	char vm[VMC_NAME_MAX + 1];
	char from[VMC_NAME_MAX + 1];
	char *cfg;
	int rc;
	char err[VMC_ERR_MAX * 2];
};

static void ha_job_run(void *ud)
{
	struct ha_job *j = ud;
	j->rc = hv_create(j->a->h->hv, j->cfg, 0, j->err, sizeof(j->err));
}

/* Clears "from" in the record of vm if it still names this host. */
static void ha_rec_settle(struct ha_ctx *a, const char *vm)
{
	struct ha_rec r;
	char err[VMC_ERR_MAX * 2];
	if (ha_rec_get(a->dir, vm, &r, err, sizeof(err)) == 1 &&
	    strcmp(r.host, a->h->opts.name) == 0) {
		r.from[0] = '\0';
		if (ha_rec_put(a->dir, &r, err, sizeof(err)) < 0)
			log_warnx("ha: vm %s: %s", vm, err);
	}
	ha_rec_clear(&r);
}

static void ha_restarted(struct ha_ctx *a, const char *vm, const char *from)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "from", from);
	cJSON_AddStringToObject(f, "to", a->h->opts.name);
	hostd_event(a->h, "ha.restarted", vm, f);
	log_info("ha: vm %s of host %s runs here now", vm, from);
}

static void ha_job_done(struct hostd *h, void *ud)
{
	struct ha_job *j = ud;
	j->a->restarting--;
	ha_rec_settle(j->a, j->vm);
	if (j->rc == 0) {
		ha_restarted(j->a, j->vm, j->from);
		hostd_publish_load(h);
	} else {
		/* stays defined here, stopped: an operator may start it */
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "from", j->from);
		cJSON_AddStringToObject(f, "reason", j->err);
		hostd_event(h, "ha.failed", j->vm, f);
		log_warnx("ha: vm %s of host %s could not start here: %s", j->vm, j->from, j->err);
	}
	free(j->cfg);
	free(j);
}

/* Defines and creates a VM the coordinator assigned to this host. */
static void ha_start(struct ha_ctx *a, const struct ha_rec *r)
{
	char err[VMC_ERR_MAX * 2];
	struct ha_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->a = a;
	snprintf(j->vm, sizeof(j->vm), "%s", r->vm);
	snprintf(j->from, sizeof(j->from), "%s", r->from);
	j->cfg = ha_cfg_get(a->dir, r->vm);
	if (!j->cfg || vmstore_put(a->h->store, r->vm, j->cfg, r->tags, err, sizeof(err)) < 0) {
		snprintf(j->err, sizeof(j->err), "%s",
		         j->cfg ? err : "its config is missing from the shared store");
		j->rc = -1;
		a->restarting++;
		ha_job_done(a->h, j);
		return;
	}
	log_info("ha: starting vm %s of dead host %s", r->vm, r->from);
	a->restarting++;
	if (hostd_vmjob_start(a->h, r->vm, "ha.restart", r->mem_mb, ha_job_run, ha_job_done, j) <
	    0) {
		a->restarting--;
		free(j->cfg);
		free(j);
	}
}

int ha_restart_record(struct ha_ctx *a, const char *vm, char *err, size_t errlen)
{
	struct ha_rec r;
	memset(&r, 0, sizeof(r));
	char *cfg = vmstore_get(a->h->store, vm);
	if (!cfg) {
		snprintf(err, errlen, "vm %s is not defined on host %s", vm, a->h->opts.name);
		return -1;
	}
	struct xlcfg *x;
	long long mem = 0, vcpus = 1;
	if (xlcfg_parse(cfg, vm, &x, err, errlen) < 0) {
		free(cfg);
		return -1;
	}
	xlcfg_int(x, "memory", &mem);
	xlcfg_int(x, "vcpus", &vcpus);
	xlcfg_free(x);
	snprintf(r.vm, sizeof(r.vm), "%s", vm);
	snprintf(r.host, sizeof(r.host), "%s", a->h->opts.name);
	r.mem_mb = mem > 0 ? mem : 1;
	r.vcpus = vcpus > 0 ? (int)vcpus : 1;
	r.tags = vmstore_tags(a->h->store, vm);
	int rc = ha_cfg_put(a->dir, vm, cfg, err, errlen);
	if (rc == 0)
		rc = ha_rec_put(a->dir, &r, err, errlen);
	free(cfg);
	ha_rec_clear(&r);
	return rc;
}

/* 1 if the driver lists vm, with its state in *st. */
static int ha_local(const struct hv_vm *vms, size_t n, const char *vm, enum hv_vm_state *st)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(vms[i].name, vm) == 0) {
			*st = vms[i].state;
			return 1;
		}
	return 0;
}

/* One HA VM defined here: record it if it has no record, take it over after a
 * migration brought it here, drop the definition if another host owns it now. */
static void ha_reconcile(struct ha_ctx *a, const char *vm, const struct hv_vm *vms, size_t n)
{
	struct hostd *h = a->h;
	char err[VMC_ERR_MAX * 2];
	struct ha_rec r;
	enum hv_vm_state st = HV_VM_RUNNING;
	int here = ha_local(vms, n, vm, &st);
	int rc = ha_rec_get(a->dir, vm, &r, err, sizeof(err));
	if (rc < 0) {
		log_warnx("ha: %s", err);
		return;
	}
	int mine = rc == 1 && strcmp(r.host, h->opts.name) == 0;
	int migrating = here && (st == HV_VM_INCOMING || st == HV_VM_OUTGOING);
	if (mine || migrating) {
		/* nothing to do; a migration's destination takes the record once it runs */
	} else if (rc == 0 || (here && !r.from[0])) {
		if (rc == 1)
			log_info("ha: vm %s runs here now, not on %s: its record follows", vm,
			         r.host);
		if (ha_restart_record(a, vm, err, sizeof(err)) < 0)
			log_warnx("ha: vm %s: %s", vm, err);
	} else if (here) {
		log_error("ha: vm %s runs here but was restarted on %s: fencing failed to stop it",
		          vm, r.host);
	} else if (!h->migrations_in && !h->migrations_out) {
		log_info("ha: vm %s belongs to host %s now: its definition here is dropped", vm,
		         r.host);
		vmstore_remove(h->store, vm);
		hostd_publish_vm_gone(h, vm);
	}
	ha_rec_clear(&r);
}

void ha_restart_tick(struct ha_ctx *a, int cap)
{
	struct hostd *h = a->h;
	char err[VMC_ERR_MAX * 2];
	struct hv_vm *vms = NULL;
	size_t n = 0;
	if (hv_list_vms(h->hv, &vms, &n, err, sizeof(err)) < 0)
		return;
	/* restarts assigned here, first: a definition they make is then not "stale" */
	struct ha_rec *recs;
	size_t nr;
	if (ha_rec_list(a->dir, &recs, &nr) == 0) {
		for (size_t i = 0; i < nr; i++) {
			enum hv_vm_state st;
			if (!recs[i].from[0] || strcmp(recs[i].host, h->opts.name) != 0 ||
			    hostd_vm_busy(h, recs[i].vm))
				continue;
			if (ha_local(vms, n, recs[i].vm, &st)) {
				ha_rec_settle(a, recs[i].vm); /* killed after the create */
				ha_restarted(a, recs[i].vm, recs[i].from);
			} else if (a->restarting < cap) {
				ha_start(a, &recs[i]);
			}
		}
		ha_rec_list_free(recs, nr);
	}
	char **names;
	size_t nn;
	if (vmstore_list(h->store, &names, &nn) == 0) {
		for (size_t i = 0; i < nn; i++) {
			cJSON *tags = vmstore_tags(h->store, names[i]);
			if (ha_tags_have(tags, "ha") && !hostd_vm_busy(h, names[i]))
				ha_reconcile(a, names[i], vms, n);
			cJSON_Delete(tags);
		}
		vmstore_names_free(names, nn);
	}
	free(vms);
}

/* The path of a disk spec: "target=PATH" or the first field holding a '/'. */
static void ha_disk_path(const char *spec, char *out, size_t len)
{
	out[0] = '\0';
	const char *t = strstr(spec, "target=");
	if (t) {
		snprintf(out, len, "%s", t + 7);
		return;
	}
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save, *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(f, ':');
		char *p = colon && strchr(colon, '/') ? colon + 1 : f;
		if (p[0] == '/') {
			snprintf(out, len, "%s", p);
			return;
		}
	}
}

int ha_config_shared(const char *dir, const char *xlcfg, const char *vm, char *err, size_t errlen)
{
	if (!dir) {
		snprintf(err, errlen,
		         "vm %s: ha needs its definition on shared storage, and this host has no "
		         "--shared-store",
		         vm);
		return -1;
	}
	struct xlcfg *x;
	if (xlcfg_parse(xlcfg, vm, &x, err, errlen) < 0)
		return -1;
	const struct xlcfg_item *d = xlcfg_get(x, "disk");
	size_t dl = strlen(dir);
	int rc = 0;
	for (size_t i = 0; d && d->type == XLCFG_LIST && i < d->nlist && rc == 0; i++) {
		char path[1024];
		ha_disk_path(d->list[i], path, sizeof(path));
		if (strncmp(path, dir, dl) != 0 || path[dl] != '/') {
			snprintf(
			    err, errlen,
			    "vm %s: disk \"%s\" is not on the shared store %s: another host could "
			    "not start it",
			    vm, d->list[i], dir);
			rc = -1;
		}
	}
	xlcfg_free(x);
	return rc;
}
