/* test_topic.c - topic building, splitting and MQTT filter matching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "../../lib/bus/topic.h"

static void test_fmt(void **state)
{
	char buf[64];
	assert_int_equal(topic_fmt(buf, sizeof buf, "default", "host/%s/state", "h1"), 0);
	assert_string_equal(buf, "vmc/default/host/h1/state");
	assert_int_equal(topic_fmt(buf, sizeof buf, "c", "event"), 0);
	assert_string_equal(buf, "vmc/c/event");
	assert_int_equal(topic_fmt(buf, sizeof buf, "c", "%s", ""), 0);
	assert_string_equal(buf, "vmc/c/");
}

static void test_fmt_too_long(void **state)
{
	char buf[16];
	/* exactly fits: 15 characters and the NUL */
	assert_int_equal(topic_fmt(buf, sizeof buf, "c", "%s", "abcdefghi"), 0);
	assert_string_equal(buf, "vmc/c/abcdefghi");
	assert_int_equal(topic_fmt(buf, sizeof buf, "c", "%s", "abcdefghij"), -1);
	/* the prefix alone does not fit */
	assert_int_equal(topic_fmt(buf, sizeof buf, "a-very-long-cluster", "x"), -1);
	assert_int_equal(topic_fmt(buf, 0, "c", "x"), -1);
	assert_int_equal(topic_fmt(NULL, 10, "c", "x"), -1);
	assert_int_equal(topic_fmt(buf, sizeof buf, NULL, "x"), -1);
}

static void test_rest(void **state)
{
	assert_string_equal(topic_rest("vmc/default/host/h1/load", "default"), "host/h1/load");
	assert_string_equal(topic_rest("vmc/default/", "default"), "");
	assert_null(topic_rest("vmc/defaultx/host", "default"));
	assert_null(topic_rest("vmc/def/host", "default"));
	assert_null(topic_rest("vmc/default", "default"));
	assert_null(topic_rest("xmc/default/host", "default"));
	assert_null(topic_rest("vmc//host", ""));
	assert_null(topic_rest(NULL, "default"));
	assert_null(topic_rest("vmc/default/x", NULL));
}

