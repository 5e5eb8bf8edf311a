/* ratelog.h - a warning that a flood of bad messages cannot turn into a flood of log
 * lines: at most one line per interval for each ratelog, the next one saying how many
 * were left out. The caller owns the struct (zeroed to start) and the clock. */
#ifndef VMC_RATELOG_H
#define VMC_RATELOG_H

#include <stdint.h>

#include "log.h"

#define RATELOG_EVERY_MS 10000

struct ratelog {
	int64_t next_ms;       /* the earliest time the next line may be written */
	unsigned long dropped; /* lines left out since the last one written */
};

/* log_warnx(fmt, ...) unless a line went out less than RATELOG_EVERY_MS before now_ms
 * (any monotonic clock). Returns 1 if the line was written, 0 if it was counted. */
int ratelog_warn(struct ratelog *r, int64_t now_ms, const char *fmt, ...) VMC_PRINTF(3, 4);

#endif
