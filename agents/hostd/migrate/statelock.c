/* statelock.c - one host agent per state directory (see statelock.h). */
#include "statelock.h"

#include "../../../lib/core/evloop.h"
#include "../../../lib/core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* The pid the lock file records, or 0. */
static long statelock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long pid = strtol(buf, NULL, 10);
	return pid > 0 ? pid : 0;
}

/* "process 1234 (vmc-hostd)", or "another process" when the file names none. */
static void statelock_describe(long pid, char *out, size_t len)
{
	char path[64], comm[64] = "";
	if (pid <= 0) {
		snprintf(out, len, "another process");
		return;
	}
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(out, len, comm[0] ? "process %ld (%s)" : "process %ld", pid, comm);
}

static int statelock_try(int fd)
{
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

int statelock_take(const char *dir, long wait_ms, char *err, size_t errlen)
{
	char path[PATH_MAX], who[128];
	snprintf(path, sizeof(path), "%s/%s", dir, STATELOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (statelock_try(fd) < 0) {
		statelock_describe(statelock_holder(fd), who, sizeof(who));
		log_info("state directory %s is held by %s, which may still be stopping: waiting "
		         "up to %ld s for it",
		         dir, who, wait_ms / 1000);
		int64_t end = evloop_mono_ms() + wait_ms;
		struct timespec step = {0, 100 * 1000 * 1000};
		int got = 0;
		while (!got && evloop_mono_ms() < end) {
			nanosleep(&step, NULL);
			got = statelock_try(fd) == 0;
		}
		if (!got) {
			statelock_describe(statelock_holder(fd), who, sizeof(who));
			snprintf(err, errlen,
			         "state directory %s is in use by %s: wait for it to exit (or stop "
			         "it), then start again",
			         dir, who);
			close(fd);
			return -1;
		}
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("%s: cannot record our pid", path);
	return fd;
}
