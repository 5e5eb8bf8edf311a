/* cluster_model.c - the cluster as the bus shows it (see cluster_model.h). Pure. */
#include "cluster_model.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../core/limits.h"
#include "../core/nametab.h"
#include "bal_parse.h"
#include "policy.h"
#include "../bus/topic.h"

#define MIGRATION_EXPIRE_MS (5 * 60 * 1000)
#define STALE_MIN_MS 6000
#define EVENT_DEDUP_MS 10000
#define EVENT_DEDUP_DEPTH 16

/* Hosts' loads kept by cluster_model_defer, not yet applied: the latest raw payload of
 * each host, in a list ordered by arrival (the latest last). A host's entry and its buffer
 * stay once applied, for its next load (no allocation per load), unless that load was bad
 * or over PENDING_KEEP_MAX bytes. */
struct pending_load {
	char name[VMC_NAME_MAX + 1]; /* first member: the index keys on it */
	char *buf;
	size_t len, cap;
	int queued; /* in the list, not yet applied */
	int retained;
	int64_t now;       /* when it arrived */
	unsigned replaced; /* loads it replaced before they were applied */
	struct pending_load *prev, *next;
	size_t idx_;
};

#define PENDING_KEEP_MAX 65536

struct pending_loads {
	struct nametab tab;
	struct pending_load *head, *tail;
	size_t n; /* queued */
	int nbad; /* bad loads met while flushing, since the last report */
	char first_err[VMC_ERR_MAX + VMC_NAME_MAX + 24]; /* the first of them, with its topic */
};

struct cluster_model {
	struct nametab hosts, vms, migs;
	struct cm_event *events; /* ring */
	size_t ev_cap, ev_next, ev_n;
	uint64_t version;
	uint64_t layout; /* objects added or removed (cluster_model_layout) */
	int64_t stale_ms;
	struct policy policy;
	int have_policy;
	int ha_on;                 /* the policy's "ha" */
	struct pending_loads pend; /* cluster_model_defer */
	int keep_recs;             /* cluster_model_keep_records */
};

static const char *const host_state_names[] = {"unknown", "online", "offline", "maintenance"};

const char *cm_host_state_name(enum cm_host_state s)
{
	if ((size_t)s >= sizeof(host_state_names) / sizeof(host_state_names[0]))
		return "unknown";
	return host_state_names[s];
}

/* As guests_json in the host agent writes them. */
static const char *const guest_fields[CM_GUEST_FIELDS] = {
    "cpu",    "steal",         "mem_total_mb", "mem_used_mb", "load1", "load5",
    "load15", "disk_used_pct", "uptime_s",     "vcpus",       "seq",   "age_ms"};

const char *cm_guest_field_name(size_t i)
{
	return i < CM_GUEST_FIELDS ? guest_fields[i] : "";
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "cluster_model: out of memory\n");
		abort();
	}
	return p;
}

/* As snprintf "%s" (cut to fit), without formatting: a load copies a few per VM. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static void vm_free(struct cm_vm *v)
{
	free(v->tags);
	free(v);
}

struct cluster_model *cluster_model_new(size_t events)
{
	struct cluster_model *m = xcalloc(1, sizeof(*m));
	nametab_init(&m->hosts, offsetof(struct cm_host, idx_));
	nametab_init(&m->vms, offsetof(struct cm_vm, idx_));
	nametab_init(&m->migs, offsetof(struct cm_migration, idx_));
	nametab_init(&m->pend.tab, offsetof(struct pending_load, idx_));
	m->ev_cap = events ? events : CM_EVENTS_DEFAULT;
	m->events = xcalloc(m->ev_cap, sizeof(*m->events));
	return m;
}

void cluster_model_free(struct cluster_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->hosts.n; i++) {
		free(((struct cm_host *)m->hosts.items[i])->vms_);
		free(((struct cm_host *)m->hosts.items[i])->rvms_);
		free(((struct cm_host *)m->hosts.items[i])->rinfo_);
	}
	for (size_t i = 0; i < m->vms.n; i++)
		free(((struct cm_vm *)m->vms.items[i])->tags);
	nametab_free(&m->hosts, 1);
	nametab_free(&m->vms, 1);
	nametab_free(&m->migs, 1);
	for (size_t i = 0; i < m->pend.tab.n; i++)
		free(((struct pending_load *)m->pend.tab.items[i])->buf);
	nametab_free(&m->pend.tab, 1);
	free(m->events);
	free(m);
}

/* --- events ---------------------------------------------------------------- */

/* An event like one seen lately (both ends of a migration report it; the reader notes
 * a lost host before or after someone else does). */
static int event_is_dup(const struct cluster_model *m, const char *type, const char *host,
                        const char *vm, int64_t ts)
{
	for (size_t i = 0; i < m->ev_n && i < EVENT_DEDUP_DEPTH; i++) {
		const struct cm_event *e = cluster_model_event_at(m, i);
		if (strcmp(e->type, type) != 0 || llabs(e->ts_ms - ts) > EVENT_DEDUP_MS)
			continue;
		if (vm[0] ? strcmp(e->vm, vm) == 0 : strcmp(e->host, host) == 0)
			return 1;
	}
	return 0;
}

static void event_add(struct cluster_model *m, int64_t ts, const char *type, const char *host,
                      const char *vm, const char *text, int local)
{
	host = host ? host : "";
	vm = vm ? vm : "";
	if (local != 2 && event_is_dup(m, type, host, vm, ts))
		return;
	struct cm_event *e = &m->events[m->ev_next];
	e->ts_ms = ts;
	copy_str(e->type, sizeof(e->type), type);
	copy_str(e->host, sizeof(e->host), host);
	copy_str(e->vm, sizeof(e->vm), vm);
	copy_str(e->text, sizeof(e->text), text);
	e->local = local != 0;
	m->ev_next = (m->ev_next + 1) % m->ev_cap;
	if (m->ev_n < m->ev_cap)
		m->ev_n++;
	m->version++;
}

void cluster_model_note(struct cluster_model *m, int64_t now_ms, const char *type, const char *host,
                        const char *vm, const char *text)
{
	event_add(m, now_ms, type, host, vm, text, 2); /* 2: local, never folded */
}

size_t cluster_model_event_count(const struct cluster_model *m)
{
	return m->ev_n;
}

const struct cm_event *cluster_model_event_at(const struct cluster_model *m, size_t i)
{
	if (i >= m->ev_n)
		return NULL;
	return &m->events[(m->ev_next + m->ev_cap - 1 - i) % m->ev_cap];
}

/* --- hosts and VMs ----------------------------------------------------------- */

static struct cm_host *host_get(struct cluster_model *m, const char *name)
{
	struct cm_host *h = nametab_find(&m->hosts, name);
	if (!h) {
		h = xcalloc(1, sizeof(*h));
		copy_str(h->name, sizeof(h->name), name);
		h->bal_state = BAL_OFFLINE;
		nametab_add(&m->hosts, h);
		m->layout++;
	}
	return h;
}

static struct cm_vm *vm_get(struct cluster_model *m, const char *name)
{
	struct cm_vm *v = nametab_find(&m->vms, name);
	if (!v) {
		v = xcalloc(1, sizeof(*v));
		copy_str(v->name, sizeof(v->name), name);
		copy_str(v->state, sizeof(v->state), "unknown");
		v->tags = xcalloc(1, 1);
		nametab_add(&m->vms, v);
		m->layout++;
	}
	return v;
}

/* Host h's list of the VMs its last load listed; each such VM is in exactly one list. */
static void host_list_add(struct cm_host *h, struct cm_vm *v)
{
	if (h->nvms_ == h->cap_vms_) {
		h->cap_vms_ = h->cap_vms_ ? h->cap_vms_ * 2 : 8;
		h->vms_ = realloc(h->vms_, h->cap_vms_ * sizeof(*h->vms_));
		if (!h->vms_) {
			fprintf(stderr, "cluster_model: out of memory\n");
			abort();
		}
	}
	v->hidx_ = h->nvms_;
	h->vms_[h->nvms_++] = v;
}

static void host_list_del(struct cm_host *h, struct cm_vm *v)
{
	size_t at = v->hidx_;
	h->vms_[at] = h->vms_[--h->nvms_];
	h->vms_[at]->hidx_ = at;
}

/* v is no longer listed by its host: it goes, or falls back to its inventory record. */
static void vm_unlist(struct cluster_model *m, struct cm_vm *v)
{
	host_list_del(v->load_host_, v);
	v->load_host_ = NULL;
	v->in_load_ = 0;
	if (!v->in_record_) {
		nametab_del(&m->vms, v);
		m->layout++;
		vm_free(v);
		return;
	}
	copy_str(v->host, sizeof(v->host), v->rec_host_);
}

