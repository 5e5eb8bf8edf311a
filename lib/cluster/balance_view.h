/* balance_view.h - the cluster as a host agent's balancer sees it (struct bal_view),
 * built from the agent's cluster model (cluster_model.h, which reads the peers' state
 * messages, summaries and VM records) and this host's own load samples. Pure: it reads
 * no message of the bus itself.
 *
 * A host is in the view once a state message of its own said it is up (bal_born) and
 * its figures came: for this host its own load, for the others their summary. This
 * host's VMs are those of its load that hold resources (running, paused, migrating;
 * stopped ones do not count), with their tags (pinned, nobalance, affinity:G,
 * anti-affinity:G) and the guest agent's figures when the VM object carries a "guest"
 * object (steal is what turns use into demand). Another host's VMs are its records that
 * hold resources, sharing its summary's vm_cpu by their vCPUs with no steal, and its cpu
 * is its summary's load, so that bal_host_load gives what the host computed itself.
 * The state of each is the model's bal_state. Every figure is bounded by
 * lib/core/limits.c. */
#ifndef VMC_BALANCE_VIEW_H
#define VMC_BALANCE_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../balance/balance.h"
#include "cluster_model.h"

struct bview {
	char self[VMC_NAME_MAX + 1]; /* this host; "" for none (every host from its summary) */
	int have_own;                /* an own load was taken */
	struct bal_host own;         /* its figures; own.vms points into own_vms */
	struct bal_vm *own_vms;
	struct rule_guest *guests;
	size_t nguests;
	/* the view last built, until the model or the own load changes */
	int built;
	uint64_t version; /* the model's, when built */
	struct bal_host *flat;
	size_t capflat;
	struct bal_view view;
};

/* self: this host's name, whose figures come from bview_own_load; NULL for none. */
void bview_init(struct bview *v, const char *self);
void bview_free(struct bview *v);
/* Takes this host's own load message: its figures and VMs, and the state it says into the
 * model (cluster_model_host_bal_take). Returns 0; 1 if some VMs or their guest figures
 * were out of bounds and dropped (the rest is taken; err names the first one); or -1 with
 * the field named in err if the host's own figures are bad (nothing is taken). */
int bview_own_load(struct bview *v, struct cluster_model *m, const cJSON *load, char *err,
                   size_t errlen);
/* This host as its last own load says (state as then), or NULL before the first. */
const struct bal_host *bview_own(const struct bview *v);
/* The guest figures of this host's VMs, for the rule engine (NULL, 0 if none). */
const struct rule_guest *bview_guests(const struct bview *v, size_t *n);
/* The view of m's hosts at virtual time now: valid until the next call or until m
 * changes, whichever comes first (the other hosts' VMs are the model's own records,
 * cluster_model_host_held, not copies: at 1,000 hosts of 20 VMs a copy was as large as
 * the records themselves, and redoing it most of an agent's CPU while hosts joined). */
const struct bal_view *bview_get(struct bview *v, const struct cluster_model *m, int64_t now);

#endif
