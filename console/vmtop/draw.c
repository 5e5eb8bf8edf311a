/* draw.c - one frame on the terminal: header, view tabs, the table of the current view
 * through the columns' print layer, the status or prompt line, and the help page and
 * host picker over it. Usable from 80x24 up; 16 colours, or monochrome attributes. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmtop.h"

#define HEADER_LINES 5 /* title, hosts/VMs, CPU/memory, tabs, column headers */
#define MAX_VISIBLE_COLS SCREEN_COLS_MAX
#define SPARK_LINES 2 /* the hosts view's CPU and memory history of the host selected */

enum {
	PAIR_TITLE = 1,
	PAIR_COLHDR,
	PAIR_SORT,
	PAIR_CURSOR,
	PAIR_GOOD,
	PAIR_WARN,
	PAIR_BAD,
	PAIR_MARK,
	PAIR_ERROR,
	PAIR_LABEL,
	PAIR_DIM
};

void draw_init(struct screen *s, int mono)
{
	static const struct {
		short pair, fg, bg;
		int role, extra;
	} palette[] = {
	    {PAIR_TITLE, COLOR_BLACK, COLOR_CYAN, ROLE_TITLE, 0},
	    {PAIR_LABEL, COLOR_CYAN, -1, ROLE_LABEL, A_BOLD},
	    {PAIR_COLHDR, COLOR_BLACK, COLOR_GREEN, ROLE_COLHDR, 0},
	    {PAIR_SORT, COLOR_BLACK, COLOR_CYAN, ROLE_SORTHDR, A_BOLD},
	    {PAIR_CURSOR, COLOR_BLACK, COLOR_CYAN, ROLE_CURSOR, 0},
	    {PAIR_GOOD, COLOR_GREEN, -1, ROLE_GOOD, 0},
	    {PAIR_WARN, COLOR_YELLOW, -1, ROLE_WARN, 0},
	    {PAIR_BAD, COLOR_RED, -1, ROLE_BAD, A_BOLD},
	    {PAIR_MARK, COLOR_YELLOW, -1, ROLE_MARK, A_BOLD},
	    {PAIR_ERROR, COLOR_WHITE, COLOR_RED, ROLE_ERROR, A_BOLD},
	    {PAIR_DIM, COLOR_BLUE, -1, ROLE_DIM, A_BOLD},
	    {PAIR_TITLE, COLOR_BLACK, COLOR_CYAN, ROLE_TAB, A_BOLD},
	};
	/* what monochrome terminals get */
	static const int mono_attr[ROLE__COUNT] = {
	    [ROLE_TITLE] = A_REVERSE,
	    [ROLE_LABEL] = A_BOLD,
	    [ROLE_COLHDR] = A_REVERSE,
	    [ROLE_SORTHDR] = A_REVERSE | A_BOLD | A_UNDERLINE,
	    [ROLE_CURSOR] = A_REVERSE,
	    [ROLE_GOOD] = 0,
	    [ROLE_WARN] = A_BOLD,
	    [ROLE_BAD] = A_BOLD | A_UNDERLINE,
	    [ROLE_DIM] = A_DIM,
	    [ROLE_MARK] = A_BOLD,
	    [ROLE_TAB] = A_REVERSE | A_BOLD,
	    [ROLE_ERROR] = A_REVERSE | A_BOLD,
	};
	memset(s, 0, sizeof(*s));
	s->utf8 = MB_CUR_MAX > 1;
	for (int r = 0; r < ROLE__COUNT; r++)
		s->attr[r] = mono_attr[r];
	/* COLORS and COLOR_PAIRS are known only once start_color() has run */
	if (mono || !has_colors() || start_color() == ERR)
		return;
	s->colors = COLORS >= 8 && COLOR_PAIRS > PAIR_DIM;
	if (!s->colors)
		return;
	/* without the terminal's own background, black stands in for it */
	short dflt = use_default_colors() == OK ? -1 : COLOR_BLACK;
	for (size_t i = 0; i < sizeof(palette) / sizeof(palette[0]); i++) {
		init_pair(palette[i].pair, palette[i].fg, palette[i].bg < 0 ? dflt : palette[i].bg);
		s->attr[palette[i].role] = (int)COLOR_PAIR(palette[i].pair) | palette[i].extra;
	}
}

