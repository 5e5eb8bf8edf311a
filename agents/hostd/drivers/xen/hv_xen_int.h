/* hv_xen_int.h - what the pieces of the xen driver share; not for other modules.
 *
 * The driver (hv_xen_ops, declared in hv.h) is split by concern:
 *   hv_xen.c      open/close, host and VM listing, lifecycle ops, stored configs
 *   hv_xen_cfg.c  xl.cfg text -> libxl_domain_config, through libxlutil
 *   hv_xen_cfgw.c libxl_domain_config -> xl.cfg text, for domains xl created
 *   hv_xen_log.c  the xentoollog logger: stderr at warn level, last error, progress
 *   hv_xen_stat.c libxenstat samples and CPU rates, as xentop computes them
 *   hv_xen_mig.c  live migration send/receive and their commit/abort
 *   hv_xen_watch.c a thread that applies on_poweroff/on_reboot/on_crash
 * One libxl_ctx serves the process (libxl contexts are thread-safe); an
 * outgoing migration gets its own context so its progress can be told apart. */
#ifndef VMC_HV_XEN_INT_H
#define VMC_HV_XEN_INT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "../hv.h"

#define XEN_INCOMING_SUFFIX "--incoming" /* as xl migrate-receive names it */
#define XEN_AWAY_SUFFIX "--migratedaway" /* as xl migrate names the source */

/* --- logger (hv_xen_log.c) ---------------------------------------------- */

struct xen_log;
/* Progress of a save stream: doing_what as libxenguest says it ("Frames
 * iteration 2", "Domain now suspended"), pages done of total. */
typedef void xen_log_progress_fn(void *ud, const char *doing_what, unsigned long done,
                                 unsigned long total);

/* A logger writing warnings and errors to out. Returns NULL with err filled. */
struct xen_log *xen_log_new(FILE *out, char *err, size_t errlen);
void xen_log_free(struct xen_log *l);
xentoollog_logger *xen_log_xtl(struct xen_log *l);
/* Routes progress messages to fn (NULL stops). */
void xen_log_set_progress(struct xen_log *l, xen_log_progress_fn *fn, void *ud);
/* A mark to pass to xen_log_first_error: the count of errors logged so far. */
uint64_t xen_log_mark(struct xen_log *l);
/* Copies the first error the calling thread logged after mark (among the last
 * few of all threads) into buf: usually the root cause. Returns 1 if there was
 * one, else 0 (buf = ""). */
int xen_log_first_error(struct xen_log *l, uint64_t mark, char *buf, size_t len);

/* --- xl.cfg parsing (hv_xen_cfg.c) -------------------------------------- */

/* Parses xl.cfg text into *dc (initialised here; the caller disposes it even on
 * failure). A missing uuid is generated; *uuid_given (may be NULL) says whether
 * the text had one. Needs no libxl context, so it works outside dom0. Returns 0,
 * or -1 with err naming the key or line that is wrong. */
int xen_cfg_parse(const char *text, libxl_domain_config *dc, int *uuid_given, char *err,
                  size_t errlen);
/* The xl.cfg name of an on_* action ("destroy", "restart", ...). */
const char *xen_cfg_action_name(libxl_action_on_shutdown a);
/* Lists in buf (", "-separated) the keys of text that xen_cfg_parse ignores.
 * Returns how many there are (0 also when text does not parse). */
int xen_cfg_ignored(const char *text, char *buf, size_t len);
/* The xl.cfg text (malloc'ed) of dc, in the keys xen_cfg_parse reads; NULL
 * with err on failure (hv_xen_cfgw.c). */
char *xen_cfg_write(const libxl_domain_config *dc, char *err, size_t errlen);

/* --- statistics (hv_xen_stat.c) ----------------------------------------- */

struct xen_stat;
/* Returns NULL with err filled if libxenstat cannot be opened. */
struct xen_stat *xen_stat_new(char *err, size_t errlen);
void xen_stat_free(struct xen_stat *s);

/* One domain's figures from the latest sample. */
struct xen_stat_dom {
	uint32_t domid;
	char name[VMC_NAME_MAX + 16]; /* "" if xenstore had none */
	int running, paused, blocked, shutdown, crashed, dying;
	int vcpus_online;
	int64_t mem_mb;
	double cpu_pct; /* of one CPU */
	uint64_t net_rx_bytes, net_tx_bytes, blk_rd_reqs, blk_wr_reqs;
};
/* Takes a fresh sample. *doms is malloc'ed (caller frees), dom0 included;
 * *host_cpu_pct is all domains' CPU over all CPUs (0-100). Returns 0 or -1. */
