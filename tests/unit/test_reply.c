/* test_reply.c - reading a command's reply: ok and its result, the error's code and
 * message, and whatever else a reply from the bus may be instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bus/reply.h"

/* Reads the reply text (which must parse) into o; returns the parsed reply, to be freed
 * after o is used. */
static cJSON *read_text(const char *text, struct reply_outcome *o)
{
	char err[VMC_ERR_MAX];
	cJSON *m = NULL;
	if (msg_parse(text, strlen(text), &m, err, sizeof(err)) != VMC_OK)
		fail_msg("%s: %s", text, err);
	reply_read(m, o);
	return m;
}

static void test_ok(void **state)
{
	struct reply_outcome o;
	cJSON *m = read_text("{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"id\":\"a\",\"ok\":true,"
	                     "\"result\":{\"name\":\"web1\"}}",
	                     &o);
	assert_int_equal(o.kind, REPLY_OK);
	assert_non_null(o.result);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o.result, "name")), "web1");
	assert_null(o.code_text);
	assert_null(o.message);
	assert_string_equal(o.bad, "");
	cJSON_Delete(m);

	/* no result; a result of another type is given as it is; an error beside ok is not
	 * read */
	m = read_text("{\"ok\":true}", &o);
	assert_int_equal(o.kind, REPLY_OK);
	assert_null(o.result);
	cJSON_Delete(m);
	m = read_text("{\"ok\":true,\"result\":[1,2]}", &o);
	assert_int_equal(o.kind, REPLY_OK);
	assert_true(cJSON_IsArray(o.result));
	cJSON_Delete(m);
	m = read_text("{\"ok\":true,\"error\":{\"code\":\"busy\",\"message\":\"x\"}}", &o);
	assert_int_equal(o.kind, REPLY_OK);
	assert_null(o.code_text);
	assert_null(o.message);
	cJSON_Delete(m);
}

static void test_error(void **state)
{
	struct reply_outcome o;
	cJSON *m = read_text("{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"id\":\"a\",\"ok\":false,"
	                     "\"error\":{\"code\":\"no_memory\",\"message\":\"needs 4096 MiB\"}}",
	                     &o);
	assert_int_equal(o.kind, REPLY_ERROR);
	assert_int_equal(o.code, VMC_E_NO_MEMORY);
	assert_string_equal(o.code_text, "no_memory");
	assert_string_equal(o.message, "needs 4096 MiB");
	assert_null(o.result);
	assert_string_equal(o.bad, "");
	cJSON_Delete(m);

	/* every code of ours reads back as itself */
	for (int e = VMC_E_BAD_JSON; e < VMC_E__COUNT; e++) {
		char text[200];
		snprintf(text, sizeof(text), "{\"ok\":false,\"error\":{\"code\":\"%s\"}}",
		         vmc_err_code((enum vmc_err)e));
		m = read_text(text, &o);
		assert_int_equal(o.code, e);
		assert_null(o.message);
		cJSON_Delete(m);
	}

	/* a code that is not ours: internal, and its text kept for the user to see */
	m = read_text("{\"ok\":false,\"error\":{\"code\":\"on_fire\",\"message\":\"m\"}}", &o);
	assert_int_equal(o.code, VMC_E_INTERNAL);
	assert_string_equal(o.code_text, "on_fire");
	assert_string_equal(o.message, "m");
	cJSON_Delete(m);
}

/* A missing or wrong-typed code or message is absent; the code is then "failed". */
static void test_error_fields(void **state)
{
	static const char *const replies[] = {
	    "{\"ok\":false}",
	    "{\"ok\":false,\"error\":null}",
	    "{\"ok\":false,\"error\":\"busy\"}",
	    "{\"ok\":false,\"error\":[{\"code\":\"busy\",\"message\":\"m\"}]}",
	    "{\"ok\":false,\"error\":{}}",
	    "{\"ok\":false,\"error\":{\"code\":7,\"message\":false}}",
	    "{\"ok\":false,\"error\":{\"code\":[\"busy\"],\"message\":{\"text\":\"m\"}}}",
	    "{\"ok\":false,\"error\":{\"CODE\":\"busy\",\"Message\":\"m\"}}",
	    "{\"ok\":false,\"Error\":{\"code\":\"busy\",\"message\":\"m\"}}",
	};
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct reply_outcome o;
		cJSON *m = read_text(replies[i], &o);
		assert_int_equal(o.kind, REPLY_ERROR);
		assert_int_equal(o.code, VMC_E_FAILED);
		assert_null(o.code_text);
		assert_null(o.message);
		assert_null(o.result);
		cJSON_Delete(m);
	}
	/* one of the two absent, the other read */
	struct reply_outcome o;
	cJSON *m = read_text("{\"ok\":false,\"error\":{\"code\":\"busy\",\"message\":1}}", &o);
	assert_int_equal(o.code, VMC_E_BUSY);
	assert_null(o.message);
	cJSON_Delete(m);
	m = read_text("{\"ok\":false,\"error\":{\"code\":null,\"message\":\"m\"}}", &o);
	assert_int_equal(o.code, VMC_E_FAILED);
	assert_string_equal(o.message, "m");
	cJSON_Delete(m);
}

