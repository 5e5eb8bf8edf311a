/* columns.c - the column tables of every view and the one print layer that the screen
 * (draw.c) and batch mode (batch.c) share, in the manner of xentop's field table. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vmtop.h"

#define HOST(r) ((const struct cm_host *)(r)->p)
#define VM(r) ((const struct cm_vm *)(r)->p)
#define MOVE(r) ((const struct plan_move *)(r)->p)

/* --- formatting -------------------------------------------------------------- */

void fmt_mem(int64_t mb, char *buf, size_t len)
{
	if (mb < 1024)
		snprintf(buf, len, "%lldM", (long long)mb);
	else if (mb < 1024 * 1024)
		snprintf(buf, len, "%.1fG", mb / 1024.0);
	else
		snprintf(buf, len, "%.1fT", mb / (1024.0 * 1024.0));
}

void fmt_age(int64_t ms, char *buf, size_t len)
{
	static const struct {
		int64_t div;
		const char *unit;
	} units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
	if (ms < 0) {
		snprintf(buf, len, "-");
		return;
	}
	size_t n = sizeof(units) / sizeof(units[0]), i = 0;
	while (i + 1 < n && ms < units[i].div)
		i++;
	snprintf(buf, len, "%lld%s", (long long)(ms / units[i].div), units[i].unit);
}

void fmt_bar(double pct, int width, char *buf, size_t len)
{
	if (len == 0)
		return;
	if ((size_t)width >= len)
		width = (int)len - 1;
	if (width < 0)
		width = 0;
	if (isnan(pct) || pct < 0)
		pct = 0;
	int fill = (int)(pct / 100.0 * width + 0.5);
	if (fill > width)
		fill = width;
	memset(buf, '|', (size_t)fill);
	memset(buf + fill, ' ', (size_t)(width - fill));
	buf[width] = '\0';
}

long local_utc_offset(int64_t now_ms)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
}

void fmt_summary(const struct cluster_model *m, int64_t now_ms, char *hosts, size_t hlen,
                 char *load, size_t llen)
{
	struct cm_summary s;
	char used[16], total[16], mode[32], window[96];
	cluster_model_balance(m, now_ms, local_utc_offset(now_ms), mode, sizeof(mode), window,
	                      sizeof(window));
	cluster_model_summary(m, &s);
	fmt_mem(s.mem_used_mb, used, sizeof(used));
	fmt_mem(s.mem_total_mb, total, sizeof(total));
	snprintf(hosts, hlen,
	         "Hosts: %d online %d offline %d maint %d stale  CPU %.1f/%d %.0f%%  "
	         "Mem %s/%s %.0f%%",
	         s.online, s.offline, s.maintenance, s.stale, s.cpus_used, s.cpus_total,
	         s.cpus_total ? 100.0 * s.cpus_used / s.cpus_total : 0.0, used, total,
	         s.mem_total_mb ? 100.0 * (double)s.mem_used_mb / (double)s.mem_total_mb : 0.0);
	char other[64] = "";
	size_t o = 0;
	/* crashed, migrating, ...: rare, so only when there are some; unknown: the VMs of
	 * hosts that are offline or stale, whose last state is not live */
	if (s.other)
		o += (size_t)snprintf(other, sizeof(other), " %d other", s.other);
	if (s.unknown)
		snprintf(other + o, sizeof(other) - o, " %d unknown", s.unknown);
	snprintf(load, llen, "VMs: %d running %d paused %d stopped%s  Migrating %d  Balance %s%s%s",
	         s.running, s.paused, s.stopped, other, s.migrations, mode, window[0] ? " " : "",
	         window);
}

static int host_is_stale(const struct cm_host *h)
{
	return h->stale && h->state != CM_HOST_OFFLINE;
}

/* --- hosts ------------------------------------------------------------------- */

static const char *h_name(const struct row *r, const struct view_env *e)
{
	return HOST(r)->name;
}

