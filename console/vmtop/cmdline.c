/* cmdline.c - the ':' command line, a table of commands in the manner of tmux's
 * cmd_entry: name, arguments, help, and the handler, which gets the words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

#define C_ACTION 1 /* changes the cluster: refused with --read-only */
#define MAX_WORDS 64

struct command {
	const char *name;
	const char *args; /* usage of the arguments */
	const char *help;
	int min, max; /* argument counts; max -1: any */
	int flags;
	/* Returns 0, or -1 with a sentence in err. */
	int (*fn)(struct vmtop *t, int argc, char **argv, char *err, size_t errlen);
};

static int c_view(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	const struct view *vw = view_find(argv[0]);
	ui_set_view(&t->ui, vw->id, NULL);
	return 0;
}

static int c_plan(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	static const char *const modes[] = {"balance", "consolidate", "evacuate"};
	size_t k = 0;
	while (argc > 1 && k < sizeof(modes) / sizeof(modes[0]) && strcmp(modes[k], argv[1]))
		k++;
	if (argc > 1 && k == sizeof(modes) / sizeof(modes[0])) {
		snprintf(err, errlen, "mode \"%s\": expected balance, consolidate or evacuate",
		         argv[1]);
		return -1;
	}
	if (argc > 1)
		snprintf(t->ui.plan.mode, sizeof(t->ui.plan.mode), "%s", argv[1]);
	ui_set_view(&t->ui, VIEW_PLAN, NULL);
	actions_request_plan(t);
	return 0;
}

static int c_host(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	if (!cluster_model_host_find(t->model, argv[1])) {
		snprintf(err, errlen, "host: no host named %s", argv[1]);
		return -1;
	}
	ui_set_view(&t->ui, VIEW_HOST_VMS, argv[1]);
	return 0;
}

static int check_vm(struct vmtop *t, const char *name, char *err, size_t errlen)
{
	if (!cluster_model_vm_find(t->model, name)) {
		snprintf(err, errlen, "no VM named %s", name);
		return -1;
	}
	return 0;
}

static int check_host(struct vmtop *t, const char *name, char *err, size_t errlen)
{
	if (vmc_name_check(name, "host name", err, errlen) < 0)
		return -1;
	if (!cluster_model_host_find(t->model, name)) {
		snprintf(err, errlen, "no host named %s", name);
		return -1;
	}
	return 0;
}

static int add_vm(struct pending *p, const char *name)
{
	char **nv = realloc(p->vms, (p->nvms + 1) * sizeof(char *));
	if (!nv)
		return -1;
	p->vms = nv;
	if (!(nv[p->nvms] = strdup(name)))
		return -1;
	p->nvms++;
	return 0;
}

static int c_migrate(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	struct pending act = {0};
	if (check_vm(t, argv[1], err, errlen) < 0 || check_host(t, argv[2], err, errlen) < 0)
		return -1;
	snprintf(act.op, sizeof(act.op), "vm.migrate");
	snprintf(act.to, sizeof(act.to), "%s", argv[2]);
	add_vm(&act, argv[1]);
	migrate_confirm(t, &act);
	return 0;
}

static int c_vms_op(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	static const struct {
		const char *cmd, *op, *verb;
	} ops[] = {{"shutdown", "vm.shutdown", "Shut down"},
	           {"destroy", "vm.destroy", "Destroy"},
	           {"start", "vm.start", "Start"},
	           {"pause", "vm.pause", "Pause"},
	           {"unpause", "vm.unpause", "Resume (unpause)"}};
	struct pending act = {0};
	char label[200];
	size_t k = 0;
	while (strcmp(ops[k].cmd, argv[0]) != 0)
		k++;
	for (int i = 1; i < argc; i++)
		if (check_vm(t, argv[i], err, errlen) < 0) {
			pending_clear(&act);
			return -1;
		} else {
			add_vm(&act, argv[i]);
		}
	if (argc == 1 && !pending_vms(t, &act, err, errlen))
		return -1;
	snprintf(act.op, sizeof(act.op), "%s", ops[k].op);
	if (act.nvms == 1)
		snprintf(label, sizeof(label), "%s %s?", ops[k].verb, act.vms[0]);
	else
		snprintf(label, sizeof(label), "%s %zu VMs (%s, ...)?", ops[k].verb, act.nvms,
		         act.vms[0]);
	prompt_confirm(&t->ui, &act, label);
	return 0;
}

static int c_host_op(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	struct pending act = {0};
	char label[200];
	int drain = !strcmp(argv[0], "drain");
	if (check_host(t, argv[1], err, errlen) < 0)
		return -1;
	snprintf(act.op, sizeof(act.op), drain ? "host.drain" : "host.undrain");
	snprintf(act.host, sizeof(act.host), "%s", argv[1]);
	snprintf(label, sizeof(label),
	         drain ? "Drain %s (move its VMs away)?" : "Undrain %s (bring its VMs back)?",
	         argv[1]);
	prompt_confirm(&t->ui, &act, label);
	return 0;
}

static int c_create(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	struct pending act = {0};
	char label[200];
	if (vmc_name_check(argv[1], "VM name", err, errlen) < 0 ||
	    vmc_name_check(argv[2], "template name", err, errlen) < 0)
		return -1;
	if (cluster_model_vm_find(t->model, argv[1])) {
		snprintf(err, errlen, "create: a VM named %s exists already", argv[1]);
		return -1;
	}
	snprintf(act.op, sizeof(act.op), "vm.create");
	snprintf(act.name, sizeof(act.name), "%s", argv[1]);
	snprintf(act.template, sizeof(act.template), "%s", argv[2]);
	snprintf(label, sizeof(label),
	         "Create VM %s from template %s (the configuration agent "
	         "places it)?",
	         argv[1], argv[2]);
	prompt_confirm(&t->ui, &act, label);
	return 0;
}

