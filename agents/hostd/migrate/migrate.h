/* migrate.h - the migration module's insides, shared by migrate.c (the module and
 * the source side), migrate_dst.c (the destination side), migrate_log.c (records
 * and recovery), drain.c (maintenance) and hostcall.c (commands to other hosts).
 *
 * The handshake on the channel, after authentication (every message a JSON object
 * with "op"):
 *   source                                  destination
 *   migrate {id, vm, from, driver, mem_mb,
 *            config, tags}          ->
 *                                   <-      accept  |  refuse {code, message}
 *   data frames, end frame          ->      (the driver reads them: vm incoming)
 *                                   <-      ready   |  failed {message}
 *   go                              ->      commit record written, vm unpaused,
 *                                           definition stored: THE commit point
 *                                   <-      done    |  failed {message}
 *   source destroys its copy, bye   ->
 * A source that lost the connection after sending go asks on a new connection:
 *   status {id, vm}                 ->
 *                                   <-      status {state: committed|aborted|pending}
 * and keeps its (suspended) VM until the answer is committed or aborted. */
#ifndef VMC_MIGRATE_H
#define VMC_MIGRATE_H

#include "../hostd.h"

struct chan;
struct chan_ctx;
struct workpool;

#define MIG_ID_MAX 128
#define MIG_DEFAULT_MAX_OUT 2
#define MIG_DEFAULT_MAX_CLUSTER 8
#define MIG_PROGRESS_MS 250 /* real ms between progress events of one migration */
#define MIG_RETRY_MS 1000   /* a source in doubt asks again after this */

enum mig_role { MIG_SRC, MIG_DST };

enum mig_stage {
	/* source */
	MS_CONNECT, /* connecting, authenticating */
	MS_OFFER,   /* migrate sent, waiting for accept */
	MS_STREAM,  /* the driver streams; end not yet sent */
	MS_READY,   /* end sent, waiting for ready */
	MS_COMMIT,  /* go sent, waiting for done */
	MS_DOUBT,   /* go sent and the connection lost: asking status */
	MS_FINISH,  /* destination committed: destroying our copy */
	MS_ABORT,   /* resuming our copy */
	/* destination */
	MD_RECEIVE, /* the driver reads the stream */
	MD_READY,   /* received, ready sent, waiting for go */
	MD_COMMIT,  /* commit record written, committing */
	MD_ABORT,   /* destroying the received copy */
};

struct migrate;
struct mig;

/* Told when a migration ends: ok with the figures (owned by the callee), or an error. */
typedef void mig_done_fn(struct hostd *h, void *ud, const char *vm, enum vmc_err code,
                         const char *message, cJSON *result);

struct mig {
	struct migrate *m;
	struct mig *next;
	enum mig_role role;
	enum mig_stage stage;
	char id[MIG_ID_MAX + 1];
	char vm[VMC_NAME_MAX + 1];
	char peer[VMC_NAME_MAX + 1]; /* the other host */
	int64_t mem_mb;
	char *config; /* xl.cfg text */
	cJSON *tags;  /* array */
	struct chan *c;
	int sp;  /* the driver's end of the stream socketpair, until its job closes it */
	int job; /* a driver call runs */
	int job_rc;
	char job_err[VMC_ERR_MAX];
	struct hv_migrate_stats st;
	int src_eof;  /* source: every stream byte went out */
	int end_seen; /* destination: the end frame arrived */
	int go_sent;
	int64_t t0_virt;       /* when it started, virtual ms */
	int64_t last_progress; /* real ms of the last progress event */
	uint64_t prog_bytes, prog_total;
	int prog_round;
	long long timer; /* retry timer of a source in doubt */
	char fail_stage[16];
	enum vmc_err fail_code;
	char fail_msg[VMC_ERR_MAX * 2];
	mig_done_fn *done;
	void *done_ud;
};

struct drain;
struct hostcall;

struct migrate {
	struct hostd *h;
	struct chan_ctx *chans;
	struct workpool *workers;
	struct mig *migs;
	char dir[4200]; /* STATE_DIR/migrations */
	unsigned long next_id;
	int max_out, max_cluster;
	struct drain *drain;
	struct hostcall *calls;
	char crash_at[64]; /* VMC_CRASH_AT, for tests */
	int closing;       /* the agent is stopping: no new migrations, no balancer calls */
};

