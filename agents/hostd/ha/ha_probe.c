/* ha_probe.c - the direct check between host agents, not through the broker: a TCP
 * connection to the peer's migration channel port. The channel speaks TLS 1.3, whose
 * server says nothing until the client's hello, so an accepted connection is the
 * answer: something listens where the peer's agent listens. Blocking; runs on a worker
 * thread.
 *
 * The check errs on the safe side: an answer that is forged or comes from another
 * program can only make a host look alive, which prevents a restart, never causes one;
 * only a refused or unanswered connection counts as a second sign of death. */
#include "ha.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int probe_connect(const char *addr, int64_t deadline)
{
	char host[96];
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host))
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return -1;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int64_t left = deadline - ha_mono_ms();
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int ha_probe(const char *addr, const char *name, long timeout_ms)
{
	(void)name; /* a TLS server does not name itself before the client speaks */
	int fd = probe_connect(addr, ha_mono_ms() + timeout_ms);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}
