/* test_rules.c - the rules file parser and evaluator (vmcluster-rules(5)). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/balance/rules.h"

/* 2024-01-05 00:00 UTC, a Friday */
#define FRI0 1704412800000LL
#define HOUR 3600000LL
#define MIN 60000LL

static struct rules *parse_ok(const char *text)
{
	struct rules *r = NULL;
	char err[2048];
	int n = rules_parse(text, "test.rules", &r, err, sizeof err);
	if (n)
		fail_msg("unexpected errors: %s", err);
	assert_non_null(r);
	return r;
}

static int parse_err(const char *text, char *err, size_t len)
{
	struct rules *r = (struct rules *)1;
	int n = rules_parse(text, "test.rules", &r, err, len);
	assert_null(r);
	return n;
}

static void test_defaults(void **state)
{
	struct rules *r = rules_default();
	assert_int_equal(rules_count(r), 3);
	assert_string_equal(rules_name(r, 0), "overload");
	assert_int_equal(rules_action(r, 0), RULE_BALANCE);
	assert_int_equal(rules_action(r, 1), RULE_CONSOLIDATE);
	assert_int_equal(rules_action(r, 2), RULE_ALERT);
	const struct rule_settings *s = rules_settings(r);
	assert_true(s->high == 80 && s->low == 70);
	assert_int_equal(s->hold_ms, 30000);
	assert_int_equal(s->cooldown_ms, 600000);
	assert_null(rules_name(r, 3));
	assert_int_equal(rules_action(r, 3), -1);
	rules_free(r);
}

static void test_full_syntax(void **state)
{
	struct rules *r =
	    parse_ok("# a comment\n"
	             "set high 85%\n"
	             "set low 60;\n"
	             "set hold 1m\n"
	             "set mem_reserve 1G\n"
	             "rule hot {\n"
	             "  when (cpu >= high or mem_used > 90%) and not vms == 0 for hold\n"
	             "  until cpu < low for 150s\n"
	             "  do balance\n"
	             "}\n"
	             "rule starved { when guest.steal > 20 and guest.load1 > 2.5 for 60s;"
	             " do alert \"{vm} starved on {host}\" webhook "
	             "\"https://127.0.0.1:8080/hook?a=1\" }\n"
	             "rule maint {\n"
	             "  during 02:00-04:00 sun\n"
	             "  during 23:00-01:00 mon-wed,fri\n"
	             "  do evacuate\n"
	             "}\n"
	             "rule pack { during 22:00-24:00 weekdays when cluster.cpu < 20 and "
	             "cluster.hosts > 2 and mem_free > 2G do consolidate }\n");
	assert_int_equal(rules_count(r), 4);
	assert_int_equal(rules_action(r, 2), RULE_EVACUATE);
	rules_free(r);
}

static void test_full_syntax_values(void **state)
{
	struct rules *r = parse_ok("set high 85%\nset low 60\nset hold 1m\nset mem_reserve 1G\n"
	                           "rule starved { when guest.steal > 20 for 60s "
	                           "do alert \"{vm} starved on {host}\" webhook "
	                           "\"https://127.0.0.1:8080/hook\" }\n");
	const struct rule_settings *s = rules_settings(r);
	assert_true(s->high == 85 && s->low == 60);
	assert_int_equal(s->hold_ms, 60000);
	assert_int_equal(s->mem_reserve_mb, 1024);
	assert_string_equal(rules_alert_message(r, 0), "{vm} starved on {host}");
	assert_string_equal(rules_alert_webhook(r, 0), "https://127.0.0.1:8080/hook");
	rules_free(r);
}

