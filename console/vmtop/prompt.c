/* prompt.c - the bottom line when it asks something: the filter ('/', applied as you
 * type), the command line (':'), a y/N confirmation in front of every action, and the
 * host picker a migration starts with. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define KEY_ESC 27
#define KEY_CTRL(c) ((c)&0x1f)

void pending_clear(struct pending *p)
{
	for (size_t i = 0; i < p->nvms; i++)
		free(p->vms[i]);
	free(p->vms);
	memset(p, 0, sizeof(*p));
}

static void items_clear(struct prompt *p)
{
	for (size_t i = 0; i < p->nitems; i++)
		free(p->items[i]);
	free(p->items);
	p->items = NULL;
	p->nitems = p->sel = 0;
}

void prompt_close(struct ui *ui)
{
	items_clear(&ui->prompt);
	pending_clear(&ui->prompt.act);
	ui->prompt.mode = PROMPT_NONE;
	ui->prompt.buf[0] = '\0';
	ui->prompt.len = 0;
}

void prompt_open(struct ui *ui, enum prompt_mode mode, const char *label, const char *text)
{
	prompt_close(ui);
	ui->prompt.mode = mode;
	snprintf(ui->prompt.label, sizeof(ui->prompt.label), "%s", label ? label : "");
	snprintf(ui->prompt.buf, sizeof(ui->prompt.buf), "%s", text ? text : "");
	ui->prompt.len = strlen(ui->prompt.buf);
	ui->status[0] = '\0';
}

void prompt_confirm(struct ui *ui, struct pending *act, const char *label)
{
	prompt_open(ui, PROMPT_CONFIRM, label, NULL);
	ui->prompt.act = *act; /* takes the VM list */
	memset(act, 0, sizeof(*act));
}

static int push_name(char ***list, size_t *n, const char *name)
{
	char **nl = realloc(*list, (*n + 1) * sizeof(char *));
	if (!nl)
		return -1;
	*list = nl;
	if (!(nl[*n] = strdup(name)))
		return -1;
	(*n)++;
	return 0;
}

size_t pending_vms(struct vmtop *t, struct pending *act, char *err, size_t errlen)
{
	struct ui *ui = &t->ui;
	marks_prune(&ui->marks, t->model);
	if (ui->marks.n) {
		for (size_t i = 0; i < ui->marks.n; i++)
			if (push_name(&act->vms, &act->nvms, ui->marks.names[i]) < 0)
				break;
		return act->nvms;
	}
	const struct row *r = ui_current(ui);
	if (!r || r->kind != ROW_VM) {
		snprintf(err, errlen,
		         "no VM selected: choose one in the VMs view (2), or mark "
		         "some with Space");
		return 0;
	}
	push_name(&act->vms, &act->nvms, ((const struct cm_vm *)r->p)->name);
	return act->nvms;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Host h's CPU percent once the VMs of act that are elsewhere run on it too, or NAN
 * when its CPU count is unknown. */
static double cpu_after(const struct vmtop *t, const struct cm_host *h, const struct pending *act)
{
	double pct = h->cpu;
	if (h->cpus <= 0)
		return NAN;
	for (size_t k = 0; k < act->nvms; k++) {
		const struct cm_vm *v = cluster_model_vm_find(t->model, act->vms[k]);
		if (v && strcmp(v->host, h->name) != 0)
			pct += v->cpu / h->cpus; /* a VM's CPU is percent of one CPU */
	}
	return pct;
}

void migrate_confirm(struct vmtop *t, struct pending *act)
{
	char label[sizeof(t->ui.prompt.label)], what[80];
	const struct cm_host *h = cluster_model_host_find(t->model, act->to);
	double after = h ? cpu_after(t, h, act) : NAN;
	if (act->nvms == 1)
		snprintf(what, sizeof(what), "%s", act->vms[0]);
	else
		snprintf(what, sizeof(what), "%zu VMs", act->nvms);
	if (!isnan(after) && after > MIGRATE_WARN_PCT)
		snprintf(label, sizeof(label),
		         "WARNING: %s at %d%% CPU after the move (over %d%%): migrate %s anyway?",
		         act->to, after < 9999 ? (int)(after + 0.5) : 9999, MIGRATE_WARN_PCT, what);
	else
		snprintf(label, sizeof(label), "Migrate %s to %s?", what, act->to);
	prompt_confirm(&t->ui, act, label);
}

int prompt_pick_host(struct vmtop *t, struct pending *act, char *err, size_t errlen)
{
	char **items = NULL;
	size_t n = 0;
	for (size_t i = 0; i < cluster_model_host_count(t->model); i++) {
		const struct cm_host *h = cluster_model_host_at(t->model, i);
		size_t on = 0;
		if (h->state != CM_HOST_ONLINE || h->stale)
			continue; /* never to offline, stale or draining hosts */
		for (size_t k = 0; k < act->nvms; k++) {
			const struct cm_vm *v = cluster_model_vm_find(t->model, act->vms[k]);
			on += v && !strcmp(v->host, h->name);
		}
		if (on < act->nvms) { /* the name first: picking reads it back */
			char item[128], fr[16];
			fmt_mem(h->mem_free_mb, fr, sizeof(fr));
			snprintf(item, sizeof(item), "%-12s CPU %5.1f%%  free %6s", h->name, h->cpu,
			         fr);
			push_name(&items, &n, item);
		}
	}
	if (!n) {
		snprintf(err, errlen, "no other online host to migrate to");
		free(items);
		return -1;
	}
	qsort(items, n, sizeof(*items), cmp_str);
	char label[160];
	snprintf(label, sizeof(label), "Migrate %s%s to:", act->vms[0],
	         act->nvms > 1 ? " and the other marked VMs" : "");
	prompt_open(&t->ui, PROMPT_PICK, label, NULL);
	t->ui.prompt.items = items;
	t->ui.prompt.nitems = n;
	t->ui.prompt.act = *act;
	memset(act, 0, sizeof(*act));
	return 0;
}

/* --- keys ------------------------------------------------------------------------ */

static void edit_key(struct prompt *p, int key)
{
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (p->len)
			p->buf[--p->len] = '\0';
	} else if (key == KEY_CTRL('u')) {
		p->len = 0;
		p->buf[0] = '\0';
	} else if (key == KEY_CTRL('w')) {
		while (p->len && p->buf[p->len - 1] == ' ')
			p->len--;
		while (p->len && p->buf[p->len - 1] != ' ')
			p->len--;
		p->buf[p->len] = '\0';
	} else if (key >= 32 && key < 127 && p->len + 1 < sizeof(p->buf)) {
		p->buf[p->len++] = (char)key;
		p->buf[p->len] = '\0';
	}
}

