/* test_vmc_listing.c - `vmc hosts` / `vmc vms` read the cluster model: what they print
 * is what the host agents' messages say, field for field and in their order, and the
 * model keeps all of it (long tag lists, every guest figure, the agent's own ts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../console/vmc/listing.h"
#include "../../lib/cluster/cluster_model.h"
#include "../lib/model_feed.h"

#define T0 INT64_C(1700000000000)

static char err[VMC_ERR_MAX];

/* A load as vmc-hostd writes it, with the VM objects vms (JSON text). */
static void load(struct cluster_model *m, const char *host, const char *st, long session,
                 int64_t ts, int retained, const char *vms)
{
	char topic[64], json[8192];
	snprintf(topic, sizeof(topic), "host/%s/load", host);
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":%lld,\"seq\":4,\"name\":\"%s\","
	         "\"state\":\"%s\",\"driver\":\"sim\",\"cpus\":8,\"cpu\":37.5,"
	         "\"mem_total_mb\":32768,\"mem_used_mb\":4096,\"mem_free_mb\":28672,"
	         "\"migrations_out\":1,\"migrations_in\":0,\"version\":\"sim 1\","
	         "\"session\":%ld,\"vms\":[%s]}",
	         host, (long long)ts, host, st, session, vms);
	int rc = model_feed(m, topic, json, retained, retained ? T0 + 60000 : ts, err, sizeof(err));
	if (rc != 1)
		fail_msg("load of %s: %s", host, err);
}

static void assert_json(cJSON *arr, const char *want)
{
	char *got = cJSON_PrintUnformatted(arr);
	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s", got, want);
	free(got);
	cJSON_Delete(arr);
}

#define GUEST                                                                                      \
	"{\"cpu\":10.5,\"steal\":0,\"mem_total_mb\":990,\"mem_used_mb\":300,\"load1\":0.25,"       \
	"\"load5\":0.5,\"load15\":0.75,\"disk_used_pct\":40,\"uptime_s\":1000,\"vcpus\":2,"        \
	"\"seq\":7,\"age_ms\":150}"
#define WEB1                                                                                       \
	"{\"name\":\"web1\",\"host\":\"h1\",\"state\":\"running\",\"vcpus\":2,\"mem_mb\":1024,"    \
	"\"cpu\":12.5,\"net_rx\":100,\"net_tx\":200,\"blk_rd\":3,\"blk_wr\":4,"                    \
	"\"tags\":[\"web\",\"ha\"],\"held_until\":1700000100000,\"guest\":" GUEST "}"
#define DB1                                                                                        \
	"{\"name\":\"db1\",\"host\":\"h1\",\"state\":\"stopped\",\"vcpus\":1,\"mem_mb\":512,"      \
	"\"cpu\":0,\"tags\":[]}"

static void test_hosts_as_their_messages_say(void **s)
{
	struct cluster_model *m = cluster_model_new(1);
	model_feed_state(m, "h2", "online", 3, T0 - 5000, 1, T0 + 60000);
	load(m, "h2", "online", 3, T0, 1, WEB1 "," DB1);
	model_feed_state(m, "h1", "maintenance", 2, T0 - 9000, 1, T0 + 60000); /* no load yet */
	assert_json(listing_hosts(m),
	            "[{\"name\":\"h1\",\"state\":\"maintenance\",\"cpus\":8,\"cpu\":0,"
	            "\"mem_total_mb\":32768,\"mem_used_mb\":0,\"mem_free_mb\":0,\"vms\":0,"
	            "\"migrations_out\":0,\"migrations_in\":0,\"session\":2,\"driver\":\"sim\","
	            "\"last_seen_ms\":1699999991000},"
	            "{\"name\":\"h2\",\"state\":\"online\",\"cpus\":8,\"cpu\":37.5,"
	            "\"mem_total_mb\":32768,\"mem_used_mb\":4096,\"mem_free_mb\":28672,\"vms\":2,"
	            "\"migrations_out\":1,\"migrations_in\":0,\"session\":3,\"driver\":\"sim\","
	            "\"last_seen_ms\":1700000000000}]");
	cluster_model_free(m);
}

static void test_vms_as_the_load_lists_them(void **s)
{
	struct cluster_model *m = cluster_model_new(1);
	model_feed_state(m, "h1", "online", 3, T0 - 5000, 1, T0 + 60000);
	load(m, "h1", "online", 3, T0, 1, WEB1 "," DB1);
	const char *web1 = "{\"name\":\"web1\",\"state\":\"running\",\"vcpus\":2,\"mem_mb\":1024,"
	                   "\"cpu\":12.5,\"net_rx\":100,\"net_tx\":200,\"blk_rd\":3,\"blk_wr\":4,"
	                   "\"tags\":[\"web\",\"ha\"],\"held_until\":1700000100000,"
	                   "\"guest\":" GUEST ",\"host\":\"h1\",\"host_state\":\"online\"}";
	char want[4096];
	snprintf(want, sizeof(want),
	         "[{\"name\":\"db1\",\"state\":\"stopped\",\"vcpus\":1,\"mem_mb\":512,\"cpu\":0,"
	         "\"tags\":[],\"host\":\"h1\",\"host_state\":\"online\"},%s]",
	         web1);
	assert_json(listing_vms(m, NULL), want);
	assert_json(listing_vms(m, "h2"), "[]");
	/* the next load lists web1 without figures of disks and network, hold or guest */
	load(m, "h1", "online", 3, T0 + 2000, 0,
	     "{\"name\":\"web1\",\"host\":\"h1\",\"state\":\"paused\",\"vcpus\":2,\"mem_mb\":1024,"
	     "\"cpu\":0,\"tags\":[\"web\"]}");
	assert_json(
	    listing_vms(m, "h1"),
	    "[{\"name\":\"web1\",\"state\":\"paused\",\"vcpus\":2,\"mem_mb\":1024,\"cpu\":0,"
	    "\"tags\":[\"web\"],\"host\":\"h1\",\"host_state\":\"online\"}]");
	cluster_model_free(m);
}

