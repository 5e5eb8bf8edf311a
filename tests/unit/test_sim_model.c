/* test_sim_model.c - the sim's load profiles, CPU scheduler, accounting and migration model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/sim/sim_load.h"
#include "../../lib/sim/sim_model.h"

#define T0 1700000000000LL /* a virtual epoch ms that is a multiple of 10 s */
#define EPS 1e-9

static char err[512];

/* --- profiles ------------------------------------------------------------ */

static void test_load_constant(void **state)
{
	struct sim_load l;

	assert_int_equal(sim_load_parse("constant 1.5", &l, err, sizeof(err)), 0);
	assert_int_equal(l.kind, SIM_LOAD_CONSTANT);
	assert_true(fabs(sim_load_demand(&l, T0) - 1.5) < EPS);
	assert_true(sim_load_next_change(&l, T0) == INT64_MAX);
	sim_load_free(&l);
	assert_int_equal(sim_load_parse("  constant   0  ", &l, err, sizeof(err)), 0);
	assert_true(sim_load_demand(&l, 5) == 0);
	sim_load_free(&l);
}

static void test_load_periodic_square(void **state)
{
	struct sim_load l;

	assert_int_equal(sim_load_parse("periodic 0.5 2 10", &l, err, sizeof(err)), 0);
	assert_int_equal(l.wave, SIM_WAVE_SQUARE);
	assert_int_equal(l.period_ms, 10000);
	/* LOW for the first half of each period, HIGH for the second */
	assert_true(sim_load_demand(&l, T0) == 0.5);
	assert_true(sim_load_demand(&l, T0 + 4999) == 0.5);
	assert_true(sim_load_demand(&l, T0 + 5000) == 2);
	assert_true(sim_load_demand(&l, T0 + 9999) == 2);
	assert_true(sim_load_demand(&l, T0 + 10000) == 0.5);
	assert_true(sim_load_next_change(&l, T0 + 1000) == T0 + 5000);
	assert_true(sim_load_next_change(&l, T0 + 5000) == T0 + 10000);
	sim_load_free(&l);

	/* a phase shifts the wave later */
	assert_int_equal(sim_load_parse("periodic 0 1 10 square 2.5", &l, err, sizeof(err)), 0);
	assert_true(sim_load_demand(&l, T0 + 2000) == 1); /* previous period's high half */
	assert_true(sim_load_demand(&l, T0 + 2500) == 0);
	assert_true(sim_load_demand(&l, T0 + 7500) == 1);
	sim_load_free(&l);
}

static void test_load_periodic_sine(void **state)
{
	struct sim_load l;

	assert_int_equal(sim_load_parse("periodic 1 3 60 sine", &l, err, sizeof(err)), 0);
	assert_int_equal(l.wave, SIM_WAVE_SINE);
	int64_t base = T0 - (T0 % 60000);
	assert_true(fabs(sim_load_demand(&l, base) - 1) < 1e-9);
	assert_true(fabs(sim_load_demand(&l, base + 15000) - 2) < 1e-9);
	assert_true(fabs(sim_load_demand(&l, base + 30000) - 3) < 1e-9);
	assert_true(fabs(sim_load_demand(&l, base + 45000) - 2) < 1e-9);
	assert_true(sim_load_next_change(&l, base) == base + 1000);
	sim_load_free(&l);
}

static void test_load_errors(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "busy 1",
	    "constant",
	    "constant x",
	    "constant -1",
	    "constant 1 2",
	    "constant nan",
	    "constant 1e9",
	    "periodic 1 2",
	    "periodic 1 2 0",
	    "periodic 1 2 -5",
	    "periodic 1 2 10 triangle",
	    "periodic 1 2 10 sine -1",
	    "periodic 1 2 10 sine 1 extra",
	    "trace",
	    "trace   ",
	};
	struct sim_load l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (sim_load_parse(bad[i], &l, err, sizeof(err)) == 0)
			fail_msg("profile \"%s\" was accepted", bad[i]);
		assert_true(strncmp(err, "load:", 5) == 0);
		assert_null(l.file);
	}
}