int draw_table_rows(void)
{
	int n = LINES - HEADER_LINES - 1;
	return n > 1 ? n : 1;
}

/* Writes text at (y, x), at most w columns, with attr; returns the columns written. */
static int put(int y, int x, int w, int attr, const char *text)
{
	if (w <= 0 || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	int n = (int)strlen(text);
	if (n > w)
		n = w;
	attron(attr);
	mvaddnstr(y, x, text, n);
	attroff(attr);
	return n;
}

/* A whole line in attr, padded to the screen's width. */
static void put_line(int y, int attr, const char *text)
{
	attron(attr);
	mvhline(y, 0, ' ', COLS);
	attroff(attr);
	put(y, 0, COLS, attr, text);
}

/* --- header ------------------------------------------------------------------ */

/* HA: a failed fence is an alert on the title line until the host comes back: after
 * the title if it fits, else over the broker's address. */
static void draw_fence_alert(struct screen *s, const struct view_env *e, int title_w, int min_x,
                             int right_w)
{
	const char *first = NULL;
	size_t n = 0;
	for (size_t i = 0; i < cluster_model_host_count(e->m); i++) {
		const struct cm_host *h = cluster_model_host_at(e->m, i);
		if (cluster_model_host_fence(h) != CM_FENCE_FAILED)
			continue;
		n++;
		if (!first || strcmp(h->name, first) < 0)
			first = h->name;
	}
	if (!n)
		return;
	char alert[128];
	if (n == 1)
		snprintf(alert, sizeof(alert), " FENCE FAILED: %s ", first);
	else
		snprintf(alert, sizeof(alert), " FENCE FAILED: %s +%zu ", first, n - 1);
	int w = (int)strlen(alert), x = title_w + 2;
	if (x + w > COLS - right_w - 1)
		x = min_x;
	put(0, x, COLS - right_w - 1 - x, s->attr[ROLE_ERROR], alert);
}

static void draw_header(struct screen *s, const struct ui *ui, const struct view_env *e,
                        const struct draw_info *di)
{
	struct cm_summary sm;
	char line[512], clock[16];
	time_t now = (time_t)(e->now_ms / 1000);
	struct tm tm;
	cluster_model_summary(e->m, &sm);
	if (!localtime_r(&now, &tm) || !strftime(clock, sizeof(clock), "%H:%M:%S", &tm))
		clock[0] = '\0';

	snprintf(line, sizeof(line), " vmtop-cluster  %s @ %s%s", di->cluster, di->broker,
	         di->read_only ? "  read-only" : "");
	put_line(0, s->attr[ROLE_TITLE], line);
	const char *conn = di->connected ? "[connected]" : "[DISCONNECTED, reconnecting]";
	int cw = (int)strlen(conn) + (int)strlen(clock) + 2;
	put(0, COLS - cw, cw, s->attr[di->connected ? ROLE_TITLE : ROLE_ERROR], conn);
	put(0, COLS - (int)strlen(clock) - 1, (int)strlen(clock), s->attr[ROLE_TITLE], clock);
	draw_fence_alert(s, e, (int)strlen(line), 16 + (int)strlen(di->cluster), cw);

	char hosts[256], load[256];
	fmt_summary(e->m, e->now_ms, hosts, sizeof(hosts), load, sizeof(load));
	snprintf(line, sizeof(line), " %s", hosts);
	put(1, 0, COLS, s->attr[sm.offline || sm.stale ? ROLE_WARN : ROLE_LABEL], line);
	snprintf(line, sizeof(line), " %s", load);
	put(2, 0, COLS, s->attr[ROLE_LABEL], line);
}

static void draw_tabs(struct screen *s, const struct ui *ui)
{
	static const enum view_id order[] = {VIEW_HOSTS, VIEW_VMS, VIEW_EVENTS, VIEW_PLAN};
	char tab[96], right[320] = "";
	int x = 0;
	move(3, 0);
	clrtoeol();
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int cur =
		    ui->view == order[i] || (order[i] == VIEW_VMS && ui->view == VIEW_HOST_VMS);
		if (order[i] == VIEW_VMS && ui->view == VIEW_HOST_VMS)
			snprintf(tab, sizeof(tab), " %zu VMs on %s ", i + 1, ui->host);
		else
			snprintf(tab, sizeof(tab), " %zu %s ", i + 1, views[order[i]].title);
		s->map.tab_x[i] = x;
		x += put(3, x, COLS, cur ? s->attr[ROLE_TAB] : s->attr[ROLE_NORMAL], tab);
		s->map.tab_end[i] = x;
	}
	s->map.ntabs = (int)(sizeof(order) / sizeof(order[0]));
	const struct view *vw = &views[ui->view];
	const struct sortspec *ss = &ui->sort[ui->view];
	size_t used = 0;
	if (ui->filter.active)
		used += (size_t)snprintf(right + used, sizeof(right) - used, "filter /%s/  ",
		                         ui->filter.text);
	if (ui->marks.n && used < sizeof(right))
		used += (size_t)snprintf(right + used, sizeof(right) - used, "marked %zu  ",
		                         ui->marks.n);
	if (ss->col >= 0 && used < sizeof(right)) /* as the column's title says it */
		snprintf(right + used, sizeof(right) - used, "sort %s %s",
		         vw->cols[ss->col].header[0] ? vw->cols[ss->col].header
		                                     : vw->cols[ss->col].id,
		         ss->desc ? "desc" : "asc");
	int rw = (int)strlen(right);
	if (x + 2 + rw > COLS)
		rw = COLS - x - 2;
	if (rw > 0)
		put(3, COLS - rw, rw, s->attr[ui->filter.active ? ROLE_WARN : ROLE_LABEL], right);
}

