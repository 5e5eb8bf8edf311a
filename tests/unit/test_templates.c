/* test_templates.c - template files: parsing, every rejection, overrides, loading, listing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agents/confd/templates.h"

#define SHA "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
#define SHA_LC "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const char full[] = "# a web server\n"
                           "description = \"web server\"\n"
                           "kernel = /boot/vmlinuz\n"
                           "ramdisk = /boot/initrd.img\n"
                           "image = \"http://127.0.0.1:8080/img/base.img\"\n"
                           "sha256 = " SHA "\n"
                           "memory = 1G\n"
                           "vcpus = 2\n"
                           "disk_size = 2048\n"
                           "bridge = xenbr0\n"
                           "root = /dev/xvda1\n"
                           "extra = \"console=hvc0 quiet\"\n"
                           "xl.on_crash = restart\n"
                           "xl.maxmem = 2048\n"
                           "xl.vfb = \"[ 'vnc=1', 'vnclisten=127.0.0.1' ]\"\n";

static struct template *parse_ok(const char *text)
{
	struct template *t = NULL;
	char err[4096];
	int rc = template_parse(text, "t.tmpl", "web", &t, err, sizeof err);
	if (rc != 0)
		fail_msg("unexpected error: %s", err);
	assert_non_null(t);
	return t;
}

/* Parses text expecting failure, and checks that err holds each of the given pieces. */
static void parse_bad(const char *text, const char *want1, const char *want2)
{
	struct template *t = (struct template *)1;
	char err[4096];
	assert_int_equal(template_parse(text, "t.tmpl", "web", &t, err, sizeof err), -1);
	assert_null(t);
	if (!strstr(err, want1))
		fail_msg("error \"%s\" lacks \"%s\"", err, want1);
	if (want2 && !strstr(err, want2))
		fail_msg("error \"%s\" lacks \"%s\"", err, want2);
}

static void test_full(void **state)
{
	struct template *t = parse_ok(full);
	assert_string_equal(t->name, "web");
	assert_string_equal(t->description, "web server");
	assert_string_equal(t->kernel, "/boot/vmlinuz");
	assert_string_equal(t->ramdisk, "/boot/initrd.img");
	assert_string_equal(t->image, "http://127.0.0.1:8080/img/base.img");
	assert_true(t->image_is_url);
	assert_string_equal(t->sha256, SHA_LC);
	assert_int_equal(t->memory_mb, 1024);
	assert_int_equal(t->vcpus, 2);
	assert_int_equal(t->disk_size_mb, 2048);
	assert_string_equal(t->bridge, "xenbr0");
	assert_string_equal(t->root, "/dev/xvda1");
	assert_string_equal(t->extra, "console=hvc0 quiet");
	assert_int_equal(t->nxl, 3);
	assert_string_equal(t->xl[0].key, "on_crash");
	assert_string_equal(t->xl[0].value, "restart");
	assert_string_equal(t->xl[2].key, "vfb");
	template_free(t);
}

static void test_minimal_local_image(void **state)
{
	struct template *t = parse_ok("image = base.img\nmemory = 512M\n");
	assert_false(t->image_is_url);
	assert_string_equal(t->sha256, "");
	assert_int_equal(t->vcpus, 1);
	assert_int_equal(t->disk_size_mb, 0);
	assert_null(t->kernel);
	assert_null(t->bridge);
	template_free(t);
}

static void test_rejections(void **state)
{
	parse_bad("memory = 1G\n", "image: required", NULL);
	parse_bad("image = \"http://x/a.img\"\nmemory = 1G\n", "t.tmpl:1: sha256: required", NULL);
	parse_bad("image = a.img\nsha256 = 12ab\nmemory = 1G\n", "t.tmpl:2: sha256: expected 64",
	          NULL);
	parse_bad("image = a.img\n", "memory: required", NULL);
	parse_bad("image = a.img\nmemory = 8\n", "t.tmpl:2: memory: expected a size", NULL);
	parse_bad("image = a.img\nmemory = lots\n", "memory: expected a size", "lots");
	parse_bad("image = a.img\nmemory = 1G\nvcpus = 0\n", "vcpus", NULL);
	parse_bad("image = a.img\nmemory = 1G\nkernel = vmlinuz\n",
	          "t.tmpl:3: kernel: expected an "
	          "absolute path",
	          NULL);
	parse_bad("image = a.img\nmemory = 1G\nkernel = /boot/../etc/shadow\n",
	          "kernel: \"/boot/../etc/shadow\" may not contain a \"..\"", NULL);
	parse_bad("image = ../a.img\nmemory = 1G\n", "t.tmpl:1: image", NULL);
	parse_bad("image = \"ftp://x/a.img\"\nmemory = 1G\n", "only http:// and https://", NULL);
	parse_bad("image = \"http://x/\"\nsha256 = " SHA "\nmemory = 1G\n", "no file name", NULL);
	parse_bad("image = a.img\nmemory = 1G\nbridge = \"br 0\"\n", "t.tmpl:3: bridge", NULL);
	parse_bad("image = a.img\nmemory = 1G\ncolour = blue\n", "unknown key", "colour");
	parse_bad("image = a.img\nmemory = 1G\nxl.name = evil\n",
	          "t.tmpl:3: xl.name: set by "
	          "vmc-confd",
	          NULL);
	parse_bad("image = a.img\nmemory = 1G\nxl.disk = x\n", "xl.disk", NULL);
	parse_bad("image = a.img\nmemory = 1G\nxl.Bad-Key = x\n", "expected an xl.cfg key", NULL);
	parse_bad("image = a.img\nmemory = 1G\nxl.vfb = \"[ 'a', \"\n",
	          "xl.vfb: not an xl.cfg "
	          "list",
	          NULL);
	parse_bad("image = a.img\nmemory = 1G\n[vm x]\n", "templates have no sections", NULL);
	/* several problems: all reported, one a line */
	parse_bad("image = ../x\nmemory = 1\nvcpus = 9999\n", "t.tmpl:1:", "t.tmpl:2:");
	/* a syntax error from the parser itself */
	parse_bad("image = a.img\nmemory\n", "t.tmpl:2", NULL);
}

