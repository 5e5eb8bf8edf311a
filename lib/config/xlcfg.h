/* xlcfg.h - reads and writes the xl.cfg subset vmcluster uses. Pure.
 *
 *   name = "web1"
 *   memory = 1024
 *   vcpus = 2
 *   disk = [ "file:/store/web1.img,xvda,w" ]
 *   extra = "root=/dev/xvda1"
 *
 * Values are strings, integers or lists of strings, as xl.cfg(5) has them.
 * Comments with '#'; ';' may end a statement. The xen driver hands the
 * whole text to libxlutil; this parser is for validation, the sim driver
 * and the configuration agent's writer. */
#ifndef VMC_XLCFG_H
#define VMC_XLCFG_H

#include <stddef.h>

enum xlcfg_type { XLCFG_STRING, XLCFG_INT, XLCFG_LIST };

struct xlcfg_item {
	char *key;
	enum xlcfg_type type;
	char *str;      /* XLCFG_STRING */
	long long num;  /* XLCFG_INT */
	char **list;    /* XLCFG_LIST */
	size_t nlist;
	int line;
};

struct xlcfg {
	struct xlcfg_item *items;
	size_t n;
};

/* Returns 0, or -1 with "FILE:LINE: expected ..." in err. */
int xlcfg_parse(const char *text, const char *file, struct xlcfg **out, char *err, size_t errlen);
struct xlcfg *xlcfg_new(void);
void xlcfg_free(struct xlcfg *c);

const struct xlcfg_item *xlcfg_get(const struct xlcfg *c, const char *key);
/* NULL if absent or not a string. */
const char *xlcfg_str(const struct xlcfg *c, const char *key);
/* 0 and *out if an integer (or a string holding one), else -1. */
int xlcfg_int(const struct xlcfg *c, const char *key, long long *out);

/* Setters replace an existing key or append. Return 0, -1 on a bad key. */
int xlcfg_set_str(struct xlcfg *c, const char *key, const char *value);
int xlcfg_set_int(struct xlcfg *c, const char *key, long long value);
int xlcfg_set_list(struct xlcfg *c, const char *key, const char *const *values, size_t n);
/* Serializes in xl.cfg syntax, strings quoted and escaped; caller frees. */
char *xlcfg_write(const struct xlcfg *c);

#endif
