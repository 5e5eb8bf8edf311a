/* cluster_model.h - the cluster as the bus shows it: hosts, VMs, migrations in flight,
 * recent events and the balancing mode. Pure: fed with messages, no I/O.
 *
 * vmtop-cluster subscribes to
 *   vmc/<cluster>/host/+/state, host/+/load, host/+/vm/+, guest/+/load, event, policy
 * and vmc (hosts, vms, the host of a VM, plan, ha) and vmc-confd (placement, with its
 * reservations in reserve.h) to host/+/state and host/+/load, and vmc-hostd (its
 * balancer's view, balance_view.h; its migrations' checks, with their holds in
 * reserve.h; drain and HA) to host/+/state, host/+/summary and host/+/vm/+ with the
 * records kept per host (cluster_model_keep_records), never to the loads;
 * they hand every message to cluster_model_apply() (vmc-hostd, which has parsed it
 * already: cluster_model_apply_json()) with the topic below "vmc/<cluster>/". The
 * model is complete from retained messages alone, and without them after one load
 * interval (each host/<h>/load lists all its VMs).
 *
 * A VM is known while a host's last load lists it or while its retained vm/<vm> record
 * exists (with cluster_model_keep_records, a record is kept in its host's list only and
 * makes no VM); it runs on the host whose load listed it last, except that the last
 * load of a host that is gone (offline, stale) does not take a VM from a live host
 * listing it (restarted there after its host died).
 * Hosts whose load stops arriving turn stale (see cluster_model_tick). Objects
 * returned by the accessors stay valid until the next apply or tick, and beyond while
 * cluster_model_layout stays the same. */
#ifndef VMC_CLUSTER_MODEL_H
#define VMC_CLUSTER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../balance/balance.h"
#include "../bus/msg.h"

#define CM_STATE_MAX 16
/* A VM's tags joined with commas, NUL included: the 32 names a host agent allows. */
#define CM_TAGS_MAX (32 * (VMC_NAME_MAX + 1))
/* The guest agent's figures a host relays in a VM's "guest" object, in the order it
 * writes them (cm_guest_field_name). */
#define CM_GUEST_FIELDS 12
#define CM_EVENT_TYPE_MAX 32
#define CM_EVENT_TEXT_MAX 200
#define CM_EVENTS_DEFAULT 1000

enum cm_host_state { CM_HOST_UNKNOWN = 0, CM_HOST_ONLINE, CM_HOST_OFFLINE, CM_HOST_MAINTENANCE };
/* HA: what the host agents' events last said of fencing a host. */
enum cm_fence { CM_FENCE_NONE = 0, CM_FENCE_FENCING, CM_FENCE_FENCED, CM_FENCE_FAILED };
/* HA: what the events last said of a VM: not restarted (ha.failed naming it: not placed
 * or not started), or lost with its host (ha.lost: it had no tag ha). */
enum cm_vm_ha { CM_VM_HA_NONE = 0, CM_VM_HA_FAILED, CM_VM_HA_LOST };
/* "unknown", "online", "offline", "maintenance". */
const char *cm_host_state_name(enum cm_host_state s);
/* The name of guest figure i < CM_GUEST_FIELDS ("cpu", "steal", "mem_total_mb", ...). */
const char *cm_guest_field_name(size_t i);

