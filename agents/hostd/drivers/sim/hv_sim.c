/* hv_sim.c - the simulated hypervisor driver.
 *
 * The model (lib/sim/sim_model.h) behind one mutex; its state in the state
 * directory (sim_state.c) after every change, so VMs outlive the agent;
 * migrations as real byte streams (sim_stream.c) paced on the agent's clock.
 * The host file format and the sim's xl.cfg keys are in SIM-FORMAT.md. */
#include "../hv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../../../../lib/core/evloop.h"
#include "../../../../lib/core/log.h"
#include "../../../../lib/sim/sim_model.h"
#include "../../../../lib/core/vclock.h"
#include "../../../../lib/config/xlcfg.h"
#include "sim_state.h"
#include "sim_stream.h"

#define SIM_SAVE_EVERY_MS 10000     /* real ms between saves of the CPU accumulators */
#define SIM_SAMPLE_MIN_REAL_MS 500 /* shortest sample window, real ms */
/* The sim's power switch: a file of this name in the state directory (a fence hook
 * makes it) powers the host off: a running agent dies at its next sample, and its VMs
 * are gone when it starts again. */
#define SIM_POWER_OFF_FILE "power-off"
#define SIM_POWER_CHECK_MS 100

struct sim_hv {
	struct hv base; /* first: the hv_* wrappers see this */
	pthread_mutex_t mu;
	struct sim_host host;
	struct vclock clock;
	char *dir;
	char *traces; /* --sim-traces, or NULL: no trace profiles in commands */
	int lock_fd;
	double wire_scale, default_dirty;
	int sends;          /* migrations sending now: they share the bandwidth */
	int64_t saved_real; /* real monotonic ms of the last save */
	int64_t power_real; /* real monotonic ms the power switch was last looked at */
};

static struct sim_hv *sim_of(struct hv *h)
{
	return (struct sim_hv *)h;
}

static int64_t sim_now(const struct sim_hv *s)
{
	return vclock_at(&s->clock, evloop_mono_ms());
}

/* Saves the state; with the lock held. A failure is logged (the model stays right). */
static int sim_save(struct sim_hv *s, char *err, size_t errlen)
{
	char e[512];

	s->saved_real = evloop_mono_ms();
	if (sim_state_save(s->dir, &s->host, e, sizeof(e)) == 0)
		return 0;
	log_warnx("sim: %s", e);
	if (err != NULL)
		snprintf(err, errlen, "%s", e);
	return -1;
}

/* 1 if the host's power switch is off. */
static int sim_powered_off(const struct sim_hv *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", s->dir, SIM_POWER_OFF_FILE);
	return access(path, F_OK) == 0;
}

/* Samples the model at now; saves when VMs went away or the accumulators are old. The
 * power switch is looked at once per SIM_POWER_CHECK_MS at most: a load message samples
 * twice (the host, then its VMs), and the file's path lookup, twice a message, was 6 %
 * of the agent's CPU. */
static void sim_sample(struct sim_hv *s)
{
	int64_t real = evloop_mono_ms();
	if (real - s->power_real >= SIM_POWER_CHECK_MS) {
		s->power_real = real;
		if (sim_powered_off(s)) {
			log_error("sim: the host was powered off");
			_exit(137);
		}
	}

	int64_t min_window = (int64_t)llround(SIM_SAMPLE_MIN_REAL_MS * s->clock.scale);

	if (sim_host_sample(&s->host, sim_now(s), min_window) > 0 ||
	    evloop_mono_ms() - s->saved_real >= SIM_SAVE_EVERY_MS)
		sim_save(s, NULL, 0);
}

/* --- open and close ---------------------------------------------------------- */

static int sim_lock_dir(struct sim_hv *s, char *err, size_t errlen)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", s->dir, SIM_LOCK_FILE);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "state directory %s is in use by another agent", s->dir);
		return -1;
	}
	return 0;
}

