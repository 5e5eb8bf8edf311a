/* test_hostd_msg.c - a bus message as vmc-hostd's modules share it: the payload is
 * parsed on the first asking only, an invalid or empty one gives NULL and a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../agents/hostd/hostd.h"

static struct bus_msg raw_of(const char *payload)
{
	struct bus_msg raw;
	memset(&raw, 0, sizeof raw);
	raw.topic = "vmc/default/host/h1/load";
	raw.payload = payload;
	raw.len = strlen(payload);
	return raw;
}

static void test_parsed_once(void **state)
{
	struct bus_msg raw = raw_of("{\"v\":1,\"from\":\"host/h1\",\"ts\":5,\"cpu\":12}");
	struct hostd_msg m;
	hostd_msg_init(&m, &raw, "host/h1/load");
	assert_null(m.json);
	const cJSON *j = hostd_msg_json(&m);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "cpu")->valueint, 12);
	/* a second reader gets the same tree, not a new parse */
	assert_ptr_equal(hostd_msg_json(&m), j);
	assert_string_equal(m.rest, "host/h1/load");
	hostd_msg_free(&m);
	assert_null(m.json);
}

/* Invalid payloads: NULL and the reason, kept; asking again does not parse again. */
static void test_invalid(void **state)
{
	static const struct {
		const char *payload, *reason;
	} cases[] = {
	    {"{\"v\":1,", "not JSON"},
	    {"[1,2]", "expected a JSON object"},
	    {"", "empty payload"}, /* a retained record being cleared */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bus_msg raw = raw_of(cases[i].payload);
		struct hostd_msg m;
		hostd_msg_init(&m, &raw, "host/h1/state");
		assert_null(hostd_msg_json(&m));
		assert_non_null(strstr(m.err, cases[i].reason));
		assert_true(m.tried);
		assert_null(hostd_msg_json(&m));
		assert_non_null(strstr(m.err, cases[i].reason));
		hostd_msg_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parsed_once),
	    cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
