/* balance_proto.h - the decentralised balancing protocol: messages and the two
 * sides' state. Pure: driven by (now, message) calls, no broker needed.
 *
 *   balance/help     an overloaded host: {requester, seq, mode, load, cpus, excess,
 *                    candidates:[{vm, cpu, mem_mb, unknown?, affinity?, anti?}]}
 *   balance/offer    a host with room: {requester, seq, offerer, reservation, cpu,
 *                    mem_mb, load, cpus, load_after, ttl_ms, vms:[...]} - it holds a
 *                    reservation for those VMs for ttl_ms
 *   balance/accept   the requester, to the offer it chose: {requester, seq, offerer,
 *                    reservation, vms:[{vm, last_move_ms, moves_1h}]}; it then migrates
 *   balance/release  {requester, seq, offerer, reservation, by, reason}: by "requester"
 *                    for the offers it did not choose (and late ones); by "offerer"
 *                    when an accept came for a reservation it no longer holds
 *
 * Loads are % of the host, cpu % of one CPU, as in balance.h. Every message also
 * carries the envelope (v, from, ts). A reservation nobody accepts or releases
 * expires after its ttl; an accepted one lives until its VMs arrive or, at most,
 * the accepted ttl (a migration that never comes). */
#ifndef VMC_BALANCE_PROTO_H
#define VMC_BALANCE_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "balance.h"

#define BP_RESV_ID_MAX 40

struct bp_help {
	char requester[VMC_NAME_MAX + 1];
	uint64_t seq;
	enum bal_mode mode;
	double load;
	int cpus;
	double excess; /* % of one CPU over the target; informative */
	struct bal_cand cands[BAL_MAX_CANDS];
	size_t ncands;
};

struct bp_offer {
	char requester[VMC_NAME_MAX + 1];
	uint64_t seq;
	char offerer[VMC_NAME_MAX + 1];
	char reservation[BP_RESV_ID_MAX + 1];
	double cpu;
	int64_t mem_mb;
	double load, load_after;
	int cpus;
	int64_t ttl_ms;
	char vms[BAL_MAX_CANDS][VMC_NAME_MAX + 1];
	size_t nvms;
};

struct bp_accept_vm {
	char vm[VMC_NAME_MAX + 1];
	int64_t last_move_ms; /* this move */
	int moves_hour;       /* this one included */
};

struct bp_accept {
	char requester[VMC_NAME_MAX + 1];
	uint64_t seq;
	char offerer[VMC_NAME_MAX + 1];
	char reservation[BP_RESV_ID_MAX + 1];
	struct bp_accept_vm vms[BAL_MAX_CANDS];
	size_t nvms;
};

struct bp_release {
	char requester[VMC_NAME_MAX + 1];
	uint64_t seq;
	char offerer[VMC_NAME_MAX + 1];
	char reservation[BP_RESV_ID_MAX + 1];
	int by_offerer; /* 0: the requester releases; 1: the offerer revokes */
	char reason[64];
};

/* Builders: the whole message, envelope included (sender, ts). Never NULL. */
cJSON *bp_help_build(const char *sender, int64_t ts, const struct bp_help *h);
cJSON *bp_offer_build(const char *sender, int64_t ts, const struct bp_offer *o);
cJSON *bp_accept_build(const char *sender, int64_t ts, const struct bp_accept *a);
cJSON *bp_release_build(const char *sender, int64_t ts, const struct bp_release *r);

/* Parsers: check the envelope and every field. Return 0, or -1 with the field named
 * in err ("candidates[2].mem_mb: expected ..."). */
int bp_help_parse(const cJSON *m, struct bp_help *out, char *err, size_t errlen);
int bp_offer_parse(const cJSON *m, struct bp_offer *out, char *err, size_t errlen);
int bp_accept_parse(const cJSON *m, struct bp_accept *out, char *err, size_t errlen);
int bp_release_parse(const cJSON *m, struct bp_release *out, char *err, size_t errlen);

/* --- offerer side: the reservation table -------------------------------------------- */

struct bp_resv {
	char id[BP_RESV_ID_MAX + 1];
	char requester[VMC_NAME_MAX + 1];
	uint64_t seq;
	int64_t expires;
	int accepted;
	struct bal_vm vms[BAL_MAX_CANDS]; /* promises: name, cpu (demand), mem_mb, anti */
	int64_t seen_at[BAL_MAX_CANDS];   /* first load sample showing it here; 0 not yet */
	size_t nvms;
};

struct bp_table {
	char host[VMC_NAME_MAX + 1];
	struct bp_resv *r;
	size_t n, cap;
	uint64_t next;
};

void bp_table_init(struct bp_table *t, const char *host);
void bp_table_free(struct bp_table *t);
/* 1 if a reservation for this request exists (a repeated help gets no second offer). */
int bp_table_has(const struct bp_table *t, const char *requester, uint64_t seq);
/* Reserves the taken candidates for ttl_ms; the id is written into id. Returns 0. */
int bp_table_add(struct bp_table *t, int64_t now, int64_t ttl_ms, const char *requester,
                 uint64_t seq, const struct bal_cand *cands, const struct bal_take *take,
                 char id[BP_RESV_ID_MAX + 1]);
/* Accepts reservation id for the listed VMs (a subset of it; the others are freed) and
 * keeps it until they arrive or accepted_ttl_ms passes. Returns 0, or -1 if there is no
 * such live reservation of that requester or a VM was not in it. */
int bp_table_accept(struct bp_table *t, int64_t now, const char *id, const char *requester,
                    const struct bp_accept_vm *vms, size_t n, int64_t accepted_ttl_ms);
/* Frees reservation id if the requester holds it. Returns 0, or -1 if unknown. */
int bp_table_release(struct bp_table *t, const char *id, const char *requester);
/* Drops expired reservations. Returns how many. */
size_t bp_table_expire(struct bp_table *t, int64_t now);
/* A load sample at now showed promised VM running here, using cpu (% of one CPU). It
 * stops being a promise once its measured use reaches 90% of the promise, or hold_ms
 * after it was first seen: the first samples after an arrival still average over time
 * when it ran elsewhere (or was an incoming copy using nothing here), and a VM that
 * really uses less than promised is then counted at what it uses. */
void bp_table_arrived(struct bp_table *t, const char *vm, double cpu, int64_t now, int64_t hold_ms);
/* Writes the promised VMs (flags BAL_VM_INCOMING) into out. Returns their count
 * (at most max). */
size_t bp_table_promises(const struct bp_table *t, struct bal_vm *out, size_t max);

/* --- requester side: collecting offers --------------------------------------------- */

struct bp_collect {
	int active;
	uint64_t seq;
	int64_t deadline;
	struct bp_offer *offers;
	int64_t *received; /* when each offer came */
	size_t n, cap;
};

void bp_collect_init(struct bp_collect *c);
void bp_collect_free(struct bp_collect *c);
/* Starts collecting offers for request seq until deadline; forgets earlier offers. */
void bp_collect_start(struct bp_collect *c, uint64_t seq, int64_t deadline);
/* Keeps an offer for the current request. Returns 0 if kept, -1 if it is not for the
 * current request or came after the deadline (the caller releases it). */
int bp_collect_add(struct bp_collect *c, int64_t now, const struct bp_offer *o);
/* 1 once the deadline has passed while collecting. */
int bp_collect_due(const struct bp_collect *c, int64_t now);
/* Ends collecting; offers that will still be valid guard_ms from now stay at the front
 * of c->offers, their count is returned; the rest follow them up to c->n. */
size_t bp_collect_finish(struct bp_collect *c, int64_t now, int64_t guard_ms);

#endif
