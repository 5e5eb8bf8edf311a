/* balance_view.h - the cluster as a balancer sees it, from the retained
 * host/<h>/load and host/<h>/state messages, or, for peers, from their compact
 * host/<h>/summary and the host/<h>/vm/<vm> records of their VMs. Pure.
 *
 * Each load message replaces its host's entry: host figures, and the VMs that
 * hold resources (running, paused, migrating; stopped ones do not count), with
 * their tags (pinned, nobalance, affinity:G, anti-affinity:G) and the guest
 * agent's figures when the VM object carries a "guest" object (steal is what
 * turns use into demand). A state message sets the host's state; a host is in the
 * view only once both its load and a state message saying it is up (its birth) were
 * seen: a load alone names no host that can take a VM. Every figure is bounded by
 * lib/core/limits.c. */
#ifndef VMC_BALANCE_VIEW_H
#define VMC_BALANCE_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../balance/balance.h"

/* A host/<h>/vm/<vm> record of a peer. */
struct bview_rec {
	struct bal_vm vm;
	int holds;   /* its state holds CPU and memory */
	int leaving; /* outgoing or migrating */
};

struct bview_host {
	struct bal_host h;
	struct bal_vm *vms;
	size_t cap;
	struct rule_guest *guests;
	size_t nguests;
	int loaded; /* a load (or summary) message was seen */
	int born;   /* a state message of its own said it is up (at least once) */
	int stated; /* a state message came (up or not) */
	/* from its summary: the VMs are its records, each with a share of vm_cpu */
	int summary;
	double sum_load, sum_vm_cpu;
	int sum_mout; /* migrations_out as the summary says, before the records bound it */
	struct bview_rec *recs;
	size_t nrecs, caprecs;
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
/* Replaces the figures of host from its summary message (host/<h>/summary: the load
 * message's host figures plus load, the host's own demand-based load in %, vm_cpu, the
 * demand of its VMs in % of one CPU, and nvms); its VMs are then those of its records
 * (bview_vm) that hold resources, sharing vm_cpu by their vCPUs with no steal, and the
 * host's cpu is taken as its load, so that bal_host_load gives what the host computed
 * itself. 0, or -1 with the field named in err (the entry is left as it was). */
int bview_summary(struct bview *v, const char *host, const cJSON *summary, char *err,
                  size_t errlen);
/* A host/<h>/vm/<vm> record (NULL: the retained record was cleared). A record must name
 * host as its host. Counts for the host's VMs while its figures come from a summary.
 * 0, or -1 with err (the record is ignored). */
int bview_vm(struct bview *v, const char *host, const char *vm, const cJSON *rec, char *err,
             size_t errlen);
/* The entry of host whatever its state (NULL if none): its figures as last read. */
const struct bal_host *bview_host(const struct bview *v, const char *host);
/* Sets a host's state from its state message's "state" ("online", "offline",
 * "maintenance", "standby"; anything else counts as offline). A standby host stays
 * standby when it goes offline (the power-off hook did that). */
void bview_state(struct bview *v, const char *host, const char *state);
/* A live load (or summary) of a host no state message came from stands for its birth (a
 * clustered broker keeps retained states on one node): born with the load's state. */
void bview_live_load(struct bview *v, const char *host, const cJSON *load);
/* The view of every host heard of, at virtual time now (valid until the next call). */
const struct bal_view *bview_get(struct bview *v, int64_t now);
/* The guest figures of a host's VMs, for the rule engine (NULL, 0 if none). */
const struct rule_guest *bview_guests(const struct bview *v, const char *host, size_t *n);

#endif
