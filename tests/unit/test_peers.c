/* test_peers.c - the other hosts as their state and load messages describe them, and
 * the memory held for migrations between two load messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/cluster/peers.h"

static cJSON *json(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	return j;
}

static void on_state(struct peers *p, const char *host, const char *text)
{
	cJSON *j = json(text);
	assert_int_equal(peers_on_state(p, host, j), 0);
	cJSON_Delete(j);
}

static void on_load(struct peers *p, const char *host, const char *text, int64_t now)
{
	cJSON *j = json(text);
	assert_int_equal(peers_on_load(p, host, j, now), 0);
	cJSON_Delete(j);
}

#define LOAD(free, out, vms)                                                                       \
	"{\"state\":\"online\",\"cpus\":8,\"cpu\":12.5,\"mem_total_mb\":8192,\"mem_free_"          \
	"mb\":" #free ",\"migrations_out\":" #out ",\"migrations_in\":0,\"vms\":[" vms "]}"

static void test_state(void **state)
{
	struct peers *p = peers_new();
	on_state(p, "h1",
	         "{\"state\":\"online\",\"session\":3,\"driver\":\"sim\",\"cpus\":8,"
	         "\"mem_total_mb\":8192,\"migrate_addr\":\"127.0.0.1:4000\"}");
	const struct peer *h = peers_find(p, "h1");
	assert_non_null(h);
	assert_string_equal(h->state, "online");
	assert_string_equal(h->migrate_addr, "127.0.0.1:4000");
	assert_string_equal(h->driver, "sim");
	assert_int_equal(h->session, 3);
	assert_int_equal(h->mem_total_mb, 8192);
	assert_false(h->have_load);
	assert_int_equal(peers_free_mb(p, "h1"), -1); /* no load yet */
	/* the Last Will: offline, no address */
	on_state(p, "h1", "{\"state\":\"offline\",\"session\":3}");
	assert_string_equal(peers_find(p, "h1")->state, "offline");
	assert_string_equal(peers_find(p, "h1")->migrate_addr, "");
	/* a message without a state is refused */
	cJSON *j = json("{\"session\":4}");
	assert_int_equal(peers_on_state(p, "h1", j), -1);
	cJSON_Delete(j);
	/* an empty retained payload forgets the host */
	assert_int_equal(peers_on_state(p, "h1", NULL), 0);
	assert_null(peers_find(p, "h1"));
	assert_int_equal(peers_count(p), 0);
	peers_free(p);
}

static void test_load(void **state)
{
	struct peers *p = peers_new();
	on_state(p, "h1", "{\"state\":\"online\"}");
	on_load(p, "h1", LOAD(6000, 1, "{\"name\":\"a\",\"state\":\"running\",\"mem_mb\":1024}"),
	        10);
	const struct peer *h = peers_find(p, "h1");
	assert_true(h->have_load);
	assert_int_equal(h->mem_free_mb, 6000);
	assert_int_equal(h->nvms, 1);
	assert_string_equal(h->vms[0].name, "a");
	assert_int_equal(h->vms[0].mem_mb, 1024);
	assert_true(h->cpu > 12 && h->cpu < 13);
	/* malformed: the previous figures stay */
	cJSON *j = json("{\"state\":\"online\",\"mem_free_mb\":1}");
	assert_int_equal(peers_on_load(p, "h1", j, 11), -1);
	cJSON_Delete(j);
	assert_int_equal(peers_find(p, "h1")->mem_free_mb, 6000);
	/* a load message knows maintenance too */
	on_load(p, "h1", "{\"state\":\"maintenance\",\"mem_free_mb\":6000,\"vms\":[]}", 12);
	assert_string_equal(peers_find(p, "h1")->state, "maintenance");
	peers_free(p);
}

