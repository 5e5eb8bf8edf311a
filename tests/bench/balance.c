/* bench/balance.c - the balancer against the sim model, in virtual time.
 *
 * Each scenario runs the real balancing nodes (lib/balance/balance_node.c) of every host
 * over sim_model hosts and an in-memory bus (tests/lib/balance_sim.c), with the built-in
 * rules, and prints: migrations; the lower bound (for each overloaded host, the
 * fewest VMs whose removal brings it under max(high, cluster mean), summed);
 * VMs moved more than once; time from the first overload to the first migration
 * (the 30 s hold included); time to converge (first overload to the end of the
 * last migration); the final spread of host CPU (max - min, standard deviation);
 * the wall-clock time the simulation took, and the heap it held at its end. The
 * rows of 1,000 hosts (30 virtual minutes, minutes of wall time) run only with
 * BENCH_BALANCE_HOSTS=1000 in the environment (the most hosts a row may have). */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/balance_sim.h"
#include "../../lib/sim/sim_load.h"

#define START 1704456000000LL /* 2024-01-05 12:00 UTC */
#define MIN 60000LL

struct spec {
	char name[48];
	size_t nhosts;
	int *cpus;
	int64_t *mem;
	size_t nvms;
	struct vmspec {
		char name[24];
		int vcpus;
		int64_t mem_mb;
		char load[96];
		size_t host;
	} * vms;
	int steal;
	int64_t minutes;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double frand(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* Allocates the per-host and per-VM arrays for s->nhosts and s->nvms. */
static void spec_alloc(struct spec *s)
{
	s->cpus = calloc(s->nhosts, sizeof *s->cpus);
	s->mem = calloc(s->nhosts, sizeof *s->mem);
	s->vms = calloc(s->nvms, sizeof *s->vms);
	if (!s->cpus || !s->mem || !s->vms)
		abort();
}

static void spec_free(struct spec *s)
{
	free(s->cpus);
	free(s->mem);
	free(s->vms);
}

static void thesis(struct spec *s, int steal)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "thesis 4x4, 16 busy%s", steal ? "" : ", no steal");
	s->nhosts = 4;
	s->steal = steal;
	s->minutes = 30;
	s->nvms = 16;
	spec_alloc(s);
	for (size_t i = 0; i < 4; i++) {
		s->cpus[i] = 4;
		s->mem[i] = 32768;
	}
	for (size_t i = 0; i < 16; i++) {
		snprintf(s->vms[i].name, sizeof s->vms[i].name, "vm%02zu", i);
		s->vms[i].vcpus = 1;
		s->vms[i].mem_mb = 1024;
		snprintf(s->vms[i].load, sizeof s->vms[i].load, "constant 1");
	}
}

/* Heterogeneous hosts (8/16/32 CPUs, 4 GiB a CPU); VMs of 1-4 vcpus and 1-8 GiB,
 * some bursty; packed first-fit on the first `crowd` hosts; mem_fill is the share
 * of the cluster's memory the VMs take. */
