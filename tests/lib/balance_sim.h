/* balance_sim.h - a whole cluster of balancing nodes in one process, for tests and
 * benchmarks. Pure: virtual time only, no I/O.
 *
 * Each host is a sim_model host (fair-share CPU, memory, load profiles) with a
 * balance_node. Every sample_ms a host "publishes" its load (the view every node
 * sees is the last published loads, as retained messages give); balance messages
 * are printed to JSON and parsed again, delivered to every node after latency_ms;
 * a migration takes the time the sim's pre-copy model says, and is refused (as the
 * migration channel would) if the destination lacks memory or is not online.
 * The nodes see only what Xen would show (use per VM; steal only if the guests
 * report it), never the true demand. */
#ifndef VMC_BALANCE_SIM_H
#define VMC_BALANCE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/balance/balance_node.h"

struct bsim_opts {
	size_t nhosts;
	const int *cpus;       /* per host */
	const int64_t *mem_mb; /* per host */
	const struct rules *rules;
	int steal_known;  /* guest agents report steal */
	int64_t start_ms; /* virtual wall clock at the start */
	long utc_offset_s;
	int64_t sample_ms;     /* 0: 2000 */
	int64_t latency_ms;    /* 0: 5 */
	double bandwidth_mbps; /* 0: 1000 */
	int advise;
	int tick_at_deadline; /* bn_tick only once bn_next_deadline is due, as vmc-hostd
	                         does; 0: at every 100 ms step */
};

struct bsim_vm {
	const char *name;
	int vcpus;
	int64_t mem_mb;
	const char *load; /* sim_load profile, e.g. "constant 1" */
	const char *tags; /* comma-separated, e.g. "pinned,anti-affinity:db" */
	double dirty_mibps;
};

struct bsim_stats {
	int migrations;         /* finished */
	int failed;             /* refused or failed */
	int moved_twice;        /* VMs moved more than once */
	int back_and_forth;     /* VMs that went back to a host they had left */
	int max_dst_overfill;   /* migrations that would have exceeded a destination's memory */
	int64_t first_start;    /* virtual ms of the first migration's start, -1 if none */
	int64_t last_end;       /* virtual ms of the last migration's end, -1 if none */
	int64_t first_overload; /* first sample with a host over high, -1 if none */
	long ticks;             /* bn_tick calls, all hosts */
};

struct bsim;

/* Returns NULL with err filled on bad options. */
struct bsim *bsim_new(const struct bsim_opts *o, char *err, size_t errlen);
void bsim_free(struct bsim *b);
/* Starts a VM on a host. Returns 0, or -1 with err (bad profile, no memory...). */
int bsim_add_vm(struct bsim *b, size_t host, const struct bsim_vm *vm, char *err, size_t errlen);
void bsim_set_state(struct bsim *b, size_t host, enum bal_host_state s);
void bsim_set_policy(struct bsim *b, const struct policy *p);
/* Runs until virtual time until_ms. */
void bsim_run(struct bsim *b, int64_t until_ms);
int64_t bsim_now(const struct bsim *b);

void bsim_stats(const struct bsim *b, struct bsim_stats *st);
/* The host a VM runs on (index), or -1. */
int bsim_vm_host(const struct bsim *b, const char *vm);
/* How many times a VM moved. */
int bsim_vm_moves(const struct bsim *b, const char *vm);
size_t bsim_host_vms(const struct bsim *b, size_t host);
/* Measured host CPU % over the last sample, and the cluster's last published view. */
double bsim_host_cpu(const struct bsim *b, size_t host);
const struct bal_view *bsim_view(const struct bsim *b);
/* Events published so far with this type (e.g. "balance.decision"); *when gets the time
 * of the i-th (0-based) if not NULL. Returns the count. */
size_t bsim_events(const struct bsim *b, const char *type, size_t i, int64_t *when, char *json,
                   size_t jsonlen);
/* Balance messages carried so far (all topics). */
size_t bsim_messages(const struct bsim *b);

#endif
