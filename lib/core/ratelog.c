/* ratelog.c - rate-limited warnings (see ratelog.h). */
#include "ratelog.h"

#include <stdarg.h>
#include <stdio.h>

int ratelog_warn(struct ratelog *r, int64_t now_ms, const char *fmt, ...)
{
	if (r->next_ms && now_ms < r->next_ms) {
		r->dropped++;
		return 0;
	}
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (r->dropped)
		log_warnx("%s (%lu more like it left out)", line, r->dropped);
	else
		log_warnx("%s", line);
	r->dropped = 0;
	r->next_ms = now_ms + RATELOG_EVERY_MS;
	if (r->next_ms == 0)
		r->next_ms = 1;
	return 1;
}
