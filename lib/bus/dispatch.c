/* dispatch.c - {filter, handler} tables: MQTT filter matching that copies out what
 * each '+' matched. */
#include "dispatch.h"

#include <string.h>

/* One '+' level of length len at t, into d's next part. 0, or -1 if it does not fit. */
static int part_take(struct dispatch_match *d, const char *t, size_t len)
{
	if (d->nparts >= DISPATCH_PARTS || len > DISPATCH_PART_MAX)
		return -1;
	memcpy(d->part[d->nparts], t, len);
	d->part[d->nparts][len] = '\0';
	d->nparts++;
	return 0;
}

/* 1 if filter matches rest, a topic without wildcards. */
static int match(const char *filter, const char *rest, struct dispatch_match *d)
{
	d->rest = rest;
	d->tail = NULL;
	d->nparts = 0;
	const char *f = filter, *t = rest;
	for (;;) {
		size_t fl = strcspn(f, "/"), tl = strcspn(t, "/");
		if (fl == 1 && f[0] == '#') {
			d->tail = t;
			return f[1] == '\0'; /* '#' must be the last level */
		}
		if (fl == 1 && f[0] == '+') {
			if (part_take(d, t, tl) < 0)
				return 0;
		} else if (memchr(f, '+', fl) || memchr(f, '#', fl) || fl != tl ||
		           memcmp(f, t, fl) != 0)
			return 0; /* another level, or a wildcard inside a level: invalid */
		f += fl;
		t += tl;
		if (*f == '\0')
			return *t == '\0';
		if (*t == '\0') { /* "a/#" matches "a" */
			d->tail = t;
			return strcmp(f, "/#") == 0;
		}
		f++;
		t++;
	}
}

/* A topic a row may match: not NULL, and no wildcard in it (no publisher may send one). */
static int topic_ok(const char *rest)
{
	return rest && !strpbrk(rest, "+#");
}

int dispatch_match(const char *filter, const char *rest, struct dispatch_match *d)
{
	return filter && topic_ok(rest) && match(filter, rest, d);
}

int dispatch_find(const struct dispatch_row *rows, const char *rest, struct dispatch_match *d)
{
	if (!rows || !topic_ok(rest))
		return -1;
	for (int i = 0; rows[i].filter; i++)
		if (match(rows[i].filter, rest, d))
			return i;
	return -1;
}

int dispatch_run(const struct dispatch_row *rows, const char *rest, void *ctx, void *msg)
{
	struct dispatch_match d;
	int i = dispatch_find(rows, rest, &d);
	if (i >= 0 && rows[i].fn)
		rows[i].fn(ctx, msg, &d);
	return i;
}
