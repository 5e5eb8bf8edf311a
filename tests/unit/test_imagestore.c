/* test_imagestore.c - the image store: names and paths never leave it, sha256 checks,
 * sparse copies and clones, and downloads that fail leave nothing behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agents/confd/imagestore.h"

#define MIB (1024 * 1024)
/* sha256("abc") */
#define ABC_SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fixture {
	char dir[64];
	struct imgstore *s;
};

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s", path, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[512];
	snprintf(f->dir, sizeof f->dir, "/tmp/test_imagestore.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char store[128];
	snprintf(store, sizeof store, "%s/store", f->dir);
	if (imgstore_open(store, &f->s, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	imgstore_close(f->s);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static void put(struct fixture *f, const char *rel, const void *data, size_t len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/store/%s", f->dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int count_dir(struct fixture *f, const char *rel, int with_hidden)
{
	char p[512];
	snprintf(p, sizeof p, "%s/store/%s", f->dir, rel);
	DIR *d = opendir(p);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' ||
		    (with_hidden && strcmp(de->d_name, ".") && strcmp(de->d_name, "..")))
			n++;
	closedir(d);
	return n;
}

static void test_names(void **state)
{
	char err[256];
	const char *good[] = {"base.img", "debian-12_amd64.qcow2", "a", "x+y.raw"};
	const char *bad[] = {"",    "../x", "a/b",   "/etc/passwd", ".hidden", "-rf",
	                     "a b", "x;rm", "$(id)", "a\nb",        "..",      "a..b"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(imgstore_name_check(good[i], "image", err, sizeof err), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (imgstore_name_check(bad[i], "image", err, sizeof err) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "image"));
	}
	char longname[IMGSTORE_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(imgstore_name_check(longname, "image", err, sizeof err), -1);
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(imgstore_name_check("a/b", "image", err, sizeof err), -1);
	assert_non_null(strstr(err, "may not contain '/'"));
}

static void test_name_from_url(void **state)
{
	char out[IMGSTORE_NAME_MAX + 1], err[256];
	assert_int_equal(imgstore_name_from_url("http://h:1/a/b/base.img?x=1#f", out, sizeof out,
	                                        err, sizeof err),
	                 0);
	assert_string_equal(out, "base.img");
	assert_int_equal(
	    imgstore_name_from_url("https://h/x.raw", out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "x.raw");
	assert_int_equal(imgstore_name_from_url("http://h/", out, sizeof out, err, sizeof err), -1);
	assert_int_equal(imgstore_name_from_url("http://h", out, sizeof out, err, sizeof err), -1);
	assert_int_equal(imgstore_name_from_url("http://h/..", out, sizeof out, err, sizeof err),
	                 -1);
	assert_int_equal(
	    imgstore_name_from_url("http://h/%2e%2e", out, sizeof out, err, sizeof err), -1);
	assert_int_equal(imgstore_name_from_url("nourl", out, sizeof out, err, sizeof err), -1);
}

static void test_sha256_parse(void **state)
{
	char out[IMGSTORE_SHA256_HEX + 1], err[256];
	char upper[] = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
	assert_int_equal(imgstore_sha256_parse(upper, out, err, sizeof err), 0);
	assert_string_equal(out, ABC_SHA);
	assert_int_equal(imgstore_sha256_parse("abc", out, err, sizeof err), -1);
	assert_non_null(strstr(err, "64 hexadecimal digits"));
	upper[10] = 'g';
	assert_int_equal(imgstore_sha256_parse(upper, out, err, sizeof err), -1);
	assert_non_null(strstr(err, "character 11"));
	assert_int_equal(imgstore_sha256_parse(NULL, out, err, sizeof err), -1);
}

static void test_open_layout(void **state)
{
	struct fixture *f = *state;
	char p[512], err[512];
	struct stat st;
	const char *dirs[] = {"images", "disks", "configs"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/store/%s", f->dir, dirs[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	}
	assert_non_null(strstr(imgstore_root(f->s), "/store"));
	/* a store whose images/ is a symlink out of it is refused */
	char evil[512], out[512];
	snprintf(evil, sizeof evil, "%s/evil", f->dir);
	mkdir(evil, 0755);
	snprintf(p, sizeof p, "%s/evil/images", f->dir);
	assert_int_equal(symlink("/tmp", p), 0);
	struct imgstore *s2;
	assert_int_equal(imgstore_open(evil, &s2, err, sizeof err), -1);
	assert_non_null(strstr(err, "images"));
	/* a store path xl.cfg could not quote is refused */
	snprintf(p, sizeof p, "%s/a,b", f->dir);
	assert_int_equal(imgstore_open(p, &s2, err, sizeof err), -1);
	assert_non_null(strstr(err, "commas"));
	assert_int_equal(
	    imgstore_path(f->s, IMGSTORE_DISKS, "web1.img", out, sizeof out, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/disks/web1.img", imgstore_root(f->s));
	assert_string_equal(out, p);
	assert_int_equal(
	    imgstore_path(f->s, IMGSTORE_DISKS, "../x", out, sizeof out, err, sizeof err), -1);
}

static void test_local_image_confined(void **state)
{
	struct fixture *f = *state;
	char name[IMGSTORE_NAME_MAX + 1], err[512], p[512], q[512];
	put(f, "images/base.img", "abc", 3);
	assert_int_equal(imgstore_local_image(f->s, "base.img", name, sizeof name, err, sizeof err),
	                 0);
	assert_string_equal(name, "base.img");
	snprintf(p, sizeof p, "%s/images/base.img", imgstore_root(f->s));
	assert_int_equal(imgstore_local_image(f->s, p, name, sizeof name, err, sizeof err), 0);
	assert_string_equal(name, "base.img");
	/* outside the store */
	assert_int_equal(
	    imgstore_local_image(f->s, "/etc/passwd", name, sizeof name, err, sizeof err), -1);
	assert_non_null(strstr(err, "outside the store"));
	/* inside the store, but not in images/ */
	put(f, "disks/d.img", "x", 1);
	snprintf(p, sizeof p, "%s/disks/d.img", imgstore_root(f->s));
	assert_int_equal(imgstore_local_image(f->s, p, name, sizeof name, err, sizeof err), -1);
	/* a path through images/ that climbs out */
	snprintf(p, sizeof p, "%s/images/../../../etc/passwd", imgstore_root(f->s));
	assert_int_equal(imgstore_local_image(f->s, p, name, sizeof name, err, sizeof err), -1);
	/* a symlink in images/ pointing out: by name it is not a regular file, by path it
	 * resolves outside */
	snprintf(p, sizeof p, "%s/images/link.img", imgstore_root(f->s));
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(imgstore_local_image(f->s, "link.img", name, sizeof name, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(imgstore_local_image(f->s, p, name, sizeof name, err, sizeof err), -1);
	assert_non_null(strstr(err, "outside"));
	/* and clone will not follow it either */
	enum imgstore_clone_method m;
	assert_int_equal(imgstore_clone(f->s, "link.img", "x.img", 0, &m, err, sizeof err), -1);
	assert_int_equal(
	    imgstore_clone(f->s, "../../../etc/passwd", "x.img", 0, &m, err, sizeof err), -1);
	assert_int_equal(imgstore_clone(f->s, "base.img", "../escape.img", 0, &m, err, sizeof err),
	                 -1);
	snprintf(q, sizeof q, "%s/store/escape.img", f->dir);
	assert_int_equal(access(q, F_OK), -1);
	assert_int_equal(
	    imgstore_local_image(f->s, "missing.img", name, sizeof name, err, sizeof err), -1);
	assert_non_null(strstr(err, "not in the store"));
}

static void test_sha256_and_verify(void **state)
{
	struct fixture *f = *state;
	char hex[IMGSTORE_SHA256_HEX + 1], err[512], p[512];
	put(f, "images/abc.img", "abc", 3);
	snprintf(p, sizeof p, "%s/store/images/abc.img", f->dir);
	int fd = open(p, O_RDONLY);
	assert_int_equal(imgstore_sha256_fd(fd, hex, err, sizeof err), 0);
	close(fd);
	assert_string_equal(hex, ABC_SHA);
	assert_int_equal(imgstore_verify(f->s, "abc.img", ABC_SHA, err, sizeof err), 0);
	/* verified again from the cache */
	assert_int_equal(imgstore_verify(f->s, "abc.img", ABC_SHA, err, sizeof err), 0);
	/* changed content is noticed despite the cache */
	put(f, "images/abc.img", "abd", 3);
	assert_int_equal(imgstore_verify(f->s, "abc.img", ABC_SHA, err, sizeof err), -1);
	assert_non_null(strstr(err, "sha256 mismatch: expected " ABC_SHA));
	assert_int_equal(imgstore_verify(f->s, "none.img", ABC_SHA, err, sizeof err), 1);
	assert_int_equal(imgstore_verify(f->s, "../x", ABC_SHA, err, sizeof err), -1);
	assert_int_equal(imgstore_verify(f->s, "abc.img", "zz", err, sizeof err), -1);
}

/* A 12 MiB file: data at 0, a hole, data at 8 MiB, a written block of zeros at 10 MiB. */
static void make_sparse(struct fixture *f, const char *rel)
{
	char p[512];
	snprintf(p, sizeof p, "%s/store/%s", f->dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char *buf = malloc(MIB);
	memset(buf, 0xab, MIB);
	assert_int_equal(pwrite(fd, buf, 4096, 0), 4096);
	assert_int_equal(pwrite(fd, buf, MIB, 8 * MIB), MIB);
	memset(buf, 0, MIB);
	assert_int_equal(pwrite(fd, buf, MIB, 10 * MIB), MIB);
	assert_int_equal(ftruncate(fd, 12 * MIB), 0);
	close(fd);
	free(buf);
}

static void same_content(const char *a, const char *b, off_t len)
{
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	char *x = malloc(MIB), *y = malloc(MIB);
	for (off_t off = 0; off < len; off += MIB) {
		assert_int_equal(pread(fa, x, MIB, off), MIB);
		assert_int_equal(pread(fb, y, MIB, off), MIB);
		if (memcmp(x, y, MIB) != 0)
			fail_msg("content differs in the MiB at %lld", (long long)off);
	}
	free(x);
	free(y);
	close(fa);
	close(fb);
}

static void test_copy_sparse(void **state)
{
	struct fixture *f = *state;
	char src[512], dst[512], err[512];
	make_sparse(f, "images/sparse.img");
	snprintf(src, sizeof src, "%s/store/images/sparse.img", f->dir);
	for (int zero_only = 0; zero_only < 2; zero_only++) {
		snprintf(dst, sizeof dst, "%s/store/disks/copy%d.img", f->dir, zero_only);
		int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(
		    imgstore_copy_sparse(in, out, 12 * MIB, zero_only, err, sizeof err), 0);
		close(in);
		close(out);
		struct stat st;
		assert_int_equal(stat(dst, &st), 0);
		assert_int_equal(st.st_size, 12 * MIB);
		/* only the 4 KiB and the 1 MiB of data take space: zeros were not written */
		assert_true(st.st_blocks * 512 <= 2 * MIB);
		same_content(src, dst, 12 * MIB);
	}
}

static void test_clone(void **state)
{
	struct fixture *f = *state;
	char err[512], src[512], dst[512];
	enum imgstore_clone_method m = -1;
	make_sparse(f, "images/base.img");
	snprintf(src, sizeof src, "%s/store/images/base.img", f->dir);
	snprintf(dst, sizeof dst, "%s/store/disks/web1.img", f->dir);
	assert_int_equal(
	    imgstore_clone(f->s, "base.img", "web1.img", 64ULL * MIB, &m, err, sizeof err), 0);
	assert_true(m == IMGSTORE_CLONE_REFLINK || m == IMGSTORE_CLONE_SPARSE);
	struct stat st;
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_size, 64 * MIB); /* grown to disk_size */
	assert_true(st.st_blocks * 512 <= 2 * MIB);
	same_content(src, dst, 12 * MIB);
	/* an existing disk is never overwritten */
	assert_int_equal(imgstore_clone(f->s, "base.img", "web1.img", 0, &m, err, sizeof err), -1);
	assert_non_null(strstr(err, "disks/web1.img: already exists"));
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_size, 64 * MIB);
	/* smaller than the image: refused, nothing left */
	assert_int_equal(
	    imgstore_clone(f->s, "base.img", "web2.img", 1ULL * MIB, &m, err, sizeof err), -1);
	assert_non_null(strstr(err, "smaller than the image"));
	assert_false(imgstore_exists(f->s, IMGSTORE_DISKS, "web2.img"));
	/* a missing image */
	assert_int_equal(imgstore_clone(f->s, "none.img", "web3.img", 0, &m, err, sizeof err), -1);
	assert_false(imgstore_exists(f->s, IMGSTORE_DISKS, "web3.img"));
	assert_int_equal(imgstore_remove(f->s, IMGSTORE_DISKS, "web1.img", err, sizeof err), 0);
	assert_false(imgstore_exists(f->s, IMGSTORE_DISKS, "web1.img"));
	assert_int_equal(imgstore_remove(f->s, IMGSTORE_DISKS, "../x", err, sizeof err), -1);
}

/* A loopback port nothing listens on. */
static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

static void test_fetch_failures_leave_nothing(void **state)
{
	struct fixture *f = *state;
	char url[128], err[1024];
	struct imgstore_fetch_result res;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/base.img", closed_port());
	struct imgstore_fetch_opts o = {.url = url, .name = "base.img", .sha256 = ABC_SHA};
	assert_int_equal(imgstore_fetch(f->s, &o, &res, err, sizeof err), -1);
	assert_non_null(strstr(err, "image base.img: http://127.0.0.1:"));
	assert_int_equal(count_dir(f, "images", 1), 0);

	o.url = "file:///etc/passwd";
	assert_int_equal(imgstore_fetch(f->s, &o, &res, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected http:// or https://"));
	o.url = url;
	o.name = "../base.img";
	assert_int_equal(imgstore_fetch(f->s, &o, &res, err, sizeof err), -1);
	o.name = "base.img";
	o.sha256 = "nothex";
	assert_int_equal(imgstore_fetch(f->s, &o, &res, err, sizeof err), -1);
	assert_non_null(strstr(err, "sha256"));
	assert_int_equal(count_dir(f, "images", 1), 0);

	/* an image already present and matching is reused without any transfer */
	put(f, "images/base.img", "abc", 3);
	o.sha256 = ABC_SHA;
	assert_int_equal(imgstore_fetch(f->s, &o, &res, err, sizeof err), 0);
	assert_true(res.reused);
	assert_int_equal(res.attempts, 0);
	assert_int_equal(res.bytes, 3);

	/* another sum for the same image name (another template, a typo): the image is kept,
	 * nothing is downloaded over it, and the message says why */
	o.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	assert_int_equal(imgstore_fetch(f->s, &o, &res, err, sizeof err), -1);
	assert_int_equal(res.attempts, 0);
	assert_non_null(strstr(err, "sha256 mismatch"));
	assert_non_null(strstr(err, "images/base.img is kept"));
	o.sha256 = ABC_SHA;
	assert_int_equal(imgstore_fetch(f->s, &o, &res, err, sizeof err), 0);
	assert_true(res.reused);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_name_from_url),
	    cmocka_unit_test(test_sha256_parse),
	    cmocka_unit_test_setup_teardown(test_open_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_local_image_confined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sha256_and_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_sparse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch_failures_leave_nothing, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
