/* rules_impl.h - what rules.c (parser) and rule_eval.c (evaluator) share. Private. */
#ifndef VMC_RULES_IMPL_H
#define VMC_RULES_IMPL_H

#include "rules.h"

#define RULES_MAX_WINDOWS 8

enum rule_scope { SCOPE_HOST, SCOPE_GUEST, SCOPE_CLUSTER };
enum rule_unit { UNIT_PCT, UNIT_MB, UNIT_COUNT, UNIT_PLAIN };

enum rule_metric {
	M_CPU,
	M_MEM_USED,
	M_MEM_FREE,
	M_VMS,
	M_GUEST_CPU,
	M_GUEST_STEAL,
	M_GUEST_LOAD1,
	M_GUEST_MEM_USED,
	M_CLUSTER_CPU,
	M_CLUSTER_MEM_USED,
	M_CLUSTER_HOSTS,
	M__COUNT
};

struct rule_metric_def {
	const char *name;
	const char *alias; /* e.g. host.cpu */
	enum rule_scope scope;
	enum rule_unit unit;
};
extern const struct rule_metric_def rule_metrics[M__COUNT];

enum rule_op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };
enum rule_node_kind { RN_CMP, RN_AND, RN_OR, RN_NOT };

struct rule_node {
	enum rule_node_kind kind;
	int a, b; /* children (node indices) for AND/OR/NOT */
	enum rule_metric metric;
	enum rule_op op;
	double value; /* literal */
	int setting;  /* >= 0: compare with this setting (index in the settings table) */
	int pct;      /* memory metric compared as a percentage of the total */
};

struct rule {
	char name[VMC_NAME_MAX + 1];
	int line;
	int when; /* root node, -1: always */
	int64_t when_for;
	int when_for_setting; /* >= 0: the duration is this setting */
	int until;            /* -1: the rule clears when `when` stops holding */
	int64_t until_for;
	int until_for_setting;
	struct rule_window windows[RULES_MAX_WINDOWS];
	size_t nwindows;
	enum rule_action action;
	char message[256];
	char webhook[512];
	int guest; /* a condition uses guest metrics: one state per VM */
};

struct rules {
	struct rule *rules;
	size_t n;
	struct rule_node *nodes;
	size_t nnodes;
	size_t cap_rules, cap_nodes;
	struct rule_settings settings;
};

/* --- the lexer (rules_lex.c) --- */
enum tok_type {
	T_EOF,
	T_IDENT,
	T_NUMBER,
	T_TIME,
	T_STRING,
	T_OP,
	T_LBRACE,
	T_RBRACE,
	T_LPAREN,
	T_RPAREN,
	T_MINUS,
	T_COMMA,
	T_SEMI,
	T_BAD
};

struct rtok {
	enum tok_type t;
	int line, col;
	char text[512]; /* identifier, string, number suffix, or the bad character */
	double num;
	enum rule_op op;
	int minutes; /* T_TIME */
};

struct rlex {
	const char *s;
	size_t pos;
	int line, col;
	struct rtok tok; /* the current token */
};

/* Starts at the beginning of text, with the first token read. */
void rlex_init(struct rlex *lx, const char *text);
/* Reads the next token into lx->tok (T_EOF at the end, T_BAD with a description). */
void rlex_next(struct rlex *lx);
/* Describes a token for "found ..." in errors; returns buf or a constant. */
const char *rlex_found(const struct rtok *t, char *buf, size_t len);

enum rule_kind { KIND_PCT, KIND_DUR, KIND_INT, KIND_SIZE };

/* Index of a setting by name, or -1. */
int rule_setting_find(const char *name);
/* Kind of setting i. */
enum rule_kind rule_setting_kind(int i);
/* The value of setting i in s, in the unit conditions compare (%, ms, count, MiB). */
double rule_setting_value(const struct rule_settings *s, int i);

/* Converts a number and its suffix ("", "%", "ms", "s", "m", "h", "d", "M", "G", "T")
 * for a value of the given kind: % stays %, durations become ms, sizes MiB.
 * *pct (may be NULL) is set when a size was given as a percentage ("90%").
 * Returns 0, or -1 with "expected ..." in err. */
int rule_value_convert(double num, const char *suffix, enum rule_kind kind, int allow_pct,
                       double *out, int *pct, char *err, size_t errlen);

#endif
