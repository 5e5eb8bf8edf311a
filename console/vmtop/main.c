/* vmtop-cluster - xentop for a whole cluster, with actions. See vmtop-cluster(1).
 *
 * One poll loop (lib/evloop) holds the MQTT socket and the keyboard: bus messages
 * update the model as they come (sampling), frames are drawn on a timer or after a
 * key (drawing), and nothing waits on the network. With -b it prints snapshots
 * instead of drawing. Hosts' loads, the bulk of the traffic, are only kept as they
 * come (cluster_model_defer) and applied when a periodic frame or snapshot is due, so
 * each host's load is parsed at most once a frame (a slice at a time, keys answered
 * between two slices); a key redraws the rows on screen from the model as it is (the last
 * periodic frame, or part of the next one's loads). Once the retained picture is in, the
 * bus is read in batches (VMTOP_READ_BATCH_MS): one wake-up for tens of loads. */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../lib/bus/bus.h"
#include "../../lib/config/cliopts.h"
#include "../../lib/config/conf.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/core/sigloop.h"
#include "../../lib/bus/topic.h"
#include "app.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NO_BROKER = 3, EXIT_INCOMPLETE = 6 };

/* One load interval of the host agents (2 s by default) and a margin: every host's
 * periodic load has come by then. */
#define VMTOP_LOAD_WAIT_MS 2500
/* Once the retained picture is in, the bus is read this often at most (each time all that
 * came meanwhile, bus_set_read_batch): the hosts' loads, coming one by one, are only shown
 * at the next frame, and a wake-up for each costs more than reading them. */
#define VMTOP_READ_BATCH_MS 50

static volatile sig_atomic_t got_signal, got_winch;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void on_winch(int sig)
{
	got_winch = 1;
}

/* --- the bus ----------------------------------------------------------------------- */

static void on_connect(struct bus *b, void *ud)
{
	struct vmtop *t = ud;
	t->connected = 1;
	t->redraw = 1;
	bus_set_read_batch(b, 0); /* the retained messages as fast as they come */
	/* Our own marker comes back after the retained messages of our subscriptions:
	 * then the picture is as complete as the broker can make it. */
	cJSON *m = msg_new(t->sender, evloop_wall_ms());
	bus_publish_json(b, t->sync_topic, m, 1, 0);
	cJSON_Delete(m);
}

static void on_disconnect(struct bus *b, void *ud)
{
	struct vmtop *t = ud;
	t->connected = 0;
	t->redraw = 1;
}

static void on_message(struct bus *b, const struct bus_msg *m, void *ud)
{
	struct vmtop *t = ud;
	char err[VMC_ERR_MAX] = "";
	const char *rest = topic_rest(m->topic, t->o.cluster);
	if (!rest)
		return;
	if (!strcmp(m->topic, t->sync_topic)) {
		if (!t->synced) {
			t->synced = 1;
			t->sync_ms = evloop_mono_ms();
			t->sync_hosts = t->retained_hosts;
			t->redraw = 1;
			t->flush_due = 1; /* the retained picture, at once */
		}
		bus_set_read_batch(b, VMTOP_READ_BATCH_MS);
		return;
	}
	if (!strncmp(rest, "reply/", 6)) {
		actions_on_reply(t->act, m->payload, m->len);
		return;
	}
	if (m->retain && !strncmp(rest, "host/", 5))
		t->retained_hosts++;
	if (cluster_model_defer(t->model, rest, m->payload, m->len, m->retain, evloop_wall_ms(),
	                        err, sizeof(err)) < 0)
		log_debug("%s: %s", m->topic, err);
}

/* Applies the hosts' loads kept since the last frame. */
static void model_flush(struct vmtop *t)
{
	char err[VMC_ERR_MAX + VMC_NAME_MAX + 24] = "";
	int bad = cluster_model_flush(t->model, err, sizeof(err));
	if (bad)
		log_debug("%d bad load message%s, the first: %s", bad, bad == 1 ? "" : "s", err);
	t->flush_due = 0;
}

/* --- the screen --------------------------------------------------------------------- */

