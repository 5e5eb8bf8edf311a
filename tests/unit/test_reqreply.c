/* test_reqreply.c - requests waiting for their one reply: reply, timeout, cancel, and
 * every reply that must not be delivered (repeated, late, unknown, hostile ids). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/msg.h"
#include "../../lib/bus/reqreply.h"
#include "../../lib/bus/reqreply_timer.h"
#include "../../lib/core/evloop.h"

#define LOG_MAX 64

/* What the callbacks saw, in order. */
struct seen {
	int n;
	char id[LOG_MAX][VMC_ID_MAX + 1];
	enum reqreply_end end[LOG_MAX];
	int had_reply[LOG_MAX];
	int watched;
};

static void record(void *ud, const char *id, enum reqreply_end end, const cJSON *reply)
{
	struct seen *s = ud;
	assert_true(s->n < LOG_MAX);
	snprintf(s->id[s->n], sizeof(s->id[s->n]), "%s", id);
	s->end[s->n] = end;
	s->had_reply[s->n] = reply != NULL;
	if (end == REQREPLY_REPLIED) {
		const cJSON *j = cJSON_GetObjectItemCaseSensitive(reply, "id");
		assert_true(cJSON_IsString(j));
		assert_string_equal(j->valuestring, id);
	} else {
		assert_null(reply);
	}
	s->n++;
}

static enum reqreply_match reply_to(struct reqreply *rr, const char *json)
{
	cJSON *m = cJSON_Parse(json);
	assert_non_null(m);
	enum reqreply_match r = reqreply_reply(rr, m);
	cJSON_Delete(m);
	return r;
}

static void test_reply(void **state)
{
	struct reqreply *rr = reqreply_new();
	struct seen s = {0};
	assert_int_equal(reqreply_add(rr, "c-1", 1000, record, &s), 0);
	assert_int_equal(reqreply_pending(rr), 1);
	assert_true(reqreply_waiting(rr, "c-1"));
	assert_int_equal(reply_to(rr, "{\"id\":\"c-1\",\"ok\":true}"), REQREPLY_DELIVERED);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.id[0], "c-1");
	assert_int_equal(s.end[0], REQREPLY_REPLIED);
	assert_true(s.had_reply[0]);
	assert_int_equal(reqreply_pending(rr), 0);
	assert_false(reqreply_waiting(rr, "c-1"));
	assert_int_equal(reqreply_expire(rr, 5000), 0); /* nothing left to time out */
	assert_int_equal(s.n, 1);
	assert_int_equal(reqreply_stats(rr)->replied, 1);
	assert_int_equal(reqreply_stats(rr)->added, 1);
	reqreply_free(rr);
	assert_int_equal(s.n, 1); /* ended already: freeing does not end it again */
}

static void test_timeout(void **state)
{
	struct reqreply *rr = reqreply_new();
	struct seen s = {0};
	int64_t next = 0;
	assert_int_equal(reqreply_next_deadline(rr, &next), 0);
	assert_int_equal(reqreply_add(rr, "late", 300, record, &s), 0);
	assert_int_equal(reqreply_add(rr, "early", 100, record, &s), 0);
	assert_int_equal(reqreply_add(rr, "tie", 300, record, &s), 0);
	assert_int_equal(reqreply_next_deadline(rr, &next), 1);
	assert_int_equal(next, 100);
	assert_int_equal(reqreply_expire(rr, 99), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(reqreply_expire(rr, 100), 1); /* due at its deadline */
	assert_string_equal(s.id[0], "early");
	assert_int_equal(s.end[0], REQREPLY_TIMED_OUT);
	assert_int_equal(reqreply_next_deadline(rr, &next), 1);
	assert_int_equal(next, 300);
	assert_int_equal(reqreply_expire(rr, 1000), 2); /* ties in order of adding */
	assert_string_equal(s.id[1], "late");
	assert_string_equal(s.id[2], "tie");
	assert_int_equal(s.end[2], REQREPLY_TIMED_OUT);
	assert_int_equal(reqreply_pending(rr), 0);
	assert_int_equal(reqreply_next_deadline(rr, &next), 0);
	assert_int_equal(reqreply_stats(rr)->timed_out, 3);
	reqreply_free(rr);
	assert_int_equal(s.n, 3);
}

static void test_duplicate_reply(void **state)
{
	struct reqreply *rr = reqreply_new();
	struct seen s = {0};
	assert_int_equal(reqreply_add(rr, "d", 1000, record, &s), 0);
	assert_int_equal(reply_to(rr, "{\"id\":\"d\",\"ok\":true}"), REQREPLY_DELIVERED);
	assert_int_equal(reply_to(rr, "{\"id\":\"d\",\"ok\":false}"), REQREPLY_LATE);
	assert_int_equal(reply_to(rr, "{\"id\":\"d\",\"ok\":true}"), REQREPLY_LATE);
	assert_int_equal(s.n, 1);
	assert_int_equal(reqreply_stats(rr)->late, 2);
	assert_int_equal(reqreply_stats(rr)->replied, 1);
	reqreply_free(rr);
}

static void test_late_reply_after_timeout(void **state)
{
	struct reqreply *rr = reqreply_new();
	struct seen s = {0};
	assert_int_equal(reqreply_add(rr, "slow", 10, record, &s), 0);
	assert_int_equal(reqreply_expire(rr, 10), 1);
	assert_int_equal(reply_to(rr, "{\"id\":\"slow\",\"ok\":true}"), REQREPLY_LATE);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.end[0], REQREPLY_TIMED_OUT);
	assert_int_equal(reqreply_stats(rr)->late, 1);
	reqreply_free(rr);
	assert_int_equal(s.n, 1);
}

