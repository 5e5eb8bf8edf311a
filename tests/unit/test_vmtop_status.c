/* test_vmtop_status.c - the console's status line when several commands answer before
 * the user presses a key: a refusal must stay visible when a later reply says "ok"
 * (an undrain refused while the drain still ran was hidden by the drain's "ok"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../console/vmtop/vmtop.h"

static void test_error_then_ok_keeps_the_error(void **state)
{
	struct ui ui;
	memset(&ui, 0, sizeof(ui));
	ui_status(&ui, 0, "undrain h2: sent, waiting for the reply");
	ui_result(&ui, 1, "undrain h2: busy: host h2: a drain is still running");
	ui_result(&ui, 0, "drain h2: ok");
	assert_string_equal(ui.status,
	                    "undrain h2: busy: host h2: a drain is still running | drain h2: ok");
	assert_int_equal(ui.status_err, 1);
}

static void test_ok_then_error_puts_the_error_first(void **state)
{
	struct ui ui;
	memset(&ui, 0, sizeof(ui));
	ui_result(&ui, 0, "migrate web1 -> h2: ok");
	ui_result(&ui, 1, "migrate web2 -> h2: no_memory: h2 has 100 MiB free");
	assert_string_equal(ui.status, "migrate web2 -> h2: no_memory: h2 has 100 MiB free | "
	                               "migrate web1 -> h2: ok");
	assert_int_equal(ui.status_err, 1);
}

static void test_a_new_status_replaces_the_results(void **state)
{
	struct ui ui;
	memset(&ui, 0, sizeof(ui));
	ui_result(&ui, 1, "drain h2: busy: no");
	ui_status(&ui, 0, "undrain h2: sent, waiting for the reply");
	ui_result(&ui, 0, "undrain h2: ok");
	assert_string_equal(ui.status, "undrain h2: ok");
	assert_int_equal(ui.status_err, 0);
}

static void test_seen_results_are_replaced(void **state)
{
	struct ui ui;
	memset(&ui, 0, sizeof(ui));
	ui_result(&ui, 0, "drain h2: ok");
	ui.status[0] = '\0'; /* what a key press does */
	ui.status_result = 0;
	ui_result(&ui, 0, "undrain h2: ok");
	assert_string_equal(ui.status, "undrain h2: ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_then_ok_keeps_the_error),
	    cmocka_unit_test(test_ok_then_error_puts_the_error_first),
	    cmocka_unit_test(test_a_new_status_replaces_the_results),
	    cmocka_unit_test(test_seen_results_are_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
