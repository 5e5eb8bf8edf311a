/* views.c - the views (hosts, VMs, one host's VMs, events, plan) as a table, and the
 * row list each frame shows: collected from the model, filtered, sorted, with the
 * cursor kept on the same row by its key. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmtop.h"

static void rows_push(struct row **rows, size_t *n, size_t *cap, enum row_kind kind, const void *p)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct row *nr = realloc(*rows, ncap * sizeof(**rows));
		if (!nr)
			return; /* shows fewer rows rather than none */
		*rows = nr;
		*cap = ncap;
	}
	(*rows)[(*n)++] = (struct row){kind, p};
}

/* --- collect ----------------------------------------------------------------- */

static void hosts_collect(const struct ui *ui, const struct view_env *e, struct row **rows,
                          size_t *n, size_t *cap)
{
	for (size_t i = 0; i < cluster_model_host_count(e->m); i++)
		rows_push(rows, n, cap, ROW_HOST, cluster_model_host_at(e->m, i));
}

static void vms_collect(const struct ui *ui, const struct view_env *e, struct row **rows, size_t *n,
                        size_t *cap)
{
	for (size_t i = 0; i < cluster_model_vm_count(e->m); i++)
		rows_push(rows, n, cap, ROW_VM, cluster_model_vm_at(e->m, i));
}

static void host_vms_collect(const struct ui *ui, const struct view_env *e, struct row **rows,
                             size_t *n, size_t *cap)
{
	for (size_t i = 0; i < cluster_model_vm_count(e->m); i++) {
		const struct cm_vm *v = cluster_model_vm_at(e->m, i);
		if (!strcmp(v->host, ui->host))
			rows_push(rows, n, cap, ROW_VM, v);
	}
}

static void events_collect(const struct ui *ui, const struct view_env *e, struct row **rows,
                           size_t *n, size_t *cap)
{
	for (size_t i = 0; i < cluster_model_migration_count(e->m); i++)
		rows_push(rows, n, cap, ROW_MIGRATION, cluster_model_migration_at(e->m, i));
	for (size_t i = 0; i < cluster_model_event_count(e->m); i++)
		rows_push(rows, n, cap, ROW_EVENT, cluster_model_event_at(e->m, i));
}

static void plan_collect(const struct ui *ui, const struct view_env *e, struct row **rows,
                         size_t *n, size_t *cap)
{
	for (size_t i = 0; i < ui->plan.n; i++)
		rows_push(rows, n, cap, ROW_MOVE, &ui->plan.moves[i]);
}

/* --- keys and filter texts ---------------------------------------------------- */

static const char *host_key(const struct row *r, char *buf, size_t len)
{
	return ((const struct cm_host *)r->p)->name;
}

static const char *vm_key(const struct row *r, char *buf, size_t len)
{
	return ((const struct cm_vm *)r->p)->name;
}

static const char *event_key(const struct row *r, char *buf, size_t len)
{
	if (r->kind == ROW_MIGRATION) {
		snprintf(buf, len, "migrating %s", ((const struct cm_migration *)r->p)->vm);
	} else {
		const struct cm_event *ev = r->p;
		snprintf(buf, len, "%lld %s %s %s", (long long)ev->ts_ms, ev->type, ev->host,
		         ev->vm);
	}
	return buf;
}

static const char *move_key(const struct row *r, char *buf, size_t len)
{
	return ((const struct plan_move *)r->p)->vm;
}

static void host_filter_text(const struct row *r, char *buf, size_t len)
{
	const struct cm_host *h = r->p;
	snprintf(buf, len, "%s %s%s %s", h->name, cm_host_state_name(h->state),
	         h->stale ? " stale" : "", h->driver);
}

static void vm_filter_text(const struct row *r, char *buf, size_t len)
{
	const struct cm_vm *v = r->p;
	snprintf(buf, len, "%s %s %s %s", v->name, v->host, v->state, v->tags);
}

