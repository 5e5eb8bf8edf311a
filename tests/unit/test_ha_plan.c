/* test_ha_plan.c - where a dead host's VMs start again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/cluster/ha_plan.h"

struct fixture {
	struct bal_host h[3];
	struct bal_vm vms[3][4];
	struct bal_view v;
	struct rule_settings s;
};

/* h1 and h2 live with 4096 MiB free each, h3 the dead one. */
static void setup(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	rule_settings_default(&f->s);
	f->s.mem_reserve_mb = 0;
	for (int i = 0; i < 3; i++) {
		struct bal_host *h = &f->h[i];
		snprintf(h->name, sizeof h->name, "h%d", i + 1);
		h->cpus = 4;
		h->mem_total_mb = 8192;
		h->mem_free_mb = 4096;
		h->mem_reserve_mb = 0;
		h->vms = f->vms[i];
	}
	f->v = (struct bal_view){f->h, 3, 1};
}

static void vm(struct ha_plan_vm *v, const char *name, int64_t mem, int prio, const char *anti)
{
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", name);
	v->vcpus = 1;
	v->mem_mb = mem;
	v->priority = prio;
	snprintf(v->anti, sizeof v->anti, "%s", anti ? anti : "");
}

static const char *target(const struct ha_plan_vm *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return v[i].target;
	return "?";
}

/* Memory is never counted twice: three 3 GiB VMs on two hosts with 4 GiB free each. */
static void test_memory(void **state)
{
	struct fixture f;
	struct ha_plan_vm v[3];
	setup(&f);
	vm(&v[0], "a", 3072, 0, NULL);
	vm(&v[1], "b", 3072, 0, NULL);
	vm(&v[2], "c", 3072, 5, NULL);
	assert_int_equal(ha_plan(&f.v, &f.s, "h3", v, 3), 1);
	/* priority first, then names: c and a placed, b left over */
	assert_string_equal(v[0].name, "c");
	assert_string_not_equal(target(v, 3, "c"), "");
	assert_string_not_equal(target(v, 3, "a"), "");
	assert_string_not_equal(target(v, 3, "a"), target(v, 3, "c"));
	assert_string_equal(target(v, 3, "b"), "");
	assert_true(strlen(v[2].why) > 0);
	assert_string_not_equal(target(v, 3, "c"), "h3");
}

/* An anti-affinity group keeps its VMs apart, a restart already assigned holds its host. */
static void test_anti_and_assigned(void **state)
{
	struct fixture f;
	struct ha_plan_vm v[3];
	setup(&f);
	vm(&v[0], "x1", 512, 0, "db");
	vm(&v[1], "x2", 512, 0, "db");
	vm(&v[2], "old", 3584, 0, NULL);
	v[2].assigned = 1;
	snprintf(v[2].target, sizeof v[2].target, "h1");
	assert_int_equal(ha_plan(&f.v, &f.s, "h3", v, 3), 0);
	assert_string_equal(target(v, 3, "old"), "h1");
	/* h1 has 512 MiB left after "old": the first db VM goes to h2 (more room), the
	 * second cannot join it there and just fits on h1 */
	assert_string_equal(target(v, 3, "x1"), "h2");
	assert_string_equal(target(v, 3, "x2"), "h1");
	/* a third 512 MiB VM of the group has nowhere to go */
	struct ha_plan_vm w[3];
	setup(&f);
	vm(&w[0], "x1", 512, 0, "db");
	vm(&w[1], "x2", 512, 0, "db");
	vm(&w[2], "x3", 512, 0, "db");
	assert_int_equal(ha_plan(&f.v, &f.s, "h3", w, 3), 1);
	assert_string_equal(target(w, 3, "x3"), "");
}

static void test_priority_tag(void **state)
{
	const char *t1[] = {"ha", "priority-7"};
	const char *t2[] = {"priority:-3"};
	const char *t3[] = {"priority-x", "priority-5000"};
	assert_int_equal(ha_plan_priority(t1, 2), 7);
	assert_int_equal(ha_plan_priority(t2, 1), -3);
	assert_int_equal(ha_plan_priority(t3, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_anti_and_assigned),
	    cmocka_unit_test(test_priority_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
