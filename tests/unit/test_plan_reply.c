/* test_plan_reply.c - the balance.plan reply reader vmc and the console share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../lib/balance/plan_reply.h"

static char err[256];

static int parse(struct plan_reply *p, const char *json)
{
	cJSON *res = cJSON_Parse(json);
	assert_non_null(res);
	int rc = plan_reply_parse(p, res, err, sizeof(err));
	cJSON_Delete(res);
	return rc;
}

/* the figures vmc prints, as the host agents' balance.plan answers */
static void test_figures(void **state)
{
	struct plan_reply p;
	assert_int_equal(parse(&p,
	                       "{\"mode\":\"evacuate\",\"moves\":[{\"vm\":\"busy03\","
	                       "\"from\":\"host1\",\"to\":\"host2\",\"cpu\":12.5,\"mem_mb\":512,"
	                       "\"unknown\":true,\"from_before\":400,\"from_after\":300,"
	                       "\"to_before\":0,\"to_after\":100}],\"emptied\":[\"host1\",7,"
	                       "\"host9\"],\"unplaced\":2}"),
	                 0);
	assert_string_equal(p.mode, "evacuate");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.moves[0].vm, "busy03");
	assert_true(p.moves[0].cpu == 12.5);
	assert_int_equal(p.moves[0].cpu_unknown, 1);
	assert_true(p.moves[0].from_before == 400 && p.moves[0].to_after == 100);
	assert_string_equal(p.moves[0].details, "cpu=12.5 mem_mb=512 unknown=true");
	assert_int_equal(p.nemptied, 2); /* the number is no host name */
	assert_string_equal(p.emptied[0], "host1");
	assert_string_equal(p.emptied[1], "host9");
	assert_true(p.unplaced == 2);
	plan_reply_clear(&p);
	assert_null(p.moves);
	assert_int_equal(p.n, 0);
}

/* figures that are absent or not numbers read as 0; a plan that says no mode has "" */
static void test_absent(void **state)
{
	struct plan_reply p;
	assert_int_equal(parse(&p, "{\"moves\":[{\"name\":\"a\",\"from\":\"h1\",\"to\":\"h2\","
	                           "\"cpu\":\"lots\"}],\"emptied\":\"h1\"}"),
	                 0);
	assert_string_equal(p.mode, "");
	assert_string_equal(p.moves[0].vm, "a");
	assert_true(p.moves[0].cpu == 0);
	assert_int_equal(p.nemptied, 0);
	assert_true(p.unplaced == 0);
	plan_reply_clear(&p);
}

/* hostile replies: a clear error naming what was wrong, the reply left empty */
static void test_hostile(void **state)
{
	struct plan_reply p;
	assert_int_equal(parse(&p, "{\"moves\":{\"vm\":\"a\"}}"), -1);
	assert_non_null(strstr(err, "list of moves"));
	assert_null(p.moves);
	assert_int_equal(parse(&p, "{\"moves\":[{\"vm\":\"a\",\"from\":\"h1\",\"to\":\"h2\"},"
	                           "{\"vm\":\"b\",\"from\":\"h1\",\"to\":3}]}"),
	                 -1);
	assert_non_null(strstr(err, "plan move 1"));
	assert_null(p.moves);
	assert_int_equal(p.n, 0);
	char big[3000];
	snprintf(big, sizeof(big), "[{\"vm\":\"%0*d\",\"from\":\"h1\",\"to\":\"h2\"}]", 2000, 0);
	assert_int_equal(parse(&p, big), 0); /* a name too long is cut, not overflowed */
	assert_int_equal(strlen(p.moves[0].vm), VMC_NAME_MAX);
	plan_reply_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_figures),
	    cmocka_unit_test(test_absent),
	    cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
