/* plan.c - reads the balancing dry run (a host agent's balance.plan reply) into moves the
 * plan view shows. The format is the balancing engine's; this reader is lenient: vm
 * (or name), from and to are required, before/after loads are shown however they come,
 * and every other field is kept as "key=value" details. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vmtop.h"

void plan_clear(struct plan *p)
{
	free(p->moves);
	p->moves = NULL;
	p->n = 0;
}

/* Appends text to buf (which holds a string) if it fits; keeps what fitted. */
static void append(char *buf, size_t len, const char *sep, const char *text)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	snprintf(buf + used, len - used, "%s%s", used ? sep : "", text);
}

/* A value as text: numbers as loads ("93%" when under 100, else as is), strings as
 * they are, objects as "key value" pairs (e.g. {"h1":93,"h2":10} -> "h1 93% h2 10%"). */
static void value_text(const cJSON *v, char *buf, size_t len)
{
	char one[64];
	buf[0] = '\0';
	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.0f%%", v->valuedouble);
	} else if (cJSON_IsString(v)) {
		snprintf(buf, len, "%s", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, v)
		{
			char val[48];
			value_text(it, val, sizeof(val));
			if (it->string)
				snprintf(one, sizeof(one), "%s %s", it->string, val);
			else
				snprintf(one, sizeof(one), "%s", val);
			append(buf, len, " ", one);
		}
	}
}

static const char *move_str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, a);
	if (!cJSON_IsString(it) && b)
		it = cJSON_GetObjectItemCaseSensitive(o, b);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* "before" / "after": one field, or the pair FROM_X and TO_X ("from_before", ...),
 * shown as "h1 95% h2 5%". */
static void load_text(const cJSON *o, const char *which, const char *from, const char *to,
                      char *buf, size_t len)
{
	char key[32], a[24], b[24];
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, which);
	buf[0] = '\0';
	if (it) {
		value_text(it, buf, len);
		return;
	}
	snprintf(key, sizeof(key), "from_%s", which);
	value_text(cJSON_GetObjectItemCaseSensitive(o, key), a, sizeof(a));
	snprintf(key, sizeof(key), "to_%s", which);
	value_text(cJSON_GetObjectItemCaseSensitive(o, key), b, sizeof(b));
	if (a[0] || b[0])
		snprintf(buf, len, "%.20s %s %.20s %s", from, a[0] ? a : "?", to, b[0] ? b : "?");
}

static int move_parse(struct plan_move *mv, const cJSON *o, int i, char *err, size_t errlen)
{
	static const char *const shown[] = {"vm",         "name",    "from",        "to",
	                                    "before",     "after",   "from_before", "to_before",
	                                    "from_after", "to_after"};
	const char *vm = move_str(o, "vm", "name"), *from = move_str(o, "from", NULL),
	           *to = move_str(o, "to", NULL);
	memset(mv, 0, sizeof(*mv));
	if (!cJSON_IsObject(o) || !vm || !from || !to) {
		snprintf(err, errlen, "plan move %d: expected an object with vm, from and to", i);
		return -1;
	}
	snprintf(mv->vm, sizeof(mv->vm), "%s", vm);
	snprintf(mv->from, sizeof(mv->from), "%s", from);
	snprintf(mv->to, sizeof(mv->to), "%s", to);
	load_text(o, "before", from, to, mv->before, sizeof(mv->before));
	load_text(o, "after", from, to, mv->after, sizeof(mv->after));
	const cJSON *it;
	cJSON_ArrayForEach(it, o)
	{
		size_t k = 0;
		while (k < sizeof(shown) / sizeof(shown[0]) && strcmp(shown[k], it->string) != 0)
			k++;
		if (k < sizeof(shown) / sizeof(shown[0]))
			continue;
		char val[96], one[128];
		value_text(it, val, sizeof(val));
		if (cJSON_IsNumber(it))
			snprintf(val, sizeof(val), "%.15g", it->valuedouble);
		snprintf(one, sizeof(one), "%s=%s", it->string, val);
		append(mv->details, sizeof(mv->details), " ", one);
	}
	return 0;
}

int plan_parse(struct plan *p, const cJSON *result, char *err, size_t errlen)
{
	const cJSON *moves = result;
	if (cJSON_IsObject(result)) {
		moves = cJSON_GetObjectItemCaseSensitive(result, "moves");
		if (!moves)
			moves = cJSON_GetObjectItemCaseSensitive(result, "plan");
	}
	if (!cJSON_IsArray(moves)) {
		snprintf(err, errlen, "plan: expected a list of moves (an array, or \"moves\")");
		return -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(moves);
	struct plan_move *mv = n ? calloc(n, sizeof(*mv)) : NULL;
	if (n && !mv) {
		snprintf(err, errlen, "plan: out of memory for %zu moves", n);
		return -1;
	}
	size_t i = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, moves)
	{
		if (move_parse(&mv[i], o, (int)i, err, errlen) < 0) {
			free(mv);
			return -1;
		}
		i++;
	}
	plan_clear(p);
	p->moves = mv;
	p->n = n;
	/* what else the plan says (mode, hosts emptied, VMs it could not place) */
	p->about[0] = '\0';
	const cJSON *it;
	if (cJSON_IsObject(result))
		cJSON_ArrayForEach(it, result)
		{
			char val[96], one[128];
			if (it == moves)
				continue;
			value_text(it, val, sizeof(val));
			if (cJSON_IsNumber(it))
				snprintf(val, sizeof(val), "%.15g", it->valuedouble);
			snprintf(one, sizeof(one), "%s=%s", it->string, val[0] ? val : "-");
			append(p->about, sizeof(p->about), " ", one);
		}
	return 0;
}