static void test_errors_all_reported(void **state)
{
	char err[4096];
	int n = parse_err("rule a {\n"
	                  "  when cpu >> 80\n"
	                  "  do dance\n"
	                  "}\n"
	                  "set hgh 3\n"
	                  "rule b { when bogus > 1 do balance }\n"
	                  "rule c { when cpu > 2G do balance }\n"
	                  "rule d { during 25:00-01:00 do balance }\n"
	                  "rule e { when cpu > 80 }\n"
	                  "rule a { do alert \"x\" webhook \"ftp://x\" }\n"
	                  "rule f { do alert \"unterminated }\n",
	                  err, sizeof err);
	assert_true(n >= 9);
	const char *want[] = {
	    "test.rules:2:13: expected a number, found '>'",
	    "test.rules:3:6: expected an action (balance, consolidate, evacuate, alert), found "
	    "'dance'",
	    "test.rules:5:5: expected a setting name",
	    "test.rules:6:15: expected a metric",
	    "test.rules:7:21: expected a percentage (e.g. 80 or 80%) for cpu",
	    "test.rules:8:17: expected a start time HH:MM",
	    "test.rules:9:1: expected a 'do' clause in rule 'e'",
	    "test.rules:10:6: expected a new rule name, found 'a' again (first on line 1)",
	    "test.rules:10:31: expected an http:// or https:// URL",
	    "test.rules:11:19: expected an alert message in quotes, found unterminated string",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(err, want[i]))
			fail_msg("missing \"%s\" in:\n%s", want[i], err);
}

static void test_errors_structure(void **state)
{
	char err[2048];
	int n = parse_err("rule x { when cpu > 80 do balance\n", err, sizeof err);
	if (n != 1)
		fail_msg("%d errors: %s", n, err);
	assert_non_null(strstr(err, "test.rules:2:1: expected '}' to end the rule"));
	assert_true(parse_err("balance\n", err, sizeof err) >= 1);
	assert_non_null(strstr(err, "test.rules:1:1: expected 'rule' or 'set', found 'balance'"));
	assert_true(parse_err("rule y { when ((((((((((((((((((((((((((((((((((cpu > 1)))))))))))"
	                      ")))))))))))))))))))))))) do balance }",
	                      err, sizeof err) >= 1);
	assert_non_null(strstr(err, "nested 'not's and parentheses"));
	/* 30,000 nested nots: an error at the first one too deep, not a stack overflow */
	{
		size_t nots = 30000, len = nots * 4 + 64;
		char *deep = malloc(len);
		assert_non_null(deep);
		size_t k = (size_t)snprintf(deep, len, "rule d { when ");
		for (size_t i = 0; i < nots; i++)
			k += (size_t)snprintf(deep + k, len - k, "not ");
		snprintf(deep + k, len - k, "cpu > 1 do balance }");
		assert_true(parse_err(deep, err, sizeof err) >= 1);
		free(deep);
		/* "rule d { when " is 14 columns; the 33rd not starts at 15 + 32 * 4 */
		if (!strstr(err, "test.rules:1:143: expected at most 32 nested 'not's"))
			fail_msg("%s", err);
	}
	assert_int_equal(parse_err("set low 90\n", err, sizeof err), 1);
	assert_non_null(strstr(err, "expected low (90) under high (80)"));
	assert_true(parse_err("rule z { when cpu > 1 for banana do balance }", err, sizeof err) >=
	            1);
	assert_non_null(strstr(err, "test.rules:1:27: expected a duration"));
	assert_true(parse_err("rule w { during 10:00-10:00 do balance }", err, sizeof err) >= 1);
	assert_non_null(strstr(err, "not empty"));
	assert_true(parse_err("rule v { when cpu > 1 when cpu < 2 do balance }", err, sizeof err) >=
	            1);
	assert_non_null(strstr(err, "one 'when' per rule"));
	assert_true(parse_err("rule u { when cpu > 1 do balance \x01 }", err, sizeof err) >= 1);
	assert_non_null(strstr(err, "byte 0x01"));
	assert_true(parse_err("rule t { when guest.load1 > 2% do balance }", err, sizeof err) >= 1);
	assert_non_null(strstr(err, "plain number for guest.load1"));
	assert_true(parse_err("rule s { when cpu > hold do balance }", err, sizeof err) >= 1);
	assert_non_null(strstr(err, "setting of the same unit for cpu"));
}

static void test_error_buffer_small(void **state)
{
	char err[40];
	int n = parse_err("rule a { do x }\nrule b { do y }\nrule c { do z }\n", err, sizeof err);
	assert_int_equal(n, 3);
	assert_true(strlen(err) < sizeof err);
}

