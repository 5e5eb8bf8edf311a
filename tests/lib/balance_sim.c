/* balance_sim.c - a cluster of balancing nodes over sim_model hosts, in virtual
 * time, with an in-memory bus (see balance_sim.h). Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_sim.h"
#include "../../lib/sim/sim_model.h"

#define STEP_MS 100
#define VISITED_MAX 8

struct shost {
	struct sim_host sh;
	struct bnode *node;
	enum bal_host_state state;
	int64_t next_sample;
	struct bal_vm *snap;
	size_t capsnap;
	int64_t incoming_mb; /* memory held by migrations coming in */
	int mig_out, mig_in;
};

struct smsg {
	int64_t at;
	enum bn_topic topic;
	char *text;
};

struct smig {
	char vm[VMC_NAME_MAX + 1];
	size_t from, to;
	int64_t end, mem_mb;
};

struct vmrec {
	char name[VMC_NAME_MAX + 1];
	int moves;
	size_t visited[VISITED_MAX];
	int nvisited;
};

struct sevent {
	int64_t at;
	char type[48];
	char *json;
};

struct bsim {
	struct bsim_opts o;
	int64_t now;
	struct shost *h;
	struct bal_view view;
	struct smsg *msgs;
	size_t nmsgs, capmsgs, nmessages;
	struct smig *migs;
	size_t nmigs, capmigs;
	struct vmrec *vms;
	size_t nvms, capvms;
	struct sevent *ev;
	size_t nev, capev;
	struct bsim_stats st;
};

#define GROW(arr, n, cap)                                                                          \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? (cap)*2 : 16;                                              \
			void *np_ = realloc((arr), (cap) * sizeof *(arr));                         \
			if (!np_)                                                                  \
				abort();                                                           \
			(arr) = np_;                                                               \
		}                                                                                  \
	} while (0)

struct bsim *bsim_new(const struct bsim_opts *o, char *err, size_t errlen)
{
	if (!o->nhosts || !o->rules || !o->cpus || !o->mem_mb) {
		snprintf(err, errlen, "bsim: expected hosts, their cpus and memory, and rules");
		return NULL;
	}
	struct bsim *b = calloc(1, sizeof *b);
	if (!b)
		abort();
	b->o = *o;
	if (!b->o.sample_ms)
		b->o.sample_ms = 2000;
	if (!b->o.latency_ms)
		b->o.latency_ms = 5;
	if (b->o.bandwidth_mbps <= 0)
		b->o.bandwidth_mbps = 1000;
	b->now = o->start_ms;
	b->h = calloc(o->nhosts, sizeof *b->h);
	b->view.hosts = calloc(o->nhosts, sizeof *b->view.hosts);
	if (!b->h || !b->view.hosts)
		abort();
	b->view.nhosts = o->nhosts;
	b->st.first_start = b->st.last_end = b->st.first_overload = -1;
	for (size_t i = 0; i < o->nhosts; i++) {
		struct shost *h = &b->h[i];
		struct bal_host *vh = &b->view.hosts[i];
		snprintf(vh->name, sizeof vh->name, "h%zu", i + 1);
		if (sim_host_init(&h->sh, o->cpus[i], o->mem_mb[i], 0, (int64_t)b->o.bandwidth_mbps,
		                  err, errlen) < 0) {
			b->view.nhosts = i;
			bsim_free(b);
			return NULL;
		}
		struct bn_config cfg = {.host = vh->name,
		                        .rules = o->rules,
		                        .utc_offset_s = o->utc_offset_s,
		                        .advise = o->advise};
		h->node = bn_new(&cfg);
		h->next_sample = o->start_ms + 1 + (int64_t)i * b->o.sample_ms / (int64_t)o->nhosts;
		vh->cpus = o->cpus[i];
		vh->mem_total_mb = vh->mem_free_mb = o->mem_mb[i];
		vh->mem_reserve_mb = -1;
	}
	return b;
}

void bsim_free(struct bsim *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->view.nhosts; i++) {
		sim_host_free(&b->h[i].sh);
		bn_free(b->h[i].node);
		free(b->h[i].snap);
	}
	for (size_t i = 0; i < b->nmsgs; i++)
		free(b->msgs[i].text);
	for (size_t i = 0; i < b->nev; i++)
		free(b->ev[i].json);
	free(b->h);
	free(b->view.hosts);
	free(b->msgs);
	free(b->migs);
	free(b->vms);
	free(b->ev);
	free(b);
}