/* "ok" missing or not true or false: malformed, saying so; its error is read all the same
 * (for the programs that take anything but ok for an error). */
static void test_malformed(void **state)
{
	struct reply_outcome o;
	cJSON *m = read_text("{\"id\":\"a\",\"error\":{\"code\":\"busy\",\"message\":\"m\"}}", &o);
	assert_int_equal(o.kind, REPLY_MALFORMED);
	assert_string_equal(o.bad, "reply.ok: missing, expected true or false");
	assert_int_equal(o.code, VMC_E_BUSY);
	assert_string_equal(o.message, "m");
	assert_null(o.result);
	cJSON_Delete(m);

	static const char *const oks[] = {"1", "\"true\"", "null", "{}", "[true]"};
	for (size_t i = 0; i < sizeof(oks) / sizeof(oks[0]); i++) {
		char text[200];
		snprintf(text, sizeof(text), "{\"ok\":%s,\"result\":{}}", oks[i]);
		m = read_text(text, &o);
		assert_int_equal(o.kind, REPLY_MALFORMED);
		assert_non_null(strstr(o.bad, "reply.ok: expected true or false, got"));
		assert_null(o.result); /* never the result of a reply that does not say ok */
		assert_int_equal(o.code, VMC_E_FAILED);
		cJSON_Delete(m);
	}
	/* keys are case-sensitive, as everywhere in the protocol */
	m = read_text("{\"OK\":true}", &o);
	assert_int_equal(o.kind, REPLY_MALFORMED);
	cJSON_Delete(m);
}

/* Not an object at all, or nothing. */
static void test_not_a_reply(void **state)
{
	static const char *const texts[] = {"[]", "[{\"ok\":true}]", "\"ok\"", "true", "3", "null"};
	struct reply_outcome o;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cJSON *m = cJSON_Parse(texts[i]);
		assert_non_null(m);
		assert_int_equal(reply_read(m, &o), REPLY_MALFORMED);
		assert_string_equal(o.bad, "reply.ok: missing, expected true or false");
		assert_null(o.result);
		assert_null(o.code_text);
		assert_null(o.message);
		cJSON_Delete(m);
	}
	assert_int_equal(reply_read(NULL, &o), REPLY_MALFORMED);
	assert_int_equal(o.code, VMC_E_FAILED);
}

/* Hostile replies: long strings, deep nesting, repeated keys. Nothing is cut or copied:
 * the strings are the reply's own. */
static void test_hostile(void **state)
{
	size_t n = 100000;
	char *text = malloc(n + 200), *longs = malloc(n + 1);
	assert_non_null(text);
	assert_non_null(longs);
	memset(longs, 'x', n);
	longs[n] = '\0';
	snprintf(text, n + 200, "{\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
	         longs + n / 2, longs + n / 2);
	struct reply_outcome o;
	cJSON *m = read_text(text, &o);
	assert_int_equal(o.kind, REPLY_ERROR);
	assert_int_equal(o.code, VMC_E_INTERNAL);
	assert_int_equal(strlen(o.code_text), n / 2);
	assert_int_equal(strlen(o.message), n / 2);
	cJSON_Delete(m);

	/* an "ok" of a deeply nested value: described briefly, never overflowing bad */
	size_t depth = 200, used = 0;
	used += (size_t)snprintf(text + used, n + 200 - used, "{\"ok\":");
	for (size_t i = 0; i < depth; i++)
		text[used++] = '[';
	text[used++] = '"';
	memcpy(text + used, longs, 5000);
	used += 5000;
	text[used++] = '"';
	for (size_t i = 0; i < depth; i++)
		text[used++] = ']';
	snprintf(text + used, n + 200 - used, "}");
	m = cJSON_Parse(text);
	if (m) { /* cJSON may refuse the nesting: then there is nothing to read */
		assert_int_equal(reply_read(m, &o), REPLY_MALFORMED);
		assert_true(strlen(o.bad) < sizeof(o.bad));
		assert_non_null(strstr(o.bad, "reply.ok: expected true or false, got"));
		cJSON_Delete(m);
	}

	/* a repeated key: the first one counts, as for every other field */
	m = read_text(
	    "{\"ok\":false,\"ok\":true,\"error\":{\"code\":\"busy\",\"code\":\"exists\"}}", &o);
	assert_int_equal(o.kind, REPLY_ERROR);
	assert_int_equal(o.code, VMC_E_BUSY);
	cJSON_Delete(m);
	free(text);
	free(longs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok),           cmocka_unit_test(test_error),
	    cmocka_unit_test(test_error_fields), cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_not_a_reply),  cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
