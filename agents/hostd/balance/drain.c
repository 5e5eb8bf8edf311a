/* drain.c - maintenance: host.drain moves every VM off this host and keeps it in
 * maintenance (no new VMs, never a destination); host.undrain leaves maintenance and
 * asks the hosts that now hold the drained VMs to send them back where they fit.
 *
 * STATE_DIR/drain.json {maintenance, drained: [{vm, to}]} keeps both across restarts.
 * A drain follows the evacuation plan of its start (bal_plan_evacuate on the balancer's
 * view: what `vmc plan evacuate` shows, every VM placed by lib/cluster/placement.h), largest VM
 * first, under the per-host and per-cluster caps on migrations, and queues the rest
 * until a migration ends. A VM the plan did not place, or whose planned host refused
 * it, is placed again by the same function on the view of that moment, never on a host
 * that refused it. Pinned VMs are not moved. */
#include "../migrate/migrate.h"

#include "../migrate/channel.h"

#include "../../../lib/bus/reply.h"
#include "../../../lib/core/evloop.h"
#include "../../../lib/core/log.h"
#include "../../../lib/cluster/cluster_model.h"
#include "../../../lib/cluster/reserve.h"
#include "../../../lib/cluster/placement.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_TICK_MS 200
#define DRAIN_TRIED_MAX 16
#define DRAIN_ATTEMPTS 6
#define UNDRAIN_IN_FLIGHT 4
#define UNDRAIN_TIMEOUT_MS (3600L * 1000)
#define UNDRAIN_BUSY_RETRIES 600
/* the longest a drain waits for a load of every other host newer than its start or its
 * last migration's end before it refuses a VM that fits nowhere (at least this, and at
 * least DRAIN_FRESH_INTERVALS load intervals) */
#define DRAIN_FRESH_MIN_MS 10000
#define DRAIN_FRESH_INTERVALS 8

enum dv_state { DV_QUEUED, DV_MOVING, DV_MOVED, DV_FAILED, DV_SKIPPED };

/* One VM of a drain or an undrain. */
struct dvm {
	struct dvm *next;
	struct drain *d;
	char name[VMC_NAME_MAX + 1];
	char host[VMC_NAME_MAX + 1]; /* drain: where it went; undrain: where it is */
	char plan[VMC_NAME_MAX + 1]; /* drain: where the placement sends it ("" not yet) */
	int64_t mem_mb;
	enum dv_state state;
	int attempts;
	int64_t not_before; /* monotonic ms */
	int64_t nowhere;    /* monotonic ms it was first found to fit nowhere; 0 it fits */
	char tried[DRAIN_TRIED_MAX][VMC_NAME_MAX + 1];
	int ntried;
	char why[VMC_ERR_MAX * 2];
};

struct drained {
	char vm[VMC_NAME_MAX + 1];
	char to[VMC_NAME_MAX + 1];
};

struct drain {
	struct migrate *m;
	char path[4300];
	int maintenance;
	struct drained *drained;
	size_t ndrained;
	/* the drain or undrain running now, if any */
	struct hostd_req *req;
	int undrain;
	int planned;         /* the drain's evacuation plan was made */
	int64_t fresh_since; /* monotonic ms: loads received before may not show our moves */
	struct dvm *vms;
	long long timer;
};

/* --- the persisted state -------------------------------------------------------------- */

static int drain_save(struct drain *d)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "maintenance", d->maintenance);
	cJSON *arr = cJSON_AddArrayToObject(j, "drained");
	for (size_t i = 0; i < d->ndrained; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vm", d->drained[i].vm);
		cJSON_AddStringToObject(o, "to", d->drained[i].to);
		cJSON_AddItemToArray(arr, o);
	}
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = text ? mlog_write(d->path, text, 1) : -1;
	free(text);
	if (rc < 0)
		log_warn("cannot write %s", d->path);
	return rc;
}

