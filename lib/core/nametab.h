/* nametab.h - a table of objects keyed by name: a dense array for iteration plus an
 * open-addressing hash index for lookup. Pure.
 *
 * Objects are the caller's (malloc'ed); each starts with its NUL-terminated name
 * (a char array as first member) and has a size_t the table keeps its position in
 * (idx_off = offsetof(struct T, that member)). Removing swaps the last object into
 * the hole, so positions change but object addresses never do. */
#ifndef VMC_NAMETAB_H
#define VMC_NAMETAB_H

#include <stddef.h>

struct nametab {
	void **items; /* dense: items[0..n) */
	size_t n, cap_items;
	void **slots; /* hash index, cap slots (a power of two), NULL = empty */
	size_t cap;
	size_t idx_off;
};

/* Prepares an empty table. */
void nametab_init(struct nametab *t, size_t idx_off);
/* Frees the table and, if free_items, every object in it. */
void nametab_free(struct nametab *t, int free_items);
/* The object named name, or NULL. */
void *nametab_find(const struct nametab *t, const char *name);
/* Adds obj, whose name must not be in the table yet. Aborts on OOM. */
void nametab_add(struct nametab *t, void *obj);
/* Removes obj (which must be in the table); the caller frees it. */
void nametab_del(struct nametab *t, void *obj);

#endif
