/* hv_xen_watch.c - what xl's per-domain monitor does, for the domains we create.
 *
 * `xl create` leaves a process per domain that waits for it to shut down and
 * then applies on_poweroff, on_reboot or on_crash. The agent has no such
 * process, so a thread of the driver looks once a second (WATCH_PERIOD_MS) for
 * domains that have shut down, and for those with a stored xl.cfg (created
 * here) applies the configured action: destroy, restart (destroy, then build
 * again from the stored xl.cfg), or preserve (leave it). Domains shut down for
 * suspend belong to a migration or a save and are never touched; domains
 * created by xl are left to xl's monitor. The thread also forgets shutdown
 * requests for domains that are gone. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../../lib/core/log.h"
#include "hv_xen_int.h"

#define WATCH_PERIOD_MS 1000

/* Which action applies to which shutdown reason. */
static const struct {
	libxl_shutdown_reason reason;
	const char *what;
	size_t off; /* of the libxl_action_on_shutdown in libxl_domain_config */
} watch_reasons[] = {
    {LIBXL_SHUTDOWN_REASON_POWEROFF, "powered off", offsetof(libxl_domain_config, on_poweroff)},
    {LIBXL_SHUTDOWN_REASON_REBOOT, "rebooted", offsetof(libxl_domain_config, on_reboot)},
    {LIBXL_SHUTDOWN_REASON_CRASH, "crashed", offsetof(libxl_domain_config, on_crash)},
    {LIBXL_SHUTDOWN_REASON_WATCHDOG, "was stopped by its watchdog",
     offsetof(libxl_domain_config, on_watchdog)},
    {LIBXL_SHUTDOWN_REASON_SOFT_RESET, "asked for a soft reset",
     offsetof(libxl_domain_config, on_soft_reset)},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Destroys the domain, then builds it again from dc and starts it. */
static void watch_restart(struct xen_hv *x, uint32_t domid, const char *name,
                          libxl_domain_config *dc)
{
	char err[VMC_ERR_MAX];
	uint32_t newid;

	libxl_domain_destroy(x->ctx, domid, NULL);
	if (xen_build(x, dc, -1, &newid, err, sizeof err) < 0) {
		log_warnx("xen: restarting %s failed: %s", name, err);
		xen_store_del(x, name);
		return;
	}
	if (libxl_domain_unpause(x->ctx, newid, NULL) != 0)
		log_warnx("xen: restarted %s (domid %u) but could not unpause it", name, newid);
	else
		log_info("xen: %s restarted as domid %u", name, newid);
}

static void watch_act(struct xen_hv *x, uint32_t domid, const char *name, const char *text,
                      libxl_shutdown_reason reason)
{
	libxl_domain_config dc;
	libxl_action_on_shutdown action = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	const char *what = "shut down for an unknown reason";
	char err[VMC_ERR_MAX];

	if (xen_cfg_parse(text, &dc, NULL, err, sizeof err) < 0) {
		log_warnx("xen: %s shut down but its stored xl.cfg does not parse: %s", name, err);
		libxl_domain_config_dispose(&dc);
		return;
	}
	for (size_t i = 0; i < NELEM(watch_reasons); i++)
		if (watch_reasons[i].reason == reason) {
			action = *(libxl_action_on_shutdown *)((char *)&dc + watch_reasons[i].off);
			what = watch_reasons[i].what;
		}
	switch (action) {
	case LIBXL_ACTION_ON_SHUTDOWN_DESTROY:
	case LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY:
		log_info("xen: %s %s: destroying it (%s)", name, what, xen_cfg_action_name(action));
		libxl_domain_destroy(x->ctx, domid, NULL);
		xen_store_del(x, name);
		break;
	case LIBXL_ACTION_ON_SHUTDOWN_RESTART:
	case LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME:
	case LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART:
		log_info("xen: %s %s: restarting it (%s)", name, what, xen_cfg_action_name(action));
		watch_restart(x, domid, name, &dc);
		break;
	default: /* preserve, soft-reset: left as it is */
		log_debug("xen: %s %s: left as it is (%s)", name, what,
		          xen_cfg_action_name(action));
		break;
	}
	libxl_domain_config_dispose(&dc);
}

/* Forgets shutdown requests for domids no longer in list. */
static void watch_prune(struct xen_hv *x, const libxl_dominfo *list, int nb)
{
	size_t i, j = 0;

	pthread_mutex_lock(&x->mu);
	for (i = 0; i < x->nstopping; i++) {
		int found = 0;

		for (int k = 0; k < nb && !found; k++)
			found = list[k].domid == x->stopping[i];
		if (found)
			x->stopping[j++] = x->stopping[i];
	}
	x->nstopping = j;
	pthread_mutex_unlock(&x->mu);
}

static void watch_scan(struct xen_hv *x)
{
	libxl_dominfo *list;
	int nb = 0;
	char why[VMC_ERR_MAX];

	list = libxl_list_domain(x->ctx, &nb);
	if (!list)
		return;
	watch_prune(x, list, nb);
	for (int i = 0; i < nb; i++) {
		const libxl_dominfo *d = &list[i];
		char *name, *text;

		if (d->domid == 0 || !d->shutdown || d->dying ||
		    d->shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND)
			continue;
		name = libxl_domid_to_name(x->ctx, d->domid);
		if (!name)
			continue;
		text = vmc_name_check(name, "domain name", why, sizeof why) == 0
		           ? xen_store_get(x, name)
		           : NULL;
		if (text)
			watch_act(x, d->domid, name, text, d->shutdown_reason);
		free(text);
		free(name);
	}
	libxl_dominfo_list_free(list, nb);
}

static void *watch_main(void *arg)
{
	struct xen_hv *x = arg;
	struct timespec until;

	pthread_mutex_lock(&x->mu);
	while (!x->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += WATCH_PERIOD_MS / 1000;
		until.tv_nsec += (long)(WATCH_PERIOD_MS % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!x->stop && pthread_cond_timedwait(&x->cv, &x->mu, &until) != ETIMEDOUT)
			;
		if (x->stop)
			break;
		pthread_mutex_unlock(&x->mu);
		watch_scan(x);
		pthread_mutex_lock(&x->mu);
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

void xen_watch_init(struct xen_hv *x)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&x->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cv, &ca);
	pthread_condattr_destroy(&ca);
}

int xen_watch_start(struct xen_hv *x, char *err, size_t errlen)
{
	int e = pthread_create(&x->watcher, NULL, watch_main, x);

	if (e) {
		snprintf(err, errlen, "cannot start the xen watcher thread: %s", strerror(e));
		return -1;
	}
	x->watcher_started = 1;
	return 0;
}

void xen_watch_stop(struct xen_hv *x)
{
	if (!x->watcher_started)
		return;
	pthread_mutex_lock(&x->mu);
	x->stop = 1;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->watcher, NULL);
	x->watcher_started = 0;
}

/* With x->mu held. */
static int watch_has(const struct xen_hv *x, uint32_t domid)
{
	for (size_t i = 0; i < x->nstopping; i++)
		if (x->stopping[i] == domid)
			return 1;
	return 0;
}

int xen_watch_is_stopping(struct xen_hv *x, uint32_t domid)
{
	int r;

	pthread_mutex_lock(&x->mu);
	r = watch_has(x, domid);
	pthread_mutex_unlock(&x->mu);
	return r;
}

void xen_watch_stopping(struct xen_hv *x, uint32_t domid)
{
	pthread_mutex_lock(&x->mu);
	if (!watch_has(x, domid)) {
		if (x->nstopping == x->capstopping) {
			size_t cap = x->capstopping ? x->capstopping * 2 : 8;
			uint32_t *p = realloc(x->stopping, cap * sizeof *p);

			if (p) {
				x->stopping = p;
				x->capstopping = cap;
			}
		}
		if (x->nstopping < x->capstopping)
			x->stopping[x->nstopping++] = domid;
	}
	pthread_mutex_unlock(&x->mu);
}
