/* test_broker_list.c - broker lists: parsing (bus_urls_parse) and building them from
 * repeated settings (cliopts_list_add, CLIOPTS_LIST). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../lib/bus/bus.h"
#include "../../lib/config/cliopts.h"

static void test_list_parse(void **state)
{
	struct bus_url u[BUS_URLS_MAX];
	size_t n;
	char err[256];
	assert_int_equal(bus_urls_parse("mqtt://a:1,mqtt://b:2, mqtt://[::1]:3 ", u, BUS_URLS_MAX,
	                                &n, err, sizeof err),
	                 0);
	assert_int_equal(n, 3);
	assert_string_equal(u[0].host, "a");
	assert_int_equal(u[0].port, 1);
	assert_string_equal(u[1].host, "b");
	assert_string_equal(u[2].host, "::1");
	assert_int_equal(u[2].port, 3);
	/* the default broker */
	assert_int_equal(bus_urls_parse(NULL, u, BUS_URLS_MAX, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(u[0].host, "127.0.0.1");
	assert_int_equal(u[0].port, 1883);
	assert_int_equal(bus_urls_check("mqtts://a,mqtts://b:8884", err, sizeof err), 0);
}

static void test_list_bad(void **state)
{
	struct bus_url u[2];
	size_t n;
	char err[256];
	assert_int_equal(bus_urls_check("mqtt://a:1,,mqtt://b:2", err, sizeof err), -1);
	assert_non_null(strstr(err, "empty address"));
	assert_int_equal(bus_urls_check("mqtt://a:1,", err, sizeof err), -1);
	assert_int_equal(bus_urls_check("mqtt://a:1,mqtts://b:2", err, sizeof err), -1);
	assert_non_null(strstr(err, "mixes"));
	assert_int_equal(bus_urls_check("mqtt://a:1,http://b", err, sizeof err), -1);
	assert_non_null(strstr(err, "http://b"));
	assert_int_equal(bus_urls_check("mqtt://a:99999", err, sizeof err), -1);
	assert_int_equal(bus_urls_parse("mqtt://a,mqtt://b,mqtt://c", u, 2, &n, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "more than 2"));
}

struct opts {
	struct cliopts_list broker;
	const char *cluster;
};

static void test_repeated_setting(void **state)
{
	static const struct cliopts_def defs[] = {
	    {"broker", CLIOPTS_LIST, offsetof(struct opts, broker), 0, 0, ""},
	    {"cluster", CLIOPTS_STR, offsetof(struct opts, cluster), 0, 0, ""},
	};
	struct opts o = {.broker = {.text = "mqtt://default"}};
	char *argv[] = {"prog", "--broker", "mqtt://a", "--broker", "mqtt://b,mqtt://c", NULL};
	int check = 0;
	struct conf *file = NULL;
	assert_string_equal(o.broker.text, "mqtt://default");
	assert_int_equal(cliopts_parse(&o, defs, 2, 5, argv, "prog", &check, &file), 0);
	assert_string_equal(o.broker.text, "mqtt://a,mqtt://b,mqtt://c");
	/* a later source replaces the list; the same source adds to it */
	char err[128];
	o.broker.pass = 3;
	assert_int_equal(cliopts_list_add(&o.broker, "broker", "mqtt://x", err, sizeof err), 0);
	assert_string_equal(o.broker.text, "mqtt://x");
	char big[CLIOPTS_LIST_MAX];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(cliopts_list_add(&o.broker, "broker", big, err, sizeof err), -1);
	assert_non_null(strstr(err, "broker"));
	assert_string_equal(o.broker.text, "mqtt://x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_parse),
	    cmocka_unit_test(test_list_bad),
	    cmocka_unit_test(test_repeated_setting),
	};
	return cmocka_run_group_tests_name("broker_list", tests, NULL, NULL);
}
