/* cluster.h - confd's picture of the cluster, from host/+/state and host/+/load. Pure.
 *
 * Holds each host's state and figures and the VMs its last load message
 * listed, plus reservations: VMs confd has placed on a host that its load
 * does not show yet, so that two creates in a row never count the same free
 * memory twice. A reservation ends when the host's load lists the VM, when it
 * is released, or when it expires. */
#ifndef VMC_CLUSTER_H
#define VMC_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../../lib/bus/msg.h"

#define CLUSTER_TAGS_LEN 256

/* The tags placement reads (place.h): a VM's groups, "anti.GROUP" and "affinity.GROUP"
 * (or "anti-affinity:GROUP" and "affinity:GROUP"); the cluster keeps only these. */
#define PLACE_ANTI_PREFIX "anti."
#define PLACE_AFFINITY_PREFIX "affinity."
/* 1 if a tag matters to placement (anti.*, affinity.*, anti-affinity:*, affinity:*). */
int confd_place_tag_relevant(const char *tag);

struct cl_vm {
	char name[VMC_NAME_MAX + 1];
	char state[16];
	int64_t mem_mb;
	int vcpus;
	double cpu;                  /* % of one CPU */
	char tags[CLUSTER_TAGS_LEN]; /* placement tags only (see place.h), joined by ',' */
	int reserved;                /* a reservation, not yet in the host's load */
	int64_t expires_ms;
};

struct cl_host {
	char name[VMC_NAME_MAX + 1];
	char state[16]; /* online, offline, maintenance; "" if never heard */
	int have_load;
	int cpus;
	int64_t mem_total_mb, mem_used_mb, mem_free_mb;
	double cpu; /* % of the whole host */
	struct cl_vm *vms;
	size_t nvms;
	int64_t updated_ms;
};

struct cluster {
	struct cl_host *hosts;
	size_t n;
};

struct cluster *cluster_new(void);
void cluster_free(struct cluster *cl);

/* Applies a host/<host>/state message (an empty payload, msg NULL, forgets the host).
 * Returns 0, or -1 with err if the message is malformed. */
int cluster_on_state(struct cluster *cl, const char *host, const cJSON *msg, int64_t now_ms,
                     char *err, size_t errlen);
/* Applies a host/<host>/load message: figures and the VM list (reservations the list now
 * shows end). Figures are bounded by lib/core/limits.h. Returns 0; 1 if some VMs were out of
 * bounds and left out (err names the first); -1 with err if the message is unusable.
 * Only the host's state message makes it online: a load of a host never born, or
 * offline, keeps it out of placement. */
int cluster_on_load(struct cluster *cl, const char *host, const cJSON *msg, int64_t now_ms,
                    char *err, size_t errlen);

const struct cl_host *cluster_host(const struct cluster *cl, const char *name);
/* The host that lists (or has reserved) VM vm, or NULL. */
const struct cl_host *cluster_vm_host(const struct cluster *cl, const char *vm);
/* Memory a host can still give: its free memory less its reservations. */
int64_t cluster_host_room_mb(const struct cl_host *h);

/* Reserves mem_mb for vm on host until expires_ms. Returns 0, -1 if the host is unknown. */
int cluster_reserve(struct cluster *cl, const char *host, const char *vm, int64_t mem_mb, int vcpus,
                    const char *const *tags, size_t ntags, int64_t expires_ms);
/* Ends vm's reservation, wherever it is. */
void cluster_release(struct cluster *cl, const char *vm);
/* 1 if v carries tag. */
int cluster_vm_has_tag(const struct cl_vm *v, const char *tag);
/* Drops reservations past their expiry. */
void cluster_expire(struct cluster *cl, int64_t now_ms);

#endif
