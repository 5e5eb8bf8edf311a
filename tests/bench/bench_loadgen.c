/* bench/bench_loadgen.c - simulated hosts' load messages on the bus, for tests/bench/bus_fanout.
 *
 *   bench_loadgen --broker URL --cluster C --start MS --skip MS --seconds S
 *                 [--hosts N] [--first I] [--vms V] [--per-vm] [--conns K]
 *                 [--interval MS] [--records]
 *                 [--subscribe FILTER] [--parse] [--skip-retained] [--trace-lag MS]
 *
 * Publishes, from --start (epoch ms) for --seconds, the load message of N hosts
 * (host b<I>.. b<I+N-1>, V VMs each, as vmc-hostd does: retained, QoS 0, once an
 * interval, MS (default 1000) apart, the hosts' phases spread evenly over it) over K
 * connections
 * through lib/bus/bus.c (host k on connection k mod K; K is at most 15, the evloop's
 * before-poll hooks). --per-vm publishes V small guest/<vm>/load messages per host
 * instead of one aggregated message. --records also publishes, once at the start and
 * before the first loads, what a host agent keeps retained besides its load: each host's
 * state (host/<h>/state) and each VM's record (host/<h>/vm/<vm>), as a console starting
 * into a running cluster is handed them. Each connection may subscribe to FILTER
 * (under vmc/C/) and count what arrives: messages, bytes and lag (arrival minus
 * the message's "ts"); --parse parses every message with msg_parse, as vmc does,
 * otherwise only the "ts" is read. Counts cover [start+skip, start+seconds). A
 * delivery with the retain flag is the broker's stored copy, sent on subscribing (a
 * subscription made late, or made again after a reconnection): its lag is the message's
 * age, not the time it took to arrive. --skip-retained counts those apart (retained=),
 * not in the received figures and the lag (Mosquitto clears the flag on live deliveries,
 * as MQTT says). --trace-lag lists on stderr (at most 50) the deliveries in the window
 * that arrived MS or more after their ts, retained ones included: topic, lag, retain flag.
 *
 * A host whose turn comes more than 0.5 s late (the generator starved of CPU) skips
 * it rather than making it up in a burst. Prints one line of name=value figures:
 * hosts, sent/s, not_sent (publishes refused while not connected), late (turns
 * skipped), recv/s, bytes/s, lag_p50_ms, lag_p99_ms, lag_max_ms, retained (the stored
 * copies left out with --skip-retained), reconnects, cpu_pct (this process, in the window).
 * Exits 1 on bad options or if it cannot connect. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/bus/bus.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/topic.h"
#include "loadmsg.h"

#define MAX_CONNS 15
#define LAG_BUCKETS 10000 /* 1 ms buckets; later arrivals go into the last */
#define TICK_MS 5
#define LATE_MS 500 /* a host's turn missed by more than this is skipped, not made up */

struct lg_msg { /* one periodic message: its topic and the payload after the envelope */
	char topic[VMC_TOPIC_MAX];
	char from[VMC_NAME_MAX + 8];
	char *suffix;
	size_t suffixlen;
};

struct lg {
	const char *broker, *cluster, *filter;
	int hosts, first, vms, per_vm, nconns, parse, skip_retained, records;
	int64_t interval_ms; /* between a host's loads */
	int records_sent;
	int64_t trace_lag_ms; /* 0: none */
	int traced;
	int64_t start_ms, win_start_ms, win_ms, end_ms;
	struct evloop *loop;
	struct bus *conns[MAX_CONNS];
	struct lg_msg *msgs; /* hosts (x vms with --per-vm), host-major */
	size_t nmsgs, per_host;
	size_t next; /* next host due */
	uint64_t round;
	char *buf;
	size_t buflen;
	uint64_t sent_win, not_sent, late, recv_win, bytes_win, retained_win, connects;
	uint64_t lag[LAG_BUCKETS];
	int64_t lag_max;
	double cpu0, cpu1;
	int in_window;
};

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_loadgen --broker URL --cluster C --start MS --skip MS "
	                "--seconds S [--hosts N] [--first I] [--vms V] [--per-vm] [--conns K] "
	                "[--interval MS] [--records] [--subscribe FILTER] [--parse] "
	                "[--skip-retained] [--trace-lag MS]\n");
	exit(1);
}

