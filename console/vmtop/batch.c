/* batch.c - -b: snapshots on stdout, as xentop -b prints them: the summary and the
 * tables in columns, or one JSON object per line (--json), or CSV (--csv). The cells
 * come from the same print layer as the screen's (columns.c). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../lib/core/evloop.h"
#include "app.h"

/* The views a snapshot prints: the one asked for, or hosts and VMs. */
static size_t batch_views(const struct vmtop *t, enum view_id *out)
{
	const struct view *vw = t->o.view ? view_find(t->o.view) : NULL;
	if (vw) {
		out[0] = vw->id;
		return 1;
	}
	out[0] = VIEW_HOSTS;
	out[1] = VIEW_VMS;
	return 2;
}

static int batch_column(const struct column *c, enum batch_fmt fmt)
{
	if (c->flags & COL_BAR)
		return 0;
	return fmt != BATCH_TEXT || !(c->flags & COL_BATCH);
}

/* A row of a text table, put together before it is written: a snapshot at 20,000 VMs has
 * hundreds of thousands of cells, too many for a formatted print each. */
struct text_line {
	FILE *out;
	size_t n;
	char buf[4096];
};

static void line_put(struct text_line *l, const char *s, size_t n)
{
	if (l->n + n > sizeof(l->buf)) {
		fwrite(l->buf, 1, l->n, l->out);
		l->n = 0;
	}
	if (n > sizeof(l->buf)) {
		fwrite(s, 1, n, l->out);
		return;
	}
	memcpy(l->buf + l->n, s, n);
	l->n += n;
}

static void line_pad(struct text_line *l, size_t n)
{
	static const char blanks[] = "                                ";
	for (size_t k; n > 0; n -= k) {
		k = n < sizeof(blanks) - 1 ? n : sizeof(blanks) - 1;
		line_put(l, blanks, k);
	}
}

/* Cell s of n bytes, after a blank unless first, padded to w bytes as printf's %*s pads
 * (right-aligned; left-aligned if w < 0; 0: as it is). */
static void line_cell(struct text_line *l, int first, int w, const char *s, size_t n)
{
	size_t width = (size_t)(w < 0 ? -(long)w : w);
	if (!first)
		line_put(l, " ", 1);
	if (w > 0 && n < width)
		line_pad(l, width - n);
	line_put(l, s, n);
	if (w < 0 && n < width)
		line_pad(l, width - n);
}

static void line_end(struct text_line *l)
{
	line_put(l, "\n", 1);
	fwrite(l->buf, 1, l->n, l->out);
	l->n = 0;
}

static void print_text_table(struct vmtop *t, const struct view *vw, const struct view_env *e,
                             FILE *out)
{
	char buf[512];
	struct text_line line, *l = &line;
	l->out = out;
	l->n = 0;
	for (size_t i = 0; i < *vw->ncols; i++) {
		const struct column *c = &vw->cols[i];
		int w = (c->flags & COL_LEFT) ? -c->width : c->width;
		if (i + 1 == *vw->ncols && (c->flags & COL_LEFT))
			w = 0;
		if (batch_column(c, BATCH_TEXT))
			line_cell(l, i == 0, w, c->header, strlen(c->header));
	}
	line_end(l);
	for (size_t r = 0; r < t->ui.nrows; r++) {
		for (size_t i = 0; i < *vw->ncols; i++) {
			const struct column *c = &vw->cols[i];
			if (!batch_column(c, BATCH_TEXT))
				continue;
			int w = (c->flags & COL_LEFT) ? -c->width : c->width;
			if (i + 1 == *vw->ncols && (c->flags & COL_LEFT))
				w = 0; /* no trailing blanks */
			column_print(c, &t->ui.rows[r], e, c->width, buf, sizeof(buf));
			line_cell(l, i == 0, w, buf, strlen(buf));
		}
		line_end(l);
	}
}

