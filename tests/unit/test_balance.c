/* test_balance.c - the decision engine: demand, rules of a move, offers, choice,
 * plans, and the thesis experiment as a pure decide / apply / recompute loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/balance/balance.h"
#include "../../lib/sim/sim_model.h"

#define MAXV 64
#define NOW 1704412800000LL

/* A small cluster whose true demand is known to the test and hidden from the engine. */
struct model {
	struct bal_host hosts[8];
	struct bal_vm vms[8][MAXV];
	double demand[8][MAXV]; /* CPUs each VM wants */
	size_t nhosts;
	int steal_known;
	struct bal_view view;
	struct rule_settings s;
};

static void model_init(struct model *m, size_t nhosts, int cpus, int64_t mem_mb, int steal_known)
{
	memset(m, 0, sizeof *m);
	m->nhosts = nhosts;
	m->steal_known = steal_known;
	rule_settings_default(&m->s);
	for (size_t i = 0; i < nhosts; i++) {
		struct bal_host *h = &m->hosts[i];
		snprintf(h->name, sizeof h->name, "h%zu", i + 1);
		h->cpus = cpus;
		h->mem_total_mb = mem_mb;
		h->mem_reserve_mb = -1;
		h->vms = m->vms[i];
	}
	m->view.hosts = m->hosts;
	m->view.nhosts = nhosts;
	m->view.now_ms = NOW;
}

static struct bal_vm *model_add(struct model *m, size_t host, const char *name, double demand,
                                int vcpus, int64_t mem_mb)
{
	struct bal_host *h = &m->hosts[host];
	struct bal_vm *vm = &h->vms[h->nvms];
	memset(vm, 0, sizeof *vm);
	snprintf(vm->name, sizeof vm->name, "%s", name);
	vm->vcpus = vcpus;
	vm->mem_mb = mem_mb;
	m->demand[host][h->nvms] = demand;
	h->nvms++;
	return vm;
}

/* What the hypervisor shows: fair-share use, guest steal, host cpu and free memory. */
static void model_measure(struct model *m)
{
	for (size_t i = 0; i < m->nhosts; i++) {
		struct bal_host *h = &m->hosts[i];
		double alloc[MAXV], dem[MAXV];
		int vc[MAXV];
		int64_t used = 0;
		for (size_t k = 0; k < h->nvms; k++) {
			dem[k] = fmin(m->demand[i][k], h->vms[k].vcpus);
			vc[k] = h->vms[k].vcpus;
			used += h->vms[k].mem_mb;
		}
		sim_share_cpus(dem, vc, h->nvms, h->cpus, alloc, NULL);
		double total = 0;
		for (size_t k = 0; k < h->nvms; k++) {
			h->vms[k].cpu = alloc[k] * 100;
			h->vms[k].steal = m->steal_known ? (dem[k] - alloc[k]) * 100 : -1;
			total += alloc[k];
		}
		h->cpu = total * 100 / h->cpus;
		h->mem_free_mb = h->mem_total_mb - used;
	}
}

static void model_move(struct model *m, size_t from, const char *vm, size_t to)
{
	struct bal_host *a = &m->hosts[from], *b = &m->hosts[to];
	for (size_t k = 0; k < a->nvms; k++) {
		if (strcmp(a->vms[k].name, vm) != 0)
			continue;
		b->vms[b->nvms] = a->vms[k];
		b->vms[b->nvms].last_move_ms = m->view.now_ms;
		b->vms[b->nvms].moves_hour++;
		m->demand[to][b->nvms++] = m->demand[from][k];
		a->vms[k] = a->vms[a->nvms - 1];
		m->demand[from][k] = m->demand[from][a->nvms - 1];
		a->nvms--;
		return;
	}
	fail_msg("no vm %s on %s", vm, a->name);
}