/* What the header counts it as: an online or maintenance host without recent loads is
 * "stale". */
static const char *h_state(const struct row *r, const struct view_env *e)
{
	return host_is_stale(HOST(r)) ? "stale" : cm_host_state_name(HOST(r)->state);
}

static double h_stale(const struct row *r, const struct view_env *e)
{
	return host_is_stale(HOST(r));
}

static double h_cpu(const struct row *r, const struct view_env *e)
{
	return HOST(r)->have_load ? HOST(r)->cpu : NAN;
}

static double h_cpus(const struct row *r, const struct view_env *e)
{
	return HOST(r)->cpus;
}

static double h_mem_used(const struct row *r, const struct view_env *e)
{
	return HOST(r)->have_load ? (double)HOST(r)->mem_used_mb : NAN;
}

static void h_mem(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	char used[16], total[16];
	if (!HOST(r)->have_load) {
		snprintf(b, n, "-");
		return;
	}
	fmt_mem(HOST(r)->mem_used_mb, used, sizeof(used));
	fmt_mem(HOST(r)->mem_total_mb, total, sizeof(total));
	snprintf(b, n, "%s/%s", used, total);
}

static double h_mem_total(const struct row *r, const struct view_env *e)
{
	return (double)HOST(r)->mem_total_mb;
}

static double h_mem_pct(const struct row *r, const struct view_env *e)
{
	const struct cm_host *h = HOST(r);
	return h->have_load && h->mem_total_mb ? 100.0 * h->mem_used_mb / h->mem_total_mb : NAN;
}

static double h_vms(const struct row *r, const struct view_env *e)
{
	return HOST(r)->nvms;
}

static double h_mig_out(const struct row *r, const struct view_env *e)
{
	return HOST(r)->migrations_out;
}

static double h_mig_in(const struct row *r, const struct view_env *e)
{
	return HOST(r)->migrations_in;
}

static void h_mig(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	snprintf(b, n, "%d/%d", HOST(r)->migrations_out, HOST(r)->migrations_in);
}

static double h_seen(const struct row *r, const struct view_env *e)
{
	return HOST(r)->last_seen_ms ? (double)(e->now_ms - HOST(r)->last_seen_ms) / 1000.0 : NAN;
}

static void h_seen_text(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	fmt_age(HOST(r)->last_seen_ms ? e->now_ms - HOST(r)->last_seen_ms : -1, b, n);
}

static void h_driver(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	snprintf(b, n, "%s", HOST(r)->driver[0] ? HOST(r)->driver : "-");
}

/* HA: the fencing of a dead host, as the agents' events said it. */
static const char *h_fence(const struct row *r, const struct view_env *e)
{
	static const char *const names[] = {
	    [CM_FENCE_NONE] = "-",
	    [CM_FENCE_FENCING] = "fencing",
	    [CM_FENCE_FENCED] = "fenced",
	    [CM_FENCE_FAILED] = "FAILED",
	};
	return names[cluster_model_host_fence(HOST(r))];
}

static double h_session(const struct row *r, const struct view_env *e)
{
	return (double)HOST(r)->session;
}

static double h_gaps(const struct row *r, const struct view_env *e)
{
	return (double)HOST(r)->seq_gaps;
}

