/* test_balance_proto.c - balancing messages, the offerer's promises (kept in the table
 * of lib/cluster/reserve_promise.h) and the requester's offer collection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/balance/balance_proto.h"
#include "../../lib/balance/bp_collect.h"
#include "../../lib/cluster/reserve_promise.h"

#define T0 1704412800000LL

/* Prints and parses again, as the bus would carry it. */
static cJSON *wire(cJSON *m)
{
	char *text = msg_print(m);
	cJSON_Delete(m);
	cJSON *back = cJSON_Parse(text);
	free(text);
	assert_non_null(back);
	return back;
}

static void test_help_round_trip(void **state)
{
	struct bp_help h = {.requester = "h1",
	                    .seq = 7,
	                    .mode = BAL_MODE_BALANCE,
	                    .load = 400,
	                    .cpus = 4,
	                    .excess = 1190,
	                    .ncands = 2};
	h.cands[0] =
	    (struct bal_cand){.vm = "a", .cpu = 100, .mem_mb = 1024, .unknown = 1, .anti = "ha"};
	h.cands[1] = (struct bal_cand){.vm = "b", .cpu = 50.5, .mem_mb = 512, .affinity = "g"};
	cJSON *m = wire(bp_help_build("host/h1", T0, &h));
	struct bp_help out;
	char err[256];
	assert_int_equal(bp_help_parse(m, &out, err, sizeof err), 0);
	cJSON_Delete(m);
	assert_string_equal(out.requester, "h1");
	assert_int_equal(out.seq, 7);
	assert_int_equal(out.mode, BAL_MODE_BALANCE);
	assert_true(out.load == 400 && out.cpus == 4 && out.excess == 1190);
	assert_int_equal(out.ncands, 2);
	assert_true(out.cands[0].unknown && !out.cands[1].unknown);
	assert_string_equal(out.cands[0].anti, "ha");
	assert_string_equal(out.cands[1].affinity, "g");
	assert_true(out.cands[1].cpu == 50.5 && out.cands[1].mem_mb == 512);
}

static void test_offer_accept_release_round_trip(void **state)
{
	char err[256];
	struct bp_offer o = {.requester = "h1",
	                     .seq = 3,
	                     .offerer = "h2",
	                     .reservation = "h2-1",
	                     .cpu = 200,
	                     .mem_mb = 2048,
	                     .load = 10,
	                     .load_after = 60,
	                     .cpus = 4,
	                     .ttl_ms = 5000,
	                     .nvms = 2};
	strcpy(o.vms[0], "a");
	strcpy(o.vms[1], "b");
	cJSON *m = wire(bp_offer_build("host/h2", T0, &o));
	struct bp_offer oo;
	assert_int_equal(bp_offer_parse(m, &oo, err, sizeof err), 0);
	cJSON_Delete(m);
	assert_string_equal(oo.reservation, "h2-1");
	assert_int_equal(oo.nvms, 2);
	assert_string_equal(oo.vms[1], "b");
	assert_true(oo.load_after == 60 && oo.ttl_ms == 5000);

	struct bp_accept a = {
	    .requester = "h1", .seq = 3, .offerer = "h2", .reservation = "h2-1", .nvms = 1};
	a.vms[0] = (struct bp_accept_vm){"a", T0, 2};
	m = wire(bp_accept_build("host/h1", T0, &a));
	struct bp_accept aa;
	assert_int_equal(bp_accept_parse(m, &aa, err, sizeof err), 0);
	cJSON_Delete(m);
	assert_int_equal(aa.nvms, 1);
	assert_int_equal(aa.vms[0].last_move_ms, T0);
	assert_int_equal(aa.vms[0].moves_hour, 2);

	struct bp_release r = {.requester = "h1",
	                       .seq = 3,
	                       .offerer = "h2",
	                       .reservation = "h2-1",
	                       .by_offerer = 1,
	                       .reason = "expired"};
	m = wire(bp_release_build("host/h2", T0, &r));
	struct bp_release rr;
	assert_int_equal(bp_release_parse(m, &rr, err, sizeof err), 0);
	cJSON_Delete(m);
	assert_true(rr.by_offerer);
	assert_string_equal(rr.reason, "expired");
}

