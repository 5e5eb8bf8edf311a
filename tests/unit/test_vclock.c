/* test_vclock.c - virtual time, scaled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>

#include "../../lib/core/vclock.h"

static void test_real_time(void **state)
{
	struct vclock c;
	vclock_init(&c, 1, 5000, 1700000000000LL);
	assert_int_equal(vclock_at(&c, 5000), 1700000000000LL);
	assert_int_equal(vclock_at(&c, 6500), 1700000001500LL);
	assert_int_equal(vclock_at(&c, 4000), 1699999999000LL);
	assert_int_equal(vclock_real_ms(&c, 2000), 2000);
}

static void test_scaled(void **state)
{
	struct vclock c;
	vclock_init(&c, 60, 1000, 0);
	assert_int_equal(vclock_at(&c, 1000), 0);
	assert_int_equal(vclock_at(&c, 2000), 60000); /* a real second is a virtual minute */
	assert_int_equal(vclock_at(&c, 1000 + 60000), 3600000);
	assert_int_equal(vclock_real_ms(&c, 3600000), 60000);
	assert_int_equal(vclock_real_ms(&c, 60), 1);
	assert_int_equal(vclock_real_ms(&c, 61), 2); /* rounds up: never early */
	assert_int_equal(vclock_real_ms(&c, 1), 1);  /* at least 1 */
	assert_int_equal(vclock_real_ms(&c, 0), 0);
	assert_int_equal(vclock_real_ms(&c, -5), 0);
}

static void test_fractional(void **state)
{
	struct vclock c;
	vclock_init(&c, 2.5, 0, 100);
	assert_int_equal(vclock_at(&c, 1), 103); /* 102.5 rounds to nearest */
	assert_int_equal(vclock_at(&c, 2), 105);
	assert_int_equal(vclock_real_ms(&c, 5), 2);
	assert_int_equal(vclock_real_ms(&c, 6), 3);
}

static void test_bad_scale(void **state)
{
	struct vclock c;
	const double bad[] = {0, -3, NAN, INFINITY};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		vclock_init(&c, bad[i], 10, 20);
		assert_true(c.scale == 1.0);
		assert_int_equal(vclock_at(&c, 110), 120);
		assert_int_equal(vclock_real_ms(&c, 7), 7);
	}
}

static void test_saturates(void **state)
{
	struct vclock c;
	vclock_init(&c, 1e9, 0, 0);
	assert_int_equal(vclock_at(&c, INT64_MAX / 2), INT64_MAX);
	assert_int_equal(vclock_at(&c, INT64_MIN / 2), INT64_MIN);
	vclock_init(&c, 1, 0, 0);
	assert_true(vclock_real_ms(&c, INT64_MAX) == LONG_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_time),  cmocka_unit_test(test_scaled),
	    cmocka_unit_test(test_fractional), cmocka_unit_test(test_bad_scale),
	    cmocka_unit_test(test_saturates),
	};
	return cmocka_run_group_tests_name("vclock", tests, NULL, NULL);
}
