/* test_balance_view.c - a balancer's view, built from the cluster model (state messages,
 * summaries and records of the other hosts) and this host's own loads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/cluster/balance_view.h"

/* Applies a message to m (fails the test if the model refuses it, unless bad). */
static int apply(struct cluster_model *m, const char *topic, const char *json, int bad)
{
	char err[256];
	int rc =
	    cluster_model_apply(m, topic, json, json ? strlen(json) : 0, 0, 1000, err, sizeof err);
	if (!bad && rc < 0)
		fail_msg("%s: %s", topic, err);
	return rc;
}

static void set_state(struct cluster_model *m, const char *host, const char *st)
{
	char topic[64], json[160];
	snprintf(topic, sizeof topic, "host/%s/state", host);
	snprintf(json, sizeof json, "{\"v\":1,\"from\":\"host/%s\",\"ts\":1,\"state\":\"%s\"}",
	         host, st);
	apply(m, topic, json, 0);
}

static const char *load_h1 =
    "{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"seq\":3,\"state\":\"online\",\"cpus\":4,"
    "\"cpu\":100,\"mem_total_mb\":16384,\"mem_used_mb\":4096,\"mem_free_mb\":12288,"
    "\"migrations_out\":1,\"migrations_in\":0,\"vms\":["
    "{\"name\":\"a\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1024,\"cpu\":50,"
    "\"tags\":[\"pinned\",\"anti-affinity:db\"],\"guest\":{\"cpu\":50,\"steal\":50,"
    "\"load1\":1.5}},"
    "{\"name\":\"b\",\"state\":\"outgoing\",\"vcpus\":2,\"mem_mb\":2048,\"cpu\":150,"
    "\"held_until\":90000},"
    "{\"name\":\"c\",\"state\":\"stopped\",\"vcpus\":1,\"mem_mb\":512,\"cpu\":0}]}";

static void test_load_and_state(void **state)
{
	struct bview v;
	struct cluster_model *cm = cluster_model_new(0);
	cluster_model_keep_records(cm);
	bview_init(&v, "h1");
	char err[256];
	cJSON *m = cJSON_Parse(load_h1);
	assert_int_equal(bview_own_load(&v, cm, m, err, sizeof err), 0);
	cJSON_Delete(m);
	/* a host only heard of by its load is not in the view: no birth yet */
	assert_int_equal(bview_get(&v, cm, 41)->nhosts, 0);
	set_state(cm, "h1", "online");
	/* a host only heard of by its state message is not in the view yet */
	set_state(cm, "h2", "maintenance");
	const struct bal_view *bv = bview_get(&v, cm, 42);
	assert_int_equal(bv->nhosts, 1);
	assert_int_equal(bv->now_ms, 42);
	const struct bal_host *h = &bv->hosts[0];
	assert_string_equal(h->name, "h1");
	assert_int_equal(h->state, BAL_ONLINE);
	assert_int_equal(h->cpus, 4);
	assert_int_equal(h->mem_free_mb, 12288);
	assert_int_equal(h->migrations_out, 1); /* b is outgoing */
	assert_int_equal(h->nvms, 2);           /* the stopped VM holds nothing */
	assert_true(h->vms[0].flags & BAL_VM_PINNED);
	assert_string_equal(h->vms[0].anti, "db");
	assert_true(h->vms[0].steal == 50);
	assert_true(h->vms[1].steal < 0);
	assert_true(h->vms[1].flags & BAL_VM_MIGRATING);
	assert_int_equal(h->vms[0].held_until, 0);
	assert_int_equal(h->vms[1].held_until, 90000);
	struct rule_settings s;
	rule_settings_default(&s);
	/* 400 measured - 200 used by the VMs = 200 overhead; a: 50 use + 50 steal; b: no
	 * steal on a saturated host: 2 vcpus' worth: (200 + 100 + 200) / 4 */
	assert_true(fabs(bal_host_load(h, &s) - 125) < 1e-9);
	size_t ng;
	const struct rule_guest *g = bview_guests(&v, &ng);
	assert_int_equal(ng, 2);
	assert_true(g[0].known && g[0].steal == 50 && g[0].load1 == 1.5);
	assert_string_equal(g[0].vm, "a");
	assert_false(g[1].known);
	assert_non_null(bview_own(&v));
	cluster_model_host_standby(cm, "h1");
	bv = bview_get(&v, cm, 43);
	assert_int_equal(bv->hosts[0].state, BAL_STANDBY);
	/* a standby host that goes offline stays standby */
	set_state(cm, "h1", "offline");
	assert_int_equal(bview_get(&v, cm, 44)->hosts[0].state, BAL_STANDBY);
	set_state(cm, "h1", "online");
	set_state(cm, "h1", "offline");
	assert_int_equal(bview_get(&v, cm, 44)->hosts[0].state, BAL_OFFLINE);
	bview_free(&v);
	cluster_model_free(cm);
}

