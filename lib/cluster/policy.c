/* policy.c - the retained cluster policy: parse, print, and what is in force. Pure. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "../bus/msg.h"

static const char *const mode_names[POLICY_MODE__COUNT] = {"rules", "balance", "consolidate",
                                                           "advise", "off"};

const char *policy_mode_name(enum policy_mode m)
{
	return (unsigned)m < POLICY_MODE__COUNT ? mode_names[m] : "?";
}

/* Parses obj.field as a mode other than "rules" (which is only the absence of one). */
static int mode_get(const cJSON *obj, const char *ctx, int required, enum policy_mode *out,
                    char *err, size_t errlen)
{
	const char *s;
	int r = msg_get_str(obj, ctx, "mode", required, 16, &s, err, errlen);
	if (r != 0)
		return r;
	for (int i = POLICY_BALANCE; i < POLICY_MODE__COUNT; i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	snprintf(err, errlen,
	         "%s%smode: expected balance, consolidate, advise or off, got \"%.32s\"",
	         ctx ? ctx : "", ctx ? "." : "", s);
	return -1;
}

static int settings_parse(const cJSON *set, struct policy *out, char *err, size_t errlen)
{
	struct rule_settings scratch;
	rule_settings_default(&scratch);
	const cJSON *it;
	cJSON_ArrayForEach(it, set)
	{
		if (out->nsettings >= POLICY_MAX_SETTINGS) {
			snprintf(err, errlen, "settings: expected at most %d settings",
			         POLICY_MAX_SETTINGS);
			return -1;
		}
		char value[32], msg[300];
		if (cJSON_IsNumber(it) && isfinite(it->valuedouble))
			snprintf(value, sizeof value, "%.15g", it->valuedouble);
		else if (cJSON_IsString(it) && strlen(it->valuestring) < sizeof value)
			snprintf(value, sizeof value, "%s", it->valuestring);
		else {
			snprintf(err, errlen, "settings.%.40s: expected a number or a short string",
			         it->string);
			return -1;
		}
		if (rule_settings_set(&scratch, it->string, value, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "settings.%s", msg);
			return -1;
		}
		snprintf(out->settings[out->nsettings].name, sizeof out->settings[0].name, "%.31s",
		         it->string);
		snprintf(out->settings[out->nsettings].value, sizeof out->settings[0].value, "%s",
		         value);
		out->nsettings++;
	}
	return 0;
}

static int windows_parse(const cJSON *arr, struct policy *out, char *err, size_t errlen)
{
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, arr)
	{
		char ctx[32], msg[256];
		snprintf(ctx, sizeof ctx, "windows[%d]", i++);
		if (out->nwindows >= POLICY_MAX_WINDOWS) {
			snprintf(err, errlen, "windows: expected at most %d windows",
			         POLICY_MAX_WINDOWS);
			return -1;
		}
		if (!cJSON_IsObject(it)) {
			snprintf(err, errlen, "%s: expected an object", ctx);
			return -1;
		}
		const char *during, *days = "";
		if (msg_get_str(it, ctx, "during", 1, 16, &during, err, errlen) < 0 ||
		    msg_get_str(it, ctx, "days", 0, 64, &days, err, errlen) < 0 ||
		    mode_get(it, ctx, 1, &out->windows[out->nwindows].mode, err, errlen) < 0)
			return -1;
		if (rule_window_parse(during, days, &out->windows[out->nwindows].w, msg,
		                      sizeof msg) < 0) {
			snprintf(err, errlen, "%s.during/days: %s", ctx, msg);
			return -1;
		}
		out->nwindows++;
	}
	return 0;
}

int policy_parse(const cJSON *msg, struct policy *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (msg_check_envelope(msg, err, errlen) < 0)
		return -1;
	const cJSON *set = NULL, *win = NULL;
	if (mode_get(msg, NULL, 0, &out->mode, err, errlen) < 0 ||
	    msg_get_obj(msg, NULL, "settings", 0, &set, err, errlen) < 0 ||
	    msg_get_array(msg, NULL, "windows", 0, &win, err, errlen) < 0)
		return -1;
	if (set && settings_parse(set, out, err, errlen) < 0)
		return -1;
	if (win && windows_parse(win, out, err, errlen) < 0)
		return -1;
	/* the overrides must make sense on their own over the defaults */
	struct rule_settings s;
	rule_settings_default(&s);
	enum policy_mode m;
	return policy_effective(out, &s, 0, 0, &m, &s, err, errlen);
}

static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

cJSON *policy_to_json(const struct policy *p)
{
	cJSON *o = cJSON_CreateObject();
	if (p->mode != POLICY_RULES)
		cJSON_AddStringToObject(o, "mode", policy_mode_name(p->mode));
	if (p->nsettings) {
		cJSON *s = cJSON_AddObjectToObject(o, "settings");
		for (size_t i = 0; i < p->nsettings; i++)
			cJSON_AddStringToObject(s, p->settings[i].name, p->settings[i].value);
	}
	if (p->nwindows) {
		cJSON *a = cJSON_AddArrayToObject(o, "windows");
		for (size_t i = 0; i < p->nwindows; i++) {
			const struct rule_window *w = &p->windows[i].w;
			char during[48], days[64] = "";
			snprintf(during, sizeof during, "%02d:%02d-%02d:%02d", w->start_min / 60,
			         w->start_min % 60, w->end_min / 60, w->end_min % 60);
			size_t n = 0;
			for (int d = 0; d < 7; d++)
				if (w->days >> d & 1)
					n += snprintf(days + n, sizeof days - n, "%s%s",
					              n ? "," : "", day_names[d]);
			cJSON *wo = cJSON_CreateObject();
			cJSON_AddStringToObject(wo, "during", during);
			cJSON_AddStringToObject(wo, "days", days);
			cJSON_AddStringToObject(wo, "mode", policy_mode_name(p->windows[i].mode));
			cJSON_AddItemToArray(a, wo);
		}
	}
	return o;
}

int policy_effective(const struct policy *p, const struct rule_settings *file, int64_t now_ms,
                     long utc_offset_s, enum policy_mode *mode, struct rule_settings *out,
                     char *err, size_t errlen)
{
	struct rule_settings s = *file;
	*mode = POLICY_RULES;
	if (!p) {
		*out = s;
		return 0;
	}
	*mode = p->mode;
	for (size_t i = 0; i < p->nwindows; i++) {
		if (rule_window_contains(&p->windows[i].w, now_ms, utc_offset_s)) {
			*mode = p->windows[i].mode;
			break;
		}
	}
	for (size_t i = 0; i < p->nsettings; i++) {
		char msg[300];
		if (rule_settings_set(&s, p->settings[i].name, p->settings[i].value, msg,
		                      sizeof msg) < 0) {
			snprintf(err, errlen, "settings.%s", msg);
			*out = *file;
			return -1;
		}
	}
	if (s.low >= s.high) {
		snprintf(err, errlen, "settings: expected low (%g) under high (%g)", s.low, s.high);
		*out = *file;
		return -1;
	}
	*out = s;
	return 0;
}

unsigned policy_disabled_actions(enum policy_mode m)
{
	switch (m) {
	case POLICY_BALANCE:
		return RULE_MASK(RULE_CONSOLIDATE);
	case POLICY_OFF:
		return RULE_MASK(RULE_BALANCE) | RULE_MASK(RULE_CONSOLIDATE) |
		       RULE_MASK(RULE_EVACUATE);
	default:
		return 0;
	}
}
