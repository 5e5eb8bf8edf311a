/* confd.h - the configuration agent's context and the interfaces between its modules.
 *
 * One struct confd per process, passed explicitly; the only globals are the
 * signal flags in main.c. Everything runs on the event loop's thread except
 * the jobs' run functions (lib/core/workpool.h), which touch only the image store and
 * their own op's fields. */
#ifndef VMC_CONFD_H
#define VMC_CONFD_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../../lib/bus/bus.h"
#include "../../lib/bus/busconn.h"
#include "../../lib/bus/cmdserve.h"
#include "../../lib/config/cliopts.h"
#include "../../lib/bus/msg.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/ratelog.h"

struct idcache;
struct imgstore;
struct cluster_model;
struct reservations;
struct workpool;

struct confd_opts {
	const char *name; /* agent name; default "confd" */
	struct cliopts_list broker;
	const char *cluster;
	const char *store;     /* the image store directory */
	const char *templates; /* the templates directory */
	struct busconn_opts conn; /* TLS, credentials, MQTT version and keepalive */
	double host_timeout_s; /* how long a host may take to answer */
	int fetch_attempts;    /* transfers per download */
	int workers;           /* jobs running at once */
	int shared;            /* subscribe cmd/confd as a shared subscription */
};

/* A command being answered, possibly later. */
struct confd_req {
	char id[VMC_ID_MAX + 1];
	char op[VMC_OP_MAX + 1];
	char reply_to[VMC_TOPIC_MAX + 1];
	struct cmd_route route; /* MQTT 5's, beside reply_to */
	cJSON *args;            /* owned */
};

/* The host calls waiting for their replies (hostcall.c). */
struct reqreply;
struct reqreply_timer;

struct confd_op;

struct confd {
	struct confd_opts opts;
	struct evloop *loop;
	struct bus *bus;
	struct idcache *ids;
	struct imgstore *store;
	struct cluster_model *cl;  /* the hosts and VMs: host/+/state and host/+/load */
	struct reservations *res; /* memory promised to the VMs it is creating */
	struct workpool *jobs;
	int refused; /* --shared on a broker that speaks only MQTT 3.1.1: exit status 1 */
	char sender[VMC_NAME_MAX + 1];     /* "confd" */
	char client_id[VMC_NAME_MAX + 16]; /* "confd-<name>" */
	char reply_topic[VMC_TOPIC_MAX];   /* vmc/<cluster>/reply/<client_id> */
	struct reqreply *calls;             /* outstanding host calls (hostcall.c) */
	struct reqreply_timer *calls_timer; /* their timeouts */
	/* names of VMs being created or deleted, so two commands never work on one VM */
	char (*busy)[VMC_NAME_MAX + 1];
	size_t nbusy;
	struct ratelog bad_input; /* warnings of hosts' messages out of bounds */
	/* the op tables commands.c looks ops up in, the first match winning (NULL-ended;
	 * set by main.c, so that commands.c imports none of the ops modules) */
	const struct confd_op *const *op_tables;
};

/* Wall-clock ms (the context's clock: no module imports main.c for it). */
static inline int64_t confd_now(void)
{
	return evloop_wall_ms();
}

/* --- commands.c: cmd/confd ------------------------------------------------ */
enum confd_op_result { CONFD_REPLIED, CONFD_PENDING };
struct confd_op {
	const char *op;
	/* Replies and returns CONFD_REPLIED, or keeps req and answers later (CONFD_PENDING). */
	enum confd_op_result (*fn)(struct confd *cd, struct confd_req *req);
};
/* Op tables, NULL-ended; main.c lists them in cd->op_tables. */
extern const struct confd_op confd_create_ops[]; /* ops_create.c */
extern const struct confd_op confd_delete_ops[]; /* ops_delete.c */
extern const struct confd_op confd_misc_ops[];   /* ops_misc.c */

void confd_command(struct confd *cd, const struct bus_msg *m);
void confd_reply_ok(struct confd *cd, struct confd_req *req, cJSON *result);
void confd_reply_err(struct confd *cd, struct confd_req *req, enum vmc_err code, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
void confd_req_free(struct confd_req *req);
/* Publishes an event of type with the vm (may be NULL) and fields merged in (owned). */
void confd_event(struct confd *cd, const char *type, const char *vm, cJSON *fields);
/* Busy names: two commands never work on one VM. Marks vm busy. Returns 0, or -1 if it
 * already is. */
int confd_busy_take(struct confd *cd, const char *vm);
void confd_busy_drop(struct confd *cd, const char *vm);

/* --- hostcall.c: commands confd sends to host agents ------------------------ */
/* reply is the host's reply (borrowed), or NULL if none came within the timeout. */
typedef void confd_call_fn(struct confd *cd, const cJSON *reply, void *ud);
/* Sends op with args (owned) to cmd/host/<host>; fn (may be NULL) gets the reply.
 * Returns 0, or -1 if it could not be sent (fn is not called then). */
int confd_host_call(struct confd *cd, const char *host, const char *op, cJSON *args,
                    confd_call_fn *fn, void *ud);
/* Handles a message on our reply topic. */
void confd_host_reply(struct confd *cd, const struct bus_msg *m);
/* Drops every outstanding call, calling each fn with NULL. */
void confd_calls_cancel(struct confd *cd);

/* --- images.c: base images for ops, on worker threads --------------------------- */
struct imgstore_fetch_result;
/* Progress throttling state of one download (worker thread only). */
struct images_progress {
	struct confd *cd;
	int last_pct;
	int64_t last_ms;
	uint64_t last_bytes;
};
/* On a worker thread: makes the image ref (an http(s) URL, a name in images/ or an absolute
 * path inside it) ready and verified in the store, publishing progress through the loop.
 * name: the name in images/ to use for a URL (NULL: the URL's file name); *out gets the
 * image's name. sha256 may be "" for a local image (then it is not checked). Returns 0, or
 * -1 with err. */
int images_prepare(struct confd *cd, const char *ref, const char *sha256, const char *name,
                   const volatile int *cancel, struct images_progress *prog, char *out,
                   size_t outlen, struct imgstore_fetch_result *res, char *err, size_t errlen);
/* On the loop thread: publishes image.fetched for a finished download. */
void images_fetched_event(struct confd *cd, const char *image, const char *url, const char *sha256,
                          const struct imgstore_fetch_result *res);
/* 1 if ref is an http:// or https:// URL. */
int images_is_url(const char *ref);

#endif
