/* xen-probe - drives the xen driver alone, to validate it inside a dom0 before
 * the whole agent runs there (the nested-Xen harness uses it). Prints JSON on
 * stdout; errors on stderr with exit status 1.
 *
 *   xen-probe [-d STATE_DIR] [-w SECONDS] [info]   host_info and list_vms
 *   xen-probe [-d STATE_DIR] create FILE [paused]  create from an xl.cfg file
 *   xen-probe [-d STATE_DIR] config|shutdown|destroy|pause|unpause NAME
 *   xen-probe [-d STATE_DIR] recv PORT             receive one migration
 *   xen-probe [-d STATE_DIR] send NAME HOST PORT   migrate NAME to a recv
 *
 * send/recv speak a minimal channel, enough to test the driver's halves: the
 * sender writes the xl.cfg (4-byte length, then text), then the stream; the
 * receiver answers 'R' (ready) or 'F'; the sender says 'G' (go); the receiver
 * commits and answers 'K' or 'F'; the sender then commits or aborts.
 * STATE_DIR defaults to /var/lib/vmcluster; -w (default 1) is how long info
 * waits after opening, so that CPU figures span some time.
 *
 * Not built by `make`. Build it from the host agent's archives (the xen driver's
 * own is libxen.a; in vmc-hostd it is the module vmc-hostd-xen.so):
 *   make build/rel/libvmc.a build/rel/agents/hostd/libprog.a build/rel/agents/hostd/libxen.a
 *   cc -std=c11 -D_GNU_SOURCE -O2 -g -o xen-probe tests/xen/xen-probe.c \
 *      build/rel/agents/hostd/libxen.a build/rel/agents/hostd/libprog.a build/rel/libvmc.a \
 *      $(pkg-config --cflags --libs xenlight xlutil xenstat xentoollog libcjson \
 *        libmosquitto libcurl ncursesw libssl libcrypto) -lpthread -lm
 * The binary runs in a Debian 12 dom0 with xen-utils-4.17 and libcjson1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../agents/hostd/drivers/hv.h"

struct probe {
	struct hv *h;
	char err[VMC_ERR_MAX];
};

static int probe_fail(const char *what, const char *err)
{
	fprintf(stderr, "xen-probe: %s: %s\n", what, err);
	return 1;
}

static void probe_print(cJSON *j)
{
	char *s = cJSON_Print(j);

	if (s)
		puts(s);
	free(s);
	cJSON_Delete(j);
}

static cJSON *probe_host_json(const struct hv_host *hi)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "cpus", hi->cpus);
	cJSON_AddNumberToObject(o, "mem_total_mb", (double)hi->mem_total_mb);
	cJSON_AddNumberToObject(o, "mem_free_mb", (double)hi->mem_free_mb);
	cJSON_AddNumberToObject(o, "cpu", hi->cpu_pct);
	cJSON_AddNumberToObject(o, "bandwidth_mbps", (double)hi->bandwidth_mbps);
	cJSON_AddStringToObject(o, "version", hi->version);
	return o;
}

static cJSON *probe_vm_json(const struct hv_vm *v)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddNumberToObject(o, "domid", v->domid);
	cJSON_AddStringToObject(o, "state", hv_vm_state_name(v->state));
	cJSON_AddNumberToObject(o, "vcpus", v->vcpus);
	cJSON_AddNumberToObject(o, "mem_mb", (double)v->mem_mb);
	cJSON_AddNumberToObject(o, "cpu", v->cpu_pct);
	if (v->has_io) {
		cJSON_AddNumberToObject(o, "net_rx", (double)v->net_rx_bytes);
		cJSON_AddNumberToObject(o, "net_tx", (double)v->net_tx_bytes);
		cJSON_AddNumberToObject(o, "blk_rd", (double)v->blk_rd_reqs);
		cJSON_AddNumberToObject(o, "blk_wr", (double)v->blk_wr_reqs);
	}
	return o;
}

static int cmd_info(struct probe *p, int wait_s)
{
	struct hv_host hi;
	struct hv_vm *vms;
	size_t n;
	cJSON *out, *arr;

	if (wait_s > 0)
		sleep((unsigned)wait_s);
	if (hv_xen_ops.host_info(p->h, &hi, p->err, sizeof p->err) < 0)
		return probe_fail("host_info", p->err);
	if (hv_xen_ops.list_vms(p->h, &vms, &n, p->err, sizeof p->err) < 0)
		return probe_fail("list_vms", p->err);
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "host", probe_host_json(&hi));
	arr = cJSON_AddArrayToObject(out, "vms");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, probe_vm_json(&vms[i]));
	free(vms);
	probe_print(out);
	return 0;
}

static char *probe_read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = calloc(1, VMC_PAYLOAD_MAX + 1);
	if (buf)
		len = fread(buf, 1, VMC_PAYLOAD_MAX, f);
	if (!buf || ferror(f)) {
		snprintf(err, errlen, "cannot read %s", path);
		free(buf);
		buf = NULL;
	}
	(void)len;
	fclose(f);
	return buf;
}

static int cmd_create(struct probe *p, const char *file, int paused)
{
	char *text = probe_read_file(file, p->err, sizeof p->err);
	int rc;

	if (!text)
		return probe_fail("create", p->err);
	rc = hv_xen_ops.create(p->h, text, paused, p->err, sizeof p->err);
	free(text);
	if (rc < 0)
		return probe_fail("create", p->err);
	puts("{\"ok\": true}");
	return 0;
}

typedef int name_op(struct hv *h, const char *name, char *err, size_t errlen);

static const struct {
	const char *cmd;
	name_op *const *op; /* points into hv_xen_ops */
} name_cmds[] = {
    {"shutdown", &hv_xen_ops.shutdown},
    {"destroy", &hv_xen_ops.destroy},
    {"pause", &hv_xen_ops.pause},
    {"unpause", &hv_xen_ops.unpause},
};

