/* migrate.c - the migration module: set-up, the cluster view from the bus, the
 * vm.migrate command, and what both sides of a migration share (see migrate.h for
 * the handshake; migrate_src.c and migrate_dst.c for the two sides). */
#include "migrate.h"

#include "channel.h"
#include "../../../lib/core/workpool.h"

#include "../../../lib/bus/chanwire.h"
#include "../../../lib/core/evloop.h"
#include "../../../lib/core/log.h"
#include "../../../lib/bus/topic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- migrations ------------------------------------------------------------------ */

struct mig *mig_new(struct migrate *m, enum mig_role role, const char *id, const char *vm,
                    const char *peer)
{
	struct mig *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->m = m;
	g->role = role;
	g->sp = -1;
	snprintf(g->id, sizeof(g->id), "%s", id);
	snprintf(g->vm, sizeof(g->vm), "%s", vm);
	snprintf(g->peer, sizeof(g->peer), "%s", peer);
	g->t0_virt = hostd_now(m->h);
	g->next = m->migs;
	m->migs = g;
	return g;
}

void mig_free(struct mig *g)
{
	struct migrate *m = g->m;
	for (struct mig **p = &m->migs; *p; p = &(*p)->next) {
		if (*p == g) {
			*p = g->next;
			break;
		}
	}
	if (g->c)
		chan_close(g->c);
	if (g->sp >= 0)
		close(g->sp);
	if (g->timer)
		evloop_del_timer(m->h->loop, g->timer);
	free(g->config);
	cJSON_Delete(g->tags);
	free(g);
}

struct mig *mig_find_vm(struct migrate *m, const char *vm)
{
	for (struct mig *g = m->migs; g; g = g->next)
		if (strcmp(g->vm, vm) == 0)
			return g;
	return NULL;
}

struct mig *mig_find_id(struct migrate *m, const char *id)
{
	for (struct mig *g = m->migs; g; g = g->next)
		if (strcmp(g->id, id) == 0)
			return g;
	return NULL;
}

int mig_count(struct migrate *m, enum mig_role role)
{
	int n = 0;
	for (struct mig *g = m->migs; g; g = g->next)
		n += g->role == role;
	return n;
}

int mig_id_check(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > MIG_ID_MAX || id[0] == '.' || id[0] == '-')
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
		            id[i]))
			return -1;
	return 0;
}

void mig_event(struct mig *g, const char *type, cJSON *extra)
{
	struct hostd *h = g->m->h;
	cJSON *f = extra ? extra : cJSON_CreateObject();
	const char *self = h->opts.name;
	cJSON_AddStringToObject(f, "id", g->id);
	cJSON_AddStringToObject(f, "role", g->role == MIG_SRC ? "source" : "destination");
	cJSON_AddStringToObject(f, "from", g->role == MIG_SRC ? self : g->peer);
	cJSON_AddStringToObject(f, "to", g->role == MIG_SRC ? g->peer : self);
	hostd_event(h, type, g->vm, f);
}

int mig_vm_lookup(struct hostd *h, const char *name, struct hv_vm *out, char *err, size_t errlen)
{
	struct hv_vm *vms;
	size_t n;
	if (hv_list_vms(h->hv, &vms, &n, err, errlen) < 0)
		return -1;
	int found = 0;
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(vms[i].name, name) == 0) {
			if (out)
				*out = vms[i];
			found = 1;
		}
	}
	free(vms);
	return found;
}

int64_t mig_local_free(struct migrate *m)
{
	char err[VMC_ERR_MAX];
	struct hv_host hi;
	struct hv_vm *vms;
	size_t n;
	if (hv_host_info(m->h->hv, &hi, err, sizeof(err)) < 0 ||
	    hv_list_vms(m->h->hv, &vms, &n, err, sizeof(err)) < 0)
		return -1;
	int64_t free_mb = hi.mem_free_mb;
	for (struct mig *g = m->migs; g; g = g->next) {
		if (g->role != MIG_DST)
			continue;
		size_t i;
		for (i = 0; i < n && strcmp(vms[i].name, g->vm) != 0; i++)
			;
		if (i == n) /* accepted, not yet created by the driver */
			free_mb -= g->mem_mb;
	}
	free(vms);
	return free_mb;
}

