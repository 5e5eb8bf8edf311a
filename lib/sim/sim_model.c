/* sim_model.c - the simulated hypervisor's host, scheduler and migration model. Pure. */
#include "sim_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Segments per sim_host_advance at most: a long gap is integrated coarsely. */
#define SIM_SEGMENTS_MAX 20000
#define SIM_DOMID_MAX 32000

static const char *const state_names[SIM_STATE__COUNT] = {
    [SIM_RUNNING] = "running", [SIM_PAUSED] = "paused",     [SIM_SHUTTING_DOWN] = "shutting-down",
    [SIM_CRASHED] = "crashed", [SIM_INCOMING] = "incoming", [SIM_OUTGOING] = "outgoing",
};

const char *sim_state_name(enum sim_state s)
{
	return (unsigned)s < SIM_STATE__COUNT ? state_names[s] : "?";
}

int sim_state_parse(const char *name)
{
	for (int s = 0; s < SIM_STATE__COUNT; s++)
		if (strcmp(name, state_names[s]) == 0)
			return s;
	return -1;
}

int sim_host_init(struct sim_host *h, int cpus, int64_t memory_mb, int64_t reserve_mb,
                  int64_t bandwidth_mbps, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (cpus < 1 || cpus > SIM_CPUS_MAX) {
		snprintf(err, errlen, "cpus: expected 1 to %d", SIM_CPUS_MAX);
		return -1;
	}
	if (memory_mb < SIM_MEM_MIN_MB || memory_mb > SIM_MEM_MAX_MB) {
		snprintf(err, errlen, "memory: expected %d to %lld MiB", SIM_MEM_MIN_MB,
		         (long long)SIM_MEM_MAX_MB);
		return -1;
	}
	if (reserve_mb < 0 || reserve_mb >= memory_mb) {
		snprintf(err, errlen, "reserve: expected 0 to less than the memory (%lld MiB)",
		         (long long)memory_mb);
		return -1;
	}
	if (bandwidth_mbps < 1 || bandwidth_mbps > 10000000) {
		snprintf(err, errlen, "bandwidth: expected 1 to 10000000 Mbit/s");
		return -1;
	}
	h->cpus = cpus;
	h->memory_mb = memory_mb;
	h->reserve_mb = reserve_mb;
	h->bandwidth_mbps = bandwidth_mbps;
	h->next_domid = 1;
	return 0;
}

void sim_host_free(struct sim_host *h)
{
	for (size_t i = 0; i < h->n; i++)
		sim_load_free(&h->vms[i].load);
	free(h->vms);
	free(h->scratch);
	free(h->scratch_vcpus);
	memset(h, 0, sizeof(*h));
}

struct sim_vm *sim_host_find(struct sim_host *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->vms[i].name, name) == 0)
			return &h->vms[i];
	return NULL;
}

int64_t sim_host_mem_free(const struct sim_host *h)
{
	int64_t used = h->reserve_mb;

	for (size_t i = 0; i < h->n; i++)
		used += h->vms[i].mem_mb;
	return used >= h->memory_mb ? 0 : h->memory_mb - used;
}

static int fail(enum vmc_err *code, enum vmc_err c)
{
	if (code != NULL)
		*code = c;
	return -1;
}

