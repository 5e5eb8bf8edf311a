/* rules.c - the rules file parser (vmcluster-rules(5)). Pure.
 *
 * A hand-written lexer and recursive-descent parser. Every error is reported
 * as "FILE:LINE:COL: expected ..., found ..."; after an error the parser skips
 * to the next clause or rule and goes on, so one run shows them all. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_impl.h"

#define MAX_DEPTH 32
#define MAX_RULES 256
#define MAX_NODES 4096

const struct rule_metric_def rule_metrics[M__COUNT] = {
    [M_CPU] = {"cpu", "host.cpu", SCOPE_HOST, UNIT_PCT},
    [M_MEM_USED] = {"mem_used", "host.mem_used", SCOPE_HOST, UNIT_MB},
    [M_MEM_FREE] = {"mem_free", "host.mem_free", SCOPE_HOST, UNIT_MB},
    [M_VMS] = {"vms", "host.vms", SCOPE_HOST, UNIT_COUNT},
    [M_GUEST_CPU] = {"guest.cpu", NULL, SCOPE_GUEST, UNIT_PCT},
    [M_GUEST_STEAL] = {"guest.steal", NULL, SCOPE_GUEST, UNIT_PCT},
    [M_GUEST_LOAD1] = {"guest.load1", NULL, SCOPE_GUEST, UNIT_PLAIN},
    [M_GUEST_MEM_USED] = {"guest.mem_used", NULL, SCOPE_GUEST, UNIT_MB},
    [M_CLUSTER_CPU] = {"cluster.cpu", NULL, SCOPE_CLUSTER, UNIT_PCT},
    [M_CLUSTER_MEM_USED] = {"cluster.mem_used", NULL, SCOPE_CLUSTER, UNIT_PCT},
    [M_CLUSTER_HOSTS] = {"cluster.hosts", NULL, SCOPE_CLUSTER, UNIT_COUNT},
};

static const char *const action_names[RULE_ACTION__COUNT] = {"balance", "consolidate", "evacuate",
                                                             "alert"};

const char *rule_action_name(enum rule_action a)
{
	return (unsigned)a < RULE_ACTION__COUNT ? action_names[a] : NULL;
}

/* --- parser state and errors ------------------------------------------------ */

struct parser {
	struct rlex lx;
	const char *file;
	char *err;
	size_t errlen, errused;
	int nerr;
	int depth;
	struct rules *r;
};