static void test_vm_host_and_migrations(void **state)
{
	struct peers *p = peers_new();
	on_load(p, "h1",
	        LOAD(100, 2,
	             "{\"name\":\"a\",\"state\":\"outgoing\"},{\"name\":\"b\",\"state\":"
	             "\"outgoing\"}"),
	        1);
	on_load(p, "h2", LOAD(100, 1, "{\"name\":\"c\",\"state\":\"outgoing\"}"), 1);
	on_load(p, "h3",
	        LOAD(100, 4,
	             "{\"name\":\"d\",\"state\":\"outgoing\"},{\"name\":\"e\",\"state\":"
	             "\"outgoing\"},{\"name\":\"f\",\"state\":\"outgoing\"},{\"name\":\"g\","
	             "\"state\":\"outgoing\"}"),
	        1);
	assert_string_equal(peers_vm_host(p, "c", NULL), "h2");
	assert_string_equal(peers_vm_host(p, "a", NULL), "h1");
	assert_null(peers_vm_host(p, "a", "h1"));
	assert_null(peers_vm_host(p, "zzz", NULL));
	assert_int_equal(peers_migrations_out(p, NULL, 2, 1000), 7);
	assert_int_equal(peers_migrations_out(p, "h3", 2, 1000), 3);
	on_state(p, "h3", "{\"state\":\"offline\"}");
	assert_int_equal(peers_migrations_out(p, "h1", 2, 1000), 1); /* an offline host runs none */
	peers_free(p);
}

/* A peer's migration count is bounded, expires and cannot overflow the sum: one
 * retained load claiming many migrations must not fill the cluster's cap. */
static void test_migrations_bounded(void **state)
{
	struct peers *p = peers_new();
	/* it claims 8 but lists no VM leaving */
	on_load(p, "liar", LOAD(100, 8, "{\"name\":\"a\",\"state\":\"running\"}"), 1);
	assert_int_equal(peers_find(p, "liar")->migrations_out, 0);
	assert_int_equal(peers_migrations_out(p, NULL, 2, 1000), 0);
	/* absurd counts, from two hosts: clamped to what they list, no overflow */
	on_load(p, "h1", LOAD(100, 2147483647, "{\"name\":\"a\",\"state\":\"outgoing\"}"), 1);
	on_load(p, "h2", LOAD(100, 2147483647, "{\"name\":\"b\",\"state\":\"outgoing\"}"), 1);
	on_load(p, "h3", LOAD(100, 1e300, "{\"name\":\"c\",\"state\":\"outgoing\"}"), 1);
	assert_int_equal(peers_migrations_out(p, NULL, 2, 1000), 3);
	/* a count not refreshed within the ttl no longer counts */
	assert_int_equal(peers_migrations_out(p, NULL, 5000, 1000), 0);
	on_load(p, "h1", LOAD(100, 1, "{\"name\":\"a\",\"state\":\"outgoing\"}"), 4500);
	assert_int_equal(peers_migrations_out(p, NULL, 5000, 1000), 1);
	/* absurd memory is clamped, and free never exceeds total */
	on_load(p, "h4", LOAD(1e300, 0, ""), 1);
	assert_int_equal(peers_find(p, "h4")->mem_free_mb, 8192);
	peers_free(p);
}

static void test_reservations(void **state)
{
	struct peers *p = peers_new();
	on_load(p, "h1", LOAD(4096, 0, ""), 100);
	assert_int_equal(peers_reserve(p, "h1", "m1", 1024), 0);
	assert_int_equal(peers_reserve(p, "h1", "m2", 2048), 0);
	assert_int_equal(peers_free_mb(p, "h1"), 1024);
	/* m2 failed: its memory is free again at once */
	peers_release(p, "m2", 0, 150);
	assert_int_equal(peers_free_mb(p, "h1"), 3072);
	/* m1 arrived at 200: held until a load sent after that shows it */
	peers_release(p, "m1", 1, 200);
	assert_int_equal(peers_free_mb(p, "h1"), 3072);
	on_load(p, "h1", LOAD(4096, 0, ""), 190); /* an older message: still held */
	assert_int_equal(peers_free_mb(p, "h1"), 3072);
	on_load(p, "h1", LOAD(3072, 0, "{\"name\":\"m1vm\",\"mem_mb\":1024}"), 250);
	assert_int_equal(peers_free_mb(p, "h1"), 3072); /* counted once, by the host now */
	/* another host's load does not release h1's holds */
	assert_int_equal(peers_reserve(p, "h1", "m3", 1000), 0);
	peers_release(p, "m3", 1, 300);
	on_load(p, "h2", LOAD(10, 0, ""), 400);
	assert_int_equal(peers_free_mb(p, "h1"), 2072);
	peers_free(p);
}

