/* test_conf.c - the configuration format: parsing, every parse error, getters, units. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/config/conf.h"

static char err[4096];

static struct conf *parse(const char *text)
{
	struct conf *c = NULL;
	int n = conf_parse_string(text, "t.conf", &c, err, sizeof err);
	if (n != 0)
		fail_msg("unexpected errors: %s", err);
	assert_non_null(c);
	return c;
}

static const char sample[] = "# host agent\n"
                             "name = h1\n"
                             "broker = mqtt://127.0.0.1:1883   # trailing comment\n"
                             "interval=2s\n"
                             "\n"
                             "  ; another comment\n"
                             "[sim]\n"
                             "cpus = 8\n"
                             "memory = 32G\n"
                             "load = 0.75 ; comment\n"
                             "title = \"a \\\"quoted\\\" \\\\ value\\nwith\\ttabs\"\n"
                             "empty = \"\"\n"
                             "[vm web1]\n"
                             "vcpus = 2\n"
                             "[vm \"db 1\"]\n"
                             "vcpus = 4\n"
                             "[ vm  web2 ]   # spaces inside brackets\n"
                             "vcpus = 1\r\n"
                             "enabled = yes\n"
                             "[vm web1]\n"
                             "vcpus = 3\n";

static void test_parse_sample(void **state)
{
	struct conf *c = parse(sample);
	assert_string_equal(c->file, "t.conf");
	assert_int_equal(c->n, 13);
	assert_string_equal(c->entries[0].section, "");
	assert_string_equal(c->entries[0].arg, "");
	assert_string_equal(c->entries[0].key, "name");
	assert_string_equal(c->entries[0].value, "h1");
	assert_int_equal(c->entries[0].line, 2);
	assert_string_equal(c->entries[1].value, "mqtt://127.0.0.1:1883");
	assert_string_equal(c->entries[2].key, "interval");
	assert_string_equal(c->entries[2].value, "2s");
	/* sections in order, a repeated one listed once */
	assert_int_equal(c->nsections, 4);
	assert_string_equal(c->sections[0].name, "sim");
	assert_string_equal(c->sections[0].arg, "");
	assert_int_equal(c->sections[0].line, 7);
	assert_string_equal(c->sections[1].name, "vm");
	assert_string_equal(c->sections[1].arg, "web1");
	assert_string_equal(c->sections[2].arg, "db 1");
	assert_string_equal(c->sections[3].arg, "web2");

	const char *s;
	assert_int_equal(conf_get_str(c, "sim", NULL, "title", &s, err, sizeof err), 0);
	assert_string_equal(s, "a \"quoted\" \\ value\nwith\ttabs");
	assert_int_equal(conf_get_str(c, "sim", "", "empty", &s, err, sizeof err), 0);
	assert_string_equal(s, "");
	int64_t i;
	assert_int_equal(conf_get_int(c, "sim", NULL, "cpus", 1, 1024, &i, err, sizeof err), 0);
	assert_int_equal(i, 8);
	assert_int_equal(conf_get_int(c, "vm", "db 1", "vcpus", 1, 64, &i, err, sizeof err), 0);
	assert_int_equal(i, 4);
	/* the last value wins, across repeated sections */
	assert_int_equal(conf_get_int(c, "vm", "web1", "vcpus", 1, 64, &i, err, sizeof err), 0);
	assert_int_equal(i, 3);
	/* arg NULL: any argument, last one */
	const struct conf_entry *en = conf_find(c, "vm", NULL, "vcpus");
	assert_non_null(en);
	assert_string_equal(en->arg, "web1");
	assert_int_equal(en->line, 21);
	double d;
	assert_int_equal(conf_get_num(c, "sim", NULL, "load", 0, 100, &d, err, sizeof err), 0);
	assert_true(d == 0.75);
	int b = 0;
	assert_int_equal(conf_get_bool(c, "vm", "web2", "enabled", &b, err, sizeof err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(
	    conf_get_size_mb(c, "sim", NULL, "memory", 1, 1 << 30, &i, err, sizeof err), 0);
	assert_int_equal(i, 32768);
	assert_int_equal(conf_get_duration(c, "", NULL, "interval", 1, 60000, &i, err, sizeof err),
	                 0);
	assert_int_equal(i, 2000);
	/* CR before LF is ignored */
	assert_int_equal(conf_get_int(c, "vm", "web2", "vcpus", 1, 64, &i, err, sizeof err), 0);
	assert_int_equal(i, 1);
	conf_free(c);
}

static void test_absent(void **state)
{
	struct conf *c = parse("a = 1\n[s]\nb = 2\n");
	const char *s = "x";
	int64_t i = 5;
	double d = 1.5;
	int b = 7;
	assert_null(conf_find(c, "", NULL, "b")); /* b is in [s] */
	assert_null(conf_find(c, "s", NULL, "a"));
	assert_null(conf_find(c, "s", "arg", "b")); /* [s] has no argument */
	assert_int_equal(conf_get_str(c, "", NULL, "nope", &s, err, sizeof err), 1);
	assert_int_equal(conf_get_int(c, "", NULL, "nope", 0, 1, &i, err, sizeof err), 1);
	assert_int_equal(conf_get_num(c, "", NULL, "nope", 0, 1, &d, err, sizeof err), 1);
	assert_int_equal(conf_get_bool(c, "", NULL, "nope", &b, err, sizeof err), 1);
	assert_int_equal(conf_get_duration(c, "", NULL, "nope", 0, 1, &i, err, sizeof err), 1);
	assert_int_equal(conf_get_size_mb(c, "", NULL, "nope", 0, 1, &i, err, sizeof err), 1);
	assert_string_equal(s, "x");
	assert_int_equal(i, 5);
	assert_true(d == 1.5);
	assert_int_equal(b, 7);
	/* NULL section means the top level */
	assert_int_equal(conf_get_int(c, NULL, NULL, "a", 0, 9, &i, err, sizeof err), 0);
	assert_int_equal(i, 1);
	conf_free(c);
}

static void test_empty_inputs(void **state)
{
	struct conf *c = parse("");
	assert_int_equal(c->n, 0);
	assert_int_equal(c->nsections, 0);
	conf_free(c);
	c = parse("# only a comment");
	assert_int_equal(c->n, 0);
	conf_free(c);
	c = parse("k = v"); /* no final newline */
	assert_string_equal(c->entries[0].value, "v");
	conf_free(c);
	struct conf *out = (struct conf *)1;
	assert_int_equal(conf_parse_string(NULL, NULL, &out, err, sizeof err), 0);
	assert_string_equal(out->file, "(config)");
	conf_free(out);
	conf_free(NULL);
}

struct bad_case {
	const char *text;
	const char *error; /* the whole message */
};

static void test_multi_word_values(void **state)
{
		struct conf *c;
	assert_int_equal(conf_parse_string("load = periodic 0.2  1.0 600s # comment\n"
					   "b = one\tword ; c\n",
					   "t.conf", &c, err, sizeof err),
			 0);
	const char *v;
	assert_int_equal(conf_get_str(c, "", NULL, "load", &v, err, sizeof err), 0);
	assert_string_equal(v, "periodic 0.2  1.0 600s");
	assert_int_equal(conf_get_str(c, "", NULL, "b", &v, err, sizeof err), 0);
	assert_string_equal(v, "one\tword");
	conf_free(c);
}

static void test_parse_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"= 1", "t.conf:1:1: expected a key, a [section] or a comment, found '='"},
	    {"  9key = 1", "t.conf:1:3: expected a key, a [section] or a comment, found '9'"},
	    {"key 1", "t.conf:1:5: expected '=' after the key, found '1'"},
	    {"key", "t.conf:1:4: expected '=' after the key, found the end of the line"},
	    {"ke y = 1", "t.conf:1:4: expected '=' after the key, found 'y'"},
	    {"key =", "t.conf:1:6: expected a value after '=', found the end of the line"},
	    {"key = # nothing", "t.conf:1:7: expected a value after '=', found '#'"},
	    {"key = ; nothing", "t.conf:1:7: expected a value after '=', found ';'"},
	    {"key = \"two\" words", "t.conf:1:13: expected the end of the line after the value, "
	                            "found 'w'"},
	    {"key = 'single'", "t.conf:1:7: expected a value (a word, a number or a \"quoted "
	                       "string\"), found '''"},
	    {"key = a=b", "t.conf:1:8: expected the end of the line after the value, found '='"},
	    {"key = \"open", "t.conf:1:12: expected a closing '\"', found the end of the line"},
	    {"key = \"bad \\q\"", "t.conf:1:13: expected one of \\\" \\\\ \\n \\t after '\\', "
	                          "found 'q'"},
	    {"key = \"trail\\", "t.conf:1:14: expected one of \\\" \\\\ \\n \\t after '\\', "
	                        "found the end of the line"},
	    {"key = \"a\"b", "t.conf:1:10: expected the end of the line after the value, found "
	                     "'b'"},
	    {"key = \x01", "t.conf:1:7: expected a value (a word, a number or a \"quoted "
	                   "string\"), found byte 0x01"},
	    {"[", "t.conf:1:2: expected a section name, found the end of the line"},
	    {"[]", "t.conf:1:2: expected a section name, found ']'"},
	    {"[1vm]", "t.conf:1:2: expected a section name, found '1'"},
	    {"[vm", "t.conf:1:4: expected a space, an argument or ']' after the section name, "
	            "found the end of the line"},
	    {"[vm web1", "t.conf:1:9: expected ']' to close the section, found the end of the "
	                 "line"},
	    {"[vm a b]", "t.conf:1:7: expected ']' to close the section, found 'b'"},
	    {"[vm\"x\"]", "t.conf:1:4: expected a space, an argument or ']' after the section "
	                  "name, found '\"'"},
	    {"[vm \"x]", "t.conf:1:8: expected a closing '\"', found the end of the line"},
	    {"[vm] x", "t.conf:1:6: expected the end of the line after ']', found 'x'"},
	    {"[vm]]", "t.conf:1:5: expected the end of the line after ']', found ']'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct conf *c = (struct conf *)1;
		int n = conf_parse_string(cases[i].text, "t.conf", &c, err, sizeof err);
		if (n != 1 || strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: %s\n  got %d: %s\n  expected: %s", i, cases[i].text, n,
			         err, cases[i].error);
		assert_null(c);
	}
}

