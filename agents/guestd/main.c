/* vmc-guestd - the guest agent: runs inside a VM and publishes what the guest sees of
 * itself (CPU, steal, memory, load, disk use, uptime) on guest/<vm>/load, with a retained
 * guest/<vm>/state and a Last Will. See vmc-guestd(8).
 *
 * Its name, in this order: --name (or "name" in the -c file); xenstore's "name" key read
 * through the xenbus device; the host name up to its first dot. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/bus/bus.h"
#include "../../lib/bus/busconn.h"
#include "../../lib/config/cliopts.h"
#include "../../lib/config/conf.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/msg.h"
#include "../../lib/core/sdnotify.h"
#include "../../lib/core/sigloop.h"
#include "../../lib/bus/topic.h"
#include "procstat.h"
#include "xsname.h"

#define GUESTD_VERSION "1"

struct guestd_opts {
	struct cliopts_list broker;
	const char *name, *cluster, *proc, *disk, *xenbus;
	struct busconn_opts conn; /* TLS, credentials, MQTT version and keepalive */
	int once;
	double interval_s;
};

struct guestd {
	struct guestd_opts opts;
	struct evloop *loop;
	struct bus *bus;
	char vm[VMC_NAME_MAX + 1];
	const char *name_source;
	char sender[VMC_NAME_MAX + 8];
	uint64_t seq;
	struct procstat_sample prev;
	int have_prev;
	int warned;
};

