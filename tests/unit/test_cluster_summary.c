/* test_cluster_summary.c - the cluster model as a host agent reads it (state messages,
 * summaries, records kept per host) and the memory its migrations hold on their
 * destinations between two summaries (reserve_hold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/cluster/cluster_model.h"
#include "../../lib/cluster/reserve.h"

/* Applies {"v":1,"from":"host/<host>","ts":1,<body>} on host/<host>/<what> at now. */
static int apply(struct cluster_model *m, const char *host, const char *what, const char *body,
                 int retained, int64_t now)
{
	char topic[128], json[2048], err[256];
	snprintf(topic, sizeof topic, "host/%s/%s", host, what);
	json[0] = '\0';
	if (body)
		snprintf(json, sizeof json, "{\"v\":1,\"from\":\"host/%s\",\"ts\":1,%s}", host,
		         body);
	return cluster_model_apply(m, topic, json, strlen(json), retained, now, err, sizeof err);
}

#define SUM(free, out)                                                                             \
	"\"state\":\"online\",\"cpus\":8,\"cpu\":12.5,\"load\":12.5,\"vm_cpu\":0,"                 \
	"\"mem_total_mb\":8192,\"mem_free_mb\":" #free ",\"migrations_out\":" #out                 \
	",\"migrations_in\":0,\"refresh_ms\":60000"

static void rec(struct cluster_model *m, const char *host, const char *vm, const char *state)
{
	char what[64], body[256];
	snprintf(what, sizeof what, "vm/%s", vm);
	snprintf(body, sizeof body,
	         "\"name\":\"%s\",\"host\":\"%s\",\"state\":\"%s\",\"vcpus\":1,\"mem_mb\":1024", vm,
	         host, state);
	assert_int_equal(apply(m, host, what, body, 1, 1), 1);
}

static struct cluster_model *model(void)
{
	struct cluster_model *m = cluster_model_new(0);
	cluster_model_keep_records(m);
	return m;
}

static void test_state_and_summary(void **state)
{
	struct cluster_model *m = model();
	apply(m, "h1", "state",
	      "\"state\":\"online\",\"session\":3,\"driver\":\"sim\",\"cpus\":8,"
	      "\"mem_total_mb\":8192,\"migrate_addr\":\"127.0.0.1:4000\"",
	      1, 5);
	const struct cm_host *h = cluster_model_host_find(m, "h1");
	assert_non_null(h);
	assert_int_equal(h->state, CM_HOST_ONLINE);
	assert_string_equal(h->migrate_addr, "127.0.0.1:4000");
	assert_false(h->has_summary);
	struct reservations *r = reserve_new();
	assert_int_equal(reserve_free_mb(r, m, "h1"), -1); /* no summary yet */
	assert_int_equal(apply(m, "h1", "summary", SUM(6000, 0), 1, 10), 1);
	assert_true(h->has_summary);
	assert_int_equal(h->summary_ms, 10);
	assert_int_equal(h->refresh_ms, 60000);
	assert_int_equal(reserve_free_mb(r, m, "h1"), 6000);
	/* out of bounds: dropped whole, the previous figures stay */
	assert_int_equal(apply(m, "h1", "summary", SUM(9000, 0), 1, 11), -1);
	assert_int_equal(h->mem_free_mb, 6000);
	/* a summary knows maintenance too */
	apply(m, "h1", "summary",
	      "\"state\":\"maintenance\",\"cpus\":8,\"cpu\":1,\"load\":1,\"vm_cpu\":0,"
	      "\"mem_total_mb\":8192,\"mem_free_mb\":6000",
	      1, 12);
	assert_int_equal(h->state, CM_HOST_MAINTENANCE);
	/* the Last Will: offline, no address; a later summary does not bring it back */
	apply(m, "h1", "state", "\"state\":\"offline\",\"session\":3", 0, 13);
	assert_int_equal(h->state, CM_HOST_OFFLINE);
	assert_string_equal(h->migrate_addr, "");
	apply(m, "h1", "summary", "\"session\":3," SUM(6000, 0), 0, 14);
	assert_int_equal(h->state, CM_HOST_OFFLINE);
	/* a live summary with its birth makes a host not heard of known */
	apply(m, "h2", "summary",
	      "\"session\":5,\"migrate_addr\":\"127.0.0.1:5000\",\"driver\":\"sim\"," SUM(100, 0),
	      0, 15);
	h = cluster_model_host_find(m, "h2");
	assert_int_equal(h->state, CM_HOST_ONLINE);
	assert_string_equal(h->migrate_addr, "127.0.0.1:5000");
	assert_int_equal(h->session, 5);
	/* a retained one does not */
	apply(m, "h3", "summary", "\"session\":5," SUM(100, 0), 1, 15);
	assert_int_equal(cluster_model_host_find(m, "h3")->state, CM_HOST_UNKNOWN);
	reserve_free(r);
	cluster_model_free(m);
}