/* Reads "ts" from a message: the whole message with --parse, else the text after "ts":. */
static int lg_ts(struct lg *g, const struct bus_msg *m, int64_t *ts)
{
	if (g->parse) {
		cJSON *root;
		char err[VMC_ERR_MAX];
		if (msg_parse(m->payload, m->len, &root, err, sizeof err) != VMC_OK)
			return -1;
		int rc = msg_get_int(root, NULL, "ts", 1, 0, INT64_MAX, ts, err, sizeof err);
		cJSON_Delete(root);
		return rc;
	}
	size_t n = m->len < 200 ? m->len : 200;
	const char *p = memmem(m->payload, n, "\"ts\":", 5);
	if (!p)
		return -1;
	*ts = strtoll(p + 5, NULL, 10);
	return 0;
}

static void lg_connect(struct bus *b, void *ud)
{
	struct lg *g = ud;
	g->connects++;
}

static void lg_message(struct bus *b, const struct bus_msg *m, void *ud)
{
	struct lg *g = ud;
	int64_t now = evloop_wall_ms(), ts;
	/* by the clock, not by in_window: a starved process's tick may come late */
	if (now < g->win_start_ms || now >= g->end_ms || lg_ts(g, m, &ts) < 0)
		return;
	int64_t lag = now - ts;
	if (g->trace_lag_ms > 0 && lag >= g->trace_lag_ms && g->traced < 50) {
		g->traced++;
		fprintf(stderr, "bench_loadgen: late: %s lag %lld ms retain %d\n", m->topic,
		        (long long)lag, m->retain);
	}
	if (m->retain && g->skip_retained) { /* a stored copy: its age, not a lag */
		g->retained_win++;
		return;
	}
	g->recv_win++;
	g->bytes_win += m->len;
	if (lag < 0)
		lag = 0;
	g->lag[lag < LAG_BUCKETS ? lag : LAG_BUCKETS - 1]++;
	if (lag > g->lag_max)
		g->lag_max = lag;
}

/* Prints message i with its envelope into g->buf and publishes it. */
static void lg_publish(struct lg *g, size_t i, struct bus *b, int64_t now)
{
	struct lg_msg *m = &g->msgs[i];
	size_t need = m->suffixlen + 160;
	if (need > g->buflen) {
		g->buf = realloc(g->buf, need);
		if (!g->buf)
			abort();
		g->buflen = need;
	}
	int h = snprintf(g->buf, g->buflen, "{\"v\":1,\"from\":\"%s\",\"ts\":%lld,\"seq\":%llu,",
	                 m->from, (long long)now, (unsigned long long)g->round + 1);
	memcpy(g->buf + h, m->suffix, m->suffixlen);
	if (bus_publish(b, m->topic, g->buf, (size_t)h + m->suffixlen, 0, !g->per_vm) < 0)
		g->not_sent++;
	else if (now >= g->win_start_ms && now < g->end_ms)
		g->sent_win++;
}