static int vm_check(const struct sim_host *h, const struct sim_vm *t, enum vmc_err *code, char *err,
                    size_t errlen)
{
	if (vmc_name_check(t->name, "vm name", err, errlen) < 0)
		return fail(code, VMC_E_BAD_NAME);
	if (t->vcpus < 1 || t->vcpus > SIM_VCPUS_MAX) {
		snprintf(err, errlen, "vm %s: vcpus must be from 1 to %d", t->name, SIM_VCPUS_MAX);
		return fail(code, VMC_E_BAD_REQUEST);
	}
	if (t->mem_mb < SIM_MEM_MIN_MB || t->mem_mb > SIM_MEM_MAX_MB) {
		snprintf(err, errlen, "vm %s: memory must be from %d to %lld MiB", t->name,
		         SIM_MEM_MIN_MB, (long long)SIM_MEM_MAX_MB);
		return fail(code, VMC_E_BAD_REQUEST);
	}
	if (!isfinite(t->dirty_mibps) || t->dirty_mibps < 0 || t->dirty_mibps > SIM_DIRTY_MAX) {
		snprintf(err, errlen, "vm %s: dirty rate must be from 0 to %g MiB/s", t->name,
		         SIM_DIRTY_MAX);
		return fail(code, VMC_E_BAD_REQUEST);
	}
	if ((unsigned)t->state >= SIM_STATE__COUNT) {
		snprintf(err, errlen, "vm %s: unknown state %d", t->name, (int)t->state);
		return fail(code, VMC_E_BAD_REQUEST);
	}
	if (sim_host_find((struct sim_host *)h, t->name) != NULL) {
		snprintf(err, errlen, "vm %s already exists on this host", t->name);
		return fail(code, VMC_E_EXISTS);
	}
	if (t->mem_mb > sim_host_mem_free(h)) {
		snprintf(err, errlen, "vm %s needs %lld MiB but the host has %lld MiB free",
		         t->name, (long long)t->mem_mb, (long long)sim_host_mem_free(h));
		return fail(code, VMC_E_NO_MEMORY);
	}
	return 0;
}

static int domid_used(const struct sim_host *h, int domid)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->vms[i].domid == domid)
			return 1;
	return 0;
}

static int host_grow(struct sim_host *h)
{
	size_t ncap = h->cap != 0 ? h->cap * 2 : 16;
	struct sim_vm *nv;
	double *ns;
	int *ni;

	nv = realloc(h->vms, ncap * sizeof(*nv));
	if (nv == NULL)
		return -1;
	h->vms = nv;
	ns = realloc(h->scratch, 3 * ncap * sizeof(*ns));
	if (ns == NULL)
		return -1;
	h->scratch = ns;
	ni = realloc(h->scratch_vcpus, ncap * sizeof(*ni));
	if (ni == NULL)
		return -1;
	h->scratch_vcpus = ni;
	h->cap = ncap;
	return 0;
}

struct sim_vm *sim_host_add(struct sim_host *h, const struct sim_vm *tmpl, int64_t now_ms,
                            enum vmc_err *code, char *err, size_t errlen)
{
	struct sim_vm *vm;

	sim_host_advance(h, now_ms);
	if (vm_check(h, tmpl, code, err, errlen) < 0)
		return NULL;
	if (h->n == h->cap && host_grow(h) < 0) {
		snprintf(err, errlen, "vm %s: out of memory", tmpl->name);
		fail(code, VMC_E_INTERNAL);
		return NULL;
	}
	vm = &h->vms[h->n];
	*vm = *tmpl;
	if (sim_load_copy(&vm->load, &tmpl->load) < 0) {
		snprintf(err, errlen, "vm %s: out of memory", tmpl->name);
		fail(code, VMC_E_INTERNAL);
		return NULL;
	}
	vm->tags[SIM_TAGS_MAX] = '\0';
	if (vm->domid <= 0 || domid_used(h, vm->domid)) {
		while (domid_used(h, h->next_domid))
			h->next_domid = h->next_domid >= SIM_DOMID_MAX ? 1 : h->next_domid + 1;
		vm->domid = h->next_domid;
		h->next_domid = h->next_domid >= SIM_DOMID_MAX ? 1 : h->next_domid + 1;
	}
	h->n++;
	vm->migrating = 0;
	if (vm->state != SIM_SHUTTING_DOWN)
		vm->shutdown_at = 0;
	else if (vm->shutdown_at <= 0)
		vm->shutdown_at = now_ms + SIM_SHUTDOWN_MS;
	vm->s_cpu_ms = vm->cpu_ms;
	vm->s_steal_ms = vm->steal_ms;
	vm->s_demand_ms = vm->demand_ms;
	vm->s_t = now_ms;
	vm->sampled = 0;
	vm->use_pct = vm->steal_pct = vm->demand_pct = 0;
	vm->inst_use = vm->inst_demand = 0;
	return vm;
}