static void test_demand(void **state)
{
	struct model m;
	model_init(&m, 1, 4, 16384, 1);
	for (int i = 0; i < 8; i++) {
		char n[24];
		snprintf(n, sizeof n, "v%d", i);
		model_add(&m, 0, n, 1.0, 1, 512);
	}
	model_measure(&m);
	struct bal_host *h = &m.hosts[0];
	int unknown;
	assert_true(fabs(h->cpu - 100) < 1e-9);
	assert_true(fabs(h->vms[0].cpu - 50) < 1e-9);
	assert_true(fabs(bal_vm_demand(h, &h->vms[0], &m.s, &unknown) - 100) < 1e-9);
	assert_false(unknown);
	assert_true(fabs(bal_host_load(h, &m.s) - 200) < 1e-9);
	/* without steal on a saturated host: the upper bound, flagged */
	m.steal_known = 0;
	model_measure(&m);
	h->vms[1].vcpus = 8; /* capped at the host's 4 CPUs */
	assert_true(fabs(bal_vm_demand(h, &h->vms[0], &m.s, &unknown) - 100) < 1e-9);
	assert_true(unknown);
	assert_true(fabs(bal_vm_demand(h, &h->vms[1], &m.s, &unknown) - 400) < 1e-9);
	/* not saturated: use */
	h->cpu = 50;
	assert_true(fabs(bal_vm_demand(h, &h->vms[0], &m.s, &unknown) - 50) < 1e-9);
	assert_false(unknown);
	/* dom0 overhead and incoming promises count */
	h->nvms = 1;
	h->vms[0].cpu = 100;
	h->cpu = 30; /* 120 % of one CPU measured, 100 by the VM: 20 overhead */
	h->vms[1] =
	    (struct bal_vm){.name = "in", .cpu = 80, .mem_mb = 1000, .flags = BAL_VM_INCOMING};
	h->nvms = 2;
	assert_true(fabs(bal_host_load(h, &m.s) - 50) < 1e-9);
	h->mem_free_mb = 4000;
	assert_int_equal(bal_host_room_mb(h, &m.s), 4000 - 512 - 1000);
	h->mem_reserve_mb = 0;
	assert_int_equal(bal_host_room_mb(h, &m.s), 3000);
}

static void test_tags_and_names(void **state)
{
	struct bal_vm vm = {0};
	const char *tags[] = {"web",       "pinned",   "affinity:db", "anti-affinity:ha",
	                      "nobalance", "affinity:"};
	bal_vm_tags(&vm, tags, 6);
	assert_true(vm.flags & BAL_VM_PINNED);
	assert_true(vm.flags & BAL_VM_EXCLUDED);
	assert_string_equal(vm.affinity, "db");
	assert_string_equal(vm.anti, "ha");
	struct bal_vm vm2 = {0};
	const char *name_tags[] = {"affinity.web", "anti.db"};
	bal_vm_tags(&vm2, name_tags, 2);
	assert_string_equal(vm2.affinity, "web");
	assert_string_equal(vm2.anti, "db");
	assert_string_equal(bal_host_state_name(BAL_MAINTENANCE), "maintenance");
	assert_int_equal(bal_host_state_parse("standby"), BAL_STANDBY);
	assert_int_equal(bal_host_state_parse("x"), -1);
	assert_int_equal(bal_mode_parse("evacuate"), BAL_MODE_EVACUATE);
	assert_string_equal(bal_mode_name(BAL_MODE_CONSOLIDATE), "consolidate");
}