void mig_crash_point(struct migrate *m, struct chan *c, const char *point)
{
	if (!m->crash_at[0] || strcmp(m->crash_at, point) != 0)
		return;
	if (c)
		chan_flush(c, 2000);
	log_error("VMC_CRASH_AT=%s: dying here on purpose (a test)", point);
	_exit(137);
}

void mig_forget_seen(struct hostd *h, const char *vm)
{
	for (size_t i = 0; i < h->nseen; i++) {
		if (strcmp(h->seen[i].name, vm) == 0) {
			h->seen[i] = h->seen[--h->nseen];
			return;
		}
	}
}

/* --- vm.migrate ------------------------------------------------------------------------ */

/* A vm.migrate command and its manual hold (set before the VM leaves, so that the
 * destination knows it when the VM arrives; put back as it was if the move fails). */
struct manual_move {
	struct hostd_req *req;
	int64_t until, was; /* the hold set (0: none) and the one before */
};

static void op_migrate_done(struct hostd *h, void *ud, const char *vm, enum vmc_err code,
                            const char *message, cJSON *result)
{
	struct manual_move *mm = ud;
	if (code == VMC_OK) {
		if (mm->until > 0 && result) {
			cJSON_AddNumberToObject(result, "held_until", (double)mm->until);
			cJSON *f = cJSON_CreateObject();
			cJSON_AddNumberToObject(f, "until", (double)mm->until);
			hostd_event(h, "vm.held", vm, f);
		}
		hostd_reply_ok(h, mm->req, result);
	} else {
		if (mm->until > 0)
			hostd_hold_set(h, vm, mm->was, NULL);
		hostd_reply_err(h, mm->req, code, "vm %s: %s", vm, message);
	}
	hostd_req_free(mm->req);
	free(mm);
}

/* args.hold (default true) and args.hold_s (default: the manual_hold setting): the
 * hold's end in virtual ms, 0 for none. -1 with err if they are bad. */
static int64_t hold_until(struct hostd *h, const cJSON *args, char *err, size_t errlen)
{
	int hold = 1;
	double secs = (double)hostd_balancer_manual_hold_ms(h) / 1000;
	if (msg_get_bool(args, "args", "hold", 0, &hold, err, errlen) < 0 ||
	    msg_get_num(args, "args", "hold_s", 0, 0, 7 * 86400, &secs, err, errlen) < 0)
		return -1;
	return hold && secs > 0 ? hostd_now(h) + (int64_t)(secs * 1000) : 0;
}

static enum hostd_op_result op_migrate(struct hostd *h, struct hostd_req *req)
{
	const char *name, *to;
	char err[VMC_ERR_MAX * 2];
	if (msg_get_name(req->args, "args", "name", 1, &name, err, sizeof(err)) != 0 ||
	    msg_get_name(req->args, "args", "to", 1, &to, err, sizeof(err)) != 0) {
		hostd_reply_err(h, req,
		                strstr(err, "expected a string") || strstr(err, "missing")
		                    ? VMC_E_BAD_REQUEST
		                    : VMC_E_BAD_NAME,
		                "%s", err);
		return HOSTD_REPLIED;
	}
	if (req->peer && vmstore_has_tag(h->store, name, "pinned")) {
		/* a pinned VM never moves at another host's asking */
		hostd_reply_err(h, req, VMC_E_REFUSED,
		                "vm %s is pinned: another host may not move it", name);
		return HOSTD_REPLIED;
	}
	int64_t until = hold_until(h, req->args, err, sizeof(err));
	if (until < 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		return HOSTD_REPLIED;
	}
	struct manual_move *mm = calloc(1, sizeof(*mm));
	if (!mm)
		abort();
	mm->req = req;
	mm->was = hostd_hold_get(h, name);
	if (mm->was <= hostd_now(h))
		mm->was = 0;
	if (until > 0 && hostd_hold_set(h, name, until, req->reply_to) == 0)
		mm->until = until;
	enum vmc_err rc = migrate_start(h, name, to, op_migrate_done, mm, err, sizeof(err));
	if (rc != VMC_OK) {
		if (mm->until > 0)
			hostd_hold_set(h, name, mm->was, NULL);
		free(mm);
		hostd_reply_err(h, req, rc, "%s", err);
		return HOSTD_REPLIED;
	}
	return HOSTD_PENDING;
}

