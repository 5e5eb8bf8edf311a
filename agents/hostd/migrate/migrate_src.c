/* migrate_src.c - the source side of a migration: checks, the connection, the stream
 * from the driver, the commit handshake and the questions of a source in doubt (see
 * migrate.h for the handshake).
 *
 * The source keeps its VM until the destination says it committed: before it sends
 * go it may resume the VM at any failure (the destination cannot commit without
 * go); after go, only the destination's answer - on the same connection or, if that
 * was lost, to a status question asked again until it is answered - decides. */
#include "migrate.h"

#include "channel.h"
#include "../../../lib/core/workpool.h"

#include "../../../lib/core/evloop.h"
#include "../../../lib/core/log.h"
#include "../../../lib/cluster/cluster_model.h"
#include "../../../lib/cluster/reserve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- driver calls on worker threads ----------------------------------------------- */

static void mig_progress(void *ud, uint64_t sent, uint64_t total, int round);

static void job_send(void *ud, const volatile int *cancel)
{
	struct mig *g = ud;
	struct hostd *h = g->m->h;
	g->job_rc = hv_migrate_send(h->hv, g->vm, g->sp, mig_progress, g, &g->st, g->job_err,
	                            sizeof(g->job_err));
	close(g->sp);
}

static void job_src_commit(void *ud, const volatile int *cancel)
{
	struct mig *g = ud;
	g->job_rc = hv_migrate_src_commit(g->m->h->hv, g->vm, g->job_err, sizeof(g->job_err));
}

static void job_src_abort(void *ud, const volatile int *cancel)
{
	struct mig *g = ud;
	g->job_rc = hv_migrate_src_abort(g->m->h->hv, g->vm, g->job_err, sizeof(g->job_err));
}

/* Runs a driver call; done runs in the loop. If no thread starts, done runs now with
 * the failure. */
static void mig_job(struct mig *g, workpool_run_fn *fn, workpool_done_fn *done)
{
	g->job = 1;
	g->job_rc = 0;
	g->job_err[0] = '\0';
	if (workpool_submit(g->m->workers, fn, done, g) < 0) {
		g->job_rc = -1;
		snprintf(g->job_err, sizeof(g->job_err), "cannot start a thread: %s",
		         strerror(errno));
		if (g->sp >= 0)
			close(g->sp); /* the job would have closed it */
		done(g, 0);
	}
}

/* From the sending thread: a progress message, at most every MIG_PROGRESS_MS. */
static void mig_on_progress(void *ud, const void *note, size_t len);

static void mig_progress(void *ud, uint64_t sent, uint64_t total, int round)
{
	struct mig *g = ud;
	int64_t now = evloop_mono_ms();
	if (now - g->last_progress < MIG_PROGRESS_MS && round == g->prog_round)
		return;
	g->last_progress = now;
	g->prog_round = round;
	const uint64_t v[3] = {sent, total, (uint64_t)round};
	workpool_post(g->m->workers, mig_on_progress, g, v, sizeof(v));
}

static void mig_on_progress(void *ud, const void *note, size_t len)
{
	struct mig *g = ud;
	const uint64_t *v = note; /* sent, total, round */
	g->prog_bytes = v[0];
	g->prog_total = v[1];
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "bytes", (double)v[0]);
	cJSON_AddNumberToObject(f, "total", (double)v[1]);
	cJSON_AddNumberToObject(f, "percent",
	                        v[1] ? (double)(int)(100.0 * (double)v[0] / (double)v[1]) : 0);
	cJSON_AddNumberToObject(f, "round", (double)v[2]);
	mig_event(g, "migration.progress", f);
}

/* --- the source's end ----------------------------------------------------------------- */

static void src_on_ready(struct chan *c, void *ud);
static void src_on_ctrl(struct chan *c, const cJSON *msg, void *ud);
static void src_on_eof(struct chan *c, void *ud);
static void src_on_close(struct chan *c, const char *why, void *ud);
static const struct chan_ops src_ops = {src_on_ready, src_on_ctrl, NULL, src_on_eof, src_on_close};
static void src_doubt(struct mig *g, const char *why);

