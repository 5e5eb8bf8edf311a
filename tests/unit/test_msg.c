/* test_msg.c - the message codec: envelope, names, getters, commands, replies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/msg.h"

static char err[VMC_ERR_MAX];

static cJSON *parse_ok(const char *text)
{
	cJSON *m = NULL;
	assert_int_equal(msg_parse(text, strlen(text), &m, err, sizeof err), VMC_OK);
	assert_non_null(m);
	return m;
}

/* --- error codes ---------------------------------------------------------- */

static void test_err_codes_round_trip(void **state)
{
	for (int e = VMC_E_BAD_JSON; e < VMC_E__COUNT; e++)
		assert_int_equal(vmc_err_parse(vmc_err_code((enum vmc_err)e)), e);
	assert_string_equal(vmc_err_code(VMC_E_BAD_JSON), "bad_json");
	assert_string_equal(vmc_err_code(VMC_E_TOO_LARGE), "too_large");
	assert_string_equal(vmc_err_code(VMC_E_BAD_REQUEST), "bad_request");
	assert_string_equal(vmc_err_code(VMC_E_BAD_NAME), "bad_name");
	assert_string_equal(vmc_err_code(VMC_E_UNKNOWN_OP), "unknown_op");
	assert_string_equal(vmc_err_code(VMC_E_NOT_FOUND), "not_found");
	assert_string_equal(vmc_err_code(VMC_E_EXISTS), "exists");
	assert_string_equal(vmc_err_code(VMC_E_BAD_STATE), "bad_state");
	assert_string_equal(vmc_err_code(VMC_E_NO_MEMORY), "no_memory");
	assert_string_equal(vmc_err_code(VMC_E_BUSY), "busy");
	assert_string_equal(vmc_err_code(VMC_E_REFUSED), "refused");
	assert_string_equal(vmc_err_code(VMC_E_TIMEOUT), "timeout");
	assert_string_equal(vmc_err_code(VMC_E_FAILED), "failed");
	assert_string_equal(vmc_err_code(VMC_E_INTERNAL), "internal");
}

static void test_err_codes_unknown(void **state)
{
	assert_int_equal(vmc_err_parse("no_such_code"), VMC_E_INTERNAL);
	assert_int_equal(vmc_err_parse(""), VMC_E_INTERNAL);
	assert_int_equal(vmc_err_parse(NULL), VMC_E_INTERNAL);
	assert_string_equal(vmc_err_code(VMC_E__COUNT), "internal");
	assert_string_equal(vmc_err_code((enum vmc_err) - 1), "internal");
}

/* --- names ---------------------------------------------------------------- */

static void test_name_valid(void **state)
{
	const char *ok[] = {"web1", "a", "A-b_c.d", "0host", "x.y.z", "a..b", "a-", "_x"};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		assert_int_equal(vmc_name_check(ok[i], "vm name", err, sizeof err), 0);
	char max[VMC_NAME_MAX + 1];
	memset(max, 'a', VMC_NAME_MAX);
	max[VMC_NAME_MAX] = '\0';
	assert_int_equal(vmc_name_check(max, "vm name", err, sizeof err), 0);
}

static void expect_bad_name(const char *name, const char *fragment)
{
	err[0] = '\0';
	assert_int_equal(vmc_name_check(name, "vm name", err, sizeof err), -1);
	assert_non_null(strstr(err, "vm name: "));
	if (!strstr(err, fragment))
		fail_msg("name check error \"%s\" lacks \"%s\"", err, fragment);
}

static void test_name_rejected(void **state)
{
	expect_bad_name("", "must not be empty");
	expect_bad_name(NULL, "must not be empty");
	expect_bad_name(".", "must not start with '.'");
	expect_bad_name("..", "must not start with '.'");
	expect_bad_name("../x", "must not start with '.'");
	expect_bad_name(".hidden", "must not start with '.'");
	expect_bad_name("-rf", "must not start with '-'");
	expect_bad_name("a b", "character outside [A-Za-z0-9_.-] at position 2");
	expect_bad_name("$(reboot)", "at position 1");
	expect_bad_name("/", "character outside");
	expect_bad_name("a/b", "at position 2");
	expect_bad_name("x\ny", "\\x0a");
	expect_bad_name("caf\xc3\xa9", "at position 4");
	char long_name[301];
	memset(long_name, 'a', 300);
	long_name[300] = '\0';
	expect_bad_name(long_name, "longer than 64 characters");
	long_name[VMC_NAME_MAX + 1] = '\0';
	expect_bad_name(long_name, "longer than 64 characters");
	/* the echoed name is shortened */
	long_name[VMC_NAME_MAX + 1] = 'a';
	assert_int_equal(vmc_name_check(long_name, "vm name", err, sizeof err), -1);
	assert_non_null(strstr(err, "...\""));
}

static void test_name_default_what(void **state)
{
	assert_int_equal(vmc_name_check("", NULL, err, sizeof err), -1);
	assert_string_equal(err, "name: must not be empty");
	/* a NULL or empty error buffer is allowed */
	assert_int_equal(vmc_name_check("", NULL, NULL, 0), -1);
}

/* --- envelope ------------------------------------------------------------- */

