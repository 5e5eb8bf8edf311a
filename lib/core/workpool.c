/* workpool.c - a thread for each running job, a FIFO of jobs waiting for one, and a
 * wake-up pipe into the event loop (see workpool.h).
 *
 * A job goes: waiting (loop thread) -> running on its thread (on the active list) ->
 * the delivery queue (its thread puts it there, so that finishing allocates nothing) ->
 * delivered on the loop's thread: its thread joined, its done called, freed. */
#include "workpool.h"

#include "evloop.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A job (run set), or a note. */
struct item {
	struct item *next; /* in the waiting list or the delivery queue */
	struct workpool *p;
	workpool_run_fn *run;
	workpool_done_fn *done;
	workpool_note_fn *note;
	void *ud;
	pthread_t thread;
	struct item *anext; /* on the active list */
	size_t len;
	max_align_t data[]; /* a note's copy, aligned for whatever it holds */
};

struct workpool {
	struct evloop *loop;
	int pipe_rd, pipe_wr;
	int max_threads, max_queued;
	size_t stack_size;
	const char *what;
	volatile int cancel;
	pthread_mutex_t mu;              /* guards queue and live */
	pthread_cond_t idle;             /* live fell to 0 */
	struct item *queue, *queue_tail; /* notes and finished jobs, to deliver */
	int live;                        /* threads whose run has not returned */
	/* the loop's thread only */
	struct item *waiting, *waiting_tail;
	int nwaiting;
	struct item *active; /* started and not yet delivered */
	int running;         /* on the active list */
	int stopping;
};

/* Wakes the loop. A full pipe (EAGAIN) holds a wake-up already. */
static void wake(struct workpool *p)
{
	char b = 1;
	while (write(p->pipe_wr, &b, 1) < 0 && errno == EINTR)
		;
}

/* Appends it to the delivery queue; p->mu held. */
static void queue_append(struct workpool *p, struct item *it)
{
	it->next = NULL;
	if (p->queue_tail)
		p->queue_tail->next = it;
	else
		p->queue = it;
	p->queue_tail = it;
}

static struct item *queue_take(struct workpool *p)
{
	pthread_mutex_lock(&p->mu);
	struct item *it = p->queue;
	p->queue = p->queue_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	return it;
}

static void *job_main(void *arg)
{
	struct item *j = arg;
	struct workpool *p = j->p;
	j->run(j->ud, &p->cancel);
	pthread_mutex_lock(&p->mu);
	queue_append(p, j);
	if (--p->live == 0)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	wake(p); /* workpool_free joins this thread before it closes the pipe */
	return NULL;
}

/* Starts job j on a thread of its own. 0, or -1 if no thread could be started. */
static int job_start(struct workpool *p, struct item *j)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	if (p->stack_size)
		pthread_attr_setstacksize(&a, p->stack_size);
	pthread_mutex_lock(&p->mu);
	p->live++;
	pthread_mutex_unlock(&p->mu);
	int rc = pthread_create(&j->thread, &a, job_main, j);
	pthread_attr_destroy(&a);
	if (rc != 0) {
		pthread_mutex_lock(&p->mu);
		p->live--;
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	j->anext = p->active;
	p->active = j;
	p->running++;
	return 0;
}

static int slot_free(const struct workpool *p)
{
	return p->max_threads <= 0 || p->running < p->max_threads;
}

static struct item *waiting_pop(struct workpool *p)
{
	struct item *j = p->waiting;
	if (j) {
		p->waiting = j->next;
		if (!p->waiting)
			p->waiting_tail = NULL;
		p->nwaiting--;
		j->next = NULL;
	}
	return j;
}

/* Starts waiting jobs while threads are free. A job whose thread cannot start runs here,
 * on the loop's thread: it was accepted, and nobody is left to refuse it to. */
static void start_waiting(struct workpool *p)
{
	while (p->waiting && !p->stopping && slot_free(p)) {
		struct item *j = waiting_pop(p);
		if (job_start(p, j) == 0)
			continue;
		log_warnx("cannot start a thread for a %s: running it in the loop", p->what);
		j->run(j->ud, &p->cancel);
		j->done(j->ud, 1);
		free(j);
	}
}

static void active_unlink(struct workpool *p, struct item *j)
{
	for (struct item **a = &p->active; *a; a = &(*a)->anext)
		if (*a == j) {
			*a = j->anext;
			p->running--;
			return;
		}
}

/* Delivers a list taken from the queue: a finished job's thread is joined (it has put
 * the job there as its last act) and its done called, a note's function called; with
 * call 0, neither is called. */
