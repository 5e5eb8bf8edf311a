/* migrate_dst.c - the destination side of a migration, and the answers to a source
 * that asks how a migration ended (see migrate.h for the handshake).
 *
 * The commit point is the commit record (in-ID.json, stage "commit", written and
 * synced before the driver unpauses the VM): with it, the VM is ours even if we
 * crash a moment later (recovery finishes the commit); without it, a received VM
 * is destroyed and the source resumes its copy. */
#include "migrate.h"

#include "channel.h"
#include "../../../lib/core/workpool.h"

#include "../../../lib/core/evloop.h"
#include "../../../lib/core/log.h"
#include "../../../lib/config/xlcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DST_CONFIG_MAX (64 * 1024)

static void dst_on_ctrl(struct chan *c, const cJSON *msg, void *ud);
static void dst_on_stream_end(struct chan *c, uint64_t bytes, void *ud);
static void dst_on_close(struct chan *c, const char *why, void *ud);
static const struct chan_ops dst_ops = {NULL, dst_on_ctrl, dst_on_stream_end, NULL, dst_on_close};

static const char *ctrl_str(const cJSON *msg, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(msg, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void dst_send(struct chan *c, const char *op, const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "op", op);
	if (code)
		cJSON_AddStringToObject(o, "code", code);
	if (message)
		cJSON_AddStringToObject(o, "message", message);
	chan_send_ctrl(c, o);
	cJSON_Delete(o);
}

/* --- driver calls ------------------------------------------------------------------ */

static void job_recv(void *ud, const volatile int *cancel)
{
	struct mig *g = ud;
	g->job_rc = hv_migrate_recv(g->m->h->hv, g->config, g->sp, g->job_err, sizeof(g->job_err));
	close(g->sp);
}

static void job_dst_commit(void *ud, const volatile int *cancel)
{
	struct mig *g = ud;
	g->job_rc = hv_migrate_dst_commit(g->m->h->hv, g->vm, g->job_err, sizeof(g->job_err));
}

static void job_dst_abort(void *ud, const volatile int *cancel)
{
	struct mig *g = ud;
	struct hv_vm v;
	char err[VMC_ERR_MAX];
	/* only a received, uncommitted copy is ours to destroy */
	if (mig_vm_lookup(g->m->h, g->vm, &v, err, sizeof(err)) == 1 && v.state == HV_VM_INCOMING)
		g->job_rc =
		    hv_migrate_dst_abort(g->m->h->hv, g->vm, g->job_err, sizeof(g->job_err));
}

static void dst_job(struct mig *g, workpool_run_fn *fn, workpool_done_fn *done)
{
	g->job = 1;
	g->job_rc = 0;
	g->job_err[0] = '\0';
	if (workpool_submit(g->m->workers, fn, done, g) < 0) {
		g->job_rc = -1;
		snprintf(g->job_err, sizeof(g->job_err), "cannot start a thread");
		if (g->sp >= 0)
			close(g->sp);
		done(g, 0);
	}
}

/* --- ending ------------------------------------------------------------------------- */

static void dst_abort_done(void *ud, int ran)
{
	struct mig *g = ud;
	struct migrate *m = g->m;
	struct hostd *h = m->h;
	g->job = 0;
	if (g->job_rc < 0)
		log_warnx("vm %s: destroying the received copy: %s", g->vm, g->job_err);
	h->migrations_in--;
	log_warnx("migration %s of vm %s from %s failed at %s: %s", g->id, g->vm, g->peer,
	          g->fail_stage, g->fail_msg);
	if (g->c) {
		dst_send(g->c, "failed", NULL, g->fail_msg);
		chan_close_after(g->c, NULL);
		g->c = NULL;
	}
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "why", g->fail_msg);
	cJSON_AddStringToObject(f, "stage", g->fail_stage);
	mig_event(g, "migration.failed", f);
	mig_free(g);
	hostd_publish_load(h);
}

/* Destroys what was received; the source resumes its copy. */
static void dst_abort(struct mig *g, const char *stage, const char *msg)
{
	if (!g->fail_stage[0]) {
		snprintf(g->fail_stage, sizeof(g->fail_stage), "%s", stage);
		snprintf(g->fail_msg, sizeof(g->fail_msg), "%s", msg);
	}
	if (g->job || g->stage == MD_ABORT || g->stage == MD_COMMIT)
		return; /* the running job comes back to decide */
	g->stage = MD_ABORT;
	dst_job(g, job_dst_abort, dst_abort_done);
}

/* Republishes vm/<vm> one load period after a commit: the source's last records of the
 * VM may reach the broker after ours. */
struct republish {
	struct hostd *h;
	char vm[VMC_NAME_MAX + 1];
};

