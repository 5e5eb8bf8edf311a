/* balancer.c - the host agent's balancer on the bus: feeds the cluster view (built from
 * its own load and the agent's cluster model, which reads the peers' host/+/summary,
 * host/+/vm/+ records and host/+/state, never their full loads: model.c), the policy
 * and balance/# messages to this host's
 * balance node (lib/balance/balance_node.c, which decides, and keeps the promises of
 * its offers in the agent's one table of reservations, h->resv), and carries out what it
 * asks: publishes, migrations (through the migration module), events, alert
 * webhooks (the helper program vmc-webhook, fork/exec, no shell) and power hooks
 * (fork/exec, no shell, the host name as argument). Its timer runs only when the node
 * has something to do at a time (bn_next_deadline): a host at rest does not wake for
 * it. Commands: balance.plan (the dry-run plan) and balance.status. */
#include "../hostd.h"
#include "../drivers/libpath.h"

#include "../../../lib/balance/balance_node.h"
#include "../../../lib/cluster/balance_view.h"
#include "../../../lib/cluster/cluster_model.h"
#include "../../../lib/core/evloop.h"
#include "../../../lib/core/log.h"
#include "../../../lib/core/ratelog.h"
#include "../../../lib/bus/dispatch.h"
#include "../../../lib/bus/topic.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PENDING_MAX 64
#define KIDS_MAX 64
/* protocol timers never shorter than this in real time, whatever the time scale */
#define MIN_WINDOW_REAL_MS 300
#define MIN_RESERVATION_REAL_MS 2000
#define ARRIVAL_HOLD_REAL_MS 3000 /* covers two sim sample windows, or a few intervals */

struct balancer {
	struct rules *rules;
	struct bnode *node;
	struct bview view;
	long long timer; /* at the node's next deadline; 0: none */
	struct {
		char vm[VMC_NAME_MAX + 1];
		char to[VMC_NAME_MAX + 1];
	} pending[PENDING_MAX];
	size_t npending;
	struct ratelog bad_load; /* loads out of bounds (lib/core/limits.h), own or others' */
	pid_t kids[KIDS_MAX]; /* hooks and webhooks running; reaped by pid, never with
	                         waitpid(-1): libxl's helpers are children too */
	size_t nkids;
};

static struct balancer *bal(struct hostd *h)
{
	return h->balancer;
}

/* The view of the cluster now, from the agent's model and our own last load. */
static const struct bal_view *view_now(struct hostd *h, int64_t now)
{
	return bview_get(&bal(h)->view, h->model, now);
}

static long utc_offset(int64_t now_ms)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return 0;
	return tm.tm_gmtoff;
}

int hostd_balancer_load_rules(const char *path, struct rules **out, char *err, size_t errlen)
{
	if (!path) {
		*out = rules_default();
		return 0;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "rules file %s: %s", path, strerror(errno));
		return -1;
	}
	char *text = malloc(1 << 20);
	if (!text)
		abort();
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	int big = !feof(f);
	fclose(f);
	text[n] = 0;
	if (big) {
		snprintf(err, errlen, "rules file %s: larger than 1 MiB", path);
		free(text);
		return -1;
	}
	int nerr = rules_parse(text, path, out, err, errlen);
	free(text);
	return nerr ? -1 : 0;
}

/* --- carrying out the node's outputs ------------------------------------------------ */

/* Remembers a hook or webhook child so that kids_reap() reaps it (and only it), at
 * the next sample at the latest. */
static void kid_add(struct balancer *b, pid_t pid)
{
	if (b->nkids < KIDS_MAX)
		b->kids[b->nkids++] = pid;
	else
		log_warnx("more than %d hooks running: pid %d is not reaped", KIDS_MAX, (int)pid);
}

/* Reaps the hook and webhook children that ended. */
static void kids_reap(struct balancer *b)
{
	for (size_t i = 0; i < b->nkids;) {
		if (waitpid(b->kids[i], NULL, WNOHANG) != 0)
			b->kids[i] = b->kids[--b->nkids];
		else
			i++;
	}
}

static void spawn(struct balancer *b, const char *prog, const char *arg)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_warn("hook %s", prog);
		return;
	}
	if (pid == 0) {
		char *argv[] = {(char *)prog, (char *)arg, NULL};
		execv(prog, argv);
		_exit(127);
	}
	kid_add(b, pid);
	log_info("hook %s %s started (pid %d)", prog, arg, (int)pid);
}

