/* test_guests.c - guest figures as the host agent keeps them: validation, freshness,
 * the JSON attached to VM records, forgetting and pruning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../agents/hostd/guests.h"
#include "../../lib/cluster/balance_view.h"
#include "../../lib/core/limits.h"

/* Feeds json as vm's report; GOOD's sender "guest/web1" becomes "guest/<vm>". */
static int feed(struct guests *g, const char *vm, const char *json, int64_t now)
{
	char err[256], buf[1024];
	const char *at = strstr(json, "guest/web1");
	if (at && strcmp(vm, "web1") != 0) {
		snprintf(buf, sizeof buf, "%.*sguest/%s%s", (int)(at - json), json, vm, at + 10);
		json = buf;
	}
	return guests_on_load(g, vm, json, strlen(json), now, err, sizeof err);
}

#define GOOD                                                                                       \
	"{\"v\":1,\"from\":\"guest/web1\",\"ts\":5,\"seq\":7,\"cpu\":42.5,\"steal\":12,"           \
	"\"vcpus\":2,\"mem_total_mb\":2048,\"mem_used_mb\":512,\"load1\":0.5,\"load5\":0.25,"      \
	"\"load15\":0.125,\"disk_used_pct\":33.3,\"uptime_s\":100}"

static void test_keep_and_attach(void **state)
{
	struct guests *g = guests_new();
	assert_int_equal(feed(g, "web1", GOOD, 1000), 0);
	const struct guest_figures *f = guests_get(g, "web1", 1000);
	assert_non_null(f);
	assert_true(f->cpu == 42.5);
	assert_true(f->steal == 12);
	assert_int_equal(f->mem_used_mb, 512);
	assert_int_equal(f->vcpus, 2);
	assert_int_equal(f->seq, 7);
	assert_int_equal(f->has & (GUEST_HAS_CPU | GUEST_HAS_LOAD | GUEST_HAS_DISK),
	                 GUEST_HAS_CPU | GUEST_HAS_LOAD | GUEST_HAS_DISK);
	cJSON *o = guests_json(g, "web1", 1500);
	assert_non_null(o);
	assert_true(cJSON_GetObjectItem(o, "cpu")->valuedouble == 42.5);
	assert_int_equal(cJSON_GetObjectItem(o, "mem_used_mb")->valueint, 512);
	assert_true(cJSON_GetObjectItem(o, "load15")->valuedouble == 0.125);
	assert_int_equal(cJSON_GetObjectItem(o, "age_ms")->valueint, 500);
	cJSON_Delete(o);
	assert_null(guests_json(g, "other", 1000));
	/* a partial message: only what it carries */
	assert_int_equal(feed(g, "db", "{\"v\":1,\"from\":\"guest/db\",\"ts\":1,\"cpu\":5}", 1000),
	                 0);
	o = guests_json(g, "db", 1000);
	assert_null(cJSON_GetObjectItem(o, "load1"));
	assert_non_null(cJSON_GetObjectItem(o, "cpu"));
	cJSON_Delete(o);
	assert_int_equal(guests_count(g), 2);
	guests_forget(g, "db");
	assert_int_equal(guests_count(g), 1);
	assert_null(guests_get(g, "db", 1000));
	guests_free(g);
}