static void test_parse_errors(void **state)
{
	const struct {
		int kind; /* 0 help, 1 offer, 2 accept, 3 release */
		const char *json, *want;
	} cases[] = {
	    {0, "{\"v\":1,\"from\":\"x\",\"ts\":1,\"seq\":1,\"mode\":\"balance\"}", "requester"},
	    {0,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"mode\":\"spread\","
	     "\"load\":1,\"cpus\":1,\"candidates\":[]}",
	     "mode: expected balance, consolidate or evacuate"},
	    {0,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"mode\":\"balance\","
	     "\"load\":1,\"cpus\":1,\"candidates\":[{\"vm\":\"a\",\"cpu\":1,\"mem_mb\":-4}]}",
	     "candidates[0].mem_mb"},
	    {0,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"mode\":\"balance\","
	     "\"load\":1,\"cpus\":1,\"candidates\":[{\"vm\":\"../a\",\"cpu\":1,\"mem_mb\":4}]}",
	     "candidates[0].vm"},
	    {0,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"mode\":\"balance\","
	     "\"load\":1,\"cpus\":0,\"candidates\":[]}",
	     "cpus"},
	    {1,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"offerer\":\"h2\","
	     "\"reservation\":\"r\",\"cpu\":1,\"mem_mb\":1,\"load\":1,\"load_after\":2,\"cpus\":4,"
	     "\"ttl_ms\":1000,\"vms\":[3]}",
	     "vms[0]: expected a VM name"},
	    {1,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"offerer\":\"h2\","
	     "\"cpu\":1,\"mem_mb\":1,\"load\":1,\"load_after\":2,\"cpus\":4,\"ttl_ms\":1000,"
	     "\"vms\":[]}",
	     "reservation"},
	    {2,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"offerer\":\"h2\","
	     "\"reservation\":\"r\",\"vms\":[{\"vm\":\"a\",\"last_move_ms\":1}]}",
	     "vms[0].moves_1h"},
	    {3,
	     "{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,\"offerer\":\"h2\","
	     "\"reservation\":\"r\",\"by\":\"nobody\"}",
	     "by: expected requester or offerer"},
	    {3, "{\"v\":2,\"from\":\"x\",\"ts\":1}", "v"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *m = cJSON_Parse(cases[i].json);
		assert_non_null(m);
		char err[256] = "";
		int r;
		struct bp_help h;
		struct bp_offer o;
		struct bp_accept a;
		struct bp_release rl;
		switch (cases[i].kind) {
		case 0:
			r = bp_help_parse(m, &h, err, sizeof err);
			break;
		case 1:
			r = bp_offer_parse(m, &o, err, sizeof err);
			break;
		case 2:
			r = bp_accept_parse(m, &a, err, sizeof err);
			break;
		default:
			r = bp_release_parse(m, &rl, err, sizeof err);
			break;
		}
		cJSON_Delete(m);
		assert_int_equal(r, -1);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].want, err);
	}
	/* more candidates than a request may carry */
	cJSON *m = cJSON_Parse("{\"v\":1,\"from\":\"x\",\"ts\":1,\"requester\":\"h1\",\"seq\":1,"
	                       "\"mode\":\"balance\",\"load\":1,\"cpus\":1}");
	cJSON *a = cJSON_AddArrayToObject(m, "candidates");
	for (int i = 0; i <= BAL_MAX_CANDS; i++)
		cJSON_AddItemToArray(a, cJSON_CreateObject());
	struct bp_help h;
	char err[256];
	assert_int_equal(bp_help_parse(m, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "candidates: expected at most 64"));
	cJSON_Delete(m);
}

