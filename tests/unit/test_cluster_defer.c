/* test_cluster_defer.c - cluster_model_defer and cluster_model_flush: hosts' loads kept
 * raw and applied later leave the model as applying every message at once does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/cluster/cluster_model.h"

#define T0 INT64_C(1700000000000)

/* One bus message; flush: the deferring model applies its kept loads before it. */
struct step {
	char topic[64];
	char json[2048];
	int retained;
	int64_t now;
	int flush;
};

/* A load of host listing VMs "name:cpu" (a guest cpu figure with "name:cpu:guest"). */
static struct step load(const char *host, uint64_t seq, int retained, int64_t now, const char *vms)
{
	struct step s = {.retained = retained, .now = now};
	char list[1500] = "", copy[256];
	snprintf(copy, sizeof(copy), "%s", vms);
	for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char name[32], guest[96] = "";
		double cpu = 0, gcpu = -1;
		sscanf(tok, "%31[^:]:%lf:%lf", name, &cpu, &gcpu);
		if (gcpu >= 0)
			snprintf(
			    guest, sizeof(guest),
			    ",\"guest\":{\"cpu\":%g,\"steal\":0,\"load1\":0.5,\"mem_used_mb\":100}",
			    gcpu);
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used,
		         "%s{\"name\":\"%s\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":1024,"
		         "\"cpu\":%g%s}",
		         used ? "," : "", name, cpu, guest);
	}
	snprintf(s.topic, sizeof(s.topic), "host/%s/load", host);
	snprintf(s.json, sizeof(s.json),
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":%lld,\"seq\":%llu,\"state\":\"online\","
	         "\"session\":3,\"cpus\":8,\"cpu\":%g,\"mem_total_mb\":32768,\"mem_used_mb\":4096,"
	         "\"mem_free_mb\":28672,\"vms\":[%s]}",
	         host, (long long)now, (unsigned long long)seq, (double)(seq % 90), list);
	return s;
}

static struct step state(const char *host, const char *st, int retained, int64_t now)
{
	struct step s = {.retained = retained, .now = now};
	snprintf(s.topic, sizeof(s.topic), "host/%s/state", host);
	snprintf(s.json, sizeof(s.json),
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":%lld,\"state\":\"%s\",\"session\":3,"
	         "\"cpus\":8,\"mem_total_mb\":32768}",
	         host, (long long)now, st);
	return s;
}

static struct step guest(const char *vm, double cpu, int64_t now)
{
	struct step s = {.now = now};
	snprintf(s.topic, sizeof(s.topic), "guest/%s/load", vm);
	snprintf(s.json, sizeof(s.json),
	         "{\"v\":1,\"from\":\"guest/%s\",\"ts\":%lld,\"cpu\":%g,\"steal\":1,\"load1\":2,"
	         "\"mem_used_mb\":200}",
	         vm, (long long)now, cpu);
	return s;
}

static struct step record(const char *host, const char *vm, int64_t now)
{
	struct step s = {.now = now};
	snprintf(s.topic, sizeof(s.topic), "host/%s/vm/%s", host, vm);
	snprintf(s.json, sizeof(s.json),
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":%lld,\"name\":\"%s\",\"host\":\"%s\","
	         "\"state\":\"stopped\",\"vcpus\":2,\"mem_mb\":512}",
	         host, (long long)now, vm, host);
	return s;
}

static struct step with_flush(struct step s)
{
	s.flush = 1;
	return s;
}