static void host_remove(struct cluster_model *m, struct cm_host *h)
{
	while (h->nvms_)
		vm_unlist(m, h->vms_[h->nvms_ - 1]);
	free(h->vms_);
	free(h->rvms_);
	free(h->rinfo_);
	nametab_del(&m->hosts, h);
	m->layout++;
	free(h);
}

/* --- field access ------------------------------------------------------------ */

/* When a message was current: now for live ones; the sender's ts (never later than
 * now) for retained ones, which may be old. */
static int64_t msg_seen(const cJSON *o, int retained, int64_t now)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
	if (!retained || !cJSON_IsNumber(ts) || ts->valuedouble <= 0)
		return now;
	return ts->valuedouble < (double)now ? (int64_t)ts->valuedouble : now;
}

/* The envelope (msg_check_envelope), except that a ts of another unit (e.g. ns) is no
 * reason to drop what a host says: every use of it here is bounded (msg_seen, msg_ts). */
static int check_envelope(const cJSON *o, char *err, size_t errlen)
{
	int64_t v;
	const char *from;
	double ts;
	if (msg_get_int(o, NULL, "v", 1, VMC_SCHEMA, VMC_SCHEMA, &v, err, errlen) != 0 ||
	    msg_get_str(o, NULL, "from", 1, VMC_TOPIC_MAX, &from, err, errlen) != 0 ||
	    msg_get_num(o, NULL, "ts", 1, 0, 9e18, &ts, err, errlen) != 0)
		return -1;
	return 0;
}

/* The ts a message carries, in its sender's clock; 0 if none that fits. */
static int64_t msg_ts(const cJSON *o)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
	return cJSON_IsNumber(ts) && ts->valuedouble > 0 && ts->valuedouble < 1e15
	           ? (int64_t)ts->valuedouble
	           : 0;
}

static const char *opt_str(const cJSON *o, const char *field)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, field);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static enum cm_host_state host_state_parse(const char *s)
{
	for (size_t i = 1; i < sizeof(host_state_names) / sizeof(host_state_names[0]); i++)
		if (strcmp(s, host_state_names[i]) == 0)
			return (enum cm_host_state)i;
	return CM_HOST_UNKNOWN;
}

/* Reads the optional "state" of a host message. Returns 0 (absent: *out untouched), or -1. */
static int get_host_state(const cJSON *o, const char *ctx, enum cm_host_state *out, char *err,
                          size_t errlen)
{
	const char *s = NULL;
	int r = msg_get_str(o, ctx, "state", 0, CM_STATE_MAX - 1, &s, err, errlen);
	if (r != 0)
		return r < 0 ? -1 : 0;
	enum cm_host_state st = host_state_parse(s);
	if (st == CM_HOST_UNKNOWN) {
		snprintf(err, errlen,
		         "%s.state: expected online, offline or maintenance, not \"%s\"", ctx, s);
		return -1;
	}
	*out = st;
	return 0;
}

/* Joins the strings of a "tags" array with commas (cut to len - 1). */
static void tags_join(const cJSON *arr, char *out, size_t len)
{
	size_t used = 0;
	const cJSON *t;
	out[0] = '\0';
	cJSON_ArrayForEach(t, arr)
	{
		if (!cJSON_IsString(t))
			continue;
		int n = snprintf(out + used, len - used, "%s%s", used ? "," : "", t->valuestring);
		if (n < 0 || (size_t)n >= len - used) {
			out[used] = '\0';
			return;
		}
		used += (size_t)n;
	}
}

/* The members of a VM object that the model reads (vm_fields). */
enum vm_field {
	VF_NAME,
	VF_STATE,
	VF_VCPUS,
	VF_MEM_MB,
	VF_CPU,
	VF_NET_RX,
	VF_NET_TX,
	VF_BLK_RD,
	VF_BLK_WR,
	VF_TAGS,
	VF_GUEST,
	VF_HELD_UNTIL,
	VF_HOLD_UNTIL,
	VF__COUNT
};

static const char *const vm_field_names[VF__COUNT] = {
    "name",   "state",  "vcpus", "mem_mb", "cpu",        "net_rx",     "net_tx",
    "blk_rd", "blk_wr", "tags",  "guest",  "held_until", "hold_until",
};

/* Finds the members of VM object o in one pass over them (a load lists tens of VMs, and
 * a look-up for each member walks them all): f[k] is the first member named
 * vm_field_names[k], as cJSON_GetObjectItemCaseSensitive would find it, or NULL (all NULL
 * if o is not an object). */
static void vm_fields(const cJSON *o, const cJSON *f[VF__COUNT])
{
	for (size_t k = 0; k < VF__COUNT; k++)
		f[k] = NULL;
	for (const cJSON *it = cJSON_IsObject(o) ? o->child : NULL; it; it = it->next) {
		const char *s = it->string;
		if (!s)
			continue;
		for (size_t k = 0; k < VF__COUNT; k++)
			if (!f[k] && s[0] == vm_field_names[k][0] &&
			    strcmp(s, vm_field_names[k]) == 0) {
				f[k] = it;
				break;
			}
	}
}

/* A manual migration's hold: "held_until" (or "hold_until") of the VM object (its
 * members f), in the clock of the host that sent the message, whose own ts (NULL if
 * none) says what time that clock showed (the sim driver's clock may run faster than the
 * wall's). Anything but a positive number means no hold. */
static void vm_hold(struct cm_vm *v, const cJSON *const f[VF__COUNT], const cJSON *ts, int64_t now)
{
	const cJSON *until = f[VF_HELD_UNTIL];
	if (!until)
		until = f[VF_HOLD_UNTIL];
	double sent = cJSON_IsNumber(ts) && ts->valuedouble > 0 ? ts->valuedouble : (double)now;
	v->hold_until_ms = 0;
	v->hold_left_ms = 0;
	if (!cJSON_IsNumber(until) || until->valuedouble <= 0 || until->valuedouble > 1e15 ||
	    sent > 1e15)
		return;
	v->hold_until_ms = (int64_t)until->valuedouble;
	v->hold_left_ms = v->hold_until_ms > (int64_t)sent ? v->hold_until_ms - (int64_t)sent : 0;
	v->hold_seen_ms_ = now;
}

/* Takes a VM object's "tags" (arr, NULL if absent: none). */
static void vm_set_tags(struct cm_vm *v, const cJSON *arr)
{
	char joined[CM_TAGS_MAX];
	joined[0] = '\0';
	if (arr)
		tags_join(arr, joined, sizeof(joined));
	v->has_tags = arr != NULL;
	if (strcmp(joined, v->tags) == 0)
		return; /* as it mostly is: no allocation per load */
	size_t n = strlen(joined) + 1;
	char *t = xcalloc(1, n);
	memcpy(t, joined, n);
	free(v->tags);
	v->tags = t;
}

/* Keeps every figure of a VM object's "guest" (g, NULL if absent: none) as it came. */
static void vm_guest_all(struct cm_vm *v, const cJSON *g)
{
	v->guest_has = 0;
	for (size_t i = 0; g && i < CM_GUEST_FIELDS; i++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(g, guest_fields[i]);
		if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble))
			continue;
		v->guest[i] = f->valuedouble;
		v->guest_has |= 1u << i;
	}
}

int64_t cluster_model_vm_hold_left(const struct cm_vm *v, int64_t now_ms)
{
	int64_t left =
	    v->hold_left_ms - (now_ms > v->hold_seen_ms_ ? now_ms - v->hold_seen_ms_ : 0);
	return v->hold_left_ms > 0 && left > 0 ? left : 0;
}

/* Fills a VM's figures from a VM object's members f (vm_fields). ctx names it in errors
 * ("load.vms[3]"). Returns 0, or -1 (v is then partly updated, which the next message
 * repairs). */
