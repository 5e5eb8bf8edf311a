/* cluster.c - the hosts and VMs confd places new VMs among (see cluster.h). */
#include "cluster.h"

#include "../../lib/core/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cluster *cluster_new(void)
{
	return calloc(1, sizeof(struct cluster));
}

void cluster_free(struct cluster *cl)
{
	if (!cl)
		return;
	for (size_t i = 0; i < cl->n; i++)
		free(cl->hosts[i].vms);
	free(cl->hosts);
	free(cl);
}

static struct cl_host *find_host(const struct cluster *cl, const char *name)
{
	for (size_t i = 0; i < cl->n; i++)
		if (strcmp(cl->hosts[i].name, name) == 0)
			return &cl->hosts[i];
	return NULL;
}

const struct cl_host *cluster_host(const struct cluster *cl, const char *name)
{
	return find_host(cl, name);
}

static struct cl_host *get_host(struct cluster *cl, const char *name)
{
	struct cl_host *h = find_host(cl, name);
	if (h)
		return h;
	struct cl_host *nh = realloc(cl->hosts, (cl->n + 1) * sizeof *nh);
	if (!nh)
		return NULL;
	cl->hosts = nh;
	h = &cl->hosts[cl->n++];
	memset(h, 0, sizeof *h);
	snprintf(h->name, sizeof h->name, "%s", name);
	return h;
}

static void forget_host(struct cluster *cl, const char *name)
{
	struct cl_host *h = find_host(cl, name);
	if (!h)
		return;
	free(h->vms);
	size_t i = (size_t)(h - cl->hosts);
	memmove(h, h + 1, (cl->n - i - 1) * sizeof *h);
	cl->n--;
}

int cluster_on_state(struct cluster *cl, const char *host, const cJSON *msg, int64_t now_ms,
                     char *err, size_t errlen)
{
	if (vmc_name_check(host, "host name", err, errlen) < 0)
		return -1;
	if (!msg) {
		forget_host(cl, host);
		return 0;
	}
	const char *state;
	if (msg_get_str(msg, "", "state", 1, 15, &state, err, errlen) != 0)
		return -1;
	struct cl_host *h = get_host(cl, host);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(h->state, sizeof h->state, "%s", state);
	int64_t v;
	if (lim_get_int(msg, LIM_HOST, "", "cpus", 0, &v, err, errlen) == 0)
		h->cpus = (int)v;
	if (lim_get_int(msg, LIM_HOST, "", "mem_total_mb", 0, &v, err, errlen) == 0)
		h->mem_total_mb = v;
	h->updated_ms = now_ms;
	return 0;
}

