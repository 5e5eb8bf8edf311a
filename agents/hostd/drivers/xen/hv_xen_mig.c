/* hv_xen_mig.c - live migration through the agents' channel, as xl migrate does it.
 *
 * The host agent owns the channel and the handshake (config, stream, ready,
 * go, report); the driver does the Xen half of each step:
 *   send        libxl_domain_suspend(LIBXL_SUSPEND_LIVE) into the fd: pre-copy
 *               rounds while the guest runs, then it is suspended and the rest
 *               sent; it stays suspended here (outgoing). If the stream fails,
 *               the domain is resumed at once, as xl's failed_resume does.
 *               (A PV domain on a Xen without shadow paging cannot be sent
 *               live: it is suspended first and sent whole.)
 *   recv        libxl_domain_create_restore from the fd (plain v2 stream), as
 *               NAME--incoming, left paused; its xl.cfg stored as NAME's.
 *   dst_commit  renames NAME--incoming to NAME and unpauses it (xl's "GO").
 *   src_commit  destroys the suspended source (only if it is suspended).
 *   src_abort   libxl_domain_resume(suspend_cancel=1) if it is suspended.
 *   dst_abort   destroys NAME--incoming.
 * An outgoing stream gets its own libxl context whose logger turns the save
 * helper's progress reports ("Frames iteration N", "Domain now suspended")
 * into progress calls, round counts and the source-side downtime. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../../lib/core/log.h"
#include "hv_xen_int.h"

#define MIG_PAGE 4096ULL /* x86 pages, as the stream counts them */

struct mig_progress {
	hv_progress_fn *fn;
	void *ud;
	int rounds;             /* iterations seen, including the final one */
	unsigned int iter;      /* the current one's number */
	uint64_t pages_before;  /* pages sent by earlier iterations */
	unsigned long cur_done; /* in the current one */
	int64_t t_suspended_ns; /* 0 until the domain is suspended */
};

static int64_t mig_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void mig_on_progress(void *ud, const char *doing_what, unsigned long done,
                            unsigned long total)
{
	struct mig_progress *m = ud;
	unsigned int it;

	if (strcmp(doing_what, "Domain now suspended") == 0) {
		if (!m->t_suspended_ns)
			m->t_suspended_ns = mig_now_ns();
		return;
	}
	if (strcmp(doing_what, "Frames") == 0) /* a non-live send: one round */
		it = 0;
	else if (sscanf(doing_what, "Frames iteration %u", &it) != 1)
		return;
	if (m->rounds == 0 || it != m->iter) {
		m->pages_before += m->cur_done;
		m->cur_done = 0;
		m->iter = it;
		m->rounds++;
	}
	m->cur_done = done;
	if (m->fn)
		m->fn(m->ud, (m->pages_before + done) * MIG_PAGE,
		      (m->pages_before + total) * MIG_PAGE, m->rounds);
}

/* Refuses what cannot be sent: a paused guest cannot answer the suspend
 * request, and one already shut down has nothing to send. */
static int send_check(struct xen_hv *x, const char *name, uint32_t domid, char *err, size_t errlen)
{
	libxl_dominfo info;
	int rc = 0;

	libxl_dominfo_init(&info);
	if (libxl_domain_info(x->ctx, &info, domid) != 0) {
		snprintf(err, errlen, "domain %s vanished", name);
		rc = -1;
	} else if (info.shutdown || info.dying) {
		snprintf(err, errlen,
		         "domain %s is shut down or dying; there is nothing to migrate", name);
		rc = -1;
	} else if (info.paused) {
		snprintf(err, errlen,
		         "domain %s is paused: a paused guest cannot answer the suspend request; "
		         "unpause it first",
		         name);
		rc = -1;
	}
	libxl_dominfo_dispose(&info);
	return rc;
}

/* LIBXL_SUSPEND_LIVE, unless the domain is PV and Xen has no shadow paging:
 * pre-copy needs log-dirty mode, which PV domains get only from shadow paging
 * (HVM and PVH use HAP). Such a domain is suspended first and then sent
 * whole, as a save is: slower, but it still moves. */
