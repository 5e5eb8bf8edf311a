/* test_hv_xen.c - the xen driver where no Xen runs: open fails cleanly, and the
 * xl.cfg mapping and the logger work without dom0. (Inside dom0 the open test
 * is skipped; tests/xen/xen-probe exercises the rest there.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agents/hostd/drivers/xen/hv_xen_int.h"

/* --- open ---------------------------------------------------------------- */

static void test_open_fails_cleanly(void **state)
{
	char dir[] = "/tmp/test_hv_xen.XXXXXX", err[VMC_ERR_MAX] = "";
	struct hv_open_args args = {.host_name = "h1", .state_dir = dir};
	struct hv *h = (struct hv *)&args; /* must be reset to NULL */
	int rc;

	assert_non_null(mkdtemp(dir));
	rc = hv_xen_ops.open(&args, &h, err, sizeof err);
	if (rc == 0) {
		hv_xen_ops.close(h);
		rmdir(dir); /* may hold xen/ */
		skip();     /* a real dom0: nothing to test here */
	}
	assert_int_equal(rc, -1);
	assert_null(h);
	assert_non_null(strstr(err, "cannot open libxl context"));
	assert_non_null(strstr(err, "Xen dom0"));
	rmdir(dir);
}

static void test_open_needs_state_dir_or_dom0(void **state)
{
	char err[VMC_ERR_MAX] = "";
	struct hv_open_args args = {.host_name = "h1", .state_dir = NULL};
	struct hv *h = NULL;

	/* Fails either way outside dom0; never crashes on a NULL state_dir. */
	assert_int_equal(hv_xen_ops.open(&args, &h, err, sizeof err), -1);
	assert_null(h);
	assert_true(err[0] != '\0');
}

static void test_ops_complete(void **state)
{
	assert_string_equal(hv_xen_ops.name, "xen");
	assert_non_null(hv_xen_ops.open);
	assert_non_null(hv_xen_ops.close);
	assert_non_null(hv_xen_ops.host_info);
	assert_non_null(hv_xen_ops.list_vms);
	assert_non_null(hv_xen_ops.vm_config);
	assert_non_null(hv_xen_ops.create);
	assert_non_null(hv_xen_ops.shutdown);
	assert_non_null(hv_xen_ops.destroy);
	assert_non_null(hv_xen_ops.pause);
	assert_non_null(hv_xen_ops.unpause);
	assert_null(hv_xen_ops.guest_view);
	assert_non_null(hv_xen_ops.migrate_send);
	assert_non_null(hv_xen_ops.migrate_src_commit);
	assert_non_null(hv_xen_ops.migrate_src_abort);
	assert_non_null(hv_xen_ops.migrate_recv);
	assert_non_null(hv_xen_ops.migrate_dst_commit);
	assert_non_null(hv_xen_ops.migrate_dst_abort);
}

/* --- xl.cfg --------------------------------------------------------------- */

static const char *const full_cfg =
    "# a small PV guest\n"
    "name = \"web1\"\n"
    "type = \"pv\"\n"
    "memory = 128\n"
    "maxmem = 256\n"
    "vcpus = 2\n"
    "maxvcpus = 4\n"
    "kernel = \"/srv/vmlinuz\"\n"
    "ramdisk = \"/srv/initrd.img\"\n"
    "root = \"/dev/xvda1\"\n"
    "extra = \"console=hvc0 rdinit=/init\"\n"
    "disk = [ \"file:/store/web1.img,xvda,w\", "
    "\"format=raw, vdev=xvdb, access=ro, target=/store/data.img\" ]\n"
    "vif = [ \"mac=00:16:3e:01:02:03, bridge=xenbr0\", \"bridge=br1,rate=10Mb/s\", \"\" ]\n"
    "on_poweroff = \"destroy\"\n"
    "on_reboot = \"preserve\"\n"
    "on_crash = \"coredump-restart\"\n";