/* The VMs of a host whose agent is gone: unknown, the last state kept, no CPU. */
static void test_vms_of_an_offline_host(void **s)
{
	struct cluster_model *m = cluster_model_new(1);
	model_feed_state(m, "h1", "offline", 3, T0 + 1000, 1, T0 + 60000); /* its Last Will */
	load(m, "h1", "online", 3, T0, 1, DB1);
	assert_json(listing_vms(m, NULL),
	            "[{\"name\":\"db1\",\"vcpus\":1,\"mem_mb\":512,\"tags\":[],\"host\":\"h1\","
	            "\"host_state\":\"offline\",\"last_state\":\"stopped\",\"state\":\"unknown\","
	            "\"cpu\":null}]");
	cluster_model_free(m);
}

/* Every tag of the 32 a host agent allows, whatever their length. */
static void test_long_tag_lists(void **s)
{
	struct cluster_model *m = cluster_model_new(1);
	char tags[32 * 70] = "", vm[4096];
	size_t used = 0;
	for (int i = 0; i < 32; i++)
		used += (size_t)snprintf(tags + used, sizeof(tags) - used, "%s\"t%02d%.61d\"",
		                         i ? "," : "", i, 0);
	snprintf(vm, sizeof(vm),
	         "{\"name\":\"v\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1,\"cpu\":0,"
	         "\"tags\":[%s]}",
	         tags);
	load(m, "h1", "online", 1, T0, 0, vm);
	const struct cm_vm *v = cluster_model_vm_find(m, "v");
	assert_int_equal(strlen(v->tags), 32 * 64 + 31);
	cJSON *arr = listing_vms(m, NULL);
	const cJSON *t = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "tags");
	assert_int_equal(cJSON_GetArraySize(t), 32);
	assert_int_equal(strlen(cJSON_GetArrayItem(t, 31)->valuestring), 64);
	cJSON_Delete(arr);
	/* none: no "tags" at all */
	load(m, "h1", "online", 1, T0 + 2000, 0,
	     "{\"name\":\"v\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1,\"cpu\":0}");
	assert_json(listing_vms(m, NULL),
	            "[{\"name\":\"v\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1,\"cpu\":0,"
	            "\"host\":\"h1\",\"host_state\":\"online\"}]");
	cluster_model_free(m);
}

/* HA restarted a1 on h1 after h3 died: h3's last (retained) load, which still lists it,
 * does not take it back, in whichever order the broker delivers the two. */
static void test_dead_host_keeps_no_vm_of_a_live_one(void **s)
{
	for (int order = 0; order < 2; order++) {
		struct cluster_model *m = cluster_model_new(1);
		model_feed_state(m, "h1", "online", 1, T0, 1, T0 + 60000);
		model_feed_state(m, "h3", "offline", 1, T0 + 5000, 1, T0 + 60000);
		if (order)
			load(m, "h3", "online", 1, T0 + 1000, 1, DB1);
		load(m, "h1", "online", 1, T0 + 9000, 1, DB1);
		if (!order)
			load(m, "h3", "online", 1, T0 + 1000, 1, DB1);
		const struct cm_vm *v = cluster_model_vm_find(m, "db1");
		assert_string_equal(v->host, "h1");
		assert_false(cluster_model_vm_stale(m, v));
		assert_int_equal(cluster_model_host_find(m, "h3")->nvms, 1); /* as its load says */
		cJSON *arr = listing_vms(m, NULL);
		assert_int_equal(cJSON_GetArraySize(arr), 1);
		cJSON_Delete(arr);
		cluster_model_free(m);
	}
}

/* A retained load older than the retained state does not undo what the state says
 * (state, session); the live loads after it do. */
static void test_state_newer_than_retained_load(void **s)
{
	struct cluster_model *m = cluster_model_new(1);
	model_feed_state(m, "h1", "maintenance", 6, T0 + 1000, 1, T0 + 60000);
	load(m, "h1", "online", 5, T0, 1, "");
	const struct cm_host *h = cluster_model_host_find(m, "h1");
	assert_int_equal(h->state, CM_HOST_MAINTENANCE);
	assert_int_equal(h->session, 6);
	assert_false(cluster_model_host_reported(h));
	load(m, "h1", "online", 6, T0 + 3000, 0, "");
	assert_int_equal(h->state, CM_HOST_ONLINE);
	assert_true(cluster_model_host_reported(h));
	/* a host whose new state has not come: its load names the new session */
	load(m, "h1", "online", 7, T0 + 5000, 0, "");
	assert_int_equal(h->session, 7);
	cluster_model_free(m);
}

/* A host whose ts is in another unit (ns) is still listed, its own ts as it came. */
static void test_ts_of_another_unit(void **s)
{
	struct cluster_model *m = cluster_model_new(1);
	load(m, "h1", "online", 1, INT64_C(1700000000000000000), 1, DB1);
	assert_non_null(cluster_model_vm_find(m, "db1"));
	assert_true(cluster_model_host_find(m, "h1")->last_seen_ms <= T0 + 60000);
	cluster_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hosts_as_their_messages_say),
	    cmocka_unit_test(test_vms_as_the_load_lists_them),
	    cmocka_unit_test(test_vms_of_an_offline_host),
	    cmocka_unit_test(test_long_tag_lists),
	    cmocka_unit_test(test_dead_host_keeps_no_vm_of_a_live_one),
	    cmocka_unit_test(test_state_newer_than_retained_load),
	    cmocka_unit_test(test_ts_of_another_unit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