static void test_load_format_roundtrip(void **state)
{
	static const char *const good[] = {"constant 2", "periodic 0.25 3 90 sine 10",
	                                   "periodic 0 1 0.5 square 0", "trace /tmp/x y.trace"};
	char buf[SIM_LOAD_TEXT_MAX + 1], again[SIM_LOAD_TEXT_MAX + 1];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sim_load a, b;

		assert_int_equal(sim_load_parse(good[i], &a, err, sizeof(err)), 0);
		assert_true(sim_load_format(&a, buf, sizeof(buf)) > 0);
		assert_int_equal(sim_load_parse(buf, &b, err, sizeof(err)), 0);
		assert_true(sim_load_format(&b, again, sizeof(again)) > 0);
		assert_string_equal(buf, again);
		assert_true(a.low == b.low && a.high == b.high && a.period_ms == b.period_ms &&
		            a.phase_ms == b.phase_ms && a.wave == b.wave);
		sim_load_free(&a);
		sim_load_free(&b);
	}
	struct sim_load l;
	assert_int_equal(sim_load_parse("trace /tmp/x y.trace", &l, err, sizeof(err)), 0);
	assert_string_equal(l.file, "/tmp/x y.trace");
	assert_int_equal(sim_load_format(&l, buf, 8), -1); /* does not fit */
	sim_load_free(&l);
}

static void test_trace(void **state)
{
	struct sim_load l, c;
	const char *text = "# recorded on web1\n"
	                   "1000 0.5\n"
	                   "\n"
	                   "1010 2   # burst\n"
	                   "1020 1.0\n";

	assert_int_equal(sim_load_parse("trace web1.trace", &l, err, sizeof(err)), 0);
	assert_int_equal(sim_trace_parse(text, "web1.trace", &l, err, sizeof(err)), 0);
	assert_int_equal(l.npts, 3);
	assert_int_equal(l.length_ms, 30000); /* the last point holds as long as the gap before */
	/* step interpolation, looped every 30 s of epoch time */
	int64_t base = T0 - (T0 % 30000);
	assert_true(sim_load_demand(&l, base) == 0.5);
	assert_true(sim_load_demand(&l, base + 9999) == 0.5);
	assert_true(sim_load_demand(&l, base + 10000) == 2);
	assert_true(sim_load_demand(&l, base + 25000) == 1);
	assert_true(sim_load_demand(&l, base + 30000) == 0.5);
	assert_true(sim_load_next_change(&l, base + 3000) == base + 10000);
	assert_true(sim_load_next_change(&l, base + 20000) == base + 30000);
	/* copies are deep */
	assert_int_equal(sim_load_copy(&c, &l), 0);
	sim_load_free(&l);
	assert_true(sim_load_demand(&c, base + 10000) == 2);
	assert_string_equal(c.file, "web1.trace");
	sim_load_free(&c);

	/* one point: a constant */
	memset(&l, 0, sizeof(l));
	l.kind = SIM_LOAD_TRACE;
	assert_int_equal(sim_trace_parse("5 1.25\n", "one", &l, err, sizeof(err)), 0);
	assert_true(sim_load_demand(&l, base + 12345) == 1.25);
	sim_load_free(&l);
}

static void test_trace_errors(void **state)
{
	static const struct {
		const char *text, *expect;
	} bad[] = {
	    {"", "t: expected at least one"},
	    {"# only a comment\n\n", "t: expected at least one"},
	    {"0 1\nfoo bar\n", "t:2: expected SECONDS CPUS"},
	    {"0 1\n1\n", "t:2: expected SECONDS CPUS"},
	    {"0 1\n1 2 3\n", "t:2: expected SECONDS CPUS"},
	    {"0 1\n5 1\n5 2\n", "t:3: expected SECONDS greater"},
	    {"10 1\n5 2\n", "t:2: expected SECONDS within"},
	    {"0 -1\n", "t:1: expected CPUS"},
	    {"0 1\n1 inf\n", "t:2: expected SECONDS CPUS"},
	};
	struct sim_load l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&l, 0, sizeof(l));
		l.kind = SIM_LOAD_TRACE;
		assert_int_equal(sim_trace_parse(bad[i].text, "t", &l, err, sizeof(err)), -1);
		if (strstr(err, bad[i].expect) == NULL)
			fail_msg("trace %zu: got \"%s\", expected \"%s\"", i, err, bad[i].expect);
		assert_null(l.pts);
	}
	/* sim_trace_set checks what a state file hands it */
	struct sim_trace_point pts[2] = {{0, 1}, {0, 2}};
	memset(&l, 0, sizeof(l));
	assert_int_equal(sim_trace_set(&l, pts, 2, err, sizeof(err)), -1);
	pts[1].t_ms = 100;
	pts[1].cpus = NAN;
	assert_int_equal(sim_trace_set(&l, pts, 2, err, sizeof(err)), -1);
	pts[1].cpus = 3;
	assert_int_equal(sim_trace_set(&l, pts, 2, err, sizeof(err)), 0);
	assert_int_equal(l.length_ms, 200);
	sim_load_free(&l);
}

