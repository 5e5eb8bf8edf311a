/* vclock.c - virtual time that may run faster than real time. */
#include "vclock.h"

#include <limits.h>
#include <math.h>

void vclock_init(struct vclock *c, double scale, int64_t real_mono_now, int64_t virt_wall_start)
{
	c->scale = (isfinite(scale) && scale > 0) ? scale : 1.0;
	c->real0_mono = real_mono_now;
	c->virt0_wall = virt_wall_start;
}

/* Rounds d to the nearest int64, saturating. */
static int64_t clamp64(double d)
{
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)llround(d);
}

int64_t vclock_at(const struct vclock *c, int64_t real_mono)
{
	double elapsed = (double)real_mono - (double)c->real0_mono;
	return clamp64((double)c->virt0_wall + elapsed * c->scale);
}

long vclock_real_ms(const struct vclock *c, int64_t virt_ms)
{
	if (virt_ms <= 0)
		return 0;
	double scale = c->scale > 0 ? c->scale : 1.0;
	double r = ceil((double)virt_ms / scale);
	if (r >= (double)LONG_MAX)
		return LONG_MAX;
	return r < 1 ? 1 : (long)r;
}