static const char *src_stage_name(enum mig_stage s)
{
	static const char *const names[] = {
	    [MS_CONNECT] = "connect", [MS_OFFER] = "offer",   [MS_STREAM] = "stream",
	    [MS_READY] = "receive",   [MS_COMMIT] = "commit", [MS_DOUBT] = "commit",
	    [MS_FINISH] = "commit",   [MS_ABORT] = "abort",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "?";
}

/* Ends a migration that failed, once our copy runs (or never stopped). */
static void src_failed(struct mig *g)
{
	struct migrate *m = g->m;
	struct hostd *h = m->h;
	log_warnx("migration %s of vm %s to %s failed at %s: %s", g->id, g->vm, g->peer,
	          g->fail_stage, g->fail_msg);
	if (g->c)
		chan_close(g->c);
	g->c = NULL;
	h->migrations_out--;
	reserve_hold_end(h->resv, g->id, 0, evloop_mono_ms());
	mlog_out_del(m, g->vm);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "why", g->fail_msg);
	cJSON_AddStringToObject(f, "stage", g->fail_stage);
	mig_event(g, "migration.failed", f);
	hostd_publish_load(h);
	mig_done_fn *done = g->done;
	void *ud = g->done_ud;
	char vm[VMC_NAME_MAX + 1], msg[sizeof(g->fail_msg)];
	enum vmc_err code = g->fail_code;
	snprintf(vm, sizeof(vm), "%s", g->vm);
	snprintf(msg, sizeof(msg), "%s", g->fail_msg);
	mig_free(g);
	if (done)
		done(h, ud, vm, code, msg, NULL);
}

static void src_set_failure(struct mig *g, enum vmc_err code, const char *stage, const char *msg)
{
	if (g->fail_stage[0])
		return; /* the first reason is the one that counts */
	g->fail_code = code;
	snprintf(g->fail_stage, sizeof(g->fail_stage), "%s", stage);
	snprintf(g->fail_msg, sizeof(g->fail_msg), "%s", msg);
}

static void src_abort_done(void *ud, int ran)
{
	struct mig *g = ud;
	g->job = 0;
	if (g->job_rc < 0)
		log_warnx("vm %s: resuming after a failed migration: %s", g->vm, g->job_err);
	src_failed(g);
}

/* The destination will never commit: resume our copy (if suspended), then fail. */
static void src_resume(struct mig *g, enum vmc_err code, const char *stage, const char *msg)
{
	src_set_failure(g, code, stage, msg);
	if (g->c)
		chan_close(g->c);
	g->c = NULL;
	if (g->job)
		return; /* the send job ends soon (its socket is closed) and comes back here */
	g->stage = MS_ABORT;
	mig_job(g, job_src_abort, src_abort_done);
}

