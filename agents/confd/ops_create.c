/* ops_create.c - vm.create: a VM from a template, placed on a host and started.
 *
 *   1. validate the request and the template, place the VM (reserving its memory);
 *   2. on a worker thread: fetch or find the base image and verify it, clone the disk,
 *      write the xl.cfg;
 *   3. send vm.create with the xl.cfg text to the chosen host and wait for its reply
 *      (with a timeout) without blocking the loop;
 *   4. reply. Whatever fails, the disk and config made for it are removed. */
#include "confd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/reply.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/cluster/reserve.h"
#include "../../lib/core/log.h"
#include "cfgstore.h"
#include "imagestore.h"
#include "../../lib/core/workpool.h"
#include "place.h"
#include "templates.h"

#define CREATE_TAGS_MAX 32
#define RESERVE_MS (30LL * 60 * 1000) /* covers a long download; released when done */

struct create_op {
	struct confd *cd;
	struct confd_req *req;
	char name[VMC_NAME_MAX + 1];
	char host[VMC_NAME_MAX + 1];
	const char *want_host; /* args.host, borrowed from req->args; NULL to choose */
	struct template *t;
	const char *tags[CREATE_TAGS_MAX];
	size_t ntags;
	double load; /* sim load in CPUs; < 0: none */
	/* the job's results */
	int ok;
	enum vmc_err code;
	char err[2048];
	char image[IMGSTORE_NAME_MAX + 1];
	struct imgstore_fetch_result fetch;
	enum imgstore_clone_method method;
	char *config;
	char disk_path[PATH_MAX], config_path[PATH_MAX];
	struct images_progress prog;
};

static void create_free(struct create_op *op)
{
	template_free(op->t);
	free(op->config);
	confd_req_free(op->req);
	free(op);
}

/* Removes what this create made in the store. */
static void remove_made(struct confd *cd, const char *vm)
{
	char disk[VMC_NAME_MAX + 8], err[VMC_ERR_MAX];
	snprintf(disk, sizeof disk, "%s.img", vm);
	if (imgstore_remove(cd->store, IMGSTORE_DISKS, disk, err, sizeof err) < 0)
		log_warnx("%s", err);
	if (cfgstore_remove(imgstore_dirfd(cd->store, IMGSTORE_CONFIGS), vm, err, sizeof err) < 0)
		log_warnx("%s", err);
}

/* Ends the op: releases the name and the reservation, replies with an error. */
static void create_fail(struct create_op *op, enum vmc_err code, const char *msg, int made)
{
	struct confd *cd = op->cd;
	if (made)
		remove_made(cd, op->name);
	reserve_release(cd->res, op->name);
	confd_busy_drop(cd, op->name);
	confd_reply_err(cd, op->req, code, "vm %s: %s%s", op->name, msg,
	                made ? "; its disk and config were removed" : "");
	create_free(op);
}

/* --- worker thread -------------------------------------------------------- */

static void create_run(void *ud, const volatile int *cancel)
{
	struct create_op *op = ud;
	struct confd *cd = op->cd;
	char disk[VMC_NAME_MAX + 8];
	op->code = VMC_E_FAILED;
	if (images_prepare(cd, op->t->image, op->t->sha256, NULL, cancel, &op->prog, op->image,
	                   sizeof op->image, &op->fetch, op->err, sizeof op->err) < 0)
		return;
	snprintf(disk, sizeof disk, "%s.img", op->name);
	if (imgstore_clone(cd->store, op->image, disk, (uint64_t)op->t->disk_size_mb << 20,
	                   &op->method, op->err, sizeof op->err) < 0)
		return;
	if (imgstore_path(cd->store, IMGSTORE_DISKS, disk, op->disk_path, sizeof op->disk_path,
	                  op->err, sizeof op->err) < 0)
		goto fail;
	char cfg[VMC_NAME_MAX + 8];
	snprintf(cfg, sizeof cfg, "%s%s", op->name, CFGSTORE_EXT);
	imgstore_path(cd->store, IMGSTORE_CONFIGS, cfg, op->config_path, sizeof op->config_path,
	              op->err, sizeof op->err);
	op->config = cfgstore_build(op->t, op->name, op->disk_path, op->err, sizeof op->err);
	if (!op->config)
		goto fail;
	if (cfgstore_write(imgstore_dirfd(cd->store, IMGSTORE_CONFIGS), op->name, op->config, 0,
	                   op->err, sizeof op->err) < 0)
		goto fail;
	op->ok = 1;
	return;
fail:
	imgstore_remove(cd->store, IMGSTORE_DISKS, disk, NULL, 0);
}

/* --- loop thread ---------------------------------------------------------- */

