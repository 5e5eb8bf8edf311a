/* place.c - confd's placement of new VMs (see place.h). */
#include "place.h"

#include <stdio.h>
#include <string.h>

#include "cluster.h"

int confd_place_tag_relevant(const char *tag)
{
	return strncmp(tag, PLACE_ANTI_PREFIX, strlen(PLACE_ANTI_PREFIX)) == 0 ||
	       strncmp(tag, PLACE_AFFINITY_PREFIX, strlen(PLACE_AFFINITY_PREFIX)) == 0;
}

/* Counts the VMs on h carrying tag. */
static size_t tagged_on(const struct cl_host *h, const char *tag)
{
	size_t n = 0;
	for (size_t i = 0; i < h->nvms; i++)
		n += (size_t)cluster_vm_has_tag(&h->vms[i], tag);
	return n;
}

/* The anti-affinity tag of r that h already holds, or NULL. */
static const char *anti_conflict(const struct cl_host *h, const struct confd_place_req *r)
{
	for (size_t i = 0; i < r->ntags; i++)
		if (strncmp(r->tags[i], PLACE_ANTI_PREFIX, strlen(PLACE_ANTI_PREFIX)) == 0 &&
		    tagged_on(h, r->tags[i]))
			return r->tags[i];
	return NULL;
}

static size_t affinity_score(const struct cl_host *h, const struct confd_place_req *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ntags; i++)
		if (strncmp(r->tags[i], PLACE_AFFINITY_PREFIX, strlen(PLACE_AFFINITY_PREFIX)) == 0)
			n += tagged_on(h, r->tags[i]) ? 1 : 0;
	return n;
}

/* Why h cannot take r ("" if it can); code set accordingly. */
static const char *unfit(const struct cl_host *h, const struct confd_place_req *r,
                         enum vmc_err *code, char *why, size_t len)
{
	const char *tag;
	why[0] = '\0';
	if (strcmp(h->state, "online") != 0) {
		*code = VMC_E_REFUSED;
		snprintf(why, len, "host %s is %s", h->name, h->state[0] ? h->state : "unknown");
	} else if (!h->have_load) {
		*code = VMC_E_REFUSED;
		snprintf(why, len, "host %s has not published its load yet", h->name);
	} else if (cluster_host_room_mb(h) < r->mem_mb) {
		*code = VMC_E_NO_MEMORY;
		snprintf(why, len, "host %s has %lld MiB free, vm %s needs %lld MiB", h->name,
		         (long long)cluster_host_room_mb(h), r->vm, (long long)r->mem_mb);
	} else if ((tag = anti_conflict(h, r)) != NULL) {
		*code = VMC_E_REFUSED;
		snprintf(why, len, "host %s already runs a VM tagged %s (anti-affinity)", h->name,
		         tag);
	}
	return why;
}

/* Negative if a is the better host for r. */
static int better(const struct cl_host *a, const struct cl_host *b, const struct confd_place_req *r)
{
	size_t fa = affinity_score(a, r), fb = affinity_score(b, r);
	if (fa != fb)
		return fa > fb ? -1 : 1;
	long ca = (long)(a->cpu / 5), cb = (long)(b->cpu / 5);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (a->nvms != b->nvms)
		return a->nvms < b->nvms ? -1 : 1;
	int64_t ra = cluster_host_room_mb(a), rb = cluster_host_room_mb(b);
	if (ra != rb)
		return ra > rb ? -1 : 1;
	return strcmp(a->name, b->name);
}

int confd_place_choose(const struct cluster *cl, const struct confd_place_req *r, char *host,
                       size_t hostlen, enum vmc_err *code, char *err, size_t errlen)
{
	char why[VMC_ERR_MAX];
	if (r->host) {
		const struct cl_host *h = cluster_host(cl, r->host);
		if (!h) {
			*code = VMC_E_NOT_FOUND;
			snprintf(err, errlen, "host %s is unknown (no state or load seen)",
			         r->host);
			return -1;
		}
		if (*unfit(h, r, code, why, sizeof why)) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		snprintf(host, hostlen, "%s", h->name);
		return 0;
	}
	const struct cl_host *best = NULL, *roomiest = NULL;
	size_t online = 0;
	enum vmc_err last = VMC_E_REFUSED;
	int anti = 0;
	for (size_t i = 0; i < cl->n; i++) {
		const struct cl_host *h = &cl->hosts[i];
		enum vmc_err c = VMC_OK;
		if (strcmp(h->state, "online") == 0 && h->have_load) {
			online++;
			if (!roomiest || cluster_host_room_mb(h) > cluster_host_room_mb(roomiest))
				roomiest = h;
		}
		if (*unfit(h, r, &c, why, sizeof why)) {
			if (c == VMC_E_NO_MEMORY)
				last = c;
			if (strstr(why, "anti-affinity"))
				anti = 1;
			continue;
		}
		if (!best || better(h, best, r) < 0)
			best = h;
	}
	if (best) {
		snprintf(host, hostlen, "%s", best->name);
		return 0;
	}
	if (online == 0) {
		*code = VMC_E_REFUSED;
		snprintf(err, errlen, "no host is online (known hosts: %zu)", cl->n);
	} else if (last == VMC_E_NO_MEMORY && !anti) {
		*code = VMC_E_NO_MEMORY;
		snprintf(err, errlen,
		         "no online host has %lld MiB free for vm %s (most free: %s with %lld MiB)",
		         (long long)r->mem_mb, r->vm, roomiest->name,
		         (long long)cluster_host_room_mb(roomiest));
	} else {
		*code = VMC_E_REFUSED;
		snprintf(err, errlen,
		         "no online host can take vm %s: every one with %lld MiB free already "
		         "runs a VM of the same anti-affinity group",
		         r->vm, (long long)r->mem_mb);
	}
	return -1;
}
