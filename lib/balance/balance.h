/* balance.h - the balancing decision engine. Pure.
 *
 * Loads are percent of a host's CPUs (0-100 used, beyond 100 wanted); a VM's
 * CPU is percent of one CPU, as xentop shows it. The engine decides on CPU
 * DEMAND, not use:
 *  - a VM whose guest agent reports steal wants use + steal;
 *  - on a saturated host (cpu >= saturated) a VM without steal figures wants an
 *    unknown amount of at least its use: the engine takes the most it could use
 *    (vcpus x 100, at most the host) so that a destination is never overfilled;
 *    the source may then shed more than needed, never less;
 *  - elsewhere a VM wants what it uses.
 * A host's load is its dom0 overhead (measured cpu minus its VMs' use) plus its
 * VMs' demand plus what it has promised to incoming VMs, over its CPUs.
 *
 * An overloaded host (over high) sheds down to the goal, max(high - margin, mean +
 * margin/2), largest VMs first, so that as few VMs as possible move.
 * A move of CPU c from S (load s, C_s CPUs) to D (load d, C_d CPUs) predicts
 * s' = s - c/C_s and d' = d + c/C_d. In balance mode it is made only if
 *  - d' <= target, target = max(high, cluster mean + margin/2): a host never
 *    takes more than its share of an overloaded cluster, so no VM has to move on;
 *  - d' + margin <= s: the pair is better by the margin (the worse side gains at
 *    least the margin, the other stays below where the worse side was);
 *  - sum of C x load^2 decreases: no sequence of moves can come back to where it
 *    was, so static loads converge and stop (no ping-pong);
 *  - memory fits: mem_mb <= free - reserve - already promised (a hard limit);
 *  - anti-affinity: D runs (or expects) no VM of the same anti-affinity group;
 *  - D is online (never in maintenance, offline or standby).
 * VMs of an affinity group on one host move together or not at all; pinned VMs
 * never move; excluded VMs ("nobalance") are left alone by balance and
 * consolidate but moved by evacuate, and so are VMs held after a manual migration
 * (held_until); a moved VM waits `cooldown` and moves at most `moves_per_hour`
 * times an hour. */
#ifndef VMC_BALANCE_H
#define VMC_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../bus/msg.h"
#include "rules.h"

#define BAL_MAX_CANDS 64 /* candidates in one request */
#define BAL_MAX_UNIT 8   /* VMs of one affinity group moved together */

enum bal_host_state { BAL_ONLINE = 0, BAL_OFFLINE, BAL_MAINTENANCE, BAL_STANDBY };
/* "online", "offline", "maintenance", "standby". */
const char *bal_host_state_name(enum bal_host_state s);
/* Returns the state for a name, or -1. */
int bal_host_state_parse(const char *name);

enum bal_mode { BAL_MODE_BALANCE = 0, BAL_MODE_CONSOLIDATE, BAL_MODE_EVACUATE };
/* "balance", "consolidate", "evacuate". */
const char *bal_mode_name(enum bal_mode m);
int bal_mode_parse(const char *name);

#define BAL_VM_PINNED 1u    /* never moved (tag "pinned") */
#define BAL_VM_EXCLUDED 2u  /* not moved by balance/consolidate (tag "nobalance") */
#define BAL_VM_MIGRATING 4u /* a migration is moving it now */
#define BAL_VM_INCOMING 8u  /* promised to this host, not running here yet */

struct bal_vm {
	char name[VMC_NAME_MAX + 1];
	int vcpus;
	int64_t mem_mb;
	double cpu;   /* use, % of one CPU */
	double steal; /* guest-reported steal, % of one CPU; < 0 if unknown */
	unsigned flags;
	char affinity[VMC_NAME_MAX + 1]; /* group kept on one host; "" none */
	char anti[VMC_NAME_MAX + 1];     /* group kept on different hosts; "" none */
	int64_t last_move_ms;            /* virtual ms of its last move; 0 never */
	int moves_hour;                  /* moves in the last hour */
	int64_t held_until;              /* moved by hand: balance and consolidate leave it
	                                  * alone until then (virtual ms); 0 not held */
};

