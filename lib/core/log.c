/* log.c - leveled logging to stderr. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *log_progname = "vmc";
static enum log_level log_level = LOG_LVL_INFO;

void log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_level = level;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void log_vwrite(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	static const char *tags[] = {"error", "warning", "info", "debug"};
	int saved = errno;
	if (lvl > log_level)
		return;
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s.%03ld %s %s: ", when, ts.tv_nsec / 1000000,
			 log_progname, tags[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t used = (size_t)n + (m > 0 ? (size_t)m : 0);
	if (used >= sizeof(line))
		used = sizeof(line) - 1;
	if (with_errno && used < sizeof(line) - 1)
		used += (size_t)snprintf(line + used, sizeof(line) - used, ": %s", strerror(saved));
	if (used >= sizeof(line))
		used = sizeof(line) - 1;
	fprintf(stderr, "%.*s\n", (int)used, line);
	errno = saved;
}

#define LOG_FN(fn, lvl, with_errno)                                                                \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vwrite(lvl, with_errno, fmt, ap);                                              \
		va_end(ap);                                                                        \
	}

LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_error, LOG_LVL_ERROR, 0)

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