/* Draws a frame. fresh: re-sorts and re-filters the rows by the model's latest figures
 * (the periodic frame); else only what the keys changed is redone (views_update). */
static void frame(struct vmtop *t, int fresh)
{
	struct view_env e = vmtop_env(t);
	struct draw_info di = {t->o.cluster,    t->o.broker, t->connected,
	                       t->ui.read_only, t->help,     t->nhelp};
	if (fresh || t->flush_due)
		model_flush(t);
	views_update(&t->ui, &e, fresh);
	draw_frame(&t->scr, &t->ui, &e, &di);
	t->redraw = 0;
}

static void resize(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	else
		resizeterm(LINES, COLS);
	clearok(curscr, TRUE);
}

static void on_stdin(struct evloop *loop, int fd, int events, void *ud)
{
	struct vmtop *t = ud;
	static const int max_idle = 50; /* wake-ups without a key: the terminal is gone */
	int ch, n = 0;
	while ((ch = getch()) != ERR) {
		n++;
		if (ch == KEY_RESIZE) {
			got_winch = 1;
			continue;
		}
		/* each key acts on the rows on screen, as the previous key left them (view,
		 * filter, sort): rebuilt only if those changed or hosts or VMs came or went */
		struct view_env e = vmtop_env(t);
		views_update(&t->ui, &e, 0);
		keys_handle(t, ch);
	}
	if (n) {
		t->redraw = 1;
		t->ui_idle = 0;
	} else if (++t->ui_idle > max_idle) {
		t->quit = 1;
	}
}

/* Before each poll: signals, quitting, and the frames that are due at once. */
static void before_poll(struct evloop *loop, void *ud)
{
	struct vmtop *t = ud;
	if (got_signal)
		t->quit = 1;
	if (t->quit) {
		evloop_stop(loop);
		return;
	}
	if (t->curses && got_winch) {
		got_winch = 0;
		resize();
		t->redraw = 1;
	}
	if (t->curses && t->redraw)
		frame(t, 0);
}

static long on_frame_timer(struct evloop *loop, long long id, void *ud)
{
	struct vmtop *t = ud;
	/* the loads kept since the last frame, VMTOP_FLUSH_SLICE at a time, the keys that
	 * came meanwhile answered between two slices; the rest (and what came while
	 * slicing) with the frame */
	if (!t->slicing) {
		t->slicing = 1;
		t->flush_left = cluster_model_pending(t->model);
	}
	if (t->flush_left > VMTOP_FLUSH_SLICE) {
		size_t kept = cluster_model_flush_some(t->model, VMTOP_FLUSH_SLICE);
		t->flush_left -= VMTOP_FLUSH_SLICE;
		if (t->flush_left > kept) /* a message had them applied meanwhile */
			t->flush_left = kept;
		return 0;
	}
	t->slicing = 0;
	model_flush(t);
	cluster_model_tick(t->model, evloop_wall_ms());
	history_sample(t->hist, t->model, evloop_wall_ms());
	marks_prune(&t->ui.marks, t->model);
	frame(t, 1);
	if (t->o.iterations && ++t->printed >= t->o.iterations)
		t->quit = 1;
	return (long)(t->o.delay_s * 1000);
}

static int run_screen(struct vmtop *t)
{
	int saved_err = dup(STDERR_FILENO);
	int logfd = open(t->o.log_file ? t->o.log_file : "/dev/null",
	                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		fprintf(stderr, "vmtop-cluster: log file %s: %s\n", t->o.log_file, strerror(errno));
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "vmtop-cluster: not a terminal; use -b for batch output\n");
		close(logfd);
		return EXIT_USAGE;
	}
	setlocale(LC_ALL, "");
	if (!initscr()) {
		fprintf(stderr, "vmtop-cluster: cannot initialise the terminal\n");
		close(logfd);
		return EXIT_FAIL;
	}
	dup2(logfd, STDERR_FILENO); /* the bus's warnings must not scribble on the screen */
	close(logfd);
	t->curses = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	draw_init(&t->scr, t->o.mono);
	mouse_init();

	sigloop_install(on_winch, (const int[]){SIGWINCH, 0});

	evloop_add_fd(t->loop, STDIN_FILENO, EV_READ, on_stdin, t);
	evloop_add_timer(t->loop, (long)(t->o.delay_s * 1000), on_frame_timer, t);
	frame(t, 1);
	evloop_run(t->loop);

	endwin();
	t->curses = 0;
	if (saved_err >= 0) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
	return EXIT_OK;
}