static int cmd_name(struct probe *p, const char *cmd, const char *name)
{
	char *cfg;

	if (strcmp(cmd, "config") == 0) {
		if (hv_xen_ops.vm_config(p->h, name, &cfg, p->err, sizeof p->err) < 0)
			return probe_fail("config", p->err);
		fputs(cfg, stdout);
		free(cfg);
		return 0;
	}
	for (size_t i = 0; i < sizeof name_cmds / sizeof name_cmds[0]; i++)
		if (strcmp(cmd, name_cmds[i].cmd) == 0) {
			if ((*name_cmds[i].op)(p->h, name, p->err, sizeof p->err) < 0)
				return probe_fail(cmd, p->err);
			puts("{\"ok\": true}");
			return 0;
		}
	return probe_fail(cmd, "unknown command");
}

/* --- the minimal migration channel ----------------------------------------- */

static int io_all(int fd, void *buf, size_t len, int writing)
{
	char *b = buf;

	while (len) {
		ssize_t r = writing ? write(fd, b, len) : read(fd, b, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		len -= (size_t)r;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_progress(void *ud, uint64_t sent, uint64_t total, int round)
{
	fprintf(stderr, "xen-probe: round %d: %llu of %llu bytes\n", round,
	        (unsigned long long)sent, (unsigned long long)total);
}

static int net_connect(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
	int fd = -1, e = getaddrinfo(host, port, &hints, &ai);

	if (e) {
		snprintf(err, errlen, "cannot resolve %s:%s: %s", host, port, gai_strerror(e));
		return -1;
	}
	for (a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port, strerror(errno));
	return fd;
}

static int cmd_send(struct probe *p, const char *name, const char *host, const char *port)
{
	struct hv_migrate_stats st;
	char *cfg = NULL, ans = 0;
	uint32_t len;
	int64_t t0 = now_ms();
	int fd, rc;
	cJSON *out;

	if (hv_xen_ops.vm_config(p->h, name, &cfg, p->err, sizeof p->err) < 0)
		return probe_fail("send", p->err);
	fd = net_connect(host, port, p->err, sizeof p->err);
	len = htonl((uint32_t)strlen(cfg));
	if (fd < 0 || io_all(fd, &len, 4, 1) < 0 || io_all(fd, cfg, strlen(cfg), 1) < 0) {
		free(cfg);
		if (fd >= 0)
			close(fd);
		return probe_fail("send", fd < 0 ? p->err : "the receiver hung up");
	}
	free(cfg);
	rc = hv_xen_ops.migrate_send(p->h, name, fd, on_progress, NULL, &st, p->err, sizeof p->err);
	if (rc < 0) {
		close(fd);
		return probe_fail("send", p->err);
	}
	if (io_all(fd, &ans, 1, 0) < 0 || ans != 'R' || io_all(fd, "G", 1, 1) < 0 ||
	    io_all(fd, &ans, 1, 0) < 0 || ans != 'K') {
		close(fd);
		if (hv_xen_ops.migrate_src_abort(p->h, name, p->err, sizeof p->err) < 0)
			return probe_fail("send, then resuming here", p->err);
		return probe_fail("send", "the receiver failed; resumed the domain here");
	}
	close(fd);
	if (hv_xen_ops.migrate_src_commit(p->h, name, p->err, sizeof p->err) < 0)
		return probe_fail("send commit", p->err);
	out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "ok", 1);
	cJSON_AddNumberToObject(out, "bytes", (double)st.bytes);
	cJSON_AddNumberToObject(out, "rounds", st.rounds);
	cJSON_AddNumberToObject(out, "downtime_ms", (double)st.downtime_ms);
	cJSON_AddNumberToObject(out, "total_ms", (double)(now_ms() - t0));
	probe_print(out);
	return 0;
}

static int net_accept(const char *port, char *err, size_t errlen)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	int one = 1, ls, fd;

	sa.sin6_port = htons((uint16_t)atoi(port));
	ls = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0) {
		snprintf(err, errlen, "cannot listen on port %s: %s", port, strerror(errno));
		if (ls >= 0)
			close(ls);
		return -1;
	}
	fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		snprintf(err, errlen, "accept: %s", strerror(errno));
	close(ls);
	return fd;
}

