/* balance_node.c - one host's balancer as a pure state machine (see balance_node.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_node.h"
#include "avoid.h"
#include "bp_collect.h"
#include "../cluster/reserve_promise.h"

#define HOUR_MS 3600000LL
#define HIST_MAX 8
#define QUEUE_MAX BAL_MAX_CANDS
#define POWER_ON_EVERY_MS 600000LL
#define ADVISE_EVERY_MS 300000LL
/* At most this many hosts offer for one help, the least loaded (among those with room
 * for a candidate) first: every offer reaches every host agent (balance/offer/<h>) and
 * every offer not taken comes back as a release, so in a cluster of 1,000 hosts, all of
 * them offering made two million deliveries a round. */
#define OFFERERS_MAX 16
#define AVOID_BASE_MS 10000LL /* a failed destination's first wait, doubling after */

static const char *const topic_names[BN_TOPIC__COUNT] = {"help", "offer", "accept", "release"};

const char *bn_topic_name(enum bn_topic t)
{
	return (unsigned)t < BN_TOPIC__COUNT ? topic_names[t] : "?";
}

int bn_topic_parse(const char *name)
{
	for (int i = 0; i < BN_TOPIC__COUNT; i++)
		if (name && strcmp(name, topic_names[i]) == 0)
			return i;
	return -1;
}

/* When a VM moved lately (kept for the VMs this host ran or expects). */
struct hist {
	char vm[VMC_NAME_MAX + 1];
	int64_t t[HIST_MAX];
	int n;
};

struct qmove {
	char vm[VMC_NAME_MAX + 1];
	char to[VMC_NAME_MAX + 1];
	int started;
};

struct bnode {
	char host[VMC_NAME_MAX + 1];
	char sender[VMC_NAME_MAX + 8];
	const struct rules *rules;
	struct rule_eval *eval;
	struct policy policy;
	int has_policy;
	long utc_offset_s;
	int advise_cfg;
	int64_t accept_ttl_ms, backoff_max_ms;
	int64_t min_window_ms, min_reservation_ms, arrival_hold_ms;
	struct rule_settings s;
	enum policy_mode mode;
	int mode_known; /* mode holds the last sample's mode (none before the first) */
	unsigned actions;

	/* requester */
	uint64_t seq;
	struct bp_help req;
	struct bp_collect collect;
	int64_t next_ask, backoff_ms, settle_until, last_power_on;
	int64_t asked_at; /* when ask() last ran: a request due since then was weighed */
	struct qmove queue[QUEUE_MAX];
	size_t nqueue;
	int powered_off;

	struct avoid avoid; /* destinations whose migrations failed lately */

	/* offerer: its promises, in the table it was given (or its own: own_resv) */
	struct reservations *resv;
	int own_resv;

	struct hist *hist;
	size_t nhist, caphist;

	struct bn_out *outs;
	size_t nouts, capouts;
	char last_error[VMC_ERR_MAX + 32];
};

struct bnode *bn_new(const struct bn_config *cfg)
{
	struct bnode *n = calloc(1, sizeof *n);
	if (!n)
		abort();
	snprintf(n->host, sizeof n->host, "%s", cfg->host);
	snprintf(n->sender, sizeof n->sender, "host/%s", cfg->host);
	n->rules = cfg->rules;
	n->utc_offset_s = cfg->utc_offset_s;
	n->advise_cfg = cfg->advise;
	n->accept_ttl_ms = cfg->accept_ttl_ms > 0 ? cfg->accept_ttl_ms : 600000;
	n->backoff_max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 300000;
	n->min_window_ms = cfg->min_offer_window_ms;
	n->min_reservation_ms = cfg->min_reservation_ms;
	n->arrival_hold_ms = cfg->arrival_hold_ms > 0 ? cfg->arrival_hold_ms : 60000;
	n->s = *rules_settings(cfg->rules);
	n->eval = rule_eval_new(cfg->rules, &n->s, cfg->utc_offset_s);
	n->last_power_on = INT64_MIN / 2;
	bp_collect_init(&n->collect);
	n->resv = cfg->resv;
	if (!n->resv) {
		n->resv = reserve_new();
		n->own_resv = 1;
	}
	avoid_init(&n->avoid, AVOID_BASE_MS, n->backoff_max_ms);
	return n;
}

void bn_free(struct bnode *n)
{
	if (!n)
		return;
	rule_eval_free(n->eval);
	bp_collect_free(&n->collect);
	if (n->own_resv)
		reserve_free(n->resv);
	bn_outs_free(n->outs, n->nouts);
	free(n->hist);
	free(n);
}

void bn_set_policy(struct bnode *n, const struct policy *p)
{
	n->has_policy = p != NULL;
	if (p)
		n->policy = *p;
}

void bn_set_utc_offset(struct bnode *n, long utc_offset_s)
{
	n->utc_offset_s = utc_offset_s;
}

