/* ha.c - a dead host's VMs start again elsewhere, exactly once, after it is fenced.
 *
 * Death takes two independent signals: the broker's (the host's Last Will; no live load
 * message for twice the HA timeout, its loads read only for when they come, never parsed;
 * or no summary for twice the HA timeout or twice its refresh period, whichever is longer)
 * and the direct check (ha_probe.c: its migration channel does not answer). A host that lost only
 * the broker still answers the direct check and is left alone. Once both signals have held for the
 * HA timeout, the coordinator (the live host with the lowest name) claims the dead host in the
 * shared store (a claim file created exclusively), runs the fence hook, and only when it exits 0
 * assigns each HA VM of the dead host to a live host through the one placement function
 * (lib/cluster/ha_plan.c), rewriting each VM's record before the target starts it (ha_restart.c). A
 * coordinator that dies is resumed by its next session (the claim names it) or taken over by the
 * next coordinator once it is offline. */
#include "ha.h"
#include "../../../lib/core/workpool.h"

#include "../../../lib/cluster/balance_view.h"
#include "../../../lib/cluster/cluster_model.h"
#include "../../../lib/core/evloop.h"
#include "../../../lib/cluster/ha_plan.h"
#include "../../../lib/core/log.h"
#include "../../../lib/balance/rules.h"
#include "../../../lib/bus/topic.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

#define HA_PROBE_EVERY_MS 1000
#define HA_PROBE_TIMEOUT_MS 2000
#define HA_FENCE_RETRY_MS 60000

enum ha_direct { HA_DIRECT_UNKNOWN = 0, HA_DIRECT_ALIVE, HA_DIRECT_DEAD };

struct ha_watch {
	char name[VMC_NAME_MAX + 1];
	char addr[96]; /* its last known migration address */
	enum ha_direct direct;
	int probing;
	int64_t last_probe; /* mono ms */
	int64_t dead_since; /* mono ms both signals first held; 0: not dead */
	int check_claim;    /* look for an old claim once it is back */
	int64_t beat_ms;    /* mono ms its last live load came; 0: none yet */
	size_t idx_;        /* in ha_ctx.watches */
};

struct ha_probe_job {
	struct ha_ctx *a;
	char name[VMC_NAME_MAX + 1];
	char addr[96];
	int alive;
};

int64_t ha_mono_ms(void)
{
	return evloop_mono_ms();
}

static struct ha_ctx *ha_of(struct hostd *h)
{
	return h->ha;
}

static struct ha_watch *ha_watch_get(struct ha_ctx *a, const char *name)
{
	/* by name: every live load of 1,000 hosts comes here, and each tick asks for all */
	struct ha_watch *w = nametab_find(&a->watches, name);
	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->check_claim = 1;
	nametab_add(&a->watches, w);
	return w;
}

static int ha_live(const struct cm_host *p)
{
	return p && (p->state == CM_HOST_ONLINE || p->state == CM_HOST_MAINTENANCE);
}

/* This host coordinates when no live host has a lower name. */
static int ha_coordinator(struct ha_ctx *a)
{
	for (size_t i = 0; i < cluster_model_host_count(a->h->model); i++) {
		const struct cm_host *p = cluster_model_host_at(a->h->model, i);
		if (ha_live(p) && strcmp(p->name, a->h->opts.name) < 0)
			return 0;
	}
	return 1;
}

static void ha_event_host(struct ha_ctx *a, const char *type, const char *host, const char *vm,
                          const char *reason)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "dead_host", host);
	if (reason)
		cJSON_AddStringToObject(f, "reason", reason);
	hostd_event(a->h, type, vm, f);
}

/* --- the direct check ----------------------------------------------------------------- */

static void ha_probe_run(void *ud, const volatile int *cancel)
{
	struct ha_probe_job *j = ud;
	j->alive = ha_probe(j->addr, j->name, HA_PROBE_TIMEOUT_MS);
}

static void ha_probe_done(void *ud, int ran)
{
	struct ha_probe_job *j = ud;
	struct ha_watch *w = ha_watch_get(j->a, j->name);
	if (w) {
		w->probing = 0;
		if (w->direct != (j->alive ? HA_DIRECT_ALIVE : HA_DIRECT_DEAD))
			log_info("ha: host %s %s the direct check", j->name,
			         j->alive ? "answers" : "does not answer");
		w->direct = j->alive ? HA_DIRECT_ALIVE : HA_DIRECT_DEAD;
	}
	free(j);
}

