/* ops_misc.c - template.list and image.fetch. */
#include "confd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imagestore.h"
#include "../../lib/core/workpool.h"
#include "templates.h"

static enum confd_op_result op_template_list(struct confd *cd, struct confd_req *req)
{
	cJSON *list, *errors;
	char err[1024];
	if (templates_list(cd->opts.templates, &list, &errors, err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_FAILED, "%s", err);
		return CONFD_REPLIED;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "templates", list);
	cJSON_AddItemToObject(r, "errors", errors);
	confd_reply_ok(cd, req, r);
	return CONFD_REPLIED;
}

struct fetch_op {
	struct confd *cd;
	struct confd_req *req;
	const char *url;  /* borrowed from req->args */
	const char *name; /* borrowed, or NULL */
	char sha256[IMGSTORE_SHA256_HEX + 1];
	char image[IMGSTORE_NAME_MAX + 1];
	struct imgstore_fetch_result res;
	struct images_progress prog;
	int ok;
	char err[2048];
};

static void fetch_run(void *ud, const volatile int *cancel)
{
	struct fetch_op *op = ud;
	op->ok = images_prepare(op->cd, op->url, op->sha256, op->name, cancel, &op->prog, op->image,
	                        sizeof op->image, &op->res, op->err, sizeof op->err) == 0;
}

static void fetch_done(void *ud, int ran)
{
	struct fetch_op *op = ud;
	struct confd *cd = op->cd;
	if (!ran || !op->ok) {
		confd_reply_err(cd, op->req, ran ? VMC_E_FAILED : VMC_E_INTERNAL, "%s",
		                ran ? op->err : "vmc-confd is stopping");
	} else {
		char path[4096], e[VMC_ERR_MAX];
		images_fetched_event(cd, op->image, op->url, op->sha256, &op->res);
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "image", op->image);
		if (imgstore_path(cd->store, IMGSTORE_IMAGES, op->image, path, sizeof path, e,
		                  sizeof e) == 0)
			cJSON_AddStringToObject(r, "path", path);
		cJSON_AddStringToObject(r, "sha256", op->sha256);
		cJSON_AddNumberToObject(r, "bytes", (double)op->res.bytes);
		cJSON_AddBoolToObject(r, "reused", op->res.reused);
		cJSON_AddBoolToObject(r, "resumed", op->res.resumed);
		if (op->res.resumed)
			cJSON_AddNumberToObject(r, "resumed_from", (double)op->res.resumed_from);
		cJSON_AddNumberToObject(r, "attempts", op->res.attempts);
		confd_reply_ok(cd, op->req, r);
	}
	confd_req_free(op->req);
	free(op);
}

static enum confd_op_result op_image_fetch(struct confd *cd, struct confd_req *req)
{
	char err[1024], tmp[IMGSTORE_NAME_MAX + 1];
	const char *url, *sha, *name = NULL;
	if (msg_get_str(req->args, "args", "url", 1, 2048, &url, err, sizeof err) != 0 ||
	    msg_get_str(req->args, "args", "sha256", 1, 128, &sha, err, sizeof err) != 0 ||
	    msg_get_str(req->args, "args", "name", 0, 4096, &name, err, sizeof err) < 0) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST, "%s", err);
		return CONFD_REPLIED;
	}
	if (!images_is_url(url)) {
		confd_reply_err(cd, req, VMC_E_BAD_REQUEST,
		                "args.url: expected an http:// or https:// URL");
		return CONFD_REPLIED;
	}
	struct fetch_op *op = calloc(1, sizeof *op);
	if (!op) {
		confd_reply_err(cd, req, VMC_E_INTERNAL, "out of memory");
		return CONFD_REPLIED;
	}
	if (imgstore_sha256_parse(sha, op->sha256, err, sizeof err) < 0 ||
	    (name && imgstore_name_check(name, "args.name", err, sizeof err) < 0) ||
	    (!name && imgstore_name_from_url(url, tmp, sizeof tmp, err, sizeof err) < 0)) {
		confd_reply_err(cd, req,
		                strncmp(err, "sha256", 6) == 0 ? VMC_E_BAD_REQUEST : VMC_E_BAD_NAME,
		                "%s%s", strncmp(err, "sha256", 6) == 0 ? "args." : "", err);
		free(op);
		return CONFD_REPLIED;
	}
	op->cd = cd;
	op->req = req;
	op->url = url;
	op->name = name;
	if (workpool_submit(cd->jobs, fetch_run, fetch_done, op) < 0) {
		confd_reply_err(cd, req, VMC_E_INTERNAL, "cannot start a worker thread");
		free(op);
		return CONFD_REPLIED;
	}
	return CONFD_PENDING;
}

const struct confd_op confd_misc_ops[] = {
    {"template.list", op_template_list},
    {"image.fetch", op_image_fetch},
    {NULL, NULL},
};
