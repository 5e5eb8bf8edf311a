/* mouse.c - clicks, read against where the last frame put things (struct screen_map):
 * a row selects it, a column title sorts by that column (again: the other way), a tab
 * opens its view, the wheel moves the cursor. */
#include <curses.h>
#include <string.h>

#include "app.h"

#define WHEEL_STEP 3

void mouse_init(void)
{
	mmask_t want = BUTTON1_PRESSED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
	want |= BUTTON5_PRESSED;
#endif
	mouseinterval(0); /* a press acts at once, no wait for a click */
	mousemask(want, NULL);
}

static void click_tab(struct vmtop *t, int x)
{
	static const enum view_id order[] = {VIEW_HOSTS, VIEW_VMS, VIEW_EVENTS, VIEW_PLAN};
	const struct screen_map *mp = &t->scr.map;
	for (int i = 0; i < mp->ntabs && i < (int)(sizeof(order) / sizeof(order[0])); i++) {
		if (x < mp->tab_x[i] || x >= mp->tab_end[i])
			continue;
		ui_set_view(&t->ui, order[i], NULL);
		if (order[i] == VIEW_PLAN && t->ui.plan.state == PLAN_NONE)
			actions_request_plan(t);
		return;
	}
}

static void click_title(struct vmtop *t, int x)
{
	const struct screen_map *mp = &t->scr.map;
	const struct view *vw = &views[t->ui.view];
	char err[128];
	for (int i = 0; i < mp->ncols; i++) {
		if (x < mp->col_x[i] || x > mp->col_x[i] + mp->col_w[i])
			continue;
		if (ui_sort_by(&t->ui, vw->cols[mp->col[i]].id, err, sizeof(err)) < 0)
			ui_status(&t->ui, 1, "%s", err); /* the bar has no order of its own */
		return;
	}
}

void mouse_handle(struct vmtop *t)
{
	MEVENT ev;
	const struct screen_map *mp = &t->scr.map;
	if (getmouse(&ev) != OK || t->ui.help)
		return;
	if (ev.bstate & BUTTON4_PRESSED) {
		ui_cursor_to(&t->ui, t->ui.cursor > WHEEL_STEP ? t->ui.cursor - WHEEL_STEP : 0);
		return;
	}
#ifdef BUTTON5_PRESSED
	if (ev.bstate & BUTTON5_PRESSED) {
		ui_cursor_to(&t->ui, t->ui.cursor + WHEEL_STEP);
		return;
	}
#endif
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return;
	if (ev.y == 3)
		click_tab(t, ev.x);
	else if (ev.y == mp->header_y)
		click_title(t, ev.x);
	else if (ev.y >= mp->body_y && ev.y < mp->body_y + mp->body_rows &&
	         t->ui.top + (size_t)(ev.y - mp->body_y) < t->ui.nrows)
		ui_cursor_to(&t->ui, t->ui.top + (size_t)(ev.y - mp->body_y));
}