static void ha_probe_start(struct ha_ctx *a, struct ha_watch *w)
{
	struct ha_probe_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->a = a;
	snprintf(j->name, sizeof(j->name), "%s", w->name);
	snprintf(j->addr, sizeof(j->addr), "%s", w->addr);
	w->last_probe = evloop_mono_ms();
	if (workpool_submit(a->pool, ha_probe_run, ha_probe_done, j) < 0) {
		free(j);
		return;
	}
	w->probing = 1;
}

/* --- fencing -------------------------------------------------------------------------- */

static void ha_claim_set(struct ha_ctx *a, struct ha_claim *c, const char *state)
{
	if (state != c->state)
		snprintf(c->state, sizeof(c->state), "%s", state);
	c->ts = evloop_wall_ms();
	if (ha_claim_put(a->dir, c, 0) < 0)
		log_warnx("ha: claim on host %s: cannot write it: %s", c->host, strerror(errno));
}

/* After a fence: the non-HA VMs the dead host ran are lost. */
static void ha_report_lost(struct ha_ctx *a, const char *host)
{
	const struct cm_host *p = cluster_model_host_find(a->h->model, host);
	for (size_t i = 0; p && i < cluster_model_host_rec_count(p); i++) {
		struct ha_rec r;
		char err[VMC_ERR_MAX * 2];
		const char *vm = cluster_model_host_rec_vm(p, i)->name;
		int rc = ha_rec_get(a->dir, vm, &r, err, sizeof(err));
		if (rc != 1 || strcmp(r.host, host) != 0)
			ha_event_host(a, "ha.lost", host, vm,
			              "not protected by ha: it stays down until someone starts it");
		ha_rec_clear(&r);
	}
}

static void ha_fence_end(struct ha_ctx *a, int ok, const char *why)
{
	struct ha_claim c;
	char host[VMC_NAME_MAX + 1];
	snprintf(host, sizeof(host), "%s", a->fence_host);
	a->fence_pid = 0;
	a->fence_host[0] = '\0';
	if (ha_claim_get(a->dir, host, &c) != 1 || strcmp(c.by, a->h->opts.name) != 0)
		return; /* taken over or cleared meanwhile */
	if (ok) {
		log_info("ha: host %s fenced", host);
		ha_claim_set(a, &c, "fenced");
		ha_event_host(a, "ha.fenced", host, NULL, NULL);
		ha_report_lost(a, host);
	} else {
		log_error("ha: host %s could not be fenced (%s): none of its VMs is restarted",
		          host, why);
		ha_claim_set(a, &c, "failed");
		ha_event_host(a, "ha.failed", host, NULL, why);
	}
}

static long ha_fence_poll(struct evloop *loop, long long id, void *ud)
{
	struct ha_ctx *a = ud;
	int status;
	char why[128];
	pid_t r = waitpid(a->fence_pid, &status, WNOHANG);
	if (r == 0 && evloop_mono_ms() < a->fence_deadline)
		return 100;
	if (r == 0) {
		kill(-a->fence_pid, SIGKILL);
		waitpid(a->fence_pid, &status, 0);
		snprintf(why, sizeof(why), "the fence hook did not finish within %d s",
		         a->h->opts.fence_timeout_s);
		ha_fence_end(a, 0, why);
	} else if (r < 0) {
		ha_fence_end(a, 0, "the fence hook was lost");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ha_fence_end(a, 1, NULL);
	} else {
		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "the fence hook exited with %d",
			         WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "the fence hook died of signal %d",
			         WTERMSIG(status));
		ha_fence_end(a, 0, why);
	}
	return -1;
}

