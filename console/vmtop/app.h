/* app.h - vmtop-cluster the program: its options, its one context, and the modules that
 * talk to the bus or the keyboard (actions, keys, command line, prompts, batch). */
#ifndef VMTOP_APP_H
#define VMTOP_APP_H

#include <cjson/cJSON.h>

#include "../../lib/bus/busconn.h"
#include "../../lib/config/cliopts.h"
#include "../../lib/core/evloop.h"
#include "vmtop.h"

struct bus;
struct actions;

enum batch_fmt { BATCH_TEXT, BATCH_JSON, BATCH_CSV };

struct vmtop_opts {
	const char *broker; /* broker_list.text once the options are read */
	struct cliopts_list broker_list;
	const char *cluster;
	const char *config;
	struct busconn_opts conn; /* TLS, credentials, MQTT version (keepalive: the bus's) */
	int batch;     /* -b */
	int json, csv; /* --json, --csv (either implies -b) */
	enum batch_fmt fmt;
	double delay_s; /* -d: seconds between frames or snapshots */
	int iterations; /* -i: snapshots (or frames) before exiting; 0 = no limit */
	int wait_complete; /* batch: the first snapshot waits for every host, however long */
	int read_only;
	int mono;
	double timeout_s;   /* waiting for a command's reply */
	const char *view;   /* first view, or batch: the one printed (hosts, vms, events) */
	const char *filter; /* initial filter */
	const char *sort;   /* initial sort column */
	const char *log_file;
};

struct vmtop {
	struct vmtop_opts o;
	struct cluster_model *model;
	struct history *hist; /* the hosts' load over the last minutes */
	struct ui ui;
	struct screen scr;
	struct evloop *loop;
	struct bus *bus;
	struct actions *act;
	char client_id[64];
	char sender[80];
	char reply_topic[VMC_TOPIC_MAX];
	char sync_topic[VMC_TOPIC_MAX];
	int connected;
	int synced;       /* our sync marker came back: the retained messages are in */
	int64_t start_ms; /* monotonic */
	int64_t sync_ms;  /* monotonic time the marker came back */
	char bus_why[512]; /* why the last connection attempt failed */
	int bus_final;     /* a failure retrying will not cure (batch gives up) */
	size_t retained_hosts; /* retained host/... messages received (live ones do not count) */
	size_t sync_hosts; /* retained_hosts then: 0 if the broker kept none for us */
	long printed;     /* snapshots or frames so far */
	int incomplete;   /* batch: the last snapshot lacked hosts (or the retained messages) */
	int wait_noted;   /* batch, --wait-complete: said which hosts the first snapshot awaits */
	int curses;       /* the screen is up */
	int quit;
	int redraw;        /* a frame is due now (keys); else at the next tick */
	int flush_due;     /* the next frame applies the loads kept since the last one */
	int slicing;       /* the periodic frame is applying its loads, a slice at a time */
	size_t flush_left; /* those not yet applied (VMTOP_FLUSH_SLICE) */
	int ui_idle;       /* stdin wake-ups without a key in a row */
	const char **help; /* help page lines */
	size_t nhelp;
	/* runs a ':' command line (cmdline_run, set by main.c): the command prompt
	 * (prompt.c) calls it, and the commands open prompts */
	void (*run_command)(struct vmtop *t, const char *line);
};

/* The periodic frame applies the hosts' loads kept since the last one this many at a
 * time, answering keys between two slices: a key waits for a slice (a millisecond or two
 * at 1,000 hosts), not for every host's load. */
#define VMTOP_FLUSH_SLICE 64

/* The view environment at this moment. */
static inline struct view_env vmtop_env(struct vmtop *t)
{
	return (struct view_env){t->model, evloop_wall_ms(), &t->ui.marks, t->hist};
}

/* --- actions.c: commands over the bus, replies awaited without blocking ------------ */

/* The outcome of one command: ok with result, or the error's code and message
 * ("timeout" when no reply came). result is borrowed for the call. */
typedef void actions_done_fn(struct vmtop *t, const char *label, int ok, const cJSON *result,
                             const char *code, const char *message, void *ud);

