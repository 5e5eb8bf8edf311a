/* test_vmtop_screen.c - the console's colour set-up on a colour terminal, what the model
 * says of VMs whose host is offline or stale, manual-migration holds, rounded event
 * details, and the hosts' load history behind the sparklines. */
#include <curses.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../console/vmtop/vmtop.h"
#include "../../lib/cluster/cluster_model.h"

#define T0 INT64_C(1700000000000)

static char err[VMC_ERR_MAX];

static void feed(struct cluster_model *m, const char *rest, int retained, int64_t now,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void feed(struct cluster_model *m, const char *rest, int retained, int64_t now,
                 const char *fmt, ...)
{
	char json[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(json, sizeof(json), fmt, ap);
	va_end(ap);
	err[0] = '\0';
	int rc = cluster_model_apply(m, rest, json, strlen(json), retained, now, err, sizeof(err));
	if (rc != 1)
		fail_msg("%s: %d %s", rest, rc, err);
}

/* h1's load at now listing one VM "web1" with the extra fields given (",\"k\":v"). */
static void load(struct cluster_model *m, int64_t now, const char *extra)
{
	feed(m, "host/h1/load", 0, now,
	     "{\"v\":1,\"from\":\"host/h1\",\"ts\":%lld,\"state\":\"online\",\"cpus\":4,"
	     "\"cpu\":%.1f,\"mem_total_mb\":1000,\"mem_used_mb\":250,\"mem_free_mb\":750,"
	     "\"vms\":[{\"name\":\"web1\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":250,"
	     "\"cpu\":100%s}]}",
	     (long long)now, (double)((now - T0) / 1000 % 100), extra);
}

/* --- colour ------------------------------------------------------------------ */

/* On a colour terminal the roles get colour pairs; with --mono, attributes only. The
 * terminal's COLORS is known only after start_color(): read before, it is 0. */
static void test_colour_setup(void **state)
{
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	assert_non_null(out);
	assert_non_null(in);
	SCREEN *scr = newterm("xterm-256color", out, in);
	if (!scr) {
		fclose(out);
		fclose(in);
		skip(); /* no terminfo entry for xterm-256color */
	}
	struct screen s;
	draw_init(&s, 0);
	assert_int_equal(s.colors, 1);
	assert_true(COLORS >= 8);
	assert_int_not_equal(s.attr[ROLE_GOOD] & A_COLOR, 0);
	assert_int_not_equal(s.attr[ROLE_BAD] & A_COLOR, 0);
	assert_int_not_equal(PAIR_NUMBER(s.attr[ROLE_GOOD]), PAIR_NUMBER(s.attr[ROLE_BAD]));

	draw_init(&s, 1); /* --mono */
	assert_int_equal(s.colors, 0);
	assert_int_equal(s.attr[ROLE_GOOD] & A_COLOR, 0);
	assert_int_equal(s.attr[ROLE_CURSOR], A_REVERSE);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

/* --- stale VMs ------------------------------------------------------------------- */

static void test_vm_of_offline_host_is_unknown(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	struct cm_summary s;
	load(m, T0, "");
	const struct cm_vm *v = cluster_model_vm_find(m, "web1");
	assert_int_equal(cluster_model_vm_stale(m, v), 0);
	cluster_model_summary(m, &s);
	assert_int_equal(s.running, 1);
	assert_int_equal(s.unknown, 0);

	/* its Last Will */
	feed(m, "host/h1/state", 0, T0 + 1000,
	     "{\"v\":1,\"from\":\"host/h1\",\"ts\":%lld,\"state\":\"offline\"}",
	     (long long)T0 + 1000);
	v = cluster_model_vm_find(m, "web1");
	assert_int_equal(cluster_model_vm_stale(m, v), 1);
	cluster_model_summary(m, &s);
	assert_int_equal(s.running, 0);
	assert_int_equal(s.unknown, 1);
	assert_int_equal(s.vms, 1);

	/* the screen and -b say so: state unknown, no CPU */
	struct view_env e = {m, T0 + 1000, NULL, NULL};
	struct row r = {ROW_VM, v};
	char buf[64];
	int st = column_find(columns_vm, columns_vm_n, "state");
	int cpu = column_find(columns_vm, columns_vm_n, "cpu");
	assert_string_equal(column_print(&columns_vm[st], &r, &e, 8, buf, sizeof(buf)), "unknown");
	assert_string_equal(column_print(&columns_vm[cpu], &r, &e, 6, buf, sizeof(buf)), "-");
	char hosts[256], vms[256];
	fmt_summary(m, T0 + 1000, hosts, sizeof(hosts), vms, sizeof(vms));
	assert_non_null(strstr(vms, "VMs: 0 running 0 paused 0 stopped 1 unknown"));
	cluster_model_free(m);
}

static void test_stale_host_row_agrees_with_header(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	load(m, T0, "");
	load(m, T0 + 1000, "");
	cluster_model_tick(m, T0 + 60000); /* no load for a minute */
	const struct cm_host *h = cluster_model_host_find(m, "h1");
	assert_int_equal(h->stale, 1);
	struct view_env e = {m, T0 + 60000, NULL, NULL};
	struct row r = {ROW_HOST, h};
	char buf[64], hosts[256], vms[256];
	int st = column_find(columns_host, columns_host_n, "state");
	assert_string_equal(column_print(&columns_host[st], &r, &e, 11, buf, sizeof(buf)), "stale");
	fmt_summary(m, T0 + 60000, hosts, sizeof(hosts), vms, sizeof(vms));
	assert_non_null(strstr(hosts, "Hosts: 0 online 0 offline 0 maint 1 stale"));
	assert_non_null(strstr(vms, "1 unknown"));
	assert_int_equal(cluster_model_vm_stale(m, cluster_model_vm_find(m, "web1")), 1);

	load(m, T0 + 61000, ""); /* back */
	assert_int_equal(h->stale, 0);
	assert_string_equal(column_print(&columns_host[st], &r, &e, 11, buf, sizeof(buf)),
	                    "online");
	assert_int_equal(cluster_model_vm_stale(m, cluster_model_vm_find(m, "web1")), 0);
	cluster_model_free(m);
}

/* --- holds ------------------------------------------------------------------------ */

static void test_hold_until(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	int hold = column_find(columns_vm, columns_vm_n, "hold");
	char buf[32];
	assert_true(hold >= 0);
	load(m, T0, ",\"hold_until\":1700000300000"); /* T0 + 5 min */
	const struct cm_vm *v = cluster_model_vm_find(m, "web1");
	assert_int_equal(v->hold_until_ms, T0 + 300000);
	assert_int_equal(v->hold_left_ms, 300000);
	struct view_env e = {m, T0 + 60000, NULL, NULL};
	struct row r = {ROW_VM, v};
	assert_string_equal(column_print(&columns_vm[hold], &r, &e, 5, buf, sizeof(buf)), "4m");
	e.now_ms = T0 + 400000; /* over */
	assert_string_equal(column_print(&columns_vm[hold], &r, &e, 5, buf, sizeof(buf)), "-");

	/* anything but a positive number is no hold, and no error */
	load(m, T0 + 1000, ",\"hold_until\":\"soon\"");
	assert_int_equal(cluster_model_vm_find(m, "web1")->hold_until_ms, 0);
	load(m, T0 + 2000, ",\"hold_until\":-5");
	assert_int_equal(cluster_model_vm_find(m, "web1")->hold_until_ms, 0);
	load(m, T0 + 3000, ",\"hold_until\":1700000300000");
	load(m, T0 + 4000, ""); /* released */
	assert_int_equal(cluster_model_vm_find(m, "web1")->hold_until_ms, 0);

	/* "held_until", in the host's own clock: a sim host 20 times faster than the wall
	 * says 10 virtual minutes are left; the console counts down from there */
	feed(m, "host/h1/load", 0, T0 + 5000,
	     "{\"v\":1,\"from\":\"host/h1\",\"ts\":1800000000000,\"cpus\":4,\"cpu\":1,"
	     "\"vms\":[{\"name\":\"web1\",\"state\":\"running\",\"held_until\":1800000600000}]}");
	v = cluster_model_vm_find(m, "web1");
	assert_int_equal(cluster_model_vm_hold_left(v, T0 + 5000), 600000);
	assert_int_equal(cluster_model_vm_hold_left(v, T0 + 65000), 540000);
	assert_int_equal(cluster_model_vm_hold_left(v, T0 + 700000), 0);
	cluster_model_free(m);
}

/* --- events ------------------------------------------------------------------------ */

static void test_event_numbers_rounded(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	feed(m, "event", 0, T0,
	     "{\"v\":1,\"from\":\"host/h1\",\"ts\":%lld,\"type\":\"balance.decision\","
	     "\"host\":\"h1\",\"from_before\":226.5780730897,\"count\":3,\"half\":0.5,"
	     "\"tiny\":0.004,\"big\":1700000000000}",
	     (long long)T0);
	const struct cm_event *ev = cluster_model_event_at(m, 0);
	assert_string_equal(ev->text,
	                    "from_before=226.58 count=3 half=0.5 tiny=0 big=1700000000000");
	cluster_model_free(m);
}

/* --- history ------------------------------------------------------------------------ */

static void test_history(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	struct history *h = history_new();
	double v[HIST_POINTS];
	char spark[HIST_POINTS * 4];
	assert_non_null(h);
	/* one load a second for 40 s, CPU climbing 0, 1, 2, ... (see load()) */
	for (int i = 0; i < 40; i++) {
		load(m, T0 + i * 1000, "");
		cluster_model_tick(m, T0 + i * 1000);
		history_sample(h, m, T0 + i * 1000);
	}
	int64_t now = T0 + 39000;
	assert_int_equal(history_series(h, "h1", HIST_CPU, now, v, 10), 8);
	assert_true(isnan(v[0]) && isnan(v[1]));
	assert_true(fabs(v[2] - 2.0) < 1e-9); /* the first 5 s: mean of 0..4 */
	assert_true(fabs(v[9] - 37.0) < 1e-9);
	assert_true(fabs(v[5] - v[4] - 5.0) < 1e-9);
	history_series(h, "h1", HIST_MEM, now, v, 10);
	assert_true(fabs(v[9] - 25.0) < 1e-9);
	assert_int_equal(history_series(h, "nosuch", HIST_CPU, now, v, 10), 0);

	/* nothing for a while: the old points slide left, blanks follow */
	assert_int_equal(history_series(h, "h1", HIST_CPU, now + 20000, v, 10), 6);
	assert_true(isnan(v[9]) && !isnan(v[5]));
	/* after the whole window, nothing */
	assert_int_equal(
	    history_series(h, "h1", HIST_CPU, now + HIST_POINTS * HIST_STEP_MS, v, HIST_POINTS), 0);

	double pts[] = {NAN, 0, 50, 100, 150};
	assert_string_equal(fmt_spark(pts, 5, 0, spark, sizeof(spark)), " .+@@");
	assert_string_equal(fmt_spark(pts, 5, 1, spark, sizeof(spark)),
	                    " \u2581\u2585\u2588\u2588");
	char small[4];
	assert_string_equal(fmt_spark(pts, 5, 1, small, sizeof(small)), " "); /* what fits */
	history_free(h);
	cluster_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_colour_setup),
	    cmocka_unit_test(test_vm_of_offline_host_is_unknown),
	    cmocka_unit_test(test_stale_host_row_agrees_with_header),
	    cmocka_unit_test(test_hold_until),
	    cmocka_unit_test(test_event_numbers_rounded),
	    cmocka_unit_test(test_history),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
