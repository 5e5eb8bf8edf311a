/* test_vmjobs.c - a VM's driver call runs on a worker thread; the VM is busy until its
 * completion has run in the loop, and the loop keeps running meanwhile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "../../agents/hostd/hostd.h"
#include "../../lib/core/evloop.h"

struct job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int release, ran, done, busy_in_done;
};

static void job_run(void *ud)
{
	struct job *j = ud;
	pthread_mutex_lock(&j->mu);
	while (!j->release)
		pthread_cond_wait(&j->cv, &j->mu);
	j->ran = 1;
	pthread_mutex_unlock(&j->mu);
}

static void job_done(struct hostd *h, void *ud)
{
	struct job *j = ud;
	j->done = 1;
	j->busy_in_done = hostd_vm_busy(h, "vm1") != NULL;
}

static void test_busy_until_done(void **state)
{
	struct hostd h;
	memset(&h, 0, sizeof(h));
	h.loop = evloop_new();
	assert_non_null(h.loop);
	assert_int_equal(hostd_vmjobs_start(&h), 0);
	struct job j = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	assert_int_equal(hostd_vmjob_start(&h, "vm1", "vm.create", 512, job_run, job_done, &j), 0);
	assert_string_equal(hostd_vm_busy(&h, "vm1"), "vm.create");
	assert_null(hostd_vm_busy(&h, "vm2"));
	assert_int_equal(hostd_vmjobs_mem(&h), 512);
	/* the loop runs while the call blocks */
	evloop_run_once(h.loop, 20);
	assert_int_equal(j.done, 0);
	assert_non_null(hostd_vm_busy(&h, "vm1"));
	pthread_mutex_lock(&j.mu);
	j.release = 1;
	pthread_cond_signal(&j.cv);
	pthread_mutex_unlock(&j.mu);
	for (int i = 0; i < 500 && !j.done; i++)
		evloop_run_once(h.loop, 20);
	assert_int_equal(j.ran, 1);
	assert_int_equal(j.done, 1);
	assert_int_equal(j.busy_in_done, 0);
	assert_null(hostd_vm_busy(&h, "vm1"));
	assert_int_equal(hostd_vmjobs_mem(&h), 0);
	hostd_vmjobs_stop(&h);
	assert_null(h.vmjobs);
	evloop_free(h.loop);
}

/* At stop, a completion the loop has not delivered yet still runs. */
static void test_stop_delivers(void **state)
{
	struct hostd h;
	memset(&h, 0, sizeof(h));
	h.loop = evloop_new();
	assert_int_equal(hostd_vmjobs_start(&h), 0);
	struct job j = {
	    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .release = 1};
	assert_int_equal(hostd_vmjob_start(&h, "vm1", "vm.destroy", 0, job_run, job_done, &j), 0);
	hostd_vmjobs_stop(&h);
	assert_int_equal(j.ran, 1);
	assert_int_equal(j.done, 1);
	evloop_free(h.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_busy_until_done),
	    cmocka_unit_test(test_stop_delivers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
