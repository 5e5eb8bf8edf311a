/* filter.c - the row filter: a case-insensitive extended regular expression, inverted
 * by a leading '!', kept across views.
 *
 * Most filters are typed names ("web1", "^db"): those plain texts are matched without
 * the regex engine (a lower-cased substring, prefix or suffix), which is what keeps a
 * filter over 20,000 rows fast enough to apply as it is typed. */
#include <stdio.h>
#include <string.h>

#include "vmtop.h"

/* The extended regular expression operators: a text without them means itself. */
static const char re_ops[] = ".[]()*+?{}|^$\\";

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Fills f's plain form if re (the text after any '!') is a plain text, at most
 * anchored by a leading '^' and a trailing '$'. */
static void plain_set(struct filter *f, const char *re)
{
	size_t n = strlen(re);
	f->plain = 0;
	f->plain_start = re[0] == '^';
	f->plain_end = n > (size_t)f->plain_start && re[n - 1] == '$';
	re += f->plain_start;
	n -= (size_t)f->plain_start + (size_t)f->plain_end;
	if (n >= sizeof(f->plain_text))
		return;
	for (size_t i = 0; i < n; i++) {
		if (re[i] < 32 || re[i] > 126 || strchr(re_ops, re[i]))
			return;
		f->plain_text[i] = lower(re[i]);
	}
	f->plain_text[n] = '\0';
	f->plain_len = n;
	f->plain = 1;
}

/* Fills f->must with a lower-case text every match of the expression re holds: the
 * longest run of plain characters that no operator makes optional ("^b0.*vm01": "vm01").
 * None for expressions with alternatives, groups or classes. Rows without it are passed
 * over without running the regex engine. */
static void must_set(struct filter *f, const char *re)
{
	char run[sizeof(f->must)];
	size_t n = 0;
	f->must_len = 0;
	f->must[0] = '\0';
	if (strpbrk(re, "|()") || strstr(re, "[:") || strstr(re, "[.") || strstr(re, "[="))
		return;
	for (const char *p = re;; p++) {
		char c = *p;
		if (c >= 32 && c <= 126 && !strchr(re_ops, c) && n + 1 < sizeof(run)) {
			run[n++] = lower(c);
			continue;
		}
		if (c == '*' || c == '?' || c == '{')
			n -= n > 0; /* the character before may be absent */
		if (n > f->must_len) {
			memcpy(f->must, run, n);
			f->must[n] = '\0';
			f->must_len = n;
		}
		n = 0;
		if (!c)
			return;
		if (c == '\\' && p[1]) {
			p++;           /* an escaped character: not taken */
		} else if (c == '[') { /* a bracket expression, to its closing ']' */
			p += p[1] == '^';
			p += p[1] == ']';
			while (p[1] && p[1] != ']')
				p++;
			p += p[1] == ']';
		} else if (c == '{') {
			while (p[1] && p[1] != '}')
				p++;
			p += p[1] == '}';
		}
	}
}

int filter_set(struct filter *f, const char *text, char *err, size_t errlen)
{
	int invert = text[0] == '!';
	const char *re = text + invert;
	regex_t nre;
	if (strlen(text) >= sizeof(f->text)) {
		snprintf(err, errlen, "filter: longer than %zu characters", sizeof(f->text) - 1);
		return -1;
	}
	if (!re[0]) {
		filter_clear(f);
		return 0;
	}
	int rc = regcomp(&nre, re, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		char msg[128];
		regerror(rc, &nre, msg, sizeof(msg));
		snprintf(err, errlen, "filter /%s/: %s", re, msg);
		return -1;
	}
	filter_clear(f);
	f->re = nre;
	f->active = 1;
	f->invert = invert;
	snprintf(f->text, sizeof(f->text), "%s", text);
	plain_set(f, re);
	if (!f->plain)
		must_set(f, re);
	return 0;
}

void filter_clear(struct filter *f)
{
	if (f->active)
		regfree(&f->re);
	f->active = 0;
	f->invert = 0;
	f->plain = 0;
	f->must_len = 0;
	f->text[0] = '\0';
}

/* Does s hold the lower-case text p (n bytes) at s, ignoring the case of s? */
static int same_at(const char *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != p[i])
			return 0;
	return 1;
}

/* Does s hold the lower-case text p (n bytes, n > 0) anywhere, ignoring case? */
static int text_has(const char *s, size_t len, const char *p, size_t n)
{
	if (len < n)
		return 0;
	for (const char *end = s + len - n; s <= end; s++)
		if (lower(*s) == p[0] && same_at(s + 1, p + 1, n - 1))
			return 1;
	return 0;
}

static int plain_match(const struct filter *f, const char *s)
{
	const char *p = f->plain_text;
	size_t n = f->plain_len;
	if (f->plain_start && !f->plain_end)
		return strnlen(s, n) == n && same_at(s, p, n);
	size_t len = strlen(s);
	if (len < n)
		return 0;
	if (f->plain_end)
		return f->plain_start ? len == n && same_at(s, p, n) : same_at(s + len - n, p, n);
	return !n || text_has(s, len, p, n);
}

int filter_match(const struct filter *f, const char *s)
{
	if (!f->active)
		return 1;
	int hit = f->plain ? plain_match(f, s)
	                   : (!f->must_len || text_has(s, strlen(s), f->must, f->must_len)) &&
	                         regexec(&f->re, s, 0, NULL, 0) == 0;
	return hit != f->invert;
}

int filter_narrows(const char *before, const char *after)
{
	size_t n = strlen(before), slashes = 0;
	if (!before[0] || !strcmp(before, after))
		return 1; /* no filter lets everything through */
	if (before[0] == '!' || after[0] == '!' || strncmp(before, after, n) != 0)
		return 0;
	/* "R" then "Rtext": a row matching Rtext holds a match of R. Not if R ends in a
	 * backslash (it would escape text), nor if text has operators ("R*", "R|x"). */
	while (slashes < n && before[n - 1 - slashes] == '\\')
		slashes++;
	if (slashes % 2)
		return 0;
	for (const char *p = after + n; *p; p++)
		if (strchr(re_ops, *p))
			return 0;
	return 1;
}
