/* balance_proto.c - the balancing protocol's messages: builders and parsers (the
 * requester's offer collection is bp_collect.c, the offerer's promises are kept in
 * lib/cluster/reserve.c). Pure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance_proto.h"

#define BIG 1e9 /* the largest load or cpu figure accepted */

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, VMC_NAME_MAX + 1, "%s", src ? src : "");
}

/* The four fields that name a request and a reservation. */
static void add_ids(cJSON *m, const char *requester, uint64_t seq, const char *offerer,
                    const char *resv)
{
	cJSON_AddStringToObject(m, "requester", requester);
	cJSON_AddNumberToObject(m, "seq", (double)seq);
	if (offerer)
		cJSON_AddStringToObject(m, "offerer", offerer);
	if (resv)
		cJSON_AddStringToObject(m, "reservation", resv);
}

cJSON *bp_help_build(const char *sender, int64_t ts, const struct bp_help *h)
{
	cJSON *m = msg_new(sender, ts);
	add_ids(m, h->requester, h->seq, NULL, NULL);
	cJSON_AddStringToObject(m, "mode", bal_mode_name(h->mode));
	cJSON_AddNumberToObject(m, "load", h->load);
	cJSON_AddNumberToObject(m, "cpus", h->cpus);
	cJSON_AddNumberToObject(m, "excess", h->excess);
	cJSON *a = cJSON_AddArrayToObject(m, "candidates");
	for (size_t i = 0; i < h->ncands; i++) {
		const struct bal_cand *c = &h->cands[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vm", c->vm);
		cJSON_AddNumberToObject(o, "cpu", c->cpu);
		cJSON_AddNumberToObject(o, "mem_mb", (double)c->mem_mb);
		if (c->unknown)
			cJSON_AddBoolToObject(o, "unknown", 1);
		if (c->affinity[0])
			cJSON_AddStringToObject(o, "affinity", c->affinity);
		if (c->anti[0])
			cJSON_AddStringToObject(o, "anti", c->anti);
		cJSON_AddItemToArray(a, o);
	}
	return m;
}

cJSON *bp_offer_build(const char *sender, int64_t ts, const struct bp_offer *o)
{
	cJSON *m = msg_new(sender, ts);
	add_ids(m, o->requester, o->seq, o->offerer, o->reservation);
	cJSON_AddNumberToObject(m, "cpu", o->cpu);
	cJSON_AddNumberToObject(m, "mem_mb", (double)o->mem_mb);
	cJSON_AddNumberToObject(m, "load", o->load);
	cJSON_AddNumberToObject(m, "cpus", o->cpus);
	cJSON_AddNumberToObject(m, "load_after", o->load_after);
	cJSON_AddNumberToObject(m, "ttl_ms", (double)o->ttl_ms);
	cJSON *a = cJSON_AddArrayToObject(m, "vms");
	for (size_t i = 0; i < o->nvms; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(o->vms[i]));
	return m;
}

cJSON *bp_accept_build(const char *sender, int64_t ts, const struct bp_accept *a)
{
	cJSON *m = msg_new(sender, ts);
	add_ids(m, a->requester, a->seq, a->offerer, a->reservation);
	cJSON *arr = cJSON_AddArrayToObject(m, "vms");
	for (size_t i = 0; i < a->nvms; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vm", a->vms[i].vm);
		cJSON_AddNumberToObject(o, "last_move_ms", (double)a->vms[i].last_move_ms);
		cJSON_AddNumberToObject(o, "moves_1h", a->vms[i].moves_hour);
		cJSON_AddItemToArray(arr, o);
	}
	return m;
}

cJSON *bp_release_build(const char *sender, int64_t ts, const struct bp_release *r)
{
	cJSON *m = msg_new(sender, ts);
	add_ids(m, r->requester, r->seq, r->offerer, r->reservation);
	cJSON_AddStringToObject(m, "by", r->by_offerer ? "offerer" : "requester");
	if (r->reason[0])
		cJSON_AddStringToObject(m, "reason", r->reason);
	return m;
}

/* --- parsing ------------------------------------------------------------------- */

static int get_name(const cJSON *o, const char *ctx, const char *field, char *out, char *err,
                    size_t errlen)
{
	const char *s;
	if (msg_get_name(o, ctx, field, 1, &s, err, errlen) < 0)
		return -1;
	copy_name(out, s);
	return 0;
}

/* requester, seq and optionally offerer and reservation. */
static int get_ids(const cJSON *m, char *requester, uint64_t *seq, char *offerer, char *resv,
                   char *err, size_t errlen)
{
	int64_t s;
	const char *r;
	if (msg_check_envelope(m, err, errlen) < 0 ||
	    get_name(m, NULL, "requester", requester, err, errlen) < 0 ||
	    msg_get_int(m, NULL, "seq", 1, 0, INT64_MAX, &s, err, errlen) < 0)
		return -1;
	*seq = (uint64_t)s;
	if (offerer && get_name(m, NULL, "offerer", offerer, err, errlen) < 0)
		return -1;
	if (resv) {
		if (msg_get_str(m, NULL, "reservation", 1, BP_RESV_ID_MAX, &r, err, errlen) < 0)
			return -1;
		snprintf(resv, BP_RESV_ID_MAX + 1, "%s", r);
	}
	return 0;
}

static int get_array(const cJSON *m, const char *field, const cJSON **a, char *err, size_t errlen)
{
	if (msg_get_array(m, NULL, field, 1, a, err, errlen) < 0)
		return -1;
	if (cJSON_GetArraySize(*a) > BAL_MAX_CANDS) {
		snprintf(err, errlen, "%s: expected at most %d entries", field, BAL_MAX_CANDS);
		return -1;
	}
	return 0;
}

static int get_group(const cJSON *o, const char *ctx, const char *field, char *out, char *err,
                     size_t errlen)
{
	const char *s = "";
	if (msg_get_name(o, ctx, field, 0, &s, err, errlen) < 0)
		return -1;
	copy_name(out, s);
	return 0;
}

static int cand_parse(const cJSON *o, const char *ctx, struct bal_cand *c, char *err, size_t errlen)
{
	int unknown = 0;
	memset(c, 0, sizeof *c);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s: expected an object", ctx);
		return -1;
	}
	if (get_name(o, ctx, "vm", c->vm, err, errlen) < 0 ||
	    msg_get_num(o, ctx, "cpu", 1, 0, BIG, &c->cpu, err, errlen) < 0 ||
	    msg_get_int(o, ctx, "mem_mb", 1, 0, INT64_C(1) << 32, &c->mem_mb, err, errlen) < 0 ||
	    msg_get_bool(o, ctx, "unknown", 0, &unknown, err, errlen) < 0 ||
	    get_group(o, ctx, "affinity", c->affinity, err, errlen) < 0 ||
	    get_group(o, ctx, "anti", c->anti, err, errlen) < 0)
		return -1;
	c->unknown = unknown;
	return 0;
}