static void test_envelope_round_trip(void **state)
{
	cJSON *m = msg_new("host/h1", 1700000000123LL);
	msg_set_seq(m, 7);
	msg_set_seq(m, 8); /* replaces */
	char *text = msg_print(m);
	cJSON_Delete(m);
	assert_string_equal(text, "{\"v\":1,\"from\":\"host/h1\",\"ts\":1700000000123,\"seq\":8}");
	cJSON *back = parse_ok(text);
	free(text);
	assert_int_equal(msg_check_envelope(back, err, sizeof err), 0);
	int64_t seq = 0;
	assert_int_equal(msg_get_int(back, NULL, "seq", 1, 0, INT64_MAX, &seq, err, sizeof err), 0);
	assert_int_equal(seq, 8);
	int64_t ts = 0;
	assert_int_equal(msg_get_int(back, NULL, "ts", 1, 0, INT64_MAX, &ts, err, sizeof err), 0);
	assert_int_equal(ts, 1700000000123LL);
	cJSON_Delete(back);
}

static void expect_bad_envelope(const char *text, const char *msg)
{
	cJSON *m = parse_ok(text);
	assert_int_equal(msg_check_envelope(m, err, sizeof err), -1);
	assert_string_equal(err, msg);
	cJSON_Delete(m);
}

static void test_envelope_rejected(void **state)
{
	expect_bad_envelope("{\"from\":\"a\",\"ts\":1}",
	                    "v: missing, expected an integer from 1 to 1");
	expect_bad_envelope("{\"v\":2,\"from\":\"a\",\"ts\":1}",
	                    "v: expected an integer from 1 to 1, got 2");
	expect_bad_envelope("{\"v\":\"1\",\"from\":\"a\",\"ts\":1}",
	                    "v: expected an integer from 1 to 1, got \"1\"");
	expect_bad_envelope("{\"v\":1,\"ts\":1}",
	                    "from: missing, expected a string of at most 512 characters");
	expect_bad_envelope("{\"v\":1,\"from\":5,\"ts\":1}",
	                    "from: expected a string of at most 512 characters, got 5");
	expect_bad_envelope("{\"v\":1,\"from\":\"a\"}",
	                    "ts: missing, expected a number from 0 to 1e+16");
	expect_bad_envelope("{\"v\":1,\"from\":\"a\",\"ts\":null}",
	                    "ts: expected a number from 0 to 1e+16, got null");
	expect_bad_envelope("{\"v\":1,\"from\":\"a\",\"ts\":-5}",
	                    "ts: expected a number from 0 to 1e+16, got -5");
}

/* --- msg_parse ------------------------------------------------------------ */

static void expect_parse(const void *payload, size_t len, enum vmc_err code, const char *fragment)
{
	cJSON *m = (cJSON *)1;
	err[0] = '\0';
	assert_int_equal(msg_parse(payload, len, &m, err, sizeof err), code);
	assert_null(m);
	if (!strstr(err, fragment))
		fail_msg("parse error \"%s\" lacks \"%s\"", err, fragment);
}

static void test_parse_not_terminated(void **state)
{
	/* the payload is not NUL-terminated: bytes after len must not be read */
	char buf[32];
	memcpy(buf, "{\"a\":1}XXXXXXXX", 16);
	cJSON *m = NULL;
	assert_int_equal(msg_parse(buf, 7, &m, err, sizeof err), VMC_OK);
	int64_t a;
	assert_int_equal(msg_get_int(m, NULL, "a", 1, 0, 9, &a, err, sizeof err), 0);
	assert_int_equal(a, 1);
	cJSON_Delete(m);
	/* exactly-sized heap copy: ASan/valgrind catch any read past the end */
	char *exact = malloc(7);
	memcpy(exact, "{\"b\":2}", 7);
	assert_int_equal(msg_parse(exact, 7, &m, err, sizeof err), VMC_OK);
	cJSON_Delete(m);
	/* a truncated view of a valid text is an error */
	expect_parse(exact, 6, VMC_E_BAD_JSON, "ends early");
	free(exact);
}

static void test_parse_rejected(void **state)
{
	expect_parse("", 0, VMC_E_BAD_JSON, "empty payload");
	expect_parse(NULL, 0, VMC_E_BAD_JSON, "empty payload");
	expect_parse("{", 1, VMC_E_BAD_JSON, "not JSON");
	expect_parse("{\"a\":}", 6, VMC_E_BAD_JSON, "syntax error at line 1, column 6");
	expect_parse("{\n \"a\": tru }", 13, VMC_E_BAD_JSON, "line 2");
	expect_parse("{} x", 4, VMC_E_BAD_JSON, "not JSON");
	expect_parse("{}{}", 4, VMC_E_BAD_JSON, "not JSON");
	expect_parse("hello", 5, VMC_E_BAD_JSON, "not JSON");
	expect_parse("{\"a\":1}\0", 8, VMC_E_BAD_JSON, "NUL byte at offset 7");
	expect_parse("[1,2]", 5, VMC_E_BAD_JSON, "expected a JSON object, got an array");
	expect_parse("\"s\"", 3, VMC_E_BAD_JSON, "expected a JSON object, got \"s\"");
	expect_parse("42", 2, VMC_E_BAD_JSON, "expected a JSON object, got 42");
	expect_parse("null", 4, VMC_E_BAD_JSON, "got null");
	expect_parse("true", 4, VMC_E_BAD_JSON, "got true");
	/* a NUL escaped inside a string: C strings would cut the name there */
	expect_parse("{\"name\":\"keep1\\u0000x\"}", 22, VMC_E_BAD_JSON,
	             "\\u0000 (NUL) inside a string at offset 14");
	expect_parse("{\"a\\u0000b\":1}", 14, VMC_E_BAD_JSON, "offset 3");
}