/* Sets flags and groups from a VM's tags: "pinned", "nobalance", "affinity:GROUP",
 * "anti-affinity:GROUP". Other tags are ignored. */
void bal_vm_tags(struct bal_vm *vm, const char *const *tags, size_t n);

struct bal_host {
	char name[VMC_NAME_MAX + 1];
	enum bal_host_state state;
	int cpus;
	double cpu; /* measured, % of the host */
	int64_t mem_total_mb, mem_free_mb;
	int64_t mem_reserve_mb; /* < 0: the settings' mem_reserve */
	int migrations_out, migrations_in;
	struct bal_vm *vms; /* VMs with BAL_VM_INCOMING are promises (reservations) */
	size_t nvms;
};

struct bal_view {
	struct bal_host *hosts;
	size_t nhosts;
	int64_t now_ms;
};

/* Index of the host of that name, or -1. */
int bal_view_find(const struct bal_view *v, const char *host);

/* A VM's CPU demand in % of one CPU (see above); *unknown (may be NULL) is set when
 * it is the upper bound used for a saturated host without steal figures. */
double bal_vm_demand(const struct bal_host *h, const struct bal_vm *vm,
                     const struct rule_settings *s, int *unknown);
/* The host's load, % of the host, incoming promises included. */
double bal_host_load(const struct bal_host *h, const struct rule_settings *s);
/* Memory a new VM can get: free - reserve - incoming promises (may be negative). */
int64_t bal_host_room_mb(const struct bal_host *h, const struct rule_settings *s);
/* The index of the VM named name among h's VMs, or -1. */
int bal_host_find_vm(const struct bal_host *h, const char *name);
/* The level every online host would be at with load spread evenly (CPU-weighted), %.
 * Standby hosts count as empty capacity: when load returns, the online hosts take no
 * more than their share of the whole cluster and the rest waits for a power-on. */
double bal_cluster_mean(const struct bal_view *v, const struct rule_settings *s);
/* The most a destination may be filled to in balance mode: max(high, mean + margin/2). */
double bal_target(const struct bal_view *v, const struct rule_settings *s);
/* What an overloaded host sheds down to: max(high - margin, mean + margin/2). A host
 * asks for help only while it is over high, and only for its excess over this goal:
 * the fewest moves that bring it under high, not an even spread of every host. */
double bal_goal(const struct bal_view *v, const struct rule_settings *s);

/* A VM that may move, as a request carries it. */
struct bal_cand {
	char vm[VMC_NAME_MAX + 1];
	double cpu; /* demand, % of one CPU */
	int64_t mem_mb;
	int unknown; /* cpu is an upper bound */
	char affinity[VMC_NAME_MAX + 1];
	char anti[VMC_NAME_MAX + 1];
};

/* The VMs of host `self` that may move in this mode, best first: balance by demand
 * (largest first), consolidate and evacuate by memory (first-fit decreasing). Members
 * of an affinity group are listed only if all of them may move. Returns the count. */
size_t bal_candidates(const struct bal_view *v, size_t self, const struct rule_settings *s,
                      enum bal_mode mode, struct bal_cand *out, size_t max);

/* A request for help as an offerer sees it. */
struct bal_request {
	const char *requester;
	enum bal_mode mode;
	double load; /* requester's load, % */
	int cpus;
	const struct bal_cand *cands;
	size_t ncands;
	double goal; /* balance: the load the requester sheds down to (0: as far as the rules
	              * allow); the help message carries it as excess = (load - goal) x cpus */
};

/* What a destination can take from a request. */
struct bal_take {
	size_t idx[BAL_MAX_CANDS]; /* candidate indices, in order */
	size_t n;
	double cpu;        /* sum of their demand, % of one CPU */
	int64_t mem_mb;    /* sum of their memory */
	double src_after;  /* requester's predicted load after */
	double dst_before; /* destination's load before */
	double dst_after;  /* destination's predicted load after */
};

/* Loads (%) closer than this are equal in the consolidation order. */
#define BAL_LOAD_EPS 1e-6

/* The consolidation order: 1 if host a (at load_a) empties before host b, that is, it
 * is less loaded (by more than BAL_LOAD_EPS), or as loaded with a name that sorts first. Every host
 * and the plan use this one order, so that of two hosts exactly one asks and the other takes. */
