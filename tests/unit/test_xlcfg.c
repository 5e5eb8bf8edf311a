/* test_xlcfg.c - the xl.cfg subset: parsing, every error, setters, writer round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/config/xlcfg.h"

static char err[512];

static struct xlcfg *parse(const char *text)
{
	struct xlcfg *c = NULL;
	if (xlcfg_parse(text, "web1.cfg", &c, err, sizeof err) != 0)
		fail_msg("unexpected error: %s", err);
	assert_non_null(c);
	return c;
}

static const char sample[] =
    "# a guest\n"
    "name = \"web1\"\n"
    "memory = 1024\n"
    "vcpus=2;  maxvcpus = 0x4 ; # two statements\n"
    "kernel = '/boot/vmlinuz'\n"
    "disk = [ \"file:/store/web1.img,xvda,w\",\n"
    "         'file:/store/data.img,xvdb,w', # second disk\n"
    "       ]\n"
    "vif = []\n"
    "cpus = [ 1, 2 ]\n"
    "extra = \"root=/dev/xvda1 console=hvc0\"\n"
    "escapes = \"q\\\"s\\'b\\\\n\\nt\\tx\\x4Fo\\101a\\ab\\bf\\fr\\rv\\v\"\n"
    "on_crash = \"restart\";\n"
    "neg = -5\r\n"
    "octal = 010\n"
    "memory = 2048 # a later value wins\n";

static void test_parse_sample(void **state)
{
	struct xlcfg *c = parse(sample);
	assert_int_equal(c->n, 13);
	assert_string_equal(xlcfg_str(c, "name"), "web1");
	long long v;
	assert_int_equal(xlcfg_int(c, "memory", &v), 0);
	assert_int_equal(v, 2048);
	const struct xlcfg_item *it = xlcfg_get(c, "memory");
	assert_int_equal(it->line, 16);
	assert_ptr_equal(it, &c->items[1]); /* keeps its first place */
	assert_int_equal(xlcfg_int(c, "vcpus", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(xlcfg_int(c, "maxvcpus", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(xlcfg_get(c, "maxvcpus")->line, 4);
	assert_string_equal(xlcfg_str(c, "kernel"), "/boot/vmlinuz");
	it = xlcfg_get(c, "disk");
	assert_int_equal(it->type, XLCFG_LIST);
	assert_int_equal(it->nlist, 2);
	assert_string_equal(it->list[0], "file:/store/web1.img,xvda,w");
	assert_string_equal(it->list[1], "file:/store/data.img,xvdb,w");
	assert_int_equal(it->line, 6);
	it = xlcfg_get(c, "vif");
	assert_int_equal(it->type, XLCFG_LIST);
	assert_int_equal(it->nlist, 0);
	it = xlcfg_get(c, "cpus");
	assert_int_equal(it->nlist, 2);
	assert_string_equal(it->list[1], "2");
	assert_string_equal(xlcfg_str(c, "extra"), "root=/dev/xvda1 console=hvc0");
	assert_string_equal(xlcfg_str(c, "escapes"), "q\"s'b\\n\nt\tx"
	                                             "Oo"
	                                             "Aa\ab\bf\fr\rv\v");
	assert_string_equal(xlcfg_str(c, "on_crash"), "restart");
	assert_int_equal(xlcfg_int(c, "neg", &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(xlcfg_int(c, "octal", &v), 0);
	assert_int_equal(v, 8); /* as libxlutil reads it */
	xlcfg_free(c);
}

static void test_getters(void **state)
{
	struct xlcfg *c =
	    parse("s = \"42\"\nhex = \"0x10\"\nw = \"4 2\"\nsp = \" 4\"\nplus = "
	          "\"+4\"\nempty = \"\"\nl = [\"1\"]\nbig = \"99999999999999999999\"\n");
	long long v = 7;
	assert_int_equal(xlcfg_int(c, "s", &v), 0); /* a string holding an integer */
	assert_int_equal(v, 42);
	assert_int_equal(xlcfg_int(c, "hex", &v), 0);
	assert_int_equal(v, 16);
	v = 7;
	assert_int_equal(xlcfg_int(c, "w", &v), -1);
	assert_int_equal(xlcfg_int(c, "sp", &v), -1);
	assert_int_equal(xlcfg_int(c, "plus", &v), -1);
	assert_int_equal(xlcfg_int(c, "empty", &v), -1);
	assert_int_equal(xlcfg_int(c, "l", &v), -1);
	assert_int_equal(xlcfg_int(c, "big", &v), -1);
	assert_int_equal(xlcfg_int(c, "absent", &v), -1);
	assert_int_equal(v, 7);
	assert_null(xlcfg_str(c, "l"));
	assert_null(xlcfg_str(c, "absent"));
	assert_null(xlcfg_get(c, "absent"));
	assert_null(xlcfg_get(c, NULL));
	assert_null(xlcfg_get(NULL, "s"));
	xlcfg_free(c);
	c = parse("n = 5\n");
	assert_null(xlcfg_str(c, "n"));
	xlcfg_free(c);
}

static void test_empty(void **state)
{
	const char *texts[] = {"", "\n\n", "# nothing\n", ";;\n", "  \t\r\n"};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		struct xlcfg *c = parse(texts[i]);
		assert_int_equal(c->n, 0);
		char *w = xlcfg_write(c);
		assert_string_equal(w, "");
		free(w);
		xlcfg_free(c);
	}
	struct xlcfg *c = NULL;
	assert_int_equal(xlcfg_parse(NULL, NULL, &c, err, sizeof err), 0);
	xlcfg_free(c);
	xlcfg_free(NULL);
}

struct bad_case {
	const char *text;
	const char *error;
};

static void test_parse_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"= 1", "web1.cfg:1:1: expected a key (a letter, then letters, digits, '_' or '.'), "
	            "found '='"},
	    {"_x = 1", "web1.cfg:1:1: expected a key (a letter, then letters, digits, '_' or "
	               "'.'), found '_'"},
	    {"\n9 = 1", "web1.cfg:2:1: expected a key (a letter, then letters, digits, '_' or "
	                "'.'), found '9'"},
	    {"name \"x\"", "web1.cfg:1:6: expected '=' after the key, found '\"'"},
	    {"name", "web1.cfg:1:5: expected '=' after the key, found the end of the file"},
	    {"name\n= 1", "web1.cfg:1:5: expected '=' after the key, found the end of the line"},
	    {"memory += 1", "web1.cfg:1:8: expected '=' after the key, found '+'"},
	    {"name = web1", "web1.cfg:1:8: expected a value: a \"string\", an integer or a [ list "
	                    "], found 'w'"},
	    {"name =", "web1.cfg:1:7: expected a value: a \"string\", an integer or a [ list ], "
	               "found the end of the file"},
	    {"name =\n\"x\"", "web1.cfg:1:7: expected a value: a \"string\", an integer or a [ "
	                      "list ], found the end of the line"},
	    {"n = +5", "web1.cfg:1:5: expected a value: a \"string\", an integer or a [ list ], "
	               "found '+'"},
	    {"n = -", "web1.cfg:1:5: expected a value: a \"string\", an integer or a [ list ], "
	              "found '-'"},
	    {"n = 12ab", "web1.cfg:1:7: expected the end of the integer, found 'a'"},
	    {"n = 0x", "web1.cfg:1:6: expected the end of the integer, found 'x'"},
	    {"n = 99999999999999999999", "web1.cfg:1:5: expected an integer from "
	                                 "-9223372036854775808 to 9223372036854775807"},
	    {"n = 1 2", "web1.cfg:1:7: expected the end of the line or ';' after the value, "
	                "found '2'"},
	    {"n = \"a\" \"b\"", "web1.cfg:1:9: expected the end of the line or ';' after the "
	                        "value, found '\"'"},
	    {"n = \"open", "web1.cfg:1:10: expected a closing '\"', found the end of the file"},
	    {"n = 'open\nx = 1", "web1.cfg:1:10: expected a closing ''', found the end of the "
	                         "line"},
	    {"n = \"a\\q\"", "web1.cfg:1:8: expected an escape (\\\" \\' \\\\ \\a \\b \\f \\n \\r "
	                     "\\t \\v \\xHH \\ooo) after '\\', found 'q'"},
	    {"n = \"a\\", "web1.cfg:1:8: expected an escape (\\\" \\' \\\\ \\a \\b \\f \\n \\r \\t "
	                  "\\v \\xHH \\ooo) after '\\', found the end of the file"},
	    {"n = \"\\x4\"", "web1.cfg:1:6: expected two hex digits after '\\x'"},
	    {"n = \"\\xg0\"", "web1.cfg:1:6: expected two hex digits after '\\x'"},
	    {"n = \"\\x00\"", "web1.cfg:1:6: expected a character other than NUL in the escape"},
	    {"n = \"\\0\"", "web1.cfg:1:6: expected a character other than NUL in the escape"},
	    {"n = \"\\777\"", "web1.cfg:1:6: expected an octal escape up to \\377"},
	    {"l = [ \"a\" \"b\" ]", "web1.cfg:1:11: expected ',' or ']' after a list element, "
	                            "found '\"'"},
	    {"l = [ \"a\",\n  x ]", "web1.cfg:2:3: expected a string, an integer or ']' in the "
	                            "list, found 'x'"},
	    {"l = [ \"a\"", "web1.cfg:1:10: expected ',' or ']' after a list element, found the "
	                    "end of the file"},
	    {"l = [", "web1.cfg:1:6: expected a string, an integer or ']' in the list, found the "
	              "end of the file"},
	    {"l = [ [\"a\"] ]", "web1.cfg:1:7: expected a string or an integer (lists do not "
	                        "nest), found '['"},
	    {"l = [ , ]", "web1.cfg:1:7: expected a string, an integer or ']' in the list, found "
	                  "','"},
	    {"l = [ \"a\\z\" ]", "web1.cfg:1:10: expected an escape (\\\" \\' \\\\ \\a \\b \\f \\n "
	                         "\\r \\t \\v \\xHH \\ooo) after '\\', found 'z'"},
	    {"l = [ 1x ]", "web1.cfg:1:8: expected the end of the integer, found 'x'"},
	    {"l = [ \"a\" ] x", "web1.cfg:1:13: expected the end of the line or ';' after the "
	                        "value, found 'x'"},
	    {"ok = 1\nbad\x01 = 2", "web1.cfg:2:4: expected '=' after the key, found byte 0x01"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct xlcfg *c = (struct xlcfg *)1;
		err[0] = '\0';
		int r = xlcfg_parse(cases[i].text, "web1.cfg", &c, err, sizeof err);
		if (r != -1 || strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: %s\n  got %d: %s\n  expected: %s", i, cases[i].text, r,
			         err, cases[i].error);
		assert_null(c);
	}
	/* a small or absent error buffer is fine */
	struct xlcfg *c = NULL;
	char small[8];
	assert_int_equal(xlcfg_parse("x", "web1.cfg", &c, small, sizeof small), -1);
	assert_true(strlen(small) < sizeof small);
	assert_int_equal(xlcfg_parse("x", "web1.cfg", &c, NULL, 0), -1);
	assert_int_equal(xlcfg_parse("x", NULL, &c, err, sizeof err), -1);
	assert_int_equal(strncmp(err, "(xl.cfg):1:2: ", 14), 0);
}

static void test_setters(void **state)
{
	struct xlcfg *c = xlcfg_new();
	assert_non_null(c);
	assert_int_equal(xlcfg_set_str(c, "name", "web1"), 0);
	assert_int_equal(xlcfg_set_int(c, "memory", 512), 0);
	const char *disks[] = {"file:/a.img,xvda,w", "file:/b.img,xvdb,r"};
	assert_int_equal(xlcfg_set_list(c, "disk", disks, 2), 0);
	assert_int_equal(c->n, 3);
	/* replacing keeps the place and may change the type */
	assert_int_equal(xlcfg_set_int(c, "name", 5), 0);
	assert_int_equal(xlcfg_set_str(c, "name", "web2"), 0);
	assert_int_equal(xlcfg_set_str(c, "memory", "1024"), 0);
	assert_int_equal(xlcfg_set_list(c, "disk", disks, 1), 0);
	assert_int_equal(xlcfg_set_str(c, "disk", "x"), 0);
	assert_int_equal(xlcfg_set_list(c, "disk", NULL, 0), 0);
	assert_int_equal(c->n, 3);
	assert_string_equal(c->items[0].key, "name");
	assert_string_equal(xlcfg_str(c, "name"), "web2");
	long long v;
	assert_int_equal(xlcfg_int(c, "memory", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(xlcfg_get(c, "disk")->nlist, 0);

	/* bad keys and arguments */
	const char *bad_keys[] = {"", "9a", "_a", "a b", "a-b", "a=b", "a\n", "a#", NULL};
	for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++) {
		assert_int_equal(xlcfg_set_str(c, bad_keys[i], "x"), -1);
		assert_int_equal(xlcfg_set_int(c, bad_keys[i], 1), -1);
		assert_int_equal(xlcfg_set_list(c, bad_keys[i], disks, 1), -1);
	}
	assert_int_equal(xlcfg_set_str(c, "ok", NULL), -1);
	const char *with_null[] = {"a", NULL};
	assert_int_equal(xlcfg_set_list(c, "ok", with_null, 2), -1);
	assert_int_equal(xlcfg_set_list(c, "ok", NULL, 2), -1);
	assert_int_equal(xlcfg_set_int(NULL, "ok", 1), -1);
	assert_int_equal(c->n, 3);
	assert_int_equal(xlcfg_set_int(c, "a.b_C9", 1), 0);
	xlcfg_free(c);
}

/* Same keys, order, types and values. */
static void assert_same(const struct xlcfg *a, const struct xlcfg *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct xlcfg_item *x = &a->items[i], *y = &b->items[i];
		assert_string_equal(x->key, y->key);
		assert_int_equal(x->type, y->type);
		if (x->type == XLCFG_STRING)
			assert_string_equal(x->str, y->str);
		else if (x->type == XLCFG_INT)
			assert_true(x->num == y->num);
		else {
			assert_int_equal(x->nlist, y->nlist);
			for (size_t k = 0; k < x->nlist; k++)
				assert_string_equal(x->list[k], y->list[k]);
		}
	}
}

static void test_write_exact(void **state)
{
	struct xlcfg *c = xlcfg_new();
	const char *disks[] = {"file:/store/web1.img,xvda,w", "b"};
	xlcfg_set_str(c, "name", "web1");
	xlcfg_set_int(c, "memory", 1024);
	xlcfg_set_list(c, "disk", disks, 2);
	xlcfg_set_list(c, "vif", NULL, 0);
	xlcfg_set_str(c, "extra", "a\"b\\c\nd\te\rf\x01g'h");
	char *w = xlcfg_write(c);
	assert_string_equal(w, "name = \"web1\"\n"
	                       "memory = 1024\n"
	                       "disk = [ \"file:/store/web1.img,xvda,w\", \"b\" ]\n"
	                       "vif = [ ]\n"
	                       "extra = \"a\\\"b\\\\c\\nd\\te\\rf\\x01g'h\"\n");
	struct xlcfg *back = parse(w);
	assert_same(c, back);
	free(w);
	xlcfg_free(back);
	xlcfg_free(c);
}

static void test_round_trip_sample(void **state)
{
	struct xlcfg *c = parse(sample);
	char *w = xlcfg_write(c);
	struct xlcfg *back = parse(w);
	assert_same(c, back);
	/* and writing again gives the same text */
	char *w2 = xlcfg_write(back);
	assert_string_equal(w, w2);
	free(w);
	free(w2);
	xlcfg_free(back);
	xlcfg_free(c);
}

static void test_round_trip_all_bytes(void **state)
{
	/* every byte but NUL survives the writer and the parser, in strings and lists */
	char all[256];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	struct xlcfg *c = xlcfg_new();
	assert_int_equal(xlcfg_set_str(c, "s", all), 0);
	const char *l[] = {all, "", "x"};
	assert_int_equal(xlcfg_set_list(c, "l", l, 3), 0);
	assert_int_equal(xlcfg_set_int(c, "min", LLONG_MIN), 0);
	assert_int_equal(xlcfg_set_int(c, "max", LLONG_MAX), 0);
	assert_int_equal(xlcfg_set_str(c, "e", ""), 0);
	char *w = xlcfg_write(c);
	assert_null(strchr(w, '\r'));
	struct xlcfg *back = parse(w);
	assert_same(c, back);
	free(w);
	xlcfg_free(back);
	xlcfg_free(c);
}

static void test_many_items(void **state)
{
	struct xlcfg *c = xlcfg_new();
	char key[16], val[16];
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof key, "k%d", i);
		snprintf(val, sizeof val, "v%d", i);
		assert_int_equal(xlcfg_set_str(c, key, val), 0);
	}
	const char *many[100];
	for (int i = 0; i < 100; i++)
		many[i] = "element";
	assert_int_equal(xlcfg_set_list(c, "big", many, 100), 0);
	char *w = xlcfg_write(c);
	struct xlcfg *back = parse(w);
	assert_same(c, back);
	assert_int_equal(xlcfg_get(back, "big")->nlist, 100);
	free(w);
	xlcfg_free(back);
	xlcfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_sample),
	    cmocka_unit_test(test_getters),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_setters),
	    cmocka_unit_test(test_write_exact),
	    cmocka_unit_test(test_round_trip_sample),
	    cmocka_unit_test(test_round_trip_all_bytes),
	    cmocka_unit_test(test_many_items),
	};
	return cmocka_run_group_tests_name("xlcfg", tests, NULL, NULL);
}
