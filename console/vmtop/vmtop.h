/* vmtop.h - vmtop-cluster's shared types: rows, columns, views, the UI state and the
 * program context. The model (lib/cluster/cluster_model.h) is sampled from the bus; the UI
 * draws it (draw.c) or prints it (batch.c) through one print layer (columns.c). */
#ifndef VMTOP_H
#define VMTOP_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../lib/cluster/cluster_model.h"
#include "../../lib/balance/plan_reply.h"

/* --- rows and columns ------------------------------------------------------- */

enum row_kind { ROW_HOST, ROW_VM, ROW_MIGRATION, ROW_EVENT, ROW_MOVE };

struct row {
	enum row_kind kind;
	const void *p; /* cm_host, cm_vm, cm_migration, cm_event or plan_move */
};

struct history;

/* What printing a row may need besides the row. */
struct view_env {
	const struct cluster_model *m;
	int64_t now_ms;
	const struct marks *marks;  /* NULL: nothing marked */
	const struct history *hist; /* NULL: no load history */
};

#define COL_LEFT 1  /* left-aligned text */
#define COL_BAR 2   /* screen only: a bar of num() percent */
#define COL_BATCH 4 /* batch only (json, csv, -b columns), not on screen */
#define COL_DESC 8  /* sorts descending when first chosen */
#define COL_FLEX 16 /* may widen to fill the screen (last column) */

struct column {
	const char *id;     /* JSON key, CSV header, name for :sort and --columns */
	const char *header; /* screen and -b header */
	int width;
	int flags;
	/* Numeric columns: the value (NAN when unknown: shown "-", JSON null, sorted last). */
	double (*num)(const struct row *r, const struct view_env *e);
	int prec; /* decimals shown of num */
	/* Plain text columns: the text itself (fast to sort on). */
	const char *(*str)(const struct row *r, const struct view_env *e);
	/* Formatted text, or a number shown otherwise (e.g. "1.5G/8.0G"): fills buf. */
	void (*text)(const struct row *r, const struct view_env *e, char *buf, size_t len);
};

/* columns.c: the tables, and the one print layer that screen and batch share. */
extern const struct column columns_host[], columns_vm[], columns_event[], columns_plan[];
extern const size_t columns_host_n, columns_vm_n, columns_event_n, columns_plan_n;
/* Formats the cell into buf (len >= 2); bars need width. Returns buf. */
const char *column_print(const struct column *c, const struct row *r, const struct view_env *e,
                         int width, char *buf, size_t len);
/* <0, 0, >0 as a sorts before b, ascending or descending; unknown numbers sort last
 * either way. */
int column_compare(const struct column *c, const struct row *a, const struct row *b,
                   const struct view_env *e, int desc);
/* Index of the column whose id or header matches name (case-insensitive), or -1. */
int column_find(const struct column *cols, size_t n, const char *name);
/* "512M", "1.5G", "2.0T". */
void fmt_mem(int64_t mb, char *buf, size_t len);
/* "45s", "12m", "3h", "2d"; "-" if ms < 0. */
void fmt_age(int64_t ms, char *buf, size_t len);
/* The header's two summary lines: hosts by state with CPU and memory used of total;
 * VMs by state, migrations in flight and the balancing mode and window. */
void fmt_summary(const struct cluster_model *m, int64_t now_ms, char *hosts, size_t hlen,
                 char *load, size_t llen);
/* Seconds east of UTC of local time at now_ms. */
long local_utc_offset(int64_t now_ms);
/* A bar of pct (0-100) in width characters: '|' filled, ' ' empty. */
void fmt_bar(double pct, int width, char *buf, size_t len);

/* --- load history (history.c) ------------------------------------------------- */

#define HIST_STEP_MS 5000 /* one point of a host's history: the mean over 5 s */
#define HIST_POINTS 60    /* kept: the last 5 minutes */

enum hist_series { HIST_CPU, HIST_MEM };

/* A new empty history (NULL when out of memory: the console shows none). */
struct history *history_new(void);
void history_free(struct history *h);
/* Adds what the model says now of every host with a live load. */
void history_sample(struct history *h, const struct cluster_model *m, int64_t now_ms);
/* The last n points (n <= HIST_POINTS) of a host's CPU or memory percent, oldest
 * first, NAN where nothing was seen. Returns how many hold a value. */
size_t history_series(const struct history *h, const char *host, enum hist_series which,
                      int64_t now_ms, double *out, size_t n);
/* The points as a sparkline of n cells, 0-100 %: UTF-8 blocks (U+2581-U+2588) when
 * utf8, else ASCII ".:-=+*#@"; a blank where there is no value. Returns buf. */
const char *fmt_spark(const double *v, size_t n, int utf8, char *buf, size_t len);

/* --- marks (marks.c) ----------------------------------------------------------- */

