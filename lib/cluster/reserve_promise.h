/* reserve_promise.h - the table of reserve.h without the cluster model: its life, and
 * the promises of a balancer's offers, one kind of reservation in it (reserve.c keeps
 * them; a host agent's balancer and its migrations share one table). Declared apart
 * from reserve.h so that the balancing engine (lib/balance) keeps its promises in the
 * table without depending on the cluster model.
 *
 * An offer (balance/offer, balance_proto.h) promises room on this host to some of a
 * requester's VMs: the promise has an id, the requester and its request's seq, an
 * expiry, and the promised VMs (flags BAL_VM_INCOMING) with their demand, memory and
 * groups. One nobody accepts or releases expires after the offer's ttl; an accepted one
 * lives until its VMs arrive or, at most, the accepted ttl (a migration that never
 * comes). The balancer's view of its own host counts every promised VM, so that it never
 * offers the same capacity twice. Pure. */
#ifndef VMC_RESERVE_PROMISE_H
#define VMC_RESERVE_PROMISE_H

#include <stddef.h>
#include <stdint.h>

#include "../balance/balance_proto.h"

struct reservations;

/* Never NULL (aborts on OOM). */
struct reservations *reserve_new(void);
void reserve_free(struct reservations *r);

/* --- promises ------------------------------------------------------------------------ */

/* 1 if a promise for this request exists (a repeated help gets no second offer). */
int reserve_promise_has(const struct reservations *r, const char *requester, uint64_t seq);
/* Promises room on host (the offerer, which names the id) to the taken candidates until
 * now + ttl_ms; the id is written into id. Returns 0. */
int reserve_promise_add(struct reservations *r, const char *host, int64_t now, int64_t ttl_ms,
                        const char *requester, uint64_t seq, const struct bal_cand *cands,
                        const struct bal_take *take, char id[BP_RESV_ID_MAX + 1]);
/* Accepts promise id for the listed VMs (a subset of it; the others are freed) and keeps
 * it until they arrive or accepted_ttl_ms passes. Returns 0, or -1 if there is no such
 * live promise to that requester or a VM was not in it. */
int reserve_promise_accept(struct reservations *r, int64_t now, const char *id,
                           const char *requester, const struct bp_accept_vm *vms, size_t n,
                           int64_t accepted_ttl_ms);
/* Frees promise id if it was made to requester. Returns 0, or -1 if unknown. */
int reserve_promise_release(struct reservations *r, const char *id, const char *requester);
/* Drops the promises past their expiry. Returns how many. */
size_t reserve_promise_expire(struct reservations *r, int64_t now);
/* A load sample at now showed promised VM running here, using cpu (% of one CPU). It
 * stops being promised once its measured use reaches 90% of the promise, or hold_ms
 * after it was first seen: the first samples after an arrival still average over time
 * when it ran elsewhere (or was an incoming copy using nothing here), and a VM that
 * really uses less than promised is then counted at what it uses. */
void reserve_promise_arrived(struct reservations *r, const char *vm, double cpu, int64_t now,
                             int64_t hold_ms);
/* How many promises are held, and how many VMs they promise in all. */
size_t reserve_promise_count(const struct reservations *r);
size_t reserve_promise_vm_count(const struct reservations *r);
/* Writes the promised VMs (flags BAL_VM_INCOMING) into out. Returns their count (at most
 * max). */
size_t reserve_promise_vms(const struct reservations *r, struct bal_vm *out, size_t max);
/* The earliest expiry of a promise, or INT64_MAX if none is held. */
int64_t reserve_promise_next_expiry(const struct reservations *r);

#endif