static void src_commit_done(void *ud, int ran)
{
	struct mig *g = ud;
	struct migrate *m = g->m;
	struct hostd *h = m->h;
	g->job = 0;
	if (g->job_rc < 0)
		log_warnx("vm %s: destroying the source copy: %s", g->vm, g->job_err);
	mig_crash_point(m, NULL, "src-after-src-commit");
	vmstore_remove(h->store, g->vm);
	mlog_out_del(m, g->vm);
	/* its record is the destination's now (host/<to>/vm/<vm>): ours is cleared at once,
	 * or peers that build their view from the records would see it on both hosts */
	hostd_publish_vm_gone(h, g->vm);
	mig_forget_seen(h, g->vm);
	h->migrations_out--;
	reserve_hold_end(h->resv, g->id, 1, evloop_mono_ms());
	int64_t total_ms = hostd_now(h) - g->t0_virt;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "vm", g->vm);
	cJSON_AddStringToObject(r, "from", h->opts.name);
	cJSON_AddStringToObject(r, "to", g->peer);
	cJSON_AddStringToObject(r, "id", g->id);
	cJSON_AddNumberToObject(r, "total_ms", (double)total_ms);
	cJSON_AddNumberToObject(r, "downtime_ms", (double)g->st.downtime_ms);
	cJSON_AddNumberToObject(r, "bytes", (double)g->st.bytes);
	cJSON_AddNumberToObject(r, "wire_bytes", g->c ? (double)chan_stream_bytes(g->c) : 0);
	cJSON_AddNumberToObject(r, "rounds", g->st.rounds);
	if (g->c) {
		cJSON *bye = cJSON_CreateObject();
		cJSON_AddStringToObject(bye, "op", "bye");
		cJSON_AddStringToObject(bye, "vm", g->vm);
		chan_send_ctrl(g->c, bye);
		cJSON_Delete(bye);
		chan_close_after(g->c, NULL);
		g->c = NULL;
	}
	log_info("migration %s: vm %s moved to %s in %lld ms (downtime %lld ms, %.0f MiB)", g->id,
	         g->vm, g->peer, (long long)total_ms, (long long)g->st.downtime_ms,
	         (double)g->st.bytes / 1048576.0);
	cJSON *f = cJSON_Duplicate(r, 1);
	cJSON_DeleteItemFromObject(f, "vm");
	cJSON_DeleteItemFromObject(f, "from");
	cJSON_DeleteItemFromObject(f, "to");
	cJSON_DeleteItemFromObject(f, "id");
	mig_event(g, "migration.finished", f);
	hostd_publish_load(h);
	mig_done_fn *done = g->done;
	void *ud2 = g->done_ud;
	char vm[VMC_NAME_MAX + 1];
	snprintf(vm, sizeof(vm), "%s", g->vm);
	mig_free(g);
	if (done)
		done(h, ud2, vm, VMC_OK, NULL, r);
	else
		cJSON_Delete(r);
}

/* The destination committed: destroy our copy. */
static void src_finish(struct mig *g)
{
	mig_crash_point(g->m, NULL, "src-after-done");
	g->stage = MS_FINISH;
	mlog_out_put(g->m, g, "commit");
	mig_job(g, job_src_commit, src_commit_done);
}

static void src_go(struct mig *g)
{
	cJSON *go = cJSON_CreateObject();
	cJSON_AddStringToObject(go, "op", "go");
	cJSON_AddStringToObject(go, "id", g->id);
	g->stage = MS_COMMIT; /* from here on only the destination's word decides */
	g->go_sent = 1;
	mig_crash_point(g->m, NULL, "src-before-go");
	struct chan *c = g->c;
	if (chan_send_ctrl(c, go) < 0 && g->stage == MS_COMMIT)
		src_doubt(g, "cannot send go");
	cJSON_Delete(go);
	if (g->stage == MS_COMMIT)
		mig_crash_point(g->m, g->c, "src-after-go");
}

static void src_maybe_end(struct mig *g)
{
	if (g->stage != MS_STREAM || g->job || g->job_rc < 0 || !g->src_eof || !g->c)
		return;
	g->stage = MS_READY;
	chan_stream_end(g->c);
}

static void src_send_done(void *ud, int ran)
{
	struct mig *g = ud;
	g->job = 0;
	g->sp = -1; /* closed by the job */
	if (g->fail_stage[0]) {
		/* something else failed while the stream ran */
		src_resume(g, g->fail_code, g->fail_stage, g->fail_msg);
		return;
	}
	if (g->job_rc < 0) {
		if (g->c) {
			cJSON *a = cJSON_CreateObject();
			cJSON_AddStringToObject(a, "op", "abort");
			cJSON_AddStringToObject(a, "message", g->job_err);
			chan_send_ctrl(g->c, a);
			cJSON_Delete(a);
			chan_close_after(g->c, NULL);
			g->c = NULL;
		}
		char msg[VMC_ERR_MAX + 32];
		snprintf(msg, sizeof(msg), "stream: %s", g->job_err);
		src_resume(g, VMC_E_FAILED, "stream", msg);
		return;
	}
	if (!g->c) {
		src_resume(g, VMC_E_FAILED, "stream", "the connection was lost during the stream");
		return;
	}
	src_maybe_end(g);
}