const struct column columns_host[] = {
    {"name", "NAME", 12, COL_LEFT, NULL, 0, h_name, NULL},
    {"state", "STATE", 11, COL_LEFT, NULL, 0, h_state, NULL},
    {"cpu", "CPU%", 5, COL_DESC, h_cpu, 1, NULL, NULL},
    {"cpu_bar", "", 10, COL_BAR | COL_DESC, h_cpu, 0, NULL, NULL},
    {"cpus", "CPUS", 4, COL_DESC, h_cpus, 0, NULL, NULL},
    {"mem_used_mb", "MEM", 13, COL_DESC, h_mem_used, 0, NULL, h_mem},
    {"mem_total_mb", "MEMTOTAL", 8, COL_BATCH | COL_DESC, h_mem_total, 0, NULL, NULL},
    {"vms", "VMS", 4, COL_DESC, h_vms, 0, NULL, NULL},
    {"migrations_out", "MIG o/i", 7, COL_DESC, h_mig_out, 0, NULL, h_mig},
    {"migrations_in", "MIGIN", 5, COL_BATCH | COL_DESC, h_mig_in, 0, NULL, NULL},
    {"seen", "SEEN", 5, 0, h_seen, 0, NULL, h_seen_text},
    {"fence", "FENCE", 7, COL_LEFT, NULL, 0, h_fence, NULL},
    {"stale", "STALE", 5, COL_BATCH | COL_DESC, h_stale, 0, NULL, NULL},
    {"mem_pct", "MEM%", 5, COL_DESC, h_mem_pct, 1, NULL, NULL},
    {"session", "SESSION", 7, COL_DESC, h_session, 0, NULL, NULL},
    {"seq_gaps", "GAPS", 5, COL_DESC, h_gaps, 0, NULL, NULL},
    {"driver", "DRIVER", 6, COL_LEFT | COL_FLEX, NULL, 0, NULL, h_driver},
};
const size_t columns_host_n = sizeof(columns_host) / sizeof(columns_host[0]);

/* --- VMs ----------------------------------------------------------------------- */

static const char *v_name(const struct row *r, const struct view_env *e)
{
	return VM(r)->name;
}

static const char *v_host(const struct row *r, const struct view_env *e)
{
	return VM(r)->host[0] ? VM(r)->host : "-";
}

/* A VM whose host is offline or stale is "unknown": its last state is not live. */
static const char *v_state(const struct row *r, const struct view_env *e)
{
	return cluster_model_vm_stale(e->m, VM(r)) ? "unknown" : VM(r)->state;
}

static double v_cpu(const struct row *r, const struct view_env *e)
{
	return cluster_model_vm_stale(e->m, VM(r)) ? NAN : VM(r)->cpu;
}

static double v_hold(const struct row *r, const struct view_env *e)
{
	int64_t left = cluster_model_vm_hold_left(VM(r), e->now_ms);
	return left > 0 ? (double)left / 1000.0 : NAN;
}

static void v_hold_text(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	double left = v_hold(r, e);
	if (isnan(left))
		snprintf(b, n, "-");
	else
		fmt_age((int64_t)(left * 1000), b, n);
}

/* 1 if the comma-separated list tags holds tag. */
static int tags_have(const char *tags, const char *tag)
{
	size_t n = strlen(tag);
	for (const char *p = tags; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, tag, n))
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* HA: "yes" for a VM tagged ha while the policy allows restarts, "off" while it does not;
 * "FAILED" after it could not be restarted, "lost" when its host was fenced without it
 * being protected. */
static const char *v_ha(const struct row *r, const struct view_env *e)
{
	const struct cm_vm *v = VM(r);
	if (v->ha == CM_VM_HA_FAILED)
		return "FAILED";
	if (v->ha == CM_VM_HA_LOST)
		return "lost";
	if (!tags_have(v->tags, "ha"))
		return "-";
	return cluster_model_ha_on(e->m) ? "yes" : "off";
}

static double v_vcpus(const struct row *r, const struct view_env *e)
{
	return VM(r)->vcpus;
}

static double v_mem(const struct row *r, const struct view_env *e)
{
	return (double)VM(r)->mem_mb;
}

static double v_mem_pct(const struct row *r, const struct view_env *e)
{
	const struct cm_host *h = cluster_model_host_find(e->m, VM(r)->host);
	return h && h->mem_total_mb ? 100.0 * VM(r)->mem_mb / h->mem_total_mb : NAN;
}

static double v_gcpu(const struct row *r, const struct view_env *e)
{
	return VM(r)->has_guest ? VM(r)->guest_cpu : NAN;
}

