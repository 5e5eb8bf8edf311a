/* hv.h - the hypervisor driver interface.
 *
 * A driver is one const struct hv_ops (hv_sim.c; hv_xen.c, a module). Callers use the
 * hv_* wrappers below, never ops directly. Every op returns 0 on success or
 * -1 with a sentence in err saying what went wrong. All ops may be called
 * from any thread (migrations run on worker threads); drivers lock inside.
 *
 * Domains that exist are the driver's business; VMs that are defined but
 * stopped are kept by the host agent's config store, not by the driver. */
#ifndef VMC_HV_H
#define VMC_HV_H

#include <stddef.h>
#include <stdint.h>

#include "../../../lib/bus/msg.h"

struct vclock;

enum hv_vm_state {
	HV_VM_RUNNING = 0,
	HV_VM_PAUSED,
	HV_VM_SHUTTING_DOWN,
	HV_VM_CRASHED,
	HV_VM_INCOMING,  /* being received by a migration, not yet committed */
	HV_VM_OUTGOING,  /* suspended at the source by a migration, awaiting commit */
};
const char *hv_vm_state_name(enum hv_vm_state s);

struct hv_vm {
	char name[VMC_NAME_MAX + 1];
	int domid;              /* Xen domain id; sim: a stable small number */
	enum hv_vm_state state;
	int vcpus;
	int64_t mem_mb;
	double cpu_pct;         /* percent of one CPU, as xentop shows */
	int has_io;             /* the four figures below are meaningful */
	uint64_t net_rx_bytes, net_tx_bytes;
	uint64_t blk_rd_reqs, blk_wr_reqs;
};

struct hv_host {
	int cpus;
	int64_t mem_total_mb;
	int64_t mem_free_mb;    /* what new domains can still get */
	double cpu_pct;         /* percent of the whole host (0-100), guests and dom0 */
	int64_t bandwidth_mbps; /* migration bandwidth; 0 if unknown */
	char version[64];       /* e.g. "xen 4.17.2" or "sim 1" */
};

/* What only the guest sees (the sim fakes a guest agent with it; xen: NULL op). */
struct hv_guest_view {
	double cpu_pct;   /* busy, percent of its vcpus' capacity */
	double steal_pct; /* wanted but not given, percent of one CPU */
	double demand_pct;/* only for the sim's own bookkeeping; never published */
};

struct hv_open_args {
	const char *host_name;
	const char *state_dir;   /* where the driver may keep state; exists */
	const char *sim_file;    /* sim: host description file, or NULL */
	const char *sim_traces;  /* sim: directory of the traces commands may name, or NULL */
	int cpus;                /* sim: 0 = default or from sim_file */
	int64_t memory_mb;       /* sim: 0 = default or from sim_file */
	const struct vclock *clock; /* time as the agent sees it */
};

struct hv;

/* Progress of a migration stream, called from the migrating thread. */
typedef void hv_progress_fn(void *ud, uint64_t bytes_sent, uint64_t bytes_total, int round);

struct hv_migrate_stats {
	uint64_t bytes;
	int rounds;
	int64_t downtime_ms; /* virtual time the VM did not run */
};

struct hv_ops {
	const char *name;
	int (*open)(const struct hv_open_args *args, struct hv **out, char *err, size_t errlen);
	void (*close)(struct hv *h);
	int (*host_info)(struct hv *h, struct hv_host *out, char *err, size_t errlen);
	/* *vms is malloc'ed; caller frees. */
	int (*list_vms)(struct hv *h, struct hv_vm **vms, size_t *n, char *err, size_t errlen);
	/* The xl.cfg text of an existing domain the agent did not create (malloc'ed), or -1. */
	int (*vm_config)(struct hv *h, const char *name, char **xlcfg, char *err, size_t errlen);
	/* Creates and starts (or leaves paused) a domain from xl.cfg text. */
	int (*create)(struct hv *h, const char *xlcfg, int paused, char *err, size_t errlen);
	int (*shutdown)(struct hv *h, const char *name, char *err, size_t errlen);
	int (*destroy)(struct hv *h, const char *name, char *err, size_t errlen);
	int (*pause)(struct hv *h, const char *name, char *err, size_t errlen);
	int (*unpause)(struct hv *h, const char *name, char *err, size_t errlen);
	/* Sim only (NULL elsewhere). */
	int (*guest_view)(struct hv *h, const char *name, struct hv_guest_view *out);

