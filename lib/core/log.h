/* log.h - leveled logging to stderr, in the manner of OpenBSD's log.c.
 *
 * The log level and program name are the one piece of process-wide state
 * outside a daemon's context struct: every module logs, and threading a
 * logger through every call would buy nothing. */
#ifndef VMC_LOG_H
#define VMC_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

#define VMC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Sets the program name shown in front of each line and the most verbose level printed. */
void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns -1 if none of those. */
int log_level_parse(const char *s, enum log_level *out);

void log_debug(const char *fmt, ...) VMC_PRINTF(1, 2);
void log_info(const char *fmt, ...) VMC_PRINTF(1, 2);
/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) VMC_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) VMC_PRINTF(1, 2);
void log_error(const char *fmt, ...) VMC_PRINTF(1, 2);
/* Start-up failures only: log and exit(1). */
void fatal(const char *fmt, ...) VMC_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) VMC_PRINTF(1, 2) __attribute__((noreturn));

#endif
