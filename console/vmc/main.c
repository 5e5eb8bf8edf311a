/* vmc - the command-line client for people and scripts. See vmc(1).
 *
 * Each subcommand is an entry in a table {name, handler, min args, usage};
 * global options are shared. Exit status: 0 done, 1 the agent answered with
 * an error (or a host or VM is not known), 2 bad usage, 3 no reply, 4 the broker
 * cannot be reached, 5 the broker refused the credentials or a publish, 6 a list
 * printed incomplete (hosts that have not reported). */
#include "client.h"
#include "ha.h"
#include "hold.h"
#include "listing.h"
#include "plan.h"
#include "polcmd.h"
#include "progress.h"

#include "../../lib/bus/bus.h"
#include "../../lib/bus/reply.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/config/cliopts.h"
#include "../../lib/config/conf.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/core/sigloop.h"
#include "../../lib/bus/topic.h"

#include <getopt.h> /* optind */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_ERROR_REPLY = 1, EXIT_USAGE = 2 }; /* 3, 4, 5: client_fail_status */
enum { EXIT_INCOMPLETE = 6 };

struct vmc_args {
	struct client_opts copts;
	struct cliopts_list broker; /* copts.broker is its text */
	int json;
	const char *host;
	int64_t memory_mb;
	int vcpus;
	double load;
	const char *tags;
	const char *config_file;
	const char *template_name;
	int yes;
	int no_hold, force; /* migrate: no manual hold; move even onto an overloaded host */
	double hold_s;      /* migrate: hold for this long (virtual s); < 0 the setting */
	long count;
	double wait_s;
	int wait_complete; /* hosts, vms: wait as long as it takes for every host's load */
	int timeout_set;   /* --timeout given: long commands keep it */
	int argc;
	char **argv; /* positional arguments after the subcommand */
};

struct vmc_cmd_entry {
	const char *name;
	int (*fn)(struct client *c, struct vmc_args *a);
	int min_args;
	const char *usage;
};

static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
	got_signal = sig;
}

/* --- output ---------------------------------------------------------------- */

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static void print_json(const cJSON *j)
{
	char *t = cJSON_Print(j);
	if (t)
		printf("%s\n", t);
	free(t);
}

/* A number as people read it: whole numbers without exponent or decimals. */
static void fmt_number(char *buf, size_t len, double d)
{
	if (d == (double)(long long)d && d > -1e15 && d < 1e15)
		snprintf(buf, len, "%lld", (long long)d);
	else
		snprintf(buf, len, "%.1f", d);
}

/* Prints an object's members as "key: value" lines, nested objects as "key.sub: value". */
static void print_fields(const cJSON *o, const char *prefix)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, o)
	{
		char key[256], val[64];
		snprintf(key, sizeof(key), "%s%s", prefix, f->string ? f->string : "?");
		if (cJSON_IsObject(f)) {
			strncat(key, ".", sizeof(key) - strlen(key) - 1);
			print_fields(f, key);
			continue;
		}
		printf("%-20s ", strcat(key, ":"));
		if (cJSON_IsNumber(f)) {
			fmt_number(val, sizeof(val), f->valuedouble);
			printf("%s\n", val);
		} else if (cJSON_IsString(f)) {
			printf("%s\n", f->valuestring);
		} else {
			char *t = cJSON_PrintUnformatted(f);
			printf("%s\n", t ? t : "?");
			free(t);
		}
	}
}

/* Prints an error reply's message; returns the exit status for the reply. */
static int reply_status(const cJSON *reply, int json)
{
	return client_reply_ok(reply, json) ? EXIT_OK : EXIT_ERROR_REPLY;
}

/* --- commands ---------------------------------------------------------------- */

/* Whether host is in the retained host list; if not, says so. A command to a host nobody
 * knows would only time out. */
static int known_host(struct client *c, const char *host)
{
	client_snapshot(c, 0);
	if (cluster_model_host_find(c->model, host))
		return 1;
	if (cluster_model_host_count(c->model) == 0)
		return 1; /* a broker that keeps no retained messages: nothing to judge by */
	fprintf(stderr, "vmc: not_found: host %s is not known (vmc hosts lists the hosts)\n", host);
	return 0;
}