void bn_set_rules(struct bnode *n, const struct rules *rules)
{
	rule_eval_free(n->eval);
	n->rules = rules;
	n->s = *rules_settings(rules);
	n->eval = rule_eval_new(rules, &n->s, n->utc_offset_s);
}

unsigned bn_actions(const struct bnode *n)
{
	return n->actions;
}

enum policy_mode bn_mode(const struct bnode *n)
{
	return n->mode;
}

const struct rule_settings *bn_settings(const struct bnode *n)
{
	return &n->s;
}

const char *bn_last_error(const struct bnode *n)
{
	return n->last_error;
}

/* --- outputs -------------------------------------------------------------------- */

static struct bn_out *out_add(struct bnode *n, enum bn_out_kind kind)
{
	if (n->nouts == n->capouts) {
		n->capouts = n->capouts ? n->capouts * 2 : 8;
		struct bn_out *no = realloc(n->outs, n->capouts * sizeof *no);
		if (!no)
			abort();
		n->outs = no;
	}
	struct bn_out *o = &n->outs[n->nouts++];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	return o;
}

static void publish(struct bnode *n, enum bn_topic t, cJSON *msg)
{
	struct bn_out *o = out_add(n, BN_PUBLISH);
	o->topic = t;
	o->msg = msg;
}

static cJSON *event_new(struct bnode *n, int64_t now, const char *type)
{
	cJSON *e = msg_new(n->sender, now);
	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "host", n->host);
	struct bn_out *o = out_add(n, BN_EVENT);
	o->msg = e;
	return e;
}

static void hook(struct bnode *n, enum bn_hook h, const char *host)
{
	struct bn_out *o = out_add(n, BN_HOOK);
	o->hook = h;
	snprintf(o->host, sizeof o->host, "%s", host);
}

size_t bn_take(struct bnode *n, struct bn_out **out)
{
	size_t k = n->nouts;
	*out = n->outs;
	n->outs = NULL;
	n->nouts = n->capouts = 0;
	return k;
}

void bn_outs_free(struct bn_out *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(o[i].msg);
	free(o);
}

/* --- move history ---------------------------------------------------------------- */

static struct hist *hist_get(struct bnode *n, const char *vm, int create)
{
	for (size_t i = 0; i < n->nhist; i++)
		if (strcmp(n->hist[i].vm, vm) == 0)
			return &n->hist[i];
	if (!create)
		return NULL;
	if (n->nhist == n->caphist) {
		n->caphist = n->caphist ? n->caphist * 2 : 16;
		struct hist *nh = realloc(n->hist, n->caphist * sizeof *nh);
		if (!nh)
			abort();
		n->hist = nh;
	}
	struct hist *h = &n->hist[n->nhist++];
	memset(h, 0, sizeof *h);
	snprintf(h->vm, sizeof h->vm, "%s", vm);
	return h;
}

static void hist_add(struct bnode *n, const char *vm, int64_t t)
{
	struct hist *h = hist_get(n, vm, 1);
	if (h->n == HIST_MAX) {
		memmove(h->t, h->t + 1, (HIST_MAX - 1) * sizeof h->t[0]);
		h->n--;
	}
	h->t[h->n++] = t;
}

static int hist_moves(const struct hist *h, int64_t now)
{
	int c = 0;
	for (int i = 0; h && i < h->n; i++)
		c += h->t[i] > now - HOUR_MS;
	return c;
}

/* Forgets entries older than an hour. */
static void hist_prune(struct bnode *n, int64_t now)
{
	for (size_t i = 0; i < n->nhist;) {
		if (n->hist[i].n == 0 || n->hist[i].t[n->hist[i].n - 1] <= now - HOUR_MS)
			n->hist[i] = n->hist[--n->nhist];
		else
			i++;
	}
}

/* --- the node's view of the cluster ------------------------------------------------ */

/* A copy of v in which this host's entry carries the move history, the VMs being
 * migrated and the promises of its offers (reserve_promise.h). Free with local_free. */