static double v_steal(const struct row *r, const struct view_env *e)
{
	return VM(r)->has_guest ? VM(r)->guest_steal : NAN;
}

static double v_load1(const struct row *r, const struct view_env *e)
{
	return VM(r)->has_guest ? VM(r)->guest_load1 : NAN;
}

static double v_net_rx(const struct row *r, const struct view_env *e)
{
	return VM(r)->has_io ? VM(r)->net_rx / 1024.0 : NAN;
}

static double v_net_tx(const struct row *r, const struct view_env *e)
{
	return VM(r)->has_io ? VM(r)->net_tx / 1024.0 : NAN;
}

static double v_blk_rd(const struct row *r, const struct view_env *e)
{
	return VM(r)->has_io ? (double)VM(r)->blk_rd : NAN;
}

static double v_blk_wr(const struct row *r, const struct view_env *e)
{
	return VM(r)->has_io ? (double)VM(r)->blk_wr : NAN;
}

static double v_mig_pct(const struct row *r, const struct view_env *e)
{
	const struct cm_migration *g = cluster_model_migration_find(e->m, VM(r)->name);
	return g ? (g->percent < 0 ? 0 : g->percent) : NAN;
}

static void v_mig(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	const struct cm_migration *g = cluster_model_migration_find(e->m, VM(r)->name);
	if (!g)
		snprintf(b, n, "-");
	else if (g->percent < 0)
		snprintf(b, n, "->%s", g->to[0] ? g->to : "?");
	else
		snprintf(b, n, "->%s %.0f%%", g->to[0] ? g->to : "?", g->percent);
}

static const char *v_tags(const struct row *r, const struct view_env *e)
{
	return VM(r)->tags;
}

const struct column columns_vm[] = {
    {"name", "NAME", 14, COL_LEFT, NULL, 0, v_name, NULL},
    {"host", "HOST", 10, COL_LEFT, NULL, 0, v_host, NULL},
    {"state", "STATE", 8, COL_LEFT, NULL, 0, v_state, NULL},
    {"cpu", "CPU%", 6, COL_DESC, v_cpu, 1, NULL, NULL},
    {"vcpus", "VCPUS", 5, COL_DESC, v_vcpus, 0, NULL, NULL},
    {"mem_mb", "MEM(M)", 7, COL_DESC, v_mem, 0, NULL, NULL},
    {"mem_pct", "MEM%", 5, COL_DESC, v_mem_pct, 1, NULL, NULL},
    {"hold", "HOLD", 5, COL_DESC, v_hold, 0, NULL, v_hold_text},
    {"ha", "HA", 6, COL_LEFT, NULL, 0, v_ha, NULL},
    {"guest_cpu", "GCPU%", 5, COL_DESC, v_gcpu, 0, NULL, NULL},
    {"steal", "STEAL", 5, COL_DESC, v_steal, 0, NULL, NULL},
    {"load1", "LOAD1", 5, COL_DESC, v_load1, 2, NULL, NULL},
    {"net_rx_k", "NETRX(k)", 9, COL_DESC, v_net_rx, 0, NULL, NULL},
    {"net_tx_k", "NETTX(k)", 9, COL_DESC, v_net_tx, 0, NULL, NULL},
    {"blk_rd", "VBD_RD", 8, COL_DESC, v_blk_rd, 0, NULL, NULL},
    {"blk_wr", "VBD_WR", 8, COL_DESC, v_blk_wr, 0, NULL, NULL},
    {"migration", "MIGRATION", 12, COL_LEFT | COL_DESC, v_mig_pct, 0, NULL, v_mig},
    {"tags", "TAGS", 16, COL_LEFT | COL_FLEX, NULL, 0, v_tags, NULL},
};
const size_t columns_vm_n = sizeof(columns_vm) / sizeof(columns_vm[0]);

/* --- events and migrations in flight ------------------------------------------ */

