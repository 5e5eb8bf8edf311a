/* keys.c - the key table, after xentop, htop and k9s: one row per key, with the help
 * text the help page shows; actions are marked so --read-only hides them. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define KEY_ESC 27
#define KEY_CTRL(c) ((c)&0x1f)
#define K_ACTION 1 /* changes the cluster: hidden and refused with --read-only */

/* --- moving ------------------------------------------------------------------ */

static void move_by(struct vmtop *t, long delta)
{
	struct ui *ui = &t->ui;
	if (ui->help) {
		t->scr.help_top += (int)delta;
		if (t->scr.help_top < 0)
			t->scr.help_top = 0;
		return;
	}
	long c = (long)ui->cursor + delta;
	if (c < 0)
		c = 0;
	ui_cursor_to(ui, (size_t)c);
}

static void k_up(struct vmtop *t)
{
	move_by(t, -1);
}

static void k_down(struct vmtop *t)
{
	move_by(t, 1);
}

static void k_page_up(struct vmtop *t)
{
	move_by(t, -(long)draw_table_rows());
}

static void k_page_down(struct vmtop *t)
{
	move_by(t, draw_table_rows());
}

static void k_home(struct vmtop *t)
{
	move_by(t, -(long)t->ui.cursor - 1);
}

static void k_end(struct vmtop *t)
{
	move_by(t, (long)t->ui.nrows);
}

static size_t screen_columns(const struct view *vw)
{
	size_t n = 0;
	for (size_t i = 0; i < *vw->ncols; i++)
		n += !(vw->cols[i].flags & COL_BATCH);
	return n;
}

static void k_left(struct vmtop *t)
{
	int *h = &t->ui.hscroll[t->ui.view];
	if (*h > 0)
		(*h)--;
}

static void k_right(struct vmtop *t)
{
	int *h = &t->ui.hscroll[t->ui.view];
	if ((size_t)*h + 2 < screen_columns(&views[t->ui.view]))
		(*h)++;
}

/* --- sorting ------------------------------------------------------------------- */

static void sort_step(struct vmtop *t, int dir)
{
	const struct view *vw = &views[t->ui.view];
	struct sortspec *s = &t->ui.sort[t->ui.view];
	int n = (int)*vw->ncols, c = s->col;
	for (int k = 0; k < n; k++) {
		c = (c + dir + n) % n;
		if (!(vw->cols[c].flags & (COL_BATCH | COL_BAR)))
			break;
	}
	s->col = c;
	s->desc = (vw->cols[c].flags & COL_DESC) != 0;
}

static void k_sort_next(struct vmtop *t)
{
	sort_step(t, 1);
}

static void k_sort_prev(struct vmtop *t)
{
	sort_step(t, -1);
}

static void k_sort_invert(struct vmtop *t)
{
	t->ui.sort[t->ui.view].desc = !t->ui.sort[t->ui.view].desc;
}

/* --- views ----------------------------------------------------------------------- */

static const enum view_id tab_order[] = {VIEW_HOSTS, VIEW_VMS, VIEW_EVENTS, VIEW_PLAN};
#define NTABS (sizeof(tab_order) / sizeof(tab_order[0]))

static void go_tab(struct vmtop *t, size_t i)
{
	ui_set_view(&t->ui, tab_order[i], NULL);
	if (tab_order[i] == VIEW_PLAN && t->ui.plan.state == PLAN_NONE)
		actions_request_plan(t);
}

static size_t tab_of(const struct ui *ui)
{
	for (size_t i = 0; i < NTABS; i++)
		if (tab_order[i] == ui->view)
			return i;
	return 1; /* one host's VMs counts as VMs */
}

static void k_next_view(struct vmtop *t)
{
	go_tab(t, (tab_of(&t->ui) + 1) % NTABS);
}

static void k_prev_view(struct vmtop *t)
{
	go_tab(t, (tab_of(&t->ui) + NTABS - 1) % NTABS);
}

static void k_hosts(struct vmtop *t)
{
	go_tab(t, 0);
}

static void k_vms(struct vmtop *t)
{
	go_tab(t, 1);
}