/* Publishes the retained state of host h and the records of its VMs (--records). */
static void lg_publish_records(struct lg *g, int h, struct bus *b, int64_t now)
{
	char host[32], sender[VMC_NAME_MAX + 8], topic[VMC_TOPIC_MAX];
	snprintf(host, sizeof host, "b%05d", g->first + h);
	snprintf(sender, sizeof sender, "host/%s", host);
	cJSON *st = msg_new(sender, now);
	cJSON_AddStringToObject(st, "state", "online");
	cJSON_AddNumberToObject(st, "session", 1);
	cJSON_AddStringToObject(st, "driver", "sim");
	cJSON_AddNumberToObject(st, "cpus", 128);
	cJSON_AddNumberToObject(st, "mem_total_mb", 262144);
	cJSON_AddStringToObject(st, "version", "sim 1");
	topic_fmt(topic, sizeof topic, g->cluster, "host/%s/state", host);
	if (bus_publish_json(b, topic, st, 0, 1) < 0)
		g->not_sent++;
	cJSON_Delete(st);
	cJSON *load = loadmsg_build(host, g->vms, 1, now);
	const cJSON *vm;
	cJSON_ArrayForEach(vm, cJSON_GetObjectItem(load, "vms"))
	{
		cJSON *rec = msg_new(sender, now);
		for (const cJSON *f = vm->child; f; f = f->next)
			cJSON_AddItemToObject(rec, f->string, cJSON_Duplicate(f, 1));
		topic_fmt(topic, sizeof topic, g->cluster, "host/%s/vm/%s", host,
		          cJSON_GetObjectItem(vm, "name")->valuestring);
		if (bus_publish_json(b, topic, rec, 0, 1) < 0)
			g->not_sent++;
		cJSON_Delete(rec);
	}
	cJSON_Delete(load);
}

/* Publishes for every host whose moment in the current interval has come. */
static long lg_tick(struct evloop *loop, long long id, void *ud)
{
	struct lg *g = ud;
	int64_t now = evloop_wall_ms();
	if (g->records && !g->records_sent && now >= g->start_ms) {
		g->records_sent = 1;
		for (int h = 0; h < g->hosts; h++)
			lg_publish_records(g, h, g->conns[(size_t)h % (size_t)g->nconns], now);
	}
	if (!g->in_window && now >= g->win_start_ms && now < g->end_ms) {
		g->in_window = 1;
		g->cpu0 = cpu_s();
	}
	if (now >= g->end_ms) {
		g->cpu1 = cpu_s();
		g->in_window = 0;
		evloop_stop(loop);
		return -1;
	}
	while (g->hosts > 0 && now >= g->start_ms) {
		int64_t due = g->start_ms + (int64_t)g->round * g->interval_ms +
		              (int64_t)g->next * g->interval_ms / g->hosts;
		if (due > now)
			break;
		struct bus *b = g->conns[g->next % (size_t)g->nconns];
		if (now - due > LATE_MS)
			g->late++; /* a starved generator skips a turn, as a late agent would */
		else
			for (size_t k = 0; k < g->per_host; k++)
				lg_publish(g, g->next * g->per_host + k, b, now);
		if (++g->next == (size_t)g->hosts) {
			g->next = 0;
			g->round++;
		}
	}
	return TICK_MS;
}

/* Keeps the printed object o without its leading '{' as the message's suffix. */
static void lg_keep(struct lg_msg *m, cJSON *o, const char *topic, const char *from)
{
	char *text = msg_print(o);
	m->suffixlen = strlen(text) - 1;
	m->suffix = malloc(m->suffixlen);
	if (!m->suffix)
		abort();
	memcpy(m->suffix, text + 1, m->suffixlen);
	free(text);
	snprintf(m->topic, sizeof m->topic, "%s", topic);
	snprintf(m->from, sizeof m->from, "%s", from);
}