/* POSTs an alert to its webhook through the helper vmc-webhook (libcurl is linked there,
 * not here): the URL its one argument, the JSON body on its standard input, so the loop
 * never waits. */
static void webhook(struct balancer *b, const char *url, const char *body)
{
	char prog[4096];
	if (hostd_lib_path(HOSTD_WEBHOOK_HELPER, prog, sizeof(prog)) < 0) {
		log_warnx("webhook %s: no helper program %s", url, prog);
		return;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("webhook %s", url);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {prog, (char *)url, NULL};
		if (dup2(p[0], STDIN_FILENO) >= 0)
			execv(prog, argv);
		_exit(127);
	}
	close(p[0]);
	if (pid < 0) {
		log_warn("webhook %s", url);
		close(p[1]);
		return;
	}
	kid_add(b, pid);
	/* an alert is a few hundred bytes; the pipe holds 64 KiB, so this never blocks */
	size_t len = strlen(body);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (write(p[1], body, len) != (ssize_t)len)
		log_warnx("webhook %s: the alert (%zu bytes) did not fit the helper's pipe", url,
		          len);
	close(p[1]);
}

static void migrate(struct hostd *h, const char *vm, const char *to)
{
	struct balancer *b = bal(h);
	char err[VMC_ERR_MAX] = "too many migrations pending";
	if (b->npending == PENDING_MAX || hostd_migrate_start(h, vm, to, err, sizeof(err)) < 0) {
		log_warnx("balance: cannot migrate %s to %s: %s", vm, to, err);
		bn_migration_done(b->node, hostd_now(h), vm, to, 0);
		return;
	}
	snprintf(b->pending[b->npending].vm, VMC_NAME_MAX + 1, "%s", vm);
	snprintf(b->pending[b->npending].to, VMC_NAME_MAX + 1, "%s", to);
	b->npending++;
	log_info("balance: migrating %s to %s", vm, to);
}

static long tick(struct evloop *loop, long long id, void *ud);

/* Sets the timer to the node's next deadline (virtual time, so divided by the time
 * scale), or none when the node waits only for samples and messages. */
static void rearm(struct hostd *h)
{
	struct balancer *b = bal(h);
	if (b->timer)
		evloop_del_timer(h->loop, b->timer);
	b->timer = 0;
	int64_t at = bn_next_deadline(b->node), now = hostd_now(h);
	if (at == INT64_MAX)
		return;
	double scale = h->opts.time_scale > 1 ? h->opts.time_scale : 1;
	double ms = at > now ? ceil((double)(at - now) / scale) : 0;
	b->timer = evloop_add_timer(h->loop, ms < 3600000 ? (long)ms : 3600000, tick, h);
}

/* Carries out the node's outputs so far; returns how many. */
static size_t outputs_batch(struct hostd *h)
{
	struct balancer *b = bal(h);
	struct bn_out *o;
	size_t n = bn_take(b->node, &o);
	char t[VMC_TOPIC_MAX];
	for (size_t i = 0; i < n; i++) {
		switch (o[i].kind) {
		case BN_PUBLISH:
			topic_fmt(t, sizeof(t), h->opts.cluster, "balance/%s/%s",
			          bn_topic_name(o[i].topic), h->opts.name);
			bus_publish_json(h->bus, t, o[i].msg, 1, 0);
			break;
		case BN_EVENT: {
			topic_fmt(t, sizeof(t), h->opts.cluster, "event/%s", h->sender);
			bus_publish_json(h->bus, t, o[i].msg, 1, 0);
			const cJSON *url = cJSON_GetObjectItemCaseSensitive(o[i].msg, "webhook");
			if (cJSON_IsString(url)) {
				char *body = msg_print(o[i].msg);
				webhook(b, url->valuestring, body);
				free(body);
			}
			break;
		}
		case BN_MIGRATE:
			migrate(h, o[i].vm, o[i].host);
			break;
		case BN_HOOK: {
			int off = o[i].hook == BN_HOOK_POWER_OFF;
			const char *prog = off ? h->opts.power_off_hook : h->opts.power_on_hook;
			cJSON *f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "target", o[i].host);
			hostd_event(h, off ? "host.standby" : "host.power_on", NULL, f);
			if (prog)
				spawn(b, prog, o[i].host);
			break;
		}
		}
	}
	bn_outs_free(o, n);
	return n;
}

/* Every output, those that carrying out others produced included (a migration refused
 * at once ends at once, and the node answers), then the timer: nothing waits for a tick. */
static void outputs(struct hostd *h)
{
	while (outputs_batch(h) > 0)
		;
	rearm(h);
}

