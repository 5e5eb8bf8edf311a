/* test_idcache.c - idempotence by command id, bounded with oldest-first eviction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/idcache.h"

static void test_lifecycle(void **state)
{
	struct idcache *c = idcache_new(4);
	assert_non_null(c);
	const char *reply = NULL;
	assert_int_equal(idcache_count(c), 0);
	assert_int_equal(idcache_begin(c, "a", &reply), IDCACHE_NEW);
	assert_int_equal(idcache_count(c), 1);
	assert_int_equal(idcache_begin(c, "a", &reply), IDCACHE_PENDING);
	assert_null(reply);
	assert_int_equal(idcache_finish(c, "a", "{\"ok\":true}"), 0);
	assert_int_equal(idcache_begin(c, "a", &reply), IDCACHE_DONE);
	assert_string_equal(reply, "{\"ok\":true}");
	assert_int_equal(idcache_count(c), 1);
	idcache_free(c);
	idcache_free(NULL);
}

static void test_reply_copied(void **state)
{
	struct idcache *c = idcache_new(2);
	char buf[16];
	strcpy(buf, "first");
	assert_int_equal(idcache_begin(c, "x", NULL), IDCACHE_NEW);
	assert_int_equal(idcache_finish(c, "x", buf), 0);
	strcpy(buf, "changed");
	const char *reply = NULL;
	assert_int_equal(idcache_begin(c, "x", &reply), IDCACHE_DONE);
	assert_string_equal(reply, "first");
	/* a second finish keeps the first reply */
	assert_int_equal(idcache_finish(c, "x", "second"), 0);
	assert_int_equal(idcache_begin(c, "x", &reply), IDCACHE_DONE);
	assert_string_equal(reply, "first");
	/* the id is copied too */
	char id[8] = "idA";
	assert_int_equal(idcache_begin(c, id, NULL), IDCACHE_NEW);
	id[2] = 'B';
	assert_int_equal(idcache_begin(c, "idA", NULL), IDCACHE_PENDING);
	idcache_free(c);
}

static void test_finish_unknown(void **state)
{
	struct idcache *c = idcache_new(3);
	assert_int_equal(idcache_finish(c, "never-begun", "r"), 0);
	const char *reply = NULL;
	assert_int_equal(idcache_begin(c, "never-begun", &reply), IDCACHE_DONE);
	assert_string_equal(reply, "r");
	assert_int_equal(idcache_finish(c, "null-reply", NULL), 0);
	assert_int_equal(idcache_begin(c, "null-reply", &reply), IDCACHE_DONE);
	assert_string_equal(reply, "");
	idcache_free(c);
}

static void test_eviction_oldest_first(void **state)
{
	struct idcache *c = idcache_new(3);
	const char *reply;
	assert_int_equal(idcache_begin(c, "1", NULL), IDCACHE_NEW);
	assert_int_equal(idcache_begin(c, "2", NULL), IDCACHE_NEW);
	assert_int_equal(idcache_begin(c, "3", NULL), IDCACHE_NEW);
	assert_int_equal(idcache_finish(c, "1", "r1"), 0);
	assert_int_equal(idcache_count(c), 3);
	assert_int_equal(idcache_begin(c, "4", NULL), IDCACHE_NEW); /* evicts "1" */
	assert_int_equal(idcache_count(c), 3);
	assert_int_equal(idcache_begin(c, "2", &reply), IDCACHE_PENDING);
	assert_int_equal(idcache_begin(c, "3", &reply), IDCACHE_PENDING);
	assert_int_equal(idcache_begin(c, "4", &reply), IDCACHE_PENDING);
	assert_int_equal(idcache_begin(c, "1", &reply), IDCACHE_NEW); /* evicts "2" */
	assert_int_equal(idcache_begin(c, "2", &reply), IDCACHE_NEW); /* evicts "3" */
	assert_int_equal(idcache_begin(c, "4", &reply), IDCACHE_PENDING);
	assert_int_equal(idcache_count(c), 3);
	idcache_free(c);
}

static void test_capacity_zero(void **state)
{
	struct idcache *c = idcache_new(0); /* treated as 1 */
	assert_non_null(c);
	assert_int_equal(idcache_begin(c, "a", NULL), IDCACHE_NEW);
	assert_int_equal(idcache_begin(c, "a", NULL), IDCACHE_PENDING);
	assert_int_equal(idcache_begin(c, "b", NULL), IDCACHE_NEW);
	assert_int_equal(idcache_begin(c, "a", NULL), IDCACHE_NEW);
	assert_int_equal(idcache_count(c), 1);
	idcache_free(c);
	assert_null(idcache_new(SIZE_MAX));
}

static void test_many(void **state)
{
	/* many ids through a small cache: every retained one is found with its reply,
	 * every evicted one is new again; chains stay consistent through evictions */
	enum { CAP = 100, N = 5000 };
	struct idcache *c = idcache_new(CAP);
	char id[32], rep[32];
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof id, "cmd-%d", i);
		snprintf(rep, sizeof rep, "reply-%d", i);
		assert_int_equal(idcache_begin(c, id, NULL), IDCACHE_NEW);
		assert_int_equal(idcache_finish(c, id, rep), 0);
	}
	assert_int_equal(idcache_count(c), CAP);
	for (int i = N - CAP; i < N; i++) {
		const char *reply = NULL;
		snprintf(id, sizeof id, "cmd-%d", i);
		snprintf(rep, sizeof rep, "reply-%d", i);
		assert_int_equal(idcache_begin(c, id, &reply), IDCACHE_DONE);
		assert_string_equal(reply, rep);
	}
	snprintf(id, sizeof id, "cmd-%d", N - CAP - 1);
	assert_int_equal(idcache_begin(c, id, NULL), IDCACHE_NEW);
	assert_int_equal(idcache_count(c), CAP);
	idcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle),      cmocka_unit_test(test_reply_copied),
	    cmocka_unit_test(test_finish_unknown), cmocka_unit_test(test_eviction_oldest_first),
	    cmocka_unit_test(test_capacity_zero),  cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests_name("idcache", tests, NULL, NULL);
}
