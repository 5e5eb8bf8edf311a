/* test_vmtop_model.c - the cluster model fed with recorded bus messages, and the
 * console's filter, sort, columns and plan reader on top of it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../console/vmtop/vmtop.h"
#include "../../lib/cluster/cluster_model.h"
#include "../lib/model_feed.h"

#define T0 INT64_C(1700000000000)

static char err[VMC_ERR_MAX];

/* A load from host listing VMs "name:cpu" (each 1 vcpu, 1024 MiB). */
static void host_load(struct cluster_model *m, const char *host, int retained, int64_t ts,
                      int64_t now, uint64_t seq, const char *vms)
{
	char topic[128], json[8192], list[6000] = "";
	char copy[2048];
	snprintf(copy, sizeof(copy), "%s", vms);
	for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char name[64];
		double cpu = 0;
		char *colon = strchr(tok, ':');
		snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - tok) : (int)strlen(tok),
		         tok);
		if (colon)
			cpu = atof(colon + 1);
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used,
		         "%s{\"name\":\"%s\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1024,"
		         "\"cpu\":%g,\"tags\":[\"web\",\"prod\"]}",
		         used ? "," : "", name, cpu);
	}
	snprintf(topic, sizeof(topic), "host/%s/load", host);
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":%lld,\"seq\":%llu,\"state\":\"online\","
	         "\"cpus\":8,\"cpu\":37.5,\"mem_total_mb\":32768,\"mem_used_mb\":4096,"
	         "\"mem_free_mb\":28672,\"migrations_out\":0,\"migrations_in\":0,\"vms\":[%s]}",
	         host, (long long)ts, (unsigned long long)seq, list);
	int rc = model_feed(m, topic, json, retained, now, err, sizeof(err));
	if (rc != 1)
		fail_msg("load of %s: %s", host, err);
}

static void event(struct cluster_model *m, const char *json, int64_t now)
{
	assert_int_equal(model_feed(m, "event", json, 0, now, err, sizeof(err)), 1);
}

/* --- model ------------------------------------------------------------------- */

static void test_load_lists_hosts_and_vms(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	model_feed_state(m, "h1", "online", 3, T0, 1, T0);
	host_load(m, "h1", 1, T0, T0, 1, "web1:50 web2:10");
	host_load(m, "h2", 0, T0, T0, 1, "db1:150");

	assert_int_equal(cluster_model_host_count(m), 2);
	const struct cm_host *h1 = cluster_model_host_find(m, "h1");
	assert_non_null(h1);
	assert_int_equal(h1->state, CM_HOST_ONLINE);
	assert_int_equal(h1->cpus, 8);
	assert_int_equal(h1->mem_used_mb, 4096);
	assert_int_equal(h1->nvms, 2);
	assert_string_equal(h1->driver, "sim");
	/* h2 came from its load alone: no retained state needed */
	assert_int_equal(cluster_model_host_find(m, "h2")->state, CM_HOST_ONLINE);

	assert_int_equal(cluster_model_vm_count(m), 3);
	const struct cm_vm *db1 = cluster_model_vm_find(m, "db1");
	assert_string_equal(db1->host, "h2");
	assert_string_equal(db1->state, "running");
	assert_true(db1->cpu == 150);
	assert_string_equal(db1->tags, "web,prod");

	struct cm_summary s;
	cluster_model_summary(m, &s);
	assert_int_equal(s.online, 2);
	assert_int_equal(s.vms, 3);
	assert_int_equal(s.running, 3);
	assert_int_equal(s.cpus_total, 16);
	assert_true(fabs(s.cpus_used - 6.0) < 1e-9);
	cluster_model_free(m);
}

static void test_vm_moves_and_disappears(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	host_load(m, "h1", 0, T0, T0, 1, "a b c");
	host_load(m, "h2", 0, T0, T0, 1, "d");
	/* b migrated: h2 lists it before h1 stops listing it */
	host_load(m, "h2", 0, T0 + 2000, T0 + 2000, 2, "d b");
	assert_string_equal(cluster_model_vm_find(m, "b")->host, "h2");
	host_load(m, "h1", 0, T0 + 2000, T0 + 2000, 2, "a c");
	assert_string_equal(cluster_model_vm_find(m, "b")->host, "h2");
	assert_int_equal(cluster_model_host_find(m, "h1")->nvms, 2);
	assert_int_equal(cluster_model_host_find(m, "h2")->nvms, 2);
	/* c destroyed: gone once no load lists it */
	host_load(m, "h1", 0, T0 + 4000, T0 + 4000, 3, "a");
	assert_null(cluster_model_vm_find(m, "c"));
	assert_int_equal(cluster_model_vm_count(m), 3);
	/* a and b swap hosts in one round, in both orders */
	host_load(m, "h1", 0, T0 + 6000, T0 + 6000, 4, "b");
	host_load(m, "h2", 0, T0 + 6000, T0 + 6000, 3, "d a");
	assert_string_equal(cluster_model_vm_find(m, "a")->host, "h2");
	assert_string_equal(cluster_model_vm_find(m, "b")->host, "h1");
	assert_int_equal(cluster_model_vm_count(m), 3);
	cluster_model_free(m);
}