static long tick(struct evloop *loop, long long id, void *ud)
{
	struct hostd *h = ud;
	struct balancer *b = bal(h);
	b->timer = 0; /* this one ends; outputs() sets the next */
	kids_reap(b);
	int64_t now = hostd_now(h);
	bn_tick(b->node, now, view_now(h, now));
	outputs(h);
	return -1;
}

/* --- the module's interface to the agent --------------------------------------------- */

/* What the other modules ask of the balancer, registered in the context (end of file). */
static const struct hostd_balancer_ops balancer_answers;

int hostd_balancer_start(struct hostd *h, char *err, size_t errlen)
{
	struct balancer *b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	if (hostd_balancer_load_rules(h->opts.rules_file, &b->rules, err, errlen) < 0) {
		free(b);
		return -1;
	}
	double scale = h->opts.time_scale > 1 ? h->opts.time_scale : 1;
	struct bn_config cfg = {
	    .host = h->opts.name,
	    .rules = b->rules,
	    .utc_offset_s = utc_offset(hostd_now(h)),
	    .advise = h->opts.advise,
	    .min_offer_window_ms = (int64_t)(MIN_WINDOW_REAL_MS * scale),
	    .min_reservation_ms = (int64_t)(MIN_RESERVATION_REAL_MS * scale),
	    .arrival_hold_ms =
	        (int64_t)(fmax(ARRIVAL_HOLD_REAL_MS, 3000 * h->opts.interval_s) * scale),
	    .resv = h->resv, /* its offers' promises, in the agent's one table */
	};
	b->node = bn_new(&cfg);
	bview_init(&b->view, h->opts.name);
	h->balancer = b;
	h->balancer_ops = &balancer_answers;
	return 0;
}

int hostd_balancer_reload_rules(struct hostd *h, char *err, size_t errlen)
{
	struct balancer *b = bal(h);
	struct rules *r;
	if (hostd_balancer_load_rules(h->opts.rules_file, &r, err, errlen) < 0)
		return -1;
	bn_set_rules(b->node, r);
	rules_free(b->rules);
	b->rules = r;
	return 0;
}

void hostd_balancer_stop(struct hostd *h)
{
	struct balancer *b = bal(h);
	if (!b)
		return;
	if (b->timer)
		evloop_del_timer(h->loop, b->timer);
	bn_free(b->node);
	bview_free(&b->view);
	hostd_holds_free(h);
	rules_free(b->rules);
	free(b);
	h->balancer = NULL;
	h->balancer_ops = NULL;
}

void hostd_balancer_connected(struct hostd *h)
{
	static const char *const topics[] = {"balance/+/+", "balance/hold/+/+", "host/+/summary",
	                                     "host/+/vm/+", "host/+/state",     "policy",
	                                     "event/host/+"};
	char t[VMC_TOPIC_MAX];
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		topic_fmt(t, sizeof(t), h->opts.cluster, "%s", topics[i]);
		bus_subscribe(h->bus, t, 1);
	}
	if (bal(h)) {
		bn_reconnected(bal(h)->node);
		rearm(h);
	}
}

static void balancer_sample(struct hostd *h, const cJSON *load)
{
	struct balancer *b = bal(h);
	char err[VMC_ERR_MAX];
	if (!b)
		return;
	kids_reap(b);
	int rc = bview_own_load(&b->view, h->model, load, err, sizeof(err));
	if (rc != 0)
		ratelog_warn(&b->bad_load, evloop_mono_ms(), "balance: own load: %s%s", err,
		             rc < 0 ? " (sample ignored)" : "");
	if (rc < 0)
		return;
	int64_t now = hostd_now(h);
	bn_set_utc_offset(b->node, utc_offset(now));
	size_t ng;
	const struct rule_guest *g = bview_guests(&b->view, &ng);
	bn_sample(b->node, now, view_now(h, now), g, ng);
	outputs(h);
}

/* host.standby: a host consolidation powered off stays standby, not offline. Only a
 * host the view knows (born, with a load) may say so. */
