/* hostd_guests.c - the host agent's side of guest figures: subscribes to guest/<vm>/load
 * of each VM it has (not guest/+/load: an agent reads what its own VMs say, whatever the
 * size of the cluster), keeps the latest figures per VM (guests.c) and hands them to the
 * VM records. */
#include "guests.h"
#include "hostd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/core/ratelog.h"
#include "../../lib/bus/topic.h"

int hostd_guests_start(struct hostd *h)
{
	h->guests = guests_new();
	return h->guests ? 0 : -1;
}

/* 1 if a VM of that name is among names[0..n). */
static int followed(char (*names)[VMC_NAME_MAX + 1], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* 1 if a VM of that name is among list[0..n). */
static int listed(const struct hostd_seen *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return 1;
	return 0;
}

/* 1 if the VMs followed are now[0..n), in that order: what every sample finds unless a
 * VM came or went. */
static int unchanged(const struct hostd *h, const struct hostd_seen *now, size_t n)
{
	if (n != h->nfollowed)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(h->followed[i], now[i].name) != 0)
			return 0;
	return 1;
}

/* The list of VMs followed is kept here, not taken from what the records remember: a VM
 * whose record is forgotten (it migrated away, or the broker lost the records) is still
 * unsubscribed once it is gone. */
void hostd_guests_follow(struct hostd *h, const struct hostd_seen *now, size_t n)
{
	char t[VMC_TOPIC_MAX];
	if (h->followed && unchanged(h, now, n))
		return;
	char(*names)[VMC_NAME_MAX + 1] = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return; /* the old list stays: the next sample tries again */
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "%s", now[i].name);
		if (!followed(h->followed, h->nfollowed, now[i].name) &&
		    topic_fmt(t, sizeof t, h->opts.cluster, "guest/%s/load", now[i].name) == 0)
			bus_subscribe(h->bus, t, 0);
	}
	for (size_t i = 0; i < h->nfollowed; i++)
		if (!listed(now, n, h->followed[i]) &&
		    topic_fmt(t, sizeof t, h->opts.cluster, "guest/%s/load", h->followed[i]) == 0)
			bus_unsubscribe(h->bus, t);
	free(h->followed);
	h->followed = names;
	h->nfollowed = n;
}

void hostd_guests_message(struct hostd *h, const struct bus_msg *m)
{
	static const size_t vm_segment = 1; /* guest/<vm>/load */
	char vm[VMC_NAME_MAX + 1], err[VMC_ERR_MAX];
	struct guests *g = h->guests;
	const char *rest = topic_rest(m->topic, h->opts.cluster);
	if (!g || !rest || topic_segment(rest, (int)vm_segment, vm, sizeof vm) < 0)
		return;
	int64_t now = evloop_mono_ms();
	if (guests_on_load(g, vm, m->payload, m->len, now, err, sizeof err) < 0)
		ratelog_warn(guests_ratelog(g), now, "guest %s: ignored a load message: %s", vm,
		             err);
}

void hostd_guests_stop(struct hostd *h)
{
	guests_free(h->guests);
	h->guests = NULL;
	free(h->followed);
	h->followed = NULL;
	h->nfollowed = 0;
}

cJSON *hostd_guest_json(struct hostd *h, const char *vm)
{
	return h->guests ? guests_json(h->guests, vm, evloop_mono_ms()) : NULL;
}

const struct guest_figures *hostd_guest_figures(struct hostd *h, const char *vm)
{
	return h->guests ? guests_get(h->guests, vm, evloop_mono_ms()) : NULL;
}
