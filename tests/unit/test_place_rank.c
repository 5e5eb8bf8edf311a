/* test_place_rank.c - the one placement's rules (lib/cluster/placement.h): hosts that may not
 * take a unit (state, source, skipped, memory with the reserve, anti-affinity,
 * affinity, pinned, pack's load limit), the reason given when none may, the stated
 * tie-breaks, and the evacuate plan (what a drain follows) honouring them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/cluster/placement.h"

#define NH 5
#define NV 8

struct fx {
	struct bal_host h[NH];
	struct bal_vm vms[NH][NV];
	struct bal_view v;
	struct rule_settings s;
};

/* NH online hosts "a".."e", 4 CPUs idle, 8192 MiB free each, the default 512 MiB
 * reserve: 7680 MiB of room. */
static void setup(struct fx *f)
{
	memset(f, 0, sizeof *f);
	rule_settings_default(&f->s);
	for (int i = 0; i < NH; i++) {
		struct bal_host *h = &f->h[i];
		snprintf(h->name, sizeof h->name, "%c", 'a' + i);
		h->cpus = 4;
		h->mem_total_mb = 16384;
		h->mem_free_mb = 8192;
		h->mem_reserve_mb = -1;
		h->vms = f->vms[i];
	}
	f->v = (struct bal_view){f->h, NH, 1};
}

static struct bal_vm *add(struct fx *f, int host, const char *name, int64_t mem, double cpu,
                          const char *aff, const char *anti)
{
	struct bal_host *h = &f->h[host];
	struct bal_vm *vm = &h->vms[h->nvms++];
	memset(vm, 0, sizeof *vm);
	snprintf(vm->name, sizeof vm->name, "%s", name);
	snprintf(vm->affinity, sizeof vm->affinity, "%s", aff);
	snprintf(vm->anti, sizeof vm->anti, "%s", anti);
	vm->vcpus = 1;
	vm->mem_mb = mem;
	vm->cpu = cpu;
	vm->steal = -1;
	h->mem_free_mb -= mem;
	h->cpu += cpu / h->cpus;
	return vm;
}

static int rank1(struct fx *f, struct place_vm vm, const struct place_opts *o,
                 struct place_why *why)
{
	return place_rank(&f->v, &f->s, &vm, 1, o, NULL, 0, NULL, why);
}

static const struct place_opts spread = {PLACE_SPREAD, 0, SIZE_MAX, NULL};

/* Spread: least loaded after, then most memory left, then the first name. */
static void test_spread_ties(void **state)
{
	struct fx f;
	setup(&f);
	struct place_vm vm = {"x", 1024, 50, NULL, NULL, 0};
	/* all equal: the first name */
	assert_int_equal(rank1(&f, vm, &spread, NULL), 0);
	/* same load, more memory left wins */
	f.h[2].mem_free_mb = 9000;
	assert_int_equal(rank1(&f, vm, &spread, NULL), 2);
	/* the load first: c is busier */
	f.h[2].cpu = 10;
	assert_int_equal(rank1(&f, vm, &spread, NULL), 0);
	/* the whole order, and how many qualify */
	size_t order[NH], n;
	f.h[0].state = BAL_STANDBY;
	assert_int_equal(place_rank(&f.v, &f.s, &vm, 1, &spread, order, NH, &n, NULL), 1);
	assert_int_equal(n, 4);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 4);
	assert_int_equal(order[3], 2);
}

/* Hosts out of the running: not online, the source, skipped. */
static void test_excluded(void **state)
{
	struct fx f;
	setup(&f);
	struct place_vm vm = {"x", 1024, 0, NULL, NULL, 0};
	f.h[0].state = BAL_MAINTENANCE;
	f.h[1].state = BAL_OFFLINE;
	f.h[2].state = BAL_STANDBY;
	char skip[NH] = {0, 0, 0, 1, 0};
	struct place_opts o = {PLACE_SPREAD, 0, 4, skip};
	struct place_why why;
	assert_int_equal(rank1(&f, vm, &o, &why), -1);
	assert_int_equal(why.fail, PLACE_NO_HOST);
	o.from = SIZE_MAX;
	assert_int_equal(rank1(&f, vm, &o, &why), 4);
	skip[3] = 0;
	o.from = 4;
	assert_int_equal(rank1(&f, vm, &o, &why), 3);
}

