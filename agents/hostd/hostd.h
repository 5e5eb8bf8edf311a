/* hostd.h - the host agent's context and the interfaces between its modules.
 *
 * One struct hostd per process, passed explicitly; the only globals are
 * the signal flags in main.c. What every module needs of the agent comes from the
 * context, not from another module: the clock (hostd_now), the event publisher
 * (hostd_event), the op tables commands.c looks ops up in, and the balancer's answers
 * to the others (hostd_balancer_sample and the like, through the callbacks it
 * registers). So no module imports main.c, publish.c or balancer.c for them, and
 * scripts/import-circles finds no circle between the agent's modules. */
#ifndef VMC_HOSTD_H
#define VMC_HOSTD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "../../lib/bus/bus.h"
#include "../../lib/bus/busconn.h"
#include "../../lib/bus/jsonbuf.h"
#include "../../lib/config/cliopts.h"
#include "../../lib/bus/msg.h"
#include "../../lib/bus/cmdserve.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/ratelog.h"
#include "../../lib/core/vclock.h"
#include "drivers/hv.h"

struct cluster_model;
struct ha_ctx;
struct idcache;
struct reservations;
struct vmstore;

struct hostd_opts {
	const char *driver; /* "sim" or "xen" */
	const char *name;   /* host name */
	const char *broker; /* URL, or a comma-separated list: broker_list.text */
	struct cliopts_list broker_list;
	const char *cluster;
	const char *state_dir;
	const char *sim_file;
	const char *sim_traces; /* sim: the directory trace profiles in commands come from */
	int cpus;
	int64_t memory_mb;
	double time_scale;
	int clock_start_s;  /* sim only: the virtual clock starts today at this local
	                       time of day (seconds since midnight); -1: at real now */
	double interval_s; /* load publishing period, real seconds */
	struct busconn_opts conn; /* TLS, credentials, MQTT version, keepalive */
	int migrate_port;         /* 0: none */
	const char *migrate_addr; /* address peers use to reach us; default 127.0.0.1 */
	const char *cluster_key_file;
	/* the migration channel's certificates (all three, or none: the cluster key's PSK) */
	const char *channel_cert, *channel_key, *channel_ca;
	/* balancer.c */
	const char *rules_file;     /* NULL: the built-in rules */
	int no_rules;               /* --no-rules: the built-in rules, not the default file */
	int advise;                 /* decide and publish, never migrate */
	const char *power_off_hook; /* programs run with the host name as argument */
	const char *power_on_hook;
	int max_migrations_out;     /* per host; 0: the default (2) */
	int max_cluster_migrations; /* per cluster; 0: the default (8), -1: no cap */
	/* ha.c */
	const char *shared_store; /* NULL: no HA on this host */
	const char *fence_hook;
	double ha_timeout_s;
	int fence_timeout_s;
	double self_fence_after_s; /* 0: never (ha_self.c) */
};

/* A command being answered, possibly later (shutdowns, migrations). */
struct hostd_req {
	char id[VMC_ID_MAX + 1];
	char op[VMC_OP_MAX + 1];
	char reply_to[VMC_TOPIC_MAX + 1];
	int peer;               /* came from another host (balance/peer/...), not an admin */
	struct cmd_route route; /* MQTT 5's, beside reply_to */
	cJSON *args;            /* owned */
};

enum hostd_state { HOSTD_ONLINE, HOSTD_MAINTENANCE };

struct hostd_op;
struct hostd_balancer_ops;

