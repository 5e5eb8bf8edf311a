/* jobs.h - blocking work (downloads, hashing, disk copies) on worker threads, with its
 * results handed back to the event loop's thread.
 *
 * A job's run function runs on its own thread; when it returns, its done function runs on
 * the loop's thread. While it runs it may post notes (progress) that are delivered on the
 * loop's thread too. At most max_threads jobs run at once; the others wait their turn. */
#ifndef VMC_JOBS_H
#define VMC_JOBS_H

#include <stddef.h>

struct evloop;
struct jobs;

/* On the worker thread; cancel becomes non-zero when confd stops. */
typedef void jobs_run_fn(void *ud, const volatile int *cancel);
/* On the loop thread. ran is 0 if the job never started (confd stopped first). */
typedef void jobs_done_fn(void *ud, int ran);
/* On the loop thread: a note posted by jobs_post. */
typedef void jobs_note_fn(void *ud, void *note);

/* Returns NULL with err on failure. */
struct jobs *jobs_new(struct evloop *loop, int max_threads, char *err, size_t errlen);
/* Cancels, waits for every running job, delivers what is left (done with ran = 0 for jobs
 * that never started), and frees. */
void jobs_free(struct jobs *js);
/* Queues a job. Returns 0, or -1 if out of memory. */
int jobs_start(struct jobs *js, jobs_run_fn *run, jobs_done_fn *done, void *ud);
/* From any thread: delivers fn(ud, note) on the loop thread. Returns 0 or -1. */
int jobs_post(struct jobs *js, jobs_note_fn *fn, void *ud, void *note);
/* Jobs running or waiting. */
int jobs_count(const struct jobs *js);

#endif
