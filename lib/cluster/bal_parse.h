/* bal_parse.h - a host's figures and its VM objects, as a balancer takes them from a
 * load message, a summary or a host/<h>/vm/<vm> record, within lib/core/limits.c's
 * bounds. Pure. */
#ifndef VMC_BAL_PARSE_H
#define VMC_BAL_PARSE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "../balance/balance.h"

/* The host's own figures of a load or summary (state, cpus, cpu, mem_total_mb,
 * mem_free_mb, migrations_out, migrations_in) into hh; *state is the message's "state",
 * "online" if it has none. 0, or -1 with the field named in err. */
int bal_parse_host(const cJSON *o, struct bal_host *hh, const char **state, char *err,
                   size_t errlen);
/* One VM object (ctx names it in errors): vm filled, g with its guest figures (known = 1
 * when it carries a "guest" object within bounds), *holds 1 if its state holds CPU and
 * memory (running, paused, migrating, outgoing, incoming; the last three flag it
 * BAL_VM_MIGRATING). Returns 0; 1 if its guest figures were dropped (err says why; the
 * VM stays, as if it had no guest agent); -1 if the VM itself is bad. */
int bal_parse_vm(const cJSON *o, const char *ctx, struct bal_vm *vm, struct rule_guest *g,
                 int *holds, char *err, size_t errlen);
/* 1 if a VM in that state is leaving its host (outgoing, migrating). */
int bal_state_leaving(const char *state);

#endif