/* An escaped backslash before "u0000" is not a NUL; other \u escapes are fine. */
static void test_parse_nul_escape_only(void **state)
{
	const char *ok1 = "{\"a\":\"x\\\\u0000\"}", *ok2 = "{\"a\":\"\\u0001\\u00e9\"}";
	cJSON *m = NULL;
	assert_int_equal(msg_parse(ok1, strlen(ok1), &m, err, sizeof(err)), VMC_OK);
	assert_string_equal(cJSON_GetObjectItem(m, "a")->valuestring, "x\\u0000");
	cJSON_Delete(m);
	assert_int_equal(msg_parse(ok2, strlen(ok2), &m, err, sizeof(err)), VMC_OK);
	cJSON_Delete(m);
	/* and a name with a control character is refused by the name check */
	struct vmc_cmd c;
	const char *cmd = "{\"id\":\"1\",\"op\":\"vm.destroy\",\"args\":{\"name\":\"k\\u0001\"}}";
	assert_int_equal(cmd_parse(cmd, strlen(cmd), &c, err, sizeof(err)), VMC_OK);
	const char *name;
	assert_int_equal(msg_get_name(c.args, "args", "name", 1, &name, err, sizeof(err)), -1);
	cmd_free(&c);
}

/* Where the first \u0000 escape is, backslashes escaped or not, at the ends of the text. */
static void test_nul_escape_offsets(void **state)
{
	static const struct {
		const char *text;
		size_t at; /* strlen: none */
	} cases[] = {
	    {"\\u0000", 0},        {"ab\\u0000", 2}, {"\\\\u0000", 7}, {"\\\\\\u0000", 2},
	    {"x\\u000", 6},        {"x\\u00001", 1}, {"\\", 1},        {"a\\", 2},
	    {"\\u0001\\u0000", 6}, {"", 0},          {"\\\\", 2},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(msg_nul_escape(cases[i].text, strlen(cases[i].text)), cases[i].at);
	/* only within len */
	assert_int_equal(msg_nul_escape("ab\\u0000", 7), 7);
	assert_int_equal(msg_nul_escape("ab\\u0000", 8), 2);
}

/* Messages longer than what msg_parse copies on the stack parse alike. */
static void test_parse_long(void **state)
{
	size_t n = 20000;
	char *text = malloc(n + 16);
	assert_non_null(text);
	memcpy(text, "{\"a\":\"", 6);
	memset(text + 6, 'x', n);
	memcpy(text + 6 + n, "\"}", 3);
	cJSON *m = NULL;
	assert_int_equal(msg_parse(text, strlen(text), &m, err, sizeof(err)), VMC_OK);
	assert_int_equal(strlen(cJSON_GetObjectItem(m, "a")->valuestring), n);
	cJSON_Delete(m);
	text[6 + n] = '!';
	assert_int_equal(msg_parse(text, strlen(text), &m, err, sizeof(err)), VMC_E_BAD_JSON);
	free(text);
}

static void test_parse_too_large(void **state)
{
	/* too large is refused without being read: garbage content does not matter */
	size_t len = VMC_PAYLOAD_MAX + 1;
	char *big = malloc(len);
	memset(big, '{', len);
	expect_parse(big, len, VMC_E_TOO_LARGE, "262145 bytes is over the limit of 262144");
	expect_parse(big, 1024 * 1024, VMC_E_TOO_LARGE, "over the limit");
	free(big);
	/* exactly the limit is accepted */
	char *max = malloc(VMC_PAYLOAD_MAX);
	memset(max, ' ', VMC_PAYLOAD_MAX);
	memcpy(max, "{\"a\":1}", 7);
	cJSON *m = NULL;
	assert_int_equal(msg_parse(max, VMC_PAYLOAD_MAX, &m, err, sizeof err), VMC_OK);
	cJSON_Delete(m);
	free(max);
}

static void test_parse_deep_nesting(void **state)
{
	/* deep nesting must fail cleanly, not overflow the stack */
	size_t depth = 100000;
	char *deep = malloc(depth);
	memset(deep, '[', depth);
	expect_parse(deep, depth, VMC_E_BAD_JSON, "not JSON");
	free(deep);
}

/* --- typed getters -------------------------------------------------------- */

static const char *fields = "{\"args\":{\"name\":\"web1\",\"memory_mb\":1024,\"mem_s\":\"abc\","
                            "\"frac\":1.5,\"big\":1e30,\"neg\":-3,\"load\":0.75,\"on\":true,"
                            "\"off\":false,\"nul\":null,\"obj\":{},\"arr\":[1],\"long\":"
                            "\"0123456789\",\"bad\":\"a b\"}}";

static void test_get_values(void **state)
{
	cJSON *root = parse_ok(fields);
	const cJSON *args = NULL;
	assert_int_equal(msg_get_obj(root, NULL, "args", 1, &args, err, sizeof err), 0);
	const char *s = NULL;
	assert_int_equal(msg_get_name(args, "args", "name", 1, &s, err, sizeof err), 0);
	assert_string_equal(s, "web1");
	assert_int_equal(msg_get_str(args, "args", "long", 1, 10, &s, err, sizeof err), 0);
	assert_string_equal(s, "0123456789");
	int64_t i = 0;
	assert_int_equal(
	    msg_get_int(args, "args", "memory_mb", 1, 16, 4194304, &i, err, sizeof err), 0);
	assert_int_equal(i, 1024);
	assert_int_equal(msg_get_int(args, "args", "neg", 1, -3, 0, &i, err, sizeof err), 0);
	assert_int_equal(i, -3);
	double d = 0;
	assert_int_equal(msg_get_num(args, "args", "load", 1, 0, 1, &d, err, sizeof err), 0);
	assert_true(d == 0.75);
	assert_int_equal(msg_get_num(args, "args", "memory_mb", 1, 0, 1e6, &d, err, sizeof err), 0);
	assert_true(d == 1024);
	int b = -1;
	assert_int_equal(msg_get_bool(args, "args", "on", 1, &b, err, sizeof err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(msg_get_bool(args, "args", "off", 1, &b, err, sizeof err), 0);
	assert_int_equal(b, 0);
	const cJSON *o = NULL;
	assert_int_equal(msg_get_obj(args, "args", "obj", 1, &o, err, sizeof err), 0);
	assert_true(cJSON_IsObject(o));
	assert_int_equal(msg_get_array(args, "args", "arr", 1, &o, err, sizeof err), 0);
	assert_true(cJSON_IsArray(o));
	cJSON_Delete(root);
}

static void test_get_absent(void **state)
{
	cJSON *root = parse_ok("{\"x\":1}");
	const char *s = "untouched";
	int64_t i = 77;
	double d = 7.5;
	int b = 9;
	const cJSON *o = NULL;
	/* optional and absent: 1, out untouched */
	assert_int_equal(msg_get_str(root, "args", "s", 0, 10, &s, err, sizeof err), 1);
	assert_int_equal(msg_get_name(root, "args", "s", 0, &s, err, sizeof err), 1);
	assert_int_equal(msg_get_int(root, "args", "s", 0, 0, 1, &i, err, sizeof err), 1);
	assert_int_equal(msg_get_num(root, "args", "s", 0, 0, 1, &d, err, sizeof err), 1);
	assert_int_equal(msg_get_bool(root, "args", "s", 0, &b, err, sizeof err), 1);
	assert_int_equal(msg_get_obj(root, "args", "s", 0, &o, err, sizeof err), 1);
	assert_int_equal(msg_get_array(root, "args", "s", 0, &o, err, sizeof err), 1);
	assert_string_equal(s, "untouched");
	assert_int_equal(i, 77);
	assert_true(d == 7.5);
	assert_int_equal(b, 9);
	assert_null(o);
	/* required and absent: -1 naming the field */
	assert_int_equal(msg_get_name(root, "args", "name", 1, &s, err, sizeof err), -1);
	assert_string_equal(err, "args.name: missing, expected a name of 1 to 64 characters "
	                         "[A-Za-z0-9_.-]");
	assert_int_equal(
	    msg_get_int(root, "args", "memory_mb", 1, 16, 4194304, &i, err, sizeof err), -1);
	assert_string_equal(err, "args.memory_mb: missing, expected an integer from 16 to 4194304");
	assert_int_equal(msg_get_str(root, NULL, "s", 1, 5, &s, err, sizeof err), -1);
	assert_string_equal(err, "s: missing, expected a string of at most 5 characters");
	assert_int_equal(msg_get_num(root, "", "n", 1, 0, 1, &d, err, sizeof err), -1);
	assert_string_equal(err, "n: missing, expected a number from 0 to 1");
	assert_int_equal(msg_get_bool(root, "a", "b", 1, &b, err, sizeof err), -1);
	assert_string_equal(err, "a.b: missing, expected true or false");
	assert_int_equal(msg_get_obj(root, "a", "o", 1, &o, err, sizeof err), -1);
	assert_string_equal(err, "a.o: missing, expected an object");
	assert_int_equal(msg_get_array(root, "a", "l", 1, &o, err, sizeof err), -1);
	assert_string_equal(err, "a.l: missing, expected an array");
	/* a non-object container has no fields */
	cJSON *arr = cJSON_CreateArray();
	assert_int_equal(msg_get_int(arr, "a", "x", 1, 0, 1, &i, err, sizeof err), -1);
	assert_int_equal(msg_get_int(NULL, "a", "x", 0, 0, 1, &i, err, sizeof err), 1);
	cJSON_Delete(arr);
	cJSON_Delete(root);
}

struct wrong_case {
	const char *field;
	const char *expect; /* the whole error message */
};

static void test_get_wrong(void **state)
{
	cJSON *root = parse_ok(fields);
	const cJSON *args = cJSON_GetObjectItem(root, "args");
	int64_t i = 5;
	static const struct wrong_case ints[] = {
	    {"mem_s", "args.mem_s: expected an integer from 16 to 4194304, got \"abc\""},
	    {"frac", "args.frac: expected an integer from 16 to 4194304, got 1.5"},
	    {"big", "args.big: expected an integer from 16 to 4194304, got 1e+30"},
	    {"neg", "args.neg: expected an integer from 16 to 4194304, got -3"},
	    {"on", "args.on: expected an integer from 16 to 4194304, got true"},
	    {"nul", "args.nul: expected an integer from 16 to 4194304, got null"},
	    {"obj", "args.obj: expected an integer from 16 to 4194304, got an object"},
	    {"arr", "args.arr: expected an integer from 16 to 4194304, got an array"},
	};
	for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) {
		assert_int_equal(
		    msg_get_int(args, "args", ints[k].field, 1, 16, 4194304, &i, err, sizeof err),
		    -1);
		assert_string_equal(err, ints[k].expect);
	}
	/* out of range and over 2^63 */
	assert_int_equal(msg_get_int(args, "args", "memory_mb", 1, 16, 512, &i, err, sizeof err),
	                 -1);
	assert_string_equal(err, "args.memory_mb: expected an integer from 16 to 512, got 1024");
	assert_int_equal(
	    msg_get_int(args, "args", "big", 1, INT64_MIN, INT64_MAX, &i, err, sizeof err), -1);
	assert_int_equal(i, 5);

	double d = 3;
	assert_int_equal(msg_get_num(args, "args", "mem_s", 1, 0, 1, &d, err, sizeof err), -1);
	assert_string_equal(err, "args.mem_s: expected a number from 0 to 1, got \"abc\"");
	assert_int_equal(msg_get_num(args, "args", "frac", 1, 0, 1, &d, err, sizeof err), -1);
	assert_string_equal(err, "args.frac: expected a number from 0 to 1, got 1.5");
	assert_int_equal(msg_get_num(args, "args", "neg", 1, 0, 1, &d, err, sizeof err), -1);
	assert_true(d == 3);

	const char *s = NULL;
	assert_int_equal(msg_get_str(args, "args", "long", 1, 9, &s, err, sizeof err), -1);
	assert_string_equal(err, "args.long: expected a string of at most 9 characters, got "
	                         "\"0123456789\"");
	assert_int_equal(msg_get_str(args, "args", "memory_mb", 1, 9, &s, err, sizeof err), -1);
	assert_string_equal(err,
	                    "args.memory_mb: expected a string of at most 9 characters, got 1024");
	assert_int_equal(msg_get_name(args, "args", "bad", 1, &s, err, sizeof err), -1);
	assert_string_equal(err, "args.bad: \"a b\" has a character outside [A-Za-z0-9_.-] at "
	                         "position 2");
	assert_int_equal(msg_get_name(args, "args", "on", 1, &s, err, sizeof err), -1);
	assert_string_equal(err, "args.on: expected a name of 1 to 64 characters [A-Za-z0-9_.-], "
	                         "got true");
	assert_null(s);

	int b = 4;
	const cJSON *o0 = NULL;
	assert_int_equal(msg_get_bool(args, "args", "memory_mb", 1, &b, err, sizeof err), -1);
	assert_string_equal(err, "args.memory_mb: expected true or false, got 1024");
	assert_int_equal(msg_get_bool(args, "args", "mem_s", 1, &b, err, sizeof err), -1);
	assert_int_equal(msg_get_obj(args, "args", "off", 1, &o0, err, sizeof err), -1);
	assert_string_equal(err, "args.off: expected an object, got false");
	assert_int_equal(b, 4);
	const cJSON *o = NULL;
	assert_int_equal(msg_get_obj(args, "args", "arr", 1, &o, err, sizeof err), -1);
	assert_string_equal(err, "args.arr: expected an object, got an array");
	assert_int_equal(msg_get_array(args, "args", "obj", 1, &o, err, sizeof err), -1);
	assert_string_equal(err, "args.obj: expected an array, got an object");
	/* a wrong value that is present is an error even when optional */
	assert_int_equal(msg_get_array(args, "args", "obj", 0, &o, err, sizeof err), -1);
	assert_null(o);
	cJSON_Delete(root);
}

static void test_get_int_limits(void **state)
{
	cJSON *root = parse_ok("{\"e\":1e3,\"max\":9007199254740992,\"min\":-9007199254740992,"
	                       "\"edge\":9223372036854775808}");
	int64_t i = 0;
	assert_int_equal(msg_get_int(root, NULL, "e", 1, 0, 1000, &i, err, sizeof err), 0);
	assert_int_equal(i, 1000);
	assert_int_equal(
	    msg_get_int(root, NULL, "max", 1, INT64_MIN, INT64_MAX, &i, err, sizeof err), 0);
	assert_int_equal(i, 9007199254740992LL);
	assert_int_equal(
	    msg_get_int(root, NULL, "min", 1, INT64_MIN, INT64_MAX, &i, err, sizeof err), 0);
	assert_int_equal(i, -9007199254740992LL);
	assert_int_equal(
	    msg_get_int(root, NULL, "edge", 1, INT64_MIN, INT64_MAX, &i, err, sizeof err), -1);
	cJSON_Delete(root);
}

static void test_get_hostile_echo(void **state)
{
	/* control characters and quotes are escaped, long values shortened */
	cJSON *root =
	    parse_ok("{\"s\":\"a\\\"b\\n\\u0001xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
	int64_t i;
	assert_int_equal(msg_get_int(root, "args", "s", 1, 0, 1, &i, err, sizeof err), -1);
	assert_non_null(strstr(err, "got \"a\\\"b\\x0a\\x01"));
	assert_non_null(strstr(err, "...\""));
	assert_null(strchr(err, '\n'));
	cJSON_Delete(root);
}

/* msg_val_* on the member msg_get_* would find: the same result, value and error text, for
 * members of every kind, absent ones, duplicates (the first counts) and both required and
 * optional. */
static void test_val_matches_get(void **state)
{
	cJSON *root = parse_ok("{\"s\":\"ab\",\"n\":\"web-1\",\"bad\":\".x\",\"i\":7,"
	                       "\"f\":2.5,\"big\":1e300,\"o\":{},\"a\":[],\"t\":true,"
	                       "\"nul\":null,\"i\":9}");
	static const char *const members[] = {"s", "n", "bad", "i",   "f",   "big",
	                                      "o", "a", "t",   "nul", "none"};
	char err2[VMC_ERR_MAX];
	for (size_t k = 0; k < sizeof(members) / sizeof(members[0]); k++) {
		const char *fd = members[k];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, fd);
		for (int req = 0; req <= 1; req++) {
			const char *s1 = NULL, *s2 = NULL;
			int64_t i1 = -1, i2 = -1;
			double d1 = -1, d2 = -1;
			const cJSON *o1 = NULL, *o2 = NULL;
#define SAME(get, val)                                                                             \
	do {                                                                                       \
		err[0] = err2[0] = '\0';                                                           \
		assert_int_equal(get, val);                                                        \
		assert_string_equal(err, err2);                                                    \
	} while (0)
			SAME(msg_get_str(root, "ctx", fd, req, 2, &s1, err, sizeof err),
			     msg_val_str(v, "ctx", fd, req, 2, &s2, err2, sizeof err2));
			assert_ptr_equal(s1, s2);
			SAME(msg_get_name(root, "ctx", fd, req, &s1, err, sizeof err),
			     msg_val_name(v, "ctx", fd, req, &s2, err2, sizeof err2));
			assert_ptr_equal(s1, s2);
			SAME(msg_get_int(root, NULL, fd, req, 0, 8, &i1, err, sizeof err),
			     msg_val_int(v, NULL, fd, req, 0, 8, &i2, err2, sizeof err2));
			assert_int_equal(i1, i2);
			SAME(msg_get_num(root, "ctx", fd, req, 0, 3, &d1, err, sizeof err),
			     msg_val_num(v, "ctx", fd, req, 0, 3, &d2, err2, sizeof err2));
			assert_true(d1 == d2);
			SAME(msg_get_obj(root, "ctx", fd, req, &o1, err, sizeof err),
			     msg_val_obj(v, "ctx", fd, req, &o2, err2, sizeof err2));
			assert_ptr_equal(o1, o2);
			SAME(msg_get_array(root, "ctx", fd, req, &o1, err, sizeof err),
			     msg_val_array(v, "ctx", fd, req, &o2, err2, sizeof err2));
			assert_ptr_equal(o1, o2);
#undef SAME
		}
	}
	/* the first of two members of one name */
	int64_t i = 0;
	assert_int_equal(msg_val_int(cJSON_GetObjectItemCaseSensitive(root, "i"), NULL, "i", 1, 0,
	                             8, &i, err, sizeof err),
	                 0);
	assert_int_equal(i, 7);
	cJSON_Delete(root);
}

/* --- commands ------------------------------------------------------------- */

static enum vmc_err parse_cmd(const char *text, struct vmc_cmd *cmd)
{
	err[0] = '\0';
	return cmd_parse(text, strlen(text), cmd, err, sizeof err);
}

static void test_cmd_round_trip(void **state)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "name", "web1");
	cJSON_AddNumberToObject(args, "memory_mb", 512);
	cJSON *m = cmd_build("vmc/cli1", 1000, "c-1", "vm.create", args, "vmc/default/reply/cli1");
	char *text = msg_print(m);
	cJSON_Delete(m);
	struct vmc_cmd cmd;
	assert_int_equal(cmd_parse(text, strlen(text), &cmd, err, sizeof err), VMC_OK);
	free(text);
	assert_string_equal(cmd.id, "c-1");
	assert_string_equal(cmd.op, "vm.create");
	assert_string_equal(cmd.reply_to, "vmc/default/reply/cli1");
	assert_int_equal(msg_check_envelope(cmd.root, err, sizeof err), 0);
	const char *name;
	assert_int_equal(msg_get_name(cmd.args, "args", "name", 1, &name, err, sizeof err), 0);
	assert_string_equal(name, "web1");
	cmd_free(&cmd);
	assert_null(cmd.root);
	cmd_free(&cmd); /* twice is harmless */
	cmd_free(NULL);
}

