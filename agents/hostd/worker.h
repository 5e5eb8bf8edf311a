/* worker.h - blocking work on threads, with results delivered in the event loop.
 *
 * Driver calls that block (a migration stream, a commit) run on a thread of their
 * own; when one finishes, its done callback runs in the agent's event loop, where
 * every other piece of state lives. Threads may also post small messages (progress)
 * that are delivered in the loop in order, before the job's done callback. */
#ifndef VMC_WORKER_H
#define VMC_WORKER_H

#include <stdint.h>

struct evloop;
struct worker_pool;

typedef void worker_fn(void *ud);
typedef void worker_msg_fn(void *ud, const uint64_t v[3]);

/* NULL on failure (no pipe, no memory). */
struct worker_pool *worker_new(struct evloop *loop);
/* Waits up to wait_ms for running jobs (their done callbacks are not run), then frees
 * the pool and returns 0; if jobs still run, returns how many and leaves the pool to
 * them (the process is exiting). */
int worker_free(struct worker_pool *p, long wait_ms);

/* Runs fn(ud) on a new thread, then done(ud) in the loop. Returns 0, or -1 if no thread
 * could be started (nothing runs then). */
int worker_run(struct worker_pool *p, worker_fn *fn, worker_fn *done, void *ud);
/* From any thread: runs fn(ud, v) in the loop. Returns 0 or -1 (out of memory). */
int worker_post(struct worker_pool *p, worker_msg_fn *fn, void *ud, uint64_t a, uint64_t b,
                uint64_t c);
/* Jobs running now. */
int worker_running(struct worker_pool *p);

#endif