struct hostd {
	struct hostd_opts opts;
	struct evloop *loop;
	struct bus *bus;
	struct hv *hv;
	struct vclock clock;
	struct idcache *ids;
	struct vmstore *store;
	char sender[VMC_NAME_MAX + 8]; /* "host/<name>" */
	int64_t session;
	uint64_t load_seq;
	struct jsonbuf load_text; /* the load message's text, its buffer kept between samples */
	enum hostd_state state;
	long long load_timer;
	/* the VMs as last published, to publish vm/<vm> records and events on change */
	struct hostd_seen {
		char name[VMC_NAME_MAX + 1];
		char state[16];
		int64_t held_until; /* manual hold, 0 none */
	} * seen;
	size_t nseen;
	int have_seen;
	/* After a reconnection, until our own state comes back from the broker: retained (it
	 * kept its retained messages, our records with them) or live (it lost them, as a
	 * restart without persistence does: publish them all again). The monotonic ms when
	 * we stop waiting and publish them all; 0 when nothing is awaited. */
	int64_t records_check_ms;
	int migrations_out, migrations_in;
	void *migrate;  /* migration module's state (migrate.c) */
	void *balancer; /* rule engine's state (balancer.c) */
	void *guests;   /* guest figures (guests.c) */
	char (*followed)[VMC_NAME_MAX + 1]; /* VMs whose guest/<vm>/load is subscribed */
	size_t nfollowed;
	void *vmjobs;   /* VM driver calls running on worker threads (vmjobs.c) */
	void *holds;    /* manual holds of VMs (holds.c) */
	struct ratelog forged; /* warnings of messages speaking for another sender */
	struct ha_ctx *ha; /* restarts of dead hosts' VMs (ha.c); NULL without a shared store */
	uint64_t rx;       /* messages received since start, commands apart (host.info) */
	void *summary;     /* the summary as last published (summary.c) */
	/* the cluster as the hosts' state messages, summaries and VM records show it
	 * (model.c), read by the balancer, the migrations, drain and HA; the memory this
	 * host's migrations in flight hold on their destinations; and the warnings of
	 * messages the model refused */
	struct cluster_model *model;
	struct reservations *resv;
	struct ratelog model_bad;
	/* set by main.c before the modules start: the event publisher (hostd_event calls it)
	 * and the op tables commands.c looks ops up in, the first match winning (NULL-ended) */
	void (*publish_event)(struct hostd *h, const char *type, const char *vm, cJSON *fields);
	const struct hostd_op *const *op_tables;
	/* registered by hostd_balancer_start, withdrawn by hostd_balancer_stop: NULL
	 * without a balancer (the hostd_balancer_* calls below then say there is none) */
	const struct hostd_balancer_ops *balancer_ops;
};

/* --- the context's clock and identity ---------------------------------------------- */
/* Virtual now, in ms. */
static inline int64_t hostd_now(const struct hostd *h)
{
	return vclock_at(&h->clock, evloop_mono_ms());
}

/* What the retained state says that the periodic load and the summary must repeat, for
 * brokers that keep retained messages on one node only: the session and the migration
 * address. */
static inline void hostd_add_identity(struct hostd *h, cJSON *m)
{
	cJSON_AddNumberToObject(m, "session", (double)h->session);
	if (h->opts.migrate_port > 0) {
		char addr[300];
		snprintf(addr, sizeof(addr), "%s:%d", h->opts.migrate_addr, h->opts.migrate_port);
		cJSON_AddStringToObject(m, "migrate_addr", addr);
	}
}

/* Publishes an event of the given type; fields (may be NULL) are merged in (ownership
 * passes). Through the context's publisher (hostd_publish_event). */
static inline void hostd_event(struct hostd *h, const char *type, const char *vm, cJSON *fields)
{
	if (h->publish_event)
		h->publish_event(h, type, vm, fields);
	else
		cJSON_Delete(fields);
}

/* --- hostd_msg.c: a bus message shared by the modules that read it ------------ */
/* One delivery; on_message sets it up, hands it to each module in turn, then frees it. */
struct hostd_msg {
	const struct bus_msg *raw;
	const char *rest;      /* the topic after vmc/<cluster>/ */
	cJSON *json;           /* the payload parsed, once asked for; NULL before or if invalid */
	int tried;             /* the payload has been parsed (or found invalid) */
	int forged;            /* its "from" is not the sender its topic names */
	char err[VMC_ERR_MAX]; /* why it is invalid */
};
/* Sets m up for raw; nothing is parsed yet. */
void hostd_msg_init(struct hostd_msg *m, const struct bus_msg *raw, const char *rest);
/* The payload as a JSON object (msg_parse), parsed on the first call only; NULL if it is
 * not one (an empty payload included), with the reason in m->err. */
const cJSON *hostd_msg_json(struct hostd_msg *m);
/* Frees the parsed payload, if any. */
void hostd_msg_free(struct hostd_msg *m);

/* --- commands.c ---------------------------------------------------------- */
enum hostd_op_result { HOSTD_REPLIED, HOSTD_PENDING };
struct hostd_op {
	const char *op;
	/* Answers with hostd_reply_ok/err and returns HOSTD_REPLIED, or keeps req and returns
	 * HOSTD_PENDING, answering later (the request is then the handler's to free). */
	enum hostd_op_result (*fn)(struct hostd *h, struct hostd_req *req);
};
/* Handles one message on cmd/host/<name>. */
void hostd_command(struct hostd *h, const struct bus_msg *m);
/* The same for a topic where only some ops are accepted: allow is a NULL-terminated list
 * of op names; any other op is answered with a "refused" error naming `from` (a
 * description of the topic). Ids go through the same id cache as hostd_command's. */
