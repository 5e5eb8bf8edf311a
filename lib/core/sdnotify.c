/* sdnotify.c - sd_notify(3) in a few lines: a datagram to $NOTIFY_SOCKET. */
#include "sdnotify.h"

#include "evloop.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sdnotify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	/* a path, or '@' for Linux's abstract namespace */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 1;
}

int sdnotify_sendf(const char *fmt, ...)
{
	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return sdnotify_send(buf);
}

long sdnotify_watchdog_ms(void)
{
	const char *pid = getenv("WATCHDOG_PID"), *usec = getenv("WATCHDOG_USEC");
	if (!usec)
		return 0;
	char *end;
	if (pid && (strtol(pid, &end, 10) != (long)getpid() || *end))
		return 0;
	unsigned long long us = strtoull(usec, &end, 10);
	if (*end || us == 0)
		return 0;
	long ms = (long)(us / 2000);
	return ms > 0 ? ms : 1;
}

static long watchdog_tick(struct evloop *loop, long long id, void *ud)
{
	sdnotify_send("WATCHDOG=1");
	return sdnotify_watchdog_ms();
}

int sdnotify_watchdog_start(struct evloop *loop)
{
	long ms = sdnotify_watchdog_ms();
	if (ms <= 0)
		return 0;
	sdnotify_send("WATCHDOG=1");
	return evloop_add_timer(loop, ms, watchdog_tick, NULL) > 0 ? 0 : -1;
}
