/* plan.c - `vmc plan` (see plan.h). */
#include "plan.h"
#include "client.h"
#include "../../lib/balance/plan_reply.h"
#include "../../lib/cluster/cluster_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first host the snapshot shows online, copied into buf (the snapshot changes under
 * any later wait on the bus), or NULL. */
static const char *online_host(struct client *c, char *buf, size_t len)
{
	for (size_t i = 0; i < cluster_model_host_count(c->model); i++) {
		const struct cm_host *h = cluster_model_host_at(c->model, i);
		if (h->state == CM_HOST_ONLINE) {
			snprintf(buf, len, "%s", h->name);
			return buf;
		}
	}
	return NULL;
}

static void print_plan(const cJSON *r)
{
	struct plan_reply p;
	char err[256];
	if (plan_reply_parse(&p, r, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmc: %s\n", err);
		return;
	}
	printf("plan (%s): %zu move%s\n", p.mode[0] ? p.mode : "balance", p.n, p.n == 1 ? "" : "s");
	if (p.n > 0)
		printf("%-16s %-12s %-12s %6s  %-20s %-18s\n", "VM", "FROM", "TO", "CPU%",
		       "FROM BEFORE > AFTER", "TO BEFORE > AFTER");
	for (size_t i = 0; i < p.n; i++) {
		const struct plan_move *m = &p.moves[i];
		char cpu[24], from[48], to[48];
		snprintf(cpu, sizeof(cpu), "%.1f%s", m->cpu, m->cpu_unknown ? "?" : "");
		snprintf(from, sizeof(from), "%.1f > %.1f", m->from_before, m->from_after);
		snprintf(to, sizeof(to), "%.1f > %.1f", m->to_before, m->to_after);
		printf("%-16s %-12s %-12s %6s  %-20s %-18s\n", m->vm, m->from, m->to, cpu, from,
		       to);
	}
	for (size_t i = 0; i < p.nemptied; i++)
		printf("host %s would be emptied\n", p.emptied[i]);
	if (p.unplaced > 0)
		printf("%.0f VM(s) could not be placed\n", p.unplaced);
	plan_reply_clear(&p);
}

int plan_ask(struct client *c, const char *host, const char *op, cJSON *args,
             void (*print)(const cJSON *result), int json)
{
	/* host may point into the snapshot (the VM's host), which the new snapshot replaces */
	char hbuf[VMC_NAME_MAX + 1];
	if (host) {
		snprintf(hbuf, sizeof(hbuf), "%s", host);
		host = hbuf;
	}
	client_snapshot(c, 0);
	if (!host)
		host = online_host(c, hbuf, sizeof(hbuf));
	if (!host) {
		fprintf(stderr, "vmc: %s: no host is online to ask\n", op);
		cJSON_Delete(args);
		return 3;
	}
	char target[300];
	snprintf(target, sizeof(target), "cmd/host/%s", host);
	cJSON *reply;
	char err[512];
	if (client_call(c, target, op, args, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmc: %s\n", err);
		return client_fail_status(c);
	}
	int rc = 0;
	const cJSON *r = cJSON_GetObjectItem(reply, "result");
	if (!client_reply_ok(reply, 0)) {
		rc = 1;
	} else if (json) {
		char *t = cJSON_Print(r);
		if (t)
			printf("%s\n", t);
		free(t);
	} else {
		print(r);
	}
	cJSON_Delete(reply);
	return rc;
}

int plan_run(struct client *c, const char *host, const char *mode, int json)
{
	cJSON *args = cJSON_CreateObject();
	if (mode)
		cJSON_AddStringToObject(args, "mode", mode);
	return plan_ask(c, host, "balance.plan", args, print_plan, json);
}
