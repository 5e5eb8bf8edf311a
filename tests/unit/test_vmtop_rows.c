/* test_vmtop_rows.c - how the console keeps its rows cheap at 20,000 VMs: plain filters
 * matched without the regex engine (and exactly as it would), a filter that grows
 * narrowing the rows it showed instead of all of them, rows kept between frames while
 * the model's hosts and VMs stay the same, and the model's layout count that says so. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../console/vmtop/vmtop.h"
#include "../../lib/cluster/cluster_model.h"

#define T0 INT64_C(1700000000000)

static char err[VMC_ERR_MAX];

static const char *const texts[] = {
    "web1 h1 running web,prod",
    "WEB10 h2 paused",
    "db1 h2 stopped db",
    "cache-1 h3 running web",
    "",
    "x",
    "webweb1 h1 running",
    "a.b h1 running",
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

/* What the regex engine says of text under filter text f (its '!' aside). */
static int regex_says(const char *f, const char *text)
{
	regex_t re;
	assert_int_equal(regcomp(&re, f, REG_EXTENDED | REG_ICASE | REG_NOSUB), 0);
	int hit = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return hit;
}

/* Plain texts (anchored or not) skip the regex engine and match exactly as it would. */
static void test_plain_filter_matches_as_regex(void **state)
{
	static const char *const plain[] = {
	    "web",  "WEB1", "^web",     "web1$", "^web1 h1 running web,prod$",
	    "^",    "$",    "^$",       "b1 h",  "zz",
	    "1 H1", "-1",   "eb1 h1 r", "d",     "^x$",
	    "web1",
	};
	static const char *const regex[] = {
	    "we.b",  "a|b",      "\\.",      "web*",      "^^w",       "w$$",   "(w)",
	    "we.*1", "^w.b1",    "weba?1",   "web{0,1}1", "w[a-e]b1",  "w[]e]", "web\\.",
	    "db+1",  "^h.*stop", "[^x]eb10", "1 h[12]",   "eb1{2} h1", "B1.H",
	};
	struct filter f = {0};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_int_equal(filter_set(&f, plain[i], err, sizeof(err)), 0);
		assert_true(f.plain);
		for (size_t k = 0; k < NTEXTS; k++)
			if (filter_match(&f, texts[k]) != regex_says(plain[i], texts[k]))
				fail_msg("/%s/ on \"%s\": plain %d, regex %d", plain[i], texts[k],
				         filter_match(&f, texts[k]),
				         regex_says(plain[i], texts[k]));
		/* and inverted */
		char inv[64];
		snprintf(inv, sizeof(inv), "!%s", plain[i]);
		assert_int_equal(filter_set(&f, inv, err, sizeof(err)), 0);
		for (size_t k = 0; k < NTEXTS; k++)
			assert_int_equal(filter_match(&f, texts[k]),
			                 !regex_says(plain[i], texts[k]));
	}
	for (size_t i = 0; i < sizeof(regex) / sizeof(regex[0]); i++) {
		assert_int_equal(filter_set(&f, regex[i], err, sizeof(err)), 0);
		assert_false(f.plain);
		for (size_t k = 0; k < NTEXTS; k++)
			assert_int_equal(filter_match(&f, texts[k]),
			                 regex_says(regex[i], texts[k]));
	}
	/* a filter that does not compile keeps the old one, plain form included */
	assert_int_equal(filter_set(&f, "web", err, sizeof(err)), 0);
	assert_int_equal(filter_set(&f, "web[", err, sizeof(err)), -1);
	assert_true(f.plain);
	assert_true(filter_match(&f, "web1"));
	assert_false(filter_match(&f, "db1"));
	filter_clear(&f);
	assert_false(f.plain);
	assert_true(filter_match(&f, "anything"));
}