/* Puts the host file's VMs on a host that had no state yet. */
static int sim_seed(struct sim_hv *s, const struct sim_hostfile *hf, const char *file, char *err,
                    size_t errlen)
{
	int64_t now = sim_now(s);

	for (size_t i = 0; i < hf->n; i++) {
		char e[512];

		if (sim_host_add(&s->host, &hf->vms[i], now, NULL, e, sizeof(e)) == NULL) {
			snprintf(err, errlen, "%s: %s", file, e);
			return -1;
		}
	}
	return 0;
}

static void sim_free(struct sim_hv *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	sim_host_free(&s->host);
	pthread_mutex_destroy(&s->mu);
	free(s->dir);
	free(s->traces);
	free(s);
}

static int sim_open(const struct hv_open_args *a, struct hv **out, char *err, size_t errlen)
{
	struct sim_hostfile hf;
	struct sim_hv *s;
	int loaded;

	if (a->state_dir == NULL) {
		snprintf(err, errlen, "the sim driver needs a state directory");
		return -1;
	}
	sim_hostfile_defaults(&hf);
	if (a->sim_file != NULL && sim_hostfile_load(a->sim_file, &hf, err, errlen) < 0)
		return -1;
	if (a->cpus > 0)
		hf.cpus = a->cpus;
	if (a->memory_mb > 0)
		hf.memory_mb = a->memory_mb;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		sim_hostfile_free(&hf);
		return -1;
	}
	s->lock_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	s->dir = strdup(a->state_dir);
	s->traces = a->sim_traces ? strdup(a->sim_traces) : NULL;
	s->wire_scale = hf.wire_scale;
	s->default_dirty = hf.default_dirty;
	if (a->clock != NULL)
		s->clock = *a->clock;
	else
		vclock_init(&s->clock, 1, evloop_mono_ms(), evloop_wall_ms());
	if (s->dir == NULL ||
	    sim_host_init(&s->host, hf.cpus, hf.memory_mb, hf.reserve_mb, hf.bandwidth_mbps, err,
	                  errlen) < 0 ||
	    sim_lock_dir(s, err, errlen) < 0)
		goto fail;
	loaded = sim_state_load(s->dir, &s->host, err, errlen);
	if (loaded < 0 ||
	    (loaded == 0 && sim_seed(s, &hf, a->sim_file ? a->sim_file : "", err, errlen) < 0))
		goto fail;
	if (sim_powered_off(s)) {
		char path[PATH_MAX];

		log_warnx("sim: the host was powered off: its %d VMs are gone", (int)s->host.n);
		while (s->host.n > 0)
			sim_host_remove(&s->host, s->host.vms[0].name, sim_now(s));
		snprintf(path, sizeof(path), "%s/%s", s->dir, SIM_POWER_OFF_FILE);
		unlink(path);
	}
	sim_host_sample(&s->host, sim_now(s), 0);
	if (sim_save(s, err, errlen) < 0)
		goto fail;
	log_info("sim: %d CPUs, %lld MiB, %d VMs %s", s->host.cpus, (long long)s->host.memory_mb,
	         (int)s->host.n, loaded ? "from the state directory" : "to start with");
	sim_hostfile_free(&hf);
	*out = &s->base;
	return 0;
fail:
	sim_hostfile_free(&hf);
	sim_free(s);
	return -1;
}

static void sim_close(struct hv *h)
{
	struct sim_hv *s = sim_of(h);

	pthread_mutex_lock(&s->mu);
	sim_host_advance(&s->host, sim_now(s));
	sim_save(s, NULL, 0);
	pthread_mutex_unlock(&s->mu);
	sim_free(s);
}

/* --- figures --------------------------------------------------------------- */

