/* jobs.c - worker threads and a wake-up pipe into the event loop (see jobs.h). */
#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"

struct job {
	struct jobs *js;
	jobs_run_fn *run;
	jobs_done_fn *done;
	void *ud;
	pthread_t thread;
	int joined;
	struct job *next;
};

/* Something to run on the loop thread. fn NULL: job j has finished. */
struct note {
	jobs_note_fn *fn;
	void *ud, *arg;
	struct job *j;
	struct note *next;
};

struct jobs {
	struct evloop *loop;
	int pipe_rd, pipe_wr;
	int max_threads, running;
	volatile int cancel;
	pthread_mutex_t lock; /* guards notes */
	struct note *notes, *notes_tail;
	struct job *waiting, *waiting_tail; /* loop thread only */
	struct job *active;                 /* loop thread only */
	int count;
};

static void push_note(struct jobs *js, struct note *n)
{
	pthread_mutex_lock(&js->lock);
	if (js->notes_tail)
		js->notes_tail->next = n;
	else
		js->notes = n;
	js->notes_tail = n;
	pthread_mutex_unlock(&js->lock);
	char b = 1;
	while (write(js->pipe_wr, &b, 1) < 0 && errno == EINTR)
		;
	/* EAGAIN: the pipe is full, so a wake-up is already pending */
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	j->run(j->ud, &j->js->cancel);
	struct note *n = calloc(1, sizeof *n);
	if (!n) {
		log_error("out of memory finishing a job");
		abort(); /* cannot tell the loop: better to stop than to hang a command */
	}
	n->j = j;
	push_note(j->js, n);
	return NULL;
}

static void unlink_active(struct jobs *js, struct job *j)
{
	for (struct job **p = &js->active; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			return;
		}
}

static void start_waiting(struct jobs *js)
{
	while (js->waiting && js->running < js->max_threads && !js->cancel) {
		struct job *j = js->waiting;
		js->waiting = j->next;
		if (!js->waiting)
			js->waiting_tail = NULL;
		j->next = js->active;
		js->active = j;
		if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
			log_warnx("cannot start a worker thread; running the job inline");
			j->run(j->ud, &js->cancel);
			unlink_active(js, j);
			js->count--;
			j->done(j->ud, 1);
			free(j);
			continue;
		}
		js->running++;
	}
}

static void deliver(struct jobs *js)
{
	pthread_mutex_lock(&js->lock);
	struct note *n = js->notes;
	js->notes = js->notes_tail = NULL;
	pthread_mutex_unlock(&js->lock);
	while (n) {
		struct note *next = n->next;
		if (n->fn) {
			n->fn(n->ud, n->arg);
		} else {
			struct job *j = n->j;
			if (!j->joined)
				pthread_join(j->thread, NULL);
			unlink_active(js, j);
			js->running--;
			js->count--;
			j->done(j->ud, 1);
			free(j);
		}
		free(n);
		n = next;
	}
	start_waiting(js);
}

static void on_pipe(struct evloop *loop, int fd, int events, void *ud)
{
	char buf[256];
	while (read(fd, buf, sizeof buf) > 0)
		;
	deliver(ud);
}

struct jobs *jobs_new(struct evloop *loop, int max_threads, char *err, size_t errlen)
{
	struct jobs *js = calloc(1, sizeof *js);
	int p[2];
	if (!js || pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "jobs: %s", strerror(errno));
		free(js);
		return NULL;
	}
	js->loop = loop;
	js->pipe_rd = p[0];
	js->pipe_wr = p[1];
	js->max_threads = max_threads > 0 ? max_threads : 4;
	pthread_mutex_init(&js->lock, NULL);
	if (evloop_add_fd(loop, js->pipe_rd, EV_READ, on_pipe, js) < 0) {
		snprintf(err, errlen, "jobs: cannot watch the wake-up pipe");
		close(p[0]);
		close(p[1]);
		pthread_mutex_destroy(&js->lock);
		free(js);
		return NULL;
	}
	return js;
}

void jobs_free(struct jobs *js)
{
	if (!js)
		return;
	js->cancel = 1;
	for (struct job *j = js->active; j; j = j->next) {
		pthread_join(j->thread, NULL);
		j->joined = 1;
	}
	deliver(js); /* every finished job's done runs; nothing new starts */
	while (js->waiting) {
		struct job *j = js->waiting;
		js->waiting = j->next;
		js->count--;
		j->done(j->ud, 0);
		free(j);
	}
	evloop_del_fd(js->loop, js->pipe_rd);
	close(js->pipe_rd);
	close(js->pipe_wr);
	pthread_mutex_destroy(&js->lock);
	free(js);
}

int jobs_start(struct jobs *js, jobs_run_fn *run, jobs_done_fn *done, void *ud)
{
	struct job *j = calloc(1, sizeof *j);
	if (!j)
		return -1;
	j->js = js;
	j->run = run;
	j->done = done;
	j->ud = ud;
	if (js->waiting_tail)
		js->waiting_tail->next = j;
	else
		js->waiting = j;
	js->waiting_tail = j;
	js->count++;
	start_waiting(js);
	return 0;
}

int jobs_post(struct jobs *js, jobs_note_fn *fn, void *ud, void *note)
{
	struct note *n = calloc(1, sizeof *n);
	if (!n)
		return -1;
	n->fn = fn;
	n->ud = ud;
	n->arg = note;
	push_note(js, n);
	return 0;
}

int jobs_count(const struct jobs *js)
{
	return js->count;
}
