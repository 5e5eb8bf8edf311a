/* hv_xen.c - the xen driver: Xen through libxenlight, libxlutil and libxenstat.
 *
 * Runs in dom0. One libxl_ctx serves every thread (libxl contexts are
 * thread-safe); calls are synchronous (ao_how NULL), so each runs libxl's
 * event loop on the calling thread and a migration on a worker thread never
 * holds up the agent's own loop. dom0 is the host and never listed as a VM.
 * Domains created here keep their xl.cfg in STATE_DIR/xen/NAME.cfg: it is what
 * vm_config returns, and what the watcher reads on_poweroff/on_reboot/on_crash
 * from (xl create keeps a monitoring process per domain for that; we do not).
 * For domains xl created, vm_config writes an xl.cfg from libxl's record.
 * A domain named NAME--incoming is NAME being received by a migration, as xl
 * names it; one shut down for suspend is a migration's (or a save's) source. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../../lib/core/log.h"
#include "hv_xen_int.h"

/* --- errors and lookups -------------------------------------------------- */

int xen_fail(struct xen_log *l, uint64_t mark, int rc, char *err, size_t errlen, const char *what)
{
	char last[200];
	const char *code = libxl_error_to_string(rc);

	if (xen_log_first_error(l, mark, last, sizeof last))
		snprintf(err, errlen, "%s: libxl error %s: %s", what, code ? code : "?", last);
	else
		snprintf(err, errlen, "%s: libxl error %s (%d)", what, code ? code : "?", rc);
	return -1;
}

int xen_domid(struct xen_hv *x, const char *name, uint32_t *domid, char *err, size_t errlen)
{
	if (!name || !name[0]) {
		snprintf(err, errlen, "no domain name given");
		return -1;
	}
	if (libxl_name_to_domid(x->ctx, name, domid) != 0) {
		snprintf(err, errlen, "no domain named %s on this host", name);
		return -1;
	}
	if (*domid == 0) {
		snprintf(err, errlen, "%s is dom0, the host itself, not a VM", name);
		return -1;
	}
	return 0;
}

int xen_is_suspended(struct xen_hv *x, uint32_t domid)
{
	libxl_dominfo info;
	int yes;

	libxl_dominfo_init(&info);
	yes = libxl_domain_info(x->ctx, &info, domid) == 0 && info.shutdown &&
	      info.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND;
	libxl_dominfo_dispose(&info);
	return yes;
}

/* --- stored configs ------------------------------------------------------- */

