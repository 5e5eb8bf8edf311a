/* test_balance_node.c - the decentralised protocol end to end: balancing nodes over
 * simulated hosts and an in-memory bus (tests/lib/balance_sim.c), in virtual time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/balance_sim.h"

/* 2024-01-05 12:00 UTC, a Friday noon */
#define NOON 1704456000000LL
#define MIN 60000LL
#define HOUR 3600000LL

struct fix {
	struct rules *rules;
	struct bsim *b;
	int cpus[8];
	int64_t mem[8];
};

/* nhosts hosts of cpus CPUs each; memory mem[i] (NULL: mem0 for all); at_deadline: the
 * nodes' timers run only when bn_next_deadline is due, as in vmc-hostd. */
static void fix_new_ticks(struct fix *f, size_t nhosts, int cpus, int64_t mem0, const int64_t *mem,
                          int steal, int64_t start, long utc_off, int at_deadline)
{
	memset(f, 0, sizeof *f);
	f->rules = rules_default();
	for (size_t i = 0; i < nhosts; i++) {
		f->cpus[i] = cpus;
		f->mem[i] = mem ? mem[i] : mem0;
	}
	struct bsim_opts o = {.nhosts = nhosts,
	                      .cpus = f->cpus,
	                      .mem_mb = f->mem,
	                      .rules = f->rules,
	                      .steal_known = steal,
	                      .start_ms = start,
	                      .utc_offset_s = utc_off,
	                      .tick_at_deadline = at_deadline};
	char err[256];
	f->b = bsim_new(&o, err, sizeof err);
	if (!f->b)
		fail_msg("%s", err);
}

static void fix_new(struct fix *f, size_t nhosts, int cpus, int64_t mem0, const int64_t *mem,
                    int steal, int64_t start, long utc_off)
{
	fix_new_ticks(f, nhosts, cpus, mem0, mem, steal, start, utc_off, 0);
}

static void fix_free(struct fix *f)
{
	bsim_free(f->b);
	rules_free(f->rules);
}

static void add(struct fix *f, size_t host, const char *name, const char *load, int64_t mem,
                const char *tags)
{
	char err[256];
	struct bsim_vm vm = {name, 1, mem, load, tags, 10};
	if (bsim_add_vm(f->b, host, &vm, err, sizeof err) < 0)
		fail_msg("%s", err);
}

/* n VMs named PREFIX0.. with the same load and memory. */
static void add_many(struct fix *f, size_t host, const char *prefix, int n, const char *load,
                     int64_t mem)
{
	for (int i = 0; i < n; i++) {
		char name[40];
		snprintf(name, sizeof name, "%s%02d", prefix, i);
		add(f, host, name, load, mem, NULL);
	}
}

static void thesis(int steal, int at_deadline)
{
	struct fix f;
	fix_new_ticks(&f, 4, 4, 65536, NULL, steal, NOON, 0, at_deadline);
	add_many(&f, 0, "vm", 16, "constant 1", 1024);
	bsim_run(f.b, NOON + 30 * MIN);
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	/* a tick every 100 ms step is 4 x 18,000; at the deadlines, a small share of it */
	if (at_deadline)
		assert_in_range(st.ticks, 1, 4 * 18000 / 20);
	assert_int_equal(st.migrations, 12);
	assert_int_equal(st.moved_twice, 0);
	assert_int_equal(st.failed, 0);
	for (size_t h = 0; h < 4; h++)
		assert_int_equal(bsim_host_vms(f.b, h), 4);
	/* the first migration waits for the 30 s hold, then one offer window */
	assert_true(st.first_start - st.first_overload >= 30000);
	/* nothing moves any more */
	bsim_run(f.b, NOON + 90 * MIN);
	bsim_stats(f.b, &st);
	assert_int_equal(st.migrations, 12);
	fix_free(&f);
}

static void test_thesis_with_steal(void **state)
{
	thesis(1, 0);
}