	/* Live migration. send and recv block; they run on a worker thread.
	 * send: streams the domain into fd, leaving it suspended (HV_VM_OUTGOING).
	 * src_commit destroys it there; src_abort resumes it.
	 * recv: reads the stream from fd and creates the domain paused (HV_VM_INCOMING).
	 * dst_commit unpauses it; dst_abort destroys it. */
	int (*migrate_send)(struct hv *h, const char *name, int fd, hv_progress_fn *progress,
			    void *ud, struct hv_migrate_stats *st, char *err, size_t errlen);
	int (*migrate_src_commit)(struct hv *h, const char *name, char *err, size_t errlen);
	int (*migrate_src_abort)(struct hv *h, const char *name, char *err, size_t errlen);
	int (*migrate_recv)(struct hv *h, const char *xlcfg, int fd, char *err, size_t errlen);
	int (*migrate_dst_commit)(struct hv *h, const char *name, char *err, size_t errlen);
	int (*migrate_dst_abort)(struct hv *h, const char *name, char *err, size_t errlen);
};

extern const struct hv_ops hv_sim_ops;
extern const struct hv_ops hv_xen_ops; /* in the module vmc-hostd-xen.so (hv_load.c) */

/* A built-in driver by name ("sim"), or NULL. */
const struct hv_ops *hv_find(const char *name);
/* A driver by name: built in, or loaded from its module ("xen": vmc-hostd-xen.so, found
 * as libpath.h says). NULL with err saying why (unknown name, module missing or
 * unloadable). */
const struct hv_ops *hv_load(const char *name, char *err, size_t errlen);

/* An open driver: its ops and its private state. */
struct hv {
	const struct hv_ops *ops;
};

int hv_open(const struct hv_ops *ops, const struct hv_open_args *args, struct hv **out, char *err,
	    size_t errlen);
void hv_close(struct hv *h);
int hv_host_info(struct hv *h, struct hv_host *out, char *err, size_t errlen);
int hv_list_vms(struct hv *h, struct hv_vm **vms, size_t *n, char *err, size_t errlen);
int hv_vm_config(struct hv *h, const char *name, char **xlcfg, char *err, size_t errlen);
int hv_create(struct hv *h, const char *xlcfg, int paused, char *err, size_t errlen);
int hv_shutdown(struct hv *h, const char *name, char *err, size_t errlen);
int hv_destroy(struct hv *h, const char *name, char *err, size_t errlen);
int hv_pause(struct hv *h, const char *name, char *err, size_t errlen);
int hv_unpause(struct hv *h, const char *name, char *err, size_t errlen);
/* Returns -1 if the driver has no guest view. */
int hv_guest_view(struct hv *h, const char *name, struct hv_guest_view *out);
/* Live migration (see struct hv_ops); -1 with err if the driver cannot migrate. */
int hv_migrate_send(struct hv *h, const char *name, int fd, hv_progress_fn *progress, void *ud,
		    struct hv_migrate_stats *st, char *err, size_t errlen);
int hv_migrate_src_commit(struct hv *h, const char *name, char *err, size_t errlen);
int hv_migrate_src_abort(struct hv *h, const char *name, char *err, size_t errlen);
int hv_migrate_recv(struct hv *h, const char *xlcfg, int fd, char *err, size_t errlen);
int hv_migrate_dst_commit(struct hv *h, const char *name, char *err, size_t errlen);
int hv_migrate_dst_abort(struct hv *h, const char *name, char *err, size_t errlen);

#endif
