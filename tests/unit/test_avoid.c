/* test_avoid.c - destinations avoided with exponential backoff, and the offers a
 * balancing node refuses: from a host it does not know, not online, or avoided. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/balance/avoid.h"
#include "../../lib/balance/balance_node.h"

static void test_backoff(void **state)
{
	struct avoid a;
	avoid_init(&a, 1000, 5000);
	assert_false(avoid_is(&a, "h2", 0));
	assert_int_equal(avoid_failed(&a, "h2", 0), 1000);
	assert_true(avoid_is(&a, "h2", 999));
	assert_false(avoid_is(&a, "h2", 1000));
	assert_int_equal(avoid_failed(&a, "h2", 1000), 2000);
	assert_int_equal(avoid_failed(&a, "h2", 3000), 4000);
	assert_int_equal(avoid_failed(&a, "h2", 7000), 5000); /* at most max */
	for (int i = 0; i < 100; i++)
		assert_int_equal(avoid_failed(&a, "h2", 7000), 5000); /* no overflow */
	assert_false(avoid_is(&a, "h3", 7000));
	avoid_ok(&a, "h2");
	assert_false(avoid_is(&a, "h2", 7000));
	assert_int_equal(avoid_failed(&a, "h2", 7000), 1000);
	/* a full table forgets the host whose wait ends first */
	char name[16];
	for (int i = 0; i < AVOID_MAX + 5; i++) {
		snprintf(name, sizeof name, "x%d", i);
		avoid_failed(&a, name, 10000 + i);
	}
	assert_int_equal(a.n, AVOID_MAX);
	assert_true(avoid_is(&a, "x68", 10068));
	assert_false(avoid_is(&a, "x0", 10068)); /* forgotten */
}

/* The reason of the release the node published for an offer from offerer, or "" if it
 * published none. */
static void offer_reason(struct bnode *n, const struct bal_view *v, const char *offerer,
                         int64_t now, char *reason, size_t len)
{
	struct bp_offer o = {.seq = 1,
	                     .cpu = 10,
	                     .mem_mb = 512,
	                     .load = 10,
	                     .load_after = 20,
	                     .cpus = 4,
	                     .ttl_ms = 10000,
	                     .nvms = 1};
	snprintf(o.requester, sizeof o.requester, "h1");
	snprintf(o.offerer, sizeof o.offerer, "%s", offerer);
	snprintf(o.reservation, sizeof o.reservation, "r1");
	snprintf(o.vms[0], sizeof o.vms[0], "vm1");
	cJSON *m = bp_offer_build("host/x", now, &o);
	bn_message(n, now, BN_OFFER, NULL, m, v);
	cJSON_Delete(m);
	struct bn_out *out;
	size_t k = bn_take(n, &out);
	reason[0] = 0;
	for (size_t i = 0; i < k; i++) {
		if (out[i].kind != BN_PUBLISH || out[i].topic != BN_RELEASE)
			continue;
		const cJSON *r = cJSON_GetObjectItem(out[i].msg, "reason");
		snprintf(reason, len, "%s", cJSON_IsString(r) ? r->valuestring : "?");
	}
	bn_outs_free(out, k);
}

static void test_offers_refused(void **state)
{
	struct rules *rules = rules_default();
	struct bn_config cfg = {.host = "h1", .rules = rules};
	struct bnode *n = bn_new(&cfg);
	struct bal_host hosts[3];
	memset(hosts, 0, sizeof hosts);
	const char *names[3] = {"h1", "h2", "h3"};
	for (int i = 0; i < 3; i++) {
		snprintf(hosts[i].name, sizeof hosts[i].name, "%s", names[i]);
		hosts[i].state = BAL_ONLINE;
		hosts[i].cpus = 4;
		hosts[i].mem_total_mb = hosts[i].mem_free_mb = 8192;
		hosts[i].mem_reserve_mb = -1;
	}
	hosts[2].state = BAL_MAINTENANCE;
	struct bal_view v = {hosts, 3, 1000};
	char why[128];
	offer_reason(n, &v, "ghost", 1000, why, sizeof why);
	assert_string_equal(why, "unknown host");
	offer_reason(n, &v, "h3", 1000, why, sizeof why);
	assert_string_equal(why, "host not online");
	offer_reason(n, &v, "h2", 1000, why, sizeof why);
	assert_string_equal(why, "late"); /* a known host; no request open */
	/* a migration to h2 failed: its offers are refused for a while, doubling */
	bn_migration_done(n, 2000, "vm1", "h2", 0);
	offer_reason(n, &v, "h2", 2001, why, sizeof why);
	assert_string_equal(why, "avoided after a failed migration");
	offer_reason(n, &v, "h2", 2000 + 10000, why, sizeof why);
	assert_string_equal(why, "late");
	bn_migration_done(n, 20000, "vm1", "h2", 0);
	offer_reason(n, &v, "h2", 20000 + 19999, why, sizeof why);
	assert_string_equal(why, "avoided after a failed migration");
	/* one that worked clears it */
	bn_migration_done(n, 40000, "vm1", "h2", 1);
	offer_reason(n, &v, "h2", 40001, why, sizeof why);
	assert_string_equal(why, "late");
	/* and so does a new connection to the broker: failures while it was away say
	 * nothing of h2 */
	bn_migration_done(n, 50000, "vm1", "h2", 0);
	bn_migration_done(n, 50001, "vm1", "h2", 0);
	offer_reason(n, &v, "h2", 50002, why, sizeof why);
	assert_string_equal(why, "avoided after a failed migration");
	bn_reconnected(n);
	offer_reason(n, &v, "h2", 50003, why, sizeof why);
	assert_string_equal(why, "late");
	struct bn_out *out;
	bn_outs_free(out, bn_take(n, &out));
	bn_free(n);
	rules_free(rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_offers_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