struct actions *actions_new(struct vmtop *t);
void actions_free(struct actions *a);
/* Sends op with args (ownership passes) to target, a topic below vmc/<cluster>/
 * ("cmd/host/h1", "cmd/confd"), waiting timeout_s for the reply (0: --timeout). label
 * names it in the status line. done runs when the reply or the timeout comes (never from
 * inside this call). Returns 0, or -1 with err. */
int actions_send(struct actions *a, const char *target, const char *op, cJSON *args,
                 double timeout_s, const char *label, actions_done_fn *done, void *ud, char *err,
                 size_t errlen);
/* A message on our reply topic: matches it to its command. Returns 1 if it answered one. */
int actions_on_reply(struct actions *a, const void *payload, size_t len);
size_t actions_pending(const struct actions *a);
/* Runs the pending action of the prompt (after its confirmation): one command per VM,
 * or one for the host. Status line and events view say what happened. */
void actions_run(struct vmtop *t, const struct pending *p);
/* Asks an online host agent for the balancing dry run (balance.plan) into ui.plan. */
void actions_request_plan(struct vmtop *t);

/* --- prompt.c: the line editor, confirmations and the host picker ---------------- */

void prompt_open(struct ui *ui, enum prompt_mode mode, const char *label, const char *text);
/* Asks "label [y/N]" before running act (ownership of act's VM list passes). */
void prompt_confirm(struct ui *ui, struct pending *act, const char *label);
/* Asks to confirm migrating act's VMs to act->to (ownership of act's VM list passes),
 * with a warning when that host would then be over MIGRATE_WARN_PCT % CPU. */
#define MIGRATE_WARN_PCT 80
void migrate_confirm(struct vmtop *t, struct pending *act);
/* Offers the hosts a VM could go to, with their CPU and free memory; picking one leads
 * to a confirmation. */
int prompt_pick_host(struct vmtop *t, struct pending *act, char *err, size_t errlen);
/* Handles a key while a prompt is open. */
void prompt_key(struct vmtop *t, int key);
void prompt_close(struct ui *ui);
void pending_clear(struct pending *p);
/* Fills act's VM list: the marked VMs, or the one under the cursor. Returns their count,
 * or 0 with err saying why there is none. */
size_t pending_vms(struct vmtop *t, struct pending *act, char *err, size_t errlen);

/* --- mouse.c: clicks ---------------------------------------------------------------- */

/* Turns the mouse on (unless the terminal has none). */
void mouse_init(void);
/* Handles a KEY_MOUSE: a click on a row selects it, on a column title sorts by it, on
 * a tab opens its view; the wheel moves the cursor. */
void mouse_handle(struct vmtop *t);

/* --- keys.c: the key table ------------------------------------------------------- */

/* Handles one key outside prompts. */
void keys_handle(struct vmtop *t, int key);
/* Appends the key help lines (for the help page). */
void keys_help(const char ***lines, size_t *n, int read_only);

/* --- cmdline.c: ':' commands ---------------------------------------------------- */

/* Runs one command line ("migrate web1 h2"). Errors go to the status line. */
void cmdline_run(struct vmtop *t, const char *line);
/* Appends the command help lines. */
void cmdline_help(const char ***lines, size_t *n, int read_only);

/* --- help.c: the help page's lines ------------------------------------------------- */

/* Frees the help lines made by keys_help and cmdline_help. */
void help_free(const char **lines, size_t n);
/* Appends one formatted help line. */
void help_add(const char ***lines, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- batch.c: -b snapshots -------------------------------------------------------- */

/* Prints one snapshot of the model to out (text columns, JSON line or CSV); when it is
 * incomplete (see batch_missing, or the retained messages not all in), says so on
 * stderr and sets t->incomplete. */
void batch_print(struct vmtop *t, FILE *out);
/* The hosts that have not reported (cluster_model_host_reported): how many; *total is the
 * number of hosts, names the first of them ("h17, h42, ..."). */
size_t batch_missing(const struct cluster_model *m, size_t *total, char *names, size_t len);

#endif
