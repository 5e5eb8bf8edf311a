/* vmc-confd - the configuration agent: templates, the image store, xl.cfg files and the
 * placement of new VMs. See vmc-confd(8).
 *
 * One event loop carries the MQTT socket and timers; downloads, hashing and disk copies
 * run on worker threads (lib/core/workpool.c) and report back through the loop. */
#include "confd.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/config/cliopts.h"
#include "../../lib/config/conf.h"
#include "../../lib/core/evloop.h"
#include "../../lib/bus/idcache.h"
#include "../../lib/core/log.h"
#include "../../lib/core/sdnotify.h"
#include "../../lib/core/sigloop.h"
#include "../../lib/core/workpool.h"
#include "../../lib/bus/dispatch.h"
#include "../../lib/bus/topic.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/cluster/reserve.h"
#include "imagestore.h"
#include "templates.h"

/* --- settings: one table serves the command line and the config file -------- */

#define S(f) offsetof(struct confd_opts, f)
static const struct cliopts_def settings[] = {
    {"name", CLIOPTS_STR, S(name), 0, 0, "agent name (default confd)"},
    {"broker", CLIOPTS_LIST, S(broker), 0, 0, "mqtt[s]://HOST:PORT[,...] (nodes of a cluster)"},
    {"cluster", CLIOPTS_STR, S(cluster), 0, 0, "cluster name (default default)"},
    {"store", CLIOPTS_STR, S(store), 0, 0, "image store directory"},
    {"templates", CLIOPTS_STR, S(templates), 0, 0, "templates directory"},
    BUSCONN_CLIOPTS(struct confd_opts, conn),
    BUSCONN_CLIOPT_KEEPALIVE(struct confd_opts, conn),
    {"host-timeout", CLIOPTS_NUM, S(host_timeout_s), 0.1, 3600,
     "seconds a host may take to answer"},
    {"fetch-attempts", CLIOPTS_INT, S(fetch_attempts), 1, 100, "transfers per download"},
    {"workers", CLIOPTS_INT, S(workers), 1, 64, "downloads and copies at once"},
    {"shared", CLIOPTS_FLAG, S(shared), 0, 0, "take cmd/confd as an MQTT shared subscription"},
    {"log-level", CLIOPTS_LOGLEVEL, 0, 0, 0, "error, warn, info or debug"},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* --- the bus ----------------------------------------------------------------- */

static void publish_state(struct confd *cd, const char *state)
{
	char t[VMC_TOPIC_MAX];
	cJSON *m = msg_new(cd->sender, confd_now());
	cJSON_AddStringToObject(m, "state", state);
	cJSON_AddStringToObject(m, "store", imgstore_root(cd->store));
	cJSON_AddStringToObject(m, "templates", cd->opts.templates);
	if (topic_fmt(t, sizeof t, cd->opts.cluster, "confd/%s/state", cd->opts.name) == 0)
		bus_publish_json(cd->bus, t, m, 1, 1);
	cJSON_Delete(m);
}

static void on_connect(struct bus *b, void *ud)
{
	struct confd *cd = ud;
	char t[VMC_TOPIC_MAX];
	if (cd->opts.shared && bus_protocol(b) != 5) {
		log_error("--shared needs MQTT 5 shared subscriptions; the broker speaks "
		          "MQTT 3.1.1 only: run one vmc-confd without --shared on it");
		cd->refused = 1;
		evloop_stop(cd->loop);
		return;
	}
	if (cd->opts.shared)
		snprintf(t, sizeof t, "$share/vmc-confd/vmc/%s/cmd/confd", cd->opts.cluster);
	else
		topic_fmt(t, sizeof t, cd->opts.cluster, "cmd/confd");
	bus_subscribe(b, t, 1);
	topic_fmt(t, sizeof t, cd->opts.cluster, "cmd/confd/%s", cd->opts.name);
	bus_subscribe(b, t, 1);
	bus_subscribe(b, cd->reply_topic, 1);
	topic_fmt(t, sizeof t, cd->opts.cluster, "host/+/state");
	bus_subscribe(b, t, 1);
	topic_fmt(t, sizeof t, cd->opts.cluster, "host/+/load");
	bus_subscribe(b, t, 0);
	publish_state(cd, "online");
	sdnotify_sendf("READY=1\nSTATUS=%s online on %s", cd->opts.name, cd->opts.broker.text);
}

/* host/<h>/state and host/<h>/load: into the cluster model; the reservations its loads
 * now show kept end. */
static void on_host(struct confd *cd, const struct bus_msg *m, const char *rest)
{
	char err[VMC_ERR_MAX];
	if (cluster_model_apply(cd->cl, rest, m->payload, m->len, m->retain, confd_now(), err,
	                        sizeof err) < 0)
		ratelog_warn(&cd->bad_input, evloop_mono_ms(), "%s: %s", m->topic, err);
	reserve_sync(cd->res, cd->cl);
}

static void on_state_or_load(void *ctx, void *msg, const struct dispatch_match *d)
{
	on_host(ctx, msg, d->rest);
}

/* reply/<client>: a host's reply to us (the whole topic is ours), else nothing of ours */
static void on_reply(void *ctx, void *msg, const struct dispatch_match *d)
{
	struct confd *cd = ctx;
	const struct bus_msg *m = msg;
	if (strcmp(m->topic, cd->reply_topic) == 0)
		confd_host_reply(cd, m);
}

static void on_command(void *ctx, void *msg, const struct dispatch_match *d)
{
	confd_command(ctx, msg);
}

/* What vmc-confd subscribes to (on_connect) */
static const struct dispatch_row confd_topics[] = {
    {"reply/#", on_reply},
    {"cmd/confd/#", on_command},
    {"host/+/state", on_state_or_load},
    {"host/+/load", on_state_or_load},
    {NULL, NULL},
};

static void on_message(struct bus *b, const struct bus_msg *m, void *ud)
{
	struct confd *cd = ud;
	/* the bus gives the message as const: the handlers only read it */
	dispatch_run(confd_topics, topic_rest(m->topic, cd->opts.cluster), cd, (void *)m);
}

static long expire_timer(struct evloop *loop, long long id, void *ud)
{
	struct confd *cd = ud;
	reserve_expire(cd->res, confd_now());
	return 10000;
}

/* SIGHUP. Templates are read from their files at each use, so a changed template takes
 * effect at once; this checks the directory again and logs what does not load. */
static void reload(struct confd *cd)
{
	cJSON *list, *errors;
	char err[2048];
	sdnotify_send("RELOADING=1");
	if (templates_list(cd->opts.templates, &list, &errors, err, sizeof err) < 0)
		log_error("reload: %s", err);
	else {
		const cJSON *e;
		cJSON_ArrayForEach(e, errors)
		{
			log_warnx("reload: template %s: %s",
			          cJSON_GetStringValue(cJSON_GetObjectItem(e, "name")),
			          cJSON_GetStringValue(cJSON_GetObjectItem(e, "error")));
		}
		log_info("reload: templates in %s: %d loaded, %d with errors", cd->opts.templates,
		         cJSON_GetArraySize(list), cJSON_GetArraySize(errors));
		cJSON_Delete(list);
		cJSON_Delete(errors);
	}
	sdnotify_send("READY=1");
}

static void check_signals(struct evloop *loop, void *ud)
{
	if (sigloop_check(loop))
		reload(ud);
}

static int start_bus(struct confd *cd, char *err, size_t errlen)
{
	struct confd_opts *o = &cd->opts;
	char will_topic[VMC_TOPIC_MAX];
	topic_fmt(will_topic, sizeof will_topic, o->cluster, "confd/%s/state", o->name);
	cJSON *will = msg_new(cd->sender, confd_now());
	cJSON_AddStringToObject(will, "state", "offline");
	struct bus_opts bo = {
	    .client_id = cd->client_id,
	    .will_topic = will_topic,
	    .will_retain = 1,
	    .on_connect = on_connect,
	    .on_message = on_message,
	    .ud = cd,
	};
	cd->bus = busconn_new(cd->loop, o->broker.text, &o->conn, &bo, will, err, errlen);
	cJSON_Delete(will);
	return cd->bus ? bus_start(cd->bus) : -1;
}

/* -n: every template of dir read as vm.create would; every error of each printed as
 * FILE:LINE: message. Returns the number of broken templates, or -1. */
static int check_templates(const char *dir)
{
	cJSON *list = NULL, *errors = NULL;
	char err[1024];
	if (templates_list(dir, &list, &errors, err, sizeof err) < 0) {
		fprintf(stderr, "vmc-confd: %s\n", err);
		return -1;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, errors)
	{
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "error"));
		fprintf(stderr, "%s\n", msg ? msg : "?");
	}
	int bad = cJSON_GetArraySize(errors);
	if (bad > 0)
		fprintf(stderr, "vmc-confd: %d of %d templates in %s have errors\n", bad,
		        bad + cJSON_GetArraySize(list), dir);
	cJSON_Delete(list);
	cJSON_Delete(errors);
	return bad;
}