static cJSON *create_result(struct create_op *op, const cJSON *host_result)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", op->name);
	cJSON_AddStringToObject(r, "host", op->host);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(host_result, "state");
	cJSON_AddStringToObject(r, "state", cJSON_IsString(st) ? st->valuestring : "running");
	cJSON_AddStringToObject(r, "template", op->t->name);
	cJSON_AddStringToObject(r, "image", op->image);
	cJSON_AddBoolToObject(r, "image_reused", op->fetch.reused);
	if (op->fetch.resumed)
		cJSON_AddNumberToObject(r, "image_resumed_from", (double)op->fetch.resumed_from);
	cJSON_AddStringToObject(r, "disk", op->disk_path);
	cJSON_AddStringToObject(r, "clone", imgstore_clone_method_name(op->method));
	cJSON_AddStringToObject(r, "config", op->config_path);
	cJSON_AddNumberToObject(r, "memory_mb", (double)op->t->memory_mb);
	cJSON_AddNumberToObject(r, "vcpus", (double)op->t->vcpus);
	return r;
}

static void create_replied(struct confd *cd, const cJSON *reply, void *ud)
{
	struct create_op *op = ud;
	char msg[1024];
	if (!reply) {
		/* It may yet start there: make sure it does not, then clean up. */
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "name", op->name);
		confd_host_call(cd, op->host, "vm.destroy", cJSON_Duplicate(a, 1), NULL, NULL);
		confd_host_call(cd, op->host, "vm.remove", a, NULL, NULL);
		snprintf(msg, sizeof msg,
		         "host %s did not answer vm.create within %g s (asked it to destroy and "
		         "remove the VM in case it started)",
		         op->host, cd->opts.host_timeout_s);
		create_fail(op, VMC_E_TIMEOUT, msg, 1);
		return;
	}
	struct reply_outcome o;
	if (reply_read(reply, &o) != REPLY_OK) {
		snprintf(msg, sizeof msg, "host %s refused it: %s", op->host,
		         o.message ? o.message : "no message");
		create_fail(op, o.code, msg, 1);
		return;
	}
	log_info("vm %s created on host %s from template %s", op->name, op->host, op->t->name);
	confd_busy_drop(cd, op->name);
	/* the reservation stays until the host's load lists the VM */
	confd_reply_ok(cd, op->req, create_result(op, o.result));
	create_free(op);
}

static int place(struct create_op *op, char *err, size_t errlen, enum vmc_err *code)
{
	struct confd *cd = op->cd;
	struct confd_place_req pr = {
	    .vm = op->name,
	    .mem_mb = op->t->memory_mb,
	    .vcpus = (int)op->t->vcpus,
	    .tags = op->tags,
	    .ntags = op->ntags,
	    .host = op->want_host,
	};
	reserve_expire(cd->res, confd_now());
	if (confd_place_choose(cd->cl, cd->res, &pr, op->host, sizeof op->host, code, err,
	                       errlen) < 0)
		return -1;
	reserve_add(cd->res, cd->cl, op->host, op->name, op->t->memory_mb, (int)op->t->vcpus,
	            op->tags, op->ntags, confd_now() + RESERVE_MS);
	return 0;
}

static void create_done(void *ud, int ran)
{
	struct create_op *op = ud;
	struct confd *cd = op->cd;
	char err[1024];
	enum vmc_err code;
	if (!ran || !op->ok) {
		create_fail(op, ran ? op->code : VMC_E_INTERNAL,
		            ran ? op->err
		                : "vmc-confd is "
		                  "stopping",
		            0);
		return;
	}
	if (op->fetch.attempts > 0)
		images_fetched_event(cd, op->image, op->t->image, op->t->sha256, &op->fetch);
	/* The chosen host may have gone while the disk was made: choose again. */
	const struct cm_host *h = cluster_model_host_find(cd->cl, op->host);
	if (!h || h->state != CM_HOST_ONLINE) {
		reserve_release(cd->res, op->name);
		if (place(op, err, sizeof err, &code) < 0) {
			create_fail(op, code, err, 1);
			return;
		}
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "name", op->name);
	cJSON_AddStringToObject(a, "config", op->config);
	if (op->ntags) {
		cJSON *tags = cJSON_AddArrayToObject(a, "tags");
		for (size_t i = 0; i < op->ntags; i++)
			cJSON_AddItemToArray(tags, cJSON_CreateString(op->tags[i]));
	}
	if (op->load >= 0)
		cJSON_AddNumberToObject(a, "load", op->load);
	if (confd_host_call(cd, op->host, "vm.create", a, create_replied, op) < 0)
		create_fail(op, VMC_E_FAILED, "cannot send vm.create: not connected to the broker",
		            1);
}