static void test_vm_record_outlives_load(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	const char *rec =
	    "{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"name\":\"web1\",\"host\":\"h1\","
	    "\"state\":\"running\",\"vcpus\":2,\"mem_mb\":2048,\"cpu\":5}";
	assert_int_equal(model_feed(m, "host/h1/vm/web1", rec, 1, T0, err, sizeof(err)), 1);
	assert_string_equal(cluster_model_vm_find(m, "web1")->host, "h1");
	assert_int_equal(cluster_model_vm_find(m, "web1")->vcpus, 2);
	host_load(m, "h1", 0, T0, T0, 1, "web1:20");
	assert_true(cluster_model_vm_find(m, "web1")->cpu == 20);
	/* stopped: no longer in the load, but its record keeps it */
	const char *stopped = "{\"v\":1,\"from\":\"host/h1\",\"ts\":2,\"name\":\"web1\","
	                      "\"host\":\"h1\",\"state\":\"stopped\",\"vcpus\":2,\"mem_mb\":2048}";
	assert_int_equal(model_feed(m, "host/h1/vm/web1", stopped, 0, T0 + 1000, err, sizeof(err)),
	                 1);
	host_load(m, "h1", 0, T0 + 2000, T0 + 2000, 2, "");
	const struct cm_vm *v = cluster_model_vm_find(m, "web1");
	assert_non_null(v);
	assert_string_equal(v->host, "h1");
	assert_int_equal(cluster_model_host_find(m, "h1")->nvms, 0);
	/* an empty retained payload deletes the record, and the VM with it */
	assert_int_equal(
	    cluster_model_apply(m, "host/h1/vm/web1", "", 0, 0, T0 + 3000, err, sizeof(err)), 1);
	assert_null(cluster_model_vm_find(m, "web1"));
	cluster_model_free(m);
}

static void test_offline_will_beats_retained_load(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	/* Retained at start, in either order: the will (offline), and the host's last load,
	 * which is newer than the will's connect-time ts. */
	model_feed_state(m, "h1", "offline", 3, T0, 1, T0);
	host_load(m, "h1", 1, T0 + 5000, T0 + 60000, 9, "web1");
	host_load(m, "h2", 1, T0 + 5000, T0 + 60000, 9, "web2");
	model_feed_state(m, "h2", "offline", 3, T0, 1, T0);
	assert_int_equal(cluster_model_host_find(m, "h1")->state, CM_HOST_OFFLINE);
	assert_int_equal(cluster_model_host_find(m, "h2")->state, CM_HOST_OFFLINE);
	struct cm_summary s;
	cluster_model_summary(m, &s);
	assert_int_equal(s.offline, 2);
	assert_int_equal(s.online, 0);
	assert_int_equal(s.cpus_total, 0);
	/* it comes back: a live load is proof */
	host_load(m, "h1", 0, T0 + 61000, T0 + 61000, 1, "web1");
	assert_int_equal(cluster_model_host_find(m, "h1")->state, CM_HOST_ONLINE);
	cluster_model_free(m);
}

static void test_host_lost_is_an_event(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	model_feed_state(m, "h1", "online", 3, T0, 1, T0);
	host_load(m, "h1", 0, T0, T0, 1, "web1");
	assert_int_equal(cluster_model_event_count(m), 0); /* retained: no news */
	model_feed_state(m, "h1", "offline", 3, T0 + 15000, 0, T0 + 15000);
	assert_int_equal(cluster_model_host_find(m, "h1")->state, CM_HOST_OFFLINE);
	assert_int_equal(cluster_model_event_count(m), 1);
	const struct cm_event *e = cluster_model_event_at(m, 0);
	assert_string_equal(e->type, "host.offline");
	assert_string_equal(e->host, "h1");
	assert_true(e->local);
	/* someone else reporting the same loss is folded into it */
	event(m,
	      "{\"v\":1,\"from\":\"host/h2\",\"ts\":1700000016000,\"type\":\"host.offline\","
	      "\"host\":\"h1\"}",
	      T0 + 16000);
	assert_int_equal(cluster_model_event_count(m), 1);
	cluster_model_free(m);
}

static void test_stale_marking(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	host_load(m, "h1", 0, T0, T0, 1, "web1");
	assert_int_equal(cluster_model_tick(m, T0 + 5000), 0);
	assert_false(cluster_model_host_find(m, "h1")->stale);
	assert_int_equal(cluster_model_tick(m, T0 + 6001), 1); /* default limit: 6 s */
	assert_true(cluster_model_host_find(m, "h1")->stale);
	struct cm_summary s;
	cluster_model_summary(m, &s);
	assert_int_equal(s.stale, 1);
	assert_int_equal(s.online, 0);
	/* the next load revives it */
	host_load(m, "h1", 0, T0 + 7000, T0 + 7000, 2, "web1");
	assert_false(cluster_model_host_find(m, "h1")->stale);
	/* a slower publisher gets 3 of its intervals */
	host_load(m, "h1", 0, T0 + 17000, T0 + 17000, 3, "web1");
	assert_int_equal(cluster_model_host_find(m, "h1")->interval_ms, 10000);
	assert_int_equal(cluster_model_tick(m, T0 + 17000 + 29000), 0);
	assert_int_equal(cluster_model_tick(m, T0 + 17000 + 31000), 1);
	/* an old retained load is stale from the start */
	host_load(m, "h9", 1, T0 - 600000, T0, 5, "x");
	cluster_model_tick(m, T0);
	assert_true(cluster_model_host_find(m, "h9")->stale);
	/* a fixed limit */
	cluster_model_set_stale_ms(m, 1000000);
	cluster_model_tick(m, T0);
	assert_false(cluster_model_host_find(m, "h9")->stale);
	cluster_model_free(m);
}