static void test_cmd_minimal(void **state)
{
	/* a script's minimal command: no envelope, no args, no reply_to */
	struct vmc_cmd cmd;
	assert_int_equal(parse_cmd("{\"id\":\"1\",\"op\":\"host.info\"}", &cmd), VMC_OK);
	assert_string_equal(cmd.id, "1");
	assert_string_equal(cmd.op, "host.info");
	assert_string_equal(cmd.reply_to, "");
	assert_non_null(cmd.args);
	assert_true(cJSON_IsObject(cmd.args));
	assert_int_equal(cJSON_GetArraySize(cmd.args), 0);
	cmd_free(&cmd);

	/* cmd_build with no args and no reply_to */
	cJSON *m = cmd_build("s", 1, "i", "host.vms", NULL, NULL);
	char *text = msg_print(m);
	cJSON_Delete(m);
	assert_string_equal(text,
	                    "{\"v\":1,\"from\":\"s\",\"ts\":1,\"id\":\"i\",\"op\":\"host.vms\","
	                    "\"args\":{}}");
	free(text);
}

static void test_cmd_limits(void **state)
{
	char text[2048];
	char id[VMC_ID_MAX + 1], op[VMC_OP_MAX + 1], topic[VMC_TOPIC_MAX + 1];
	memset(id, '~', VMC_ID_MAX);
	id[VMC_ID_MAX] = '\0';
	id[0] = ' ';
	memset(op, 'z', VMC_OP_MAX);
	op[VMC_OP_MAX] = '\0';
	memcpy(op, "a0._", 4);
	memset(topic, 't', VMC_TOPIC_MAX);
	topic[VMC_TOPIC_MAX] = '\0';
	snprintf(text, sizeof text, "{\"id\":\"%s\",\"op\":\"%s\",\"reply_to\":\"%s\"}", id, op,
	         topic);
	struct vmc_cmd cmd;
	assert_int_equal(parse_cmd(text, &cmd), VMC_OK);
	assert_string_equal(cmd.id, id);
	assert_string_equal(cmd.op, op);
	assert_string_equal(cmd.reply_to, topic);
	cmd_free(&cmd);
}

