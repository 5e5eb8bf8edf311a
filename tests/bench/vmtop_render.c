/* vmtop_render.c - how long vmtop-cluster takes to take in a cluster's load messages and
 * draw a frame: 1,000 hosts x 20 VMs (20,000 VMs), frames drawn with ncurses to an
 * off-screen terminal (200x60 on /dev/null). Target: an update and a frame within 16 ms.
 *
 * Prints, in ms of CPU time (median of the rounds):
 *   round   all 1,000 hosts' loads applied (a whole publish interval's worth), then a frame
 *   one     one host's load applied, then a frame (what a live console does per message)
 *   frame   a frame alone (VMs view, 20,000 rows sorted by CPU)
 *   parse   cJSON parsing alone of the round's messages (the codec's share of a round)
 * and the peak RSS. Usage: vmtop_render [HOSTS [VMS_PER_HOST [ROUNDS]]] */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "../../console/vmtop/vmtop.h"
#include "../../lib/cluster_model.h"

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

/* Host h's load message in round r (VM CPU figures change every round). */
static char *load_msg(int h, int nvms, int r, size_t *len)
{
	size_t cap = 512 + (size_t)nvms * 200, used;
	char *s = malloc(cap);
	if (!s)
		abort();
	used =
	    (size_t)snprintf(s, cap,
	                     "{\"v\":1,\"from\":\"host/h%04d\",\"ts\":%lld,\"seq\":%d,"
	                     "\"state\":\"online\",\"cpus\":32,\"cpu\":%d,\"mem_total_mb\":262144,"
	                     "\"mem_used_mb\":%d,\"mem_free_mb\":%d,\"migrations_out\":0,"
	                     "\"migrations_in\":0,\"vms\":[",
	                     h, 1700000000000LL + r * 2000LL, r + 1, (h * 7 + r) % 100, nvms * 2048,
	                     262144 - nvms * 2048);
	for (int v = 0; v < nvms; v++)
		used += (size_t)snprintf(s + used, cap - used,
		                         "%s{\"name\":\"vm%04d-%02d\",\"state\":\"running\","
		                         "\"vcpus\":2,\"mem_mb\":2048,\"cpu\":%.1f,\"net_rx\":%d,"
		                         "\"net_tx\":%d,\"blk_rd\":%d,\"blk_wr\":%d,"
		                         "\"tags\":[\"web\",\"zone-%d\"]}",
		                         v ? "," : "", h, v,
		                         (double)((h * 31 + v * 17 + r * 13) % 2000) / 10.0,
		                         h * v * 1000, h * v * 700, v * 50, v * 20, h % 4);
	snprintf(s + used, cap - used, "]}");
	*len = strlen(s);
	return s;
}

int main(int argc, char **argv)
{
	int hosts = argc > 1 ? atoi(argv[1]) : 1000;
	int per = argc > 2 ? atoi(argv[2]) : 20;
	int rounds = argc > 3 ? atoi(argv[3]) : 20;
	if (hosts < 1 || per < 0 || rounds < 1) {
		fprintf(stderr, "usage: vmtop_render [HOSTS [VMS_PER_HOST [ROUNDS]]]\n");
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

	struct cluster_model *m = cluster_model_new(0);
	struct ui ui;
	struct screen sc;
	char err[VMC_ERR_MAX];
	const char *help[] = {"help"};
	struct draw_info di = {"bench", "mqtt://127.0.0.1:1883", 1, 0, help, 1};
	ui_init(&ui);
	draw_init(&sc, 0);
	ui_set_view(&ui, VIEW_VMS, NULL);
	ui_sort_by(&ui, "cpu", err, sizeof(err));

	char topic[64];
	double *t_round = calloc((size_t)rounds, sizeof(double));
	double *t_one = calloc((size_t)rounds, sizeof(double));
	double *t_frame = calloc((size_t)rounds, sizeof(double));
	int64_t wall = 1700000000000LL;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ms();
		for (int h = 0; h < hosts; h++) {
			snprintf(topic, sizeof(topic), "host/h%04d/load", h);
			if (cluster_model_apply(m, topic, msgs[r % 2][h], lens[r % 2][h], 0, wall,
			                        err, sizeof(err)) < 0) {
				fprintf(stderr, "vmtop_render: %s\n", err);
				return 1;
			}
		}
		struct view_env e = {m, wall, &ui.marks};
		views_build(&ui, &e);
		draw_frame(&sc, &ui, &e, &di);
		double t1 = now_ms();

		snprintf(topic, sizeof(topic), "host/h%04d/load", r % hosts);
		cluster_model_apply(m, topic, msgs[(r + 1) % 2][r % hosts],
		                    lens[(r + 1) % 2][r % hosts], 0, wall + 100, err, sizeof(err));
		views_build(&ui, &e);
		draw_frame(&sc, &ui, &e, &di);
		double t2 = now_ms();

		views_build(&ui, &e);
		draw_frame(&sc, &ui, &e, &di);
		double t3 = now_ms();
		t_round[r] = t1 - t0;
		t_one[r] = t2 - t1;
		t_frame[r] = t3 - t2;
		wall += 2000;
	}
	size_t nvms = cluster_model_vm_count(m);
	double *t_parse = calloc((size_t)rounds, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ms();
		for (int h = 0; h < hosts; h++)
			cJSON_Delete(cJSON_ParseWithLength(msgs[r % 2][h], lens[r % 2][h]));
		t_parse[r] = now_ms() - t0;
	}

	endwin();
	delscreen(scr);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("vmtop_render: %d hosts, %zu VMs, 200x60 frame, CPU ms, median of %d rounds\n",
	       hosts, nvms, rounds);
	printf("  round (all %d loads + frame): %8.2f ms\n", hosts, median(t_round, rounds));
	printf("  one load + frame:             %8.2f ms (target <= 16)\n", median(t_one, rounds));
	printf("  frame alone:                  %8.2f ms\n", median(t_frame, rounds));
	printf("  parse alone (cJSON, %d loads): %7.2f ms\n", hosts, median(t_parse, rounds));
	printf("  peak RSS:                     %8.1f MB\n", ru.ru_maxrss / 1024.0);

	ui_free(&ui);
	cluster_model_free(m);
	for (int k = 0; k < 2; k++) {
		for (int h = 0; h < hosts; h++)
			free(msgs[k][h]);
		free(msgs[k]);
		free(lens[k]);
	}
	free(msgs);
	free(lens);
	free(t_round);
	free(t_one);
	free(t_frame);
	free(t_parse);
	fclose(out);
	fclose(in);
	return 0;
}
