/* idcache.h - makes commands idempotent by id. Pure.
 *
 * Remembers, for the last `capacity` command ids, whether the command is
 * still running or its reply text. A repeated id is answered from here and
 * never executed twice. Oldest entries are evicted first. */
#ifndef VMC_IDCACHE_H
#define VMC_IDCACHE_H

#include <stddef.h>

struct idcache;

enum idcache_state { IDCACHE_NEW, IDCACHE_PENDING, IDCACHE_DONE };

struct idcache *idcache_new(size_t capacity);
void idcache_free(struct idcache *c);

/* Looks id up. IDCACHE_NEW: unseen, now recorded as pending. IDCACHE_PENDING: being executed.
 * IDCACHE_DONE: *reply points to the stored reply text (owned by the cache). */
enum idcache_state idcache_begin(struct idcache *c, const char *id, const char **reply);
/* Stores the reply of a pending (or unknown) id. Returns 0, -1 on OOM. */
int idcache_finish(struct idcache *c, const char *id, const char *reply);
size_t idcache_count(const struct idcache *c);

#endif
