/* test_policy.c - the retained cluster policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../lib/cluster/policy.h"

#define FRI0 1704412800000LL /* 2024-01-05 00:00 UTC, a Friday */
#define HOUR 3600000LL

static int parse(const char *text, struct policy *p, char *err, size_t len)
{
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	int r = policy_parse(j, p, err, len);
	cJSON_Delete(j);
	return r;
}

static void test_parse_and_apply(void **state)
{
	struct policy p;
	char err[256];
	assert_int_equal(parse("{\"v\":1,\"from\":\"vmc/admin\",\"ts\":1,\"mode\":\"balance\","
	                       "\"settings\":{\"high\":85,\"hold\":\"1m\",\"mem_reserve\":\"1G\"},"
	                       "\"windows\":[{\"during\":\"22:00-06:00\",\"days\":\"mon-fri\","
	                       "\"mode\":\"consolidate\"},{\"during\":\"12:00-13:00\",\"mode\":"
	                       "\"advise\"}]}",
	                       &p, err, sizeof err),
	                 0);
	assert_int_equal(p.mode, POLICY_BALANCE);
	assert_int_equal(p.nsettings, 3);
	assert_int_equal(p.nwindows, 2);
	struct rule_settings file, eff;
	rule_settings_default(&file);
	enum policy_mode m;
	assert_int_equal(
	    policy_effective(&p, &file, FRI0 + 10 * HOUR, 0, &m, &eff, err, sizeof err), 0);
	assert_int_equal(m, POLICY_BALANCE);
	assert_true(eff.high == 85 && eff.low == 70);
	assert_int_equal(eff.hold_ms, 60000);
	assert_int_equal(eff.mem_reserve_mb, 1024);
	/* Friday 23:00: Friday's night window */
	policy_effective(&p, &file, FRI0 + 23 * HOUR, 0, &m, &eff, err, sizeof err);
	assert_int_equal(m, POLICY_CONSOLIDATE);
	/* Saturday 01:00: still Friday's window; Saturday 23:00: none */
	policy_effective(&p, &file, FRI0 + 25 * HOUR, 0, &m, &eff, err, sizeof err);
	assert_int_equal(m, POLICY_CONSOLIDATE);
	policy_effective(&p, &file, FRI0 + 47 * HOUR, 0, &m, &eff, err, sizeof err);
	assert_int_equal(m, POLICY_BALANCE);
	policy_effective(&p, &file, FRI0 + 12 * HOUR + 1, 0, &m, &eff, err, sizeof err);
	assert_int_equal(m, POLICY_ADVISE);
	/* no policy: the file */
	policy_effective(NULL, &file, FRI0, 0, &m, &eff, err, sizeof err);
	assert_int_equal(m, POLICY_RULES);
	assert_true(eff.high == 80);
	assert_int_equal(policy_disabled_actions(POLICY_BALANCE), RULE_MASK(RULE_CONSOLIDATE));
	assert_int_equal(policy_disabled_actions(POLICY_CONSOLIDATE), 0);
	assert_true(policy_disabled_actions(POLICY_OFF) & RULE_MASK(RULE_BALANCE));
	assert_false(policy_disabled_actions(POLICY_OFF) & RULE_MASK(RULE_ALERT));
}

static void test_round_trip(void **state)
{
	struct policy p, q;
	char err[256];
	assert_int_equal(parse("{\"v\":1,\"from\":\"a\",\"ts\":1,\"settings\":{\"low\":50},"
	                       "\"windows\":[{\"during\":\"23:30-01:00\",\"days\":\"sat,sun\","
	                       "\"mode\":\"off\"}]}",
	                       &p, err, sizeof err),
	                 0);
	assert_int_equal(p.mode, POLICY_RULES);
	cJSON *j = policy_to_json(&p);
	cJSON_AddNumberToObject(j, "v", 1);
	cJSON_AddStringToObject(j, "from", "a");
	cJSON_AddNumberToObject(j, "ts", 1);
	assert_int_equal(policy_parse(j, &q, err, sizeof err), 0);
	cJSON_Delete(j);
	assert_int_equal(q.nwindows, 1);
	assert_int_equal(q.windows[0].w.start_min, 23 * 60 + 30);
	assert_int_equal(q.windows[0].w.days, 0x41);
	assert_int_equal(q.windows[0].mode, POLICY_OFF);
	assert_string_equal(q.settings[0].value, "50");
}

static void test_errors(void **state)
{
	struct policy p;
	char err[256];
	const struct {
		const char *json, *want;
	} cases[] = {
	    {"{\"from\":\"a\",\"ts\":1}", "v"},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"mode\":\"fast\"}",
	     "mode: expected balance, consolidate, advise or off, got \"fast\""},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"settings\":{\"hgh\":1}}",
	     "settings.hgh: unknown setting"},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"settings\":{\"high\":true}}",
	     "settings.high: expected a number or a short string"},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"settings\":{\"low\":90}}",
	     "expected low (90) under high (80)"},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"windows\":[{\"during\":\"25:00-01:00\","
	     "\"mode\":\"off\"}]}",
	     "windows[0].during/days: expected a start time"},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"windows\":[{\"during\":\"20:00-01:00\"}]}",
	     "windows[0].mode: missing"},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"windows\":[3]}", "windows[0]: expected an object"},
	    {"{\"v\":1,\"from\":\"a\",\"ts\":1,\"windows\":{}}", "windows: expected"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(parse(cases[i].json, &p, err, sizeof err), -1);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].want, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_apply),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
