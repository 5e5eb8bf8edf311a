/* evloop.c - a small poll(2) event loop with timers, in the spirit of Redis' ae.c.
 *
 * File descriptors live in a flat array (a daemon watches a handful);
 * timers in an unsorted array scanned each iteration (a daemon has tens). */
#include "evloop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVLOOP_MAX_FDS 1024
#define EVLOOP_MAX_HOOKS 16

struct ev_fd {
	int fd;
	int events;
	evloop_fd_fn *fn;
	void *ud;
};

struct ev_timer {
	long long id;
	int64_t when; /* monotonic ms */
	evloop_timer_fn *fn;
	void *ud;
};

struct ev_hook {
	evloop_hook_fn *fn;
	void *ud;
};

struct evloop {
	struct ev_fd *fds;
	size_t nfds, capfds;
	struct ev_timer *timers;
	size_t ntimers, captimers;
	long long next_timer_id;
	struct ev_hook hooks[EVLOOP_MAX_HOOKS];
	size_t nhooks;
	int stop;
};

int64_t evloop_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t evloop_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct evloop *evloop_new(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));
	if (loop)
		loop->next_timer_id = 1;
	return loop;
}

void evloop_free(struct evloop *loop)
{
	if (!loop)
		return;
	free(loop->fds);
	free(loop->timers);
	free(loop);
}

static struct ev_fd *evloop_find_fd(struct evloop *loop, int fd)
{
	for (size_t i = 0; i < loop->nfds; i++)
		if (loop->fds[i].fd == fd)
			return &loop->fds[i];
	return NULL;
}

int evloop_add_fd(struct evloop *loop, int fd, int events, evloop_fd_fn *fn, void *ud)
{
	struct ev_fd *e = evloop_find_fd(loop, fd);
	if (!e) {
		if (loop->nfds == EVLOOP_MAX_FDS)
			return -1;
		if (loop->nfds == loop->capfds) {
			size_t cap = loop->capfds ? loop->capfds * 2 : 16;
			struct ev_fd *n = realloc(loop->fds, cap * sizeof(*n));
			if (!n)
				return -1;
			loop->fds = n;
			loop->capfds = cap;
		}
		e = &loop->fds[loop->nfds++];
	}
	e->fd = fd;
	e->events = events;
	e->fn = fn;
	e->ud = ud;
	return 0;
}

void evloop_set_fd_events(struct evloop *loop, int fd, int events)
{
	struct ev_fd *e = evloop_find_fd(loop, fd);
	if (e)
		e->events = events;
}

void evloop_del_fd(struct evloop *loop, int fd)
{
	struct ev_fd *e = evloop_find_fd(loop, fd);
	if (!e)
		return;
	*e = loop->fds[--loop->nfds];
}

long long evloop_add_timer(struct evloop *loop, long ms, evloop_timer_fn *fn, void *ud)
{
	if (loop->ntimers == loop->captimers) {
		size_t cap = loop->captimers ? loop->captimers * 2 : 16;
		struct ev_timer *n = realloc(loop->timers, cap * sizeof(*n));
		if (!n)
			return -1;
		loop->timers = n;
		loop->captimers = cap;
	}
	struct ev_timer *t = &loop->timers[loop->ntimers++];
	t->id = loop->next_timer_id++;
	t->when = evloop_mono_ms() + (ms > 0 ? ms : 0);
	t->fn = fn;
	t->ud = ud;
	return t->id;
}

void evloop_del_timer(struct evloop *loop, long long id)
{
	for (size_t i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i].id == id) {
			loop->timers[i] = loop->timers[--loop->ntimers];
			return;
		}
	}
}

int evloop_add_before_poll(struct evloop *loop, evloop_hook_fn *fn, void *ud)
{
	if (loop->nhooks == EVLOOP_MAX_HOOKS)
		return -1;
	loop->hooks[loop->nhooks].fn = fn;
	loop->hooks[loop->nhooks].ud = ud;
	loop->nhooks++;
	return 0;
}

void evloop_del_before_poll(struct evloop *loop, evloop_hook_fn *fn, void *ud)
{
	for (size_t i = 0; i < loop->nhooks; i++) {
		if (loop->hooks[i].fn == fn && loop->hooks[i].ud == ud) {
			loop->hooks[i] = loop->hooks[--loop->nhooks];
			return;
		}
	}
}

/* Runs every timer that is due. A callback may add or delete timers, so the
 * array is searched again by id after each call. */
static void evloop_run_timers(struct evloop *loop)
{
	int64_t now = evloop_mono_ms();
	long long limit = loop->next_timer_id; /* timers added while running wait a turn */
	for (size_t i = 0; i < loop->ntimers;) {
		struct ev_timer *t = &loop->timers[i];
		if (t->id >= limit || t->when > now) {
			i++;
			continue;
		}
		long long id = t->id;
		long again = t->fn(loop, id, t->ud);
		/* the callback may have moved or deleted it */
		size_t j;
		for (j = 0; j < loop->ntimers && loop->timers[j].id != id; j++)
			;
		if (j == loop->ntimers) {
			i = 0;
			continue;
		}
		if (again < 0) {
			loop->timers[j] = loop->timers[--loop->ntimers];
			i = 0;
			continue;
		}
		loop->timers[j].when = evloop_mono_ms() + again;
		loop->timers[j].id = loop->next_timer_id++; /* so it is not run again this turn */
		if (j != i)
			i = 0;
		else
			i++;
	}
}

static long evloop_next_timeout(struct evloop *loop, long max_wait_ms)
{
	int64_t now = evloop_mono_ms();
	long wait = max_wait_ms;
	for (size_t i = 0; i < loop->ntimers; i++) {
		int64_t d = loop->timers[i].when - now;
		if (d < 0)
			d = 0;
		if (wait < 0 || d < wait)
			wait = (long)d;
	}
	return wait;
}

int evloop_run_once(struct evloop *loop, long max_wait_ms)
{
	for (size_t i = 0; i < loop->nhooks; i++)
		loop->hooks[i].fn(loop, loop->hooks[i].ud);

	struct pollfd pfds[EVLOOP_MAX_FDS];
	size_t n = loop->nfds;
	for (size_t i = 0; i < n; i++) {
		pfds[i].fd = loop->fds[i].fd;
		pfds[i].events = (short)(((loop->fds[i].events & EV_READ) ? POLLIN : 0) |
					 ((loop->fds[i].events & EV_WRITE) ? POLLOUT : 0));
		pfds[i].revents = 0;
	}
	long wait = evloop_next_timeout(loop, max_wait_ms);
	int rc = poll(pfds, n, wait > 1000000 ? 1000000 : (int)wait);
	if (rc < 0 && errno != EINTR)
		return -1;
	for (size_t i = 0; rc > 0 && i < n; i++) {
		if (!pfds[i].revents)
			continue;
		/* the watch may have been removed or replaced by an earlier callback */
		struct ev_fd *e = evloop_find_fd(loop, pfds[i].fd);
		if (!e)
			continue;
		int ev = 0;
		if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			ev |= EV_READ;
		if (pfds[i].revents & (POLLOUT | POLLERR))
			ev |= EV_WRITE;
		e->fn(loop, e->fd, ev, e->ud);
	}
	evloop_run_timers(loop);
	return 0;
}

int evloop_run(struct evloop *loop)
{
	loop->stop = 0;
	while (!loop->stop)
		if (evloop_run_once(loop, 1000) < 0)
			return -1;
	return 0;
}

void evloop_stop(struct evloop *loop)
{
	loop->stop = 1;
}

int evloop_stopped(const struct evloop *loop)
{
	return loop->stop;
}