int confd_place_tag_relevant(const char *tag)
{
	static const char *const prefixes[] = {PLACE_ANTI_PREFIX, PLACE_AFFINITY_PREFIX,
	                                       "anti-affinity:", "affinity:"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(tag, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* Keeps the tags placement reads; the rest are of no use here. */
static void add_tag(struct cl_vm *v, const char *tag)
{
	size_t l = strlen(v->tags), tl = strlen(tag);
	if (!confd_place_tag_relevant(tag) || l + tl + 2 > sizeof v->tags || strchr(tag, ','))
		return;
	if (l)
		v->tags[l++] = ',';
	memcpy(v->tags + l, tag, tl + 1);
}

int cluster_vm_has_tag(const struct cl_vm *v, const char *tag)
{
	size_t tl = strlen(tag);
	for (const char *p = v->tags; *p;) {
		size_t n = strcspn(p, ",");
		if (n == tl && strncmp(p, tag, n) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* Reads one VM object of a load message into v. Returns 0 or -1. */
static int read_vm(const cJSON *o, size_t idx, struct cl_vm *v, char *err, size_t errlen)
{
	char ctx[32];
	const char *s;
	int64_t n;
	double d;
	snprintf(ctx, sizeof ctx, "vms[%zu]", idx);
	memset(v, 0, sizeof *v);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s: expected an object", ctx);
		return -1;
	}
	if (msg_get_name(o, ctx, "name", 1, &s, err, errlen) != 0)
		return -1;
	snprintf(v->name, sizeof v->name, "%s", s);
	if (msg_get_str(o, ctx, "state", 0, 15, &s, err, errlen) == 0)
		snprintf(v->state, sizeof v->state, "%s", s);
	/* a figure out of bounds is absurd or forged: the VM is refused */
	int r = lim_get_int(o, LIM_VM, ctx, "mem_mb", 0, &n, err, errlen);
	if (r < 0)
		return -1;
	v->mem_mb = r == 0 ? n : 0;
	if ((r = lim_get_int(o, LIM_VM, ctx, "vcpus", 0, &n, err, errlen)) < 0)
		return -1;
	v->vcpus = r == 0 ? (int)n : 0;
	if ((r = lim_get_num(o, LIM_VM, ctx, "cpu", 0, &d, err, errlen)) < 0)
		return -1;
	v->cpu = r == 0 ? d : 0;
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
	const cJSON *t;
	if (cJSON_IsArray(tags))
		cJSON_ArrayForEach(t, tags)
		{
			if (cJSON_IsString(t))
				add_tag(v, t->valuestring);
		}
	return 0;
}

int cluster_on_load(struct cluster *cl, const char *host, const cJSON *msg, int64_t now_ms,
                    char *err, size_t errlen)
{
	if (vmc_name_check(host, "host name", err, errlen) < 0)
		return -1;
	const cJSON *vms;
	if (msg_get_array(msg, "", "vms", 1, &vms, err, errlen) != 0)
		return -1;
	size_t nv = (size_t)cJSON_GetArraySize(vms), idx = 0;
	struct cl_vm *list = calloc(nv + 1, sizeof *list);
	if (!list) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const cJSON *o;
	size_t k = 0;
	int dropped = 0;
	cJSON_ArrayForEach(o, vms)
	{
		/* a bad VM is left out, not the whole host; err keeps the first */
		if (read_vm(o, idx++, &list[k], dropped ? NULL : err, dropped ? 0 : errlen) == 0)
			k++;
		else
			dropped++;
	}
	nv = k;
	struct cl_host *h = get_host(cl, host);
	if (!h) {
		free(list);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int64_t v;
	double d;
	const char *s;
	/* only the host's own state message (its birth) makes it online or not; a load
	 * says maintenance or online of a host already up */
	if (msg_get_str(msg, "", "state", 0, 15, &s, err, errlen) == 0 && h->state[0] &&
	    strcmp(h->state, "offline") != 0 && strcmp(s, "offline") != 0)
		snprintf(h->state, sizeof h->state, "%s", s);
	if (lim_get_int(msg, LIM_HOST, "", "cpus", 0, &v, err, errlen) == 0)
		h->cpus = (int)v;
	if (lim_get_int(msg, LIM_HOST, "", "mem_total_mb", 0, &v, err, errlen) == 0)
		h->mem_total_mb = v;
	if (lim_get_int(msg, LIM_HOST, "", "mem_used_mb", 0, &v, err, errlen) == 0)
		h->mem_used_mb = v;
	if (lim_get_int(msg, LIM_HOST, "", "mem_free_mb", 0, &v, err, errlen) == 0)
		h->mem_free_mb = v;
	else
		h->mem_free_mb = h->mem_total_mb - h->mem_used_mb;
	if (h->mem_free_mb > h->mem_total_mb)
		h->mem_free_mb = h->mem_total_mb;
	if (lim_get_num(msg, LIM_HOST, "", "cpu", 0, &d, err, errlen) == 0)
		h->cpu = d;
	/* Reservations the new list does not show yet carry over. */
	for (size_t i = 0; i < h->nvms; i++) {
		if (!h->vms[i].reserved)
			continue;
		size_t j = 0;
		while (j < nv && strcmp(list[j].name, h->vms[i].name) != 0)
			j++;
		if (j == nv) {
			struct cl_vm *nl = realloc(list, (nv + 1) * sizeof *nl);
			if (!nl)
				break;
			list = nl;
			list[nv++] = h->vms[i];
		}
	}
	free(h->vms);
	h->vms = list;
	h->nvms = nv;
	h->have_load = 1;
	h->updated_ms = now_ms;
	return dropped ? 1 : 0;
}

const struct cl_host *cluster_vm_host(const struct cluster *cl, const char *vm)
{
	for (size_t i = 0; i < cl->n; i++)
		for (size_t j = 0; j < cl->hosts[i].nvms; j++)
			if (strcmp(cl->hosts[i].vms[j].name, vm) == 0)
				return &cl->hosts[i];
	return NULL;
}

int64_t cluster_host_room_mb(const struct cl_host *h)
{
	int64_t room = h->mem_free_mb;
	for (size_t i = 0; i < h->nvms; i++)
		if (h->vms[i].reserved)
			room -= h->vms[i].mem_mb;
	return room;
}

int cluster_reserve(struct cluster *cl, const char *host, const char *vm, int64_t mem_mb, int vcpus,
                    const char *const *tags, size_t ntags, int64_t expires_ms)
{
	struct cl_host *h = find_host(cl, host);
	if (!h || strlen(vm) > VMC_NAME_MAX)
		return -1;
	struct cl_vm *nv = realloc(h->vms, (h->nvms + 1) * sizeof *nv);
	if (!nv)
		return -1;
	h->vms = nv;
	struct cl_vm *v = &h->vms[h->nvms++];
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", vm);
	snprintf(v->state, sizeof v->state, "creating");
	v->mem_mb = mem_mb;
	v->vcpus = vcpus;
	v->reserved = 1;
	v->expires_ms = expires_ms;
	for (size_t i = 0; i < ntags; i++)
		add_tag(v, tags[i]);
	return 0;
}

static void drop_reservations(struct cluster *cl, const char *vm, int64_t now_ms)
{
	for (size_t i = 0; i < cl->n; i++) {
		struct cl_host *h = &cl->hosts[i];
		size_t k = 0;
		for (size_t j = 0; j < h->nvms; j++) {
			const struct cl_vm *v = &h->vms[j];
			int drop = v->reserved &&
			           (vm ? strcmp(v->name, vm) == 0 : v->expires_ms <= now_ms);
			if (!drop)
				h->vms[k++] = *v;
		}
		h->nvms = k;
	}
}

void cluster_release(struct cluster *cl, const char *vm)
{
	drop_reservations(cl, vm, 0);
}

void cluster_expire(struct cluster *cl, int64_t now_ms)
{
	drop_reservations(cl, NULL, now_ms);
}
