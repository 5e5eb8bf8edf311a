/* test_hv_sim.c - the sim driver through the hv_* wrappers: life cycle, persistence,
 * host files, and migrations over socket pairs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../agents/hostd/drivers/hv.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/vclock.h"

static char err[1024];

struct fixture {
	char dir[64], dir2[64];
	struct vclock clock;
};

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_hv_sim.XXXXXX");
	snprintf(f->dir2, sizeof(f->dir2), "/tmp/test_hv_sim.XXXXXX");
	if (mkdtemp(f->dir) == NULL || mkdtemp(f->dir2) == NULL)
		return -1;
	/* a virtual second per real millisecond: migrations take milliseconds */
	vclock_init(&f->clock, 1000, evloop_mono_ms(), evloop_wall_ms());
	signal(SIGPIPE, SIG_IGN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_dir(f->dir);
	rm_dir(f->dir2);
	free(f);
	return 0;
}

static struct hv *open_dir(struct fixture *f, const char *dir, const char *sim_file, int cpus,
                           int64_t mem)
{
	struct hv_open_args a = {.host_name = "h1",
	                         .state_dir = dir,
	                         .sim_file = sim_file,
	                         .cpus = cpus,
	                         .memory_mb = mem,
	                         .clock = &f->clock};
	struct hv *h = NULL;

	if (hv_open(hv_find("sim"), &a, &h, err, sizeof(err)) < 0)
		fail_msg("open %s: %s", dir, err);
	return h;
}

/* The VM of that name from list_vms, or fails the test when absent and must is set. */
static int find_vm(struct hv *h, const char *name, struct hv_vm *out)
{
	struct hv_vm *vms;
	size_t n;
	int found = 0;

	assert_int_equal(hv_list_vms(h, &vms, &n, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(vms[i].name, name) == 0) {
			*out = vms[i];
			found = 1;
		}
	}
	free(vms);
	return found;
}

static size_t count_vms(struct hv *h)
{
	struct hv_vm *vms;
	size_t n;

	assert_int_equal(hv_list_vms(h, &vms, &n, err, sizeof(err)), 0);
	free(vms);
	return n;
}