static void cluster(struct spec *s, const char *name, size_t nhosts, size_t nvms, double crowd,
                    double bursty, double busy)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->nhosts = nhosts;
	s->steal = 1;
	s->minutes = 120;
	s->nvms = nvms;
	spec_alloc(s);
	static const int sizes[3] = {8, 16, 32};
	for (size_t i = 0; i < nhosts; i++) {
		s->cpus[i] = sizes[i % 3];
		s->mem[i] = 4096LL * s->cpus[i];
	}
	size_t ncrowd = (size_t)(nhosts * crowd);
	if (ncrowd < 1)
		ncrowd = 1;
	int64_t *used = calloc(nhosts, sizeof *used);
	if (!used)
		abort();
	for (size_t i = 0; i < nvms; i++) {
		struct vmspec *v = &s->vms[i];
		snprintf(v->name, sizeof v->name, "v%04zu", i);
		v->vcpus = 1 + (int)(rnd() % 4);
		v->mem_mb = 1024 * (1 + (int64_t)(rnd() % 4));
		double base = busy * v->vcpus * (0.3 + 0.7 * frand());
		if (frand() < bursty)
			snprintf(v->load, sizeof v->load, "periodic %.2f %.2f %d square %d",
			         base * 0.3, fmin(v->vcpus, base * 1.6), 300 + (int)(rnd() % 1500),
			         (int)(rnd() % 600));
		else
			snprintf(v->load, sizeof v->load, "constant %.2f", base);
		/* first fit over the crowded hosts, then anywhere */
		size_t h = rnd() % ncrowd, tries = 0;
		while (used[h] + v->mem_mb > s->mem[h] - 512 && tries++ < nhosts)
			h = (h + 1) % (tries < ncrowd ? ncrowd : nhosts);
		/* the walk above can miss the last hosts; a VM that does not fit at all goes
		 * to the first host with room (the small rows never get here) */
		for (size_t k = 0; used[h] + v->mem_mb > s->mem[h] && k < nhosts; k++)
			h = k;
		v->host = h;
		used[h] += v->mem_mb;
	}
	free(used);
}

/* The lower bound from the true demands at the start. */
static int lower_bound(const struct spec *s)
{
	struct bal_host *hosts = calloc(s->nhosts, sizeof *hosts);
	struct bal_vm *vms = calloc(s->nvms, sizeof *vms);
	struct rule_settings rs;
	rule_settings_default(&rs);
	size_t *count = calloc(s->nhosts, sizeof *count);
	for (size_t i = 0; i < s->nvms; i++)
		count[s->vms[i].host]++;
	size_t off = 0;
	for (size_t h = 0; h < s->nhosts; h++) {
		snprintf(hosts[h].name, sizeof hosts[h].name, "h%zu", h + 1);
		hosts[h].cpus = s->cpus[h];
		hosts[h].vms = vms + off;
		off += count[h];
	}
	for (size_t i = 0; i < s->nvms; i++) {
		struct bal_host *h = &hosts[s->vms[i].host];
		struct bal_vm *v = &h->vms[h->nvms++];
		struct sim_load l;
		char err[200];
		sim_load_parse(s->vms[i].load, &l, err, sizeof err);
		double d = fmin(sim_load_demand(&l, START), s->vms[i].vcpus) * 100;
		sim_load_free(&l);
		snprintf(v->name, sizeof v->name, "%s", s->vms[i].name);
		v->vcpus = s->vms[i].vcpus;
		v->cpu = d;
		v->steal = 0;
	}
	struct bal_view view = {hosts, s->nhosts, START};
	int lb = bal_lower_bound(&view, &rs);
	free(hosts);
	free(vms);
	free(count);
	return lb;
}

/* Bytes of heap in use (glibc's count). */
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}