static void test_seq_gaps(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	host_load(m, "h1", 0, T0, T0, 1, "");
	host_load(m, "h1", 0, T0 + 2000, T0 + 2000, 2, "");
	host_load(m, "h1", 0, T0 + 8000, T0 + 8000, 5, "");
	assert_int_equal(cluster_model_host_find(m, "h1")->seq_gaps, 2);
	host_load(m, "h1", 0, T0 + 10000, T0 + 10000, 1, ""); /* a new session restarts */
	assert_int_equal(cluster_model_host_find(m, "h1")->seq_gaps, 2);
	cluster_model_free(m);
}

static void test_migrations_in_flight(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	const char *started = "{\"v\":1,\"from\":\"host/h1\",\"ts\":1700000000000,"
	                      "\"type\":\"migration.started\",\"host\":\"h1\",\"vm\":\"web1\","
	                      "\"from\":\"h1\",\"to\":\"h2\"}";
	event(m, started, T0);
	/* the destination reports it too: listed once */
	event(m,
	      "{\"v\":1,\"from\":\"host/h2\",\"ts\":1700000000100,\"type\":\"migration.started\","
	      "\"host\":\"h2\",\"vm\":\"web1\",\"from\":\"h1\",\"to\":\"h2\"}",
	      T0 + 100);
	assert_int_equal(cluster_model_event_count(m), 1);
	const struct cm_migration *g = cluster_model_migration_find(m, "web1");
	assert_non_null(g);
	assert_string_equal(g->from, "h1");
	assert_string_equal(g->to, "h2");
	assert_true(g->percent < 0);
	event(m,
	      "{\"v\":1,\"from\":\"host/h1\",\"ts\":1700000001000,\"type\":\"migration.progress\","
	      "\"host\":\"h1\",\"vm\":\"web1\",\"percent\":42.5,\"bytes\":1000}",
	      T0 + 1000);
	assert_true(cluster_model_migration_find(m, "web1")->percent == 42.5);
	assert_int_equal(cluster_model_event_count(m), 1); /* progress is not listed */
	struct cm_summary s;
	cluster_model_summary(m, &s);
	assert_int_equal(s.migrations, 1);
	event(m,
	      "{\"v\":1,\"from\":\"host/h2\",\"ts\":1700000002000,\"type\":\"migration.finished\","
	      "\"host\":\"h2\",\"vm\":\"web1\",\"from\":\"h1\",\"to\":\"h2\",\"total_ms\":2000,"
	      "\"downtime_ms\":30}",
	      T0 + 2000);
	assert_null(cluster_model_migration_find(m, "web1"));
	assert_int_equal(cluster_model_event_count(m), 2);
	const struct cm_event *e = cluster_model_event_at(m, 0);
	assert_string_equal(e->type, "migration.finished");
	assert_non_null(strstr(e->text, "downtime_ms=30"));
	assert_non_null(strstr(e->text, "to=h2"));
	/* a started migration that never finishes expires */
	event(m, started, T0 + 20000);
	assert_non_null(cluster_model_migration_find(m, "web1"));
	cluster_model_tick(m, T0 + 20000 + 5 * 60 * 1000 + 1);
	assert_null(cluster_model_migration_find(m, "web1"));
	cluster_model_free(m);
}

static void test_events_ring(void **state)
{
	struct cluster_model *m = cluster_model_new(4);
	for (int i = 0; i < 10; i++) {
		char json[256];
		snprintf(json, sizeof(json),
		         "{\"v\":1,\"from\":\"host/h1\",\"ts\":%lld,\"type\":\"vm.created\","
		         "\"host\":\"h1\",\"vm\":\"vm%d\"}",
		         (long long)(T0 + i), i);
		event(m, json, T0 + i);
	}
	assert_int_equal(cluster_model_event_count(m), 4);
	assert_string_equal(cluster_model_event_at(m, 0)->vm, "vm9");
	assert_string_equal(cluster_model_event_at(m, 3)->vm, "vm6");
	assert_null(cluster_model_event_at(m, 4));
	cluster_model_note(m, T0 + 20, "action", "h1", "", "migrate: ok");
	assert_string_equal(cluster_model_event_at(m, 0)->type, "action");
	cluster_model_free(m);
}