static void k_events(struct vmtop *t)
{
	go_tab(t, 2);
}

static void k_plan_view(struct vmtop *t)
{
	go_tab(t, 3);
}

static void k_plan_ask(struct vmtop *t)
{
	ui_set_view(&t->ui, VIEW_PLAN, NULL);
	actions_request_plan(t);
}

static void k_enter(struct vmtop *t)
{
	const struct row *r = ui_current(&t->ui);
	if (!r)
		return;
	if (r->kind == ROW_HOST)
		ui_set_view(&t->ui, VIEW_HOST_VMS, ((const struct cm_host *)r->p)->name);
	else if (r->kind == ROW_VM && t->ui.view == VIEW_VMS &&
	         ((const struct cm_vm *)r->p)->host[0])
		ui_set_view(&t->ui, VIEW_HOST_VMS, ((const struct cm_vm *)r->p)->host);
}

static void k_back(struct vmtop *t)
{
	char err[64];
	if (t->ui.view == VIEW_HOST_VMS)
		ui_set_view(&t->ui, t->ui.back == VIEW_HOST_VMS ? VIEW_HOSTS : t->ui.back, NULL);
	else if (t->ui.filter.active)
		filter_set(&t->ui.filter, "", err, sizeof(err));
}

/* --- prompts, help, quit ------------------------------------------------------------- */

static void k_filter(struct vmtop *t)
{
	prompt_open(&t->ui, PROMPT_FILTER, t->ui.filter.text, t->ui.filter.text);
}

static void k_command(struct vmtop *t)
{
	prompt_open(&t->ui, PROMPT_COMMAND, NULL, NULL);
}

static void k_help(struct vmtop *t)
{
	t->ui.help = !t->ui.help;
	t->scr.help_top = 0;
}

static void k_quit(struct vmtop *t)
{
	t->quit = 1;
}

static void k_redraw(struct vmtop *t)
{
	clearok(curscr, TRUE);
}

/* --- marks ---------------------------------------------------------------------- */

static void k_mark(struct vmtop *t)
{
	const struct row *r = ui_current(&t->ui);
	if (!r || r->kind != ROW_VM) {
		ui_status(&t->ui, 1, "Space marks VMs: go to the VMs view (2) first");
		return;
	}
	marks_toggle(&t->ui.marks, ((const struct cm_vm *)r->p)->name);
	move_by(t, 1);
}

static void k_mark_all(struct vmtop *t)
{
	size_t unmarked = 0;
	for (size_t i = 0; i < t->ui.nrows; i++)
		if (t->ui.rows[i].kind == ROW_VM)
			unmarked +=
			    !marks_has(&t->ui.marks, ((const struct cm_vm *)t->ui.rows[i].p)->name);
	for (size_t i = 0; i < t->ui.nrows; i++) {
		const char *name = ((const struct cm_vm *)t->ui.rows[i].p)->name;
		if (t->ui.rows[i].kind == ROW_VM && marks_has(&t->ui.marks, name) == !unmarked)
			marks_toggle(&t->ui.marks, name);
	}
}

static void k_unmark(struct vmtop *t)
{
	marks_clear(&t->ui.marks);
}

/* --- actions ---------------------------------------------------------------------- */

static void vm_action(struct vmtop *t, const char *op, const char *verb)
{
	struct pending act = {0};
	char err[256], label[160];
	size_t n = pending_vms(t, &act, err, sizeof(err));
	if (!n) {
		ui_status(&t->ui, 1, "%s", err);
		return;
	}
	snprintf(act.op, sizeof(act.op), "%s", op);
	if (!strcmp(op, "vm.migrate")) {
		if (prompt_pick_host(t, &act, err, sizeof(err)) < 0) {
			ui_status(&t->ui, 1, "%s", err);
			pending_clear(&act);
		}
		return;
	}
	if (n == 1)
		snprintf(label, sizeof(label), "%s %s?", verb, act.vms[0]);
	else
		snprintf(label, sizeof(label), "%s %zu marked VMs (%s, ...)?", verb, n, act.vms[0]);
	prompt_confirm(&t->ui, &act, label);
}