/* Runs the fence hook (argv: host name, address), never through a shell. */
static void ha_fence_start(struct ha_ctx *a, const char *host, const char *addr)
{
	const char *hook = a->h->opts.fence_hook;
	if (!hook) {
		snprintf(a->fence_host, sizeof(a->fence_host), "%s", host);
		ha_fence_end(a, 0,
		             "no --fence-hook: a host that cannot be fenced is never replaced");
		return;
	}
	char ip[96];
	snprintf(ip, sizeof(ip), "%s", addr);
	char *colon = strrchr(ip, ':');
	if (colon)
		*colon = '\0';
	char *argv[] = {(char *)hook, (char *)host, ip, NULL};
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	pid_t pid;
	int rc = posix_spawn(&pid, hook, NULL, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	snprintf(a->fence_host, sizeof(a->fence_host), "%s", host);
	if (rc != 0) {
		char why[160];
		snprintf(why, sizeof(why), "the fence hook could not run: %s", strerror(rc));
		ha_fence_end(a, 0, why);
		return;
	}
	log_info("ha: fencing host %s (%s): %s %s %s", host, ip, hook, host, ip);
	ha_event_host(a, "ha.fencing", host, NULL, NULL);
	a->fence_pid = pid;
	a->fence_deadline = evloop_mono_ms() + (int64_t)a->h->opts.fence_timeout_s * 1000;
	evloop_add_timer(a->h->loop, 100, ha_fence_poll, a);
}

/* --- the plan ---------------------------------------------------------------------- */

static int ha_reported(struct ha_ctx *a, const char *vm)
{
	for (size_t i = 0; i < a->nreported; i++)
		if (strcmp(a->reported[i], vm) == 0)
			return 1;
	void *n = realloc(a->reported, (a->nreported + 1) * sizeof(*a->reported));
	if (!n)
		return 1;
	a->reported = n;
	snprintf(a->reported[a->nreported++], VMC_NAME_MAX + 1, "%s", vm);
	return 0;
}

/* The VMs to place if host died now (records naming it, not stopped there, not running
 * elsewhere), and every restart already assigned (their memory is taken even before their
 * target's load shows them). *out malloc'ed. */
static size_t ha_candidates(struct ha_ctx *a, const char *host, struct ha_rec *recs, size_t nr,
                            struct ha_plan_vm **out)
{
	const struct cm_host *dead = cluster_model_host_find(a->h->model, host);
	struct ha_plan_vm *v = calloc(nr ? nr : 1, sizeof(*v));
	size_t n = 0;
	*out = v;
	for (size_t i = 0; v && i < nr; i++) {
		const struct ha_rec *r = &recs[i];
		/* a restart already assigned (from this dead host or another) holds its memory */
		int pending = r->from[0] != '\0';
		if (!pending && strcmp(r->host, host) != 0)
			continue;
		if (!pending) {
			int stopped = 0;
			for (size_t k = 0; dead && k < cluster_model_host_rec_count(dead); k++) {
				const struct cm_rec *dr = cluster_model_host_rec_at(dead, k);
				if (strcmp(cluster_model_host_rec_vm(dead, k)->name, r->vm) == 0)
					stopped = strcmp(dr->state, "stopped") == 0;
			}
			if (stopped || cluster_model_rec_host(a->h->model, r->vm, host))
				continue;
		}
		struct ha_plan_vm *p = &v[n++];
		snprintf(p->name, sizeof(p->name), "%s", r->vm);
		p->vcpus = r->vcpus;
		p->mem_mb = r->mem_mb;
		const char *tags[64];
		size_t nt = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, r->tags) if (cJSON_IsString(t) && nt < 64) tags[nt++] =
		    t->valuestring;
		p->priority = ha_plan_priority(tags, nt);
		struct bal_vm bv;
		memset(&bv, 0, sizeof(bv));
		bal_vm_tags(&bv, tags, nt);
		snprintf(p->anti, sizeof(p->anti), "%s", bv.anti);
		p->assigned = pending;
		if (pending)
			snprintf(p->target, sizeof(p->target), "%s", r->host);
	}
	return n;
}

/* Plans host's VMs; with commit, records each assignment (and reports what cannot be
 * placed). Returns the plan (malloc'ed, *n entries) or NULL. */
static struct ha_plan_vm *ha_make_plan(struct ha_ctx *a, const char *host, int commit, size_t *n,
                                       int *unplaced)
{
	struct ha_rec *recs;
	size_t nr;
	struct ha_plan_vm *v = NULL;
	*n = 0;
	*unplaced = 0;
	if (ha_rec_list(a->dir, &recs, &nr) < 0)
		return NULL;
	*n = ha_candidates(a, host, recs, nr, &v);
	struct rule_settings s;
	rule_settings_default(&s);
	const struct bal_view *view = bview_get(a->view, a->h->model, hostd_now(a->h));
	*unplaced = v ? ha_plan(view, &s, host, v, *n) : -1;
	for (size_t i = 0; commit && v && i < *n; i++) {
		struct ha_plan_vm *p = &v[i];
		if (p->assigned)
			continue;
		if (!p->target[0]) {
			if (!ha_reported(a, p->name))
				ha_event_host(a, "ha.failed", host, p->name, p->why);
			continue;
		}
		for (size_t k = 0; k < nr; k++) {
			char err[VMC_ERR_MAX * 2];
			if (strcmp(recs[k].vm, p->name) != 0)
				continue;
			snprintf(recs[k].from, sizeof(recs[k].from), "%s", host);
			snprintf(recs[k].host, sizeof(recs[k].host), "%s", p->target);
			if (ha_rec_put(a->dir, &recs[k], err, sizeof(err)) < 0)
				log_warnx("ha: vm %s: %s", p->name, err);
			else
				log_info("ha: vm %s of host %s: restart on %s recorded", p->name,
				         host, p->target);
		}
	}
	ha_rec_list_free(recs, nr);
	return v;
}

