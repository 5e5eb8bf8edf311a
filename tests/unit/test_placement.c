/* test_placement.c - where a new VM goes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/cluster/placement.h"

struct fixture {
	struct bal_host h[4];
	struct bal_vm vms[4][4];
	struct bal_view v;
	struct rule_settings s;
};

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	rule_settings_default(&f->s);
	const double cpu[4] = {50, 10, 30, 5};
	const int64_t free_mb[4] = {8192, 1024, 8192, 8192};
	for (int i = 0; i < 4; i++) {
		struct bal_host *h = &f->h[i];
		snprintf(h->name, sizeof h->name, "h%d", i + 1);
		h->cpus = 4;
		h->cpu = cpu[i];
		h->mem_total_mb = 16384;
		h->mem_free_mb = free_mb[i];
		h->mem_reserve_mb = -1;
		h->vms = f->vms[i];
	}
	f->h[3].state = BAL_MAINTENANCE;
	f->v = (struct bal_view){f->h, 4, 1};
}

static struct bal_vm *add(struct fixture *f, int host, const char *name, const char *aff,
                          const char *anti)
{
	struct bal_vm *vm = &f->h[host].vms[f->h[host].nvms++];
	memset(vm, 0, sizeof *vm);
	snprintf(vm->name, sizeof vm->name, "%s", name);
	snprintf(vm->affinity, sizeof vm->affinity, "%s", aff);
	snprintf(vm->anti, sizeof vm->anti, "%s", anti);
	vm->steal = -1;
	return vm;
}

static void test_least_loaded_with_memory(void **state)
{
	struct fixture f;
	setup(&f);
	char err[256];
	size_t order[4], n;
	/* h4 is least loaded but in maintenance; h2 lacks memory for 2 GiB */
	struct place_req r = {"new", 1, 2048, 0, NULL, NULL};
	assert_int_equal(place_choose(&f.v, &f.s, &r, order, 4, &n, err, sizeof err), 2);
	assert_int_equal(n, 2);
	assert_int_equal(order[1], 0);
	/* a small VM fits on h2, the least loaded online host */
	r.mem_mb = 256;
	assert_int_equal(place_choose(&f.v, &f.s, &r, NULL, 0, NULL, err, sizeof err), 1);
	/* too big for anyone: the error says how much there is and where */
	r.mem_mb = 9000;
	assert_int_equal(place_choose(&f.v, &f.s, &r, NULL, 0, NULL, err, sizeof err), -1);
	assert_string_equal(err, "no online host has 9000 MiB free (most: 7680 on h1)");
	f.h[0].state = f.h[1].state = f.h[2].state = BAL_OFFLINE;
	assert_int_equal(place_choose(&f.v, &f.s, &r, NULL, 0, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "no online host"));
}

static void test_groups(void **state)
{
	struct fixture f;
	setup(&f);
	char err[256];
	add(&f, 2, "db1", "", "db");
	struct place_req r = {"db2", 1, 1024, 0, NULL, "db"};
	/* h3 runs db1 of the same anti-affinity group: h1 then */
	assert_int_equal(place_choose(&f.v, &f.s, &r, NULL, 0, NULL, err, sizeof err), 0);
	add(&f, 0, "db3", "", "db");
	r.mem_mb = 2048; /* h2 is too small */
	assert_int_equal(place_choose(&f.v, &f.s, &r, NULL, 0, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "anti-affinity group db"));
	/* affinity: go where the group is, even if more loaded */
	add(&f, 0, "web1", "web", "");
	struct place_req w = {"web2", 1, 1024, 0, "web", NULL};
	assert_int_equal(place_choose(&f.v, &f.s, &w, NULL, 0, NULL, err, sizeof err), 0);
	f.h[0].mem_free_mb = 100;
	assert_int_equal(place_choose(&f.v, &f.s, &w, NULL, 0, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "affinity group web"));
	/* a new group goes anywhere; expected demand counts per CPU */
	w.affinity = "new";
	w.cpu = 200; /* +50 %: h2 at 60 %, h3 at 80 % */
	w.mem_mb = 256;
	assert_int_equal(place_choose(&f.v, &f.s, &w, NULL, 0, NULL, err, sizeof err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_least_loaded_with_memory),
	    cmocka_unit_test(test_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