static void host_drop(struct sim_host *h, size_t i)
{
	sim_load_free(&h->vms[i].load);
	memmove(&h->vms[i], &h->vms[i + 1], (h->n - i - 1) * sizeof(h->vms[0]));
	h->n--;
}

int sim_host_remove(struct sim_host *h, const char *name, int64_t now_ms)
{
	struct sim_vm *vm;

	sim_host_advance(h, now_ms);
	vm = sim_host_find(h, name);
	if (vm == NULL)
		return -1;
	host_drop(h, (size_t)(vm - h->vms));
	return 0;
}

#define M(s) (1u << (s))
#define SIM_ALL_STATES ((1u << SIM_STATE__COUNT) - 1)
#define TO_REMOVE (-1)
#define TO_RESUME (-2) /* back to what the VM was before its migration */

/* What each op accepts and leads to. */
static const struct op_rule {
	const char *name;
	unsigned from;     /* mask of states it applies to */
	int to;            /* new state, TO_REMOVE or TO_RESUME */
	int not_migrating; /* refused while a migration sends the VM */
	const char *needs; /* for the error message */
} op_rules[SIM_OP__COUNT] = {
    [SIM_OP_PAUSE] = {"pause", M(SIM_RUNNING), SIM_PAUSED, 1, "running"},
    [SIM_OP_UNPAUSE] = {"unpause", M(SIM_PAUSED), SIM_RUNNING, 1, "paused"},
    [SIM_OP_SHUTDOWN] = {"shutdown", M(SIM_RUNNING), SIM_SHUTTING_DOWN, 1, "running"},
    [SIM_OP_DESTROY] = {"destroy", SIM_ALL_STATES, TO_REMOVE, 0, "any state"},
    [SIM_OP_SUSPEND] = {"migration suspend", M(SIM_RUNNING) | M(SIM_PAUSED), SIM_OUTGOING, 0,
                        "running or paused"},
    [SIM_OP_SRC_COMMIT] = {"migration commit", M(SIM_OUTGOING), TO_REMOVE, 0, "outgoing"},
    [SIM_OP_SRC_ABORT] = {"migration abort", M(SIM_OUTGOING) | M(SIM_RUNNING) | M(SIM_PAUSED),
                          TO_RESUME, 0, "outgoing"},
    [SIM_OP_DST_COMMIT] = {"migration commit", M(SIM_INCOMING), TO_RESUME, 0, "incoming"},
    [SIM_OP_DST_ABORT] = {"migration abort", M(SIM_INCOMING), TO_REMOVE, 0, "incoming"},
};

int sim_host_apply(struct sim_host *h, const char *name, enum sim_op op, int64_t now_ms,
                   enum vmc_err *code, char *err, size_t errlen)
{
	const struct op_rule *r;
	struct sim_vm *vm;

