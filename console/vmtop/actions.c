/* actions.c - commands the console sends over the bus (migrate, drain, undrain,
 * shutdown, destroy, create, the plan's dry run), each with its own id; replies come
 * back on our reply topic through the same poll loop, or a timer says none came. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/bus/bus.h"
#include "../../lib/bus/reply.h"
#include "../../lib/core/evloop.h"
#include "../../lib/bus/reqreply.h"
#include "../../lib/bus/reqreply_timer.h"
#include "../../lib/bus/topic.h"
#include "app.h"

struct waiting {
	char label[160];
	actions_done_fn *done;
	void *ud;
	double timeout_s;
	struct actions *a;
};

struct actions {
	struct vmtop *t;
	struct reqreply *rr;
	struct reqreply_timer *timer;
};

struct actions *actions_new(struct vmtop *t)
{
	struct actions *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->t = t;
	a->rr = reqreply_new();
	a->timer = a->rr ? reqreply_timer_new(a->rr, t->loop) : NULL;
	if (!a->timer) {
		reqreply_free(a->rr);
		free(a);
		return NULL;
	}
	return a;
}

void actions_free(struct actions *a)
{
	if (!a)
		return;
	reqreply_timer_free(a->timer);
	reqreply_free(a->rr); /* the screen is gone: each waiting command's ud is freed */
	free(a);
}

size_t actions_pending(const struct actions *a)
{
	return reqreply_pending(a->rr);
}

/* The reply's outcome for done: ok and its result, or the error's code and message. */
static void waiting_replied(const struct waiting *w, const cJSON *m)
{
	struct reply_outcome o;
	enum reply_kind k = reply_read(m, &o);
	if (k == REPLY_MALFORMED)
		w->done(w->a->t, w->label, 0, NULL, "bad_json", o.bad, w->ud);
	else
		w->done(w->a->t, w->label, k == REPLY_OK, o.result,
		        o.code_text ? o.code_text : "internal",
		        o.message ? o.message : "the reply has no error message", w->ud);
}

/* The one end of a command: its reply, a timeout, or cancelled (the console stopping, or
 * the command not sent): then only its ud is freed, as done would have. */
static void waiting_end(void *ud, const char *id, enum reqreply_end end, const cJSON *reply)
{
	struct waiting *w = ud;
	char msg[128];
	if (end == REQREPLY_REPLIED) {
		waiting_replied(w, reply);
	} else if (end == REQREPLY_TIMED_OUT) {
		snprintf(msg, sizeof(msg), "no reply within %g s", w->timeout_s);
		w->done(w->a->t, w->label, 0, NULL, "timeout", msg, w->ud);
	} else {
		free(w->ud);
	}
	free(w);
}

int actions_send(struct actions *a, const char *target, const char *op, cJSON *args,
                 double timeout_s, const char *label, actions_done_fn *done, void *ud, char *err,
                 size_t errlen)
{
	struct vmtop *t = a->t;
	char topic[VMC_TOPIC_MAX], id[VMC_ID_MAX + 1];
	if (!bus_connected(t->bus)) {
		snprintf(err, errlen, "%s: not connected to the broker", label);
		cJSON_Delete(args);
		return -1;
	}
	if (topic_fmt(topic, sizeof(topic), t->o.cluster, "%s", target) < 0) {
		snprintf(err, errlen, "%s: topic for %s is too long", label, target);
		cJSON_Delete(args);
		return -1;
	}
	struct waiting *w = calloc(1, sizeof(*w));
	snprintf(id, sizeof(id), "%s-%lu", t->client_id, reqreply_seq(a->rr));
	double wait_s = timeout_s > 0 ? timeout_s : t->o.timeout_s;
	if (!w || reqreply_add(a->rr, id, evloop_mono_ms() + (int64_t)(wait_s * 1000), waiting_end,
	                       w) < 0) {
		free(w);
		cJSON_Delete(args);
		snprintf(err, errlen, "%s: out of memory", label);
		return -1;
	}
	snprintf(w->label, sizeof(w->label), "%s", label);
	w->timeout_s = wait_s;
	w->a = a;
	cJSON *cmd = cmd_build(t->sender, evloop_wall_ms(), id, op, args, t->reply_topic);
	int rc = bus_publish_request(t->bus, topic, cmd, t->reply_topic, id, strlen(id));
	cJSON_Delete(cmd);
	if (rc < 0) {
		snprintf(err, errlen, "%s: could not publish to %s", label, topic);
		reqreply_cancel(a->rr, id); /* frees w; ud stays the caller's: not set yet */
		return -1;
	}
	w->done = done;
	w->ud = ud;
	return 0;
}