static int local_view(struct bnode *n, const struct bal_view *v, struct bal_view *out)
{
	int self = bal_view_find(v, n->host);
	if (self < 0)
		return -1;
	*out = *v;
	out->hosts = malloc((v->nhosts ? v->nhosts : 1) * sizeof *out->hosts);
	if (!out->hosts)
		abort();
	memcpy(out->hosts, v->hosts, v->nhosts * sizeof *out->hosts);
	struct bal_host *h = &out->hosts[self];
	size_t promised = reserve_promise_vm_count(n->resv);
	struct bal_vm *vms = malloc((h->nvms + promised + 1) * sizeof *vms);
	if (!vms)
		abort();
	if (h->nvms)
		memcpy(vms, h->vms, h->nvms * sizeof *vms);
	for (size_t i = 0; i < h->nvms; i++) {
		const struct hist *hh = hist_get(n, vms[i].name, 0);
		if (hh && hh->n) {
			vms[i].last_move_ms = hh->t[hh->n - 1];
			vms[i].moves_hour = hist_moves(hh, v->now_ms);
		}
		for (size_t q = 0; q < n->nqueue; q++)
			if (strcmp(n->queue[q].vm, vms[i].name) == 0)
				vms[i].flags |= BAL_VM_MIGRATING;
	}
	/* a promised VM already listed here (incoming, or arrived but not yet measured
	 * for long) counts once, with the larger of its measured use and its promise */
	size_t np = reserve_promise_vms(n->resv, vms + h->nvms, promised), nv = h->nvms;
	h->vms = vms; /* searched over its first h->nvms, the VMs listed here */
	for (size_t p = 0; p < np; p++) {
		const struct bal_vm *pv = &vms[h->nvms + p];
		int i = bal_host_find_vm(h, pv->name);
		if (i < 0)
			vms[nv++] = *pv;
		else if (vms[i].cpu < pv->cpu)
			vms[i].cpu = pv->cpu;
	}
	h->nvms = nv;
	return self;
}

static void local_free(struct bal_view *lv, int self)
{
	free(lv->hosts[self].vms);
	free(lv->hosts);
}

/* --- requester ---------------------------------------------------------------------- */

static int advising(const struct bnode *n)
{
	return n->advise_cfg || n->mode == POLICY_ADVISE;
}

static void back_off(struct bnode *n, int64_t now)
{
	int64_t min = n->s.settle_ms > 1000 ? n->s.settle_ms : 1000;
	n->backoff_ms = n->backoff_ms ? n->backoff_ms * 2 : min;
	if (n->backoff_ms > n->backoff_max_ms)
		n->backoff_ms = n->backoff_max_ms;
	n->next_ask = now + n->backoff_ms;
}

static int cluster_busy(const struct bal_view *v, const struct rule_settings *s)
{
	int64_t total = 0; /* each host's figure is bounded by the view (lib/core/limits.h) */
	for (size_t i = 0; i < v->nhosts; i++)
		if (v->hosts[i].state != BAL_OFFLINE && v->hosts[i].state != BAL_STANDBY)
			total += v->hosts[i].migrations_out;
	return total >= s->cluster_migrations;
}

/* 1 if this host is one the consolidation plan empties. */
static int should_empty(const struct bal_view *lv, int self, const struct rule_settings *s)
{
	struct bal_plan p;
	bal_plan(lv, s, BAL_MODE_CONSOLIDATE, SIZE_MAX, &p);
	int yes = 0;
	for (size_t i = 0; i < p.nemptied; i++)
		yes |= p.emptied[i] == (size_t)self;
	bal_plan_free(&p);
	return yes;
}

static size_t running_vms(const struct bal_host *h)
{
	size_t c = 0;
	for (size_t i = 0; i < h->nvms; i++)
		c += !(h->vms[i].flags & BAL_VM_INCOMING);
	return c;
}

/* Powers standby hosts on when load has returned (bal_power_on_pick), or when this
 * host is over high and no online host could take any of its VMs (no_offer): as many
 * as bring the cluster under high - margin (bal_standby_needed), so that the load
 * spreads once rather than host after host. */
static void power_on_maybe(struct bnode *n, int64_t now, const struct bal_view *v, int no_offer)
{
	if (n->req.mode != BAL_MODE_BALANCE || now - n->last_power_on < POWER_ON_EVERY_MS)
		return;
	if (!no_offer && bal_power_on_pick(v, &n->s) < 0)
		return;
	size_t pick[64];
	size_t np = bal_standby_needed(v, &n->s, pick, sizeof pick / sizeof pick[0]);
	if (np)
		n->last_power_on = now;
	for (size_t i = 0; i < np; i++)
		hook(n, BN_HOOK_POWER_ON, v->hosts[pick[i]].name);
}

