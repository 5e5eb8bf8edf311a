/* statelock.h - one host agent per state directory.
 *
 * The agent holds an flock(2) on STATE-DIR/hostd.lock, which records its pid,
 * for as long as it runs. A restart issued right after a stop finds the old
 * agent still going offline: it waits for it, a bounded time, and otherwise
 * names the process that holds the directory. */
#ifndef VMC_STATELOCK_H
#define VMC_STATELOCK_H

#include <stddef.h>

#define STATELOCK_FILE "hostd.lock"
#define STATELOCK_WAIT_MS 10000

/* Takes the lock of dir, waiting up to wait_ms for a holder to let go (saying so in the log).
 * Returns the lock's file descriptor (kept open while the agent runs), or -1 with err naming
 * the holding process. */
int statelock_take(const char *dir, long wait_ms, char *err, size_t errlen);

#endif
