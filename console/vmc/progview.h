/* progview.h - how vmc shows the migrations of a long command while it waits.
 *
 * On a terminal each migration is one line updated in place (a drain's
 * migrations make a small table); elsewhere each step is a plain line, the
 * progress at most one line per 10 % so that logs stay short. */
#ifndef VMC_PROGVIEW_H
#define VMC_PROGVIEW_H

#include <cjson/cJSON.h>
#include <stdio.h>

struct progview;

/* A view printing on out; tty: update lines in place (out is a terminal); table: several
 * migrations (a drain), whose ends are shown too (a single migration's end is the result
 * the caller prints). NULL if no memory. */
struct progview *progview_new(FILE *out, int tty, int table);
/* One migration.* event (type without the "migration." prefix: started, progress,
 * finished, failed) for the VM the event names. */
void progview_event(struct progview *v, const char *type, const cJSON *ev);
/* Ends the view before the result is printed: keep leaves the table on the terminal,
 * otherwise it is erased (the result line says it all). Frees v. */
void progview_end(struct progview *v, int keep);

#endif