/* The destination accepted: stream. */
static void src_stream(struct mig *g)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		src_resume(g, VMC_E_INTERNAL, "stream", "socketpair failed");
		return;
	}
	if (chan_stream_from(g->c, sv[0]) < 0) {
		close(sv[0]);
		close(sv[1]);
		src_resume(g, VMC_E_INTERNAL, "stream", "cannot attach the stream");
		return;
	}
	g->sp = sv[1];
	g->stage = MS_STREAM;
	/* written before the driver may suspend the VM: recovery needs it from then on */
	if (mlog_out_put(g->m, g, "send") < 0) {
		src_resume(g, VMC_E_INTERNAL, "stream", "cannot record the migration");
		return;
	}
	mig_event(g, "migration.started", NULL);
	mig_job(g, job_send, src_send_done);
}

static void src_send_offer(struct mig *g)
{
	struct hostd *h = g->m->h;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "op", "migrate");
	cJSON_AddStringToObject(o, "id", g->id);
	cJSON_AddStringToObject(o, "vm", g->vm);
	cJSON_AddStringToObject(o, "from", h->opts.name);
	cJSON_AddStringToObject(o, "to", g->peer);
	cJSON_AddStringToObject(o, "driver", h->hv->ops->name);
	cJSON_AddNumberToObject(o, "mem_mb", (double)g->mem_mb);
	cJSON_AddStringToObject(o, "config", g->config);
	cJSON_AddItemToObject(o, "tags", cJSON_Duplicate(g->tags, 1));
	g->stage = MS_OFFER;
	chan_send_ctrl(g->c, o);
	cJSON_Delete(o);
}

static void src_on_ready(struct chan *c, void *ud)
{
	struct mig *g = ud;
	if (strcmp(chan_peer(c), g->peer) != 0) {
		char msg[300];
		snprintf(msg, sizeof(msg), "the migration address of %s answers as %s", g->peer,
		         chan_peer(c));
		chan_close(c);
		g->c = NULL;
		if (g->stage == MS_DOUBT) {
			src_doubt(g, msg);
			return;
		}
		src_set_failure(g, VMC_E_FAILED, "connect", msg);
		src_failed(g);
		return;
	}
	if (g->stage == MS_DOUBT) {
		cJSON *q = cJSON_CreateObject();
		cJSON_AddStringToObject(q, "op", "status");
		cJSON_AddStringToObject(q, "id", g->id);
		cJSON_AddStringToObject(q, "vm", g->vm);
		chan_send_ctrl(c, q);
		cJSON_Delete(q);
		return;
	}
	src_send_offer(g);
}