/* Memory is hard, with the reserve (the host's own if set) and promises. */
static void test_memory(void **state)
{
	struct fx f;
	setup(&f);
	struct place_why why;
	struct place_vm vm = {"x", 7680, 0, NULL, NULL, 0};
	assert_int_equal(rank1(&f, vm, &spread, &why), 0);
	vm.mem_mb = 7681;
	assert_int_equal(rank1(&f, vm, &spread, &why), -1);
	assert_int_equal(why.fail, PLACE_NO_MEMORY);
	assert_int_equal(why.most_room_mb, 7680);
	assert_string_equal(why.where, "a");
	f.h[3].mem_reserve_mb = 0; /* d reserves nothing */
	assert_int_equal(rank1(&f, vm, &spread, &why), 3);
	/* a promise to d takes its memory */
	add(&f, 3, "coming", 1024, 0, "", "")->flags = BAL_VM_INCOMING;
	f.h[3].mem_free_mb += 1024;
	assert_int_equal(rank1(&f, vm, &spread, &why), -1);
	assert_int_equal(why.most_room_mb, 7680);
	/* a unit needs the sum of its members */
	struct place_vm unit[2] = {{"u1", 4000, 0, "g", NULL, 0}, {"u2", 4000, 0, "g", NULL, 0}};
	assert_int_equal(place_rank(&f.v, &f.s, unit, 2, &spread, NULL, 0, NULL, &why), -1);
	unit[1].mem_mb = 3000;
	assert_int_equal(place_rank(&f.v, &f.s, unit, 2, &spread, NULL, 0, NULL, &why), 0);
}

static void test_anti_affinity(void **state)
{
	struct fx f;
	setup(&f);
	struct place_why why;
	add(&f, 0, "db1", 1024, 0, "", "db");
	add(&f, 1, "db2", 1024, 0, "", "db")->flags = BAL_VM_INCOMING; /* promised counts too */
	struct place_vm vm = {"db3", 1024, 0, NULL, "db", 0};
	assert_int_equal(rank1(&f, vm, &spread, &why), 2);
	f.h[2].mem_free_mb = f.h[3].mem_free_mb = f.h[4].mem_free_mb = 1000;
	assert_int_equal(rank1(&f, vm, &spread, &why), -1);
	assert_int_equal(why.fail, PLACE_ANTI);
	assert_string_equal(why.group, "db");
	/* two members of a unit may not share a group either */
	setup(&f);
	struct place_vm unit[2] = {{"u1", 10, 0, "g", "x", 0}, {"u2", 10, 0, "g", "x", 0}};
	assert_int_equal(place_rank(&f.v, &f.s, unit, 2, &spread, NULL, 0, NULL, &why), -1);
	assert_int_equal(why.fail, PLACE_ANTI);
	assert_string_equal(why.group, "x");
}

/* Affinity: where the group runs elsewhere, only there; the source does not count. */
static void test_affinity(void **state)
{
	struct fx f;
	setup(&f);
	struct place_why why;
	add(&f, 3, "web1", 1024, 200, "web", "");
	struct place_vm vm = {"web2", 1024, 0, "web", NULL, 0};
	assert_int_equal(rank1(&f, vm, &spread, &why), 3);
	/* leaving d itself: the group runs nowhere else, so anywhere */
	struct place_opts o = {PLACE_SPREAD, 0, 3, NULL};
	assert_int_equal(rank1(&f, vm, &o, &why), 0);
	/* the group's host without room: refused, naming the group */
	f.h[3].mem_free_mb = 1000;
	assert_int_equal(rank1(&f, vm, &spread, &why), -1);
	assert_int_equal(why.fail, PLACE_AFFINITY);
	assert_string_equal(why.group, "web");
	/* a group that runs only on a host that is not online binds nothing */
	f.h[3].state = BAL_MAINTENANCE;
	assert_int_equal(rank1(&f, vm, &spread, &why), 0);
}

