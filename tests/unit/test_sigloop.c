/* test_sigloop.c - an agent's signals through its event loop: SIGHUP asks for a reload
 * once, SIGTERM and SIGINT stop the loop, and a loop waiting without a timeout wakes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include "../../lib/core/evloop.h"
#include "../../lib/core/sigloop.h"

static int reloads, hooks;

static void hook(struct evloop *loop, void *ud)
{
	hooks++;
	assert_ptr_equal(ud, &reloads);
	if (sigloop_check(loop))
		reloads++;
}

static void test_signals(void **state)
{
	char err[256];
	struct evloop *loop = evloop_new();
	assert_non_null(loop);
	assert_int_equal(sigloop_start(loop, hook, &reloads, err, sizeof(err)), 0);
	assert_int_equal(sigloop_caught(), 0);

	/* SIGHUP: one reload, the loop goes on; the wait without a timeout ends at once */
	raise(SIGHUP);
	assert_int_equal(evloop_run_once(loop, -1), 0);
	evloop_run_once(loop, 0);
	assert_int_equal(reloads, 1);
	assert_false(evloop_stopped(loop));
	assert_true(hooks >= 2);

	/* SIGPIPE is ignored */
	raise(SIGPIPE);

	/* SIGTERM: stops the loop, no reload */
	raise(SIGTERM);
	evloop_run_once(loop, -1);
	assert_true(evloop_stopped(loop));
	assert_int_equal(reloads, 1);
	assert_int_equal(sigloop_caught(), SIGTERM);
	evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