/* The settings that cliopts cannot judge alone. Returns 0, or -1 said on stderr (with
 * FILE:LINE when the setting came from -c FILE). */
static int check_options(const struct confd_opts *o, const struct conf *conf)
{
	char err[2048], where[4200];
	if (vmc_name_check(o->name, "name", err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n",
		        conf_where(conf, o->name, "vmc-confd", where, sizeof where), err);
		return -1;
	}
	if (busconn_check(o->cluster, o->broker.text, conf, "vmc-confd") < 0)
		return -1;
	if (o->shared && o->conn.protocol == 4) {
		fprintf(stderr, "vmc-confd: --shared needs MQTT 5 shared subscriptions, which "
		                "--protocol 3.1.1 does not have\n");
		return -1;
	}
	return 0;
}

/* After the loop ends: pending work answered, the offline state published, all freed. */
static void confd_stop(struct confd *cd)
{
	if (!cd->refused)
		log_info("signal %d: stopping", sigloop_caught());
	sdnotify_send("STOPPING=1");
	/* cancels downloads, waits for them: every command gets its reply */
	workpool_free(cd->jobs, -1, WORKPOOL_DELIVER);
	confd_calls_cancel(cd);
	if (bus_connected(cd->bus)) {
		publish_state(cd, "offline");
		bus_flush(cd->bus, 2000);
	}
	bus_disconnect(cd->bus);
	bus_free(cd->bus);
	reserve_free(cd->res);
	cluster_model_free(cd->cl);
	idcache_free(cd->ids);
	imgstore_close(cd->store);
	free(cd->busy);
	evloop_free(cd->loop);
}

