/* conf.c - the agents' configuration format: sections, keys, values.
 *
 * The parser copies the text once and cuts it in place: keys, values and
 * section names are NUL-terminated inside that copy (the arena), and quoted
 * values are unescaped in place, which only ever shortens them. */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_FILE_MAX (1024 * 1024)

/* Error lines appended to the caller's buffer, counted even when they no longer fit. */
struct errbuf {
	char *buf;
	size_t len, used;
	int count;
};

static void err_add(struct errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_add(struct errbuf *e, const char *fmt, ...)
{
	e->count++;
	if (!e->buf || e->len == 0 || e->used + 1 >= e->len)
		return;
	if (e->used > 0)
		e->buf[e->used++] = '\n';
	e->buf[e->used] = '\0';
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->buf + e->used, e->len - e->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		e->used += (size_t)n < e->len - e->used ? (size_t)n : e->len - e->used - 1;
}

/* Parser state for one text. */
struct parser {
	struct conf *c;
	struct errbuf *e;
	const char *file;
	int line;
	char *bol; /* beginning of the current line, for columns */
	const char *section, *arg;
	size_t cap_entries, cap_sections;
};

static int col(const struct parser *p, const char *at)
{
	return (int)(at - p->bol) + 1;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int is_ident_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static int is_ident(char ch)
{
	return is_ident_start(ch) || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

/* Bare words: printable, no spaces, quotes, comment starters or brackets. */
static int is_bare(char ch)
{
	return (unsigned char)ch > 0x20 && ch != 0x7f && !strchr("\"'#;[]=", ch);
}

static char *skip_space(char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static int at_end(const char *s)
{
	return *s == '\0' || *s == '#' || *s == ';';
}

/* Describes the character at s for "found ..." in messages. */
static const char *found(const char *s, char *buf, size_t len)
{
	if (*s == '\0')
		return "the end of the line";
	if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
		snprintf(buf, len, "byte 0x%02x", (unsigned char)*s);
	else
		snprintf(buf, len, "'%c'", *s);
	return buf;
}

static void expected(struct parser *p, const char *at, const char *what)
{
	char f[16];
	err_add(p->e, "%s:%d:%d: expected %s, found %s", p->file, p->line, col(p, at), what,
	        found(at, f, sizeof f));
}

/* Reads a quoted string starting at the opening quote *s; unescapes it in place.
 * Returns a pointer past the closing quote and sets *val, or NULL on error. */
static char *read_quoted(struct parser *p, char *s, char **val)
{
	char *w = s + 1, *r = s + 1;
	*val = w;
	for (;;) {
		if (*r == '\0') {
			expected(p, r, "a closing '\"'");
			return NULL;
		}
		if (*r == '"')
			break;
		if (*r == '\\') {
			static const char from[] = "\"\\nt", to[] = "\"\\\n\t";
			const char *k = r[1] ? strchr(from, r[1]) : NULL;
			if (!k) {
				expected(p, r + 1, "one of \\\" \\\\ \\n \\t after '\\'");
				return NULL;
			}
			*w++ = to[k - from];
			r += 2;
			continue;
		}
		*w++ = *r++;
	}
	char *after = r + 1;
	*w = '\0'; /* w <= r: only the closing quote or escapes are overwritten */
	return after;
}

/* A value: a quoted string, or a bare word; with words, bare words separated by blanks
 * ("constant 0.5"), kept with their inner blanks. Returns a pointer past it, or NULL. */
static char *read_value(struct parser *p, char *s, char **val, int words)
{
	if (*s == '"')
		return read_quoted(p, s, val);
	if (!is_bare(*s)) {
		expected(p, s, "a value (a word, a number or a \"quoted string\")");
		return NULL;
	}
	*val = s;
	for (;;) {
		while (is_bare(*s))
			s++;
		char *t = s;
		while (*t == ' ' || *t == '\t')
			t++;
		if (!words || t == s || !is_bare(*t))
			return s;
		s = t;
	}
}

/* Checks that only spaces and a comment follow; terminates the token ending at s. */
static int end_of_line(struct parser *p, char *s, const char *after_what)
{
	char *t = skip_space(s);
	if (!at_end(t)) {
		char what[80];
		snprintf(what, sizeof what, "the end of the line after %s", after_what);
		expected(p, t, what);
		return -1;
	}
	*s = '\0';
	return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *a = realloc(*arr, ncap * size);
	if (!a)
		return -1;
	*arr = a;
	*cap = ncap;
	return 0;
}

static void parse_section(struct parser *p, char *s)
{
	char *name = skip_space(s + 1), *arg = "", *arg_end = NULL;
	char *t = name;
	if (!is_ident_start(*t)) {
		expected(p, t, "a section name");
		return;
	}
	while (is_ident(*t))
		t++;
	char *name_end = t;
	t = skip_space(t);
	if (*t != ']') {
		if (t == name_end) {
			expected(p, t, "a space, an argument or ']' after the section name");
			return;
		}
		arg_end = read_value(p, t, &arg, 0);
		if (!arg_end)
			return;
		t = skip_space(arg_end);
		if (*t != ']') {
			expected(p, t, "']' to close the section");
			return;
		}
	}
	char *close = t;
	if (end_of_line(p, close + 1, "']'") < 0)
		return;
	/* terminate the tokens only now: each end is at or after its token's last byte */
	*close = '\0';
	*name_end = '\0';
	if (arg_end)
		*arg_end = '\0';
	p->section = name;
	p->arg = arg;
	struct conf *c = p->c;
	for (size_t i = 0; i < c->nsections; i++)
		if (strcmp(c->sections[i].name, name) == 0 && strcmp(c->sections[i].arg, arg) == 0)
			return; /* a repeated section continues the first */
	if (grow((void **)&c->sections, &p->cap_sections, c->nsections, sizeof *c->sections) < 0) {
		err_add(p->e, "%s:%d: out of memory", p->file, p->line);
		return;
	}
	c->sections[c->nsections++] = (struct conf_section){name, arg, p->line};
}

static void parse_entry(struct parser *p, char *s)
{
	char *key = s, *t = s;
	if (!is_ident_start(*t)) {
		expected(p, t, "a key, a [section] or a comment");
		return;
	}
	while (is_ident(*t))
		t++;
	char *key_end = t;
	t = skip_space(t);
	if (*t != '=') {
		expected(p, t, "'=' after the key");
		return;
	}
	char *val;
	char *v = skip_space(t + 1);
	if (at_end(v)) {
		expected(p, v, "a value after '='");
		return;
	}
	char *end = read_value(p, v, &val, 1);
	if (!end || end_of_line(p, end, "the value") < 0)
		return;
	*key_end = '\0';
	struct conf *c = p->c;
	if (grow((void **)&c->entries, &p->cap_entries, c->n, sizeof *c->entries) < 0) {
		err_add(p->e, "%s:%d: out of memory", p->file, p->line);
		return;
	}
	c->entries[c->n++] = (struct conf_entry){p->section, p->arg, key, val, p->line, 0};
}

const char *conf_where(const struct conf *c, const char *value, const char *fallback, char *buf,
                       size_t len)
{
	for (size_t i = 0; c && value && i < c->n; i++)
		if (c->entries[i].value == value) {
			snprintf(buf, len, "%s:%d", c->file, c->entries[i].line);
			return buf;
		}
	/* a copy: a list setting ("broker = a" lines joined as "a,b") is kept as one text;
	 * the line of its first item that is the file's */
	for (size_t i = 0; c && value && i < c->n; i++) {
		const char *v = c->entries[i].value;
		size_t n = strlen(v);
		for (const char *p = value; n && p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
			if (strncmp(p, v, n) == 0 && (p[n] == ',' || p[n] == '\0')) {
				snprintf(buf, len, "%s:%d", c->file, c->entries[i].line);
				return buf;
			}
	}
	return fallback;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->entries);
	free(c->sections);
	free(c->arena_);
	free(c);
}

int conf_parse_string(const char *text, const char *file, struct conf **out, char *err,
                      size_t errlen)
{
	struct errbuf e = {err, errlen, 0, 0};
	if (err && errlen)
		err[0] = '\0';
	*out = NULL;
	if (!file)
		file = "(config)";
	struct conf *c = calloc(1, sizeof *c);
	if (c) {
		c->file = strdup(file);
		c->arena_ = strdup(text ? text : "");
	}
	if (!c || !c->file || !c->arena_) {
		conf_free(c);
		err_add(&e, "%s: out of memory", file);
		return e.count;
	}
	struct parser p = {.c = c, .e = &e, .file = file, .section = "", .arg = ""};
	char *s = c->arena_;
	while (*s) {
		char *eol = strchr(s, '\n');
		char *next = eol ? eol + 1 : s + strlen(s);
		if (eol)
			*eol = '\0';
		p.line++;
		p.bol = s;
		char *t = skip_space(s);
		if (*t == '[')
			parse_section(&p, t);
		else if (!at_end(t))
			parse_entry(&p, t);
		s = next;
	}
	if (e.count) {
		conf_free(c);
		return e.count;
	}
	*out = c;
	return 0;
}

int conf_parse_file(const char *path, struct conf **out, char *err, size_t errlen)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return 1;
	}
	char *buf = malloc(CONF_FILE_MAX + 2);
	size_t n = 0;
	ssize_t r = 0;
	while (buf && n <= CONF_FILE_MAX) {
		r = read(fd, buf + n, CONF_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	int read_errno = errno;
	close(fd);
	if (!buf || r < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		         buf ? strerror(read_errno) : "out of memory");
		free(buf);
		return 1;
	}
	if (n > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONF_FILE_MAX);
		free(buf);
		return 1;
	}
	const char *nul = memchr(buf, '\0', n);
	if (nul) {
		int line = 1;
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		snprintf(err, errlen, "%s:%d: expected text, found a NUL byte", path, line);
		free(buf);
		return 1;
	}
	buf[n] = '\0';
	int errors = conf_parse_string(buf, path, out, err, errlen);
	free(buf);
	return errors;
}

/* --- lookups ------------------------------------------------------------ */

static int entry_in(const struct conf_entry *en, const char *section, const char *arg,
                    const char *key)
{
	return strcmp(en->key, key) == 0 && strcmp(en->section, section ? section : "") == 0 &&
	       (!arg || strcmp(en->arg, arg) == 0);
}

const struct conf_entry *conf_find(struct conf *c, const char *section, const char *arg,
                                   const char *key)
{
	struct conf_entry *last = NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (entry_in(&c->entries[i], section, arg, key)) {
			c->entries[i].used = 1; /* earlier ones are overridden, not unknown */
			last = &c->entries[i];
		}
	}
	return last;
}

/* Fills "FILE:LINE: KEY: expected WHAT, got "VALUE"" and returns -1. */
static int bad_value(const struct conf *c, const struct conf_entry *en, const char *what, char *err,
                     size_t errlen)
{
	snprintf(err, errlen, "%s:%d: %s: expected %s, got \"%.64s\"", c->file, en->line, en->key,
	         what, en->value);
	return -1;
}

int conf_get_str(struct conf *c, const char *section, const char *arg, const char *key,
                 const char **out, char *err, size_t errlen)
{
	const struct conf_entry *en = conf_find(c, section, arg, key);
	if (!en)
		return 1;
	*out = en->value;
	return 0;
}

/* Parses all of s as a decimal integer. */
static int parse_int(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || errno)
		return -1;
	*out = v;
	return 0;
}

