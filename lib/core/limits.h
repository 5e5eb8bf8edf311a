/* limits.h - the one table of bounds for every figure read from the bus.
 *
 * Host loads, VM records, guest reports and peers' figures are read by several
 * modules (the guest collector, the balancer's view, the peers' table, the cluster
 * model of the consoles); all take their bounds from here, so a figure one of them
 * accepts is never refused by another. A figure outside its bounds is absurd or
 * forged: the reader drops it (or the one VM or guest it belongs to), never a whole
 * host's view. Pure. */
#ifndef VMC_LIMITS_H
#define VMC_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Memory of a host, a VM or a guest: up to 4 PiB, in MiB. */
#define LIM_MEM_MB_MAX (INT64_C(1) << 32)
/* Migrations one host may say it runs at once, each way. */
#define LIM_MIGRATIONS_MAX 64

/* What a figure describes: the same name means different things in each. */
enum lim_scope { LIM_HOST = 0, LIM_VM, LIM_GUEST };

struct lim {
	enum lim_scope scope;
	const char *field;
	double min, max;
	int is_int;
};

/* The bounds of field in scope, or NULL if the table has none. */
const struct lim *lim_find(enum lim_scope scope, const char *field);
/* msg_get_num / msg_get_int (msg.h) with the table's bounds (lim_get_num takes a
 * fraction even of a whole-number figure): 0 if present and within them, 1 if absent and !required,
 * -1 with err naming ctx.field and the bounds. A field missing from the table is a programming
 * error and aborts. */
int lim_get_num(const cJSON *obj, enum lim_scope scope, const char *ctx, const char *field,
                int required, double *out, char *err, size_t errlen);
int lim_get_int(const cJSON *obj, enum lim_scope scope, const char *ctx, const char *field,
                int required, int64_t *out, char *err, size_t errlen);
/* v forced into the bounds of field (NaN gives min). */
double lim_clamp(enum lim_scope scope, const char *field, double v);

#endif