static void test_bad_loads(void **state)
{
	struct bview v;
	struct cluster_model *cm = cluster_model_new(0);
	bview_init(&v, "h1");
	char err[256];
	const struct {
		const char *json, *want;
	} cases[] = {
	    {"{\"cpus\":4,\"cpu\":1,\"mem_total_mb\":1,\"mem_free_mb\":1}", "vms: missing"},
	    {"{\"cpus\":0,\"cpu\":1,\"mem_total_mb\":1,\"mem_free_mb\":1,\"vms\":[]}", "cpus"},
	    {"{\"cpus\":4,\"cpu\":1,\"mem_total_mb\":1,\"mem_free_mb\":2,\"vms\":[]}",
	     "mem_free_mb"},
	    {"{\"cpus\":4,\"cpu\":1,\"mem_total_mb\":1,\"mem_free_mb\":1,\"migrations_out\":"
	     "1e12,\"vms\":[]}",
	     "migrations_out"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *m = cJSON_Parse(cases[i].json);
		assert_int_equal(bview_own_load(&v, cm, m, err, sizeof err), -1);
		cJSON_Delete(m);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].want, err);
	}
	set_state(cm, "h1", "online");
	assert_int_equal(bview_get(&v, cm, 1)->nhosts, 0);
	assert_null(bview_own(&v));
	bview_free(&v);
	cluster_model_free(cm);
}

/* One bad VM or one guest's absurd figures drop that VM or those figures only: the
 * host's view stays, with its other VMs. */
static void test_bad_vm_or_guest_only(void **state)
{
	struct bview v;
	struct cluster_model *cm = cluster_model_new(0);
	bview_init(&v, "h1");
	char err[256];
	cJSON *m = cJSON_Parse(
	    "{\"cpus\":4,\"cpu\":1,\"mem_total_mb\":8192,\"mem_free_mb\":4096,\"vms\":["
	    "{\"name\":\"x y\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1},"
	    "{\"name\":\"g\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":512,\"guest\":"
	    "{\"mem_used_mb\":1e12,\"steal\":5}},"
	    "{\"name\":\"h\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1e15},"
	    "{\"name\":\"ok\",\"state\":\"running\",\"vcpus\":2,\"mem_mb\":1024,\"guest\":"
	    "{\"steal\":10}}]}");
	set_state(cm, "h1", "online");
	assert_int_equal(bview_own_load(&v, cm, m, err, sizeof err), 1);
	cJSON_Delete(m);
	assert_non_null(strstr(err, "vms[0].name"));
	const struct bal_view *bv = bview_get(&v, cm, 1);
	assert_int_equal(bv->nhosts, 1);
	assert_int_equal(bv->hosts[0].nvms, 2);
	assert_string_equal(bv->hosts[0].vms[0].name, "g");
	assert_true(bv->hosts[0].vms[0].steal < 0); /* its guest figures were dropped */
	assert_string_equal(bv->hosts[0].vms[1].name, "ok");
	assert_true(bv->hosts[0].vms[1].steal == 10);
	size_t ng;
	const struct rule_guest *g = bview_guests(&v, &ng);
	assert_int_equal(ng, 2);
	assert_false(g[0].known);
	assert_true(g[1].known);
	/* a claimed migration count is no more than the VMs listed as leaving */
	m = cJSON_Parse("{\"cpus\":4,\"cpu\":1,\"mem_total_mb\":8192,\"mem_free_mb\":4096,"
	                "\"migrations_out\":8,\"vms\":[]}");
	assert_int_equal(bview_own_load(&v, cm, m, err, sizeof err), 0);
	cJSON_Delete(m);
	assert_int_equal(bview_get(&v, cm, 2)->hosts[0].migrations_out, 0);
	/* a load cannot bring back a host its state message took offline */
	set_state(cm, "h1", "offline");
	m = cJSON_Parse("{\"state\":\"online\",\"cpus\":4,\"cpu\":1,\"mem_total_mb\":8192,"
	                "\"mem_free_mb\":4096,\"vms\":[]}");
	assert_int_equal(bview_own_load(&v, cm, m, err, sizeof err), 0);
	cJSON_Delete(m);
	assert_int_equal(bview_get(&v, cm, 3)->hosts[0].state, BAL_OFFLINE);
	bview_free(&v);
	cluster_model_free(cm);
}