struct cm_host {
	char name[VMC_NAME_MAX + 1]; /* first member: the model's index keys on it */
	enum cm_host_state state;    /* as the host last published it */
	int has_state;               /* a state message of it came (not only loads) */
	int stale;                   /* online or maintenance, but no load within the limit */
	int64_t session;
	char driver[16];
	char version[64];
	int cpus;
	double cpu; /* percent of the whole host, 0-100 */
	int64_t mem_total_mb, mem_used_mb, mem_free_mb;
	int migrations_out, migrations_in;
	int nvms;             /* entries of its last load's VM list */
	int have_load;        /* a load message has been seen */
	int64_t last_seen_ms; /* wall ms of its last message (the agent's ts for retained ones) */
	int64_t sent_ms;      /* the ts its last load (none: its state) carried, in its clock */
	int64_t interval_ms;  /* observed time between loads, 0 until two were seen */
	uint64_t seq;         /* last load seq */
	uint64_t seq_gaps;    /* loads missed, judged by seq */
	/* HA: ha.fencing, ha.fenced or ha.failed naming it as dead_host; read it through
	 * cluster_model_host_fence (a new session of the host ends it) */
	enum cm_fence fence;
	char fence_why[96]; /* the reason of a failed fence */
	/* What the host agents read of it instead of its load: its host/<h>/summary (the
	 * host figures above, cpu as measured, with migrations_out bounded by the VMs its
	 * records list as leaving) and its migration address. */
	int has_summary;       /* a summary within bounds came */
	double load;           /* the host's load as its balancer computes it, % of the host */
	double vm_cpu;         /* the demand of its VMs, % of one CPU */
	int summary_mout;      /* migrations_out as the summary said it */
	int64_t refresh_ms;    /* the period it refreshes its summary at (real ms), 0 if unsaid */
	int64_t summary_ms;    /* the reader's clock when its last summary came */
	char migrate_addr[96]; /* from its state (or a live summary with its birth), "" none */
	/* The state a balancer gives it (enum bal_host_state): from its state messages, its
	 * summaries and host.standby (cluster_model_host_standby); bal_born once a state
	 * message of its own said it is up, bal_stated once one came at all. */
	int bal_state, bal_born, bal_stated;
	/* private */
	/* its host/<h>/vm/<vm> records (cluster_model_keep_records): the VMs, and beside
	 * each its state; those that hold resources first (nheld_) */
	struct bal_vm *rvms_;
	struct cm_rec *rinfo_;
	size_t nrecs_, nheld_, cap_recs_;
	int64_t fence_session_;
	struct cm_vm **vms_;
	size_t nvms_, cap_vms_;
	uint32_t gen_;
	int64_t last_load_ms_;
	int64_t birth_session_; /* the session its last state message named, 0 if none */
	int64_t state_sent_ms_; /* the ts of its last state message */
	int64_t load_session_;  /* the session its last load named, 0 if none */
	size_t idx_;
};

struct cm_vm {
	char name[VMC_NAME_MAX + 1]; /* first member */
	char host[VMC_NAME_MAX + 1]; /* where it runs; "" if unknown */
	char state[CM_STATE_MAX];
	int vcpus;
	int64_t mem_mb;
	double cpu; /* percent of one CPU, as xentop */
	int has_io; /* its last VM object carried the four figures below */
	uint64_t net_rx, net_tx, blk_rd, blk_wr;
	char *tags;    /* comma-separated, never NULL */
	int has_tags;  /* its last VM object carried "tags" */
	int has_guest; /* guest-agent figures below are known */
	double guest_cpu, guest_steal, guest_load1;
	int64_t guest_mem_used_mb;
	/* the "guest" object of its last VM object, every figure: bit i of guest_has says
	 * guest[i] (named by cm_guest_field_name) was there; 0 without one */
	unsigned guest_has;
	double guest[CM_GUEST_FIELDS];
	/* A manual migration's hold, during which balancers leave the VM alone: its end in
	 * the clock of the host that reported it (0: none), and what was left of it then. */
	int64_t hold_until_ms, hold_left_ms;
	int64_t last_seen_ms;
	enum cm_vm_ha ha; /* cleared by ha.restarted, vm.created, vm.started */
	/* private */
	int64_t hold_seen_ms_;
	int in_record_;
	int in_load_;
	char rec_host_[VMC_NAME_MAX + 1];
	struct cm_host *load_host_;
	size_t hidx_;
	uint32_t load_gen_;
	size_t idx_;
};

struct cm_migration {
	char vm[VMC_NAME_MAX + 1]; /* first member */
	char from[VMC_NAME_MAX + 1];
	char to[VMC_NAME_MAX + 1];
	double percent; /* 0-100, -1 until a progress event */
	int64_t started_ms, updated_ms;
	size_t idx_; /* private */
};

struct cm_event {
	int64_t ts_ms;
	char type[CM_EVENT_TYPE_MAX];
	char host[VMC_NAME_MAX + 1];
	char vm[VMC_NAME_MAX + 1];
	char text[CM_EVENT_TEXT_MAX]; /* the other fields, "key=value ..." */
	int local;                    /* noted by the reader, not received */
};

/* A host/<h>/vm/<vm> record as the host agents read it: kept per host (a VM being
 * migrated is in the records of both ends), within lib/core/limits.c's bounds. The VM
 * itself (name, vCPUs, memory, tags, hold) is cluster_model_host_rec_vm's. */
struct cm_rec {
	char state[CM_STATE_MAX];
	int holds;   /* its state holds CPU and memory (running, paused, migrating) */
	int leaving; /* outgoing or migrating */
};

