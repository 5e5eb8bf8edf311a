/* fuzz_rules.c - libFuzzer target for the rules parser (lib/balance/rules.c): the text is
 * parsed; accepted rules are evaluated against a few samples (idle, busy, full,
 * with and without guest figures) and their alerts formatted. */
#include "../../lib/balance/rules.h"
#include "fuzz.h"

static void evaluate(const struct rules *r)
{
	struct rule_guest g[2] = {{"vm1", 1, 95, 30, 4, 900, 1000}, {"vm2", 0, 0, 0, 0, 0, 0}};
	struct rule_sample s[3] = {
	    {1, 65536, 1024, 64512, 1, 5, 10, 4, g, 2},
	    {99, 65536, 65000, 536, 30, 90, 95, 4, g, 2},
	    {50, 0, 0, 0, 0, 0, 0, 0, NULL, 0},
	};
	struct rule_edge edges[16];
	size_t n;
	struct rule_eval *e = rule_eval_new(r, NULL, 3600);
	for (int step = 0; step < 12; step++)
		rule_eval_step(e, (int64_t)step * 61000, &s[step % 3], edges, 16, &n);
	for (size_t i = 0; i < rules_count(r); i++)
		rule_eval_active(e, i);
	rule_eval_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char err[2048];
	struct rules *r = NULL;
	if (rules_parse(text, "fuzz.rules", &r, err, sizeof err) == 0) {
		char out[512];
		for (size_t i = 0; i < rules_count(r); i++) {
			rules_name(r, i);
			rules_action(r, i);
			const char *msg = rules_alert_message(r, i);
			rules_alert_webhook(r, i);
			if (msg)
				rule_alert_format(msg, "h1", "vm1", rules_name(r, i), out,
				                  sizeof out);
		}
		evaluate(r);
		rules_free(r);
	}
	free(text);
	return 0;
}