static void ask(struct bnode *n, int64_t now, const struct bal_view *v)
{
	n->asked_at = now;
	if (n->collect.active || n->nqueue || now < n->next_ask || now < n->settle_until)
		return;
	enum bal_mode mode;
	if (n->actions & RULE_MASK(RULE_EVACUATE))
		mode = BAL_MODE_EVACUATE;
	else if (n->actions & RULE_MASK(RULE_BALANCE))
		mode = BAL_MODE_BALANCE;
	else if (n->actions & RULE_MASK(RULE_CONSOLIDATE))
		mode = BAL_MODE_CONSOLIDATE;
	else {
		n->backoff_ms = 0;
		return;
	}
	if (cluster_busy(v, &n->s))
		return;
	struct bal_view lv;
	int self = local_view(n, v, &lv);
	if (self < 0)
		return;
	struct bal_host *h = &lv.hosts[self];
	if (h->state != BAL_ONLINE) {
		local_free(&lv, self);
		return;
	}
	if (mode == BAL_MODE_CONSOLIDATE) {
		if (running_vms(h) == 0) {
			if (!n->powered_off) {
				n->powered_off = 1;
				hook(n, BN_HOOK_POWER_OFF, n->host);
			}
			local_free(&lv, self);
			return;
		}
		if (!should_empty(&lv, self, &n->s)) {
			back_off(n, now);
			local_free(&lv, self);
			return;
		}
	}
	struct bp_help *r = &n->req;
	memset(r, 0, sizeof *r);
	snprintf(r->requester, sizeof r->requester, "%s", n->host);
	r->seq = ++n->seq;
	r->mode = mode;
	r->load = bal_host_load(h, &n->s);
	r->cpus = h->cpus > 0 ? h->cpus : 1;
	r->excess = (r->load - bal_goal(&lv, &n->s)) * r->cpus;
	r->ncands = bal_candidates(&lv, self, &n->s, mode, r->cands, BAL_MAX_CANDS);
	local_free(&lv, self);
	if (mode == BAL_MODE_BALANCE && (r->load <= n->s.high || r->excess <= 0)) {
		/* under high, or the online hosts are as even as they get: over high, that
		 * means a standby host is needed */
		if (r->load > n->s.high)
			power_on_maybe(n, now, v, 0);
		return;
	}
	if (r->ncands == 0) {
		back_off(n, now);
		return;
	}
	publish(n, BN_HELP, bp_help_build(n->sender, now, r));
	bp_collect_start(&n->collect, r->seq, now + n->s.offer_window_ms);
}

static void release(struct bnode *n, int64_t now, const struct bp_offer *o, int by_offerer,
                    const char *reason)
{
	struct bp_release rl = {.seq = o->seq, .by_offerer = by_offerer};
	snprintf(rl.requester, sizeof rl.requester, "%s", o->requester);
	snprintf(rl.offerer, sizeof rl.offerer, "%s", o->offerer);
	snprintf(rl.reservation, sizeof rl.reservation, "%s", o->reservation);
	snprintf(rl.reason, sizeof rl.reason, "%s", reason);
	publish(n, BN_RELEASE, bp_release_build(n->sender, now, &rl));
}

static void decision_event(struct bnode *n, int64_t now, const struct bp_help *r,
                           const struct bp_offer *o, const struct bal_take *t)
{
	cJSON *e = event_new(n, now, "balance.decision");
	cJSON_AddStringToObject(e, "mode", bal_mode_name(r->mode));
	cJSON_AddBoolToObject(e, "advise", advising(n));
	cJSON_AddStringToObject(e, "from", n->host);
	cJSON_AddStringToObject(e, "to", o->offerer);
	cJSON *a = cJSON_AddArrayToObject(e, "vms");
	for (size_t k = 0; k < t->n; k++)
		cJSON_AddItemToArray(a, cJSON_CreateString(r->cands[t->idx[k]].vm));
	cJSON_AddNumberToObject(e, "cpu", t->cpu);
	cJSON_AddNumberToObject(e, "from_before", r->load);
	cJSON_AddNumberToObject(e, "from_after", t->src_after);
	cJSON_AddNumberToObject(e, "to_before", t->dst_before);
	cJSON_AddNumberToObject(e, "to_after", t->dst_after);
}

static void accept_offer(struct bnode *n, int64_t now, const struct bp_offer *o,
                         const struct bal_take *t)
{
	const struct bp_help *r = &n->req;
	struct bp_accept a = {.seq = o->seq};
	snprintf(a.requester, sizeof a.requester, "%s", n->host);
	snprintf(a.offerer, sizeof a.offerer, "%s", o->offerer);
	snprintf(a.reservation, sizeof a.reservation, "%s", o->reservation);
	for (size_t k = 0; k < t->n && n->nqueue < QUEUE_MAX; k++) {
		const char *vm = r->cands[t->idx[k]].vm;
		hist_add(n, vm, now);
		struct bp_accept_vm *av = &a.vms[a.nvms++];
		snprintf(av->vm, sizeof av->vm, "%s", vm);
		av->last_move_ms = now;
		av->moves_hour = hist_moves(hist_get(n, vm, 0), now);
		struct qmove *q = &n->queue[n->nqueue++];
		snprintf(q->vm, sizeof q->vm, "%s", vm);
		snprintf(q->to, sizeof q->to, "%s", o->offerer);
		q->started = 0;
	}
	publish(n, BN_ACCEPT, bp_accept_build(n->sender, now, &a));
}