int bp_help_parse(const cJSON *m, struct bp_help *out, char *err, size_t errlen)
{
	const char *mode;
	const cJSON *a, *it;
	int64_t cpus;
	memset(out, 0, sizeof *out);
	if (get_ids(m, out->requester, &out->seq, NULL, NULL, err, errlen) < 0 ||
	    msg_get_str(m, NULL, "mode", 1, 16, &mode, err, errlen) < 0)
		return -1;
	int md = bal_mode_parse(mode);
	if (md < 0) {
		snprintf(err, errlen, "mode: expected balance, consolidate or evacuate");
		return -1;
	}
	out->mode = md;
	if (msg_get_num(m, NULL, "load", 1, 0, BIG, &out->load, err, errlen) < 0 ||
	    msg_get_int(m, NULL, "cpus", 1, 1, 65536, &cpus, err, errlen) < 0 ||
	    msg_get_num(m, NULL, "excess", 0, -BIG, BIG, &out->excess, err, errlen) < 0 ||
	    get_array(m, "candidates", &a, err, errlen) < 0)
		return -1;
	out->cpus = (int)cpus;
	cJSON_ArrayForEach(it, a)
	{
		char ctx[32];
		snprintf(ctx, sizeof ctx, "candidates[%zu]", out->ncands);
		if (cand_parse(it, ctx, &out->cands[out->ncands], err, errlen) < 0)
			return -1;
		out->ncands++;
	}
	return 0;
}