static long dst_republish(struct evloop *loop, long long id, void *ud)
{
	struct republish *r = ud;
	mig_forget_seen(r->h, r->vm);
	hostd_publish_load(r->h);
	free(r);
	return -1;
}

static void dst_schedule_republish(struct hostd *h, const char *vm)
{
	struct republish *r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->h = h;
	snprintf(r->vm, sizeof(r->vm), "%s", vm);
	evloop_add_timer(h->loop, (long)(h->opts.interval_s * 1000) + 500, dst_republish, r);
}

/* After a commit the connection only waits for the source's bye. */
static void after_on_ctrl(struct chan *c, const cJSON *msg, void *ud)
{
	struct hostd *h = ud;
	const char *op = ctrl_str(msg, "op"), *vm = ctrl_str(msg, "vm");
	if (op && strcmp(op, "bye") == 0 && vm && vmc_name_check(vm, "vm", NULL, 0) == 0) {
		mig_forget_seen(h, vm);
		hostd_publish_load(h);
	}
	chan_close(c);
}
static const struct chan_ops after_ops = {NULL, after_on_ctrl, NULL, NULL, NULL};

static void dst_commit_done(void *ud, int ran)
{
	struct mig *g = ud;
	struct migrate *m = g->m;
	struct hostd *h = m->h;
	char err[VMC_ERR_MAX];
	struct hv_vm v;
	g->job = 0;
	mig_crash_point(m, NULL, "dst-after-dst-commit");
	if (g->job_rc < 0) {
		/* committed already (a repeated call) is fine; anything else is logged: the
		 * decision stands, the record says so */
		if (mig_vm_lookup(h, g->vm, &v, err, sizeof(err)) != 1 || v.state == HV_VM_INCOMING)
			log_error("vm %s: unpausing after the commit failed: %s", g->vm,
			          g->job_err);
	}
	if (vmstore_put(h->store, g->vm, g->config, g->tags, err, sizeof(err)) < 0)
		log_warnx("vm %s: its definition was not stored: %s", g->vm, err);
	mlog_in_put(m, g, "done");
	h->migrations_in--;
	if (g->c) {
		dst_send(g->c, "done", NULL, NULL);
		chan_set_ops(g->c, &after_ops, h);
		g->c = NULL;
	}
	log_info("migration %s: vm %s from %s committed here", g->id, g->vm, g->peer);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "total_ms", (double)(hostd_now(h) - g->t0_virt));
	mig_event(g, "migration.finished", f);
	mig_forget_seen(h, g->vm);
	hostd_publish_load(h);
	dst_schedule_republish(h, g->vm);
	mig_free(g);
}

/* Go: the commit point. */
static void dst_commit(struct mig *g)
{
	if (mlog_in_put(g->m, g, "commit") < 0) {
		dst_abort(g, "commit", "the commit record could not be written");
		return;
	}
	mig_crash_point(g->m, NULL, "dst-after-commit-record");
	g->stage = MD_COMMIT;
	dst_job(g, job_dst_commit, dst_commit_done);
}

static void dst_maybe_ready(struct mig *g)
{
	if (g->stage != MD_RECEIVE || g->job || g->job_rc < 0 || !g->end_seen)
		return;
	if (!g->c) {
		dst_abort(g, "receive", "the connection was lost");
		return;
	}
	g->stage = MD_READY;
	dst_send(g->c, "ready", NULL, NULL);
	mig_crash_point(g->m, g->c, "dst-after-ready");
}

static void dst_recv_done(void *ud, int ran)
{
	struct mig *g = ud;
	g->job = 0;
	g->sp = -1;
	if (g->job_rc < 0) {
		char msg[VMC_ERR_MAX + 32];
		snprintf(msg, sizeof(msg), "receiving: %s", g->job_err);
		dst_abort(g, "receive", msg);
		return;
	}
	if (g->fail_stage[0] || !g->c) {
		dst_abort(g, "receive", g->fail_stage[0] ? g->fail_msg : "the connection was lost");
		return;
	}
	dst_maybe_ready(g);
}

static void dst_on_stream_end(struct chan *c, uint64_t bytes, void *ud)
{
	struct mig *g = ud;
	g->end_seen = 1;
	dst_maybe_ready(g);
}

static void dst_on_ctrl(struct chan *c, const cJSON *msg, void *ud)
{
	struct mig *g = ud;
	const char *op = ctrl_str(msg, "op");
	char text[VMC_ERR_MAX * 2];
	if (op && strcmp(op, "go") == 0 && g->stage == MD_READY) {
		dst_commit(g);
	} else if (op && strcmp(op, "abort") == 0) {
		const char *why = ctrl_str(msg, "message");
		snprintf(text, sizeof(text), "the source gave up: %s", why ? why : "no reason");
		dst_abort(g, "stream", text);
	} else {
		snprintf(text, sizeof(text), "unexpected \"%s\" from %s", op ? op : "?", g->peer);
		dst_abort(g, g->stage == MD_READY ? "commit" : "receive", text);
	}
}