static void test_thesis_without_steal(void **state)
{
	thesis(0, 0);
}

/* the same with the timers run only when due: the same moves, no 100 ms polling */
static void test_thesis_ticks_at_deadline(void **state)
{
	thesis(1, 1);
}

/* The thesis in a corner of 40 idle hosts: at most 16 of them offer for each help (the
 * least loaded), so a round costs a few dozen messages whatever the cluster's size, and
 * the corner still sheds to the goal in the fewest moves. */
static void test_offers_bounded_in_a_big_cluster(void **state)
{
	enum { N = 40 };
	int cpus[N];
	int64_t mem[N];
	for (size_t i = 0; i < N; i++) {
		cpus[i] = 4;
		mem[i] = 65536;
	}
	struct rules *rules = rules_default();
	struct bsim_opts o = {.nhosts = N,
	                      .cpus = cpus,
	                      .mem_mb = mem,
	                      .rules = rules,
	                      .steal_known = 1,
	                      .start_ms = NOON,
	                      .tick_at_deadline = 1};
	char err[256];
	struct bsim *b = bsim_new(&o, err, sizeof err);
	if (!b)
		fail_msg("%s", err);
	for (int i = 0; i < 16; i++) {
		char name[16];
		snprintf(name, sizeof name, "vm%02d", i);
		struct bsim_vm vm = {name, 1, 1024, "constant 1", NULL, 10};
		if (bsim_add_vm(b, 0, &vm, err, sizeof err) < 0)
			fail_msg("%s", err);
	}
	bsim_run(b, NOON + 30 * MIN);
	struct bsim_stats st;
	bsim_stats(b, &st);
	/* the goal is high - margin (75 %: 3 VMs of 4 CPUs), the mean being far under it */
	assert_int_equal(st.migrations, 13);
	assert_int_equal(st.moved_twice, 0);
	assert_int_equal(st.failed, 0);
	/* each decision: one help, at most 16 offers, one accept, the other offers released
	 * (with all 39 offering, 39 offers and 38 releases) */
	size_t decisions = bsim_events(b, "balance.decision", 0, NULL, NULL, 0);
	assert_true(decisions > 0);
	size_t per = bsim_messages(b) / decisions;
	print_message("%zu decisions, %zu balance messages (%zu a decision)\n", decisions,
	              bsim_messages(b), per);
	assert_in_range(per, 1, 2 + 2 * 16);
	bsim_free(b);
	rules_free(rules);
}

/* h1 and h2 overloaded at the same moment; h3 has room for 3 VMs only. */
static void test_two_overloaded_never_overfill(void **state)
{
	struct fix f;
	int64_t mem[3] = {65536, 65536, 512 + 3 * 2048 + 100};
	fix_new(&f, 3, 4, 0, mem, 1, NOON, 0);
	add_many(&f, 0, "a", 6, "constant 1", 2048);
	add_many(&f, 1, "b", 6, "constant 1", 2048);
	bsim_run(f.b, NOON + 30 * MIN);
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	assert_int_equal(st.max_dst_overfill, 0);
	assert_int_equal(st.failed, 0);
	assert_int_equal(bsim_host_vms(f.b, 2), 3);
	assert_true(st.migrations >= 3);
	assert_int_equal(st.moved_twice, 0);
	fix_free(&f);
}

/* host 0 sheds three of six busy VMs onto host 2 (up to the high mark there) and stays at
 * 75 %, between the low and high marks, so its balance rule still holds. An hour later
 * host 1's six VMs wake (150 %, no room of its own): the cluster's mean is then 100 %,
 * over the high mark. Host 2 takes one; host 0, under the mean, must take one too though
 * its rule holds, or host 1 stays at 125 % for good. */