/* --- the table --------------------------------------------------------------- */

struct layout {
	int col[MAX_VISIBLE_COLS];
	int x[MAX_VISIBLE_COLS];
	int w[MAX_VISIBLE_COLS];
	int n;
};

/* Which columns fit: the first always, then from the horizontal scroll on. */
static void layout_columns(const struct view *vw, int hscroll, struct layout *lo)
{
	size_t ncols = *vw->ncols;
	int x = 1; /* column 0 is the mark gutter */
	lo->n = 0;
	for (size_t i = 0; i < ncols && lo->n < MAX_VISIBLE_COLS && x < COLS; i++) {
		const struct column *c = &vw->cols[i];
		if (c->flags & COL_BATCH)
			continue;
		if (i > 0 && hscroll > 0) {
			hscroll--;
			continue;
		}
		int w = c->width;
		if ((c->flags & COL_FLEX) || x + w >= COLS)
			w = COLS - x > w ? COLS - x : w;
		lo->col[lo->n] = (int)i;
		lo->x[lo->n] = x;
		lo->w[lo->n] = w;
		lo->n++;
		x += w + 1;
	}
}

/* Writes text in a cell: right-aligned unless the column is left-aligned. */
static void put_cell(int y, int x, int w, int attr, const struct column *c, const char *text)
{
	int n = (int)strlen(text);
	if (!(c->flags & COL_LEFT) && n < w)
		x += w - n;
	put(y, x, w, attr, text);
}

static int host_dim(const struct cm_host *h)
{
	return !h || h->state == CM_HOST_OFFLINE || h->stale;
}

static int row_dim(const struct row *r, const struct view_env *e)
{
	if (r->kind == ROW_HOST)
		return host_dim(r->p);
	if (r->kind == ROW_VM) {
		const struct cm_vm *v = r->p;
		return host_dim(cluster_model_host_find(e->m, v->host)) ||
		       strcmp(v->state, "stopped") == 0;
	}
	return 0;
}

static enum role state_role(const char *state)
{
	static const struct {
		const char *state;
		enum role role;
	} roles[] = {
	    {"online", ROLE_GOOD},    {"running", ROLE_GOOD},  {"maintenance", ROLE_WARN},
	    {"paused", ROLE_WARN},    {"incoming", ROLE_WARN}, {"outgoing", ROLE_WARN},
	    {"migrating", ROLE_WARN}, {"offline", ROLE_BAD},   {"crashed", ROLE_BAD},
	    {"stale", ROLE_WARN},     {"unknown", ROLE_DIM},
	};
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(roles[i].state, state))
			return roles[i].role;
	return ROLE_NORMAL;
}