static struct vmrec *vmrec_get(struct bsim *b, const char *name)
{
	for (size_t i = 0; i < b->nvms; i++)
		if (strcmp(b->vms[i].name, name) == 0)
			return &b->vms[i];
	GROW(b->vms, b->nvms, b->capvms);
	struct vmrec *r = &b->vms[b->nvms++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	return r;
}

int bsim_add_vm(struct bsim *b, size_t host, const struct bsim_vm *vm, char *err, size_t errlen)
{
	if (host >= b->view.nhosts) {
		snprintf(err, errlen, "host %zu: no such host", host);
		return -1;
	}
	struct sim_vm t;
	memset(&t, 0, sizeof t);
	snprintf(t.name, sizeof t.name, "%s", vm->name);
	t.vcpus = vm->vcpus;
	t.mem_mb = vm->mem_mb;
	t.dirty_mibps = vm->dirty_mibps > 0 ? vm->dirty_mibps : 10;
	snprintf(t.tags, sizeof t.tags, "%s", vm->tags ? vm->tags : "");
	if (sim_load_parse(vm->load ? vm->load : "constant 0", &t.load, err, errlen) < 0)
		return -1;
	struct sim_vm *added = sim_host_add(&b->h[host].sh, &t, b->now, NULL, err, errlen);
	sim_load_free(&t.load);
	if (!added)
		return -1;
	struct vmrec *r = vmrec_get(b, vm->name);
	r->visited[0] = host;
	r->nvisited = 1;
	return 0;
}

void bsim_set_state(struct bsim *b, size_t host, enum bal_host_state s)
{
	if (host < b->view.nhosts)
		b->h[host].state = b->view.hosts[host].state = s;
}

void bsim_set_policy(struct bsim *b, const struct policy *p)
{
	for (size_t i = 0; i < b->view.nhosts; i++)
		bn_set_policy(b->h[i].node, p);
}

int64_t bsim_now(const struct bsim *b)
{
	return b->now;
}

/* --- outputs of the nodes ------------------------------------------------------------ */

static int find_vm(const struct sim_host *sh, const char *name)
{
	for (size_t i = 0; i < sh->n; i++)
		if (strcmp(sh->vms[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void event_add(struct bsim *b, const char *type, cJSON *msg)
{
	GROW(b->ev, b->nev, b->capev);
	struct sevent *e = &b->ev[b->nev++];
	e->at = b->now;
	snprintf(e->type, sizeof e->type, "%s", type);
	e->json = msg ? msg_print(msg) : NULL;
}

static void migrate_start(struct bsim *b, size_t from, const char *vm, const char *to)
{
	struct shost *src = &b->h[from];
	int d = bal_view_find(&b->view, to);
	int k = find_vm(&src->sh, vm);
	const struct rule_settings *s = bn_settings(src->node);
	if (k < 0 || d < 0 || src->sh.vms[k].migrating || b->h[d].state != BAL_ONLINE) {
		b->st.failed++;
		bn_migration_done(src->node, b->now, vm, to, 0);
		return;
	}
	struct shost *dst = &b->h[d];
	int64_t mem = src->sh.vms[k].mem_mb;
	if (sim_host_mem_free(&dst->sh) - dst->incoming_mb - s->mem_reserve_mb < mem) {
		b->st.failed++;
		b->st.max_dst_overfill++;
		bn_migration_done(src->node, b->now, vm, to, 0);
		return;
	}
	struct sim_migrate_params mp;
	struct sim_migrate_plan plan;
	char err[128];
	sim_migrate_defaults(&mp, b->o.bandwidth_mbps);
	if (sim_migrate_plan(&mp, mem, src->sh.vms[k].dirty_mibps, &plan, err, sizeof err) < 0)
		plan.total_ms = 1000;
	src->sh.vms[k].migrating = 1;
	dst->incoming_mb += mem;
	src->mig_out++;
	dst->mig_in++;
	GROW(b->migs, b->nmigs, b->capmigs);
	struct smig *m = &b->migs[b->nmigs++];
	snprintf(m->vm, sizeof m->vm, "%s", vm);
	m->from = from;
	m->to = (size_t)d;
	m->mem_mb = mem;
	m->end = b->now + (int64_t)plan.total_ms + 1;
	if (b->st.first_start < 0)
		b->st.first_start = b->now;
}

static void outputs(struct bsim *b, size_t host)
{
	struct bn_out *o;
	size_t n = bn_take(b->h[host].node, &o);
	for (size_t i = 0; i < n; i++) {
		switch (o[i].kind) {
		case BN_PUBLISH: {
			GROW(b->msgs, b->nmsgs, b->capmsgs);
			struct smsg *m = &b->msgs[b->nmsgs++];
			m->at = b->now + b->o.latency_ms;
			m->topic = o[i].topic;
			m->text = msg_print(o[i].msg);
			b->nmessages++;
			break;
		}
		case BN_EVENT: {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(o[i].msg, "type");
			event_add(b, cJSON_IsString(t) ? t->valuestring : "?", o[i].msg);
			break;
		}
		case BN_MIGRATE:
			migrate_start(b, host, o[i].vm, o[i].host);
			break;
		case BN_HOOK: {
			int t = bal_view_find(&b->view, o[i].host);
			if (t < 0)
				break;
			if (o[i].hook == BN_HOOK_POWER_OFF && b->h[t].sh.n == 0) {
				bsim_set_state(b, (size_t)t, BAL_STANDBY);
				event_add(b, "hook.power_off", NULL);
			} else if (o[i].hook == BN_HOOK_POWER_ON && b->h[t].state == BAL_STANDBY) {
				bsim_set_state(b, (size_t)t, BAL_ONLINE);
				event_add(b, "hook.power_on", NULL);
			}
			break;
		}
		}
	}
	bn_outs_free(o, n);
}

/* --- the time loop ---------------------------------------------------------------------- */

static void migrate_finish(struct bsim *b, size_t i)
{
	struct smig m = b->migs[i];
	b->migs[i] = b->migs[--b->nmigs];
	struct shost *src = &b->h[m.from], *dst = &b->h[m.to];
	src->mig_out--;
	dst->mig_in--;
	dst->incoming_mb -= m.mem_mb;
	int k = find_vm(&src->sh, m.vm);
	char err[256];
	int ok = 0;
	if (k >= 0) {
		struct sim_vm t = src->sh.vms[k];
		t.migrating = 0;
		if (sim_host_add(&dst->sh, &t, b->now, NULL, err, sizeof err)) {
			sim_host_remove(&src->sh, m.vm, b->now);
			ok = 1;
		} else {
			src->sh.vms[k].migrating = 0;
		}
	}
	if (ok) {
		b->st.migrations++;
		b->st.last_end = b->now;
		struct vmrec *r = vmrec_get(b, m.vm);
		if (++r->moves == 2)
			b->st.moved_twice++;
		for (int v = 0; v < r->nvisited; v++)
			if (r->visited[v] == m.to) {
				b->st.back_and_forth++;
				break;
			}
		if (r->nvisited < VISITED_MAX)
			r->visited[r->nvisited++] = m.to;
	} else {
		b->st.failed++;
	}
	bn_migration_done(src->node, b->now, m.vm, b->view.hosts[m.to].name, ok);
	outputs(b, m.from);
}

static void split_tags(struct bal_vm *v, const char *tags)
{
	char buf[SIM_TAGS_MAX + 1];
	const char *list[32];
	size_t n = 0;
	snprintf(buf, sizeof buf, "%s", tags);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < 32;
	     t = strtok_r(NULL, ",", &save))
		list[n++] = t;
	bal_vm_tags(v, list, n);
}

static void sample(struct bsim *b, size_t i)
{
	struct shost *h = &b->h[i];
	struct bal_host *vh = &b->view.hosts[i];
	sim_host_sample(&h->sh, b->now, b->o.sample_ms / 2);
	if (h->sh.n > h->capsnap) {
		h->capsnap = h->sh.n * 2;
		h->snap = realloc(h->snap, h->capsnap * sizeof *h->snap);
		if (!h->snap)
			abort();
	}
	struct rule_guest *g = calloc(h->sh.n + 1, sizeof *g);
	if (!g)
		abort();
	for (size_t k = 0; k < h->sh.n; k++) {
		const struct sim_vm *sv = &h->sh.vms[k];
		struct bal_vm *v = &h->snap[k];
		memset(v, 0, sizeof *v);
		snprintf(v->name, sizeof v->name, "%s", sv->name);
		v->vcpus = sv->vcpus;
		v->mem_mb = sv->mem_mb;
		v->cpu = sv->use_pct;
		v->steal = b->o.steal_known ? sv->steal_pct : -1;
		split_tags(v, sv->tags);
		if (sv->migrating)
			v->flags |= BAL_VM_MIGRATING;
		g[k] = (struct rule_guest){
		    sv->name, b->o.steal_known,  sv->use_pct / sv->vcpus, sv->steal_pct, 0,
		    0,        (double)sv->mem_mb};
	}
	vh->vms = h->snap;
	vh->nvms = h->sh.n;
	vh->cpu = h->sh.cpu_pct;
	vh->mem_free_mb = sim_host_mem_free(&h->sh) - h->incoming_mb;
	vh->migrations_out = h->mig_out;
	vh->migrations_in = h->mig_in;
	vh->state = h->state;
	if (b->st.first_overload < 0 && h->state == BAL_ONLINE &&
	    vh->cpu > bn_settings(h->node)->high)
		b->st.first_overload = b->now;
	bn_sample(h->node, b->now, &b->view, g, h->sh.n);
	free(g);
	outputs(b, i);
}

/* The one host an offer, accept or release concerns (the requester of an offer or of a
 * release by the offerer, the offerer of an accept or of a release by the requester),
 * whose node alone acts on it: every other node parses it and drops it, which at
 * hundreds of hosts would be most of the simulation's time. -1: every host (a help,
 * or a message without that field, which every node then reports as malformed). */
static int addressee(const struct bsim *b, enum bn_topic topic, const cJSON *m)
{
	const char *field = NULL;
	if (topic == BN_OFFER) {
		field = "requester";
	} else if (topic == BN_ACCEPT) {
		field = "offerer";
	} else if (topic == BN_RELEASE) {
		const cJSON *by = cJSON_GetObjectItemCaseSensitive(m, "by");
		const char *who = cJSON_IsString(by) ? by->valuestring : by ? "" : "requester";
		if (strcmp(who, "offerer") == 0)
			field = "requester";
		else if (strcmp(who, "requester") == 0)
			field = "offerer";
	}
	const cJSON *f = field ? cJSON_GetObjectItemCaseSensitive(m, field) : NULL;
	return cJSON_IsString(f) ? bal_view_find(&b->view, f->valuestring) : -1;
}

void bsim_run(struct bsim *b, int64_t until_ms)
{
	while (b->now < until_ms) {
		b->now += STEP_MS;
		b->view.now_ms = b->now;
		/* deliver what is due; new messages published meanwhile wait for the next step */
		size_t due_end = b->nmsgs;
		struct smsg *batch = malloc((due_end ? due_end : 1) * sizeof *batch);
		if (!batch)
			abort();
		if (due_end)
			memcpy(batch, b->msgs, due_end * sizeof *batch);
		size_t keep = 0;
		for (size_t i = 0; i < due_end; i++)
			if (batch[i].at > b->now)
				b->msgs[keep++] = batch[i];
		size_t later = b->nmsgs - due_end;
		if (later)
			memmove(b->msgs + keep, b->msgs + due_end, later * sizeof *b->msgs);
		b->nmsgs = keep + later;
		for (size_t i = 0; i < due_end; i++) {
			if (batch[i].at > b->now)
				continue;
			cJSON *j = cJSON_Parse(batch[i].text);
			int only = addressee(b, batch[i].topic, j);
			for (size_t h = 0; j && h < b->view.nhosts; h++) {
				if (only >= 0 && h != (size_t)only)
					continue;
				bn_message(b->h[h].node, b->now, batch[i].topic, NULL, j, &b->view);
				outputs(b, h);
			}
			cJSON_Delete(j);
			free(batch[i].text);
		}
		free(batch);
		for (size_t i = 0; i < b->nmigs;) {
			if (b->migs[i].end <= b->now)
				migrate_finish(b, i);
			else
				i++;
		}
		for (size_t i = 0; i < b->view.nhosts; i++) {
			if (b->h[i].next_sample <= b->now) {
				b->h[i].next_sample += b->o.sample_ms;
				sample(b, i);
			}
		}
		for (size_t i = 0; i < b->view.nhosts; i++) {
			if (b->o.tick_at_deadline && bn_next_deadline(b->h[i].node) > b->now)
				continue;
			bn_tick(b->h[i].node, b->now, &b->view);
			b->st.ticks++;
			outputs(b, i);
		}
	}
}

void bsim_stats(const struct bsim *b, struct bsim_stats *st)
{
	*st = b->st;
}

int bsim_vm_host(const struct bsim *b, const char *vm)
{
	for (size_t i = 0; i < b->view.nhosts; i++)
		if (find_vm(&b->h[i].sh, vm) >= 0)
			return (int)i;
	return -1;
}

int bsim_vm_moves(const struct bsim *b, const char *vm)
{
	for (size_t i = 0; i < b->nvms; i++)
		if (strcmp(b->vms[i].name, vm) == 0)
			return b->vms[i].moves;
	return 0;
}

size_t bsim_host_vms(const struct bsim *b, size_t host)
{
	return host < b->view.nhosts ? b->h[host].sh.n : 0;
}

double bsim_host_cpu(const struct bsim *b, size_t host)
{
	return host < b->view.nhosts ? b->view.hosts[host].cpu : 0;
}

const struct bal_view *bsim_view(const struct bsim *b)
{
	return &b->view;
}

size_t bsim_events(const struct bsim *b, const char *type, size_t i, int64_t *when, char *json,
                   size_t jsonlen)
{
	size_t c = 0;
	for (size_t k = 0; k < b->nev; k++) {
		if (strcmp(b->ev[k].type, type) != 0)
			continue;
		if (c == i) {
			if (when)
				*when = b->ev[k].at;
			if (json && jsonlen)
				snprintf(json, jsonlen, "%s", b->ev[k].json ? b->ev[k].json : "");
		}
		c++;
	}
	return c;
}

size_t bsim_messages(const struct bsim *b)
{
	return b->nmessages;
}