/* The same for a target topic: cmd/host/NAME names a host. */
static int known_target(struct client *c, const char *target)
{
	return strncmp(target, "cmd/host/", 9) != 0 || known_host(c, target + 9);
}

/* --wait-complete: says on stderr what the wait is for, each time that changes. */
static void note_waiting(struct client *c, const char *only_host)
{
	int total;
	char names[512];
	int n = client_snapshot_missing(c, only_host, &total, names, sizeof(names));
	if (!c->snap_synced)
		fprintf(stderr, "vmc: waiting for the broker to deliver the retained host list\n");
	else
		fprintf(stderr, "vmc: waiting for %d of %d host%s to report: %s\n", n, total,
		        total == 1 ? "" : "s", names);
}

/* The snapshot's hosts (only_host: that one) have all reported: waits for the missing
 * ones up to the timeout, or as long as it takes with --wait-complete. Returns 1 if
 * complete. */
static int snapshot_complete(struct client *c, const struct vmc_args *a, const char *only_host)
{
	return client_snapshot_complete(c, only_host, a->wait_complete ? -1 : c->opts.timeout_s,
	                                a->wait_complete ? note_waiting : NULL);
}

/* After a list printed incomplete: says on stderr what it lacks. Returns EXIT_INCOMPLETE. */
static int incomplete(struct client *c, const char *only_host, const char *lacks)
{
	int total;
	char names[512];
	if (!c->snap_synced) {
		fprintf(stderr,
		        "vmc: incomplete: the broker did not deliver its retained host messages "
		        "within %g s (backlogged?): hosts and their VMs may be missing\n",
		        c->opts.timeout_s);
		return EXIT_INCOMPLETE;
	}
	int n = client_snapshot_missing(c, only_host, &total, names, sizeof(names));
	fprintf(stderr, "vmc: incomplete: %d of %d host%s %s not reported yet: %s (%s)\n", n, total,
	        total == 1 ? "" : "s", n == 1 ? "has" : "have", names, lacks);
	return EXIT_INCOMPLETE;
}

static int cmd_hosts(struct client *c, struct vmc_args *a)
{
	client_snapshot(c, a->wait_s);
	int complete = snapshot_complete(c, a, NULL);
	cJSON *arr = listing_hosts(c->model);
	if (a->json) {
		print_json(arr);
	} else {
		printf("%-20s %-12s %5s %6s %14s %5s\n", "NAME", "STATE", "CPUS", "CPU%",
		       "MEM USED/TOTAL", "VMS");
		const cJSON *o;
		cJSON_ArrayForEach(o, arr)
		{
			char mem[40];
			snprintf(mem, sizeof(mem), "%.0f/%.0f", num(o, "mem_used_mb"),
			         num(o, "mem_total_mb"));
			printf("%-20s %-12s %5.0f %6.1f %14s %5.0f\n", str(o, "name", "?"),
			       str(o, "state", "?"), num(o, "cpus"), num(o, "cpu"), mem,
			       num(o, "vms"));
		}
	}
	cJSON_Delete(arr);
	fflush(stdout);
	return complete ? EXIT_OK : incomplete(c, NULL, "no load: their figures are missing");
}

static int cmd_vms(struct client *c, struct vmc_args *a)
{
	if (a->host && !known_host(c, a->host))
		return EXIT_ERROR_REPLY;
	client_snapshot(c, a->wait_s);
	int complete = snapshot_complete(c, a, a->host);
	cJSON *arr = listing_vms(c->model, a->host);
	if (a->json) {
		print_json(arr);
	} else {
		printf("%-24s %-16s %-10s %5s %8s %6s\n", "NAME", "HOST", "STATE", "VCPUS",
		       "MEM(MiB)", "CPU%");
		const cJSON *o;
		cJSON_ArrayForEach(o, arr)
		{
			char cpu[16] = "-"; /* not live */
			if (cJSON_IsNumber(cJSON_GetObjectItem(o, "cpu")))
				snprintf(cpu, sizeof(cpu), "%.1f", num(o, "cpu"));
			printf("%-24s %-16s %-10s %5.0f %8.0f %6s\n", str(o, "name", "?"),
			       str(o, "host", "?"), str(o, "state", "?"), num(o, "vcpus"),
			       num(o, "mem_mb"), cpu);
		}
	}
	cJSON_Delete(arr);
	fflush(stdout);
	return complete ? EXIT_OK : incomplete(c, a->host, "their VMs are missing from the list");
}