static int send_flags(struct xen_hv *x, const char *name, uint32_t domid)
{
	libxl_physinfo pi;
	libxl_dominfo info;
	int pv, shadow;

	libxl_dominfo_init(&info);
	pv = libxl_domain_info(x->ctx, &info, domid) == 0 &&
	     info.domain_type == LIBXL_DOMAIN_TYPE_PV;
	libxl_dominfo_dispose(&info);
	libxl_physinfo_init(&pi);
	shadow = libxl_get_physinfo(x->ctx, &pi) != 0 || pi.cap_shadow;
	libxl_physinfo_dispose(&pi);
	if (!pv || shadow)
		return LIBXL_SUSPEND_LIVE;
	log_warnx("xen: this Xen has no shadow paging, so PV domain %s cannot be migrated live; "
	          "it is suspended for the whole transfer",
	          name);
	return 0;
}

/* After a failed stream: says why, and resumes the domain if it was suspended. */
static int send_failed(struct xen_hv *x, struct xen_log *lg, uint64_t mark, int rc,
                       const char *name, uint32_t domid, char *err, size_t errlen)
{
	char what[VMC_NAME_MAX + 96];
	const char *code;
	size_t len;
	int e;

	snprintf(what, sizeof what, "sending domain %s", name);
	xen_fail(lg, mark, rc, err, errlen, what);
	len = strlen(err);
	/* libxl says "guest timed out" also when the stream broke before the
	 * suspend: what matters is whether the domain is suspended now. */
	if (!xen_is_suspended(x, domid)) {
		snprintf(err + len, errlen - len, "; it is still running here");
		return -1;
	}
	e = libxl_domain_resume(x->ctx, domid, 1, NULL);
	code = libxl_error_to_string(e);
	if (e == 0)
		snprintf(err + len, errlen - len, "; resumed it here");
	else
		snprintf(err + len, errlen - len, "; resuming it here failed too (libxl error %s)",
		         code ? code : "?");
	return -1;
}

int xen_migrate_send(struct hv *h, const char *name, int fd, hv_progress_fn *progress, void *ud,
                     struct hv_migrate_stats *st, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	struct mig_progress m = {.fn = progress, .ud = ud};
	struct xen_log *mlog, *lg;
	libxl_ctx *mctx = NULL;
	char why[VMC_ERR_MAX];
	uint64_t mark;
	uint32_t domid;
	int64_t t_end;
	int rc;

	if (st)
		memset(st, 0, sizeof *st);
	if (xen_domid(x, name, &domid, err, errlen) < 0 ||
	    send_check(x, name, domid, err, errlen) < 0)
		return -1;
	/* Its own context, so that this stream's progress is told apart. */
	mlog = xen_log_new(stderr, why, sizeof why);
	if (mlog && libxl_ctx_alloc(&mctx, LIBXL_VERSION, 0, xen_log_xtl(mlog)) == 0) {
		xen_log_set_progress(mlog, mig_on_progress, &m);
	} else {
		log_warnx("xen: migrating %s without progress reports: no second libxl context",
		          name);
		mctx = NULL;
	}
	lg = mctx ? mlog : x->log;
	mark = xen_log_mark(lg);
	rc =
	    libxl_domain_suspend(mctx ? mctx : x->ctx, domid, fd, send_flags(x, name, domid), NULL);
	t_end = mig_now_ns();
	if (rc)
		send_failed(x, lg, mark, rc, name, domid, err, errlen);
	if (st) {
		st->bytes = (m.pages_before + m.cur_done) * MIG_PAGE;
		st->rounds = m.rounds;
		st->downtime_ms = m.t_suspended_ns ? (t_end - m.t_suspended_ns) / 1000000 : 0;
	}
	libxl_ctx_free(mctx);
	xen_log_free(mlog);
	return rc ? -1 : 0;
}

/* libxl_domain_resume as a xen_domain_fn: co-operative (suspend_cancel), as xl. */
static int mig_resume(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
	return libxl_domain_resume(ctx, domid, 1, ao_how);
}

int xen_migrate_src_commit(struct hv *h, const char *name, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	uint32_t domid;

	if (xen_domid(x, name, &domid, err, errlen) < 0)
		return -1;
	if (!xen_is_suspended(x, domid)) {
		snprintf(err, errlen,
		         "refusing to destroy %s: it is not suspended by a migration (is it "
		         "running here?)",
		         name);
		return -1;
	}
	if (xen_apply(x, name, libxl_domain_destroy, "destroying the migrated source", err,
	              errlen) < 0)
		return -1;
	xen_store_del(x, name);
	return 0;
}