/* A pinned VM never moves; a new one tagged pinned is placed. */
static void test_pinned(void **state)
{
	struct fx f;
	setup(&f);
	struct place_why why;
	struct place_vm vm = {"p", 1024, 0, NULL, NULL, BAL_VM_PINNED};
	assert_int_equal(rank1(&f, vm, &spread, &why), 0);
	struct place_opts o = {PLACE_SPREAD, 0, 0, NULL};
	assert_int_equal(rank1(&f, vm, &o, &why), -1);
	assert_int_equal(why.fail, PLACE_PINNED);
}

/* Pack: the fullest host that stays under max_load, ties to the name that sorts last. */
static void test_pack(void **state)
{
	struct fx f;
	setup(&f);
	struct place_why why;
	add(&f, 1, "v1", 1024, 100, "", "");                 /* b at 25 % */
	add(&f, 2, "v2", 1024, 240, "", "");                 /* c at 60 % */
	struct place_vm vm = {"x", 1024, 80, NULL, NULL, 0}; /* +20 % */
	struct place_opts o = {PLACE_PACK, 70, SIZE_MAX, NULL};
	assert_int_equal(rank1(&f, vm, &o, &why), 1);
	o.max_load = 80;
	assert_int_equal(rank1(&f, vm, &o, &why), 2);
	/* equal loads: the last name */
	o.max_load = 10;
	vm.cpu = 0;
	f.h[1].cpu = f.h[2].cpu = 80;
	assert_int_equal(rank1(&f, vm, &o, &why), 4);
	/* every host over the limit */
	vm.cpu = 80;
	assert_int_equal(rank1(&f, vm, &o, &why), -1);
	assert_int_equal(why.fail, PLACE_LOAD);
}

/* The evacuate plan places through the same rules and honours a skip list. */
static void test_evacuate_plan(void **state)
{
	struct fx f;
	setup(&f);
	f.h[0].mem_free_mb = 16384;
	add(&f, 0, "a1", 4096, 0, "", "A");
	add(&f, 0, "a2", 2048, 0, "", "A");
	add(&f, 0, "n1", 512, 0, "", "");
	add(&f, 0, "pin", 512, 0, "", "")->flags = BAL_VM_PINNED;
	add(&f, 1, "a0", 1024, 0, "", "A");
	f.h[2].mem_free_mb = 2560 + 512; /* c: room for a2 only */
	f.h[3].state = BAL_MAINTENANCE;
	struct bal_plan p, q;
	bal_plan(&f.v, &f.s, BAL_MODE_EVACUATE, 0, &p);
	char skip[NH] = {0};
	bal_plan_evacuate(&f.v, &f.s, 0, skip, &q);
	assert_int_equal(p.n, 3);
	assert_int_equal(q.n, 3);
	const char *want[][2] = {{"a1", "e"}, {"a2", "c"}, {"n1", "b"}}; /* n1: most room left */
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(p.moves[i].vm, want[i][0]);
		assert_string_equal(f.h[p.moves[i].to].name, want[i][1]);
		assert_string_equal(q.moves[i].vm, want[i][0]);
		assert_int_equal(q.moves[i].to, p.moves[i].to);
	}
	assert_int_equal(p.unplaced, 1); /* the pinned VM */
	bal_plan_free(&p);
	bal_plan_free(&q);
	/* e skipped: a1 fits nowhere else without an A VM */
	skip[4] = 1;
	bal_plan_evacuate(&f.v, &f.s, 0, skip, &q);
	assert_int_equal(q.unplaced, 2);
	for (size_t i = 0; i < q.n; i++)
		assert_string_not_equal(q.moves[i].vm, "a1");
	bal_plan_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spread_ties), cmocka_unit_test(test_excluded),
	    cmocka_unit_test(test_memory),      cmocka_unit_test(test_anti_affinity),
	    cmocka_unit_test(test_affinity),    cmocka_unit_test(test_pinned),
	    cmocka_unit_test(test_pack),        cmocka_unit_test(test_evacuate_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