/* Sends op to target and reports the reply. */
static int call_and_report(struct client *c, struct vmc_args *a, const char *target, const char *op,
                           cJSON *args, const char *done, const char *name)
{
	cJSON *reply;
	char err[512];
	if (!known_target(c, target)) {
		cJSON_Delete(args);
		return EXIT_ERROR_REPLY;
	}
	if (client_call(c, target, op, args, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmc: %s\n", err);
		return client_fail_status(c);
	}
	int rc = reply_status(reply, a->json);
	if (rc == EXIT_OK) {
		const cJSON *r = cJSON_GetObjectItem(reply, "result");
		const char *on = str(r, "host", NULL); /* where vmc-confd placed it */
		if (a->json)
			print_json(r);
		else if (done)
			printf("vm %s %s%s%s\n", name, done, on ? " on " : "", on ? on : "");
	}
	cJSON_Delete(reply);
	return rc;
}

/* While vmc-confd prepares a VM: its image.progress and image.fetched events, on stderr. */
static void show_image_progress(struct client *c, const char *rest, const cJSON *msg, void *ud)
{
	const char *type = str(msg, "type", "");
	int tty = isatty(STDERR_FILENO);
	if (!topic_is_event(rest))
		return;
	if (strcmp(type, "image.progress") == 0) {
		double total = num(msg, "total");
		fprintf(stderr, "%svmc: image %s: %.0f%% (%.1f of %.1f MiB)%s", tty ? "\r" : "",
		        str(msg, "image", "?"), num(msg, "percent"), num(msg, "bytes") / 1048576,
		        total / 1048576, tty ? "" : "\n");
	} else if (strcmp(type, "image.fetched") == 0) {
		fprintf(stderr, "%svmc: image %s fetched and verified (%.1f MiB%s)\n",
		        tty ? "\r" : "", str(msg, "image", "?"), num(msg, "bytes") / 1048576,
		        cJSON_IsTrue(cJSON_GetObjectItem(msg, "resumed")) ? ", resumed" : "");
	}
}

static int cmd_create(struct client *c, struct vmc_args *a)
{
	const char *name = a->argv[0];
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "name", name);
	if (a->tags) {
		cJSON *tags = cJSON_AddArrayToObject(args, "tags");
		char *copy = strdup(a->tags), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(tags, cJSON_CreateString(t));
		free(copy);
	}
	if (a->host && !known_host(c, a->host)) {
		cJSON_Delete(args);
		return EXIT_ERROR_REPLY;
	}
	if (a->template_name) {
		cJSON_AddStringToObject(args, "template", a->template_name);
		if (a->host)
			cJSON_AddStringToObject(args, "host", a->host);
		cJSON *ov = cJSON_AddObjectToObject(args, "overrides");
		if (a->memory_mb)
			cJSON_AddNumberToObject(ov, "memory_mb", (double)a->memory_mb);
		if (a->vcpus)
			cJSON_AddNumberToObject(ov, "vcpus", a->vcpus);
		if (a->load >= 0)
			cJSON_AddNumberToObject(args, "load", a->load);
		if (!a->json) {
			c->on_message = show_image_progress;
			client_follow(c, "event/#");
		}
		return call_and_report(c, a, "cmd/confd", "vm.create", args, "created", name);
	}
	if (!a->host) {
		cJSON_Delete(args);
		fprintf(stderr, "vmc: create needs --host HOST (or --template T)\n");
		return EXIT_USAGE;
	}
	if (a->config_file) {
		FILE *f = fopen(a->config_file, "r");
		if (!f) {
			cJSON_Delete(args);
			perror(a->config_file);
			return EXIT_USAGE;
		}
		char buf[65536];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		cJSON_AddStringToObject(args, "config", buf);
	}
	if (a->memory_mb)
		cJSON_AddNumberToObject(args, "memory_mb", (double)a->memory_mb);
	if (a->vcpus)
		cJSON_AddNumberToObject(args, "vcpus", a->vcpus);
	if (a->load >= 0)
		cJSON_AddNumberToObject(args, "load", a->load);
	char target[VMC_TOPIC_MAX];
	snprintf(target, sizeof(target), "cmd/host/%s", a->host);
	return call_and_report(c, a, target, "vm.create", args, "created", name);
}