static void k_migrate(struct vmtop *t)
{
	vm_action(t, "vm.migrate", "Migrate");
}

static void k_shutdown(struct vmtop *t)
{
	vm_action(t, "vm.shutdown", "Shut down");
}

static void k_destroy(struct vmtop *t)
{
	vm_action(t, "vm.destroy", "Destroy (power off at once)");
}

static void k_start(struct vmtop *t)
{
	vm_action(t, "vm.start", "Start");
}

static void k_pause(struct vmtop *t)
{
	vm_action(t, "vm.pause", "Pause");
}

static void k_unpause(struct vmtop *t)
{
	vm_action(t, "vm.unpause", "Resume (unpause)");
}

/* The host an action on hosts means here: the one under the cursor or being shown. */
static const char *current_host(struct vmtop *t)
{
	const struct row *r = ui_current(&t->ui);
	if (t->ui.view == VIEW_HOST_VMS)
		return t->ui.host;
	if (r && r->kind == ROW_HOST)
		return ((const struct cm_host *)r->p)->name;
	if (r && r->kind == ROW_VM && ((const struct cm_vm *)r->p)->host[0])
		return ((const struct cm_vm *)r->p)->host;
	return NULL;
}

static void host_action(struct vmtop *t, const char *op, const char *verb, const char *why)
{
	struct pending act = {0};
	char label[200];
	const char *host = current_host(t);
	if (!host) {
		ui_status(&t->ui, 1, "no host selected: choose one in the hosts view (1)");
		return;
	}
	snprintf(act.op, sizeof(act.op), "%s", op);
	snprintf(act.host, sizeof(act.host), "%s", host);
	snprintf(label, sizeof(label), "%s %s (%s)?", verb, host, why);
	prompt_confirm(&t->ui, &act, label);
}

static void k_drain(struct vmtop *t)
{
	host_action(t, "host.drain", "Drain", "move its VMs away; it takes no new ones");
}

static void k_undrain(struct vmtop *t)
{
	host_action(t, "host.undrain", "Undrain", "leave maintenance, bring its VMs back");
}

static void k_create(struct vmtop *t)
{
	prompt_open(&t->ui, PROMPT_COMMAND, NULL, "create ");
}

/* --- the table ------------------------------------------------------------------ */