static void test_candidates(void **state)
{
	struct model m;
	model_init(&m, 2, 4, 65536, 1);
	model_add(&m, 0, "big", 2.0, 2, 4096);
	model_add(&m, 0, "pin", 3.0, 4, 1024)->flags |= BAL_VM_PINNED;
	model_add(&m, 0, "excl", 1.0, 1, 1024)->flags |= BAL_VM_EXCLUDED;
	model_add(&m, 0, "cool", 1.0, 1, 1024)->last_move_ms = NOW - 60000;
	model_add(&m, 0, "often", 1.0, 1, 1024)->moves_hour = 3;
	model_add(&m, 0, "mig", 1.0, 1, 1024)->flags |= BAL_VM_MIGRATING;
	struct bal_vm *a = model_add(&m, 0, "g1", 0.5, 1, 512);
	snprintf(a->affinity, sizeof a->affinity, "grp");
	a = model_add(&m, 0, "g2", 0.2, 1, 512);
	snprintf(a->affinity, sizeof a->affinity, "grp");
	a = model_add(&m, 0, "h1", 0.6, 1, 512);
	snprintf(a->affinity, sizeof a->affinity, "stuck");
	a = model_add(&m, 0, "h2", 0.6, 1, 512);
	snprintf(a->affinity, sizeof a->affinity, "stuck");
	a->flags |= BAL_VM_PINNED;
	model_add(&m, 0, "small", 0.1, 1, 256);
	model_measure(&m);
	struct bal_cand c[BAL_MAX_CANDS];
	size_t n = bal_candidates(&m.view, 0, &m.s, BAL_MODE_BALANCE, c, BAL_MAX_CANDS);
	const char *want[] = {"big", "g1", "g2", "small"};
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(c[i].vm, want[i]);
	/* a group that does not fit in max is left out whole */
	n = bal_candidates(&m.view, 0, &m.s, BAL_MODE_BALANCE, c, 2);
	assert_int_equal(n, 2);
	assert_string_equal(c[1].vm, "small");
	/* evacuate moves excluded and cooling VMs too, never pinned or migrating ones */
	n = bal_candidates(&m.view, 0, &m.s, BAL_MODE_EVACUATE, c, BAL_MAX_CANDS);
	assert_int_equal(n, 7);
	assert_string_equal(c[0].vm, "big"); /* largest memory first */
	/* after the cooldown, "cool" may move again */
	m.view.now_ms = NOW + m.s.cooldown_ms;
	n = bal_candidates(&m.view, 0, &m.s, BAL_MODE_BALANCE, c, BAL_MAX_CANDS);
	assert_int_equal(n, 5);
	/* a VM moved by hand is held: balance and consolidate leave it, evacuate moves it,
	 * and when the hold is over it may move again */
	m.hosts[0].vms[0].held_until = m.view.now_ms + 1; /* "big" */
	n = bal_candidates(&m.view, 0, &m.s, BAL_MODE_BALANCE, c, BAL_MAX_CANDS);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(c[i].vm, "big");
	assert_int_equal(bal_candidates(&m.view, 0, &m.s, BAL_MODE_CONSOLIDATE, c, BAL_MAX_CANDS),
	                 4);
	n = bal_candidates(&m.view, 0, &m.s, BAL_MODE_EVACUATE, c, BAL_MAX_CANDS);
	assert_string_equal(c[0].vm, "big");
	m.view.now_ms++;
	assert_int_equal(bal_candidates(&m.view, 0, &m.s, BAL_MODE_BALANCE, c, BAL_MAX_CANDS), 5);
}

static void test_move_rule(void **state)
{
	struct rule_settings s;
	rule_settings_default(&s);
	/* 95% -> 40%, 25% of a 4-CPU host: both sides end better */
	struct bal_cand c = {.vm = "a", .cpu = 100, .mem_mb = 1024};
	struct bal_request req = {"h1", BAL_MODE_BALANCE, 95, 4, &c, 1, 0};
	struct bal_offer_view off = {"h2", 40, 4, (const char *[]){"a"}, 1};
	struct bal_take t;
	assert_int_equal(bal_choose(&req, &off, 1, &s, 80, &t), 0);
	assert_true(fabs(t.src_after - 70) < 1e-9 && fabs(t.dst_after - 65) < 1e-9);
	/* the destination would end above the target */
	off.load = 60;
	assert_int_equal(bal_choose(&req, &off, 1, &s, 80, &t), -1);
	/* the pair would not gain the margin: 95 -> d' = 92 */
	off.load = 67;
	assert_int_equal(bal_choose(&req, &off, 1, &s, 100, &t), -1);
	/* an offer naming VMs the request does not have is ignored */
	off = (struct bal_offer_view){"h2", 0, 4, (const char *[]){"zz"}, 1};
	assert_int_equal(bal_choose(&req, &off, 1, &s, 80, &t), -1);
}

