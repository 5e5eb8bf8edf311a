/* test_pwfile.c - the password-file reader every program uses: the first line of a file or a
 * pipe, and each hostile file (missing, a directory, empty, an empty first line, too long,
 * holding a NUL byte, endless) refused with its name and the reason, nothing of it kept; and
 * the bus made from the common broker settings (busconn_new) with it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/bus/bus.h"
#include "../../lib/bus/busconn.h"
#include "../../lib/core/evloop.h"
#include "../../lib/config/pwfile.h"

static char dir[] = "/tmp/test_pwfile.XXXXXX";
static char path[128];

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/pass", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Writes n bytes of data to the test's file. */
static void put(const char *data, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Reads the test's file into buf of len bytes; returns pwfile_read's result. */
static int get(char *buf, size_t len, char *err, size_t errlen)
{
	memset(buf, 'x', len);
	err[0] = '\0';
	return pwfile_read(path, buf, len, err, errlen);
}

static void expect_ok(const char *data, size_t n, const char *want)
{
	char buf[512], err[256];
	put(data, n);
	assert_int_equal(get(buf, sizeof buf, err, sizeof err), 0);
	assert_string_equal(buf, want);
}

/* The file is refused with "password file PATH: why", and buf holds nothing of it. */
static void expect_refused(const char *data, size_t n, size_t len, const char *why)
{
	char buf[4096], err[512], want[512];
	assert_true(len <= sizeof buf);
	put(data, n);
	assert_int_equal(get(buf, len, err, sizeof err), -1);
	snprintf(want, sizeof want, "password file %s: %s", path, why);
	assert_string_equal(err, want);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(buf[i], 0);
}

static void test_first_line(void **state)
{
	expect_ok("secret\n", 7, "secret");
	expect_ok("secret", 6, "secret");
	expect_ok("secret\r\n", 8, "secret");
	expect_ok("secret\nsecond line\n", 19, "secret");
	expect_ok("with spaces \t\n", 14, "with spaces \t");
	expect_ok("s\n\0\0\0", 5, "s"); /* NULs after the first line are not read as part of it */
}

static void test_length(void **state)
{
	char big[600], buf[512], err[256];
	memset(big, 'a', sizeof big);
	put(big, 511); /* the longest that fits, with and without an end of line */
	assert_int_equal(get(buf, sizeof buf, err, sizeof err), 0);
	assert_int_equal(strlen(buf), 511);
	big[511] = '\n';
	put(big, 512);
	assert_int_equal(get(buf, sizeof buf, err, sizeof err), 0);
	assert_int_equal(strlen(buf), 511);
	big[511] = '\r';
	put(big, 513);
	assert_int_equal(get(buf, sizeof buf, err, sizeof err), 0);
	assert_int_equal(strlen(buf), 511);
	memset(big, 'a', sizeof big);
	expect_refused(big, 512, 512, "longer than 511 bytes");
	expect_refused(big, sizeof big, 512, "longer than 511 bytes");
	expect_refused("ab\n", 3, 2, "longer than 1 bytes");
	char one[2];
	put("a\n", 2);
	assert_int_equal(get(one, sizeof one, err, sizeof err), 0);
	assert_string_equal(one, "a");
	assert_int_equal(pwfile_read(path, one, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "no room"));
}

static void test_hostile(void **state)
{
	expect_refused("", 0, 512, "empty");
	expect_refused("\n", 1, 512, "the first line is empty");
	expect_refused("\r\nsecret\n", 9, 512, "the first line is empty");
	expect_refused("ab\0cd\n", 6, 512, "holds a NUL byte");
	expect_refused("\0", 1, 512, "holds a NUL byte");
	/* a megabyte on one line: refused after reading one byte past the buffer */
	size_t n = 1 << 20;
	char *huge = malloc(n);
	assert_non_null(huge);
	memset(huge, 'z', n);
	expect_refused(huge, n, 512, "longer than 511 bytes");
	free(huge);
}

static void test_unreadable(void **state)
{
	char buf[64], err[512], want[512];
	unlink(path);
	assert_int_equal(get(buf, sizeof buf, err, sizeof err), -1);
	snprintf(want, sizeof want, "password file %s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(pwfile_read(dir, buf, sizeof buf, err, sizeof err), -1);
	snprintf(want, sizeof want, "password file %s: Is a directory", dir);
	assert_string_equal(err, want);
	/* an endless file of NULs is refused too, without reading it all */
	assert_int_equal(pwfile_read("/dev/zero", buf, sizeof buf, err, sizeof err), -1);
	assert_non_null(strstr(err, "password file /dev/zero: "));
	/* a truncated message still names the file */
	char small[24];
	assert_int_equal(pwfile_read(dir, buf, sizeof buf, small, sizeof small), -1);
	assert_int_equal(strncmp(small, "password file /tmp/", 19), 0);
}

static void test_pipe(void **state)
{
	int p[2];
	char buf[64], err[256], name[64];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "piped\nrest", 10), 10);
	close(p[1]);
	snprintf(name, sizeof name, "/dev/fd/%d", p[0]);
	assert_int_equal(pwfile_read(name, buf, sizeof buf, err, sizeof err), 0);
	assert_string_equal(buf, "piped");
	close(p[0]);
}

