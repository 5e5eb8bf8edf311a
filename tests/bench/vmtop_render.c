/* vmtop_render.c - what vmtop-cluster costs at 1,000 hosts x 20 VMs (20,000 VMs): taking
 * in the cluster's messages, drawing frames, and answering keys. Frames are drawn with
 * ncurses to an off-screen terminal (200x60 on /dev/null), the VMs view sorted by CPU.
 *
 * Prints, in ms of CPU time (median of the rounds unless said):
 *   start    the retained picture (every host's state and load, every VM's record)
 *            taken into an empty model, then the first frame: the console's share of
 *            "the full picture after start"
 *   round    all 1,000 hosts' loads applied (a whole publish interval's worth), then a frame
 *   one      one host's load applied, then a frame rebuilt (re-sorted)
 *   frame    a frame alone: rebuilt (the periodic frame: rows collected, filtered,
 *            sorted), and with its rows kept (what a key press redraws)
 *   keys     a filter typed one key at a time and erased again (each key: the filter set
 *            and a frame, as the console does): plain text, and a regular expression;
 *            the slowest key and the median
 *   ingest   load messages (and the VMs in them) taken in per second of CPU, frames aside
 *   idle     the console at rest, in % of a core: every host publishing its load every
 *            2 s and a frame every 2 s (-d 2) or 5 s (-d 5), the loads taken as
 *            vmtop-cluster takes them (kept as they come, each host's latest applied at
 *            the frame: cluster_model_defer), beside each load applied as it comes. The
 *            bus's share (socket reads, wake-ups) comes on top: tests/bench/vmtop_live
 *            measures the console on a live bus
 *   parse    cJSON parsing alone of the round's messages (the codec's share of a round)
 *   batch    one -b snapshot (hosts and VMs as text, to /dev/null), and what one every 2 s
 *            (-d 2) costs in % of a core
 *   key wait the longest a key can wait at -d 2 with every host's load every 2 s: the
 *            longest step of the periodic frame it may come behind (the frame applies the
 *            loads kept VMTOP_FLUSH_SLICE at a time, answering keys between two slices,
 *            then the rest with the rows rebuilt and drawn), and then its own frame (the
 *            slowest filter key); beside it, what it was when the frame applied every
 *            host's load before answering (the "round" figure)
 * and the memory: RSS with the model loaded, and the peak.
 * Usage: vmtop_render [HOSTS [VMS_PER_HOST [ROUNDS]]] */
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "../../console/vmtop/app.h"
#include "../../console/vmtop/vmtop.h"
#include "../../lib/cluster/cluster_model.h"
#include "loadmsg.h"

/* CPU time of this process: what the console costs, whatever else the machine runs. */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* Host h's load message in round r, as vmc-hostd publishes it (loadmsg.h); the VMs' CPU
 * figures change every round. */
static char *load_msg(int h, int nvms, int r, size_t *len)
{
	char host[16];
	snprintf(host, sizeof(host), "h%04d", h);
	cJSON *m = loadmsg_build(host, nvms, (uint64_t)r + 1, 1700000000000LL + r * 2000LL);
	char *s = msg_print(m);
	cJSON_Delete(m);
	*len = strlen(s);
	return s;
}

/* Host h's retained state message. */
static char *state_msg(int h, size_t *len)
{
	char *s = malloc(256);
	if (!s)
		abort();
	snprintf(s, 256,
	         "{\"v\":1,\"from\":\"host/h%04d\",\"ts\":1700000000000,\"state\":\"online\","
	         "\"session\":1,\"driver\":\"sim\",\"cpus\":32,\"mem_total_mb\":262144,"
	         "\"version\":\"sim 1\"}",
	         h);
	*len = strlen(s);
	return s;
}