/* --- the scheduler -------------------------------------------------------- */

static double sum(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void test_share_under_saturation(void **state)
{
	double demand[] = {1, 0.5, 2, 0}, alloc[4];
	int vcpus[] = {1, 2, 4, 1};

	sim_share_cpus(demand, vcpus, 4, 8, alloc, NULL);
	for (int i = 0; i < 4; i++)
		assert_true(alloc[i] == demand[i]);
	sim_share_cpus(demand, vcpus, 4, 3.5, alloc, NULL); /* exactly full */
	for (int i = 0; i < 4; i++)
		assert_true(alloc[i] == demand[i]);
}

static void test_share_over_saturation(void **state)
{
	/* 2 CPUs: a light VM keeps its 0.2; two busy 2-vCPU VMs share the rest per vCPU */
	double demand[] = {0.2, 2, 2}, alloc[3];
	int vcpus[] = {1, 2, 2};

	sim_share_cpus(demand, vcpus, 3, 2, alloc, NULL);
	assert_true(fabs(alloc[0] - 0.2) < EPS);
	assert_true(fabs(alloc[1] - 0.9) < EPS);
	assert_true(fabs(alloc[2] - 0.9) < EPS);
	assert_true(fabs(sum(alloc, 3) - 2) < EPS);

	/* fair per vCPU: a 4-vCPU VM gets four times a 1-vCPU VM's share when both want all */
	double d2[] = {1, 4}, a2[2];
	int v2[] = {1, 4};
	sim_share_cpus(d2, v2, 2, 2.5, a2, NULL);
	assert_true(fabs(a2[0] - 0.5) < EPS);
	assert_true(fabs(a2[1] - 2.0) < EPS);
}

static void test_share_fairness_properties(void **state)
{
	/* many mixed VMs: never above demand, capacity fully used, equal per-vCPU level
	 * for every VM not satisfied, and satisfied ones below that level */
	enum { N = 40 };
	double demand[N], alloc[N], scratch[N];
	int vcpus[N];
	double level = -1;

	for (int i = 0; i < N; i++) {
		vcpus[i] = 1 + i % 4;
		demand[i] = vcpus[i] * ((i * 37) % 11) / 10.0;
	}
	sim_share_cpus(demand, vcpus, N, 12, alloc, scratch);
	assert_true(fabs(sum(alloc, N) - 12) < 1e-6);
	for (int i = 0; i < N; i++) {
		assert_true(alloc[i] <= demand[i] + EPS);
		assert_true(alloc[i] >= 0);
		if (alloc[i] < demand[i] - EPS) {
			double l = alloc[i] / vcpus[i];
			if (level < 0)
				level = l;
			assert_true(fabs(l - level) < 1e-9);
		}
	}
	assert_true(level > 0);
	for (int i = 0; i < N; i++)
		if (alloc[i] >= demand[i] - EPS)
			assert_true(demand[i] / vcpus[i] <= level + EPS);
}

/* --- host, accounting ------------------------------------------------------ */

static struct sim_vm vm_tmpl(const char *name, int vcpus, int64_t mem, const char *load)
{
	struct sim_vm t;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.vcpus = vcpus;
	t.mem_mb = mem;
	t.dirty_mibps = 10;
	t.state = SIM_RUNNING;
	assert_int_equal(sim_load_parse(load, &t.load, err, sizeof(err)), 0);
	return t;
}

static struct sim_vm *add(struct sim_host *h, const char *name, int vcpus, int64_t mem,
                          const char *load, int64_t now)
{
	struct sim_vm t = vm_tmpl(name, vcpus, mem, load);
	struct sim_vm *vm = sim_host_add(h, &t, now, NULL, err, sizeof(err));

	sim_load_free(&t.load);
	if (vm == NULL)
		fail_msg("add %s: %s", name, err);
	return vm;
}

static void test_host_init_errors(void **state)
{
	struct sim_host h;

	assert_int_equal(sim_host_init(&h, 0, 1024, 0, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cpus"));
	assert_int_equal(sim_host_init(&h, 4, 8, 0, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "memory"));
	assert_int_equal(sim_host_init(&h, 4, 1024, 1024, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reserve"));
	assert_int_equal(sim_host_init(&h, 4, 1024, 0, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bandwidth"));
	assert_int_equal(sim_host_init(&h, 4, 1024, 0, 1000, err, sizeof(err)), 0);
	sim_host_free(&h);
}

static void test_host_add_checks(void **state)
{
	struct sim_host h;
	struct sim_vm t;
	enum vmc_err code;

	assert_int_equal(sim_host_init(&h, 4, 4096, 512, 1000, err, sizeof(err)), 0);
	assert_int_equal(sim_host_mem_free(&h), 3584);
	add(&h, "a", 2, 2048, "constant 1", T0);
	assert_int_equal(sim_host_mem_free(&h), 1536);

	static const struct {
		const char *name;
		int vcpus;
		int64_t mem;
		enum vmc_err code;
		const char *msg;
	} bad[] = {
	    {"../x", 1, 64, VMC_E_BAD_NAME, "vm name"},
	    {"a b", 1, 64, VMC_E_BAD_NAME, "vm name"},
	    {"", 1, 64, VMC_E_BAD_NAME, "vm name"},
	    {"b", 0, 64, VMC_E_BAD_REQUEST, "vcpus"},
	    {"b", 129, 64, VMC_E_BAD_REQUEST, "vcpus"},
	    {"b", 1, 8, VMC_E_BAD_REQUEST, "memory"},
	    {"b", 1, 1537, VMC_E_NO_MEMORY, "1536 MiB free"},
	    {"a", 1, 64, VMC_E_EXISTS, "already exists"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = vm_tmpl("x", bad[i].vcpus, bad[i].mem, "constant 1");
		snprintf(t.name, sizeof(t.name), "%s", bad[i].name);
		code = VMC_OK;
		assert_null(sim_host_add(&h, &t, T0, &code, err, sizeof(err)));
		assert_int_equal(code, bad[i].code);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].msg);
		sim_load_free(&t.load);
	}
	add(&h, "b", 1, 1536, "constant 1", T0); /* exactly fits */
	assert_int_equal(sim_host_mem_free(&h), 0);
	assert_int_equal(h.n, 2);
	assert_true(h.vms[0].domid != h.vms[1].domid);
	sim_host_free(&h);
}

static void test_host_saturated_figures(void **state)
{
	struct sim_host h;

	/* 2 CPUs, three single-vCPU VMs each wanting one: each gets 2/3 */
	assert_int_equal(sim_host_init(&h, 2, 8192, 0, 1000, err, sizeof(err)), 0);
	add(&h, "a", 1, 512, "constant 1", T0);
	add(&h, "b", 1, 512, "constant 1", T0);
	add(&h, "c", 1, 512, "constant 1", T0);
	sim_host_sample(&h, T0 + 10000, 1000);
	for (int i = 0; i < 3; i++) {
		assert_true(fabs(h.vms[i].use_pct - 200.0 / 3) < 1e-6);
		assert_true(fabs(h.vms[i].steal_pct - 100.0 / 3) < 1e-6);
		assert_true(fabs(h.vms[i].demand_pct - 100) < 1e-6);
		assert_true(fabs(h.vms[i].cpu_ms - 10000.0 * 2 / 3) < 1e-6);
	}
	assert_true(fabs(h.cpu_pct - 100) < 1e-6);

	/* a paused VM uses nothing and frees its share for the others */
	assert_int_equal(sim_host_apply(&h, "c", SIM_OP_PAUSE, T0 + 10000, NULL, err, sizeof(err)),
	                 0);
	sim_host_sample(&h, T0 + 20000, 1000);
	assert_true(fabs(h.vms[0].use_pct - 100) < 1e-6);
	assert_true(fabs(h.vms[0].steal_pct) < 1e-6);
	assert_true(fabs(h.vms[2].use_pct) < 1e-6);
	assert_true(fabs(h.cpu_pct - 100) < 1e-6);
	sim_host_free(&h);
}

static void test_host_demand_capped_by_vcpus(void **state)
{
	struct sim_host h;

	assert_int_equal(sim_host_init(&h, 8, 8192, 0, 1000, err, sizeof(err)), 0);
	add(&h, "a", 2, 512, "constant 5", T0);
	sim_host_sample(&h, T0 + 2000, 1000);
	assert_true(fabs(h.vms[0].use_pct - 200) < 1e-6);
	assert_true(fabs(h.vms[0].steal_pct) < 1e-6);
	assert_true(fabs(h.cpu_pct - 25) < 1e-6);
	sim_host_free(&h);
}

static void test_host_sample_averages(void **state)
{
	struct sim_host h;

	/* a square wave 0 / 2 CPUs with a 10 s period: instantaneous use is 0 or 200 %,
	 * but the average over whole periods is 100 % */
	assert_int_equal(sim_host_init(&h, 4, 8192, 0, 1000, err, sizeof(err)), 0);
	add(&h, "w", 2, 512, "periodic 0 2 10", T0);
	sim_host_sample(&h, T0 + 20000, 1000);
	assert_true(fabs(h.vms[0].use_pct - 100) < 1e-6);
	assert_true(fabs(h.cpu_pct - 25) < 1e-6);
	/* a window shorter than the minimum keeps the previous figures */
	sim_host_sample(&h, T0 + 25500, 10000);
	assert_true(fabs(h.vms[0].use_pct - 100) < 1e-6);
	/* a window over the low half: 0 % (T0+20000 .. T0+25000), then 5 s at 200 % */
	sim_host_sample(&h, T0 + 30000, 10000);
	assert_true(fabs(h.vms[0].use_pct - 100) < 1e-6);
	sim_host_sample(&h, T0 + 35000, 1000);
	assert_true(fabs(h.vms[0].use_pct) < 1e-6);
	sim_host_sample(&h, T0 + 40000, 1000);
	assert_true(fabs(h.vms[0].use_pct - 200) < 1e-6);
	/* a never-sampled VM shows its instantaneous figures at once */
	add(&h, "n", 1, 512, "constant 0.5", T0 + 40000);
	sim_host_sample(&h, T0 + 40000, 1000);
	assert_true(fabs(h.vms[1].use_pct - 50) < 1e-6);
	sim_host_free(&h);
}

static void test_host_long_gap(void **state)
{
	struct sim_host h;

	/* a day with a 1 s square wave: integrated coarsely, but near the true average */
	assert_int_equal(sim_host_init(&h, 4, 8192, 0, 1000, err, sizeof(err)), 0);
	add(&h, "w", 1, 512, "periodic 0 1 1", T0);
	sim_host_sample(&h, T0 + 86400000, 1000);
	assert_true(fabs(h.vms[0].use_pct - 50) < 3);
	/* time that goes backwards restarts the accounting instead of going negative */
	sim_host_sample(&h, T0, 1000);
	sim_host_sample(&h, T0 + 4000, 1000);
	assert_true(h.vms[0].use_pct >= 0 && h.vms[0].use_pct <= 100);
	sim_host_free(&h);
}

static void test_host_ops(void **state)
{
	struct sim_host h;
	enum vmc_err code;

	assert_int_equal(sim_host_init(&h, 4, 8192, 0, 1000, err, sizeof(err)), 0);
	add(&h, "a", 1, 512, "constant 1", T0);
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_UNPAUSE, T0, &code, err, sizeof(err)), -1);
	assert_int_equal(code, VMC_E_BAD_STATE);
	assert_non_null(strstr(err, "vm a is running"));
	assert_int_equal(sim_host_apply(&h, "zz", SIM_OP_PAUSE, T0, &code, err, sizeof(err)), -1);
	assert_int_equal(code, VMC_E_NOT_FOUND);
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_PAUSE, T0, &code, err, sizeof(err)), 0);
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_PAUSE, T0, &code, err, sizeof(err)), -1);
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_SHUTDOWN, T0, &code, err, sizeof(err)), -1);
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_UNPAUSE, T0, &code, err, sizeof(err)), 0);
	/* a migration in progress refuses pause and shutdown */
	h.vms[0].migrating = 1;
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_PAUSE, T0, &code, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "being migrated"));
	h.vms[0].migrating = 0;
	/* clean shutdown: gone SIM_SHUTDOWN_MS later, memory back */
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_SHUTDOWN, T0, &code, err, sizeof(err)), 0);
	assert_int_equal(h.vms[0].state, SIM_SHUTTING_DOWN);
	assert_int_equal(sim_host_advance(&h, T0 + SIM_SHUTDOWN_MS - 1), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(sim_host_advance(&h, T0 + SIM_SHUTDOWN_MS + 500), 1);
	assert_int_equal(h.n, 0);
	assert_int_equal(sim_host_mem_free(&h), 8192);
	/* destroy works in any state */
	add(&h, "b", 1, 512, "constant 1", T0 + 3000);
	assert_int_equal(sim_host_apply(&h, "b", SIM_OP_PAUSE, T0 + 3000, &code, err, sizeof(err)),
	                 0);
	assert_int_equal(
	    sim_host_apply(&h, "b", SIM_OP_DESTROY, T0 + 3000, &code, err, sizeof(err)), 0);
	assert_null(sim_host_find(&h, "b"));
	sim_host_free(&h);
}