static void assert_same(const struct cluster_model *a, const struct cluster_model *b)
{
	assert_int_equal(cluster_model_host_count(a), cluster_model_host_count(b));
	assert_int_equal(cluster_model_vm_count(a), cluster_model_vm_count(b));
	assert_int_equal(cluster_model_event_count(a), cluster_model_event_count(b));
	for (size_t i = 0; i < cluster_model_host_count(a); i++) {
		const struct cm_host *x = cluster_model_host_at(a, i);
		const struct cm_host *y = cluster_model_host_find(b, x->name);
		assert_non_null(y);
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->stale, y->stale);
		assert_int_equal(x->nvms, y->nvms);
		assert_int_equal(x->seq, y->seq);
		assert_int_equal(x->seq_gaps, y->seq_gaps);
		assert_int_equal(x->interval_ms, y->interval_ms);
		assert_int_equal(x->last_seen_ms, y->last_seen_ms);
		assert_int_equal(x->have_load, y->have_load);
		assert_true(x->cpu == y->cpu);
	}
	for (size_t i = 0; i < cluster_model_vm_count(a); i++) {
		const struct cm_vm *x = cluster_model_vm_at(a, i);
		const struct cm_vm *y = cluster_model_vm_find(b, x->name);
		assert_non_null(y);
		assert_string_equal(x->host, y->host);
		assert_string_equal(x->state, y->state);
		assert_true(x->cpu == y->cpu);
		assert_true(x->guest_cpu == y->guest_cpu);
		assert_int_equal(x->last_seen_ms, y->last_seen_ms);
	}
	for (size_t i = 0; i < cluster_model_event_count(a); i++)
		assert_string_equal(cluster_model_event_at(a, i)->type,
		                    cluster_model_event_at(b, i)->type);
}

/* Feeds steps to one model at once and to the other deferred; compares them at the end.
 * (A host's interval_ms is the mean over the loads a kept one replaced: the steps keep
 * each host's loads evenly spaced, as agents publish them.) */
/* Applies what c keeps one load at a time (cluster_model_flush_some), as a console's frame
 * applies them in slices. */
static void flush_in_slices(struct cluster_model *c)
{
	char err[VMC_ERR_MAX + VMC_NAME_MAX + 24];
	size_t kept = cluster_model_pending(c);
	while (kept > 0) {
		size_t left = cluster_model_flush_some(c, 1);
		assert_int_equal(left, kept - 1);
		kept = left;
	}
	assert_int_equal(cluster_model_flush(c, err, sizeof(err)), 0);
}

/* Feeds steps to one model at once and to two others deferred, one flushed whole and one in
 * slices; compares them at the end. */
static void replay(const struct step *steps, size_t n, int64_t end)
{
	struct cluster_model *a = cluster_model_new(0), *b = cluster_model_new(0),
	                     *c = cluster_model_new(0);
	char err[VMC_ERR_MAX + VMC_NAME_MAX + 24];
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		int ra = cluster_model_apply(a, s->topic, s->json, strlen(s->json), s->retained,
		                             s->now, err, sizeof(err));
		if (ra < 0)
			fail_msg("step %zu %s: %s", i, s->topic, err);
		if (s->flush) {
			assert_int_equal(cluster_model_flush(b, err, sizeof(err)), 0);
			flush_in_slices(c);
		}
		int rb = cluster_model_defer(b, s->topic, s->json, strlen(s->json), s->retained,
		                             s->now, err, sizeof(err));
		assert_int_equal(rb, ra);
		assert_int_equal(cluster_model_defer(c, s->topic, s->json, strlen(s->json),
		                                     s->retained, s->now, err, sizeof(err)),
		                 ra);
	}
	assert_int_equal(cluster_model_flush(b, err, sizeof(err)), 0);
	assert_int_equal(cluster_model_pending(b), 0);
	flush_in_slices(c);
	cluster_model_tick(a, end);
	cluster_model_tick(b, end);
	cluster_model_tick(c, end);
	assert_same(a, b);
	assert_same(a, c);
	cluster_model_free(a);
	cluster_model_free(b);
	cluster_model_free(c);
}