struct marks {
	char **names; /* sorted */
	size_t n, cap;
};
void marks_free(struct marks *mk);
int marks_has(const struct marks *mk, const char *name);
/* Toggles name; returns 1 if now marked. */
int marks_toggle(struct marks *mk, const char *name);
void marks_clear(struct marks *mk);
/* Drops marks of VMs the model no longer has. */
void marks_prune(struct marks *mk, const struct cluster_model *m);

/* --- filter (filter.c) ------------------------------------------------------ */

struct filter {
	char text[256]; /* as typed, "" = none */
	int active;
	int invert; /* text started with '!' */
	regex_t re;
	/* the expression is a plain text (no operators but a leading ^ and a trailing $):
	 * matched without the regex engine, lower-cased, anchored as plain_start/end say */
	int plain, plain_start, plain_end;
	char plain_text[256];
	size_t plain_len;
	/* else a lower-case text every match holds, checked before the regex engine runs */
	char must[256];
	size_t must_len;
};
/* Sets the filter from text ("" clears; "!re" inverts). Case-insensitive extended regex.
 * Returns 0, or -1 with the regex error in err (the old filter is kept). */
int filter_set(struct filter *f, const char *text, char *err, size_t errlen);
void filter_clear(struct filter *f);
/* 1 if s passes (always, without a filter). */
int filter_match(const struct filter *f, const char *s);
/* 1 if every text the filter after lets through, the filter before lets through too
 * (filter texts as typed, "" = none): typing more of a filter ("we" then "web") only
 * narrows it, so the rows it showed can be filtered again instead of all rows. */
int filter_narrows(const char *before, const char *after);

/* --- the plan (plan.c) ------------------------------------------------------ */

enum plan_state { PLAN_NONE, PLAN_WAITING, PLAN_READY, PLAN_FAILED };

struct plan {
	enum plan_state state;
	char host[VMC_NAME_MAX + 1]; /* the agent asked */
	char message[512];           /* what the view says above the moves */
	char about[200];             /* the result's other fields, "mode=balance unplaced=0" */
	char mode[16]; /* asked for: balance, consolidate, evacuate; "" = the agent's */
	int64_t ts_ms;
	struct plan_move *moves;
	size_t n;
};
/* Reads a balance.plan result: an array of moves, or an object with "moves" (or
 * "plan") holding one. Each move needs vm (or name), from and to; before/after loads
 * may be numbers, strings or objects. Returns 0, or -1 with err naming what was wrong. */
struct cJSON;
int plan_parse(struct plan *p, const struct cJSON *result, char *err, size_t errlen);
void plan_clear(struct plan *p);

/* --- views (views.c) -------------------------------------------------------- */

enum view_id { VIEW_HOSTS, VIEW_VMS, VIEW_HOST_VMS, VIEW_EVENTS, VIEW_PLAN, VIEW__COUNT };

struct ui;

struct view {
	enum view_id id;
	const char *name;  /* for :NAME, --view */
	const char *title; /* tab label */
	const struct column *cols;
	const size_t *ncols;
	const char *default_sort;
	/* Appends every row of the view (before filtering). */
	void (*collect)(const struct ui *ui, const struct view_env *e, struct row **rows, size_t *n,
	                size_t *cap);
	/* A row's identity, kept by the cursor across refreshes: the object's own name
	 * (buf unused), except in the events view, which fills buf. */
	const char *(*key)(const struct row *r, char *buf, size_t len);
	/* The text the filter matches. */
	void (*filter_text)(const struct row *r, char *buf, size_t len);
};

extern const struct view views[VIEW__COUNT];
/* The view named name ("hosts", "vms", "host", "events", "plan"), or NULL. */
const struct view *view_find(const char *name);

struct sortspec {
	int col;
	int desc;
};

/* What a view's rows were built from: while the view, its sort and the model's hosts
 * and VMs are the same, the rows may be kept (views_update). */
struct rows_built {
	int valid;
	enum view_id view;
	char host[VMC_NAME_MAX + 1];
	char filter[256];
	struct sortspec sort;
	uint64_t layout, version; /* cluster_model_layout and _version then */
	size_t nrows;
};

enum prompt_mode { PROMPT_NONE, PROMPT_FILTER, PROMPT_COMMAND, PROMPT_CONFIRM, PROMPT_PICK };

/* An action waiting for a host choice or a confirmation. */
struct pending {
	char op[32]; /* vm.migrate, vm.shutdown, vm.destroy, host.drain, host.undrain, vm.create */
	char **vms;  /* the VMs it applies to (vm.* ops) */
	size_t nvms;
	char host[VMC_NAME_MAX + 1];     /* host.* ops */
	char to[VMC_NAME_MAX + 1];       /* vm.migrate */
	char name[VMC_NAME_MAX + 1];     /* vm.create */
	char template[VMC_NAME_MAX + 1]; /* vm.create */
};