/* VM v of host h's retained record. */
static int vm_record(int h, int v, char *buf, size_t cap)
{
	return snprintf(buf, cap,
	                "{\"v\":1,\"from\":\"host/h%04d\",\"ts\":1700000000000,\"name\":"
	                "\"h%04d-vm%03d\",\"host\":\"h%04d\",\"state\":\"running\",\"vcpus\":2,"
	                "\"mem_mb\":1024,\"cpu\":0,\"tags\":[]}",
	                h, h, v + 1, h);
}

static void apply_or_die(struct cluster_model *m, const char *topic, const char *msg, size_t len,
                         int retained, int64_t wall)
{
	char err[VMC_ERR_MAX];
	if (cluster_model_apply(m, topic, msg, len, retained, wall, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmtop_render: %s: %s\n", topic, err);
		exit(1);
	}
}

/* The console's screen: model, UI state, the off-screen terminal. */
struct console {
	struct cluster_model *m;
	struct ui ui;
	struct screen sc;
	struct draw_info di;
	int64_t wall;
};

static void frame(struct console *c, int fresh)
{
	struct view_env e = {c->m, c->wall, &c->ui.marks, NULL};
	views_update(&c->ui, &e, fresh);
	draw_frame(&c->sc, &c->ui, &e, &c->di);
}

/* The idle console's CPU in % of a core (median of rounds): each host's load every 2 s,
 * a frame every delay_s; deferred: the loads kept and applied at the frame. */
static double idle_pct(struct console *c, char ***msgs, size_t **lens, int hosts, int delay_s,
                       int deferred, int rounds)
{
	char topic[64], err[VMC_ERR_MAX + VMC_NAME_MAX + 24];
	double *t = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		double a = now_ms();
		for (int i = 0; i < hosts * delay_s / 2; i++) {
			int h = i % hosts, k = (i / hosts + r) % 2;
			snprintf(topic, sizeof(topic), "host/h%04d/load", h);
			int rc = deferred ? cluster_model_defer(c->m, topic, msgs[k][h], lens[k][h],
			                                        0, c->wall, err, sizeof(err))
			                  : cluster_model_apply(c->m, topic, msgs[k][h], lens[k][h],
			                                        0, c->wall, err, sizeof(err));
			if (rc < 0) {
				fprintf(stderr, "vmtop_render: %s: %s\n", topic, err);
				exit(1);
			}
		}
		if (cluster_model_flush(c->m, err, sizeof(err)) > 0) {
			fprintf(stderr, "vmtop_render: %s\n", err);
			exit(1);
		}
		frame(c, 1);
		t[r] = now_ms() - a;
		c->wall += delay_s * 1000;
	}
	double pct = median(t, rounds) / (delay_s * 1000.0) * 100.0;
	free(t);
	return pct;
}

/* The longest step of a periodic frame (ms of CPU, the slowest of the rounds): every
 * host's load kept (cluster_model_defer), then applied VMTOP_FLUSH_SLICE at a time, the
 * rest with the frame, as vmtop-cluster's frame timer does. */
static double frame_step(struct console *c, char ***msgs, size_t **lens, int hosts, int rounds)
{
	char topic[64], err[VMC_ERR_MAX + VMC_NAME_MAX + 24];
	double worst = 0;
	for (int r = 0; r < rounds; r++) {
		for (int h = 0; h < hosts; h++) {
			snprintf(topic, sizeof(topic), "host/h%04d/load", h);
			cluster_model_defer(c->m, topic, msgs[r % 2][h], lens[r % 2][h], 0, c->wall,
			                    err, sizeof(err));
		}
		size_t left = cluster_model_pending(c->m);
		for (; left > VMTOP_FLUSH_SLICE; left -= VMTOP_FLUSH_SLICE) {
			double a = now_ms();
			cluster_model_flush_some(c->m, VMTOP_FLUSH_SLICE);
			double d = now_ms() - a;
			worst = d > worst ? d : worst;
		}
		double a = now_ms();
		cluster_model_flush(c->m, err, sizeof(err));
		cluster_model_tick(c->m, c->wall);
		frame(c, 1);
		double d = now_ms() - a;
		worst = d > worst ? d : worst;
		c->wall += 2000;
	}
	return worst;
}

