/* hold.c - vmc's side of manual moves: the check that a move would not overload its
 * destination (which the balancer would then undo by moving VMs away), and the
 * hold a move reports. */
#include "hold.h"

#include "../../lib/cluster/cluster_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double num(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* The destination's overload threshold (its balance.status), or 80. */
static double high_of(struct client *c, const char *to)
{
	char target[VMC_TOPIC_MAX], err[256];
	cJSON *reply = NULL;
	snprintf(target, sizeof(target), "cmd/host/%s", to);
	double high = 80;
	if (client_call(c, target, "balance.status", NULL, &reply, err, sizeof(err)) == 0)
		high = num(cJSON_GetObjectItemCaseSensitive(reply, "result"), "high", 80);
	cJSON_Delete(reply);
	return high;
}

int hold_move_overloads(struct client *c, const char *vm, const char *from, const char *to,
                        char *msg, size_t len)
{
	const struct cm_host *dst = cluster_model_host_find(c->model, to);
	const struct cm_vm *v = cluster_model_vm_find(c->model, vm);
	if (!dst || !dst->have_load || !v || strcmp(v->host, from) != 0 ||
	    dst->state != CM_HOST_ONLINE)
		return 0; /* figures unknown, or no move possible: the agents decide */
	/* copied: the snapshot changes while high_of waits for the reply */
	double cpus = dst->cpus > 0 ? dst->cpus : 1, before = dst->cpu;
	double after = before + v->cpu / cpus;
	double high = high_of(c, to);
	if (after <= high)
		return 0;
	snprintf(msg, len,
	         "host %s is at %.0f %% CPU and would be at %.0f %% with %s, over its overload "
	         "threshold (%.0f %%): its balancer would move VMs away again",
	         to, before, after, vm, high);
	return 1;
}

void hold_print_until(const char *vm, const char *host, double until_ms)
{
	time_t t = (time_t)(until_ms / 1000);
	struct tm tm;
	char when[32] = "?";
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("vm %s is held on %s until %s (the agents' clock): balancing leaves it there; "
	       "vmc release %s ends the hold\n",
	       vm, host, when, vm);
}
