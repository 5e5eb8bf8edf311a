/* ha_cmd.c - the HA commands of the host agent: vm.ha (protect a VM or not) and
 * ha.status (protected VMs, what this host sees of the others, the plan if a host
 * died now). */
#include "ha.h"

#include "../../../lib/core/evloop.h"
#include "../../../lib/cluster/ha_plan.h"
#include "../../../lib/core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ha_watch; /* ha.c's */

/* The module's state, or NULL after replying that this host has no shared store. */
static struct ha_ctx *ha_cmd_ctx(struct hostd *h, struct hostd_req *req)
{
	if (!h->ha)
		hostd_reply_err(h, req, VMC_E_REFUSED,
		                "host %s has no shared store (--shared-store): HA is off here",
		                h->opts.name);
	return h->ha;
}

/* Sets or removes the tag "ha" of a VM defined here. */
static enum hostd_op_result op_vm_ha(struct hostd *h, struct hostd_req *req)
{
	const char *name;
	int enable = 1;
	char err[VMC_ERR_MAX * 2];
	if (msg_get_name(req->args, "args", "name", 1, &name, err, sizeof(err)) < 0 ||
	    msg_get_bool(req->args, "args", "enable", 0, &enable, err, sizeof(err)) < 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		return HOSTD_REPLIED;
	}
	char *cfg = vmstore_get(h->store, name);
	if (!cfg) {
		hostd_reply_err(h, req, VMC_E_NOT_FOUND, "vm %s is not defined on host %s", name,
		                h->opts.name);
		return HOSTD_REPLIED;
	}
	if (enable && ha_config_shared(h->opts.shared_store, cfg, name, err, sizeof(err)) < 0) {
		free(cfg);
		hostd_reply_err(h, req, VMC_E_REFUSED, "%s", err);
		return HOSTD_REPLIED;
	}
	cJSON *tags = vmstore_tags(h->store, name);
	int had = ha_tags_have(tags, "ha");
	if (enable && !had) {
		cJSON_AddItemToArray(tags, cJSON_CreateString("ha"));
	} else if (!enable && had) {
		for (int i = cJSON_GetArraySize(tags) - 1; i >= 0; i--) {
			const cJSON *t = cJSON_GetArrayItem(tags, i);
			if (cJSON_IsString(t) && strcmp(t->valuestring, "ha") == 0)
				cJSON_DeleteItemFromArray(tags, i);
		}
	}
	int rc = vmstore_put(h->store, name, cfg, tags, err, sizeof(err));
	cJSON_Delete(tags);
	free(cfg);
	if (rc == 0 && enable)
		rc = ha_restart_record(h->ha, name, err, sizeof(err));
	else if (rc == 0)
		hostd_ha_forget(h, name);
	if (rc < 0) {
		hostd_reply_err(h, req, VMC_E_FAILED, "vm %s: %s", name, err);
		return HOSTD_REPLIED;
	}
	log_info("ha: vm %s is %s", name, enable ? "protected" : "no longer protected");
	hostd_publish_load(h);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "host", h->opts.name);
	cJSON_AddBoolToObject(r, "ha", enable);
	hostd_reply_ok(h, req, r);
	return HOSTD_REPLIED;
}

static cJSON *ha_cmd_protected(struct ha_ctx *a)
{
	cJSON *arr = cJSON_CreateArray();
	struct ha_rec *recs;
	size_t nr;
	if (ha_rec_list(a->dir, &recs, &nr) < 0)
		return arr;
	for (size_t i = 0; i < nr; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vm", recs[i].vm);
		cJSON_AddStringToObject(o, "host", recs[i].host);
		cJSON_AddNumberToObject(o, "mem_mb", (double)recs[i].mem_mb);
		if (recs[i].from[0])
			cJSON_AddStringToObject(o, "restart_from", recs[i].from);
		cJSON_AddItemToArray(arr, o);
	}
	ha_rec_list_free(recs, nr);
	return arr;
}

static cJSON *ha_cmd_plan(struct ha_ctx *a, const char *host)
{
	size_t n;
	int unplaced;
	struct ha_plan_vm *v = hostd_ha_plan(a->h, host, &n, &unplaced);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "host", host);
	cJSON *rs = cJSON_AddArrayToObject(o, "restarts");
	cJSON *un = cJSON_AddArrayToObject(o, "unplaced");
	for (size_t i = 0; v && i < n; i++) {
		if (v[i].assigned)
			continue; /* a restart under way, not part of this plan */
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "vm", v[i].name);
		if (v[i].target[0]) {
			cJSON_AddStringToObject(e, "to", v[i].target);
			cJSON_AddItemToArray(rs, e);
		} else {
			cJSON_AddStringToObject(e, "why", v[i].why);
			cJSON_AddItemToArray(un, e);
		}
	}
	free(v);
	return o;
}

static enum hostd_op_result op_ha_status(struct hostd *h, struct hostd_req *req)
{
	const char *host = NULL;
	char err[VMC_ERR_MAX * 2];
	if (msg_get_name(req->args, "args", "host", 0, &host, err, sizeof(err)) < 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		return HOSTD_REPLIED;
	}
	struct ha_ctx *a = ha_cmd_ctx(h, req);
	if (!a)
		return HOSTD_REPLIED;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "host", h->opts.name);
	cJSON_AddStringToObject(r, "policy", a->policy_on ? "on" : "off");
	cJSON_AddStringToObject(r, "shared_store", a->dir);
	cJSON_AddBoolToObject(r, "fence_hook", h->opts.fence_hook != NULL);
	cJSON_AddNumberToObject(r, "timeout_s", h->opts.ha_timeout_s);
	cJSON_AddNumberToObject(r, "self_fence_after_s", h->opts.self_fence_after_s);
	cJSON_AddItemToObject(r, "protected", ha_cmd_protected(a));
	cJSON_AddItemToObject(r, "hosts", hostd_ha_hosts_json(h));
	if (host)
		cJSON_AddItemToObject(r, "plan", ha_cmd_plan(a, host));
	hostd_reply_ok(h, req, r);
	return HOSTD_REPLIED;
}

const struct hostd_op hostd_ha_ops[] = {
    {"vm.ha", op_vm_ha},
    {"ha.status", op_ha_status},
    {NULL, NULL},
};
