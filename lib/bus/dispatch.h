/* dispatch.h - incoming messages to their handlers by topic: a const table of
 * {MQTT filter, handler}, the first matching row wins. Pure: no I/O, no allocation.
 *
 * Filters are relative to "vmc/<cluster>/" (topic_rest) and use MQTT's wildcards: '+'
 * matches one level (an empty one too), '#' as the last level matches the rest ("a/#"
 * matches "a" too). The levels '+' matched are copied out for the handler, so that it
 * reads the host or VM a topic names without splitting it again:
 *
 *   static const struct dispatch_row topics[] = {
 *       {"host/+/state", on_state},     on_state(ctx, msg, d): d->part[0] is the host
 *       {"host/#", NULL},               matched, and nothing done (ignored)
 *       {NULL, NULL},
 *   };
 *   if (dispatch_run(topics, rest, ctx, msg) < 0)
 *       ... no row matched
 *
 * Hostile topics: a level that '+' would match but that is longer than
 * DISPATCH_PART_MAX (no name is) fails that row, as does a filter with more than
 * DISPATCH_PARTS '+'; a topic holding '+' or '#' (no publisher may send one) matches
 * no row; an invalid filter ('#' not last, a wildcard inside a level) matches nothing. */
#ifndef VMC_DISPATCH_H
#define VMC_DISPATCH_H

#include <stddef.h>

#include "msg.h"

#define DISPATCH_PARTS 4
#define DISPATCH_PART_MAX VMC_NAME_MAX

/* A topic as a row matched it. */
struct dispatch_match {
	const char *rest; /* the topic after "vmc/<cluster>/" */
	const char *tail; /* what the filter's '#' matched ("" for no level), or NULL */
	size_t nparts;    /* how many '+' the filter has */
	char part[DISPATCH_PARTS][DISPATCH_PART_MAX + 1]; /* the levels they matched */
};

/* ctx and msg are the caller's, as given to dispatch_run. */
typedef void dispatch_fn(void *ctx, void *msg, const struct dispatch_match *d);

struct dispatch_row {
	const char *filter; /* NULL ends a table */
	dispatch_fn *fn;    /* NULL: the topic is matched and ignored */
};

/* 1 if filter matches rest, with d filled; else 0 (d then holds nothing useful). */
int dispatch_match(const char *filter, const char *rest, struct dispatch_match *d);

/* The index of the first row of rows whose filter matches rest, with d filled; -1 if
 * none does (or rest is NULL). */
int dispatch_find(const struct dispatch_row *rows, const char *rest, struct dispatch_match *d);

/* Finds the first matching row and calls its handler (if it has one) with ctx, msg and
 * the match. Returns the row's index, or -1 if no row matched. */
int dispatch_run(const struct dispatch_row *rows, const char *rest, void *ctx, void *msg);

#endif