static void perr_at(struct parser *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void perr_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	p->nerr++;
	if (!p->err || p->errused + 1 >= p->errlen)
		return;
	char *dst = p->err + p->errused;
	size_t room = p->errlen - p->errused;
	int n = 0;
	if (p->file)
		n = snprintf(dst, room, "%s%s:%d:%d: ", p->errused ? "\n" : "", p->file, line, col);
	else if (p->errused)
		n = snprintf(dst, room, "\n");
	if (n < 0 || (size_t)n >= room) {
		p->errused = p->errlen - 1;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(dst + n, room - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= room)
		p->errused = p->errlen - 1;
	else
		p->errused += n + m;
}

static void expected(struct parser *p, const char *what)
{
	char buf[96];
	perr_at(p, p->lx.tok.line, p->lx.tok.col, "expected %s, found %s", what,
	        rlex_found(&p->lx.tok, buf, sizeof buf));
}

static int is_word(const struct parser *p, const char *w)
{
	return p->lx.tok.t == T_IDENT && strcmp(p->lx.tok.text, w) == 0;
}

/* --- expressions --------------------------------------------------------------- */

static int node_add(struct parser *p, const struct rule_node *n)
{
	struct rules *r = p->r;
	if (r->nnodes >= MAX_NODES) {
		perr_at(p, p->lx.tok.line, p->lx.tok.col, "expected fewer conditions (at most %d)",
		        MAX_NODES);
		return -1;
	}
	if (r->nnodes == r->cap_nodes) {
		r->cap_nodes = r->cap_nodes ? r->cap_nodes * 2 : 16;
		struct rule_node *nn = realloc(r->nodes, r->cap_nodes * sizeof *nn);
		if (!nn)
			abort();
		r->nodes = nn;
	}
	r->nodes[r->nnodes] = *n;
	return (int)r->nnodes++;
}

static int metric_find(const char *name)
{
	for (int i = 0; i < M__COUNT; i++)
		if (strcmp(rule_metrics[i].name, name) == 0 ||
		    (rule_metrics[i].alias && strcmp(rule_metrics[i].alias, name) == 0))
			return i;
	return -1;
}

static const enum rule_kind unit_kind[] = {
    [UNIT_PCT] = KIND_PCT, [UNIT_MB] = KIND_SIZE, [UNIT_COUNT] = KIND_INT, [UNIT_PLAIN] = KIND_PCT};

/* Parses the right-hand side of a comparison into n. Returns 0 or -1. */
static int parse_operand(struct parser *p, struct rule_node *n)
{
	const struct rule_metric_def *m = &rule_metrics[n->metric];
	char msg[160];
	n->setting = -1;
	if (p->lx.tok.t == T_IDENT) {
		int s = rule_setting_find(p->lx.tok.text);
		if (s < 0 || rule_setting_kind(s) != unit_kind[m->unit]) {
			perr_at(
			    p, p->lx.tok.line, p->lx.tok.col,
			    "expected a number or a setting of the same unit for %s, found '%.60s'",
			    m->name, p->lx.tok.text);
			return -1;
		}
		n->setting = s;
		rlex_next(&p->lx);
		return 0;
	}
	if (p->lx.tok.t != T_NUMBER) {
		expected(p, "a number");
		return -1;
	}
	if (m->unit == UNIT_PLAIN && p->lx.tok.text[0]) {
		perr_at(p, p->lx.tok.line, p->lx.tok.col,
		        "expected a plain number for %s, found '%s'", m->name, p->lx.tok.text);
		return -1;
	}
	if (rule_value_convert(p->lx.tok.num, p->lx.tok.text, unit_kind[m->unit],
	                       m->unit == UNIT_MB, &n->value, &n->pct, msg, sizeof msg) < 0) {
		perr_at(p, p->lx.tok.line, p->lx.tok.col, "%s for %s", msg, m->name);
		return -1;
	}
	rlex_next(&p->lx);
	return 0;
}

static int parse_or(struct parser *p, int *guest);

static int parse_unary(struct parser *p, int *guest)
{
	if (is_word(p, "not")) {
		/* a chain of nots nests like parentheses: bounded, or the stack is the limit */
		if (++p->depth > MAX_DEPTH) {
			perr_at(p, p->lx.tok.line, p->lx.tok.col,
			        "expected at most %d nested 'not's and parentheses", MAX_DEPTH);
			return -1;
		}
		rlex_next(&p->lx);
		int a = parse_unary(p, guest);
		p->depth--;
		if (a < 0)
			return -1;
		struct rule_node n = {.kind = RN_NOT, .a = a, .b = -1};
		return node_add(p, &n);
	}
	if (p->lx.tok.t == T_LPAREN) {
		if (++p->depth > MAX_DEPTH) {
			perr_at(p, p->lx.tok.line, p->lx.tok.col,
			        "expected at most %d nested 'not's and parentheses", MAX_DEPTH);
			return -1;
		}
		rlex_next(&p->lx);
		int a = parse_or(p, guest);
		p->depth--;
		if (a < 0)
			return -1;
		if (p->lx.tok.t != T_RPAREN) {
			expected(p, "')'");
			return -1;
		}
		rlex_next(&p->lx);
		return a;
	}
	if (p->lx.tok.t != T_IDENT) {
		expected(p, "a metric (cpu, mem_used, mem_free, vms, guest.cpu, guest.steal, "
		            "guest.load1, guest.mem_used, cluster.cpu, ...)");
		return -1;
	}
	int metric = metric_find(p->lx.tok.text);
	if (metric < 0) {
		expected(p, "a metric (cpu, mem_used, mem_free, vms, guest.cpu, guest.steal, "
		            "guest.load1, guest.mem_used, cluster.cpu, cluster.mem_used, "
		            "cluster.hosts)");
		return -1;
	}
	rlex_next(&p->lx);
	if (p->lx.tok.t != T_OP) {
		expected(p, "a comparison (>, >=, <, <=, ==, !=)");
		return -1;
	}
	struct rule_node n = {
	    .kind = RN_CMP, .a = -1, .b = -1, .metric = metric, .op = p->lx.tok.op};
	rlex_next(&p->lx);
	if (parse_operand(p, &n) < 0)
		return -1;
	if (rule_metrics[metric].scope == SCOPE_GUEST)
		*guest = 1;
	return node_add(p, &n);
}

static int parse_binary(struct parser *p, int *guest, const char *word, enum rule_node_kind kind,
                        int (*sub)(struct parser *, int *))
{
	int a = sub(p, guest);
	while (a >= 0 && is_word(p, word)) {
		rlex_next(&p->lx);
		int b = sub(p, guest);
		if (b < 0)
			return -1;
		struct rule_node n = {.kind = kind, .a = a, .b = b};
		a = node_add(p, &n);
	}
	return a;
}

static int parse_and(struct parser *p, int *guest)
{
	return parse_binary(p, guest, "and", RN_AND, parse_unary);
}

static int parse_or(struct parser *p, int *guest)
{
	return parse_binary(p, guest, "or", RN_OR, parse_and);
}

/* --- clauses -------------------------------------------------------------------- */

/* Parses a duration (literal or a duration setting). Returns 0 or -1. */
static int parse_duration(struct parser *p, int64_t *ms, int *setting)
{
	char msg[160];
	double v;
	*setting = -1;
	if (p->lx.tok.t == T_IDENT) {
		int s = rule_setting_find(p->lx.tok.text);
		if (s < 0 || rule_setting_kind(s) != KIND_DUR) {
			expected(p, "a duration (e.g. 30s, 10m) or a duration setting (hold, ...)");
			return -1;
		}
		*setting = s;
		rlex_next(&p->lx);
		return 0;
	}
	if (p->lx.tok.t != T_NUMBER || rule_value_convert(p->lx.tok.num, p->lx.tok.text, KIND_DUR,
	                                                  0, &v, NULL, msg, sizeof msg) < 0) {
		expected(p, "a duration (e.g. 30s, 10m)");
		return -1;
	}
	*ms = (int64_t)llround(v);
	rlex_next(&p->lx);
	return 0;
}

/* Parses EXPR [for DURATION]. */
static int parse_condition(struct parser *p, struct rule *ru, int *root, int64_t *ms, int *setting)
{
	rlex_next(&p->lx);
	*root = parse_or(p, &ru->guest);
	if (*root < 0)
		return -1;
	*ms = 0;
	*setting = -1;
	if (is_word(p, "for")) {
		rlex_next(&p->lx);
		return parse_duration(p, ms, setting);
	}
	return 0;
}

static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int day_find(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (strcmp(day_names[i], s) == 0)
			return i;
	return -1;
}

static const struct {
	const char *name;
	unsigned days;
} day_sets[] = {{"daily", 0x7f}, {"weekdays", 0x3e}, {"weekends", 0x41}};

/* Parses days: DAY[-DAY]{,DAY[-DAY]} or daily / weekdays / weekends. */
static int parse_days(struct parser *p, unsigned *days)
{
	for (size_t i = 0; i < sizeof day_sets / sizeof day_sets[0]; i++) {
		if (is_word(p, day_sets[i].name)) {
			*days = day_sets[i].days;
			rlex_next(&p->lx);
			return 0;
		}
	}
	*days = 0;
	for (;;) {
		int a = p->lx.tok.t == T_IDENT ? day_find(p->lx.tok.text) : -1;
		if (a < 0) {
			expected(p, "a day (mon, tue, wed, thu, fri, sat, sun)");
			return -1;
		}
		rlex_next(&p->lx);
		int b = a;
		if (p->lx.tok.t == T_MINUS) {
			rlex_next(&p->lx);
			b = p->lx.tok.t == T_IDENT ? day_find(p->lx.tok.text) : -1;
			if (b < 0) {
				expected(p, "a day (mon, tue, wed, thu, fri, sat, sun)");
				return -1;
			}
			rlex_next(&p->lx);
		}
		for (int d = a;; d = (d + 1) % 7) {
			*days |= 1u << d;
			if (d == b)
				break;
		}
		if (p->lx.tok.t != T_COMMA)
			return 0;
		rlex_next(&p->lx);
	}
}

static int parse_time(struct parser *p, int *minutes, int is_end)
{
	if (p->lx.tok.t != T_TIME || p->lx.tok.minutes < 0 ||
	    (!is_end && p->lx.tok.minutes >= 1440) || p->lx.tok.minutes > 1440) {
		expected(p, is_end ? "an end time HH:MM (00:00 to 24:00)"
		                   : "a start time HH:MM (00:00 to 23:59)");
		return -1;
	}
	*minutes = p->lx.tok.minutes;
	rlex_next(&p->lx);
	return 0;
}

/* Parses HH:MM-HH:MM [days]. */
static int parse_window(struct parser *p, struct rule_window *w)
{
	int line = p->lx.tok.line, col = p->lx.tok.col;
	if (parse_time(p, &w->start_min, 0) < 0)
		return -1;
	if (p->lx.tok.t != T_MINUS) {
		expected(p, "'-' between the start and end times");
		return -1;
	}
	rlex_next(&p->lx);
	if (parse_time(p, &w->end_min, 1) < 0)
		return -1;
	if (w->start_min == w->end_min) {
		perr_at(p, line, col, "expected a window that is not empty (use 00:00-24:00)");
		return -1;
	}
	w->days = 0x7f;
	if (p->lx.tok.t == T_IDENT && (day_find(p->lx.tok.text) >= 0 || is_word(p, "daily") ||
	                               is_word(p, "weekdays") || is_word(p, "weekends")))
		return parse_days(p, &w->days);
	return 0;
}

static int parse_url(struct parser *p, char *out, size_t len)
{
	if (p->lx.tok.t != T_STRING) {
		expected(p, "a webhook URL in quotes");
		return -1;
	}
	const char *u = p->lx.tok.text;
	int ok =
	    (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && strlen(u) < len;
	for (const char *c = u; ok && *c; c++)
		if (!isgraph((unsigned char)*c))
			ok = 0;
	if (!ok) {
		perr_at(p, p->lx.tok.line, p->lx.tok.col,
		        "expected an http:// or https:// URL without spaces, found \"%.60s\"", u);
		return -1;
	}
	snprintf(out, len, "%s", u);
	rlex_next(&p->lx);
	return 0;
}

static int parse_action(struct parser *p, struct rule *ru)
{
	rlex_next(&p->lx);
	int a = -1;
	for (int i = 0; i < RULE_ACTION__COUNT; i++)
		if (is_word(p, action_names[i]))
			a = i;
	if (a < 0) {
		expected(p, "an action (balance, consolidate, evacuate, alert)");
		return -1;
	}
	ru->action = a;
	rlex_next(&p->lx);
	if (a != RULE_ALERT)
		return 0;
	if (p->lx.tok.t != T_STRING) {
		expected(p, "an alert message in quotes");
		return -1;
	}
	if (strlen(p->lx.tok.text) >= sizeof ru->message) {
		perr_at(p, p->lx.tok.line, p->lx.tok.col, "expected a message under %zu bytes",
		        sizeof ru->message);
		return -1;
	}
	snprintf(ru->message, sizeof ru->message, "%.255s", p->lx.tok.text);
	rlex_next(&p->lx);
	if (is_word(p, "webhook")) {
		rlex_next(&p->lx);
		return parse_url(p, ru->webhook, sizeof ru->webhook);
	}
	return 0;
}

static int is_clause_word(const struct parser *p)
{
	return is_word(p, "when") || is_word(p, "until") || is_word(p, "during") ||
	       is_word(p, "do");
}

static int is_statement_word(const struct parser *p)
{
	return is_word(p, "rule") || is_word(p, "set");
}

/* Skips to the next clause, '}' or statement after an error. */
static void skip_clause(struct parser *p)
{
	while (p->lx.tok.t != T_EOF && p->lx.tok.t != T_RBRACE && !is_clause_word(p) &&
	       !is_statement_word(p))
		rlex_next(&p->lx);
}

static int parse_clause(struct parser *p, struct rule *ru, int *seen_when, int *seen_do)
{
	if (is_word(p, "when")) {
		if (*seen_when)
			perr_at(p, p->lx.tok.line, p->lx.tok.col,
			        "expected one 'when' per rule (combine conditions with and/or)");
		*seen_when = 1;
		return parse_condition(p, ru, &ru->when, &ru->when_for, &ru->when_for_setting);
	}
	if (is_word(p, "until"))
		return parse_condition(p, ru, &ru->until, &ru->until_for, &ru->until_for_setting);
	if (is_word(p, "during")) {
		rlex_next(&p->lx);
		if (ru->nwindows >= RULES_MAX_WINDOWS) {
			perr_at(p, p->lx.tok.line, p->lx.tok.col,
			        "expected at most %d windows per rule", RULES_MAX_WINDOWS);
			return -1;
		}
		return parse_window(p, &ru->windows[ru->nwindows++]);
	}
	if (is_word(p, "do")) {
		if (*seen_do)
			perr_at(p, p->lx.tok.line, p->lx.tok.col, "expected one 'do' per rule");
		*seen_do = 1;
		return parse_action(p, ru);
	}
	expected(p, "a clause (when, until, during, do) or '}'");
	return -1;
}

static struct rule *rule_add(struct parser *p)
{
	struct rules *r = p->r;
	if (r->n == r->cap_rules) {
		r->cap_rules = r->cap_rules ? r->cap_rules * 2 : 8;
		struct rule *nr = realloc(r->rules, r->cap_rules * sizeof *nr);
		if (!nr)
			abort();
		r->rules = nr;
	}
	struct rule *ru = &r->rules[r->n++];
	memset(ru, 0, sizeof *ru);
	ru->when = ru->until = -1;
	ru->when_for_setting = ru->until_for_setting = -1;
	return ru;
}

static void parse_rule(struct parser *p)
{
	int line = p->lx.tok.line, col = p->lx.tok.col;
	rlex_next(&p->lx);
	char name[VMC_NAME_MAX + 1] = "";
	char msg[VMC_ERR_MAX];
	if (p->lx.tok.t != T_IDENT ||
	    vmc_name_check(p->lx.tok.text, "rule name", msg, sizeof msg) < 0) {
		expected(p, "a rule name ([A-Za-z0-9_.-], up to 64)");
	} else {
		snprintf(name, sizeof name, "%.64s", p->lx.tok.text);
		for (size_t i = 0; i < p->r->n; i++)
			if (strcmp(p->r->rules[i].name, name) == 0)
				perr_at(p, p->lx.tok.line, p->lx.tok.col,
				        "expected a new rule name, found '%s' again (first on line "
				        "%d)",
				        name, p->r->rules[i].line);
		rlex_next(&p->lx);
	}
	if (p->r->n >= MAX_RULES) {
		perr_at(p, line, col, "expected at most %d rules", MAX_RULES);
		return;
	}
	struct rule *ru = rule_add(p);
	snprintf(ru->name, sizeof ru->name, "%s", name);
	ru->line = line;
	if (p->lx.tok.t != T_LBRACE) {
		expected(p, "'{' after the rule name");
		skip_clause(p);
	} else {
		rlex_next(&p->lx);
	}
	int seen_when = 0, seen_do = 0;
	while (p->lx.tok.t != T_RBRACE) {
		if (p->lx.tok.t == T_EOF || is_statement_word(p)) {
			expected(p, "'}' to end the rule");
			break;
		}
		if (parse_clause(p, ru, &seen_when, &seen_do) < 0) {
			skip_clause(p);
			continue;
		}
		if (p->lx.tok.t == T_SEMI)
			rlex_next(&p->lx);
		else if (p->lx.tok.t != T_RBRACE && p->lx.tok.t != T_EOF && !is_clause_word(p) &&
		         !is_statement_word(p)) {
			expected(p, "a clause (when, until, during, do) or '}'");
			skip_clause(p);
		}
	}
	if (p->lx.tok.t == T_RBRACE)
		rlex_next(&p->lx);
	if (!seen_do)
		perr_at(p, line, col, "expected a 'do' clause in rule '%s'", ru->name);
}

static void parse_set(struct parser *p)
{
	rlex_next(&p->lx);
	if (p->lx.tok.t != T_IDENT || rule_setting_find(p->lx.tok.text) < 0) {
		char what[300];
		snprintf(what, sizeof what, "a setting name (%s)", rule_settings_names());
		expected(p, what);
		skip_clause(p);
		return;
	}
	char name[64];
	snprintf(name, sizeof name, "%.63s", p->lx.tok.text);
	rlex_next(&p->lx);
	if (p->lx.tok.t != T_NUMBER) {
		expected(p, "a value");
		skip_clause(p);
		return;
	}
	char value[600], msg[300];
	snprintf(value, sizeof value, "%.17g%s", p->lx.tok.num, p->lx.tok.text);
	if (rule_settings_set(&p->r->settings, name, value, msg, sizeof msg) < 0)
		perr_at(p, p->lx.tok.line, p->lx.tok.col, "%s", msg);
	rlex_next(&p->lx);
	if (p->lx.tok.t == T_SEMI)
		rlex_next(&p->lx);
}

static void parser_init(struct parser *p, const char *text, const char *file, char *err,
                        size_t errlen)
{
	memset(p, 0, sizeof *p);
	rlex_init(&p->lx, text);
	p->file = file;
	p->err = err;
	p->errlen = errlen;
	if (err && errlen)
		err[0] = 0;
}

int rules_parse(const char *text, const char *file, struct rules **out, char *err, size_t errlen)
{
	struct parser p;
	*out = NULL;
	parser_init(&p, text, file ? file : "rules", err, errlen);
	struct rules *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	rule_settings_default(&r->settings);
	p.r = r;
	while (p.lx.tok.t != T_EOF) {
		if (is_word(&p, "rule")) {
			parse_rule(&p);
		} else if (is_word(&p, "set")) {
			parse_set(&p);
		} else {
			expected(&p, "'rule' or 'set'");
			do
				rlex_next(&p.lx);
			while (p.lx.tok.t != T_EOF && !is_statement_word(&p));
		}
	}
	if (p.nerr == 0 && r->settings.low >= r->settings.high)
		perr_at(&p, 1, 1, "expected low (%g) under high (%g)", r->settings.low,
		        r->settings.high);
	if (p.nerr) {
		rules_free(r);
		return p.nerr;
	}
	*out = r;
	return 0;
}

int rule_window_parse(const char *span, const char *days, struct rule_window *w, char *err,
                      size_t errlen)
{
	char text[256];
	snprintf(text, sizeof text, "%s %s", span ? span : "", days ? days : "");
	struct parser p;
	parser_init(&p, text, NULL, err, errlen);
	if (parse_window(&p, w) < 0)
		return -1;
	if (p.lx.tok.t != T_EOF) {
		expected(&p, "the end of the window");
		return -1;
	}
	return 0;
}

static const char default_text[] =
    "# Built-in rules (vmcluster-rules(5)): used when there is no rules file.\n"
    "rule overload {\n"
    "\twhen cpu > high for hold\n"
    "\tuntil cpu < low for hold\n"
    "\tdo balance\n"
    "}\n"
    "rule night {\n"
    "\tduring 22:00-06:00\n"
    "\twhen cluster.cpu < night_cpu for 10m\n"
    "\tdo consolidate\n"
    "}\n"
    "rule memory {\n"
    "\twhen mem_free < 5% for 1m\n"
    "\tuntil mem_free > 10%\n"
    "\tdo alert \"{host}: less than 5% of memory free\"\n"
    "}\n";

const char *rules_default_text(void)
{
	return default_text;
}

struct rules *rules_default(void)
{
	struct rules *r;
	char err[256];
	if (rules_parse(default_text, "built-in", &r, err, sizeof err) != 0)
		abort(); /* the built-in text is tested */
	return r;
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	free(r->rules);
	free(r->nodes);
	free(r);
}

size_t rules_count(const struct rules *r)
{
	return r->n;
}

const char *rules_name(const struct rules *r, size_t i)
{
	return i < r->n ? r->rules[i].name : NULL;
}

int rules_action(const struct rules *r, size_t i)
{
	return i < r->n ? (int)r->rules[i].action : -1;
}

const char *rules_alert_message(const struct rules *r, size_t i)
{
	return i < r->n ? r->rules[i].message : NULL;
}

const char *rules_alert_webhook(const struct rules *r, size_t i)
{
	return i < r->n ? r->rules[i].webhook : NULL;
}

const struct rule_settings *rules_settings(const struct rules *r)
{
	return &r->settings;
}