static void test_settings_set(void **state)
{
	struct rule_settings s;
	char err[512];
	rule_settings_default(&s);
	assert_int_equal(rule_settings_set(&s, "cooldown", "5m", err, sizeof err), 0);
	assert_int_equal(s.cooldown_ms, 300000);
	assert_int_equal(rule_settings_set(&s, "mem_reserve", "2g", err, sizeof err), 0);
	assert_int_equal(s.mem_reserve_mb, 2048);
	assert_int_equal(rule_settings_set(&s, "batch", "2.5", err, sizeof err), -1);
	assert_non_null(strstr(err, "batch: expected a whole number"));
	assert_int_equal(rule_settings_set(&s, "high", "101", err, sizeof err), -1);
	assert_non_null(strstr(err, "high: 101 is out of range"));
	assert_int_equal(rule_settings_set(&s, "nope", "1", err, sizeof err), -1);
	assert_non_null(strstr(err, "nope: unknown setting"));
	assert_int_equal(rule_settings_set(&s, "hold", "10 s", err, sizeof err), -1);
}

/* --- evaluation ---------------------------------------------------------------- */

static struct rule_sample host_sample(double cpu)
{
	struct rule_sample s = {.cpu = cpu,
	                        .mem_total_mb = 16384,
	                        .mem_used_mb = 8192,
	                        .mem_free_mb = 8192,
	                        .vms = 4,
	                        .cluster_cpu = cpu,
	                        .cluster_hosts = 4};
	return s;
}

static void test_eval_hold_and_hysteresis(void **state)
{
	struct rules *r = rules_default();
	struct rule_eval *e = rule_eval_new(r, NULL, 0);
	int64_t t = FRI0 + 12 * HOUR; /* noon: no night rule */
	struct rule_edge ed[8];
	size_t ne;
	struct rule_sample s = host_sample(90);
	/* cpu > 80 from t; active at the first sample >= t + 30 s */
	for (int i = 0; i < 15; i++) {
		assert_int_equal(rule_eval_step(e, t + i * 2000, &s, ed, 8, &ne), 0);
		assert_int_equal(ne, 0);
	}
	assert_int_equal(rule_eval_step(e, t + 30000, &s, ed, 8, &ne), RULE_MASK(RULE_BALANCE));
	assert_int_equal(ne, 1);
	assert_true(ed[0].on && ed[0].rule == 0 && ed[0].subject[0] == 0);
	/* between low and high: stays active */
	s = host_sample(75);
	for (int i = 1; i <= 100; i++)
		assert_int_equal(rule_eval_step(e, t + 30000 + i * 2000, &s, ed, 8, &ne),
		                 RULE_MASK(RULE_BALANCE));
	/* under low for less than the hold: still active */
	int64_t u = t + 30000 + 101 * 2000;
	s = host_sample(60);
	for (int i = 0; i < 15; i++)
		assert_int_equal(rule_eval_step(e, u + i * 2000, &s, ed, 8, &ne),
		                 RULE_MASK(RULE_BALANCE));
	/* a blip above low restarts the until hold */
	s = host_sample(72);
	rule_eval_step(e, u + 30000, &s, ed, 8, &ne);
	s = host_sample(60);
	assert_int_equal(rule_eval_step(e, u + 32000, &s, ed, 8, &ne), RULE_MASK(RULE_BALANCE));
	assert_int_equal(rule_eval_step(e, u + 32000 + 29999, &s, ed, 8, &ne),
	                 RULE_MASK(RULE_BALANCE));
	assert_int_equal(rule_eval_step(e, u + 62000, &s, ed, 8, &ne), 0);
	assert_int_equal(ne, 1);
	assert_false(ed[0].on);
	assert_false(rule_eval_active(e, 0));
	rule_eval_free(e);
	rules_free(r);
}

static void test_eval_blip_does_not_trigger(void **state)
{
	struct rules *r = rules_default();
	struct rule_eval *e = rule_eval_new(r, NULL, 0);
	int64_t t = FRI0 + 12 * HOUR;
	/* above high for 28 s, one sample under, 28 s above again: never active */
	for (int i = 0; i < 30; i++) {
		struct rule_sample s = host_sample(i == 15 ? 79 : 95);
		assert_int_equal(rule_eval_step(e, t + i * 2000, &s, NULL, 0, NULL), 0);
	}
	rule_eval_free(e);
	rules_free(r);
}