static void create_ok(struct hv *h, const char *cfg)
{
	if (hv_create(h, cfg, 0, err, sizeof(err)) < 0)
		fail_msg("create: %s", err);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* --- basics ------------------------------------------------------------------- */

static void test_find_and_names(void **state)
{
	assert_non_null(hv_find("sim"));
	assert_string_equal(hv_find("sim")->name, "sim");
	assert_null(hv_find("xen")); /* a module, loaded by hv_load */
	assert_null(hv_find("vmware"));
	assert_null(hv_find(NULL));
	assert_ptr_equal(hv_load("sim", err, sizeof(err)), hv_find("sim"));
	assert_null(hv_load("vmware", err, sizeof(err)));
	assert_string_equal(err, "driver \"vmware\": expected sim or xen");
	setenv("VMC_HOSTD_LIBDIR", "/nonexistent/vmcluster", 1);
	assert_null(hv_load("xen", err, sizeof(err)));
	assert_non_null(strstr(err, "no module vmc-hostd-xen.so"));
	assert_non_null(strstr(err, "/nonexistent/vmcluster/vmc-hostd-xen.so"));
	unsetenv("VMC_HOSTD_LIBDIR");
	assert_string_equal(hv_vm_state_name(HV_VM_RUNNING), "running");
	assert_string_equal(hv_vm_state_name(HV_VM_OUTGOING), "outgoing");
	assert_string_equal(hv_vm_state_name((enum hv_vm_state)42), "?");
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	struct hv *h = open_dir(f, f->dir, NULL, 0, 0);
	struct hv_host hi;

	assert_int_equal(hv_host_info(h, &hi, err, sizeof(err)), 0);
	assert_int_equal(hi.cpus, 8);
	assert_int_equal(hi.mem_total_mb, 32768);
	assert_int_equal(hi.mem_free_mb, 32768);
	assert_int_equal(hi.bandwidth_mbps, 1000);
	assert_string_equal(hi.version, "sim 1");
	assert_int_equal(count_vms(h), 0);
	hv_close(h);

	/* --cpus and --memory override */
	h = open_dir(f, f->dir2, NULL, 4, 2048);
	assert_int_equal(hv_host_info(h, &hi, err, sizeof(err)), 0);
	assert_int_equal(hi.cpus, 4);
	assert_int_equal(hi.mem_total_mb, 2048);
	hv_close(h);
}

static void test_create_errors(void **state)
{
	static const struct {
		const char *cfg, *msg;
	} bad[] = {
	    {"name = ", "config"},
	    {"memory = 512\n", "name"},
	    {"name = \"../x\"\nmemory = 512\n", "name"},
	    {"name = \"a b\"\nmemory = 512\n", "name"},
	    {"name = \"a\"\n", "memory"},
	    {"name = \"a\"\nmemory = 8\n", "memory"},
	    {"name = \"a\"\nmemory = 512\nvcpus = 0\n", "vcpus"},
	    {"name = \"a\"\nmemory = 512\nvcpus = 129\n", "vcpus"},
	    {"name = \"a\"\nmemory = 512\nsim_load = \"busy\"\n", "load"},
	    {"name = \"a\"\nmemory = 512\nsim_load = 3\n", "sim_load"},
	    {"name = \"a\"\nmemory = 512\nsim_dirty = \"fast\"\n", "sim_dirty"},
	    {"name = \"a\"\nmemory = 512\nsim_load = \"trace /nonexistent/x\"\n", "nonexistent"},
	    {"name = \"a\"\nmemory = 5000\n", "MiB free"},
	};
	struct fixture *f = *state;
	struct hv *h = open_dir(f, f->dir, NULL, 2, 4096);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (hv_create(h, bad[i].cfg, 0, err, sizeof(err)) == 0)
			fail_msg("config %zu was accepted", i);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("config %zu: \"%s\" lacks \"%s\"", i, err, bad[i].msg);
	}
	assert_int_equal(hv_create(h, NULL, 0, err, sizeof(err)), -1);
	assert_int_equal(count_vms(h), 0);
	create_ok(h, "name = \"a\"\nmemory = 3000\n");
	assert_int_equal(hv_create(h, "name = \"a\"\nmemory = 16\n", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already exists"));
	hv_close(h);
}

static void test_life_cycle(void **state)
{
	struct fixture *f = *state;
	struct hv *h = open_dir(f, f->dir, NULL, 0, 0);
	struct hv_vm vm;
	struct hv_host hi;

	create_ok(h, "name = \"web1\"\nmemory = 1024\nvcpus = 2\nsim_load = \"constant 1.5\"\n");
	assert_int_equal(hv_create(h, "name = \"p1\"\nmemory = 512\n", 1, err, sizeof(err)), 0);
	assert_true(find_vm(h, "web1", &vm));
	assert_int_equal(vm.state, HV_VM_RUNNING);
	assert_int_equal(vm.vcpus, 2);
	assert_int_equal(vm.mem_mb, 1024);
	assert_true(vm.domid > 0);
	assert_true(find_vm(h, "p1", &vm));
	assert_int_equal(vm.state, HV_VM_PAUSED);
	assert_int_equal(hv_host_info(h, &hi, err, sizeof(err)), 0);
	assert_int_equal(hi.mem_free_mb, 32768 - 1536);

	assert_int_equal(hv_pause(h, "p1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "paused"));
	assert_int_equal(hv_shutdown(h, "p1", err, sizeof(err)), -1);
	assert_int_equal(hv_unpause(h, "web1", err, sizeof(err)), -1);
	assert_int_equal(hv_pause(h, "nope", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no vm nope"));
	assert_int_equal(hv_destroy(h, "nope", err, sizeof(err)), -1);
	assert_int_equal(hv_unpause(h, "p1", err, sizeof(err)), 0);
	assert_int_equal(hv_pause(h, "web1", err, sizeof(err)), 0);
	assert_true(find_vm(h, "web1", &vm));
	assert_int_equal(vm.state, HV_VM_PAUSED);
	assert_int_equal(hv_unpause(h, "web1", err, sizeof(err)), 0);

	/* a clean shutdown takes SIM_SHUTDOWN_MS of virtual time (2 ms here) */
	assert_int_equal(hv_shutdown(h, "p1", err, sizeof(err)), 0);
	if (find_vm(h, "p1", &vm))
		assert_int_equal(vm.state, HV_VM_SHUTTING_DOWN);
	usleep(20000);
	assert_false(find_vm(h, "p1", &vm));
	assert_int_equal(hv_destroy(h, "web1", err, sizeof(err)), 0);
	assert_int_equal(count_vms(h), 0);
	hv_close(h);
}

static void test_figures_and_guest_view(void **state)
{
	struct fixture *f = *state;
	struct hv_guest_view g;
	struct hv_host hi;
	struct hv_vm vm;
	char file[128];
	struct hv *h;

	/* three busy single-vCPU VMs on two CPUs, all there from the start (a host file):
	 * 2/3 of a CPU each, 1/3 stolen */
	snprintf(file, sizeof(file), "%s/host.conf", f->dir2);
	write_file(file, "cpus = 2\nmemory = 8G\n[vm a]\nload = \"constant 1\"\n"
	                 "[vm b]\nload = \"constant 1\"\n[vm c]\nload = \"constant 1\"\n");
	h = open_dir(f, f->dir, file, 0, 0);
	usleep(10000);
	assert_true(find_vm(h, "a", &vm));
	assert_true(vm.cpu_pct > 66.6 && vm.cpu_pct < 66.7);
	assert_int_equal(hv_guest_view(h, "c", &g), 0);
	assert_true(g.cpu_pct > 66.6 && g.cpu_pct < 66.7);
	assert_true(g.steal_pct > 33.3 && g.steal_pct < 33.4);
	assert_true(g.demand_pct > 99.99 && g.demand_pct < 100.01);
	assert_int_equal(hv_host_info(h, &hi, err, sizeof(err)), 0);
	assert_true(hi.cpu_pct > 99.99 && hi.cpu_pct < 100.01);
	assert_int_equal(hv_guest_view(h, "zz", &g), -1);

	/* a VM that wants 2 CPUs on 2 vCPUs is a 100 % busy guest using 200 % of a CPU */
	assert_int_equal(hv_destroy(h, "b", err, sizeof(err)), 0);
	assert_int_equal(hv_destroy(h, "c", err, sizeof(err)), 0);
	create_ok(h, "name = \"d\"\nmemory = 512\nvcpus = 2\nsim_load = \"constant 5\"\n");
	usleep(10000);
	assert_int_equal(hv_guest_view(h, "d", &g), 0);
	assert_true(g.demand_pct > 199.99 && g.demand_pct < 200.01); /* capped at its vcpus */
	hv_close(h);
}

static void test_vm_config_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct hv *h = open_dir(f, f->dir, NULL, 0, 0);
	char *cfg;

	create_ok(h, "name = \"w\"\nmemory = 768\nvcpus = 3\n"
	             "sim_load = \"periodic 0.5 2 60 sine\"\nsim_dirty = \"12.5\"\n"
	             "vmc_tags = [ \"web\", \"front\" ]\n");
	assert_int_equal(hv_vm_config(h, "w", &cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(cfg, "memory = 768"));
	assert_non_null(strstr(cfg, "vcpus = 3"));
	assert_non_null(strstr(cfg, "periodic 0.5 2 60 sine 0"));
	assert_non_null(strstr(cfg, "12.5"));
	assert_non_null(strstr(cfg, "\"web\""));
	assert_non_null(strstr(cfg, "\"front\""));
	assert_int_equal(hv_destroy(h, "w", err, sizeof(err)), 0);
	create_ok(h, cfg); /* what it gives back, it takes */
	free(cfg);
	assert_int_equal(hv_vm_config(h, "nope", &cfg, err, sizeof(err)), -1);
	assert_null(cfg);
	hv_close(h);
}

/* --- persistence -------------------------------------------------------------------- */

/* Names in dir other than the state and lock files. */
static int stray_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, "sim-state.json") != 0 && strcmp(e->d_name, "sim.lock") != 0)
			n++;
	closedir(d);
	return n;
}

/* cpu_ms of a VM in the state file. */
static double state_cpu_ms(const char *dir, const char *vm)
{
	char path[256], buf[65536];
	FILE *fp;
	size_t n;
	cJSON *root, *it;
	double v = -1;

	snprintf(path, sizeof(path), "%s/sim-state.json", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	root = cJSON_Parse(buf);
	assert_non_null(root);
	cJSON_ArrayForEach(
	    it, cJSON_GetObjectItem(
	            root, "vms")) if (strcmp(cJSON_GetObjectItem(it, "name")->valuestring, vm) == 0)
	    v = cJSON_GetObjectItem(it, "cpu_ms")->valuedouble;
	cJSON_Delete(root);
	return v;
}

static void test_persistence(void **state)
{
	struct fixture *f = *state;
	struct hv *h = open_dir(f, f->dir, NULL, 0, 0), *h2;
	struct hv_open_args a = {.host_name = "h1", .state_dir = f->dir, .clock = &f->clock};
	struct hv_vm vm;
	char *cfg;
	double cpu1, cpu2;

	create_ok(h, "name = \"keep\"\nmemory = 1024\nvcpus = 2\nsim_load = \"constant 2\"\n");
	assert_int_equal(hv_create(h, "name = \"held\"\nmemory = 512\n", 1, err, sizeof(err)), 0);
	/* a second agent on the same state directory is refused */
	assert_int_equal(hv_open(hv_find("sim"), &a, &h2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in use"));
	usleep(5000);
	hv_close(h);
	assert_int_equal(stray_files(f->dir), 0); /* atomic writes leave no temporary files */
	cpu1 = state_cpu_ms(f->dir, "keep");
	assert_true(cpu1 > 0);

	/* the VMs are still there, with their state, profile and CPU time, which went on
	 * growing while no agent watched (Xen domains do not stop with their agent) */
	usleep(5000);
	h = open_dir(f, f->dir, NULL, 0, 0);
	assert_true(find_vm(h, "keep", &vm));
	assert_int_equal(vm.state, HV_VM_RUNNING);
	assert_int_equal(vm.vcpus, 2);
	assert_true(find_vm(h, "held", &vm));
	assert_int_equal(vm.state, HV_VM_PAUSED);
	assert_int_equal(hv_vm_config(h, "keep", &cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(cfg, "constant 2"));
	free(cfg);
	hv_close(h);
	cpu2 = state_cpu_ms(f->dir, "keep");
	assert_true(cpu2 > cpu1 + 2 * 4000); /* 2 CPUs over 5+ ms real = 5+ s virtual */
	assert_int_equal(stray_files(f->dir), 0);

	/* a corrupted state file is an error, not a crash nor an empty host */
	char path[256];
	snprintf(path, sizeof(path), "%s/sim-state.json", f->dir);
	write_file(path, "{\"version\":1,\"saved_ms\":5,\"vms\":[{\"name\":\"x\"}]}");
	assert_int_equal(hv_open(hv_find("sim"), &a, &h2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vms[0]"));
	write_file(path, "garbage");
	assert_int_equal(hv_open(hv_find("sim"), &a, &h2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a sim state file"));
}

static void test_host_file(void **state)
{
	struct fixture *f = *state;
	char file[128], trace[128];
	struct hv_host hi;
	struct hv_vm vm;
	struct hv *h;
	char *cfg;

	snprintf(trace, sizeof(trace), "%s/busy.trace", f->dir2);
	write_file(trace, "0 1\n10 2\n");
	snprintf(file, sizeof(file), "%s/host.conf", f->dir2);
	write_file(file, "cpus = 16\nmemory = 64G\nbandwidth = 10000\nreserve = 1G\n"
	                 "[vm web1]\nvcpus = 2\nmemory = 2048\nload = \"periodic 0.5 2 600 sine\"\n"
	                 "dirty = 20\ntags = \"web,front\"\n"
	                 "[vm batch]\nload = \"trace busy.trace\"\n");
	h = open_dir(f, f->dir, file, 0, 0);
	assert_int_equal(hv_host_info(h, &hi, err, sizeof(err)), 0);
	assert_int_equal(hi.cpus, 16);
	assert_int_equal(hi.mem_total_mb, 65536);
	assert_int_equal(hi.mem_free_mb, 65536 - 1024 - 2048 - 1024);
	assert_int_equal(hi.bandwidth_mbps, 10000);
	assert_true(find_vm(h, "web1", &vm));
	assert_int_equal(vm.vcpus, 2);
	assert_true(find_vm(h, "batch", &vm));
	assert_int_equal(vm.mem_mb, 1024);
	assert_int_equal(hv_vm_config(h, "web1", &cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(cfg, "vmc_tags"));
	assert_non_null(strstr(cfg, "sim_dirty = 20"));
	free(cfg);
	/* the host file seeds a host only once: what happened since is kept */
	assert_int_equal(hv_destroy(h, "batch", err, sizeof(err)), 0);
	hv_close(h);
	h = open_dir(f, f->dir, file, 0, 0);
	assert_false(find_vm(h, "batch", &vm));
	assert_true(find_vm(h, "web1", &vm));
	hv_close(h);
}

static void test_host_file_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"cpus = 0\n", ":1: cpus"},
	    {"memory = lots\n", ":1: memory"},
	    {"bandwidth = -1\n", ":1: bandwidth"},
	    {"colour = blue\n", ":1: unknown key colour"},
	    {"[vm a]\nload = \"busy\"\n", ":2: load"},
	    {"[vm a]\nload = \"trace missing.trace\"\n", "missing.trace"},
	    {"[vm ../a]\n", ":1: vm name"},
	    {"[disk a]\n", ":1: unknown section [disk]"},
	    {"[vm a]\nvcpus = 500\n", ":2: vcpus"},
	    {"memory = 1G\n[vm a]\nmemory = 2G\n", "MiB free"},
	    {"reserve = 64G\n", "reserve"},
	};
	struct fixture *f = *state;
	struct hv_open_args a = {.host_name = "h1", .state_dir = f->dir, .clock = &f->clock};
	char file[128];
	struct hv *h;

	snprintf(file, sizeof(file), "%s/host.conf", f->dir2);
	a.sim_file = file;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(file, bad[i].text);
		err[0] = '\0';
		if (hv_open(hv_find("sim"), &a, &h, err, sizeof(err)) == 0)
			fail_msg("host file %zu was accepted", i);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("host file %zu: \"%s\" lacks \"%s\"", i, err, bad[i].msg);
	}
	a.sim_file = "/nonexistent/host.conf";
	assert_int_equal(hv_open(hv_find("sim"), &a, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/host.conf"));
}

/* --- migrations ------------------------------------------------------------------- */

struct recv_job {
	struct hv *h;
	const char *cfg;
	int fd, rc;
	char err[512];
};

static void *recv_main(void *arg)
{
	struct recv_job *j = arg;

	j->rc = hv_migrate_recv(j->h, j->cfg, j->fd, j->err, sizeof(j->err));
	shutdown(j->fd, SHUT_RDWR); /* as the channel hangs up on a failed receive */
	return NULL;
}

struct progress_log {
	int calls, rounds;
	uint64_t last, total;
	int monotonic;
};

static void on_progress(void *ud, uint64_t sent, uint64_t total, int round)
{
	struct progress_log *p = ud;

	if (sent < p->last || round < p->rounds)
		p->monotonic = 0;
	p->calls++;
	p->last = sent;
	p->total = total;
	p->rounds = round;
}

/* Migrates vm from a to b over a socket pair; returns send's result, recv's in *rrc. */
static int migrate(struct hv *a, struct hv *b, const char *vm, const char *cfg,
                   struct hv_migrate_stats *st, struct progress_log *pl, int *rrc)
{
	int sv[2];
	pthread_t t;
	struct recv_job j = {.h = b, .cfg = cfg};
	int rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	j.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, recv_main, &j), 0);
	rc = hv_migrate_send(a, vm, sv[0], on_progress, pl, st, err, sizeof(err));
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	*rrc = j.rc;
	if (j.rc < 0)
		snprintf(err, sizeof(err), "%s", j.err);
	return rc;
}

static void test_migration_commit_and_abort(void **state)
{
	struct fixture *f = *state;
	struct hv *a = open_dir(f, f->dir, NULL, 0, 0), *b = open_dir(f, f->dir2, NULL, 0, 0);
	struct hv_migrate_stats st;
	struct progress_log pl = {.monotonic = 1};
	struct hv_host hi;
	struct hv_vm vm;
	int rrc;

	create_ok(a, "name = \"mv\"\nmemory = 1024\nvcpus = 2\nsim_load = \"constant 1\"\n"
	             "sim_dirty = 20\n");
	assert_int_equal(migrate(a, b, "mv", "name = \"mv\"\nmemory = 1024\n", &st, &pl, &rrc), 0);
	assert_int_equal(rrc, 0);
	/* 1 GiB at 1 Gbit/s with 20 MiB/s dirty: three rounds, all memory and then some */
	assert_int_equal(st.rounds, 3);
	assert_true(st.bytes > 1024ULL * 1048576);
	assert_true(st.downtime_ms > 20 && st.downtime_ms < 320);
	assert_true(pl.calls > 3 && pl.monotonic);
	assert_int_equal(pl.last, pl.total);
	assert_true(find_vm(a, "mv", &vm));
	assert_int_equal(vm.state, HV_VM_OUTGOING);
	assert_true(find_vm(b, "mv", &vm));
	assert_int_equal(vm.state, HV_VM_INCOMING);
	assert_int_equal(hv_host_info(b, &hi, err, sizeof(err)), 0);
	assert_int_equal(hi.mem_free_mb, 32768 - 1024); /* held while incoming */
	/* an outgoing VM cannot be paused, an incoming one not unpaused */
	assert_int_equal(hv_pause(a, "mv", err, sizeof(err)), -1);
	assert_int_equal(hv_unpause(b, "mv", err, sizeof(err)), -1);

	assert_int_equal(hv_migrate_dst_commit(b, "mv", err, sizeof(err)), 0);
	assert_int_equal(hv_migrate_src_commit(a, "mv", err, sizeof(err)), 0);
	assert_false(find_vm(a, "mv", &vm));
	assert_true(find_vm(b, "mv", &vm));
	assert_int_equal(vm.state, HV_VM_RUNNING);
	assert_int_equal(vm.vcpus, 2);
	assert_int_equal(hv_migrate_src_commit(a, "mv", err, sizeof(err)), -1);

	/* back again, then aborted on both sides: the source runs it, the far side forgets */
	memset(&pl, 0, sizeof(pl));
	assert_int_equal(migrate(b, a, "mv", NULL, &st, &pl, &rrc), 0);
	assert_int_equal(rrc, 0);
	assert_int_equal(hv_migrate_dst_abort(a, "mv", err, sizeof(err)), 0);
	assert_int_equal(hv_migrate_src_abort(b, "mv", err, sizeof(err)), 0);
	assert_false(find_vm(a, "mv", &vm));
	assert_true(find_vm(b, "mv", &vm));
	assert_int_equal(vm.state, HV_VM_RUNNING);

	/* a paused VM travels paused */
	assert_int_equal(hv_pause(b, "mv", err, sizeof(err)), 0);
	assert_int_equal(migrate(b, a, "mv", NULL, &st, &pl, &rrc), 0);
	assert_int_equal(st.rounds, 2); /* nothing dirtied: one pass and an empty stop-and-copy */
	assert_int_equal(hv_migrate_dst_commit(a, "mv", err, sizeof(err)), 0);
	assert_int_equal(hv_migrate_src_commit(b, "mv", err, sizeof(err)), 0);
	assert_true(find_vm(a, "mv", &vm));
	assert_int_equal(vm.state, HV_VM_PAUSED);
	hv_close(a);
	hv_close(b);
}

static void test_migration_refusals(void **state)
{
	struct fixture *f = *state;
	struct hv *a = open_dir(f, f->dir, NULL, 0, 0), *b = open_dir(f, f->dir2, NULL, 0, 2048);
	struct progress_log pl = {0};
	struct hv_migrate_stats st;
	struct hv_vm vm;
	int rrc, sv[2];

	create_ok(a, "name = \"big\"\nmemory = 4096\n");
	create_ok(b, "name = \"dup\"\nmemory = 512\n");
	create_ok(a, "name = \"dup\"\nmemory = 512\n");
	/* no room, a duplicate, a config naming another VM: refused, the source runs on */
	assert_int_equal(migrate(a, b, "big", NULL, &st, &pl, &rrc), -1);
	assert_int_equal(rrc, -1);
	assert_non_null(strstr(err, "MiB free"));
	assert_int_equal(migrate(a, b, "dup", NULL, &st, &pl, &rrc), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(migrate(a, b, "big", "name = \"other\"\nmemory = 4096\n", &st, &pl, &rrc),
	                 -1);
	assert_non_null(strstr(err, "config names other"));
	assert_true(find_vm(a, "big", &vm));
	assert_int_equal(vm.state, HV_VM_RUNNING);
	assert_true(find_vm(b, "dup", &vm));
	assert_int_equal(vm.state, HV_VM_RUNNING);
	/* a peer that hung up: the send fails and the VM runs on */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(hv_migrate_send(a, "big", sv[0], NULL, NULL, &st, err, sizeof(err)), -1);
	close(sv[0]);
	assert_true(find_vm(a, "big", &vm));
	assert_int_equal(vm.state, HV_VM_RUNNING);
	assert_int_equal(hv_migrate_send(a, "nope", -1, NULL, NULL, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no vm nope"));
	hv_close(a);
	hv_close(b);
}

/* Collects what a send writes. */
struct capture {
	int fd;
	unsigned char *buf;
	size_t len;
};

static void *capture_main(void *arg)
{
	struct capture *c = arg;
	unsigned char tmp[65536];
	ssize_t n;

	while ((n = read(c->fd, tmp, sizeof(tmp))) > 0) {
		c->buf = realloc(c->buf, c->len + (size_t)n);
		memcpy(c->buf + c->len, tmp, (size_t)n);
		c->len += (size_t)n;
	}
	return NULL;
}

/* Feeds bytes to recv on b. Returns recv's result; err holds its message. */
static int feed(struct hv *b, const unsigned char *bytes, size_t len)
{
	int sv[2], rc;
	pthread_t t;
	struct recv_job j = {.h = b};
	size_t off = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	j.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, recv_main, &j), 0);
	while (off < len) {
		ssize_t n = write(sv[0], bytes + off, len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	rc = j.rc;
	snprintf(err, sizeof(err), "%s", j.err);
	return rc;
}

static void test_migration_bad_streams(void **state)
{
	struct fixture *f = *state;
	struct hv *a = open_dir(f, f->dir, NULL, 0, 0), *b = open_dir(f, f->dir2, NULL, 0, 0);
	struct capture c = {0};
	struct hv_migrate_stats st;
	struct hv_vm vm;
	pthread_t t;
	int sv[2];
	unsigned char *bad;

	/* a real stream, captured */
	create_ok(a, "name = \"s\"\nmemory = 256\nsim_dirty = 50\n");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, capture_main, &c), 0);
	assert_int_equal(hv_migrate_send(a, "s", sv[0], NULL, NULL, &st, err, sizeof(err)), 0);
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	assert_int_equal(hv_migrate_src_abort(a, "s", err, sizeof(err)), 0);
	assert_true(c.len > 256 * 1024); /* 256 MiB at the default scale: 256 KiB and more */

	/* every truncation fails cleanly, leaving nothing behind */
	const size_t cuts[] = {0, 3, 8, 12, 40, c.len / 2, c.len - 5, c.len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		assert_int_equal(feed(b, c.buf, cuts[i]), -1);
		if (strstr(err, "truncated") == NULL && strstr(err, "ended") == NULL)
			fail_msg("cut at %zu: \"%s\"", cuts[i], err);
		assert_false(find_vm(b, "s", &vm));
	}
	/* a flipped byte anywhere is caught */
	bad = malloc(c.len);
	const size_t flips[] = {2, 9, 20, c.len / 3, c.len - 2};
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(bad, c.buf, c.len);
		bad[flips[i]] ^= 0x40;
		assert_int_equal(feed(b, bad, c.len), -1);
		assert_false(find_vm(b, "s", &vm));
	}
	/* garbage */
	for (size_t i = 0; i < c.len; i++)
		bad[i] = (unsigned char)(i * 131 + 7);
	assert_int_equal(feed(b, bad, 4096), -1);
	assert_non_null(strstr(err, "bad magic"));
	memcpy(bad, "VMCSIM01", 8);
	assert_int_equal(feed(b, bad, 4096), -1);
	/* a frame announcing 4 GiB is refused before anything is allocated */
	memcpy(bad, "VMCSIM01H\xff\xff\xff\xff", 13);
	assert_int_equal(feed(b, bad, 13), -1);
	assert_non_null(strstr(err, "expected 1 to"));
	/* the intact stream still works, and nothing is read past its end */
	bad = realloc(bad, c.len + 10);
	memcpy(bad, c.buf, c.len);
	memcpy(bad + c.len, "trailing!!", 10);
	assert_int_equal(feed(b, bad, c.len + 10), 0);
	assert_true(find_vm(b, "s", &vm));
	assert_int_equal(vm.state, HV_VM_INCOMING);
	free(bad);
	free(c.buf);
	hv_close(a);
	hv_close(b);
}

/* Trace profiles in commands come from the traces directory only: no path outside it,
 * no symbolic link, no FIFO (which would block the reply); without a traces directory
 * no trace at all. Errors tell nothing of files outside the directory. */
static void test_traces_directory(void **state)
{
	struct fixture *f = *state;
	char p[256], q[256], cfg[256];
	struct hv_open_args a = {.host_name = "h1",
	                         .state_dir = f->dir,
	                         .sim_traces = f->dir2,
	                         .cpus = 2,
	                         .memory_mb = 8192,
	                         .clock = &f->clock};
	struct hv *h = NULL;
	if (hv_open(hv_find("sim"), &a, &h, err, sizeof(err)) < 0)
		fail_msg("open: %s", err);
	snprintf(p, sizeof(p), "%s/busy.trace", f->dir2);
	write_file(p, "0 1\n10 2\n");
	snprintf(q, sizeof(q), "%s/link.trace", f->dir2);
	assert_int_equal(symlink(p, q), 0);
	snprintf(q, sizeof(q), "%s/fifo.trace", f->dir2);
	assert_int_equal(mkfifo(q, 0600), 0);
	snprintf(q, sizeof(q), "%s/shadow", f->dir);
	write_file(q, "root:x:1\n");
	const struct {
		const char *trace, *msg;
	} bad[] = {
	    {"/etc/shadow", "expected a file name in the traces directory"},
	    {"../x", "expected a file name in the traces directory"},
	    {"link.trace", "symbolic link"},
	    {"fifo.trace", "not a regular file"},
	    {"none.trace", "trace none.trace: No such file"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cfg, sizeof(cfg),
		         "name = \"t%zu\"\nmemory = 256\nsim_load = \"trace %s\"\n", i,
		         bad[i].trace);
		err[0] = '\0';
		if (hv_create(h, cfg, 0, err, sizeof(err)) == 0)
			fail_msg("trace %s was accepted", bad[i].trace);
		if (strstr(err, bad[i].msg) == NULL || strstr(err, "root") != NULL)
			fail_msg("trace %s: \"%s\" lacks \"%s\"", bad[i].trace, err, bad[i].msg);
	}
	snprintf(cfg, sizeof(cfg),
	         "name = \"ok\"\nmemory = 256\nsim_load = \"trace busy.trace\"\n");
	if (hv_create(h, cfg, 0, err, sizeof(err)) < 0)
		fail_msg("busy.trace: %s", err);
	hv_close(h);
	/* without a traces directory, no trace profile in a command */
	snprintf(q, sizeof(q), "%s/state2", f->dir);
	mkdir(q, 0700);
	a.state_dir = q;
	a.sim_traces = NULL;
	assert_int_equal(hv_open(hv_find("sim"), &a, &h, err, sizeof(err)), 0);
	snprintf(cfg, sizeof(cfg), "name = \"x\"\nmemory = 256\nsim_load = \"trace busy.trace\"\n");
	assert_int_equal(hv_create(h, cfg, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--sim-traces"));
	hv_close(h);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "%s/state2", f->dir);
	rm_dir(cmd);
	unlink(q);
	snprintf(q, sizeof(q), "%s/link.trace", f->dir2);
	unlink(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find_and_names),
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traces_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_life_cycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_figures_and_guest_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_config_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_file_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_commit_and_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_bad_streams, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
