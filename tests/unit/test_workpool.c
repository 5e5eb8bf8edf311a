/* test_workpool.c - the worker pool: jobs on threads, completions and notes on the loop's
 * thread, the queue limit, and stopping with jobs queued, running or finished. No test
 * waits on the clock: threads are held and released with semaphores. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <time.h>

#include "../../lib/core/evloop.h"
#include "../../lib/core/workpool.h"

#define JOBS 8

/* What the jobs and callbacks saw; one per test. */
struct rec {
	struct workpool *p;
	pthread_t loop_thread;
	sem_t gate;    /* a held job waits here */
	sem_t started; /* posted by each job as it starts */
	int done[JOBS], ran[JOBS], order[JOBS], ndone;
	int on_loop;  /* callbacks that ran on the loop's thread */
	int off_loop; /* jobs that ran on a thread of their own */
	int saw_cancel[JOBS];
	int notes[16], nnotes;
	int done_before_notes;
	int post_failed;
	pthread_mutex_t mu;
};

/* A job: its index and its rec. */
struct job {
	struct rec *r;
	int i;
	int hold;  /* wait at the gate */
	int spin;  /* wait until cancelled */
	int posts; /* notes to post */
};

static struct rec *rec_new(void)
{
	static struct rec r;
	memset(&r, 0, sizeof(r));
	r.loop_thread = pthread_self();
	sem_init(&r.gate, 0, 0);
	sem_init(&r.started, 0, 0);
	pthread_mutex_init(&r.mu, NULL);
	return &r;
}

static void rec_free(struct rec *r)
{
	sem_destroy(&r->gate);
	sem_destroy(&r->started);
	pthread_mutex_destroy(&r->mu);
}

static void on_note(void *ud, const void *note, size_t len)
{
	struct rec *r = ud;
	assert_int_equal(len, sizeof(int));
	if (pthread_equal(pthread_self(), r->loop_thread))
		r->on_loop++;
	if (r->nnotes < 16)
		memcpy(&r->notes[r->nnotes++], note, sizeof(int));
	if (r->ndone > 0)
		r->done_before_notes = 1;
}

static void job_run(void *ud, const volatile int *cancel)
{
	struct job *j = ud;
	struct rec *r = j->r;
	sem_post(&r->started);
	if (!pthread_equal(pthread_self(), r->loop_thread)) {
		pthread_mutex_lock(&r->mu);
		r->off_loop++;
		pthread_mutex_unlock(&r->mu);
	}
	for (int k = 0; k < j->posts; k++) {
		int v = j->i * 100 + k; /* the pool copies it */
		if (workpool_post(r->p, on_note, r, &v, sizeof(v)) < 0)
			r->post_failed =
			    1; /* checked on the loop's thread (cmocka is not thread-safe) */
	}
	if (j->hold)
		sem_wait(&r->gate);
	while (j->spin && !*cancel) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL); /* polls the flag: no assertion on time */
	}
	r->saw_cancel[j->i] = *cancel != 0;
}

static void job_done(void *ud, int ran)
{
	struct job *j = ud;
	struct rec *r = j->r;
	if (pthread_equal(pthread_self(), r->loop_thread))
		r->on_loop++;
	r->done[j->i]++;
	r->ran[j->i] = ran;
	r->order[r->ndone++] = j->i;
}

/* Runs the loop until n jobs are done. */
static void loop_until(struct evloop *loop, struct rec *r, int n)
{
	while (r->ndone < n)
		evloop_run_once(loop, -1);
}

static struct workpool *pool_new(struct evloop *loop, int max_threads, int max_queued)
{
	char err[256];
	struct workpool_opts o = {.max_threads = max_threads,
	                          .max_queued = max_queued,
	                          .stack_size = 256 * 1024,
	                          .what = "test job"};
	struct workpool *p = workpool_new(loop, &o, err, sizeof(err));
	assert_non_null(p);
	return p;
}

static void test_submit(void **state)
{
	struct evloop *loop = evloop_new();
	struct rec *r = rec_new();
	r->p = pool_new(loop, 2, 0);
	struct job jobs[5];
	for (int i = 0; i < 5; i++) {
		jobs[i] = (struct job){r, i, 0, 0, 0};
		assert_int_equal(workpool_submit(r->p, job_run, job_done, &jobs[i]), 0);
	}
	/* 2 at once, 3 waiting; none delivered before the loop runs */
	assert_int_equal(workpool_count(r->p), 5);
	assert_int_equal(r->ndone, 0);
	loop_until(loop, r, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r->done[i], 1);
		assert_int_equal(r->ran[i], 1);
		assert_int_equal(r->saw_cancel[i], 0);
	}
	assert_int_equal(r->on_loop, 5);
	assert_int_equal(r->off_loop, 5);
	assert_int_equal(workpool_count(r->p), 0);
	assert_int_equal(workpool_free(r->p, -1, WORKPOOL_DELIVER), 0);
	assert_int_equal(r->ndone, 5); /* nothing twice */
	rec_free(r);
	evloop_free(loop);
}

