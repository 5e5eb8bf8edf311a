/* rule_eval.c - evaluates a host's rules over its samples. Pure.
 *
 * Driven by (now, sample) calls on the agent's virtual clock. Each rule keeps,
 * per subject (the host, or each VM with guest figures for rules on guest
 * metrics), since when its condition has held: it turns on once `when` has held
 * for its duration inside a window, and off once `until` has held for its own
 * (or, without `until`, as soon as `when` stops holding), or when its window
 * closes. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "rules_impl.h"

struct subject {
	char name[VMC_NAME_MAX + 1];
	int active;
	int64_t since;  /* `when` true continuously since; -1 if not */
	int64_t usince; /* `until` true continuously since; -1 if not */
	int seen;
};

struct rule_state {
	struct subject *subj;
	size_t n, cap;
};

struct rule_eval {
	const struct rules *r;
	struct rule_settings settings;
	long utc_offset_s;
	unsigned disabled;
	struct rule_state *st;
};

struct rule_eval *rule_eval_new(const struct rules *r, const struct rule_settings *settings,
                                long utc_offset_s)
{
	struct rule_eval *e = calloc(1, sizeof *e);
	if (!e)
		abort();
	e->r = r;
	e->st = calloc(r->n ? r->n : 1, sizeof *e->st);
	if (!e->st)
		abort();
	rule_eval_configure(e, settings, utc_offset_s);
	return e;
}

void rule_eval_free(struct rule_eval *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->r->n; i++)
		free(e->st[i].subj);
	free(e->st);
	free(e);
}

void rule_eval_configure(struct rule_eval *e, const struct rule_settings *settings,
                         long utc_offset_s)
{
	e->settings = settings ? *settings : e->r->settings;
	e->utc_offset_s = utc_offset_s;
}

void rule_eval_disable(struct rule_eval *e, unsigned action_mask)
{
	e->disabled = action_mask;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int rule_window_contains(const struct rule_window *w, int64_t now_ms, long utc_offset_s)
{
	int64_t local = floor_div(now_ms, 1000) + utc_offset_s;
	int64_t day = floor_div(local, 86400);
	int minute = (int)((local - day * 86400) / 60);
	int wday = (int)((day % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
	int yday = (wday + 6) % 7;
	if (w->start_min < w->end_min)
		return minute >= w->start_min && minute < w->end_min && (w->days >> wday & 1);
	return (minute >= w->start_min && (w->days >> wday & 1)) ||
	       (minute < w->end_min && (w->days >> yday & 1));
}

static double pct_of(double part, double total)
{
	return total > 0 ? part * 100.0 / total : 0;
}

/* The metric's value for this comparison (a percentage when n->pct). */
static double metric_value(const struct rule_node *n, const struct rule_sample *s,
                           const struct rule_guest *g)
{
	switch (n->metric) {
	case M_CPU:
		return s->cpu;
	case M_MEM_USED:
		return n->pct ? pct_of(s->mem_used_mb, s->mem_total_mb) : s->mem_used_mb;
	case M_MEM_FREE:
		return n->pct ? pct_of(s->mem_free_mb, s->mem_total_mb) : s->mem_free_mb;
	case M_VMS:
		return s->vms;
	case M_GUEST_CPU:
		return g ? g->cpu : 0;
	case M_GUEST_STEAL:
		return g ? g->steal : 0;
	case M_GUEST_LOAD1:
		return g ? g->load1 : 0;
	case M_GUEST_MEM_USED:
		if (!g)
			return 0;
		return n->pct ? pct_of(g->mem_used_mb, g->mem_total_mb) : g->mem_used_mb;
	case M_CLUSTER_CPU:
		return s->cluster_cpu;
	case M_CLUSTER_MEM_USED:
		return s->cluster_mem_used;
	case M_CLUSTER_HOSTS:
		return s->cluster_hosts;
	default:
		return 0;
	}
}

static int compare(enum rule_op op, double a, double b)
{
	switch (op) {
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_EQ:
		return a == b;
	default:
		return a != b;
	}
}

static int eval_node(const struct rule_eval *e, int i, const struct rule_sample *s,
                     const struct rule_guest *g)
{
	const struct rule_node *n = &e->r->nodes[i];
	switch (n->kind) {
	case RN_AND:
		return eval_node(e, n->a, s, g) && eval_node(e, n->b, s, g);
	case RN_OR:
		return eval_node(e, n->a, s, g) || eval_node(e, n->b, s, g);
	case RN_NOT:
		return !eval_node(e, n->a, s, g);
	default: {
		double v =
		    n->setting >= 0 ? rule_setting_value(&e->settings, n->setting) : n->value;
		return compare(n->op, metric_value(n, s, g), v);
	}
	}
}

static int64_t duration(const struct rule_eval *e, int64_t ms, int setting)
{
	return setting >= 0 ? (int64_t)rule_setting_value(&e->settings, setting) : ms;
}

static struct subject *subject_get(struct rule_state *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->subj[i].name, name) == 0)
			return &st->subj[i];
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 4;
		struct subject *ns = realloc(st->subj, st->cap * sizeof *ns);
		if (!ns)
			abort();
		st->subj = ns;
	}
	struct subject *su = &st->subj[st->n++];
	memset(su, 0, sizeof *su);
	snprintf(su->name, sizeof su->name, "%s", name);
	su->since = su->usince = -1;
	return su;
}

