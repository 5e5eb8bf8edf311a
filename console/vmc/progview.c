/* progview.c - migrations shown while vmc waits (see progview.h). */
#include "progview.h"

#include <stdlib.h>
#include <string.h>

#define PROGVIEW_MAX_ROWS 64
#define PROGVIEW_STEP_PCT 10 /* plain output: a progress line per this many percent */

struct progview_row {
	char vm[72];
	char text[200];
	int last_pct; /* plain output: the last percent printed, -1 none */
};

struct progview {
	FILE *out;
	int tty;
	int table;
	int drawn; /* rows on the screen under the cursor's start */
	struct progview_row rows[PROGVIEW_MAX_ROWS];
	int nrows;
};

static const char *vstr(const cJSON *o, const char *k, const char *dflt)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : dflt;
}

static double vnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

struct progview *progview_new(FILE *out, int tty, int table)
{
	struct progview *v = calloc(1, sizeof(*v));
	if (v) {
		v->out = out;
		v->tty = tty;
		v->table = table;
	}
	return v;
}

/* The VM's row, made if new; NULL when the table is full (the event is then not shown). */
static struct progview_row *progview_row(struct progview *v, const char *vm)
{
	for (int i = 0; i < v->nrows; i++)
		if (strcmp(v->rows[i].vm, vm) == 0)
			return &v->rows[i];
	if (v->nrows == PROGVIEW_MAX_ROWS)
		return NULL;
	struct progview_row *r = &v->rows[v->nrows++];
	snprintf(r->vm, sizeof(r->vm), "%s", vm);
	r->last_pct = -1;
	return r;
}

/* Draws every row again over the ones drawn before. */
static void progview_draw(struct progview *v)
{
	if (v->drawn > 0)
		fprintf(v->out, "\033[%dA", v->drawn);
	for (int i = 0; i < v->nrows; i++)
		fprintf(v->out, "\r\033[K%s: %s\n", v->rows[i].vm, v->rows[i].text);
	v->drawn = v->nrows;
	fflush(v->out);
}

void progview_event(struct progview *v, const char *type, const cJSON *ev)
{
	struct progview_row *r = progview_row(v, vstr(ev, "vm", "?"));
	int progress = strcmp(type, "progress") == 0;
	if (!r)
		return;
	if (strcmp(type, "started") == 0) {
		snprintf(r->text, sizeof(r->text), "migrating from %s to %s", vstr(ev, "from", "?"),
		         vstr(ev, "to", "?"));
	} else if (progress) {
		snprintf(r->text, sizeof(r->text), "%3.0f%%  %.0f of %.0f MiB sent, round %.0f",
		         vnum(ev, "percent"), vnum(ev, "bytes") / 1048576.0,
		         vnum(ev, "total") / 1048576.0, vnum(ev, "round"));
	} else if (strcmp(type, "finished") == 0) {
		snprintf(r->text, sizeof(r->text), "now on %s (%.1f s, downtime %.0f ms)",
		         vstr(ev, "to", "?"), vnum(ev, "total_ms") / 1000.0,
		         vnum(ev, "downtime_ms"));
	} else if (strcmp(type, "failed") == 0) {
		snprintf(r->text, sizeof(r->text), "failed at %s on %s: %s", vstr(ev, "stage", "?"),
		         vstr(ev, "host", "?"), vstr(ev, "why", "?"));
	} else {
		return;
	}
	if (v->tty) {
		progview_draw(v);
		return;
	}
	if (!v->table && strcmp(type, "finished") == 0)
		return; /* the result line says it */
	if (progress) {
		int pct = (int)vnum(ev, "percent");
		if (r->last_pct >= 0 && pct < r->last_pct + PROGVIEW_STEP_PCT)
			return;
		r->last_pct = pct - pct % PROGVIEW_STEP_PCT;
	}
	fprintf(v->out, "%s: %s\n", r->vm, r->text);
	fflush(v->out);
}

void progview_end(struct progview *v, int keep)
{
	if (!v)
		return;
	if (v->tty && !keep && v->drawn > 0) {
		fprintf(v->out, "\033[%dA", v->drawn);
		for (int i = 0; i < v->drawn; i++)
			fprintf(v->out, "\r\033[K\n");
		fprintf(v->out, "\033[%dA", v->drawn);
		fflush(v->out);
	}
	free(v);
}