void hostd_command_allowed(struct hostd *h, const struct bus_msg *m, const char *const *allow,
                           const char *from);
/* Replies and records the reply for the id; the request is not freed. */
void hostd_reply_ok(struct hostd *h, struct hostd_req *req, cJSON *result);
void hostd_reply_err(struct hostd *h, struct hostd_req *req, enum vmc_err code, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
void hostd_req_free(struct hostd_req *req);

/* Op tables, one per module (commands_vm.c, commands_host.c, migrate.c, balancer.c,
 * ha_cmd.c), NULL-ended; main.c lists them in h->op_tables. */
extern const struct hostd_op hostd_vm_ops[];
extern const struct hostd_op hostd_host_ops[];
extern const struct hostd_op hostd_migrate_ops[];
extern const struct hostd_op hostd_drain_ops[];
extern const struct hostd_op hostd_balance_ops[];
extern const struct hostd_op hostd_ha_ops[];

/* --- vmjobs.c: blocking driver calls of VM commands, on worker threads ------------- */
/* The stack of each worker thread (lib/core/workpool.h) of vmc-hostd's pools: VM commands,
 * migrations, HA probes; each job has a thread of its own, their callers limit how many. */
#define HOSTD_WORKER_STACK (1u << 20)
/* Sets up the worker pool. 0, or -1 (out of memory, no pipe). */
int hostd_vmjobs_start(struct hostd *h);
/* Waits up to 5 s for running calls; completions not yet delivered run now. */
void hostd_vmjobs_stop(struct hostd *h);
/* Runs run(ud) on a worker thread, then done(h, ud) in the loop; while it runs, vm is
 * busy with op and mem_mb (what a create will take) counts in hostd_vmjobs_mem. Without
 * a thread, runs both at once. Returns 0, or -1 (out of memory: nothing ran). */
int hostd_vmjob_start(struct hostd *h, const char *vm, const char *op, int64_t mem_mb,
                      void (*run)(void *ud), void (*done)(struct hostd *h, void *ud), void *ud);
/* The op of the job running for vm, or NULL if none. */
const char *hostd_vm_busy(struct hostd *h, const char *vm);
/* Memory the running jobs' creates will take, MiB. */
int64_t hostd_vmjobs_mem(struct hostd *h);

/* --- publish.c ----------------------------------------------------------- */
/* Publishes the retained host/<name>/state record with the current state. */
void hostd_publish_state(struct hostd *h);
/* Samples the driver and publishes host/<name>/load, vm/<vm> records that changed and
 * events for VMs that changed state by themselves. */
void hostd_publish_load(struct hostd *h);
/* The agent's event publisher (main.c sets h->publish_event to it; modules call
 * hostd_event): publishes event/host/<name> of the given type; fields (may be NULL) are
 * merged in (ownership passes). */
void hostd_publish_event(struct hostd *h, const char *type, const char *vm, cJSON *fields);
/* Clears the retained vm/<vm> record. */
void hostd_publish_vm_gone(struct hostd *h, const char *vm);
/* The host's figures as JSON (host.info and the load message share it). */
cJSON *hostd_host_json(struct hostd *h, const struct hv_host *hi);
/* One VM as JSON. */
cJSON *hostd_vm_json(struct hostd *h, const struct hv_vm *vm, const char *state_override);
/* Every VM of this host (running ones from the driver, stopped ones from the store) as a JSON
 * array; also fills *hi if non-NULL. Returns NULL with err on driver failure. */
cJSON *hostd_vms_json(struct hostd *h, struct hv_host *hi, char *err, size_t errlen);

/* --- hostd_guests.c: guest figures of this host's VMs only -------------------------- */
/* The host's VMs are now[0..n): subscribes to guest/<vm>/load of the VMs that came and
 * unsubscribes from those that left (the bus subscribes again after a reconnection). */
void hostd_guests_follow(struct hostd *h, const struct hostd_seen *now, size_t n);

/* --- model.c: the agent's cluster model (h->model, h->resv) -------------------------- */
/* Sets them up (0), or -1 out of memory. */
int hostd_model_start(struct hostd *h);
void hostd_model_stop(struct hostd *h);
/* host/<h>/state, host/<h>/summary, host/<h>/vm/<vm>: into the model (before the modules
 * read it); anything else is left alone. */
void hostd_model_message(struct hostd *h, struct hostd_msg *m);

/* --- summary.c: the compact host/<name>/summary peers read instead of the load -------- */
/* After each load sample (load: the message just published; changed: VM records published
 * or cleared by this sample): publishes the summary if it changed significantly, if
 * migrations run, or if the last one is old (see vmcluster-protocol(7)). */
void hostd_summary_sample(struct hostd *h, const cJSON *load, int changed);
/* After a (re)connect: the next sample publishes it whatever it says. */
void hostd_summary_reset(struct hostd *h);
void hostd_summary_free(struct hostd *h);

/* --- vmstore.c: definitions of the VMs this host owns (started or stopped) ----- */
struct vmstore *vmstore_open(const char *dir, char *err, size_t errlen);
void vmstore_close(struct vmstore *s);
/* Saves the xl.cfg text and tags of a VM, atomically. */
int vmstore_put(struct vmstore *s, const char *name, const char *xlcfg, const cJSON *tags,
                char *err, size_t errlen);
/* The stored config (malloc'ed) or NULL. */
char *vmstore_get(struct vmstore *s, const char *name);
/* 1 if a config is stored for the VM (no read), else 0. */
int vmstore_has(struct vmstore *s, const char *name);
/* The stored tags (a new JSON array, empty if none). */
cJSON *vmstore_tags(struct vmstore *s, const char *name);
/* 1 if the VM's stored tags include tag, else 0. */
int vmstore_has_tag(struct vmstore *s, const char *name, const char *tag);
int vmstore_remove(struct vmstore *s, const char *name);
/* Names of every stored VM; *names malloc'ed array of malloc'ed strings. */
int vmstore_list(struct vmstore *s, char ***names, size_t *n);
/* How many VMs are stored (0 if the directory cannot be read). */
size_t vmstore_count(struct vmstore *s);
void vmstore_names_free(char **names, size_t n);
/* Writes a whole file atomically (temporary file, fsync, rename). 0, or -1 with err. */
int vmstore_write_file(const char *path, const char *text, char *err, size_t errlen);
/* A file of at most 1 MiB, malloc'ed and NUL-terminated, or NULL. */
char *vmstore_read_file(const char *path);

/* --- balancer.c: rules, balancing protocol, balance.plan ------------------------------ */
struct rules;
/* Parses a rules file (NULL: the built-in rules). Returns 0, or -1 with every error. */
int hostd_balancer_load_rules(const char *path, struct rules **out, char *err, size_t errlen);
/* Sets the balancer up (after the bus exists). Returns 0, or -1 with err. */
int hostd_balancer_start(struct hostd *h, char *err, size_t errlen);
/* Reads the rules file again (SIGHUP); on an error the rules in force stay. 0 or -1. */
int hostd_balancer_reload_rules(struct hostd *h, char *err, size_t errlen);
void hostd_balancer_stop(struct hostd *h);
/* Subscribes to what the balancer reads; called on every (re)connect. */
void hostd_balancer_connected(struct hostd *h);
/* A message on one of those topics. */
void hostd_balancer_message(struct hostd *h, struct hostd_msg *m);

/* What the other modules ask of the balancer (publish.c, summary.c, migrate.c, drain.c),
 * through callbacks it registers in the context (h->balancer_ops), like a driver's ops
 * table: none of them imports balancer.c. */
struct bal_view;
struct rule_settings;
struct hostd_balancer_ops {
	void (*sample)(struct hostd *h, const cJSON *load);
	void (*migration_done)(struct hostd *h, const char *vm, const char *to, int ok);
	int64_t (*manual_hold_ms)(struct hostd *h);
	int (*own_load)(struct hostd *h, double *load, double *vm_cpu, size_t *nvms);
	size_t (*hosts)(struct hostd *h);
	const struct bal_view *(*view)(struct hostd *h, const struct rule_settings **s);
};
/* This host's load message, as just published. */
static inline void hostd_balancer_sample(struct hostd *h, const cJSON *load)
{
	if (h->balancer_ops)
		h->balancer_ops->sample(h, load);
}
/* A migration the balancer started has ended (ok: the VM runs at to now). */
static inline void hostd_balancer_migration_done(struct hostd *h, const char *vm, const char *to,
                                                 int ok)
{
	if (h->balancer_ops)
		h->balancer_ops->migration_done(h, vm, to, ok);
}
/* The manual_hold setting in force (virtual ms; 0 without a balancer). */
static inline int64_t hostd_balancer_manual_hold_ms(struct hostd *h)
{
	return h->balancer_ops ? h->balancer_ops->manual_hold_ms(h) : 0;
}
/* This host's load as its balancer computes it (% of the host, from the demand of its VMs),
 * the demand of its VMs (% of one CPU) and how many VMs hold resources, from its last
 * sample. 0, or -1 if none yet (or no balancer). */
static inline int hostd_balancer_own_load(struct hostd *h, double *load, double *vm_cpu,
                                          size_t *nvms)
{
	return h->balancer_ops ? h->balancer_ops->own_load(h, load, vm_cpu, nvms) : -1;
}
/* How many hosts the balancer's view holds (0 without a balancer). */
static inline size_t hostd_balancer_hosts(struct hostd *h)
{
	return h->balancer_ops ? h->balancer_ops->hosts(h) : 0;
}
/* The balancer's view of the cluster now (what balance.plan plans on) and its settings
 * in *s, or NULL if there is no balancer. Valid until the view next changes. */
static inline const struct bal_view *hostd_balancer_view(struct hostd *h,
                                                         const struct rule_settings **s)
{
	return h->balancer_ops ? h->balancer_ops->view(h, s) : NULL;
}

/* --- holds.c: a VM moved by hand stays put (retained balance/hold/<host>/<vm>) ------- */
/* The hold of vm as last read or set (virtual ms), or 0. */
int64_t hostd_hold_get(struct hostd *h, const char *vm);
/* The hold of a VM this host runs, or 0 if none or over (then cleared on the bus). */
int64_t hostd_held_until(struct hostd *h, const char *vm);
/* Holds vm until (virtual ms; 0 releases): publishes the retained hold. 0 or -1. */
int hostd_hold_set(struct hostd *h, const char *vm, int64_t until, const char *by);
/* A message on balance/hold/<host>/<vm> (host: its writer). */
void hostd_holds_message(struct hostd *h, const char *host, const char *vm,
                         struct hostd_msg *m);
/* The vm.release command. */
enum hostd_op_result hostd_holds_op_release(struct hostd *h, struct hostd_req *req);
void hostd_holds_free(struct hostd *h);

/* --- migrate.c: live migration, drain and undrain (the migration module) ---- */
/* At start, before the loop runs: cluster key, recovery of migrations a crash left
 * half done, the channel's listener (its port goes into opts.migrate_port).
 * Returns 0, or -1 with err (a start-up failure). */
int hostd_migrate_init(struct hostd *h, char *err, size_t errlen);
/* After every (re)connect to the broker: the module's subscriptions. */
void hostd_migrate_connected(struct hostd *h);
/* Every message that is not a command. Returns 1 if it was the module's alone. */
int hostd_migrate_message(struct hostd *h, struct hostd_msg *m);
/* At exit: answers what waits, closes connections, waits briefly for driver calls. */
void hostd_migrate_free(struct hostd *h);
/* Starts a migration for the balancer; its end comes to hostd_balancer_migration_done
 * once the migration has let go of its slot. 0 or -1 with err. */
int hostd_migrate_start(struct hostd *h, const char *vm, const char *to, char *err, size_t errlen);

/* --- drain.c: maintenance (host.drain, host.undrain) on top of the migration module --- */
/* After hostd_migrate_init: the persisted maintenance state (the host stays in
 * maintenance across restarts). 0, or -1 (out of memory). */
int hostd_drain_start(struct hostd *h);
/* Before hostd_migrate_free: a drain or undrain still running is answered (failed). */
void hostd_drain_stop(struct hostd *h);

/* --- ha.c: restarts of a dead host's VMs (vmc-hostd(8) HIGH AVAILABILITY) ---------- */
/* After the bus exists: the shared store, the tick. 0, or -1 with err. */
int hostd_ha_start(struct hostd *h, char *err, size_t errlen);
/* At exit, once the loop no longer runs. */
void hostd_ha_stop(struct hostd *h);
/* Every message that is not a command (host states and loads, the policy). */
void hostd_ha_message(struct hostd *h, struct hostd_msg *m);
/* A vm.create with the tag "ha": 0, or -1 with err if its config is not shared. */
int hostd_ha_check_create(struct hostd *h, const char *name, const char *config,
                          const cJSON *tags, char *err, size_t errlen);
/* A VM defined here is removed or unprotected: its shared record goes. */
void hostd_ha_forget(struct hostd *h, const char *vm);

#endif