static void filter_key(struct vmtop *t, int key)
{
	struct prompt *p = &t->ui.prompt;
	char err[256];
	if (key == KEY_ESC) { /* back to the filter as it was */
		char saved[sizeof(p->label)];
		snprintf(saved, sizeof(saved), "%s", p->label);
		prompt_close(&t->ui);
		filter_set(&t->ui.filter, saved, err, sizeof(err));
		return;
	}
	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		int rc = filter_set(&t->ui.filter, p->buf, err, sizeof(err));
		prompt_close(&t->ui);
		if (rc < 0)
			ui_status(&t->ui, 1, "%s", err);
		return;
	}
	edit_key(p, key);
	filter_set(&t->ui.filter, p->buf, err, sizeof(err)); /* live, while it compiles */
}

static void command_key(struct vmtop *t, int key)
{
	struct prompt *p = &t->ui.prompt;
	if (key == KEY_ESC) {
		prompt_close(&t->ui);
		return;
	}
	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		char line[sizeof(p->buf)];
		snprintf(line, sizeof(line), "%s", p->buf);
		prompt_close(&t->ui);
		t->run_command(t, line);
		return;
	}
	if ((key == KEY_BACKSPACE || key == 127 || key == 8) && !p->len) {
		prompt_close(&t->ui);
		return;
	}
	edit_key(p, key);
}

static void confirm_key(struct vmtop *t, int key)
{
	struct pending act = t->ui.prompt.act;
	memset(&t->ui.prompt.act, 0, sizeof(act));
	prompt_close(&t->ui);
	if (key == 'y' || key == 'Y')
		actions_run(t, &act);
	else
		ui_status(&t->ui, 0, "cancelled");
	pending_clear(&act);
}

static void pick_key(struct vmtop *t, int key)
{
	struct prompt *p = &t->ui.prompt;
	if (key == KEY_UP || key == 'k') {
		p->sel = p->sel ? p->sel - 1 : 0;
	} else if (key == KEY_DOWN || key == 'j') {
		p->sel = p->sel + 1 < p->nitems ? p->sel + 1 : p->sel;
	} else if (key == KEY_HOME || key == 'g') {
		p->sel = 0;
	} else if (key == KEY_END || key == 'G') {
		p->sel = p->nitems ? p->nitems - 1 : 0;
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		struct pending act = p->act;
		memset(&p->act, 0, sizeof(act));
		snprintf(act.to, sizeof(act.to), "%.*s", (int)strcspn(p->items[p->sel], " "),
		         p->items[p->sel]);
		migrate_confirm(t, &act);
	} else if (key == KEY_ESC || key == 'q') {
		prompt_close(&t->ui);
		ui_status(&t->ui, 0, "cancelled");
	}
}

void prompt_key(struct vmtop *t, int key)
{
	static void (*const handlers[])(struct vmtop * t, int key) = {
	    [PROMPT_FILTER] = filter_key,
	    [PROMPT_COMMAND] = command_key,
	    [PROMPT_CONFIRM] = confirm_key,
	    [PROMPT_PICK] = pick_key,
	};
	if (t->ui.prompt.mode != PROMPT_NONE && handlers[t->ui.prompt.mode])
		handlers[t->ui.prompt.mode](t, key);
}