static struct bal_take take_of(size_t n)
{
	struct bal_take t = {.n = n};
	for (size_t i = 0; i < n; i++)
		t.idx[i] = i;
	return t;
}

static void test_table(void **state)
{
	struct reservations *t = reserve_new();
	struct bal_cand c[3] = {{.vm = "a", .cpu = 100, .mem_mb = 1000, .anti = "ha"},
	                        {.vm = "b", .cpu = 50, .mem_mb = 500},
	                        {.vm = "c", .cpu = 25, .mem_mb = 250}};
	struct bal_take tk = take_of(3);
	char id1[BP_RESV_ID_MAX + 1], id2[BP_RESV_ID_MAX + 1];
	reserve_promise_add(t, "h3", T0, 5000, "h1", 9, c, &tk, id1);
	assert_true(reserve_promise_has(t, "h1", 9));
	assert_false(reserve_promise_has(t, "h1", 10));
	assert_false(reserve_promise_has(t, "h2", 9));
	struct bal_vm p[8];
	assert_int_equal(reserve_promise_vms(t, p, 8), 3);
	assert_true(p[0].flags & BAL_VM_INCOMING);
	assert_string_equal(p[0].anti, "ha");
	/* only the holder may accept or release; an unknown VM fails the accept */
	struct bp_accept_vm av[2] = {{"a", T0, 1}, {"c", T0, 1}};
	assert_int_equal(reserve_promise_accept(t, T0 + 1000, id1, "h2", av, 2, 60000), -1);
	struct bp_accept_vm bad = {"zz", T0, 1};
	assert_int_equal(reserve_promise_accept(t, T0 + 1000, id1, "h1", &bad, 1, 60000), -1);
	assert_int_equal(reserve_promise_release(t, id1, "h2"), -1);
	/* accepting a and c frees b; the promise lasts until they arrive */
	assert_int_equal(reserve_promise_accept(t, T0 + 1000, id1, "h1", av, 2, 60000), 0);
	assert_int_equal(reserve_promise_accept(t, T0 + 1000, id1, "h1", av, 2, 60000), -1);
	assert_int_equal(reserve_promise_vms(t, p, 8), 2);
	assert_int_equal(reserve_promise_expire(t, T0 + 6000), 0); /* accepted: not the offer ttl */
	/* a promise lasts until the VM's measured use reaches 90% of it, or for hold_ms
	 * after it was first seen here: samples of a copy still warming up do not end it */
	reserve_promise_arrived(t, "a", 0, T0 + 2000, 3000);
	reserve_promise_arrived(t, "a", 50, T0 + 4000, 3000);
	assert_int_equal(reserve_promise_vms(t, p, 8), 2);
	reserve_promise_arrived(t, "a", 95, T0 + 4100, 3000);
	assert_int_equal(reserve_promise_vms(t, p, 8), 1);
	reserve_promise_arrived(t, "c", 1, T0 + 5000, 3000);
	assert_int_equal(reserve_promise_vms(t, p, 8), 1);
	reserve_promise_arrived(t, "c", 1, T0 + 8000,
	                        3000); /* held long enough: its own use counts */
	assert_int_equal(reserve_promise_count(t), 0);
	/* an offer nobody answers expires; a late accept is refused */
	reserve_promise_add(t, "h3", T0, 5000, "h1", 10, c, &tk, id2);
	assert_string_not_equal(id1, id2);
	assert_int_equal(reserve_promise_expire(t, T0 + 4999), 0);
	assert_int_equal(reserve_promise_accept(t, T0 + 5000, id2, "h1", av, 1, 60000), -1);
	assert_int_equal(reserve_promise_expire(t, T0 + 5000), 1);
	assert_int_equal(reserve_promise_vms(t, p, 8), 0);
	/* release frees at once; an accepted promise whose migration never comes expires */
	reserve_promise_add(t, "h3", T0, 5000, "h1", 11, c, &tk, id1);
	assert_int_equal(reserve_promise_release(t, id1, "h1"), 0);
	assert_int_equal(reserve_promise_count(t), 0);
	reserve_promise_add(t, "h3", T0, 5000, "h1", 12, c, &tk, id1);
	assert_int_equal(reserve_promise_accept(t, T0 + 100, id1, "h1", av, 1, 60000), 0);
	assert_int_equal(reserve_promise_expire(t, T0 + 60099), 0);
	assert_int_equal(reserve_promise_expire(t, T0 + 60100), 1);
	/* accepting none of it frees it */
	reserve_promise_add(t, "h3", T0, 5000, "h1", 13, c, &tk, id1);
	assert_int_equal(reserve_promise_accept(t, T0, id1, "h1", av, 0, 60000), 0);
	assert_int_equal(reserve_promise_count(t), 0);
	reserve_free(t);
}