struct prompt {
	enum prompt_mode mode;
	char label[256];
	char buf[256];
	size_t len;
	char **items; /* PROMPT_PICK choices */
	size_t nitems, sel;
	struct pending act;
};

struct ui {
	enum view_id view, back;
	char host[VMC_NAME_MAX + 1]; /* VIEW_HOST_VMS */
	struct sortspec sort[VIEW__COUNT];
	int hscroll[VIEW__COUNT]; /* columns scrolled off after the first */
	struct filter filter;
	struct row *rows;
	size_t nrows, cap_rows;
	struct rows_built built; /* what rows were made from (views_update) */
	size_t cursor, top;
	char cursor_key[VMC_NAME_MAX * 2 + 40];
	struct marks marks;
	struct prompt prompt;
	int help;
	char status[512];
	int status_err;
	int status_result; /* status holds replies the user has not yet seen past */
	int read_only;
	struct plan plan;
};

void ui_init(struct ui *ui);
void ui_free(struct ui *ui);
/* Rebuilds ui->rows for the current view: collect, filter, sort; keeps the cursor on
 * the same row (by key) when it is still there. */
void views_build(struct ui *ui, const struct view_env *e);
/* Brings ui->rows up to date with as little work as it can, for a key press or a
 * frame. Nothing while they were built from the same view, sort, filter and model;
 * with fresh 0 the same hosts and VMs count as the same model even if their figures
 * changed (the rows keep their order until a fresh update). A filter that narrows the
 * one the rows were built with (filter_narrows) filters them again in place, keeping
 * their order; anything else builds them anew (views_build). */
void views_update(struct ui *ui, const struct view_env *e, int fresh);
/* Moves the cursor to row i (clamped) and remembers that row's key. */
void ui_cursor_to(struct ui *ui, size_t i);
/* The row under the cursor, or NULL. */
const struct row *ui_current(const struct ui *ui);
/* Switches view; VIEW_HOST_VMS needs host. */
void ui_set_view(struct ui *ui, enum view_id v, const char *host);
/* Sorts the current view by column name (toggling direction if it already is).
 * Returns 0, or -1 with err naming the unknown column. */
int ui_sort_by(struct ui *ui, const char *name, char *err, size_t errlen);
/* Sets the status line. */
void ui_status(struct ui *ui, int is_err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Shows the outcome of a command. Outcomes that arrive before the next key press are
 * shown together, errors first, so a refusal is never hidden by a later "ok". */
void ui_result(struct ui *ui, int is_err, const char *text);

/* --- the screen (draw.c) --------------------------------------------------- */

enum role {
	ROLE_NORMAL,
	ROLE_TITLE,   /* the top line */
	ROLE_LABEL,   /* header labels */
	ROLE_COLHDR,  /* column headers */
	ROLE_SORTHDR, /* the sort column's header */
	ROLE_CURSOR,  /* the selected row */
	ROLE_GOOD,    /* online, low load */
	ROLE_WARN,    /* maintenance, busy */
	ROLE_BAD,     /* offline, overloaded, errors */
	ROLE_DIM,     /* stale or offline rows */
	ROLE_MARK,    /* marked rows */
	ROLE_TAB,     /* the current view's tab */
	ROLE_ERROR,   /* an error in the status line */
	ROLE__COUNT
};

#define SCREEN_COLS_MAX 32

/* Where the last frame put things, for the mouse. */
struct screen_map {
	int tab_x[5], tab_end[5]; /* the tabs' columns, in tab order (hosts, VMs, events, plan) */
	int ntabs;
	int header_y;             /* the column titles' line */
	int col[SCREEN_COLS_MAX]; /* the columns shown: index in the view's table, x, width */
	int col_x[SCREEN_COLS_MAX], col_w[SCREEN_COLS_MAX];
	int ncols;
	int body_y, body_rows; /* the table's rows: first line and how many */
};

struct screen {
	int colors; /* 0: monochrome attributes only */
	int attr[ROLE__COUNT];
	int help_top; /* first help line shown */
	int utf8;     /* the locale writes UTF-8: sparklines in blocks */
	struct screen_map map;
};

/* What the header shows besides the model. */
struct draw_info {
	const char *cluster;
	const char *broker;
	int connected;
	int read_only;
	const char *const *help; /* help page lines (keys, then commands) */
	size_t nhelp;
};

/* Chooses colours (16-colour palette) or monochrome attributes; call after initscr. */
void draw_init(struct screen *s, int mono);
/* Draws one frame of ui (whose rows views_build made) to stdscr and refreshes. */
void draw_frame(struct screen *s, struct ui *ui, const struct view_env *e,
                const struct draw_info *di);
/* Rows of the table area at the current screen size. */
int draw_table_rows(void);

#endif
