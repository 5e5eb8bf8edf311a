/* test_cfgstore.c - the xl.cfg confd writes: libxlutil (what xl and the xen driver use)
 * reads back exactly the template's values; files are written atomically, never replaced
 * unless asked, and removed cleanly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "../../agents/confd/cfgstore.h"
#include "../../agents/confd/templates.h"
#include "../../lib/config/xlcfg.h"

static const char tmpl[] = "kernel = /boot/vmlinuz-6.1\n"
                           "ramdisk = /boot/initrd.img-6.1\n"
                           "image = base.img\n"
                           "memory = 768\n"
                           "vcpus = 3\n"
                           "bridge = xenbr0\n"
                           "root = \"/dev/xvda1 ro\"\n"
                           "extra = \"console=hvc0 say=\\\"hi\\\" back\\\\slash\"\n"
                           "xl.on_crash = restart\n"
                           "xl.maxmem = 1024\n"
                           "xl.vfb = \"[ 'vnc=1', 'vnclisten=127.0.0.1' ]\"\n";

static struct template *load_tmpl(void)
{
	struct template *t;
	char err[2048];
	if (template_parse(tmpl, "t.tmpl", "web", &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	return t;
}

static void want_string(XLU_Config *c, const char *key, const char *want)
{
	const char *v = NULL;
	if (xlu_cfg_get_string(c, key, &v, 0) != 0)
		fail_msg("libxlutil finds no string %s", key);
	assert_string_equal(v, want);
}

static void want_long(XLU_Config *c, const char *key, long want)
{
	long v = -1;
	if (xlu_cfg_get_long(c, key, &v, 0) != 0)
		fail_msg("libxlutil finds no number %s", key);
	assert_int_equal(v, want);
}

static void want_list(XLU_Config *c, const char *key, const char *const *items, int n)
{
	XLU_ConfigList *l;
	int count = 0;
	if (xlu_cfg_get_list(c, key, &l, &count, 0) != 0)
		fail_msg("libxlutil finds no list %s", key);
	assert_int_equal(count, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(xlu_cfg_get_listitem(l, i), items[i]);
}

static void test_libxlutil_reads_it_back(void **state)
{
	struct template *t = load_tmpl();
	char err[1024];
	char *text = cfgstore_build(t, "web1", "/srv/store/disks/web1.img", err, sizeof err);
	if (!text)
		fail_msg("%s", err);
	FILE *report = fopen("/dev/null", "w");
	XLU_Config *c = xlu_cfg_init(report, "web1.cfg");
	assert_non_null(c);
	assert_int_equal(xlu_cfg_readdata(c, text, (int)strlen(text)), 0);
	want_string(c, "name", "web1");
	want_string(c, "kernel", "/boot/vmlinuz-6.1");
	want_string(c, "ramdisk", "/boot/initrd.img-6.1");
	want_long(c, "memory", 768);
	want_long(c, "vcpus", 3);
	const char *disk[] = {"format=raw,vdev=xvda,access=rw,target=/srv/store/disks/web1.img"};
	want_list(c, "disk", disk, 1);
	const char *vif[] = {"bridge=xenbr0"};
	want_list(c, "vif", vif, 1);
	want_string(c, "root", "/dev/xvda1 ro");
	want_string(c, "extra", "console=hvc0 say=\"hi\" back\\slash");
	want_string(c, "on_crash", "restart");
	want_long(c, "maxmem", 1024);
	const char *vfb[] = {"vnc=1", "vnclisten=127.0.0.1"};
	want_list(c, "vfb", vfb, 2);
	xlu_cfg_destroy(c);
	fclose(report);

	/* our own reader agrees */
	struct xlcfg *x;
	assert_int_equal(xlcfg_parse(text, "web1.cfg", &x, err, sizeof err), 0);
	assert_string_equal(xlcfg_str(x, "extra"), "console=hvc0 say=\"hi\" back\\slash");
	xlcfg_free(x);
	free(text);
	template_free(t);
}

static void test_build_rejects(void **state)
{
	struct template *t = load_tmpl();
	char err[512];
	assert_null(cfgstore_build(t, "../x", "/s/d.img", err, sizeof err));
	assert_non_null(strstr(err, "vm name"));
	assert_null(cfgstore_build(t, "ok", "/s/a,b.img", err, sizeof err));
	assert_non_null(strstr(err, "commas"));
	assert_null(cfgstore_build(t, "ok", "relative.img", err, sizeof err));
	template_free(t);
}

static void test_xl_values(void **state)
{
	struct xlcfg *c = xlcfg_new();
	char err[256];
	assert_int_equal(cfgstore_xl_value(c, "a", "42", err, sizeof err), 0);
	assert_int_equal(cfgstore_xl_value(c, "b", "-7", err, sizeof err), 0);
	assert_int_equal(cfgstore_xl_value(c, "c", "hvm", err, sizeof err), 0);
	assert_int_equal(cfgstore_xl_value(c, "d", "[ \"x\", 'y' ]", err, sizeof err), 0);
	assert_int_equal(cfgstore_xl_value(c, "e", "[ 1 2", err, sizeof err), -1);
	assert_non_null(strstr(err, "xl.e"));
	long long n;
	assert_int_equal(xlcfg_int(c, "a", &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(xlcfg_int(c, "b", &n), 0);
	assert_int_equal(n, -7);
	assert_string_equal(xlcfg_str(c, "c"), "hvm");
	assert_int_equal(xlcfg_get(c, "d")->nlist, 2);
	xlcfg_free(c);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	closedir(d);
	return n;
}

static void test_write_atomic(void **state)
{
	char dir[] = "/tmp/test_cfgstore.XXXXXX", err[512], path[512], buf[64] = "";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(cfgstore_write(dfd, "web1", "name = \"web1\"\n", 0, err, sizeof err), 0);
	assert_true(cfgstore_exists(dfd, "web1"));
	/* not replaced unless asked, and no temporary file is left behind */
	assert_int_equal(cfgstore_write(dfd, "web1", "name = \"other\"\n", 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "configs/web1.cfg: already exists"));
	assert_int_equal(count_entries(dir), 1);
	snprintf(path, sizeof path, "%s/web1.cfg", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "name = \"web1\"\n");
	assert_int_equal(cfgstore_write(dfd, "web1", "name = \"new\"\n", 1, err, sizeof err), 0);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "name = \"new\"\n");
	assert_int_equal(count_entries(dir), 1);
	/* names that would leave the directory */
	assert_int_equal(cfgstore_write(dfd, "../evil", "x", 0, err, sizeof err), -1);
	assert_int_equal(cfgstore_write(dfd, "a/b", "x", 0, err, sizeof err), -1);
	assert_int_equal(cfgstore_remove(dfd, "web1", err, sizeof err), 0);
	assert_false(cfgstore_exists(dfd, "web1"));
	assert_int_equal(cfgstore_remove(dfd, "web1", err, sizeof err), 0); /* absent is fine */
	assert_int_equal(count_entries(dir), 0);
	close(dfd);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libxlutil_reads_it_back),
	    cmocka_unit_test(test_build_rejects),
	    cmocka_unit_test(test_xl_values),
	    cmocka_unit_test(test_write_atomic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