static void test_guest_policy_and_removal(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	host_load(m, "h1", 0, T0, T0, 1, "web1");
	assert_false(cluster_model_vm_find(m, "web1")->has_guest);
	assert_int_equal(
	    model_feed(m, "guest/web1/load",
	               "{\"v\":1,\"from\":\"guest/web1\",\"ts\":1,\"seq\":1,\"cpu\":80,"
	               "\"steal\":12.5,\"load1\":1.5,\"mem_used_mb\":300}",
	               0, T0, err, sizeof(err)),
	    1);
	const struct cm_vm *v = cluster_model_vm_find(m, "web1");
	assert_true(v->has_guest);
	assert_true(v->guest_steal == 12.5);
	assert_int_equal(v->guest_mem_used_mb, 300);
	/* a guest whose VM nobody lists yet is ignored, not an error */
	assert_int_equal(model_feed(m, "guest/zz/load",
	                            "{\"v\":1,\"from\":\"guest/zz\",\"ts\":1,\"cpu\":1}", 0, T0,
	                            err, sizeof(err)),
	                 0);
	/* one speaking for another guest is refused */
	assert_int_equal(model_feed(m, "guest/web1/load",
	                            "{\"v\":1,\"from\":\"guest/zz\",\"ts\":1,\"cpu\":1}", 0, T0,
	                            err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "is not guest/web1"));

	char mode[32], window[96];
	cluster_model_balance(m, T0, 0, mode, sizeof(mode), window, sizeof(window));
	assert_string_equal(mode, "rules"); /* no policy: each host's rules file */
	assert_string_equal(window, "");
	/* a consolidating night window, at 23:00 and at noon UTC */
	assert_int_equal(
	    model_feed(m, "policy",
	               "{\"v\":1,\"from\":\"vmc/admin\",\"ts\":1,\"mode\":\"balance\","
	               "\"windows\":[{\"during\":\"22:00-06:00\",\"mode\":\"consolidate\"}]}",
	               1, T0, err, sizeof(err)),
	    1);
	int64_t midnight = T0 - T0 % 86400000;
	cluster_model_balance(m, midnight + 23 * 3600000, 0, mode, sizeof(mode), window,
	                      sizeof(window));
	assert_string_equal(mode, "consolidate");
	assert_non_null(strstr(window, "22:00-06:00"));
	cluster_model_balance(m, midnight + 12 * 3600000, 0, mode, sizeof(mode), window,
	                      sizeof(window));
	assert_string_equal(mode, "balance");
	assert_string_equal(window, "");
	/* 23:00 local is noon UTC eleven hours east */
	cluster_model_balance(m, midnight + 12 * 3600000, 11 * 3600, mode, sizeof(mode), window,
	                      sizeof(window));
	assert_string_equal(mode, "consolidate");
	/* a bad policy is refused and the old one stays in force */
	assert_int_equal(
	    model_feed(m, "policy",
	               "{\"v\":1,\"from\":\"vmc/admin\",\"ts\":1,\"mode\":\"sideways\"}", 1, T0,
	               err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "mode"));
	cluster_model_balance(m, midnight + 12 * 3600000, 0, mode, sizeof(mode), window,
	                      sizeof(window));
	assert_string_equal(mode, "balance");
	/* removed */
	assert_int_equal(cluster_model_apply(m, "policy", "", 0, 1, T0, err, sizeof(err)), 1);
	cluster_model_balance(m, T0, 0, mode, sizeof(mode), window, sizeof(window));
	assert_string_equal(mode, "rules");

	/* unmodelled topics are ignored */
	assert_int_equal(model_feed(m, "cmd/host/h1", "{}", 0, T0, err, sizeof(err)), 0);
	assert_int_equal(model_feed(m, "balance/help", "{}", 0, T0, err, sizeof(err)), 0);

	/* an empty retained state removes the host and the VMs it listed */
	assert_int_equal(cluster_model_apply(m, "host/h1/state", "", 0, 0, T0, err, sizeof(err)),
	                 1);
	assert_null(cluster_model_host_find(m, "h1"));
	assert_null(cluster_model_vm_find(m, "web1"));
	cluster_model_free(m);
}