	if ((unsigned)op >= SIM_OP__COUNT) {
		snprintf(err, errlen, "unknown operation %d", (int)op);
		return fail(code, VMC_E_INTERNAL);
	}
	r = &op_rules[op];
	sim_host_advance(h, now_ms);
	vm = sim_host_find(h, name);
	if (vm == NULL) {
		snprintf(err, errlen, "%s: no vm %s on this host", r->name, name);
		return fail(code, VMC_E_NOT_FOUND);
	}
	if (!(r->from & M(vm->state))) {
		snprintf(err, errlen, "%s: vm %s is %s; needs %s", r->name, name,
		         sim_state_name(vm->state), r->needs);
		return fail(code, VMC_E_BAD_STATE);
	}
	if (r->not_migrating && vm->migrating) {
		snprintf(err, errlen, "%s: vm %s is being migrated", r->name, name);
		return fail(code, VMC_E_BAD_STATE);
	}
	if (r->to == TO_REMOVE) {
		host_drop(h, (size_t)(vm - h->vms));
		return 0;
	}
	if (op == SIM_OP_SUSPEND)
		vm->resume_state = vm->state;
	if (r->to == TO_RESUME)
		vm->state = vm->state == SIM_OUTGOING || vm->state == SIM_INCOMING
		                ? (vm->resume_state == SIM_PAUSED ? SIM_PAUSED : SIM_RUNNING)
		                : vm->state;
	else
		vm->state = (enum sim_state)r->to;
	if (vm->state == SIM_SHUTTING_DOWN)
		vm->shutdown_at = now_ms + SIM_SHUTDOWN_MS;
	return 0;
}

/* Water-filling: raise a common per-vCPU level until the capacity is spent. */
void sim_share_cpus(const double *demand, const int *vcpus, size_t n, double capacity,
                    double *alloc, double *scratch)
{
	double local[64], total = 0, left, weight = 0;
	double *ratio = scratch != NULL ? scratch : local;
	size_t i, done;

	for (i = 0; i < n; i++) {
		alloc[i] = demand[i];
		total += demand[i];
		weight += vcpus[i];
	}
	if (total <= capacity || n == 0 || (scratch == NULL && n > 64))
		return;
	/* Take VMs in order of demand per vCPU: each either is satisfied under the level the
	 * remaining capacity allows the remaining vCPUs, or caps everyone left. */
	for (i = 0; i < n; i++)
		ratio[i] = vcpus[i] > 0 ? demand[i] / vcpus[i] : 0;
	left = capacity;
	for (done = 0; done < n; done++) {
		size_t k = n;
		double level = weight > 0 ? left / weight : 0;

		for (i = 0; i < n; i++)
			if (ratio[i] >= 0 && (k == n || ratio[i] < ratio[k]))
				k = i;
		if (ratio[k] > level) {
			for (i = 0; i < n; i++)
				if (ratio[i] >= 0)
					alloc[i] = vcpus[i] * level;
			return;
		}
		left -= demand[k];
		weight -= vcpus[k];
		ratio[k] = -1;
	}
}

/* Demand (capped at vcpus) of every VM at time t, and the scheduler's shares; both NULL
 * when the host has no VMs. */
static void host_share(struct sim_host *h, int64_t t, double **use_out, double **dem_out)
{
	double *dem, *use;

	*use_out = *dem_out = NULL;
	if (h->n == 0)
		return;
	dem = h->scratch;
	use = h->scratch + h->cap;
	for (size_t i = 0; i < h->n; i++) {
		struct sim_vm *vm = &h->vms[i];
		double d = 0;

		if (vm->state == SIM_RUNNING) {
			d = sim_load_demand(&vm->load, t);
			if (d > vm->vcpus)
				d = vm->vcpus;
		}
		dem[i] = d;
		h->scratch_vcpus[i] = vm->vcpus;
	}
	sim_share_cpus(dem, h->scratch_vcpus, h->n, h->cpus, use, h->scratch + 2 * h->cap);
	*use_out = use;
	*dem_out = dem;
}

static int64_t segment_end(const struct sim_host *h, int64_t t, int64_t now, int64_t min_step)
{
	int64_t end = now;

	for (size_t i = 0; i < h->n; i++) {
		const struct sim_vm *vm = &h->vms[i];
		int64_t e = INT64_MAX;

		if (vm->state == SIM_RUNNING)
			e = sim_load_next_change(&vm->load, t);
		else if (vm->state == SIM_SHUTTING_DOWN)
			e = vm->shutdown_at;
		if (e > t && e < end)
			end = e;
	}
	if (end - t < min_step)
		end = t + min_step < now ? t + min_step : now;
	return end > t ? end : t + 1;
}