static void test_host_migration_states(void **state)
{
	struct sim_host h;
	struct sim_vm t;

	assert_int_equal(sim_host_init(&h, 4, 8192, 0, 1000, err, sizeof(err)), 0);
	add(&h, "a", 1, 512, "constant 1", T0);
	add(&h, "p", 1, 512, "constant 1", T0);
	assert_int_equal(sim_host_apply(&h, "p", SIM_OP_PAUSE, T0, NULL, err, sizeof(err)), 0);
	/* source: suspend, abort resumes in the state it had */
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_SUSPEND, T0, NULL, err, sizeof(err)), 0);
	assert_int_equal(sim_host_apply(&h, "p", SIM_OP_SUSPEND, T0, NULL, err, sizeof(err)), 0);
	assert_int_equal(sim_host_find(&h, "a")->state, SIM_OUTGOING);
	sim_host_sample(&h, T0 + 5000, 1000);
	assert_true(sim_host_find(&h, "a")->use_pct == 0); /* suspended: no CPU */
	assert_int_equal(
	    sim_host_apply(&h, "a", SIM_OP_SRC_ABORT, T0 + 5000, NULL, err, sizeof(err)), 0);
	assert_int_equal(
	    sim_host_apply(&h, "p", SIM_OP_SRC_ABORT, T0 + 5000, NULL, err, sizeof(err)), 0);
	assert_int_equal(sim_host_find(&h, "a")->state, SIM_RUNNING);
	assert_int_equal(sim_host_find(&h, "p")->state, SIM_PAUSED);
	/* commit removes */
	assert_int_equal(sim_host_apply(&h, "a", SIM_OP_SUSPEND, T0 + 5000, NULL, err, sizeof(err)),
	                 0);
	assert_int_equal(
	    sim_host_apply(&h, "a", SIM_OP_SRC_COMMIT, T0 + 5000, NULL, err, sizeof(err)), 0);
	assert_null(sim_host_find(&h, "a"));
	/* destination: incoming holds memory; commit runs it; abort removes it */
	t = vm_tmpl("in", 2, 1024, "constant 1");
	t.state = SIM_INCOMING;
	t.resume_state = SIM_RUNNING;
	t.cpu_ms = 12345;
	assert_non_null(sim_host_add(&h, &t, T0 + 5000, NULL, err, sizeof(err)));
	assert_int_equal(sim_host_mem_free(&h), 8192 - 512 - 1024);
	assert_int_equal(
	    sim_host_apply(&h, "in", SIM_OP_UNPAUSE, T0 + 5000, NULL, err, sizeof(err)), -1);
	assert_int_equal(
	    sim_host_apply(&h, "in", SIM_OP_DST_COMMIT, T0 + 5000, NULL, err, sizeof(err)), 0);
	assert_int_equal(sim_host_find(&h, "in")->state, SIM_RUNNING);
	assert_true(sim_host_find(&h, "in")->cpu_ms == 12345); /* accumulators carried */
	snprintf(t.name, sizeof(t.name), "in2");
	assert_non_null(sim_host_add(&h, &t, T0 + 5000, NULL, err, sizeof(err)));
	assert_int_equal(
	    sim_host_apply(&h, "in2", SIM_OP_DST_ABORT, T0 + 5000, NULL, err, sizeof(err)), 0);
	assert_null(sim_host_find(&h, "in2"));
	sim_load_free(&t.load);
	sim_host_free(&h);
}

