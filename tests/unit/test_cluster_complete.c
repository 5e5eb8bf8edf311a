/* test_cluster_complete.c - whether the cluster model's picture of a host is complete:
 * a host whose state says it is up has reported once a load of its session came. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/cluster/cluster_model.h"

#define T0 INT64_C(1700000000000)

static void feed_state(struct cluster_model *m, const char *state, long session, int retained)
{
	char json[512], err[VMC_ERR_MAX];
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/h1\",\"ts\":%lld,\"state\":\"%s\",\"session\":%ld,"
	         "\"cpus\":4,\"mem_total_mb\":4096}",
	         (long long)T0, state, session);
	assert_int_equal(cluster_model_apply(m, "host/h1/state", json, strlen(json), retained, T0,
	                                     err, sizeof(err)),
	                 1);
}

/* A load of h1; session 0: one without a session (an agent of before sessions). */
static void feed_load(struct cluster_model *m, long session, int retained)
{
	char json[512], sess[32] = "", err[VMC_ERR_MAX];
	if (session)
		snprintf(sess, sizeof(sess), "\"session\":%ld,", session);
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/h1\",\"ts\":%lld,\"seq\":1,%s\"state\":\"online\","
	         "\"cpus\":4,\"cpu\":5,\"mem_total_mb\":4096,\"mem_used_mb\":1024,"
	         "\"mem_free_mb\":3072,\"vms\":[]}",
	         (long long)T0, sess);
	assert_int_equal(cluster_model_apply(m, "host/h1/load", json, strlen(json), retained, T0,
	                                     err, sizeof(err)),
	                 1);
}

static int reported(const struct cluster_model *m)
{
	const struct cm_host *h = cluster_model_host_find(m, "h1");
	assert_non_null(h);
	return cluster_model_host_reported(h);
}

static void test_online_needs_its_load(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	feed_state(m, "online", 5, 1);
	assert_false(reported(m));
	feed_load(m, 5, 1);
	assert_true(reported(m));
	cluster_model_free(m);
}

static void test_maintenance_needs_its_load(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	feed_state(m, "maintenance", 5, 1);
	assert_false(reported(m));
	feed_load(m, 5, 0);
	assert_true(reported(m));
	cluster_model_free(m);
}

static void test_offline_has_said_all(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	feed_state(m, "offline", 5, 1);
	assert_true(reported(m));
	cluster_model_free(m);
}

/* Restarted: its new birth came, its retained load is of the earlier session. */
static void test_load_of_an_earlier_session(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	feed_load(m, 5, 1);
	feed_state(m, "online", 6, 1);
	assert_false(reported(m));
	feed_load(m, 6, 0);
	assert_true(reported(m));
	/* the order the broker delivers them in does not matter */
	struct cluster_model *m2 = cluster_model_new(0);
	feed_state(m2, "online", 6, 1);
	feed_load(m2, 5, 1);
	assert_false(reported(m2));
	cluster_model_free(m2);
	cluster_model_free(m);
}

/* Loads without a session, or a host known only by its loads: reported. */
static void test_without_sessions(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	feed_load(m, 0, 0);
	assert_true(reported(m));
	feed_state(m, "online", 6, 1);
	assert_true(reported(m));
	cluster_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_online_needs_its_load),
	    cmocka_unit_test(test_maintenance_needs_its_load),
	    cmocka_unit_test(test_offline_has_said_all),
	    cmocka_unit_test(test_load_of_an_earlier_session),
	    cmocka_unit_test(test_without_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