/* Reads args into op. Returns 0, or -1 after replying. */
static int create_args(struct confd *cd, struct create_op *op)
{
	struct confd_req *req = op->req;
	const cJSON *a = req->args;
	char err[2048];
	const char *s;
	const cJSON *tags = NULL, *ov = NULL;
	double load;
	int r = msg_get_str(a, "args", "name", 1, 4096, &s, err, sizeof err);
	if (r != 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return -1;
	}
	if (vmc_name_check(s, "args.name", err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_NAME, "%s", err);
		return -1;
	}
	snprintf(op->name, sizeof op->name, "%s", s);
	if (msg_get_str(a, "args", "template", 1, 4096, &s, err, sizeof err) != 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return -1;
	}
	if (vmc_name_check(s, "args.template", err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_NAME, "%s", err);
		return -1;
	}
	if (template_load(cd->opts.templates, s, &op->t, err, sizeof err) < 0) {
		confd_reply_err(cd, req,
		                strncmp(err, "unknown template", 16) == 0 ? VMC_E_NOT_FOUND
		                                                          : VMC_E_FAILED,
		                "%s", err);
		return -1;
	}
	r = msg_get_obj(a, "args", "overrides", 0, &ov, err, sizeof err);
	if (r < 0 || template_apply_overrides(op->t, r == 0 ? ov : NULL, err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return -1;
	}
	r = msg_get_str(a, "args", "host", 0, 4096, &s, err, sizeof err);
	if (r < 0 || (r == 0 && vmc_name_check(s, "args.host", err, sizeof err) < 0)) {
		confd_reply_err(cd, req, r < 0 ? VMC_E_BAD_REQUEST : VMC_E_BAD_NAME, "%s", err);
		return -1;
	}
	op->want_host = r == 0 ? s : NULL;
	op->load = -1;
	r = msg_get_num(a, "args", "load", 0, 0, 4096, &load, err, sizeof err);
	if (r < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return -1;
	}
	if (r == 0)
		op->load = load;
	if (msg_get_array(a, "args", "tags", 0, &tags, err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return -1;
	}
	const cJSON *t;
	if (tags)
		cJSON_ArrayForEach(t, tags)
		{
			char what[32];
			snprintf(what, sizeof what, "args.tags[%zu]", op->ntags);
			if (op->ntags == CREATE_TAGS_MAX) {
				confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "args.tags: at most %d",
				                CREATE_TAGS_MAX);
				return -1;
			}
			if (!cJSON_IsString(t)) {
				confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s: expected a string",
				                what);
				return -1;
			}
			if (vmc_name_check(t->valuestring, what, err, sizeof err) < 0) {
				confd_reply_err(cd, req, VMC_E_BAD_NAME, "%s", err);
				return -1;
			}
			op->tags[op->ntags++] = t->valuestring;
		}
	return 0;
}

static enum confd_op_result op_create(struct confd *cd, struct confd_req *req)
{
	char err[1024], disk[VMC_NAME_MAX + 8];
	enum vmc_err code;
	struct create_op *op = calloc(1, sizeof *op);
	if (!op) {
		confd_reply_err(cd, req, VMC_E_INTERNAL, "out of memory");
		return CONFD_REPLIED;
	}
	op->cd = cd;
	op->req = req;
	if (create_args(cd, op) < 0) {
		op->req = NULL;
		create_free(op);
		return CONFD_REPLIED;
	}
	const char *owner = reserve_vm_host(cd->res, cd->cl, op->name);
	snprintf(disk, sizeof disk, "%s.img", op->name);
	if (owner || imgstore_exists(cd->store, IMGSTORE_DISKS, disk) ||
	    cfgstore_exists(imgstore_dirfd(cd->store, IMGSTORE_CONFIGS), op->name)) {
		if (owner)
			snprintf(err, sizeof err, "vm %s already exists on host %s", op->name,
			         owner);
		else
			snprintf(err, sizeof err,
			         "vm %s already has a disk or config in the store (disks/%s, "
			         "configs/%s%s); vm.delete removes them",
			         op->name, disk, op->name, CFGSTORE_EXT);
		confd_reply_err(cd, req, VMC_E_EXISTS, "%s", err);
		op->req = NULL;
		create_free(op);
		return CONFD_REPLIED;
	}
	if (confd_busy_take(cd, op->name) < 0) {
		confd_reply_err(cd, req, VMC_E_BUSY, "vm %s is being created or deleted already",
		                op->name);
		op->req = NULL;
		create_free(op);
		return CONFD_REPLIED;
	}
	if (place(op, err, sizeof err, &code) < 0) {
		create_fail(op, code, err, 0);
		return CONFD_PENDING; /* create_fail replied and freed req */
	}
	log_info("vm %s: template %s, host %s; preparing image %s", op->name, op->t->name, op->host,
	         op->t->image);
	if (workpool_submit(cd->jobs, create_run, create_done, op) < 0)
		create_fail(op, VMC_E_INTERNAL, "cannot start a worker thread", 0);
	return CONFD_PENDING;
}

const struct confd_op confd_create_ops[] = {
    {"vm.create", op_create},
    {NULL, NULL},
};