static int vm_fill(struct cm_vm *v, const cJSON *const f[VF__COUNT], const char *ctx, char *err,
                   size_t errlen)
{
	const char *state = NULL;
	int64_t i64;
	double d;
	const cJSON *arr = NULL, *guest = NULL;

	if (msg_val_str(f[VF_STATE], ctx, "state", 0, CM_STATE_MAX - 1, &state, err, errlen) < 0)
		return -1;
	if (state)
		copy_str(v->state, sizeof(v->state), state);
	i64 = v->vcpus;
	if (msg_val_int(f[VF_VCPUS], ctx, "vcpus", 0, 0, 4096, &i64, err, errlen) < 0)
		return -1;
	v->vcpus = (int)i64;
	if (msg_val_int(f[VF_MEM_MB], ctx, "mem_mb", 0, 0, INT64_C(1) << 40, &v->mem_mb, err,
	                errlen) < 0)
		return -1;
	d = v->cpu;
	if (msg_val_num(f[VF_CPU], ctx, "cpu", 0, 0, 1e7, &d, err, errlen) < 0)
		return -1;
	v->cpu = d;
	static const struct {
		enum vm_field field;
		size_t off;
	} io[] = {
	    {VF_NET_RX, offsetof(struct cm_vm, net_rx)},
	    {VF_NET_TX, offsetof(struct cm_vm, net_tx)},
	    {VF_BLK_RD, offsetof(struct cm_vm, blk_rd)},
	    {VF_BLK_WR, offsetof(struct cm_vm, blk_wr)},
	};
	v->has_io = 0;
	for (size_t k = 0; k < sizeof(io) / sizeof(io[0]); k++) {
		double n = 0;
		int r = msg_val_num(f[io[k].field], ctx, vm_field_names[io[k].field], 0, 0, 1.8e19,
		                    &n, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0) {
			*(uint64_t *)((char *)v + io[k].off) = (uint64_t)n;
			v->has_io = 1;
		}
	}
	int r = msg_val_array(f[VF_TAGS], ctx, "tags", 0, &arr, err, errlen);
	if (r < 0)
		return -1;
	vm_set_tags(v, r == 0 ? arr : NULL);
	r = msg_val_obj(f[VF_GUEST], ctx, "guest", 0, &guest, err, errlen);
	if (r < 0)
		return -1;
	vm_guest_all(v, r == 0 ? guest : NULL);
	if (r == 0) {
		char gctx[96];
		snprintf(gctx, sizeof(gctx), "%s.guest", ctx);
		if (msg_get_num(guest, gctx, "cpu", 0, 0, 1e5, &v->guest_cpu, err, errlen) < 0 ||
		    msg_get_num(guest, gctx, "steal", 0, 0, 1e5, &v->guest_steal, err, errlen) <
		        0 ||
		    msg_get_num(guest, gctx, "load1", 0, 0, 1e6, &v->guest_load1, err, errlen) <
		        0 ||
		    msg_get_int(guest, gctx, "mem_used_mb", 0, 0, INT64_C(1) << 40,
		                &v->guest_mem_used_mb, err, errlen) < 0)
			return -1;
		v->has_guest = 1;
	}
	return 0;
}

/* --- topic handlers ---------------------------------------------------------- */

struct apply_ctx {
	struct cluster_model *m;
	char name[VMC_NAME_MAX + 1]; /* the host or VM the topic names */
	const char *rest;            /* the topic after vmc/<cluster>/ */
	const cJSON *o;              /* NULL for an empty (deleting) payload */
	int retained;
	int64_t now;
	unsigned replaced; /* a deferred load: loads of its host it replaced unapplied */
	char *err;
	size_t errlen;
};

static void bal_track_state(struct cm_host *h, const char *state);
static void host_birth(struct cm_host *h, const cJSON *o);

static int apply_host_state(struct apply_ctx *a)
{
	struct cluster_model *m = a->m;
	struct cm_host *h = nametab_find(&m->hosts, a->name);
	if (!a->o) {
		if (h)
			host_remove(m, h);
		return 1;
	}
	enum cm_host_state st = CM_HOST_UNKNOWN;
	if (get_host_state(a->o, "state", &st, a->err, a->errlen) < 0)
		return -1;
	if (st == CM_HOST_UNKNOWN) {
		snprintf(a->err, a->errlen, "state.state: missing");
		return -1;
	}
	int64_t i64;
	const char *s;
	h = host_get(m, a->name);
	enum cm_host_state prev = h->state;
	h->state = st;
	h->has_state = 1;
	h->birth_session_ = 0;
	if (msg_get_int(a->o, "state", "session", 0, 0, INT64_MAX, &h->birth_session_, a->err,
	                a->errlen) < 0)
		return -1;
	if (h->birth_session_)
		h->session = h->birth_session_;
	if (msg_get_str(a->o, "state", "driver", 0, sizeof(h->driver) - 1, &s, a->err, a->errlen) ==
	    0)
		copy_str(h->driver, sizeof(h->driver), s);
	if (msg_get_str(a->o, "state", "version", 0, sizeof(h->version) - 1, &s, a->err,
	                a->errlen) == 0)
		copy_str(h->version, sizeof(h->version), s);
	if (msg_get_int(a->o, "state", "cpus", 0, 0, 1 << 20, &i64, a->err, a->errlen) == 0)
		h->cpus = (int)i64;
	if (msg_get_int(a->o, "state", "mem_total_mb", 0, 0, INT64_C(1) << 40, &h->mem_total_mb,
	                a->err, a->errlen) < 0)
		return -1;
	host_birth(h, a->o);
	bal_track_state(h, opt_str(a->o, "state"));
	h->last_seen_ms = msg_seen(a->o, a->retained, a->now);
	h->state_sent_ms_ = msg_ts(a->o);
	if (!h->have_load)
		h->sent_ms = h->state_sent_ms_;
	if (st == CM_HOST_OFFLINE)
		h->stale = 0;
	else if (!a->retained)
		h->last_load_ms_ = a->now; /* alive now: give its first load a full interval */
	if (!a->retained && st != prev) {
		if (st == CM_HOST_OFFLINE)
			event_add(m, a->now, "host.offline", h->name, "", "host lost", 1);
		else if (prev == CM_HOST_OFFLINE || prev == CM_HOST_UNKNOWN)
			event_add(m, a->now, "host.online", h->name, "", "", 1);
	}
	return 1;
}

/* replaced: loads between the last one applied and this one that were never applied
 * (cluster_model_defer), so not missed. */
static void host_seq(struct cm_host *h, const cJSON *o, int live, unsigned replaced)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
	if (!cJSON_IsNumber(seq) || seq->valuedouble < 1)
		return;
	uint64_t s = (uint64_t)seq->valuedouble;
	if (live && h->seq && s > h->seq + 1 + replaced)
		h->seq_gaps += s - h->seq - 1 - replaced;
	h->seq = s;
}

/* What a load repeats of the retained state (driver, version, session): a broker may keep
 * the state on one node only. */
static void load_identity(struct cm_host *h, const cJSON *o)
{
	char err[VMC_ERR_MAX];
	const char *s;
	if (msg_get_str(o, "load", "driver", 0, sizeof(h->driver) - 1, &s, err, sizeof(err)) == 0)
		copy_str(h->driver, sizeof(h->driver), s);
	if (msg_get_str(o, "load", "version", 0, sizeof(h->version) - 1, &s, err, sizeof(err)) == 0)
		copy_str(h->version, sizeof(h->version), s);
	h->load_session_ = 0;
	/* the state names the current session; a load names a later one only if the state
	 * of the new session has not come (the retained load of the one before may) */
	if (msg_get_int(o, "load", "session", 0, 0, INT64_MAX, &h->load_session_, err,
	                sizeof(err)) == 0 &&
	    h->load_session_ > h->session)
		h->session = h->load_session_;
}

/* A load's state, sequence number and times; seen is when the load was published. */
static void host_load_times(struct apply_ctx *a, struct cm_host *h, enum cm_host_state st,
                            int64_t seen)
{
	/* An offline host (its Last Will) stays offline until it speaks live again: its
	 * retained load is older than the will, whatever its ts says. Nor does a retained
	 * load sent before the retained state (e.g. online, the state maintenance) undo it. */
	if (!(a->retained && (h->state == CM_HOST_OFFLINE || msg_ts(a->o) < h->state_sent_ms_)))
		h->state = st;
	uint64_t prev_seq = h->seq;
	host_seq(h, a->o, !a->retained, a->replaced);
	if (!a->retained && h->have_load && h->last_load_ms_ && a->now > h->last_load_ms_) {
		/* the publish interval: time since the last load, over the loads it covered */
		int64_t dt = a->now - h->last_load_ms_;
		uint64_t k = prev_seq && h->seq > prev_seq ? h->seq - prev_seq : 1;
		h->interval_ms = dt / (int64_t)k;
	}
	h->have_load = 1;
	h->last_load_ms_ = seen;
	h->last_seen_ms = seen;
	h->sent_ms = msg_ts(a->o);
}

static int host_live(const struct cm_host *h);

/* Whether h's load leaves v where it is: h is gone (offline, stale) and v's host is live,
 * as when the last load of a dead host still lists a VM HA restarted elsewhere. */