/* The offer window has closed: choose, accept, release the rest. */
static void choose(struct bnode *n, int64_t now, const struct bal_view *v)
{
	struct bp_collect *c = &n->collect;
	size_t good = bp_collect_finish(c, now, n->s.offer_window_ms);
	struct bal_offer_view *views = calloc(good ? good : 1, sizeof *views);
	const char **names = calloc(good * BAL_MAX_CANDS + 1, sizeof *names);
	if (!views || !names)
		abort();
	for (size_t i = 0; i < good; i++) {
		const struct bp_offer *o = &c->offers[i];
		for (size_t k = 0; k < o->nvms; k++)
			names[i * BAL_MAX_CANDS + k] = o->vms[k];
		views[i] = (struct bal_offer_view){o->offerer, o->load, o->cpus,
		                                   names + i * BAL_MAX_CANDS, o->nvms};
	}
	struct bal_view lv;
	int self = local_view(n, v, &lv);
	double target = self >= 0 ? bal_target(&lv, &n->s) : n->s.high;
	if (self >= 0)
		local_free(&lv, self);
	struct bal_take t;
	const struct bp_help *r = &n->req;
	struct bal_request req = {r->requester,
	                          r->mode,
	                          r->load,
	                          r->cpus,
	                          r->cands,
	                          r->ncands,
	                          r->mode == BAL_MODE_BALANCE ? r->load - r->excess / r->cpus : 0};
	int best = bal_choose(&req, views, good, &n->s, target, &t);
	for (size_t i = 0; i < c->n; i++)
		if ((int)i != best || advising(n))
			release(n, now, &c->offers[i], 0, (int)i == best ? "advise" : "not chosen");
	if (best < 0) {
		back_off(n, now);
		power_on_maybe(n, now, v, 1);
	} else {
		decision_event(n, now, &n->req, &c->offers[best], &t);
		if (advising(n)) {
			n->next_ask = now + ADVISE_EVERY_MS;
		} else {
			n->backoff_ms = 0;
			accept_offer(n, now, &c->offers[best], &t);
		}
	}
	free(views);
	free(names);
}

static size_t in_flight(const struct bnode *n)
{
	size_t c = 0;
	for (size_t i = 0; i < n->nqueue; i++)
		c += n->queue[i].started;
	return c;
}

static void start_migrations(struct bnode *n)
{
	size_t running = in_flight(n);
	for (size_t i = 0; i < n->nqueue && running < (size_t)n->s.host_migrations; i++) {
		struct qmove *q = &n->queue[i];
		if (q->started)
			continue;
		q->started = 1;
		running++;
		struct bn_out *o = out_add(n, BN_MIGRATE);
		snprintf(o->vm, sizeof o->vm, "%s", q->vm);
		snprintf(o->host, sizeof o->host, "%s", q->to);
	}
}

static void queue_remove(struct bnode *n, size_t i)
{
	memmove(&n->queue[i], &n->queue[i + 1], (n->nqueue - i - 1) * sizeof n->queue[0]);
	n->nqueue--;
}

void bn_reconnected(struct bnode *n)
{
	n->backoff_ms = 0;
	if (!advising(n))
		n->next_ask = 0;
	avoid_init(&n->avoid, AVOID_BASE_MS, n->backoff_max_ms);
}

void bn_migration_done(struct bnode *n, int64_t now, const char *vm, const char *to, int ok)
{
	for (size_t i = 0; i < n->nqueue; i++) {
		if (strcmp(n->queue[i].vm, vm) == 0 && strcmp(n->queue[i].to, to) == 0) {
			queue_remove(n, i);
			break;
		}
	}
	if (!ok) {
		back_off(n, now);
		int64_t wait = avoid_failed(&n->avoid, to, now);
		cJSON *e = event_new(n, now, "balance.avoid");
		cJSON_AddStringToObject(e, "target", to);
		cJSON_AddNumberToObject(e, "for_ms", (double)wait);
	} else {
		avoid_ok(&n->avoid, to);
	}
	if (n->nqueue == 0)
		n->settle_until = now + n->s.settle_ms;
	start_migrations(n);
}

/* --- offerer --------------------------------------------------------------------- */

/* 0 if this host (h, its entry in the local view) can take none of the request's
 * candidates whatever the target: it is not online, or its room is less than the least
 * candidate's memory. The check saves bal_target, a pass over every VM of the cluster,
 * on the hosts of a big cluster that are full. */
static int may_take(const struct bal_host *h, const struct bp_help *r,
                    const struct rule_settings *s)
{
	if (h->state != BAL_ONLINE)
		return 0;
	int64_t least = INT64_MAX;
	for (size_t i = 0; i < r->ncands && i < BAL_MAX_CANDS; i++) {
		if (r->cands[i].mem_mb < 0)
			return 1; /* a unit's memory is then not bounded by its least member's */
		if (r->cands[i].mem_mb < least)
			least = r->cands[i].mem_mb;
	}
	return bal_host_room_mb(h, s) >= least;
}

/* 1 if fewer than OFFERERS_MAX other online hosts with room for a candidate are less
 * loaded than this one (ties by name): those offer, the others do not. The same view in
 * every host gives the same few; views that differ a little give a few more or less. */