static void csv_cell(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_csv_table(struct vmtop *t, const struct view *vw, const struct view_env *e,
                            FILE *out)
{
	char buf[512];
	int first = 1;
	for (size_t i = 0; i < *vw->ncols; i++)
		if (batch_column(&vw->cols[i], BATCH_CSV)) {
			fprintf(out, "%s%s", first ? "" : ",", vw->cols[i].id);
			first = 0;
		}
	fputc('\n', out);
	for (size_t r = 0; r < t->ui.nrows; r++) {
		first = 1;
		for (size_t i = 0; i < *vw->ncols; i++) {
			const struct column *c = &vw->cols[i];
			if (!batch_column(c, BATCH_CSV))
				continue;
			double v = c->num ? c->num(&t->ui.rows[r], e) : 0;
			if (c->num && isnan(v))
				buf[0] = '\0';
			else if (c->num)
				snprintf(buf, sizeof(buf), "%.*f", c->prec, v);
			else
				column_print(c, &t->ui.rows[r], e, c->width, buf, sizeof(buf));
			if (!first)
				fputc(',', out);
			csv_cell(out, buf);
			first = 0;
		}
		fputc('\n', out);
	}
}

/* The rows of a view as a JSON array of objects keyed by column id. */
static cJSON *json_table(struct vmtop *t, const struct view *vw, const struct view_env *e)
{
	cJSON *arr = cJSON_CreateArray();
	char buf[512];
	for (size_t r = 0; r < t->ui.nrows; r++) {
		cJSON *o = cJSON_CreateObject();
		for (size_t i = 0; i < *vw->ncols; i++) {
			const struct column *c = &vw->cols[i];
			if (!batch_column(c, BATCH_JSON))
				continue;
			if (c->num) {
				double v = c->num(&t->ui.rows[r], e);
				if (isnan(v)) {
					cJSON_AddNullToObject(o, c->id);
				} else {
					double scale = pow(10, c->prec);
					cJSON_AddNumberToObject(o, c->id, round(v * scale) / scale);
				}
			} else {
				column_print(c, &t->ui.rows[r], e, c->width, buf, sizeof(buf));
				cJSON_AddStringToObject(o, c->id, buf);
			}
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *json_summary(const struct cluster_model *m, int64_t now_ms)
{
	char mode[32], window[96];
	struct cm_summary s;
	cluster_model_summary(m, &s);
	cJSON *o = cJSON_CreateObject();
	static const struct {
		const char *key;
		size_t off;
	} ints[] = {
	    {"hosts", offsetof(struct cm_summary, hosts)},
	    {"online", offsetof(struct cm_summary, online)},
	    {"offline", offsetof(struct cm_summary, offline)},
	    {"maintenance", offsetof(struct cm_summary, maintenance)},
	    {"stale", offsetof(struct cm_summary, stale)},
	    {"vms", offsetof(struct cm_summary, vms)},
	    {"running", offsetof(struct cm_summary, running)},
	    {"paused", offsetof(struct cm_summary, paused)},
	    {"stopped", offsetof(struct cm_summary, stopped)},
	    {"other", offsetof(struct cm_summary, other)},
	    {"unknown", offsetof(struct cm_summary, unknown)},
	    {"cpus_total", offsetof(struct cm_summary, cpus_total)},
	    {"migrations", offsetof(struct cm_summary, migrations)},
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		cJSON_AddNumberToObject(o, ints[i].key,
		                        *(const int *)((const char *)&s + ints[i].off));
	cJSON_AddNumberToObject(o, "cpus_used", round(s.cpus_used * 100) / 100);
	cJSON_AddNumberToObject(o, "mem_used_mb", (double)s.mem_used_mb);
	cJSON_AddNumberToObject(o, "mem_total_mb", (double)s.mem_total_mb);
	cluster_model_balance(m, now_ms, local_utc_offset(now_ms), mode, sizeof(mode), window,
	                      sizeof(window));
	cJSON_AddStringToObject(o, "balance_mode", mode);
	cJSON_AddStringToObject(o, "balance_window", window);
	return o;
}

static cJSON *json_migrations(const struct cluster_model *m)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < cluster_model_migration_count(m); i++) {
		const struct cm_migration *g = cluster_model_migration_at(m, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vm", g->vm);
		cJSON_AddStringToObject(o, "from", g->from);
		cJSON_AddStringToObject(o, "to", g->to);
		if (g->percent < 0)
			cJSON_AddNullToObject(o, "percent");
		else
			cJSON_AddNumberToObject(o, "percent", g->percent);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

size_t batch_missing(const struct cluster_model *m, size_t *total, char *names, size_t len)
{
	size_t n = 0, used = 0;
	*total = cluster_model_host_count(m);
	if (len)
		names[0] = '\0';
	for (size_t i = 0; i < *total; i++) {
		const struct cm_host *h = cluster_model_host_at(m, i);
		if (cluster_model_host_reported(h))
			continue;
		const char *sep = used ? ", " : "";
		int k = n < 10    ? snprintf(names + used, len - used, "%s%s", sep, h->name)
		        : n == 10 ? snprintf(names + used, len - used, ", ...")
		                  : 0;
		used = k < 0 || used + (size_t)k >= len ? len - 1 : used + (size_t)k;
		n++;
	}
	return n;
}

/* What the snapshot lacks, on stderr (after the snapshot, which stays whole on stdout). */
static void warn_incomplete(const struct vmtop *t, size_t missing, size_t total, const char *names)
{
	if (!t->synced)
		fprintf(stderr,
		        "vmtop-cluster: incomplete: the broker did not deliver its retained "
		        "messages within %g s (backlogged?): hosts and VMs may be missing\n",
		        t->o.timeout_s);
	else
		fprintf(stderr,
		        "vmtop-cluster: incomplete: %zu of %zu host%s %s not reported yet: %s "
		        "(their figures and VMs are missing)\n",
		        missing, total, total == 1 ? "" : "s", missing == 1 ? "has" : "have",
		        names);
}

void batch_print(struct vmtop *t, FILE *out)
{
	char names[512];
	size_t total, missing = batch_missing(t->model, &total, names, sizeof(names));
	enum view_id which[2], saved = t->ui.view;
	size_t n = batch_views(t, which);
	struct view_env e = vmtop_env(t);
	int connected = t->connected;
	cJSON *root = NULL;

	if (t->o.fmt == BATCH_JSON) {
		root = cJSON_CreateObject();
		cJSON_AddNumberToObject(root, "ts", (double)e.now_ms);
		cJSON_AddNumberToObject(root, "iteration", (double)t->printed + 1);
		cJSON_AddStringToObject(root, "cluster", t->o.cluster);
		cJSON_AddStringToObject(root, "broker", t->o.broker);
		cJSON_AddBoolToObject(root, "connected", connected);
		cJSON_AddBoolToObject(root, "complete", t->synced && !missing);
		cJSON *miss = cJSON_AddArrayToObject(root, "missing");
		for (size_t i = 0; missing && i < total; i++) {
			const struct cm_host *h = cluster_model_host_at(t->model, i);
			if (!cluster_model_host_reported(h))
				cJSON_AddItemToArray(miss, cJSON_CreateString(h->name));
		}
		cJSON_AddItemToObject(root, "summary", json_summary(t->model, e.now_ms));
		cJSON_AddItemToObject(root, "migrations", json_migrations(t->model));
	} else if (t->o.fmt == BATCH_TEXT) {
		char clock[32], hosts[256], load[256];
		time_t now = (time_t)(e.now_ms / 1000);
		struct tm tm;
		if (!localtime_r(&now, &tm) || !strftime(clock, sizeof(clock), "%F %T", &tm))
			clock[0] = '\0';
		fmt_summary(t->model, e.now_ms, hosts, sizeof(hosts), load, sizeof(load));
		fprintf(out, "vmtop-cluster %s  cluster %s  broker %s  %s\n%s\n%s\n\n", clock,
		        t->o.cluster, t->o.broker, connected ? "connected" : "DISCONNECTED", hosts,
		        load);
	}
	for (size_t k = 0; k < n; k++) {
		const struct view *vw = &views[which[k]];
		t->ui.view = which[k];
		views_build(&t->ui, &e);
		if (root)
			cJSON_AddItemToObject(root, vw->name, json_table(t, vw, &e));
		else if (t->o.fmt == BATCH_CSV)
			print_csv_table(t, vw, &e, out);
		else
			print_text_table(t, vw, &e, out);
		if (!root && k + 1 < n)
			fputc('\n', out);
	}
	t->ui.view = saved;
	t->ui.nrows = 0; /* the rows were built for the snapshot */
	if (root) {
		char *text = cJSON_PrintUnformatted(root);
		if (text)
			fprintf(out, "%s\n", text);
		cJSON_free(text);
		cJSON_Delete(root);
	} else {
		fputc('\n', out);
	}
	fflush(out);
	t->incomplete = !t->synced || missing;
	if (t->incomplete)
		warn_incomplete(t, missing, total, names);
}
