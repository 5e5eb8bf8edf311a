/* balance_proto.h - the decentralised balancing protocol's messages: builders and
 * parsers. The requester collects offers with bp_collect.h; the offerer keeps its
 * promises, one kind of reservation, in the table of lib/cluster/reserve_promise.h.
 * Pure: no broker needed.
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

#endif
