/* sdnotify.h - the systemd service manager's notification protocol (sd_notify(3)),
 * without libsystemd: one datagram to the socket named by $NOTIFY_SOCKET.
 *
 * Outside systemd (no $NOTIFY_SOCKET) every call does nothing and costs nothing;
 * without WatchdogSec= no timer is added, so an idle agent does not wake up. */
#ifndef VMC_SDNOTIFY_H
#define VMC_SDNOTIFY_H

struct evloop;

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...", lines joined by '\n') to the
 * service manager. Returns 1 if sent, 0 if not run by one, -1 if sending failed. */
int sdnotify_send(const char *state);
/* Like sdnotify_send, with a printf format. */
int sdnotify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog keep-alive period in ms: half of $WATCHDOG_USEC when it is set for this
 * process ($WATCHDOG_PID unset or ours); 0 when no watchdog is asked for. */
long sdnotify_watchdog_ms(void);

/* Adds a timer to loop that sends WATCHDOG=1 every sdnotify_watchdog_ms(), so a loop that
 * stops turning gets the service restarted. Does nothing without a watchdog. Returns 0,
 * or -1 if the timer could not be added. */
int sdnotify_watchdog_start(struct evloop *loop);

#endif
