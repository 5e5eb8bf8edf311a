/* test_jsonbuf.c - the reused-buffer printer writes exactly what cJSON_PrintUnformatted
 * writes (so readers parse the same values), hostile strings and numbers included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/jsonbuf.h"
#include "../../lib/bus/msg.h"
#include "../bench/loadmsg.h"

/* j printed by both, the same bytes (so every reader parses the same values), and a
 * text cJSON parses. */
static void same_as_cjson(struct jsonbuf *b, const cJSON *j)
{
	char *want = cJSON_PrintUnformatted(j);
	assert_non_null(want);
	const char *got = jsonbuf_print(b, j);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(b->len, strlen(want));
	cJSON *back = cJSON_Parse(got);
	assert_non_null(back);
	cJSON_Delete(back);
	free(want);
}

static void test_scalars(void **state)
{
	struct jsonbuf b = {0};
	cJSON *items[] = {
	    cJSON_CreateNull(),     cJSON_CreateTrue(),        cJSON_CreateFalse(),
	    cJSON_CreateString(""), cJSON_CreateString("web"), cJSON_CreateNumber(0),
	    cJSON_CreateArray(),    cJSON_CreateObject(),      cJSON_CreateRaw("[1, 2]")};
	for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
		same_as_cjson(&b, items[i]);
		cJSON_Delete(items[i]);
	}
	jsonbuf_free(&b);
}

/* Every byte from 1 to 255 in a value and in a key, and the escapes one by one. */
static void test_hostile_strings(void **state)
{
	struct jsonbuf b = {0};
	char all[256];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	const char *hostile[] = {all,        "\"",      "\\",        "\"\\\"", "\b\f\n\r\t",
	                         "\x01\x1f", "a\"b\\c", "</script>", "\x7f",   "\xc3\xa9t\xc3\xa9",
	                         "\xff\xfe", "\\u0000", "tab\there", "end\\",  "vm\"},{\"x\":1"};
	for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, hostile[i], hostile[i]);
		cJSON_AddStringToObject(o, "name", hostile[i]);
		cJSON *a = cJSON_AddArrayToObject(o, "list");
		cJSON_AddItemToArray(a, cJSON_CreateString(hostile[i]));
		same_as_cjson(&b, o);
		/* and it reads back as the string it was */
		cJSON *back = cJSON_Parse(b.text);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "name")->valuestring,
		                    hostile[i]);
		cJSON_Delete(back);
		cJSON_Delete(o);
	}
	jsonbuf_free(&b);
}

/* A string item whose valuestring is NULL and a member without a key print as "". */
static void test_null_strings(void **state)
{
	struct jsonbuf b = {0};
	cJSON *o = cJSON_CreateObject();
	cJSON *s = cJSON_CreateString("x");
	free(s->valuestring);
	s->valuestring = NULL;
	cJSON_AddItemToObject(o, "k", s);
	same_as_cjson(&b, o);
	assert_string_equal(b.text, "{\"k\":\"\"}");
	cJSON_Delete(o);
	jsonbuf_free(&b);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Numbers: edges of the int and whole-number paths, fractions, tiny and huge ones, and
 * many random doubles (bit patterns) and percentages with long figures. */
static void test_numbers(void **state)
{
	struct jsonbuf b = {0};
	const double edges[] = {0.0,
	                        -0.0,
	                        1,
	                        -1,
	                        INT_MAX,
	                        INT_MIN,
	                        (double)INT_MAX + 1,
	                        (double)INT_MIN - 1,
	                        2147483647.5,
	                        -2147483648.5,
	                        1765091668123.0,
	                        999999999999999.0,
	                        1e15,
	                        -999999999999999.0,
	                        -1e15,
	                        1e16,
	                        9007199254740992.0,
	                        9007199254740993.0,
	                        1e21,
	                        1e300,
	                        -1e300,
	                        1.5,
	                        0.1,
	                        0.2 + 0.1,
	                        1.0 / 3,
	                        -2.0 / 3,
	                        37.283649123456789,
	                        1e-7,
	                        -1e-300,
	                        DBL_MIN,
	                        DBL_MIN / 4,
	                        DBL_MAX,
	                        -DBL_MAX,
	                        DBL_EPSILON,
	                        NAN,
	                        INFINITY,
	                        -INFINITY};
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(edges[i]));
	same_as_cjson(&b, a);
	cJSON_Delete(a);
	for (int round = 0; round < 200; round++) {
		a = cJSON_CreateArray();
		for (int i = 0; i < 100; i++) {
			double d;
			uint64_t bits = next_rand();
			memcpy(&d, &bits, sizeof d);
			cJSON_AddItemToArray(a, cJSON_CreateNumber(d));
			cJSON_AddItemToArray(
			    a, cJSON_CreateNumber(100.0 * (double)(next_rand() % 1000003) /
			                          1000003.0));
			cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(int64_t)next_rand()));
			cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(next_rand() % 100000)));
		}
		same_as_cjson(&b, a);
		cJSON_Delete(a);
	}
	jsonbuf_free(&b);
}

/* A host's load message, 50 and 200 VMs, nested objects and arrays, then a shorter
 * message into the same buffer: only the new text is there. */
static void test_load_message_and_reuse(void **state)
{
	struct jsonbuf b = {0};
	for (uint64_t seq = 1; seq < 20; seq++) {
		cJSON *m =
		    loadmsg_build("h1", seq % 2 ? 50 : 200, seq, 1765091668000 + (int64_t)seq);
		cJSON *vm = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "vms"), 0);
		cJSON *g = cJSON_AddObjectToObject(vm, "guest");
		cJSON_AddNumberToObject(g, "steal", 1.0 / seq);
		cJSON_AddItemToArray(cJSON_GetObjectItem(vm, "tags"), cJSON_CreateString("db"));
		same_as_cjson(&b, m);
		cJSON_Delete(m);
	}
	size_t cap = b.cap;
	cJSON *small = cJSON_CreateObject();
	cJSON_AddNumberToObject(small, "v", 1);
	same_as_cjson(&b, small);
	assert_string_equal(b.text, "{\"v\":1}");
	assert_int_equal(b.cap, cap);
	cJSON_Delete(small);
	jsonbuf_free(&b);
	assert_null(b.text);
}

/* Deep nesting up to cJSON's parse limit prints; an item of no JSON type does not, and
 * leaves an empty text. */
static void test_depth_and_invalid(void **state)
{
	struct jsonbuf b = {0};
	cJSON *root = cJSON_CreateArray(), *cur = root;
	for (int i = 1; i < CJSON_NESTING_LIMIT; i++) {
		cJSON *n = cJSON_CreateArray();
		cJSON_AddItemToArray(cur, n);
		cur = n;
	}
	same_as_cjson(&b, root);
	cJSON_AddItemToArray(cur, cJSON_CreateArray());
	assert_null(jsonbuf_print(&b, root));
	assert_string_equal(b.text, "");
	cJSON_Delete(root);
	cJSON *o = cJSON_CreateObject();
	cJSON *bad = cJSON_CreateNull();
	bad->type = cJSON_Invalid;
	cJSON_AddItemToObject(o, "x", bad);
	assert_null(cJSON_PrintUnformatted(o));
	assert_null(jsonbuf_print(&b, o));
	assert_string_equal(b.text, "");
	assert_null(jsonbuf_print(&b, NULL));
	cJSON_Delete(o);
	jsonbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_hostile_strings),
	    cmocka_unit_test(test_null_strings),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_load_message_and_reuse),
	    cmocka_unit_test(test_depth_and_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
