/* vclock.h - the agents' clock: wall time, optionally running N times faster.
 *
 * The sim driver and the rule engine read time only through a vclock, so
 * `--time-scale 60` makes an hour of load profiles, hold durations and
 * time windows pass in a minute. Pure: callers pass the real times. */
#ifndef VMC_VCLOCK_H
#define VMC_VCLOCK_H

#include <stdint.h>

struct vclock {
	double scale;        /* virtual ms per real ms, >= 1 in practice */
	int64_t real0_mono;  /* monotonic real ms at the origin */
	int64_t virt0_wall;  /* virtual wall-clock ms at the origin */
};

/* scale <= 0 is treated as 1. */
void vclock_init(struct vclock *c, double scale, int64_t real_mono_now, int64_t virt_wall_start);
/* Virtual wall-clock ms at the given real monotonic time. */
int64_t vclock_at(const struct vclock *c, int64_t real_mono);
/* Real milliseconds that pass while virt_ms virtual milliseconds do (at least 1 if virt_ms > 0). */
long vclock_real_ms(const struct vclock *c, int64_t virt_ms);

#endif