static inline struct migrate *migrate_of(struct hostd *h)
{
	return h->migrate;
}

/* --- migrate.c ------------------------------------------------------------------ */
/* Starts migrating vm to host `to`. Returns VMC_OK (done is called later, exactly
 * once), or an error code with msg (done is never called). */
enum vmc_err migrate_start(struct hostd *h, const char *vm, const char *to, mig_done_fn *done,
                           void *ud, char *msg, size_t msglen);
/* The migration of that VM (either role), or NULL. */
struct mig *mig_find_vm(struct migrate *m, const char *vm);
struct mig *mig_find_id(struct migrate *m, const char *id);
struct mig *mig_new(struct migrate *m, enum mig_role role, const char *id, const char *vm,
                    const char *peer);
/* Unlinks and frees (the connection closed, no job running). */
void mig_free(struct mig *g);
/* Publishes migration.<type> with the common fields plus extra (ownership passes). */
void mig_event(struct mig *g, const char *type, cJSON *extra);
/* Counts outgoing migrations now. */
int mig_count(struct migrate *m, enum mig_role role);
/* Looks vm up in the driver. 1 found (*out filled if not NULL), 0 not, -1 error. */
int mig_vm_lookup(struct hostd *h, const char *name, struct hv_vm *out, char *err, size_t errlen);
/* Memory this host can still promise to an incoming VM: driver free memory less the
 * VMs accepted but not yet created by the driver. */
int64_t mig_local_free(struct migrate *m);
/* Source recovery: a VM left outgoing by a crash; asks its destination. */
void mig_src_recover(struct migrate *m, const char *vm, const char *id, const char *to);
/* Makes the next load message publish vm/<vm> again (or not clear it, if it left). */
void mig_forget_seen(struct hostd *h, const char *vm);
/* Checks a migration id: 1..MIG_ID_MAX of [A-Za-z0-9_.-]. 0 or -1. */
int mig_id_check(const char *id);
/* Test hook: if the environment named this point in VMC_CRASH_AT when the agent started,
 * the agent dies here at once, as kill -9 would kill it (after flushing c if not NULL).
 * Lets the tests reach every step of the commit handshake on purpose. */
void mig_crash_point(struct migrate *m, struct chan *c, const char *point);

/* --- migrate_dst.c ---------------------------------------------------------------- */
/* A new connection on the listener. */
void mig_dst_accept(struct chan *c, void *ud);

/* --- migrate_log.c: records in STATE_DIR/migrations --------------------------------- */
/* Source: out-VM.json {id, vm, to, stage}. */
int mlog_out_put(struct migrate *m, const struct mig *g, const char *stage);
void mlog_out_del(struct migrate *m, const char *vm);
/* Destination: in-ID.json {id, vm, from, stage: commit|done, config, tags}. */
int mlog_in_put(struct migrate *m, const struct mig *g, const char *stage);
void mlog_in_del(struct migrate *m, const char *id);
/* The stage recorded for migration id ("" if none). */
void mlog_in_stage(struct migrate *m, const char *id, char *stage, size_t len);
/* At start, before the listener opens: finishes what a crash left half done. */
void mlog_recover(struct migrate *m);
/* Writes a whole file atomically (temporary, rename); durable: synced (file and
 * directory) before it returns. 0 or -1. */
int mlog_write(const char *path, const char *text, int durable);
/* Reads a JSON file; NULL if absent or bad. */
cJSON *mlog_read(const char *path);

/* --- hostcall.c: requests to other host agents (balance/peer/<h>), answered
 * asynchronously on reply/host/<name>; and the requests peers send us ----------------- */
typedef void hostcall_fn(struct hostd *h, void *ud, const cJSON *reply, const char *err);
int hostcall_init(struct migrate *m);
void hostcall_free(struct migrate *m);
void hostcall_connected(struct migrate *m);
/* Returns 1 if the message was a reply to us or a peer request (consumed). */
int hostcall_message(struct migrate *m, struct hostd_msg *msg);
/* Sends op to host; fn gets the reply, or NULL and a reason after timeout_ms. 0 or -1. */
int hostcall_send(struct migrate *m, const char *host, const char *op, cJSON *args, long timeout_ms,
                  hostcall_fn *fn, void *ud);

#endif