static int vm_stays(const struct cm_vm *v, const struct cm_host *h)
{
	return v->in_load_ && v->load_host_ != h && !host_live(h) && host_live(v->load_host_);
}

/* The VM named name, listed at position at of h's load: the VM at that place of h's list
 * when it is that one (a load mostly lists the VMs the last one did, in the same order),
 * else by name (vm_get): a look-up among all VMs for each VM of each load costs more. */
static struct cm_vm *load_vm_get(struct cluster_model *m, struct cm_host *h, size_t at,
                                 const char *name)
{
	if (at < h->nvms_ && strcmp(h->vms_[at]->name, name) == 0)
		return h->vms_[at];
	return vm_get(m, name);
}

/* "load.vms[i]" into ctx (48 bytes): one for each VM of each load, so not by snprintf. */
static void vms_ctx(char *ctx, int i)
{
	char digits[12];
	size_t n = 0;
	unsigned u = (unsigned)i;
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < sizeof(digits));
	memcpy(ctx, "load.vms[", 9);
	for (size_t k = 0; k < n; k++)
		ctx[9 + k] = digits[n - 1 - k];
	ctx[9 + n] = ']';
	ctx[10 + n] = '\0';
}

/* The VMs of h's load: list those named, then drop those it no longer lists. Returns 1, or
 * -1 with the first bad VM in a->err (the others are still taken). */
static int host_load_vms(struct apply_ctx *a, struct cm_host *h, const cJSON *vms, int64_t seen)
{
	struct cluster_model *m = a->m;
	int rc = 1, i = 0;
	uint32_t gen = ++h->gen_;
	const cJSON *vo, *f[VF__COUNT];
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(a->o, "ts");
	cJSON_ArrayForEach(vo, vms)
	{
		char ctx[48], verr[VMC_ERR_MAX];
		const char *name;
		vms_ctx(ctx, i++);
		vm_fields(vo, f);
		if (!cJSON_IsObject(vo)) {
			snprintf(verr, sizeof(verr), "%s: expected an object", ctx);
		} else if (msg_val_name(f[VF_NAME], ctx, "name", 1, &name, verr, sizeof(verr)) ==
		           0) {
			struct cm_vm *v = load_vm_get(m, h, (size_t)i - 1, name);
			if (vm_stays(v, h))
				continue;
			if (v->in_load_ && v->load_host_ != h)
				host_list_del(v->load_host_, v);
			if (!v->in_load_ || v->load_host_ != h)
				host_list_add(h, v);
			v->in_load_ = 1;
			v->load_host_ = h;
			v->load_gen_ = gen;
			copy_str(v->host, sizeof(v->host), h->name);
			v->last_seen_ms = seen;
			vm_hold(v, f, ts, a->now);
			if (vm_fill(v, f, ctx, verr, sizeof(verr)) == 0)
				continue;
		}
		if (rc == 1) /* report the first bad VM; keep the others */
			copy_str(a->err, a->errlen, verr);
		rc = -1;
	}
	for (size_t k = h->nvms_; k-- > 0;)
		if (h->vms_[k]->load_gen_ != gen)
			vm_unlist(m, h->vms_[k]);
	h->nvms = cJSON_GetArraySize(vms);
	return rc;
}

static int apply_host_load(struct apply_ctx *a)
{
	struct cluster_model *m = a->m;
	const cJSON *o = a->o, *vms = NULL;
	enum cm_host_state st = CM_HOST_ONLINE;
	int64_t cpus = 0, mig_out = 0, mig_in = 0;
	double cpu = 0;
	if (!o)
		return 0;
	if (get_host_state(o, "load", &st, a->err, a->errlen) < 0 ||
	    msg_get_int(o, "load", "cpus", 0, 0, 1 << 20, &cpus, a->err, a->errlen) < 0 ||
	    msg_get_num(o, "load", "cpu", 0, 0, 100.5, &cpu, a->err, a->errlen) < 0 ||
	    msg_get_int(o, "load", "migrations_out", 0, 0, 1 << 20, &mig_out, a->err, a->errlen) <
	        0 ||
	    msg_get_int(o, "load", "migrations_in", 0, 0, 1 << 20, &mig_in, a->err, a->errlen) <
	        0 ||
	    msg_get_array(o, "load", "vms", 0, &vms, a->err, a->errlen) < 0)
		return -1;

	struct cm_host *h = host_get(m, a->name);
	int64_t seen = msg_seen(o, a->retained, a->now);
	host_load_times(a, h, st, seen);
	if (cpus)
		h->cpus = (int)cpus;
	load_identity(h, o);
	h->cpu = cpu;
	h->migrations_out = (int)mig_out;
	h->migrations_in = (int)mig_in;
	if (msg_get_int(o, "load", "mem_total_mb", 0, 0, INT64_C(1) << 40, &h->mem_total_mb, a->err,
	                a->errlen) < 0 ||
	    msg_get_int(o, "load", "mem_used_mb", 0, 0, INT64_C(1) << 40, &h->mem_used_mb, a->err,
	                a->errlen) < 0 ||
	    msg_get_int(o, "load", "mem_free_mb", 0, 0, INT64_C(1) << 40, &h->mem_free_mb, a->err,
	                a->errlen) < 0)
		return -1;
	if (h->state != CM_HOST_OFFLINE &&
	    a->now - h->last_load_ms_ <= cluster_model_stale_limit(m, h))
		h->stale = 0;

	int rc = host_load_vms(a, h, vms, seen);
	if (rc < 0)
		m->version++;
	return rc;
}

static int vm_record(struct apply_ctx *a)
{
	struct cluster_model *m = a->m;
	struct cm_vm *v = nametab_find(&m->vms, a->name);
	char owner[VMC_NAME_MAX + 1]; /* host/<owner>/vm/<vm>: only that host writes it */
	if (topic_segment(a->rest, 1, owner, sizeof(owner)) < 0)
		return -1;
	if (!a->o) {
		/* a host clearing its record of a VM that another host now records */
		if (v && v->in_record_ && strcmp(v->rec_host_, owner) != 0)
			return 0;
		if (v && v->in_record_) {
			v->in_record_ = 0;
			if (!v->in_load_) {
				nametab_del(&m->vms, v);
				m->layout++;
				vm_free(v);
			}
		}
		return 1;
	}
	const char *host = NULL, *name = NULL;
	if (msg_get_name(a->o, "vm", "host", 0, &host, a->err, a->errlen) < 0 ||
	    msg_get_name(a->o, "vm", "name", 0, &name, a->err, a->errlen) < 0)
		return -1;
	if (host && strcmp(host, owner) != 0) {
		snprintf(a->err, a->errlen, "vm.host: \"%s\" is not the topic's host \"%s\"", host,
		         owner);
		return -1;
	}
	if (name && strcmp(name, a->name) != 0) {
		snprintf(a->err, a->errlen, "vm.name: \"%s\" differs from the topic's \"%s\"", name,
		         a->name);
		return -1;
	}
	v = vm_get(m, a->name);
	v->in_record_ = 1;
	copy_str(v->rec_host_, sizeof(v->rec_host_), host);
	if (v->in_load_) /* its host's load is fresher */
		return 1;
	copy_str(v->host, sizeof(v->host), host);
	v->last_seen_ms = msg_seen(a->o, a->retained, a->now);
	const cJSON *f[VF__COUNT];
	vm_fields(a->o, f);
	vm_hold(v, f, cJSON_GetObjectItemCaseSensitive(a->o, "ts"), a->now);
	return vm_fill(v, f, "vm", a->err, a->errlen) < 0 ? -1 : 1;
}

static int host_rec_apply(struct apply_ctx *a, char *err, size_t errlen);
static void host_rec_shares(struct cm_host *h);

/* A VM record: the VM (vm_record), or if records are kept, the record in its host's
 * list alone. */
static int apply_vm_record(struct apply_ctx *a)
{
	if (a->m->keep_recs)
		return host_rec_apply(a, a->err, a->errlen);
	return vm_record(a);
}

static int apply_host_summary(struct apply_ctx *a);

static int apply_guest_load(struct apply_ctx *a)
{
	struct cm_vm *v = nametab_find(&a->m->vms, a->name);
	const cJSON *o = a->o;
	if (!o || !v)
		return 0; /* a guest of a VM no host lists yet: its host's load will come */
	if (msg_get_num(o, "guest", "cpu", 0, 0, 1e5, &v->guest_cpu, a->err, a->errlen) < 0 ||
	    msg_get_num(o, "guest", "steal", 0, 0, 1e5, &v->guest_steal, a->err, a->errlen) < 0 ||
	    msg_get_num(o, "guest", "load1", 0, 0, 1e6, &v->guest_load1, a->err, a->errlen) < 0 ||
	    msg_get_int(o, "guest", "mem_used_mb", 0, 0, INT64_C(1) << 40, &v->guest_mem_used_mb,
	                a->err, a->errlen) < 0)
		return -1;
	v->has_guest = 1;
	return 1;
}

