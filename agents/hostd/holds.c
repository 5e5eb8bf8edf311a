/* holds.c - manual holds: a VM moved by hand (vm.migrate) stays where it was put for
 * `manual_hold` (virtual time, the balancer's clock) or until released (vm.release).
 *
 * A hold is the retained message balance/hold/<vm> {"vm", "until", "by"}, written by
 * the host that took the command (an empty retained payload releases it) and read by
 * every host agent. The host running the VM lists "held_until" in its load message and
 * vm/<vm> record, so consoles show it and every balancer leaves the VM alone
 * (bal_vm_movable); evacuation (drain) still moves it. The host running a VM whose
 * hold has ended clears the retained message. */
#include "hostd.h"

#include "../../lib/log.h"
#include "../../lib/topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLDS_MAX 4096
#define HOLD_MAX_MS (7 * 86400000LL) /* a hold read from the bus never lasts longer */

struct hold {
	char vm[VMC_NAME_MAX + 1];
	int64_t until;
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

/* Records vm's hold (until 0: none). 0, or -1 if the table is full. */
static int table_set(struct holds *t, const char *vm, int64_t until)
{
	struct hold *x = find(t, vm);
	if (until <= 0) {
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
		snprintf(x->vm, sizeof(x->vm), "%s", vm);
	}
	x->until = until;
	return 0;
}

int64_t hostd_hold_get(struct hostd *h, const char *vm)
{
	const struct hold *x = find(holds_of(h, 0), vm);
	return x ? x->until : 0;
}

int hostd_hold_set(struct hostd *h, const char *vm, int64_t until, const char *by)
{
	char t[VMC_TOPIC_MAX];
	if (topic_fmt(t, sizeof(t), h->opts.cluster, "balance/hold/%s", vm) < 0 ||
	    table_set(holds_of(h, 1), vm, until) < 0)
		return -1;
	if (until <= 0)
		return bus_publish(h->bus, t, "", 0, 1, 1);
	cJSON *m = msg_new(h->sender, hostd_now(h));
	cJSON_AddStringToObject(m, "vm", vm);
	cJSON_AddNumberToObject(m, "until", (double)until);
	if (by && by[0])
		cJSON_AddStringToObject(m, "by", by);
	int rc = bus_publish_json(h->bus, t, m, 1, 1);
	cJSON_Delete(m);
	return rc;
}

int64_t hostd_held_until(struct hostd *h, const char *vm)
{
	int64_t until = hostd_hold_get(h, vm);
	if (until <= 0)
		return 0;
	if (until > hostd_now(h))
		return until;
	/* over: this host runs the VM, so it clears the retained hold */
	log_info("vm %s: manual hold over", vm);
	hostd_hold_set(h, vm, 0, NULL);
	return 0;
}

void hostd_holds_message(struct hostd *h, const char *vm, struct hostd_msg *m)
{
	char err[VMC_ERR_MAX];
	if (vmc_name_check(vm, "balance/hold/<vm>", err, sizeof(err)) < 0) {
		log_debug("hold ignored: %s", err);
		return;
	}
	if (m->raw->len == 0) {
		table_set(holds_of(h, 1), vm, 0);
		return;
	}
	const cJSON *j = hostd_msg_json(m);
	const char *name;
	int64_t until, now = hostd_now(h);
	if (!j) {
		log_debug("hold of %s ignored: %s", vm, m->err);
		return;
	}
	if (msg_get_name(j, NULL, "vm", 1, &name, err, sizeof(err)) < 0 ||
	    msg_get_int(j, NULL, "until", 1, 0, INT64_C(1) << 52, &until, err, sizeof(err)) < 0) {
		log_debug("hold of %s ignored: %s", vm, err);
		return;
	}
	if (strcmp(name, vm) != 0 || until > now + HOLD_MAX_MS) {
		log_debug("hold of %s ignored: %s", vm,
		          strcmp(name, vm) != 0 ? "vm differs from the topic's"
		                                : "longer than 7 days");
		return;
	}
	if (table_set(holds_of(h, 1), vm, until) < 0)
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
	if (was > 0 && hostd_hold_set(h, name, 0, NULL) < 0) {
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