static void test_cfg_full(void **state)
{
	libxl_domain_config dc;
	char err[VMC_ERR_MAX] = "";
	int uuid_given = -1;

	assert_int_equal(xen_cfg_parse(full_cfg, &dc, &uuid_given, err, sizeof err), 0);
	assert_string_equal(dc.c_info.name, "web1");
	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_PV);
	assert_int_equal(uuid_given, 0);
	assert_false(libxl_uuid_is_nil(&dc.c_info.uuid));
	assert_int_equal(dc.b_info.target_memkb, 128 * 1024);
	assert_int_equal(dc.b_info.max_memkb, 256 * 1024);
	assert_int_equal(dc.b_info.max_vcpus, 4);
	assert_int_equal(libxl_bitmap_count_set(&dc.b_info.avail_vcpus), 2);
	assert_string_equal(dc.b_info.kernel, "/srv/vmlinuz");
	assert_string_equal(dc.b_info.ramdisk, "/srv/initrd.img");
	assert_string_equal(dc.b_info.cmdline, "root=/dev/xvda1 console=hvc0 rdinit=/init");

	assert_int_equal(dc.num_disks, 2);
	assert_string_equal(dc.disks[0].pdev_path, "/store/web1.img");
	assert_string_equal(dc.disks[0].vdev, "xvda");
	assert_int_equal(dc.disks[0].readwrite, 1);
	assert_string_equal(dc.disks[1].vdev, "xvdb");
	assert_int_equal(dc.disks[1].readwrite, 0);

	assert_int_equal(dc.num_nics, 3);
	assert_int_equal(dc.nics[0].devid, 0);
	assert_int_equal(dc.nics[0].mac[0], 0x00);
	assert_int_equal(dc.nics[0].mac[5], 0x03);
	assert_string_equal(dc.nics[0].bridge, "xenbr0");
	assert_int_equal(dc.nics[1].devid, 1);
	assert_string_equal(dc.nics[1].bridge, "br1");
	assert_true(dc.nics[1].rate_bytes_per_interval > 0);
	assert_null(dc.nics[2].bridge);

	assert_int_equal(dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
	assert_int_equal(dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART);
	assert_string_equal(xen_cfg_action_name(dc.on_crash), "coredump-restart");
	libxl_domain_config_dispose(&dc);
}

static void test_cfg_defaults(void **state)
{
	libxl_domain_config dc;
	char err[VMC_ERR_MAX] = "";
	const char *cfg = "name='g'\nmemory=64\nvcpus=1\nkernel='/k'\n"
	                  "uuid='5d8a3c6e-1b2f-4c1e-9f0a-0123456789ab'\n";
	int uuid_given = 0;

	assert_int_equal(xen_cfg_parse(cfg, &dc, &uuid_given, err, sizeof err), 0);
	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_PV);
	assert_int_equal(uuid_given, 1);
	assert_int_equal(dc.b_info.max_memkb, 64 * 1024);
	assert_int_equal(dc.b_info.max_vcpus, 1);
	assert_null(dc.b_info.cmdline);
	assert_int_equal(dc.num_disks, 0);
	assert_int_equal(dc.num_nics, 0);
	assert_int_equal(dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
	assert_int_equal(dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	libxl_domain_config_dispose(&dc);
}

static void test_cfg_cmdline_wins(void **state)
{
	libxl_domain_config dc;
	char err[VMC_ERR_MAX] = "";
	const char *cfg = "name='g'\nkernel='/k'\ncmdline='quiet'\nroot='/dev/xvda'\n"
	                  "extra='x'\n";

	assert_int_equal(xen_cfg_parse(cfg, &dc, NULL, err, sizeof err), 0);
	assert_string_equal(dc.b_info.cmdline, "quiet");
	libxl_domain_config_dispose(&dc);
}

static void test_cfg_hvm_pvh(void **state)
{
	libxl_domain_config dc;
	char err[VMC_ERR_MAX] = "";

	assert_int_equal(
	    xen_cfg_parse("name='w'\ntype='hvm'\nmemory=512\n", &dc, NULL, err, sizeof err), 0);
	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_HVM);
	assert_int_equal(dc.b_info.type, LIBXL_DOMAIN_TYPE_HVM);
	libxl_domain_config_dispose(&dc);
	assert_int_equal(
	    xen_cfg_parse("name='p'\ntype='pvh'\nkernel='/k'\n", &dc, NULL, err, sizeof err), 0);
	assert_int_equal(dc.c_info.type, LIBXL_DOMAIN_TYPE_PVH);
	libxl_domain_config_dispose(&dc);
	/* the CPUID policy a nested PVH guest needs is read, not ignored */
	const char *pvh = "name='p'\ntype='pvh'\nkernel='/k'\ncpuid='host,rdtscp=0'\n";
	assert_int_equal(xen_cfg_parse(pvh, &dc, NULL, err, sizeof err), 0);
	assert_non_null(dc.b_info.cpuid);
	libxl_domain_config_dispose(&dc);
	char buf[256];
	assert_int_equal(xen_cfg_ignored(pvh, buf, sizeof buf), 0);
}