/* A number as people read it: whole numbers as they are, others to two decimals
 * without trailing zeros ("226.58", "0.5"). */
static void fmt_number(double d, char *out, size_t len)
{
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d) {
		snprintf(out, len, "%lld", (long long)d);
		return;
	}
	snprintf(out, len, "%.2f", d);
	char *dot = strchr(out, '.');
	if (!dot || strchr(out, 'e'))
		return;
	char *end = out + strlen(out);
	while (end > dot + 1 && end[-1] == '0')
		*--end = '\0';
	if (end == dot + 1)
		*dot = '\0';
}

/* "key=value" for the fields an event carries beyond envelope, type, host and vm. */
static void event_text(const cJSON *o, char *out, size_t len)
{
	static const char *const skip[] = {"v", "from", "ts", "seq", "type", "host", "vm"};
	size_t used = 0;
	const cJSON *it;
	out[0] = '\0';
	cJSON_ArrayForEach(it, o)
	{
		size_t k = 0;
		while (k < sizeof(skip) / sizeof(skip[0]) && strcmp(skip[k], it->string) != 0)
			k++;
		/* "from" is the envelope's sender ("host/h1"), except in migration events,
		 * where hostd_event replaces it with the source host */
		if (k < sizeof(skip) / sizeof(skip[0]) &&
		    (strcmp(it->string, "from") != 0 || !cJSON_IsString(it) ||
		     strchr(it->valuestring, '/')))
			continue;
		char val[96];
		if (cJSON_IsString(it))
			copy_str(val, sizeof(val), it->valuestring);
		else if (cJSON_IsNumber(it))
			fmt_number(it->valuedouble, val, sizeof(val));
		else if (cJSON_IsBool(it))
			copy_str(val, sizeof(val), cJSON_IsTrue(it) ? "true" : "false");
		else
			continue;
		int n =
		    snprintf(out + used, len - used, "%s%s=%s", used ? " " : "", it->string, val);
		if (n < 0 || (size_t)n >= len - used)
			return; /* keep what fitted */
		used += (size_t)n;
	}
}

static void migration_track(struct cluster_model *m, const char *type, const cJSON *o,
                            const char *host, const char *vm, int64_t now)
{
	struct cm_migration *g = nametab_find(&m->migs, vm);
	if (!strcmp(type, "migration.finished") || !strcmp(type, "migration.failed")) {
		if (g) {
			nametab_del(&m->migs, g);
			m->layout++;
			free(g);
		}
		return;
	}
	if (!g) {
		g = xcalloc(1, sizeof(*g));
		copy_str(g->vm, sizeof(g->vm), vm);
		g->percent = -1;
		g->started_ms = now;
		nametab_add(&m->migs, g);
		m->layout++;
	}
	const char *from = opt_str(o, "from"), *to = opt_str(o, "to");
	const cJSON *pct = cJSON_GetObjectItemCaseSensitive(o, "percent");
	char nerr[VMC_ERR_MAX];
	if (from && vmc_name_check(from, "from", nerr, sizeof(nerr)) == 0)
		copy_str(g->from, sizeof(g->from), from);
	else if (!g->from[0] && host[0] && !strcmp(type, "migration.started"))
		copy_str(g->from, sizeof(g->from), host);
	if (to && vmc_name_check(to, "to", nerr, sizeof(nerr)) == 0)
		copy_str(g->to, sizeof(g->to), to);
	if (cJSON_IsNumber(pct) && pct->valuedouble >= 0 && pct->valuedouble <= 100)
		g->percent = pct->valuedouble;
	g->updated_ms = now;
}

/* HA events: a host's fencing (dead_host, no vm), or what became of one VM. */
static void ha_track(struct cluster_model *m, const char *type, const cJSON *o, const char *vm)
{
	char nerr[VMC_ERR_MAX];
	if (vm[0]) {
		struct cm_vm *v = nametab_find(&m->vms, vm);
		if (!v)
			return;
		if (!strcmp(type, "ha.failed"))
			v->ha = CM_VM_HA_FAILED;
		else if (!strcmp(type, "ha.lost"))
			v->ha = CM_VM_HA_LOST;
		else if (!strcmp(type, "ha.restarted") || !strcmp(type, "vm.created") ||
		         !strcmp(type, "vm.started"))
			v->ha = CM_VM_HA_NONE;
		return;
	}
	const char *dead = opt_str(o, "dead_host"), *why = opt_str(o, "reason");
	struct cm_host *h = dead && vmc_name_check(dead, "dead_host", nerr, sizeof(nerr)) == 0
	                        ? nametab_find(&m->hosts, dead)
	                        : NULL;
	if (!h)
		return;
	if (!strcmp(type, "ha.fencing"))
		h->fence = CM_FENCE_FENCING;
	else if (!strcmp(type, "ha.fenced"))
		h->fence = CM_FENCE_FENCED;
	else if (!strcmp(type, "ha.failed"))
		h->fence = CM_FENCE_FAILED;
	else
		return;
	copy_str(h->fence_why, sizeof(h->fence_why), h->fence == CM_FENCE_FAILED ? why : "");
	h->fence_session_ = h->session;
}

enum cm_fence cluster_model_host_fence(const struct cm_host *h)
{
	return h->session == h->fence_session_ ? h->fence : CM_FENCE_NONE;
}

int cluster_model_ha_on(const struct cluster_model *m)
{
	return m->ha_on;
}

static int apply_event(struct apply_ctx *a)
{
	const char *type = NULL, *host = "", *vm = "";
	char text[CM_EVENT_TEXT_MAX];
	if (!a->o)
		return 0;
	if (msg_get_str(a->o, "event", "type", 1, CM_EVENT_TYPE_MAX - 1, &type, a->err, a->errlen) <
	        0 ||
	    msg_get_name(a->o, "event", "host", 0, &host, a->err, a->errlen) < 0 ||
	    msg_get_name(a->o, "event", "vm", 0, &vm, a->err, a->errlen) < 0)
		return -1;
	if (!strncmp(type, "migration.", 10) && vm[0])
		migration_track(a->m, type, a->o, host, vm, a->now);
	if (!strcmp(type, "migration.progress")) { /* shown live in the migration, not listed */
		a->m->version++;
		return 1;
	}
	if (!strncmp(type, "ha.", 3) || (vm[0] && !strncmp(type, "vm.", 3)))
		ha_track(a->m, type, a->o, vm);
	event_text(a->o, text, sizeof(text));
	event_add(a->m, msg_seen(a->o, 1, a->now), type, host, vm, text, 0);
	return 1;
}

static int apply_policy(struct apply_ctx *a)
{
	struct cluster_model *m = a->m;
	struct policy p;
	if (!a->o) { /* removed */
		m->have_policy = 0;
		m->ha_on = 0;
		return 1;
	}
	const cJSON *ha = cJSON_GetObjectItemCaseSensitive(a->o, "ha");
	m->ha_on = cJSON_IsString(ha) && !strcmp(ha->valuestring, "on"); /* as the agents read it */
	if (policy_parse(a->o, &p, a->err, a->errlen) < 0)
		return -1; /* the agents ignore it too; keep what was in force */
	m->policy = p;
	m->have_policy = 1;
	return 1;
}

static const struct {
	const char *filter;
	int name_seg; /* topic segment naming the host or VM, -1 for none */
	int (*fn)(struct apply_ctx *a);
} handlers[] = {
    {"host/+/state", 1, apply_host_state}, {"host/+/load", 1, apply_host_load},
    {"host/+/vm/+", 3, apply_vm_record},   {"host/+/summary", 1, apply_host_summary},
    {"guest/+/load", 1, apply_guest_load}, {"event", -1, apply_event},
    {"event/#", -1, apply_event},          {"policy", -1, apply_policy},
};

#define NHANDLERS (sizeof(handlers) / sizeof(handlers[0]))

/* The handler of topic rest, NHANDLERS if none. */
static size_t handler_of(const char *rest)
{
	size_t k = 0;
	while (k < NHANDLERS && !topic_matches(handlers[k].filter, rest))
		k++;
	return k;
}

