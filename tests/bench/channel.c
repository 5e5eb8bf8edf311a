/* channel.c - migration channel throughput on loopback, against a plain TCP copy of
 * the same bytes and against the channel it replaced, in the same run.
 *
 * Each transfer runs between two processes: the parent sends, a forked child
 * receives. "tcp" writes the bytes straight into a TCP socket and the child reads
 * them; "channel" authenticates both ends with a cluster key and carries the bytes
 * (encrypted) as a driver's stream does - a thread writes them into a socketpair, the
 * channel frames them over TCP, the child's channel hands them to a socketpair a thread
 * reads. It runs twice: today's channel (TLS 1.3 with the cluster key's PSK and ECDHE)
 * and the one before it (its own HMAC handshake and AES-256-GCM frames), kept frozen in
 * tests/bench/legacy/ for this comparison only. Prints MB/s for each (best and median of
 * the runs) and the ratios. Usage: channel [MiB per run, default 256] [runs, default 3] */
#include "../../agents/hostd/migrate/channel.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
/* the channel before TLS 1.3, its names prefixed lchan_ / lchw_ */
#include "legacy/chanwire.c"
#include "legacy/channel.c"
#include "legacy/channel_open.c"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (256u << 10)

static const unsigned char KEY[] = "bench-cluster-key-0123456789abcdef";

static uint64_t total_bytes;

/* --- helpers ---------------------------------------------------------------------- */

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *writer(void *arg)
{
	int fd = *(int *)arg;
	unsigned char *buf = malloc(CHUNK);
	for (size_t i = 0; i < CHUNK; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	uint64_t left = total_bytes;
	while (left) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		if (write_all(fd, buf, n) < 0)
			break;
		left -= n;
	}
	close(fd);
	free(buf);
	return NULL;
}

struct reader_arg {
	int fd;
	uint64_t got;
};

static void *reader(void *arg)
{
	struct reader_arg *r = arg;
	unsigned char *buf = malloc(CHUNK);
	ssize_t n;
	while ((n = read(r->fd, buf, CHUNK)) > 0)
		r->got += (uint64_t)n;
	free(buf);
	close(r->fd);
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static double wait_child(pid_t pid, int64_t t0)
{
	int st;
	waitpid(pid, &st, 0);
	double s = (double)(evloop_mono_ms() - t0) / 1000.0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench: the receiver failed\n");
		exit(1);
	}
	return s;
}

/* --- plain TCP ----------------------------------------------------------------------- */

static double run_tcp(void)
{
	int port, lfd = listen_any(&port);
	if (lfd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);
		struct reader_arg r = {fd, 0};
		reader(&r);
		_exit(r.got == total_bytes ? 0 : 1);
	}
	close(lfd);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int64_t t0 = evloop_mono_ms();
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	writer(&fd);
	return wait_child(pid, t0);
}

/* --- the channel: TLS 1.3 (today's), and the one before it (legacy/) ------------------ */

#define CH(name) chan_##name
#define CHT chan
#define RN(name) tls_##name
#define CTX_NEW(loop, name, err, errlen) chan_ctx_new(loop, name, &TLS_CREDS, err, errlen)
static const struct chan_creds TLS_CREDS = {KEY, sizeof(KEY) - 1, NULL, NULL, NULL};
#include "channel_run.h"
#undef CH
#undef CHT
#undef RN
#undef CTX_NEW

#define CH(name) lchan_##name
#define CHT lchan
#define RN(name) legacy_##name
#define CTX_NEW(loop, name, err, errlen)                                                           \
	lchan_ctx_new(loop, name, KEY, sizeof(KEY) - 1, err, errlen)
#include "channel_run.h"
#undef CH
#undef CHT
#undef RN
#undef CTX_NEW

/* CPU seconds used so far by this process and its waited-for children. */
static double cpu_now(void)
{
	struct rusage a, b;
	getrusage(RUSAGE_SELF, &a);
	getrusage(RUSAGE_CHILDREN, &b);
	return (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec +
	                b.ru_stime.tv_sec) +
	       (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec +
	                b.ru_stime.tv_usec) /
	           1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 256;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	if (mib < 1 || runs < 1 || runs > 50) {
		fprintf(stderr, "usage: channel [MiB per run] [runs]\n");
		return 2;
	}
	log_init("bench", LOG_LVL_ERROR);
	signal(SIGPIPE, SIG_IGN);
	total_bytes = (uint64_t)mib << 20;
	double tcp[50], tls[50], old[50], cpu_tcp = 0, cpu_tls = 0, cpu_old = 0;
	for (int i = 0; i < runs; i++) {
		double c0 = cpu_now();
		double a = run_tcp();
		double c1 = cpu_now();
		double b = legacy_run_channel();
		double c2 = cpu_now();
		double t = tls_run_channel();
		double c3 = cpu_now();
		if (a <= 0 || b <= 0 || t <= 0) {
			fprintf(stderr, "bench: a run failed\n");
			return 1;
		}
		cpu_tcp += c1 - c0;
		cpu_old += c2 - c1;
		cpu_tls += c3 - c2;
		tcp[i] = (double)total_bytes / 1e6 / a;
		old[i] = (double)total_bytes / 1e6 / b;
		tls[i] = (double)total_bytes / 1e6 / t;
	}
	qsort(tcp, (size_t)runs, sizeof(double), cmp_double);
	qsort(old, (size_t)runs, sizeof(double), cmp_double);
	qsort(tls, (size_t)runs, sizeof(double), cmp_double);
	printf("migration channel throughput on loopback, %ld MiB per run, %d runs (MB/s)\n", mib,
	       runs);
	printf("  %-50s best %8.0f  median %8.0f\n", "plain TCP copy", tcp[runs - 1],
	       tcp[runs / 2]);
	printf("  %-50s best %8.0f  median %8.0f\n",
	       "old channel (HMAC handshake, AES-256-GCM frames)", old[runs - 1], old[runs / 2]);
	printf("  %-50s best %8.0f  median %8.0f\n", "channel (TLS 1.3, PSK + ECDHE, AES-128-GCM)",
	       tls[runs - 1], tls[runs / 2]);
	printf("  channel / plain: %.2f, channel / old channel: %.2f (medians)\n",
	       tls[runs / 2] / tcp[runs / 2], tls[runs / 2] / old[runs / 2]);
	double gib = (double)total_bytes * runs / (1 << 30);
	printf(
	    "  CPU seconds per GiB moved (both ends, all threads): plain %.2f, old channel %.2f, "
	    "channel %.2f\n",
	    cpu_tcp / gib, cpu_old / gib, cpu_tls / gib);
	double load[1];
	if (getloadavg(load, 1) == 1)
		printf("  (load average during the run: %.1f on %ld CPUs)\n", load[0],
		       sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}
