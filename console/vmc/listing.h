/* listing.h - what `vmc hosts` and `vmc vms` print with --json (and read for their
 * columns), built from the cluster model of a snapshot (client.h). */
#ifndef VMC_LISTING_H
#define VMC_LISTING_H

#include <cjson/cJSON.h>

struct cluster_model;

/* Every host by name: name, state, cpus, cpu, mem_total_mb, mem_used_mb, mem_free_mb, vms
 * (a count), migrations_out, migrations_in, session, driver, last_seen_ms (the agent's ts
 * of its last load, else of its state). The caller frees it. */
cJSON *listing_hosts(const struct cluster_model *m);

/* Every VM a host's load lists (only_host: that host's) by name, as the load has it, with
 * host and host_state. A VM whose host is not live has state "unknown", its last state as
 * last_state and cpu null. The caller frees it. */
cJSON *listing_vms(const struct cluster_model *m, const char *only_host);

#endif