static void test_rule_held_under_mean_takes(void **state)
{
	struct fix f;
	int64_t mem[3] = {65536, 512 + 6 * 1024, 65536};
	fix_new(&f, 3, 4, 0, mem, 1, NOON, 0);
	add_many(&f, 0, "a", 6, "constant 1", 1024);
	add_many(&f, 1, "b", 6, "periodic 0 1 7200", 1024); /* idle until NOON + 1 h */
	bsim_run(f.b, NOON + 50 * MIN);
	assert_int_equal(bsim_host_vms(f.b, 0), 3);
	assert_int_equal(bsim_host_vms(f.b, 2), 3);
	bsim_run(f.b, NOON + 110 * MIN);
	for (size_t h = 0; h < 3; h++)
		assert_int_equal(bsim_host_vms(f.b, h), 4);
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	assert_int_equal(st.moved_twice, 0);
	fix_free(&f);
}

static void test_anti_affinity_pinned_memory_full(void **state)
{
	struct fix f;
	int64_t mem[4] = {65536, 65536, 65536, 2048}; /* h4 cannot take a 2 GiB VM */
	fix_new(&f, 4, 4, 0, mem, 1, NOON, 0);
	add(&f, 0, "big", "constant 1", 2048, "pinned");
	add(&f, 0, "db1", "constant 1", 2048, "anti-affinity:db");
	add(&f, 0, "db2", "constant 1", 2048, "anti-affinity:db");
	add_many(&f, 0, "w", 5, "constant 1", 2048);
	add(&f, 1, "db3", "constant 0.1", 2048, "anti-affinity:db");
	bsim_run(f.b, NOON + 40 * MIN);
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	assert_true(st.migrations >= 4);
	assert_int_equal(st.failed, 0);
	/* pinned never moves */
	assert_int_equal(bsim_vm_host(f.b, "big"), 0);
	assert_int_equal(bsim_vm_moves(f.b, "big"), 0);
	/* db1, db2, db3 on three different hosts */
	int a = bsim_vm_host(f.b, "db1"), b = bsim_vm_host(f.b, "db2"),
	    c = bsim_vm_host(f.b, "db3");
	assert_true(a != b && b != c && a != c);
	/* the memory-full host is never chosen */
	assert_int_equal(bsim_host_vms(f.b, 3), 0);
	fix_free(&f);
}

/* One VM swings between 0.3 and 2.4 CPUs every 10 minutes for an hour, taking its
 * host over the threshold and back: it may move once, never back and forth. */
static void test_swing_vm_no_ping_pong(void **state)
{
	struct fix f;
	fix_new(&f, 2, 4, 65536, NULL, 1, NOON, 0);
	add(&f, 0, "swing", "periodic 0.3 2.4 600", 2048, NULL);
	add(&f, 0, "a1", "constant 1", 1024, NULL);
	add(&f, 0, "a2", "constant 0.8", 1024, NULL);
	add(&f, 1, "b1", "constant 1", 1024, NULL);
	add(&f, 1, "b2", "constant 0.6", 1024, NULL);
	bsim_run(f.b, NOON + HOUR);
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	assert_int_equal(st.back_and_forth, 0);
	assert_int_equal(st.moved_twice, 0);
	assert_true(st.migrations <= 2);
	fix_free(&f);
}

/* The built-in night rule: consolidate from 22:00 local once the cluster has been
 * quiet for 10 minutes. Local time is UTC+1 here. */
