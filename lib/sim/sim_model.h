/* sim_model.h - the simulated hypervisor's model: a host's CPUs and memory, its
 * VMs' load, the CPU scheduler, and the cost of live migrations. Pure: no I/O.
 *
 * Time is virtual wall-clock milliseconds (lib/core/vclock.h); callers pass "now".
 *
 * CPU. Each running VM demands sim_load_demand() CPUs, capped at its vcpus.
 * When the host's CPUs cannot meet the sum, they are shared max-min fair per
 * vCPU, as Xen's credit scheduler does with equal weights: every vCPU is
 * offered the same level L, a VM gets min(demand, vcpus x L), and L is the
 * largest level the CPUs can pay for. A VM's use is what it gets; its steal
 * is demand - use. CPU time is integrated between calls (sim_host_advance),
 * exactly over constant, square and trace segments, so the figures of a
 * sample are averages over the sample window, as xentop's are.
 *
 * Memory. A hard limit: VMs in any state hold their memory; new ones must fit
 * in memory_mb - reserve_mb - what the others hold.
 *
 * Migration. sim_migrate_plan() is the pre-copy model: round 1 sends all the
 * memory; round k sends what the VM dirtied during round k-1 (dirty rate x
 * round k-1's time, at most all the memory); pre-copy stops when what is left
 * can be sent within the downtime target, after max_rounds rounds, when a
 * round no longer shrinks (not converging), or when max_factor x memory has
 * been sent. Then the VM is paused and the rest is sent (stop-and-copy): that
 * time is the downtime. Units: memory MiB (1,048,576 bytes), dirty rate MiB/s,
 * bandwidth Mbit/s (1,000,000 bits/s).
 *
 * Wire scale. The sim's migration stream carries real bytes, but fewer: one
 * wire byte stands for `scale` bytes of VM memory (default SIM_WIRE_SCALE =
 * 1024: 1 MiB of memory is 1 KiB on the wire, a 4 GiB VM is 4 MiB). The
 * stream is paced so that it takes the time the model says. */
#ifndef VMC_SIM_MODEL_H
#define VMC_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../bus/msg.h"
#include "sim_load.h"

#define SIM_VCPUS_MAX 128
#define SIM_MEM_MIN_MB 16
#define SIM_MEM_MAX_MB (4LL << 20) /* 4 TiB */
#define SIM_CPUS_MAX 4096
#define SIM_DIRTY_MAX 1048576.0 /* MiB/s */
#define SIM_TAGS_MAX 255
#define SIM_WIRE_SCALE 1024
#define SIM_SHUTDOWN_MS 2000 /* virtual time a clean shutdown takes */
#define SIM_MiB 1048576.0

enum sim_state {
	SIM_RUNNING = 0,
	SIM_PAUSED,
	SIM_SHUTTING_DOWN,
	SIM_CRASHED,
	SIM_INCOMING, /* received by a migration, paused, not yet committed */
	SIM_OUTGOING, /* suspended at the source by a migration, awaiting commit */
	SIM_STATE__COUNT
};
/* "running", "paused", "shutting-down", "crashed", "incoming", "outgoing"; "?" otherwise. */
const char *sim_state_name(enum sim_state s);
/* Returns the state for a name, or -1. */
int sim_state_parse(const char *name);

struct sim_vm {
	char name[VMC_NAME_MAX + 1];
	int domid;
	enum sim_state state;
	int vcpus;
	int64_t mem_mb;
	double dirty_mibps;
	struct sim_load load;
	char tags[SIM_TAGS_MAX + 1]; /* as given, e.g. "web,frontend"; the model ignores them */
	int migrating;               /* a migration is sending it (it still runs) */
	enum sim_state resume_state; /* outgoing/incoming: state to return to (running/paused) */
	int64_t shutdown_at;         /* SIM_SHUTTING_DOWN: virtual ms it disappears */
	/* accumulated since the VM was created, virtual CPU-ms (carried by migrations) */
	double cpu_ms, steal_ms, demand_ms;
	/* the last sample window: accumulators and time at its start, and its figures */
	double s_cpu_ms, s_steal_ms, s_demand_ms;
	int64_t s_t;
	int sampled;
	double use_pct, steal_pct, demand_pct; /* percent of one CPU */
	double inst_use, inst_demand;          /* CPUs in the last integrated segment */
};

struct sim_host {
	int cpus;
	int64_t memory_mb, reserve_mb;
	int64_t bandwidth_mbps;
	struct sim_vm *vms; /* n in use, cap allocated; order of creation */
	size_t n, cap;
	int next_domid;
	int64_t now_ms;  /* CPU is accounted up to here; 0 = not yet */
	double cpu_ms;   /* all VMs' use, CPU-ms */
	double s_cpu_ms; /* at the start of the sample window */
	int64_t s_t;
	int sampled;
	double cpu_pct;     /* whole host, 0-100, over the last window */
	double *scratch;    /* 3 x cap doubles for the scheduler */
	int *scratch_vcpus; /* cap ints for the scheduler */
};

/* Sets up an empty host. Returns 0, or -1 with err naming the bad figure. */
int sim_host_init(struct sim_host *h, int cpus, int64_t memory_mb, int64_t reserve_mb,
                  int64_t bandwidth_mbps, char *err, size_t errlen);
void sim_host_free(struct sim_host *h);