static void event_filter_text(const struct row *r, char *buf, size_t len)
{
	if (r->kind == ROW_MIGRATION) {
		const struct cm_migration *g = r->p;
		snprintf(buf, len, "migrating %s %s %s", g->vm, g->from, g->to);
	} else {
		const struct cm_event *ev = r->p;
		snprintf(buf, len, "%s %s %s %s", ev->type, ev->host, ev->vm, ev->text);
	}
}

static void move_filter_text(const struct row *r, char *buf, size_t len)
{
	const struct plan_move *mv = r->p;
	snprintf(buf, len, "%s %s %s", mv->vm, mv->from, mv->to);
}

const struct view views[VIEW__COUNT] = {
    [VIEW_HOSTS] = {VIEW_HOSTS, "hosts", "Hosts", columns_host, &columns_host_n, "name",
                    hosts_collect, host_key, host_filter_text},
    [VIEW_VMS] = {VIEW_VMS, "vms", "VMs", columns_vm, &columns_vm_n, "name", vms_collect, vm_key,
                  vm_filter_text},
    [VIEW_HOST_VMS] = {VIEW_HOST_VMS, "host", "Host", columns_vm, &columns_vm_n, "name",
                       host_vms_collect, vm_key, vm_filter_text},
    [VIEW_EVENTS] = {VIEW_EVENTS, "events", "Events", columns_event, &columns_event_n, "time",
                     events_collect, event_key, event_filter_text},
    [VIEW_PLAN] = {VIEW_PLAN, "plan", "Plan", columns_plan, &columns_plan_n, NULL, plan_collect,
                   move_key, move_filter_text},
};

const struct view *view_find(const char *name)
{
	for (size_t i = 0; i < VIEW__COUNT; i++)
		if (!strcmp(views[i].name, name))
			return &views[i];
	return NULL;
}

/* --- UI state -------------------------------------------------------------------- */

void ui_init(struct ui *ui)
{
	memset(ui, 0, sizeof(*ui));
	for (size_t v = 0; v < VIEW__COUNT; v++) {
		const struct view *vw = &views[v];
		int col =
		    vw->default_sort ? column_find(vw->cols, *vw->ncols, vw->default_sort) : -1;
		ui->sort[v].col = col;
		ui->sort[v].desc = col >= 0 && (vw->cols[col].flags & COL_DESC) &&
		                   !(vw->cols[col].flags & COL_LEFT);
		if (v == VIEW_EVENTS)
			ui->sort[v].desc = 1; /* newest first */
	}
}

void ui_free(struct ui *ui)
{
	filter_clear(&ui->filter);
	free(ui->rows);
	marks_free(&ui->marks);
	plan_clear(&ui->plan);
	for (size_t i = 0; i < ui->prompt.nitems; i++)
		free(ui->prompt.items[i]);
	free(ui->prompt.items);
	for (size_t i = 0; i < ui->prompt.act.nvms; i++)
		free(ui->prompt.act.vms[i]);
	free(ui->prompt.act.vms);
	memset(ui, 0, sizeof(*ui));
}

void ui_status(struct ui *ui, int is_err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ui->status, sizeof(ui->status), fmt, ap);
	va_end(ap);
	ui->status_err = is_err;
	ui->status_result = 0;
}

void ui_result(struct ui *ui, int is_err, const char *text)
{
	if (!ui->status_result || !ui->status[0]) {
		snprintf(ui->status, sizeof(ui->status), "%s", text);
		ui->status_err = is_err;
		ui->status_result = 1;
		return;
	}
	char prev[sizeof(ui->status)];
	memcpy(prev, ui->status, sizeof(prev));
	int error_first = ui->status_err && !is_err; /* the error shown stays in front */
	const char *a = error_first ? prev : text, *b = error_first ? text : prev;
	size_t n = strnlen(a, sizeof(ui->status) - 1);
	memcpy(ui->status, a, n);
	ui->status[n] = '\0';
	size_t room = sizeof(ui->status) - n;
	if (room > 4) {
		memcpy(ui->status + n, " | ", 4);
		snprintf(ui->status + n + 3, room - 3, "%s", b);
	}
	ui->status_err |= is_err;
}

