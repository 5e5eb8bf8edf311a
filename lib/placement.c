/* placement.c - scoring hosts for a new VM. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"

struct scored {
	size_t host;
	double after;
	int64_t left;
	const char *name;
};

static int scored_cmp(const void *pa, const void *pb)
{
	const struct scored *a = pa, *b = pb;
	if (a->after != b->after)
		return a->after < b->after ? -1 : 1;
	if (a->left != b->left)
		return a->left > b->left ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int runs_group(const struct bal_host *h, const char *group, size_t field)
{
	if (!group || !group[0])
		return 0;
	for (size_t k = 0; k < h->nvms; k++)
		if (strcmp((const char *)&h->vms[k] + field, group) == 0)
			return 1;
	return 0;
}

/* Why no host qualified, most telling reason first. */
static void explain(const struct bal_view *v, const struct rule_settings *s,
                    const struct place_req *r, int online, int mem_ok, int anti_ok, char *err,
                    size_t errlen)
{
	if (!online) {
		snprintf(err, errlen,
		         "no online host (all are offline, in maintenance or standby)");
	} else if (!mem_ok) {
		int64_t most = INT64_MIN;
		const char *where = "";
		for (size_t i = 0; i < v->nhosts; i++) {
			int64_t room = bal_host_room_mb(&v->hosts[i], s);
			if (v->hosts[i].state == BAL_ONLINE && room > most) {
				most = room;
				where = v->hosts[i].name;
			}
		}
		snprintf(err, errlen, "no online host has %lld MiB free (most: %lld on %s)",
		         (long long)r->mem_mb, (long long)(most > 0 ? most : 0), where);
	} else if (!anti_ok) {
		snprintf(err, errlen, "every host with room runs a VM of anti-affinity group %.64s",
		         r->anti);
	} else {
		snprintf(err, errlen, "no host of affinity group %.64s has room", r->affinity);
	}
}

int place_choose(const struct bal_view *v, const struct rule_settings *s, const struct place_req *r,
                 size_t *order, size_t max, size_t *n, char *err, size_t errlen)
{
	struct scored *sc = calloc(v->nhosts ? v->nhosts : 1, sizeof *sc);
	if (!sc)
		abort();
	int group_somewhere = 0;
	for (size_t i = 0; i < v->nhosts; i++)
		group_somewhere |=
		    runs_group(&v->hosts[i], r->affinity, offsetof(struct bal_vm, affinity));
	size_t ns = 0;
	int online = 0, mem_ok = 0, anti_ok = 0;
	for (size_t i = 0; i < v->nhosts; i++) {
		const struct bal_host *h = &v->hosts[i];
		if (h->state != BAL_ONLINE)
			continue;
		online = 1;
		int64_t room = bal_host_room_mb(h, s);
		if (room < r->mem_mb)
			continue;
		mem_ok = 1;
		if (runs_group(h, r->anti, offsetof(struct bal_vm, anti)))
			continue;
		anti_ok = 1;
		if (group_somewhere &&
		    !runs_group(h, r->affinity, offsetof(struct bal_vm, affinity)))
			continue;
		int cpus = h->cpus > 0 ? h->cpus : 1;
		sc[ns++] = (struct scored){i, bal_host_load(h, s) + r->cpu / cpus, room - r->mem_mb,
		                           h->name};
	}
	qsort(sc, ns, sizeof *sc, scored_cmp);
	for (size_t i = 0; order && i < ns && i < max; i++)
		order[i] = sc[i].host;
	if (n)
		*n = ns;
	int best = ns ? (int)sc[0].host : -1;
	if (best < 0)
		explain(v, s, r, online, mem_ok, anti_ok, err, errlen);
	free(sc);
	return best;
}