/* --- the dead host's claim ---------------------------------------------------------------- */

static void ha_handle_dead(struct ha_ctx *a, struct ha_watch *w, const struct cm_host *p)
{
	struct ha_claim c;
	int rc = ha_claim_get(a->dir, p->name, &c);
	if (rc < 0)
		return;
	if (rc == 1 && c.session < p->session) {
		ha_claim_remove(a->dir, p->name); /* an earlier death's */
		rc = 0;
	}
	if (rc == 0) {
		memset(&c, 0, sizeof(c));
		snprintf(c.host, sizeof(c.host), "%s", p->name);
		snprintf(c.by, sizeof(c.by), "%s", a->h->opts.name);
		snprintf(c.state, sizeof(c.state), "fencing");
		c.session = p->session;
		c.ts = evloop_wall_ms();
		if (ha_claim_put(a->dir, &c, 1) < 0)
			return; /* another host claimed it first */
		log_warnx("ha: host %s is dead (no broker, no direct answer): claimed", p->name);
	} else if (strcmp(c.by, a->h->opts.name) != 0) {
		if (ha_live(cluster_model_host_find(a->h->model, c.by)))
			return; /* its claimer is alive and at work */
		log_warnx("ha: host %s: its claimer %s is gone: taking over", p->name, c.by);
		snprintf(c.by, sizeof(c.by), "%s", a->h->opts.name);
		ha_claim_set(a, &c, c.state);
	}
	if (strcmp(c.state, "failed") == 0 && evloop_wall_ms() - c.ts >= HA_FENCE_RETRY_MS)
		ha_claim_set(a, &c, "fencing");
	if (strcmp(c.state, "fencing") == 0) {
		if (!a->fence_pid)
			ha_fence_start(a, p->name, w->addr);
	} else if (strcmp(c.state, "fenced") == 0) {
		size_t n;
		int unplaced;
		free(ha_make_plan(a, p->name, 1, &n, &unplaced));
		if (unplaced == 0) {
			log_info("ha: host %s: every HA VM has a new host", p->name);
			ha_claim_set(a, &c, "done");
		}
	}
}

/* Once the host is back (a new session), its old claim goes. */
static void ha_host_back(struct ha_ctx *a, struct ha_watch *w, const struct cm_host *p)
{
	struct ha_claim c;
	w->dead_since = 0;
	w->direct = HA_DIRECT_UNKNOWN;
	if (!w->check_claim)
		return;
	w->check_claim = 0;
	if (ha_claim_get(a->dir, p->name, &c) == 1 && c.session < p->session) {
		log_info("ha: host %s is back (session %lld): its claim is cleared", p->name,
		         (long long)p->session);
		ha_claim_remove(a->dir, p->name);
	}
}

/* A claim this host took (as coordinator then) stays its own to finish, so that a lower
 * named host coming back does not leave it half done. */
static int ha_claimed_by_me(struct ha_ctx *a, const char *host)
{
	struct ha_claim c;
	return ha_claim_get(a->dir, host, &c) == 1 && strcmp(c.by, a->h->opts.name) == 0;
}