/* Every ops module's table, for commands.c; the first with a matching op wins. */
static const struct confd_op *const op_tables[] = {confd_create_ops, confd_delete_ops,
                                                   confd_misc_ops, NULL};

int main(int argc, char **argv)
{
	struct confd cd;
	memset(&cd, 0, sizeof cd);
	cd.op_tables = op_tables;
	struct confd_opts *o = &cd.opts;
	*o = (struct confd_opts){
	    .name = "confd",
	    .broker = {.text = "mqtt://127.0.0.1:1883"},
	    .cluster = "default",
	    .store = "/var/lib/vmcluster/store",
	    .templates = "/etc/vmcluster/templates",
	    .conn = {.keepalive = 10},
	    .host_timeout_s = 30,
	    .fetch_attempts = 5,
	    .workers = 4,
	};
	log_init("vmc-confd", LOG_LVL_INFO);
	struct conf *conf = NULL;
	int check_only = 0;
	char err[2048];
	int r = cliopts_parse(o, settings, NSETTINGS, argc, argv, "vmc-confd", &check_only, &conf);
	if (r != 0) {
		conf_free(conf);
		return r > 0 ? 0 : 2;
	}
	if (check_options(o, conf) < 0) {
		conf_free(conf);
		return 2;
	}
	if (check_only) {
		int broken = check_templates(o->templates);
		if (broken == 0)
			printf("configuration OK\n");
		conf_free(conf);
		return broken == 0 ? 0 : 1;
	}
	snprintf(cd.sender, sizeof cd.sender, "%s", o->name);
	snprintf(cd.client_id, sizeof cd.client_id, "confd-%s", o->name);
	topic_fmt(cd.reply_topic, sizeof cd.reply_topic, o->cluster, "reply/%s", cd.client_id);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (imgstore_open(o->store, &cd.store, err, sizeof err) < 0)
		fatalx("%s", err);
	cd.loop = evloop_new();
	cd.ids = idcache_new(4096);
	cd.cl = cluster_model_new(1);
	cd.res = reserve_new();
	if (!cd.loop || !cd.ids)
		fatalx("out of memory");
	const struct workpool_opts wo = {.max_threads = o->workers, .what = "download or copy"};
	cd.jobs = workpool_new(cd.loop, &wo, err, sizeof err);
	if (!cd.jobs)
		fatalx("%s", err);
	if (start_bus(&cd, err, sizeof err) < 0)
		fatalx("%s", err);

	if (sigloop_start(cd.loop, check_signals, &cd, err, sizeof err) < 0)
		fatalx("%s", err);
	if (sdnotify_watchdog_start(cd.loop) < 0)
		fatalx("out of memory");
	evloop_add_timer(cd.loop, 10000, expire_timer, &cd);
	log_info("%s starting: store %s, templates %s, broker %s, cluster %s", o->name,
	         imgstore_root(cd.store), o->templates, o->broker.text, o->cluster);
	evloop_run(cd.loop);

	confd_stop(&cd);
	conf_free(conf);
	curl_global_cleanup();
	return cd.refused ? 1 : 0;
}