static void test_bus_new(void **state)
{
	char err[512], want[512];
	struct evloop *loop = evloop_new();
	assert_non_null(loop);
	struct bus_opts bo = {.url = "mqtt://127.0.0.1:1", .client_id = "test", .username = "u"};
	unlink(path);
	assert_null(pwfile_bus_new(loop, &bo, path, err, sizeof err));
	snprintf(want, sizeof want, "password file %s: No such file or directory", path);
	assert_string_equal(err, want);
	put("\n", 1);
	assert_null(pwfile_bus_new(loop, &bo, path, err, sizeof err));
	assert_non_null(strstr(err, "the first line is empty"));
	put("pw\n", 3);
	struct bus *b = pwfile_bus_new(loop, &bo, path, err, sizeof err);
	assert_non_null(b);
	bus_free(b);
	b = pwfile_bus_new(loop, &bo, NULL, err, sizeof err); /* no file: no password */
	assert_non_null(b);
	bus_free(b);
	evloop_free(loop);
}

/* busconn_new takes the broker, TLS, credentials and keepalive from the common settings */
static void test_busconn(void **state)
{
	char err[512], want[512];
	struct evloop *loop = evloop_new();
	assert_non_null(loop);
	struct bus_opts bo = {.client_id = "test", .url = "ignored", .will_topic = "t/state"};
	struct busconn_opts c = {.user = "u", .password_file = path};
	put("pw\n", 3);
	cJSON *will = cJSON_CreateObject();
	cJSON_AddStringToObject(will, "state", "offline");
	struct bus *b = busconn_new(loop, "mqtt://127.0.0.1:1", &c, &bo, will, err, sizeof err);
	assert_non_null(b);
	assert_string_equal(bus_client_id(b), "test");
	bus_free(b);
	cJSON_Delete(will);
	unlink(path);
	assert_null(busconn_new(loop, "mqtt://127.0.0.1:1", &c, &bo, NULL, err, sizeof err));
	snprintf(want, sizeof want, "password file %s: No such file or directory", path);
	assert_string_equal(err, want);
	c.password_file = NULL;
	c.keepalive = 3;
	assert_null(busconn_new(loop, "mqtt://127.0.0.1:1", &c, &bo, NULL, err, sizeof err));
	assert_non_null(strstr(err, "keepalive 3 s"));
	c.keepalive = 0;
	assert_null(busconn_new(loop, "mqtts://127.0.0.1:1", &c, &bo, NULL, err, sizeof err));
	assert_non_null(strstr(err, "a CA file (--cafile) is needed"));
	c.cafile = "/nonexistent/ca.crt";
	b = busconn_new(loop, "mqtts://127.0.0.1:1", &c, &bo, NULL, err, sizeof err);
	if (b) /* the CA file is read when connecting, or refused here: either way no crash */
		bus_free(b);
	evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_line), cmocka_unit_test(test_length),
	    cmocka_unit_test(test_hostile),    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_pipe),       cmocka_unit_test(test_bus_new),
	    cmocka_unit_test(test_busconn),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