struct cmd_case {
	const char *text;
	enum vmc_err code;
	const char *fragment; /* in the error message */
	const char *id;       /* what must still be read */
	const char *reply_to;
};

static const char long_id[] =
    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""; /* 129 characters */

static void test_cmd_rejected(void **state)
{
	static const struct cmd_case cases[] = {
	    {"nope", VMC_E_BAD_JSON, "not JSON", "", ""},
	    {"[]", VMC_E_BAD_JSON, "expected a JSON object", "", ""},
	    {"{\"op\":\"x\",\"reply_to\":\"r/1\"}", VMC_E_BAD_REQUEST,
	     "id: missing, expected a string of 1 to 128", "", "r/1"},
	    {"{\"id\":7,\"op\":\"x\",\"reply_to\":\"r/1\"}", VMC_E_BAD_REQUEST,
	     "id: expected a string of 1 to 128 printable ASCII characters, got 7", "", "r/1"},
	    {"{\"id\":\"\",\"op\":\"x\"}", VMC_E_BAD_REQUEST, "id: expected a string", "", ""},
	    {"{\"id\":\"a\\u0001\",\"op\":\"x\"}", VMC_E_BAD_REQUEST, "got \"a\\x01\"", "", ""},
	    {"{\"id\":\"caf\\u00e9\",\"op\":\"x\"}", VMC_E_BAD_REQUEST, "id: expected", "", ""},
	    {"{\"id\":\"1\",\"reply_to\":\"r/1\"}", VMC_E_BAD_REQUEST,
	     "op: missing, expected an operation name [a-z][a-z0-9._]* of at most 48", "1", "r/1"},
	    {"{\"id\":\"1\",\"op\":5}", VMC_E_BAD_REQUEST, "op: expected an operation name", "1",
	     ""},
	    {"{\"id\":\"1\",\"op\":\"\"}", VMC_E_BAD_REQUEST, "op: expected", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"Vm.create\"}", VMC_E_BAD_REQUEST, "got \"Vm.create\"", "1",
	     ""},
	    {"{\"id\":\"1\",\"op\":\"0vm\"}", VMC_E_BAD_REQUEST, "op: expected", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"vm create\"}", VMC_E_BAD_REQUEST, "op: expected", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"vm-create\"}", VMC_E_BAD_REQUEST, "op: expected", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	     VMC_E_BAD_REQUEST, "op: expected", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"x\",\"args\":[],\"reply_to\":\"r/1\"}", VMC_E_BAD_REQUEST,
	     "args: expected an object, got an array", "1", "r/1"},
	    {"{\"id\":\"1\",\"op\":\"x\",\"args\":\"a\"}", VMC_E_BAD_REQUEST,
	     "args: expected an object, got \"a\"", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"x\",\"args\":null}", VMC_E_BAD_REQUEST,
	     "args: expected an object, got null", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"x\",\"reply_to\":\"r/+\"}", VMC_E_BAD_REQUEST,
	     "reply_to: expected a topic of 1 to 512 characters without wildcards", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"x\",\"reply_to\":\"r/#\"}", VMC_E_BAD_REQUEST,
	     "reply_to: expected", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"x\",\"reply_to\":\"\"}", VMC_E_BAD_REQUEST,
	     "reply_to: expected", "1", ""},
	    {"{\"id\":\"1\",\"op\":\"x\",\"reply_to\":[\"a\"]}", VMC_E_BAD_REQUEST,
	     "reply_to: expected a topic of 1 to 512 characters without wildcards '+' or '#', "
	     "got an array",
	     "1", ""},
	    {"{\"id\":\"1\",\"op\":\"x\",\"reply_to\":\"a\\nb\"}", VMC_E_BAD_REQUEST,
	     "reply_to: expected", "1", ""},
	    {"{\"v\":2,\"id\":\"1\",\"op\":\"x\",\"reply_to\":\"r\"}", VMC_E_BAD_REQUEST,
	     "v: expected an integer from 1 to 1, got 2", "1", "r"},
	    {"{\"from\":1,\"id\":\"1\",\"op\":\"x\"}", VMC_E_BAD_REQUEST, "from: expected a string",
	     "1", ""},
	    {"{\"ts\":\"now\",\"id\":\"1\",\"op\":\"x\"}", VMC_E_BAD_REQUEST,
	     "ts: expected a number", "1", ""},
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		struct vmc_cmd cmd;
		enum vmc_err e = parse_cmd(cases[k].text, &cmd);
		if (e != cases[k].code || !strstr(err, cases[k].fragment))
			fail_msg("case %zu: %s -> %s \"%s\"", k, cases[k].text, vmc_err_code(e),
			         err);
		assert_string_equal(cmd.id, cases[k].id);
		assert_string_equal(cmd.reply_to, cases[k].reply_to);
		cmd_free(&cmd);
	}
	/* over-long id and reply_to */
	char text[2048];
	struct vmc_cmd cmd;
	snprintf(text, sizeof text, "{\"id\":%s,\"op\":\"x\",\"reply_to\":\"r\"}", long_id);
	assert_int_equal(parse_cmd(text, &cmd), VMC_E_BAD_REQUEST);
	assert_non_null(strstr(err, "id: expected a string of 1 to 128"));
	assert_string_equal(cmd.id, "");
	assert_string_equal(cmd.reply_to, "r");
	cmd_free(&cmd);
	char topic[VMC_TOPIC_MAX + 2];
	memset(topic, 't', VMC_TOPIC_MAX + 1);
	topic[VMC_TOPIC_MAX + 1] = '\0';
	snprintf(text, sizeof text, "{\"id\":\"q\",\"op\":\"x\",\"reply_to\":\"%s\"}", topic);
	assert_int_equal(parse_cmd(text, &cmd), VMC_E_BAD_REQUEST);
	assert_non_null(strstr(err, "reply_to: expected a topic of 1 to 512"));
	assert_string_equal(cmd.id, "q");
	assert_string_equal(cmd.reply_to, "");
	cmd_free(&cmd);
}