static void test_state_names(void **state)
{
	for (int s = 0; s < SIM_STATE__COUNT; s++)
		assert_int_equal(sim_state_parse(sim_state_name((enum sim_state)s)), s);
	assert_int_equal(sim_state_parse("gone"), -1);
	assert_string_equal(sim_state_name((enum sim_state)99), "?");
}

/* --- migration plan ---------------------------------------------------------- */

static struct sim_migrate_plan plan(double mbps, int64_t mem, double dirty)
{
	struct sim_migrate_params p;
	struct sim_migrate_plan pl;

	sim_migrate_defaults(&p, mbps);
	assert_int_equal(sim_migrate_plan(&p, mem, dirty, &pl, err, sizeof(err)), 0);
	return pl;
}

static void test_plan_reference(void **state)
{
	/* 1 GiB at 1 Gbit/s, 20 MiB/s dirty: round 1 is all memory (8.59 s) */
	struct sim_migrate_plan pl = plan(1000, 1024, 20);
	double sum_b = 0;

	assert_int_equal(pl.reason, SIM_STOP_CONVERGED);
	assert_true(pl.bytes[0] == 1024 * SIM_MiB);
	assert_true(fabs(pl.round_ms[0] - 1024 * SIM_MiB / 125000.0) < 1e-6);
	assert_true(fabs(pl.bytes[1] - 20 * SIM_MiB * pl.round_ms[0] / 1000) < 1);
	assert_true(pl.rounds >= 3);
	for (int k = 0; k < pl.rounds; k++) {
		sum_b += pl.bytes[k];
		if (k > 0)
			assert_true(pl.bytes[k] < pl.bytes[k - 1]);
	}
	assert_true(fabs(sum_b - pl.total_bytes) < 1);
	assert_true(pl.total_ms > 10000 && pl.total_ms < 11000);
	assert_true(pl.downtime_ms < pl.total_ms / 20);
	assert_true(pl.downtime_ms <= 300 + 20 + 1e-6); /* the target plus resume */
}