static void test_night_window(void **state)
{
	struct fix f;
	int64_t start = 1704484800000LL; /* 2024-01-05 20:00 UTC = 21:00 local */
	fix_new(&f, 4, 4, 16384, NULL, 1, start, 3600);
	add_many(&f, 0, "a", 2, "constant 0.3", 2048);
	add_many(&f, 1, "b", 2, "constant 0.3", 2048);
	add_many(&f, 2, "c", 2, "constant 0.3", 2048);
	add_many(&f, 3, "d", 2, "constant 0.3", 2048);
	bsim_run(f.b, start + 3 * HOUR);
	int64_t when = 0;
	char json[1024];
	size_t n = bsim_events(f.b, "balance.rule", 0, &when, json, sizeof json);
	assert_true(n >= 1);
	assert_non_null(strstr(json, "\"action\":\"consolidate\""));
	assert_non_null(strstr(json, "\"state\":\"on\""));
	/* 22:10 local = 21:10 UTC, within one 2 s sample */
	int64_t want = start + HOUR + 10 * MIN;
	assert_true(when >= want && when < want + 2000);
	/* nothing moved before, hosts were emptied after */
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	assert_true(st.first_start >= want);
	assert_true(st.migrations >= 4);
	assert_true(bsim_events(f.b, "hook.power_off", 0, NULL, NULL, 0) >= 2);
	assert_int_equal(st.back_and_forth, 0);
	fix_free(&f);
}

/* Hosts with VMs. */
static size_t hosts_used(const struct fix *f, size_t nhosts)
{
	size_t used = 0;
	for (size_t h = 0; h < nhosts; h++)
		used += bsim_host_vms(f->b, h) > 0;
	return used;
}

/* The built-in rules on n hosts of 4 CPUs, two VMs of 0.2 CPU each, all at the same
 * load (UTC here): quiet by night, 1.2 CPU each from 06:00. From 21:50 the night rule
 * empties hosts down to `want` (the fewest that memory and consolidate_max allow);
 * at 06:00 the load returns and balancing spreads it again. */
static void night_cluster(size_t n, int64_t mem, size_t want, int at_deadline)
{
	struct fix f;
	int64_t start = 1704491400000LL; /* 2024-01-05 21:50 UTC */
	fix_new_ticks(&f, n, 4, mem, NULL, 1, start, 0, at_deadline);
	/* square wave: 0.2 from 18:00 to 06:00, 1.2 from 06:00 to 18:00 */
	const char *load = "periodic 0.2 1.2 86400 square 64800";
	for (size_t h = 0; h < n; h++) {
		for (int i = 0; i < 2; i++) {
			char name[40], err[256];
			snprintf(name, sizeof name, "h%zu-%02d", h, i);
			struct bsim_vm vm = {name, 2, 1024, load, NULL, 10};
			if (bsim_add_vm(f.b, h, &vm, err, sizeof err) < 0)
				fail_msg("%s", err);
		}
	}
	bsim_run(f.b, start + 2 * HOUR);
	assert_int_equal(hosts_used(&f, n), want);
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.max_dst_overfill, 0);
	assert_int_equal(st.moved_twice, 0);
	for (size_t h = 0; h < n; h++) {
		assert_true(bsim_host_cpu(f.b, h) <= 70 + 1e-6);
		assert_true(bsim_host_vms(f.b, h) * 1024 + 512 <= (size_t)mem);
	}
	/* steady: nothing more moves before the morning */
	int before = st.migrations;
	bsim_run(f.b, start + 7 * HOUR);
	bsim_stats(f.b, &st);
	assert_int_equal(st.migrations, before);
	/* 06:00: 2.4 CPUs per host come back; by 07:30 no host is over high (80 %), and no
	 * VM moved more than once each way */
	bsim_run(f.b, start + 9 * HOUR + 40 * MIN);
	bsim_stats(f.b, &st);
	assert_true(st.migrations > before);
	assert_int_equal(st.failed, 0);
	assert_int_equal(hosts_used(&f, n), n); /* 2 VMs a host: 3 would be 90 % */
	for (size_t h = 0; h < n; h++) {
		assert_true(bsim_host_cpu(f.b, h) <= 80 + 1e-6);
		for (int i = 0; i < 2; i++) {
			char vm[40];
			snprintf(vm, sizeof vm, "h%zu-%02d", h, i);
			assert_true(bsim_vm_moves(f.b, vm) <= 2);
		}
	}
	fix_free(&f);
}

