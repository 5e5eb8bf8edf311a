/* limits.c - the bounds of the figures on the bus (see limits.h). */
#include "limits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bus/msg.h"

#define MEM ((double)LIM_MEM_MB_MAX)

static const struct lim lims[] = {
    /* host/<h>/load and host/<h>/state */
    {LIM_HOST, "cpus", 1, 65536, 1},
    {LIM_HOST, "cpu", 0, 100.0001, 0}, /* percent of the whole host */
    {LIM_HOST, "mem_total_mb", 0, MEM, 1},
    {LIM_HOST, "mem_free_mb", 0, MEM, 1},
    {LIM_HOST, "mem_used_mb", 0, MEM, 1},
    {LIM_HOST, "migrations_out", 0, LIM_MIGRATIONS_MAX, 1},
    {LIM_HOST, "migrations_in", 0, LIM_MIGRATIONS_MAX, 1},
    /* the summary: demand-based load (% of the host, beyond 100 wanted), VMs' demand
     * (% of one CPU), VMs holding resources */
    {LIM_HOST, "load", 0, 1e6, 0},
    {LIM_HOST, "vm_cpu", 0, 409600.0 * 65536, 0},
    {LIM_HOST, "nvms", 0, 1e6, 1},
    {LIM_HOST, "refresh_ms", 0, 86400000, 1}, /* a day at most */
    {LIM_HOST, "session", 0, 9007199254740992.0, 1},
    /* a VM in a load message or a vm/<vm> record */
    {LIM_VM, "vcpus", 0, 4096, 1},
    {LIM_VM, "mem_mb", 0, MEM, 1},
    {LIM_VM, "cpu", 0, 409600, 0}, /* percent of one CPU, up to 4096 vcpus */
    /* guest/<vm>/load, and the "guest" object the host attaches to the VM */
    {LIM_GUEST, "vcpus", 1, 4096, 1},
    {LIM_GUEST, "cpu", 0, 100.5, 0}, /* percent of the guest's vcpus */
    {LIM_GUEST, "steal", 0, 409600, 0},
    {LIM_GUEST, "mem_total_mb", 0, MEM, 1},
    {LIM_GUEST, "mem_used_mb", 0, MEM, 1},
    {LIM_GUEST, "load1", 0, 1e7, 0},
    {LIM_GUEST, "load5", 0, 1e7, 0},
    {LIM_GUEST, "load15", 0, 1e7, 0},
    {LIM_GUEST, "disk_used_pct", 0, 100.5, 0},
    {LIM_GUEST, "uptime_s", 0, 1e11, 0},
};

const struct lim *lim_find(enum lim_scope scope, const char *field)
{
	for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++)
		if (lims[i].scope == scope && strcmp(lims[i].field, field) == 0)
			return &lims[i];
	return NULL;
}

static const struct lim *lim_must(enum lim_scope scope, const char *field)
{
	const struct lim *l = lim_find(scope, field);
	if (!l)
		abort(); /* a reader asked for a figure the table does not bound */
	return l;
}

int lim_get_num(const cJSON *obj, enum lim_scope scope, const char *ctx, const char *field,
                int required, double *out, char *err, size_t errlen)
{
	const struct lim *l = lim_must(scope, field);
	return msg_get_num(obj, ctx, field, required, l->min, l->max, out, err, errlen);
}

int lim_get_int(const cJSON *obj, enum lim_scope scope, const char *ctx, const char *field,
                int required, int64_t *out, char *err, size_t errlen)
{
	const struct lim *l = lim_must(scope, field);
	return msg_get_int(obj, ctx, field, required, (int64_t)l->min, (int64_t)l->max, out, err,
	                   errlen);
}

double lim_clamp(enum lim_scope scope, const char *field, double v)
{
	const struct lim *l = lim_must(scope, field);
	if (isnan(v) || v < l->min)
		return l->min;
	return v > l->max ? l->max : v;
}