static void lg_build(struct lg *g)
{
	char host[32], topic[VMC_TOPIC_MAX], from[VMC_NAME_MAX + 8];
	g->per_host = g->per_vm ? (size_t)g->vms : 1;
	g->nmsgs = (size_t)g->hosts * g->per_host;
	g->msgs = calloc(g->nmsgs ? g->nmsgs : 1, sizeof *g->msgs);
	if (!g->msgs)
		abort();
	for (int h = 0; h < g->hosts; h++) {
		snprintf(host, sizeof host, "b%05d", g->first + h);
		cJSON *m = loadmsg_build(host, g->vms, 1, 0);
		if (!g->per_vm) {
			static const char *const env[] = {"v", "from", "ts", "seq"};
			for (size_t k = 0; k < 4; k++)
				cJSON_DeleteItemFromObject(m, env[k]);
			topic_fmt(topic, sizeof topic, g->cluster, "host/%s/load", host);
			snprintf(from, sizeof from, "host/%s", host);
			lg_keep(&g->msgs[h], m, topic, from);
		} else {
			const cJSON *vm;
			size_t k = 0;
			cJSON_ArrayForEach(vm, cJSON_GetObjectItem(m, "vms"))
			{
				const char *name = cJSON_GetObjectItem(vm, "name")->valuestring;
				topic_fmt(topic, sizeof topic, g->cluster, "guest/%s/load", name);
				snprintf(from, sizeof from, "guest/%s", name);
				lg_keep(&g->msgs[(size_t)h * g->per_host + k++], (cJSON *)vm, topic,
				        from);
			}
		}
		cJSON_Delete(m);
	}
}

static void lg_options(struct lg *g, int argc, char **argv)
{
	enum {
		O_BROKER = 256,
		O_CLUSTER,
		O_START,
		O_SKIP,
		O_SECONDS,
		O_HOSTS,
		O_FIRST,
		O_VMS,
		O_PER_VM,
		O_CONNS,
		O_SUBSCRIBE,
		O_PARSE,
		O_SKIP_RETAINED,
		O_TRACE_LAG,
		O_INTERVAL,
		O_RECORDS
	};
	static const struct option opts[] = {
	    {"broker", required_argument, NULL, O_BROKER},
	    {"cluster", required_argument, NULL, O_CLUSTER},
	    {"start", required_argument, NULL, O_START},
	    {"skip", required_argument, NULL, O_SKIP},
	    {"seconds", required_argument, NULL, O_SECONDS},
	    {"hosts", required_argument, NULL, O_HOSTS},
	    {"first", required_argument, NULL, O_FIRST},
	    {"vms", required_argument, NULL, O_VMS},
	    {"per-vm", no_argument, NULL, O_PER_VM},
	    {"conns", required_argument, NULL, O_CONNS},
	    {"subscribe", required_argument, NULL, O_SUBSCRIBE},
	    {"parse", no_argument, NULL, O_PARSE},
	    {"skip-retained", no_argument, NULL, O_SKIP_RETAINED},
	    {"trace-lag", required_argument, NULL, O_TRACE_LAG},
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"records", no_argument, NULL, O_RECORDS},
	    {NULL, 0, NULL, 0},
	};
	int64_t skip = -1;
	double seconds = 0;
	int c;
	g->cluster = "bench";
	g->vms = 50;
	g->nconns = 1;
	g->interval_ms = 1000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_BROKER:
			g->broker = optarg;
			break;
		case O_CLUSTER:
			g->cluster = optarg;
			break;
		case O_START:
			g->start_ms = strtoll(optarg, NULL, 10);
			break;
		case O_SKIP:
			skip = strtoll(optarg, NULL, 10);
			break;
		case O_SECONDS:
			seconds = atof(optarg);
			break;
		case O_HOSTS:
			g->hosts = atoi(optarg);
			break;
		case O_FIRST:
			g->first = atoi(optarg);
			break;
		case O_VMS:
			g->vms = atoi(optarg);
			break;
		case O_PER_VM:
			g->per_vm = 1;
			break;
		case O_CONNS:
			g->nconns = atoi(optarg);
			break;
		case O_SUBSCRIBE:
			g->filter = optarg;
			break;
		case O_PARSE:
			g->parse = 1;
			break;
		case O_SKIP_RETAINED:
			g->skip_retained = 1;
			break;
		case O_TRACE_LAG:
			g->trace_lag_ms = strtoll(optarg, NULL, 10);
			break;
		case O_INTERVAL:
			g->interval_ms = strtoll(optarg, NULL, 10);
			break;
		case O_RECORDS:
			g->records = 1;
			break;
		default:
			usage();
		}
	}
	if (!g->broker || g->start_ms <= 0 || skip < 0 || !(seconds > 0) || g->hosts < 0 ||
	    g->first < 0 || g->first + g->hosts > 99999 || g->vms < 0 || g->vms > 999 ||
	    g->nconns < 1 || g->nconns > MAX_CONNS || g->trace_lag_ms < 0 || g->interval_ms < 100 ||
	    g->interval_ms > 60000 || optind != argc)
		usage();
	g->end_ms = g->start_ms + (int64_t)(seconds * 1000);
	g->win_start_ms = g->start_ms + skip;
	g->win_ms = g->end_ms - g->win_start_ms;
	if (g->win_ms <= 0)
		usage();
}

