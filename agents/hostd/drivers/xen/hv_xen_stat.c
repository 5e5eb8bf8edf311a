/* hv_xen_stat.c - per-domain figures from libxenstat, as xentop computes them.
 *
 * CPU percentages are rates: the difference of each domain's cpu_ns between
 * two samples over the wall time between them (xentop's get_cpu_pct). The
 * host agent asks for host figures and the VM list one after the other, so
 * each new sample is compared with the newest kept sample at least
 * RATE_MIN_MS older, not with one taken moments before; a few recent samples
 * are kept for that. Network bytes and block requests are the sums over each
 * domain's vifs and vbds. The handle is not thread-safe: one mutex guards it
 * and the kept samples. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstat.h>

#include "hv_xen_int.h"

#define RATE_MIN_NS (500 * 1000000LL)
#define KEEP_MAX 8 /* samples kept; beyond, new ones are not kept */

struct xen_sample {
	xenstat_node *node;
	int64_t t_ns; /* CLOCK_MONOTONIC */
};

struct xen_stat {
	pthread_mutex_t mu;
	xenstat_handle *xh;
	struct xen_sample kept[KEEP_MAX]; /* oldest first */
	size_t nkept;
};

static int64_t stat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct xen_stat *xen_stat_new(char *err, size_t errlen)
{
	struct xen_stat *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errlen, "out of memory for the xenstat sampler");
		return NULL;
	}
	s->xh = xenstat_init();
	if (!s->xh) {
		snprintf(err, errlen,
		         "cannot open libxenstat (needs dom0 privileges and xenstored)");
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

static void sample_clear(struct xen_sample *x)
{
	if (x->node)
		xenstat_free_node(x->node);
	x->node = NULL;
}

void xen_stat_free(struct xen_stat *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nkept; i++)
		sample_clear(&s->kept[i]);
	xenstat_uninit(s->xh);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* The kept sample to compare a sample taken at t with: the newest one at least
 * RATE_MIN_NS older, else the oldest; NULL if none is kept. Drops the older ones. */
static const struct xen_sample *stat_base(struct xen_stat *s, int64_t t)
{
	size_t b = 0, i;

	if (!s->nkept)
		return NULL;
	for (i = 0; i < s->nkept; i++)
		if (t - s->kept[i].t_ns >= RATE_MIN_NS)
			b = i;
	for (i = 0; i < b; i++)
		sample_clear(&s->kept[i]);
	memmove(s->kept, s->kept + b, (s->nkept - b) * sizeof s->kept[0]);
	s->nkept -= b;
	return &s->kept[0];
}

/* Keeps cur for later rates, or frees it if enough are kept. */
static void stat_keep(struct xen_stat *s, struct xen_sample *cur)
{
	if (s->nkept < KEEP_MAX)
		s->kept[s->nkept++] = *cur;
	else
		sample_clear(cur);
}

/* cpu_ns spent by domain d since the base sample, or 0 if it was not there
 * (new, or its domid reused). */
static uint64_t stat_cpu_delta(const struct xen_sample *base, xenstat_domain *d)
{
	xenstat_domain *old;
	unsigned long long now, then;

	old = xenstat_node_domain(base->node, xenstat_domain_id(d));
	if (!old)
		return 0;
	now = xenstat_domain_cpu_ns(d);
	then = xenstat_domain_cpu_ns(old);
	return now > then ? now - then : 0;
}

static void stat_io(xenstat_domain *d, struct xen_stat_dom *o)
{
	unsigned int i, n;

	n = xenstat_domain_num_networks(d);
	for (i = 0; i < n; i++) {
		xenstat_network *net = xenstat_domain_network(d, i);

		if (!net)
			continue;
		o->net_rx_bytes += xenstat_network_rbytes(net);
		o->net_tx_bytes += xenstat_network_tbytes(net);
	}
	n = xenstat_domain_num_vbds(d);
	for (i = 0; i < n; i++) {
		xenstat_vbd *vbd = xenstat_domain_vbd(d, i);

		if (!vbd)
			continue;
		o->blk_rd_reqs += xenstat_vbd_rd_reqs(vbd);
		o->blk_wr_reqs += xenstat_vbd_wr_reqs(vbd);
	}
}

static int stat_vcpus_online(xenstat_domain *d)
{
	unsigned int i, n = xenstat_domain_num_vcpus(d);
	int online = 0;

	for (i = 0; i < n; i++) {
		xenstat_vcpu *v = xenstat_domain_vcpu(d, i);

		if (v && xenstat_vcpu_online(v))
			online++;
	}
	return online ? online : (int)n;
}

static void stat_dom(xenstat_domain *d, uint64_t cpu_delta, int64_t wall_ns, struct xen_stat_dom *o)
{
	const char *name = xenstat_domain_name(d);

	memset(o, 0, sizeof *o);
	o->domid = xenstat_domain_id(d);
	snprintf(o->name, sizeof o->name, "%s", name ? name : "");
	o->running = xenstat_domain_running(d) != 0;
	o->paused = xenstat_domain_paused(d) != 0;
	o->blocked = xenstat_domain_blocked(d) != 0;
	o->shutdown = xenstat_domain_shutdown(d) != 0;
	o->crashed = xenstat_domain_crashed(d) != 0;
	o->dying = xenstat_domain_dying(d) != 0;
	o->vcpus_online = stat_vcpus_online(d);
	o->mem_mb = (int64_t)(xenstat_domain_cur_mem(d) / (1024 * 1024));
	o->cpu_pct = wall_ns > 0 ? (double)cpu_delta * 100.0 / (double)wall_ns : 0.0;
	stat_io(d, o);
}

int xen_stat_sample(struct xen_stat *s, struct xen_stat_dom **doms, size_t *n, double *host_cpu_pct,
                    char *err, size_t errlen)
{
	struct xen_sample cur;
	const struct xen_sample *base;
	struct xen_stat_dom *out;
	unsigned int i, nd, ncpus;
	uint64_t total = 0;
	int64_t wall;

	*doms = NULL;
	*n = 0;
	*host_cpu_pct = 0;
	pthread_mutex_lock(&s->mu);
	cur.node = xenstat_get_node(s->xh, XENSTAT_ALL);
	cur.t_ns = stat_now_ns();
	if (!cur.node) {
		pthread_mutex_unlock(&s->mu);
		snprintf(err, errlen,
		         "libxenstat could not read the domains (is xenstored running?)");
		return -1;
	}
	base = stat_base(s, cur.t_ns);
	wall = base ? cur.t_ns - base->t_ns : 0;
	nd = xenstat_node_num_domains(cur.node);
	out = calloc(nd ? nd : 1, sizeof *out);
	if (!out) {
		stat_keep(s, &cur);
		pthread_mutex_unlock(&s->mu);
		snprintf(err, errlen, "out of memory for %u domains' figures", nd);
		return -1;
	}
	for (i = 0; i < nd; i++) {
		xenstat_domain *d = xenstat_node_domain_by_index(cur.node, i);
		uint64_t delta;

		if (!d)
			continue;
		delta = wall > 0 ? stat_cpu_delta(base, d) : 0;
		total += delta;
		stat_dom(d, delta, wall, &out[(*n)++]);
	}
	ncpus = xenstat_node_num_cpus(cur.node);
	if (wall > 0 && ncpus > 0) {
		*host_cpu_pct = (double)total * 100.0 / ((double)wall * ncpus);
		if (*host_cpu_pct > 100.0)
			*host_cpu_pct = 100.0;
	}
	stat_keep(s, &cur);
	pthread_mutex_unlock(&s->mu);
	*doms = out;
	return 0;
}
