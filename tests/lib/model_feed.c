/* model_feed.c - feeding the cluster model bus messages in unit tests (model_feed.h). */
#include "model_feed.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/cluster/cluster_model.h"

int model_feed(struct cluster_model *m, const char *rest, const char *json, int retained,
               int64_t now, char *err, size_t errlen)
{
	err[0] = '\0';
	return cluster_model_apply(m, rest, json, strlen(json), retained, now, err, errlen);
}

void model_feed_state(struct cluster_model *m, const char *host, const char *state, long session,
                      int64_t ts, int retained, int64_t now)
{
	char topic[128], json[512], err[VMC_ERR_MAX];
	snprintf(topic, sizeof(topic), "host/%s/state", host);
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":%lld,\"state\":\"%s\",\"session\":%ld,"
	         "\"driver\":\"sim\",\"cpus\":8,\"mem_total_mb\":32768,\"version\":\"sim 1\"}",
	         host, (long long)ts, state, session);
	if (model_feed(m, topic, json, retained, now, err, sizeof(err)) != 1)
		fail_msg("state of %s: %s", host, err);
}
