/* plan.h - `vmc plan`: what the balancer would do now (balance.plan on one online
 * host), each move with its predicted before/after loads. Moves nothing. */
#ifndef VMC_PLAN_H
#define VMC_PLAN_H

struct client;

/* Asks `host` (NULL: the first online host of the snapshot) for the dry-run plan in
 * `mode` (NULL: balance) and prints it, as a table or (json) the plan's JSON.
 * Returns vmc's exit status: 0, 1 the agent answered with an error, 3 no online host or
 * no reply. */
int plan_run(struct client *c, const char *host, const char *mode, int json);

#include <cjson/cJSON.h>
/* Sends op with args (ownership passes) to `host` (NULL: the first online host), prints
 * the result with print, or as JSON; the same exit statuses as plan_run. */
int plan_ask(struct client *c, const char *host, const char *op, cJSON *args,
             void (*print)(const cJSON *result), int json);

#endif
