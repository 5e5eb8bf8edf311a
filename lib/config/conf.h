/* conf.h - the configuration file format shared by every agent. Pure.
 *
 *   # comment
 *   key = value            ; value: bare words, a number, or "quoted string" (\" \\ \n escapes)
 *   [section]              ; or [section argument], e.g. [vm web1]
 *   key = value
 *
 * Comments start with '#' or ';' at the start of a line or after a value; keys are
 * [A-Za-z_][A-Za-z0-9_.-]*; bare words hold no spaces, quotes, '#', ';', '[', ']' or '=';
 * a bare value may be several words ("load = periodic 0.2 1.0 600s"), kept as written.
 * Errors read "FILE:LINE:COL: expected ..., found ..."; the parser keeps going and reports
 * every error it finds, one per line in the error buffer. */
#ifndef VMC_CONF_H
#define VMC_CONF_H

#include <stddef.h>
#include <stdint.h>

struct conf_entry {
	const char *section; /* "" for keys before any section */
	const char *arg;     /* the section's argument, "" if none */
	const char *key;
	const char *value;   /* unquoted */
	int line;
	int used;            /* set by the getters; see conf_check_unused */
};

struct conf {
	char *file;
	struct conf_entry *entries;
	size_t n;
	/* sections in order of appearance (with their argument) */
	struct conf_section { const char *name, *arg; int line; } *sections;
	size_t nsections;
	void *arena_; /* private */
};

/* Parses text; file names the source in error messages. Returns the number of errors
 * (0 on success, *out set); on errors *out is NULL and err holds them. */
int conf_parse_string(const char *text, const char *file, struct conf **out, char *err,
		      size_t errlen);
/* Reads and parses a file (max 1 MiB). */
int conf_parse_file(const char *path, struct conf **out, char *err, size_t errlen);
void conf_free(struct conf *c);
/* Where a setting's value came from, for error messages: "FILE:LINE" if value is the very
 * string of one of c's entries (read from the file, not given on the command line), else
 * fallback (e.g. the program's name). c may be NULL. Returns buf or fallback. */
const char *conf_where(const struct conf *c, const char *value, const char *fallback, char *buf,
                       size_t len);

/* Last value of key in the given section (section "" and arg NULL = any argument). */
const struct conf_entry *conf_find(struct conf *c, const char *section, const char *arg,
				   const char *key);
/* Typed getters: 0 if found and valid, 1 if absent (out untouched), -1 with
 * "FILE:LINE: KEY: expected ..." in err. */
int conf_get_str(struct conf *c, const char *section, const char *arg, const char *key,
		 const char **out, char *err, size_t errlen);
int conf_get_int(struct conf *c, const char *section, const char *arg, const char *key,
		 int64_t min, int64_t max, int64_t *out, char *err, size_t errlen);
int conf_get_num(struct conf *c, const char *section, const char *arg, const char *key,
		 double min, double max, double *out, char *err, size_t errlen);
int conf_get_bool(struct conf *c, const char *section, const char *arg, const char *key,
		  int *out, char *err, size_t errlen);
/* A duration (conf_parse_duration) in ms, or a size (conf_parse_size_mb) in MiB, within
 * [min, max]; returns as the getters above. */
int conf_get_duration(struct conf *c, const char *section, const char *arg, const char *key,
		      int64_t min_ms, int64_t max_ms, int64_t *out, char *err, size_t errlen);
int conf_get_size_mb(struct conf *c, const char *section, const char *arg, const char *key,
		     int64_t min_mb, int64_t max_mb, int64_t *out, char *err, size_t errlen);
/* Reports "FILE:LINE: unknown key KEY" for each entry no getter read. Returns their count. */
int conf_check_unused(const struct conf *c, char *err, size_t errlen);

/* Parses a duration "500ms", "30s", "5m", "2h", "1d" or a bare number of seconds into ms
 * (fractions allowed: "1.5s"; units case-insensitive). Returns 0, or -1 if malformed. */
int conf_parse_duration(const char *s, int64_t *ms);
/* Parses a size "512", "512M", "4G", "1T" (also MB/MiB, GB/GiB, TB/TiB) into MiB.
 * Returns 0, or -1 if malformed. */
int conf_parse_size_mb(const char *s, int64_t *mb);

#endif