static const char *ctrl_str(const cJSON *msg, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItem(msg, k);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* A source in doubt got the destination's answer. */
static void src_on_status(struct mig *g, const cJSON *msg)
{
	const char *state = ctrl_str(msg, "state", "");
	if (g->c)
		chan_close(g->c);
	g->c = NULL;
	if (strcmp(state, "committed") == 0) {
		log_info("migration %s: %s says it committed vm %s", g->id, g->peer, g->vm);
		src_finish(g);
	} else if (strcmp(state, "aborted") == 0) {
		log_info("migration %s: %s says it aborted: vm %s resumes here", g->id, g->peer,
		         g->vm);
		src_resume(g, VMC_E_FAILED, "commit", "the destination did not commit");
	} else {
		src_doubt(g, "the destination is still deciding");
	}
}

static void src_on_ctrl(struct chan *c, const cJSON *msg, void *ud)
{
	struct mig *g = ud;
	const char *op = ctrl_str(msg, "op", "");
	char text[VMC_ERR_MAX * 2];
	snprintf(text, sizeof(text), "host %s: %s", g->peer, ctrl_str(msg, "message", op));
	if (g->stage == MS_DOUBT && strcmp(op, "status") == 0) {
		src_on_status(g, msg);
	} else if (g->stage == MS_OFFER && strcmp(op, "accept") == 0) {
		src_stream(g);
	} else if (g->stage == MS_OFFER && strcmp(op, "refuse") == 0) {
		chan_close(c);
		g->c = NULL;
		src_set_failure(g, vmc_err_parse(ctrl_str(msg, "code", "refused")), "offer", text);
		src_failed(g);
	} else if (g->stage == MS_READY && strcmp(op, "ready") == 0) {
		src_go(g);
	} else if ((g->stage == MS_STREAM || g->stage == MS_READY) && strcmp(op, "failed") == 0) {
		src_resume(g, VMC_E_FAILED, "receive", text);
	} else if (g->stage == MS_COMMIT && strcmp(op, "done") == 0) {
		src_finish(g);
	} else if (g->stage == MS_COMMIT && strcmp(op, "failed") == 0) {
		/* it says it will not commit */
		src_resume(g, VMC_E_FAILED, "commit", text);
	} else if (g->stage == MS_COMMIT) {
		src_doubt(g, "unexpected answer to go");
	} else if (g->stage < MS_COMMIT) {
		snprintf(text, sizeof(text), "host %s sent \"%s\" during the %s stage", g->peer, op,
		         src_stage_name(g->stage));
		src_resume(g, VMC_E_FAILED, src_stage_name(g->stage), text);
	}
}

static void src_on_eof(struct chan *c, void *ud)
{
	struct mig *g = ud;
	g->src_eof = 1;
	src_maybe_end(g);
}

static void src_on_close(struct chan *c, const char *why, void *ud)
{
	struct mig *g = ud;
	char msg[VMC_ERR_MAX * 2];
	g->c = NULL;
	snprintf(msg, sizeof(msg), "connection to %s: %s", g->peer, why);
	switch (g->stage) {
	case MS_CONNECT:
	case MS_OFFER:
		src_set_failure(g, VMC_E_FAILED, src_stage_name(g->stage), msg);
		src_failed(g);
		break;
	case MS_STREAM:
	case MS_READY:
		src_resume(g, VMC_E_FAILED, src_stage_name(g->stage), msg);
		break;
	case MS_COMMIT:
	case MS_DOUBT:
		src_doubt(g, msg);
		break;
	default:
		break;
	}
}

static long src_doubt_tick(struct evloop *loop, long long id, void *ud)
{
	struct mig *g = ud;
	struct migrate *m = g->m;
	char err[VMC_ERR_MAX];
	g->timer = 0;
	const struct cm_host *p = cluster_model_host_find(m->h->model, g->peer);
	if (!p || !p->migrate_addr[0] || p->state == CM_HOST_OFFLINE) {
		g->timer = evloop_add_timer(loop, MIG_RETRY_MS, src_doubt_tick, g);
		return -1;
	}
	g->c = chan_connect(m->chans, p->migrate_addr, &src_ops, g, err, sizeof(err));
	if (!g->c)
		g->timer = evloop_add_timer(loop, MIG_RETRY_MS, src_doubt_tick, g);
	return -1;
}

/* Go was sent but no answer came: ask until the destination says. */
static void src_doubt(struct mig *g, const char *why)
{
	if (g->stage != MS_DOUBT)
		log_warnx("migration %s of vm %s: %s; asking %s whether it committed (the vm "
		          "stays suspended here until it answers)",
		          g->id, g->vm, why, g->peer);
	g->stage = MS_DOUBT;
	if (g->c)
		chan_close(g->c);
	g->c = NULL;
	if (!g->timer)
		g->timer = evloop_add_timer(g->m->h->loop, MIG_RETRY_MS, src_doubt_tick, g);
}

void mig_src_recover(struct migrate *m, const char *vm, const char *id, const char *to)
{
	struct mig *g = mig_new(m, MIG_SRC, id, vm, to);
	if (!g)
		return;
	struct hv_vm v;
	char err[VMC_ERR_MAX];
	if (mig_vm_lookup(m->h, vm, &v, err, sizeof(err)) == 1)
		g->mem_mb = v.mem_mb;
	g->go_sent = 1;
	m->h->migrations_out++;
	g->stage = MS_DOUBT;
	g->timer = evloop_add_timer(m->h->loop, 0, src_doubt_tick, g);
	log_info("migration %s of vm %s to %s was cut short: asking %s how it ended", id, vm, to,
	         to);
}

/* --- starting a migration ------------------------------------------------------------ */

/* Checks the destination from what it published. VMC_OK or an error with msg. */
static enum vmc_err src_check_peer(struct migrate *m, const char *vm, int64_t mem_mb,
                                   const char *to, char *msg, size_t msglen)
{
	const struct cm_host *p = cluster_model_host_find(m->h->model, to);
	if (!p || p->state == CM_HOST_UNKNOWN) {
		snprintf(msg, msglen, "host %s is not known (it has published no state)", to);
		return VMC_E_NOT_FOUND;
	}
	if (p->state == CM_HOST_OFFLINE) {
		snprintf(msg, msglen, "host %s is offline", to);
		return VMC_E_REFUSED;
	}
	if (p->state == CM_HOST_MAINTENANCE) {
		snprintf(msg, msglen, "host %s is in maintenance and takes no VMs", to);
		return VMC_E_REFUSED;
	}
	if (!p->migrate_addr[0]) {
		snprintf(msg, msglen,
		         "host %s publishes no migration address (it has no cluster key or channel "
		         "certificate)",
		         to);
		return VMC_E_REFUSED;
	}
	if (p->driver[0] && strcmp(p->driver, m->h->hv->ops->name) != 0) {
		snprintf(msg, msglen, "host %s runs the %s driver, this host %s", to, p->driver,
		         m->h->hv->ops->name);
		return VMC_E_REFUSED;
	}
	int64_t free_mb = reserve_free_mb(m->h->resv, m->h->model, to);
	if (free_mb < 0) {
		snprintf(msg, msglen, "host %s has published no summary yet", to);
		return VMC_E_REFUSED;
	}
	if (free_mb < mem_mb) {
		snprintf(msg, msglen, "vm %s needs %lld MiB but host %s has %lld MiB free", vm,
		         (long long)mem_mb, to, (long long)(free_mb > 0 ? free_mb : 0));
		return VMC_E_NO_MEMORY;
	}
	return VMC_OK;
}

/* Checks the caps. VMC_OK or VMC_E_BUSY with msg. */
static enum vmc_err src_check_caps(struct migrate *m, char *msg, size_t msglen)
{
	struct hostd *h = m->h;
	int out = mig_count(m, MIG_SRC);
	if (m->max_out > 0 && out >= m->max_out) {
		snprintf(msg, msglen,
		         "host %s already runs %d outgoing migration%s (the cap is %d)",
		         h->opts.name, out, out == 1 ? "" : "s", m->max_out);
		return VMC_E_BUSY;
	}
	/* other hosts' counts from summaries of the last three intervals (at least 10 s) */
	int64_t ttl = (int64_t)(h->opts.interval_s * 3000);
	int cluster = cluster_model_migrations_out(h->model, h->opts.name, evloop_mono_ms(),
	                                           ttl > 10000 ? ttl : 10000) +
	              out;
	if (m->max_cluster > 0 && cluster >= m->max_cluster) {
		snprintf(msg, msglen, "the cluster already runs %d migrations (the cap is %d)",
		         cluster, m->max_cluster);
		return VMC_E_BUSY;
	}
	return VMC_OK;
}

/* Checks the VM. VMC_OK (v filled) or an error. */
static enum vmc_err src_check_vm(struct migrate *m, const char *vm, struct hv_vm *v, char *msg,
                                 size_t msglen)
{
	struct hostd *h = m->h;
	char err[VMC_ERR_MAX];
	int found = mig_vm_lookup(h, vm, v, err, sizeof(err));
	if (found < 0) {
		snprintf(msg, msglen, "%s", err);
		return VMC_E_FAILED;
	}
	if (!found) {
		char *def = vmstore_get(h->store, vm);
		int stopped = def != NULL;
		free(def);
		snprintf(msg, msglen,
		         stopped ? "vm %s is stopped; only running or paused VMs migrate"
		                 : "vm %s not found on host %s",
		         vm, h->opts.name);
		return stopped ? VMC_E_BAD_STATE : VMC_E_NOT_FOUND;
	}
	if (mig_find_vm(m, vm) || v->state == HV_VM_INCOMING || v->state == HV_VM_OUTGOING) {
		snprintf(msg, msglen, "vm %s is already migrating", vm);
		return VMC_E_BUSY;
	}
	if (v->state != HV_VM_RUNNING && v->state != HV_VM_PAUSED) {
		snprintf(msg, msglen, "vm %s is %s; only running or paused VMs migrate", vm,
		         hv_vm_state_name(v->state));
		return VMC_E_BAD_STATE;
	}
	return VMC_OK;
}

enum vmc_err migrate_start(struct hostd *h, const char *vm, const char *to, mig_done_fn *done,
                           void *ud, char *msg, size_t msglen)
{
	struct migrate *m = migrate_of(h);
	struct hv_vm v;
	enum vmc_err rc;
	if (!chan_ctx_has_key(m->chans)) {
		snprintf(msg, msglen,
		         "host %s has no cluster key nor channel certificate (--cluster-key-file, "
		         "--channel-cert): it cannot migrate",
		         h->opts.name);
		return VMC_E_REFUSED;
	}
	if (strcmp(to, h->opts.name) == 0) {
		snprintf(msg, msglen, "vm %s is already on host %s: a migration needs another host",
		         vm, to);
		return VMC_E_BAD_REQUEST;
	}
	const char *busy = hostd_vm_busy(h, vm);
	if (busy) {
		snprintf(msg, msglen, "vm %s is busy: %s is still running", vm, busy);
		return VMC_E_BUSY;
	}
	if ((rc = src_check_vm(m, vm, &v, msg, msglen)) != VMC_OK ||
	    (rc = src_check_peer(m, vm, v.mem_mb, to, msg, msglen)) != VMC_OK ||
	    (rc = src_check_caps(m, msg, msglen)) != VMC_OK)
		return rc;
	char id[MIG_ID_MAX + 1], err[VMC_ERR_MAX];
	snprintf(id, sizeof(id), "%s.%lld.%lu", h->opts.name, (long long)h->session, ++m->next_id);
	char *config = vmstore_get(h->store, vm);
	if (!config && hv_vm_config(h->hv, vm, &config, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "vm %s: no definition to send: %s", vm, err);
		return VMC_E_FAILED;
	}
	struct mig *g = mig_new(m, MIG_SRC, id, vm, to);
	if (!g) {
		free(config);
		snprintf(msg, msglen, "out of memory");
		return VMC_E_INTERNAL;
	}
	g->config = config;
	g->tags = vmstore_tags(h->store, vm);
	g->mem_mb = v.mem_mb;
	g->done = done;
	g->done_ud = ud;
	const struct cm_host *p = cluster_model_host_find(h->model, to);
	g->c = chan_connect(m->chans, p->migrate_addr, &src_ops, g, err, sizeof(err));
	if (!g->c) {
		mig_free(g);
		snprintf(msg, msglen, "host %s: %s", to, err);
		return VMC_E_FAILED;
	}
	reserve_hold(h->resv, h->model, to, id, v.mem_mb);
	h->migrations_out++;
	g->stage = MS_CONNECT;
	log_info("migration %s: vm %s (%lld MiB) to %s at %s", id, vm, (long long)v.mem_mb, to,
	         p->migrate_addr);
	return VMC_OK;
}

