/* peers.h - what a host agent knows of the other hosts, from their retained
 * host/<h>/state, their host/<h>/summary (or load) messages and the host/<h>/vm/<vm>
 * records: state, migration address, memory, migrations in flight and the VMs each
 * one runs. Pure: callers hand in
 * the parsed messages and the current (monotonic) time.
 *
 * Memory reservations cover what a load message cannot show yet: a migration
 * towards a host holds its VM's memory from its start until a load message from
 * that host arrives after the migration ended, so that two decisions made between
 * two load messages never count the same free memory twice. */
#ifndef VMC_PEERS_H
#define VMC_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../balance/balance.h"
#include "../bus/msg.h"

struct peer_vm {
	char name[VMC_NAME_MAX + 1];
	char state[16];
	int64_t mem_mb;
};

struct peer {
	char name[VMC_NAME_MAX + 1];
	char state[16]; /* online, offline, maintenance ("" if only a load was seen) */
	int64_t session;
	char migrate_addr[96]; /* "" if none */
	char driver[16];
	int have_load;
	int64_t load_rx; /* caller's clock when the last load arrived */
	int cpus;
	double cpu; /* percent of the whole host */
	int64_t mem_total_mb, mem_free_mb;
	int migrations_out, migrations_in;
	int64_t refresh_ms; /* its summary's refresh period (real ms), 0 if none said */
	struct peer_vm *vms;
	size_t nvms;
};

struct peers;

struct peers *peers_new(void);
void peers_free(struct peers *p);

/* A host/<h>/state message; NULL (an empty retained payload) forgets the host.
 * Returns 0, or -1 if the message lacks a state. */
int peers_on_state(struct peers *p, const char *host, const cJSON *msg);
/* A host/<h>/load message received at now. Returns 0, or -1 if it is malformed
 * (the previous figures are kept). */
int peers_on_load(struct peers *p, const char *host, const cJSON *msg, int64_t now);

/* A host/<h>/summary message received at now: the host figures of a load, without its
 * VMs (those come from the records). 0, or -1 if it is malformed. */
int peers_on_summary(struct peers *p, const char *host, const cJSON *msg, int64_t now);
/* A host/<h>/vm/<vm> record (NULL: cleared): the VM's state and memory in host's list.
 * The record must name vm and host. 0, or -1 if it is malformed (ignored). */
int peers_on_vm(struct peers *p, const char *host, const char *vm, const cJSON *msg);

/* The host of that name, or NULL. Valid until the next peers_on_* call. */
const struct peer *peers_find(const struct peers *p, const char *host);
size_t peers_count(const struct peers *p);
const struct peer *peers_at(const struct peers *p, size_t i);

/* Free memory of a host as its last load says, less its reservations; -1 without a load. */
int64_t peers_free_mb(const struct peers *p, const char *host);
/* Sum of migrations_out over every host but `self`, from their last loads, counting
 * only loads received less than ttl_ms before now. Each host's figure is bounded when
 * read (lib/core/limits.h, and no more than the VMs its load lists as leaving); the sum
 * cannot overflow. */
int peers_migrations_out(const struct peers *p, const char *self, int64_t now, int64_t ttl_ms);
/* The host whose last load lists the VM (not counting `skip`, may be NULL), or NULL. */
const char *peers_vm_host(const struct peers *p, const char *vm, const char *skip);

/* Sets the free memory of each of the n hosts (a balancer view's) to what this table
 * knows of it: its last load's free memory less the holds of migrations towards it
 * (peers_free_mb), for every host with a load here; the others are left as they are.
 * A decision on that view then counts the migrations this agent started that no load
 * shows yet, and the ones that ended and were released. */
void peers_view_free(const struct peers *p, struct bal_host *hosts, size_t n);

/* Holds mem_mb on host for the migration id. Returns 0 or -1 (no memory). */
int peers_reserve(struct peers *p, const char *host, const char *id, int64_t mem_mb);
/* The migration ended at now: keep the hold until the host's next load (moved = 1),
 * or drop it at once (moved = 0: the VM did not arrive). */
void peers_release(struct peers *p, const char *id, int moved, int64_t now);

#endif