static void test_unknown_id(void **state)
{
	struct reqreply *rr = reqreply_new();
	struct seen s = {0};
	assert_int_equal(reqreply_add(rr, "mine", 1000, record, &s), 0);
	assert_int_equal(reply_to(rr, "{\"id\":\"theirs\",\"ok\":true}"), REQREPLY_UNKNOWN);
	assert_int_equal(reply_to(rr, "{\"id\":\"MINE\",\"ok\":true}"), REQREPLY_UNKNOWN);
	assert_int_equal(reply_to(rr, "{\"ID\":\"mine\",\"ok\":true}"), REQREPLY_BAD_ID);
	assert_int_equal(s.n, 0);
	assert_int_equal(reqreply_pending(rr), 1);
	assert_int_equal(reqreply_stats(rr)->unknown, 2);
	assert_int_equal(reqreply_cancel(rr, "theirs"), 0);
	assert_string_equal(reqreply_match_name(REQREPLY_UNKNOWN), "unknown");
	reqreply_free(rr);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.end[0], REQREPLY_CANCELLED);
}

static void test_hostile_ids(void **state)
{
	struct reqreply *rr = reqreply_new();
	struct seen s = {0};
	char longid[VMC_ID_MAX + 2], json[VMC_ID_MAX + 64];
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0'; /* one over */
	/* ids that cannot be waited for */
	assert_int_equal(reqreply_add(rr, "", 1000, record, &s), -1);
	assert_int_equal(reqreply_add(rr, NULL, 1000, record, &s), -1);
	assert_int_equal(reqreply_add(rr, longid, 1000, record, &s), -1);
	/* the longest is fine, and a second wait for the same id is not */
	longid[VMC_ID_MAX] = '\0';
	assert_int_equal(reqreply_add(rr, longid, 1000, record, &s), 0);
	assert_int_equal(reqreply_add(rr, longid, 2000, record, &s), -1);
	assert_int_equal(reqreply_add(rr, "ok", 1000, record, &s), 0);
	static const char *const bad[] = {
	    "{\"ok\":true}",           "{\"id\":7}",        "{\"id\":null}",
	    "{\"id\":true}",           "{\"id\":[\"ok\"]}", "{\"id\":{\"id\":\"ok\"}}",
	    "{\"id\":\"\"}",           "[\"id\",\"ok\"]",   "\"ok\"",
	    "{\"id\":\"ok\\u0000x\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *m = cJSON_Parse(bad[i]);
		assert_non_null(m);
		enum reqreply_match r = reqreply_reply(rr, m);
		cJSON_Delete(m);
		/* an id cut at a NUL is "ok" to cJSON: then it is delivered once, never twice */
		if (i != 9)
			assert_int_equal(r, REQREPLY_BAD_ID);
	}
	assert_int_equal(reqreply_reply(rr, NULL), REQREPLY_BAD_ID);
	/* one over the longest id */
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", longid);
	assert_int_equal(reply_to(rr, json), REQREPLY_BAD_ID);
	assert_true(s.n <= 1);
	int before = s.n;
	longid[VMC_ID_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", longid);
	assert_int_equal(reply_to(rr, json), REQREPLY_DELIVERED);
	assert_int_equal(s.n, before + 1);
	assert_true(reqreply_stats(rr)->bad_id >= 10);
	reqreply_free(rr);
	/* every request ended exactly once */
	int ok = 0, lng = 0;
	for (int i = 0; i < s.n; i++) {
		ok += strcmp(s.id[i], "ok") == 0;
		lng += strlen(s.id[i]) == VMC_ID_MAX;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(lng, 1);
}

/* Counts the ends of each of many requests, by the number in their id. */
struct many {
	int *ends;
	int replied, timed_out, cancelled;
};

static void count_end(void *ud, const char *id, enum reqreply_end end, const cJSON *reply)
{
	struct many *m = ud;
	m->ends[atoi(id + 2)]++;
	m->replied += end == REQREPLY_REPLIED;
	m->timed_out += end == REQREPLY_TIMED_OUT;
	m->cancelled += end == REQREPLY_CANCELLED;
}

static void test_many_pending(void **state)
{
	enum { N = 3000 };
	struct reqreply *rr = reqreply_new();
	struct many m = {.ends = calloc(N, sizeof(int))};
	char id[32], json[64];
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "r-%d", i);
		assert_int_equal(reqreply_add(rr, id, 1000 + i % 100, count_end, &m), 0);
	}
	assert_int_equal(reqreply_pending(rr), N);
	for (int i = 0; i < N; i += 3) { /* every third replied, twice */
		snprintf(json, sizeof(json), "{\"id\":\"r-%d\"}", i);
		assert_int_equal(reply_to(rr, json), REQREPLY_DELIVERED);
		assert_int_not_equal(reply_to(rr, json), REQREPLY_DELIVERED);
	}
	assert_int_equal(m.replied, N / 3);
	size_t due = reqreply_expire(rr, 1049); /* deadlines 1000..1049 of the rest */
	assert_int_equal(m.timed_out, (int)due);
	assert_true(due > 0 && due < (size_t)N);
	assert_int_equal(reqreply_cancel_all(rr), (size_t)(N - m.replied - m.timed_out));
	assert_int_equal(reqreply_pending(rr), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(m.ends[i], 1);
	assert_int_equal(reqreply_stats(rr)->added, N);
	assert_int_equal(reqreply_stats(rr)->replied + reqreply_stats(rr)->timed_out +
	                     reqreply_stats(rr)->cancelled,
	                 N);
	reqreply_free(rr);
	free(m.ends);
}

/* A callback that asks again (as confd does when a host did not answer): its new request
 * is cancelled too, once. */
struct again {
	struct reqreply *rr;
	struct seen s;
};

static void ask_again(void *ud, const char *id, enum reqreply_end end, const cJSON *reply)
{
	struct again *a = ud;
	record(&a->s, id, end, reply);
	if (strcmp(id, "first") == 0)
		assert_int_equal(reqreply_add(a->rr, "second", 5, ask_again, a), 0);
}

static void test_cancel_all(void **state)
{
	struct again a = {.rr = reqreply_new()};
	assert_int_equal(reqreply_add(a.rr, "first", 1000, ask_again, &a), 0);
	assert_int_equal(reqreply_add(a.rr, "other", 2000, ask_again, &a), 0);
	assert_int_equal(reqreply_add(a.rr, "quiet", 10, NULL, NULL), 0); /* no callback */
	assert_int_equal(reqreply_cancel_all(a.rr), 4);
	assert_int_equal(a.s.n, 3);
	assert_string_equal(a.s.id[0], "first");
	assert_string_equal(a.s.id[1], "second");
	assert_string_equal(a.s.id[2], "other");
	for (int i = 0; i < a.s.n; i++)
		assert_int_equal(a.s.end[i], REQREPLY_CANCELLED);
	assert_int_equal(reqreply_pending(a.rr), 0);
	assert_int_equal(reply_to(a.rr, "{\"id\":\"first\"}"), REQREPLY_LATE);
	assert_int_equal(reqreply_cancel_all(a.rr), 0);
	/* freeing cancels what still waits */
	assert_int_equal(reqreply_add(a.rr, "last", 10, record, &a.s), 0);
	reqreply_free(a.rr);
	assert_int_equal(a.s.n, 4);
	assert_string_equal(a.s.id[3], "last");
	assert_int_equal(a.s.end[3], REQREPLY_CANCELLED);
}

/* A callback that ends another request: that one ends once, as cancelled. */
static void cancel_other(void *ud, const char *id, enum reqreply_end end, const cJSON *reply)
{
	struct again *a = ud;
	record(&a->s, id, end, reply);
	if (strcmp(id, "a") == 0)
		assert_int_equal(reqreply_cancel(a->rr, "b"), 1);
}

static void test_callback_ends_another(void **state)
{
	struct again a = {.rr = reqreply_new()};
	assert_int_equal(reqreply_add(a.rr, "a", 10, cancel_other, &a), 0);
	assert_int_equal(reqreply_add(a.rr, "b", 10, cancel_other, &a), 0);
	assert_int_equal(reqreply_expire(a.rr, 10), 1);
	assert_int_equal(a.s.n, 2);
	assert_string_equal(a.s.id[0], "a");
	assert_int_equal(a.s.end[0], REQREPLY_TIMED_OUT);
	assert_string_equal(a.s.id[1], "b");
	assert_int_equal(a.s.end[1], REQREPLY_CANCELLED);
	reqreply_free(a.rr);
	assert_int_equal(a.s.n, 2);
}

static void count_watch(struct reqreply *rr, void *ud)
{
	((struct seen *)ud)->watched++;
}

static void test_watch(void **state)
{
	struct reqreply *rr = reqreply_new();
	struct seen s = {0};
	reqreply_watch(rr, count_watch, &s);
	assert_int_equal(reqreply_add(rr, "w1", 10, record, &s), 0);
	assert_int_equal(reqreply_add(rr, "w2", 10, record, &s), 0);
	assert_int_equal(s.watched, 2);
	assert_int_equal(reqreply_expire(rr, 5), 0);
	assert_int_equal(s.watched, 2); /* nothing changed */
	assert_int_equal(reqreply_expire(rr, 10), 2);
	assert_int_equal(s.watched, 3); /* once for the whole expiry */
	assert_int_equal(reply_to(rr, "{\"id\":\"nobody\"}"), REQREPLY_UNKNOWN);
	assert_int_equal(s.watched, 3);
	reqreply_free(rr);
	assert_int_equal(s.watched, 3);
}

static void test_ended_ids_forgotten(void **state)
{
	struct reqreply *rr = reqreply_new();
	char id[32], json[64];
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "e-%d", i);
		assert_int_equal(reqreply_add(rr, id, 0, NULL, NULL), 0);
		assert_int_equal(reqreply_expire(rr, 0), 1);
	}
	assert_int_equal(reply_to(rr, "{\"id\":\"e-199\"}"), REQREPLY_LATE);
	assert_int_equal(reply_to(rr, "{\"id\":\"e-0\"}"), REQREPLY_UNKNOWN);
	/* an id whose request ended may be waited for again */
	assert_int_equal(reqreply_add(rr, "e-199", 10, NULL, NULL), 0);
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", "e-199");
	assert_int_equal(reply_to(rr, json), REQREPLY_DELIVERED);
	assert_int_equal(reqreply_seq(rr), 1);
	assert_int_equal(reqreply_seq(rr), 2);
	reqreply_free(rr);
	reqreply_free(NULL);
}