/* rest's message, parsed (o, NULL for an empty payload) or not (payload, len; parsed here,
 * and freed). */
static int model_apply_msg(struct cluster_model *m, const char *rest, const cJSON *parsed,
                           const void *payload, size_t len, int retained, int64_t now_ms,
                           unsigned replaced, char *err, size_t errlen)
{
	struct apply_ctx a = {.m = m,
	                      .rest = rest,
	                      .retained = retained,
	                      .now = now_ms,
	                      .replaced = replaced,
	                      .err = err,
	                      .errlen = errlen};
	size_t k = handler_of(rest);
	if (k == NHANDLERS)
		return 0;
	if (handlers[k].name_seg >= 0) {
		if (topic_segment(rest, handlers[k].name_seg, a.name, sizeof(a.name)) < 0) {
			snprintf(err, errlen, "topic %.*s: the name is longer than %d characters",
			         100, rest, VMC_NAME_MAX);
			return -1;
		}
		if (vmc_name_check(a.name, "the name in the topic", err, errlen) < 0)
			return -1;
	}
	cJSON *o = NULL;
	if (!parsed && len > 0 && msg_parse(payload, len, &o, err, errlen) != VMC_OK)
		return -1;
	a.o = parsed ? parsed : o;
	int rc = -1;
	if (!a.o || (check_envelope(a.o, err, errlen) == 0 &&
	             topic_check_sender(rest, a.o, err, errlen) == 0))
		rc = handlers[k].fn(&a);
	cJSON_Delete(o);
	if (rc > 0)
		m->version++;
	return rc;
}

static int model_apply(struct cluster_model *m, const char *rest, const void *payload, size_t len,
                       int retained, int64_t now_ms, unsigned replaced, char *err, size_t errlen)
{
	return model_apply_msg(m, rest, NULL, payload, len, retained, now_ms, replaced, err,
	                       errlen);
}

int cluster_model_apply_json(struct cluster_model *m, const char *rest, const cJSON *o,
                             int retained, int64_t now_ms, char *err, size_t errlen)
{
	return model_apply_msg(m, rest, o, NULL, 0, retained, now_ms, 0, err, errlen);
}

int cluster_model_apply(struct cluster_model *m, const char *rest, const void *payload, size_t len,
                        int retained, int64_t now_ms, char *err, size_t errlen)
{
	return model_apply(m, rest, payload, len, retained, now_ms, 0, err, errlen);
}

/* --- time -------------------------------------------------------------------- */

void cluster_model_set_stale_ms(struct cluster_model *m, int64_t ms)
{
	m->stale_ms = ms > 0 ? ms : 0;
}

int64_t cluster_model_stale_limit(const struct cluster_model *m, const struct cm_host *h)
{
	if (m->stale_ms)
		return m->stale_ms;
	return 3 * h->interval_ms > STALE_MIN_MS ? 3 * h->interval_ms : STALE_MIN_MS;
}

int cluster_model_tick(struct cluster_model *m, int64_t now_ms)
{
	int changed = 0;
	for (size_t i = 0; i < m->hosts.n; i++) {
		struct cm_host *h = m->hosts.items[i];
		int64_t base = h->have_load ? h->last_load_ms_ : h->last_seen_ms;
		int stale = h->state != CM_HOST_OFFLINE && h->state != CM_HOST_UNKNOWN &&
		            now_ms - base > cluster_model_stale_limit(m, h);
		if (stale != h->stale) {
			h->stale = stale;
			changed++;
			if (stale)
				event_add(m, now_ms, "host.stale", h->name, "",
				          "no load message within the stale limit", 1);
		}
	}
	for (size_t i = m->migs.n; i-- > 0;) {
		struct cm_migration *g = m->migs.items[i];
		if (now_ms - g->updated_ms > MIGRATION_EXPIRE_MS) {
			nametab_del(&m->migs, g);
			m->layout++;
			free(g);
			m->version++;
		}
	}
	if (changed)
		m->version++;
	return changed;
}

/* --- accessors --------------------------------------------------------------- */

uint64_t cluster_model_version(const struct cluster_model *m)
{
	return m->version;
}

uint64_t cluster_model_layout(const struct cluster_model *m)
{
	return m->layout;
}

size_t cluster_model_host_count(const struct cluster_model *m)
{
	return m->hosts.n;
}

const struct cm_host *cluster_model_host_at(const struct cluster_model *m, size_t i)
{
	return i < m->hosts.n ? m->hosts.items[i] : NULL;
}

const struct cm_host *cluster_model_host_find(const struct cluster_model *m, const char *name)
{
	return nametab_find(&m->hosts, name);
}

size_t cluster_model_host_vm_count(const struct cm_host *h)
{
	return h->nvms_;
}

const struct cm_vm *cluster_model_host_vm_at(const struct cm_host *h, size_t i)
{
	return i < h->nvms_ ? h->vms_[i] : NULL;
}

size_t cluster_model_vm_count(const struct cluster_model *m)
{
	return m->vms.n;
}

const struct cm_vm *cluster_model_vm_at(const struct cluster_model *m, size_t i)
{
	return i < m->vms.n ? m->vms.items[i] : NULL;
}

const struct cm_vm *cluster_model_vm_find(const struct cluster_model *m, const char *name)
{
	return nametab_find(&m->vms, name);
}

size_t cluster_model_migration_count(const struct cluster_model *m)
{
	return m->migs.n;
}

const struct cm_migration *cluster_model_migration_at(const struct cluster_model *m, size_t i)
{
	return i < m->migs.n ? m->migs.items[i] : NULL;
}

const struct cm_migration *cluster_model_migration_find(const struct cluster_model *m,
                                                        const char *vm)
{
	return nametab_find(&m->migs, vm);
}

void cluster_model_balance(const struct cluster_model *m, int64_t now_ms, long utc_offset_s,
                           char *mode, size_t mlen, char *window, size_t wlen)
{
	enum policy_mode md = POLICY_RULES;
	struct rule_settings file, eff;
	char err[VMC_ERR_MAX];
	window[0] = '\0';
	if (m->have_policy) {
		rule_settings_default(&file);
		policy_effective(&m->policy, &file, now_ms, utc_offset_s, &md, &eff, err,
		                 sizeof(err));
		for (size_t i = 0; i < m->policy.nwindows; i++) {
			if (!rule_window_contains(&m->policy.windows[i].w, now_ms, utc_offset_s))
				continue;
			/* the window as the policy writes it */
			cJSON *o = policy_to_json(&m->policy);
			const cJSON *w =
			    cJSON_GetArrayItem(cJSON_GetObjectItem(o, "windows"), (int)i);
			const char *during = opt_str(w, "during"), *days = opt_str(w, "days");
			if (days && !strcmp(days, "sun,mon,tue,wed,thu,fri,sat"))
				days = NULL; /* every day: the hours say it all */
			snprintf(window, wlen, "%s%s%s", during ? during : "?", days ? " " : "",
			         days ? days : "");
			cJSON_Delete(o);
			break;
		}
	}
	snprintf(mode, mlen, "%s", policy_mode_name(md));
}

int cluster_model_host_reported(const struct cm_host *h)
{
	if (h->state != CM_HOST_ONLINE && h->state != CM_HOST_MAINTENANCE)
		return 1;
	if (!h->have_load)
		return 0;
	/* a load of an earlier session (the agent restarted; its new load is still to come) */
	return !h->birth_session_ || !h->load_session_ || h->load_session_ >= h->birth_session_;
}

static int host_live(const struct cm_host *h)
{
	return (h->state == CM_HOST_ONLINE || h->state == CM_HOST_MAINTENANCE) && !h->stale;
}

int cluster_model_vm_stale(const struct cluster_model *m, const struct cm_vm *v)
{
	const struct cm_host *h = v->load_host_;
	if (!h && v->host[0])
		h = nametab_find(&m->hosts, v->host);
	return !h || !host_live(h);
}

void cluster_model_summary(const struct cluster_model *m, struct cm_summary *s)
{
	memset(s, 0, sizeof(*s));
	int mig_out = 0;
	for (size_t i = 0; i < m->hosts.n; i++) {
		const struct cm_host *h = m->hosts.items[i];
		s->hosts++;
		if (h->state == CM_HOST_OFFLINE)
			s->offline++;
		else if (h->stale)
			s->stale++;
		else if (h->state == CM_HOST_MAINTENANCE)
			s->maintenance++;
		else if (h->state == CM_HOST_ONLINE)
			s->online++;
		if (!host_live(h))
			continue;
		s->cpus_total += h->cpus;
		s->cpus_used += h->cpu * h->cpus / 100.0;
		s->mem_total_mb += h->mem_total_mb;
		s->mem_used_mb += h->mem_used_mb;
		mig_out += h->migrations_out;
	}
	for (size_t i = 0; i < m->vms.n; i++) {
		const struct cm_vm *v = m->vms.items[i];
		s->vms++;
		if (cluster_model_vm_stale(m, v))
			s->unknown++;
		else if (!strcmp(v->state, "running"))
			s->running++;
		else if (!strcmp(v->state, "paused"))
			s->paused++;
		else if (!strcmp(v->state, "stopped"))
			s->stopped++;
		else
			s->other++;
	}
	s->migrations = (int)m->migs.n > mig_out ? (int)m->migs.n : mig_out;
}