static const struct key_binding {
	int key;
	const char *name; /* shown in help; NULL for a second key of the same action */
	const char *help;
	int flags;
	void (*fn)(struct vmtop *t);
} bindings[] = {
    {KEY_UP, "Up k", "move up", 0, k_up},
    {'k', NULL, NULL, 0, k_up},
    {KEY_DOWN, "Down j", "move down", 0, k_down},
    {'j', NULL, NULL, 0, k_down},
    {KEY_PPAGE, "PgUp ^B", "page up", 0, k_page_up},
    {KEY_CTRL('b'), NULL, NULL, 0, k_page_up},
    {KEY_NPAGE, "PgDn ^F", "page down", 0, k_page_down},
    {KEY_CTRL('f'), NULL, NULL, 0, k_page_down},
    {KEY_HOME, "Home g", "first row", 0, k_home},
    {'g', NULL, NULL, 0, k_home},
    {KEY_END, "End G", "last row", 0, k_end},
    {'G', NULL, NULL, 0, k_end},
    {KEY_LEFT, "Left h", "scroll the columns left", 0, k_left},
    {'h', NULL, NULL, 0, k_left},
    {KEY_RIGHT, "Right l", "scroll the columns right (NAME stays)", 0, k_right},
    {'l', NULL, NULL, 0, k_right},
    {'>', "> .", "sort by the next column", 0, k_sort_next},
    {'.', NULL, NULL, 0, k_sort_next},
    {'<', "< ,", "sort by the previous column", 0, k_sort_prev},
    {',', NULL, NULL, 0, k_sort_prev},
    {'I', "I", "invert the sort order", 0, k_sort_invert},
    {'/', "/", "filter rows by a regular expression (!RE inverts; kept across views)", 0, k_filter},
    {':', ":", "command line (see Commands below)", 0, k_command},
    {'\t', "Tab", "next view", 0, k_next_view},
    {KEY_BTAB, "S-Tab", "previous view", 0, k_prev_view},
    {'1', "1", "hosts view", 0, k_hosts},
    {'2', "2", "VMs view", 0, k_vms},
    {'3', "3", "events view (migrations in flight on top)", 0, k_events},
    {'4', "4", "plan view (the balancing dry run)", 0, k_plan_view},
    {'p', "p", "ask for a new dry run and show it", 0, k_plan_ask},
    {'\n', "Enter", "on a host: its VMs; on a VM: the VMs of its host", 0, k_enter},
    {'\r', NULL, NULL, 0, k_enter},
    {KEY_ENTER, NULL, NULL, 0, k_enter},
    {KEY_ESC, "Esc Bksp", "back from a host's VMs, else clear the filter", 0, k_back},
    {KEY_BACKSPACE, NULL, NULL, 0, k_back},
    {127, NULL, NULL, 0, k_back},
    {' ', "Space", "mark or unmark the VM (actions apply to all marked VMs)", K_ACTION, k_mark},
    {'a', "a", "mark every VM shown (again: unmark them)", K_ACTION, k_mark_all},
    {'U', "U", "unmark all VMs", K_ACTION, k_unmark},
    {'m', "m", "migrate the VM(s) to a host you choose", K_ACTION, k_migrate},
    {'s', "s", "start the VM(s)", K_ACTION, k_start},
    {'S', "S", "shut down the VM(s)", K_ACTION, k_shutdown},
    {'P', "P", "pause the VM(s)", K_ACTION, k_pause},
    {'R', "R", "resume (unpause) the VM(s)", K_ACTION, k_unpause},
    {'X', "X", "destroy the VM(s) (power off at once)", K_ACTION, k_destroy},
    {'d', "d", "drain the host (maintenance: its VMs move away)", K_ACTION, k_drain},
    {'u', "u", "undrain the host (its VMs come back)", K_ACTION, k_undrain},
    {'c', "c", "create a VM from a template (:create NAME TEMPLATE)", K_ACTION, k_create},
    {KEY_MOUSE, "mouse", "click a row: select it; a column title: sort; a tab: open it", 0,
     mouse_handle},
    {KEY_CTRL('l'), "^L", "redraw the screen", 0, k_redraw},
    {'?', "? F1", "this help (arrows scroll it; any other key closes it)", 0, k_help},
    {KEY_F(1), NULL, NULL, 0, k_help},
    {'q', "q F10", "quit", 0, k_quit},
    {KEY_F(10), NULL, NULL, 0, k_quit},
};

void keys_handle(struct vmtop *t, int key)
{
	if (t->ui.prompt.mode != PROMPT_NONE) {
		prompt_key(t, key);
		return;
	}
	if (t->ui.help && key != KEY_UP && key != KEY_DOWN && key != KEY_PPAGE &&
	    key != KEY_NPAGE && key != 'k' && key != 'j' && key != 'q') {
		t->ui.help = 0; /* any other key closes the help page */
		return;
	}
	t->ui.status[0] = '\0'; /* a key press: the status line has been seen */
	t->ui.status_result = 0;
	for (size_t i = 0; i < sizeof(bindings) / sizeof(bindings[0]); i++) {
		const struct key_binding *b = &bindings[i];
		if (b->key != key)
			continue;
		if ((b->flags & K_ACTION) && t->ui.read_only) {
			ui_status(&t->ui, 1, "read-only: actions are off");
			return;
		}
		b->fn(t);
		return;
	}
}

void keys_help(const char ***lines, size_t *n, int read_only)
{
	help_add(lines, n, "Keys");
	for (size_t i = 0; i < sizeof(bindings) / sizeof(bindings[0]); i++) {
		const struct key_binding *b = &bindings[i];
		if (b->name && !((b->flags & K_ACTION) && read_only))
			help_add(lines, n, "  %-10s %s", b->name, b->help);
	}
}
