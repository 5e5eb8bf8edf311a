/* commands.c - receives commands on cmd/confd, answers each exactly once.
 *
 * A command is parsed, looked up in the id cache (a repeated id gets the
 * first reply again, a command still running is not started twice), then
 * handed to its op's handler from the op tables. */
#include "confd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/idcache.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/topic.h"

/* The op of that name in the context's op tables (main.c lists them). */
static const struct confd_op *find_op(const struct confd *cd, const char *op)
{
	for (const struct confd_op *const *t = cd->op_tables; t && *t; t++)
		for (const struct confd_op *o = *t; o->op; o++)
			if (strcmp(o->op, op) == 0)
				return o;
	return NULL;
}

void confd_req_free(struct confd_req *req)
{
	if (!req)
		return;
	cmd_route_free(&req->route);
	cJSON_Delete(req->args);
	free(req);
}

static void send_reply(struct confd *cd, struct confd_req *req, cJSON *reply)
{
	/* Nowhere to answer (a plain mosquitto_pub): an error is still told to everyone. */
	if (cmd_reply_send(cd->bus, cd->ids, req->id, &req->route, req->reply_to, reply) < 0 &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "id", req->id);
		cJSON_AddItemToObject(f, "reply", cJSON_Duplicate(reply, 1));
		confd_event(cd, "command.rejected", NULL, f);
	}
	cJSON_Delete(reply);
}

void confd_reply_ok(struct confd *cd, struct confd_req *req, cJSON *result)
{
	send_reply(cd, req, reply_ok(cd->sender, confd_now(), req->id, result));
}

void confd_reply_err(struct confd *cd, struct confd_req *req, enum vmc_err code, const char *fmt,
                     ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_info("%s %s failed: %s", req->op[0] ? req->op : "command", req->id, msg);
	send_reply(cd, req, reply_err(cd->sender, confd_now(), req->id, code, msg));
}

void confd_event(struct confd *cd, const char *type, const char *vm, cJSON *fields)
{
	char t[VMC_TOPIC_MAX];
	cJSON *m = msg_new(cd->sender, confd_now());
	cJSON_AddStringToObject(m, "type", type);
	if (vm)
		cJSON_AddStringToObject(m, "vm", vm);
	if (fields) {
		while (fields->child) {
			cJSON *it = cJSON_DetachItemViaPointer(fields, fields->child);
			cJSON_AddItemToObject(m, it->string, it);
		}
		cJSON_Delete(fields);
	}
	if (topic_fmt(t, sizeof t, cd->opts.cluster, "event/%s", cd->sender) == 0)
		bus_publish_json(cd->bus, t, m, 0, 0);
	cJSON_Delete(m);
}

void confd_command(struct confd *cd, const struct bus_msg *m)
{
	struct confd_req *req = calloc(1, sizeof *req);
	if (!req)
		return;
	cmd_route_copy(&req->route, m);
	struct vmc_cmd cmd;
	char err[VMC_ERR_MAX * 2];
	enum vmc_err rc = cmd_parse(m->payload, m->len, &cmd, err, sizeof err);
	snprintf(req->id, sizeof req->id, "%s", cmd.id);
	snprintf(req->reply_to, sizeof req->reply_to, "%s", cmd.reply_to);
	snprintf(req->op, sizeof req->op, "%s", cmd.op);
	if (rc != VMC_OK) {
		cmd_free(&cmd);
		confd_reply_err(cd, req, rc, "%s", err);
		confd_req_free(req);
		return;
	}
	/* a repeat gets the same answer again, or its one reply when it finishes */
	if (cmd_repeat(cd->bus, cd->ids, cmd.id, &req->route, req->reply_to) != IDCACHE_NEW) {
		cmd_free(&cmd);
		confd_req_free(req);
		return;
	}
	req->args = cJSON_Duplicate(cmd.args, 1);
	cmd_free(&cmd);
	const struct confd_op *op = find_op(cd, req->op);
	if (!op) {
		confd_reply_err(
		    cd, req, VMC_E_UNKNOWN_OP,
		    "op \"%s\": unknown operation (vmc-confd knows vm.create, vm.delete, "
		    "template.list and image.fetch)",
		    req->op);
		confd_req_free(req);
		return;
	}
	log_debug("command %s: %s", req->id, req->op);
	if (op->fn(cd, req) == CONFD_REPLIED)
		confd_req_free(req);
}

/* --- busy names ------------------------------------------------------------ */

int confd_busy_take(struct confd *cd, const char *vm)
{
	for (size_t i = 0; i < cd->nbusy; i++)
		if (strcmp(cd->busy[i], vm) == 0)
			return -1;
	char(*nb)[VMC_NAME_MAX + 1] = realloc(cd->busy, (cd->nbusy + 1) * sizeof *nb);
	if (!nb)
		return -1;
	cd->busy = nb;
	snprintf(cd->busy[cd->nbusy++], VMC_NAME_MAX + 1, "%s", vm);
	return 0;
}

void confd_busy_drop(struct confd *cd, const char *vm)
{
	for (size_t i = 0; i < cd->nbusy; i++)
		if (strcmp(cd->busy[i], vm) == 0) {
			memmove(&cd->busy[i], &cd->busy[i + 1],
			        (cd->nbusy - i - 1) * sizeof *cd->busy);
			cd->nbusy--;
			return;
		}
}
