/* reserve.h - the one table of memory reservations, on top of the cluster model
 * (cluster_model.h). It keeps three kinds:
 *
 * Placements: memory promised to VMs being placed. A reader that puts a VM on a host
 * (vmc-confd creating one) reserves its memory there until the host's load lists the
 * VM, so that two placements in a row never count the same free memory twice. A
 * placement ends when the host's load lists the VM (reserve_sync), when its host is
 * forgotten, when it is released, or when it expires.
 * Holds: what a host agent's migrations in flight take on their destinations
 * (reserve_hold, below).
 * Promises: the room a host agent's balancer offered to other hosts' VMs
 * (reserve_promise.h, declared apart so that lib/balance needs no cluster model).
 * Pure. */
#ifndef VMC_RESERVE_H
#define VMC_RESERVE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_model.h"
#include "reserve_promise.h"

struct reservation {
	char vm[VMC_NAME_MAX + 1]; /* first member: the table keys on it */
	char host[VMC_NAME_MAX + 1];
	int64_t mem_mb;
	int vcpus;
	char tags[CM_TAGS_MAX]; /* the VM's tags, joined by ',' */
	int64_t expires_ms;
	size_t idx_; /* private */
};

/* struct reservations, reserve_new and reserve_free: reserve_promise.h. */

/* Reserves mem_mb for vm on host (which m must know) until expires_ms, in place of any
 * reservation vm had. Returns 0, or -1 if the host is unknown or a name too long. */
int reserve_add(struct reservations *r, const struct cluster_model *m, const char *host,
                const char *vm, int64_t mem_mb, int vcpus, const char *const *tags, size_t ntags,
                int64_t expires_ms);
/* Ends vm's reservation, if any. */
void reserve_release(struct reservations *r, const char *vm);
/* Ends the reservations past their expiry. */
void reserve_expire(struct reservations *r, int64_t now_ms);
/* Ends the reservations that m shows kept: the VM listed on its host, or the host gone. */
void reserve_sync(struct reservations *r, const struct cluster_model *m);

size_t reserve_count(const struct reservations *r);
/* i < count; order arbitrary. */
const struct reservation *reserve_at(const struct reservations *r, size_t i);
const struct reservation *reserve_find(const struct reservations *r, const char *vm);

/* The memory h can still give: its free memory less what is reserved on it. */
int64_t reserve_room_mb(const struct reservations *r, const struct cm_host *h);
/* The host whose load lists vm, else the one it is reserved on; NULL if none. */
const char *reserve_vm_host(const struct reservations *r, const struct cluster_model *m,
                            const char *vm);

/* --- holds of migrations in flight (a host agent's) ----------------------------------
 * A migration towards a host holds its VM's memory there from its start until a summary
 * of that host arrives after the migration ended, so that two decisions made between two
 * summaries never count the same free memory twice. */

/* Holds mem_mb on host for the migration id (and forgets the holds m's summaries show
 * ended). Returns 0, or -1 (a name too long, no memory). */
int reserve_hold(struct reservations *r, const struct cluster_model *m, const char *host,
                 const char *id, int64_t mem_mb);
/* The migration id ended at now (the reader's clock, as the model's summary_ms): its
 * hold lasts until the host's next summary (moved = 1), or ends at once (moved = 0: the
 * VM did not arrive). */
void reserve_hold_end(struct reservations *r, const char *id, int moved, int64_t now);
/* The free memory of a host as its last summary says, less the holds on it; -1 if the
 * model has no summary of it. */
int64_t reserve_free_mb(const struct reservations *r, const struct cluster_model *m,
                        const char *host);
/* Sets the free memory of each of the n hosts (a balancer's view) that has a summary in m
 * to reserve_free_mb; the others are left as they are. A decision on that view then
 * counts the migrations started that no summary shows yet. */
void reserve_view_free(const struct reservations *r, const struct cluster_model *m,
                       struct bal_host *hosts, size_t n);

#endif
