/* bal_parse.c - host figures and VM objects as a balancer takes them. Pure. */
#include "bal_parse.h"

#include <stdio.h>
#include <string.h>

#include "../core/limits.h"

/* States of VMs that hold CPU and memory; the last ones are being migrated. */
static const struct {
	const char *name;
	unsigned flags;
} vm_states[] = {{"running", 0},
                 {"paused", 0},
                 {"migrating", BAL_VM_MIGRATING},
                 {"outgoing", BAL_VM_MIGRATING},
                 {"incoming", BAL_VM_MIGRATING}};

int bal_state_leaving(const char *state)
{
	return state && (strcmp(state, "outgoing") == 0 || strcmp(state, "migrating") == 0);
}

/* The guest agent's figures of a VM, within lib/core/limits.c's bounds. 0, or -1 with err. */
static int guest_parse(const cJSON *guest, const char *ctx, struct bal_vm *vm, struct rule_guest *g,
                       char *err, size_t errlen)
{
	char gctx[80];
	snprintf(gctx, sizeof gctx, "%s.guest", ctx);
	double steal = -1;
	if (lim_get_num(guest, LIM_GUEST, gctx, "steal", 0, &steal, err, errlen) < 0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "cpu", 0, &g->cpu, err, errlen) < 0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "load1", 0, &g->load1, err, errlen) < 0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "mem_used_mb", 0, &g->mem_used_mb, err, errlen) <
	        0 ||
	    lim_get_num(guest, LIM_GUEST, gctx, "mem_total_mb", 0, &g->mem_total_mb, err, errlen) <
	        0) {
		memset(g, 0, sizeof *g);
		return -1;
	}
	vm->steal = steal;
	g->steal = steal >= 0 ? steal : 0;
	g->known = 1;
	return 0;
}

int bal_parse_vm(const cJSON *o, const char *ctx, struct bal_vm *vm, struct rule_guest *g,
                 int *holds, char *err, size_t errlen)
{
	const char *name, *state;
	int64_t vcpus, mem;
	const cJSON *tags = NULL, *guest = NULL;
	memset(vm, 0, sizeof *vm);
	memset(g, 0, sizeof *g);
	if (msg_get_name(o, ctx, "name", 1, &name, err, errlen) < 0 ||
	    msg_get_str(o, ctx, "state", 1, 32, &state, err, errlen) < 0 ||
	    lim_get_int(o, LIM_VM, ctx, "vcpus", 1, &vcpus, err, errlen) < 0 ||
	    lim_get_int(o, LIM_VM, ctx, "mem_mb", 1, &mem, err, errlen) < 0 ||
	    lim_get_num(o, LIM_VM, ctx, "cpu", 0, &vm->cpu, err, errlen) < 0 ||
	    msg_get_array(o, ctx, "tags", 0, &tags, err, errlen) < 0 ||
	    msg_get_obj(o, ctx, "guest", 0, &guest, err, errlen) < 0 ||
	    msg_get_int(o, ctx, "held_until", 0, 0, INT64_C(1) << 52, &vm->held_until, err,
	                errlen) < 0)
		return -1;
	snprintf(vm->name, sizeof vm->name, "%s", name);
	vm->vcpus = (int)vcpus;
	vm->mem_mb = mem;
	vm->steal = -1;
	*holds = 0;
	for (size_t i = 0; i < sizeof vm_states / sizeof vm_states[0]; i++) {
		if (strcmp(state, vm_states[i].name) == 0) {
			*holds = 1;
			vm->flags |= vm_states[i].flags;
		}
	}
	const char *list[32];
	size_t n = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		if (cJSON_IsString(t) && n < 32)
			list[n++] = t->valuestring;
	}
	bal_vm_tags(vm, list, n);
	if (guest && guest_parse(guest, ctx, vm, g, err, errlen) < 0)
		return 1;
	return 0;
}

int bal_parse_host(const cJSON *o, struct bal_host *hh, const char **state, char *err,
                   size_t errlen)
{
	int64_t cpus, total, freemb, mout = 0, min = 0;
	double cpu = 0;
	*state = "online";
	if (msg_get_str(o, NULL, "state", 0, 32, state, err, errlen) < 0 ||
	    lim_get_int(o, LIM_HOST, NULL, "cpus", 1, &cpus, err, errlen) < 0 ||
	    lim_get_num(o, LIM_HOST, NULL, "cpu", 1, &cpu, err, errlen) < 0 ||
	    lim_get_int(o, LIM_HOST, NULL, "mem_total_mb", 1, &total, err, errlen) < 0 ||
	    lim_get_int(o, LIM_HOST, NULL, "mem_free_mb", 1, &freemb, err, errlen) < 0 ||
	    lim_get_int(o, LIM_HOST, NULL, "migrations_out", 0, &mout, err, errlen) < 0 ||
	    lim_get_int(o, LIM_HOST, NULL, "migrations_in", 0, &min, err, errlen) < 0)
		return -1;
	if (freemb > total) {
		snprintf(err, errlen, "mem_free_mb: %lld is more than mem_total_mb %lld",
		         (long long)freemb, (long long)total);
		return -1;
	}
	hh->cpus = (int)cpus;
	hh->cpu = cpu;
	hh->mem_total_mb = total;
	hh->mem_free_mb = freemb;
	hh->migrations_out = (int)mout;
	hh->migrations_in = (int)min;
	return 0;
}