/* start, shutdown, destroy, pause, unpause, remove: one VM, its host found if not given. */
static int cmd_vm_op(struct client *c, struct vmc_args *a, const char *op, const char *done)
{
	const char *name = a->argv[0];
	char buf[VMC_NAME_MAX + 1];
	const char *host = client_find_vm_host(c, a->host, name, buf, sizeof(buf));
	if (!host)
		return EXIT_ERROR_REPLY;
	char target[VMC_TOPIC_MAX];
	snprintf(target, sizeof(target), "cmd/host/%s", host);
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "name", name);
	return call_and_report(c, a, target, op, args, done, name);
}

#define VM_OP(fn, op, done)                                                                        \
	static int fn(struct client *c, struct vmc_args *a)                                        \
	{                                                                                          \
		return cmd_vm_op(c, a, op, done);                                                  \
	}
VM_OP(cmd_start, "vm.start", "started")
VM_OP(cmd_shutdown, "vm.shutdown", "shut down")
VM_OP(cmd_destroy, "vm.destroy", "destroyed")
VM_OP(cmd_pause, "vm.pause", "paused")
VM_OP(cmd_unpause, "vm.unpause", "unpaused")
VM_OP(cmd_remove, "vm.remove", "removed")

static int cmd_info(struct client *c, struct vmc_args *a)
{
	char target[VMC_TOPIC_MAX];
	snprintf(target, sizeof(target), "cmd/host/%s", a->argv[0]);
	cJSON *reply;
	char err[512];
	if (!known_target(c, target))
		return EXIT_ERROR_REPLY;
	if (client_call(c, target, "host.info", NULL, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmc: %s\n", err);
		return client_fail_status(c);
	}
	int rc = reply_status(reply, a->json);
	if (rc == EXIT_OK && a->json)
		print_json(cJSON_GetObjectItem(reply, "result"));
	else if (rc == EXIT_OK)
		print_fields(cJSON_GetObjectItem(reply, "result"), "");
	cJSON_Delete(reply);
	return rc;
}

/* vmc call TARGET OP [JSON-ARGS]: any command, the whole reply printed. */
/* templates: what vmc-confd can create VMs from. */
static int cmd_templates(struct client *c, struct vmc_args *a)
{
	cJSON *reply;
	char err[512];
	if (client_call(c, "cmd/confd", "template.list", NULL, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmc: %s (is vmc-confd running?)\n", err);
		return client_fail_status(c);
	}
	int rc = reply_status(reply, a->json);
	const cJSON *r = cJSON_GetObjectItem(reply, "result"), *t;
	if (rc == EXIT_OK && a->json) {
		print_json(r);
	} else if (rc == EXIT_OK) {
		printf("%-20s %8s %5s %9s  %s\n", "TEMPLATE", "MEM(MiB)", "VCPUS", "DISK(MiB)",
		       "IMAGE");
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "templates"))
		{
			char disk[32] = "-"; /* unset: the image's own size */
			if (num(t, "disk_size_mb") > 0)
				fmt_number(disk, sizeof(disk), num(t, "disk_size_mb"));
			printf("%-20s %8.0f %5.0f %9s  %s\n", str(t, "name", "?"),
			       num(t, "memory_mb"), num(t, "vcpus"), disk, str(t, "image", "?"));
		}
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "errors")) fprintf(
		    stderr, "vmc: template %s: %s\n", str(t, "name", "?"), str(t, "error", "?"));
	}
	cJSON_Delete(reply);
	return rc;
}