static void test_offer_rules(void **state)
{
	struct model m;
	model_init(&m, 4, 4, 8192, 1);
	for (int i = 0; i < 6; i++) {
		char n[24];
		snprintf(n, sizeof n, "v%d", i);
		struct bal_vm *vm = model_add(&m, 0, n, 1.0, 1, 1024);
		if (i == 0)
			snprintf(vm->anti, sizeof vm->anti, "ha");
	}
	/* h2: memory full; h3: runs a VM of anti-affinity group ha; h4: maintenance */
	model_add(&m, 1, "fat", 0.1, 1, 8192 - 600);
	snprintf(model_add(&m, 2, "ha2", 0.1, 1, 512)->anti, VMC_NAME_MAX, "ha");
	m.hosts[3].state = BAL_MAINTENANCE;
	model_measure(&m);
	struct bal_cand c[BAL_MAX_CANDS];
	size_t n = bal_candidates(&m.view, 0, &m.s, BAL_MODE_BALANCE, c, BAL_MAX_CANDS);
	struct bal_request req = {"h1", BAL_MODE_BALANCE, bal_host_load(&m.hosts[0], &m.s), 4, c, n,
	                          0};
	double target = bal_target(&m.view, &m.s);
	struct bal_take t;
	assert_int_equal(bal_offer(&m.view, 1, &req, &m.s, target, &t), 0);
	assert_int_equal(bal_offer(&m.view, 3, &req, &m.s, target, &t), 0);
	assert_int_equal(bal_offer(&m.view, 0, &req, &m.s, target, &t), 0); /* itself */
	size_t got = bal_offer(&m.view, 2, &req, &m.s, target, &t);
	assert_true(got > 0);
	for (size_t i = 0; i < got; i++)
		assert_string_not_equal(c[t.idx[i]].vm, "v0");
	/* h3 has 8192 - 512 - 512 reserve = 7168 MiB: memory is never the limit here, the
	 * target is: 2.5 + 25 k <= max(80, mean + 2.5) */
	assert_true(t.dst_after <= target + 1e-9);
	assert_int_equal(got, 3);
}

/* The thesis experiment: 4 hosts x 4 CPUs, 16 VMs busy on one CPU each, all on h1.
 * decide (the most loaded host asks; all others offer; it chooses) -> apply ->
 * measure again, until nothing moves. */
static void thesis(int steal_known)
{
	struct model m;
	model_init(&m, 4, 4, 65536, steal_known);
	for (int i = 0; i < 16; i++) {
		char n[24];
		snprintf(n, sizeof n, "vm%02d", i);
		model_add(&m, 0, n, 1.0, 1, 1024);
	}
	int moved[16] = {0}, migrations = 0;
	model_measure(&m);
	assert_int_equal(bal_lower_bound(&m.view, &m.s), 12);
	for (int round = 0; round < 100; round++) {
		struct bal_plan p;
		/* one request: the plan's first round is what the most loaded host does */
		bal_plan(&m.view, &m.s, BAL_MODE_BALANCE, SIZE_MAX, &p);
		if (p.n == 0) {
			bal_plan_free(&p);
			break;
		}
		size_t from = p.moves[0].from, to = p.moves[0].to;
		for (size_t k = 0; k < p.n && p.moves[k].from == from && p.moves[k].to == to; k++) {
			model_move(&m, from, p.moves[k].vm, to);
			moved[atoi(p.moves[k].vm + 2)]++;
			migrations++;
		}
		bal_plan_free(&p);
		m.view.now_ms += 60000;
		model_measure(&m);
	}
	assert_int_equal(migrations, 12);
	for (int i = 0; i < 16; i++)
		assert_true(moved[i] <= 1);
	for (size_t h = 0; h < 4; h++)
		assert_int_equal(m.hosts[h].nvms, 4);
}

static void test_thesis_with_steal(void **state)
{
	thesis(1);
}

static void test_thesis_without_steal(void **state)
{
	thesis(0);
}

static void test_plan_dry_run(void **state)
{
	struct model m;
	model_init(&m, 4, 4, 65536, 1);
	for (int i = 0; i < 16; i++) {
		char n[24];
		snprintf(n, sizeof n, "vm%02d", i);
		model_add(&m, 0, n, 1.0, 1, 1024);
	}
	model_measure(&m);
	struct bal_plan p;
	assert_int_equal(bal_plan(&m.view, &m.s, BAL_MODE_BALANCE, SIZE_MAX, &p), 12);
	assert_true(fabs(p.moves[0].from_before - 400) < 1e-9);
	assert_true(fabs(p.moves[0].from_after - 375) < 1e-9);
	assert_true(fabs(p.moves[0].to_after - 25) < 1e-9);
	assert_true(fabs(p.moves[11].from_after - 100) < 1e-9);
	int per[4] = {0};
	for (size_t k = 0; k < p.n; k++) {
		assert_int_equal(p.moves[k].from, 0);
		per[p.moves[k].to]++;
	}
	assert_int_equal(per[1], 4);
	assert_int_equal(per[2], 4);
	assert_int_equal(per[3], 4);
	/* the view itself is untouched */
	assert_int_equal(m.hosts[0].nvms, 16);
	bal_plan_free(&p);
}