static void drain_remember(struct drain *d, const char *vm, const char *to)
{
	size_t i;
	for (i = 0; i < d->ndrained && strcmp(d->drained[i].vm, vm) != 0; i++)
		;
	if (i == d->ndrained) {
		struct drained *n = realloc(d->drained, (d->ndrained + 1) * sizeof(*n));
		if (!n)
			return;
		d->drained = n;
		d->ndrained++;
	}
	snprintf(d->drained[i].vm, sizeof(d->drained[i].vm), "%s", vm);
	snprintf(d->drained[i].to, sizeof(d->drained[i].to), "%s", to);
	drain_save(d);
}

int hostd_drain_start(struct hostd *h)
{
	struct migrate *m = migrate_of(h);
	struct drain *d = m ? calloc(1, sizeof(*d)) : NULL;
	if (!d)
		return -1;
	d->m = m;
	m->drain = d;
	snprintf(d->path, sizeof(d->path), "%s/drain.json", m->h->opts.state_dir);
	cJSON *j = mlog_read(d->path);
	if (!j)
		return 0;
	d->maintenance = cJSON_IsTrue(cJSON_GetObjectItem(j, "maintenance"));
	const cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(j, "drained"))
	{
		const cJSON *vm = cJSON_GetObjectItem(o, "vm"), *to = cJSON_GetObjectItem(o, "to");
		if (cJSON_IsString(vm) && cJSON_IsString(to) &&
		    vmc_name_check(vm->valuestring, "vm", NULL, 0) == 0 &&
		    vmc_name_check(to->valuestring, "host", NULL, 0) == 0)
			drain_remember(d, vm->valuestring, to->valuestring);
	}
	cJSON_Delete(j);
	if (d->maintenance) {
		m->h->state = HOSTD_MAINTENANCE;
		log_info("host %s stays in maintenance (host.undrain ends it)", m->h->opts.name);
	}
	return 0;
}

static void dvm_free_all(struct drain *d)
{
	while (d->vms) {
		struct dvm *v = d->vms;
		d->vms = v->next;
		free(v);
	}
}

/* Detaches the migrations that would report to a drain that goes away. */
static void drain_detach(struct drain *d)
{
	for (struct mig *g = d->m->migs; g; g = g->next)
		for (struct dvm *v = d->vms; v; v = v->next)
			if (g->done_ud == v)
				g->done = NULL;
}

void hostd_drain_stop(struct hostd *h)
{
	struct migrate *m = migrate_of(h);
	struct drain *d = m ? m->drain : NULL;
	if (!d)
		return;
	drain_detach(d);
	if (d->req) {
		hostd_reply_err(m->h, d->req, VMC_E_FAILED,
		                "the host agent stopped during the %s; run it again",
		                d->undrain ? "undrain" : "drain");
		hostd_req_free(d->req);
	}
	if (d->timer)
		evloop_del_timer(m->h->loop, d->timer);
	dvm_free_all(d);
	free(d->drained);
	free(d);
	m->drain = NULL;
}

/* --- shared ---------------------------------------------------------------------------- */