static int among_offerers(const struct bal_view *lv, int self, const struct bp_help *h,
                          const struct rule_settings *s)
{
	if (lv->nhosts <= OFFERERS_MAX + 1)
		return 1;
	const struct bal_host *me = &lv->hosts[self];
	double mine = bal_host_load(me, s);
	size_t ahead = 0;
	for (size_t i = 0; i < lv->nhosts; i++) {
		const struct bal_host *o = &lv->hosts[i];
		if ((int)i == self || strcmp(o->name, h->requester) == 0 || !may_take(o, h, s))
			continue;
		double l = bal_host_load(o, s);
		if ((l < mine || (l == mine && strcmp(o->name, me->name) < 0)) &&
		    ++ahead >= OFFERERS_MAX)
			return 0;
	}
	return 1;
}

static void on_help(struct bnode *n, int64_t now, const struct bp_help *h, const struct bal_view *v)
{
	if (strcmp(h->requester, n->host) == 0 ||
	    reserve_promise_has(n->resv, h->requester, h->seq))
		return;
	/* only a host the view knows (its own state message and load) gets room */
	if (bal_view_find(v, h->requester) < 0)
		return;
	/* a host asking for help itself, or moving VMs out, does not take more */
	if (n->collect.active || n->nqueue || (n->actions & RULE_MASK(RULE_EVACUATE)))
		return;
	struct bal_view lv;
	int self = local_view(n, v, &lv);
	if (self < 0)
		return;
	/* nor does one whose balance rule holds (over the high mark, until under the low
	 * one), unless it is under the cluster's mean: when the mean itself is over the high
	 * mark every host's rule holds, and a host that shed down to between the marks must
	 * still take from one over the mean, or the cluster stays uneven for good */
	if (h->mode == BAL_MODE_BALANCE && (n->actions & RULE_MASK(RULE_BALANCE)) &&
	    !(bal_host_load(&lv.hosts[self], &n->s) < bal_cluster_mean(&lv, &n->s))) {
		local_free(&lv, self);
		return;
	}
	struct bal_request req = {h->requester,
	                          h->mode,
	                          h->load,
	                          h->cpus,
	                          h->cands,
	                          h->ncands,
	                          h->mode == BAL_MODE_BALANCE ? h->load - h->excess / h->cpus : 0};
	struct bal_take t;
	if (!may_take(&lv.hosts[self], h, &n->s) || !among_offerers(&lv, self, h, &n->s)) {
		local_free(&lv, self);
		return;
	}
	/* a host the consolidation plan empties gives, it does not take */
	if (h->mode == BAL_MODE_CONSOLIDATE && should_empty(&lv, self, &n->s)) {
		local_free(&lv, self);
		return;
	}
	if (bal_offer(&lv, self, &req, &n->s, bal_target(&lv, &n->s), &t) > 0) {
		struct bp_offer o = {.seq = h->seq,
		                     .cpu = t.cpu,
		                     .mem_mb = t.mem_mb,
		                     .load = t.dst_before,
		                     .load_after = t.dst_after,
		                     .cpus = lv.hosts[self].cpus > 0 ? lv.hosts[self].cpus : 1,
		                     .ttl_ms = n->s.reservation_ms};
		snprintf(o.requester, sizeof o.requester, "%s", h->requester);
		snprintf(o.offerer, sizeof o.offerer, "%s", n->host);
		reserve_promise_add(n->resv, n->host, now, n->s.reservation_ms, h->requester,
		                    h->seq, h->cands, &t, o.reservation);
		for (size_t k = 0; k < t.n; k++)
			snprintf(o.vms[o.nvms++], VMC_NAME_MAX + 1, "%s", h->cands[t.idx[k]].vm);
		publish(n, BN_OFFER, bp_offer_build(n->sender, now, &o));
	}
	local_free(&lv, self);
}

static void on_accept(struct bnode *n, int64_t now, const struct bp_accept *a)
{
	if (strcmp(a->offerer, n->host) != 0)
		return;
	if (reserve_promise_accept(n->resv, now, a->reservation, a->requester, a->vms, a->nvms,
	                           n->accept_ttl_ms) < 0) {
		struct bp_offer o = {.seq = a->seq};
		snprintf(o.requester, sizeof o.requester, "%s", a->requester);
		snprintf(o.offerer, sizeof o.offerer, "%s", n->host);
		snprintf(o.reservation, sizeof o.reservation, "%s", a->reservation);
		release(n, now, &o, 1, "no such reservation (expired?)");
		return;
	}
	for (size_t i = 0; i < a->nvms; i++) {
		struct hist *h = hist_get(n, a->vms[i].vm, 1);
		h->n = 0;
		for (int k = 0; k < a->vms[i].moves_hour && k < HIST_MAX; k++)
			h->t[h->n++] = a->vms[i].last_move_ms;
	}
}