static void restart_windows(struct sim_host *h, int64_t now_ms)
{
	h->now_ms = now_ms;
	h->s_t = now_ms;
	h->s_cpu_ms = h->cpu_ms;
	for (size_t i = 0; i < h->n; i++) {
		struct sim_vm *vm = &h->vms[i];

		vm->s_t = now_ms;
		vm->s_cpu_ms = vm->cpu_ms;
		vm->s_steal_ms = vm->steal_ms;
		vm->s_demand_ms = vm->demand_ms;
	}
}

int sim_host_advance(struct sim_host *h, int64_t now_ms)
{
	int64_t t = h->now_ms, min_step;
	int gone = 0;

	if (h->now_ms <= 0 || now_ms < h->now_ms) {
		restart_windows(h, now_ms);
		return 0;
	}
	min_step = (now_ms - t) / SIM_SEGMENTS_MAX;
	while (t < now_ms) {
		int64_t end = segment_end(h, t, now_ms, min_step);
		double *use, *dem, dt = (double)(end - t);

		host_share(h, t + (end - t) / 2, &use, &dem);
		for (size_t i = 0; i < h->n; i++) {
			struct sim_vm *vm = &h->vms[i];

			vm->cpu_ms += use[i] * dt;
			vm->demand_ms += dem[i] * dt;
			vm->steal_ms += (dem[i] - use[i]) * dt;
			h->cpu_ms += use[i] * dt;
		}
		for (size_t i = h->n; i-- > 0;) {
			if (h->vms[i].state == SIM_SHUTTING_DOWN && h->vms[i].shutdown_at <= end) {
				host_drop(h, i);
				gone++;
			}
		}
		t = end;
	}
	h->now_ms = now_ms;
	return gone;
}

/* Average figures of one VM over its window [s_t, now]; closes the window if asked. */
static void vm_window(struct sim_vm *vm, int64_t now_ms, int close)
{
	double dt = (double)(now_ms - vm->s_t);

	if (dt <= 0) {
		vm->use_pct = vm->inst_use * 100.0;
		vm->demand_pct = vm->inst_demand * 100.0;
		vm->steal_pct = (vm->inst_demand - vm->inst_use) * 100.0;
		return;
	}
	vm->use_pct = (vm->cpu_ms - vm->s_cpu_ms) / dt * 100.0;
	vm->steal_pct = (vm->steal_ms - vm->s_steal_ms) / dt * 100.0;
	vm->demand_pct = (vm->demand_ms - vm->s_demand_ms) / dt * 100.0;
	if (!close)
		return;
	vm->s_t = now_ms;
	vm->s_cpu_ms = vm->cpu_ms;
	vm->s_steal_ms = vm->steal_ms;
	vm->s_demand_ms = vm->demand_ms;
	vm->sampled = 1;
}

int sim_host_sample(struct sim_host *h, int64_t now_ms, int64_t min_window_ms)
{
	int gone = sim_host_advance(h, now_ms);
	double *use, *dem, inst = 0;

	host_share(h, now_ms, &use, &dem);
	for (size_t i = 0; i < h->n; i++) {
		h->vms[i].inst_use = use[i];
		h->vms[i].inst_demand = dem[i];
		inst += use[i];
	}
	for (size_t i = 0; i < h->n; i++) {
		struct sim_vm *vm = &h->vms[i];

		if (now_ms - vm->s_t >= min_window_ms && now_ms > vm->s_t)
			vm_window(vm, now_ms, 1);
		else if (!vm->sampled)
			vm_window(vm, now_ms, 0);
	}
	if (now_ms - h->s_t >= min_window_ms && now_ms > h->s_t) {
		h->cpu_pct =
		    (h->cpu_ms - h->s_cpu_ms) / ((double)(now_ms - h->s_t) * h->cpus) * 100.0;
		h->s_t = now_ms;
		h->s_cpu_ms = h->cpu_ms;
		h->sampled = 1;
	} else if (!h->sampled) {
		h->cpu_pct = now_ms > h->s_t ? (h->cpu_ms - h->s_cpu_ms) /
		                                   ((double)(now_ms - h->s_t) * h->cpus) * 100.0
		                             : inst / h->cpus * 100.0;
	}
	return gone;
}