/* One key of a filter being typed: the key acts on the rows on screen, sets the
 * filter, and the frame that follows shows it (as vmtop-cluster's on_stdin). */
static double filter_key(struct console *c, const char *text)
{
	char err[256];
	struct view_env e = {c->m, c->wall, &c->ui.marks, NULL};
	double t0 = now_ms();
	views_update(&c->ui, &e, 0);
	filter_set(&c->ui.filter, text, err, sizeof(err)); /* live, while it compiles */
	frame(c, 0);
	return now_ms() - t0;
}

/* Types text one key at a time and erases it again; prints the slowest key, the median
 * and the rows shown when it was all typed. Returns the slowest key's ms. */
static double filter_typed(struct console *c, const char *label, const char *text)
{
	size_t n = strlen(text);
	double t[2 * 256];
	char buf[256];
	int k = 0;
	size_t shown = 0;
	for (size_t i = 1; i <= n && i < sizeof(buf); i++) {
		snprintf(buf, sizeof(buf), "%.*s", (int)i, text);
		t[k++] = filter_key(c, buf);
		shown = c->ui.nrows;
	}
	for (size_t i = n; i-- > 0;) {
		snprintf(buf, sizeof(buf), "%.*s", (int)i, text);
		t[k++] = filter_key(c, buf);
	}
	double worst = 0;
	for (int i = 0; i < k; i++)
		worst = t[i] > worst ? t[i] : worst;
	printf("  filter %-9s /%s/ typed and erased: slowest key %6.2f ms, median %5.2f ms "
	       "(%zu rows match)\n",
	       label, text, worst, median(t, k), shown);
	return worst;
}

/* One -b snapshot (text, hosts and VMs) of the model to /dev/null, in ms of CPU. */
static double batch_snapshot(struct cluster_model *m, FILE *devnull)
{
	struct vmtop t;
	memset(&t, 0, sizeof(t));
	t.model = m;
	t.o.cluster = "bench";
	t.o.broker = "mqtt://127.0.0.1:1883";
	t.o.fmt = BATCH_TEXT;
	t.connected = 1;
	t.synced = 1;
	ui_init(&t.ui);
	double a = now_ms();
	batch_print(&t, devnull);
	double b = now_ms();
	ui_free(&t.ui);
	return b - a;
}

static long rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * 4;
}