static double lg_percentile(const struct lg *g, double p)
{
	uint64_t want = (uint64_t)(p * (double)g->recv_win), n = 0;
	if (g->recv_win == 0)
		return 0;
	for (size_t i = 0; i < LAG_BUCKETS; i++) {
		n += g->lag[i];
		if (n > want)
			return (double)i;
	}
	return LAG_BUCKETS - 1;
}

int main(int argc, char **argv)
{
	static struct lg g; /* the lag histogram is large */
	char err[VMC_ERR_MAX], id[96], filter[VMC_TOPIC_MAX];
	lg_options(&g, argc, argv);
	log_init("bench_loadgen", LOG_LVL_WARN);
	lg_build(&g);
	g.loop = evloop_new();
	for (int i = 0; i < g.nconns; i++) {
		snprintf(id, sizeof id, "loadgen-%s-%ld-%d", g.cluster, (long)getpid(), i);
		struct bus_opts o = {.url = g.broker,
		                     .client_id = id,
		                     .keepalive = 30,
		                     .on_message = lg_message,
		                     .on_connect = lg_connect,
		                     .ud = &g};
		g.conns[i] = bus_new(g.loop, &o, err, sizeof err);
		if (!g.conns[i]) {
			fprintf(stderr, "bench_loadgen: %s\n", err);
			return 1;
		}
		if (g.filter) {
			topic_fmt(filter, sizeof filter, g.cluster, "%s", g.filter);
			bus_subscribe(g.conns[i], filter, 0);
		}
		bus_start(g.conns[i]);
	}
	evloop_add_timer(g.loop, TICK_MS, lg_tick, &g);
	evloop_run(g.loop);

	int connected = 0;
	for (int i = 0; i < g.nconns; i++) {
		connected += bus_connected(g.conns[i]);
		bus_disconnect(g.conns[i]);
		bus_free(g.conns[i]);
	}
	evloop_free(g.loop);
	double w = (double)g.win_ms / 1000;
	printf("hosts=%d conns=%d connected=%d sent_per_s=%.1f not_sent=%llu late=%llu "
	       "recv_per_s=%.1f "
	       "bytes_per_s=%.0f lag_p50_ms=%.0f lag_p99_ms=%.0f lag_max_ms=%lld retained=%llu "
	       "reconnects=%llu cpu_pct=%.1f\n",
	       g.hosts, g.nconns, connected, (double)g.sent_win / w, (unsigned long long)g.not_sent,
	       (unsigned long long)g.late, (double)g.recv_win / w, (double)g.bytes_win / w,
	       lg_percentile(&g, 0.5), lg_percentile(&g, 0.99), (long long)g.lag_max,
	       (unsigned long long)g.retained_win,
	       (unsigned long long)(g.connects > (uint64_t)g.nconns
	                                ? g.connects - (uint64_t)g.nconns
	                                : 0),
	       (g.cpu1 - g.cpu0) / w * 100);
	for (size_t i = 0; i < g.nmsgs; i++)
		free(g.msgs[i].suffix);
	free(g.msgs);
	free(g.buf);
	return connected == g.nconns ? 0 : 1;
}
