/* marks.c - the VMs marked with Space: a sorted set of names that actions apply to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmtop.h"

/* Position of name, or where it would go; *found says which. */
static size_t marks_pos(const struct marks *mk, const char *name, int *found)
{
	size_t lo = 0, hi = mk->n;
	*found = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(mk->names[mid], name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int marks_has(const struct marks *mk, const char *name)
{
	int found;
	marks_pos(mk, name, &found);
	return found;
}

int marks_toggle(struct marks *mk, const char *name)
{
	int found;
	size_t at = marks_pos(mk, name, &found);
	if (found) {
		free(mk->names[at]);
		memmove(mk->names + at, mk->names + at + 1, (mk->n - at - 1) * sizeof(char *));
		mk->n--;
		return 0;
	}
	if (mk->n == mk->cap) {
		size_t ncap = mk->cap ? mk->cap * 2 : 16;
		char **nn = realloc(mk->names, ncap * sizeof(char *));
		if (!nn)
			return 0;
		mk->names = nn;
		mk->cap = ncap;
	}
	char *copy = strdup(name);
	if (!copy)
		return 0;
	memmove(mk->names + at + 1, mk->names + at, (mk->n - at) * sizeof(char *));
	mk->names[at] = copy;
	mk->n++;
	return 1;
}

void marks_clear(struct marks *mk)
{
	for (size_t i = 0; i < mk->n; i++)
		free(mk->names[i]);
	mk->n = 0;
}

void marks_free(struct marks *mk)
{
	marks_clear(mk);
	free(mk->names);
	memset(mk, 0, sizeof(*mk));
}

void marks_prune(struct marks *mk, const struct cluster_model *m)
{
	size_t out = 0;
	for (size_t i = 0; i < mk->n; i++) {
		if (cluster_model_vm_find(m, mk->names[i]))
			mk->names[out++] = mk->names[i];
		else
			free(mk->names[i]);
	}
	mk->n = out;
}