/* --- deferred loads (cluster_model_defer) -------------------------------------- */

static void pending_unlink(struct pending_loads *p, struct pending_load *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		p->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		p->tail = q->prev;
	q->prev = q->next = NULL;
}

static void pending_append(struct pending_loads *p, struct pending_load *q)
{
	q->prev = p->tail;
	q->next = NULL;
	if (p->tail)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
}

/* Applies q's load, as it would have been when it came. */
static void pending_apply(struct cluster_model *m, struct pending_load *q)
{
	char topic[VMC_NAME_MAX + 16], err[VMC_ERR_MAX];
	pending_unlink(&m->pend, q);
	q->queued = 0;
	m->pend.n--;
	snprintf(topic, sizeof(topic), "host/%s/load", q->name);
	int rc = model_apply(m, topic, q->buf, q->len, q->retained, q->now, q->replaced, err,
	                     sizeof(err));
	if (rc < 0 && m->pend.nbad++ == 0)
		snprintf(m->pend.first_err, sizeof(m->pend.first_err), "%s: %s", topic, err);
	if (rc < 0 || q->cap > PENDING_KEEP_MAX) {
		nametab_del(&m->pend.tab, q);
		free(q->buf);
		free(q);
	}
}

static void pending_apply_all(struct cluster_model *m)
{
	while (m->pend.head)
		pending_apply(m, m->pend.head);
}

/* Keeps a copy of host name's load in place of the one kept before. */
static void pending_keep(struct cluster_model *m, const char *name, const void *payload, size_t len,
                         int retained, int64_t now_ms)
{
	struct pending_load *q = nametab_find(&m->pend.tab, name);
	if (!q) {
		q = xcalloc(1, sizeof(*q));
		copy_str(q->name, sizeof(q->name), name);
		nametab_add(&m->pend.tab, q);
	}
	if (q->queued) {
		pending_unlink(&m->pend, q);
		q->replaced++;
	} else {
		q->queued = 1;
		q->replaced = 0;
		m->pend.n++;
	}
	if (len > q->cap) {
		size_t cap = len + len / 8; /* room for the next, a few digits longer */
		char *buf = realloc(q->buf, cap);
		if (!buf) {
			fprintf(stderr, "cluster_model: out of memory\n");
			abort();
		}
		q->buf = buf;
		q->cap = cap;
	}
	memcpy(q->buf, payload, len);
	q->len = len;
	q->retained = retained;
	q->now = now_ms;
	pending_append(&m->pend, q);
}

int cluster_model_defer(struct cluster_model *m, const char *rest, const void *payload, size_t len,
                        int retained, int64_t now_ms, char *err, size_t errlen)
{
	char name[VMC_NAME_MAX + 1], nerr[VMC_ERR_MAX];
	int named = topic_segment(rest, 1, name, sizeof(name)) == 0 &&
	            vmc_name_check(name, "name", nerr, sizeof(nerr)) == 0;
	if (len > 0 && named && topic_matches("host/+/load", rest)) {
		pending_keep(m, name, payload, len, retained, now_ms);
		return 1;
	}
	size_t k = handler_of(rest);
	if (k == NHANDLERS)
		return 0;
	/* what the message acts on as the loads before it left it: a guest's figures need
	 * only its host's load (which may also carry them), anything else all of them */
	const struct cm_vm *v = NULL;
	if (named && topic_matches("guest/+/load", rest))
		v = nametab_find(&m->vms, name);
	if (v && v->load_host_) {
		struct pending_load *q = nametab_find(&m->pend.tab, v->load_host_->name);
		if (q && q->queued)
			pending_apply(m, q);
	} else {
		pending_apply_all(m);
	}
	return model_apply(m, rest, payload, len, retained, now_ms, 0, err, errlen);
}

int cluster_model_flush(struct cluster_model *m, char *err, size_t errlen)
{
	pending_apply_all(m);
	int bad = m->pend.nbad;
	if (bad)
		copy_str(err, errlen, m->pend.first_err);
	m->pend.nbad = 0;
	return bad;
}

size_t cluster_model_flush_some(struct cluster_model *m, size_t max)
{
	for (size_t i = 0; i < max && m->pend.head; i++)
		pending_apply(m, m->pend.head);
	return m->pend.n;
}

size_t cluster_model_pending(const struct cluster_model *m)
{
	return m->pend.n;
}

/* --- what the host agents read: summaries, records per host -------------------- */

void cluster_model_keep_records(struct cluster_model *m)
{
	m->keep_recs = 1;
}

/* A state message of the host's own (or a live summary with its birth): its migration
 * address, "" if it has none. */
static void host_birth(struct cm_host *h, const cJSON *o)
{
	copy_str(h->migrate_addr, sizeof(h->migrate_addr), opt_str(o, "migrate_addr"));
}

/* The state a balancer gives h, from a state message of its own (or a host.standby):
 * anything but online, maintenance or standby counts as offline, and a standby host stays
 * standby when it goes offline (the power-off hook did that). */
static void bal_track_state(struct cm_host *h, const char *state)
{
	int s = state ? bal_host_state_parse(state) : -1;
	if (h->bal_state == BAL_STANDBY && (s < 0 || s == BAL_OFFLINE))
		return; /* powered off by consolidation: standby until it comes back */
	h->bal_state = s < 0 ? BAL_OFFLINE : s;
	h->bal_stated = 1;
	if (h->bal_state != BAL_OFFLINE)
		h->bal_born = 1;
}

/* The state a host's load or summary says: the state message says whether the host is
 * up, the load only which way. A host taken for standby (a peer's host.standby: emptied
 * by consolidation) that still reports itself online or in maintenance was not powered
 * off: it is back. */
static void bal_take_state(struct cm_host *h, const char *state)
{
	int st = bal_host_state_parse(state);
	if (h->bal_state == BAL_STANDBY) {
		if (st == BAL_ONLINE || st == BAL_MAINTENANCE)
			h->bal_state = st;
	} else if (h->bal_state != BAL_OFFLINE) {
		h->bal_state = st < 0 || st == BAL_OFFLINE || st == BAL_STANDBY ? BAL_OFFLINE : st;
	}
}

void cluster_model_host_standby(struct cluster_model *m, const char *name)
{
	bal_track_state(host_get(m, name), "standby");
	m->version++;
}

void cluster_model_host_bal_take(struct cluster_model *m, const char *name, const char *state)
{
	bal_take_state(host_get(m, name), state);
	m->version++;
}

/* A host runs no more outgoing migrations than the VMs its records list as leaving. */
static void host_bound_mout(struct cm_host *h)
{
	int leaving = 0;
	for (size_t i = 0; i < h->nrecs_; i++)
		leaving += h->rinfo_[i].leaving;
	if (h->has_summary)
		h->migrations_out = h->summary_mout < leaving ? h->summary_mout : leaving;
}

/* host/<h>/summary: the host figures of a load without its VMs, plus load, vm_cpu and
 * refresh_ms; dropped whole if out of bounds. A live one with the host's birth (its
 * session) stands for its state message, which a clustered broker may keep on one node
 * only: the host is known from it, unless a state said it is offline (one going offline
 * may still send a summary after). Otherwise only the host's own state message makes
 * it known or offline; a summary says maintenance or online of a host already up. */
