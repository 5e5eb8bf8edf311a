/* test_guestd.c - what the guest agent reads: /proc parsers, figures between two samples
 * of a fake /proc tree, and the xenstore name over a stand-in xenbus device. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "../../agents/guestd/procstat.h"
#include "../../agents/guestd/xsname.h"

static const char stat1[] = "cpu  100 0 100 700 50 0 0 50 0 0\n"
                            "cpu0 50 0 50 350 25 0 0 25 0 0\n"
                            "cpu1 50 0 50 350 25 0 0 25 0 0\n"
                            "intr 12345\nctxt 999\n";
/* +300 busy, +500 idle, +0 iowait, +200 steal: 1000 ticks */
static const char stat2[] = "cpu  300 50 250 1100 50 0 0 250 0 0\n"
                            "cpu0 150 25 125 550 25 0 0 125 0 0\n"
                            "cpu1 150 25 125 550 25 0 0 125 0 0\n";

static void test_parse_stat(void **state)
{
	struct procstat_cpu c;
	char err[256];
	assert_int_equal(procstat_parse_stat(stat1, &c, err, sizeof err), 0);
	assert_int_equal(c.user, 100);
	assert_int_equal(c.idle, 700);
	assert_int_equal(c.steal, 50);
	assert_int_equal(c.ncpus, 2);
	/* old kernels: four columns, no steal */
	assert_int_equal(procstat_parse_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n", &c, err, sizeof err),
	                 0);
	assert_int_equal(c.steal, 0);
	assert_int_equal(procstat_parse_stat("cpu0 1 2 3 4\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "no aggregate \"cpu\" line"));
	assert_int_equal(procstat_parse_stat("cpu 1 2\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "at least 4"));
}

static void test_parse_others(void **state)
{
	int64_t total, avail;
	double a, b, c;
	char err[256];
	assert_int_equal(procstat_parse_meminfo("MemTotal:  2048000 kB\nMemFree: 100 kB\n"
	                                        "MemAvailable:  1024000 kB\n",
	                                        &total, &avail, err, sizeof err),
	                 0);
	assert_int_equal(total, 2048000);
	assert_int_equal(avail, 1024000);
	assert_int_equal(
	    procstat_parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\n"
	                           "Cached: 250 kB\n",
	                           &total, &avail, err, sizeof err),
	    0);
	assert_int_equal(avail, 400);
	assert_int_equal(procstat_parse_meminfo("MemFree: 1 kB\n", &total, &avail, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "MemTotal"));
	assert_int_equal(
	    procstat_parse_loadavg("0.50 1.25 2.00 1/123 456\n", &a, &b, &c, err, sizeof err), 0);
	assert_true(a == 0.5 && b == 1.25 && c == 2.0);
	assert_int_equal(procstat_parse_loadavg("x", &a, &b, &c, err, sizeof err), -1);
	assert_int_equal(procstat_parse_uptime("12345.67 999.0\n", &a, err, sizeof err), 0);
	assert_true(a > 12345.6 && a < 12345.7);
	assert_int_equal(procstat_parse_uptime("", &a, err, sizeof err), -1);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_fake_proc(void **state)
{
	char dir[] = "/tmp/test_guestd.XXXXXX", err[512];
	assert_non_null(mkdtemp(dir));
	put(dir, "stat", stat1);
	put(dir, "meminfo", "MemTotal: 2097152 kB\nMemAvailable: 1572864 kB\n");
	put(dir, "loadavg", "1.50 0.75 0.25 2/100 42\n");
	put(dir, "uptime", "3600.5 7000.0\n");
	struct procstat_sample s1, s2;
	struct procstat_figures f;
	assert_int_equal(procstat_sample(dir, dir, &s1, err, sizeof err), 0);
	put(dir, "stat", stat2);
	assert_int_equal(procstat_sample(dir, dir, &s2, err, sizeof err), 0);
	procstat_figures(&s1, &s2, &f);
	assert_true(f.cpu == 40.0);   /* 400 busy of 1000 */
	assert_true(f.steal == 40.0); /* 200 of 1000 ticks, over 2 CPUs: 40 % of one CPU */
	assert_int_equal(f.vcpus, 2);
	assert_int_equal(f.mem_total_mb, 2048);
	assert_int_equal(f.mem_used_mb, 512);
	assert_true(f.load1 == 1.5 && f.load15 == 0.25);
	assert_true(f.uptime_s == 3600.5);
	assert_true(f.disk_used_pct >= 0 && f.disk_used_pct <= 100);
	/* the same sample twice: no CPU figure, no division by zero */
	procstat_figures(&s2, &s2, &f);
	assert_true(f.cpu == 0 && f.steal == 0);
	/* counters that went back (a restored guest): no figure */
	procstat_figures(&s2, &s1, &f);
	assert_true(f.cpu == 0);
	/* a missing file is named */
	char p[512];
	snprintf(p, sizeof p, "%s/loadavg", dir);
	unlink(p);
	assert_int_equal(procstat_sample(dir, NULL, &s1, err, sizeof err), -1);
	assert_non_null(strstr(err, "loadavg"));
	put(dir, "loadavg", "garbage\n");
	assert_int_equal(procstat_sample(dir, NULL, &s1, err, sizeof err), -1);
	assert_non_null(strstr(err, "loadavg: expected three numbers"));
	const char *files[] = {"stat", "meminfo", "loadavg", "uptime"};
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* Queues a xenstore reply on fd. */
static void reply(int fd, uint32_t type, uint32_t req_id, const char *body, size_t len)
{
	struct xsd_sockmsg h = {.type = type, .req_id = req_id, .len = (uint32_t)len};
	assert_int_equal(write(fd, &h, sizeof h), sizeof h);
	if (len)
		assert_int_equal(write(fd, body, len), (ssize_t)len);
}

static void test_xenstore_name(void **state)
{
	int sv[2];
	char out[128], err[256];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* a watch event and another client's reply come first: both skipped */
	reply(sv[1], XS_WATCH_EVENT, 0, "a\0b", 4);
	reply(sv[1], XS_READ, 1, "other", 5);
	reply(sv[1], XS_READ, 0x766d63, "web1", 4);
	assert_int_equal(xsname_ask(sv[0], "test", "name", out, sizeof out, 1000, err, sizeof err),
	                 0);
	assert_string_equal(out, "web1");
	/* what was asked: XS_READ of "name" */
	struct xsd_sockmsg h;
	char key[16];
	assert_int_equal(read(sv[1], &h, sizeof h), sizeof h);
	assert_int_equal(h.type, XS_READ);
	assert_int_equal(h.len, 5);
	assert_int_equal(read(sv[1], key, h.len), 5);
	assert_string_equal(key, "name");
	/* an error reply */
	reply(sv[1], XS_ERROR, 0x766d63, "ENOENT", 7);
	assert_int_equal(xsname_ask(sv[0], "test", "name", out, sizeof out, 1000, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "ENOENT"));
	/* no reply: a timeout, not a hang */
	assert_int_equal(xsname_ask(sv[0], "test", "name", out, sizeof out, 100, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "timed out"));
	close(sv[0]);
	close(sv[1]);
	/* no device: not a Xen guest */
	assert_int_equal(
	    xsname_read("/nonexistent/xenbus", "name", out, sizeof out, 100, err, sizeof err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_stat),
	    cmocka_unit_test(test_parse_others),
	    cmocka_unit_test(test_fake_proc),
	    cmocka_unit_test(test_xenstore_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