static void test_cmd_too_large(void **state)
{
	size_t len = 1024 * 1024;
	char *big = malloc(len);
	memset(big, ' ', len);
	memcpy(big, "{\"id\":\"1\",\"op\":\"x\"}", 19);
	struct vmc_cmd cmd;
	assert_int_equal(cmd_parse(big, len, &cmd, err, sizeof err), VMC_E_TOO_LARGE);
	assert_non_null(strstr(err, "1048576 bytes is over the limit"));
	assert_null(cmd.root);
	assert_string_equal(cmd.id, "");
	cmd_free(&cmd);
	free(big);
}

/* --- replies -------------------------------------------------------------- */

static void test_reply_ok(void **state)
{
	cJSON *res = cJSON_CreateObject();
	cJSON_AddNumberToObject(res, "cpus", 8);
	cJSON *m = reply_ok("host/h1", 5, "c-9", res);
	char *text = msg_print(m);
	cJSON_Delete(m);
	assert_string_equal(text,
	                    "{\"v\":1,\"from\":\"host/h1\",\"ts\":5,\"id\":\"c-9\",\"ok\":true,"
	                    "\"result\":{\"cpus\":8}}");
	cJSON *back = parse_ok(text);
	free(text);
	int ok = 0;
	assert_int_equal(msg_get_bool(back, NULL, "ok", 1, &ok, err, sizeof err), 0);
	assert_true(ok);
	cJSON_Delete(back);

	m = reply_ok("h", 5, NULL, NULL);
	text = msg_print(m);
	cJSON_Delete(m);
	assert_string_equal(
	    text, "{\"v\":1,\"from\":\"h\",\"ts\":5,\"id\":\"\",\"ok\":true,\"result\":{}}");
	free(text);
}