/* A peer known from its summary and the records of its VMs: its load is the summary's,
 * its VMs are the records that hold resources, sharing vm_cpu by their vCPUs. */
static void test_summary_and_records(void **state_)
{
	struct bview v;
	struct cluster_model *cm = cluster_model_new(0);
	cluster_model_keep_records(cm);
	bview_init(&v, "h1");
	struct rule_settings s;
	rule_settings_default(&s);
	char err[256];
#define ENV "\"v\":1,\"from\":\"host/h2\",\"ts\":1,"
	apply(cm, "host/h2/vm/x",
	      "{" ENV "\"name\":\"x\",\"host\":\"h2\",\"state\":\"running\",\"vcpus\":1,"
	      "\"mem_mb\":1024,\"cpu\":3,\"tags\":[\"anti-affinity:db\"]}",
	      0);
	apply(cm, "host/h2/vm/y",
	      "{" ENV "\"name\":\"y\",\"host\":\"h2\",\"state\":\"outgoing\",\"vcpus\":3,"
	      "\"mem_mb\":2048,\"cpu\":0}",
	      0);
	apply(cm, "host/h2/vm/z",
	      "{" ENV "\"name\":\"z\",\"host\":\"h2\",\"state\":\"stopped\",\"vcpus\":1,"
	      "\"mem_mb\":512,\"cpu\":0}",
	      0);
	/* a record must name the host whose topic it is on, and its VM */
	assert_int_equal(apply(cm, "host/h2/vm/w",
	                       "{" ENV "\"name\":\"w\",\"host\":\"h3\",\"state\":\"running\","
	                       "\"vcpus\":1,\"mem_mb\":512,\"cpu\":0}",
	                       1),
	                 -1);
	assert_int_equal(apply(cm, "host/h2/vm/q",
	                       "{" ENV "\"name\":\"x\",\"host\":\"h2\",\"state\":\"running\","
	                       "\"vcpus\":1,\"mem_mb\":512}",
	                       1),
	                 -1);
	const char *sum = "{" ENV "\"session\":2,\"state\":\"online\",\"cpus\":4,\"cpu\":30,"
	                  "\"load\":40,\"vm_cpu\":120,\"nvms\":2,\"mem_total_mb\":16384,"
	                  "\"mem_free_mb\":8192,\"migrations_out\":5,\"migrations_in\":0}";
	apply(cm, "host/h2/summary", sum, 0);
	const struct bal_view *bv = bview_get(&v, cm, 1);
	/* a live summary with the host's session stands for its birth */
	assert_int_equal(bv->nhosts, 1);
	const struct bal_host *h = &bv->hosts[0];
	assert_string_equal(h->name, "h2");
	assert_int_equal(h->nvms, 2);           /* z is stopped */
	assert_int_equal(h->migrations_out, 1); /* only y is leaving */
	assert_int_equal(h->mem_free_mb, 8192);
	assert_true(fabs(bal_host_load(h, &s) - 40) < 1e-9);
	int xi = bal_host_find_vm(h, "x"), yi = bal_host_find_vm(h, "y");
	assert_true(xi >= 0 && yi >= 0);
	assert_true(fabs(h->vms[xi].cpu - 30) < 1e-9); /* 120 x 1/4 vCPUs */
	assert_true(fabs(h->vms[yi].cpu - 90) < 1e-9);
	assert_string_equal(h->vms[xi].anti, "db");
	/* a cleared record: the VM left */
	apply(cm, "host/h2/vm/x", NULL, 0);
	h = &bview_get(&v, cm, 2)->hosts[0];
	assert_int_equal(h->nvms, 1);
	assert_true(fabs(h->vms[0].cpu - 120) < 1e-9);
	assert_true(fabs(bal_host_load(h, &s) - 40) < 1e-9);
	/* a record that stops holding leaves the VMs, and comes back when it holds again;
	 * a new vm_cpu is shared out at once */
	apply(cm, "host/h2/vm/z",
	      "{" ENV "\"name\":\"z\",\"host\":\"h2\",\"state\":\"running\",\"vcpus\":1,"
	      "\"mem_mb\":512,\"cpu\":0}",
	      0);
	h = &bview_get(&v, cm, 2)->hosts[0];
	assert_int_equal(h->nvms, 2);
	assert_true(fabs(h->vms[bal_host_find_vm(h, "z")].cpu - 30) < 1e-9); /* 1 of 4 vCPUs */
	apply(cm, "host/h2/vm/z",
	      "{" ENV "\"name\":\"z\",\"host\":\"h2\",\"state\":\"stopped\",\"vcpus\":1,"
	      "\"mem_mb\":512,\"cpu\":0}",
	      0);
	h = &bview_get(&v, cm, 2)->hosts[0];
	assert_int_equal(h->nvms, 1);
	assert_string_equal(h->vms[0].name, "y");
	assert_true(fabs(h->vms[0].cpu - 120) < 1e-9);
	apply(cm, "host/h2/summary",
	      "{" ENV "\"session\":2,\"state\":\"online\",\"cpus\":4,"
	      "\"cpu\":30,\"load\":40,\"vm_cpu\":60,\"nvms\":2,\"mem_total_mb\":16384,"
	      "\"mem_free_mb\":8192,\"migrations_out\":5,\"migrations_in\":0}",
	      0);
	h = &bview_get(&v, cm, 2)->hosts[0];
	assert_true(fabs(h->vms[0].cpu - 60) < 1e-9);
	apply(cm, "host/h2/summary", sum, 0);
	/* a summary out of bounds changes nothing */
	char bad[512];
	snprintf(bad, sizeof bad, "%s", sum);
	memcpy(strstr(bad, "\"load\":40"), "\"load\":-1", 9);
	assert_int_equal(
	    cluster_model_apply(cm, "host/h2/summary", bad, strlen(bad), 0, 1000, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "load"));
	assert_true(fabs(bal_host_load(&bview_get(&v, cm, 3)->hosts[0], &s) - 40) < 1e-9);
	/* without a birth (retained), a summary makes no host known */
	const char *sum3 = "{\"v\":1,\"from\":\"host/h3\",\"ts\":1,\"session\":2,\"cpus\":4,"
	                   "\"cpu\":30,\"load\":40,\"vm_cpu\":0,\"mem_total_mb\":16384,"
	                   "\"mem_free_mb\":8192}";
	assert_int_equal(cluster_model_apply(cm, "host/h3/summary", sum3, strlen(sum3), 1, 1000,
	                                     err, sizeof err),
	                 1);
	assert_int_equal(bview_get(&v, cm, 4)->nhosts, 1);
	set_state(cm, "h3", "online");
	assert_int_equal(bview_get(&v, cm, 5)->nhosts, 2);
#undef ENV
	bview_free(&v);
	cluster_model_free(cm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_and_state),
	    cmocka_unit_test(test_summary_and_records),
	    cmocka_unit_test(test_bad_loads),
	    cmocka_unit_test(test_bad_vm_or_guest_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