int bp_offer_parse(const cJSON *m, struct bp_offer *out, char *err, size_t errlen)
{
	const cJSON *a, *it;
	int64_t cpus;
	memset(out, 0, sizeof *out);
	if (get_ids(m, out->requester, &out->seq, out->offerer, out->reservation, err, errlen) <
	        0 ||
	    msg_get_num(m, NULL, "cpu", 1, 0, BIG, &out->cpu, err, errlen) < 0 ||
	    msg_get_int(m, NULL, "mem_mb", 1, 0, INT64_C(1) << 40, &out->mem_mb, err, errlen) < 0 ||
	    msg_get_num(m, NULL, "load", 1, 0, BIG, &out->load, err, errlen) < 0 ||
	    msg_get_num(m, NULL, "load_after", 1, 0, BIG, &out->load_after, err, errlen) < 0 ||
	    msg_get_int(m, NULL, "cpus", 1, 1, 65536, &cpus, err, errlen) < 0 ||
	    msg_get_int(m, NULL, "ttl_ms", 1, 1, 86400000, &out->ttl_ms, err, errlen) < 0 ||
	    get_array(m, "vms", &a, err, errlen) < 0)
		return -1;
	out->cpus = (int)cpus;
	cJSON_ArrayForEach(it, a)
	{
		char ctx[32];
		snprintf(ctx, sizeof ctx, "vms[%zu]", out->nvms);
		if (!cJSON_IsString(it) || vmc_name_check(it->valuestring, ctx, err, errlen) < 0) {
			if (!cJSON_IsString(it))
				snprintf(err, errlen, "%s: expected a VM name", ctx);
			return -1;
		}
		copy_name(out->vms[out->nvms++], it->valuestring);
	}
	return 0;
}

int bp_accept_parse(const cJSON *m, struct bp_accept *out, char *err, size_t errlen)
{
	const cJSON *a, *it;
	memset(out, 0, sizeof *out);
	if (get_ids(m, out->requester, &out->seq, out->offerer, out->reservation, err, errlen) <
	        0 ||
	    get_array(m, "vms", &a, err, errlen) < 0)
		return -1;
	cJSON_ArrayForEach(it, a)
	{
		char ctx[32];
		int64_t moves;
		struct bp_accept_vm *v = &out->vms[out->nvms];
		snprintf(ctx, sizeof ctx, "vms[%zu]", out->nvms);
		if (!cJSON_IsObject(it)) {
			snprintf(err, errlen, "%s: expected an object", ctx);
			return -1;
		}
		if (get_name(it, ctx, "vm", v->vm, err, errlen) < 0 ||
		    msg_get_int(it, ctx, "last_move_ms", 1, 0, INT64_MAX, &v->last_move_ms, err,
		                errlen) < 0 ||
		    msg_get_int(it, ctx, "moves_1h", 1, 0, 1000000, &moves, err, errlen) < 0)
			return -1;
		v->moves_hour = (int)moves;
		out->nvms++;
	}
	return 0;
}

int bp_release_parse(const cJSON *m, struct bp_release *out, char *err, size_t errlen)
{
	const char *by = "requester", *reason = "";
	memset(out, 0, sizeof *out);
	if (get_ids(m, out->requester, &out->seq, out->offerer, out->reservation, err, errlen) <
	        0 ||
	    msg_get_str(m, NULL, "by", 0, 16, &by, err, errlen) < 0 ||
	    msg_get_str(m, NULL, "reason", 0, sizeof out->reason - 1, &reason, err, errlen) < 0)
		return -1;
	if (strcmp(by, "requester") != 0 && strcmp(by, "offerer") != 0) {
		snprintf(err, errlen, "by: expected requester or offerer");
		return -1;
	}
	out->by_offerer = by[0] == 'o';
	snprintf(out->reason, sizeof out->reason, "%s", reason);
	return 0;
}
