/* ops_delete.c - vm.delete {name, confirm:true}: the owning host destroys the VM and
 * forgets its definition, then confd removes its disk and config from the store.
 * If the host fails or does not answer, the disk and config stay (the VM may run). */
#include "confd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/reply.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/cluster/reserve.h"
#include "../../lib/core/log.h"
#include "cfgstore.h"
#include "imagestore.h"

struct delete_op {
	struct confd *cd;
	struct confd_req *req;
	char name[VMC_NAME_MAX + 1];
	char host[VMC_NAME_MAX + 1]; /* "" if on no host */
	int destroyed, undefined;
};

static void delete_end(struct delete_op *op)
{
	confd_busy_drop(op->cd, op->name);
	confd_req_free(op->req);
	free(op);
}

static void delete_fail(struct delete_op *op, enum vmc_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void delete_fail(struct delete_op *op, enum vmc_err code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	confd_reply_err(op->cd, op->req, code, "vm %s: %s; its disk and config were kept", op->name,
	                msg);
	delete_end(op);
}

/* Removes the disk and config, replies. */
static void delete_files(struct delete_op *op)
{
	struct confd *cd = op->cd;
	char disk[VMC_NAME_MAX + 8], err[VMC_ERR_MAX * 2];
	snprintf(disk, sizeof disk, "%s.img", op->name);
	int had_disk = imgstore_exists(cd->store, IMGSTORE_DISKS, disk);
	int cfd = imgstore_dirfd(cd->store, IMGSTORE_CONFIGS);
	int had_cfg = cfgstore_exists(cfd, op->name);
	if (!op->host[0] && !had_disk && !had_cfg) {
		confd_reply_err(cd, op->req, VMC_E_NOT_FOUND,
		                "vm %s is on no host and has no disk or config in the store",
		                op->name);
		delete_end(op);
		return;
	}
	if (imgstore_remove(cd->store, IMGSTORE_DISKS, disk, err, sizeof err) < 0 ||
	    cfgstore_remove(cfd, op->name, err, sizeof err) < 0) {
		confd_reply_err(cd, op->req, VMC_E_FAILED, "vm %s: %s", op->name, err);
		delete_end(op);
		return;
	}
	reserve_release(cd->res, op->name);
	log_info("vm %s deleted%s%s", op->name, op->host[0] ? " from host " : "", op->host);
	cJSON *f = cJSON_CreateObject();
	if (op->host[0])
		cJSON_AddStringToObject(f, "host", op->host);
	confd_event(cd, "vm.deleted", op->name, f);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", op->name);
	if (op->host[0])
		cJSON_AddStringToObject(r, "host", op->host);
	cJSON_AddBoolToObject(r, "destroyed", op->destroyed);
	cJSON_AddBoolToObject(r, "disk_removed", had_disk);
	cJSON_AddBoolToObject(r, "config_removed", had_cfg);
	confd_reply_ok(cd, op->req, r);
	delete_end(op);
}

/* 1 if reply is ok or one of the codes that mean "already done". */
static int done_or(const cJSON *reply, enum vmc_err a, enum vmc_err b, int *ok, const char **msg)
{
	struct reply_outcome o;
	*ok = reply_read(reply, &o) == REPLY_OK;
	*msg = o.message ? o.message : "no message";
	return *ok || o.code == a || o.code == b;
}

static void delete_removed(struct confd *cd, const cJSON *reply, void *ud)
{
	struct delete_op *op = ud;
	const char *msg;
	int ok;
	if (!reply) {
		delete_fail(op, VMC_E_TIMEOUT, "host %s did not answer vm.remove", op->host);
		return;
	}
	if (!done_or(reply, VMC_E_NOT_FOUND, VMC_E_NOT_FOUND, &ok, &msg)) {
		delete_fail(op, VMC_E_FAILED, "host %s could not remove it: %s", op->host, msg);
		return;
	}
	op->undefined = ok;
	delete_files(op);
}

static void delete_destroyed(struct confd *cd, const cJSON *reply, void *ud)
{
	struct delete_op *op = ud;
	const char *msg;
	int ok;
	if (!reply) {
		delete_fail(op, VMC_E_TIMEOUT, "host %s did not answer vm.destroy", op->host);
		return;
	}
	/* bad_state: already stopped; not_found: not running there */
	if (!done_or(reply, VMC_E_BAD_STATE, VMC_E_NOT_FOUND, &ok, &msg)) {
		delete_fail(op, VMC_E_FAILED, "host %s could not destroy it: %s", op->host, msg);
		return;
	}
	op->destroyed = ok;
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "name", op->name);
	if (confd_host_call(cd, op->host, "vm.remove", a, delete_removed, op) < 0)
		delete_fail(op, VMC_E_FAILED,
		            "cannot send vm.remove to host %s: not connected to the broker",
		            op->host);
}

static enum confd_op_result op_delete(struct confd *cd, struct confd_req *req)
{
	char err[1024];
	const char *name;
	int confirm = 0;
	int r = msg_get_str(req->args, "args", "name", 1, 4096, &name, err, sizeof err);
	if (r != 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return CONFD_REPLIED;
	}
	if (vmc_name_check(name, "args.name", err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_NAME, "%s", err);
		return CONFD_REPLIED;
	}
	if (msg_get_bool(req->args, "args", "confirm", 0, &confirm, err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return CONFD_REPLIED;
	}
	if (!confirm) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST,
		                "args.confirm: must be true to delete vm %s with its disk", name);
		return CONFD_REPLIED;
	}
	if (confd_busy_take(cd, name) < 0) {
		confd_reply_err(cd, req, VMC_E_BUSY, "vm %s is being created or deleted already",
		                name);
		return CONFD_REPLIED;
	}
	struct delete_op *op = calloc(1, sizeof *op);
	if (!op) {
		confd_busy_drop(cd, name);
		confd_reply_err(cd, req, VMC_E_INTERNAL, "out of memory");
		return CONFD_REPLIED;
	}
	op->cd = cd;
	op->req = req;
	snprintf(op->name, sizeof op->name, "%s", name);
	const char *on = reserve_vm_host(cd->res, cd->cl, name);
	if (!on) {
		delete_files(op);
		return CONFD_PENDING;
	}
	snprintf(op->host, sizeof op->host, "%s", on);
	const struct cm_host *h = cluster_model_host_find(cd->cl, on);
	if (h && h->state == CM_HOST_OFFLINE) {
		delete_fail(op, VMC_E_REFUSED,
		            "its host %s is offline: it cannot be destroyed there now", op->host);
		return CONFD_PENDING;
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "name", name);
	if (confd_host_call(cd, op->host, "vm.destroy", a, delete_destroyed, op) < 0)
		delete_fail(op, VMC_E_FAILED,
		            "cannot send vm.destroy to host %s: not connected to the broker",
		            op->host);
	return CONFD_PENDING;
}

const struct confd_op confd_delete_ops[] = {
    {"vm.delete", op_delete},
    {NULL, NULL},
};