static enum role load_role(double pct)
{
	return isnan(pct) ? ROLE_NORMAL : pct >= 90 ? ROLE_BAD : pct >= 70 ? ROLE_WARN : ROLE_GOOD;
}

/* The colour a cell gets in a row that is neither selected, marked nor dimmed. */
static enum role cell_role(const struct column *c, const struct row *r, const struct view_env *e,
                           const char *text)
{
	if (!strcmp(c->id, "state") || (!strcmp(c->id, "type") && r->kind == ROW_EVENT))
		return strstr(text, "offline") || strstr(text, "failed") ? ROLE_BAD
		                                                         : state_role(text);
	if (!strcmp(c->id, "fence") || !strcmp(c->id, "ha")) /* HA alerts */
		return !strcmp(text, "FAILED") ? ROLE_BAD
		       : text[0] == 'f'        ? ROLE_WARN
		                               : ROLE_NORMAL;
	if (c->flags & COL_BAR)
		return load_role(c->num(r, e));
	if (!strcmp(c->id, "cpu") && r->kind == ROW_HOST)
		return load_role(c->num(r, e));
	if (!strcmp(c->id, "migration") || r->kind == ROW_MIGRATION)
		return ROLE_WARN;
	return ROLE_NORMAL;
}

static void draw_row(struct screen *s, int y, const struct view *vw, const struct layout *lo,
                     const struct row *r, const struct view_env *e, int selected)
{
	char buf[512];
	int marked = r->kind == ROW_VM && e->marks &&
	             marks_has(e->marks, ((const struct cm_vm *)r->p)->name);
	int base = selected        ? s->attr[ROLE_CURSOR]
	           : marked        ? s->attr[ROLE_MARK]
	           : row_dim(r, e) ? s->attr[ROLE_DIM]
	                           : s->attr[ROLE_NORMAL];
	if (selected) {
		attron(base);
		mvhline(y, 0, ' ', COLS);
		attroff(base);
	}
	put(y, 0, 1, base, marked ? "*" : " ");
	for (int i = 0; i < lo->n; i++) {
		const struct column *c = &vw->cols[lo->col[i]];
		column_print(c, r, e, lo->w[i], buf, sizeof(buf));
		int attr = base;
		if (base == s->attr[ROLE_NORMAL])
			attr = s->attr[cell_role(c, r, e, buf)];
		put_cell(y, lo->x[i], lo->w[i], attr, c, buf);
	}
}

/* Under the hosts table: the selected host's CPU and memory over the last minutes. */
static void draw_sparks(struct screen *s, const struct ui *ui, const struct view_env *e, int y)
{
	static const struct {
		enum hist_series which;
		const char *label;
	} lines[SPARK_LINES] = {{HIST_CPU, "CPU%"}, {HIST_MEM, "MEM%"}};
	const struct row *r = ui_current(ui);
	const char *host = r && r->kind == ROW_HOST ? ((const struct cm_host *)r->p)->name : NULL;
	double v[HIST_POINTS];
	char head[128], spark[HIST_POINTS * 4 + 1], tail[32];
	for (int i = 0; i < SPARK_LINES; i++) {
		move(y + i, 0);
		clrtoeol();
		if (!host)
			continue;
		/* as many points as fit, at most the whole history */
		int n = COLS - 20 - (int)strlen(host) - 1;
		if (n > HIST_POINTS)
			n = HIST_POINTS;
		if (n < 4)
			return;
		size_t have =
		    history_series(e->hist, host, lines[i].which, e->now_ms, v, (size_t)n);
		double last = NAN;
		for (int k = 0; k < n; k++)
			last = isnan(v[k]) ? last : v[k];
		snprintf(head, sizeof(head), " %s %s %dm ", host, lines[i].label,
		         n * HIST_STEP_MS / 60000 ? n * HIST_STEP_MS / 60000 : 1);
		int x = put(y + i, 0, COLS, s->attr[ROLE_LABEL], head);
		fmt_spark(v, (size_t)n, s->utf8, spark, sizeof(spark));
		attron(s->attr[load_role(last)]);
		mvaddstr(y + i, x, spark); /* UTF-8 blocks: one column each */
		attroff(s->attr[load_role(last)]);
		if (have)
			snprintf(tail, sizeof(tail), " %5.1f", last);
		else
			snprintf(tail, sizeof(tail), " (no history yet)");
		put(y + i, x + n, COLS - x - n, s->attr[ROLE_LABEL], tail);
	}
}