int conf_get_int(struct conf *c, const char *section, const char *arg, const char *key, int64_t min,
                 int64_t max, int64_t *out, char *err, size_t errlen)
{
	const struct conf_entry *en = conf_find(c, section, arg, key);
	if (!en)
		return 1;
	long long v;
	if (parse_int(en->value, &v) < 0 || v < min || v > max) {
		char what[80];
		snprintf(what, sizeof what, "an integer from %lld to %lld", (long long)min,
		         (long long)max);
		return bad_value(c, en, what, err, errlen);
	}
	*out = v;
	return 0;
}

int conf_get_num(struct conf *c, const char *section, const char *arg, const char *key, double min,
                 double max, double *out, char *err, size_t errlen)
{
	const struct conf_entry *en = conf_find(c, section, arg, key);
	if (!en)
		return 1;
	char *end;
	errno = 0;
	double v = strtod(en->value, &end);
	if (end == en->value || *end || errno || !isfinite(v) || v < min || v > max) {
		char what[80];
		snprintf(what, sizeof what, "a number from %g to %g", min, max);
		return bad_value(c, en, what, err, errlen);
	}
	*out = v;
	return 0;
}

int conf_get_bool(struct conf *c, const char *section, const char *arg, const char *key, int *out,
                  char *err, size_t errlen)
{
	static const struct {
		const char *word;
		int value;
	} words[] = {{"true", 1},  {"yes", 1}, {"on", 1},  {"1", 1},
	             {"false", 0}, {"no", 0},  {"off", 0}, {"0", 0}};
	const struct conf_entry *en = conf_find(c, section, arg, key);
	if (!en)
		return 1;
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		if (strcasecmp(en->value, words[i].word) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	return bad_value(c, en, "true or false (also yes/no, on/off, 1/0)", err, errlen);
}

int conf_get_duration(struct conf *c, const char *section, const char *arg, const char *key,
                      int64_t min_ms, int64_t max_ms, int64_t *out, char *err, size_t errlen)
{
	const struct conf_entry *en = conf_find(c, section, arg, key);
	if (!en)
		return 1;
	int64_t ms;
	if (conf_parse_duration(en->value, &ms) < 0 || ms < min_ms || ms > max_ms) {
		char what[120];
		snprintf(what, sizeof what,
		         "a duration from %lldms to %lldms (e.g. 500ms, 30s, 5m, 2h, 1d)",
		         (long long)min_ms, (long long)max_ms);
		return bad_value(c, en, what, err, errlen);
	}
	*out = ms;
	return 0;
}

int conf_get_size_mb(struct conf *c, const char *section, const char *arg, const char *key,
                     int64_t min_mb, int64_t max_mb, int64_t *out, char *err, size_t errlen)
{
	const struct conf_entry *en = conf_find(c, section, arg, key);
	if (!en)
		return 1;
	int64_t mb;
	if (conf_parse_size_mb(en->value, &mb) < 0 || mb < min_mb || mb > max_mb) {
		char what[120];
		snprintf(what, sizeof what, "a size from %lld to %lld MiB (e.g. 512, 512M, 4G, 1T)",
		         (long long)min_mb, (long long)max_mb);
		return bad_value(c, en, what, err, errlen);
	}
	*out = mb;
	return 0;
}

int conf_check_unused(const struct conf *c, char *err, size_t errlen)
{
	struct errbuf e = {err, errlen, 0, 0};
	if (err && errlen)
		err[0] = '\0';
	for (size_t i = 0; i < c->n; i++) {
		const struct conf_entry *en = &c->entries[i];
		if (en->used)
			continue;
		if (!*en->section)
			err_add(&e, "%s:%d: unknown key %s", c->file, en->line, en->key);
		else
			err_add(&e, "%s:%d: unknown key %s in [%s%s%s]", c->file, en->line, en->key,
			        en->section, *en->arg ? " " : "", en->arg);
	}
	return e.count;
}

/* --- units ---------------------------------------------------------------- */

struct unit {
	const char *suffix;
	double factor;
};

/* Parses "NUMBER[SUFFIX]" with a non-negative number; factor from the table.
 * integer_only refuses fractions. Returns 0 and *out rounded, or -1. */
static int parse_scaled(const char *s, const struct unit *units, size_t nunits, int integer_only,
                        int64_t *out)
{
	if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		return -1;
	for (const char *q = s; q < end; q++)
		if (!((*q >= '0' && *q <= '9') || (*q == '.' && !integer_only)))
			return -1; /* no exponents, hex or signs */
	for (size_t i = 0; i < nunits; i++) {
		if (strcasecmp(end, units[i].suffix) != 0)
			continue;
		double r = v * units[i].factor;
		if (r >= 9.2e18)
			return -1;
		*out = (int64_t)llround(r);
		return 0;
	}
	return -1;
}

int conf_parse_duration(const char *s, int64_t *ms)
{
	static const struct unit units[] = {
	    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
	};
	return parse_scaled(s, units, sizeof units / sizeof *units, 0, ms);
}

int conf_parse_size_mb(const char *s, int64_t *mb)
{
	static const struct unit units[] = {
	    {"", 1},      {"M", 1},      {"MB", 1},      {"MiB", 1},      {"G", 1024},
	    {"GB", 1024}, {"GiB", 1024}, {"T", 1048576}, {"TB", 1048576}, {"TiB", 1048576},
	};
	return parse_scaled(s, units, sizeof units / sizeof *units, 1, mb);
}