static double e_time(const struct row *r, const struct view_env *e)
{
	if (r->kind == ROW_MIGRATION)
		return (double)((const struct cm_migration *)r->p)->started_ms / 1000.0;
	return (double)((const struct cm_event *)r->p)->ts_ms / 1000.0;
}

static void e_time_text(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	time_t t = (time_t)e_time(r, e);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(b, n, "%H:%M:%S", &tm))
		snprintf(b, n, "-");
}

static const char *e_type(const struct row *r, const struct view_env *e)
{
	return r->kind == ROW_MIGRATION ? "migrating" : ((const struct cm_event *)r->p)->type;
}

static const char *e_host(const struct row *r, const struct view_env *e)
{
	const char *h = r->kind == ROW_MIGRATION ? ((const struct cm_migration *)r->p)->from
	                                         : ((const struct cm_event *)r->p)->host;
	return h[0] ? h : "-";
}

static const char *e_vm(const struct row *r, const struct view_env *e)
{
	const char *v = r->kind == ROW_MIGRATION ? ((const struct cm_migration *)r->p)->vm
	                                         : ((const struct cm_event *)r->p)->vm;
	return v[0] ? v : "-";
}

static void e_details(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	if (r->kind == ROW_EVENT) {
		const struct cm_event *ev = r->p;
		snprintf(b, n, "%s%s", ev->local ? "(seen here) " : "", ev->text);
		return;
	}
	const struct cm_migration *g = r->p;
	char bar[24];
	fmt_bar(g->percent, 20, bar, sizeof(bar));
	if (g->percent < 0)
		snprintf(b, n, "%s -> %s [%s] starting", g->from[0] ? g->from : "?",
		         g->to[0] ? g->to : "?", bar);
	else
		snprintf(b, n, "%s -> %s [%s] %.0f%%", g->from[0] ? g->from : "?",
		         g->to[0] ? g->to : "?", bar, g->percent);
}

const struct column columns_event[] = {
    {"time", "TIME", 8, COL_LEFT | COL_DESC, e_time, 3, NULL, e_time_text},
    {"type", "TYPE", 18, COL_LEFT, NULL, 0, e_type, NULL},
    {"host", "HOST", 10, COL_LEFT, NULL, 0, e_host, NULL},
    {"vm", "VM", 14, COL_LEFT, NULL, 0, e_vm, NULL},
    {"details", "DETAILS", 20, COL_LEFT | COL_FLEX, NULL, 0, NULL, e_details},
};
const size_t columns_event_n = sizeof(columns_event) / sizeof(columns_event[0]);

/* --- the plan ------------------------------------------------------------------ */

static const char *p_vm(const struct row *r, const struct view_env *e)
{
	return MOVE(r)->vm;
}

static const char *p_from(const struct row *r, const struct view_env *e)
{
	return MOVE(r)->from;
}

static const char *p_to(const struct row *r, const struct view_env *e)
{
	return MOVE(r)->to;
}

static void p_before(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	snprintf(b, n, "%s", MOVE(r)->before[0] ? MOVE(r)->before : "-");
}

static void p_after(const struct row *r, const struct view_env *e, char *b, size_t n)
{
	snprintf(b, n, "%s", MOVE(r)->after[0] ? MOVE(r)->after : "-");
}

static const char *p_details(const struct row *r, const struct view_env *e)
{
	return MOVE(r)->details;
}

const struct column columns_plan[] = {
    {"vm", "VM", 14, COL_LEFT, NULL, 0, p_vm, NULL},
    {"from", "FROM", 10, COL_LEFT, NULL, 0, p_from, NULL},
    {"to", "TO", 10, COL_LEFT, NULL, 0, p_to, NULL},
    {"before", "BEFORE", 16, COL_LEFT, NULL, 0, NULL, p_before},
    {"after", "AFTER", 16, COL_LEFT, NULL, 0, NULL, p_after},
    {"details", "DETAILS", 10, COL_LEFT | COL_FLEX, NULL, 0, p_details, NULL},
};
const size_t columns_plan_n = sizeof(columns_plan) / sizeof(columns_plan[0]);

