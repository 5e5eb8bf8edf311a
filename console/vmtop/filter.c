/* filter.c - the row filter: a case-insensitive extended regular expression, inverted
 * by a leading '!', kept across views. */
#include <stdio.h>
#include <string.h>

#include "vmtop.h"

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
	return 0;
}

void filter_clear(struct filter *f)
{
	if (f->active)
		regfree(&f->re);
	f->active = 0;
	f->invert = 0;
	f->text[0] = '\0';
}

int filter_match(const struct filter *f, const char *s)
{
	if (!f->active)
		return 1;
	int hit = regexec(&f->re, s, 0, NULL, 0) == 0;
	return hit != f->invert;
}