int actions_on_reply(struct actions *a, const void *payload, size_t len)
{
	cJSON *m = NULL;
	char err[VMC_ERR_MAX];
	if (msg_parse(payload, len, &m, err, sizeof(err)) != VMC_OK)
		return 0;
	/* a late reply to a command that timed out, or not ours: ignored */
	int delivered = reqreply_reply(a->rr, m) == REQREPLY_DELIVERED;
	cJSON_Delete(m);
	return delivered;
}

/* --- the console's actions ------------------------------------------------------- */

struct about {
	char host[VMC_NAME_MAX + 1];
	char vm[VMC_NAME_MAX + 1];
	char op[32];
};

static void action_done(struct vmtop *t, const char *label, int ok, const cJSON *result,
                        const char *code, const char *message, void *ud)
{
	struct about *ab = ud;
	char text[CM_EVENT_TEXT_MAX];
	if (ok)
		snprintf(text, sizeof(text), "%s: ok", label);
	else
		snprintf(text, sizeof(text), "%s: %s: %s", label, code, message);
	ui_result(&t->ui, !ok, text);
	cluster_model_note(t->model, evloop_wall_ms(), ok ? "command.ok" : "command.failed",
	                   ab ? ab->host : "", ab ? ab->vm : "", text);
	free(ab);
	t->redraw = 1;
}

static const char *verb_of(const char *op, double *timeout_s, double dflt);

/* Sends one command of the console's; returns 0 or -1 (the status line says why). */
static int action_send(struct vmtop *t, const char *host, const char *vm, const char *op,
                       cJSON *args, const char *label)
{
	char target[VMC_TOPIC_MAX], err[256];
	struct about *ab = calloc(1, sizeof(*ab));
	if (!ab) {
		cJSON_Delete(args);
		return -1;
	}
	snprintf(ab->host, sizeof(ab->host), "%s", host ? host : "");
	snprintf(ab->vm, sizeof(ab->vm), "%s", vm ? vm : "");
	snprintf(ab->op, sizeof(ab->op), "%s", op);
	if (host)
		snprintf(target, sizeof(target), "cmd/host/%s", host);
	else
		snprintf(target, sizeof(target), "cmd/confd");
	double timeout_s;
	verb_of(op, &timeout_s, t->o.timeout_s);
	if (actions_send(t->act, target, op, args, timeout_s, label, action_done, ab, err,
	                 sizeof(err)) < 0) {
		free(ab);
		ui_status(&t->ui, 1, "%s", err);
		return -1;
	}
	return 0;
}

/* The agents answer migrations, drains and creations when they are done: those wait
 * at least LONG_TIMEOUT_S for their reply. */
#define LONG_TIMEOUT_S 600

static const struct {
	const char *op;
	const char *verb;
	int long_running;
} verbs[] = {
    {"vm.migrate", "migrate", 1}, {"vm.shutdown", "shut down", 0}, {"vm.destroy", "destroy", 0},
    {"host.drain", "drain", 1},   {"host.undrain", "undrain", 1},  {"vm.create", "create", 1},
    {"vm.start", "start", 1},     {"vm.pause", "pause", 0},        {"vm.unpause", "unpause", 0},
};

static const char *verb_of(const char *op, double *timeout_s, double dflt)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].op, op)) {
			*timeout_s =
			    verbs[i].long_running && dflt < LONG_TIMEOUT_S ? LONG_TIMEOUT_S : dflt;
			return verbs[i].verb;
		}
	*timeout_s = dflt;
	return op;
}