static void test_consolidate(void **state)
{
	struct model m;
	model_init(&m, 4, 4, 16384, 1);
	/* 4 hosts at 10-20 %: everything fits on two under 70 % */
	for (int h = 0; h < 4; h++)
		for (int i = 0; i < 3; i++) {
			char n[40];
			snprintf(n, sizeof n, "v%d%d", h, i);
			model_add(&m, h, n, 0.2 + 0.05 * h, 1, 2048);
		}
	model_measure(&m);
	struct bal_plan p;
	bal_plan(&m.view, &m.s, BAL_MODE_CONSOLIDATE, SIZE_MAX, &p);
	assert_int_equal(p.nemptied, 2);
	assert_int_equal(p.n, 6);
	/* apply and check memory and the consolidation ceiling */
	for (size_t k = 0; k < p.n; k++)
		model_move(&m, p.moves[k].from, p.moves[k].vm, p.moves[k].to);
	model_measure(&m);
	for (size_t h = 0; h < 4; h++) {
		assert_true(m.hosts[h].mem_free_mb >= 512);
		assert_true(bal_host_load(&m.hosts[h], &m.s) <= 70 + 1e-9);
	}
	for (size_t e = 0; e < p.nemptied; e++)
		assert_int_equal(m.hosts[p.emptied[e]].nvms, 0);
	bal_plan_free(&p);
	/* a pinned VM keeps its host on */
	model_init(&m, 2, 4, 16384, 1);
	model_add(&m, 0, "a", 0.2, 1, 1024)->flags |= BAL_VM_PINNED;
	model_add(&m, 1, "b", 0.3, 1, 1024)->flags |= BAL_VM_PINNED;
	model_measure(&m);
	assert_int_equal(bal_plan(&m.view, &m.s, BAL_MODE_CONSOLIDATE, SIZE_MAX, &p), 0);
	assert_int_equal(p.nemptied, 0);
	bal_plan_free(&p);
}

/* Hosts as loaded as each other: the consolidation order is (load, name), the same for
 * the plan, for offers and whatever order a host's view lists them in. */
static void test_consolidate_order(void **state)
{
	assert_true(bal_consolidate_before(10, "h1", 10, "h3"));
	assert_false(bal_consolidate_before(10, "h3", 10, "h1"));
	assert_true(bal_consolidate_before(9, "h9", 10, "h1"));
	assert_false(bal_consolidate_before(10, "h1", 10, "h1"));
	struct model m;
	for (int rev = 0; rev < 2; rev++) {
		model_init(&m, 3, 4, 16384, 1);
		for (int h = 0; h < 3; h++) {
			/* rev: the view lists h3, h2, h1 */
			snprintf(m.hosts[h].name, sizeof m.hosts[h].name, "h%d",
			         rev ? 3 - h : h + 1);
			for (int i = 0; i < 2; i++) {
				char n[40];
				snprintf(n, sizeof n, "v%d%d", h, i);
				model_add(&m, h, n, 0.2, 1, 1024);
			}
		}
		model_measure(&m);
		struct bal_plan p;
		bal_plan(&m.view, &m.s, BAL_MODE_CONSOLIDATE, SIZE_MAX, &p);
		assert_int_equal(p.nemptied, 2);
		assert_string_equal(m.hosts[p.emptied[0]].name, "h1");
		assert_string_equal(m.hosts[p.emptied[1]].name, "h2");
		for (size_t k = 0; k < p.n; k++)
			assert_string_equal(m.hosts[p.moves[k].to].name, "h3");
		bal_plan_free(&p);
	}
	/* offers: h3 takes from h1; h1 does not take from h3 (it empties first) */
	size_t h1 = 2, h3 = 0; /* the reversed view */
	struct bal_cand c[BAL_MAX_CANDS];
	struct bal_take t;
	size_t n = bal_candidates(&m.view, h1, &m.s, BAL_MODE_CONSOLIDATE, c, BAL_MAX_CANDS);
	struct bal_request req = {
	    "h1", BAL_MODE_CONSOLIDATE, bal_host_load(&m.hosts[h1], &m.s), 4, c, n, 0};
	assert_int_equal(bal_offer(&m.view, h3, &req, &m.s, 100, &t), 2);
	n = bal_candidates(&m.view, h3, &m.s, BAL_MODE_CONSOLIDATE, c, BAL_MAX_CANDS);
	req.requester = "h3";
	req.ncands = n;
	assert_int_equal(bal_offer(&m.view, h1, &req, &m.s, 100, &t), 0);
	assert_int_equal(bal_offer(&m.view, 1, &req, &m.s, 100, &t), 0); /* h2 */
}