static void test_bad_messages(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	uint64_t v0 = cluster_model_version(m);
	assert_int_equal(model_feed(m, "host/h1/load", "{not json", 0, T0, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(model_feed(m, "host/h1/load", "{\"v\":2,\"from\":\"x\",\"ts\":1}", 0, T0,
	                            err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "v"));
	assert_int_equal(model_feed(m, "host/a b/state",
	                            "{\"v\":1,\"from\":\"x\",\"ts\":1,\"state\":\"online\"}", 0, T0,
	                            err, sizeof(err)),
	                 -1);
	assert_int_equal(model_feed(m, "host/h1/state",
	                            "{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"state\":\"sleepy\"}",
	                            0, T0, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "state"));
	assert_int_equal(model_feed(m, "host/h1/load",
	                            "{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"cpu\":\"lots\"}", 0,
	                            T0, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "cpu"));
	assert_int_equal(
	    model_feed(m, "event", "{\"v\":1,\"from\":\"x\",\"ts\":1}", 0, T0, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "type"));
	assert_int_equal(cluster_model_host_count(m), 0);
	assert_int_equal(cluster_model_version(m), v0);

	/* one bad VM in a load: reported, the others applied */
	assert_int_equal(
	    model_feed(m, "host/h1/load",
	               "{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"vms\":[{\"name\":\"ok1\"},"
	               "{\"name\":\"../x\"},{\"name\":\"ok2\",\"vcpus\":-1},"
	               "{\"name\":\"ok3\",\"mem_mb\":512}]}",
	               0, T0, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "vms[1]"));
	assert_non_null(cluster_model_vm_find(m, "ok1"));
	assert_non_null(cluster_model_vm_find(m, "ok3"));
	assert_null(cluster_model_vm_find(m, "../x"));
	assert_int_equal(cluster_model_vm_find(m, "ok3")->mem_mb, 512);
	cluster_model_free(m);
}

/* A VM object's members are read in one pass: the first of a name counts (as a look-up
 * finds it), members of no interest are passed over, errors name the VM by its index. */
static void test_vm_members(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	char json[4096], list[3000] = "";
	for (int i = 0; i < 12; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s{\"name\":\"v%d\",\"cpu\":1}",
		         i ? "," : "", i);
	}
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/h1\",\"ts\":1000,\"vms\":[%s,"
	         "{\"x\":0,\"cpu\":12.5,\"name\":\"dup\",\"cpu\":99,\"name\":\"other\","
	         "\"vcpus\":3,\"held_until\":5000,\"hold_until\":9000,\"net_rx\":10,"
	         "\"tags\":[\"a\",\"b\"],\"state\":\"paused\",\"vcpus\":4},"
	         "{\"name\":\"bad\",\"mem_mb\":\"lots\"}]}",
	         list);
	assert_int_equal(model_feed(m, "host/h1/load", json, 0, T0, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "load.vms[13].mem_mb: expected an integer from 0 to 1099511627776, "
	                    "got \"lots\"");
	const struct cm_vm *v = cluster_model_vm_find(m, "dup");
	assert_non_null(v);
	assert_null(cluster_model_vm_find(m, "other"));
	assert_true(v->cpu == 12.5);
	assert_int_equal(v->vcpus, 3);
	assert_string_equal(v->state, "paused");
	assert_string_equal(v->tags, "a,b");
	assert_int_equal(v->net_rx, 10);
	assert_true(v->has_io);
	assert_int_equal(v->hold_until_ms, 5000);
	assert_int_equal(v->hold_left_ms, 4000);
	assert_non_null(cluster_model_vm_find(m, "v11"));
	/* a record: its members beside the envelope's */
	assert_int_equal(model_feed(m, "host/h1/vm/r1",
	                            "{\"v\":1,\"from\":\"host/h1\",\"ts\":2000,\"name\":\"r1\","
	                            "\"host\":\"h1\",\"hold_until\":3000,\"cpu\":\"x\"}",
	                            0, T0, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "vm.cpu: expected a number from 0 to 1e+07, got \"x\"");
	v = cluster_model_vm_find(m, "r1");
	assert_non_null(v);
	assert_int_equal(v->hold_left_ms, 1000);
	cluster_model_free(m);
}

static void test_many_hosts_and_vms(void **state)
{
	/* grows and shrinks the index through many inserts and deletes */
	struct cluster_model *m = cluster_model_new(0);
	char list[4096];
	for (int h = 0; h < 50; h++) {
		char host[16];
		size_t used = 0;
		list[0] = '\0';
		for (int v = 0; v < 20; v++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%sv%d-%d",
			                         used ? " " : "", h, v);
		snprintf(host, sizeof(host), "h%d", h);
		host_load(m, host, 0, T0, T0, 1, list);
	}
	assert_int_equal(cluster_model_vm_count(m), 1000);
	for (int h = 0; h < 50; h += 2) {
		char host[16];
		snprintf(host, sizeof(host), "h%d", h);
		host_load(m, host, 0, T0 + 1, T0 + 1, 2, "");
	}
	assert_int_equal(cluster_model_vm_count(m), 500);
	for (int h = 1; h < 50; h += 2)
		for (int v = 0; v < 20; v++) {
			char name[32];
			snprintf(name, sizeof(name), "v%d-%d", h, v);
			assert_non_null(cluster_model_vm_find(m, name));
		}
	cluster_model_free(m);
}

/* --- console: filter, sort, columns, plan ----------------------------------------- */

static struct cluster_model *sample_cluster(void)
{
	struct cluster_model *m = cluster_model_new(0);
	host_load(m, "alpha", 0, T0, T0, 1, "web1:50 web2:5 db1:150");
	host_load(m, "beta", 0, T0, T0, 1, "web3:80 cache1:1");
	return m;
}

static void test_filter(void **state)
{
	struct filter f = {0};
	assert_true(filter_match(&f, "anything"));
	assert_int_equal(filter_set(&f, "^WEB", err, sizeof(err)), 0);
	assert_true(filter_match(&f, "web1 alpha running"));
	assert_false(filter_match(&f, "db1 alpha running"));
	assert_int_equal(filter_set(&f, "!web", err, sizeof(err)), 0);
	assert_false(filter_match(&f, "web1 alpha running"));
	assert_true(filter_match(&f, "db1 alpha running"));
	/* a bad regex is an error naming it; the old filter stays */
	assert_int_equal(filter_set(&f, "web(", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "web("));
	assert_string_equal(f.text, "!web");
	assert_int_equal(filter_set(&f, "", err, sizeof(err)), 0);
	assert_false(f.active);
	assert_int_equal(filter_set(&f, "!", err, sizeof(err)), 0);
	assert_false(f.active);
	filter_clear(&f);
}

static void build(struct ui *ui, struct cluster_model *m)
{
	struct view_env e = {m, T0, &ui->marks, NULL};
	views_build(ui, &e);
}

static const char *row_name(const struct ui *ui, size_t i)
{
	return ((const struct cm_vm *)ui->rows[i].p)->name;
}

static void test_sort_and_filter_views(void **state)
{
	struct cluster_model *m = sample_cluster();
	struct ui ui;
	ui_init(&ui);
	ui_set_view(&ui, VIEW_VMS, NULL);
	build(&ui, m);
	assert_int_equal(ui.nrows, 5);
	assert_string_equal(row_name(&ui, 0), "cache1"); /* by name */
	assert_string_equal(row_name(&ui, 4), "web3");

	assert_int_equal(ui_sort_by(&ui, "cpu", err, sizeof(err)), 0);
	build(&ui, m);
	assert_true(ui.sort[VIEW_VMS].desc);
	assert_string_equal(row_name(&ui, 0), "db1");
	assert_string_equal(row_name(&ui, 4), "cache1");
	assert_int_equal(ui_sort_by(&ui, "CPU%", err, sizeof(err)), 0); /* again: reversed */
	build(&ui, m);
	assert_string_equal(row_name(&ui, 0), "cache1");
	assert_int_equal(ui_sort_by(&ui, "nosuch", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nosuch"));

	/* the cursor follows its row when the order changes */
	ui_cursor_to(&ui, 4);
	build(&ui, m);
	assert_string_equal(ui.cursor_key, "db1");
	assert_int_equal(ui_sort_by(&ui, "name", err, sizeof(err)), 0);
	build(&ui, m);
	assert_string_equal(row_name(&ui, ui.cursor), "db1");

	/* the filter is kept across views */
	assert_int_equal(filter_set(&ui.filter, "beta", err, sizeof(err)), 0);
	build(&ui, m);
	assert_int_equal(ui.nrows, 2);
	ui_set_view(&ui, VIEW_HOSTS, NULL);
	build(&ui, m);
	assert_int_equal(ui.nrows, 1);
	assert_string_equal(((const struct cm_host *)ui.rows[0].p)->name, "beta");
	assert_int_equal(filter_set(&ui.filter, "!beta", err, sizeof(err)), 0);
	build(&ui, m);
	assert_int_equal(ui.nrows, 1);
	assert_string_equal(((const struct cm_host *)ui.rows[0].p)->name, "alpha");
	filter_clear(&ui.filter);

	/* one host's VMs */
	ui_set_view(&ui, VIEW_HOST_VMS, "alpha");
	build(&ui, m);
	assert_int_equal(ui.nrows, 3);
	ui_free(&ui);
	cluster_model_free(m);
}

static double shown_value;

static double shown(const struct row *r, const struct view_env *e)
{
	return shown_value;
}

/* Numbers print as printf's %.*f prints them, whatever way column_print takes. */
static void test_columns_numbers(void **state)
{
	static const double values[] = {
	    0,      -0.0,  0.04,  0.05,   0.05000001, 0.15,    0.25,       0.35,      0.45,
	    1.005,  1.015, 1.025, 2.675,  12.25,      12.35,   99.95,      99.949999, 99.99,
	    99.995, 100,   1e-9,  0.9999, 1.9999,     42.0001, 123456.785, 999999.95, 1e6 + 0.05,
	    1e15,   3e15,  -1.25, -2,     1e300,      NAN};
	struct column col = {"x", "X", 6, 0, shown, 0, NULL, NULL};
	struct row r = {ROW_VM, NULL};
	struct view_env e = {NULL, T0, NULL, NULL};
	char got[64], want[64];
	for (int prec = 0; prec <= 3; prec++) {
		col.prec = prec;
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			shown_value = values[i];
			column_print(&col, &r, &e, 6, got, sizeof(got));
			if (isnan(shown_value))
				snprintf(want, sizeof(want), "-");
			else
				snprintf(want, sizeof(want), "%.*f", prec, shown_value);
			assert_string_equal(got, want);
		}
		/* and many figures as loads carry them, with many digits */
		for (unsigned k = 0; k < 200000; k++) {
			shown_value = (double)((k * 2654435761u) % 10000019u) / 99991.0;
			column_print(&col, &r, &e, 6, got, sizeof(got));
			snprintf(want, sizeof(want), "%.*f", prec, shown_value);
			assert_string_equal(got, want);
		}
	}
	/* cut as snprintf cuts */
	col.prec = 2;
	shown_value = 1234.5;
	column_print(&col, &r, &e, 6, got, 5);
	assert_string_equal(got, "1234");
}

static void test_columns_print(void **state)
{
	struct cluster_model *m = sample_cluster();
	struct view_env e = {m, T0 + 4000, NULL, NULL};
	struct row r = {ROW_HOST, cluster_model_host_find(m, "alpha")};
	char buf[64];
	int c = column_find(columns_host, columns_host_n, "mem_used_mb");
	assert_string_equal(column_print(&columns_host[c], &r, &e, 13, buf, sizeof(buf)),
	                    "4.0G/32.0G");
	c = column_find(columns_host, columns_host_n, "seen");
	assert_string_equal(column_print(&columns_host[c], &r, &e, 5, buf, sizeof(buf)), "4s");
	c = column_find(columns_host, columns_host_n, "cpu_bar");
	assert_string_equal(column_print(&columns_host[c], &r, &e, 8, buf, sizeof(buf)),
	                    "|||     ");
	struct row vr = {ROW_VM, cluster_model_vm_find(m, "web1")};
	c = column_find(columns_vm, columns_vm_n, "steal");
	assert_string_equal(column_print(&columns_vm[c], &vr, &e, 5, buf, sizeof(buf)), "-");
	c = column_find(columns_vm, columns_vm_n, "mem_pct");
	assert_string_equal(column_print(&columns_vm[c], &vr, &e, 5, buf, sizeof(buf)), "3.1");

	fmt_mem(512, buf, sizeof(buf));
	assert_string_equal(buf, "512M");
	fmt_mem(3 * 1024 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "3.0T");
	fmt_age(125000, buf, sizeof(buf));
	assert_string_equal(buf, "2m");
	fmt_age(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	fmt_age(-1, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	cluster_model_free(m);
}

/* A column's text for a row. */
static const char *cell(const struct column *cols, size_t n, const char *id, const struct row *r,
                        const struct view_env *e, char *buf, size_t len)
{
	int c = column_find(cols, n, id);
	assert_true(c >= 0);
	return column_print(&cols[c], r, e, 7, buf, len);
}

static void ha_event(struct cluster_model *m, const char *fields, int64_t now)
{
	char json[512];
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/h1\",\"ts\":%lld,\"host\":\"h1\",%s}", (long long)now,
	         fields);
	event(m, json, now);
}

static void test_ha_columns(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	char buf[64];
	model_feed_state(m, "h1", "online", 3, T0, 1, T0);
	model_feed_state(m, "h3", "online", 3, T0, 1, T0);
	assert_int_equal(
	    model_feed(
	        m, "host/h3/load",
	        "{\"v\":1,\"from\":\"host/h3\",\"ts\":1700000000000,\"state\":\"online\","
	        "\"cpus\":8,\"cpu\":1,\"mem_total_mb\":32768,\"mem_used_mb\":2048,"
	        "\"mem_free_mb\":30720,\"vms\":[{\"name\":\"a3\",\"state\":\"running\","
	        "\"vcpus\":1,\"mem_mb\":1024,\"tags\":[\"web\",\"ha\"]},{\"name\":\"n3\","
	        "\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1024,\"tags\":[\"hax\",\"h\"]}]}",
	        0, T0, err, sizeof(err)),
	    1);
	struct view_env e = {m, T0, NULL, NULL};
	struct row h3 = {ROW_HOST, cluster_model_host_find(m, "h3")};
	struct row a3 = {ROW_VM, cluster_model_vm_find(m, "a3")};
	struct row n3 = {ROW_VM, cluster_model_vm_find(m, "n3")};
#define HOSTCELL(id) cell(columns_host, columns_host_n, id, &h3, &e, buf, sizeof(buf))
#define VMCELL(r) cell(columns_vm, columns_vm_n, "ha", &r, &e, buf, sizeof(buf))
	assert_string_equal(HOSTCELL("fence"), "-");
	assert_string_equal(VMCELL(a3), "off"); /* tagged, but no policy allows restarts */
	assert_string_equal(VMCELL(n3), "-");
	assert_int_equal(model_feed(m, "policy",
	                            "{\"v\":1,\"from\":\"vmc/admin\",\"ts\":1,\"mode\":\"off\","
	                            "\"ha\":\"on\"}",
	                            1, T0, err, sizeof(err)),
	                 1);
	assert_string_equal(VMCELL(a3), "yes");

	/* h3 dies: fencing, then a failed fence with its reason */
	model_feed_state(m, "h3", "offline", 3, T0 + 1000, 0, T0 + 1000);
	ha_event(m, "\"type\":\"ha.fencing\",\"dead_host\":\"h3\"", T0 + 2000);
	assert_string_equal(HOSTCELL("fence"), "fencing");
	ha_event(m, "\"type\":\"ha.failed\",\"dead_host\":\"h3\",\"reason\":\"hook exited 1\"",
	         T0 + 3000);
	assert_string_equal(HOSTCELL("fence"), "FAILED");
	assert_string_equal(cluster_model_host_find(m, "h3")->fence_why, "hook exited 1");
	/* hostile or unknown dead hosts change nothing */
	ha_event(m, "\"type\":\"ha.fenced\",\"dead_host\":\"../h3\"", T0 + 3100);
	ha_event(m, "\"type\":\"ha.fenced\",\"dead_host\":7", T0 + 3200);
	ha_event(m, "\"type\":\"ha.fenced\",\"dead_host\":\"h9\"", T0 + 3300);
	assert_null(cluster_model_host_find(m, "h9"));
	assert_string_equal(HOSTCELL("fence"), "FAILED");
	ha_event(m, "\"type\":\"ha.fenced\",\"dead_host\":\"h3\"", T0 + 4000);
	assert_string_equal(HOSTCELL("fence"), "fenced");

	/* what became of its VMs */
	ha_event(m,
	         "\"type\":\"ha.failed\",\"vm\":\"a3\",\"dead_host\":\"h3\",\"reason\":\"no room\"",
	         T0 + 5000);
	ha_event(m, "\"type\":\"ha.lost\",\"vm\":\"n3\",\"dead_host\":\"h3\"", T0 + 5000);
	assert_string_equal(VMCELL(a3), "FAILED");
	assert_string_equal(VMCELL(n3), "lost");
	assert_string_equal(HOSTCELL("fence"), "fenced"); /* a VM's failure is not the fence's */
	ha_event(m, "\"type\":\"vm.started\",\"vm\":\"a3\"", T0 + 6000);
	assert_string_equal(VMCELL(a3), "yes");

	/* h3 back (a new session): its fencing is over */
	assert_int_equal(model_feed(m, "host/h3/state",
	                            "{\"v\":1,\"from\":\"host/h3\",\"ts\":1700000007000,"
	                            "\"state\":\"online\",\"session\":4,\"mem_total_mb\":32768}",
	                            0, T0 + 7000, err, sizeof(err)),
	                 1);
	assert_string_equal(HOSTCELL("fence"), "-");
#undef HOSTCELL
#undef VMCELL
	cluster_model_free(m);
}

static void test_plan_parse(void **state)
{
	struct plan p = {0};
	cJSON *res =
	    cJSON_Parse("{\"moves\":[{\"vm\":\"web1\",\"from\":\"h1\",\"to\":\"h2\","
	                "\"before\":{\"h1\":95,\"h2\":10},\"after\":{\"h1\":70,\"h2\":35},"
	                "\"reason\":\"balance\"},"
	                "{\"vm\":\"web2\",\"from\":\"h1\",\"to\":\"h3\",\"from_before\":95,"
	                "\"to_before\":5,\"from_after\":80,\"to_after\":20}]}");
	assert_int_equal(plan_parse(&p, res, err, sizeof(err)), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.moves[0].vm, "web1");
	assert_string_equal(p.moves[0].before, "h1 95% h2 10%");
	assert_string_equal(p.moves[0].details, "reason=balance");
	assert_string_equal(p.moves[1].after, "h1 80% h3 20%");
	assert_string_equal(p.about, "");
	cJSON_Delete(res);

	/* as the host agents' balance.plan answers */
	res = cJSON_Parse("{\"mode\":\"balance\",\"moves\":[{\"vm\":\"busy03\",\"from\":\"host1\","
	                  "\"to\":\"host2\",\"cpu\":100,\"mem_mb\":512,\"unknown\":false,"
	                  "\"from_before\":400,\"from_after\":300,\"to_before\":0,"
	                  "\"to_after\":100}],\"emptied\":[],\"unplaced\":0}");
	assert_int_equal(plan_parse(&p, res, err, sizeof(err)), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.moves[0].before, "host1 400% host2 0%");
	assert_string_equal(p.moves[0].after, "host1 300% host2 100%");
	assert_string_equal(p.moves[0].details, "cpu=100 mem_mb=512 unknown=false");
	assert_string_equal(p.about, "mode=balance emptied=- unplaced=0");
	cJSON_Delete(res);

	res = cJSON_Parse("[]");
	assert_int_equal(plan_parse(&p, res, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	cJSON_Delete(res);

	res = cJSON_Parse("[{\"vm\":\"web1\",\"from\":\"h1\"}]");
	assert_int_equal(plan_parse(&p, res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "move 0"));
	cJSON_Delete(res);
	res = cJSON_Parse("{\"ok\":1}");
	assert_int_equal(plan_parse(&p, res, err, sizeof(err)), -1);
	cJSON_Delete(res);
	plan_clear(&p);
}

static void test_marks(void **state)
{
	struct cluster_model *m = sample_cluster();
	struct marks mk = {0};
	assert_int_equal(marks_toggle(&mk, "web2"), 1);
	assert_int_equal(marks_toggle(&mk, "web1"), 1);
	assert_int_equal(marks_toggle(&mk, "gone"), 1);
	assert_true(marks_has(&mk, "web1"));
	assert_string_equal(mk.names[0], "gone");
	assert_int_equal(marks_toggle(&mk, "web1"), 0);
	assert_false(marks_has(&mk, "web1"));
	marks_prune(&mk, m);
	assert_int_equal(mk.n, 1);
	assert_string_equal(mk.names[0], "web2");
	marks_free(&mk);
	cluster_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_lists_hosts_and_vms),
	    cmocka_unit_test(test_vm_moves_and_disappears),
	    cmocka_unit_test(test_vm_record_outlives_load),
	    cmocka_unit_test(test_offline_will_beats_retained_load),
	    cmocka_unit_test(test_host_lost_is_an_event),
	    cmocka_unit_test(test_stale_marking),
	    cmocka_unit_test(test_seq_gaps),
	    cmocka_unit_test(test_migrations_in_flight),
	    cmocka_unit_test(test_events_ring),
	    cmocka_unit_test(test_guest_policy_and_removal),
	    cmocka_unit_test(test_bad_messages),
	    cmocka_unit_test(test_vm_members),
	    cmocka_unit_test(test_many_hosts_and_vms),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_sort_and_filter_views),
	    cmocka_unit_test(test_columns_numbers),
	    cmocka_unit_test(test_columns_print),
	    cmocka_unit_test(test_ha_columns),
	    cmocka_unit_test(test_plan_parse),
	    cmocka_unit_test(test_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