/* A filter narrows another when all it lets through the other does too. */
static void test_filter_narrows(void **state)
{
	static const struct {
		const char *before, *after;
		int narrows;
	} cases[] = {
	    {"", "x", 1},         {"", "!x", 1},        {"we", "web", 1},
	    {"^we", "^web", 1},   {"web", "web", 1},    {"a|b", "a|bc", 1},
	    {"x", "x 1", 1},      {"we.", "we.b", 1},   {"web", "we", 0},
	    {"web", "web*", 0},   {"web", "web|db", 0}, {"we\\\\", "we\\\\.", 0},
	    {"!we", "!web", 0},   {"we", "!we", 0},     {"web", "wxb", 0},
	    {"we", "we?", 0},     {"we", "we{0}", 0},   {"x", "", 0},
	    {"we\\", "we\\b", 0}, {"web", "web$", 0},   {"we\\\\", "we\\\\1", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (filter_narrows(cases[i].before, cases[i].after) != cases[i].narrows)
			fail_msg("\"%s\" then \"%s\": expected %d", cases[i].before, cases[i].after,
			         cases[i].narrows);
		if (!cases[i].narrows || !cases[i].before[0] || cases[i].before[0] == '!' ||
		    !cases[i].after[0])
			continue;
		/* what it claims holds on the sample texts */
		for (size_t k = 0; k < NTEXTS; k++)
			if (regex_says(cases[i].after, texts[k]))
				assert_true(regex_says(cases[i].before, texts[k]));
	}
}

/* --- rows ---------------------------------------------------------------------- */

/* host's load listing "name:cpu ..." (1 vcpu, 1024 MiB each). */
static void load(struct cluster_model *m, const char *host, int64_t now, const char *vms)
{
	char topic[64], json[4096], list[3500] = "", copy[1024];
	size_t used = 0;
	snprintf(copy, sizeof(copy), "%s", vms);
	for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':');
		*colon = '\0';
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		                         "%s{\"name\":\"%s\",\"state\":\"running\",\"vcpus\":1,"
		                         "\"mem_mb\":1024,\"cpu\":%s}",
		                         used ? "," : "", tok, colon + 1);
	}
	snprintf(topic, sizeof(topic), "host/%s/load", host);
	snprintf(json, sizeof(json),
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":%lld,\"state\":\"online\",\"cpus\":8,"
	         "\"cpu\":10,\"mem_total_mb\":32768,\"mem_used_mb\":4096,\"mem_free_mb\":28672,"
	         "\"vms\":[%s]}",
	         host, (long long)now, list);
	if (cluster_model_apply(m, topic, json, strlen(json), 0, now, err, sizeof(err)) != 1)
		fail_msg("load of %s: %s", host, err);
}

static const char *row_name(const struct ui *ui, size_t i)
{
	return ((const struct cm_vm *)ui->rows[i].p)->name;
}

/* The rows as one string: "a b c". */
static const char *rows_text(const struct ui *ui, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ui->nrows && used < len; i++)
		used +=
		    (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", row_name(ui, i));
	return buf;
}

/* What views_update shows is what a build from scratch shows. */
static void assert_as_built(const struct ui *ui, const struct view_env *e)
{
	struct ui fresh;
	char a[1024], b[1024];
	ui_init(&fresh);
	ui_set_view(&fresh, ui->view, ui->host);
	fresh.sort[ui->view] = ui->sort[ui->view];
	if (ui->filter.active)
		assert_int_equal(filter_set(&fresh.filter, ui->filter.text, err, sizeof(err)), 0);
	views_build(&fresh, e);
	assert_string_equal(rows_text(ui, a, sizeof(a)), rows_text(&fresh, b, sizeof(b)));
	ui_free(&fresh);
}

/* Typing a filter narrows the rows it showed (their order kept); erasing it builds them
 * again; either way the rows are those a full build gives. */
static void test_filter_typed_narrows_rows(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	struct ui ui;
	struct view_env e = {m, T0, NULL, NULL};
	load(m, "h1", T0, "web1:50 web2:10 web10:30 db1:80");
	load(m, "h2", T0, "web3:70 cache1:5 webdb:20");
	ui_init(&ui);
	ui_set_view(&ui, VIEW_VMS, NULL);
	assert_int_equal(ui_sort_by(&ui, "cpu", err, sizeof(err)), 0);
	views_update(&ui, &e, 1);
	assert_int_equal(ui.nrows, 7);
	ui_cursor_to(&ui, 2); /* web1 */
	assert_string_equal(ui.cursor_key, "web1");

	static const char *const typed[] = {"w",  "we", "web", "web1", "web",
	                                    "we", "",   "d",   "db",   "!d"};
	for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		assert_int_equal(filter_set(&ui.filter, typed[i], err, sizeof(err)), 0);
		views_update(&ui, &e, 0);
		assert_string_equal(ui.built.filter, typed[i]);
		assert_as_built(&ui, &e);
	}
	/* narrowing keeps the cursor on its row */
	assert_int_equal(filter_set(&ui.filter, "w", err, sizeof(err)), 0);
	views_update(&ui, &e, 0);
	ui_cursor_to(&ui, 1);
	char key[sizeof(ui.cursor_key)];
	snprintf(key, sizeof(key), "%s", ui.cursor_key);
	assert_int_equal(filter_set(&ui.filter, "web", err, sizeof(err)), 0);
	views_update(&ui, &e, 0);
	assert_string_equal(row_name(&ui, ui.cursor), key);

	/* nothing to do: the rows are left as they are (a marked row stays marked) */
	size_t n = ui.nrows;
	assert_true(n >= 2);
	const void *first = ui.rows[0].p;
	ui.rows[0].p = ui.rows[1].p;
	views_update(&ui, &e, 0);
	assert_int_equal(ui.nrows, n);
	assert_ptr_equal(ui.rows[0].p, ui.rows[1].p);
	ui.rows[0].p = first;
	views_update(&ui, &e, 1); /* the model is the same: still nothing to do */
	assert_ptr_equal(ui.rows[0].p, first);
	ui_free(&ui);
	cluster_model_free(m);
}

