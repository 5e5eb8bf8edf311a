/* vmjobs.c - the VM commands' driver calls on worker threads.
 *
 * Creating, destroying, shutting down, pausing a domain can block for many seconds
 * (the xen driver: 26 s for a create in nested Xen). Such a call runs on a thread of
 * the worker pool while the event loop keeps the broker connection alive and answers
 * other commands; its completion runs back in the loop, which answers the command.
 * Each job names its VM: while it runs, the VM is busy (no second operation on it). */
#include "hostd.h"
#include "../../lib/core/workpool.h"

#include "../../lib/core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vmjob {
	struct vmjob *next;
	struct hostd *h;
	char vm[VMC_NAME_MAX + 1];
	char op[VMC_OP_MAX + 1];
	int64_t mem_mb;
	void (*run)(void *ud);
	void (*done)(struct hostd *h, void *ud);
	void *ud;
};

struct vmjobs {
	struct workpool *pool;
	struct vmjob *jobs;
};

static struct vmjobs *vmjobs_of(struct hostd *h)
{
	return h->vmjobs;
}

int hostd_vmjobs_start(struct hostd *h)
{
	const struct workpool_opts wo = {.stack_size = HOSTD_WORKER_STACK, .what = "driver call"};
	char err[VMC_ERR_MAX];
	struct vmjobs *s = calloc(1, sizeof(*s));
	if (!s || !(s->pool = workpool_new(h->loop, &wo, err, sizeof(err)))) {
		if (s)
			log_error("%s", err);
		free(s);
		return -1;
	}
	h->vmjobs = s;
	return 0;
}

/* Unlinks a job. */
static void vmjob_unlink(struct vmjobs *s, struct vmjob *j)
{
	for (struct vmjob **p = &s->jobs; *p; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			return;
		}
	}
}

static void vmjob_run(void *ud, const volatile int *cancel)
{
	struct vmjob *j = ud;
	j->run(j->ud);
}

static void vmjob_done(void *ud, int ran)
{
	struct vmjob *j = ud;
	struct hostd *h = j->h;
	struct vmjobs *s = vmjobs_of(h);
	if (s)
		vmjob_unlink(s, j);
	j->done(h, j->ud);
	free(j);
}

void hostd_vmjobs_stop(struct hostd *h)
{
	struct vmjobs *s = vmjobs_of(h);
	if (!s)
		return;
	if (workpool_free(s->pool, 5000, WORKPOOL_DROP) > 0)
		return; /* driver calls still run: leave them, we are exiting */
	/* every call has returned; the completions the pool had not delivered yet run now,
	 * from our list (the pool dropped them) */
	while (s->jobs) {
		struct vmjob *j = s->jobs;
		s->jobs = j->next;
		j->done(h, j->ud);
		free(j);
	}
	free(s);
	h->vmjobs = NULL;
}

const char *hostd_vm_busy(struct hostd *h, const char *vm)
{
	struct vmjobs *s = vmjobs_of(h);
	for (struct vmjob *j = s ? s->jobs : NULL; j; j = j->next)
		if (strcmp(j->vm, vm) == 0)
			return j->op;
	return NULL;
}

int64_t hostd_vmjobs_mem(struct hostd *h)
{
	struct vmjobs *s = vmjobs_of(h);
	int64_t mb = 0;
	for (struct vmjob *j = s ? s->jobs : NULL; j; j = j->next)
		mb += j->mem_mb;
	return mb;
}

int hostd_vmjob_start(struct hostd *h, const char *vm, const char *op, int64_t mem_mb,
                      void (*run)(void *ud), void (*done)(struct hostd *h, void *ud), void *ud)
{
	struct vmjobs *s = vmjobs_of(h);
	struct vmjob *j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	j->h = h;
	snprintf(j->vm, sizeof(j->vm), "%s", vm);
	snprintf(j->op, sizeof(j->op), "%s", op);
	j->mem_mb = mem_mb;
	j->run = run;
	j->done = done;
	j->ud = ud;
	if (!s || workpool_submit(s->pool, vmjob_run, vmjob_done, j) < 0) {
		/* no thread: the call runs here, as it always could */
		if (s)
			log_warnx("vm %s: %s runs on the event loop (no worker thread)", vm, op);
		run(ud);
		done(h, ud);
		free(j);
		return 0;
	}
	j->next = s->jobs;
	s->jobs = j;
	return 0;
}