static void dst_on_close(struct chan *c, const char *why, void *ud)
{
	struct mig *g = ud;
	char msg[VMC_ERR_MAX * 2];
	g->c = NULL;
	snprintf(msg, sizeof(msg), "connection from %s: %s", g->peer, why);
	if (g->stage == MD_RECEIVE || g->stage == MD_READY)
		dst_abort(g, g->stage == MD_READY ? "commit" : "receive", msg);
}

/* --- a new migration ----------------------------------------------------------------- */

/* The offer's VM on this host: its config names it, it is not here already (defined,
 * running or arriving), the migration id is new and mem_mb fits. VMC_OK, or a code with
 * msg. */
static enum vmc_err dst_check_here(struct migrate *m, const char *id, const char *vm,
                                   const char *config, double mem_mb, char *msg, size_t msglen)
{
	struct hostd *h = m->h;
	char err[VMC_ERR_MAX];
	struct xlcfg *cfg;
	if (xlcfg_parse(config, "migrate: config", &cfg, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "%s", err);
		return VMC_E_BAD_REQUEST;
	}
	const char *cname = xlcfg_str(cfg, "name");
	int same = cname && strcmp(cname, vm) == 0;
	xlcfg_free(cfg);
	if (!same) {
		snprintf(msg, msglen, "migrate: the config does not name vm %s", vm);
		return VMC_E_BAD_REQUEST;
	}
	char *def = vmstore_get(h->store, vm);
	int defined = def != NULL;
	free(def);
	int found = mig_vm_lookup(h, vm, NULL, err, sizeof(err));
	if (found < 0) {
		snprintf(msg, msglen, "%s", err);
		return VMC_E_FAILED;
	}
	if (defined || found || mig_find_vm(m, vm)) {
		snprintf(msg, msglen, "vm %s already exists on host %s", vm, h->opts.name);
		return VMC_E_EXISTS;
	}
	if (mig_find_id(m, id)) {
		snprintf(msg, msglen, "migration %s is already running", id);
		return VMC_E_EXISTS;
	}
	int64_t free_mb = mig_local_free(m);
	if (free_mb < (int64_t)mem_mb) {
		snprintf(msg, msglen, "vm %s needs %.0f MiB but host %s has %lld MiB free", vm,
		         mem_mb, h->opts.name, (long long)(free_mb > 0 ? free_mb : 0));
		return VMC_E_NO_MEMORY;
	}
	return VMC_OK;
}

/* Checks an offer: its fields, its sender, this host's driver and state, then
 * dst_check_here. VMC_OK, or a code with msg. */
static enum vmc_err dst_check(struct migrate *m, struct chan *c, const cJSON *o, char *msg,
                              size_t msglen)
{
	struct hostd *h = m->h;
	const char *id = ctrl_str(o, "id"), *vm = ctrl_str(o, "vm"), *from = ctrl_str(o, "from"),
	           *to = ctrl_str(o, "to"), *driver = ctrl_str(o, "driver"),
	           *config = ctrl_str(o, "config");
	const cJSON *mem = cJSON_GetObjectItem(o, "mem_mb"), *tags = cJSON_GetObjectItem(o, "tags");
	if (!id || mig_id_check(id) < 0) {
		snprintf(msg, msglen, "migrate: id: expected up to %d of [A-Za-z0-9_.-]",
		         MIG_ID_MAX);
		return VMC_E_BAD_REQUEST;
	}
	if (!vm || vmc_name_check(vm, "migrate: vm", msg, msglen) < 0 || !from ||
	    vmc_name_check(from, "migrate: from", msg, msglen) < 0) {
		if (!vm || !from)
			snprintf(msg, msglen, "migrate: vm and from: expected names");
		return VMC_E_BAD_NAME;
	}
	/* the channel authenticated the peer (with certificates, as the host it names): an
	 * offer speaks only for its sender */
	if (strcmp(from, chan_peer(c)) != 0) {
		snprintf(msg, msglen, "migrate: from %s, but this connection is from host %s", from,
		         chan_peer(c));
		return VMC_E_REFUSED;
	}
	if (!cJSON_IsNumber(mem) || mem->valuedouble < 1 || mem->valuedouble > 4194304 || !config ||
	    strlen(config) > DST_CONFIG_MAX || (tags && !cJSON_IsArray(tags))) {
		snprintf(msg, msglen, "migrate: mem_mb, config or tags missing or out of range");
		return VMC_E_BAD_REQUEST;
	}
	if (to && strcmp(to, h->opts.name) != 0) {
		snprintf(msg, msglen, "this is host %s, not %s", h->opts.name, to);
		return VMC_E_REFUSED;
	}
	if (!driver || strcmp(driver, h->hv->ops->name) != 0) {
		snprintf(msg, msglen, "host %s runs the %s driver, not %s", h->opts.name,
		         h->hv->ops->name, driver ? driver : "an unnamed one");
		return VMC_E_REFUSED;
	}
	if (h->state == HOSTD_MAINTENANCE) {
		snprintf(msg, msglen, "host %s is in maintenance and takes no VMs", h->opts.name);
		return VMC_E_REFUSED;
	}
	return dst_check_here(m, id, vm, config, mem->valuedouble, msg, msglen);
}