static void deliver(struct workpool *p, struct item *it, int call)
{
	while (it) {
		struct item *next = it->next;
		if (it->run) {
			pthread_join(it->thread, NULL);
			active_unlink(p, it);
			if (call)
				it->done(it->ud, 1);
		} else if (call) {
			it->note(it->ud, it->data, it->len);
		}
		free(it);
		it = next;
	}
}

static void on_pipe(struct evloop *loop, int fd, int events, void *ud)
{
	struct workpool *p = ud;
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	deliver(p, queue_take(p), 1);
	start_waiting(p);
}

struct workpool *workpool_new(struct evloop *loop, const struct workpool_opts *o, char *err,
                              size_t errlen)
{
	struct workpool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	int fds[2];
	if (!p || pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "worker pool: %s", strerror(p ? errno : ENOMEM));
		free(p);
		return NULL;
	}
	if (evloop_add_fd(loop, fds[0], EV_READ, on_pipe, p) < 0) {
		snprintf(err, errlen, "worker pool: cannot watch its wake-up pipe");
		close(fds[0]);
		close(fds[1]);
		free(p);
		return NULL;
	}
	p->loop = loop;
	p->pipe_rd = fds[0];
	p->pipe_wr = fds[1];
	p->max_threads = o->max_threads;
	p->max_queued = o->max_queued;
	p->stack_size = o->stack_size;
	p->what = o->what ? o->what : "job";
	pthread_mutex_init(&p->mu, NULL);
	/* the wait at stop is timed on the monotonic clock: setting the date does not move it */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->idle, &ca);
	pthread_condattr_destroy(&ca);
	return p;
}

/* Waits up to wait_ms (-1: for ever) for every thread's run to return; the number still
 * running. */
static int wait_idle(struct workpool *p, long wait_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (wait_ms > 0) {
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&p->mu);
	while (p->live > 0) {
		if (wait_ms < 0)
			pthread_cond_wait(&p->idle, &p->mu);
		else if (pthread_cond_timedwait(&p->idle, &p->mu, &until) == ETIMEDOUT)
			break;
	}
	int left = p->live;
	pthread_mutex_unlock(&p->mu);
	return left;
}

int workpool_free(struct workpool *p, long wait_ms, enum workpool_stop how)
{
	if (!p)
		return 0;
	p->cancel = 1;
	p->stopping = 1; /* nothing starts any more */
	evloop_del_fd(p->loop, p->pipe_rd);
	int left = wait_idle(p, wait_ms);
	if (left > 0) {
		log_warnx("%d %s(s) still running at exit", left, p->what);
		return left;
	}
	/* every thread has put its job in the queue; a done function may post or submit */
	int call = how == WORKPOOL_DELIVER;
	for (;;) {
		struct item *it = queue_take(p);
		if (it) {
			deliver(p, it, call);
			continue;
		}
		struct item *j = waiting_pop(p);
		if (!j)
			break;
		if (call)
			j->done(j->ud, 0);
		free(j);
	}
	close(p->pipe_rd);
	close(p->pipe_wr);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->idle);
	free(p);
	return 0;
}

int workpool_submit(struct workpool *p, workpool_run_fn *run, workpool_done_fn *done, void *ud)
{
	int now = !p->waiting && !p->stopping && slot_free(p);
	if (!now && p->max_queued > 0 && p->nwaiting >= p->max_queued)
		return -1; /* the queue is full */
	struct item *j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	j->p = p;
	j->run = run;
	j->done = done;
	j->ud = ud;
	if (now) {
		if (job_start(p, j) < 0) {
			free(j);
			return -1;
		}
		return 0;
	}
	if (p->waiting_tail)
		p->waiting_tail->next = j;
	else
		p->waiting = j;
	p->waiting_tail = j;
	p->nwaiting++;
	return 0;
}

int workpool_post(struct workpool *p, workpool_note_fn *fn, void *ud, const void *note, size_t len)
{
	struct item *it = malloc(sizeof(*it) + len);
	if (!it)
		return -1;
	memset(it, 0, sizeof(*it));
	it->p = p;
	it->note = fn;
	it->ud = ud;
	it->len = len;
	if (len)
		memcpy(it->data, note, len);
	pthread_mutex_lock(&p->mu);
	queue_append(p, it);
	pthread_mutex_unlock(&p->mu);
	wake(p);
	return 0;
}

int workpool_count(const struct workpool *p)
{
	return p->running + p->nwaiting;
}