static void draw_table(struct screen *s, struct ui *ui, const struct view_env *e)
{
	const struct view *vw = &views[ui->view];
	struct layout lo;
	int y = HEADER_LINES - 1, rows = draw_table_rows();
	layout_columns(vw, ui->hscroll[ui->view], &lo);

	attron(s->attr[ROLE_COLHDR]);
	mvhline(y, 0, ' ', COLS);
	attroff(s->attr[ROLE_COLHDR]);
	s->map.header_y = y;
	s->map.ncols = lo.n;
	for (int i = 0; i < lo.n; i++) {
		const struct column *c = &vw->cols[lo.col[i]];
		int sorted = ui->sort[ui->view].col == lo.col[i];
		put_cell(y, lo.x[i], lo.w[i], s->attr[sorted ? ROLE_SORTHDR : ROLE_COLHDR], c,
		         c->header);
		s->map.col[i] = lo.col[i];
		s->map.col_x[i] = lo.x[i];
		s->map.col_w[i] = lo.w[i];
	}
	y++;
	if (ui->view == VIEW_HOSTS && rows > SPARK_LINES + 2) {
		rows -= SPARK_LINES;
		draw_sparks(s, ui, e, y + rows);
	}

	if (ui->view == VIEW_PLAN) { /* what the dry run said, above its moves */
		const char *msg = ui->plan.message[0]
		                      ? ui->plan.message
		                      : "No plan yet: press p to ask for a dry run.";
		put_line(y++, s->attr[ui->plan.state == PLAN_FAILED ? ROLE_BAD : ROLE_LABEL], msg);
		rows--;
	}
	s->map.body_y = y;
	s->map.body_rows = ui->nrows ? rows : 0;
	if (!ui->nrows) {
		static const char *const empty[VIEW__COUNT] = {
		    [VIEW_HOSTS] = "  No hosts yet: waiting for host state and load messages.",
		    [VIEW_VMS] = "  No VMs.",
		    [VIEW_HOST_VMS] = "  No VMs on this host.",
		    [VIEW_EVENTS] = "  No events since start.",
		    [VIEW_PLAN] = "",
		};
		put(y, 0, COLS, s->attr[ROLE_DIM],
		    ui->filter.active ? "  Nothing matches the filter." : empty[ui->view]);
		return;
	}
	/* keep the cursor visible */
	if (ui->cursor < ui->top)
		ui->top = ui->cursor;
	if (ui->cursor >= ui->top + (size_t)rows)
		ui->top = ui->cursor - (size_t)rows + 1;
	if (ui->top + (size_t)rows > ui->nrows)
		ui->top = ui->nrows > (size_t)rows ? ui->nrows - (size_t)rows : 0;
	for (int i = 0; i < rows && ui->top + (size_t)i < ui->nrows; i++) {
		size_t k = ui->top + (size_t)i;
		draw_row(s, y + i, vw, &lo, &ui->rows[k], e, k == ui->cursor);
	}
}

/* --- status line, picker, help ---------------------------------------------------- */

/* The key bar: the most wanted keys first, as many as fit. */
static void draw_keybar(struct screen *s, int y, int read_only)
{
	static const struct {
		const char *text;
		int action;
	} items[] = {
	    {"q quit", 0},     {"? help", 0},   {"m migrate", 1},      {"d drain", 1},
	    {"Space mark", 1}, {"/ filter", 0}, {": command", 0},      {"Tab view", 0},
	    {"Enter open", 0}, {"< > sort", 0}, {"s/S start/stop", 1}, {"P/R pause/resume", 1},
	};
	char line[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		size_t n = strlen(items[i].text) + (used ? 2 : 0);
		if ((items[i].action && read_only) || (int)(used + n) >= COLS ||
		    used + n >= sizeof(line))
			continue;
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", used ? "  " : "",
		                         items[i].text);
	}
	put(y, 0, COLS, s->attr[ROLE_DIM], line);
}