static void on_event(struct hostd *h, const char *sender, const cJSON *m)
{
	struct balancer *b = bal(h);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
	const cJSON *target = cJSON_GetObjectItemCaseSensitive(m, "target");
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "host.standby") != 0 ||
	    !cJSON_IsString(target))
		return;
	/* this host, said to be standby, was not powered off (no hook, or it failed): peers
	 * read its summary, which may not change for minutes, so the next sample sends it */
	if (strcmp(target->valuestring, h->opts.name) == 0)
		hostd_summary_reset(h);
	/* consolidation powers off only empty hosts: a standby claimed for a host whose own
	 * load still lists VMs is false, whoever says it */
	const struct bal_view *v = view_now(h, hostd_now(h));
	if (bal_view_find(v, sender) < 0)
		return;
	int i = bal_view_find(v, target->valuestring);
	if (i >= 0 && v->hosts[i].nvms > 0 && v->hosts[i].state != BAL_OFFLINE) {
		ratelog_warn(&b->bad_load, evloop_mono_ms(),
		             "balance: host.standby of %s ignored: it runs %zu VMs",
		             target->valuestring, v->hosts[i].nvms);
		return;
	}
	cluster_model_host_standby(h->model, target->valuestring);
}

static void balancer_migration_done(struct hostd *h, const char *vm, const char *to, int ok)
{
	struct balancer *b = bal(h);
	if (!b)
		return;
	for (size_t i = 0; i < b->npending; i++) {
		if (strcmp(b->pending[i].vm, vm) != 0 || strcmp(b->pending[i].to, to) != 0)
			continue;
		b->pending[i] = b->pending[--b->npending];
		bn_migration_done(b->node, hostd_now(h), vm, to, ok);
		outputs(h);
		return;
	}
}

/* A policy this host cannot apply: logged, and told to the admins as a policy.rejected event
 * (vmc events, the console) rather than only in the agent's log. */
static void policy_rejected(struct hostd *h, const char *why)
{
	log_warnx("balance: policy ignored: %s", why);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "why", why);
	hostd_event(h, "policy.rejected", NULL, f);
}

/* --- messages: the balancer's topics, the first matching row wins ---------------------- */

/* policy: the cluster policy, or its removal (an empty payload) */
static void on_policy(void *ctx, void *msg, const struct dispatch_match *d)
{
	struct hostd *h = ctx;
	struct hostd_msg *m = msg;
	struct balancer *b = bal(h);
	char err[VMC_ERR_MAX];
	if (m->raw->len == 0) {
		bn_set_policy(b->node, NULL);
		log_info("balance: cluster policy removed");
		return;
	}
	struct policy p;
	const cJSON *j = hostd_msg_json(m);
	if (!j) {
		policy_rejected(h, m->err);
		return;
	}
	if (policy_parse(j, &p, err, sizeof(err)) < 0)
		policy_rejected(h, err);
	else
		bn_set_policy(b->node, &p);
}

/* balance/hold/<host>/<vm> */
static void on_hold(void *ctx, void *msg, const struct dispatch_match *d)
{
	hostd_holds_message(ctx, d->part[0], d->part[1], msg);
}

/* balance/<kind>/<sender>: hostd_msg_json checks that the envelope is the sender's */
static void on_balance(void *ctx, void *msg, const struct dispatch_match *d)
{
	struct hostd *h = ctx;
	struct balancer *b = bal(h);
	const cJSON *j = hostd_msg_json(msg);
	int kind = bn_topic_parse(d->part[0]);
	if (!j || kind < 0)
		return;
	int64_t now = hostd_now(h);
	bn_message(b->node, now, (enum bn_topic)kind, d->part[1], j, view_now(h, now));
	if (bn_last_error(b->node)[0])
		log_debug("balance: %s", bn_last_error(b->node));
	outputs(h);
}

/* A host/<host>/... message's JSON: NULL for a retained record being cleared (an empty
 * payload), one that does not parse, or one that speaks for another sender (the agent
 * logs it: hostd_msg.forged). */
static const cJSON *host_json(struct hostd_msg *m)
{
	return m->raw->len ? hostd_msg_json(m) : NULL;
}

/* event/host/<host> */
static void on_host_event(void *ctx, void *msg, const struct dispatch_match *d)
{
	const cJSON *j = hostd_msg_json(msg);
	if (j)
		on_event(ctx, d->part[0], j);
}

/* Another message on a topic of ours: read, so that a forged one is logged, and not used. */
static void on_other(void *ctx, void *msg, const struct dispatch_match *d)
{
	host_json(msg);
}

/* Every topic the balancer subscribes to (hostd_balancer_connected), one row a line in the
 * order they are tried; the hosts' state, summaries and records are the model's
 * (model.c). A '+' level too long for a name fails its row; a NULL handler ignores the
 * topic. */