/* Summaries carry the host figures, records the VMs: where a VM is, what is leaving. */
static void test_summary_and_records(void **state)
{
	struct peers *p = peers_new();
	on_state(p, "h2", "{\"state\":\"online\",\"migrate_addr\":\"127.0.0.1:7000\"}");
	cJSON *r = json("{\"name\":\"web\",\"host\":\"h2\",\"state\":\"outgoing\","
	                "\"mem_mb\":1024}");
	cJSON *wrong = json("{\"name\":\"web\",\"host\":\"h3\",\"state\":\"running\"}");
	assert_int_equal(peers_on_vm(p, "h2", "web", r), 0);
	assert_int_equal(peers_on_vm(p, "h2", "web", wrong), -1);
	cJSON *s = json("{\"state\":\"online\",\"cpus\":8,\"cpu\":10,\"load\":10,"
	                "\"vm_cpu\":50,\"nvms\":1,\"mem_total_mb\":8192,\"mem_free_mb\":4096,"
	                "\"migrations_out\":3,\"migrations_in\":0,\"refresh_ms\":60000}");
	assert_int_equal(peers_on_summary(p, "h2", s, 100), 0);
	const struct peer *h = peers_find(p, "h2");
	assert_non_null(h);
	assert_string_equal(h->migrate_addr, "127.0.0.1:7000");
	assert_int_equal(h->mem_free_mb, 4096);
	assert_int_equal(h->migrations_out, 1); /* one VM leaving */
	assert_int_equal(h->refresh_ms, 60000);
	assert_int_equal(peers_free_mb(p, "h2"), 4096);
	assert_string_equal(peers_vm_host(p, "web", NULL), "h2");
	assert_int_equal(peers_on_vm(p, "h2", "web", NULL), 0);
	assert_null(peers_vm_host(p, "web", NULL));
	cJSON_Delete(r);
	cJSON_Delete(wrong);
	cJSON_Delete(s);
	peers_free(p);
}

/* A drain decides on the balancer's view with this table's free memory: the holds of
 * its migrations in flight count, and a released hold or a newer load frees the room. */
static void test_view_free(void **state)
{
	struct peers *p = peers_new();
	struct bal_host hosts[3];
	memset(hosts, 0, sizeof hosts);
	snprintf(hosts[0].name, sizeof hosts[0].name, "h1");
	snprintf(hosts[1].name, sizeof hosts[1].name, "h2");
	snprintf(hosts[2].name, sizeof hosts[2].name, "h3"); /* no load here */
	for (int i = 0; i < 3; i++)
		hosts[i].mem_free_mb = 1000;
	on_load(p, "h1", LOAD(6144, 0, ""), 100);
	on_load(p, "h2", LOAD(2048, 0, ""), 100);
	assert_int_equal(peers_reserve(p, "h1", "m1", 2048), 0);
	peers_view_free(p, hosts, 3);
	assert_int_equal(hosts[0].mem_free_mb, 4096); /* m1 in flight holds its memory */
	assert_int_equal(hosts[1].mem_free_mb, 2048); /* the view's older figure is replaced */
	assert_int_equal(hosts[2].mem_free_mb, 1000); /* nothing known here: left alone */
	/* m1 failed: the memory is free again at once, without waiting for a load */
	peers_release(p, "m1", 0, 150);
	peers_view_free(p, hosts, 3);
	assert_int_equal(hosts[0].mem_free_mb, 6144);
	/* VMs moved away from h2: its next load frees the room */
	on_load(p, "h2", LOAD(6144, 0, ""), 200);
	peers_view_free(p, hosts, 3);
	assert_int_equal(hosts[1].mem_free_mb, 6144);
	peers_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_vm_host_and_migrations),
	    cmocka_unit_test(test_migrations_bounded),
	    cmocka_unit_test(test_reservations),
	    cmocka_unit_test(test_summary_and_records),
	    cmocka_unit_test(test_view_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