static void test_all_errors_reported(void **state)
{
	struct conf *c = (struct conf *)1;
	const char *text = "a = 1\n"
	                   "b 2\n"
	                   "ok = yes\n"
	                   "[s\n"
	                   "c = \"x\n"
	                   "d = 4\n";
	assert_int_equal(conf_parse_string(text, "h.conf", &c, err, sizeof err), 3);
	assert_null(c);
	assert_string_equal(err, "h.conf:2:3: expected '=' after the key, found '2'\n"
	                         "h.conf:4:3: expected a space, an argument or ']' after the "
	                         "section name, found the end of the line\n"
	                         "h.conf:5:7: expected a closing '\"', found the end of the line");
}

static void test_error_buffer_small(void **state)
{
	/* errors are counted even when the buffer is too small to hold them */
	char small[20];
	struct conf *c = NULL;
	assert_int_equal(conf_parse_string("x\ny\nz\n", "t.conf", &c, small, sizeof small), 3);
	assert_true(strlen(small) < sizeof small);
	assert_int_equal(strncmp(small, "t.conf:1:2: expecte", 19), 0);
	assert_int_equal(conf_parse_string("x\n", "t.conf", &c, NULL, 0), 1);
	assert_null(c);
}

static void test_getter_errors(void **state)
{
	struct conf *c = parse("n = abc\n"
	                       "big = 99\n"
	                       "f = 1.5x\n"
	                       "inf = inf\n"
	                       "b = maybe\n"
	                       "dur = 5y\n"
	                       "size = 4X\n"
	                       "[s]\n"
	                       "over = 99999999999999999999\n");
	int64_t i = 3;
	double d = 2;
	int b = 2;
	assert_int_equal(conf_get_int(c, "", NULL, "n", 16, 4096, &i, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:1: n: expected an integer from 16 to 4096, got \"abc\"");
	assert_int_equal(conf_get_int(c, "", NULL, "big", 1, 10, &i, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:2: big: expected an integer from 1 to 10, got \"99\"");
	assert_int_equal(conf_get_int(c, "", NULL, "f", 0, 10, &i, err, sizeof err), -1);
	assert_int_equal(
	    conf_get_int(c, "s", NULL, "over", INT64_MIN, INT64_MAX, &i, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:9: over: expected an integer from -9223372036854775808 to "
	                         "9223372036854775807, got \"99999999999999999999\"");
	assert_int_equal(i, 3);
	assert_int_equal(conf_get_num(c, "", NULL, "f", 0, 10, &d, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:3: f: expected a number from 0 to 10, got \"1.5x\"");
	assert_int_equal(conf_get_num(c, "", NULL, "inf", 0, 1e300, &d, err, sizeof err), -1);
	assert_int_equal(conf_get_num(c, "", NULL, "big", 0, 10, &d, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:2: big: expected a number from 0 to 10, got \"99\"");
	assert_true(d == 2);
	assert_int_equal(conf_get_bool(c, "", NULL, "b", &b, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:5: b: expected true or false (also yes/no, on/off, 1/0), "
	                         "got \"maybe\"");
	assert_int_equal(b, 2);
	assert_int_equal(conf_get_duration(c, "", NULL, "dur", 0, 1000, &i, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:6: dur: expected a duration from 0ms to 1000ms (e.g. "
	                         "500ms, 30s, 5m, 2h, 1d), got \"5y\"");
	assert_int_equal(conf_get_size_mb(c, "", NULL, "size", 1, 2, &i, err, sizeof err), -1);
	assert_string_equal(err, "t.conf:7: size: expected a size from 1 to 2 MiB (e.g. 512, "
	                         "512M, 4G, 1T), got \"4X\"");
	assert_int_equal(conf_get_size_mb(c, "", NULL, "big", 1, 2, &i, err, sizeof err), -1);
	assert_int_equal(conf_get_duration(c, "", NULL, "big", 0, 1000, &i, err, sizeof err), -1);
	assert_int_equal(i, 3);
	conf_free(c);
}

static void test_bool_words(void **state)
{
	struct conf *c = parse("a=true\nb=YES\nc=on\nd=1\ne=false\nf=No\ng=off\nh=0\n");
	const char *keys = "abcdefgh";
	for (int k = 0; k < 8; k++) {
		char key[2] = {keys[k], 0};
		int b = -1;
		assert_int_equal(conf_get_bool(c, "", NULL, key, &b, err, sizeof err), 0);
		assert_int_equal(b, k < 4);
	}
	conf_free(c);
}

static void test_unused(void **state)
{
	struct conf *c = parse("name = h1\n"
	                       "nmae = typo\n"
	                       "name = h2\n"
	                       "[sim]\n"
	                       "cpus = 4\n"
	                       "cpuss = 4\n"
	                       "[vm web1]\n"
	                       "vcpu = 2\n");
	const char *s;
	int64_t i;
	assert_int_equal(conf_get_str(c, "", NULL, "name", &s, err, sizeof err), 0);
	assert_string_equal(s, "h2");
	assert_int_equal(conf_get_int(c, "sim", NULL, "cpus", 1, 8, &i, err, sizeof err), 0);
	assert_int_equal(conf_check_unused(c, err, sizeof err), 3);
	assert_string_equal(err, "t.conf:2: unknown key nmae\n"
	                         "t.conf:6: unknown key cpuss in [sim]\n"
	                         "t.conf:8: unknown key vcpu in [vm web1]");
	/* a caller may mark entries it walked itself */
	for (size_t k = 0; k < c->n; k++)
		c->entries[k].used = 1;
	assert_int_equal(conf_check_unused(c, err, sizeof err), 0);
	assert_string_equal(err, "");
	conf_free(c);
}

struct unit_case {
	const char *text;
	int ok;
	int64_t value;
};

static void test_durations(void **state)
{
	static const struct unit_case cases[] = {
	    {"500ms", 0, 500},   {"30s", 0, 30000},
	    {"5m", 0, 300000},   {"2h", 0, 7200000},
	    {"1d", 0, 86400000}, {"10", 0, 10000},
	    {"0", 0, 0},         {"1.5s", 0, 1500},
	    {"0.5", 0, 500},     {".25s", 0, 250},
	    {".", -1, 0},        {"2H", 0, 7200000},
	    {"100MS", 0, 100},   {"", -1, 0},
	    {"s", -1, 0},        {"-1s", -1, 0},
	    {"+1s", -1, 0},      {"1e3ms", -1, 0},
	    {"0x10", -1, 0},     {"1 s", -1, 0},
	    {"5y", -1, 0},       {"1sec", -1, 0},
	    {"inf", -1, 0},      {"nan", -1, 0},
	    {"1..2s", -1, 0},    {"99999999999999d", -1, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int64_t ms = -42;
		int r = conf_parse_duration(cases[i].text, &ms);
		if (r != cases[i].ok || (r == 0 && ms != cases[i].value))
			fail_msg("duration \"%s\": %d %lld", cases[i].text, r, (long long)ms);
		if (r != 0)
			assert_int_equal(ms, -42);
	}
	int64_t ms;
	assert_int_equal(conf_parse_duration(NULL, &ms), -1);
}

static void test_sizes(void **state)
{
	static const struct unit_case cases[] = {
	    {"512", 0, 512},
	    {"512M", 0, 512},
	    {"512MB", 0, 512},
	    {"512MiB", 0, 512},
	    {"4G", 0, 4096},
	    {"4g", 0, 4096},
	    {"4GiB", 0, 4096},
	    {"1T", 0, 1048576},
	    {"2TB", 0, 2097152},
	    {"0", 0, 0},
	    {"", -1, 0},
	    {"G", -1, 0},
	    {"1.5G", -1, 0},
	    {"-1G", -1, 0},
	    {"4K", -1, 0},
	    {"4 G", -1, 0},
	    {"1e3", -1, 0},
	    {"4P", -1, 0},
	    {"99999999999999999999T", -1, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int64_t mb = -42;
		int r = conf_parse_size_mb(cases[i].text, &mb);
		if (r != cases[i].ok || (r == 0 && mb != cases[i].value))
			fail_msg("size \"%s\": %d %lld", cases[i].text, r, (long long)mb);
	}
}

static void test_parse_file(void **state)
{
	char path[] = "/tmp/test_conf_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "[sim]\ncpus = 16\n";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	struct conf *c = NULL;
	assert_int_equal(conf_parse_file(path, &c, err, sizeof err), 0);
	assert_string_equal(c->file, path);
	int64_t i;
	assert_int_equal(conf_get_int(c, "sim", NULL, "cpus", 1, 64, &i, err, sizeof err), 0);
	assert_int_equal(i, 16);
	conf_free(c);

	/* errors name the file */
	FILE *f = fopen(path, "w");
	fputs("ok = 1\nbad\n", f);
	fclose(f);
	assert_int_equal(conf_parse_file(path, &c, err, sizeof err), 1);
	assert_null(c);
	char expect[128];
	snprintf(expect, sizeof expect,
	         "%s:2:4: expected '=' after the key, found the end of the line", path);
	assert_string_equal(err, expect);

	/* a NUL byte */
	f = fopen(path, "w");
	fwrite("a = 1\nb\0 = 2\n", 1, 13, f);
	fclose(f);
	assert_int_equal(conf_parse_file(path, &c, err, sizeof err), 1);
	snprintf(expect, sizeof expect, "%s:2: expected text, found a NUL byte", path);
	assert_string_equal(err, expect);

	/* over 1 MiB */
	f = fopen(path, "w");
	for (int k = 0; k < 1024 * 1024 / 8 + 1; k++)
		fputs("# ......\n", f);
	fclose(f);
	assert_int_equal(conf_parse_file(path, &c, err, sizeof err), 1);
	assert_non_null(strstr(err, "larger than 1048576 bytes"));
	assert_null(c);

	unlink(path);
	assert_int_equal(conf_parse_file(path, &c, err, sizeof err), 1);
	assert_non_null(strstr(err, "cannot open: No such file or directory"));
	assert_int_equal(conf_parse_file("/", &c, err, sizeof err), 1);
	assert_non_null(strstr(err, "/: cannot read: Is a directory"));
	assert_null(c);
}

static void test_many_entries(void **state)
{
	/* enough entries and sections to grow the tables several times */
	char text[8192];
	size_t o = 0;
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(text + o, sizeof text - o, "[vm v%d]\nvcpus = %d\n", i, i);
	struct conf *c = parse(text);
	assert_int_equal(c->n, 100);
	assert_int_equal(c->nsections, 100);
	int64_t v;
	assert_int_equal(conf_get_int(c, "vm", "v77", "vcpus", 0, 100, &v, err, sizeof err), 0);
	assert_int_equal(v, 77);
	assert_string_equal(c->sections[99].arg, "v99");
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_sample),
	    cmocka_unit_test(test_absent),
	    cmocka_unit_test(test_empty_inputs),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_multi_word_values),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_error_buffer_small),
	    cmocka_unit_test(test_getter_errors),
	    cmocka_unit_test(test_bool_words),
	    cmocka_unit_test(test_unused),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_parse_file),
	    cmocka_unit_test(test_many_entries),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