static void test_eval_night_window(void **state)
{
	struct rules *r = rules_default();
	/* UTC+1: local 22:00 is 21:00 UTC */
	struct rule_eval *e = rule_eval_new(r, NULL, 3600);
	struct rule_sample s = host_sample(10);
	int64_t start = FRI0 + 20 * HOUR; /* 21:00 local */
	int64_t on_at = -1, off_at = -1;
	for (int64_t t = start; t < start + 12 * HOUR; t += 10000) {
		size_t ne;
		struct rule_edge ed[4];
		rule_eval_step(e, t, &s, ed, 4, &ne);
		for (size_t i = 0; i < ne; i++) {
			if (ed[i].rule != 1)
				continue;
			if (ed[i].on)
				on_at = t;
			else
				off_at = t;
		}
	}
	/* on at 22:10 local (window opens 22:00, held 10 min), off at 06:00 local */
	assert_int_equal(on_at, FRI0 + 21 * HOUR + 10 * MIN);
	assert_int_equal(off_at, FRI0 + 29 * HOUR);
	rule_eval_free(e);
	rules_free(r);
}

static void test_window_days(void **state)
{
	struct rule_window w;
	char err[256];
	assert_int_equal(rule_window_parse("23:00-01:00", "fri", &w, err, sizeof err), 0);
	assert_int_equal(w.start_min, 23 * 60);
	assert_int_equal(w.end_min, 60);
	assert_int_equal(w.days, 1u << 5);
	/* Friday 23:30 and Saturday 00:30 are inside (the window starts on Friday) */
	assert_true(rule_window_contains(&w, FRI0 + 23 * HOUR + 30 * MIN, 0));
	assert_true(rule_window_contains(&w, FRI0 + 24 * HOUR + 30 * MIN, 0));
	/* Saturday 23:30 and Friday 00:30 (Thursday's window) are not */
	assert_false(rule_window_contains(&w, FRI0 + 47 * HOUR + 30 * MIN, 0));
	assert_false(rule_window_contains(&w, FRI0 + 30 * MIN, 0));
	assert_false(rule_window_contains(&w, FRI0 + 24 * HOUR + 60 * MIN, 0));
	assert_int_equal(rule_window_parse("00:00-24:00", "weekends", &w, err, sizeof err), 0);
	assert_true(rule_window_contains(&w, FRI0 + 24 * HOUR, 0));
	assert_true(rule_window_contains(&w, FRI0 + 72 * HOUR - 1, 0));
	assert_false(rule_window_contains(&w, FRI0 + 72 * HOUR, 0));
	assert_false(rule_window_contains(&w, FRI0 + 23 * HOUR, 0));
	/* a negative offset moves Saturday 00:30 UTC back into Friday local */
	assert_false(rule_window_contains(&w, FRI0 + 24 * HOUR + 30 * MIN, -3600));
	assert_int_equal(rule_window_parse("09:00-17:00", "mon,wed-fri", &w, err, sizeof err), 0);
	assert_int_equal(w.days, 0x3a);
	assert_int_equal(rule_window_parse("sat-mon", NULL, &w, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected a start time"));
	assert_int_equal(rule_window_parse("09:00-17:00", "funday", &w, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected the end of the window, found 'funday'"));
	assert_int_equal(rule_window_parse("09:00-17:60", NULL, &w, err, sizeof err), -1);
	assert_int_equal(rule_window_parse("fri-mon", "", &w, err, sizeof err), -1);
	assert_int_equal(rule_window_parse("22:00-02:00", "sat-mon", &w, err, sizeof err), 0);
	assert_int_equal(w.days, 0x43);
}

static void test_eval_guest_rules(void **state)
{
	struct rules *r = parse_ok("rule starved { when guest.steal > 20 for 10s "
	                           "do alert \"{vm} on {host}\" }\n"
	                           "rule gmem { when guest.mem_used > 90% do alert \"m\" }\n");
	struct rule_eval *e = rule_eval_new(r, NULL, 0);
	struct rule_guest g[3] = {
	    {.vm = "a", .known = 1, .steal = 30, .mem_used_mb = 950, .mem_total_mb = 1000},
	    {.vm = "b", .known = 1, .steal = 5, .mem_used_mb = 10, .mem_total_mb = 1000},
	    {.vm = "c", .known = 0, .steal = 99},
	};
	struct rule_sample s = host_sample(50);
	s.guests = g;
	s.nguests = 3;
	struct rule_edge ed[8];
	size_t ne;
	unsigned m = rule_eval_step(e, FRI0, &s, ed, 8, &ne);
	assert_int_equal(m, RULE_MASK(RULE_ALERT)); /* gmem for a at once */
	assert_int_equal(ne, 1);
	assert_int_equal(ed[0].rule, 1);
	assert_string_equal(ed[0].subject, "a");
	g[1].steal = 40; /* b starts being starved 5 s later */
	rule_eval_step(e, FRI0 + 5000, &s, ed, 8, &ne);
	assert_int_equal(ne, 0);
	rule_eval_step(e, FRI0 + 10000, &s, ed, 8, &ne);
	assert_int_equal(ne, 1);
	assert_string_equal(ed[0].subject, "a");
	assert_int_equal(ed[0].rule, 0);
	rule_eval_step(e, FRI0 + 15000, &s, ed, 8, &ne);
	assert_int_equal(ne, 1);
	assert_string_equal(ed[0].subject, "b");
	/* a leaves the host: both its rules clear */
	s.guests = g + 1;
	s.nguests = 2;
	rule_eval_step(e, FRI0 + 17000, &s, ed, 8, &ne);
	assert_int_equal(ne, 2);
	assert_false(ed[0].on || ed[1].on);
	assert_true(rule_eval_active(e, 0));
	assert_false(rule_eval_active(e, 1));
	char out[64];
	assert_string_equal(
	    rule_alert_format(rules_alert_message(r, 0), "h1", "b", "starved", out, sizeof out),
	    "b on h1");
	assert_string_equal(rule_alert_format("{rule}:{host}:{vm}:{x}", "h", "v", "r", out, 10),
	                    "r:h:v:{x}");
	rule_eval_free(e);
	rules_free(r);
}

static void test_eval_disable_and_settings(void **state)
{
	struct rules *r = rules_default();
	struct rule_settings s = *rules_settings(r);
	s.high = 50;
	s.hold_ms = 0;
	struct rule_eval *e = rule_eval_new(r, &s, 0);
	struct rule_sample smp = host_sample(60);
	struct rule_edge ed[4];
	size_t ne;
	int64_t t = FRI0 + 12 * HOUR;
	assert_int_equal(rule_eval_step(e, t, &smp, ed, 4, &ne), RULE_MASK(RULE_BALANCE));
	rule_eval_disable(e, RULE_MASK(RULE_BALANCE));
	assert_int_equal(rule_eval_step(e, t + 1, &smp, ed, 4, &ne), 0);
	assert_int_equal(ne, 1);
	assert_false(ed[0].on);
	rule_eval_disable(e, 0);
	rule_eval_configure(e, NULL, 0); /* back to the file's high of 80 */
	assert_int_equal(rule_eval_step(e, t + 2, &smp, ed, 4, &ne), 0);
	/* memory alert on a % threshold, edges beyond max are counted but dropped */
	smp.mem_free_mb = 100;
	rule_eval_configure(e, &s, 0);
	unsigned m = 0;
	for (int i = 0; i <= 30; i++)
		m = rule_eval_step(e, t + 3 + i * 2000, &smp, ed, 0, &ne);
	assert_int_equal(m, RULE_MASK(RULE_BALANCE) | RULE_MASK(RULE_ALERT));
	assert_int_equal(ne, 0);
	rule_eval_free(e);
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_syntax),
	    cmocka_unit_test(test_full_syntax_values),
	    cmocka_unit_test(test_errors_all_reported),
	    cmocka_unit_test(test_errors_structure),
	    cmocka_unit_test(test_error_buffer_small),
	    cmocka_unit_test(test_settings_set),
	    cmocka_unit_test(test_eval_hold_and_hysteresis),
	    cmocka_unit_test(test_eval_blip_does_not_trigger),
	    cmocka_unit_test(test_eval_night_window),
	    cmocka_unit_test(test_window_days),
	    cmocka_unit_test(test_eval_guest_rules),
	    cmocka_unit_test(test_eval_disable_and_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
