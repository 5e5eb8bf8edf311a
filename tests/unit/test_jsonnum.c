/* test_jsonnum.c - a number's text is cJSON_PrintUnformatted's, digit for digit: random
 * doubles of every magnitude, long percentages, halfway cases at the 15th and 17th
 * digit, numbers next to powers of two and of ten. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../lib/bus/jsonnum.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double uniform(void) /* [0, 1) */
{
	return (double)(next_rand() >> 11) / 9007199254740992.0;
}

static size_t checked;

static void same(double d)
{
	cJSON *n = cJSON_CreateNumber(d);
	char *want = cJSON_PrintUnformatted(n);
	char got[JSONNUM_MAX];
	size_t len = jsonnum_text(d, got);
	if (strcmp(got, want) != 0)
		fail_msg("%.17g (%a): cJSON %s, jsonnum %s", d, d, want, got);
	assert_int_equal(len, strlen(want));
	free(want);
	cJSON_Delete(n);
	checked++;
}

static void both_signs(double d)
{
	same(d);
	same(-d);
}

static void test_special(void **state)
{
	const double v[] = {0.0,
	                    -0.0,
	                    NAN,
	                    INFINITY,
	                    -INFINITY,
	                    1,
	                    -1,
	                    0.1,
	                    0.2,
	                    0.3,
	                    0.5,
	                    1.5,
	                    0.25,
	                    1e-4,
	                    1e-5,
	                    1.5e-5,
	                    9.9e-5,
	                    1e15,
	                    1e15 - 1,
	                    1e15 + 1,
	                    1e16,
	                    1e17,
	                    1e21,
	                    1e22,
	                    1e300,
	                    DBL_MAX,
	                    DBL_MIN,
	                    DBL_MIN / 4,
	                    5e-324,
	                    DBL_EPSILON,
	                    1.0 / 3,
	                    2.0 / 3,
	                    37.283649123456789,
	                    99.99999999999999,
	                    9.999999999999999,
	                    999999999999999.9,
	                    0.000099999999999999999};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		both_signs(v[i]);
}

static void test_random_bits(void **state)
{
	for (int i = 0; i < 60000; i++) {
		double d;
		uint64_t bits = next_rand();
		memcpy(&d, &bits, sizeof d);
		same(d);
	}
}

/* log-uniform from 1e-7 to 1e17: every exponent the exact path takes, and its edges */
static void test_magnitudes(void **state)
{
	for (int i = 0; i < 120000; i++)
		both_signs(pow(10, -7 + 24 * uniform()));
}

/* what the sim and Xen publish: percentages and milliseconds with many digits */
static void test_figures(void **state)
{
	for (int i = 0; i < 60000; i++) {
		same(100.0 * (double)(next_rand() % 1000003) / 1000003.0);
		same(50.0 * (double)(next_rand() % 20011) / 20011.0);
		same((double)(next_rand() % 100000000) / 7.0);
	}
}

/* exact halves at the 16th digit and eighths at the 18th: printf rounds them to even */
static void test_halfway(void **state)
{
	for (int i = 0; i < 20000; i++) {
		double j = (double)(100000000000000ULL + next_rand() % 900000000000000ULL);
		both_signs(j + 0.5);
		both_signs(j / 8 + 0.125);
		both_signs(ldexp(j, -20));
	}
	both_signs(100000000000000.5);
	both_signs(100000000000001.5);
	both_signs(562949953421312.5);
}

/* 80 doubles each side of p, both signs */
static void around(double p)
{
	double lo = p, hi = p;
	for (int u = 0; u < 80; u++) {
		lo = nextafter(lo, 0);
		hi = nextafter(hi, INFINITY);
		both_signs(lo);
		both_signs(hi);
	}
}

/* next to powers of two (the read back crosses into the next binade) and of ten (log10
 * off by one, rounding carrying into one more digit) */
static void test_edges(void **state)
{
	for (int k = -20; k <= 55; k++)
		around(ldexp(1, k));
	for (int k = -6; k <= 17; k++)
		around(pow(10, k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_special),    cmocka_unit_test(test_random_bits),
	    cmocka_unit_test(test_magnitudes), cmocka_unit_test(test_figures),
	    cmocka_unit_test(test_halfway),    cmocka_unit_test(test_edges),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	printf("# %zu numbers compared with cJSON\n", checked);
	return rc;
}
