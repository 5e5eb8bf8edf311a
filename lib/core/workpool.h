/* workpool.h - blocking work (driver calls, downloads, disk copies) on threads, its
 * completion handed back to the event loop's thread, where every other piece of state
 * lives.
 *
 * A job's run function runs on a thread of its own; when it returns, its done function
 * runs on the loop's thread. While it runs it may post notes (progress): each note is
 * copied, and delivered on the loop's thread in the order posted, before the job's done.
 * A pipe wakes the loop. At most max_threads jobs run at once; the others wait their
 * turn, at most max_queued of them. Stopping cancels (the run functions see *cancel
 * become non-zero), waits for the running jobs and either delivers what is left or drops
 * it, as the caller says.
 *
 *   struct workpool_opts o = {.max_threads = 4};
 *   struct workpool *p = workpool_new(loop, &o, err, sizeof err);
 *   workpool_submit(p, fetch_run, fetch_done, op);
 *   ...
 *   workpool_free(p, -1, WORKPOOL_DELIVER);
 */
#ifndef VMC_WORKPOOL_H
#define VMC_WORKPOOL_H

#include <stddef.h>

struct evloop;
struct workpool;

/* On the job's thread; *cancel becomes non-zero when the pool stops. */
typedef void workpool_run_fn(void *ud, const volatile int *cancel);
/* On the loop's thread. ran is 0 if the job never started (the pool stopped first). */
typedef void workpool_done_fn(void *ud, int ran);
/* On the loop's thread: a note, len bytes, as posted (the pool frees it after). */
typedef void workpool_note_fn(void *ud, const void *note, size_t len);

struct workpool_opts {
	int max_threads;   /* jobs running at once; 0: no limit (a thread for each job) */
	int max_queued;    /* jobs waiting for a thread; 0: no limit */
	size_t stack_size; /* of each thread; 0: the system's default */
	const char *what;  /* what the jobs are, for the log: "driver call"; NULL: "job" */
};

/* What workpool_free does with what the jobs left: finished jobs' done functions and
 * notes not yet delivered, and jobs that never started. */
enum workpool_stop {
	WORKPOOL_DELIVER, /* delivered in order; a job that never started gets done(ud, 0) */
	WORKPOOL_DROP,    /* none of them runs: the caller is tearing down what they touch */
};

/* NULL with err on failure (no pipe, no memory, the loop's table full). */
struct workpool *workpool_new(struct evloop *loop, const struct workpool_opts *o, char *err,
                              size_t errlen);

/* Cancels, waits up to wait_ms (0: not at all; -1: as long as it takes) for the running
 * jobs, then deals with the rest as `how` says and frees the pool: returns 0. If jobs
 * still run after wait_ms, returns how many, delivers nothing and leaves the pool to them
 * (the process is exiting; a later call may wait again). Call it on the loop's thread,
 * not from one of the pool's callbacks; the done functions it runs may submit (such jobs
 * never start: done(ud, 0)). */
int workpool_free(struct workpool *p, long wait_ms, enum workpool_stop how);

/* Queues a job: it starts at once if a thread is free, else when one is. Returns 0, or
 * -1 if it cannot be taken (no memory, the queue full, no thread could be started): then
 * nothing runs and done is not called. */
int workpool_submit(struct workpool *p, workpool_run_fn *run, workpool_done_fn *done, void *ud);

/* From any thread: delivers fn(ud, copy of note) on the loop's thread. Returns 0, or -1
 * if out of memory. */
int workpool_post(struct workpool *p, workpool_note_fn *fn, void *ud, const void *note, size_t len);

/* Jobs running or waiting (loop thread). */
int workpool_count(const struct workpool *p);

#endif