/* The name of the (one) domain being received here, into name. */
static int incoming_name(struct probe *p, char *name, size_t len)
{
	struct hv_vm *vms;
	size_t n;
	int found = 0;

	if (hv_xen_ops.list_vms(p->h, &vms, &n, p->err, sizeof p->err) < 0)
		return -1;
	for (size_t i = 0; i < n && !found; i++)
		if (vms[i].state == HV_VM_INCOMING) {
			snprintf(name, len, "%s", vms[i].name);
			found = 1;
		}
	free(vms);
	if (!found)
		snprintf(p->err, sizeof p->err, "no incoming domain after the stream");
	return found ? 0 : -1;
}

static int cmd_recv(struct probe *p, const char *port)
{
	char *cfg = NULL, name[VMC_NAME_MAX + 1] = "", go = 0;
	uint32_t len = 0;
	int fd = net_accept(port, p->err, sizeof p->err);

	if (fd < 0)
		return probe_fail("recv", p->err);
	if (io_all(fd, &len, 4, 0) < 0 || (len = ntohl(len)) > VMC_PAYLOAD_MAX ||
	    !(cfg = calloc(1, (size_t)len + 1)) || io_all(fd, cfg, len, 0) < 0) {
		free(cfg);
		close(fd);
		return probe_fail("recv", "no config from the sender");
	}
	if (hv_xen_ops.migrate_recv(p->h, cfg, fd, p->err, sizeof p->err) < 0) {
		free(cfg);
		io_all(fd, "F", 1, 1);
		close(fd);
		return probe_fail("recv", p->err);
	}
	free(cfg);
	if (incoming_name(p, name, sizeof name) < 0 || io_all(fd, "R", 1, 1) < 0 ||
	    io_all(fd, &go, 1, 0) < 0 || go != 'G' ||
	    hv_xen_ops.migrate_dst_commit(p->h, name, p->err, sizeof p->err) < 0) {
		io_all(fd, "F", 1, 1);
		close(fd);
		if (name[0])
			hv_xen_ops.migrate_dst_abort(p->h, name, p->err, sizeof p->err);
		return probe_fail("recv", "no go from the sender, or the commit failed");
	}
	io_all(fd, "K", 1, 1);
	close(fd);
	printf("{\"ok\": true, \"name\": \"%s\"}\n", name);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: xen-probe [-d STATE_DIR] [-w SECONDS] [info]\n"
	        "       xen-probe [-d STATE_DIR] create FILE [paused]\n"
	        "       xen-probe [-d STATE_DIR] config|shutdown|destroy|pause|unpause NAME\n"
	        "       xen-probe [-d STATE_DIR] recv PORT\n"
	        "       xen-probe [-d STATE_DIR] send NAME HOST PORT\n");
	return 2;
}

/* Commands and how many words each takes (command included). */
static const struct {
	const char *cmd;
	int min, max;
} cmds[] = {
    {"info", 0, 1},     {"create", 2, 3},  {"recv", 2, 2},  {"send", 4, 4},    {"config", 2, 2},
    {"shutdown", 2, 2}, {"destroy", 2, 2}, {"pause", 2, 2}, {"unpause", 2, 2},
};

static int args_ok(int argc, char **argv)
{
	const char *cmd = argc > 0 ? argv[0] : "info";

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmd, cmds[i].cmd) == 0)
			return argc >= cmds[i].min && argc <= cmds[i].max;
	return 0;
}

static int run(struct probe *p, int argc, char **argv, int wait_s)
{
	const char *cmd = argc > 0 ? argv[0] : "info";

	if (strcmp(cmd, "info") == 0)
		return cmd_info(p, wait_s);
	if (strcmp(cmd, "create") == 0)
		return cmd_create(p, argv[1], argc > 2 && strcmp(argv[2], "paused") == 0);
	if (strcmp(cmd, "recv") == 0)
		return cmd_recv(p, argv[1]);
	if (strcmp(cmd, "send") == 0)
		return cmd_send(p, argv[1], argv[2], argv[3]);
	return cmd_name(p, cmd, argv[1]);
}

int main(int argc, char **argv)
{
	struct hv_open_args args = {.host_name = "probe", .state_dir = "/var/lib/vmcluster"};
	struct probe p = {0};
	int opt, wait_s = 1, rc;

	while ((opt = getopt(argc, argv, "d:w:")) != -1) {
		if (opt == 'd')
			args.state_dir = optarg;
		else if (opt == 'w')
			wait_s = atoi(optarg);
		else
			return usage();
	}
	if (!args_ok(argc - optind, argv + optind))
		return usage();
	signal(SIGPIPE, SIG_IGN); /* a dead peer is an error, not a kill */
	if (mkdir(args.state_dir, 0755) < 0 && errno != EEXIST)
		return probe_fail(args.state_dir, strerror(errno));
	if (hv_xen_ops.open(&args, &p.h, p.err, sizeof p.err) < 0)
		return probe_fail("open", p.err);
	rc = run(&p, argc - optind, argv + optind, wait_s);
	hv_xen_ops.close(p.h);
	return rc;
}
