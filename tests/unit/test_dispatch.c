/* test_dispatch.c - {filter, handler} tables: matching, wildcards, precedence and
 * hostile topics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/dispatch.h"

/* What the handlers saw. */
struct seen {
	int calls;
	const char *which;
	void *msg;
	struct dispatch_match d;
};

static void record(void *ctx, void *msg, const struct dispatch_match *d, const char *which)
{
	struct seen *s = ctx;
	s->calls++;
	s->which = which;
	s->msg = msg;
	s->d = *d;
}

static void on_state(void *ctx, void *msg, const struct dispatch_match *d)
{
	record(ctx, msg, d, "state");
}

static void on_vm(void *ctx, void *msg, const struct dispatch_match *d)
{
	record(ctx, msg, d, "vm");
}

static void on_host(void *ctx, void *msg, const struct dispatch_match *d)
{
	record(ctx, msg, d, "host");
}

static void on_any(void *ctx, void *msg, const struct dispatch_match *d)
{
	record(ctx, msg, d, "any");
}

static const struct dispatch_row rows[] = {
    {"policy", on_state},  {"host/+/state", on_state}, {"host/+/vm/+", on_vm},
    {"host/+/vm/#", NULL}, {"host/#", on_host},        {NULL, NULL},
};

/* Runs rows on rest; returns the row index and fills s. */
static int run(const char *rest, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	int msg;
	int i = dispatch_run(rows, rest, s, &msg);
	if (s->calls)
		assert_ptr_equal(s->msg, &msg);
	return i;
}

static void test_literal(void **state)
{
	struct seen s;
	assert_int_equal(run("policy", &s), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.d.nparts, 0);
	assert_null(s.d.tail);
	assert_int_equal(run("policy/x", &s), -1);
	assert_int_equal(run("polic", &s), -1);
	assert_int_equal(run("policyx", &s), -1);
	assert_int_equal(s.calls, 0);
}

static void test_plus(void **state)
{
	struct seen s;
	assert_int_equal(run("host/h1/state", &s), 1);
	assert_string_equal(s.which, "state");
	assert_int_equal(s.d.nparts, 1);
	assert_string_equal(s.d.part[0], "h1");
	assert_string_equal(s.d.rest, "host/h1/state");
	assert_int_equal(run("host/h1/vm/web1", &s), 2);
	assert_string_equal(s.which, "vm");
	assert_int_equal(s.d.nparts, 2);
	assert_string_equal(s.d.part[0], "h1");
	assert_string_equal(s.d.part[1], "web1");
}

static void test_hash_and_order(void **state)
{
	struct seen s;
	/* the first matching row wins: host/+/vm/# before host/# */
	assert_int_equal(run("host/h1/vm", &s), 3);
	assert_int_equal(s.calls, 0); /* matched, no handler: ignored */
	assert_int_equal(run("host/h1/vm/a/b", &s), 3);
	assert_int_equal(s.calls, 0);
	assert_int_equal(run("host/h1/load", &s), 4);
	assert_string_equal(s.which, "host");
	assert_string_equal(s.d.tail, "h1/load");
	/* "a/#" matches "a" itself */
	assert_int_equal(run("host", &s), 4);
	assert_string_equal(s.d.tail, "");
	assert_int_equal(run("hosts/h1/state", &s), -1);
	assert_int_equal(s.calls, 0);
}

static void test_match_one(void **state)
{
	struct dispatch_match d;
	assert_true(dispatch_match("#", "a/b/c", &d));
	assert_string_equal(d.tail, "a/b/c");
	assert_true(dispatch_match("#", "", &d));
	assert_true(dispatch_match("+", "", &d));
	assert_true(dispatch_match("+/+/+/+", "a/b/c/d", &d));
	assert_string_equal(d.part[3], "d");
	assert_false(dispatch_match("+/+", "a", &d));
	assert_false(dispatch_match("a/+/#", "a", &d));
	assert_true(dispatch_match("a/+/#", "a/b", &d));
	assert_string_equal(d.part[0], "b");
	assert_string_equal(d.tail, "");
	assert_false(dispatch_match("a", "a/", &d));
	assert_false(dispatch_match("a/b", "a", &d));
	assert_false(dispatch_match(NULL, "a", &d));
	assert_false(dispatch_match("a", NULL, &d));
	assert_int_equal(dispatch_find(rows, NULL, &d), -1);
	assert_int_equal(dispatch_find(NULL, "policy", &d), -1);
	assert_int_equal(dispatch_run(rows, NULL, NULL, NULL), -1);
}