/* --- batch -------------------------------------------------------------------------- */

static long on_batch_timer(struct evloop *loop, long long id, void *ud)
{
	struct vmtop *t = ud;
	int64_t now = evloop_mono_ms();
	long delay = (long)(t->o.delay_s * 1000);
	model_flush(t);
	cluster_model_tick(t->model, evloop_wall_ms());
	if (!t->printed) {
		/* the first snapshot: once the retained messages are in, or, if there were
		 * none (a clustered broker keeps them on one node, RabbitMQ gives none to
		 * wildcard subscriptions), after one delay of live loads; without a broker,
		 * after the timeout */
		long wait = delay > VMTOP_LOAD_WAIT_MS ? delay : VMTOP_LOAD_WAIT_MS;
		char names[512];
		size_t total, missing = batch_missing(t->model, &total, names, sizeof(names));
		/* and every host whose state says it is up has sent its load (a backlogged
		 * broker may hold them back), for up to the timeout or, with --wait-complete,
		 * as long as it takes */
		int ready = t->synced && (t->sync_hosts || now - t->sync_ms >= wait) && !missing;
		int waited =
		    !t->o.wait_complete && now - t->start_ms >= (int64_t)(t->o.timeout_s * 1000);
		if (t->o.wait_complete && t->synced && missing && !t->wait_noted) {
			fprintf(stderr,
			        "vmtop-cluster: waiting for %zu of %zu host%s to report: %s\n",
			        missing, total, total == 1 ? "" : "s", names);
			t->wait_noted = 1;
		}
		if (!ready && !waited && !t->bus_final)
			return 50;
		if (!ready && !bus_connected(t->bus)) { /* never reached: no empty snapshot */
			t->quit = 1;
			return -1;
		}
	}
	batch_print(t, stdout);
	t->printed++;
	if (ferror(stdout) || (t->o.iterations && t->printed >= t->o.iterations)) {
		t->quit = 1;
		return -1;
	}
	return delay;
}

static int run_batch(struct vmtop *t)
{
	evloop_add_timer(t->loop, 50, on_batch_timer, t);
	evloop_run(t->loop);
	if (!t->printed && !got_signal)
		fprintf(stderr, "vmtop-cluster: no snapshot: %s\n",
		        t->bus_why[0] ? t->bus_why : "the broker did not answer in time");
	if (!t->printed)
		return EXIT_NO_BROKER;
	return t->incomplete ? EXIT_INCOMPLETE : EXIT_OK;
}

/* --- options ------------------------------------------------------------------------ */

#define OPT(name, kind, field, min, max, help)                                                     \
	{                                                                                          \
		name, kind, offsetof(struct vmtop_opts, field), min, max, help                     \
	}