static void ha_watch_host(struct ha_ctx *a, const struct cm_host *p, int64_t now)
{
	struct ha_watch *w = ha_watch_get(a, p->name);
	if (!w)
		return;
	if (ha_live(p) && p->migrate_addr[0])
		snprintf(w->addr, sizeof(w->addr), "%s", p->migrate_addr);
	int64_t timeout = (int64_t)(a->h->opts.ha_timeout_s * 1000);
	/* no summary for twice the timeout, or twice its refresh period if longer: a
	 * quiet host sends one only that often */
	int64_t silent = 2 * (p->refresh_ms > timeout ? p->refresh_ms : timeout);
	/* its loads, every interval, tell sooner: a hung host whose connection the broker
	 * keeps until its keepalive runs out (1.5 x, 45 s at a keepalive of 30) stops them */
	int beat_lost = w->beat_ms && now - w->beat_ms > 2 * timeout;
	int broker_dead =
	    p->state == CM_HOST_OFFLINE ||
	    (ha_live(p) && (beat_lost || (p->has_summary && now - p->summary_ms > silent)));
	/* cut from the broker with self-fencing on: every peer is checked directly */
	int cut = a->h->opts.self_fence_after_s > 0 && !bus_connected(a->h->bus);
	if (!broker_dead && !cut) {
		ha_host_back(a, w, p);
		return;
	}
	if (broker_dead)
		w->check_claim = 1;
	if (!w->addr[0])
		return; /* no direct check possible: never declared dead */
	if (!w->probing && now - w->last_probe >= HA_PROBE_EVERY_MS)
		ha_probe_start(a, w);
	if (!broker_dead)
		return; /* checked for self-fencing only */
	if (w->direct != HA_DIRECT_DEAD) {
		w->dead_since = 0;
		return;
	}
	if (!w->dead_since)
		w->dead_since = now;
	if (now - w->dead_since >= timeout && a->policy_on && bus_connected(a->h->bus) &&
	    (ha_coordinator(a) || ha_claimed_by_me(a, p->name)))
		ha_handle_dead(a, w, p);
}

static long ha_tick(struct evloop *loop, long long id, void *ud)
{
	struct ha_ctx *a = ud;
	struct hostd *h = a->h;
	int cap = h->opts.max_migrations_out > 0 ? h->opts.max_migrations_out : 2;
	ha_restart_tick(a, cap);
	int64_t now = evloop_mono_ms();
	int connected = bus_connected(h->bus);
	if (connected && !a->was_connected) {
		/* back from a cut: what was seen meanwhile (no summaries, checks that
		 * failed while the network was down) is no sign of death; the hosts'
		 * retained summaries come back at the reconnect and every check is made again */
		for (size_t i = 0; i < a->watches.n; i++) {
			struct ha_watch *w = a->watches.items[i];
			w->direct = HA_DIRECT_UNKNOWN;
			w->dead_since = 0;
		}
	}
	a->was_connected = connected;
	for (size_t i = 0; i < cluster_model_host_count(h->model); i++) {
		const struct cm_host *p = cluster_model_host_at(h->model, i);
		if (strcmp(p->name, h->opts.name) != 0)
			ha_watch_host(a, p, now);
	}
	ha_self_tick(a, now);
	return (long)(h->opts.interval_s * 1000);
}

int ha_peers_unreachable(struct ha_ctx *a)
{
	size_t n = 0;
	for (size_t i = 0; i < cluster_model_host_count(a->h->model); i++) {
		const struct cm_host *p = cluster_model_host_at(a->h->model, i);
		if (strcmp(p->name, a->h->opts.name) == 0 || !ha_live(p))
			continue;
		struct ha_watch *w = ha_watch_get(a, p->name);
		if (!w || !w->addr[0])
			continue;
		if (w->direct != HA_DIRECT_DEAD)
			return 0;
		n++;
	}
	return n > 0;
}

/* --- the module's hooks ------------------------------------------------------------------ */

int hostd_ha_start(struct hostd *h, char *err, size_t errlen)
{
	if (!h->opts.shared_store)
		return 0;
	if (ha_store_open(h->opts.shared_store, err, errlen) < 0)
		return -1;
	const struct workpool_opts wo = {.stack_size = HOSTD_WORKER_STACK, .what = "host probe"};
	struct ha_ctx *a = calloc(1, sizeof(*a));
	int ok = a && (a->view = calloc(1, sizeof(*a->view)));
	if (!ok)
		snprintf(err, errlen, "out of memory");
	else
		ok = (a->pool = workpool_new(h->loop, &wo, err, errlen)) != NULL;
	if (!ok) {
		if (a)
			free(a->view);
		free(a);
		return -1;
	}
	bview_init(a->view, NULL); /* every host from its summary, this one too */
	nametab_init(&a->watches, offsetof(struct ha_watch, idx_));
	a->h = h;
	a->dir = h->opts.shared_store;
	h->ha = a;
	evloop_add_timer(h->loop, (long)(h->opts.interval_s * 1000), ha_tick, a);
	char self[48] = "off";
	if (h->opts.self_fence_after_s > 0)
		snprintf(self, sizeof(self), "after %g s", h->opts.self_fence_after_s);
	log_info("ha: shared store %s; fence hook %s; timeout %g s; self-fencing %s", a->dir,
	         h->opts.fence_hook ? h->opts.fence_hook : "(none)", h->opts.ha_timeout_s, self);
	return 0;
}

