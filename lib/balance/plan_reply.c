/* plan_reply.c - reads a balance.plan reply into moves (see plan_reply.h). */
#include "plan_reply.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

void plan_reply_clear(struct plan_reply *p)
{
	free(p->moves);
	free(p->emptied);
	memset(p, 0, sizeof(*p));
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

/* A field as "key=value" details text (numbers as they are, not as loads); an empty
 * value as empty. */
static void detail_text(const cJSON *it, const char *empty, char *buf, size_t len)
{
	char val[96];
	value_text(it, val, sizeof(val));
	if (cJSON_IsNumber(it))
		snprintf(val, sizeof(val), "%.15g", it->valuedouble);
	snprintf(buf, len, "%s=%s", it->string, val[0] ? val : empty);
}

static const char *move_str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, a);
	if (!cJSON_IsString(it) && b)
		it = cJSON_GetObjectItemCaseSensitive(o, b);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A member's number, 0 if absent or not a number. */
static double move_num(const cJSON *o, const char *k)
{
	double d = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return isnan(d) ? 0 : d;
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
	mv->cpu = move_num(o, "cpu");
	mv->cpu_unknown = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "unknown"));
	mv->from_before = move_num(o, "from_before");
	mv->from_after = move_num(o, "from_after");
	mv->to_before = move_num(o, "to_before");
	mv->to_after = move_num(o, "to_after");
	const cJSON *it;
	cJSON_ArrayForEach(it, o)
	{
		size_t k = 0;
		while (k < sizeof(shown) / sizeof(shown[0]) && strcmp(shown[k], it->string) != 0)
			k++;
		if (k < sizeof(shown) / sizeof(shown[0]))
			continue;
		char one[128];
		detail_text(it, "", one, sizeof(one));
		append(mv->details, sizeof(mv->details), " ", one);
	}
	return 0;
}

/* What the plan says beside its moves: mode, hosts emptied, VMs it could not place,
 * and all of it as "key=value" text. */
static int about_parse(struct plan_reply *p, const cJSON *result, const cJSON *moves, char *err,
                       size_t errlen)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, result)
	{
		if (it == moves)
			continue;
		char one[128];
		detail_text(it, "-", one, sizeof(one));
		append(p->about, sizeof(p->about), " ", one);
	}
	const char *mode = move_str(result, "mode", NULL);
	snprintf(p->mode, sizeof(p->mode), "%s", mode ? mode : "");
	p->unplaced = move_num(result, "unplaced");
	const cJSON *emptied = cJSON_GetObjectItemCaseSensitive(result, "emptied");
	size_t n = cJSON_IsArray(emptied) ? (size_t)cJSON_GetArraySize(emptied) : 0;
	if (n && !(p->emptied = calloc(n, sizeof(*p->emptied)))) {
		snprintf(err, errlen, "plan: out of memory for %zu emptied hosts", n);
		return -1;
	}
	cJSON_ArrayForEach(it, emptied)
	{
		if (cJSON_IsString(it))
			snprintf(p->emptied[p->nemptied++], sizeof(*p->emptied), "%s",
			         it->valuestring);
	}
	return 0;
}

int plan_reply_parse(struct plan_reply *p, const cJSON *result, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
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
	p->moves = n ? calloc(n, sizeof(*p->moves)) : NULL;
	if (n && !p->moves) {
		snprintf(err, errlen, "plan: out of memory for %zu moves", n);
		return -1;
	}
	const cJSON *o;
	cJSON_ArrayForEach(o, moves)
	{
		if (move_parse(&p->moves[p->n], o, (int)p->n, err, errlen) < 0) {
			plan_reply_clear(p);
			return -1;
		}
		p->n++;
	}
	if (cJSON_IsObject(result) && about_parse(p, result, moves, err, errlen) < 0) {
		plan_reply_clear(p);
		return -1;
	}
	return 0;
}