/* delete: destroy a VM and remove its disk and config, through vmc-confd. */
static int cmd_delete(struct client *c, struct vmc_args *a)
{
	if (!a->yes) {
		fprintf(stderr, "vmc: delete removes vm %s and its disk for good: add --yes\n",
		        a->argv[0]);
		return EXIT_USAGE;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "name", a->argv[0]);
	cJSON_AddTrueToObject(args, "confirm");
	return call_and_report(c, a, "cmd/confd", "vm.delete", args, "deleted", a->argv[0]);
}

static int cmd_call(struct client *c, struct vmc_args *a)
{
	cJSON *args = NULL;
	if (a->argc > 2) {
		args = cJSON_Parse(a->argv[2]);
		if (!cJSON_IsObject(args)) {
			cJSON_Delete(args);
			fprintf(stderr, "vmc: call: arguments must be a JSON object\n");
			return EXIT_USAGE;
		}
	}
	cJSON *reply;
	char err[512];
	if (!known_target(c, a->argv[0])) {
		cJSON_Delete(args);
		return EXIT_ERROR_REPLY;
	}
	if (client_call(c, a->argv[0], a->argv[1], args, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmc: %s\n", err);
		return client_fail_status(c);
	}
	print_json(reply);
	struct reply_outcome o;
	int rc = reply_read(reply, &o) == REPLY_OK ? EXIT_OK : EXIT_ERROR_REPLY;
	cJSON_Delete(reply);
	return rc;
}

struct events_state {
	int json;
	long count;
	long seen;
};

static void print_event(struct client *c, const char *rest, const cJSON *msg, void *ud)
{
	struct events_state *es = ud;
	if (!topic_is_event(rest))
		return;
	if (es->json) {
		char *t = cJSON_PrintUnformatted(msg);
		printf("%s\n", t);
		free(t);
	} else {
		time_t t = (time_t)(num(msg, "ts") / 1000);
		struct tm tm;
		char when[16];
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		printf("%s %-20s host=%s", when, str(msg, "type", "?"), str(msg, "host", "-"));
		if (cJSON_GetObjectItem(msg, "vm"))
			printf(" vm=%s", str(msg, "vm", "?"));
		for (const cJSON *f = msg->child; f; f = f->next) {
			if (!strcmp(f->string, "v") || !strcmp(f->string, "from") ||
			    !strcmp(f->string, "ts") || !strcmp(f->string, "type") ||
			    !strcmp(f->string, "host") || !strcmp(f->string, "vm"))
				continue;
			char *v = cJSON_PrintUnformatted(f);
			printf(" %s=%s", f->string, v);
			free(v);
		}
		printf("\n");
	}
	fflush(stdout);
	es->seen++;
}

static int cmd_events(struct client *c, struct vmc_args *a)
{
	struct events_state es = {.json = a->json, .count = a->count};
	c->on_message = print_event;
	c->ud = &es;
	if (client_follow(c, "event/#") == 0) /* scripts may wait for this line */
		fprintf(stderr, "vmc: following the events of cluster %s\n", c->opts.cluster);
	int64_t end = a->wait_s > 0 ? evloop_mono_ms() + (int64_t)(a->wait_s * 1000) : 0;
	while (!got_signal && (es.count <= 0 || es.seen < es.count) &&
	       (!end || evloop_mono_ms() < end))
		evloop_run_once(c->loop, 200);
	c->on_message = NULL;
	return EXIT_OK;
}

/* --- migrate, drain, undrain: long, with progress --------------------------------- */

#define VMC_LONG_TIMEOUT_S 600

static int run_long(struct client *c, struct vmc_args *a, const char *host, const char *op,
                    cJSON *args, enum progress_filter filter, const char *match)
{
	char target[VMC_TOPIC_MAX];
	snprintf(target, sizeof(target), "cmd/host/%s", host);
	if (!known_host(c, host)) {
		cJSON_Delete(args);
		return EXIT_ERROR_REPLY;
	}
	if (!a->timeout_set)
		c->opts.timeout_s = VMC_LONG_TIMEOUT_S;
	struct progress_call pc = {target, op, args, filter, match, a->json};
	return progress_run(c, &pc);
}

static int cmd_migrate(struct client *c, struct vmc_args *a)
{
	const char *name = a->argv[0], *to = a->argv[1];
	char buf[VMC_NAME_MAX + 1], why[512];
	const char *host = client_find_vm_host(c, a->host, name, buf, sizeof(buf));
	if (!host)
		return EXIT_ERROR_REPLY;
	if (!known_host(c, to))
		return EXIT_ERROR_REPLY;
	if (!a->force && hold_move_overloads(c, name, host, to, why, sizeof(why))) {
		fprintf(stderr, "vmc: %s; nothing moved (--force moves it anyway)\n", why);
		return EXIT_ERROR_REPLY;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "name", name);
	cJSON_AddStringToObject(args, "to", to);
	if (a->no_hold)
		cJSON_AddFalseToObject(args, "hold");
	else if (a->hold_s >= 0)
		cJSON_AddNumberToObject(args, "hold_s", a->hold_s);
	return run_long(c, a, host, "vm.migrate", args, PROGRESS_VM, name);
}

/* Ends the manual hold of a VM: balancing may move it again. */
static int cmd_release(struct client *c, struct vmc_args *a)
{
	return cmd_vm_op(c, a, "vm.release", "released");
}

static int cmd_drain(struct client *c, struct vmc_args *a)
{
	return run_long(c, a, a->argv[0], "host.drain", NULL, PROGRESS_FROM, a->argv[0]);
}

static int cmd_undrain(struct client *c, struct vmc_args *a)
{
	return run_long(c, a, a->argv[0], "host.undrain", NULL, PROGRESS_TO, a->argv[0]);
}

static int cmd_plan(struct client *c, struct vmc_args *a)
{
	if (a->host && !known_host(c, a->host))
		return EXIT_ERROR_REPLY;
	return plan_run(c, a->host, a->argc > 0 ? a->argv[0] : NULL, a->json);
}

static int cmd_policy(struct client *c, struct vmc_args *a)
{
	return polcmd_run(c, a->argv[0], a->argc > 1 ? a->argv[1] : NULL, a->json);
}

static int cmd_ha(struct client *c, struct vmc_args *a)
{
	return ha_run(c, a->host, a->argc, a->argv, a->json);
}

static const struct vmc_cmd_entry commands[] = {
    {"hosts", cmd_hosts, 0, "hosts [--json] [--wait S] [--wait-complete]"},
    {"vms", cmd_vms, 0, "vms [--host H] [--json] [--wait S] [--wait-complete]"},
    {"create", cmd_create, 1,
     "create NAME --host H --memory MB --vcpus N [--load CPUS] [--tags a,b] [--config FILE]\n"
     "       create NAME --template T [--host H]"},
    {"start", cmd_start, 1, "start NAME [--host H]"},
    {"shutdown", cmd_shutdown, 1, "shutdown NAME [--host H]"},
    {"destroy", cmd_destroy, 1, "destroy NAME [--host H]"},
    {"pause", cmd_pause, 1, "pause NAME [--host H]"},
    {"unpause", cmd_unpause, 1, "unpause NAME [--host H]"},
    {"remove", cmd_remove, 1, "remove NAME [--host H]"},
    {"info", cmd_info, 1, "info HOST"},
    {"events", cmd_events, 0, "events [--json] [--count N] [--wait S]"},
    {"templates", cmd_templates, 0, "templates [--json]   the templates vmc-confd offers"},
    {"delete", cmd_delete, 1, "delete NAME --yes   destroy a VM, remove its disk and config"},
    {"call", cmd_call, 2, "call TARGET OP [JSON-ARGS]   e.g. call cmd/host/h1 host.info"},
    {"migrate", cmd_migrate, 2,
     "migrate NAME HOST [--host FROM] [--no-hold | --hold S] [--force]   (waits up to 600 s)"},
    {"release", cmd_release, 1, "release NAME [--host H]   (ends the hold of a VM moved by hand)"},
    {"drain", cmd_drain, 1, "drain HOST   (moves every VM off; HOST enters maintenance)"},
    {"undrain", cmd_undrain, 1, "undrain HOST   (leaves maintenance; brings drained VMs back)"},
    {"policy", cmd_policy, 1,
     "policy show | set FILE|-|JSON | clear   the cluster policy (retained)"},
    {"ha", cmd_ha, 1,
     "ha status [HOST] | ha enable VM | ha disable VM   (restarts of dead hosts' VMs)"},
    {"plan", cmd_plan, 0,
     "plan [balance|consolidate|evacuate] [--host H] [--json]   what balancing would do now"},
    {NULL, NULL, 0, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vmc [--broker URL] [--cluster C] [-c FILE] [--json] [--timeout S]\n"
	           "           [--protocol 5|3.1.1|auto] [--cafile F] [--cert F] [--key F]\n"
	           "           [--user U] [--password-file F] COMMAND ...\ncommands:\n");
	for (const struct vmc_cmd_entry *e = commands; e->name; e++)
		fprintf(f, "  vmc %s\n", e->usage);
	fprintf(f, "exit status: 0 done, 1 the agent refused or a host or VM is not known,\n"
	           "  2 bad usage, 3 no reply, 4 the broker cannot be reached, 5 the broker\n"
	           "  refused the credentials or the command, 6 hosts or vms printed an\n"
	           "  incomplete list: hosts that have not reported (see vmc(1))\n");
}

static int parse_number(const char *opt, const char *v, double min, double max, double *out,
                        char *err, size_t errlen)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !(d >= min && d <= max)) {
		char lo[64], hi[64];
		fmt_number(lo, sizeof(lo), min);
		fmt_number(hi, sizeof(hi), max);
		snprintf(err, errlen, "%s \"%s\": expected a number from %s to %s", opt, v, lo, hi);
		return -1;
	}
	*out = d;
	return 0;
}