struct edge_out {
	struct rule_edge *edges;
	size_t max, n;
};

static void edge_emit(struct edge_out *o, size_t rule, int on, const char *subject)
{
	if (o->n < o->max) {
		struct rule_edge *ed = &o->edges[o->n];
		ed->rule = rule;
		ed->on = on;
		snprintf(ed->subject, sizeof ed->subject, "%s", subject);
	}
	o->n++;
}

/* Advances one subject's state. */
static void subject_step(struct rule_eval *e, size_t ri, struct subject *su, int enabled,
                         int64_t now, const struct rule_sample *s, const struct rule_guest *g,
                         struct edge_out *o)
{
	const struct rule *ru = &e->r->rules[ri];
	if (!enabled) {
		if (su->active)
			edge_emit(o, ri, 0, su->name);
		su->active = 0;
		su->since = su->usince = -1;
		return;
	}
	int w = ru->when < 0 ? 1 : eval_node(e, ru->when, s, g);
	if (!su->active) {
		if (!w) {
			su->since = -1;
			return;
		}
		if (su->since < 0)
			su->since = now;
		if (now - su->since >= duration(e, ru->when_for, ru->when_for_setting)) {
			su->active = 1;
			su->usince = -1;
			edge_emit(o, ri, 1, su->name);
		}
		return;
	}
	int clear = ru->until >= 0 ? eval_node(e, ru->until, s, g) : !w;
	int64_t hold = ru->until >= 0 ? duration(e, ru->until_for, ru->until_for_setting) : 0;
	if (!clear) {
		su->usince = -1;
		return;
	}
	if (su->usince < 0)
		su->usince = now;
	if (now - su->usince >= hold) {
		su->active = 0;
		su->since = su->usince = -1;
		edge_emit(o, ri, 0, su->name);
	}
}

static int in_windows(const struct rule_eval *e, const struct rule *ru, int64_t now)
{
	if (ru->nwindows == 0)
		return 1;
	for (size_t i = 0; i < ru->nwindows; i++)
		if (rule_window_contains(&ru->windows[i], now, e->utc_offset_s))
			return 1;
	return 0;
}

unsigned rule_eval_step(struct rule_eval *e, int64_t now_ms, const struct rule_sample *s,
                        struct rule_edge *edges, size_t max, size_t *nedges)
{
	struct edge_out o = {edges, max, 0};
	unsigned mask = 0;
	for (size_t ri = 0; ri < e->r->n; ri++) {
		const struct rule *ru = &e->r->rules[ri];
		struct rule_state *st = &e->st[ri];
		int enabled = !(e->disabled & RULE_MASK(ru->action)) && in_windows(e, ru, now_ms);
		if (!ru->guest) {
			subject_step(e, ri, subject_get(st, ""), enabled, now_ms, s, NULL, &o);
		} else {
			for (size_t k = 0; k < st->n; k++)
				st->subj[k].seen = 0;
			for (size_t g = 0; g < s->nguests; g++) {
				if (!s->guests[g].known || !s->guests[g].vm)
					continue;
				struct subject *su = subject_get(st, s->guests[g].vm);
				su->seen = 1;
				subject_step(e, ri, su, enabled, now_ms, s, &s->guests[g], &o);
			}
			/* VMs that left (or lost their guest agent) clear their state */
			for (size_t k = 0; k < st->n;) {
				if (st->subj[k].seen) {
					k++;
					continue;
				}
				if (st->subj[k].active)
					edge_emit(&o, ri, 0, st->subj[k].name);
				st->subj[k] = st->subj[--st->n];
			}
		}
		if (rule_eval_active(e, ri))
			mask |= RULE_MASK(ru->action);
	}
	if (nedges)
		*nedges = o.n < max ? o.n : max;
	return mask;
}

int rule_eval_active(const struct rule_eval *e, size_t i)
{
	if (i >= e->r->n)
		return 0;
	for (size_t k = 0; k < e->st[i].n; k++)
		if (e->st[i].subj[k].active)
			return 1;
	return 0;
}

char *rule_alert_format(const char *msg, const char *host, const char *vm, const char *rule,
                        char *out, size_t outlen)
{
	static const struct {
		const char *key;
		int which;
	} keys[] = {{"{host}", 0}, {"{vm}", 1}, {"{rule}", 2}};
	const char *vals[3] = {host ? host : "", vm ? vm : "", rule ? rule : ""};
	size_t n = 0;
	if (!outlen)
		return out;
	while (*msg && n + 1 < outlen) {
		int matched = 0;
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			size_t kl = strlen(keys[k].key);
			if (strncmp(msg, keys[k].key, kl) == 0) {
				n += snprintf(out + n, outlen - n, "%s", vals[keys[k].which]);
				if (n >= outlen)
					n = outlen - 1;
				msg += kl;
				matched = 1;
				break;
			}
		}
		if (!matched)
			out[n++] = *msg++;
	}
	out[n] = 0;
	return out;
}