void ui_set_view(struct ui *ui, enum view_id v, const char *host)
{
	if (v == VIEW_HOST_VMS)
		snprintf(ui->host, sizeof(ui->host), "%s", host ? host : "");
	if (ui->view != v && ui->view != VIEW_HOST_VMS)
		ui->back = ui->view;
	ui->view = v;
	ui->cursor = ui->top = 0;
	ui->cursor_key[0] = '\0';
}

int ui_sort_by(struct ui *ui, const char *name, char *err, size_t errlen)
{
	const struct view *vw = &views[ui->view];
	int col = column_find(vw->cols, *vw->ncols, name);
	if (col < 0 || (vw->cols[col].flags & COL_BAR)) {
		snprintf(err, errlen, "sort: no column \"%s\" in the %s view", name, vw->name);
		return -1;
	}
	struct sortspec *s = &ui->sort[ui->view];
	if (s->col == col)
		s->desc = !s->desc;
	else
		*s = (struct sortspec){col, (vw->cols[col].flags & COL_DESC) != 0};
	return 0;
}

void ui_cursor_to(struct ui *ui, size_t i)
{
	char kb[sizeof(ui->cursor_key)];
	if (!ui->nrows)
		return;
	ui->cursor = i < ui->nrows ? i : ui->nrows - 1;
	snprintf(ui->cursor_key, sizeof(ui->cursor_key), "%s",
	         views[ui->view].key(&ui->rows[ui->cursor], kb, sizeof(kb)));
}

const struct row *ui_current(const struct ui *ui)
{
	return ui->cursor < ui->nrows ? &ui->rows[ui->cursor] : NULL;
}

/* --- build ------------------------------------------------------------------------ */

struct sort_ctx {
	const struct view *vw;
	const struct column *col;
	int desc;
	const struct view_env *e;
};

static int row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *s = arg;
	const struct row *a = pa, *b = pb;
	char ka[160], kb[160];
	if (a->kind != b->kind) /* migrations in flight above events */
		return (int)a->kind - (int)b->kind;
	int d = s->col ? column_compare(s->col, a, b, s->e, s->desc) : 0;
	if (d)
		return d;
	return strcmp(s->vw->key(a, ka, sizeof(ka)), s->vw->key(b, kb, sizeof(kb)));
}

/* The fast path for big views: each row's sort value and key worked out once. */
struct sort_ent {
	double num;
	const char *str;
	const char *key;
	struct row r;
};

static int ent_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *s = arg;
	const struct sort_ent *a = pa, *b = pb;
	int d;
	if (s->col->num) {
		int na = a->num != a->num, nb = b->num != b->num; /* NAN: unknown, last */
		if (na || nb)
			d = na - nb;
		else
			d = s->desc ? (a->num < b->num) - (a->num > b->num)
			            : (a->num > b->num) - (a->num < b->num);
	} else {
		d = strcmp(a->str, b->str);
		d = s->desc ? -d : d;
	}
	return d ? d : strcmp(a->key, b->key);
}

/* Sorts with precomputed values when the column and the keys allow; returns 0 if not. */
static int sort_fast(struct ui *ui, const struct sort_ctx *sc, size_t n)
{
	const struct column *c = sc->col;
	if (!c || !(c->num || c->str) || sc->vw->id == VIEW_EVENTS || n < 2)
		return 0;
	struct sort_ent *ents = malloc(n * sizeof(*ents));
	if (!ents)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &ui->rows[i];
		ents[i].r = *r;
		ents[i].key = sc->vw->key(r, NULL, 0); /* stable names outside events */
		if (c->num)
			ents[i].num = c->num(r, sc->e);
		else
			ents[i].str = c->str(r, sc->e);
	}
	qsort_r(ents, n, sizeof(*ents), ent_cmp, (void *)sc);
	for (size_t i = 0; i < n; i++)
		ui->rows[i] = ents[i].r;
	free(ents);
	return 1;
}

