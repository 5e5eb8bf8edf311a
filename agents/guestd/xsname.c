/* xsname.c - one xenstore read over the xenbus device (see xsname.h).
 *
 * The device speaks xenstore's wire protocol: a struct xsd_sockmsg header then the
 * payload. A read of a relative path is resolved under /local/domain/<our domid>. */
#include "xsname.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "../../lib/core/evloop.h"

#define XSNAME_REQ_ID 0x766d63 /* "vmc" */

/* Reads exactly len bytes before the deadline. Returns 0 or -1 (errno set). */
static int read_full(int fd, void *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		int64_t left = deadline - evloop_mono_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int xsname_ask(int fd, const char *dev, const char *key, char *out, size_t outlen, int timeout_ms,
               char *err, size_t errlen)
{
	char msg[sizeof(struct xsd_sockmsg) + XENSTORE_ABS_PATH_MAX];
	size_t klen = strlen(key) + 1;
	if (klen > XENSTORE_ABS_PATH_MAX) {
		snprintf(err, errlen, "xenstore key too long");
		return -1;
	}
	struct xsd_sockmsg h = {.type = XS_READ, .req_id = XSNAME_REQ_ID, .len = (uint32_t)klen};
	memcpy(msg, &h, sizeof h);
	memcpy(msg + sizeof h, key, klen);
	/* the device takes a request in one write */
	if (write(fd, msg, sizeof h + klen) != (ssize_t)(sizeof h + klen)) {
		snprintf(err, errlen, "%s: write: %s", dev, strerror(errno));
		return -1;
	}
	int64_t deadline = evloop_mono_ms() + timeout_ms;
	for (;;) {
		struct xsd_sockmsg r = {0};
		char body[XENSTORE_PAYLOAD_MAX + 1];
		if (read_full(fd, &r, sizeof r, deadline) < 0) {
			snprintf(err, errlen, "%s: reading the reply: %s", dev, strerror(errno));
			return -1;
		}
		if (r.len > XENSTORE_PAYLOAD_MAX || read_full(fd, body, r.len, deadline) < 0) {
			snprintf(err, errlen, "%s: reading the reply: %s", dev,
			         r.len > XENSTORE_PAYLOAD_MAX ? "too long" : strerror(errno));
			return -1;
		}
		body[r.len] = '\0';
		if (r.type == XS_WATCH_EVENT || r.req_id != XSNAME_REQ_ID)
			continue; /* not ours */
		if (r.type == XS_ERROR) {
			snprintf(err, errlen, "xenstore %s: %s", key, body);
			return -1;
		}
		if (r.type != XS_READ || r.len >= outlen) {
			snprintf(err, errlen, "xenstore %s: unexpected reply (type %u, %u bytes)",
			         key, r.type, r.len);
			return -1;
		}
		memcpy(out, body, r.len + 1);
		return 0;
	}
}

int xsname_read(const char *dev, const char *key, char *out, size_t outlen, int timeout_ms,
                char *err, size_t errlen)
{
	static const char *const devices[] = {XSNAME_DEVICES};
	size_t n = dev ? 1 : sizeof devices / sizeof devices[0];
	for (size_t i = 0; i < n; i++) {
		const char *d = dev ? dev : devices[i];
		int fd = open(d, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
				continue;
			snprintf(err, errlen, "%s: %s", d, strerror(errno));
			return -1;
		}
		int rc = xsname_ask(fd, d, key, out, outlen, timeout_ms, err, errlen);
		close(fd);
		return rc;
	}
	return 1;
}
