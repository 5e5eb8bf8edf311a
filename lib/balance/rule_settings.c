/* rule_settings.c - the settings of a rules file: defaults, names, values. Pure. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_impl.h"

struct setting_def {
	const char *name;
	enum rule_kind kind;
	size_t off;
	double min, max; /* in the stored unit (%, ms, count, MiB) */
};

#define S(field) offsetof(struct rule_settings, field)
static const struct setting_def settings[] = {
    {"high", KIND_PCT, S(high), 1, 100},
    {"low", KIND_PCT, S(low), 0, 100},
    {"hold", KIND_DUR, S(hold_ms), 0, 86400000.0},
    {"margin", KIND_PCT, S(margin), 0, 50},
    {"saturated", KIND_PCT, S(saturated), 50, 100},
    {"consolidate_max", KIND_PCT, S(consolidate_max), 1, 100},
    {"night_cpu", KIND_PCT, S(night_cpu), 0, 100},
    {"cooldown", KIND_DUR, S(cooldown_ms), 0, 86400000.0},
    {"moves_per_hour", KIND_INT, S(moves_per_hour), 1, 1000},
    {"host_migrations", KIND_INT, S(host_migrations), 1, 64},
    {"cluster_migrations", KIND_INT, S(cluster_migrations), 1, 10000},
    {"batch", KIND_INT, S(batch), 1, 64},
    {"mem_reserve", KIND_SIZE, S(mem_reserve_mb), 0, 1048576},
    {"offer_window", KIND_DUR, S(offer_window_ms), 10, 600000},
    {"reservation", KIND_DUR, S(reservation_ms), 100, 3600000},
    {"settle", KIND_DUR, S(settle_ms), 0, 3600000},
    {"manual_hold", KIND_DUR, S(manual_hold_ms), 0, 7 * 86400000.0},
};
#undef S
#define NSETTINGS (sizeof settings / sizeof settings[0])

void rule_settings_default(struct rule_settings *s)
{
	memset(s, 0, sizeof *s);
	s->high = 80;
	s->low = 70;
	s->hold_ms = 30000;
	s->margin = 5;
	s->saturated = 95;
	s->consolidate_max = 70;
	s->night_cpu = 30;
	s->cooldown_ms = 600000;
	s->moves_per_hour = 3;
	s->host_migrations = 2;
	s->cluster_migrations = 8;
	s->batch = 8;
	s->mem_reserve_mb = 512;
	s->offer_window_ms = 1000;
	s->reservation_ms = 5000;
	s->settle_ms = 10000;
	s->manual_hold_ms = 1800000;
}

const char *rule_settings_names(void)
{
	return "high low hold margin saturated consolidate_max night_cpu cooldown moves_per_hour "
	       "host_migrations cluster_migrations batch mem_reserve offer_window reservation "
	       "settle manual_hold";
}

int rule_setting_find(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return (int)i;
	return -1;
}

enum rule_kind rule_setting_kind(int i)
{
	return settings[i].kind;
}

double rule_setting_value(const struct rule_settings *s, int i)
{
	const char *p = (const char *)s + settings[i].off;
	switch (settings[i].kind) {
	case KIND_PCT:
		return *(const double *)p;
	case KIND_INT:
		return *(const int *)p;
	default:
		return (double)*(const int64_t *)p;
	}
}

static void setting_store(struct rule_settings *s, int i, double v)
{
	char *p = (char *)s + settings[i].off;
	switch (settings[i].kind) {
	case KIND_PCT:
		*(double *)p = v;
		break;
	case KIND_INT:
		*(int *)p = (int)v;
		break;
	default:
		*(int64_t *)p = (int64_t)llround(v);
		break;
	}
}

struct suffix_def {
	const char *suffix;
	enum rule_kind kind;
	double factor;
};

static const struct suffix_def suffixes[] = {
    {"", KIND_PCT, 1},         {"%", KIND_PCT, 1},        {"", KIND_DUR, 1000},
    {"ms", KIND_DUR, 1},       {"s", KIND_DUR, 1000},     {"m", KIND_DUR, 60000},
    {"h", KIND_DUR, 3600000},  {"d", KIND_DUR, 86400000}, {"", KIND_INT, 1},
    {"", KIND_SIZE, 1},        {"M", KIND_SIZE, 1},       {"G", KIND_SIZE, 1024},
    {"T", KIND_SIZE, 1048576},
};

static const char *kind_expect[] = {
    [KIND_PCT] = "a percentage (e.g. 80 or 80%)",
    [KIND_DUR] = "a duration (e.g. 500ms, 30s, 10m, 2h, 1d)",
    [KIND_INT] = "a whole number",
    [KIND_SIZE] = "a size (e.g. 512M, 2G)",
};

int rule_value_convert(double num, const char *suffix, enum rule_kind kind, int allow_pct,
                       double *out, int *pct, char *err, size_t errlen)
{
	if (pct)
		*pct = 0;
	if (kind == KIND_SIZE && allow_pct && strcmp(suffix, "%") == 0) {
		*out = num;
		if (pct)
			*pct = 1;
		return 0;
	}
	if (kind == KIND_INT && num != floor(num)) {
		snprintf(err, errlen, "expected %s", kind_expect[kind]);
		return -1;
	}
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (suffixes[i].kind != kind)
			continue;
		int same = kind == KIND_SIZE ? strcasecmp(suffixes[i].suffix, suffix) == 0
		                             : strcmp(suffixes[i].suffix, suffix) == 0;
		if (same) {
			*out = num * suffixes[i].factor;
			return 0;
		}
	}
	if (kind == KIND_SIZE && allow_pct)
		snprintf(err, errlen, "expected %s or a percentage", kind_expect[kind]);
	else
		snprintf(err, errlen, "expected %s", kind_expect[kind]);
	return -1;
}

int rule_settings_set(struct rule_settings *s, const char *name, const char *value, char *err,
                      size_t errlen)
{
	int i = rule_setting_find(name);
	if (i < 0) {
		snprintf(err, errlen, "%s: unknown setting; expected one of: %s", name,
		         rule_settings_names());
		return -1;
	}
	char *end;
	double num = strtod(value, &end);
	char msg[160];
	double v;
	if (end == value || !isfinite(num) ||
	    rule_value_convert(num, end, settings[i].kind, 0, &v, NULL, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "%s: expected %s", name, kind_expect[settings[i].kind]);
		return -1;
	}
	if (v < settings[i].min || v > settings[i].max) {
		snprintf(err, errlen, "%s: %s is out of range", name, value);
		return -1;
	}
	setting_store(s, i, v);
	return 0;
}