static void test_records_and_migrations(void **state)
{
	struct cluster_model *m = model();
	rec(m, "h1", "a", "outgoing");
	rec(m, "h1", "b", "outgoing");
	rec(m, "h2", "c", "outgoing");
	rec(m, "h2", "a", "incoming"); /* a VM being migrated is in both hosts' records */
	rec(m, "h3", "d", "running");
	apply(m, "h1", "summary", SUM(100, 2), 1, 1);
	apply(m, "h2", "summary", SUM(100, 1), 1, 1);
	/* h3 claims 8 but lists no VM leaving */
	apply(m, "h3", "summary", SUM(100, 8), 1, 1);
	assert_int_equal(cluster_model_host_find(m, "h3")->migrations_out, 0);
	assert_string_equal(cluster_model_rec_host(m, "c", NULL), "h2");
	assert_string_equal(cluster_model_rec_host(m, "a", "h1"), "h2");
	assert_null(cluster_model_rec_host(m, "c", "h2"));
	assert_null(cluster_model_rec_host(m, "zzz", NULL));
	assert_int_equal(cluster_model_migrations_out(m, NULL, 2, 1000), 3);
	assert_int_equal(cluster_model_migrations_out(m, "h1", 2, 1000), 1);
	/* a count not refreshed within the ttl no longer counts */
	assert_int_equal(cluster_model_migrations_out(m, NULL, 5000, 1000), 0);
	apply(m, "h1", "summary", SUM(100, 2), 1, 4500);
	assert_int_equal(cluster_model_migrations_out(m, NULL, 5000, 1000), 2);
	/* an offline host runs none */
	apply(m, "h1", "state", "\"state\":\"offline\"", 0, 4600);
	assert_int_equal(cluster_model_migrations_out(m, NULL, 5000, 1000), 0);
	/* a record's end: the VM left; the bound follows */
	const struct cm_host *h1 = cluster_model_host_find(m, "h1");
	assert_int_equal(cluster_model_host_rec_count(h1), 2);
	apply(m, "h1", "vm/a", NULL, 1, 4700);
	assert_int_equal(cluster_model_host_rec_count(h1), 1);
	assert_string_equal(cluster_model_host_rec_vm(h1, 0)->name, "b");
	assert_int_equal(h1->migrations_out, 1);
	/* a record naming another host, or out of bounds, is ignored */
	assert_int_equal(apply(m, "h1", "vm/e",
	                       "\"name\":\"e\",\"host\":\"h2\",\"state\":\"running\","
	                       "\"vcpus\":1,\"mem_mb\":1",
	                       1, 4800),
	                 -1);
	assert_int_equal(apply(m, "h1", "vm/b",
	                       "\"name\":\"b\",\"host\":\"h1\",\"state\":\"running\","
	                       "\"vcpus\":1,\"mem_mb\":1e15",
	                       1, 4800),
	                 -1);
	assert_int_equal(cluster_model_host_rec_count(h1), 1);
	assert_string_equal(cluster_model_host_rec_at(h1, 0)->state, "outgoing");
	cluster_model_free(m);
}

static void test_holds(void **state)
{
	struct cluster_model *m = model();
	struct reservations *r = reserve_new();
	apply(m, "h1", "summary", SUM(4096, 0), 1, 100);
	assert_int_equal(reserve_hold(r, m, "h1", "m1", 1024), 0);
	assert_int_equal(reserve_hold(r, m, "h1", "m2", 2048), 0);
	assert_int_equal(reserve_free_mb(r, m, "h1"), 1024);
	/* m2 failed: its memory is free again at once */
	reserve_hold_end(r, "m2", 0, 150);
	assert_int_equal(reserve_free_mb(r, m, "h1"), 3072);
	/* m1 arrived at 200: held until a summary that came after that shows it */
	reserve_hold_end(r, "m1", 1, 200);
	assert_int_equal(reserve_free_mb(r, m, "h1"), 3072);
	apply(m, "h1", "summary", SUM(4096, 0), 1, 190); /* an older one: still held */
	assert_int_equal(reserve_free_mb(r, m, "h1"), 3072);
	apply(m, "h1", "summary", SUM(3072, 0), 1, 250);
	assert_int_equal(reserve_free_mb(r, m, "h1"), 3072); /* counted once, by the host now */
	/* another host's summary does not release h1's holds */
	assert_int_equal(reserve_hold(r, m, "h1", "m3", 1000), 0);
	reserve_hold_end(r, "m3", 1, 300);
	apply(m, "h2", "summary", SUM(10, 0), 1, 400);
	assert_int_equal(reserve_free_mb(r, m, "h1"), 2072);
	/* a view's free memory: holds count; hosts without a summary are left alone */
	struct bal_host hosts[3];
	memset(hosts, 0, sizeof hosts);
	snprintf(hosts[0].name, sizeof hosts[0].name, "h1");
	snprintf(hosts[1].name, sizeof hosts[1].name, "h2");
	snprintf(hosts[2].name, sizeof hosts[2].name, "h3");
	for (int i = 0; i < 3; i++)
		hosts[i].mem_free_mb = 1000;
	reserve_view_free(r, m, hosts, 3);
	assert_int_equal(hosts[0].mem_free_mb, 2072);
	assert_int_equal(hosts[1].mem_free_mb, 10);
	assert_int_equal(hosts[2].mem_free_mb, 1000);
	reserve_free(r);
	cluster_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_and_summary),
	    cmocka_unit_test(test_records_and_migrations),
	    cmocka_unit_test(test_holds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