int xen_stat_sample(struct xen_stat *s, struct xen_stat_dom **doms, size_t *n, double *host_cpu_pct,
                    char *err, size_t errlen);

/* --- the driver's context ----------------------------------------------- */

struct xen_hv {
	struct hv base; /* first: hv.h's handle */
	libxl_ctx *ctx;
	struct xen_log *log;
	struct xen_stat *stat;
	char *cfg_dir; /* STATE_DIR/xen: created domains' xl.cfg */

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	int stop;
	uint32_t *stopping; /* domids asked to shut down, not yet gone */
	size_t nstopping, capstopping;
	pthread_t watcher;
	int watcher_started;
};

/* Fills err with "WHAT: libxl error CODE" plus the first error this thread
 * logged through l since mark, if any. Returns -1. */
int xen_fail(struct xen_log *l, uint64_t mark, int rc, char *err, size_t errlen, const char *what);
/* The domid of the domain called name. Returns 0, or -1 with err ("no domain ..."). */
int xen_domid(struct xen_hv *x, const char *name, uint32_t *domid, char *err, size_t errlen);
/* 1 if the domain is shut down for suspend (saved or migrated out), else 0. */
int xen_is_suspended(struct xen_hv *x, uint32_t domid);

typedef int xen_domain_fn(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how);
/* Looks name up and applies fn (libxl_domain_destroy, _pause, ...) to it.
 * Returns 0, or -1 with err "VERB NAME: libxl error ...". */
int xen_apply(struct xen_hv *x, const char *name, xen_domain_fn *fn, const char *verb, char *err,
              size_t errlen);

/* Stored configs (STATE_DIR/xen/NAME.cfg). */
int xen_store_put(struct xen_hv *x, const char *name, const char *text, char *err, size_t errlen);
/* Returns the malloc'ed text, or NULL (errno ENOENT if there is none). */
char *xen_store_get(struct xen_hv *x, const char *name);
void xen_store_del(struct xen_hv *x, const char *name);

/* Builds a domain from parsed config (create or restart). restore_fd < 0:
 * a new domain; else restored from the stream on that fd. Leaves it paused.
 * Returns 0 and *domid, or -1 with err. */
int xen_build(struct xen_hv *x, libxl_domain_config *dc, int restore_fd, uint32_t *domid, char *err,
              size_t errlen);

/* Refuses (-1, err with both figures) a domain that would not fit in free
 * memory; 0 if it fits or libxl cannot tell. */
int xen_fits(struct xen_hv *x, libxl_domain_config *dc, char *err, size_t errlen);

/* --- watcher (hv_xen_watch.c) ------------------------------------------- */

/* Initialises x->mu and x->cv (the cv on the monotonic clock). */
void xen_watch_init(struct xen_hv *x);
/* Starts the thread applying on_poweroff/on_reboot/on_crash to the domains this
 * driver created. Returns 0 or -1 with err. */
int xen_watch_start(struct xen_hv *x, char *err, size_t errlen);
/* Stops and joins it (no-op if not started). */
void xen_watch_stop(struct xen_hv *x);
/* Records that domid was asked to shut down (shown as shutting down until gone). */
void xen_watch_stopping(struct xen_hv *x, uint32_t domid);
/* 1 if domid was asked to shut down and still exists. */
int xen_watch_is_stopping(struct xen_hv *x, uint32_t domid);

/* --- migration ops (hv_xen_mig.c) --------------------------------------- */

int xen_migrate_send(struct hv *h, const char *name, int fd, hv_progress_fn *progress, void *ud,
                     struct hv_migrate_stats *st, char *err, size_t errlen);
int xen_migrate_src_commit(struct hv *h, const char *name, char *err, size_t errlen);
int xen_migrate_src_abort(struct hv *h, const char *name, char *err, size_t errlen);
int xen_migrate_recv(struct hv *h, const char *xlcfg, int fd, char *err, size_t errlen);
int xen_migrate_dst_commit(struct hv *h, const char *name, char *err, size_t errlen);
int xen_migrate_dst_abort(struct hv *h, const char *name, char *err, size_t errlen);

#endif
