/* sim_state.h - the sim driver's files: the host description (--sim FILE, see
 * SIM-FORMAT.md), the state file that lets VMs outlive the agent, and the VM
 * record (JSON) that both the state file and the migration stream carry. */
#ifndef VMC_SIM_STATE_H
#define VMC_SIM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../../../../lib/sim/sim_model.h"

#define SIM_DEFAULT_CPUS 8
#define SIM_DEFAULT_MEMORY_MB 32768
#define SIM_DEFAULT_BANDWIDTH_MBPS 1000
#define SIM_STATE_FILE "sim-state.json"
#define SIM_LOCK_FILE "sim.lock"
#define SIM_STATE_VERSION 1

/* A host as described by a host file (or the defaults). */
struct sim_hostfile {
	int cpus;
	int64_t memory_mb, reserve_mb, bandwidth_mbps;
	double wire_scale;    /* model bytes per wire byte */
	double default_dirty; /* MiB/s for VMs that name none */
	struct sim_vm *vms;   /* initial VMs (state running), n of them */
	size_t n;
};

/* Fills the defaults: 8 CPUs, 32768 MiB, no reserve, 1000 Mbit/s, scale 1024, no VMs. */
void sim_hostfile_defaults(struct sim_hostfile *hf);
/* Reads a host file over the defaults, trace files included (relative to the host
 * file's directory). Returns 0, or -1 with every error ("FILE:LINE: ...") in err. */
int sim_hostfile_load(const char *path, struct sim_hostfile *hf, char *err, size_t errlen);
void sim_hostfile_free(struct sim_hostfile *hf);

/* Reads a trace file (at most SIM_TRACE_FILE_MAX bytes) into l's points. Relative
 * paths are taken from base_dir when it is not NULL. Returns 0, or -1 with err. */
int sim_trace_read(const char *path, const char *base_dir, struct sim_load *l, char *err,
                   size_t errlen);
/* Reads trace name from the directory traces only (the traces a command may name):
 * name is a file name ([A-Za-z0-9_.-], no '/', not starting with '.'); a symbolic link,
 * FIFO or anything but a regular file is refused, and so is every trace when traces is
 * NULL. Errors name the trace, never what lies outside the directory. */
int sim_trace_read_in(const char *traces, const char *name, struct sim_load *l, char *err,
                      size_t errlen);

/* The VM record as JSON: name, domid, state, resume_state, vcpus, mem_mb, dirty, load,
 * trace points (for traces), tags, shutdown_at, cpu_ms, steal_ms, demand_ms. */
cJSON *sim_vm_to_json(const struct sim_vm *vm);
/* Reads a record into out (zeroed first; out->load to be freed by the caller even on
 * error). Returns 0, or -1 with err naming the field. */
int sim_vm_from_json(const cJSON *o, struct sim_vm *out, char *err, size_t errlen);

/* The VM as xl.cfg text: name, memory, vcpus, sim_load, sim_dirty, vmc_tags (malloc'ed),
 * or NULL when out of memory. */
char *sim_vm_to_xlcfg(const struct sim_vm *vm);
/* Reads a VM from xl.cfg text (name and memory required; vcpus, sim_load, sim_dirty,
 * vmc_tags optional; a trace profile's file is read from the directory traces, see
 * sim_trace_read_in). Fills t (zeroed first; t->load to
 * be freed by the caller, even on error). Returns 0, or -1 with err naming the key. */
int sim_vm_from_xlcfg(const char *text, double default_dirty, const char *traces, struct sim_vm *t,
                      char *err, size_t errlen);

/* Writes the host's VMs to DIR/sim-state.json atomically (temporary file, fsync,
 * rename, fsync of the directory). Returns 0, or -1 with err. */
int sim_state_save(const char *dir, const struct sim_host *h, char *err, size_t errlen);
/* Loads DIR/sim-state.json into the (empty) host, accounting from the time it was
 * saved. Returns 1 if loaded, 0 if there is no state file, -1 with err if it is bad. */
int sim_state_load(const char *dir, struct sim_host *h, char *err, size_t errlen);

#endif
