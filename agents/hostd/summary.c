/* summary.c - the host's compact summary, host/<name>/summary (retained, QoS 0): what the
 * other host agents need of this host (state, CPUs, load, free memory, migrations, how
 * many VMs), a few hundred bytes, instead of its full load message. Published when it
 * changes significantly, every sample while migrations run, and otherwise only to
 * refresh it, at a period that grows with the cluster: the summaries a host agent
 * receives then do not grow with the number of hosts (vmcluster-protocol(7)). */
#include "hostd.h"

#include "../../lib/core/evloop.h"
#include "../../lib/bus/topic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRIFT_POINTS 1.0     /* load or cpu, % of the host */
#define DRIFT_BIG_POINTS 10.0 /* a move this large does not wait for the cluster's gap */
/* and the gap after the last summary, per host in the view: each reader gets at most
 * about ten drift summaries a second from the whole cluster */
#define DRIFT_PER_HOST_MS 100
#define DRIFT_MEM_PERCENT 1  /* free memory, % of the total */
#define DRIFT_MIN_SAMPLES 3  /* a drift waits this many samples after the last summary */
#define REFRESH_MIN_MS 120000 /* the refresh period, at least */
/* and this per host: the cluster's refreshes reach each agent at most every 2 s */
#define REFRESH_PER_HOST_MS 2000

struct summary {
	int have; /* one was published in this connection */
	char state[16];
	int cpus, mout, min;
	double cpu, load;
	int64_t mem_total, mem_free;
	size_t nvms;
	int64_t at_ms;    /* monotonic, real ms of the last one */
	uint64_t samples; /* samples since the last one */
	uint64_t seq;
	int tail; /* samples still published after migrations ended: a peer's memory holds for
	             them end with the first summary after the migration's end */
};

static struct summary *sum_of(struct hostd *h)
{
	if (!h->summary)
		h->summary = calloc(1, sizeof(struct summary));
	return h->summary;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The refresh period in real ms: at least 2 minutes, and 2 s per host in the view. */
static int64_t refresh_ms(struct hostd *h)
{
	int64_t r = (int64_t)hostd_balancer_hosts(h) * REFRESH_PER_HOST_MS;
	return r < REFRESH_MIN_MS ? REFRESH_MIN_MS : r;
}

/* A fraction in [0, 1) of this host and summary number, so that hosts started together
 * do not refresh together: each refresh comes after 3/4 to all of the period. */
static double phase(const struct hostd *h, uint64_t seq)
{
	uint32_t x = 2166136261u; /* FNV-1a */
	for (const char *c = h->opts.name; *c; c++)
		x = (x ^ (unsigned char)*c) * 16777619u;
	x = (x ^ (uint32_t)seq) * 16777619u;
	x ^= x >> 15;
	return (double)(x % 1000) / 1000;
}

/* Whether cur must be published now, given the last one published. */
static int due(struct hostd *h, const struct summary *last, const struct summary *cur, int changed,
               int64_t now_ms)
{
	if (!last->have || changed > 0 || strcmp(last->state, cur->state) != 0 ||
	    last->cpus != cur->cpus || last->mem_total != cur->mem_total ||
	    last->nvms != cur->nvms || last->mout != cur->mout || last->min != cur->min ||
	    cur->mout + cur->min > 0 || last->tail > 0)
		return 1;
	double moved = fmax(fabs(last->load - cur->load), fabs(last->cpu - cur->cpu));
	int drift = moved >= DRIFT_POINTS ||
	            llabs(last->mem_free - cur->mem_free) * 100 >=
	                (cur->mem_total > 0 ? cur->mem_total : 1) * DRIFT_MEM_PERCENT;
	int64_t gap = (int64_t)hostd_balancer_hosts(h) * DRIFT_PER_HOST_MS;
	if (drift && last->samples + 1 >= DRIFT_MIN_SAMPLES &&
	    (moved >= DRIFT_BIG_POINTS || now_ms - last->at_ms >= gap))
		return 1;
	return now_ms - last->at_ms >= refresh_ms(h) * (3 + phase(h, last->seq)) / 4;
}

void hostd_summary_sample(struct hostd *h, const cJSON *load, int changed)
{
	struct summary *last = sum_of(h), cur;
	if (!last)
		return;
	memset(&cur, 0, sizeof(cur));
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(load, "state");
	snprintf(cur.state, sizeof(cur.state), "%s", cJSON_IsString(st) ? st->valuestring : "");
	cur.cpus = (int)num(load, "cpus");
	cur.cpu = num(load, "cpu");
	cur.mem_total = (int64_t)num(load, "mem_total_mb");
	cur.mem_free = (int64_t)num(load, "mem_free_mb");
	cur.mout = (int)num(load, "migrations_out");
	cur.min = (int)num(load, "migrations_in");
	double vm_cpu = 0;
	if (hostd_balancer_own_load(h, &cur.load, &vm_cpu, &cur.nvms) < 0)
		cur.load = cur.cpu;
	int64_t now_ms = evloop_mono_ms();
	if (!due(h, last, &cur, changed, now_ms)) {
		last->samples++;
		return;
	}
	cJSON *m = msg_new(h->sender, hostd_now(h));
	msg_set_seq(m, ++last->seq);
	hostd_add_identity(h, m);
	cJSON_AddStringToObject(m, "driver", h->hv->ops->name);
	cJSON_AddStringToObject(m, "state", cur.state);
	cJSON_AddNumberToObject(m, "cpus", cur.cpus);
	/* unrounded: every host orders the others by load alike (consolidation) */
	cJSON_AddNumberToObject(m, "cpu", cur.cpu);
	cJSON_AddNumberToObject(m, "load", cur.load);
	cJSON_AddNumberToObject(m, "vm_cpu", vm_cpu);
	cJSON_AddNumberToObject(m, "nvms", (double)cur.nvms);
	cJSON_AddNumberToObject(m, "mem_total_mb", (double)cur.mem_total);
	cJSON_AddNumberToObject(m, "mem_free_mb", (double)cur.mem_free);
	cJSON_AddNumberToObject(m, "migrations_out", cur.mout);
	cJSON_AddNumberToObject(m, "migrations_in", cur.min);
	/* readers take a summary older than twice this for a silent host */
	cJSON_AddNumberToObject(m, "refresh_ms", (double)refresh_ms(h));
	char t[VMC_TOPIC_MAX];
	/* QoS 0: only the latest summary counts, and a reader that reconnects gets the retained
	 * one; QoS 1 would cost every reader a PUBACK (and the broker reading it) per summary,
	 * the bulk of a large cluster's traffic (vmcluster-protocol(7)) */
	if (topic_fmt(t, sizeof(t), h->opts.cluster, "host/%s/summary", h->opts.name) == 0)
		bus_publish_json(h->bus, t, m, 0, 1);
	cJSON_Delete(m);
	cur.have = 1;
	cur.at_ms = now_ms;
	cur.samples = 0;
	cur.seq = last->seq;
	cur.tail = cur.mout + cur.min > 0 ? 3 : last->tail - (last->tail > 0);
	*last = cur;
}

void hostd_summary_reset(struct hostd *h)
{
	struct summary *s = sum_of(h);
	if (s)
		s->have = 0;
}

void hostd_summary_free(struct hostd *h)
{
	free(h->summary);
	h->summary = NULL;
}
