/* history.c - each host's CPU and memory over the last minutes, as the console saw
 * them: one point per HIST_STEP_MS (the mean of the samples in it), HIST_POINTS kept,
 * drawn as sparklines in the hosts view. Sampling is the console's, not the bus's. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/nametab.h"
#include "vmtop.h"

struct host_hist {
	char name[VMC_NAME_MAX + 1]; /* first member: the index keys on it */
	int64_t slot;                /* the step the newest point covers */
	double sum[2][HIST_POINTS];
	int count[HIST_POINTS];
	size_t idx_;
};

/* Found by name for each of a thousand hosts at every sample: hashed, not searched. */
struct history {
	struct nametab hosts;
};

struct history *history_new(void)
{
	struct history *h = calloc(1, sizeof(struct history));
	if (h)
		nametab_init(&h->hosts, offsetof(struct host_hist, idx_));
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	nametab_free(&h->hosts, 1);
	free(h);
}

static struct host_hist *hist_find(const struct history *h, const char *name)
{
	return nametab_find(&h->hosts, name);
}

static struct host_hist *hist_get(struct history *h, const char *name, int64_t slot)
{
	struct host_hist *e = hist_find(h, name);
	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->slot = slot;
	nametab_add(&h->hosts, e);
	return e;
}

/* Moves e's newest point on to slot, emptying the points in between. */
static void hist_advance(struct host_hist *e, int64_t slot)
{
	if (slot <= e->slot)
		return;
	int64_t steps = slot - e->slot;
	for (int64_t k = 1; k <= steps && k <= HIST_POINTS; k++) {
		size_t i = (size_t)((e->slot + k) % HIST_POINTS);
		e->sum[HIST_CPU][i] = e->sum[HIST_MEM][i] = 0;
		e->count[i] = 0;
	}
	e->slot = slot;
}

void history_sample(struct history *h, const struct cluster_model *m, int64_t now_ms)
{
	if (!h || now_ms < 0)
		return;
	int64_t slot = now_ms / HIST_STEP_MS;
	for (size_t i = 0; i < cluster_model_host_count(m); i++) {
		const struct cm_host *c = cluster_model_host_at(m, i);
		if (!c->have_load || c->stale ||
		    (c->state != CM_HOST_ONLINE && c->state != CM_HOST_MAINTENANCE))
			continue;
		struct host_hist *e = hist_get(h, c->name, slot);
		if (!e)
			return;
		hist_advance(e, slot);
		size_t at = (size_t)(slot % HIST_POINTS);
		e->sum[HIST_CPU][at] += c->cpu;
		e->sum[HIST_MEM][at] +=
		    c->mem_total_mb ? 100.0 * (double)c->mem_used_mb / (double)c->mem_total_mb : 0;
		e->count[at]++;
	}
}

size_t history_series(const struct history *h, const char *host, enum hist_series which,
                      int64_t now_ms, double *out, size_t n)
{
	const struct host_hist *e = h ? hist_find(h, host) : NULL;
	int64_t slot = now_ms / HIST_STEP_MS;
	size_t have = 0;
	if (n > HIST_POINTS)
		n = HIST_POINTS;
	for (size_t k = 0; k < n; k++) {
		int64_t s = slot - (int64_t)(n - 1 - k); /* oldest first */
		out[k] = NAN;
		if (!e || s > e->slot || s <= e->slot - HIST_POINTS || s < 0)
			continue;
		size_t i = (size_t)(s % HIST_POINTS);
		if (e->count[i]) {
			out[k] = e->sum[which][i] / e->count[i];
			have++;
		}
	}
	return have;
}

const char *fmt_spark(const double *v, size_t n, int utf8, char *buf, size_t len)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
	                                     "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = ".:-=+*#@";
	size_t used = 0;
	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t k = 0; k < n; k++) {
		char cell[8];
		if (isnan(v[k])) {
			cell[0] = ' ';
			cell[1] = '\0';
		} else {
			double p = v[k] < 0 ? 0 : v[k] > 100 ? 100 : v[k];
			int lvl = (int)(p / 100.0 * 7 + 0.5);
			if (utf8)
				snprintf(cell, sizeof(cell), "%s", blocks[lvl]);
			else
				snprintf(cell, sizeof(cell), "%c", ascii[lvl]);
		}
		size_t cl = strlen(cell);
		if (used + cl + 1 > len)
			break;
		memcpy(buf + used, cell, cl + 1);
		used += cl;
	}
	return buf;
}
