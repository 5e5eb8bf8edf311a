/* rules_lex.c - the rules file's lexer: words, numbers with units, HH:MM times,
 * quoted strings, comparisons and punctuation, with line and column. Pure. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_impl.h"

void rlex_init(struct rlex *p, const char *text)
{
	memset(p, 0, sizeof *p);
	p->s = text;
	p->line = p->col = 1;
	rlex_next(p);
}

static int peekc(const struct rlex *p, size_t ahead)
{
	for (size_t i = 0; i < ahead; i++)
		if (!p->s[p->pos + i])
			return 0;
	return (unsigned char)p->s[p->pos + ahead];
}

static void advance(struct rlex *p)
{
	if (p->s[p->pos] == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->pos++;
}

static void lex_string(struct rlex *p, struct rtok *t)
{
	size_t n = 0;
	advance(p); /* opening quote */
	for (;;) {
		int c = peekc(p, 0);
		if (c == 0 || c == '\n') {
			t->t = T_BAD;
			snprintf(t->text, sizeof t->text, "unterminated string");
			return;
		}
		advance(p);
		if (c == '"')
			break;
		if (c == '\\') {
			int e = peekc(p, 0);
			if (e == 'n')
				c = '\n';
			else if (e == '"' || e == '\\')
				c = e;
			else {
				t->t = T_BAD;
				snprintf(t->text, sizeof t->text, "bad escape in string");
				return;
			}
			advance(p);
		}
		if (n + 1 < sizeof t->text)
			t->text[n++] = (char)c;
	}
	t->text[n] = 0;
	t->t = T_STRING;
}

static void lex_number(struct rlex *p, struct rtok *t)
{
	size_t start = p->pos;
	while (isdigit(peekc(p, 0)))
		advance(p);
	if (peekc(p, 0) == ':' && isdigit(peekc(p, 1)) && p->pos - start <= 2) {
		int hh = atoi(p->s + start);
		advance(p);
		size_t ms = p->pos;
		while (isdigit(peekc(p, 0)))
			advance(p);
		t->t = T_TIME;
		t->minutes = p->pos - ms == 2 ? hh * 60 + atoi(p->s + ms) : -1;
		if (hh > 24 || atoi(p->s + ms) > 59)
			t->minutes = -1;
		return;
	}
	if (peekc(p, 0) == '.' && isdigit(peekc(p, 1))) {
		advance(p);
		while (isdigit(peekc(p, 0)))
			advance(p);
	}
	t->num = strtod(p->s + start, NULL);
	size_t n = 0;
	while (isalpha(peekc(p, 0)) || peekc(p, 0) == '%') {
		if (n + 1 < sizeof t->text)
			t->text[n++] = (char)peekc(p, 0);
		advance(p);
	}
	t->text[n] = 0;
	t->t = T_NUMBER;
}

static const struct {
	const char *text;
	enum rule_op op;
} op_table[] = {{">=", OP_GE}, {"<=", OP_LE}, {"==", OP_EQ},
                {"!=", OP_NE}, {">", OP_GT},  {"<", OP_LT}};

static const struct {
	char c;
	enum tok_type t;
} punct_table[] = {{'{', T_LBRACE}, {'}', T_RBRACE}, {'(', T_LPAREN}, {')', T_RPAREN},
                   {'-', T_MINUS},  {',', T_COMMA},  {';', T_SEMI}};

void rlex_next(struct rlex *p)
{
	struct rtok *t = &p->tok;
	for (;;) {
		int c = peekc(p, 0);
		if (c == '#') {
			while (peekc(p, 0) && peekc(p, 0) != '\n')
				advance(p);
		} else if (isspace(c)) {
			advance(p);
		} else {
			break;
		}
	}
	memset(t, 0, sizeof *t);
	t->line = p->line;
	t->col = p->col;
	int c = peekc(p, 0);
	if (c == 0) {
		t->t = T_EOF;
		return;
	}
	if (isalpha(c) || c == '_') {
		size_t n = 0;
		while (isalnum(peekc(p, 0)) || peekc(p, 0) == '_' || peekc(p, 0) == '.') {
			if (n + 1 < sizeof t->text)
				t->text[n++] = (char)peekc(p, 0);
			advance(p);
		}
		t->text[n] = 0;
		t->t = T_IDENT;
		return;
	}
	if (isdigit(c)) {
		lex_number(p, t);
		return;
	}
	if (c == '"') {
		lex_string(p, t);
		return;
	}
	for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++) {
		size_t len = strlen(op_table[i].text);
		if (strncmp(p->s + p->pos, op_table[i].text, len) == 0) {
			for (size_t k = 0; k < len; k++)
				advance(p);
			t->t = T_OP;
			t->op = op_table[i].op;
			snprintf(t->text, sizeof t->text, "%s", op_table[i].text);
			return;
		}
	}
	for (size_t i = 0; i < sizeof punct_table / sizeof punct_table[0]; i++) {
		if (punct_table[i].c == c) {
			advance(p);
			t->t = punct_table[i].t;
			t->text[0] = (char)c;
			return;
		}
	}
	advance(p);
	t->t = T_BAD;
	if (isprint(c))
		snprintf(t->text, sizeof t->text, "'%c'", c);
	else
		snprintf(t->text, sizeof t->text, "byte 0x%02x", c);
}

/* A description of the current token for "found ..." in errors. */
const char *rlex_found(const struct rtok *t, char *buf, size_t len)
{
	switch (t->t) {
	case T_EOF:
		return "end of file";
	case T_IDENT:
		snprintf(buf, len, "'%.60s'", t->text);
		return buf;
	case T_NUMBER:
		snprintf(buf, len, "number %g%.8s", t->num, t->text);
		return buf;
	case T_TIME:
		return "a time";
	case T_STRING:
		return "a string";
	case T_BAD:
		snprintf(buf, len, "%.60s", t->text);
		return buf;
	default:
		snprintf(buf, len, "'%.4s'", t->text);
		return buf;
	}
}