static struct dvm *dvm_find(struct drain *d, const char *name)
{
	for (struct dvm *v = d->vms; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

static struct dvm *dvm_add(struct drain *d, const char *name, int64_t mem_mb)
{
	struct dvm *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->d = d;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->mem_mb = mem_mb;
	/* keep the list by memory, largest first: big VMs are the hard ones to place */
	struct dvm **p = &d->vms;
	while (*p && (*p)->mem_mb >= mem_mb)
		p = &(*p)->next;
	v->next = *p;
	*p = v;
	return v;
}

static int dvm_count(struct drain *d, enum dv_state s)
{
	int n = 0;
	for (struct dvm *v = d->vms; v; v = v->next)
		n += v->state == s;
	return n;
}

static void dvm_fail(struct dvm *v, enum dv_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void dvm_fail(struct dvm *v, enum dv_state s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	v->state = s;
}

/* Lists the VMs in a state as [{vm, host?, why?}]. */
static cJSON *dvm_list(struct drain *d, enum dv_state s, const char *host_key)
{
	cJSON *arr = cJSON_CreateArray();
	for (struct dvm *v = d->vms; v; v = v->next) {
		if (v->state != s)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vm", v->name);
		if (host_key && v->host[0])
			cJSON_AddStringToObject(o, host_key, v->host);
		if (v->why[0])
			cJSON_AddStringToObject(o, "why", v->why);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* Answers the running command: ok with result, or an error listing the failures. */
static void drain_finish(struct drain *d, cJSON *result)
{
	struct hostd *h = d->m->h;
	int nfail = dvm_count(d, DV_FAILED);
	if (d->timer)
		evloop_del_timer(h->loop, d->timer);
	d->timer = 0;
	if (nfail == 0) {
		hostd_reply_ok(h, d->req, result);
	} else {
		char msg[VMC_ERR_MAX * 4];
		size_t off = (size_t)snprintf(
		    msg, sizeof(msg), "%d VM%s could not be moved:", nfail, nfail == 1 ? "" : "s");
		for (struct dvm *v = d->vms; v && off < sizeof(msg); v = v->next)
			if (v->state == DV_FAILED)
				off += (size_t)snprintf(msg + off, sizeof(msg) - off, " %s (%s);",
				                        v->name, v->why);
		if (off > 0 && off < sizeof(msg) && msg[off - 1] == ';')
			msg[off - 1] = '\0';
		hostd_reply_err(h, d->req, VMC_E_FAILED, "%s", msg);
		cJSON_Delete(result);
	}
	log_info("%s of host %s done: %d moved, %d failed", d->undrain ? "undrain" : "drain",
	         h->opts.name, dvm_count(d, DV_MOVED), nfail);
	hostd_req_free(d->req);
	d->req = NULL;
	dvm_free_all(d);
}

/* --- drain ---------------------------------------------------------------------------- */

static int dvm_tried(const struct dvm *v, const char *host)
{
	for (int i = 0; i < v->ntried; i++)
		if (strcmp(v->tried[i], host) == 0)
			return 1;
	return 0;
}

/* The hosts of view a VM of this drain may not go to (one flag each): this one, those
 * that refused v (v may be NULL), and those a migration cannot reach (no migration
 * address, another driver). NULL if out of memory. */
static char *drain_skip(struct drain *d, const struct dvm *v, const struct bal_view *view)
{
	struct migrate *m = d->m;
	char *skip = calloc(view->nhosts ? view->nhosts : 1, 1);
	for (size_t i = 0; skip && i < view->nhosts; i++) {
		const char *name = view->hosts[i].name;
		const struct cm_host *p = cluster_model_host_find(m->h->model, name);
		skip[i] = strcmp(name, m->h->opts.name) == 0 || !p || !p->migrate_addr[0] ||
		          !p->has_summary || (v && dvm_tried(v, name)) ||
		          (p->driver[0] && strcmp(p->driver, m->h->hv->ops->name) != 0);
	}
	return skip;
}

/* The view a drain decides on, in *out: the balancer's, with each host's free memory
 * from the agent's model (its last summary less what migrations towards it hold, this
 * host's in flight included; released at once when one fails). NULL if there is no
 * view or no memory; else out->hosts is the caller's to free. */
static const struct bal_view *drain_view(struct drain *d, const struct rule_settings **s,
                                         struct bal_view *out)
{
	const struct bal_view *view = hostd_balancer_view(d->m->h, s);
	if (!view)
		return NULL;
	*out = *view;
	out->hosts = malloc((view->nhosts ? view->nhosts : 1) * sizeof(*out->hosts));
	if (!out->hosts)
		return NULL;
	if (view->nhosts)
		memcpy(out->hosts, view->hosts, view->nhosts * sizeof(*out->hosts));
	reserve_view_free(d->m->h->resv, d->m->h->model, out->hosts, out->nhosts);
	return out;
}

/* The evacuation plan of this host, made once as the drain starts: each VM it places is
 * sent there. */
static void drain_plan(struct drain *d)
{
	const struct rule_settings *s;
	struct bal_view dv;
	const struct bal_view *view = drain_view(d, &s, &dv);
	d->planned = 1;
	int self = view ? bal_view_find(view, d->m->h->opts.name) : -1;
	char *skip = self >= 0 ? drain_skip(d, NULL, view) : NULL;
	if (!skip) {
		if (view)
			free(dv.hosts);
		return;
	}
	struct bal_plan p;
	bal_plan_evacuate(view, s, (size_t)self, skip, &p);
	for (size_t i = 0; i < p.n; i++) {
		struct dvm *v = dvm_find(d, p.moves[i].vm);
		if (v)
			snprintf(v->plan, sizeof(v->plan), "%s", view->hosts[p.moves[i].to].name);
	}
	bal_plan_free(&p);
	free(skip);
	free(dv.hosts);
}

/* v as a unit of one for the placement: from the view if its host's load lists it,
 * else from the definition's tags. */
static void drain_unit(struct drain *d, const struct dvm *v, const struct bal_view *view, int self,
                       const struct rule_settings *s, struct bal_vm *tmp, struct place_vm *pv)
{
	const struct bal_host *sh = self >= 0 ? &view->hosts[self] : NULL;
	int k = sh ? bal_host_find_vm(sh, v->name) : -1;
	*pv = (struct place_vm){v->name, v->mem_mb, 0, NULL, NULL, 0};
	if (k >= 0) {
		*tmp = sh->vms[k];
		pv->cpu = bal_vm_demand(sh, tmp, s, NULL);
	} else {
		memset(tmp, 0, sizeof(*tmp));
		cJSON *tags = vmstore_tags(d->m->h->store, v->name), *t;
		const char *names[32];
		size_t n = 0;
		cJSON_ArrayForEach(t, tags)
		{
			if (cJSON_IsString(t) && n < sizeof(names) / sizeof(names[0]))
				names[n++] = t->valuestring;
		}
		bal_vm_tags(tmp, names, n);
		cJSON_Delete(tags);
	}
	pv->affinity = tmp->affinity;
	pv->anti = tmp->anti;
	pv->flags = tmp->flags;
}

/* Where v goes: where the plan sends it, unless that host refused it; else where the
 * placement puts it now. NULL with why if nowhere. */
static const char *drain_pick(struct drain *d, struct dvm *v, char *why, size_t whylen)
{
	if (v->plan[0] && !dvm_tried(v, v->plan))
		return v->plan;
	const struct rule_settings *s;
	struct bal_view dv;
	const struct bal_view *view = drain_view(d, &s, &dv);
	if (!view) {
		snprintf(why, whylen, "the host agent has no view of the cluster");
		return NULL;
	}
	int self = bal_view_find(view, d->m->h->opts.name);
	struct bal_vm tmp;
	struct place_vm pv;
	drain_unit(d, v, view, self, s, &tmp, &pv);
	char *skip = drain_skip(d, v, view);
	struct place_opts o = {PLACE_SPREAD, 0, self >= 0 ? (size_t)self : SIZE_MAX, skip};
	struct place_why w = {0};
	int nomem = !skip;
	int at = skip ? place_rank(view, s, &pv, 1, &o, NULL, 0, NULL, &w) : -1;
	free(skip);
	if (at >= 0)
		snprintf(v->plan, sizeof(v->plan), "%s", view->hosts[at].name);
	free(dv.hosts); /* w's strings point into pv and tmp, not the view */
	if (at >= 0)
		return v->plan;
	if (nomem)
		snprintf(why, whylen, "out of memory");
	else if (w.fail == PLACE_PINNED)
		snprintf(why, whylen, "it is pinned (tag pinned): move it by hand");
	else if (w.fail == PLACE_ANTI)
		snprintf(why, whylen,
		         "every host with %lld MiB free runs a VM of its anti-affinity group %s",
		         (long long)v->mem_mb, w.group);
	else if (w.fail == PLACE_AFFINITY)
		snprintf(why, whylen, "no host of its affinity group %s has %lld MiB free", w.group,
		         (long long)v->mem_mb);
	else
		snprintf(why, whylen, "no online host has %lld MiB free", (long long)v->mem_mb);
	return NULL;
}

/* 1 once every other host has published a summary after since (what moved, was released
 * or came back online before then shows in the view), or the drain has waited for that
 * long enough: a VM the view has no room for is refused only then. A host's state can
 * say less than its loads for a moment: a host that announced its standby (night
 * consolidation) and was not powered off is online again at its next load. */
static int drain_view_fresh(struct drain *d, int64_t since, int64_t now)
{
	struct migrate *m = d->m;
	int64_t most = (int64_t)(m->h->opts.interval_s * 1000 * DRAIN_FRESH_INTERVALS);
	if (now - since >= (most > DRAIN_FRESH_MIN_MS ? most : DRAIN_FRESH_MIN_MS))
		return 1;
	for (size_t i = 0; i < cluster_model_host_count(m->h->model); i++) {
		const struct cm_host *p = cluster_model_host_at(m->h->model, i);
		if (strcmp(p->name, m->h->opts.name) != 0 && p->has_summary &&
		    p->state != CM_HOST_OFFLINE && p->summary_ms <= since)
			return 0;
	}
	return 1;
}

/* Logs what the view said of every host when the drain refuses v. */
static void drain_log_view(struct drain *d, const struct dvm *v, const char *why)
{
	const struct rule_settings *s;
	struct bal_view dv;
	const struct bal_view *view = drain_view(d, &s, &dv);
	char line[1024];
	size_t off = 0;
	int64_t now = evloop_mono_ms();
	for (size_t i = 0; view && i < view->nhosts && off < sizeof(line); i++) {
		const struct bal_host *bh = &view->hosts[i];
		const struct cm_host *p = cluster_model_host_find(d->m->h->model, bh->name);
		off += (size_t)snprintf(
		    line + off, sizeof(line) - off,
		    " %s %s, %zu VMs, room %lld MiB, summary %lld ms old;", bh->name,
		    bal_host_state_name(bh->state), bh->nvms, (long long)bal_host_room_mb(bh, s),
		    p && p->has_summary ? (long long)(now - p->summary_ms) : -1LL);
	}
	if (view)
		free(dv.hosts);
	log_info("drain: vm %s (%lld MiB) fits nowhere: %s; the view:%s", v->name,
	         (long long)v->mem_mb, why, off ? line : " no hosts");
}

static void drain_mig_done(struct hostd *h, void *ud, const char *vm, enum vmc_err code,
                           const char *message, cJSON *result)
{
	struct dvm *v = ud;
	struct drain *d = v->d;
	d->fresh_since = evloop_mono_ms(); /* loads from before do not show this end */
	if (code == VMC_OK) {
		v->state = DV_MOVED;
		drain_remember(d, v->name, v->host);
		cJSON_Delete(result);
		return;
	}
	/* the destination said no (memory, maintenance): try another; else try again */
	int refused = code == VMC_E_NO_MEMORY || code == VMC_E_REFUSED || code == VMC_E_EXISTS;
	if (v->ntried < DRAIN_TRIED_MAX && refused)
		snprintf(v->tried[v->ntried++], sizeof(v->tried[0]), "%s", v->host);
	if (++v->attempts >= DRAIN_ATTEMPTS) {
		dvm_fail(v, DV_FAILED, "%s", message);
		return;
	}
	v->state = DV_QUEUED;
	v->not_before = evloop_mono_ms() + 500;
	v->host[0] = '\0';
}

/* Adds the VMs the driver has that the drain does not know yet. Returns how many VMs
 * the driver has, or -1. */
static int drain_scan(struct drain *d)
{
	struct hostd *h = d->m->h;
	struct hv_vm *vms;
	size_t n;
	char err[VMC_ERR_MAX];
	if (hv_list_vms(h->hv, &vms, &n, err, sizeof(err)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!dvm_find(d, vms[i].name))
			dvm_add(d, vms[i].name, vms[i].mem_mb);
	/* VMs that went away by themselves are no longer the drain's business */
	for (struct dvm *v = d->vms; v; v = v->next) {
		size_t j;
		for (j = 0; j < n && strcmp(vms[j].name, v->name) != 0; j++)
			;
		if (j == n && v->state == DV_QUEUED)
			dvm_fail(v, DV_SKIPPED, "it is no longer on this host");
	}
	free(vms);
	return (int)n;
}

/* Starts what the caps allow. */
static void drain_step(struct drain *d)
{
	struct migrate *m = d->m;
	struct hostd *h = m->h;
	int64_t now = evloop_mono_ms();
	char msg[VMC_ERR_MAX * 2];
	if (!d->planned)
		drain_plan(d);
	for (struct dvm *v = d->vms; v; v = v->next) {
		if (v->state != DV_QUEUED || v->not_before > now)
			continue;
		struct mig *g = mig_find_vm(m, v->name);
		if (g && g->done_ud != v)
			continue; /* someone else moves it: wait */
		const char *to = drain_pick(d, v, msg, sizeof(msg));
		if (!to) {
			/* what is moving, or a load not yet seen, may free room: refused once
			 * every host has published a load since it was first found to fit
			 * nowhere (and since our last migration ended) */
			if (!v->nowhere)
				v->nowhere = now;
			int64_t since = v->nowhere > d->fresh_since ? v->nowhere : d->fresh_since;
			if (dvm_count(d, DV_MOVING) == 0 && drain_view_fresh(d, since, now)) {
				drain_log_view(d, v, msg);
				dvm_fail(v, DV_FAILED, "%s", msg);
			}
			continue;
		}
		v->nowhere = 0;
		snprintf(v->host, sizeof(v->host), "%s", to);
		enum vmc_err rc =
		    migrate_start(h, v->name, to, drain_mig_done, v, msg, sizeof(msg));
		if (rc == VMC_OK) {
			v->state = DV_MOVING;
			continue;
		}
		if (rc == VMC_E_BUSY && !strstr(msg, "already migrating"))
			return; /* a cap: wait for a migration to end */
		drain_mig_done(h, v, v->name, rc, msg, NULL);
	}
}

static long drain_tick(struct evloop *loop, long long id, void *ud)
{
	struct drain *d = ud;
	d->timer = 0; /* this one-shot timer has run */
	if (!d->req || d->undrain)
		return -1;
	drain_scan(d);
	drain_step(d);
	if (dvm_count(d, DV_QUEUED) == 0 && dvm_count(d, DV_MOVING) == 0) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "host", d->m->h->opts.name);
		cJSON_AddStringToObject(r, "state", "maintenance");
		cJSON_AddItemToObject(r, "moved", dvm_list(d, DV_MOVED, "to"));
		cJSON_AddItemToObject(r, "failed", dvm_list(d, DV_FAILED, NULL));
		/* stopped VMs are definitions only: they stay defined here */
		cJSON *left = cJSON_AddArrayToObject(r, "stopped");
		char **names;
		size_t n;
		if (vmstore_list(d->m->h->store, &names, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (mig_vm_lookup(d->m->h, names[i], NULL, NULL, 0) == 0)
					cJSON_AddItemToArray(left, cJSON_CreateString(names[i]));
			vmstore_names_free(names, n);
		}
		d->timer = 0;
		drain_finish(d, r);
		return -1;
	}
	d->timer = evloop_add_timer(loop, DRAIN_TICK_MS, drain_tick, d);
	return -1;
}

/* Refuses a drain or undrain while the other (or the same) still runs, saying what. */
static void drain_busy(struct hostd *h, struct drain *d, struct hostd_req *req)
{
	int moving = dvm_count(d, DV_MOVING), queued = dvm_count(d, DV_QUEUED);
	hostd_reply_err(h, req, VMC_E_BUSY,
	                "host %s: %s is still running (%d VM%s moving, %d queued); "
	                "try again once it has answered",
	                h->opts.name, d->undrain ? "an undrain" : "a drain", moving,
	                moving == 1 ? "" : "s", queued);
}

static enum hostd_op_result drain_op_drain(struct hostd *h, struct hostd_req *req)
{
	struct migrate *m = migrate_of(h);
	struct drain *d = m->drain;
	if (d->req) {
		drain_busy(h, d, req);
		return HOSTD_REPLIED;
	}
	if (!chan_ctx_has_key(m->chans)) {
		struct hv_vm *vms;
		size_t n;
		char err[VMC_ERR_MAX];
		if (hv_list_vms(h->hv, &vms, &n, err, sizeof(err)) == 0) {
			free(vms);
			if (n > 0) {
				hostd_reply_err(
				    h, req, VMC_E_REFUSED,
				    "host %s has no cluster key nor channel certificate "
				    "(--cluster-key-file, --channel-cert): it cannot "
				    "migrate its VMs away",
				    h->opts.name);
				return HOSTD_REPLIED;
			}
		}
	}
	d->maintenance = 1;
	h->state = HOSTD_MAINTENANCE;
	drain_save(d);
	hostd_publish_state(h);
	hostd_event(h, "host.maintenance", NULL, NULL);
	log_info("host %s enters maintenance: draining its VMs", h->opts.name);
	d->req = req;
	d->undrain = 0;
	d->planned = 0;
	d->fresh_since = evloop_mono_ms();
	drain_scan(d);
	d->timer = evloop_add_timer(h->loop, 0, drain_tick, d);
	return HOSTD_PENDING;
}

/* --- undrain ---------------------------------------------------------------------------- */

static void undrain_reply(struct hostd *h, void *ud, const cJSON *reply, const char *err)
{
	struct dvm *v = ud;
	if (!reply) {
		dvm_fail(v, DV_FAILED, "host %s: %s", v->host, err);
		return;
	}
	struct reply_outcome o;
	if (reply_read(reply, &o) == REPLY_OK) {
		v->state = DV_MOVED;
		return;
	}
	/* its host's cap, or another migration (the balancer's) moving it: ask again later,
	 * where it is then */
	if (o.code == VMC_E_BUSY && ++v->attempts < UNDRAIN_BUSY_RETRIES) {
		v->state = DV_QUEUED;
		v->not_before = evloop_mono_ms() + 1000;
		return;
	}
	dvm_fail(v, o.code == VMC_E_NO_MEMORY ? DV_SKIPPED : DV_FAILED, "%s",
	         o.message ? o.message : "failed");
}

/* Memory here for VMs on their way: free memory less the in-flight ones not yet here. */
static int64_t undrain_free(struct drain *d)
{
	struct hostd *h = d->m->h;
	struct hv_host hi;
	char err[VMC_ERR_MAX];
	if (hv_host_info(h->hv, &hi, err, sizeof(err)) < 0)
		return -1;
	int64_t free_mb = hi.mem_free_mb;
	for (struct dvm *v = d->vms; v; v = v->next)
		if (v->state == DV_MOVING && mig_vm_lookup(h, v->name, NULL, err, sizeof(err)) == 0)
			free_mb -= v->mem_mb;
	return free_mb;
}

static void undrain_step(struct drain *d)
{
	struct migrate *m = d->m;
	struct hostd *h = m->h;
	int64_t now = evloop_mono_ms();
	for (struct dvm *v = d->vms; v; v = v->next) {
		if (v->state != DV_QUEUED || v->not_before > now)
			continue;
		if (dvm_count(d, DV_MOVING) >= UNDRAIN_IN_FLIGHT)
			return;
		const char *where = cluster_model_rec_host(h->model, v->name, h->opts.name);
		if (!where) {
			if (mig_vm_lookup(h, v->name, NULL, NULL, 0) == 1)
				v->state = DV_MOVED; /* already back */
			else
				dvm_fail(v, DV_SKIPPED, "not found on any host");
			continue;
		}
		snprintf(v->host, sizeof(v->host), "%s", where);
		const struct cm_host *p = cluster_model_host_find(h->model, where);
		for (size_t i = 0; p && i < cluster_model_host_rec_count(p); i++) {
			const struct bal_vm *r = cluster_model_host_rec_vm(p, i);
			if (strcmp(r->name, v->name) == 0)
				v->mem_mb = r->mem_mb;
		}
		if (undrain_free(d) < v->mem_mb) {
			if (dvm_count(d, DV_MOVING) == 0)
				dvm_fail(v, DV_SKIPPED, "host %s has not the %lld MiB it needs",
				         h->opts.name, (long long)v->mem_mb);
			continue;
		}
		cJSON *args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "name", v->name);
		cJSON_AddStringToObject(args, "to", h->opts.name);
		cJSON_AddFalseToObject(args, "hold"); /* coming home is not a manual placement */
		if (hostcall_send(m, where, "vm.migrate", args, UNDRAIN_TIMEOUT_MS, undrain_reply,
		                  v) < 0) {
			v->not_before = now + 1000; /* not connected: later */
			continue;
		}
		v->state = DV_MOVING;
	}
}

static long undrain_tick(struct evloop *loop, long long id, void *ud)
{
	struct drain *d = ud;
	d->timer = 0;
	if (!d->req || !d->undrain)
		return -1;
	undrain_step(d);
	if (dvm_count(d, DV_QUEUED) == 0 && dvm_count(d, DV_MOVING) == 0) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "host", d->m->h->opts.name);
		cJSON_AddStringToObject(r, "state", "online");
		cJSON_AddItemToObject(r, "moved", dvm_list(d, DV_MOVED, "from"));
		cJSON_AddItemToObject(r, "skipped", dvm_list(d, DV_SKIPPED, "host"));
		cJSON_AddItemToObject(r, "failed", dvm_list(d, DV_FAILED, "host"));
		free(d->drained);
		d->drained = NULL;
		d->ndrained = 0;
		drain_save(d);
		d->timer = 0;
		drain_finish(d, r);
		return -1;
	}
	d->timer = evloop_add_timer(loop, DRAIN_TICK_MS, undrain_tick, d);
	return -1;
}

static enum hostd_op_result drain_op_undrain(struct hostd *h, struct hostd_req *req)
{
	struct migrate *m = migrate_of(h);
	struct drain *d = m->drain;
	if (d->req) {
		drain_busy(h, d, req);
		return HOSTD_REPLIED;
	}
	d->maintenance = 0;
	h->state = HOSTD_ONLINE;
	drain_save(d);
	hostd_publish_state(h);
	hostd_publish_load(h);
	hostd_event(h, "host.online", NULL, NULL);
	log_info("host %s leaves maintenance; bringing back %zu VM%s", h->opts.name, d->ndrained,
	         d->ndrained == 1 ? "" : "s");
	d->req = req;
	d->undrain = 1;
	for (size_t i = 0; i < d->ndrained; i++)
		dvm_add(d, d->drained[i].vm, 0);
	d->timer = evloop_add_timer(h->loop, 0, undrain_tick, d);
	return HOSTD_PENDING;
}

const struct hostd_op hostd_drain_ops[] = {
    {"host.drain", drain_op_drain},
    {"host.undrain", drain_op_undrain},
    {NULL, NULL},
};