/* vmc's options. Those before "json" may be in the -c FILE too: the broker's, the
 * cluster and the timeout; the others are for the command line only. The numbers are
 * read by read_number (CLIOPTS_FUNC: their range in the row, whole numbers printed
 * whole). */
#define A(f) offsetof(struct vmc_args, f)
static const struct cliopts_def options[] = {
    {"broker", CLIOPTS_LIST, A(broker), 0, 0, "broker URL(s)"},
    {"cluster", CLIOPTS_STR, A(copts.cluster), 0, 0, "cluster name"},
    BUSCONN_CLIOPTS(struct vmc_args, copts.conn),
    {"timeout", CLIOPTS_FUNC, A(copts.timeout_s), 0.1, 3600, "seconds to wait for a reply"},
    /* the command line only, from here on (FILE_SETTINGS) */
    {"json", CLIOPTS_FLAG, A(json), 0, 0, "print JSON"},
    {"host", CLIOPTS_STR, A(host), 0, 0, "the host (create, VM commands, vms, plan)"},
    {"memory", CLIOPTS_FUNC, A(memory_mb), 16, 4194304, "create: memory, MB"},
    {"vcpus", CLIOPTS_FUNC, A(vcpus), 1, 128, "create: virtual CPUs"},
    {"load", CLIOPTS_FUNC, A(load), 0, 128, "create: the simulated load, CPUs"},
    {"tags", CLIOPTS_STR, A(tags), 0, 0, "create: tags, a,b"},
    {"config", CLIOPTS_STR, A(config_file), 0, 0, "create: an xl.cfg file"},
    {"template", CLIOPTS_STR, A(template_name), 0, 0, "create: from a template"},
    {"count", CLIOPTS_FUNC, A(count), 1, 1e9, "events: stop after N"},
    {"wait", CLIOPTS_FUNC, A(wait_s), 0, 86400, "seconds to wait for messages"},
    {"wait-complete", CLIOPTS_FLAG, A(wait_complete), 0, 0, "hosts, vms: wait for every host"},
    {"yes", CLIOPTS_FLAG, A(yes), 0, 0, "delete: yes, really"},
    {"no-hold", CLIOPTS_FLAG, A(no_hold), 0, 0, "migrate: no manual hold"},
    {"hold", CLIOPTS_FUNC, A(hold_s), 0, 7 * 86400, "migrate: hold for S seconds"},
    {"force", CLIOPTS_FLAG, A(force), 0, 0, "migrate: even onto an overloaded host"},
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))
#define FILE_SETTINGS ((size_t)(cliopts_find(options, NOPTIONS, "json") - options))