static void test_segment(void **state)
{
	char out[8];
	assert_int_equal(topic_segment("host/h1/load", 0, out, sizeof out), 0);
	assert_string_equal(out, "host");
	assert_int_equal(topic_segment("host/h1/load", 1, out, sizeof out), 0);
	assert_string_equal(out, "h1");
	assert_int_equal(topic_segment("host/h1/load", 2, out, sizeof out), 0);
	assert_string_equal(out, "load");
	assert_int_equal(topic_segment("a//b", 1, out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(topic_segment("a/", 1, out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(topic_segment("", 0, out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void test_segment_rejected(void **state)
{
	char out[8];
	assert_int_equal(topic_segment("host/h1/load", 3, out, sizeof out), -1);
	assert_int_equal(topic_segment("host/h1/load", -1, out, sizeof out), -1);
	/* 7 characters fit in 8 bytes, 8 do not */
	assert_int_equal(topic_segment("x/1234567", 1, out, sizeof out), 0);
	assert_string_equal(out, "1234567");
	assert_int_equal(topic_segment("x/12345678/y", 1, out, sizeof out), -1);
	assert_int_equal(topic_segment(NULL, 0, out, sizeof out), -1);
	assert_int_equal(topic_segment("a", 0, NULL, 8), -1);
	assert_int_equal(topic_segment("a", 0, out, 0), -1);
}

struct match_case {
	const char *filter, *topic;
	int match;
};

static void test_matches(void **state)
{
	static const struct match_case cases[] = {
	    {"a/b", "a/b", 1},
	    {"a/b", "a/c", 0},
	    {"a/b", "a/b/c", 0},
	    {"a/b/c", "a/b", 0},
	    {"a/b", "a/bc", 0},
	    {"a/+", "a/b", 1},
	    {"a/+", "a/", 1}, /* '+' matches an empty level */
	    {"a/+", "a/b/c", 0},
	    {"a/+", "a", 0},
	    {"+/+", "/x", 1},
	    {"+", "a", 1},
	    {"+", "/a", 0},
	    {"a/+/c", "a/b/c", 1},
	    {"a/+/c", "a/b/d", 0},
	    {"a/#", "a", 1}, /* '#' includes the parent level */
	    {"a/#", "a/b", 1},
	    {"a/#", "a/b/c/d", 1},
	    {"a/#", "ab", 0},
	    {"a/#", "b/a", 0},
	    {"#", "a/b/c", 1},
	    {"#", "/", 1},
	    {"+/#", "a", 1},
	    {"+/b/#", "a/b", 1},
	    {"vmc/default/host/+/load", "vmc/default/host/h1/load", 1},
	    {"vmc/default/host/+/load", "vmc/default/host/h1/state", 0},
	    {"a//b", "a//b", 1},
	    {"a//b", "a/b", 0},
	    {"a/", "a/", 1},
	    {"a/", "a", 0},
	    /* topics starting with '$' are not matched by a leading wildcard */
	    {"#", "$SYS/broker", 0},
	    {"+/broker", "$SYS/broker", 0},
	    {"$SYS/#", "$SYS/broker", 1},
	    {"$SYS/+", "$SYS/broker", 1},
	    /* invalid filters never match */
	    {"a/#/b", "a/x/b", 0},
	    {"a#", "a#", 0},
	    {"a/b#", "a/b#", 0},
	    {"a+", "a+", 0},
	    {"a/+b", "a/xb", 0},
	    {"", "a", 0},
	    /* topics may not hold wildcards, nor be empty */
	    {"a/+", "a/+", 0},
	    {"#", "a/#", 0},
	    {"#", "", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int got = topic_matches(cases[i].filter, cases[i].topic);
		if (got != cases[i].match)
			fail_msg("topic_matches(\"%s\", \"%s\") = %d, expected %d", cases[i].filter,
			         cases[i].topic, got, cases[i].match);
	}
	assert_int_equal(topic_matches(NULL, "a"), 0);
	assert_int_equal(topic_matches("a", NULL), 0);
}

/* Every topic a host or guest writes names its sender; a message speaking for another
 * is refused. */
static void test_sender(void **state)
{
	char b[160], err[256];
	const struct {
		const char *rest, *want;
	} cases[] = {
	    {"host/h1/load", "host/h1"},
	    {"host/h1/vm/web1", "host/h1"},
	    {"guest/web1/load", "guest/web1"},
	    {"balance/offer/h2", "host/h2"},
	    {"balance/peer/h1/h2", "host/h2"},
	    {"event/host/h3", "host/h3"},
	    {"event/confd", "confd"},
	    {"balance/offer", NULL},
	    {"balance/peer/h1", NULL},
	    {"balance/offer/h2/x", NULL},
	    {"event", NULL},
	    {"cmd/host/h1", NULL},
	    {"reply/vmc-1", NULL},
	    {"policy", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = topic_sender(cases[i].rest, b, sizeof b);
		if (r != (cases[i].want != NULL) || (r && strcmp(b, cases[i].want) != 0))
			fail_msg("%s: got %d \"%s\"", cases[i].rest, r, r ? b : "");
	}
	cJSON *m = cJSON_Parse("{\"from\":\"host/h2\",\"host\":\"h1\"}");
	assert_int_equal(topic_check_sender("balance/offer/h2", m, err, sizeof err), 0);
	assert_int_equal(topic_check_sender("balance/offer/h1", m, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not host/h1"));
	assert_int_equal(topic_check_sender("host/h2/load", m, err, sizeof err), 0);
	assert_int_equal(topic_check_sender("policy", m, err, sizeof err), 0);
	/* a host's events name it in "host" */
	assert_int_equal(topic_check_sender("event/host/h1", m, err, sizeof err), 0);
	assert_int_equal(topic_check_sender("event/host/h2", m, err, sizeof err), -1);
	cJSON_Delete(m);
	assert_true(topic_is_event("event") && topic_is_event("event/host/h1"));
	assert_false(topic_is_event("events") || topic_is_event("eventx/y"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sender),       cmocka_unit_test(test_fmt),
	    cmocka_unit_test(test_fmt_too_long), cmocka_unit_test(test_rest),
	    cmocka_unit_test(test_segment),      cmocka_unit_test(test_segment_rejected),
	    cmocka_unit_test(test_matches),
	};
	return cmocka_run_group_tests_name("topic", tests, NULL, NULL);
}