int main(int argc, char **argv)
{
	int hosts = argc > 1 ? atoi(argv[1]) : 1000;
	int per = argc > 2 ? atoi(argv[2]) : 20;
	int rounds = argc > 3 ? atoi(argv[3]) : 20;
	if (hosts < 1 || hosts > 9999 || per < 0 || per > 99 || rounds < 1) {
		fprintf(stderr, "usage: vmtop_render [HOSTS (1-9999) [VMS_PER_HOST (0-99) "
		                "[ROUNDS]]]\n");
		return 2;
	}

	/* messages are made up front: the bench times the console, not the generator */
	char ***msgs = calloc(2, sizeof(*msgs));
	size_t **lens = calloc(2, sizeof(*lens));
	for (int k = 0; k < 2; k++) {
		msgs[k] = calloc((size_t)hosts, sizeof(char *));
		lens[k] = calloc((size_t)hosts, sizeof(size_t));
		for (int h = 0; h < hosts; h++)
			msgs[k][h] = load_msg(h, per, k, &lens[k][h]);
	}
	char **states = calloc((size_t)hosts, sizeof(char *));
	size_t *state_lens = calloc((size_t)hosts, sizeof(size_t));
	for (int h = 0; h < hosts; h++)
		states[h] = state_msg(h, &state_lens[h]);

	/* as on a terminal: the console takes the locale's, UTF-8 nowadays (the regex
	 * engine is slower in it) */
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "");
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	setenv("LINES", "60", 1);
	setenv("COLUMNS", "200", 1);
	use_env(TRUE);
	SCREEN *scr = out && in ? newterm("xterm-256color", out, in) : NULL;
	if (!scr)
		scr = out && in ? newterm("vt100", out, in) : NULL;
	if (!scr) {
		fprintf(stderr, "vmtop_render: cannot open an off-screen terminal\n");
		return 1;
	}
	set_term(scr);
	resizeterm(60, 200);

	char err[VMC_ERR_MAX], topic[64], rec[512];
	const char *help[] = {"help"};
	struct console c = {.m = cluster_model_new(0),
	                    .di = {"bench", "mqtt://127.0.0.1:1883", 1, 0, help, 1},
	                    .wall = 1700000000000LL};
	ui_init(&c.ui);
	draw_init(&c.sc, 0);
	ui_set_view(&c.ui, VIEW_VMS, NULL);
	ui_sort_by(&c.ui, "cpu", err, sizeof(err));

	/* start: what the broker hands a new subscriber, in the order it subscribes */
	double t0 = now_ms();
	for (int h = 0; h < hosts; h++) {
		snprintf(topic, sizeof(topic), "host/h%04d/state", h);
		apply_or_die(c.m, topic, states[h], state_lens[h], 1, c.wall);
	}
	for (int h = 0; h < hosts; h++) {
		snprintf(topic, sizeof(topic), "host/h%04d/load", h);
		apply_or_die(c.m, topic, msgs[0][h], lens[0][h], 1, c.wall);
	}
	for (int h = 0; h < hosts; h++)
		for (int v = 0; v < per; v++) {
			int n = vm_record(h, v, rec, sizeof(rec));
			snprintf(topic, sizeof(topic), "host/h%04d/vm/h%04d-vm%03d", h, h, v + 1);
			apply_or_die(c.m, topic, rec, (size_t)n, 1, c.wall);
		}
	frame(&c, 1);
	double t_start = now_ms() - t0;
	size_t nstart = (size_t)hosts * (2 + (size_t)per);

	double *t_round = calloc((size_t)rounds, sizeof(double));
	double *t_one = calloc((size_t)rounds, sizeof(double));
	double *t_frame = calloc((size_t)rounds, sizeof(double));
	double *t_kept = calloc((size_t)rounds, sizeof(double));
	double *t_ingest = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		double a = now_ms();
		for (int h = 0; h < hosts; h++) {
			snprintf(topic, sizeof(topic), "host/h%04d/load", h);
			apply_or_die(c.m, topic, msgs[(r + 1) % 2][h], lens[(r + 1) % 2][h], 0,
			             c.wall);
		}
		double b = now_ms();
		frame(&c, 1);
		double t1 = now_ms();

		snprintf(topic, sizeof(topic), "host/h%04d/load", r % hosts);
		apply_or_die(c.m, topic, msgs[r % 2][r % hosts], lens[r % 2][r % hosts], 0,
		             c.wall + 100);
		frame(&c, 1);
		double t2 = now_ms();

		struct view_env e = {c.m, c.wall, &c.ui.marks, NULL};
		views_build(&c.ui, &e);
		draw_frame(&c.sc, &c.ui, &e, &c.di);
		double t3 = now_ms();
		frame(&c, 0);
		double t4 = now_ms();
		t_ingest[r] = b - a;
		t_round[r] = t1 - a;
		t_one[r] = t2 - t1;
		t_frame[r] = t3 - t2;
		t_kept[r] = t4 - t3;
		c.wall += 2000;
	}
	size_t nvms = cluster_model_vm_count(c.m);
	long rss = rss_kb();
	double ingest = median(t_ingest, rounds);

	printf("vmtop_render: %d hosts, %zu VMs, 200x60 frame, CPU ms, median of %d rounds\n",
	       hosts, nvms, rounds);
	printf("  start (%zu retained + frame): %8.2f ms\n", nstart, t_start);
	printf("  round (all %d loads + frame): %8.2f ms\n", hosts, median(t_round, rounds));
	printf("  one load + frame:             %8.2f ms (target <= 16)\n", median(t_one, rounds));
	printf("  frame rebuilt (periodic):     %8.2f ms\n", median(t_frame, rounds));
	printf("  frame, rows kept (a key):     %8.2f ms\n", median(t_kept, rounds));
	double slowest = filter_typed(&c, "plain", "h0123-vm01");
	double k2 = filter_typed(&c, "regex", "^h0.*vm01");
	double k3 = filter_typed(&c, "inverted", "!vm01");
	slowest = k2 > slowest ? k2 : slowest;
	slowest = k3 > slowest ? k3 : slowest;
	double round_worst = 0;
	for (int r = 0; r < rounds; r++)
		round_worst = t_round[r] > round_worst ? t_round[r] : round_worst;
	double step = frame_step(&c, msgs, lens, hosts, rounds);
	printf("  key wait at -d 2: a step of the periodic frame (slowest %.2f ms) then the "
	       "key's (slowest %.2f ms): %.2f ms at most (target <= 50; behind the whole frame "
	       "it was %.2f)\n",
	       step, slowest, step + slowest, round_worst + slowest);
	/* 200 loads a second: 1,000 hosts publishing every 5 s */
	printf("  ingest: %.0f loads (%.0f VMs) per s of CPU; 200 loads/s take %.2f %% of a core\n",
	       ingest > 0 ? hosts * 1000.0 / ingest : 0, ingest > 0 ? nvms * 1000.0 / ingest : 0,
	       200.0 * ingest / hosts / 10.0);

	printf("  idle, each host's load every 2 s: -d 2 %.2f %% of a core (%.2f %% parsing "
	       "each load as it comes), -d 5 %.2f %% (%.2f %%)\n",
	       idle_pct(&c, msgs, lens, hosts, 2, 1, rounds),
	       idle_pct(&c, msgs, lens, hosts, 2, 0, rounds),
	       idle_pct(&c, msgs, lens, hosts, 5, 1, rounds),
	       idle_pct(&c, msgs, lens, hosts, 5, 0, rounds));

	double *t_parse = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		double a = now_ms();
		for (int h = 0; h < hosts; h++)
			cJSON_Delete(cJSON_ParseWithLength(msgs[r % 2][h], lens[r % 2][h]));
		t_parse[r] = now_ms() - a;
	}
	printf("  parse alone (cJSON, %d loads): %7.2f ms\n", hosts, median(t_parse, rounds));

	double *t_batch = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++)
		t_batch[r] = batch_snapshot(c.m, out);
	double batch_ms = median(t_batch, rounds);
	printf(
	    "  batch snapshot (-b, text, %zu rows): %7.2f ms; one every 2 s: %.2f %% of a core\n",
	    nvms + (size_t)hosts, batch_ms, batch_ms / 2000.0 * 100.0);

	endwin();
	delscreen(scr);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("  RSS with the model loaded:    %8.1f MB (peak %.1f MB)\n", rss / 1024.0,
	       ru.ru_maxrss / 1024.0);

	ui_free(&c.ui);
	cluster_model_free(c.m);
	for (int k = 0; k < 2; k++) {
		for (int h = 0; h < hosts; h++)
			free(msgs[k][h]);
		free(msgs[k]);
		free(lens[k]);
	}
	for (int h = 0; h < hosts; h++)
		free(states[h]);
	free(states);
	free(state_lens);
	free(msgs);
	free(lens);
	free(t_round);
	free(t_one);
	free(t_frame);
	free(t_kept);
	free(t_ingest);
	free(t_parse);
	free(t_batch);
	fclose(out);
	fclose(in);
	return 0;
}
