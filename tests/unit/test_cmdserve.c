/* test_cmdserve.c - answering commands: the reply route kept from the message, repeats
 * told apart from new commands, the reply remembered for repeats even when it has nowhere
 * to go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/bus.h"
#include "../../lib/bus/cmdserve.h"
#include "../../lib/bus/msg.h"

static void test_route_copy(void **state)
{
	char corr[] = {1, 0, 2, 0, 3};
	char topic[] = "vmc/c1/reply/x";
	struct bus_msg m = {.topic = "vmc/c1/cmd/host/h1",
	                    .response_topic = topic,
	                    .correlation = corr,
	                    .correlation_len = sizeof(corr)};
	struct cmd_route r;
	cmd_route_copy(&r, &m);
	topic[0] = 'X'; /* a copy: the message's buffers may go */
	corr[0] = 9;
	assert_string_equal(r.response_topic, "vmc/c1/reply/x");
	assert_int_equal(r.correlation_len, sizeof(corr));
	assert_memory_equal(r.correlation, "\1\0\2\0\3", sizeof(corr));
	cmd_route_free(&r);
	assert_null(r.response_topic);
	assert_null(r.correlation);
	assert_int_equal(r.correlation_len, 0);

	/* MQTT 3.1.1: nothing to keep; empty correlation data is none */
	struct bus_msg plain = {.topic = "t", .correlation = corr, .correlation_len = 0};
	cmd_route_copy(&r, &plain);
	assert_null(r.response_topic);
	assert_null(r.correlation);
	cmd_route_free(&r);
	cmd_route_free(&r); /* twice is fine */
}

/* A new id is to run; the same id again is a repeat, while it runs and after its reply,
 * which is remembered even when it has nowhere to go. */
static void test_repeats(void **state)
{
	struct idcache *ids = idcache_new(8);
	struct cmd_route none = {0};
	assert_int_equal(cmd_repeat(NULL, ids, "c1", &none, ""), IDCACHE_NEW);
	assert_int_equal(cmd_repeat(NULL, ids, "c1", &none, ""), IDCACHE_PENDING);
	assert_int_equal(cmd_repeat(NULL, ids, "c2", &none, ""), IDCACHE_NEW);

	cJSON *reply = reply_ok("host/h1", 1, "c1", NULL);
	/* no response topic, no reply_to (a plain mosquitto_pub): nowhere to send it */
	assert_int_equal(cmd_reply_send(NULL, ids, "c1", &none, "", reply), -1);
	cJSON_Delete(reply);
	assert_int_equal(cmd_repeat(NULL, ids, "c1", &none, ""), IDCACHE_DONE);
	assert_int_equal(cmd_repeat(NULL, ids, "c2", &none, ""), IDCACHE_PENDING);

	/* a command without an id is answered, never remembered */
	reply = reply_err("host/h1", 1, "", VMC_E_BAD_JSON, "not JSON");
	assert_int_equal(cmd_reply_send(NULL, ids, "", &none, "", reply), -1);
	cJSON_Delete(reply);
	assert_int_equal(idcache_count(ids), 2);
	idcache_free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route_copy),
	    cmocka_unit_test(test_repeats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
