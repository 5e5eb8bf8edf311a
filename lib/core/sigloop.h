/* sigloop.h - an agent's signals through its event loop: SIGTERM and SIGINT stop the loop,
 * SIGHUP asks the agent to read its settings again, SIGPIPE is ignored. The consoles,
 * whose signals mean other things, install their handlers with sigloop_install.
 *
 * The handler only sets a flag and writes a byte into a pipe the loop watches, so that a
 * loop waiting without a timeout wakes at once; the agent's hook, before the next poll,
 * acts on the flags. The flags are the process's: one loop a process. */
#ifndef VMC_SIGLOOP_H
#define VMC_SIGLOOP_H

#include <stddef.h>

#include "evloop.h"

/* Catches the signals and adds hook(loop, ud) before each poll of loop (the hook calls
 * sigloop_check). Returns 0, or -1 with err. */
int sigloop_start(struct evloop *loop, evloop_hook_fn *hook, void *ud, char *err, size_t errlen);
/* For the hook: stops loop once SIGTERM or SIGINT came; otherwise 1 (once a SIGHUP) when a
 * SIGHUP came since the last call, the agent then reloading, else 0. */
int sigloop_check(struct evloop *loop);
/* The signal that stopped the loop, or 0. */
int sigloop_caught(void);

/* Sets handler (or SIG_IGN) for each signal of sigs, a list ended by 0, with no flags (a
 * system call the signal interrupts fails with EINTR): how every program installs its
 * handlers, sigloop_start's included. */
void sigloop_install(void (*handler)(int), const int *sigs);

#endif