static void test_bad_name(void **state)
{
	struct template *t;
	char err[256];
	assert_int_equal(
	    template_parse("image = a\nmemory = 1G\n", "f", "../x", &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "template name"));
}

static void test_overrides(void **state)
{
	struct template *t = parse_ok(full);
	char err[512];
	cJSON *o = cJSON_Parse("{\"memory_mb\":4096,\"vcpus\":4,\"disk_size_mb\":8192,"
	                       "\"bridge\":\"br1\",\"extra\":\"x=1\"}");
	assert_int_equal(template_apply_overrides(t, o, err, sizeof err), 0);
	assert_int_equal(t->memory_mb, 4096);
	assert_int_equal(t->vcpus, 4);
	assert_int_equal(t->disk_size_mb, 8192);
	assert_string_equal(t->bridge, "br1");
	assert_string_equal(t->extra, "x=1");
	cJSON_Delete(o);

	static const struct {
		const char *json, *want;
	} bad[] = {
	    {"{\"kernel\":\"/x\"}", "args.overrides.kernel: unknown"},
	    {"{\"vcpus\":0}", "args.overrides.vcpus"},
	    {"{\"memory_mb\":\"big\"}", "args.overrides.memory_mb"},
	    {"{\"bridge\":\"a;b\"}", "args.overrides.bridge"},
	    {"{\"extra\":\"a\\nb\"}", "args.overrides.extra: control"},
	    {"[1]", "args.overrides: expected an object"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o = cJSON_Parse(bad[i].json);
		assert_int_equal(template_apply_overrides(t, o, err, sizeof err), -1);
		if (!strstr(err, bad[i].want))
			fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i].json, err, bad[i].want);
		cJSON_Delete(o);
	}
	assert_int_equal(template_apply_overrides(t, NULL, err, sizeof err), 0);
	template_free(t);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_and_list(void **state)
{
	char dir[] = "/tmp/test_templates.XXXXXX", err[2048];
	assert_non_null(mkdtemp(dir));
	write_file(dir, "web.tmpl", full);
	write_file(dir, "small.tmpl", "image = base.img\nmemory = 256\n");
	write_file(dir, "broken.tmpl", "image = base.img\n");
	write_file(dir, "notes.txt", "not a template\n");

	struct template *t;
	assert_int_equal(template_load(dir, "web", &t, err, sizeof err), 0);
	assert_int_equal(t->memory_mb, 1024);
	template_free(t);
	assert_int_equal(template_load(dir, "nope", &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown template \"nope\""));
	assert_int_equal(template_load(dir, "../web", &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "template"));
	assert_int_equal(template_load(dir, "broken", &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "broken.tmpl:1: memory: required"));

	cJSON *list, *errors;
	assert_int_equal(templates_list(dir, &list, &errors, err, sizeof err), 0);
	assert_int_equal(cJSON_GetArraySize(list), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "name")->valuestring,
	                    "small");
	cJSON *web = cJSON_GetArrayItem(list, 1);
	assert_string_equal(cJSON_GetObjectItem(web, "name")->valuestring, "web");
	assert_int_equal(cJSON_GetObjectItem(web, "vcpus")->valueint, 2);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(web, "xl"), "on_crash")->valuestring,
	    "restart");
	assert_int_equal(cJSON_GetArraySize(errors), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(errors, 0), "name")->valuestring,
	                    "broken");
	cJSON_Delete(list);
	cJSON_Delete(errors);
	assert_int_equal(templates_list("/nonexistent/dir", &list, &errors, err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/dir"));

	const char *names[] = {"web.tmpl", "small.tmpl", "broken.tmpl", "notes.txt"};
	for (size_t i = 0; i < 4; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),       cmocka_unit_test(test_minimal_local_image),
	    cmocka_unit_test(test_rejections), cmocka_unit_test(test_bad_name),
	    cmocka_unit_test(test_overrides),  cmocka_unit_test(test_load_and_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
