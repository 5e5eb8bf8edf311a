/* sim_load.h - load profiles of simulated VMs: CPU demand as a function of time. Pure.
 *
 * A profile is written as one line of text:
 *   constant C                     C CPUs of demand, always
 *   periodic LOW HIGH PERIOD [square|sine] [PHASE]
 *                                  square (default): LOW for the first half of each
 *                                  PERIOD seconds, HIGH for the second half; sine: a smooth
 *                                  wave from LOW (at the period's start) up to HIGH (half a
 *                                  period later) and back. PHASE (seconds) shifts the wave
 *                                  later.
 *   trace FILE                     a recorded trace (see sim_trace_parse), looped
 *
 * Time is the virtual wall clock in ms since the Unix epoch, so a profile does
 * not depend on where or since when the VM runs: it carries on unchanged after
 * a migration or an agent restart, and a 86400 s period follows the (UTC) day.
 * Demand is never negative; callers cap it at the VM's vcpus. */
#ifndef VMC_SIM_LOAD_H
#define VMC_SIM_LOAD_H

#include <stddef.h>
#include <stdint.h>

#define SIM_LOAD_TEXT_MAX 512 /* longest profile line */
#define SIM_TRACE_POINTS_MAX 100000
#define SIM_TRACE_FILE_MAX (4 << 20) /* longest trace file text, bytes */
#define SIM_LOAD_CPUS_MAX 1024.0     /* largest demand a profile may name */

enum sim_load_kind { SIM_LOAD_CONSTANT = 0, SIM_LOAD_PERIODIC, SIM_LOAD_TRACE };
enum sim_wave { SIM_WAVE_SQUARE = 0, SIM_WAVE_SINE };

struct sim_trace_point {
	int64_t t_ms; /* since the trace's start (its first point is at 0) */
	double cpus;
};

struct sim_load {
	enum sim_load_kind kind;
	double low, high;            /* constant: both equal C */
	int64_t period_ms;           /* periodic */
	int64_t phase_ms;            /* periodic */
	enum sim_wave wave;          /* periodic */
	char *file;                  /* trace: the file named in the profile (malloc'ed) */
	struct sim_trace_point *pts; /* trace: malloc'ed, sorted, first at 0 */
	size_t npts;
	int64_t length_ms; /* trace: loop length */
};

/* Parses a profile line into out (zeroed first). A trace profile gets its file
 * name only; fill its points with sim_trace_parse. Returns 0, or -1 with err
 * naming what was wrong ("load: periodic: PERIOD must be a number of seconds > 0"). */
int sim_load_parse(const char *text, struct sim_load *out, char *err, size_t errlen);

/* Parses a trace file's text: one "SECONDS CPUS" pair a line, '#' comments and
 * blank lines ignored, SECONDS strictly increasing (the first is taken as time 0).
 * Step interpolation: each value holds until the next point; the last one holds
 * for as long as the gap before it (1 s if the trace has one point), then the
 * trace starts again. Fills l's points (replacing any). Returns 0, or -1 with
 * "FILE:LINE: expected ..." in err. */
int sim_trace_parse(const char *text, const char *file, struct sim_load *l, char *err,
                    size_t errlen);

/* Sets l's points from an array (e.g. a state file's), checking them as
 * sim_trace_parse does. Returns 0, or -1 with err filled. */
int sim_trace_set(struct sim_load *l, const struct sim_trace_point *pts, size_t n, char *err,
                  size_t errlen);

/* CPU demand (>= 0) at virtual time t_ms. A trace without points gives 0. */
double sim_load_demand(const struct sim_load *l, int64_t t_ms);

/* The first virtual time after t_ms at which the demand may change: exact for
 * constant (INT64_MAX), square waves and traces; t_ms + 1 s for sine waves. */
int64_t sim_load_next_change(const struct sim_load *l, int64_t t_ms);

/* Writes the profile line (sim_load_parse reads it back). Returns its length,
 * or -1 if it does not fit in len. */
int sim_load_format(const struct sim_load *l, char *buf, size_t len);

/* Deep copy into dst (which it overwrites). Returns 0, -1 on allocation failure. */
int sim_load_copy(struct sim_load *dst, const struct sim_load *src);
/* Frees what l holds and zeroes it (l itself is the caller's). */
void sim_load_free(struct sim_load *l);

#endif
