/* test_sdnotify.c - sd_notify without libsystemd: datagrams to $NOTIFY_SOCKET (a path and
 * the abstract namespace), the watchdog period from $WATCHDOG_USEC/$WATCHDOG_PID, and the
 * keep-alive timer on an event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../lib/core/evloop.h"
#include "../../lib/core/sdnotify.h"

/* A datagram socket bound to name (a path, or "@..." for the abstract namespace). */
static int listen_at(const char *name)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t len = strlen(name);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	                      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
	                 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[1100];
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_no_socket(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_send("READY=1"), 0);
	assert_int_equal(sdnotify_sendf("STATUS=%d", 1), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sdnotify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void test_path_socket(void **state)
{
	char dir[] = "/tmp/test_sdnotify.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/notify", dir);
	int fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdnotify_send("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(sdnotify_sendf("READY=1\nSTATUS=host %s", "h1"), 1);
	expect_datagram(fd, "READY=1\nSTATUS=host h1");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void test_abstract_socket(void **state)
{
	char name[64];
	snprintf(name, sizeof name, "@vmc-test-sdnotify-%ld", (long)getpid());
	int fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdnotify_send("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

static void test_watchdog_period(void **state)
{
	char pid[32];
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(sdnotify_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(sdnotify_watchdog_ms(), 15000);
	setenv("WATCHDOG_USEC", "1000", 1);
	assert_int_equal(sdnotify_watchdog_ms(), 1);
	setenv("WATCHDOG_USEC", "12x", 1);
	assert_int_equal(sdnotify_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_ms(), 15000);
	snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_ms(), 0); /* meant for another process */
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

static long stop_after(struct evloop *loop, long long id, void *ud)
{
	evloop_stop(loop);
	return -1;
}

static void test_watchdog_timer(void **state)
{
	char name[64];
	snprintf(name, sizeof name, "@vmc-test-sdnotify-wd-%ld", (long)getpid());
	int fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	struct evloop *loop = evloop_new();
	/* no watchdog: no timer, nothing sent */
	assert_int_equal(sdnotify_watchdog_start(loop), 0);
	evloop_run_once(loop, 0);
	char buf[64];
	assert_true(recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0);
	/* a 20 ms watchdog: one keep-alive at once, then one every 10 ms */
	setenv("WATCHDOG_USEC", "20000", 1);
	assert_int_equal(sdnotify_watchdog_start(loop), 0);
	expect_datagram(fd, "WATCHDOG=1");
	evloop_add_timer(loop, 35, stop_after, NULL);
	evloop_run(loop);
	int n = 0;
	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		n++;
	assert_true(n >= 2);
	evloop_free(loop);
	unsetenv("WATCHDOG_USEC");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_socket),       cmocka_unit_test(test_path_socket),
	    cmocka_unit_test(test_abstract_socket), cmocka_unit_test(test_watchdog_period),
	    cmocka_unit_test(test_watchdog_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