/* On an event loop: one timer ends what is due, a reply ends its request before, and
 * nothing is left armed once the timer is freed. */
static void test_timer_on_loop(void **state)
{
	struct evloop *loop = evloop_new();
	struct reqreply *rr = reqreply_new();
	struct reqreply_timer *t = reqreply_timer_new(rr, loop);
	struct seen s = {0};
	assert_non_null(t);
	int64_t now = evloop_mono_ms();
	assert_int_equal(reqreply_add(rr, "soon", now + 20, record, &s), 0);
	assert_int_equal(reqreply_add(rr, "answered", now + 10, record, &s), 0);
	assert_int_equal(reqreply_add(rr, "later", now + 60, record, &s), 0);
	assert_int_equal(reply_to(rr, "{\"id\":\"answered\"}"), REQREPLY_DELIVERED);
	for (int i = 0; i < 1000 && reqreply_pending(rr) > 0; i++)
		evloop_run_once(loop, 50);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.id[0], "answered");
	assert_int_equal(s.end[0], REQREPLY_REPLIED);
	assert_string_equal(s.id[1], "soon");
	assert_int_equal(s.end[1], REQREPLY_TIMED_OUT);
	assert_string_equal(s.id[2], "later");
	assert_int_equal(s.end[2], REQREPLY_TIMED_OUT);
	assert_int_equal(reqreply_add(rr, "left", evloop_mono_ms() + 100000, record, &s), 0);
	reqreply_timer_free(t);
	reqreply_free(rr);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.end[3], REQREPLY_CANCELLED);
	evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_duplicate_reply),
	    cmocka_unit_test(test_late_reply_after_timeout),
	    cmocka_unit_test(test_unknown_id),
	    cmocka_unit_test(test_hostile_ids),
	    cmocka_unit_test(test_many_pending),
	    cmocka_unit_test(test_cancel_all),
	    cmocka_unit_test(test_callback_ends_another),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_ended_ids_forgotten),
	    cmocka_unit_test(test_timer_on_loop),
	};
	return cmocka_run_group_tests_name("reqreply", tests, NULL, NULL);
}
