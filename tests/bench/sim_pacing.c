/* sim_pacing.c - does a sim migration take the time its model says?
 *
 * Two sim drivers in temporary state directories, a VM migrated between them
 * over a socket pair at several time scales; prints the model's total time,
 * the real time taken multiplied by the scale, and the bytes on the wire. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../agents/hostd/drivers/hv.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/sim/sim_model.h"
#include "../../lib/core/vclock.h"

struct rx {
	struct hv *h;
	int fd, rc;
	uint64_t bytes;
	char err[256];
};

static void *rx_main(void *arg)
{
	struct rx *r = arg;

	r->rc = hv_migrate_recv(r->h, NULL, r->fd, r->err, sizeof(r->err));
	return NULL;
}

static void rm_tree(const char *dir)
{
	char p[256];
	const char *files[] = {"sim-state.json", "sim.lock"};

	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int run(double scale, int64_t mem_mb, double dirty)
{
	char d1[] = "/tmp/sim_pacing.XXXXXX", d2[] = "/tmp/sim_pacing.XXXXXX";
	char err[512], cfg[256];
	struct vclock clk;
	struct hv *a = NULL, *b = NULL;
	struct hv_open_args args = {.host_name = "bench", .clock = &clk};
	struct hv_migrate_stats st;
	struct sim_migrate_params p;
	struct sim_migrate_plan pl;
	struct rx r = {0};
	pthread_t t;
	int sv[2], rc = 1;
	int64_t t0, t1;

	if (mkdtemp(d1) == NULL || mkdtemp(d2) == NULL)
		return 1;
	vclock_init(&clk, scale, evloop_mono_ms(), evloop_wall_ms());
	args.state_dir = d1;
	if (hv_open(hv_find("sim"), &args, &a, err, sizeof(err)) < 0)
		goto out;
	args.state_dir = d2;
	if (hv_open(hv_find("sim"), &args, &b, err, sizeof(err)) < 0)
		goto out;
	snprintf(cfg, sizeof(cfg),
	         "name = \"vm\"\nmemory = %lld\nsim_load = \"constant 1\"\n"
	         "sim_dirty = %g\n",
	         (long long)mem_mb, dirty);
	if (hv_create(a, cfg, 0, err, sizeof(err)) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		goto out;
	r.h = b;
	r.fd = sv[1];
	pthread_create(&t, NULL, rx_main, &r);
	t0 = evloop_mono_ms();
	rc = hv_migrate_send(a, "vm", sv[0], NULL, NULL, &st, err, sizeof(err));
	pthread_join(t, NULL);
	t1 = evloop_mono_ms();
	close(sv[0]);
	close(sv[1]);
	if (rc < 0 || r.rc < 0) {
		fprintf(stderr, "sim_pacing: %s\n", rc < 0 ? err : r.err);
		rc = 1;
		goto out;
	}
	sim_migrate_defaults(&p, 1000);
	sim_migrate_plan(&p, mem_mb, dirty, &pl, err, sizeof(err));
	printf("%8g %8lld %8g %10.0f %10.2f %12.2f %10.0f %10.0f\n", scale, (long long)mem_mb,
	       dirty, (double)st.bytes / SIM_MiB, pl.total_ms / 1000,
	       (double)(t1 - t0) * scale / 1000, (double)(t1 - t0),
	       (double)st.bytes / SIM_WIRE_SCALE / 1024);
	rc = 0;
out:
	if (rc != 0 && a == NULL)
		fprintf(stderr, "sim_pacing: %s\n", err);
	hv_close(a);
	hv_close(b);
	rm_tree(d1);
	rm_tree(d2);
	return rc;
}

int main(void)
{
	static const struct {
		double scale;
		int64_t mem;
		double dirty;
	} cases[] = {{10, 1024, 20}, {60, 4096, 20}, {100, 4096, 60}, {1000, 16384, 20}};
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	log_init("sim_pacing", LOG_LVL_WARN);
	printf("migration pacing at 1 Gbit/s: model time against real time x scale\n");
	printf("%8s %8s %8s %10s %10s %12s %10s %10s\n", "scale", "mem_MiB", "dirty", "sent_MiB",
	       "model_s", "real*scale_s", "real_ms", "wire_KiB");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		rc |= run(cases[i].scale, cases[i].mem, cases[i].dirty);
	return rc;
}