static void on_release(struct bnode *n, const struct bp_release *r)
{
	if (!r->by_offerer) {
		if (strcmp(r->offerer, n->host) == 0)
			reserve_promise_release(n->resv, r->reservation, r->requester);
		return;
	}
	if (strcmp(r->requester, n->host) != 0)
		return;
	/* the offerer no longer holds room for us: drop what has not started */
	for (size_t i = 0; i < n->nqueue;) {
		if (!n->queue[i].started && strcmp(n->queue[i].to, r->offerer) == 0)
			queue_remove(n, i);
		else
			i++;
	}
}

/* Why an offer to this host is not taken, or NULL: the offerer must be a host the view
 * knows as online (its own state message, its load), not one avoided after a failure. */
static const char *offer_refused(const struct bnode *n, int64_t now, const struct bp_offer *o,
                                 const struct bal_view *v)
{
	int i = bal_view_find(v, o->offerer);
	if (i < 0)
		return "unknown host";
	if (v->hosts[i].state != BAL_ONLINE)
		return "host not online";
	if (avoid_is(&n->avoid, o->offerer, now))
		return "avoided after a failed migration";
	return NULL;
}

/* -1 with err unless the host the message speaks for (what) is sender. */
static int speaks_for(const char *sender, const char *field, const char *what, char *err,
                      size_t errlen)
{
	if (!sender || strcmp(sender, what) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s is not %s, whose topic it is", field, what, sender);
	return -1;
}

void bn_message(struct bnode *n, int64_t now, enum bn_topic topic, const char *sender,
                const cJSON *msg, const struct bal_view *v)
{
	char err[VMC_ERR_MAX];
	int rc = -1;
	switch (topic) {
	case BN_HELP: {
		struct bp_help *h = malloc(sizeof *h);
		if (!h)
			abort();
		rc = bp_help_parse(msg, h, err, sizeof err);
		if (rc == 0)
			rc = speaks_for(sender, "requester", h->requester, err, sizeof err);
		if (rc == 0)
			on_help(n, now, h, v);
		free(h);
		break;
	}
	case BN_OFFER: {
		struct bp_offer o;
		rc = bp_offer_parse(msg, &o, err, sizeof err);
		if (rc == 0)
			rc = speaks_for(sender, "offerer", o.offerer, err, sizeof err);
		if (rc != 0 || strcmp(o.requester, n->host) != 0)
			break;
		const char *why = offer_refused(n, now, &o, v);
		if (why)
			release(n, now, &o, 0, why);
		else if (bp_collect_add(&n->collect, now, &o) < 0)
			release(n, now, &o, 0, "late");
		break;
	}
	case BN_ACCEPT: {
		struct bp_accept a;
		rc = bp_accept_parse(msg, &a, err, sizeof err);
		if (rc == 0)
			rc = speaks_for(sender, "requester", a.requester, err, sizeof err);
		if (rc == 0)
			on_accept(n, now, &a);
		break;
	}
	case BN_RELEASE: {
		struct bp_release r;
		rc = bp_release_parse(msg, &r, err, sizeof err);
		if (rc == 0)
			rc = speaks_for(sender, r.by_offerer ? "offerer" : "requester",
			                r.by_offerer ? r.offerer : r.requester, err, sizeof err);
		if (rc == 0)
			on_release(n, &r);
		break;
	}
	default:
		snprintf(err, sizeof err, "unknown balance topic");
	}
	if (rc < 0)
		snprintf(n->last_error, sizeof n->last_error, "balance/%s: %s",
		         bn_topic_name(topic), err);
}

/* --- samples and timers ------------------------------------------------------------- */

static void rule_events(struct bnode *n, int64_t now, const struct rule_edge *ed, size_t ne)
{
	for (size_t i = 0; i < ne; i++) {
		int action = rules_action(n->rules, ed[i].rule);
		const char *name = rules_name(n->rules, ed[i].rule);
		if (action == RULE_ALERT) {
			if (!ed[i].on)
				continue;
			char text[512];
			rule_alert_format(rules_alert_message(n->rules, ed[i].rule), n->host,
			                  ed[i].subject, name, text, sizeof text);
			cJSON *e = event_new(n, now, "alert");
			cJSON_AddStringToObject(e, "rule", name);
			if (ed[i].subject[0])
				cJSON_AddStringToObject(e, "vm", ed[i].subject);
			cJSON_AddStringToObject(e, "message", text);
			const char *hookurl = rules_alert_webhook(n->rules, ed[i].rule);
			if (hookurl && hookurl[0])
				cJSON_AddStringToObject(e, "webhook", hookurl);
			continue;
		}
		cJSON *e = event_new(n, now, "balance.rule");
		cJSON_AddStringToObject(e, "rule", name);
		cJSON_AddStringToObject(e, "action", rule_action_name(action));
		cJSON_AddStringToObject(e, "state", ed[i].on ? "on" : "off");
		if (ed[i].subject[0])
			cJSON_AddStringToObject(e, "vm", ed[i].subject);
	}
}

static void rule_sample_of(const struct bal_view *v, int self, const struct rule_guest *g,
                           size_t ng, struct rule_sample *rs)
{
	const struct bal_host *h = &v->hosts[self];
	memset(rs, 0, sizeof *rs);
	rs->cpu = h->cpu;
	rs->mem_total_mb = (double)h->mem_total_mb;
	rs->mem_free_mb = (double)h->mem_free_mb;
	rs->mem_used_mb = (double)(h->mem_total_mb - h->mem_free_mb);
	rs->vms = (int)h->nvms;
	double cpu = 0, cpus = 0, mt = 0, mu = 0;
	for (size_t i = 0; i < v->nhosts; i++) {
		const struct bal_host *o = &v->hosts[i];
		/* a host consolidation put on standby is still the cluster's capacity: the
		 * night rule must not see the cluster busier for having emptied it */
		if (o->state == BAL_STANDBY) {
			cpus += o->cpus;
			continue;
		}
		if (o->state != BAL_ONLINE)
			continue;
		rs->cluster_hosts++;
		cpu += o->cpu * o->cpus;
		cpus += o->cpus;
		mt += (double)o->mem_total_mb;
		mu += (double)(o->mem_total_mb - o->mem_free_mb);
	}
	rs->cluster_cpu = cpus > 0 ? cpu / cpus : 0;
	rs->cluster_mem_used = mt > 0 ? mu * 100 / mt : 0;
	rs->guests = g;
	rs->nguests = ng;
}

void bn_sample(struct bnode *n, int64_t now, const struct bal_view *v,
               const struct rule_guest *guests, size_t nguests)
{
	int self = bal_view_find(v, n->host);
	if (self < 0)
		return;
	char err[VMC_ERR_MAX];
	enum policy_mode mode;
	struct rule_settings s;
	policy_effective(n->has_policy ? &n->policy : NULL, rules_settings(n->rules), now,
	                 n->utc_offset_s, &mode, &s, err, sizeof err);
	if (s.offer_window_ms < n->min_window_ms)
		s.offer_window_ms = n->min_window_ms;
	if (s.reservation_ms < n->min_reservation_ms)
		s.reservation_ms = n->min_reservation_ms;
	if (s.reservation_ms < 2 * s.offer_window_ms)
		s.reservation_ms = 2 * s.offer_window_ms;
	n->s = s;
	if (n->mode_known && mode != n->mode) {
		/* a policy message or one of its windows changed the mode */
		cJSON *e = event_new(n, now, "balance.mode");
		cJSON_AddStringToObject(e, "mode", policy_mode_name(mode));
		cJSON_AddStringToObject(e, "was", policy_mode_name(n->mode));
	}
	n->mode = mode;
	n->mode_known = 1;
	rule_eval_configure(n->eval, &s, n->utc_offset_s);
	rule_eval_disable(n->eval, policy_disabled_actions(mode));
	struct rule_sample rs;
	rule_sample_of(v, self, guests, nguests, &rs);
	struct rule_edge ed[32];
	size_t ne = 0;
	n->actions = rule_eval_step(n->eval, now, &rs, ed, 32, &ne);
	if (mode == POLICY_CONSOLIDATE)
		n->actions |= RULE_MASK(RULE_CONSOLIDATE);
	rule_events(n, now, ed, ne);
	const struct bal_host *h = &v->hosts[self];
	for (size_t i = 0; i < h->nvms; i++)
		if (!(h->vms[i].flags & BAL_VM_MIGRATING))
			reserve_promise_arrived(n->resv, h->vms[i].name, h->vms[i].cpu, now,
			                        n->arrival_hold_ms);
	if (running_vms(h) > 0 || !(n->actions & RULE_MASK(RULE_CONSOLIDATE)))
		n->powered_off = 0;
	hist_prune(n, now);
	ask(n, now, v);
}

void bn_tick(struct bnode *n, int64_t now, const struct bal_view *v)
{
	reserve_promise_expire(n->resv, now);
	if (bp_collect_due(&n->collect, now))
		choose(n, now, v);
	start_migrations(n);
	ask(n, now, v);
}

int64_t bn_next_deadline(const struct bnode *n)
{
	int64_t t = INT64_MAX;
	if (n->collect.active)
		t = n->collect.deadline;
	int64_t e = reserve_promise_next_expiry(n->resv);
	if (e < t)
		t = e;
	/* a request the back-off or the settling time holds back is weighed again when they
	 * end; one due and weighed already (under high, the cluster busy) waits for the
	 * next sample, which asks again */
	const unsigned asking =
	    RULE_MASK(RULE_EVACUATE) | RULE_MASK(RULE_BALANCE) | RULE_MASK(RULE_CONSOLIDATE);
	if (!n->collect.active && !n->nqueue && (n->actions & asking)) {
		int64_t a = n->next_ask > n->settle_until ? n->next_ask : n->settle_until;
		if (a > n->asked_at && a < t)
			t = a;
	}
	return t;
}