static int sim_host_info(struct hv *h, struct hv_host *out, char *err, size_t errlen)
{
	struct sim_hv *s = sim_of(h);

	pthread_mutex_lock(&s->mu);
	sim_sample(s);
	out->cpus = s->host.cpus;
	out->mem_total_mb = s->host.memory_mb;
	out->mem_free_mb = sim_host_mem_free(&s->host);
	out->cpu_pct = s->host.cpu_pct;
	out->bandwidth_mbps = s->host.bandwidth_mbps;
	snprintf(out->version, sizeof(out->version), "sim 1");
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Model states to driver states. */
static const enum hv_vm_state hv_states[SIM_STATE__COUNT] = {
    [SIM_RUNNING] = HV_VM_RUNNING,
    [SIM_PAUSED] = HV_VM_PAUSED,
    [SIM_SHUTTING_DOWN] = HV_VM_SHUTTING_DOWN,
    [SIM_CRASHED] = HV_VM_CRASHED,
    [SIM_INCOMING] = HV_VM_INCOMING,
    [SIM_OUTGOING] = HV_VM_OUTGOING,
};

static int sim_list_vms(struct hv *h, struct hv_vm **vms, size_t *n, char *err, size_t errlen)
{
	struct sim_hv *s = sim_of(h);
	struct hv_vm *v;

	pthread_mutex_lock(&s->mu);
	sim_sample(s);
	v = calloc(s->host.n + 1, sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&s->mu);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->host.n; i++) {
		const struct sim_vm *vm = &s->host.vms[i];

		memcpy(v[i].name, vm->name, sizeof(v[i].name)); /* both VMC_NAME_MAX + 1 */
		v[i].domid = vm->domid;
		v[i].state = hv_states[vm->state];
		v[i].vcpus = vm->vcpus;
		v[i].mem_mb = vm->mem_mb;
		v[i].cpu_pct = vm->use_pct;
	}
	*n = s->host.n;
	*vms = v;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int sim_guest_view(struct hv *h, const char *name, struct hv_guest_view *out)
{
	struct sim_hv *s = sim_of(h);
	const struct sim_vm *vm;
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	sim_sample(s);
	vm = sim_host_find(&s->host, name);
	if (vm != NULL) {
		out->cpu_pct = vm->use_pct / vm->vcpus;
		out->steal_pct = vm->steal_pct;
		out->demand_pct = vm->demand_pct;
		rc = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* --- configs ----------------------------------------------------------------- */

static int sim_vm_config(struct hv *h, const char *name, char **text, char *err, size_t errlen)
{
	struct sim_hv *s = sim_of(h);
	const struct sim_vm *vm;

	pthread_mutex_lock(&s->mu);
	vm = sim_host_find(&s->host, name);
	*text = vm != NULL ? sim_vm_to_xlcfg(vm) : NULL;
	pthread_mutex_unlock(&s->mu);
	if (*text == NULL) {
		snprintf(err, errlen, vm != NULL ? "out of memory" : "no vm %s on this host", name);
		return -1;
	}
	return 0;
}

static int sim_create(struct hv *h, const char *text, int paused, char *err, size_t errlen)
{
	struct sim_hv *s = sim_of(h);
	struct sim_vm t;
	int rc = -1;

	if (sim_vm_from_xlcfg(text, s->default_dirty, s->traces, &t, err, errlen) < 0)
		goto out;
	t.state = paused ? SIM_PAUSED : SIM_RUNNING;
	pthread_mutex_lock(&s->mu);
	if (sim_host_add(&s->host, &t, sim_now(s), NULL, err, errlen) != NULL) {
		rc = sim_save(s, err, errlen);
		if (rc < 0) /* not recorded: the VM must not run either */
			sim_host_remove(&s->host, t.name, sim_now(s));
	}
	pthread_mutex_unlock(&s->mu);
out:
	sim_load_free(&t.load);
	return rc;
}

/* --- life cycle ---------------------------------------------------------------- */

static int sim_apply(struct hv *h, const char *name, enum sim_op op, char *err, size_t errlen)
{
	struct sim_hv *s = sim_of(h);
	int rc;

	pthread_mutex_lock(&s->mu);
	/* the VM as it was, to put back if the change cannot be recorded */
	struct sim_vm *vm = sim_host_find(&s->host, name), was;
	int have = vm != NULL && (was = *vm, sim_load_copy(&was.load, &vm->load) == 0);
	rc = sim_host_apply(&s->host, name, op, sim_now(s), NULL, err, errlen);
	if (rc == 0 && (rc = sim_save(s, err, errlen)) < 0 && have) {
		char e[256];
		sim_host_remove(&s->host, name, sim_now(s));
		if (sim_host_add(&s->host, &was, sim_now(s), NULL, e, sizeof(e)) == NULL)
			log_warnx("sim: vm %s could not be put back: %s", name, e);
	}
	if (have)
		sim_load_free(&was.load);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sim_shutdown(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_SHUTDOWN, err, errlen);
}

static int sim_destroy(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_DESTROY, err, errlen);
}

static int sim_pause(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_PAUSE, err, errlen);
}

static int sim_unpause(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_UNPAUSE, err, errlen);
}