static void test_night_three_hosts(void **state)
{
	night_cluster(3, 16384, 1, 0); /* 6 x 0.2 CPU = 30 % of one host */
}

/* the same with the timers run only when due, as in vmc-hostd */
static void test_night_three_hosts_at_deadline(void **state)
{
	night_cluster(3, 16384, 1, 1);
}

static void test_night_five_hosts_memory(void **state)
{
	night_cluster(5, 4096, 4, 0); /* 3 VMs fit in 4096 - 512 MiB: 10 VMs on 4 hosts */
}

static void test_night_eight_hosts(void **state)
{
	night_cluster(8, 16384, 2, 0); /* 16 x 0.2 CPU = 80 % of one host > consolidate_max 70 */
}

/* A policy window switches the mode at its start; advise mode moves nothing. */
static void test_policy_window_and_advise(void **state)
{
	struct fix f;
	fix_new(&f, 4, 4, 65536, NULL, 1, NOON, 0);
	add_many(&f, 0, "vm", 16, "constant 1", 1024);
	struct policy p;
	char err[256];
	cJSON *j = cJSON_Parse("{\"v\":1,\"from\":\"a\",\"ts\":1,\"mode\":\"advise\","
	                       "\"windows\":[{\"during\":\"12:30-13:00\",\"mode\":\"balance\"}]}");
	assert_int_equal(policy_parse(j, &p, err, sizeof err), 0);
	cJSON_Delete(j);
	bsim_set_policy(f.b, &p);
	bsim_run(f.b, NOON + 29 * MIN);
	struct bsim_stats st;
	bsim_stats(f.b, &st);
	assert_int_equal(st.migrations, 0);
	char json[2048];
	assert_true(bsim_events(f.b, "balance.decision", 0, NULL, json, sizeof json) >= 1);
	assert_non_null(strstr(json, "\"advise\":true"));
	assert_int_equal(bsim_events(f.b, "balance.mode", 0, NULL, NULL, 0), 0);
	bsim_run(f.b, NOON + 60 * MIN);
	bsim_stats(f.b, &st);
	assert_int_equal(st.migrations, 12);
	assert_true(st.first_start >= NOON + 30 * MIN);
	/* every host says when the window switched its mode, at the first sample of
	 * 12:30 (advise to balance) and of 13:00 (back) */
	int64_t when = 0;
	bsim_run(f.b, NOON + 62 * MIN);
	assert_int_equal(bsim_events(f.b, "balance.mode", 0, &when, json, sizeof json), 8);
	assert_true(when >= NOON + 30 * MIN && when < NOON + 30 * MIN + 2000);
	assert_non_null(strstr(json, "\"mode\":\"balance\""));
	assert_non_null(strstr(json, "\"was\":\"advise\""));
	bsim_events(f.b, "balance.mode", 7, &when, json, sizeof json);
	assert_true(when >= NOON + 60 * MIN && when < NOON + 60 * MIN + 2000);
	assert_non_null(strstr(json, "\"mode\":\"advise\""));
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thesis_with_steal),
	    cmocka_unit_test(test_thesis_without_steal),
	    cmocka_unit_test(test_thesis_ticks_at_deadline),
	    cmocka_unit_test(test_two_overloaded_never_overfill),
	    cmocka_unit_test(test_rule_held_under_mean_takes),
	    cmocka_unit_test(test_anti_affinity_pinned_memory_full),
	    cmocka_unit_test(test_swing_vm_no_ping_pong),
	    cmocka_unit_test(test_night_window),
	    cmocka_unit_test(test_policy_window_and_advise),
	    cmocka_unit_test(test_night_three_hosts),
	    cmocka_unit_test(test_night_three_hosts_at_deadline),
	    cmocka_unit_test(test_night_five_hosts_memory),
	    cmocka_unit_test(test_night_eight_hosts),
	    cmocka_unit_test(test_offers_bounded_in_a_big_cluster),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