/* Keeps the cursor on its row (by key); else keeps its position. */
static void cursor_keep(struct ui *ui, const struct view *vw)
{
	size_t n = ui->nrows;
	if (ui->cursor_key[0]) {
		char kb[sizeof(ui->cursor_key)];
		for (size_t i = 0; i < n; i++)
			if (!strcmp(vw->key(&ui->rows[i], kb, sizeof(kb)), ui->cursor_key)) {
				ui->cursor = i;
				break;
			}
	}
	if (ui->cursor >= n)
		ui->cursor = n ? n - 1 : 0;
	if (n) {
		char kb[sizeof(ui->cursor_key)];
		snprintf(ui->cursor_key, sizeof(ui->cursor_key), "%s",
		         vw->key(&ui->rows[ui->cursor], kb, sizeof(kb)));
	} else {
		ui->cursor_key[0] = '\0';
	}
}

/* Keeps, of the first n rows, those the filter lets through; returns how many. */
static size_t rows_filter(struct ui *ui, const struct view *vw, size_t n)
{
	char text[512];
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		vw->filter_text(&ui->rows[i], text, sizeof(text));
		if (filter_match(&ui->filter, text))
			ui->rows[out++] = ui->rows[i];
	}
	return out;
}

static void built_note(struct ui *ui, const struct view_env *e)
{
	struct rows_built *b = &ui->built;
	b->valid = 1;
	b->view = ui->view;
	snprintf(b->host, sizeof(b->host), "%s", ui->host);
	snprintf(b->filter, sizeof(b->filter), "%s", ui->filter.text);
	b->sort = ui->sort[ui->view];
	b->layout = cluster_model_layout(e->m);
	b->version = cluster_model_version(e->m);
	b->nrows = ui->nrows;
}

void views_build(struct ui *ui, const struct view_env *e)
{
	const struct view *vw = &views[ui->view];
	size_t n = 0;
	vw->collect(ui, e, &ui->rows, &n, &ui->cap_rows);
	if (ui->filter.active)
		n = rows_filter(ui, vw, n);
	ui->nrows = n;
	const struct sortspec *ss = &ui->sort[ui->view];
	struct sort_ctx sc = {vw, ss->col >= 0 ? &vw->cols[ss->col] : NULL, ss->desc, e};
	if (n > 1 && (sc.col || ui->view == VIEW_EVENTS) && !sort_fast(ui, &sc, n))
		qsort_r(ui->rows, n, sizeof(*ui->rows), row_cmp, &sc);
	cursor_keep(ui, vw);
	built_note(ui, e);
}

/* Are the rows built for this view and sort, from the same hosts and VMs? The events
 * and plan views are small and their rows point into storage that moves: built anew. */
static int built_here(const struct ui *ui, const struct view_env *e)
{
	const struct rows_built *b = &ui->built;
	const struct sortspec *ss = &ui->sort[ui->view];
	return b->valid && b->view == ui->view && ui->view != VIEW_EVENTS &&
	       ui->view != VIEW_PLAN && (ui->view != VIEW_HOST_VMS || !strcmp(b->host, ui->host)) &&
	       b->sort.col == ss->col && b->sort.desc == ss->desc &&
	       b->layout == cluster_model_layout(e->m) && b->nrows == ui->nrows;
}

void views_update(struct ui *ui, const struct view_env *e, int fresh)
{
	if (!built_here(ui, e) || (fresh && ui->built.version != cluster_model_version(e->m)) ||
	    !filter_narrows(ui->built.filter, ui->filter.text)) {
		views_build(ui, e);
		return;
	}
	if (!strcmp(ui->built.filter, ui->filter.text))
		return;
	ui->nrows = rows_filter(ui, &views[ui->view], ui->nrows);
	cursor_keep(ui, &views[ui->view]);
	snprintf(ui->built.filter, sizeof(ui->built.filter), "%s", ui->filter.text);
	ui->built.nrows = ui->nrows;
}