int bal_consolidate_before(double load_a, const char *a, double load_b, const char *b);

/* What host `self` can offer for a request: the candidates (whole affinity groups) it
 * takes, in request order, at most `batch` VMs, each move keeping the rules above
 * (consolidate: the destination stays under consolidate_max and comes after the
 * requester in bal_consolidate_before's order; evacuate: memory and anti-affinity; CPU is soft: one
 * VM whatever the load, more while under the target). target is bal_target(). Returns the number
 * taken (0: no offer). */
size_t bal_offer(const struct bal_view *v, size_t self, const struct bal_request *req,
                 const struct rule_settings *s, double target, struct bal_take *out);

/* An offer as the requester sees it. */
struct bal_offer_view {
	const char *offerer;
	double load; /* the offerer's load before, % */
	int cpus;
	const char *const *vms; /* the candidates it takes */
	size_t nvms;
};

/* The requester's choice among offers: re-checks each offer's VMs against the rules
 * from its own side, then picks the one that leaves the requester least loaded
 * (consolidate/evacuate: the one taking most VMs), ties by the offerer's load, then
 * name (consolidate: the name that sorts last, the host emptied last). Returns the index of the
 * best offer with the accepted candidates in *take, or -1 if none is acceptable. */
int bal_choose(const struct bal_request *req, const struct bal_offer_view *offers, size_t n,
               const struct rule_settings *s, double target, struct bal_take *take);

/* --- whole-cluster planning (balance_plan.c) -------------------------------------- */

struct bal_move {
	char vm[VMC_NAME_MAX + 1];
	size_t from, to; /* host indices in the view */
	double cpu;      /* demand moved, % of one CPU */
	int64_t mem_mb;
	int unknown;
	double from_before, from_after, to_before, to_after; /* predicted loads, % */
};

struct bal_plan {
	struct bal_move *moves;
	size_t n;
	size_t emptied[256]; /* consolidate: hosts left without VMs (power-off candidates) */
	size_t nemptied;
	size_t unplaced; /* evacuate: VMs that found no destination */
};

/* Plans what the cluster would do now, moving nothing: balance (hosts over high ask in
 * turn, most loaded first), consolidate (empty the least loaded hosts onto the others,
 * first-fit decreasing, under consolidate_max) or evacuate (empty host `only`); both
 * place each VM, with its affinity group, through placement.h. In
 * balance and consolidate modes `only` (if < nhosts) limits requests to that host.
 * Fills out (moves malloc'ed, free with bal_plan_free). Returns the number of moves. */
size_t bal_plan(const struct bal_view *v, const struct rule_settings *s, enum bal_mode mode,
                size_t only, struct bal_plan *out);
void bal_plan_free(struct bal_plan *p);
/* The evacuate plan of host src (what bal_plan gives with only = src), never using the
 * hosts flagged in skip (one flag per host; may be NULL): a drain follows it. */
size_t bal_plan_evacuate(const struct bal_view *v, const struct rule_settings *s, size_t src,
                         const char *skip, struct bal_plan *out);

/* The plan as JSON, for `balance.plan` and `vmc plan`: {"mode":..,"moves":[{vm, from,
 * to, cpu, mem_mb, unknown, from_before, from_after, to_before, to_after}],
 * "emptied":[..],"unplaced":N}. Never NULL. */
cJSON *bal_plan_json(const struct bal_view *v, const struct rule_settings *s, enum bal_mode mode,
                     size_t only);

/* For each host over max(high, mean), the fewest VMs whose removal brings it there,
 * summed: no balancer can do with fewer migrations. */
int bal_lower_bound(const struct bal_view *v, const struct rule_settings *s);

/* The standby host to power on because load has returned (the cluster mean is over
 * high - margin, or a host is over high and no online host is under low), or -1. */
int bal_power_on_pick(const struct bal_view *v, const struct rule_settings *s);
/* The standby hosts (indices in out, first by name, at most max) whose CPUs bring the
 * online hosts' load down to high - margin, at least one if there is any. Returns the
 * count. */
size_t bal_standby_needed(const struct bal_view *v, const struct rule_settings *s, size_t *out,
                          size_t max);

#endif