/* The VM of that name, or NULL. */
struct sim_vm *sim_host_find(struct sim_host *h, const char *name);
/* Memory new VMs can still get, MiB (never negative). */
int64_t sim_host_mem_free(const struct sim_host *h);

/* Adds a VM copied from tmpl (name, vcpus, mem_mb, dirty_mibps, load, tags, state,
 * accumulators; a domid <= 0 gets the next free one), after accounting up to now.
 * Checks the name, vcpus 1..SIM_VCPUS_MAX, memory SIM_MEM_MIN_MB.. and that it fits,
 * and refuses a duplicate name. Returns the VM (valid until the next add or
 * remove), or NULL with err saying why; *code, if not NULL, gets VMC_E_BAD_NAME,
 * VMC_E_BAD_REQUEST, VMC_E_EXISTS or VMC_E_NO_MEMORY. */
struct sim_vm *sim_host_add(struct sim_host *h, const struct sim_vm *tmpl, int64_t now_ms,
                            enum vmc_err *code, char *err, size_t errlen);
/* Removes the VM (after accounting up to now). Returns 0, -1 if there is none. */
int sim_host_remove(struct sim_host *h, const char *name, int64_t now_ms);

/* State changes, each allowed from some states only. */
enum sim_op {
	SIM_OP_PAUSE = 0,
	SIM_OP_UNPAUSE,
	SIM_OP_SHUTDOWN, /* clean shutdown: the VM disappears SIM_SHUTDOWN_MS later */
	SIM_OP_DESTROY,  /* gone at once */
	SIM_OP_SUSPEND,  /* migration source: running -> outgoing */
	SIM_OP_SRC_COMMIT,
	SIM_OP_SRC_ABORT,
	SIM_OP_DST_COMMIT,
	SIM_OP_DST_ABORT,
	SIM_OP__COUNT
};
/* Applies op to the named VM after accounting up to now. Returns 0, or -1 with err
 * ("vm web1 is paused; pause needs running") and *code (VMC_E_NOT_FOUND or
 * VMC_E_BAD_STATE) if not NULL. */
int sim_host_apply(struct sim_host *h, const char *name, enum sim_op op, int64_t now_ms,
                   enum vmc_err *code, char *err, size_t errlen);

/* Integrates CPU demand, use and steal up to now_ms (> 0), and completes shutdowns
 * that are due. Time that goes backwards restarts the accounting at now_ms.
 * Returns the number of VMs that disappeared (shutdowns completed). */
int sim_host_advance(struct sim_host *h, int64_t now_ms);

/* Advances to now_ms, then closes the sample window of the host and of every VM
 * whose window is at least min_window_ms long, computing its average figures
 * (VM use/steal/demand percent of one CPU, host percent of all its CPUs).
 * Shorter windows keep their previous figures; a VM never sampled yet gets its
 * current instantaneous figures. Returns what sim_host_advance returned. */
int sim_host_sample(struct sim_host *h, int64_t now_ms, int64_t min_window_ms);

/* The scheduler on its own: shares capacity CPUs among n VMs demanding demand[i]
 * CPUs (0 <= demand[i] <= vcpus[i]) max-min fair per vCPU, writing alloc[i].
 * scratch holds n doubles (may be NULL when n <= 64). */
void sim_share_cpus(const double *demand, const int *vcpus, size_t n, double capacity,
                    double *alloc, double *scratch);

/* Migration model parameters; sim_migrate_defaults() fills them. */
struct sim_migrate_params {
	double bandwidth_mbps;     /* Mbit/s available to this migration */
	int max_rounds;            /* pre-copy rounds at most (default 30) */
	double downtime_target_ms; /* stop when the rest fits in this (default 300) */
	double max_factor;         /* stop after sending this x memory (default 3) */
	double min_bytes;          /* or when at most this is left (default 256 KiB) */
	double resume_ms;          /* fixed cost of pausing and resuming (default 20) */
};
void sim_migrate_defaults(struct sim_migrate_params *p, double bandwidth_mbps);

#define SIM_ROUNDS_MAX 64

enum sim_stop_reason {
	SIM_STOP_CONVERGED = 0, /* the rest fits in the downtime target */
	SIM_STOP_MAX_ROUNDS,
	SIM_STOP_NOT_CONVERGING, /* a round was no smaller than the one before */
	SIM_STOP_MAX_FACTOR,
};
/* "converged", "max-rounds", "not-converging", "max-factor". */
const char *sim_stop_reason_name(enum sim_stop_reason r);

struct sim_migrate_plan {
	int rounds;                      /* all of them, the last being stop-and-copy */
	double bytes[SIM_ROUNDS_MAX];    /* bytes sent in each round */
	double round_ms[SIM_ROUNDS_MAX]; /* virtual time of each round */
	double total_bytes;
	double total_ms;    /* from the first byte to the VM running at the far side */
	double downtime_ms; /* stop-and-copy plus resume_ms */
	enum sim_stop_reason reason;
};

/* Plans the migration of mem_mb MiB dirtied at dirty_mibps MiB/s. Returns 0, or -1
 * with err if a figure is out of range (bandwidth <= 0, memory < 1). */
int sim_migrate_plan(const struct sim_migrate_params *p, int64_t mem_mb, double dirty_mibps,
                     struct sim_migrate_plan *out, char *err, size_t errlen);

/* Wire bytes standing for model bytes at the given scale (at least 1 for any
 * non-zero amount; scale < 1 is taken as 1). */
uint64_t sim_wire_bytes(double model_bytes, double scale);

#endif