/* What the balance node reads of its promises: how many VMs, the next expiry; the id
 * names the offerer. */
static void test_promise_counts(void **state)
{
	struct reservations *t = reserve_new();
	struct bal_cand c[3] = {{.vm = "a", .cpu = 100, .mem_mb = 1000},
	                        {.vm = "b", .cpu = 50, .mem_mb = 500},
	                        {.vm = "c", .cpu = 25, .mem_mb = 250}};
	struct bal_take tk = take_of(3), tk1 = take_of(1);
	char id[BP_RESV_ID_MAX + 1];
	assert_int_equal(reserve_promise_next_expiry(t), INT64_MAX);
	reserve_promise_add(t, "h3", T0, 5000, "h1", 1, c, &tk, id);
	assert_string_equal(id, "h3-1");
	reserve_promise_add(t, "h3", T0 + 100, 2000, "h2", 1, c, &tk1, id);
	assert_int_equal(reserve_promise_count(t), 2);
	assert_int_equal(reserve_promise_vm_count(t), 4);
	assert_int_equal(reserve_promise_next_expiry(t), T0 + 2100);
	assert_int_equal(reserve_promise_expire(t, T0 + 2100), 1);
	assert_int_equal(reserve_promise_next_expiry(t), T0 + 5000);
	assert_int_equal(reserve_promise_vm_count(t), 3);
	reserve_free(t);
}

/* Two overloaded hosts ask h3 at once: the second offer is computed with the first
 * one's promises, so h3 never ends above the target nor out of memory. */
static void two_requesters(int64_t mem3, size_t want1, size_t want2)
{
	struct rule_settings s;
	rule_settings_default(&s);
	struct bal_vm v1[8], v2[8], v3[32];
	struct bal_host hosts[3] = {
	    {.name = "h1",
	     .cpus = 4,
	     .cpu = 100,
	     .mem_total_mb = 16384,
	     .mem_reserve_mb = -1,
	     .vms = v1},
	    {.name = "h2",
	     .cpus = 4,
	     .cpu = 100,
	     .mem_total_mb = 16384,
	     .mem_reserve_mb = -1,
	     .vms = v2},
	    {.name = "h3",
	     .cpus = 4,
	     .cpu = 0,
	     .mem_total_mb = mem3,
	     .mem_free_mb = mem3,
	     .mem_reserve_mb = -1,
	     .vms = v3},
	};
	for (int h = 0; h < 2; h++) {
		for (int i = 0; i < 8; i++) {
			struct bal_vm *vm = &hosts[h].vms[i];
			memset(vm, 0, sizeof *vm);
			snprintf(vm->name, sizeof vm->name, "h%dv%d", h + 1, i);
			vm->vcpus = 1;
			vm->mem_mb = 1024;
			vm->cpu = 50;
			vm->steal = 50;
		}
		hosts[h].nvms = 8;
		hosts[h].mem_free_mb = 16384 - 8192;
	}
	struct bal_view v = {hosts, 3, T0};
	struct reservations *t = reserve_new();
	double target = bal_target(&v, &s);
	for (int h = 0; h < 2; h++) {
		/* h3's view of itself: what runs plus what it has promised */
		hosts[2].nvms = reserve_promise_vms(t, v3, 32);
		struct bal_cand c[BAL_MAX_CANDS];
		size_t nc = bal_candidates(&v, h, &s, BAL_MODE_BALANCE, c, BAL_MAX_CANDS);
		struct bal_request req = {
		    hosts[h].name, BAL_MODE_BALANCE, bal_host_load(&hosts[h], &s), 4, c, nc, 0};
		struct bal_take tk;
		size_t got = bal_offer(&v, 2, &req, &s, target, &tk);
		if (got) {
			char id[BP_RESV_ID_MAX + 1];
			reserve_promise_add(t, "h3", T0, 5000, hosts[h].name, 1, c, &tk, id);
		}
		assert_int_equal(got, h == 0 ? want1 : want2);
	}
	hosts[2].nvms = reserve_promise_vms(t, v3, 32);
	assert_true(bal_host_room_mb(&hosts[2], &s) >= 0);
	assert_true(bal_host_load(&hosts[2], &s) <= target + 1e-9);
	reserve_free(t);
}