struct cm_summary {
	int hosts, online, offline, maintenance, stale;
	int vms, running, paused, stopped, other;
	int unknown;      /* VMs on hosts that are offline, stale or unknown (not in the above) */
	double cpus_used; /* CPUs busy on online hosts */
	int cpus_total;
	int64_t mem_used_mb, mem_total_mb;
	int migrations; /* in flight: tracked from events, or the hosts' counts if higher */
};

struct cluster_model;

/* A new empty model keeping the last `events` events (0: CM_EVENTS_DEFAULT).
 * Never NULL (aborts on OOM, like msg_new). */
struct cluster_model *cluster_model_new(size_t events);
void cluster_model_free(struct cluster_model *m);

/* Applies one message. rest is the topic below "vmc/<cluster>/"; retained says the broker
 * delivered it as retained; now_ms is the reader's wall clock.
 * Returns 1 if the model changed, 0 if the topic is not modelled (commands, replies,
 * balance/...), -1 with a sentence naming what was wrong in err (the model is left
 * consistent: a bad VM inside a load is skipped, the rest applied). */
int cluster_model_apply(struct cluster_model *m, const char *rest, const void *payload, size_t len,
                        int retained, int64_t now_ms, char *err, size_t errlen);
/* The same with the message already parsed (o; NULL for an empty payload), for a reader
 * that parses each message once for all its modules. */
int cluster_model_apply_json(struct cluster_model *m, const char *rest, const cJSON *o,
                             int retained, int64_t now_ms, char *err, size_t errlen);

/* As cluster_model_apply, for a reader that looks at the model only now and then (a
 * console between frames): a host's load (host/<h>/load, the bulk of the traffic) is not
 * parsed but kept, a copy of its bytes with its arrival (now_ms) and retained flag,
 * replacing the load of that host kept before; cluster_model_flush applies them. Every
 * other message is applied at once, after the kept loads it could depend on (for a
 * guest's load its host's, for anything else all of them), so the model ends as
 * cluster_model_apply would have left it: a load applied later keeps its arrival time,
 * the loads it replaced are not counted as missed (seq_gaps), and the host's interval_ms
 * is their mean interval rather than the last one. Returns 1 for a kept
 * load, else as cluster_model_apply. Call cluster_model_flush before reading the model
 * or ticking it. */
int cluster_model_defer(struct cluster_model *m, const char *rest, const void *payload, size_t len,
                        int retained, int64_t now_ms, char *err, size_t errlen);
/* Applies the kept loads in the order they came (each host's latest). Returns how many
 * loads turned out bad since the last call (here, or when a message made
 * cluster_model_defer apply them), with the first one's topic and error in err. */
int cluster_model_flush(struct cluster_model *m, char *err, size_t errlen);
/* Applies up to max of the kept loads, the earliest first, as cluster_model_flush would
 * (bad ones are reported by the next cluster_model_flush): a flush in parts, with other
 * work between them. Returns how many are still kept. */
size_t cluster_model_flush_some(struct cluster_model *m, size_t max);
/* How many hosts' loads are kept, not yet applied. */
size_t cluster_model_pending(const struct cluster_model *m);

/* Re-judges staleness at now_ms (a host is stale when online or in maintenance and its
 * last load is older than the stale limit) and expires migrations without news for
 * 5 minutes. Returns how many hosts changed. */
int cluster_model_tick(struct cluster_model *m, int64_t now_ms);
/* Sets the stale limit; 0 (the default) means 3 load intervals, at least 6 s. */
void cluster_model_set_stale_ms(struct cluster_model *m, int64_t ms);
/* The limit that applies to h now. */
int64_t cluster_model_stale_limit(const struct cluster_model *m, const struct cm_host *h);

/* Adds an event of the reader's own (e.g. a command's outcome); it shows with local = 1. */
void cluster_model_note(struct cluster_model *m, int64_t now_ms, const char *type, const char *host,
                        const char *vm, const char *text);

/* Counts that change whenever the model does: a cheap "is a redraw due" test. */
uint64_t cluster_model_version(const struct cluster_model *m);
/* Counts that change whenever a host, VM or migration is added or removed: while it
 * stays the same, the objects the accessors returned stay valid (their figures may
 * change), so a reader may keep pointers to them. Events are not counted (their ring
 * never moves). */
uint64_t cluster_model_layout(const struct cluster_model *m);