/* Each bad config fails with a message containing the given words. */
static const struct {
	const char *cfg;
	const char *words;
} bad_cfgs[] = {
    {"memory=64\nkernel='/k'\n", "name: missing"},
    {"name='bad/name'\nkernel='/k'\n", "xl.cfg name"},
    {"name=[ 'a' ]\nkernel='/k'\n", "name: expected a quoted string"},
    {"name='x--incoming'\nkernel='/k'\n", "suffix migrations use"},
    {"name='g'\ntype='kvm'\nkernel='/k'\n", "\"kvm\" is not pv, pvh or hvm"},
    {"name='g'\nkernel='/k'\nmemory='lots'\n", "memory: expected a whole number"},
    {"name='g'\nkernel='/k'\nmemory=8\n", "memory: expected a whole number from 16"},
    {"name='g'\nkernel='/k'\nmemory=512\nmaxmem=256\n", "maxmem: 256 MiB is less"},
    {"name='g'\nkernel='/k'\nvcpus=0\n", "vcpus: expected a whole number from 1 to 512"},
    {"name='g'\nkernel='/k'\nvcpus=4\nmaxvcpus=2\n", "maxvcpus: 2 is less than vcpus"},
    {"name='g'\n", "kernel: missing"},
    {"name='g'\ntype='pvh'\n", "a pvh domain needs a kernel"},
    {"name='g'\nkernel='/k'\nuuid='nope'\n", "uuid: \"nope\" is not a UUID"},
    {"name='g'\nkernel='/k'\non_crash='explode'\n", "on_crash: \"explode\" is not one of"},
    {"name='g'\nkernel='/k'\ndisk='file:/x,xvda,w'\n", "disk: expected a list"},
    {"name='g'\nkernel='/k'\ndisk=['file:/x,xvda,w,bogus=1']\n", "disk 0"},
    {"name='g'\nkernel='/k'\nvif=['colour=red']\n", "vif 0 (\"colour=red\"): unknown key"},
    {"name='g'\nkernel='/k'\nvif=['bridge=b','mac=00:16:3e']\n", "vif 1"},
    {"name='g'\nkernel='/k'\nvif=['mac=zz:16:3e:01:02:03']\n", "is not six hex bytes"},
    {"name='g'\nkernel='/k'\nvif=['type=tap']\n", "\"tap\" is not vif or ioemu"},
    {"name='g'\nkernel='/k'\nvif=['bridge']\n", "expected KEY=VALUE"},
    {"name='g'\nkernel = = 'x'\n", "xl.cfg:2: config parsing error"},
    {"name='g'\nkernel='/k'\nbootloader_args='x'\n", "bootloader_args"},
    {"name='g'\nkernel='/k'\ncpuid='host,nosuchflag=0'\n",
     "\"nosuchflag=0\": unknown CPUID flag name"},
    {"name='g'\nkernel='/k'\ncpuid='rdtscp=0'\n", "expected \"host\" first"},
};

static void test_cfg_errors(void **state)
{
	for (size_t i = 0; i < sizeof bad_cfgs / sizeof bad_cfgs[0]; i++) {
		libxl_domain_config dc;
		char err[VMC_ERR_MAX] = "";

		if (xen_cfg_parse(bad_cfgs[i].cfg, &dc, NULL, err, sizeof err) != -1)
			fail_msg("config %zu was accepted:\n%s", i, bad_cfgs[i].cfg);
		if (!strstr(err, bad_cfgs[i].words))
			fail_msg("config %zu: error \"%s\" lacks \"%s\"", i, err,
			         bad_cfgs[i].words);
		libxl_domain_config_dispose(&dc);
	}
}

static void test_cfg_null_text(void **state)
{
	libxl_domain_config dc;
	char err[VMC_ERR_MAX] = "";

	assert_int_equal(xen_cfg_parse(NULL, &dc, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "no xl.cfg text"));
	libxl_domain_config_dispose(&dc);
}

