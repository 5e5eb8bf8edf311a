/* ha.h - restarts the VMs of a dead host elsewhere, exactly once, after fencing it
 * (vmc-hostd(8), HIGH AVAILABILITY). The module's pieces: ha.c (death, claims, fencing,
 * the plan), ha_restart.c (this host's side: records, restarts), ha_probe.c (the direct
 * check), ha_store.c (the shared store's files), ha_self.c (self-fencing). */
#ifndef VMC_HA_H
#define VMC_HA_H

#include <stdint.h>

#include "../hostd.h"
#include "ha_store.h"

/* Monotonic ms (evloop's clock), for the probe thread too. */
int64_t ha_mono_ms(void);

/* Connects to a peer's migration channel at addr ("ADDR:PORT"): 1 if the connection
 * was accepted within timeout_ms, else 0. Blocking. */
int ha_probe(const char *addr, const char *name, long timeout_ms);

#include "../../../lib/core/nametab.h"

struct bview;
struct workpool;
struct ha_watch;

/* The module's state (h->ha). */
struct ha_ctx {
	struct hostd *h;
	const char *dir;    /* the shared store; NULL: none */
	struct bview *view; /* the placement's, from the agent's model (h->model) */
	struct workpool *pool;
	int policy_on;
	struct nametab watches; /* struct ha_watch, one per other host seen */
	/* the fence hook running now, if any */
	int fence_pid;
	char fence_host[VMC_NAME_MAX + 1];
	int64_t fence_deadline;
	int restarting;                     /* restarts running on this host */
	char (*reported)[VMC_NAME_MAX + 1]; /* VMs whose failed placement was reported */
	size_t nreported;
	int was_connected; /* to the broker, at the last tick */
	/* self-fencing (ha_self.c) */
	int64_t isolated_since;                /* mono ms the broker and every peer were lost */
	char (*self_fenced)[VMC_NAME_MAX + 1]; /* VMs it stopped, reported once back */
	size_t nself_fenced;
};

struct ha_plan_vm;
/* The plan if host died now (nothing recorded); malloc'ed, *n entries. */
struct ha_plan_vm *hostd_ha_plan(struct hostd *h, const char *host, size_t *n, int *unplaced);
/* What this host sees of the others: state, direct check, fence claim. */
cJSON *hostd_ha_hosts_json(struct hostd *h);

/* 1 if at least one other host was last known live with a migration address, and none
 * of them answered its last direct check. */
int ha_peers_unreachable(struct ha_ctx *a);

/* --- ha_self.c: self-fencing (--self-fence-after) ------------------------------------- */
/* Once per tick, after the direct checks: stops this host's HA VMs once it has lost the
 * broker and every peer for the time set; reports what it stopped once back. */
void ha_self_tick(struct ha_ctx *a, int64_t now);

/* --- ha_restart.c: this host's records and the restarts assigned to it --------------- */
/* Once per tick: records for this host's HA VMs, adoption after a migration, stale
 * definitions dropped, restarts assigned here started (at most cap at once). */
void ha_restart_tick(struct ha_ctx *a, int cap);
/* Writes the shared config and the record of one VM defined here (owner: this host). */
int ha_restart_record(struct ha_ctx *a, const char *vm, char *err, size_t errlen);
/* Checks that a VM's config may be made HA: a shared store, and every disk in it. */
int ha_config_shared(const char *dir, const char *xlcfg, const char *vm, char *err, size_t errlen);

#endif