size_t cluster_model_host_count(const struct cluster_model *m);
/* i < count; order is arbitrary and changes as hosts come and go. */
const struct cm_host *cluster_model_host_at(const struct cluster_model *m, size_t i);
const struct cm_host *cluster_model_host_find(const struct cluster_model *m, const char *name);
size_t cluster_model_vm_count(const struct cluster_model *m);
const struct cm_vm *cluster_model_vm_at(const struct cluster_model *m, size_t i);
const struct cm_vm *cluster_model_vm_find(const struct cluster_model *m, const char *name);
size_t cluster_model_migration_count(const struct cluster_model *m);
const struct cm_migration *cluster_model_migration_at(const struct cluster_model *m, size_t i);
const struct cm_migration *cluster_model_migration_find(const struct cluster_model *m,
                                                        const char *vm);
/* The VMs h runs: those its last load listed, less any a later load of another host took
 * (i < count; order arbitrary). */
size_t cluster_model_host_vm_count(const struct cm_host *h);
const struct cm_vm *cluster_model_host_vm_at(const struct cm_host *h, size_t i);
/* Events, i = 0 the newest. */
size_t cluster_model_event_count(const struct cluster_model *m);
const struct cm_event *cluster_model_event_at(const struct cluster_model *m, size_t i);

/* 1 if what the model says of v is not live: the host that lists it is offline, stale
 * or unknown, so its state and load are only the last ones seen. */
int cluster_model_vm_stale(const struct cluster_model *m, const struct cm_vm *v);

/* What is left at now_ms (the reader's clock) of v's hold: what its host said was left,
 * less the time since. 0 for none. */
int64_t cluster_model_vm_hold_left(const struct cm_vm *v, int64_t now_ms);

/* 1 if h has reported: its state says it is offline, or a load of the session its state
 * names has come (a host known only by its loads has). 0 for a host whose state says
 * online or maintenance but whose load has not come yet (its VMs and figures are
 * missing from the picture), e.g. while a backlogged broker still holds it back. */
int cluster_model_host_reported(const struct cm_host *h);
/* HA: the host's fencing state, CM_FENCE_NONE once it came back (a new session). */
enum cm_fence cluster_model_host_fence(const struct cm_host *h);
/* HA: 1 if the retained policy turns the restart of dead hosts' HA VMs on ("ha":"on"). */
int cluster_model_ha_on(const struct cluster_model *m);

/* --- what the host agents read (host/<h>/summary and the records per host) ------ */

/* Keeps each host's host/<h>/vm/<vm> records as it published them, per host, instead of
 * the VMs above (records make no cm_vm, loads still do): a reader of summaries (a host
 * agent) has no loads to list VMs, and at 20,000 VMs a VM object beside each record
 * would double what it holds. Off by default. */
void cluster_model_keep_records(struct cluster_model *m);
/* The records h published (i < count), those that hold resources first, else in no
 * particular order: the VM as its record says (cpu: below), and its state. */
size_t cluster_model_host_rec_count(const struct cm_host *h);
const struct bal_vm *cluster_model_host_rec_vm(const struct cm_host *h, size_t i);
const struct cm_rec *cluster_model_host_rec_at(const struct cm_host *h, size_t i);
/* The VMs whose records hold resources (running, paused, migrating), *n of them, as a
 * balancer sees a peer's: each VM's cpu is the host's vm_cpu shared by vCPUs, steal 0
 * (a record has no use figure). Valid until the model next changes. */
const struct bal_vm *cluster_model_host_held(const struct cm_host *h, size_t *n);
/* The first host other than skip (may be NULL) whose records list vm, or NULL. */
const char *cluster_model_rec_host(const struct cluster_model *m, const char *vm, const char *skip);
/* Sum of migrations_out over the hosts but self whose summary came within ttl_ms before
 * now and that are not offline (a count nobody refreshes is stale, not busy). */
int cluster_model_migrations_out(const struct cluster_model *m, const char *self, int64_t now,
                                 int64_t ttl_ms);
/* A host consolidation powered off: standby (bal_state) until it says it is up again.
 * Adds the host if unknown. */
void cluster_model_host_standby(struct cluster_model *m, const char *name);
/* The state a host's own load says (a balancer's own samples): as a summary's would. */
void cluster_model_host_bal_take(struct cluster_model *m, const char *name, const char *state);

/* Fills the header figures. */
void cluster_model_summary(const struct cluster_model *m, struct cm_summary *out);
/* The balancing mode in force at now_ms and the policy's time window that makes it so,
 * from the retained policy (lib/cluster/policy.h): mode is "rules" without a policy (each host's
 * rules file decides); window is "" outside every window, else e.g.
 * "22:00-06:00 mon,tue,wed,thu,fri". Local time is now_ms + utc_offset_s. */
void cluster_model_balance(const struct cluster_model *m, int64_t now_ms, long utc_offset_s,
                           char *mode, size_t mlen, char *window, size_t wlen);

#endif
