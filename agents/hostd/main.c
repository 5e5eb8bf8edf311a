/* vmc-hostd - the host agent: metrics, heartbeat, commands, migrations, balancing.
 *
 * Runs in the foreground; one event loop carries the MQTT socket, timers and
 * migration sockets. See vmc-hostd(8). */
#include "hostd.h"
#include "migrate/statelock.h"
#include "guests.h"

#include "../../lib/bus/busconn.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/config/conf.h"
#include "../../lib/core/evloop.h"
#include "../../lib/bus/idcache.h"
#include "../../lib/core/log.h"
#include "../../lib/core/memtrim.h"
#include "../../lib/balance/rules.h"
#include "../../lib/core/sdnotify.h"
#include "../../lib/core/sigloop.h"
#include "../../lib/bus/dispatch.h"
#include "../../lib/bus/topic.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: vmc-hostd --driver sim|xen --name NAME [options]    (see vmc-hostd(8))\n"
	      "  --driver sim|xen        the hypervisor driver (default sim)\n"
	      "  --name NAME             this host's name in the cluster (required)\n"
	      "  --broker URL            mqtt://HOST:PORT or mqtts://HOST:PORT\n"
	      "                          (default mqtt://127.0.0.1:1883)\n"
	      "  --cluster C             the cluster's name (default default)\n"
	      "  -c FILE                 settings file: key = value, keys the long options\n"
	      "  --state-dir DIR         where the agent keeps its state\n"
	      "                          (default /var/lib/vmcluster/hostd-NAME)\n"
	      "  --interval SECONDS      between load messages (default 2)\n"
	      "  --keepalive SECONDS     MQTT keepalive (default 10)\n"
	      "  --protocol 5|3.1.1|auto MQTT version (default auto)\n"
	      "  --cafile F, --cert F, --key F   TLS CA, client certificate and key\n"
	      "  --user U                broker user name (the host's name with the\n"
	      "                          production ACL)\n"
	      "  --password-file F       file holding the broker password\n"
	      "  --log-level L           error, warn, info (default) or debug\n"
	      "  -n                      check the settings and the rules, then exit\n"
	      "  --rules FILE            balancing rules (default /etc/vmcluster/rules if it\n"
	      "                          exists, else the built-in rules)\n"
	      "  --no-rules              the built-in rules, even if /etc/vmcluster/rules exists\n"
	      "  --advise yes|no         decide and publish, never migrate (default no)\n"
	      "  --power-off-hook PROG   run with the host's name when consolidation empties it\n"
	      "  --power-on-hook PROG    run with a standby host's name when room is short\n"
	      "  --migrate-port P        migration channel TCP port (default 0: any)\n"
	      "  --migrate-addr ADDR     migration channel address (default 127.0.0.1)\n"
	      "  --cluster-key-file F    the cluster's shared secret (migrations, development)\n"
	      "  --channel-cert F, --channel-key F, --channel-ca F\n"
	      "                          this host's certificate, key and the cluster's CA:\n"
	      "                          the migration channel's authentication\n"
	      "  --max-migrations N      outgoing migrations at once (default 2)\n"
	      "  --max-cluster-migrations N  migrations at once cluster-wide (default 8)\n"
	      "  --sim FILE              sim: host description, VMs created at first start\n"
	      "  --sim-traces DIR        sim: where load traces named in commands are read\n"
	      "  --cpus N, --memory MB   sim: the host's capacity (default 8, 32768)\n"
	      "  --time-scale N          sim: simulated time runs N times faster\n"
	      "  --clock-start HH:MM[:SS]  sim: simulated time starts at that time today\n"
	      "  --shared-store DIR      HA: the store every host sees (VM configs, owners)\n"
	      "  --fence-hook PROG       HA: run with a dead host's name and address; must\n"
	      "                          exit 0 before its VMs restart elsewhere\n"
	      "  --ha-timeout SECONDS    HA: silence after which a host may be dead\n"
	      "  --fence-timeout SECONDS HA: the fence hook's time limit (default 60)\n"
	      "  --self-fence-after SECONDS  HA: stop this host's HA VMs once it has lost\n"
	      "                          the broker and every peer that long (default 0: never)\n"
	      "  -h, --help              this text\n",
	      f);
}