static void draw_status(struct screen *s, const struct ui *ui, const struct draw_info *di)
{
	char line[512];
	int y = LINES - 1;
	const struct prompt *p = &ui->prompt;
	move(y, 0);
	clrtoeol();
	switch (p->mode) {
	case PROMPT_FILTER:
	case PROMPT_COMMAND:
		snprintf(line, sizeof(line), "%s%s", p->mode == PROMPT_FILTER ? "/" : ":", p->buf);
		put(y, 0, COLS, s->attr[ROLE_NORMAL], line);
		curs_set(1);
		move(y, (int)strlen(line) < COLS ? (int)strlen(line) : COLS - 1);
		return;
	case PROMPT_CONFIRM:
		snprintf(line, sizeof(line), "%s [y/N]", p->label);
		put_line(y,
		         strncmp(p->label, "WARNING", 7) ? s->attr[ROLE_WARN] | (int)A_BOLD
		                                         : s->attr[ROLE_ERROR],
		         line);
		break;
	case PROMPT_PICK:
		put_line(y, s->attr[ROLE_LABEL], "Up/Down choose, Enter picks, Esc cancels");
		break;
	case PROMPT_NONE:
		if (ui->status[0]) {
			put_line(y, s->attr[ui->status_err ? ROLE_ERROR : ROLE_NORMAL], ui->status);
		} else {
			draw_keybar(s, y, di->read_only);
		}
		break;
	}
	curs_set(0);
}

static void draw_pick(struct screen *s, const struct prompt *p)
{
	int h = (int)p->nitems + 2, w = (int)strlen(p->label) + 4;
	for (size_t i = 0; i < p->nitems; i++)
		if ((int)strlen(p->items[i]) + 6 > w)
			w = (int)strlen(p->items[i]) + 6;
	if (h > LINES - 4)
		h = LINES - 4;
	if (w > COLS - 2)
		w = COLS - 2;
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2, shown = h - 2;
	size_t first = p->sel >= (size_t)shown ? p->sel - (size_t)shown + 1 : 0;
	for (int y = 0; y < h; y++) {
		attron(s->attr[ROLE_TITLE]);
		mvhline(y0 + y, x0, ' ', w);
		attroff(s->attr[ROLE_TITLE]);
	}
	put(y0, x0 + 1, w - 2, s->attr[ROLE_TITLE] | (int)A_BOLD, p->label);
	for (int i = 0; i < shown && first + (size_t)i < p->nitems; i++) {
		char line[128];
		size_t k = first + (size_t)i;
		snprintf(line, sizeof(line), " %s ", p->items[k]);
		put(y0 + 1 + i, x0 + 2, w - 4,
		    k == p->sel ? s->attr[ROLE_NORMAL] | (int)A_REVERSE : s->attr[ROLE_TITLE],
		    line);
	}
}

static void draw_help(struct screen *s, const struct draw_info *di)
{
	int y0 = HEADER_LINES - 1, rows = LINES - y0 - 1;
	if (s->help_top > 0 && (size_t)s->help_top + (size_t)rows > di->nhelp)
		s->help_top = di->nhelp > (size_t)rows ? (int)(di->nhelp - (size_t)rows) : 0;
	for (int i = 0; i < rows; i++) {
		size_t k = (size_t)s->help_top + (size_t)i;
		move(y0 + i, 0);
		clrtoeol();
		if (k < di->nhelp)
			put(y0 + i, 1, COLS - 1,
			    s->attr[di->help[k][0] && di->help[k][0] != ' ' ? ROLE_LABEL
			                                                    : ROLE_NORMAL],
			    di->help[k]);
	}
}

void draw_frame(struct screen *s, struct ui *ui, const struct view_env *e,
                const struct draw_info *di)
{
	erase();
	if (LINES < 8 || COLS < 30) {
		mvaddstr(0, 0, "vmtop-cluster: terminal too small");
		refresh();
		return;
	}
	draw_header(s, ui, e, di);
	draw_tabs(s, ui);
	if (ui->help)
		draw_help(s, di);
	else
		draw_table(s, ui, e);
	if (ui->prompt.mode == PROMPT_PICK)
		draw_pick(s, &ui->prompt);
	draw_status(s, ui, di);
	refresh();
}
