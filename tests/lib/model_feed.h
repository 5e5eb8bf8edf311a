/* model_feed.h - feeding the cluster model (lib/cluster/cluster_model.h) bus messages in
 * the unit tests of its readers (vmc's listings, the console). Uses cmocka: a message the
 * model must take and refuses fails the test. */
#ifndef VMC_MODEL_FEED_H
#define VMC_MODEL_FEED_H

#include <stddef.h>
#include <stdint.h>

struct cluster_model;

/* One message on topic rest (below vmc/<cluster>/), retained or not, at now: what
 * cluster_model_apply returns, err holding its message ("" if none). */
int model_feed(struct cluster_model *m, const char *rest, const char *json, int retained,
               int64_t now, char *err, size_t errlen);

/* host/<host>/state as vmc-hostd writes it (sim driver, 8 CPUs, 32768 MiB) with state,
 * session and ts, fed at now; the model must take it. */
void model_feed_state(struct cluster_model *m, const char *host, const char *state, long session,
                      int64_t ts, int retained, int64_t now);

#endif