/* A number option of options[] into its field; "--NAME" in errors on the command line. */
static int read_number(void *base, const struct cliopts_def *d, const char *v, char *err,
                       size_t errlen)
{
	struct vmc_args *a = base;
	int cmdline = a->broker.pass == 2; /* cliopts says which source it reads */
	char opt[40];
	double x;
	snprintf(opt, sizeof(opt), "%s%s", cmdline ? "--" : "", d->name);
	if (parse_number(opt, v, d->min, d->max, &x, err, errlen) < 0)
		return -1;
	void *field = (char *)base + d->off;
	if (d->off == A(memory_mb))
		*(int64_t *)field = (int64_t)x;
	else if (d->off == A(vcpus))
		*(int *)field = (int)x;
	else if (d->off == A(count))
		*(long *)field = (long)x;
	else
		*(double *)field = x;
	if (d->off == A(copts.timeout_s) && cmdline)
		a->timeout_set = 1; /* --timeout given: long commands keep it */
	return 0;
}

/* -c FILE (read first: the command line wins), then the options. Returns -1 to go on (the
 * command at argv[optind]), else the status vmc exits with (said on stderr, or help on
 * stdout). */
static int parse_args(struct vmc_args *a, int argc, char **argv, struct conf **conf)
{
	const struct cliopts_prog prog = {
	    .name = "vmc",
	    .defs = options,
	    .n = NOPTIONS,
	    .read = read_number,
	    .usage = usage,
	    .nfile = FILE_SETTINGS,
	    .args = 1,
	};
	int rc = cliopts_parse_prog(a, &prog, argc, argv, NULL, conf);
	if (rc != 0)
		return rc == 1 ? EXIT_OK : EXIT_USAGE;
	a->copts.broker = a->broker.text;
	return -1;
}