static void test_two_requesters_never_overfill(void **state)
{
	/* memory binds: h1 gets all there is (4 x 1 GiB of 4.5 GiB - 512 MiB reserve), h2
	 * nothing, because the first offer's promises count */
	two_requesters(4608, 4, 0);
	/* CPU binds: h1 gets 4 (h3 at 100 %, h1 at 100 %), h2 then 1 (h3 at 125 % of a
	 * cluster whose mean is 133 %) */
	two_requesters(65536, 4, 1);
}

static void test_collect(void **state)
{
	struct bp_collect c;
	bp_collect_init(&c);
	struct bp_offer o = {.seq = 5, .offerer = "h2", .reservation = "h2-1", .ttl_ms = 5000};
	assert_int_equal(bp_collect_add(&c, T0, &o), -1); /* not collecting */
	bp_collect_start(&c, 5, T0 + 1000);
	assert_false(bp_collect_due(&c, T0 + 999));
	assert_int_equal(bp_collect_add(&c, T0 + 10, &o), 0);
	assert_int_equal(bp_collect_add(&c, T0 + 20, &o), 0); /* duplicate: kept once */
	assert_int_equal(c.n, 1);
	struct bp_offer old = o;
	old.seq = 4;
	assert_int_equal(bp_collect_add(&c, T0 + 30, &old), -1);
	struct bp_offer short_lived = {
	    .seq = 5, .offerer = "h3", .reservation = "h3-9", .ttl_ms = 1200};
	assert_int_equal(bp_collect_add(&c, T0 + 40, &short_lived), 0);
	struct bp_offer h4 = {.seq = 5, .offerer = "h4", .reservation = "h4-1", .ttl_ms = 5000};
	assert_int_equal(bp_collect_add(&c, T0 + 50, &h4), 0);
	assert_true(bp_collect_due(&c, T0 + 1000));
	assert_int_equal(bp_collect_add(&c, T0 + 1001, &h4), -1); /* late */
	/* h3's offer expires 240 ms after the window: not usable with a 500 ms guard */
	size_t good = bp_collect_finish(&c, T0 + 1000, 500);
	assert_int_equal(good, 2);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.offers[0].offerer, "h2");
	assert_string_equal(c.offers[1].offerer, "h4");
	assert_string_equal(c.offers[2].offerer, "h3");
	assert_false(bp_collect_due(&c, T0 + 2000));
	bp_collect_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_round_trip),
	    cmocka_unit_test(test_offer_accept_release_round_trip),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_promise_counts),
	    cmocka_unit_test(test_two_requesters_never_overfill),
	    cmocka_unit_test(test_collect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