const struct hostd_op hostd_migrate_ops[] = {
    {"vm.migrate", op_migrate},
    {NULL, NULL},
};

/* --- the module --------------------------------------------------------------------------- */

static int read_key(const char *path, unsigned char *key, size_t keymax, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cluster key file %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
		log_warnx("cluster key file %s is open to %s (mode %04o): whoever reads it can "
		          "migrate VMs into and out of this cluster; chmod 600 %s",
		          path, st.st_mode & S_IRWXO ? "every user" : "its group",
		          (unsigned)(st.st_mode & 07777), path);
	ssize_t n = read(fd, key, keymax);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cluster key file %s: %s", path, strerror(errno));
		return -1;
	}
	char e[200];
	long len = chw_key_check(key, (size_t)n, e, sizeof(e));
	if (len < 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	return (int)len;
}

int hostd_migrate_init(struct hostd *h, char *err, size_t errlen)
{
	struct migrate *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->migrate = m;
	m->h = h;
	m->max_out = h->opts.max_migrations_out ? h->opts.max_migrations_out : MIG_DEFAULT_MAX_OUT;
	m->max_cluster = h->opts.max_cluster_migrations ? h->opts.max_cluster_migrations
	                                                : MIG_DEFAULT_MAX_CLUSTER;
	unsigned char key[CHW_KEY_MAX + 1];
	int keylen = 0;
	const struct hostd_opts *o = &h->opts;
	if (!o->channel_cert != !o->channel_key || !o->channel_cert != !o->channel_ca) {
		snprintf(err, errlen, "--channel-cert, --channel-key and --channel-ca go together");
		return -1;
	}
	if (!o->channel_cert && o->cluster_key_file &&
	    (keylen = read_key(o->cluster_key_file, key, sizeof(key), err, errlen)) < 0)
		return -1;
	struct chan_creds cr = {keylen ? key : NULL, (size_t)keylen, o->channel_cert,
	                        o->channel_key, o->channel_ca};
	m->chans = chan_ctx_new(h->loop, o->name, &cr, err, errlen);
	explicit_bzero(key, sizeof(key));
	if (!m->chans)
		return -1;
	/* a thread for each driver call, on a small stack; the migrations limit how many */
	const struct workpool_opts wo = {.stack_size = HOSTD_WORKER_STACK, .what = "driver call"};
	m->workers = workpool_new(h->loop, &wo, err, errlen);
	if (!m->workers)
		return -1;
	snprintf(m->dir, sizeof(m->dir), "%s/migrations", h->opts.state_dir);
	const char *crash = getenv("VMC_CRASH_AT");
	snprintf(m->crash_at, sizeof(m->crash_at), "%s", crash ? crash : "");
	if (mkdir(m->dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", m->dir, strerror(errno));
		return -1;
	}
	mlog_recover(m);
	if (hostcall_init(m) < 0) {
		snprintf(err, errlen, "cannot set up the migration module");
		return -1;
	}
	if (!chan_ctx_has_key(m->chans)) {
		/* no channel to offer: no listener, and no migration address published */
		h->opts.migrate_port = 0;
		log_warnx("no --cluster-key-file or --channel-cert: this host neither sends nor "
		          "accepts migrations");
		return 0;
	}
	int port = chan_listen(m->chans, h->opts.migrate_addr, h->opts.migrate_port, mig_dst_accept,
	                       m, err, errlen);
	if (port < 0)
		return -1;
	h->opts.migrate_port = port;
	log_info("migration channel on %s:%d (TLS 1.3, %s)", h->opts.migrate_addr, port,
	         chan_ctx_certs(m->chans) ? "host certificates" : "cluster key PSK with (EC)DHE");
	return 0;
}

void hostd_migrate_connected(struct hostd *h)
{
	struct migrate *m = migrate_of(h);
	char t[VMC_TOPIC_MAX];
	if (!m)
		return;
	topic_fmt(t, sizeof(t), h->opts.cluster, "host/+/state");
	bus_subscribe(h->bus, t, 1);
	/* peers' summaries and VM records, not their full loads (vmcluster-protocol(7)): the
	 * agent's cluster model (model.c) */
	topic_fmt(t, sizeof(t), h->opts.cluster, "host/+/summary");
	bus_subscribe(h->bus, t, 1);
	topic_fmt(t, sizeof(t), h->opts.cluster, "host/+/vm/+");
	bus_subscribe(h->bus, t, 1);
	if (h->ha) { /* high availability's heartbeat: the loads' arrival, not their contents */
		topic_fmt(t, sizeof(t), h->opts.cluster, "host/+/load");
		bus_subscribe(h->bus, t, 0);
	}
	hostcall_connected(m);
}

/* Our own retained state says offline while we are connected: the Last Will of an
 * earlier session of ours (killed, restarted at once) reached the broker after our
 * birth message. Say online again, or peers would take us for gone. */
static void state_check_own(struct hostd *h, const cJSON *msg)
{
	const cJSON *st = cJSON_GetObjectItem(msg, "state");
	if (cJSON_IsString(st) && strcmp(st->valuestring, "offline") == 0 &&
	    bus_connected(h->bus)) {
		log_info("our retained state says offline (an earlier session's Last Will): "
		         "publishing it again");
		hostd_publish_state(h);
	}
}

int hostd_migrate_message(struct hostd *h, struct hostd_msg *msg)
{
	struct migrate *m = migrate_of(h);
	char host[VMC_NAME_MAX + 1];
	if (!m)
		return 0;
	if (hostcall_message(m, msg))
		return 1;
	/* the other hosts' messages are the model's (model.c); our own state we check */
	if (!topic_matches("host/+/state", msg->rest) || !msg->raw->len ||
	    topic_segment(msg->rest, 1, host, sizeof(host)) < 0 || strcmp(host, h->opts.name) != 0)
		return 0;
	const cJSON *j = hostd_msg_json(msg);
	if (j)
		state_check_own(h, j);
	return 0;
}

void hostd_migrate_free(struct hostd *h)
{
	struct migrate *m = migrate_of(h);
	if (!m)
		return;
	m->closing = 1;
	/* closing the connections ends the driver calls that stream */
	chan_ctx_free(m->chans);
	for (struct mig *g = m->migs; g; g = g->next)
		g->c = NULL;
	/* the completions not delivered yet are dropped: the migrations end below */
	if (workpool_free(m->workers, 5000, WORKPOOL_DROP) > 0)
		return; /* driver calls still use the migrations: leave them, we are exiting */
	while (m->migs) {
		struct mig *g = m->migs;
		if (g->done)
			g->done(h, g->done_ud, g->vm, VMC_E_FAILED,
			        "the host agent stopped; the migration is settled when it restarts",
			        NULL);
		g->done = NULL;
		mig_free(g);
	}
	hostcall_free(m);
	free(m);
	h->migrate = NULL;
}

/* --- for the balancer -------------------------------------------------------------------- */

/* Tells the balancer once the migration has let go of its slot, so that the next one
 * it starts fits under the cap. (The migration.finished events come too early for
 * that: the destination's is published before the source has finished.) */
static void balance_mig_done(struct hostd *h, void *ud, const char *vm, enum vmc_err code,
                             const char *message, cJSON *result)
{
	cJSON_Delete(result);
	const char *to = ud;
	struct migrate *m = migrate_of(h);
	if (m && !m->closing)
		hostd_balancer_migration_done(h, vm, to, code == VMC_OK);
	free(ud);
}

int hostd_migrate_start(struct hostd *h, const char *vm, const char *to, char *err, size_t errlen)
{
	struct migrate *m = migrate_of(h);
	if (!m || m->closing) {
		snprintf(err, errlen, "the host agent is stopping");
		return -1;
	}
	char *ud = strdup(to);
	if (!ud) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (migrate_start(h, vm, to, balance_mig_done, ud, err, errlen) != VMC_OK) {
		free(ud);
		return -1;
	}
	return 0;
}