int main(int argc, char **argv)
{
	struct vmc_args a;
	memset(&a, 0, sizeof(a));
	a.broker.text = "mqtt://127.0.0.1:1883";
	a.copts.cluster = "default";
	a.copts.timeout_s = 10;
	a.load = -1;
	a.hold_s = -1;
	log_init("vmc", LOG_LVL_WARN);

	struct conf *conf = NULL;
	int rc = parse_args(&a, argc, argv, &conf);
	if (rc >= 0) {
		conf_free(conf);
		return rc;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const struct vmc_cmd_entry *e;
	for (e = commands; e->name && strcmp(e->name, argv[optind]) != 0; e++)
		;
	if (!e->name) {
		fprintf(stderr, "vmc: unknown command \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	a.argc = argc - optind - 1;
	a.argv = argv + optind + 1;
	if (a.argc < e->min_args) {
		fprintf(stderr, "usage: vmc %s\n", e->usage);
		return EXIT_USAGE;
	}
	char err[512];
	if (busconn_check(a.copts.cluster, a.copts.broker, conf, "vmc") < 0) {
		conf_free(conf);
		return EXIT_USAGE;
	}

	sigloop_install(on_signal, (const int[]){SIGINT, SIGTERM, 0});
	sigloop_install(SIG_IGN, (const int[]){SIGPIPE, 0});

	struct client c;
	a.copts.stop = &got_signal;
	if (client_open(&c, &a.copts, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmc: %s\n", err);
		rc = client_fail_status(&c);
	} else {
		rc = e->fn(&c, &a);
	}
	client_close(&c);
	conf_free(conf);
	return rc;
}