/* One table serves the command line (--NAME) and -c FILE (NAME = VALUE). */
static const struct cliopts_def opt_defs[] = {
    OPT("broker", CLIOPTS_LIST, broker_list, 0, 0, "broker URL(s), default mqtt://127.0.0.1:1883"),
    OPT("cluster", CLIOPTS_STR, cluster, 0, 0, "cluster name (default default)"),
    OPT("batch", CLIOPTS_FLAG, batch, 0, 0, "-b: print snapshots to stdout, no screen"),
    OPT("json", CLIOPTS_FLAG, json, 0, 0, "batch output as one JSON object a line"),
    OPT("csv", CLIOPTS_FLAG, csv, 0, 0, "batch output as CSV"),
    OPT("delay", CLIOPTS_NUM, delay_s, 0.1, 3600, "-d: seconds between frames (default 2)"),
    OPT("iterations", CLIOPTS_INT, iterations, 1, 2147483647, "-i: stop after N frames"),
    OPT("wait-complete", CLIOPTS_FLAG, wait_complete, 0, 0,
        "-b: wait until every host has reported, however long"),
    OPT("read-only", CLIOPTS_FLAG, read_only, 0, 0, "no actions"),
    OPT("view", CLIOPTS_STR, view, 0, 0, "hosts, vms, events or plan"),
    OPT("filter", CLIOPTS_STR, filter, 0, 0, "initial filter (regular expression)"),
    OPT("sort", CLIOPTS_STR, sort, 0, 0, "initial sort column"),
    OPT("mono", CLIOPTS_FLAG, mono, 0, 0, "no colours"),
    OPT("timeout", CLIOPTS_NUM, timeout_s, 0.1, 3600, "seconds to wait for a reply (10)"),
    BUSCONN_CLIOPTS(struct vmtop_opts, conn),
    OPT("log", CLIOPTS_STR, log_file, 0, 0, "file for warnings while the screen is up"),
};
#define NOPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: vmtop-cluster [options]        the console\n"
	           "       vmtop-cluster -b [options]     snapshots on stdout\n"
	           "  -b, -d SECONDS, -i N  are --batch, --delay SECONDS, --iterations N\n"
	           "  keys and commands: press ? in the console; see vmtop-cluster(1)\n");
	cliopts_usage(f, "vmtop-cluster", opt_defs, NOPTS);
}