/* One table serves the command line (--NAME VALUE) and -c FILE (NAME = VALUE); usage()
 * above says what each setting does. */
#define S(f) offsetof(struct hostd_opts, f)
#define ROW(name, kind, field, min, max)                                                           \
	{                                                                                          \
		name, kind, S(field), min, max, NULL                                               \
	}
static const struct cliopts_def settings[] = {
    ROW("driver", CLIOPTS_STR, driver, 0, 0),
    ROW("name", CLIOPTS_STR, name, 0, 0),
    ROW("broker", CLIOPTS_LIST, broker_list, 0, 0),
    ROW("cluster", CLIOPTS_STR, cluster, 0, 0),
    ROW("state-dir", CLIOPTS_STR, state_dir, 0, 0),
    ROW("sim", CLIOPTS_STR, sim_file, 0, 0),
    ROW("sim-traces", CLIOPTS_STR, sim_traces, 0, 0),
    ROW("cpus", CLIOPTS_INT, cpus, 1, 4096),
    ROW("memory", CLIOPTS_FUNC, memory_mb, 64, 4294967296.0),
    ROW("time-scale", CLIOPTS_NUM, time_scale, 1, 100000),
    ROW("clock-start", CLIOPTS_FUNC, clock_start_s, 0, 0),
    ROW("interval", CLIOPTS_SECS, interval_s, 0.05, 3600),
    ROW("keepalive", CLIOPTS_INT, conn.keepalive, 5, 3600),
    BUSCONN_CLIOPTS(struct hostd_opts, conn),
    ROW("migrate-port", CLIOPTS_INT, migrate_port, 0, 65535),
    ROW("migrate-addr", CLIOPTS_STR, migrate_addr, 0, 0),
    ROW("cluster-key-file", CLIOPTS_STR, cluster_key_file, 0, 0),
    ROW("channel-cert", CLIOPTS_STR, channel_cert, 0, 0),
    ROW("channel-key", CLIOPTS_STR, channel_key, 0, 0),
    ROW("channel-ca", CLIOPTS_STR, channel_ca, 0, 0),
    {"log-level", CLIOPTS_LOGLEVEL, 0, 0, 0, NULL},
    ROW("rules", CLIOPTS_STR, rules_file, 0, 0),
    ROW("no-rules", CLIOPTS_FLAG, no_rules, 0, 0),
    ROW("advise", CLIOPTS_BOOL, advise, 0, 0),
    ROW("power-off-hook", CLIOPTS_STR, power_off_hook, 0, 0),
    ROW("power-on-hook", CLIOPTS_STR, power_on_hook, 0, 0),
    ROW("max-migrations", CLIOPTS_INT, max_migrations_out, 1, 10000),
    ROW("max-cluster-migrations", CLIOPTS_FUNC, max_cluster_migrations, 0, 100000),
    ROW("shared-store", CLIOPTS_STR, shared_store, 0, 0),
    ROW("fence-hook", CLIOPTS_STR, fence_hook, 0, 0),
    ROW("ha-timeout", CLIOPTS_SECS, ha_timeout_s, 1, 3600),
    ROW("fence-timeout", CLIOPTS_INT, fence_timeout_s, 1, 3600),
    ROW("self-fence-after", CLIOPTS_FUNC, self_fence_after_s, 0, 3600),
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Parses HH:MM[:SS] (two digits each) into seconds since midnight; 0 or -1. */
static int parse_clock_start(const char *v, int *out)
{
	int f[3] = {0, 0, 0}, nf = 0;
	const char *p = v;
	for (;;) {
		if (nf == 3 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
			return -1;
		f[nf++] = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == '\0')
			break;
		if (*p++ != ':')
			return -1;
	}
	if (nf < 2 || f[0] > 23 || f[1] > 59 || f[2] > 59)
		return -1;
	*out = f[0] * 3600 + f[1] * 60 + f[2];
	return 0;
}

/* Real wall-clock ms of today's local time of day sec_of_day (the sim's --clock-start). */
static int64_t clock_start_ms(int sec_of_day)
{
	time_t now = (time_t)(evloop_wall_ms() / 1000);
	struct tm tm;
	if (!localtime_r(&now, &tm))
		return evloop_wall_ms();
	tm.tm_hour = sec_of_day / 3600;
	tm.tm_min = sec_of_day / 60 % 60;
	tm.tm_sec = sec_of_day % 60;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	return t == (time_t)-1 ? evloop_wall_ms() : (int64_t)t * 1000;
}

/* The settings of kind CLIOPTS_FUNC, whose forms no cliopts kind has. Returns 0, or -1
 * with err. */
static int read_setting(void *base, const struct cliopts_def *d, const char *v, char *err,
                        size_t errlen)
{
	struct hostd_opts *o = base;
	char *end;
	if (d->off == S(memory_mb)) { /* an int64_t */
		long long mb = strtoll(v, &end, 10);
		if (*end || end == v || mb < d->min || mb > d->max) {
			snprintf(err, errlen,
			         "%s \"%s\": expected a whole number from %.0f to %.0f", d->name, v,
			         d->min, d->max);
			return -1;
		}
		o->memory_mb = mb;
	} else if (d->off == S(max_cluster_migrations)) {
		struct cliopts_def as_int = *d;
		as_int.kind = CLIOPTS_INT;
		if (cliopts_apply(base, &as_int, v, err, errlen) < 0)
			return -1;
		if (o->max_cluster_migrations == 0)
			o->max_cluster_migrations = -1; /* 0 given: no cap (0 unset: the default) */
	} else if (d->off == S(clock_start_s)) {
		if (parse_clock_start(v, &o->clock_start_s) < 0) {
			snprintf(
			    err, errlen,
			    "clock-start \"%s\": expected a local time of day HH:MM or HH:MM:SS "
			    "(00:00 to 23:59:59)",
			    v);
			return -1;
		}
	} else { /* self-fence-after */
		double s = strtod(v, &end);
		if (*end || end == v || !(s == 0 || (s >= 1 && s <= d->max))) {
			snprintf(
			    err, errlen,
			    "self-fence-after \"%s\": expected 0 (never) or seconds from 1 to 3600",
			    v);
			return -1;
		}
		o->self_fence_after_s = s;
	}
	return 0;
}

/* The documented default rules file, $VMC_SYSCONFDIR/rules (/etc/vmcluster/rules), when it
 * exists; else NULL: the built-in rules. */
static const char *default_rules_file(char *buf, size_t len)
{
	const char *dir = getenv("VMC_SYSCONFDIR");
	snprintf(buf, len, "%s/rules", dir && *dir ? dir : "/etc/vmcluster");
	return access(buf, F_OK) == 0 ? buf : NULL;
}

/* mkdir -p for the state directory. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "state directory %.900s: %s", tmp, strerror(errno));
	return -1;
}

/* The session number grows by one at each start, so readers can tell restarts apart. */
static int64_t next_session(const char *state_dir)
{
	char path[4096], buf[32] = "", tmp[4100];
	snprintf(path, sizeof(path), "%s/session", state_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	int64_t s = strtoll(buf, NULL, 10) + 1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0) {
		int len = snprintf(buf, sizeof(buf), "%lld\n", (long long)s);
		if (write(fd, buf, (size_t)len) == len && fsync(fd) == 0)
			rename(tmp, path);
		close(fd);
	}
	return s;
}

/* Forgets what vm/<vm> records were published: the next load publishes them all. */
static void records_forget(struct hostd *h)
{
	free(h->seen);
	h->seen = NULL;
	h->nseen = 0;
	h->have_seen = 0;
	h->records_check_ms = 0;
}

/* After a reconnection: our own host/<name>/state tells whether the broker kept its
 * retained messages. The subscriptions went out before our birth, so a retained state of
 * ours (our birth or Last Will) comes first if it kept them; our new birth comes live if
 * it did not. */
static void records_check(struct hostd *h, const struct bus_msg *m, const char *rest)
{
	size_t n = strlen(h->opts.name);
	if (!h->records_check_ms || strncmp(rest, "host/", 5) != 0 ||
	    strncmp(rest + 5, h->opts.name, n) != 0 || strcmp(rest + 5 + n, "/state") != 0)
		return;
	if (m->retain)
		h->records_check_ms = 0; /* kept: our records are there */
	else
		records_forget(h);
}

static void on_connect(struct bus *b, void *ud)
{
	struct hostd *h = ud;
	char t[VMC_TOPIC_MAX];
	topic_fmt(t, sizeof(t), h->opts.cluster, "cmd/host/%s", h->opts.name);
	bus_subscribe(b, t, 1);
	hostd_migrate_connected(h);
	hostd_publish_state(h);
	hostd_balancer_connected(h);
	/* A reconnection publishes our state, not everything again: the vm/<vm> records go
	 * out again only if the broker lost them (records_check); the summary, one small
	 * message of our own state, always (the broker may have lost it too) */
	if (h->have_seen)
		h->records_check_ms = evloop_mono_ms() + (int64_t)h->opts.conn.keepalive * 1000;
	hostd_summary_reset(h);
	hostd_publish_load(h);
	hostd_event(h, "host.online", NULL, NULL);
	sdnotify_sendf("READY=1\nSTATUS=host %s online on %s", h->opts.name, h->opts.broker);
}

/* cmd/host/<us>: commands, which do not count as what the agent reads */
static void on_command(void *ctx, void *msg, const struct dispatch_match *d)
{
	hostd_command(ctx, msg);
}

/* guest/<vm>/load: a guest agent's figures */
static void on_guest(void *ctx, void *msg, const struct dispatch_match *d)
{
	struct hostd *h = ctx;
	h->rx++;
	hostd_guests_message(h, msg);
}

/* Anything else (a topic under the cluster's): into the agent's cluster model, then to
 * every module that reads the cluster, in this order, with its JSON parsed once, on the
 * first module's asking. */
static void on_cluster(void *ctx, void *raw, const struct dispatch_match *d)
{
	struct hostd *h = ctx;
	struct hostd_msg msg;
	h->rx++; /* what the agent reads of the cluster, its commands apart */
	hostd_msg_init(&msg, raw, d->rest);
	hostd_model_message(h, &msg);
	hostd_ha_message(h, &msg);
	if (!hostd_migrate_message(h, &msg))
		hostd_balancer_message(h, &msg);
	if (msg.forged)
		ratelog_warn(&h->forged, evloop_mono_ms(), "%s: %s", msg.raw->topic, msg.err);
	hostd_msg_free(&msg);
}

/* What vmc-hostd subscribes to: cmd/host/<us>, guest/<vm>/load of its guests, and the
 * modules' topics (see each module's _connected) */
static const struct dispatch_row hostd_topics[] = {
    {"cmd/host/#", on_command},
    {"guest/+/load", on_guest},
    {"#", on_cluster},
    {NULL, NULL},
};

static void on_message(struct bus *b, const struct bus_msg *m, void *ud)
{
	struct hostd *h = ud;
	const char *rest = topic_rest(m->topic, h->opts.cluster);
	if (!rest) {
		h->rx++;
		return;
	}
	records_check(h, m, rest);
	/* the bus gives the message as const: the handlers only read it */
	dispatch_run(hostd_topics, rest, h, (void *)m);
}

/* How long the agent leaves messages in its socket after reading it empty, so that the
 * next wake-up reads them all (bus_set_read_batch): a quarter of a millisecond per host
 * known, at most 250 ms. At 1,000 hosts an agent receives about ten summaries a second
 * and, while hosts join, their states and records; a wake-up for each was most of an
 * agent's CPU. A command or balancing message waits that long at most; in a cluster of
 * 16 hosts, 4 ms. */
#define READ_BATCH_PER_HOST_US 250
#define READ_BATCH_MAX_MS 250

static int read_batch_ms(size_t hosts)
{
	size_t ms = hosts * READ_BATCH_PER_HOST_US / 1000;
	return ms > READ_BATCH_MAX_MS ? READ_BATCH_MAX_MS : (int)ms;
}

static long load_timer(struct evloop *loop, long long id, void *ud)
{
	struct hostd *h = ud;
	bus_set_read_batch(h->bus, read_batch_ms(cluster_model_host_count(h->model)));
	/* no state of ours came back within a keepalive (a broker that gives no retained
	 * messages to wildcard subscriptions): publish the records again to be sure */
	if (h->records_check_ms && evloop_mono_ms() >= h->records_check_ms)
		records_forget(h);
	uint64_t seq = h->load_seq;
	if (bus_connected(h->bus))
		hostd_publish_load(h);
	/* what the start-up freed (the settings, the rules, the sim's file, the first records
	 * and the peers' retained messages) goes back once, when the first samples are out */
	if (seq == 2 && h->load_seq == 3)
		memtrim_after_start();
	return (long)(h->opts.interval_s * 1000);
}

/* SIGHUP: the rules file again, keeping the bus connection and every VM. */
static void reload(struct hostd *h)
{
	char err[8192];
	sdnotify_send("RELOADING=1");
	if (hostd_balancer_reload_rules(h, err, sizeof(err)) < 0) {
		size_t n = strlen(err);
		if (n > 0 && err[n - 1] == '\n')
			err[n - 1] = '\0';
		log_error("reload: %s", err);
		log_error("reload: the rules in force stay");
	} else
		log_info("reload: rules %s", h->opts.rules_file ? h->opts.rules_file : "built in");
	sdnotify_send("READY=1");
}

static void check_signals(struct evloop *loop, void *ud)
{
	if (sigloop_check(loop))
		reload(ud);
}

/* Signals come through a pipe into the loop (lib/core/sigloop.h); the systemd watchdog,
 * if asked for, is fed from the loop too. */
static void signals_start(struct hostd *h)
{
	char err[VMC_ERR_MAX];
	if (sigloop_start(h->loop, check_signals, h, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (sdnotify_watchdog_start(h->loop) < 0)
		fatalx("out of memory");
}

/* The command line (and the -c FILE it names, read first so that the command line
 * overrides it) into o. Returns -1 to go on, else the status to exit with. */
static int parse_args(struct hostd_opts *o, int argc, char **argv, int *check_only,
                      struct conf **conf)
{
	static const struct cliopts_prog prog = {
	    .name = "vmc-hostd",
	    .defs = settings,
	    .n = NSETTINGS,
	    .read = read_setting,
	    .usage = usage,
	};
	int r = cliopts_parse_prog(o, &prog, argc, argv, check_only, conf);
	if (r != 0)
		return r == 1 ? 0 : r == -2 ? 1 : 2; /* help; a bad settings file; bad usage */
	o->broker = o->broker_list.text;
	if (!o->name) {
		fprintf(stderr, "vmc-hostd: --name is required\n");
		return 2;
	}
	return -1;
}

/* Loads the rules once to judge them: their own errors are RULES-FILE:LINE:COL; a file
 * that cannot be read is the setting's error (at where). Returns 0 or -1 said on stderr. */
static int check_rules(const char *file, const char *where)
{
	char rerr[8192];
	struct rules *r;
	if (hostd_balancer_load_rules(file, &r, rerr, sizeof(rerr)) < 0) {
		if (strncmp(rerr, "rules file ", 11) == 0)
			fprintf(stderr, "%s: %s\n", where, rerr);
		else
			fprintf(stderr, "%s\n", rerr);
		return -1;
	}
	rules_free(r);
	return 0;
}

/* The settings judged together, each error said with FILE:LINE when the setting came
 * from -c FILE. Sets the defaults that depend on others (driver, rules file, in
 * rules_buf) and *ops. Returns 0, or -1 said on stderr. */
static int check_opts(struct hostd_opts *o, const struct conf *conf, char *rules_buf,
                      size_t rules_len, const struct hv_ops **ops)
{
	char err[1024], where[4200];
#define WHERE(value) conf_where(conf, (value), "vmc-hostd", where, sizeof(where))
	if (vmc_name_check(o->name, "host name", err, sizeof(err)) < 0 ||
	    vmc_name_check(o->cluster, "cluster name", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n",
		        WHERE(vmc_name_check(o->name, NULL, NULL, 0) < 0 ? o->name : o->cluster),
		        err);
		return -1;
	}
	if (!o->driver)
		o->driver = "sim";
	*ops = hv_load(o->driver, err, sizeof(err));
	if (!*ops) {
		fprintf(stderr, "%s: %s\n", WHERE(o->driver), err);
		return -1;
	}
	if (o->clock_start_s >= 0 && strcmp(o->driver, "sim") != 0) {
		fprintf(stderr,
		        "vmc-hostd: --clock-start is a testing aid of the sim driver: "
		        "expected --driver sim, not %s\n",
		        o->driver);
		return -1;
	}
	if (bus_urls_check(o->broker, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", WHERE(o->broker), err);
		return -1;
	}
	const char *hooks[] = {o->power_off_hook, o->power_on_hook, o->fence_hook};
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		if (hooks[i] && (hooks[i][0] != '/' || access(hooks[i], X_OK) < 0)) {
			fprintf(stderr, "%s: hook \"%s\": expected an executable's absolute path\n",
			        WHERE(hooks[i]), hooks[i]);
			return -1;
		}
	}
	if (o->self_fence_after_s > 0 && !o->shared_store) {
		fprintf(stderr, "vmc-hostd: --self-fence-after is part of HA: it needs "
		                "--shared-store\n");
		return -1;
	}
	if (o->rules_file && o->no_rules) {
		fprintf(stderr, "vmc-hostd: --rules and --no-rules exclude each other\n");
		return -1;
	}
	if (!o->rules_file && !o->no_rules)
		o->rules_file = default_rules_file(rules_buf, rules_len);
	return check_rules(o->rules_file, WHERE(o->rules_file));
#undef WHERE
}

/* The bus client, with the Last Will that turns this host offline. Returns 0, or -1
 * with err (a password file that cannot be read among them). */
static int hostd_bus_new(struct hostd *h, char *err, size_t errlen)
{
	const struct hostd_opts *o = &h->opts;
	char will_topic[VMC_TOPIC_MAX];
	topic_fmt(will_topic, sizeof(will_topic), o->cluster, "host/%s/state", o->name);
	cJSON *will = msg_new(h->sender, evloop_wall_ms());
	cJSON_AddStringToObject(will, "state", "offline");
	cJSON_AddNumberToObject(will, "session", (double)h->session);
	cJSON_AddStringToObject(will, "reason", "connection lost");
	char client_id[VMC_NAME_MAX + 16];
	snprintf(client_id, sizeof(client_id), "host-%s", o->name);
	struct bus_opts bo = {
		.client_id = client_id,
		.will_topic = will_topic,
		.will_retain = 1,
		.on_connect = on_connect,
		.on_message = on_message,
		.ud = h,
	};
	h->bus = busconn_new(h->loop, o->broker, &o->conn, &bo, will, err, errlen);
	cJSON_Delete(will);
	return h->bus ? 0 : -1;
}

/* Every module's ops, for commands.c; the first table with a matching op wins. */
static const struct hostd_op *const op_tables[] = {
    hostd_vm_ops, hostd_host_ops, hostd_migrate_ops, hostd_drain_ops, hostd_balance_ops,
    hostd_ha_ops, NULL,
};

/* Everything the agent needs before its loop runs: state directory and its lock, the
 * driver, the VM store, the bus, the modules, the signals. Exits on failure. Returns the
 * lock's descriptor. */
static int hostd_start(struct hostd *h, const struct hv_ops *ops, char *state_dir_buf,
                       size_t state_dir_len)
{
	struct hostd_opts *o = &h->opts;
	char err[1024];
	if (!o->state_dir) {
		snprintf(state_dir_buf, state_dir_len, "/var/lib/vmcluster/hostd-%s", o->name);
		o->state_dir = state_dir_buf;
	}
	if (make_dirs(o->state_dir, err, sizeof(err)) < 0)
		fatalx("%s", err);
	int lock_fd = statelock_take(o->state_dir, STATELOCK_WAIT_MS, err, sizeof(err));
	if (lock_fd < 0)
		fatalx("%s", err);
	h->session = next_session(o->state_dir);
	snprintf(h->sender, sizeof(h->sender), "host/%s", o->name);
	h->publish_event = hostd_publish_event;
	h->op_tables = op_tables;
	vclock_init(&h->clock, o->time_scale, evloop_mono_ms(),
	            o->clock_start_s >= 0 ? clock_start_ms(o->clock_start_s) : evloop_wall_ms());

	struct hv_open_args hargs = {
	    .host_name = o->name,
	    .state_dir = o->state_dir,
	    .sim_file = o->sim_file,
	    .sim_traces = o->sim_traces,
	    .cpus = o->cpus,
	    .memory_mb = o->memory_mb,
	    .clock = &h->clock,
	};
	if (hv_open(ops, &hargs, &h->hv, err, sizeof(err)) < 0)
		fatalx("driver %s: %s", o->driver, err);
	char store_dir[4200];
	snprintf(store_dir, sizeof(store_dir), "%s/vms", o->state_dir);
	h->store = vmstore_open(store_dir, err, sizeof(err));
	if (!h->store)
		fatalx("%s", err);
	h->ids = idcache_new(4096);
	h->loop = evloop_new();
	if (!h->ids || !h->loop)
		fatalx("out of memory");
	if (hostd_bus_new(h, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (hostd_guests_start(h) < 0 || hostd_vmjobs_start(h) < 0)
		fatalx("out of memory");
	if (hostd_model_start(h) < 0)
		fatalx("out of memory");
	if (hostd_migrate_init(h, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (hostd_drain_start(h) < 0)
		fatalx("cannot set up the drain state in %s", o->state_dir);
	if (hostd_balancer_start(h, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (hostd_ha_start(h, err, sizeof(err)) < 0)
		fatalx("%s", err);
	signals_start(h);
	return lock_fd;
}

/* After the loop: the offline state said (not left to the Last Will), all freed. */
static void hostd_stop(struct hostd *h)
{
	log_info("signal %d: going offline", sigloop_caught());
	sdnotify_send("STOPPING=1");
	hostd_vmjobs_stop(h);
	hostd_drain_stop(h);
	hostd_migrate_free(h);
	if (bus_connected(h->bus)) {
		char t[VMC_TOPIC_MAX];
		topic_fmt(t, sizeof(t), h->opts.cluster, "host/%s/state", h->opts.name);
		cJSON *m = msg_new(h->sender, hostd_now(h));
		cJSON_AddStringToObject(m, "state", "offline");
		cJSON_AddNumberToObject(m, "session", (double)h->session);
		cJSON_AddStringToObject(m, "reason", "stopped");
		bus_publish_json(h->bus, t, m, 1, 1);
		cJSON_Delete(m);
		hostd_event(h, "host.offline", NULL, NULL);
		bus_flush(h->bus, 2000);
	}
	bus_disconnect(h->bus);
	hostd_balancer_stop(h);
	bus_free(h->bus);
	hostd_ha_stop(h); /* its timers may run until the bus is flushed */
	hostd_model_stop(h);
	hostd_guests_stop(h);
	hostd_summary_free(h);
	hv_close(h->hv);
	vmstore_close(h->store);
	idcache_free(h->ids);
	free(h->seen);
	jsonbuf_free(&h->load_text);
	evloop_free(h->loop);
}

int main(int argc, char **argv)
{
	memtrim_setup();
	struct hostd h;
	memset(&h, 0, sizeof(h));
	struct hostd_opts *o = &h.opts;
	o->broker_list.text = "mqtt://127.0.0.1:1883";
	o->cluster = "default";
	o->time_scale = 1;
	o->clock_start_s = -1;
	o->interval_s = 2;
	o->conn.keepalive = 10;
	o->migrate_addr = "127.0.0.1";
	o->ha_timeout_s = 20;
	o->fence_timeout_s = 60;
	log_init("vmc-hostd", LOG_LVL_INFO);

	int check_only = 0;
	struct conf *conf = NULL;
	int rc = parse_args(o, argc, argv, &check_only, &conf);
	if (rc >= 0) {
		conf_free(conf);
		return rc;
	}
	char rules_buf[4096];
	const struct hv_ops *ops;
	if (check_opts(o, conf, rules_buf, sizeof(rules_buf), &ops) < 0) {
		conf_free(conf);
		return 2;
	}
	if (check_only) {
		printf("configuration OK\n");
		conf_free(conf);
		return 0;
	}

	char state_dir_buf[4096];
	int lock_fd = hostd_start(&h, ops, state_dir_buf, sizeof(state_dir_buf));
	log_info("host %s (driver %s, session %lld) starting; broker %s, cluster %s, rules %s",
	         o->name, o->driver, (long long)h.session, o->broker, o->cluster,
	         o->rules_file ? o->rules_file : "built in");
	bus_start(h.bus);
	h.load_timer = evloop_add_timer(h.loop, (long)(o->interval_s * 1000), load_timer, &h);
	/* no wake-up but the timers and the sockets: a signal comes through sigloop's pipe */
	while (!evloop_stopped(h.loop) && evloop_run_once(h.loop, -1) == 0)
		;
	hostd_stop(&h);
	conf_free(conf);
	close(lock_fd);
	return 0;
}
