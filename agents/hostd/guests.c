/* guests.c - guest-agent figures per VM (see guests.h), in a small chained hash table. */
#include "guests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/limits.h"
#include "../../lib/bus/msg.h"
#include "../../lib/core/ratelog.h"
#include "../../lib/bus/topic.h"

#define NBUCKETS 1024

struct entry {
	char vm[VMC_NAME_MAX + 1];
	struct guest_figures f;
	struct entry *next;
};

#define PRUNE_EVERY 1024 /* messages between sweeps for stale guests */

struct guests {
	struct entry *buckets[NBUCKETS];
	size_t n;
	unsigned long msgs;
	struct ratelog warn;
};

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % NBUCKETS;
}

struct guests *guests_new(void)
{
	return calloc(1, sizeof(struct guests));
}

void guests_free(struct guests *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		while (g->buckets[i]) {
			struct entry *e = g->buckets[i];
			g->buckets[i] = e->next;
			free(e);
		}
	free(g);
}

static struct entry *find(const struct guests *g, const char *vm)
{
	for (struct entry *e = g->buckets[hash(vm)]; e; e = e->next)
		if (strcmp(e->vm, vm) == 0)
			return e;
	return NULL;
}

static int64_t max_age(const struct guest_figures *f)
{
	int64_t a = 3 * f->gap_ms;
	return a > GUESTS_MIN_AGE_MS ? a : GUESTS_MIN_AGE_MS;
}

/* One optional number of the message, within the bounds of lib/core/limits.c (the balancer
 * reads the same figures with the same bounds); sets bit in *has. */
struct field {
	const char *name;
	size_t off; /* a double in struct guest_figures, or (with is_int) an int64_t */
	int is_int;
	unsigned bit;
};

#define F(x) offsetof(struct guest_figures, x)
static const struct field fields[] = {
    {"cpu", F(cpu), 0, GUEST_HAS_CPU},
    {"steal", F(steal), 0, GUEST_HAS_STEAL},
    {"mem_total_mb", F(mem_total_mb), 1, GUEST_HAS_MEM},
    {"mem_used_mb", F(mem_used_mb), 1, GUEST_HAS_MEM},
    {"load1", F(load1), 0, GUEST_HAS_LOAD},
    {"load5", F(load5), 0, GUEST_HAS_LOAD},
    {"load15", F(load15), 0, GUEST_HAS_LOAD},
    {"disk_used_pct", F(disk_used_pct), 0, GUEST_HAS_DISK},
    {"uptime_s", F(uptime_s), 0, GUEST_HAS_UPTIME},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static int read_fields(const cJSON *m, struct guest_figures *f, char *err, size_t errlen)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		double v;
		int r = lim_get_num(m, LIM_GUEST, "", fields[i].name, 0, &v, err, errlen);
		if (r < 0)
			return -1;
		if (r == 1)
			continue;
		if (fields[i].is_int)
			*(int64_t *)((char *)f + fields[i].off) = (int64_t)v;
		else
			*(double *)((char *)f + fields[i].off) = v;
		f->has |= fields[i].bit;
	}
	int64_t n;
	int r = lim_get_int(m, LIM_GUEST, "", "vcpus", 0, &n, err, errlen);
	if (r < 0)
		return -1;
	f->vcpus = r == 0 ? (int)n : 0;
	if (msg_get_int(m, "", "seq", 0, 0, INT64_MAX, &n, err, errlen) == 0)
		f->seq = (uint64_t)n;
	if ((f->has & GUEST_HAS_MEM) && f->mem_used_mb > f->mem_total_mb &&
	    cJSON_GetObjectItemCaseSensitive(m, "mem_total_mb")) {
		snprintf(err, errlen, "mem_used_mb: %lld is more than mem_total_mb %lld",
		         (long long)f->mem_used_mb, (long long)f->mem_total_mb);
		return -1;
	}
	return 0;
}

int guests_on_load(struct guests *g, const char *vm, const void *payload, size_t len,
                   int64_t now_ms, char *err, size_t errlen)
{
	cJSON *m = NULL;
	struct guest_figures f;
	memset(&f, 0, sizeof f);
	if (vmc_name_check(vm, "vm name", err, errlen) < 0)
		return -1;
	if (msg_parse(payload, len, &m, err, errlen) != VMC_OK)
		return -1;
	char topic[VMC_NAME_MAX + 16];
	snprintf(topic, sizeof topic, "guest/%s/load", vm);
	int rc = msg_check_envelope(m, err, errlen) < 0 ||
	                 topic_check_sender(topic, m, err, errlen) < 0 ||
	                 read_fields(m, &f, err, errlen) < 0
	             ? -1
	             : 0;
	cJSON_Delete(m);
	if (rc < 0)
		return -1;
	if (++g->msgs % PRUNE_EVERY == 0)
		guests_prune(g, now_ms);
	struct entry *e = find(g, vm);
	if (!e) {
		if (g->n >= GUESTS_MAX && guests_prune(g, now_ms) == 0) {
			snprintf(err, errlen, "too many guests (%d) to keep another", GUESTS_MAX);
			return -1;
		}
		e = calloc(1, sizeof *e);
		if (!e) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(e->vm, vm, strlen(vm) + 1);
		unsigned h = hash(vm);
		e->next = g->buckets[h];
		g->buckets[h] = e;
		g->n++;
	} else {
		f.gap_ms = now_ms - e->f.seen_ms;
	}
	f.seen_ms = now_ms;
	e->f = f;
	return 0;
}

const struct guest_figures *guests_get(const struct guests *g, const char *vm, int64_t now_ms)
{
	const struct entry *e = find(g, vm);
	if (!e || now_ms - e->f.seen_ms > max_age(&e->f))
		return NULL;
	return &e->f;
}

cJSON *guests_json(const struct guests *g, const char *vm, int64_t now_ms)
{
	const struct guest_figures *f = guests_get(g, vm, now_ms);
	if (!f)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!(f->has & fields[i].bit))
			continue;
		const char *p = (const char *)f + fields[i].off;
		double v = fields[i].is_int ? (double)*(const int64_t *)p : *(const double *)p;
		cJSON_AddNumberToObject(o, fields[i].name, v);
	}
	if (f->vcpus)
		cJSON_AddNumberToObject(o, "vcpus", f->vcpus);
	cJSON_AddNumberToObject(o, "seq", (double)f->seq);
	cJSON_AddNumberToObject(o, "age_ms", (double)(now_ms - f->seen_ms));
	return o;
}

void guests_forget(struct guests *g, const char *vm)
{
	for (struct entry **p = &g->buckets[hash(vm)]; *p; p = &(*p)->next)
		if (strcmp((*p)->vm, vm) == 0) {
			struct entry *e = *p;
			*p = e->next;
			free(e);
			g->n--;
			return;
		}
}

size_t guests_prune(struct guests *g, int64_t now_ms)
{
	size_t dropped = 0;
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct entry **p = &g->buckets[i]; *p;) {
			struct entry *e = *p;
			if (now_ms - e->f.seen_ms > max_age(&e->f)) {
				*p = e->next;
				free(e);
				g->n--;
				dropped++;
			} else {
				p = &e->next;
			}
		}
	return dropped;
}

size_t guests_count(const struct guests *g)
{
	return g->n;
}

struct ratelog *guests_ratelog(struct guests *g)
{
	return &g->warn;
}