static void test_rejected(void **state)
{
	struct guests *g = guests_new();
	static const char *const bad[] = {
	    "not json",
	    "[1,2]",
	    "{\"cpu\":5}", /* no envelope */
	    "{\"v\":1,\"from\":\"x\",\"ts\":1,\"cpu\":-3}",
	    "{\"v\":1,\"from\":\"x\",\"ts\":1,\"cpu\":\"high\"}",
	    "{\"v\":1,\"from\":\"x\",\"ts\":1,\"mem_used_mb\":-1}",
	    "{\"v\":1,\"from\":\"x\",\"ts\":1,\"vcpus\":0}",
	    "{\"v\":2,\"from\":\"x\",\"ts\":1}",
	    /* a report speaking for another guest */
	    "{\"v\":1,\"from\":\"guest/db\",\"ts\":1,\"cpu\":5}",
	    "{\"v\":1,\"from\":\"host/web1\",\"ts\":1,\"cpu\":5}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(feed(g, "web1", bad[i], 1), -1);
	assert_int_equal(feed(g, "../x", GOOD, 1), -1);
	assert_int_equal(guests_count(g), 0);
	/* a bad message leaves the previous figures */
	assert_int_equal(feed(g, "web1", GOOD, 1), 0);
	assert_int_equal(feed(g, "web1", bad[3], 2), -1);
	assert_true(guests_get(g, "web1", 2)->cpu == 42.5);
	guests_free(g);
}

/* The guest's report and the balancer's view share one table of bounds: what the host
 * keeps of a guest, the balancer takes; what is absurd, neither does. */
static void test_same_bounds_as_balancer(void **state)
{
	struct guests *g = guests_new();
	char json[512], err[256];
	assert_int_equal(feed(g, "web1",
	                      "{\"v\":1,\"from\":\"guest/web1\",\"ts\":1,\"mem_total_mb\":"
	                      "1e12,\"mem_used_mb\":1e12}",
	                      1),
	                 -1);
	assert_int_equal(feed(g, "web1",
	                      "{\"v\":1,\"from\":\"guest/web1\",\"ts\":1,\"mem_used_mb\":9,"
	                      "\"mem_total_mb\":8}",
	                      1),
	                 -1);
	snprintf(json, sizeof json,
	         "{\"v\":1,\"from\":\"guest/web1\",\"ts\":1,\"cpu\":%g,\"steal\":%g,"
	         "\"load1\":%g,\"mem_total_mb\":%.0f,\"mem_used_mb\":%.0f}",
	         lim_find(LIM_GUEST, "cpu")->max, lim_find(LIM_GUEST, "steal")->max,
	         lim_find(LIM_GUEST, "load1")->max, lim_find(LIM_GUEST, "mem_total_mb")->max,
	         lim_find(LIM_GUEST, "mem_used_mb")->max);
	assert_int_equal(feed(g, "web1", json, 1), 0);
	cJSON *load = cJSON_Parse("{\"cpus\":4,\"cpu\":1,\"mem_total_mb\":8192,\"mem_free_mb\":"
	                          "4096,\"vms\":[{\"name\":\"web1\",\"state\":\"running\","
	                          "\"vcpus\":1,\"mem_mb\":512}]}");
	cJSON_AddItemToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(load, "vms"), 0), "guest",
	                      guests_json(g, "web1", 1));
	struct bview v;
	struct cluster_model *m = cluster_model_new(0);
	bview_init(&v, "h1");
	assert_int_equal(bview_own_load(&v, m, load, err, sizeof err), 0);
	size_t ng;
	assert_true(bview_guests(&v, &ng)[0].known);
	cJSON_Delete(load);
	bview_free(&v);
	cluster_model_free(m);
	guests_free(g);
}

static void test_staleness(void **state)
{
	struct guests *g = guests_new();
	/* every 5 s: stale after 3 intervals (15 s) */
	assert_int_equal(feed(g, "web1", GOOD, 0), 0);
	assert_int_equal(feed(g, "web1", GOOD, 5000), 0);
	assert_non_null(guests_get(g, "web1", 5000 + 15000));
	assert_null(guests_get(g, "web1", 5000 + 15001));
	/* fast publishers still get the minimum */
	assert_int_equal(feed(g, "fast", GOOD, 0), 0);
	assert_int_equal(feed(g, "fast", GOOD, 100), 0);
	assert_non_null(guests_get(g, "fast", 100 + GUESTS_MIN_AGE_MS));
	assert_null(guests_get(g, "fast", 101 + GUESTS_MIN_AGE_MS));
	assert_int_equal(guests_prune(g, 100000), 2);
	assert_int_equal(guests_count(g), 0);
	guests_free(g);
}

static void test_many(void **state)
{
	struct guests *g = guests_new();
	char vm[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(vm, sizeof vm, "vm%d", i);
		assert_int_equal(feed(g, vm, GOOD, i), 0);
	}
	assert_int_equal(guests_count(g), 5000);
	assert_non_null(guests_get(g, "vm4999", 5000));
	assert_non_null(guests_get(g, "vm0", 5000));
	guests_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keep_and_attach),
	    cmocka_unit_test(test_rejected),
	    cmocka_unit_test(test_staleness),
	    cmocka_unit_test(test_same_bounds_as_balancer),
	    cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