static void test_evacuate(void **state)
{
	struct model m;
	model_init(&m, 4, 4, 8192, 1);
	for (int i = 0; i < 10; i++) {
		char n[24];
		snprintf(n, sizeof n, "v%d", i);
		model_add(&m, 0, n, 0.3, 1, 1536);
	}
	m.hosts[0].vms[9].flags |= BAL_VM_EXCLUDED; /* still moved */
	m.hosts[3].state = BAL_MAINTENANCE;
	model_measure(&m);
	struct bal_plan p;
	/* h2, h3: 8192 - 512 reserve = 7680 MiB = 5 VMs each: all 10 fit */
	assert_int_equal(bal_plan(&m.view, &m.s, BAL_MODE_EVACUATE, 0, &p), 10);
	assert_int_equal(p.unplaced, 0);
	int per[4] = {0};
	for (size_t k = 0; k < p.n; k++)
		per[p.moves[k].to]++;
	assert_int_equal(per[1], 5);
	assert_int_equal(per[2], 5);
	assert_int_equal(per[3], 0);
	bal_plan_free(&p);
	/* one more VM does not fit anywhere */
	model_add(&m, 0, "v10", 0.3, 1, 1536);
	model_add(&m, 0, "pin", 0.3, 1, 100)->flags |= BAL_VM_PINNED;
	model_measure(&m);
	assert_int_equal(bal_plan(&m.view, &m.s, BAL_MODE_EVACUATE, 0, &p), 10);
	assert_int_equal(p.unplaced, 2);
	bal_plan_free(&p);
}

static void test_power_on(void **state)
{
	struct model m;
	model_init(&m, 3, 4, 8192, 1);
	m.hosts[2].state = BAL_STANDBY;
	model_add(&m, 0, "a", 3.6, 4, 1024);
	model_add(&m, 1, "b", 1.0, 4, 1024);
	model_measure(&m);
	/* h1 at 90 %, h2 at 25 % (under low): no need */
	assert_int_equal(bal_power_on_pick(&m.view, &m.s), -1);
	m.demand[1][0] = 3.0; /* h2 at 75 %: over, and no room under low */
	model_measure(&m);
	assert_int_equal(bal_power_on_pick(&m.view, &m.s), 2);
	m.hosts[2].state = BAL_OFFLINE;
	assert_int_equal(bal_power_on_pick(&m.view, &m.s), -1);
	/* load back on h1 alone (guests report steal): as many standby hosts as bring the
	 * cluster under high - margin (75 %), first by name */
	model_init(&m, 4, 4, 8192, 1);
	m.hosts[1].state = m.hosts[2].state = m.hosts[3].state = BAL_STANDBY;
	for (int i = 0; i < 6; i++) {
		char n[24];
		snprintf(n, sizeof n, "x%d", i);
		model_add(&m, 0, n, 1.0, 1, 512);
	}
	model_measure(&m);
	size_t pick[4];
	assert_int_equal(bal_standby_needed(&m.view, &m.s, pick, 4), 1); /* 600 <= 75 x 8 */
	assert_int_equal(pick[0], 1);
	model_add(&m, 0, "z", 1.0, 1, 512);
	model_measure(&m);
	assert_int_equal(bal_standby_needed(&m.view, &m.s, pick, 4), 2); /* 700 > 600 */
	assert_int_equal(pick[1], 2);
	assert_int_equal(bal_standby_needed(&m.view, &m.s, pick, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demand),
	    cmocka_unit_test(test_tags_and_names),
	    cmocka_unit_test(test_candidates),
	    cmocka_unit_test(test_move_rule),
	    cmocka_unit_test(test_offer_rules),
	    cmocka_unit_test(test_thesis_with_steal),
	    cmocka_unit_test(test_thesis_without_steal),
	    cmocka_unit_test(test_plan_dry_run),
	    cmocka_unit_test(test_consolidate),
	    cmocka_unit_test(test_consolidate_order),
	    cmocka_unit_test(test_evacuate),
	    cmocka_unit_test(test_power_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