static void test_reply_err(void **state)
{
	cJSON *m = reply_err("host/h1", 6, "c-2", VMC_E_BAD_NAME, "args.name: \"a b\" is bad");
	char *text = msg_print(m);
	cJSON_Delete(m);
	cJSON *back = parse_ok(text);
	free(text);
	int ok = 1;
	const cJSON *e = NULL;
	const char *code, *message, *id;
	assert_int_equal(msg_get_bool(back, NULL, "ok", 1, &ok, err, sizeof err), 0);
	assert_false(ok);
	assert_int_equal(msg_get_str(back, NULL, "id", 1, VMC_ID_MAX, &id, err, sizeof err), 0);
	assert_string_equal(id, "c-2");
	assert_int_equal(msg_get_obj(back, NULL, "error", 1, &e, err, sizeof err), 0);
	assert_int_equal(msg_get_str(e, "error", "code", 1, 32, &code, err, sizeof err), 0);
	assert_int_equal(vmc_err_parse(code), VMC_E_BAD_NAME);
	assert_int_equal(msg_get_str(e, "error", "message", 1, 256, &message, err, sizeof err), 0);
	assert_string_equal(message, "args.name: \"a b\" is bad");
	cJSON_Delete(back);

	m = reply_err(NULL, 0, NULL, VMC_E_TIMEOUT, NULL);
	text = msg_print(m);
	cJSON_Delete(m);
	assert_string_equal(text, "{\"v\":1,\"from\":\"\",\"ts\":0,\"id\":\"\",\"ok\":false,"
	                          "\"error\":{\"code\":\"timeout\",\"message\":\"timeout\"}}");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_codes_round_trip),
	    cmocka_unit_test(test_err_codes_unknown),
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_name_rejected),
	    cmocka_unit_test(test_name_default_what),
	    cmocka_unit_test(test_envelope_round_trip),
	    cmocka_unit_test(test_envelope_rejected),
	    cmocka_unit_test(test_parse_not_terminated),
	    cmocka_unit_test(test_parse_rejected),
	    cmocka_unit_test(test_parse_nul_escape_only),
	    cmocka_unit_test(test_nul_escape_offsets),
	    cmocka_unit_test(test_parse_long),
	    cmocka_unit_test(test_parse_too_large),
	    cmocka_unit_test(test_parse_deep_nesting),
	    cmocka_unit_test(test_get_values),
	    cmocka_unit_test(test_get_absent),
	    cmocka_unit_test(test_get_wrong),
	    cmocka_unit_test(test_get_int_limits),
	    cmocka_unit_test(test_get_hostile_echo),
	    cmocka_unit_test(test_val_matches_get),
	    cmocka_unit_test(test_cmd_round_trip),
	    cmocka_unit_test(test_cmd_minimal),
	    cmocka_unit_test(test_cmd_limits),
	    cmocka_unit_test(test_cmd_rejected),
	    cmocka_unit_test(test_cmd_too_large),
	    cmocka_unit_test(test_reply_ok),
	    cmocka_unit_test(test_reply_err),
	};
	return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