/* clang-format off */
static const struct dispatch_row balancer_topics[] = {
    {"policy", on_policy},
    {"balance/hold/+/+", on_hold},
    {"balance/hold/#", NULL},
    {"balance/+/+", on_balance},
    {"host/+/vm/#", NULL},
    {"host/+/load", NULL}, /* high availability's heartbeat (ha.c), not read here */
    {"host/+/+", on_other},
    {"event/host/+", on_host_event},
    {"event/host/#", on_other},
    {NULL, NULL},
};
/* clang-format on */

void hostd_balancer_message(struct hostd *h, struct hostd_msg *m)
{
	if (bal(h))
		dispatch_run(balancer_topics, m->rest, h, m);
}

/* --- commands --------------------------------------------------------------------------- */

static enum hostd_op_result op_plan(struct hostd *h, struct hostd_req *req)
{
	struct balancer *b = bal(h);
	const char *mode = "balance", *host = NULL;
	char err[VMC_ERR_MAX];
	if (msg_get_str(req->args, "args", "mode", 0, 16, &mode, err, sizeof(err)) < 0 ||
	    msg_get_name(req->args, "args", "host", 0, &host, err, sizeof(err)) < 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		return HOSTD_REPLIED;
	}
	int md = bal_mode_parse(mode);
	if (md < 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST,
		                "args.mode: expected balance, consolidate or evacuate");
		return HOSTD_REPLIED;
	}
	const struct bal_view *v = view_now(h, hostd_now(h));
	size_t only = SIZE_MAX;
	if (md == BAL_MODE_EVACUATE || host) {
		int i = bal_view_find(v, host ? host : h->opts.name);
		if (i < 0) {
			hostd_reply_err(h, req, VMC_E_NOT_FOUND,
			                "args.host: no host %s in the view",
			                host ? host : h->opts.name);
			return HOSTD_REPLIED;
		}
		only = (size_t)i;
	}
	hostd_reply_ok(h, req, bal_plan_json(v, bn_settings(b->node), md, only));
	return HOSTD_REPLIED;
}

static enum hostd_op_result op_status(struct hostd *h, struct hostd_req *req)
{
	struct balancer *b = bal(h);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "mode", policy_mode_name(bn_mode(b->node)));
	cJSON_AddBoolToObject(r, "advise", h->opts.advise);
	cJSON *a = cJSON_AddArrayToObject(r, "actions");
	for (int i = 0; i < RULE_ACTION__COUNT; i++)
		if (bn_actions(b->node) & RULE_MASK(i))
			cJSON_AddItemToArray(a, cJSON_CreateString(rule_action_name(i)));
	const struct rule_settings *s = bn_settings(b->node);
	cJSON_AddNumberToObject(r, "high", s->high);
	cJSON_AddNumberToObject(r, "low", s->low);
	cJSON_AddNumberToObject(r, "hosts", (double)view_now(h, hostd_now(h))->nhosts);
	hostd_reply_ok(h, req, r);
	return HOSTD_REPLIED;
}

static int balancer_own_load(struct hostd *h, double *load, double *vm_cpu, size_t *nvms)
{
	struct balancer *b = bal(h);
	const struct bal_host *x = b ? bview_own(&b->view) : NULL;
	if (!x)
		return -1;
	const struct rule_settings *s = bn_settings(b->node);
	*load = bal_host_load(x, s);
	*vm_cpu = 0;
	for (size_t i = 0; i < x->nvms; i++)
		*vm_cpu += bal_vm_demand(x, &x->vms[i], s, NULL);
	*nvms = x->nvms;
	return 0;
}

static size_t balancer_hosts(struct hostd *h)
{
	struct balancer *b = bal(h);
	return b ? view_now(h, hostd_now(h))->nhosts : 0;
}

static int64_t balancer_manual_hold_ms(struct hostd *h)
{
	struct balancer *b = bal(h);
	return b ? bn_settings(b->node)->manual_hold_ms : 0;
}

static const struct bal_view *balancer_view(struct hostd *h, const struct rule_settings **s)
{
	struct balancer *b = bal(h);
	if (!b)
		return NULL;
	*s = bn_settings(b->node);
	return view_now(h, hostd_now(h));
}

static const struct hostd_balancer_ops balancer_answers = {
    .sample = balancer_sample,
    .migration_done = balancer_migration_done,
    .manual_hold_ms = balancer_manual_hold_ms,
    .own_load = balancer_own_load,
    .hosts = balancer_hosts,
    .view = balancer_view,
};

const struct hostd_op hostd_balance_ops[] = {
    {"balance.plan", op_plan},
    {"balance.status", op_status},
    {"vm.release", hostd_holds_op_release},
    {NULL, NULL},
};