static void test_plan_dirtier_costs_more(void **state)
{
	struct sim_migrate_plan prev = plan(1000, 4096, 0);

	assert_int_equal(prev.rounds, 2); /* clean memory: one pass, an empty stop-and-copy */
	assert_true(fabs(prev.downtime_ms - 20) < 1e-9);
	for (double d = 10; d <= 100; d += 10) {
		struct sim_migrate_plan p = plan(1000, 4096, d);

		assert_true(p.total_bytes > prev.total_bytes);
		assert_true(p.total_ms > prev.total_ms);
		assert_true(p.downtime_ms >= prev.downtime_ms || p.reason == SIM_STOP_CONVERGED);
		if (p.reason == SIM_STOP_CONVERGED) {
			assert_true(p.rounds >= prev.rounds);
			assert_true(p.downtime_ms < p.total_ms / 10);
		}
		prev = p;
	}
	/* more memory, same dirty rate: longer */
	assert_true(plan(1000, 8192, 20).total_ms > plan(1000, 4096, 20).total_ms);
	/* more bandwidth: shorter */
	assert_true(plan(10000, 4096, 20).total_ms < plan(1000, 4096, 20).total_ms);
}

static void test_plan_non_converging(void **state)
{
	/* dirtying faster than the link: stop after round 1, long downtime */
	struct sim_migrate_plan p = plan(100, 1024, 50); /* 100 Mbit/s is 11.9 MiB/s */

	assert_int_equal(p.reason, SIM_STOP_NOT_CONVERGING);
	assert_int_equal(p.rounds, 2);
	assert_true(p.bytes[1] == 1024 * SIM_MiB);
	assert_true(p.downtime_ms > 80000);

	/* just below the link's speed: stopped by the amount sent */
	p = plan(1000, 1024, 110);
	assert_int_equal(p.reason, SIM_STOP_MAX_FACTOR);
	assert_true(p.total_bytes <= 4 * 1024 * SIM_MiB);

	/* a round cap */
	struct sim_migrate_params par;
	sim_migrate_defaults(&par, 1000);
	par.max_rounds = 3;
	par.max_factor = 100;
	assert_int_equal(sim_migrate_plan(&par, 1024, 100, &p, err, sizeof(err)), 0);
	assert_int_equal(p.reason, SIM_STOP_MAX_ROUNDS);
	assert_int_equal(p.rounds, 4);
	par.max_rounds = 1000; /* clamped to what the plan can hold */
	assert_int_equal(sim_migrate_plan(&par, 1024, 119, &p, err, sizeof(err)), 0);
	assert_true(p.rounds <= SIM_ROUNDS_MAX);
	/* bad figures */
	sim_migrate_defaults(&par, 0);
	assert_int_equal(sim_migrate_plan(&par, 1024, 1, &p, err, sizeof(err)), -1);
	sim_migrate_defaults(&par, 1000);
	assert_int_equal(sim_migrate_plan(&par, 0, 1, &p, err, sizeof(err)), -1);
	assert_int_equal(sim_migrate_plan(&par, 1024, NAN, &p, err, sizeof(err)), -1);
}