void hostd_ha_stop(struct hostd *h)
{
	struct ha_ctx *a = ha_of(h);
	if (!a)
		return;
	/* called once the loop no longer runs: its timers die with it */
	workpool_free(a->pool, 3000, WORKPOOL_DROP);
	bview_free(a->view);
	free(a->view);
	nametab_free(&a->watches, 1);
	free(a->reported);
	free(a->self_fenced);
	free(a);
	h->ha = NULL;
}

void hostd_ha_message(struct hostd *h, struct hostd_msg *m)
{
	struct ha_ctx *a = ha_of(h);
	char host[VMC_NAME_MAX + 1];
	if (a && topic_matches("host/+/load", m->rest)) {
		/* a heartbeat: when it came, not what it says (only host H may write there, by
		 * the broker's ACL); a retained copy is not a sign of life */
		struct ha_watch *w;
		char err[VMC_ERR_MAX];
		/* only for hosts the model knows: loads under made-up names add no watch */
		if (!m->raw->retain && m->raw->len &&
		    topic_segment(m->rest, 1, host, sizeof(host)) == 0 &&
		    vmc_name_check(host, "host", err, sizeof(err)) == 0 &&
		    strcmp(host, h->opts.name) != 0 && cluster_model_host_find(h->model, host) &&
		    (w = ha_watch_get(a, host)))
			w->beat_ms = evloop_mono_ms();
		return;
	}
	if (!a || strcmp(m->rest, "policy") != 0)
		return; /* the hosts' state, summaries and VM records are the model's (model.c) */
	const cJSON *j = hostd_msg_json(m);
	const cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, "ha") : NULL;
	int on = cJSON_IsString(v) && strcmp(v->valuestring, "on") == 0;
	if (on != a->policy_on)
		log_info("ha: the cluster policy turns restarts %s", on ? "on" : "off");
	a->policy_on = on;
}

int hostd_ha_check_create(struct hostd *h, const char *name, const char *config, const cJSON *tags,
                          char *err, size_t errlen)
{
	if (!ha_tags_have(tags, "ha"))
		return 0;
	return ha_config_shared(h->opts.shared_store, config, name, err, errlen);
}

void hostd_ha_forget(struct hostd *h, const char *vm)
{
	struct ha_ctx *a = ha_of(h);
	struct ha_rec r;
	char err[VMC_ERR_MAX * 2];
	if (a && ha_rec_get(a->dir, vm, &r, err, sizeof(err)) == 1 &&
	    strcmp(r.host, h->opts.name) == 0)
		ha_rec_remove(a->dir, vm);
	if (a)
		ha_rec_clear(&r);
}

struct ha_plan_vm *hostd_ha_plan(struct hostd *h, const char *host, size_t *n, int *unplaced)
{
	struct ha_ctx *a = ha_of(h);
	*n = 0;
	*unplaced = 0;
	return a ? ha_make_plan(a, host, 0, n, unplaced) : NULL;
}

cJSON *hostd_ha_hosts_json(struct hostd *h)
{
	static const char *const direct[] = {"unknown", "alive", "dead"};
	struct ha_ctx *a = ha_of(h);
	cJSON *arr = cJSON_CreateArray();
	int64_t now = evloop_mono_ms();
	for (size_t i = 0; a && i < cluster_model_host_count(h->model); i++) {
		const struct cm_host *p = cluster_model_host_at(h->model, i);
		if (strcmp(p->name, h->opts.name) == 0)
			continue;
		struct ha_watch *w = ha_watch_get(a, p->name);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "host", p->name);
		cJSON_AddStringToObject(
		    o, "state", p->state == CM_HOST_UNKNOWN ? "" : cm_host_state_name(p->state));
		if (w) {
			cJSON_AddStringToObject(o, "direct", direct[w->direct]);
			if (w->dead_since)
				cJSON_AddNumberToObject(o, "dead_ms",
				                        (double)(now - w->dead_since));
		}
		struct ha_claim c;
		if (ha_claim_get(a->dir, p->name, &c) == 1) {
			cJSON *co = cJSON_AddObjectToObject(o, "fence");
			cJSON_AddStringToObject(co, "state", c.state);
			cJSON_AddStringToObject(co, "by", c.by);
			cJSON_AddNumberToObject(co, "session", (double)c.session);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}
