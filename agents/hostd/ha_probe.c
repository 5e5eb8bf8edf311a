/* ha_probe.c - the direct check between host agents, not through the broker: a TCP
 * connection to a peer's migration channel, which must greet with the channel's HELLO
 * frame naming that host (lib/chanwire.h). Blocking; runs on a worker thread.
 *
 * The check errs on the safe side: an answer that is forged or comes from the wrong
 * agent can only make a host look alive, which prevents a restart, never causes one. */
#include "ha.h"

#include "../../lib/chanwire.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads exactly len bytes before deadline (monotonic ms). 0 or -1. */
static int probe_read(int fd, unsigned char *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		int64_t left = deadline - ha_mono_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0) {
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

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
	int64_t deadline = ha_mono_ms() + timeout_ms;
	int fd = probe_connect(addr, deadline);
	if (fd < 0)
		return 0;
	unsigned char hdr[CHW_HDR_LEN], body[CHW_HELLO_MAX];
	int type, alive = 0;
	uint32_t len;
	char err[128];
	if (probe_read(fd, hdr, sizeof(hdr), deadline) == 0 &&
	    chw_hdr_get(hdr, 0, &type, &len, err, sizeof(err)) == 0 && type == CHW_HELLO &&
	    len > CHW_MAGIC_LEN + CHW_NONCE_LEN && probe_read(fd, body, len, deadline) == 0 &&
	    memcmp(body, CHW_MAGIC, CHW_MAGIC_LEN) == 0) {
		size_t nl = len - CHW_MAGIC_LEN - CHW_NONCE_LEN;
		alive = nl == strlen(name) &&
		        memcmp(body + CHW_MAGIC_LEN + CHW_NONCE_LEN, name, nl) == 0;
	}
	close(fd);
	return alive;
}
