/* balance_view.h - the cluster as a balancer sees it, from the retained
 * host/<h>/load and host/<h>/state messages. Pure.
 *
 * Each load message replaces its host's entry: host figures, and the VMs that
 * hold resources (running, paused, migrating; stopped ones do not count), with
 * their tags (pinned, nobalance, affinity:G, anti-affinity:G) and the guest
 * agent's figures when the VM object carries a "guest" object (steal is what
 * turns use into demand). A state message sets the host's state; a host is in the
 * view only once both its load and a state message saying it is up (its birth) were
 * seen: a load alone names no host that can take a VM. Every figure is bounded by
 * lib/limits.c. */
#ifndef VMC_BALANCE_VIEW_H
#define VMC_BALANCE_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "balance.h"

struct bview_host {
	struct bal_host h;
	struct bal_vm *vms;
	size_t cap;
	struct rule_guest *guests;
	size_t nguests;
	int loaded; /* a load message was seen */
	int born;   /* a state message of its own said it is up (at least once) */
	int stated; /* a state message came (up or not) */
};

struct bview {
	struct bview_host *hosts;
	size_t n, cap;
	struct bal_host *flat; /* what bview_get returns points here */
	struct bal_view view;
};

void bview_init(struct bview *v);
void bview_free(struct bview *v);
/* Replaces the entry of host from its load message. Returns 0; 1 if some VMs or their
 * guest figures were out of bounds and dropped (the rest is taken; err names the first
 * one); or -1 with the field named in err if the host's own figures are bad (the entry
 * is then left as it was). */
int bview_load(struct bview *v, const char *host, const cJSON *load, char *err, size_t errlen);
/* Sets a host's state from its state message's "state" ("online", "offline",
 * "maintenance", "standby"; anything else counts as offline). A standby host stays
 * standby when it goes offline (the power-off hook did that). */
void bview_state(struct bview *v, const char *host, const char *state);
/* A live load of a host no state message came from stands for its birth (a clustered
 * broker keeps retained states on one node): born with the load's state. */
void bview_live_load(struct bview *v, const char *host, const cJSON *load);
/* The view of every host heard of, at virtual time now (valid until the next call). */
const struct bal_view *bview_get(struct bview *v, int64_t now);
/* The guest figures of a host's VMs, for the rule engine (NULL, 0 if none). */
const struct rule_guest *bview_guests(const struct bview *v, const char *host, size_t *n);

#endif