static void test_cfg_ignored(void **state)
{
	char buf[128];

	assert_int_equal(xen_cfg_ignored(full_cfg, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(
	    xen_cfg_ignored("name='g'\nkernel='/k'\ncpus='0-1'\nvfb=['vnc=1']\n", buf, sizeof buf),
	    2);
	assert_string_equal(buf, "cpus, vfb");
	assert_int_equal(xen_cfg_ignored("this is not xl.cfg", buf, sizeof buf), 0);
	assert_int_equal(xen_cfg_ignored(NULL, buf, sizeof buf), 0);
}

/* Parses text, writes it back, parses that: both configs must agree. */
static void roundtrip(const char *text, libxl_domain_config *a, libxl_domain_config *b,
                      char **written)
{
	char err[VMC_ERR_MAX] = "";

	if (xen_cfg_parse(text, a, NULL, err, sizeof err) < 0)
		fail_msg("first parse: %s", err);
	*written = xen_cfg_write(a, err, sizeof err);
	if (!*written)
		fail_msg("write: %s", err);
	if (xen_cfg_parse(*written, b, NULL, err, sizeof err) < 0)
		fail_msg("second parse: %s\n%s", err, *written);
}

static void test_cfg_roundtrip(void **state)
{
	libxl_domain_config a, b;
	char *text;

	roundtrip(full_cfg, &a, &b, &text);
	assert_string_equal(a.c_info.name, b.c_info.name);
	assert_int_equal(a.c_info.type, b.c_info.type);
	assert_true(libxl_uuid_compare(&a.c_info.uuid, &b.c_info.uuid) == 0);
	assert_int_equal(a.b_info.target_memkb, b.b_info.target_memkb);
	assert_int_equal(a.b_info.max_memkb, b.b_info.max_memkb);
	assert_int_equal(a.b_info.max_vcpus, b.b_info.max_vcpus);
	assert_int_equal(libxl_bitmap_count_set(&b.b_info.avail_vcpus), 2);
	assert_string_equal(a.b_info.kernel, b.b_info.kernel);
	assert_string_equal(a.b_info.ramdisk, b.b_info.ramdisk);
	assert_string_equal(a.b_info.cmdline, b.b_info.cmdline);
	assert_int_equal(b.num_disks, 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(a.disks[i].pdev_path, b.disks[i].pdev_path);
		assert_string_equal(a.disks[i].vdev, b.disks[i].vdev);
		assert_int_equal(a.disks[i].readwrite, b.disks[i].readwrite);
		assert_int_equal(a.disks[i].format, b.disks[i].format);
	}
	assert_int_equal(b.num_nics, 3);
	assert_memory_equal(a.nics[0].mac, b.nics[0].mac, 6);
	assert_string_equal(a.nics[0].bridge, b.nics[0].bridge);
	assert_int_equal(a.nics[1].rate_interval_usecs, b.nics[1].rate_interval_usecs);
	assert_int_equal(a.nics[1].rate_bytes_per_interval, b.nics[1].rate_bytes_per_interval);
	assert_null(b.nics[2].bridge);
	assert_int_equal(a.on_poweroff, b.on_poweroff);
	assert_int_equal(a.on_reboot, b.on_reboot);
	assert_int_equal(a.on_crash, b.on_crash);
	free(text);
	libxl_domain_config_dispose(&a);
	libxl_domain_config_dispose(&b);

	/* Quotes, backslashes and commas in strings survive. */
	roundtrip("name='q'\nkernel='/k dir/vm\\\\linuz'\ncmdline=\"say \\\"hi\\\", x=1\"\n", &a,
	          &b, &text);
	assert_string_equal(a.b_info.kernel, "/k dir/vm\\linuz");
	assert_string_equal(a.b_info.cmdline, "say \"hi\", x=1");
	assert_string_equal(b.b_info.kernel, a.b_info.kernel);
	assert_string_equal(b.b_info.cmdline, a.b_info.cmdline);
	free(text);
	libxl_domain_config_dispose(&a);
	libxl_domain_config_dispose(&b);
}

/* --- logger ---------------------------------------------------------------- */

struct progress_seen {
	int calls;
	char what[64];
	unsigned long done, total;
};

static void on_progress(void *ud, const char *doing_what, unsigned long done, unsigned long total)
{
	struct progress_seen *p = ud;

	p->calls++;
	snprintf(p->what, sizeof p->what, "%s", doing_what);
	p->done = done;
	p->total = total;
}

static void *log_from_other_thread(void *arg)
{
	xtl_log(xen_log_xtl(arg), XTL_ERROR, -1, "test", "from another thread");
	return NULL;
}

/* Logs an error through l and returns what xen_log_first_error gives for it alone. */
static const char *log_one(struct xen_log *l, const char *msg, char *buf, size_t len)
{
	uint64_t mark = xen_log_mark(l);

	xtl_log(xen_log_xtl(l), XTL_ERROR, -1, "test", "%s", msg);
	xen_log_first_error(l, mark, buf, len);
	return buf;
}

static void test_log_first_error(void **state)
{
	FILE *sink = fopen("/dev/null", "w");
	char err[VMC_ERR_MAX], first[128];
	struct xen_log *l;
	uint64_t mark;
	pthread_t t;

	assert_non_null(sink);
	l = xen_log_new(sink, err, sizeof err);
	assert_non_null(l);
	mark = xen_log_mark(l);
	assert_int_equal(xen_log_first_error(l, mark, first, sizeof first), 0);
	assert_string_equal(first, "");
	xtl_log(xen_log_xtl(l), XTL_WARN, -1, "test", "only a warning");
	assert_int_equal(xen_log_first_error(l, mark, first, sizeof first), 0);
	/* The root cause comes first; what callers add after it does not hide it. */
	xtl_log(xen_log_xtl(l), XTL_ERROR, 2, "test", "cannot open %s", "/nothing");
	xtl_log(xen_log_xtl(l), XTL_ERROR, -1, "test", "cannot (re-)build domain: -3");
	assert_int_equal(xen_log_first_error(l, mark, first, sizeof first), 1);
	assert_string_equal(first, "cannot open /nothing: No such file or directory");
	/* Another thread's error is not this thread's. */
	mark = xen_log_mark(l);
	assert_int_equal(pthread_create(&t, NULL, log_from_other_thread, l), 0);
	pthread_join(t, NULL);
	assert_int_equal(xen_log_first_error(l, mark, first, sizeof first), 0);
	/* Source locations are dropped; other colons stay. */
	assert_string_equal(
	    log_one(l, "libxl.c:102:libxl_ctx_alloc: no handle", first, sizeof first), "no handle");
	assert_string_equal(
	    log_one(l, "panic: xg_dom_core.c:205: failed to open file", first, sizeof first),
	    "failed to open file");
	assert_string_equal(log_one(l, "Domain 3:a.c:7:f: x", first, sizeof first),
	                    "Domain 3:a.c:7:f: x");
	assert_string_equal(log_one(l, "a.c:7:two words: x", first, sizeof first),
	                    "a.c:7:two words: x");
	xen_log_free(l);
	fclose(sink);
}

static void test_log_progress(void **state)
{
	FILE *sink = fopen("/dev/null", "w");
	char err[VMC_ERR_MAX];
	struct progress_seen seen = {0};
	struct xen_log *l;

	assert_non_null(sink);
	l = xen_log_new(sink, err, sizeof err);
	assert_non_null(l);
	xtl_progress(xen_log_xtl(l), "xc", "Frames iteration 0", 10, 100); /* not routed yet */
	assert_int_equal(seen.calls, 0);
	xen_log_set_progress(l, on_progress, &seen);
	xtl_progress(xen_log_xtl(l), "xc", "Frames iteration 1", 40, 80);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.what, "Frames iteration 1");
	assert_int_equal(seen.done, 40);
	assert_int_equal(seen.total, 80);
	xen_log_set_progress(l, NULL, NULL);
	xtl_progress(xen_log_xtl(l), "xc", "Frames iteration 2", 1, 2);
	assert_int_equal(seen.calls, 1);
	xen_log_free(l);
	fclose(sink);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_fails_cleanly),
	    cmocka_unit_test(test_open_needs_state_dir_or_dom0),
	    cmocka_unit_test(test_ops_complete),
	    cmocka_unit_test(test_cfg_full),
	    cmocka_unit_test(test_cfg_defaults),
	    cmocka_unit_test(test_cfg_cmdline_wins),
	    cmocka_unit_test(test_cfg_hvm_pvh),
	    cmocka_unit_test(test_cfg_errors),
	    cmocka_unit_test(test_cfg_null_text),
	    cmocka_unit_test(test_cfg_ignored),
	    cmocka_unit_test(test_cfg_roundtrip),
	    cmocka_unit_test(test_log_first_error),
	    cmocka_unit_test(test_log_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