void sim_migrate_defaults(struct sim_migrate_params *p, double bandwidth_mbps)
{
	p->bandwidth_mbps = bandwidth_mbps;
	p->max_rounds = 30;
	p->downtime_target_ms = 300;
	p->max_factor = 3;
	p->min_bytes = 256 * 1024;
	p->resume_ms = 20;
}

static const char *const stop_names[] = {
    [SIM_STOP_CONVERGED] = "converged",
    [SIM_STOP_MAX_ROUNDS] = "max-rounds",
    [SIM_STOP_NOT_CONVERGING] = "not-converging",
    [SIM_STOP_MAX_FACTOR] = "max-factor",
};

const char *sim_stop_reason_name(enum sim_stop_reason r)
{
	return (unsigned)r < sizeof(stop_names) / sizeof(stop_names[0]) ? stop_names[r] : "?";
}

int sim_migrate_plan(const struct sim_migrate_params *p, int64_t mem_mb, double dirty_mibps,
                     struct sim_migrate_plan *out, char *err, size_t errlen)
{
	double bw, mem, dirty, stop, left, sent = 0;
	int max_rounds = p->max_rounds;

	memset(out, 0, sizeof(*out));
	if (!(p->bandwidth_mbps > 0) || !isfinite(p->bandwidth_mbps)) {
		snprintf(err, errlen, "migration: bandwidth must be > 0 Mbit/s");
		return -1;
	}
	if (mem_mb < 1 || !(dirty_mibps >= 0) || !isfinite(dirty_mibps)) {
		snprintf(err, errlen, "migration: memory must be >= 1 MiB and dirty rate >= 0");
		return -1;
	}
	if (max_rounds < 1)
		max_rounds = 1;
	if (max_rounds > SIM_ROUNDS_MAX - 1)
		max_rounds = SIM_ROUNDS_MAX - 1;
	bw = p->bandwidth_mbps * 1e6 / 8.0 / 1000.0; /* bytes per ms */
	mem = (double)mem_mb * SIM_MiB;
	dirty = dirty_mibps * SIM_MiB / 1000.0; /* bytes per ms */
	stop = fmax(p->min_bytes, bw * p->downtime_target_ms);
	left = mem;
	for (;;) {
		double ms = left / bw, next = fmin(mem, dirty * ms);
		int k = out->rounds++;

		out->bytes[k] = left;
		out->round_ms[k] = ms;
		sent += left;
		left = next;
		if (next <= stop) {
			out->reason = SIM_STOP_CONVERGED;
			break;
		}
		if (out->rounds >= max_rounds) {
			out->reason = SIM_STOP_MAX_ROUNDS;
			break;
		}
		if (next >= out->bytes[k]) {
			out->reason = SIM_STOP_NOT_CONVERGING;
			break;
		}
		if (sent + next > p->max_factor * mem) {
			out->reason = SIM_STOP_MAX_FACTOR;
			break;
		}
	}
	out->bytes[out->rounds] = left;
	out->round_ms[out->rounds] = left / bw;
	out->rounds++;
	for (int k = 0; k < out->rounds; k++) {
		out->total_bytes += out->bytes[k];
		out->total_ms += out->round_ms[k];
	}
	out->downtime_ms = out->round_ms[out->rounds - 1] + p->resume_ms;
	out->total_ms += p->resume_ms;
	return 0;
}

uint64_t sim_wire_bytes(double model_bytes, double scale)
{
	double w;

	if (!(model_bytes > 0))
		return 0;
	if (!(scale >= 1))
		scale = 1;
	w = ceil(model_bytes / scale);
	return w < 1 ? 1 : (uint64_t)w;
}