static int c_sort(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	if (ui_sort_by(&t->ui, argv[1], err, errlen) < 0)
		return -1;
	if (argc > 2) {
		if (strcmp(argv[2], "asc") && strcmp(argv[2], "desc")) {
			snprintf(err, errlen, "sort: expected asc or desc, not \"%s\"", argv[2]);
			return -1;
		}
		t->ui.sort[t->ui.view].desc = !strcmp(argv[2], "desc");
	}
	return 0;
}

static int c_filter(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	return filter_set(&t->ui.filter, argc > 1 ? argv[1] : "", err, errlen);
}

static int c_mark(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		if (check_vm(t, argv[i], err, errlen) < 0)
			return -1;
		if (!marks_has(&t->ui.marks, argv[i]))
			marks_toggle(&t->ui.marks, argv[i]);
	}
	return 0;
}

static int c_unmark(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	if (argc == 1)
		marks_clear(&t->ui.marks);
	for (int i = 1; i < argc; i++)
		if (marks_has(&t->ui.marks, argv[i]))
			marks_toggle(&t->ui.marks, argv[i]);
	return 0;
}

static int c_help(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	t->ui.help = 1;
	t->scr.help_top = 0;
	return 0;
}

static int c_quit(struct vmtop *t, int argc, char **argv, char *err, size_t errlen)
{
	t->quit = 1;
	return 0;
}

static const struct command commands[] = {
    {"hosts", "", "the hosts view", 0, 0, 0, c_view},
    {"vms", "", "the VMs view", 0, 0, 0, c_view},
    {"events", "", "the events view", 0, 0, 0, c_view},
    {"plan", "[MODE]", "ask for the dry run (balance, consolidate, evacuate)", 0, 1, 0, c_plan},
    {"host", "HOST", "the VMs of one host", 1, 1, 0, c_host},
    {"migrate", "VM HOST", "live-migrate VM to HOST", 2, 2, C_ACTION, c_migrate},
    {"drain", "HOST", "drain HOST for maintenance", 1, 1, C_ACTION, c_host_op},
    {"undrain", "HOST", "end HOST's maintenance, bring its VMs back", 1, 1, C_ACTION, c_host_op},
    {"shutdown", "[VM...]", "shut down VMs (default: marked or selected)", 0, -1, C_ACTION,
     c_vms_op},
    {"destroy", "[VM...]", "destroy VMs (default: marked or selected)", 0, -1, C_ACTION, c_vms_op},
    {"start", "[VM...]", "start VMs (default: marked or selected)", 0, -1, C_ACTION, c_vms_op},
    {"pause", "[VM...]", "pause VMs (default: marked or selected)", 0, -1, C_ACTION, c_vms_op},
    {"unpause", "[VM...]", "resume paused VMs (default: marked or selected)", 0, -1, C_ACTION,
     c_vms_op},
    {"create", "NAME TEMPLATE", "create a VM from a template (configuration agent)", 2, 2, C_ACTION,
     c_create},
    {"sort", "COLUMN [asc|desc]", "sort by a column (id or header)", 1, 2, 0, c_sort},
    {"filter", "[REGEX]", "set the filter (none: clear it)", 0, 1, 0, c_filter},
    {"mark", "VM...", "mark VMs", 1, -1, C_ACTION, c_mark},
    {"unmark", "[VM...]", "unmark VMs (none: all)", 0, -1, C_ACTION, c_unmark},
    {"help", "", "the help page", 0, 0, 0, c_help},
    {"quit", "", "quit (also :q)", 0, 0, 0, c_quit},
    {"q", NULL, NULL, 0, 0, 0, c_quit},
};

void cmdline_run(struct vmtop *t, const char *line)
{
	char copy[512], *argv[MAX_WORDS], err[256] = "";
	int argc = 0;
	snprintf(copy, sizeof(copy), "%s", line);
	for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	if (!argc)
		return;
	const struct command *c = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !c; i++)
		if (!strcmp(commands[i].name, argv[0]))
			c = &commands[i];
	if (!c) {
		ui_status(&t->ui, 1, ":%s: unknown command (? lists them)", argv[0]);
		return;
	}
	if ((c->flags & C_ACTION) && t->ui.read_only) {
		ui_status(&t->ui, 1, ":%s: read-only: actions are off", argv[0]);
		return;
	}
	if (argc - 1 < c->min || (c->max >= 0 && argc - 1 > c->max)) {
		ui_status(&t->ui, 1, "usage: :%s %s", c->name, c->args ? c->args : "");
		return;
	}
	if (c->fn(t, argc, argv, err, sizeof(err)) < 0)
		ui_status(&t->ui, 1, ":%s: %s", argv[0], err);
}

void cmdline_help(const char ***lines, size_t *n, int read_only)
{
	help_add(lines, n, "%s", "");
	help_add(lines, n, "Commands (after ':')");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		char usage[64];
		if (!c->help || ((c->flags & C_ACTION) && read_only))
			continue;
		snprintf(usage, sizeof(usage), "%s %s", c->name, c->args);
		help_add(lines, n, "  %-24s %s", usage, c->help);
	}
}
