/* holds.c - manual holds: a VM moved by hand (vm.migrate) stays where it was put for
 * `manual_hold` (virtual time, the balancer's clock) or until released (vm.release).
 *
 * A hold is the retained message balance/hold/<host>/<vm> {"vm", "until", "by"},
 * written by the host that took the command on its own topic (a host speaks only for
 * itself, as the production ACL enforces) and read by every host agent; of the records
 * of one VM the newest (envelope ts) wins, and "until": 0 is a release. The host running
 * the VM lists "held_until" in its load message and VM record, so consoles show it and
 * every balancer leaves the VM alone (bal_vm_movable); evacuation (drain) still moves
 * it. A host clears its own retained record once the hold is over or released. */
#include "../hostd.h"

#include "../../../lib/core/log.h"
#include "../../../lib/bus/topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLDS_MAX 4096
#define HOLD_MAX_MS (7 * 86400000LL) /* a hold read from the bus never lasts longer */

struct hold {
	char vm[VMC_NAME_MAX + 1];
	int64_t until;
	int64_t ts; /* the newest record's time: an older one changes nothing */
	int mine;   /* this host has a retained record of it */
};

struct holds {
	struct hold *v;
	size_t n, cap;
};

static struct holds *holds_of(struct hostd *h, int create)
{
	if (!h->holds && create) {
		h->holds = calloc(1, sizeof(struct holds));
		if (!h->holds)
			abort();
	}
	return h->holds;
}

void hostd_holds_free(struct hostd *h)
{
	struct holds *t = h->holds;
	if (!t)
		return;
	free(t->v);
	free(t);
	h->holds = NULL;
}

static struct hold *find(struct holds *t, const char *vm)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (strcmp(t->v[i].vm, vm) == 0)
			return &t->v[i];
	return NULL;
}

/* Records vm's hold (until 0: none) as of ts; an older record changes nothing. The
 * entry stays while this host has a record of its own to clear. 0, or -1 if full. */
static int table_set(struct holds *t, const char *vm, int64_t until, int64_t ts, int mine)
{
	struct hold *x = find(t, vm);
	if (x && ts < x->ts)
		return 0;
	if (until <= 0 && !(x && (x->mine || mine))) {
		if (x)
			*x = t->v[--t->n];
		return 0;
	}
	if (!x) {
		if (t->n == HOLDS_MAX)
			return -1;
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 16;
			struct hold *nv = realloc(t->v, t->cap * sizeof(*nv));
			if (!nv)
				abort();
			t->v = nv;
		}
		x = &t->v[t->n++];
		memset(x, 0, sizeof(*x));
		snprintf(x->vm, sizeof(x->vm), "%s", vm);
	}
	x->until = until > 0 ? until : 0;
	x->ts = ts;
	x->mine |= mine;
	return 0;
}

/* Clears this host's own retained record of vm (its hold is over or released). */
static void clear_mine(struct hostd *h, struct hold *x)
{
	char t[VMC_TOPIC_MAX];
	if (!x->mine ||
	    topic_fmt(t, sizeof(t), h->opts.cluster, "balance/hold/%s/%s", h->opts.name, x->vm) < 0)
		return;
	bus_publish(h->bus, t, "", 0, 1, 1);
	x->mine = 0;
}

int64_t hostd_hold_get(struct hostd *h, const char *vm)
{
	const struct hold *x = find(holds_of(h, 0), vm);
	return x ? x->until : 0;
}

int hostd_hold_set(struct hostd *h, const char *vm, int64_t until, const char *by)
{
	char t[VMC_TOPIC_MAX];
	int64_t now = hostd_now(h);
	const struct hold *x = find(holds_of(h, 1), vm);
	if (x && x->ts > now)
		now = x->ts + 1; /* a record newer than the one it replaces */
	if (topic_fmt(t, sizeof(t), h->opts.cluster, "balance/hold/%s/%s", h->opts.name, vm) < 0 ||
	    table_set(holds_of(h, 1), vm, until, now, 1) < 0)
		return -1;
	/* a release is a record too ("until": 0): another host's record may still hold it */
	cJSON *m = msg_new(h->sender, now);
	cJSON_AddStringToObject(m, "vm", vm);
	cJSON_AddNumberToObject(m, "until", (double)(until > 0 ? until : 0));
	if (by && by[0])
		cJSON_AddStringToObject(m, "by", by);
	int rc = bus_publish_json(h->bus, t, m, 1, 1);
	cJSON_Delete(m);
	return rc;
}

int64_t hostd_held_until(struct hostd *h, const char *vm)
{
	struct hold *x = find(holds_of(h, 0), vm);
	if (!x)
		return 0;
	if (x->until > hostd_now(h))
		return x->until;
	if (x->until > 0)
		log_info("vm %s: manual hold over", vm);
	x->until = 0;
	clear_mine(h, x);
	return 0;
}

void hostd_holds_message(struct hostd *h, const char *host, const char *vm, struct hostd_msg *m)
{
	char err[VMC_ERR_MAX];
	if (vmc_name_check(vm, "balance/hold/<host>/<vm>", err, sizeof(err)) < 0) {
		log_debug("hold ignored: %s", err);
		return;
	}
	if (m->raw->len == 0)
		return; /* a host cleared its record: the newest record already says why */
	const cJSON *j = hostd_msg_json(m); /* NULL too if "from" is not host/<host> */
	const char *name;
	int64_t until, ts, now = hostd_now(h);
	if (!j) {
		log_debug("hold of %s ignored: %s", vm, m->err);
		return;
	}
	if (msg_get_name(j, NULL, "vm", 1, &name, err, sizeof(err)) < 0 ||
	    msg_get_int(j, NULL, "until", 1, 0, INT64_C(1) << 52, &until, err, sizeof(err)) < 0 ||
	    msg_get_int(j, NULL, "ts", 1, 0, INT64_C(1) << 52, &ts, err, sizeof(err)) < 0) {
		log_debug("hold of %s ignored: %s", vm, err);
		return;
	}
	if (strcmp(name, vm) != 0 || until > now + HOLD_MAX_MS) {
		log_debug("hold of %s ignored: %s", vm,
		          strcmp(name, vm) != 0 ? "vm differs from the topic's"
		                                : "longer than 7 days");
		return;
	}
	int mine = strcmp(host, h->opts.name) == 0; /* our own, as retained before a restart */
	if (table_set(holds_of(h, 1), vm, until, ts, mine) < 0)
		log_warnx("hold of %s ignored: more than %d holds", vm, HOLDS_MAX);
}

/* vm.release {name}: ends a manual hold at once. */
enum hostd_op_result hostd_holds_op_release(struct hostd *h, struct hostd_req *req)
{
	const char *name;
	char err[VMC_ERR_MAX];
	if (msg_get_name(req->args, "args", "name", 1, &name, err, sizeof(err)) != 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		return HOSTD_REPLIED;
	}
	int64_t was = hostd_hold_get(h, name);
	int held = was > hostd_now(h);
	if (held && hostd_hold_set(h, name, 0, NULL) < 0) {
		hostd_reply_err(h, req, VMC_E_INTERNAL, "vm %s: cannot publish the release", name);
		return HOSTD_REPLIED;
	}
	if (held)
		hostd_event(h, "vm.released", name, NULL);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "vm", name);
	cJSON_AddBoolToObject(r, "released", held);
	hostd_reply_ok(h, req, r);
	return HOSTD_REPLIED;
}
