/* help.c - the help page's lines: keys.c and cmdline.c each add theirs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

void help_add(const char ***lines, size_t *n, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	const char **nl = realloc(*lines, (*n + 1) * sizeof(char *));
	char *copy = strdup(buf);
	if (!nl || !copy) {
		free(copy);
		if (nl)
			*lines = nl;
		return;
	}
	*lines = nl;
	nl[(*n)++] = copy;
}

void help_free(const char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)lines[i]);
	free(lines);
}