static void dst_offer(struct migrate *m, struct chan *c, const cJSON *o)
{
	struct hostd *h = m->h;
	char msg[VMC_ERR_MAX * 2];
	enum vmc_err rc = dst_check(m, c, o, msg, sizeof(msg));
	if (rc != VMC_OK) {
		log_info("migration from %s refused: %s", chan_peer(c), msg);
		dst_send(c, "refuse", vmc_err_code(rc), msg);
		chan_close_after(c, NULL);
		return;
	}
	struct mig *g =
	    mig_new(m, MIG_DST, ctrl_str(o, "id"), ctrl_str(o, "vm"), ctrl_str(o, "from"));
	int sv[2] = {-1, -1};
	if (!g || !(g->config = strdup(ctrl_str(o, "config"))) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		if (g)
			mig_free(g);
		dst_send(c, "refuse", "internal", "out of resources");
		chan_close_after(c, NULL);
		return;
	}
	const cJSON *tags = cJSON_GetObjectItem(o, "tags");
	g->tags = tags ? cJSON_Duplicate(tags, 1) : cJSON_CreateArray();
	g->mem_mb = (int64_t)cJSON_GetObjectItem(o, "mem_mb")->valuedouble;
	g->c = c;
	chan_set_ops(c, &dst_ops, g);
	if (chan_stream_to(c, sv[0]) < 0) {
		close(sv[0]);
		close(sv[1]);
		dst_send(c, "refuse", "internal", "cannot attach the stream");
		chan_close_after(c, NULL);
		g->c = NULL;
		mig_free(g);
		return;
	}
	g->sp = sv[1];
	g->stage = MD_RECEIVE;
	h->migrations_in++;
	log_info("migration %s: receiving vm %s (%lld MiB) from %s", g->id, g->vm,
	         (long long)g->mem_mb, g->peer);
	dst_send(c, "accept", NULL, NULL);
	mig_event(g, "migration.started", NULL);
	dst_job(g, job_recv, dst_recv_done);
}

/* A source asks how migration id ended. */
static void dst_status(struct migrate *m, struct chan *c, const cJSON *o)
{
	const char *id = ctrl_str(o, "id");
	const char *state = "aborted";
	if (!id || mig_id_check(id) < 0) {
		chan_close_after(c, "status: bad migration id");
		return;
	}
	struct mig *g = mig_find_id(m, id);
	if (g && g->role == MIG_DST && strcmp(g->peer, chan_peer(c)) != 0) {
		log_warnx("migration %s: host %s asks how it ended, but it comes from %s", id,
		          chan_peer(c), g->peer);
		chan_close_after(c, "status: not your migration");
		return;
	}
	if (g && g->role == MIG_DST) {
		state = "pending";
		/* the source gave up on the connection it had: nothing will say go there */
		if (g->stage == MD_RECEIVE || g->stage == MD_READY)
			dst_abort(g, g->stage == MD_READY ? "commit" : "receive",
			          "the source lost its connection");
	} else {
		char stage[16];
		mlog_in_stage(m, id, stage, sizeof(stage));
		if (strcmp(stage, "commit") == 0 || strcmp(stage, "done") == 0)
			state = "committed";
	}
	log_info("migration %s: %s asks how it ended: %s", id, chan_peer(c), state);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "op", "status");
	cJSON_AddStringToObject(r, "id", id);
	cJSON_AddStringToObject(r, "state", state);
	chan_send_ctrl(c, r);
	cJSON_Delete(r);
	chan_close_after(c, NULL);
}

/* The first message of an accepted connection says what it is for. */
static void first_on_ctrl(struct chan *c, const cJSON *msg, void *ud)
{
	struct migrate *m = ud;
	const char *op = ctrl_str(msg, "op");
	if (op && strcmp(op, "migrate") == 0)
		dst_offer(m, c, msg);
	else if (op && strcmp(op, "status") == 0)
		dst_status(m, c, msg);
	else
		chan_close_after(c, "expected migrate or status");
}
static const struct chan_ops first_ops = {NULL, first_on_ctrl, NULL, NULL, NULL};

void mig_dst_accept(struct chan *c, void *ud)
{
	chan_set_ops(c, &first_ops, ud);
}
