/* worker.c - one thread per blocking job; completions through a self-pipe. */
#include "worker.h"

#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKER_STACK (1u << 20)

struct worker_item {
	struct worker_item *next;
	worker_fn *done;    /* a job's completion, or */
	worker_msg_fn *msg; /* a message */
	void *ud;
	uint64_t v[3];
};

struct worker_pool {
	struct evloop *loop;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	int pipe_rd, pipe_wr;
	struct worker_item *head, *tail;
	int running;
};

struct worker_job {
	struct worker_pool *p;
	worker_fn *fn;
	worker_fn *done;
	void *ud;
};

/* Queues an item and wakes the loop; with the lock not held. */
static void worker_push(struct worker_pool *p, struct worker_item *it)
{
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	pthread_mutex_unlock(&p->mu);
	char b = 1;
	/* a full pipe already holds a wake-up */
	while (write(p->pipe_wr, &b, 1) < 0 && errno == EINTR)
		;
}

static void worker_drain(struct evloop *loop, int fd, int ev, void *ud)
{
	struct worker_pool *p = ud;
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	struct worker_item *it = p->head;
	p->head = p->tail = NULL;
	pthread_mutex_unlock(&p->mu);
	while (it) {
		struct worker_item *next = it->next;
		if (it->done)
			it->done(it->ud);
		else
			it->msg(it->ud, it->v);
		free(it);
		it = next;
	}
}

struct worker_pool *worker_new(struct evloop *loop)
{
	struct worker_pool *p = calloc(1, sizeof(*p));
	int fds[2];
	if (!p || pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(p);
		return NULL;
	}
	p->loop = loop;
	p->pipe_rd = fds[0];
	p->pipe_wr = fds[1];
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->idle, NULL);
	evloop_add_fd(loop, p->pipe_rd, EV_READ, worker_drain, p);
	return p;
}

int worker_free(struct worker_pool *p, long wait_ms)
{
	if (!p)
		return 0;
	evloop_del_fd(p->loop, p->pipe_rd);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (p->running > 0)
		if (pthread_cond_timedwait(&p->idle, &p->mu, &until) == ETIMEDOUT)
			break;
	int left = p->running;
	struct worker_item *it = p->head;
	p->head = p->tail = NULL;
	pthread_mutex_unlock(&p->mu);
	while (it) {
		struct worker_item *next = it->next;
		free(it);
		it = next;
	}
	if (left > 0) {
		log_warnx("%d driver call(s) still running at exit", left);
		return left;
	}
	close(p->pipe_rd);
	close(p->pipe_wr);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->idle);
	free(p);
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker_job *j = arg;
	struct worker_pool *p = j->p;
	j->fn(j->ud);
	struct worker_item *it = calloc(1, sizeof(*it));
	if (it) {
		it->done = j->done;
		it->ud = j->ud;
		worker_push(p, it);
	} else {
		log_error("out of memory: a driver call's completion is lost");
	}
	free(j);
	pthread_mutex_lock(&p->mu);
	if (--p->running == 0)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int worker_run(struct worker_pool *p, worker_fn *fn, worker_fn *done, void *ud)
{
	struct worker_job *j = malloc(sizeof(*j));
	if (!j)
		return -1;
	*j = (struct worker_job){p, fn, done, ud};
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, WORKER_STACK);
	pthread_mutex_lock(&p->mu);
	p->running++;
	pthread_mutex_unlock(&p->mu);
	pthread_t t;
	int rc = pthread_create(&t, &a, worker_main, j);
	pthread_attr_destroy(&a);
	if (rc != 0) {
		pthread_mutex_lock(&p->mu);
		p->running--;
		pthread_mutex_unlock(&p->mu);
		free(j);
		return -1;
	}
	return 0;
}

int worker_post(struct worker_pool *p, worker_msg_fn *fn, void *ud, uint64_t a, uint64_t b,
                uint64_t c)
{
	struct worker_item *it = calloc(1, sizeof(*it));
	if (!it)
		return -1;
	it->msg = fn;
	it->ud = ud;
	it->v[0] = a;
	it->v[1] = b;
	it->v[2] = c;
	worker_push(p, it);
	return 0;
}

int worker_running(struct worker_pool *p)
{
	pthread_mutex_lock(&p->mu);
	int n = p->running;
	pthread_mutex_unlock(&p->mu);
	return n;
}