void actions_run(struct vmtop *t, const struct pending *p)
{
	char label[160];
	int sent = 0, failed = 0;
	double timeout_s;
	const char *verb = verb_of(p->op, &timeout_s, t->o.timeout_s);
	if (!strncmp(p->op, "host.", 5)) {
		snprintf(label, sizeof(label), "%s %s", verb, p->host);
		sent = action_send(t, p->host, NULL, p->op, cJSON_CreateObject(), label) == 0;
	} else if (!strcmp(p->op, "vm.create")) {
		cJSON *args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "name", p->name);
		cJSON_AddStringToObject(args, "template", p->template);
		snprintf(label, sizeof(label), "create %s from %s", p->name, p->template);
		sent = action_send(t, NULL, p->name, p->op, args, label) == 0;
	} else {
		for (size_t i = 0; i < p->nvms; i++) {
			const struct cm_vm *v = cluster_model_vm_find(t->model, p->vms[i]);
			if (!strcmp(p->op, "vm.migrate"))
				snprintf(label, sizeof(label), "migrate %s -> %s", p->vms[i],
				         p->to);
			else
				snprintf(label, sizeof(label), "%s %s", verb, p->vms[i]);
			if (!v || !v->host[0]) {
				ui_status(&t->ui, 1, "%s: no host is known to run it", label);
				failed++;
				continue;
			}
			cJSON *args = cJSON_CreateObject();
			cJSON_AddStringToObject(args, "name", p->vms[i]);
			if (!strcmp(p->op, "vm.migrate"))
				cJSON_AddStringToObject(args, "to", p->to);
			if (action_send(t, v->host, p->vms[i], p->op, args, label) == 0)
				sent++;
			else
				failed++;
		}
	}
	if (sent && !failed)
		ui_status(&t->ui, 0, "%s: sent, waiting for %s", sent == 1 ? label : "commands",
		          sent == 1 ? "the reply" : "the replies");
	t->redraw = 1;
}

/* --- the plan's dry run ------------------------------------------------------------ */

static void plan_done(struct vmtop *t, const char *label, int ok, const cJSON *result,
                      const char *code, const char *message, void *ud)
{
	struct plan *p = &t->ui.plan;
	char err[VMC_ERR_MAX], clock[16];
	time_t now = (time_t)(evloop_wall_ms() / 1000);
	struct tm tm;
	if (!localtime_r(&now, &tm) || !strftime(clock, sizeof(clock), "%H:%M:%S", &tm))
		clock[0] = '\0';
	p->ts_ms = evloop_wall_ms();
	if (!ok && !strcmp(code, "timeout")) {
		p->state = PLAN_FAILED;
		snprintf(p->message, sizeof(p->message),
		         "No host agent answered the plan request (asked %s; %s).", p->host,
		         message);
	} else if (!ok) {
		p->state = PLAN_FAILED;
		snprintf(p->message, sizeof(p->message), "%s could not make a plan: %s: %s",
		         p->host, code, message);
	} else if (plan_parse(p, result, err, sizeof(err)) < 0) {
		p->state = PLAN_FAILED;
		snprintf(p->message, sizeof(p->message), "%s answered, but: %s", p->host, err);
	} else {
		p->state = PLAN_READY;
		if (p->n)
			snprintf(
			    p->message, sizeof(p->message),
			    "Dry run by %s at %s: %zu move%s, nothing moved (p asks again)  %s",
			    p->host, clock, p->n, p->n == 1 ? "" : "s", p->about);
		else
			snprintf(p->message, sizeof(p->message),
			         "Dry run by %s at %s: the cluster would move nothing now  %s",
			         p->host, clock, p->about);
	}
	t->redraw = 1;
}

void actions_request_plan(struct vmtop *t)
{
	struct plan *p = &t->ui.plan;
	const char *best = NULL;
	char err[256];
	for (size_t i = 0; i < cluster_model_host_count(t->model); i++) {
		const struct cm_host *h = cluster_model_host_at(t->model, i);
		if (h->state == CM_HOST_OFFLINE || h->state == CM_HOST_UNKNOWN || h->stale)
			continue;
		if (!best || strcmp(h->name, best) < 0)
			best = h->name;
	}
	if (!best) {
		p->state = PLAN_FAILED;
		snprintf(p->message, sizeof(p->message), "No online host agent to ask for a plan.");
		return;
	}
	snprintf(p->host, sizeof(p->host), "%s", best);
	char target[VMC_TOPIC_MAX];
	snprintf(target, sizeof(target), "cmd/host/%s", best);
	cJSON *args = cJSON_CreateObject();
	if (p->mode[0])
		cJSON_AddStringToObject(args, "mode", p->mode);
	if (actions_send(t->act, target, "balance.plan", args, 0, "plan", plan_done, NULL, err,
	                 sizeof(err)) < 0) {
		p->state = PLAN_FAILED;
		snprintf(p->message, sizeof(p->message), "%s", err);
		return;
	}
	p->state = PLAN_WAITING;
	snprintf(p->message, sizeof(p->message), "Asking %s for a dry run...", best);
}