static void test_empty_levels(void **state)
{
	struct seen s;
	/* '+' matches an empty level: the handler sees "" and judges the name */
	assert_int_equal(run("host//state", &s), 1);
	assert_string_equal(s.d.part[0], "");
	assert_int_equal(run("host///", &s), 4); /* host/""/""/"": not vm */
	assert_int_equal(run("host//vm/", &s), 2);
	assert_string_equal(s.d.part[1], "");
	assert_int_equal(run("", &s), -1);
	assert_int_equal(run("/", &s), -1);
	assert_int_equal(run("/policy", &s), -1);
	assert_int_equal(run("policy/", &s), -1);
}

static void test_invalid_filters(void **state)
{
	struct dispatch_match d;
	/* '#' not last, a wildcard inside a level, more '+' than parts */
	assert_false(dispatch_match("a/#/b", "a/x/b", &d));
	assert_false(dispatch_match("a+/b", "a+/b", &d));
	assert_false(dispatch_match("a+/b", "ax/b", &d));
	assert_false(dispatch_match("#a", "#a", &d));
	assert_false(dispatch_match("a/b#", "a/bc", &d));
	assert_false(dispatch_match("+/+/+/+/+", "a/b/c/d/e", &d));
	assert_true(dispatch_match("+/+/+/+/#", "a/b/c/d/e", &d));
	assert_string_equal(d.tail, "e");
}

static void test_hostile_topics(void **state)
{
	struct seen s;
	char name[DISPATCH_PART_MAX + 2], topic[DISPATCH_PART_MAX + 32];
	/* a name of DISPATCH_PART_MAX fits; one more does not, and the row fails */
	memset(name, 'n', DISPATCH_PART_MAX);
	name[DISPATCH_PART_MAX] = '\0';
	snprintf(topic, sizeof topic, "host/%s/state", name);
	assert_int_equal(run(topic, &s), 1);
	assert_string_equal(s.d.part[0], name);
	strcat(name, "n");
	snprintf(topic, sizeof topic, "host/%s/state", name);
	assert_int_equal(run(topic, &s), 4); /* host/# */
	assert_string_equal(s.d.tail, topic + 5);
	snprintf(topic, sizeof topic, "host/h1/vm/%s", name);
	assert_int_equal(run(topic, &s), 3);
	assert_int_equal(s.calls, 0);

	/* a very long topic: levels and length */
	size_t n = 200000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memcpy(big, "host/", 5);
	for (size_t i = 5; i < n; i++)
		big[i] = (i % 2) ? '/' : 'x';
	big[n] = '\0';
	assert_int_equal(run(big, &s), 4);
	memset(big + 5, 'y', n - 5);
	assert_int_equal(run(big, &s), 4);
	free(big);

	/* wildcards in a topic: no publisher may send one */
	assert_int_equal(run("host/+/state", &s), -1);
	assert_int_equal(run("host/#", &s), -1);
	assert_int_equal(run("policy+", &s), -1);
	assert_int_equal(s.calls, 0);

	/* a NUL ends the topic: what follows is not read */
	static const char nul[] = "host/h1\0/state";
	assert_int_equal(run(nul, &s), 4);
	assert_string_equal(s.d.tail, "h1");
	static const char nul2[] = "policy\0/x";
	assert_int_equal(run(nul2, &s), 0);

	/* bytes that are not ASCII are only bytes */
	assert_int_equal(run("host/\xff\xfe/state", &s), 1);
	assert_string_equal(s.d.part[0], "\xff\xfe");
}

static void test_catch_all(void **state)
{
	static const struct dispatch_row all[] = {{"#", on_any}, {NULL, NULL}};
	static const struct dispatch_row none[] = {{NULL, NULL}};
	struct seen s = {0};
	assert_int_equal(dispatch_run(all, "a/b", &s, NULL), 0);
	assert_string_equal(s.which, "any");
	assert_int_equal(dispatch_run(none, "a/b", &s, NULL), -1);
	assert_int_equal(s.calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literal),        cmocka_unit_test(test_plus),
	    cmocka_unit_test(test_hash_and_order), cmocka_unit_test(test_match_one),
	    cmocka_unit_test(test_empty_levels),   cmocka_unit_test(test_invalid_filters),
	    cmocka_unit_test(test_hostile_topics), cmocka_unit_test(test_catch_all),
	};
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