static void test_wire_bytes(void **state)
{
	assert_int_equal(sim_wire_bytes(1024 * SIM_MiB, SIM_WIRE_SCALE), 1024 * 1024);
	assert_int_equal(sim_wire_bytes(SIM_MiB, SIM_WIRE_SCALE), 1024);
	assert_int_equal(sim_wire_bytes(1, SIM_WIRE_SCALE), 1);
	assert_int_equal(sim_wire_bytes(0, SIM_WIRE_SCALE), 0);
	assert_int_equal(sim_wire_bytes(1000, 0), 1000);
	assert_int_equal(sim_wire_bytes(1025, 1024), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_constant),
	    cmocka_unit_test(test_load_periodic_square),
	    cmocka_unit_test(test_load_periodic_sine),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_load_format_roundtrip),
	    cmocka_unit_test(test_trace),
	    cmocka_unit_test(test_trace_errors),
	    cmocka_unit_test(test_share_under_saturation),
	    cmocka_unit_test(test_share_over_saturation),
	    cmocka_unit_test(test_share_fairness_properties),
	    cmocka_unit_test(test_host_init_errors),
	    cmocka_unit_test(test_host_add_checks),
	    cmocka_unit_test(test_host_saturated_figures),
	    cmocka_unit_test(test_host_demand_capped_by_vcpus),
	    cmocka_unit_test(test_host_sample_averages),
	    cmocka_unit_test(test_host_long_gap),
	    cmocka_unit_test(test_host_ops),
	    cmocka_unit_test(test_host_migration_states),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_plan_reference),
	    cmocka_unit_test(test_plan_dirtier_costs_more),
	    cmocka_unit_test(test_plan_non_converging),
	    cmocka_unit_test(test_wire_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