static int store_path(struct xen_hv *x, const char *name, const char *ext, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s", x->cfg_dir, name, ext);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

int xen_store_put(struct xen_hv *x, const char *name, const char *text, char *err, size_t errlen)
{
	char tmp[4096], path[4096];
	size_t len = strlen(text), off = 0;
	int fd;

	if (store_path(x, name, ".cfg.tmp", tmp, sizeof tmp) < 0 ||
	    store_path(x, name, ".cfg", path, sizeof path) < 0) {
		snprintf(err, errlen, "state directory path too long for %s", name);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < len || fsync(fd) < 0 || close(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		if (off < len)
			close(fd);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

char *xen_store_get(struct xen_hv *x, const char *name)
{
	char path[4096], *buf;
	FILE *f;
	long len;

	if (store_path(x, name, ".cfg", path, sizeof path) < 0)
		return NULL;
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || len > VMC_PAYLOAD_MAX ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		errno = EFBIG;
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[len] = '\0';
	fclose(f);
	return buf;
}

void xen_store_del(struct xen_hv *x, const char *name)
{
	char path[4096];

	if (store_path(x, name, ".cfg", path, sizeof path) == 0)
		unlink(path);
}

/* --- open and close -------------------------------------------------------- */

static void xen_close(struct hv *h)
{
	struct xen_hv *x = (struct xen_hv *)h;

	if (!x)
		return;
	xen_watch_stop(x);
	xen_stat_free(x->stat);
	libxl_ctx_free(x->ctx);
	xen_log_free(x->log);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->mu);
	free(x->stopping);
	free(x->cfg_dir);
	free(x);
}

static int open_ctx(struct xen_hv *x, char *err, size_t errlen)
{
	uint64_t mark = xen_log_mark(x->log);
	char last[200];

	if (libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, xen_log_xtl(x->log)) == 0)
		return 0;
	x->ctx = NULL;
	xen_log_first_error(x->log, mark, last, sizeof last);
	snprintf(err, errlen,
	         "cannot open libxl context: is this a Xen dom0 with xenstored running?%s%s%s",
	         last[0] ? " (" : "", last, last[0] ? ")" : "");
	return -1;
}

static int open_state(struct xen_hv *x, const char *state_dir, char *err, size_t errlen)
{
	if (!state_dir || !state_dir[0]) {
		snprintf(err, errlen, "the xen driver needs a state directory");
		return -1;
	}
	if (asprintf(&x->cfg_dir, "%s/xen", state_dir) < 0) {
		x->cfg_dir = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (mkdir(x->cfg_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make %s: %s", x->cfg_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int xen_open(const struct hv_open_args *args, struct hv **out, char *err, size_t errlen)
{
	struct xen_hv *x = calloc(1, sizeof *x);
	struct xen_stat_dom *doms;
	size_t n;
	double pct;

	*out = NULL;
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->base.ops = &hv_xen_ops;
	xen_watch_init(x);
	x->log = xen_log_new(stderr, err, errlen);
	if (!x->log || open_ctx(x, err, errlen) < 0 ||
	    open_state(x, args ? args->state_dir : NULL, err, errlen) < 0)
		goto fail;
	x->stat = xen_stat_new(err, errlen);
	if (!x->stat)
		goto fail;
	/* A first sample, so that the first listing already has CPU rates. */
	if (xen_stat_sample(x->stat, &doms, &n, &pct, err, errlen) < 0)
		goto fail;
	free(doms);
	if (xen_watch_start(x, err, errlen) < 0)
		goto fail;
	*out = &x->base;
	return 0;
fail:
	xen_close(&x->base);
	return -1;
}

/* --- host and VMs ---------------------------------------------------------- */

static int xen_host_info(struct hv *h, struct hv_host *out, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	const libxl_version_info *vi;
	libxl_physinfo pi;
	struct xen_stat_dom *doms;
	uint64_t mark = xen_log_mark(x->log), free_kb = 0, page;
	size_t n;
	int rc;

	memset(out, 0, sizeof *out);
	vi = libxl_get_version_info(x->ctx);
	page = vi && vi->pagesize > 0 ? (uint64_t)vi->pagesize : 4096;
	libxl_physinfo_init(&pi);
	rc = libxl_get_physinfo(x->ctx, &pi);
	if (rc) {
		libxl_physinfo_dispose(&pi);
		return xen_fail(x->log, mark, rc, err, errlen, "reading the host's physical info");
	}
	out->cpus = (int)pi.nr_cpus;
	out->mem_total_mb = (int64_t)(pi.total_pages * page / (1024 * 1024));
	out->mem_free_mb = (int64_t)(pi.free_pages * page / (1024 * 1024));
	libxl_physinfo_dispose(&pi);
	rc = libxl_get_free_memory(x->ctx, &free_kb);
	if (rc)
		return xen_fail(x->log, mark, rc, err, errlen, "reading the host's free memory");
	out->mem_free_mb = (int64_t)(free_kb / 1024);
	if (vi)
		snprintf(out->version, sizeof out->version, "xen %d.%d%s", vi->xen_version_major,
		         vi->xen_version_minor, vi->xen_version_extra ? vi->xen_version_extra : "");
	else
		snprintf(out->version, sizeof out->version, "xen");
	if (xen_stat_sample(x->stat, &doms, &n, &out->cpu_pct, err, errlen) < 0)
		return -1;
	free(doms);
	return 0;
}

/* Strips suffix from name into buf; 1 if name had it. */
static int vm_strip(const char *name, const char *suffix, char *buf, size_t len)
{
	size_t n = strlen(name), k = strlen(suffix);

	if (n <= k || strcmp(name + n - k, suffix) != 0 || n - k >= len)
		return 0;
	memcpy(buf, name, n - k);
	buf[n - k] = '\0';
	return 1;
}

static enum hv_vm_state vm_state(struct xen_hv *x, const struct xen_stat_dom *d)
{
	libxl_dominfo info;
	enum hv_vm_state st = HV_VM_SHUTTING_DOWN;

	if (d->crashed)
		return HV_VM_CRASHED;
	if (d->shutdown) {
		libxl_dominfo_init(&info);
		if (libxl_domain_info(x->ctx, &info, d->domid) == 0) {
			if (info.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND)
				st = HV_VM_OUTGOING;
			else if (info.shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH)
				st = HV_VM_CRASHED;
		}
		libxl_dominfo_dispose(&info);
		return st;
	}
	if (d->dying || xen_watch_is_stopping(x, d->domid))
		return HV_VM_SHUTTING_DOWN;
	return d->paused ? HV_VM_PAUSED : HV_VM_RUNNING;
}

/* Fills v from d; returns 0, or -1 to leave d out (dom0, no name, or a name
 * vmcluster cannot carry). */
static int vm_fill(struct xen_hv *x, const struct xen_stat_dom *d, struct hv_vm *v)
{
	char base[sizeof d->name], why[VMC_ERR_MAX];
	int incoming, away = 0;

	if (d->domid == 0 || !d->name[0])
		return -1;
	incoming = vm_strip(d->name, XEN_INCOMING_SUFFIX, base, sizeof base);
	if (!incoming)
		away = vm_strip(d->name, XEN_AWAY_SUFFIX, base, sizeof base);
	if (!incoming && !away)
		snprintf(base, sizeof base, "%s", d->name);
	if (vmc_name_check(base, "domain name", why, sizeof why) < 0)
		return -1; /* also too long for v->name */
	memset(v, 0, sizeof *v);
	memcpy(v->name, base, strlen(base) + 1);
	v->domid = (int)d->domid;
	v->state = incoming ? HV_VM_INCOMING : away ? HV_VM_OUTGOING : vm_state(x, d);
	v->vcpus = d->vcpus_online;
	v->mem_mb = d->mem_mb;
	v->cpu_pct = d->cpu_pct;
	v->has_io = 1;
	v->net_rx_bytes = d->net_rx_bytes;
	v->net_tx_bytes = d->net_tx_bytes;
	v->blk_rd_reqs = d->blk_rd_reqs;
	v->blk_wr_reqs = d->blk_wr_reqs;
	return 0;
}

static int xen_list_vms(struct hv *h, struct hv_vm **vms, size_t *n, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	struct xen_stat_dom *doms;
	struct hv_vm *out;
	size_t nd, i;
	double pct;

	*vms = NULL;
	*n = 0;
	if (xen_stat_sample(x->stat, &doms, &nd, &pct, err, errlen) < 0)
		return -1;
	out = calloc(nd ? nd : 1, sizeof *out);
	if (!out) {
		free(doms);
		snprintf(err, errlen, "out of memory listing %zu domains", nd);
		return -1;
	}
	for (i = 0; i < nd; i++)
		if (vm_fill(x, &doms[i], &out[*n]) == 0)
			(*n)++;
	free(doms);
	*vms = out;
	return 0;
}

/* The xl.cfg of a domain xl created, from what libxl keeps of it. */
static char *vm_config_retrieved(struct xen_hv *x, const char *name, uint32_t domid, char *err,
                                 size_t errlen)
{
	libxl_domain_config dc;
	uint64_t mark = xen_log_mark(x->log);
	char what[VMC_NAME_MAX + 64], *text = NULL;
	int rc;

	libxl_domain_config_init(&dc);
	rc = libxl_retrieve_domain_configuration(x->ctx, domid, &dc, NULL);
	if (rc) {
		snprintf(what, sizeof what, "reading the configuration of %s", name);
		xen_fail(x->log, mark, rc, err, errlen, what);
	} else {
		text = xen_cfg_write(&dc, err, errlen);
	}
	libxl_domain_config_dispose(&dc);
	return text;
}

static int xen_vm_config(struct hv *h, const char *name, char **xlcfg, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	uint32_t domid;

	*xlcfg = NULL;
	if (vmc_name_check(name, "vm name", err, errlen) < 0 ||
	    xen_domid(x, name, &domid, err, errlen) < 0)
		return -1;
	*xlcfg = xen_store_get(x, name);
	if (!*xlcfg)
		*xlcfg = vm_config_retrieved(x, name, domid, err, errlen);
	return *xlcfg ? 0 : -1;
}

/* --- lifecycle --------------------------------------------------------------- */

int xen_build(struct xen_hv *x, libxl_domain_config *dc, int restore_fd, uint32_t *domid, char *err,
              size_t errlen)
{
	libxl_domain_restore_params params;
	uint64_t mark = xen_log_mark(x->log);
	char what[VMC_NAME_MAX + 64];
	int rc;

	*domid = INVALID_DOMID;
	if (restore_fd < 0) {
		rc = libxl_domain_create_new(x->ctx, dc, domid, NULL, NULL);
	} else {
		/* A plain (not Remus/COLO) v2 stream, as libxl_domain_suspend writes. */
		libxl_domain_restore_params_init(&params);
		params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
		params.stream_version = 2;
		rc = libxl_domain_create_restore(x->ctx, dc, domid, restore_fd, -1, &params, NULL,
		                                 NULL);
		libxl_domain_restore_params_dispose(&params);
	}
	if (rc == 0)
		return 0;
	/* On failure libxl has already destroyed what it built. */
	snprintf(what, sizeof what, "%s domain %s", restore_fd < 0 ? "creating" : "receiving",
	         dc->c_info.name);
	return xen_fail(x->log, mark, rc, err, errlen, what);
}

int xen_fits(struct xen_hv *x, libxl_domain_config *dc, char *err, size_t errlen)
{
	uint64_t need_kb = 0, free_kb = 0;

	if (libxl_domain_need_memory(x->ctx, dc, INVALID_DOMID, &need_kb) != 0 ||
	    libxl_get_free_memory(x->ctx, &free_kb) != 0)
		return 0; /* let libxl itself decide */
	if (need_kb <= free_kb)
		return 0;
	snprintf(err, errlen, "not enough free memory for %s: it needs %llu MiB, the host has %llu",
	         dc->c_info.name, (unsigned long long)(need_kb / 1024),
	         (unsigned long long)(free_kb / 1024));
	return -1;
}

/* The text to store: xlcfg, plus the generated uuid if it had none, so that the
 * domain keeps its uuid across restarts and migrations. Caller frees. */
static char *create_text(const char *xlcfg, int uuid_given, const libxl_uuid *uuid)
{
	char *s;

	if (uuid_given)
		return strdup(xlcfg);
	if (asprintf(&s, "%s\n# added by vmc-hostd\nuuid = \"" LIBXL_UUID_FMT "\"\n", xlcfg,
	             LIBXL_UUID_BYTES(*uuid)) < 0)
		return NULL;
	return s;
}

static int xen_create(struct hv *h, const char *xlcfg, int paused, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	libxl_domain_config dc;
	uint64_t mark;
	uint32_t domid;
	char *text = NULL, ignored[256];
	const char *name;
	int uuid_given = 0, rc = -1, e;

	if (xen_cfg_parse(xlcfg, &dc, &uuid_given, err, errlen) < 0)
		goto out;
	name = dc.c_info.name;
	if (xen_cfg_ignored(xlcfg, ignored, sizeof ignored) > 0)
		log_warnx("xen: %s: xl.cfg keys the xen driver ignores: %s", name, ignored);
	if (libxl_name_to_domid(x->ctx, name, &domid) == 0) {
		snprintf(err, errlen, "a domain named %s already exists (domid %u)", name, domid);
		goto out;
	}
	if (xen_fits(x, &dc, err, errlen) < 0)
		goto out;
	text = create_text(xlcfg, uuid_given, &dc.c_info.uuid);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (xen_store_put(x, name, text, err, errlen) < 0)
		goto out;
	if (xen_build(x, &dc, -1, &domid, err, errlen) < 0) {
		xen_store_del(x, name);
		goto out;
	}
	if (!paused) {
		mark = xen_log_mark(x->log);
		e = libxl_domain_unpause(x->ctx, domid, NULL);
		if (e) {
			xen_fail(x->log, mark, e, err, errlen, "unpausing the new domain");
			libxl_domain_destroy(x->ctx, domid, NULL);
			xen_store_del(x, name);
			goto out;
		}
	}
	rc = 0;
out:
	free(text);
	libxl_domain_config_dispose(&dc);
	return rc;
}

static int xen_shutdown(struct hv *h, const char *name, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	uint64_t mark = xen_log_mark(x->log);
	libxl_dominfo info;
	char what[VMC_NAME_MAX + 64];
	uint32_t domid;
	int rc, hvm;

	if (xen_domid(x, name, &domid, err, errlen) < 0)
		return -1;
	rc = libxl_domain_shutdown(x->ctx, domid, NULL);
	if (rc == ERROR_NOPARAVIRT) {
		libxl_dominfo_init(&info);
		hvm = libxl_domain_info(x->ctx, &info, domid) == 0 &&
		      info.domain_type == LIBXL_DOMAIN_TYPE_HVM;
		libxl_dominfo_dispose(&info);
		if (!hvm) {
			snprintf(err, errlen,
			         "domain %s has no PV control interface (its kernel has no Xen PV "
			         "drivers, or has not started them): it cannot be shut down "
			         "cleanly; destroy it instead",
			         name);
			return -1;
		}
		/* As xl shutdown -F: the ACPI power button. */
		rc = libxl_send_trigger(x->ctx, domid, LIBXL_TRIGGER_POWER, 0, NULL);
	}
	if (rc) {
		snprintf(what, sizeof what, "shutting down %s", name);
		return xen_fail(x->log, mark, rc, err, errlen, what);
	}
	xen_watch_stopping(x, domid);
	return 0;
}

int xen_apply(struct xen_hv *x, const char *name, xen_domain_fn *fn, const char *verb, char *err,
              size_t errlen)
{
	uint64_t mark = xen_log_mark(x->log);
	char what[VMC_NAME_MAX + 64];
	uint32_t domid;
	int rc;

	if (xen_domid(x, name, &domid, err, errlen) < 0)
		return -1;
	rc = fn(x->ctx, domid, NULL);
	if (rc == 0)
		return 0;
	snprintf(what, sizeof what, "%s %s", verb, name);
	return xen_fail(x->log, mark, rc, err, errlen, what);
}

static int xen_destroy(struct hv *h, const char *name, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;

	if (xen_apply(x, name, libxl_domain_destroy, "destroying", err, errlen) < 0)
		return -1;
	xen_store_del(x, name);
	return 0;
}

static int xen_pause(struct hv *h, const char *name, char *err, size_t errlen)
{
	return xen_apply((struct xen_hv *)h, name, libxl_domain_pause, "pausing", err, errlen);
}

static int xen_unpause(struct hv *h, const char *name, char *err, size_t errlen)
{
	struct xen_hv *x = (struct xen_hv *)h;
	uint32_t domid;

	if (xen_domid(x, name, &domid, err, errlen) < 0)
		return -1;
	if (xen_is_suspended(x, domid)) {
		snprintf(err, errlen, "domain %s is suspended by a migration or save, not paused",
		         name);
		return -1;
	}
	return xen_apply(x, name, libxl_domain_unpause, "unpausing", err, errlen);
}

const struct hv_ops hv_xen_ops = {
    .name = "xen",
    .open = xen_open,
    .close = xen_close,
    .host_info = xen_host_info,
    .list_vms = xen_list_vms,
    .vm_config = xen_vm_config,
    .create = xen_create,
    .shutdown = xen_shutdown,
    .destroy = xen_destroy,
    .pause = xen_pause,
    .unpause = xen_unpause,
    .guest_view = NULL,
    .migrate_send = xen_migrate_send,
    .migrate_src_commit = xen_migrate_src_commit,
    .migrate_src_abort = xen_migrate_src_abort,
    .migrate_recv = xen_migrate_recv,
    .migrate_dst_commit = xen_migrate_dst_commit,
    .migrate_dst_abort = xen_migrate_dst_abort,
};