static int sim_src_commit(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_SRC_COMMIT, err, errlen);
}

static int sim_src_abort(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_SRC_ABORT, err, errlen);
}

static int sim_dst_commit(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_DST_COMMIT, err, errlen);
}

static int sim_dst_abort(struct hv *h, const char *name, char *err, size_t errlen)
{
	return sim_apply(h, name, SIM_OP_DST_ABORT, err, errlen);
}

/* --- migration ------------------------------------------------------------------ */

struct sim_send {
	struct sim_hv *s;
	char name[VMC_NAME_MAX + 1];
	hv_progress_fn *progress;
	void *ud;
	double model_total;
	uint64_t wire_total;
};

/* Before each round: the VM must still be there; the last round suspends it. */
static int send_round(void *ud, int round, int last, char *err, size_t errlen)
{
	struct sim_send *m = ud;
	struct sim_hv *s = m->s;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (sim_host_find(&s->host, m->name) == NULL) {
		snprintf(err, errlen, "vm %s was destroyed during its migration", m->name);
		rc = -1;
	} else if (last) {
		rc = sim_host_apply(&s->host, m->name, SIM_OP_SUSPEND, sim_now(s), NULL, err,
		                    errlen);
		if (rc == 0)
			sim_save(s, NULL, 0);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int send_chunk(void *ud, int round, uint64_t wire_sent, char *err, size_t errlen)
{
	struct sim_send *m = ud;
	struct sim_hv *s = m->s;
	int gone;

	pthread_mutex_lock(&s->mu);
	gone = sim_host_find(&s->host, m->name) == NULL;
	pthread_mutex_unlock(&s->mu);
	if (gone) {
		snprintf(err, errlen, "vm %s was destroyed during its migration", m->name);
		return -1;
	}
	if (m->progress != NULL)
		m->progress(m->ud,
		            (uint64_t)(m->model_total * (double)wire_sent /
		                       (double)(m->wire_total > 0 ? m->wire_total : 1)),
		            (uint64_t)m->model_total, round + 1);
	return 0;
}

/* The VM's CPU accumulators when it stopped, for the far side. */
static char *send_trailer(void *ud)
{
	struct sim_send *m = ud;
	struct sim_hv *s = m->s;
	const struct sim_vm *vm;
	cJSON *o = cJSON_CreateObject();
	char *text;

	pthread_mutex_lock(&s->mu);
	sim_host_advance(&s->host, sim_now(s));
	vm = sim_host_find(&s->host, m->name);
	if (vm != NULL && o != NULL) {
		cJSON_AddNumberToObject(o, "cpu_ms", vm->cpu_ms);
		cJSON_AddNumberToObject(o, "steal_ms", vm->steal_ms);
		cJSON_AddNumberToObject(o, "demand_ms", vm->demand_ms);
	}
	pthread_mutex_unlock(&s->mu);
	text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return text;
}

/* Marks the VM as migrating and makes the header and plan; with the lock held. */
static char *send_begin(struct sim_hv *s, const char *name, struct sim_migrate_plan *mp, char *err,
                        size_t errlen)
{
	struct sim_migrate_params par;
	struct sim_vm *vm = sim_host_find(&s->host, name);
	cJSON *hdr, *mig;
	char *text;

	if (vm == NULL) {
		snprintf(err, errlen, "no vm %s on this host", name);
		return NULL;
	}
	if ((vm->state != SIM_RUNNING && vm->state != SIM_PAUSED) || vm->migrating) {
		snprintf(err, errlen, "vm %s is %s; a migration needs it running or paused", name,
		         vm->migrating ? "already migrating" : sim_state_name(vm->state));
		return NULL;
	}
	sim_migrate_defaults(&par, (double)s->host.bandwidth_mbps / (s->sends + 1));
	if (sim_migrate_plan(&par, vm->mem_mb, vm->state == SIM_RUNNING ? vm->dirty_mibps : 0, mp,
	                     err, errlen) < 0)
		return NULL;
	hdr = sim_vm_to_json(vm);
	mig = hdr != NULL ? cJSON_AddObjectToObject(hdr, "migration") : NULL;
	if (mig != NULL) {
		cJSON_AddNumberToObject(mig, "bytes", mp->total_bytes);
		cJSON_AddNumberToObject(mig, "rounds", mp->rounds);
		cJSON_AddNumberToObject(mig, "total_ms", mp->total_ms);
		cJSON_AddNumberToObject(mig, "downtime_ms", mp->downtime_ms);
		cJSON_AddNumberToObject(mig, "scale", s->wire_scale);
		cJSON_AddStringToObject(mig, "stop", sim_stop_reason_name(mp->reason));
	}
	text = mig != NULL ? cJSON_PrintUnformatted(hdr) : NULL;
	cJSON_Delete(hdr);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	vm->migrating = 1;
	s->sends++;
	return text;
}

static int sim_migrate_send(struct hv *h, const char *name, int fd, hv_progress_fn *progress,
                            void *ud, struct hv_migrate_stats *st, char *err, size_t errlen)
{
	struct sim_hv *s = sim_of(h);
	struct sim_migrate_plan mp;
	struct sim_stream_plan sp;
	struct sim_send m = {.s = s, .progress = progress, .ud = ud};
	struct sim_stream_hooks hk = {&m, send_round, send_chunk, send_trailer};
	struct sim_vm *vm;
	char *header;
	int rc;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	snprintf(m.name, sizeof(m.name), "%s", name);
	pthread_mutex_lock(&s->mu);
	header = send_begin(s, name, &mp, err, errlen);
	pthread_mutex_unlock(&s->mu);
	if (header == NULL)
		return -1;
	sim_stream_plan_from(&sp, &mp, s->wire_scale);
	m.model_total = mp.total_bytes;
	for (int k = 0; k < sp.rounds; k++)
		m.wire_total += sp.wire[k];
	log_info("sim: migrating %s: %d rounds, %.0f MiB, %.0f ms (%s), downtime %.0f ms", name,
	         mp.rounds, mp.total_bytes / SIM_MiB, mp.total_ms, sim_stop_reason_name(mp.reason),
	         mp.downtime_ms);
	rc = sim_stream_send(fd, header, &sp, &s->clock, &hk, err, errlen);
	free(header);
	pthread_mutex_lock(&s->mu);
	s->sends--;
	vm = sim_host_find(&s->host, name);
	if (vm != NULL) {
		vm->migrating = 0;
		/* a stream that did not end cannot be committed: run the VM here again */
		if (rc < 0 && vm->state == SIM_OUTGOING) {
			char e[256];

			sim_host_apply(&s->host, name, SIM_OP_SRC_ABORT, sim_now(s), NULL, e,
			               sizeof(e));
		}
		sim_save(s, NULL, 0);
	}
	pthread_mutex_unlock(&s->mu);
	if (rc == 0 && st != NULL) {
		st->bytes = (uint64_t)mp.total_bytes;
		st->rounds = mp.rounds;
		st->downtime_ms = llround(mp.downtime_ms);
	}
	return rc;
}

/* Reads the header's record and checks it against the channel's config. */
static int recv_record(struct sim_hv *s, const char *header, const char *xlcfg, struct sim_vm *t,
                       char *err, size_t errlen)
{
	cJSON *o = cJSON_Parse(header);
	struct xlcfg *cfg;
	char e[VMC_ERR_MAX];
	int rc;

	if (o == NULL) {
		snprintf(err, errlen, "migration stream: the header is not JSON");
		memset(t, 0, sizeof(*t));
		return -1;
	}
	rc = sim_vm_from_json(o, t, e, sizeof(e));
	cJSON_Delete(o);
	if (rc < 0) {
		snprintf(err, errlen, "migration stream: header: %s", e);
		return -1;
	}
	if (t->state != SIM_RUNNING && t->state != SIM_PAUSED) {
		snprintf(err, errlen, "migration stream: header: vm %s is %s", t->name,
		         sim_state_name(t->state));
		return -1;
	}
	t->resume_state = t->state;
	t->state = SIM_INCOMING;
	t->domid = 0;
	if (xlcfg == NULL)
		return 0;
	if (xlcfg_parse(xlcfg, "config", &cfg, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "migration config: %s", e);
		return -1;
	}
	long long mem;
	const char *name = xlcfg_str(cfg, "name");

	rc = 0;
	if (name == NULL || strcmp(name, t->name) != 0) {
		snprintf(err, errlen, "migration stream carries vm %s but the config names %s",
		         t->name, name != NULL ? name : "none");
		rc = -1;
	} else if (xlcfg_int(cfg, "memory", &mem) == 0 && mem != t->mem_mb) {
		snprintf(err, errlen,
		         "migration stream: vm %s has %lld MiB but the config says %lld", t->name,
		         (long long)t->mem_mb, mem);
		rc = -1;
	}
	xlcfg_free(cfg);
	return rc;
}

/* Carries the accumulators of the trailer over to the received VM; lock held. */
static void recv_trailer(struct sim_vm *vm, const char *trailer)
{
	cJSON *o = cJSON_Parse(trailer);
	double v[3];
	static const char *const keys[3] = {"cpu_ms", "steal_ms", "demand_ms"};
	char e[128];

	for (int i = 0; i < 3; i++)
		if (o == NULL ||
		    msg_get_num(o, "trailer", keys[i], 1, 0, 1e18, &v[i], e, sizeof(e)) != 0) {
			cJSON_Delete(o);
			return;
		}
	vm->cpu_ms = vm->s_cpu_ms = v[0];
	vm->steal_ms = vm->s_steal_ms = v[1];
	vm->demand_ms = vm->s_demand_ms = v[2];
	cJSON_Delete(o);
}

static int sim_migrate_recv(struct hv *h, const char *xlcfg, int fd, char *err, size_t errlen)
{
	struct sim_hv *s = sim_of(h);
	struct sim_stream_rx rx;
	struct sim_vm t, *vm;
	int rc = -1;

	if (sim_stream_recv_start(fd, &rx, err, errlen) < 0)
		return -1;
	if (recv_record(s, rx.header, xlcfg, &t, err, errlen) < 0)
		goto out;
	pthread_mutex_lock(&s->mu);
	vm = sim_host_add(&s->host, &t, sim_now(s), NULL, err, errlen);
	if (vm != NULL)
		sim_save(s, NULL, 0);
	pthread_mutex_unlock(&s->mu);
	if (vm == NULL)
		goto out;
	rc = sim_stream_recv_rest(fd, &rx, err, errlen);
	pthread_mutex_lock(&s->mu);
	vm = sim_host_find(&s->host, t.name);
	if (rc == 0 && vm == NULL) {
		snprintf(err, errlen, "vm %s was destroyed while it was being received", t.name);
		rc = -1;
	} else if (rc == 0) {
		recv_trailer(vm, rx.trailer);
	} else if (vm != NULL && vm->state == SIM_INCOMING) {
		char e[256];

		sim_host_apply(&s->host, t.name, SIM_OP_DST_ABORT, sim_now(s), NULL, e, sizeof(e));
	}
	sim_save(s, NULL, 0);
	pthread_mutex_unlock(&s->mu);
out:
	sim_load_free(&t.load);
	sim_stream_rx_free(&rx);
	return rc;
}

const struct hv_ops hv_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .host_info = sim_host_info,
    .list_vms = sim_list_vms,
    .vm_config = sim_vm_config,
    .create = sim_create,
    .shutdown = sim_shutdown,
    .destroy = sim_destroy,
    .pause = sim_pause,
    .unpause = sim_unpause,
    .guest_view = sim_guest_view,
    .migrate_send = sim_migrate_send,
    .migrate_src_commit = sim_src_commit,
    .migrate_src_abort = sim_src_abort,
    .migrate_recv = sim_migrate_recv,
    .migrate_dst_commit = sim_dst_commit,
    .migrate_dst_abort = sim_dst_abort,
};
