/* progress.c - migrate, drain and undrain as seen from vmc: the events of the
 * migrations involved are printed as they come, then the reply. */
#include "../../lib/bus/topic.h"
#include "progress.h"

#include "client.h"
#include "hold.h"
#include "progview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *pstr(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static double pnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Whether an event concerns the call. */
static int progress_wanted(const struct progress_call *pc, const cJSON *ev)
{
	const char *type = pstr(ev, "type", "");
	if (strncmp(type, "migration.", 10) != 0)
		return 0;
	/* the source reports progress; both sides report the end: show the source's */
	const char *role = pstr(ev, "role", "");
	int dst = strcmp(role, "destination") == 0;
	if (dst && strcmp(type, "migration.failed") != 0)
		return 0;
	switch (pc->filter) {
	case PROGRESS_VM:
		return strcmp(pstr(ev, "vm", ""), pc->match) == 0;
	case PROGRESS_FROM:
		return strcmp(pstr(ev, "from", ""), pc->match) == 0;
	case PROGRESS_TO:
		return strcmp(pstr(ev, "to", ""), pc->match) == 0;
	}
	return 0;
}

struct progress_wait {
	const struct progress_call *pc;
	struct progview *view;
};

static void progress_on_message(struct client *c, const char *rest, const cJSON *msg, void *ud)
{
	struct progress_wait *w = ud;
	if (!topic_is_event(rest) || !progress_wanted(w->pc, msg))
		return;
	progview_event(w->view, pstr(msg, "type", "") + 10, msg);
}

/* Prints a list of {vm, host-key, why} objects on one line. */
static void print_list(const char *title, const cJSON *arr, const char *key)
{
	if (cJSON_GetArraySize(arr) == 0)
		return;
	printf("%s:", title);
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		if (cJSON_IsString(o)) {
			printf(" %s", o->valuestring);
			continue;
		}
		printf(" %s", pstr(o, "vm", "?"));
		if (key && pstr(o, key, NULL))
			printf(" (%s %s)", key, pstr(o, key, ""));
		if (pstr(o, "why", NULL))
			printf(" (%s)", pstr(o, "why", ""));
	}
	printf("\n");
}

static void progress_print(const struct progress_call *pc, const cJSON *r)
{
	if (strcmp(pc->op, "vm.migrate") == 0) {
		printf("vm %s migrated from %s to %s: %.1f s, downtime %.0f ms, %.0f MiB\n",
		       pstr(r, "vm", "?"), pstr(r, "from", "?"), pstr(r, "to", "?"),
		       pnum(r, "total_ms") / 1000.0, pnum(r, "downtime_ms"),
		       pnum(r, "bytes") / 1048576.0);
		if (pnum(r, "held_until") > 0)
			hold_print_until(pstr(r, "vm", "?"), pstr(r, "to", "?"),
			                 pnum(r, "held_until"));
		return;
	}
	const cJSON *moved = cJSON_GetObjectItem(r, "moved");
	if (strcmp(pc->op, "host.drain") == 0) {
		printf("host %s is in maintenance; %d VM%s moved off\n", pstr(r, "host", "?"),
		       cJSON_GetArraySize(moved), cJSON_GetArraySize(moved) == 1 ? "" : "s");
		print_list("moved", moved, "to");
		print_list("stopped VMs still defined here", cJSON_GetObjectItem(r, "stopped"),
		           NULL);
	} else {
		printf("host %s is online again; %d VM%s moved back\n", pstr(r, "host", "?"),
		       cJSON_GetArraySize(moved), cJSON_GetArraySize(moved) == 1 ? "" : "s");
		print_list("moved back", moved, "from");
		print_list("left where they are", cJSON_GetObjectItem(r, "skipped"), NULL);
	}
}

int progress_run(struct client *c, struct progress_call *pc)
{
	FILE *out = pc->json ? stderr : stdout;
	int table = strcmp(pc->op, "vm.migrate") != 0;
	struct progress_wait w = {pc, progview_new(out, isatty(fileno(out)), table)};
	c->on_message = w.view ? progress_on_message : NULL;
	c->ud = &w;
	client_follow(c, "event/#");
	cJSON *reply;
	char err[512];
	int rc = client_call(c, pc->target, pc->op, pc->args, &reply, err, sizeof(err));
	c->on_message = NULL;
	/* a single migration's line gives way to the result; a drain's table stays */
	progview_end(w.view, table || rc < 0);
	if (rc < 0) {
		fprintf(stderr, "vmc: %s\n", err);
		return client_fail_status(c);
	}
	if (!client_reply_ok(reply, pc->json)) {
		cJSON_Delete(reply);
		return 1;
	}
	const cJSON *r = cJSON_GetObjectItem(reply, "result");
	if (pc->json) {
		char *t = cJSON_Print(r);
		printf("%s\n", t ? t : "{}");
		free(t);
	} else {
		progress_print(pc, r);
	}
	cJSON_Delete(reply);
	return 0;
}