/* Checks what the settings say together. Returns 0, or EXIT_USAGE after saying why. */
static int check_opts(struct vmtop_opts *o, const struct conf *conf)
{
	o->broker = o->broker_list.text;
	o->fmt = o->json ? BATCH_JSON : o->csv ? BATCH_CSV : BATCH_TEXT;
	o->batch |= o->json || o->csv;
	if (busconn_check(o->cluster, o->broker, conf, "vmtop-cluster") < 0)
		return EXIT_USAGE;
	const struct view *vw = o->view ? view_find(o->view) : NULL;
	if (o->view && (!vw || vw->id == VIEW_HOST_VMS)) {
		fprintf(stderr, "vmtop-cluster: view \"%s\": expected hosts, vms, events or plan\n",
		        o->view);
		return EXIT_USAGE;
	}
	if (o->batch && vw && vw->id == VIEW_PLAN) {
		fprintf(stderr, "vmtop-cluster: view plan is for the screen; batch prints hosts, "
		                "vms or events\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* -c FILE first, then the command line over it. Returns 0, -1 after --help or -n, or an
 * exit status. */
static int parse_args(struct vmtop_opts *o, int argc, char **argv, struct conf **conf)
{
	static const struct cliopts_short shorts[] = {
	    {'b', "batch"}, {'d', "delay"}, {'i', "iterations"}, {0, NULL}};
	static const struct cliopts_prog prog = {.name = "vmtop-cluster",
	                                         .defs = opt_defs,
	                                         .n = NOPTS,
	                                         .usage = usage,
	                                         .shorts = shorts};
	int check_only = 0;
	int rc = cliopts_parse_prog(o, &prog, argc, argv, &check_only, conf);
	if (rc != 0)
		return rc > 0 ? -1 : EXIT_USAGE;
	rc = check_opts(o, *conf);
	return rc == 0 && check_only ? -1 : rc; /* -n: the settings are fine; stop here */
}

/* Applies --filter, --sort and --view to the UI. Returns 0, or -1 (message printed). */
static int ui_setup(struct vmtop *t)
{
	char err[256];
	t->ui.read_only = t->o.read_only;
	if (t->o.filter && filter_set(&t->ui.filter, t->o.filter, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmtop-cluster: --%s\n", err);
		return -1;
	}
	if (t->o.view)
		ui_set_view(&t->ui, view_find(t->o.view)->id, NULL);
	if (t->o.sort) {
		/* the sort applies to the first view, and in batch to every view having it */
		int any = 0;
		for (size_t v = 0; v < VIEW__COUNT; v++) {
			int col = column_find(views[v].cols, *views[v].ncols, t->o.sort);
			if (col < 0)
				continue;
			t->ui.sort[v].col = col;
			t->ui.sort[v].desc = (views[v].cols[col].flags & COL_DESC) != 0;
			any = 1;
		}
		if (!any) {
			fprintf(stderr, "vmtop-cluster: --sort \"%s\": no such column\n",
			        t->o.sort);
			return -1;
		}
	}
	keys_help(&t->help, &t->nhelp, t->o.read_only);
	cmdline_help(&t->help, &t->nhelp, t->o.read_only);
	return 0;
}

/* A failed connection attempt: remembered for batch output, which stops on one that retrying
 * will not cure (a closed connection may be a broker of the other MQTT version: once more). */
static void on_connect_failed(struct bus *b, enum bus_fail kind, const char *why, void *ud)
{
	struct vmtop *t = ud;
	int again = kind == BUS_FAIL_CLOSED && t->o.conn.protocol == 0 && !t->bus_why[0];
	snprintf(t->bus_why, sizeof(t->bus_why), "%s", why);
	t->bus_final |= !again;
}

static int bus_setup(struct vmtop *t)
{
	static const struct {
		const char *rest;
		int qos;
	} subs[] = {
	    {"host/+/state", 1}, {"host/+/load", 0}, {"host/+/vm/+", 1},
	    {"guest/+/load", 0}, {"event/#", 1},     {"policy", 1},
	};
	char err[512], topic[VMC_TOPIC_MAX];
	busconn_client_id(t->client_id, sizeof(t->client_id), "vmtop");
	snprintf(t->sender, sizeof(t->sender), "vmc/%s", t->client_id);
	topic_fmt(t->reply_topic, sizeof(t->reply_topic), t->o.cluster, "reply/%s", t->client_id);
	topic_fmt(t->sync_topic, sizeof(t->sync_topic), t->o.cluster, "reply/%s/sync",
	          t->client_id);
	struct bus_opts bo = {
	    .client_id = t->client_id,
	    .on_connect = on_connect,
	    .on_disconnect = on_disconnect,
	    .on_message = on_message,
	    .on_connect_failed = on_connect_failed,
	    .ud = t,
	};
	t->loop = evloop_new();
	t->bus = t->loop
	             ? busconn_new(t->loop, t->o.broker, &t->o.conn, &bo, NULL, err, sizeof(err))
	             : NULL;
	if (!t->bus) {
		fprintf(stderr, "vmtop-cluster: %s\n", t->loop ? err : "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		topic_fmt(topic, sizeof(topic), t->o.cluster, "%s", subs[i].rest);
		bus_subscribe(t->bus, topic, subs[i].qos);
	}
	bus_subscribe(t->bus, t->reply_topic, 1);
	bus_subscribe(t->bus, t->sync_topic, 1);
	t->act = actions_new(t);
	evloop_add_before_poll(t->loop, before_poll, t);
	return bus_start(t->bus);
}

int main(int argc, char **argv)
{
	struct vmtop t;
	struct conf *conf = NULL;
	int rc;
	memset(&t, 0, sizeof(t));
	t.run_command = cmdline_run;
	t.o.broker_list.text = "mqtt://127.0.0.1:1883";
	t.o.cluster = "default";
	t.o.delay_s = 2;
	t.o.timeout_s = 10;
	log_init("vmtop-cluster", LOG_LVL_WARN);

	rc = parse_args(&t.o, argc, argv, &conf);
	if (rc != 0) {
		conf_free(conf);
		return rc < 0 ? EXIT_OK : rc;
	}
	t.o.broker = t.o.broker_list.text;
	t.model = cluster_model_new(0);
	t.hist = history_new();
	ui_init(&t.ui);
	if (ui_setup(&t) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	sigloop_install(on_signal, (const int[]){SIGINT, SIGTERM, SIGHUP, 0}); /* all quit */
	sigloop_install(SIG_IGN, (const int[]){SIGPIPE, 0});

	t.start_ms = evloop_mono_ms();
	if (bus_setup(&t) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	rc = t.o.batch ? run_batch(&t) : run_screen(&t);
out:
	actions_free(t.act);
	if (t.bus) {
		bus_disconnect(t.bus);
		bus_free(t.bus);
	}
	evloop_free(t.loop);
	help_free(t.help, t.nhelp);
	ui_free(&t.ui);
	cluster_model_free(t.model);
	history_free(t.hist);
	conf_free(conf);
	return rc;
}
