/* sigloop.c - an agent's signals through its event loop (sigloop.h). */
#include "sigloop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got_signal, got_hup;
static int signal_pipe = -1; /* written by on_signal: wakes a loop that waits unbounded */

static void on_signal(int sig)
{
	int e = errno;
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_signal = sig;
	if (signal_pipe >= 0 && write(signal_pipe, "", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
	errno = e;
}

/* Empties the signal pipe; the agent's hook, before the next poll, acts on the flags. */
static void on_signal_pipe(struct evloop *loop, int fd, int events, void *ud)
{
	char buf[64];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int sigloop_start(struct evloop *loop, evloop_hook_fn *hook, void *ud, char *err, size_t errlen)
{
	int sp[2];
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "signal pipe: %s", strerror(errno));
		return -1;
	}
	if (evloop_add_fd(loop, sp[0], EV_READ, on_signal_pipe, NULL) < 0 ||
	    evloop_add_before_poll(loop, hook, ud) < 0) {
		evloop_del_fd(loop, sp[0]);
		close(sp[0]);
		close(sp[1]);
		snprintf(err, errlen, "signal pipe: out of memory");
		return -1;
	}
	signal_pipe = sp[1];
	sigloop_install(on_signal, (const int[]){SIGTERM, SIGINT, SIGHUP, 0});
	sigloop_install(SIG_IGN, (const int[]){SIGPIPE, 0});
	return 0;
}

void sigloop_install(void (*handler)(int), const int *sigs)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	for (; *sigs; sigs++)
		sigaction(*sigs, &sa, NULL);
}

int sigloop_check(struct evloop *loop)
{
	if (got_signal) {
		evloop_stop(loop);
		return 0;
	}
	if (!got_hup)
		return 0;
	got_hup = 0;
	return 1;
}

int sigloop_caught(void)
{
	return (int)got_signal;
}