int xen_migrate_src_abort(struct hv *h, const char *name, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	uint32_t domid;

	if (xen_domid(x, name, &domid, err, errlen) < 0)
		return -1;
	if (!xen_is_suspended(x, domid))
		return 0; /* never suspended, or already resumed */
	return xen_apply(x, name, mig_resume, "resuming", err, errlen);
}

/* Checks that neither NAME nor NAME--incoming exists here. */
static int recv_free(struct xen_hv *x, const char *name, const char *incoming, char *err,
                     size_t errlen)
{
	uint32_t domid;

	if (libxl_name_to_domid(x->ctx, name, &domid) == 0) {
		snprintf(err, errlen, "domain %s already exists on this host (domid %u)", name,
		         domid);
		return -1;
	}
	if (libxl_name_to_domid(x->ctx, incoming, &domid) == 0) {
		snprintf(err, errlen,
		         "%s exists already (domid %u): an earlier migration of %s was not "
		         "cleaned up",
		         incoming, domid, name);
		return -1;
	}
	return 0;
}

int xen_migrate_recv(struct hv *h, const char *xlcfg, int fd, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	libxl_domain_config dc;
	char name[VMC_NAME_MAX + 1], *incoming = NULL;
	uint32_t domid;
	int rc = -1;

	if (xen_cfg_parse(xlcfg, &dc, NULL, err, errlen) < 0)
		goto out;
	snprintf(name, sizeof name, "%s", dc.c_info.name);
	if (asprintf(&incoming, "%s%s", name, XEN_INCOMING_SUFFIX) < 0) {
		incoming = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (recv_free(x, name, incoming, err, errlen) < 0 || xen_fits(x, &dc, err, errlen) < 0 ||
	    xen_store_put(x, name, xlcfg, err, errlen) < 0)
		goto out;
	/* Received under a temporary name, as xl migrate-receive does. */
	free(dc.c_info.name);
	dc.c_info.name = incoming;
	incoming = NULL;
	if (xen_build(x, &dc, fd, &domid, err, errlen) < 0) {
		xen_store_del(x, name);
		goto out;
	}
	rc = 0;
out:
	free(incoming);
	libxl_domain_config_dispose(&dc);
	return rc;
}

int xen_migrate_dst_commit(struct hv *h, const char *name, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	uint64_t mark = xen_log_mark(x->log);
	char incoming[VMC_NAME_MAX + 32], what[VMC_NAME_MAX + 96];
	uint32_t domid;
	int rc;

	snprintf(incoming, sizeof incoming, "%s%s", name, XEN_INCOMING_SUFFIX);
	if (xen_domid(x, incoming, &domid, err, errlen) < 0)
		return -1;
	rc = libxl_domain_rename(x->ctx, domid, incoming, name);
	if (rc) {
		snprintf(what, sizeof what, "renaming %s to %s", incoming, name);
		return xen_fail(x->log, mark, rc, err, errlen, what);
	}
	rc = libxl_domain_unpause(x->ctx, domid, NULL);
	if (rc) {
		snprintf(what, sizeof what, "starting the received %s", name);
		xen_fail(x->log, mark, rc, err, errlen, what);
		/* Back to its temporary name, so that dst_abort finds it. */
		libxl_domain_rename(x->ctx, domid, name, incoming);
		return -1;
	}
	return 0;
}

int xen_migrate_dst_abort(struct hv *h, const char *name, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	uint64_t mark = xen_log_mark(x->log);
	char incoming[VMC_NAME_MAX + 32], what[VMC_NAME_MAX + 96];
	uint32_t domid, other;
	int rc;

	snprintf(incoming, sizeof incoming, "%s%s", name, XEN_INCOMING_SUFFIX);
	if (libxl_name_to_domid(x->ctx, incoming, &domid) != 0)
		return 0; /* nothing was received, or libxl cleaned it up */
	rc = libxl_domain_destroy(x->ctx, domid, NULL);
	if (rc) {
		snprintf(what, sizeof what, "destroying the half-received %s", incoming);
		return xen_fail(x->log, mark, rc, err, errlen, what);
	}
	if (libxl_name_to_domid(x->ctx, name, &other) != 0)
		xen_store_del(x, name);
	return 0;
}