/* --- the print layer --------------------------------------------------------- */

/* s into buf, cut to len - 1 bytes as snprintf "%s" would (a -b snapshot at 20,000 VMs
 * prints hundreds of thousands of cells: no printf for the plain ones). */
static void put_text(const char *s, char *buf, size_t len)
{
	if (!len)
		return;
	size_t n = strnlen(s, len - 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* A whole number as %.0f prints it (cut to len - 1, as snprintf cuts). */
static void fmt_whole(uint64_t u, char *buf, size_t len)
{
	char digits[24];
	size_t n = 0;
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	size_t k = 0;
	for (; k < n && k + 1 < len; k++)
		buf[k] = digits[n - 1 - k];
	if (len)
		buf[k] = '\0';
}

/* v with prec decimals (1 or 2) as %.*f prints it, for 0 <= v < 1e6 not within 1e-6 of a
 * tie: v x 10^prec is then within 1e-8 of the exact product, so it rounds to the same
 * whole number as printf rounds the exact value (a computed value just past a whole number
 * rounds to it, as the exact value just short of it does). Returns 0 if it left v to
 * printf (a tie, a negative number, another prec). */
static int fmt_fixed(double v, int prec, char *buf, size_t len)
{
	static const unsigned scale[] = {1, 10, 100};
	if (prec < 1 || prec > 2 || !(v >= 0 && v < 1e6) || signbit(v))
		return 0;
	double s = v * scale[prec], whole = floor(s), frac = s - whole;
	if (fabs(frac - 0.5) < 1e-6)
		return 0;
	uint64_t u = (uint64_t)whole + (frac > 0.5), f = u % scale[prec];
	char text[40];
	fmt_whole(u / scale[prec], text, sizeof(text) - 4);
	size_t n = strlen(text);
	text[n++] = '.';
	if (prec == 2)
		text[n++] = (char)('0' + f / 10);
	text[n++] = (char)('0' + f % 10);
	text[n] = '\0';
	put_text(text, buf, len);
	return 1;
}

const char *column_print(const struct column *c, const struct row *r, const struct view_env *e,
                         int width, char *buf, size_t len)
{
	if (c->flags & COL_BAR) {
		fmt_bar(c->num(r, e), width, buf, len);
	} else if (c->str) {
		put_text(c->str(r, e), buf, len);
	} else if (c->text) {
		c->text(r, e, buf, len);
	} else {
		double v = c->num(r, e);
		if (isnan(v))
			put_text("-", buf, len);
		else if (c->prec == 0 && v == floor(v) && fabs(v) < 1e15 && !signbit(v))
			fmt_whole((uint64_t)v, buf, len); /* what %.0f prints, without printf */
		else if (!fmt_fixed(v, c->prec, buf, len))
			snprintf(buf, len, "%.*f", c->prec, v);
	}
	return buf;
}

int column_compare(const struct column *c, const struct row *a, const struct row *b,
                   const struct view_env *e, int desc)
{
	int d;
	if (c->num) {
		double x = c->num(a, e), y = c->num(b, e);
		if (isnan(x) || isnan(y))
			return isnan(x) - isnan(y);
		d = (x > y) - (x < y);
	} else if (c->str) {
		d = strcmp(c->str(a, e), c->str(b, e));
	} else {
		char x[256], y[256];
		c->text(a, e, x, sizeof(x));
		c->text(b, e, y, sizeof(y));
		d = strcmp(x, y);
	}
	return desc ? -d : d;
}

int column_find(const struct column *cols, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(cols[i].id, name) ||
		    (cols[i].header[0] && !strcasecmp(cols[i].header, name)))
			return (int)i;
	return -1;
}