static void test_same_picture(void **st)
{
	const struct step steps[] = {
	    state("h1", "online", 1, T0),
	    state("h2", "online", 1, T0),
	    load("h1", 10, 1, T0, "a:1 b:2"),
	    load("h2", 4, 1, T0, "c:3"),
	    record("h1", "r1", T0),
	    guest("a", 40, T0 + 100), /* its host's load applied already (by the record) */
	    with_flush(load("h1", 11, 0, T0 + 2000, "a:3 b:4")),
	    load("h1", 12, 0, T0 + 4000, "a:5:10 b:6"),
	    load("h2", 5, 0, T0 + 4000, "c:1 d:2"),
	    guest("a", 55, T0 + 4500),                  /* after its host's kept load: it wins */
	    load("h1", 14, 0, T0 + 8000, "a:7"),        /* seq 13 missed, b gone */
	    load("h2", 6, 0, T0 + 8000, "c:1 d:2 b:9"), /* b moved to h2 */
	    state("h2", "offline", 0, T0 + 9000),       /* its Last Will after its load */
	    load("h1", 15, 0, T0 + 10000, "a:8 r1:0"),
	    with_flush(load("h1", 16, 0, T0 + 12000, "a:9 r1:0")),
	    /* r1 back to its record: a VM only a replaced load listed would keep the time
	     * of the load before (its last_seen_ms), hence the frame here */
	    with_flush(load("h1", 17, 0, T0 + 14000, "a:9")),
	};
	replay(steps, sizeof(steps) / sizeof(steps[0]), T0 + 15000);
	/* and a host whose loads stop turns stale in both */
	replay(steps, sizeof(steps) / sizeof(steps[0]), T0 + 60000);
}

static void test_replaced_not_missed(void **st)
{
	struct cluster_model *m = cluster_model_new(0);
	char err[VMC_ERR_MAX + VMC_NAME_MAX + 24];
	for (int k = 1; k <= 3; k++) {
		struct step s = load("h1", (uint64_t)k, 0, T0 + k * 2000, "a:1");
		assert_int_equal(cluster_model_defer(m, s.topic, s.json, strlen(s.json), 0, s.now,
		                                     err, sizeof(err)),
		                 1);
	}
	assert_null(cluster_model_host_find(m, "h1")); /* nothing parsed yet */
	assert_int_equal(cluster_model_pending(m), 1);
	assert_int_equal(cluster_model_flush(m, err, sizeof(err)), 0);
	const struct cm_host *h = cluster_model_host_find(m, "h1");
	assert_non_null(h);
	assert_int_equal(h->seq, 3);
	assert_int_equal(h->seq_gaps, 0);
	assert_int_equal(h->last_seen_ms, T0 + 6000);
	struct step s = load("h1", 5, 0, T0 + 10000, "a:1");
	cluster_model_defer(m, s.topic, s.json, strlen(s.json), 0, s.now, err, sizeof(err));
	cluster_model_flush(m, err, sizeof(err));
	assert_int_equal(h->seq_gaps, 1);
	assert_int_equal(h->interval_ms, 2000);
	cluster_model_free(m);
}

static void test_bad_loads(void **st)
{
	struct cluster_model *m = cluster_model_new(0);
	char err[VMC_ERR_MAX + VMC_NAME_MAX + 24] = "";
	const char *bad = "{\"v\":1,\"from\":\"host/h9\",\"ts\":1,\"vms\":[";
	assert_int_equal(
	    cluster_model_defer(m, "host/h9/load", bad, strlen(bad), 0, T0, err, sizeof(err)), 1);
	/* a message that needs every load first reports nothing of theirs */
	struct step s = state("h1", "online", 0, T0);
	assert_int_equal(
	    cluster_model_defer(m, s.topic, s.json, strlen(s.json), 0, T0, err, sizeof(err)), 1);
	assert_int_equal(cluster_model_pending(m), 0);
	assert_int_equal(cluster_model_flush(m, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "host/h9/load: "));
	assert_int_equal(cluster_model_flush(m, err, sizeof(err)), 0);
	/* a hostile name in the topic is refused at once, nothing kept */
	s = load("h1", 1, 0, T0, "");
	assert_int_equal(cluster_model_defer(m, "host/a b/load", s.json, strlen(s.json), 0, T0, err,
	                                     sizeof(err)),
	                 -1);
	assert_int_equal(cluster_model_pending(m), 0);
	/* an empty payload (a retained load removed) keeps nothing */
	assert_int_equal(cluster_model_defer(m, "host/h1/load", "", 0, 1, T0, err, sizeof(err)), 0);
	assert_int_equal(cluster_model_pending(m), 0);
	/* kept loads go with the model */
	s = load("h1", 2, 0, T0, "a:1");
	cluster_model_defer(m, s.topic, s.json, strlen(s.json), 0, T0, err, sizeof(err));
	cluster_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_picture),
	    cmocka_unit_test(test_replaced_not_missed),
	    cmocka_unit_test(test_bad_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
