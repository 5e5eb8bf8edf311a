/* ha.c - `vmc ha` (see ha.h). */
#include "ha.h"
#include "client.h"
#include "plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *ha_str(const cJSON *o, const char *k, const char *dflt)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : dflt;
}

static void ha_print_status(const cJSON *r)
{
	const cJSON *e;
	double t = cJSON_GetNumberValue(cJSON_GetObjectItem(r, "timeout_s"));
	printf("ha policy %s; shared store %s; fence hook %s; timeout %g s (as host %s sees it)\n",
	       ha_str(r, "policy", "?"), ha_str(r, "shared_store", "?"),
	       cJSON_IsTrue(cJSON_GetObjectItem(r, "fence_hook")) ? "set" : "NONE",
	       isnan(t) ? 0 : t, ha_str(r, "host", "?"));
	printf("%-20s %-16s %s\n", "PROTECTED VM", "HOST", "RESTART");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "protected"))
	    printf("%-20s %-16s %s\n", ha_str(e, "vm", "?"), ha_str(e, "host", "?"),
	           ha_str(e, "restart_from", "-"));
	printf("%-16s %-12s %-8s %s\n", "HOST", "STATE", "DIRECT", "FENCE");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "hosts"))
	{
		const cJSON *f = cJSON_GetObjectItem(e, "fence");
		char fence[96] = "-";
		if (f)
			snprintf(fence, sizeof(fence), "%s by %s", ha_str(f, "state", "?"),
			         ha_str(f, "by", "?"));
		printf("%-16s %-12s %-8s %s\n", ha_str(e, "host", "?"), ha_str(e, "state", "?"),
		       ha_str(e, "direct", "?"), fence);
	}
	const cJSON *p = cJSON_GetObjectItem(r, "plan");
	if (!p)
		return;
	printf("if %s died now:\n", ha_str(p, "host", "?"));
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(p, "restarts"))
	    printf("  %-20s -> %s\n", ha_str(e, "vm", "?"), ha_str(e, "to", "?"));
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(p, "unplaced"))
	    printf("  %-20s NOT restarted: %s\n", ha_str(e, "vm", "?"), ha_str(e, "why", "?"));
}

static void ha_print_vm(const cJSON *r)
{
	printf("vm %s %s\n", ha_str(r, "name", "?"),
	       cJSON_IsTrue(cJSON_GetObjectItem(r, "ha")) ? "is protected (ha)"
	                                                  : "is no longer protected");
}

int ha_run(struct client *c, const char *host, int argc, char **argv, int json)
{
	cJSON *args = cJSON_CreateObject();
	if (strcmp(argv[0], "status") == 0 && argc <= 2) {
		if (argc == 2)
			cJSON_AddStringToObject(args, "host", argv[1]);
		return plan_ask(c, host, "ha.status", args, ha_print_status, json);
	}
	int enable = strcmp(argv[0], "enable") == 0;
	if ((enable || strcmp(argv[0], "disable") == 0) && argc == 2) {
		char buf[VMC_NAME_MAX + 1];
		host = client_find_vm_host(c, host, argv[1], buf, sizeof(buf));
		if (!host) {
			cJSON_Delete(args);
			return 1;
		}
		cJSON_AddStringToObject(args, "name", argv[1]);
		cJSON_AddBoolToObject(args, "enable", enable);
		return plan_ask(c, host, "vm.ha", args, ha_print_vm, json);
	}
	cJSON_Delete(args);
	fprintf(stderr, "vmc: usage: vmc ha status [HOST] | ha enable VM | ha disable VM\n");
	return 2;
}
