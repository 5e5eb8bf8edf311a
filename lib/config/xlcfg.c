/* xlcfg.c - the xl.cfg subset: a hand-written lexer and parser, setters and a writer.
 *
 * Accepted, as libxlutil has it: KEY = VALUE statements ended by a newline or ';',
 * '#' comments, strings in "..." or '...' with C escapes (\" \' \\ \a \b \f \n \r \t \v
 * \xHH \ooo), integers (decimal, 0x hex, 0 octal; also a leading '-', which xl does
 * not take), and lists of strings or integers in [ ... ] that may span lines and end
 * with a comma. A repeated key replaces the earlier value, as in xl. Not accepted:
 * raw newlines inside strings, nested lists, "+=". */
#include "xlcfg.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const char *s;   /* current position */
	const char *bol; /* beginning of the current line */
	int line;
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct lexer *lx, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct lexer *lx, const char *at, const char *fmt, ...)
{
	if (!lx->err || lx->errlen == 0)
		return -1;
	int n = snprintf(lx->err, lx->errlen, "%s:%d:%d: ", lx->file, lx->line,
	                 (int)(at - lx->bol) + 1);
	if (n < 0 || (size_t)n >= lx->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* What is at p, for "found ..." in messages. */
static const char *found(const char *p, char *buf, size_t len)
{
	if (*p == '\0')
		return "the end of the file";
	if (*p == '\n')
		return "the end of the line";
	if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
		snprintf(buf, len, "byte 0x%02x", (unsigned char)*p);
	else
		snprintf(buf, len, "'%c'", *p);
	return buf;
}

static int expected(struct lexer *lx, const char *what)
{
	char f[16];
	return fail(lx, lx->s, "expected %s, found %s", what, found(lx->s, f, sizeof f));
}

/* Skips blanks and comments; with newlines set, also line ends. */
static void skip(struct lexer *lx, int newlines)
{
	for (;;) {
		char ch = *lx->s;
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			lx->s++;
		} else if (ch == '#') {
			while (*lx->s && *lx->s != '\n')
				lx->s++;
		} else if (ch == '\n' && newlines) {
			lx->s++;
			lx->line++;
			lx->bol = lx->s;
		} else {
			return;
		}
	}
}

static int key_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int key_char(char ch)
{
	return key_start(ch) || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
}

static int key_valid(const char *key)
{
	if (!key || !key_start(*key))
		return 0;
	while (key_char(*key))
		key++;
	return *key == '\0';
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One escape after the backslash at lx->s; writes the byte to *out. */
static int read_escape(struct lexer *lx, char *out)
{
	static const char from[] = "\"'\\abfnrtv", to[] = "\"'\\\a\b\f\n\r\t\v";
	const char *at = lx->s;
	char ch = lx->s[1];
	const char *k = ch ? strchr(from, ch) : NULL;
	int v = 0;
	if (k) {
		*out = to[k - from];
		lx->s += 2;
		return 0;
	}
	if (ch == 'x') {
		int hi = hexval(lx->s[2]), lo = hi < 0 ? -1 : hexval(lx->s[3]);
		if (lo < 0)
			return fail(lx, at, "expected two hex digits after '\\x'");
		v = hi * 16 + lo;
		lx->s += 4;
	} else if (ch >= '0' && ch <= '7') {
		lx->s++;
		for (int i = 0; i < 3 && *lx->s >= '0' && *lx->s <= '7'; i++)
			v = v * 8 + (*lx->s++ - '0');
		if (v > 0xff)
			return fail(lx, at, "expected an octal escape up to \\377");
	} else {
		lx->s++;
		return expected(lx, "an escape (\\\" \\' \\\\ \\a \\b \\f \\n \\r \\t \\v \\xHH "
		                    "\\ooo) after '\\'");
	}
	if (v == 0)
		return fail(lx, at, "expected a character other than NUL in the escape");
	*out = (char)v;
	return 0;
}

/* A quoted string at lx->s; *out is a new unescaped copy. */
static int read_string(struct lexer *lx, char **out)
{
	char quote = *lx->s++;
	const char *start = lx->s;
	size_t cap = strcspn(start, "\n") + 1;
	char *buf = malloc(cap), *w = buf;
	if (!buf)
		return fail(lx, start, "out of memory");
	for (;;) {
		char ch = *lx->s;
		if (ch == '\0' || ch == '\n') {
			free(buf);
			return quote == '"' ? expected(lx, "a closing '\"'")
			                    : expected(lx, "a closing '''");
		}
		if (ch == quote)
			break;
		if (ch == '\\') {
			if (read_escape(lx, w) < 0) {
				free(buf);
				return -1;
			}
			w++;
			continue;
		}
		*w++ = ch;
		lx->s++;
	}
	lx->s++;
	*w = '\0';
	*out = buf;
	return 0;
}

/* An integer at lx->s: [-](decimal | 0x hex | 0 octal), as strtoll with base 0. */
static int read_int(struct lexer *lx, long long *out)
{
	const char *start = lx->s;
	char *end;
	errno = 0;
	long long v = strtoll(start, &end, 0);
	if (end == start || (*start != '-' && (*start < '0' || *start > '9')))
		return expected(lx, "a value: a \"string\", an integer or a [ list ]");
	if (errno == ERANGE)
		return fail(lx, start, "expected an integer from %lld to %lld", LLONG_MIN,
		            LLONG_MAX);
	if (key_char(*end)) {
		lx->s = end;
		return expected(lx, "the end of the integer");
	}
	lx->s = end;
	*out = v;
	return 0;
}

static void item_clear(struct xlcfg_item *it)
{
	free(it->key);
	free(it->str);
	for (size_t i = 0; i < it->nlist; i++)
		free(it->list[i]);
	free(it->list);
	memset(it, 0, sizeof *it);
}

/* Frees the value of it (not its key). */
static void item_clear_value(struct xlcfg_item *it)
{
	char *key = it->key;
	int line = it->line;
	it->key = NULL;
	item_clear(it);
	it->key = key;
	it->line = line;
}

/* A list after its '['; elements are strings or integers kept as text. */
static int read_list(struct lexer *lx, struct xlcfg_item *it)
{
	size_t cap = 0;
	for (;;) {
		skip(lx, 1);
		if (*lx->s == ']') {
			lx->s++;
			return 0;
		}
		char *el = NULL;
		if (*lx->s == '"' || *lx->s == '\'') {
			if (read_string(lx, &el) < 0)
				return -1;
		} else if (*lx->s == '-' || (*lx->s >= '0' && *lx->s <= '9')) {
			const char *start = lx->s;
			long long v;
			if (read_int(lx, &v) < 0)
				return -1;
			el = strndup(start, (size_t)(lx->s - start));
		} else if (*lx->s == '[') {
			return expected(lx, "a string or an integer (lists do not nest)");
		} else {
			return expected(lx, "a string, an integer or ']' in the list");
		}
		if (!el)
			return fail(lx, lx->s, "out of memory");
		if (it->nlist == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			char **l = realloc(it->list, ncap * sizeof *l);
			if (!l) {
				free(el);
				return fail(lx, lx->s, "out of memory");
			}
			it->list = l;
			cap = ncap;
		}
		it->list[it->nlist++] = el;
		skip(lx, 1);
		if (*lx->s == ',') {
			lx->s++;
			continue;
		}
		if (*lx->s != ']')
			return expected(lx, "',' or ']' after a list element");
	}
}

/* The value at lx->s into it. */
static int read_value(struct lexer *lx, struct xlcfg_item *it)
{
	char ch = *lx->s;
	if (ch == '"' || ch == '\'') {
		it->type = XLCFG_STRING;
		return read_string(lx, &it->str);
	}
	if (ch == '[') {
		lx->s++;
		it->type = XLCFG_LIST;
		return read_list(lx, it);
	}
	it->type = XLCFG_INT;
	return read_int(lx, &it->num);
}

/* The item whose key is the len bytes at key, or NULL. */
static struct xlcfg_item *find_item(const struct xlcfg *c, const char *key, size_t len)
{
	for (size_t i = 0; i < c->n; i++)
		if (strncmp(c->items[i].key, key, len) == 0 && c->items[i].key[len] == '\0')
			return &c->items[i];
	return NULL;
}

/* Adds a new item for key (copied) and returns it, or NULL on OOM. */
static struct xlcfg_item *add_item(struct xlcfg *c, const char *key, size_t keylen)
{
	char *k = strndup(key, keylen);
	struct xlcfg_item *items = k ? realloc(c->items, (c->n + 1) * sizeof *items) : NULL;
	if (!items) {
		free(k);
		return NULL;
	}
	c->items = items;
	struct xlcfg_item *it = &c->items[c->n++];
	memset(it, 0, sizeof *it);
	it->key = k;
	return it;
}

/* One statement at lx->s (after blanks). */
static int read_statement(struct lexer *lx, struct xlcfg *c)
{
	const char *key = lx->s;
	if (!key_start(*key))
		return expected(lx, "a key (a letter, then letters, digits, '_' or '.')");
	while (key_char(*lx->s))
		lx->s++;
	size_t keylen = (size_t)(lx->s - key);
	int line = lx->line;
	skip(lx, 0);
	if (*lx->s != '=')
		return expected(lx, "'=' after the key");
	lx->s++;
	skip(lx, 0);
	struct xlcfg_item tmp = {0};
	if (read_value(lx, &tmp) < 0) {
		item_clear(&tmp);
		return -1;
	}
	skip(lx, 0);
	if (*lx->s != ';' && *lx->s != '\n' && *lx->s != '\0') {
		item_clear(&tmp);
		return expected(lx, "the end of the line or ';' after the value");
	}
	if (*lx->s == ';')
		lx->s++;
	struct xlcfg_item *it = find_item(c, key, keylen);
	if (it)
		item_clear_value(it); /* the later value wins */
	else if (!(it = add_item(c, key, keylen))) {
		item_clear(&tmp);
		return fail(lx, key, "out of memory");
	}
	tmp.key = it->key;
	*it = tmp;
	it->line = line;
	return 0;
}

struct xlcfg *xlcfg_new(void)
{
	return calloc(1, sizeof(struct xlcfg));
}

void xlcfg_free(struct xlcfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		item_clear(&c->items[i]);
	free(c->items);
	free(c);
}

int xlcfg_parse(const char *text, const char *file, struct xlcfg **out, char *err, size_t errlen)
{
	*out = NULL;
	struct lexer lx = {text ? text : "", NULL, 1, file ? file : "(xl.cfg)", err, errlen};
	lx.bol = lx.s;
	struct xlcfg *c = xlcfg_new();
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", lx.file);
		return -1;
	}
	for (;;) {
		skip(&lx, 1);
		if (*lx.s == '\0')
			break;
		if (*lx.s == ';') { /* an empty statement */
			lx.s++;
			continue;
		}
		if (read_statement(&lx, c) < 0) {
			xlcfg_free(c);
			return -1;
		}
	}
	*out = c;
	return 0;
}

const struct xlcfg_item *xlcfg_get(const struct xlcfg *c, const char *key)
{
	return c && key ? find_item(c, key, strlen(key)) : NULL;
}

const char *xlcfg_str(const struct xlcfg *c, const char *key)
{
	const struct xlcfg_item *it = xlcfg_get(c, key);
	return it && it->type == XLCFG_STRING ? it->str : NULL;
}

int xlcfg_int(const struct xlcfg *c, const char *key, long long *out)
{
	const struct xlcfg_item *it = xlcfg_get(c, key);
	if (!it)
		return -1;
	if (it->type == XLCFG_INT) {
		*out = it->num;
		return 0;
	}
	if (it->type != XLCFG_STRING)
		return -1;
	const char *s = it->str;
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1; /* strtoll would skip spaces and take '+' */
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (end == s || *end || errno)
		return -1;
	*out = v;
	return 0;
}

/* The item to set for key, its old value cleared; NULL on a bad key or OOM. */
static struct xlcfg_item *slot_for(struct xlcfg *c, const char *key)
{
	if (!c || !key_valid(key))
		return NULL;
	struct xlcfg_item *it = find_item(c, key, strlen(key));
	if (it) {
		item_clear_value(it);
		return it;
	}
	return add_item(c, key, strlen(key));
}

int xlcfg_set_str(struct xlcfg *c, const char *key, const char *value)
{
	char *v = value ? strdup(value) : NULL;
	struct xlcfg_item *it = v ? slot_for(c, key) : NULL;
	if (!it) {
		free(v);
		return -1;
	}
	it->type = XLCFG_STRING;
	it->str = v;
	return 0;
}

int xlcfg_set_int(struct xlcfg *c, const char *key, long long value)
{
	struct xlcfg_item *it = slot_for(c, key);
	if (!it)
		return -1;
	it->type = XLCFG_INT;
	it->num = value;
	return 0;
}

int xlcfg_set_list(struct xlcfg *c, const char *key, const char *const *values, size_t n)
{
	char **l = calloc(n ? n : 1, sizeof *l);
	if (!l || (n && !values))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!values[i] || !(l[i] = strdup(values[i])))
			goto fail;
	struct xlcfg_item *it = slot_for(c, key);
	if (!it)
		goto fail;
	it->type = XLCFG_LIST;
	it->list = l;
	it->nlist = n;
	return 0;
fail:
	for (size_t i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
	return -1;
}

/* --- writer ------------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (o->len + n + 1 > cap)
			cap *= 2;
		char *b = realloc(o->buf, cap);
		if (!b) {
			o->oom = 1;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A double-quoted string; escapes what the parser reads back as the same bytes. */
static void put_quoted(struct out *o, const char *s)
{
	static const char from[] = "\"\\\n\r\t", to[] = "\"\\nrt";
	put(o, "\"", 1);
	for (; *s; s++) {
		const char *k = strchr(from, *s);
		char esc[5];
		if (k) {
			esc[0] = '\\';
			esc[1] = to[k - from];
			put(o, esc, 2);
		} else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)*s);
			put(o, esc, 4);
		} else {
			put(o, s, 1);
		}
	}
	put(o, "\"", 1);
}

char *xlcfg_write(const struct xlcfg *c)
{
	struct out o = {0};
	puts_(&o, ""); /* an empty config is "" */
	for (size_t i = 0; c && i < c->n; i++) {
		const struct xlcfg_item *it = &c->items[i];
		puts_(&o, it->key);
		puts_(&o, " = ");
		if (it->type == XLCFG_STRING) {
			put_quoted(&o, it->str);
		} else if (it->type == XLCFG_INT) {
			char num[32];
			snprintf(num, sizeof num, "%lld", it->num);
			puts_(&o, num);
		} else {
			puts_(&o, "[");
			for (size_t k = 0; k < it->nlist; k++) {
				puts_(&o, k ? ", " : " ");
				put_quoted(&o, it->list[k]);
			}
			puts_(&o, " ]");
		}
		puts_(&o, "\n");
	}
	if (o.oom) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