#define S(f) offsetof(struct guestd_opts, f)
static const struct cliopts_def settings[] = {
    {"name", CLIOPTS_STR, S(name), 0, 0, "the VM's name (default: xenstore, else hostname)"},
    {"broker", CLIOPTS_LIST, S(broker), 0, 0, "mqtt[s]://HOST:PORT[,...] (nodes of a cluster)"},
    {"cluster", CLIOPTS_STR, S(cluster), 0, 0, "cluster name (default default)"},
    {"interval", CLIOPTS_NUM, S(interval_s), 0.05, 3600, "seconds between loads (default 2)"},
    {"proc", CLIOPTS_STR, S(proc), 0, 0, "where /proc is (default /proc)"},
    {"disk", CLIOPTS_STR, S(disk), 0, 0, "file system whose use is reported (default /)"},
    {"xenbus", CLIOPTS_STR, S(xenbus), 0, 0, "xenbus device (default /dev/xen/xenbus)"},
    BUSCONN_CLIOPTS(struct guestd_opts, conn),
    BUSCONN_CLIOPT_KEEPALIVE(struct guestd_opts, conn),
    {"once", CLIOPTS_FLAG, S(once), 0, 0, "print one load as JSON and exit (no broker)"},
    {"log-level", CLIOPTS_LOGLEVEL, 0, 0, 0, "error, warn, info or debug"},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* Finds the VM's name. Returns 0, or -1 with err. */
static int find_name(struct guestd *g, char *err, size_t errlen)
{
	char buf[256], e[256];
	if (g->opts.name) {
		snprintf(buf, sizeof buf, "%s", g->opts.name);
		g->name_source = "configuration";
	} else {
		int r = xsname_read(g->opts.xenbus, "name", buf, sizeof buf, 2000, e, sizeof e);
		if (r == 0) {
			g->name_source = "xenstore";
		} else {
			if (r < 0)
				log_warnx("no name from xenstore (%s); using the host name", e);
			if (gethostname(buf, sizeof buf) < 0) {
				snprintf(err, errlen, "cannot read the host name: %s",
				         strerror(errno));
				return -1;
			}
			buf[sizeof buf - 1] = '\0';
			buf[strcspn(buf, ".")] = '\0';
			g->name_source = "hostname";
		}
	}
	if (vmc_name_check(buf, "vm name", e, sizeof e) < 0) {
		snprintf(err, errlen, "%s (from the %s)%s", e, g->name_source,
		         g->opts.name ? "" : "; set one with --name");
		return -1;
	}
	memcpy(g->vm, buf, strlen(buf) + 1); /* checked: at most VMC_NAME_MAX */
	return 0;
}

/* The load message for the figures since the previous sample, or NULL if none yet. */
static cJSON *sample_load(struct guestd *g)
{
	struct procstat_sample cur;
	struct procstat_figures f;
	char err[512];
	if (procstat_sample(g->opts.proc, g->opts.disk, &cur, err, sizeof err) < 0) {
		if (!g->warned++)
			log_warnx("%s", err);
		return NULL;
	}
	g->warned = 0;
	if (!g->have_prev) {
		g->prev = cur;
		g->have_prev = 1;
		return NULL;
	}
	procstat_figures(&g->prev, &cur, &f);
	g->prev = cur;
	cJSON *m = msg_new(g->sender, evloop_wall_ms());
	msg_set_seq(m, ++g->seq);
	cJSON_AddNumberToObject(m, "cpu", f.cpu);
	cJSON_AddNumberToObject(m, "steal", f.steal);
	cJSON_AddNumberToObject(m, "vcpus", f.vcpus);
	cJSON_AddNumberToObject(m, "mem_total_mb", (double)f.mem_total_mb);
	cJSON_AddNumberToObject(m, "mem_used_mb", (double)f.mem_used_mb);
	cJSON_AddNumberToObject(m, "load1", f.load1);
	cJSON_AddNumberToObject(m, "load5", f.load5);
	cJSON_AddNumberToObject(m, "load15", f.load15);
	if (f.disk_used_pct >= 0)
		cJSON_AddNumberToObject(m, "disk_used_pct", f.disk_used_pct);
	cJSON_AddNumberToObject(m, "uptime_s", f.uptime_s);
	return m;
}

static void publish_state(struct guestd *g, const char *state)
{
	char t[VMC_TOPIC_MAX];
	cJSON *m = msg_new(g->sender, evloop_wall_ms());
	cJSON_AddStringToObject(m, "state", state);
	if (strcmp(state, "online") == 0) {
		cJSON_AddStringToObject(m, "version", GUESTD_VERSION);
		cJSON_AddStringToObject(m, "name_from", g->name_source);
		cJSON_AddNumberToObject(m, "interval_s", g->opts.interval_s);
	}
	if (topic_fmt(t, sizeof t, g->opts.cluster, "guest/%s/state", g->vm) == 0)
		bus_publish_json(g->bus, t, m, 1, 1);
	cJSON_Delete(m);
}

static long load_timer(struct evloop *loop, long long id, void *ud)
{
	struct guestd *g = ud;
	char t[VMC_TOPIC_MAX];
	cJSON *m = sample_load(g);
	if (m && bus_connected(g->bus) &&
	    topic_fmt(t, sizeof t, g->opts.cluster, "guest/%s/load", g->vm) == 0)
		bus_publish_json(g->bus, t, m, 0, 0);
	cJSON_Delete(m);
	return (long)(g->opts.interval_s * 1000);
}

static void on_connect(struct bus *b, void *ud)
{
	struct guestd *g = ud;
	publish_state(g, "online");
	sdnotify_sendf("READY=1\nSTATUS=vm %s online on %s", g->vm, g->opts.broker.text);
}

static void check_signals(struct evloop *loop, void *ud)
{
	if (sigloop_check(loop))
		log_info("reload: nothing to read again (settings apply at start)");
}

/* --once: two samples an interval apart, printed. */
static int run_once(struct guestd *g)
{
	cJSON *m = sample_load(g);
	if (!g->have_prev)
		return 1;
	usleep((useconds_t)(g->opts.interval_s * 1e6));
	m = sample_load(g);
	if (!m)
		return 1;
	char *text = msg_print(m);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(m);
	return 0;
}

static int start_bus(struct guestd *g, char *err, size_t errlen)
{
	struct guestd_opts *o = &g->opts;
	char will_topic[VMC_TOPIC_MAX], client_id[VMC_NAME_MAX + 16];
	topic_fmt(will_topic, sizeof will_topic, o->cluster, "guest/%s/state", g->vm);
	snprintf(client_id, sizeof client_id, "guest-%s", g->vm);
	cJSON *will = msg_new(g->sender, evloop_wall_ms());
	cJSON_AddStringToObject(will, "state", "offline");
	struct bus_opts bo = {
	    .client_id = client_id,
	    .will_topic = will_topic,
	    .will_retain = 1,
	    .on_connect = on_connect,
	    .ud = g,
	};
	g->bus = busconn_new(g->loop, o->broker.text, &o->conn, &bo, will, err, errlen);
	cJSON_Delete(will);
	return g->bus ? bus_start(g->bus) : -1;
}

int main(int argc, char **argv)
{
	struct guestd g;
	memset(&g, 0, sizeof g);
	g.opts = (struct guestd_opts){
	    .broker = {.text = "mqtt://127.0.0.1:1883"},
	    .cluster = "default",
	    .proc = "/proc",
	    .disk = "/",
	    .conn = {.keepalive = 10},
	    .interval_s = 2,
	};
	log_init("vmc-guestd", LOG_LVL_INFO);
	struct conf *conf = NULL;
	int check_only = 0;
	char err[1024];
	int r = cliopts_parse(&g.opts, settings, NSETTINGS, argc, argv, "vmc-guestd", &check_only,
	                      &conf);
	if (r == 0 && busconn_check(g.opts.cluster, g.opts.broker.text, conf, "vmc-guestd") < 0)
		r = -1;
	if (r == 0 && find_name(&g, err, sizeof err) < 0) {
		fprintf(stderr, "vmc-guestd: %s\n", err);
		r = -1;
	}
	if (r != 0) {
		conf_free(conf);
		return r > 0 ? 0 : 2;
	}
	snprintf(g.sender, sizeof g.sender, "guest/%s", g.vm);
	if (check_only) {
		printf("configuration OK: vm %s (from the %s)\n", g.vm, g.name_source);
		conf_free(conf);
		return 0;
	}
	if (g.opts.once) {
		r = run_once(&g);
		conf_free(conf);
		return r;
	}
	g.loop = evloop_new();
	if (!g.loop)
		fatalx("out of memory");
	if (start_bus(&g, err, sizeof err) < 0)
		fatalx("%s", err);
	if (sigloop_start(g.loop, check_signals, NULL, err, sizeof err) < 0)
		fatalx("%s", err);
	if (sdnotify_watchdog_start(g.loop) < 0)
		fatalx("out of memory");
	sample_load(&g); /* the baseline for the first interval's CPU figures */
	evloop_add_timer(g.loop, (long)(g.opts.interval_s * 1000), load_timer, &g);
	log_info("vm %s (name from the %s): publishing every %g s to %s, cluster %s", g.vm,
	         g.name_source, g.opts.interval_s, g.opts.broker.text, g.opts.cluster);
	evloop_run(g.loop);

	log_info("signal %d: going offline", sigloop_caught());
	sdnotify_send("STOPPING=1");
	if (bus_connected(g.bus)) {
		publish_state(&g, "offline");
		bus_flush(g.bus, 2000);
	}
	bus_disconnect(g.bus);
	bus_free(g.bus);
	evloop_free(g.loop);
	conf_free(conf);
	return 0;
}