/* Rows are kept while the hosts and VMs are the same ones: a key press (fresh 0) keeps
 * their order when only figures changed; the periodic frame (fresh 1) re-sorts; a VM
 * gone or come rebuilds them whatever fresh says (the old rows would point at freed
 * VMs: the sanitizer build catches that). */
static void test_rows_kept_while_layout_holds(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	struct ui ui;
	struct view_env e = {m, T0, NULL, NULL};
	char buf[256];
	load(m, "h1", T0, "a:10 b:20 c:30");
	ui_init(&ui);
	ui_set_view(&ui, VIEW_VMS, NULL);
	assert_int_equal(ui_sort_by(&ui, "cpu", err, sizeof(err)), 0); /* descending */
	views_update(&ui, &e, 1);
	assert_string_equal(rows_text(&ui, buf, sizeof(buf)), "c b a");

	uint64_t layout = cluster_model_layout(m), version = cluster_model_version(m);
	load(m, "h1", T0 + 1000, "a:90 b:20 c:30");
	assert_true(cluster_model_version(m) != version);
	assert_true(cluster_model_layout(m) == layout); /* figures only */
	views_update(&ui, &e, 0);
	assert_string_equal(rows_text(&ui, buf, sizeof(buf)), "c b a"); /* as on screen */
	views_update(&ui, &e, 1);
	assert_string_equal(rows_text(&ui, buf, sizeof(buf)), "a c b"); /* re-sorted */

	load(m, "h1", T0 + 2000, "a:90 c:30"); /* b is gone, freed */
	assert_true(cluster_model_layout(m) != layout);
	views_update(&ui, &e, 0);
	assert_string_equal(rows_text(&ui, buf, sizeof(buf)), "a c");
	layout = cluster_model_layout(m);
	load(m, "h1", T0 + 3000, "a:90 c:30 d:50");
	assert_true(cluster_model_layout(m) != layout);
	views_update(&ui, &e, 0);
	assert_string_equal(rows_text(&ui, buf, sizeof(buf)), "a d c");

	/* a changed sort or view rebuilds at once */
	assert_int_equal(ui_sort_by(&ui, "name", err, sizeof(err)), 0);
	views_update(&ui, &e, 0);
	assert_string_equal(rows_text(&ui, buf, sizeof(buf)), "a c d");
	ui_set_view(&ui, VIEW_HOSTS, NULL);
	views_update(&ui, &e, 0);
	assert_int_equal(ui.nrows, 1);
	assert_int_equal(ui.rows[0].kind, ROW_HOST);
	ui_set_view(&ui, VIEW_HOST_VMS, "h1");
	views_update(&ui, &e, 0);
	assert_int_equal(ui.nrows, 3);
	ui_set_view(&ui, VIEW_HOST_VMS, "h2");
	views_update(&ui, &e, 0);
	assert_int_equal(ui.nrows, 0);

	/* rows cleared behind its back (batch output does) are built again */
	ui_set_view(&ui, VIEW_VMS, NULL);
	views_update(&ui, &e, 0);
	ui.nrows = 0;
	views_update(&ui, &e, 0);
	assert_int_equal(ui.nrows, 3);
	ui_free(&ui);
	cluster_model_free(m);
}

/* The layout count moves when hosts, VMs or migrations come or go, not otherwise. */
static void test_model_layout(void **state)
{
	struct cluster_model *m = cluster_model_new(0);
	uint64_t l0 = cluster_model_layout(m);
	load(m, "h1", T0, "a:10");
	uint64_t l1 = cluster_model_layout(m);
	assert_true(l1 != l0);
	load(m, "h1", T0 + 1000, "a:20");
	assert_true(cluster_model_layout(m) == l1);
	const char *ev = "{\"v\":1,\"from\":\"host/h1\",\"ts\":1700000002000,\"type\":"
	                 "\"migration.started\",\"host\":\"h1\",\"vm\":\"a\",\"to\":\"h2\"}";
	assert_int_equal(
	    cluster_model_apply(m, "event", ev, strlen(ev), 0, T0 + 2000, err, sizeof(err)), 1);
	uint64_t l2 = cluster_model_layout(m);
	assert_true(l2 != l1);
	assert_int_equal(
	    cluster_model_apply(m, "host/h1/state", "", 0, 0, T0 + 3000, err, sizeof(err)),
	    1); /* the host and its VM go */
	assert_true(cluster_model_layout(m) != l2);
	assert_int_equal(cluster_model_vm_count(m), 0);
	cluster_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_filter_matches_as_regex),
	    cmocka_unit_test(test_filter_narrows),
	    cmocka_unit_test(test_filter_typed_narrows_rows),
	    cmocka_unit_test(test_rows_kept_while_layout_holds),
	    cmocka_unit_test(test_model_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