static int apply_host_summary(struct apply_ctx *a)
{
	const cJSON *o = a->o;
	struct bal_host hh;
	const char *bstate;
	double load = 0, vm_cpu = 0;
	int64_t refresh = 0;
	if (!o)
		return 0;
	memset(&hh, 0, sizeof(hh));
	if (bal_parse_host(o, &hh, &bstate, a->err, a->errlen) < 0 ||
	    lim_get_num(o, LIM_HOST, NULL, "load", 1, &load, a->err, a->errlen) < 0 ||
	    lim_get_num(o, LIM_HOST, NULL, "vm_cpu", 1, &vm_cpu, a->err, a->errlen) < 0 ||
	    lim_get_int(o, LIM_HOST, NULL, "refresh_ms", 0, &refresh, a->err, a->errlen) < 0)
		return -1;
	const char *state = opt_str(o, "state");
	enum cm_host_state st = state ? host_state_parse(state) : CM_HOST_UNKNOWN;
	struct cm_host *h = nametab_find(&a->m->hosts, a->name);
	int birth = !a->retained && msg_load_has_birth(o);
	if (birth && st != CM_HOST_UNKNOWN && (!h || h->state != CM_HOST_OFFLINE)) {
		h = host_get(a->m, a->name);
		char serr[VMC_ERR_MAX];
		int64_t session = 0;
		h->state = st;
		if (msg_get_int(o, "summary", "session", 0, 0, INT64_MAX, &session, serr,
		                sizeof(serr)) == 0)
			h->session = session;
		host_birth(h, o);
		const char *drv = opt_str(o, "driver");
		if (drv)
			copy_str(h->driver, sizeof(h->driver), drv);
	}
	h = host_get(a->m, a->name);
	if (st != CM_HOST_UNKNOWN && st != CM_HOST_OFFLINE && h->state != CM_HOST_UNKNOWN &&
	    h->state != CM_HOST_OFFLINE)
		h->state = st;
	h->cpus = hh.cpus;
	h->cpu = hh.cpu;
	h->mem_total_mb = hh.mem_total_mb;
	h->mem_free_mb = hh.mem_free_mb;
	h->migrations_in = hh.migrations_in;
	h->summary_mout = hh.migrations_out;
	h->load = load;
	if (h->vm_cpu != vm_cpu) {
		h->vm_cpu = vm_cpu;
		host_rec_shares(h);
	}
	h->refresh_ms = refresh;
	h->summary_ms = a->now;
	h->has_summary = 1;
	host_bound_mout(h);
	bal_take_state(h, bstate);
	if (birth && !h->bal_stated && state)
		bal_track_state(h, state);
	return 1;
}

/* Each held record's cpu: the host's vm_cpu shared by vCPUs (what a balancer counts of
 * a peer's VMs: its summary says their demand, a record says none). */
static void host_rec_shares(struct cm_host *h)
{
	double vcpus = 0;
	for (size_t i = 0; i < h->nheld_; i++)
		vcpus += h->rvms_[i].vcpus > 0 ? h->rvms_[i].vcpus : 1;
	for (size_t i = 0; i < h->nheld_; i++) {
		struct bal_vm *v = &h->rvms_[i];
		v->cpu = h->vm_cpu * (v->vcpus > 0 ? v->vcpus : 1) / vcpus;
		v->steal = 0;
	}
}

static void host_rec_swap(struct cm_host *h, size_t i, size_t j)
{
	if (i == j)
		return;
	struct bal_vm v = h->rvms_[i];
	struct cm_rec r = h->rinfo_[i];
	h->rvms_[i] = h->rvms_[j];
	h->rinfo_[i] = h->rinfo_[j];
	h->rvms_[j] = v;
	h->rinfo_[j] = r;
}

/* Record i leaves h's list; held records stay first. */
static void host_rec_del(struct cm_host *h, size_t i)
{
	if (i < h->nheld_) {
		host_rec_swap(h, i, h->nheld_ - 1);
		i = --h->nheld_;
	}
	host_rec_swap(h, i, --h->nrecs_);
}

/* A new record at the end of h's list (grown a few at a time: 1,000 hosts of 20 VMs
 * each keep 20,000 of them). */
static size_t host_rec_add(struct cm_host *h)
{
	if (h->nrecs_ == h->cap_recs_) {
		size_t cap = h->cap_recs_ < 32 ? h->cap_recs_ + 4 : h->cap_recs_ + h->cap_recs_ / 2;
		struct bal_vm *v = realloc(h->rvms_, cap * sizeof(*v));
		if (v)
			h->rvms_ = v;
		struct cm_rec *r = v ? realloc(h->rinfo_, cap * sizeof(*r)) : NULL;
		if (!r) {
			fprintf(stderr, "cluster_model: out of memory\n");
			abort();
		}
		h->rinfo_ = r;
		h->cap_recs_ = cap;
	}
	return h->nrecs_++;
}

/* Record i of h now holds resources or not: moved to its side of the list. */
static void host_rec_place(struct cm_host *h, size_t i)
{
	if (h->rinfo_[i].holds && i >= h->nheld_)
		host_rec_swap(h, i, h->nheld_++);
	else if (!h->rinfo_[i].holds && i < h->nheld_)
		host_rec_swap(h, i, --h->nheld_);
}

/* host/<h>/vm/<vm> into h's records: a record must name its VM and h as its host, and
 * be within bounds (else it is ignored, the previous one kept). */
static int host_rec_apply(struct apply_ctx *a, char *err, size_t errlen)
{
	struct bal_vm vm;
	struct cm_rec r;
	char owner[VMC_NAME_MAX + 1];
	memset(&vm, 0, sizeof(vm));
	memset(&r, 0, sizeof(r));
	if (topic_segment(a->rest, 1, owner, sizeof(owner)) < 0 ||
	    vmc_name_check(owner, "the host in the topic", err, errlen) < 0)
		return -1;
	if (a->o) {
		const char *on, *state;
		struct rule_guest g;
		if (msg_get_name(a->o, NULL, "host", 1, &on, err, errlen) < 0 ||
		    msg_get_str(a->o, NULL, "state", 1, 32, &state, err, errlen) < 0)
			return -1;
		if (strcmp(on, owner) != 0) {
			snprintf(err, errlen, "host: \"%s\" is not %s, whose record it is", on,
			         owner);
			return -1;
		}
		if (bal_parse_vm(a->o, "record", &vm, &g, &r.holds, err, errlen) < 0)
			return -1;
		if (strcmp(vm.name, a->name) != 0) {
			snprintf(err, errlen, "name: \"%s\" is not %s, whose record it is", vm.name,
			         a->name);
			return -1;
		}
		copy_str(r.state, sizeof(r.state), state);
		r.leaving = bal_state_leaving(state);
	}
	struct cm_host *h = nametab_find(&a->m->hosts, owner);
	if (!a->o && !h)
		return 0; /* a cleared record of a host never heard of */
	if (!h)
		h = host_get(a->m, owner);
	size_t i;
	for (i = 0; i < h->nrecs_ && strcmp(h->rvms_[i].name, a->name) != 0; i++)
		;
	if (!a->o) {
		if (i == h->nrecs_)
			return 0;
		host_rec_del(h, i);
	} else {
		if (i == h->nrecs_)
			i = host_rec_add(h);
		h->rvms_[i] = vm;
		h->rinfo_[i] = r;
		host_rec_place(h, i);
	}
	host_rec_shares(h);
	host_bound_mout(h);
	return 1;
}

size_t cluster_model_host_rec_count(const struct cm_host *h)
{
	return h->nrecs_;
}

const struct bal_vm *cluster_model_host_rec_vm(const struct cm_host *h, size_t i)
{
	return i < h->nrecs_ ? &h->rvms_[i] : NULL;
}

const struct cm_rec *cluster_model_host_rec_at(const struct cm_host *h, size_t i)
{
	return i < h->nrecs_ ? &h->rinfo_[i] : NULL;
}

const struct bal_vm *cluster_model_host_held(const struct cm_host *h, size_t *n)
{
	*n = h->nheld_;
	return h->rvms_;
}

const char *cluster_model_rec_host(const struct cluster_model *m, const char *vm, const char *skip)
{
	for (size_t i = 0; i < m->hosts.n; i++) {
		const struct cm_host *h = m->hosts.items[i];
		if (skip && strcmp(h->name, skip) == 0)
			continue;
		for (size_t j = 0; j < h->nrecs_; j++)
			if (strcmp(h->rvms_[j].name, vm) == 0)
				return h->name;
	}
	return NULL;
}

int cluster_model_migrations_out(const struct cluster_model *m, const char *self, int64_t now,
                                 int64_t ttl_ms)
{
	int64_t n = 0;
	for (size_t i = 0; i < m->hosts.n; i++) {
		const struct cm_host *h = m->hosts.items[i];
		if (self && strcmp(h->name, self) == 0)
			continue;
		if (!h->has_summary || h->state == CM_HOST_OFFLINE || now - h->summary_ms > ttl_ms)
			continue; /* a count nobody refreshes is stale, not busy */
		n += h->migrations_out;
		if (n > INT_MAX / 2)
			return INT_MAX / 2;
	}
	return (int)n;
}
