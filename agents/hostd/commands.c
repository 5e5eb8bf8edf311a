/* commands.c - receives commands on cmd/host/<name> (and the few ops peers may ask on
 * balance/peer/<name>), answers each exactly once.
 *
 * A command is parsed and validated, looked up in the id cache (a repeated
 * id gets the first reply again and is never executed twice), then handed
 * to its op's handler from the op tables. */
#include "hostd.h"

#include "../../lib/bus/idcache.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/topic.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The op of that name in the context's op tables (main.c lists every module's); the
 * first table with a matching op wins. */
static const struct hostd_op *commands_find(const struct hostd *h, const char *op)
{
	for (const struct hostd_op *const *t = h->op_tables; t && *t; t++) {
		for (const struct hostd_op *o = *t; o->op; o++)
			if (strcmp(o->op, op) == 0)
				return o;
	}
	return NULL;
}

void hostd_req_free(struct hostd_req *req)
{
	if (!req)
		return;
	cmd_route_free(&req->route);
	cJSON_Delete(req->args);
	free(req);
}

static void commands_send(struct hostd *h, struct hostd_req *req, cJSON *reply)
{
	if (cmd_reply_send(h->bus, h->ids, req->id, &req->route, req->reply_to, reply) < 0) {
		/* nowhere to answer: say so where everyone can see it */
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "id", req->id);
		cJSON_AddItemToObject(f, "reply", cJSON_Duplicate(reply, 1));
		hostd_event(h, "command.rejected", NULL, f);
	}
	cJSON_Delete(reply);
}

void hostd_reply_ok(struct hostd *h, struct hostd_req *req, cJSON *result)
{
	commands_send(h, req, reply_ok(h->sender, hostd_now(h), req->id, result));
}

void hostd_reply_err(struct hostd *h, struct hostd_req *req, enum vmc_err code, const char *fmt,
                     ...)
{
	char msg[VMC_ERR_MAX * 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("command %s %s refused: %s", req->op[0] ? req->op : "?", req->id, msg);
	commands_send(h, req, reply_err(h->sender, hostd_now(h), req->id, code, msg));
}

/* 1 if op is in the NULL-terminated allow list (or there is no list). */
static int commands_allowed(const char *const *allow, const char *op)
{
	if (!allow)
		return 1;
	for (; *allow; allow++)
		if (strcmp(*allow, op) == 0)
			return 1;
	return 0;
}

void hostd_command(struct hostd *h, const struct bus_msg *m)
{
	hostd_command_allowed(h, m, NULL, NULL);
}

void hostd_command_allowed(struct hostd *h, const struct bus_msg *m, const char *const *allow,
                           const char *from)
{
	struct hostd_req *req = calloc(1, sizeof(*req));
	if (!req)
		return;
	cmd_route_copy(&req->route, m);

	struct vmc_cmd cmd;
	char err[VMC_ERR_MAX * 2];
	enum vmc_err rc = cmd_parse(m->payload, m->len, &cmd, err, sizeof(err));
	snprintf(req->id, sizeof(req->id), "%s", cmd.id);
	snprintf(req->reply_to, sizeof(req->reply_to), "%s", cmd.reply_to);
	snprintf(req->op, sizeof(req->op), "%s", cmd.op);
	if (rc != VMC_OK) {
		cmd_free(&cmd);
		hostd_reply_err(h, req, rc, "%s", err);
		hostd_req_free(req);
		return;
	}

	/* a repeat gets the same answer again, or its one reply when it finishes */
	if (cmd_repeat(h->bus, h->ids, cmd.id, &req->route, req->reply_to) != IDCACHE_NEW) {
		cmd_free(&cmd);
		hostd_req_free(req);
		return;
	}

	req->args = cJSON_Duplicate(cmd.args, 1);
	req->peer = allow != NULL;
	cmd_free(&cmd);
	if (!commands_allowed(allow, req->op)) {
		hostd_reply_err(h, req, VMC_E_REFUSED, "op \"%s\" is not accepted on %s", req->op,
		                from ? from : "this topic");
		hostd_req_free(req);
		return;
	}
	const struct hostd_op *op = commands_find(h, req->op);
	if (!op) {
		hostd_reply_err(h, req, VMC_E_UNKNOWN_OP, "op \"%s\": unknown operation", req->op);
		hostd_req_free(req);
		return;
	}
	log_debug("command %s: %s", req->id, req->op);
	if (op->fn(h, req) == HOSTD_REPLIED)
		hostd_req_free(req);
}