static void test_notes_before_done(void **state)
{
	struct evloop *loop = evloop_new();
	struct rec *r = rec_new();
	r->p = pool_new(loop, 0, 0);
	struct job j = {r, 3, 0, 0, 4};
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &j), 0);
	loop_until(loop, r, 1);
	assert_int_equal(r->post_failed, 0);
	assert_int_equal(r->nnotes, 4);
	for (int k = 0; k < 4; k++)
		assert_int_equal(r->notes[k], 300 + k);
	assert_int_equal(r->done_before_notes, 0);
	assert_int_equal(r->on_loop, 5);
	assert_int_equal(workpool_free(r->p, -1, WORKPOOL_DELIVER), 0);
	rec_free(r);
	evloop_free(loop);
}

static void test_queue_full(void **state)
{
	struct evloop *loop = evloop_new();
	struct rec *r = rec_new();
	r->p = pool_new(loop, 1, 1);
	struct job a = {r, 0, 1, 0, 0}, b = {r, 1, 0, 0, 0}, c = {r, 2, 0, 0, 0};
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &a), 0);  /* runs */
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &b), 0);  /* waits */
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &c), -1); /* full */
	assert_int_equal(workpool_count(r->p), 2);
	sem_wait(&r->started); /* a runs, b waits for its thread */
	sem_post(&r->gate);
	loop_until(loop, r, 2);
	assert_int_equal(r->order[0], 0);
	assert_int_equal(r->order[1], 1);
	assert_int_equal(r->done[2], 0); /* refused: never called */
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &c), 0);
	loop_until(loop, r, 3);
	assert_int_equal(r->done[2], 1);
	assert_int_equal(workpool_free(r->p, -1, WORKPOOL_DELIVER), 0);
	rec_free(r);
	evloop_free(loop);
}

/* A done that submits while the pool stops: that job never starts. */
static struct job late;
static void job_done_submits(void *ud, int ran)
{
	struct job *j = ud;
	job_done(ud, ran);
	late = (struct job){j->r, 7, 0, 0, 0};
	assert_int_equal(workpool_submit(j->r->p, job_run, job_done, &late), 0);
}

static void test_stop_deliver(void **state)
{
	struct evloop *loop = evloop_new();
	struct rec *r = rec_new();
	r->p = pool_new(loop, 1, 0);
	struct job a = {r, 0, 0, 1, 1}, b = {r, 1, 0, 0, 0}, c = {r, 2, 0, 0, 0};
	assert_int_equal(workpool_submit(r->p, job_run, job_done_submits, &a), 0);
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &b), 0);
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &c), 0);
	sem_wait(&r->started);
	/* a runs until cancelled; b and c wait: stopping cancels a and waits for it,
	 * delivers its note and done, then b, c and the job a's done submitted never run */
	assert_int_equal(workpool_free(r->p, -1, WORKPOOL_DELIVER), 0);
	assert_int_equal(r->ndone, 4);
	assert_int_equal(r->order[0], 0);
	assert_int_equal(r->ran[0], 1);
	assert_int_equal(r->saw_cancel[0], 1);
	assert_int_equal(r->nnotes, 1);
	assert_int_equal(r->done_before_notes, 0);
	assert_int_equal(r->order[1], 1);
	assert_int_equal(r->order[2], 2);
	assert_int_equal(r->order[3], 7);
	assert_int_equal(r->ran[1] + r->ran[2] + r->ran[7], 0);
	assert_int_equal(r->off_loop, 1);
	assert_int_equal(r->on_loop, 5);
	rec_free(r);
	evloop_free(loop);
}

static void test_stop_drop(void **state)
{
	struct evloop *loop = evloop_new();
	struct rec *r = rec_new();
	r->p = pool_new(loop, 0, 0);
	struct job a = {r, 0, 0, 0, 2}, b = {r, 1, 1, 0, 0};
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &a), 0);
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &b), 0);
	sem_wait(&r->started);
	sem_wait(&r->started);
	sem_post(&r->gate);
	/* both finish; their notes and completions are queued, and dropped (ASan: freed) */
	assert_int_equal(workpool_free(r->p, -1, WORKPOOL_DROP), 0);
	assert_int_equal(r->ndone, 0);
	assert_int_equal(r->nnotes, 0);
	assert_int_equal(r->off_loop, 2);
	rec_free(r);
	evloop_free(loop);
}

static void test_stop_still_running(void **state)
{
	struct evloop *loop = evloop_new();
	struct rec *r = rec_new();
	struct workpool *left = r->p = pool_new(loop, 0, 0);
	struct job a = {r, 0, 1, 0, 0};
	assert_int_equal(workpool_submit(r->p, job_run, job_done, &a), 0);
	sem_wait(&r->started);
	/* held at the gate: no wait at all leaves the pool to it */
	assert_int_equal(workpool_free(left, 0, WORKPOOL_DROP), 1);
	sem_post(&r->gate);
	/* a later call waits for it and frees the pool */
	assert_int_equal(workpool_free(left, -1, WORKPOOL_DROP), 0);
	assert_int_equal(r->ndone, 0);
	assert_int_equal(r->saw_cancel[0], 1);
	rec_free(r);
	evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_submit),     cmocka_unit_test(test_notes_before_done),
	    cmocka_unit_test(test_queue_full), cmocka_unit_test(test_stop_deliver),
	    cmocka_unit_test(test_stop_drop),  cmocka_unit_test(test_stop_still_running),
	};
	return cmocka_run_group_tests_name("workpool", tests, NULL, NULL);
}