static void run(const struct spec *s)
{
	struct rules *rules = rules_default();
	struct bsim_opts o = {.nhosts = s->nhosts,
	                      .cpus = s->cpus,
	                      .mem_mb = s->mem,
	                      .rules = rules,
	                      .steal_known = s->steal,
	                      .tick_at_deadline = 1,
	                      .start_ms = START};
	char err[256];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t heap0 = heap_in_use();
	struct bsim *b = bsim_new(&o, err, sizeof err);
	if (!b) {
		fprintf(stderr, "balance: %s\n", err);
		exit(1);
	}
	for (size_t i = 0; i < s->nvms; i++) {
		struct bsim_vm vm = {
		    s->vms[i].name, s->vms[i].vcpus, s->vms[i].mem_mb, s->vms[i].load, NULL, 20};
		if (bsim_add_vm(b, s->vms[i].host, &vm, err, sizeof err) < 0) {
			fprintf(stderr, "balance: %s: %s\n", s->name, err);
			exit(1);
		}
	}
	bsim_run(b, START + s->minutes * MIN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	size_t heap1 = heap_in_use();
	struct bsim_stats st;
	bsim_stats(b, &st);
	const struct bal_view *v = bsim_view(b);
	double mx = -1, mn = 1e9, sum = 0, sq = 0;
	size_t n = 0;
	for (size_t h = 0; h < v->nhosts; h++) {
		if (v->hosts[h].state != BAL_ONLINE)
			continue;
		double c = v->hosts[h].cpu;
		mx = fmax(mx, c);
		mn = fmin(mn, c);
		sum += c;
		sq += c * c;
		n++;
	}
	double mean = n ? sum / n : 0, sd = n ? sqrt(fmax(0, sq / n - mean * mean)) : 0;
	char first[16] = "-", conv[16] = "-";
	if (st.first_start >= 0 && st.first_overload >= 0)
		snprintf(first, sizeof first, "%.1f",
		         (st.first_start - st.first_overload) / 1000.0);
	if (st.last_end >= 0 && st.first_overload >= 0)
		snprintf(conv, sizeof conv, "%.0f", (st.last_end - st.first_overload) / 1000.0);
	double wall = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%-34s %5zu %5zu %6d %6d %6d %6d %9s %9s %7.1f %6.1f %7.2f %7.1f\n", s->name,
	       s->nhosts, s->nvms, st.migrations, lower_bound(s), st.moved_twice, st.back_and_forth,
	       first, conv, mx - mn, sd, wall, ((double)heap1 - (double)heap0) / (1 << 20));
	fflush(stdout);
	bsim_free(b);
	rules_free(rules);
}

int main(int argc, char **argv)
{
	rng_state = argc > 1 ? strtoull(argv[1], NULL, 10) : 42;
	if (!rng_state)
		rng_state = 42;
	printf("balance: virtual time; built-in rules (high 80, low 70, hold 30 s, margin 5, "
	       "cooldown 10 min); 2 s samples; 1 Gbit/s migrations\n");
	printf("%-34s %5s %5s %6s %6s %6s %6s %9s %9s %7s %6s %7s %7s\n", "scenario", "hosts",
	       "vms", "migr", "lower", "moved2", "back", "first(s)", "conv(s)", "spread", "sd",
	       "wall(s)", "heap(MiB)");
	static const struct {
		const char *name;
		size_t hosts, vms;
		double crowd, bursty, busy;
		int64_t minutes;
	} clusters[] = {
	    {"16 hosts, crowded on 4", 16, 160, 0.25, 0.0, 0.5, 120},
	    {"16 hosts, crowded, bursty", 16, 160, 0.25, 0.5, 0.5, 120},
	    {"32 hosts, memory pressure", 32, 400, 0.5, 0.3, 0.4, 120},
	    {"64 hosts, 1000 VMs, bursty, mem", 64, 1000, 0.5, 0.4, 0.35, 120},
	    {"250 hosts, 5000 VMs, bursty", 250, 5000, 0.25, 0.5, 0.3, 120},
	    {"250 hosts, 5000 VMs, memory-bound", 250, 5000, 0.5, 0.3, 0.3, 120},
	    {"1000 hosts, 20000 VMs, bursty", 1000, 20000, 0.25, 0.5, 0.3, 30},
	    {"1000 hosts, 20000 VMs, memory-bound", 1000, 20000, 0.5, 0.3, 0.3, 30},
	};
	/* the 1,000-host rows take minutes: only with BENCH_BALANCE_HOSTS=1000 */
	const char *cap = getenv("BENCH_BALANCE_HOSTS");
	size_t max_hosts = cap && *cap ? strtoul(cap, NULL, 10) : 250;
	struct spec s;
	for (int steal = 1; steal >= 0; steal--) {
		thesis(&s, steal);
		run(&s);
		spec_free(&s);
	}
	for (size_t i = 0; i < sizeof clusters / sizeof clusters[0]; i++) {
		/* generated even when skipped, so that the rows after keep their VMs */
		cluster(&s, clusters[i].name, clusters[i].hosts, clusters[i].vms, clusters[i].crowd,
		        clusters[i].bursty, clusters[i].busy);
		s.minutes = clusters[i].minutes;
		if (clusters[i].hosts <= max_hosts)
			run(&s);
		spec_free(&s);
	}
	return 0;
}
