/* policy.h - the retained cluster policy (topic vmc/<cluster>/policy). Pure.
 *
 * An admin publishes it retained; every host agent applies it over its rules
 * file (vmcluster-rules(5)):
 *
 *   {"v":1,"from":"vmc/admin","ts":1700000000000,
 *    "mode":"balance",                      optional: balance|consolidate|advise|off
 *    "settings":{"high":85,"hold":"1m"},    optional: any rules-file setting
 *    "windows":[{"during":"22:00-06:00","days":"mon-fri","mode":"consolidate"}]}
 *
 * A window's mode replaces the policy's mode while local time is inside it
 * (the first matching window wins). Setting values are numbers in the file's
 * base unit (percent, seconds, whole numbers, MiB) or strings as in the file
 * ("30s", "2G", "85%"). An empty retained payload removes the policy. */
#ifndef VMC_POLICY_H
#define VMC_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../balance/rules.h"

enum policy_mode {
	POLICY_RULES = 0,   /* no mode given: the rules file decides */
	POLICY_BALANCE,     /* spread load: consolidate rules are off */
	POLICY_CONSOLIDATE, /* pack: consolidation on whatever the rules say; balance stays */
	POLICY_ADVISE,      /* decide but do not move: decisions are published as events */
	POLICY_OFF,         /* no automatic moves; alerts only */
	POLICY_MODE__COUNT
};
/* "rules", "balance", "consolidate", "advise", "off". */
const char *policy_mode_name(enum policy_mode m);

#define POLICY_MAX_WINDOWS 16
#define POLICY_MAX_SETTINGS 32

struct policy {
	enum policy_mode mode;
	struct {
		char name[32];
		char value[32];
	} settings[POLICY_MAX_SETTINGS];
	size_t nsettings;
	struct {
		struct rule_window w;
		enum policy_mode mode;
	} windows[POLICY_MAX_WINDOWS];
	size_t nwindows;
};

/* Parses and validates a policy message (envelope included). Returns 0, or -1 with
 * the offending field named in err ("windows[1].during: expected ..."). */
int policy_parse(const cJSON *msg, struct policy *out, char *err, size_t errlen);
/* Builds the policy message body (without envelope fields) for publishing. */
cJSON *policy_to_json(const struct policy *p);

/* What is in force at now_ms: the mode (window or policy) and the file's settings
 * with the policy's overrides applied. p may be NULL (no policy). Returns 0, or -1
 * with err if the overrides leave low at or above high (the file's settings are kept). */
int policy_effective(const struct policy *p, const struct rule_settings *file, int64_t now_ms,
                     long utc_offset_s, enum policy_mode *mode, struct rule_settings *out,
                     char *err, size_t errlen);
/* Action mask to disable in the rule evaluator for a mode (see rule_eval_disable). */
unsigned policy_disabled_actions(enum policy_mode m);

#endif
