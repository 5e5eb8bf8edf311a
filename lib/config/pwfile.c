/* pwfile.c - the first line of a password file, read as hostile input; a bus opened with it. */
#include "pwfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../bus/bus.h"

/* The longest password the programs pass to the broker, plus its terminating NUL. */
#define PWFILE_MAX 512

static ssize_t read_retry(int fd, char *buf, size_t len)
{
	ssize_t r;
	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	return r;
}

/* The length of buf's first line: up to its first '\n' or '\r', or n. */
static size_t line_len(const char *buf, size_t n)
{
	size_t i = 0;
	while (i < n && buf[i] != '\n' && buf[i] != '\r')
		i++;
	return i;
}

/* Fills buf (len - 1 bytes at most) until an end of line, the end of the file or a full
 * buffer. Returns the bytes read and sets *eof, or -1 with errno set. */
static ssize_t read_line(int fd, char *buf, size_t len, int *eof)
{
	size_t n = 0;
	*eof = 0;
	while (n < len - 1) {
		ssize_t r = read_retry(fd, buf + n, len - 1 - n);
		if (r < 0)
			return -1;
		if (r == 0) {
			*eof = 1;
			break;
		}
		size_t old = n;
		n += (size_t)r;
		if (line_len(buf + old, (size_t)r) < (size_t)r)
			break;
	}
	return (ssize_t)n;
}

int pwfile_read(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	const char *why = NULL;
	char toolong[64];
	if (len < 2) {
		snprintf(err, errlen, "password file %s: no room for a password", path);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "password file %s: %s", path, strerror(errno));
		return -1;
	}
	int eof;
	ssize_t got = read_line(fd, buf, len, &eof);
	size_t n = got < 0 ? 0 : (size_t)got, line = line_len(buf, n);
	if (got >= 0 && line == n && !eof) {
		/* a full buffer without an end of line: fine only if the file ends or the line
		 * does right here */
		char c;
		ssize_t r = read_retry(fd, &c, 1);
		if (r < 0)
			got = -1;
		else if (r == 1 && c != '\n' && c != '\r') {
			snprintf(toolong, sizeof toolong, "longer than %zu bytes", len - 1);
			why = toolong;
		}
	}
	if (got < 0)
		why = strerror(errno);
	close(fd);
	if (!why && memchr(buf, '\0', line))
		why = "holds a NUL byte";
	if (!why && line == 0)
		why = n == 0 ? "empty" : "the first line is empty";
	if (why) {
		snprintf(err, errlen, "password file %s: %s", path, why);
		explicit_bzero(buf, len);
		return -1;
	}
	explicit_bzero(buf + line, len - line);
	return 0;
}

struct bus *pwfile_bus_new(struct evloop *loop, const struct bus_opts *bo,
                           const char *password_file, char *err, size_t errlen)
{
	if (!password_file)
		return bus_new(loop, bo, err, errlen);
	char password[PWFILE_MAX];
	if (pwfile_read(password_file, password, sizeof password, err, errlen) < 0)
		return NULL;
	struct bus_opts with = *bo;
	with.password = password;
	struct bus *b = bus_new(loop, &with, err, errlen);
	explicit_bzero(password, sizeof password);
	return b;
}
