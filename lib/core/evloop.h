/* evloop.h - a small poll(2) event loop: file descriptors and timers.
 *
 * Modelled on Redis' ae.c. One loop per daemon; everything that waits
 * (the MQTT socket, migration sockets, timers) waits here. Timer callbacks
 * return the delay in ms until they should run again, or -1 to stop. */
#ifndef VMC_EVLOOP_H
#define VMC_EVLOOP_H

#include <stdint.h>

#define EV_READ 1
#define EV_WRITE 2

struct evloop;

typedef void evloop_fd_fn(struct evloop *loop, int fd, int events, void *ud);
typedef long evloop_timer_fn(struct evloop *loop, long long id, void *ud);
typedef void evloop_hook_fn(struct evloop *loop, void *ud);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *loop);

/* Watches fd for events (EV_READ|EV_WRITE); replaces an earlier watch of the same fd.
 * Returns 0, or -1 if the table is full. */
int evloop_add_fd(struct evloop *loop, int fd, int events, evloop_fd_fn *fn, void *ud);
/* Changes the events of a watched fd; no-op for an unknown fd. */
void evloop_set_fd_events(struct evloop *loop, int fd, int events);
void evloop_del_fd(struct evloop *loop, int fd);

/* Runs fn after ms milliseconds; returns the timer id (> 0). */
long long evloop_add_timer(struct evloop *loop, long ms, evloop_timer_fn *fn, void *ud);
void evloop_del_timer(struct evloop *loop, long long id);

/* Runs fn before every poll(2): the place to recompute which events an fd wants. */
int evloop_add_before_poll(struct evloop *loop, evloop_hook_fn *fn, void *ud);
void evloop_del_before_poll(struct evloop *loop, evloop_hook_fn *fn, void *ud);

/* Runs one iteration, waiting at most max_wait_ms (-1: until something happens). */
int evloop_run_once(struct evloop *loop, long max_wait_ms);
/* Runs until evloop_stop(). Returns 0. */
int evloop_run(struct evloop *loop);
void evloop_stop(struct evloop *loop);
int evloop_stopped(const struct evloop *loop);

/* Monotonic milliseconds, and wall-clock milliseconds since the epoch. */
int64_t evloop_mono_ms(void);
int64_t evloop_wall_ms(void);

#endif
