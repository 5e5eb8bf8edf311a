/* cliopts.c - settings from the command line and config files (see cliopts.h). */
#include "cliopts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "../core/log.h"

static int apply_flag(int *field, const struct cliopts_def *d, const char *v, char *err,
                      size_t errlen)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!v || strcmp(v, yes[i]) == 0) {
			*field = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*field = 0;
			return 0;
		}
	}
	snprintf(err, errlen, "%s \"%s\": expected yes or no", d->name, v);
	return -1;
}

int cliopts_list_add(struct cliopts_list *l, const char *name, const char *v, char *err,
                     size_t errlen)
{
	if (l->src != l->pass) {
		l->buf[0] = '\0';
		l->src = l->pass;
	}
	size_t have = strlen(l->buf), vl = strlen(v);
	if (have + vl + 2 > sizeof(l->buf)) {
		snprintf(err, errlen, "%s: the list is longer than %zu characters", name,
		         sizeof(l->buf) - 1);
		return -1;
	}
	if (have)
		l->buf[have++] = ',';
	memcpy(l->buf + have, v, vl + 1);
	l->text = l->buf;
	return 0;
}

/* Sets the source every list setting of defs is read from now. */
static void set_pass(void *base, const struct cliopts_def *defs, size_t n, int pass)
{
	for (size_t i = 0; i < n; i++)
		if (defs[i].kind == CLIOPTS_LIST)
			((struct cliopts_list *)((char *)base + defs[i].off))->pass = pass;
}

int cliopts_apply(void *base, const struct cliopts_def *d, const char *v, char *err, size_t errlen)
{
	char *end;
	void *field = (char *)base + d->off;
	switch (d->kind) {
	case CLIOPTS_STR:
		*(const char **)field = v;
		return 0;
	case CLIOPTS_FLAG:
	case CLIOPTS_BOOL:
		return apply_flag(field, d, v, err, errlen);
	case CLIOPTS_LIST:
		return cliopts_list_add(field, d->name, v, err, errlen);
	case CLIOPTS_INT: {
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < d->min || n > d->max) {
			snprintf(err, errlen, "%s \"%s\": expected a whole number from %g to %g",
			         d->name, v, d->min, d->max);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	}
	case CLIOPTS_NUM:
	case CLIOPTS_SECS: {
		double x = strtod(v, &end);
		if (*end || end == v || !(x >= d->min && x <= d->max)) {
			snprintf(err, errlen, "%s \"%s\": expected %s from %g to %g", d->name, v,
			         d->kind == CLIOPTS_SECS ? "seconds" : "a number", d->min, d->max);
			return -1;
		}
		*(double *)field = x;
		return 0;
	}
	case CLIOPTS_PROTO:
		if (strcmp(v, "5") == 0)
			*(int *)field = 5;
		else if (strcmp(v, "3.1.1") == 0 || strcmp(v, "4") == 0)
			*(int *)field = 4;
		else if (strcmp(v, "auto") == 0)
			*(int *)field = 0;
		else {
			snprintf(err, errlen, "%s \"%s\": expected 5, 3.1.1 or auto", d->name, v);
			return -1;
		}
		return 0;
	case CLIOPTS_LOGLEVEL: {
		enum log_level l;
		if (log_level_parse(v, &l) < 0) {
			snprintf(err, errlen, "%s \"%s\": expected error, warn, info or debug",
			         d->name, v);
			return -1;
		}
		log_set_level(l);
		return 0;
	}
	case CLIOPTS_FUNC:
		break; /* apply_row, with the program's reader */
	}
	snprintf(err, errlen, "%s: unknown kind of setting", d->name);
	return -1;
}

const struct cliopts_def *cliopts_find(const struct cliopts_def *defs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(defs[i].name, name) == 0)
			return &defs[i];
	return NULL;
}

/* Applies v to d: a CLIOPTS_FUNC setting through p's reader. */
static int apply_row(const struct cliopts_prog *p, void *base, const struct cliopts_def *d,
                     const char *v, char *err, size_t errlen)
{
	if (d->kind == CLIOPTS_FUNC && p->read)
		return p->read(base, d, v, err, errlen);
	return cliopts_apply(base, d, v, err, errlen);
}

static int load_file(void *base, const struct cliopts_prog *p, const char *path, struct conf **out)
{
	size_t nfile = p->nfile ? p->nfile : p->n;
	char err[4096];
	if (conf_parse_file(path, out, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	int bad = 0;
	set_pass(base, p->defs, p->n, 1);
	for (size_t i = 0; i < (*out)->n; i++) {
		const struct conf_entry *e = &(*out)->entries[i];
		const struct cliopts_def *d = cliopts_find(p->defs, nfile, e->key);
		if (!d || e->section[0]) {
			fprintf(stderr, "%s:%d: unknown setting \"%s\"\n", path, e->line, e->key);
			bad++;
		} else if (apply_row(p, base, d, e->value, err, sizeof err) < 0) {
			fprintf(stderr, "%s:%d: %s\n", path, e->line, err);
			bad++;
		}
	}
	return bad ? -1 : 0;
}

int cliopts_load_file(void *base, const struct cliopts_def *defs, size_t n, const char *path,
                      struct conf **out)
{
	const struct cliopts_prog p = {.defs = defs, .n = n};
	return load_file(base, &p, path, out);
}

void cliopts_usage(FILE *f, const char *prog, const struct cliopts_def *defs, size_t n)
{
	fprintf(f, "usage: %s [-c FILE] [-n] [--SETTING VALUE ...]\n", prog);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  --%-16s %s\n", defs[i].name, defs[i].help ? defs[i].help : "");
	fprintf(f, "  -c FILE            read settings from FILE (NAME = VALUE)\n"
	           "  -n                 check the configuration and exit\n");
}

static void prog_usage(const struct cliopts_prog *p, FILE *f)
{
	if (p->usage)
		p->usage(f);
	else
		cliopts_usage(f, p->name, p->defs, p->n);
}

/* The setting of p's one-letter form ch, or NULL. */
static const struct cliopts_def *short_def(const struct cliopts_prog *p, int ch)
{
	for (const struct cliopts_short *s = p->shorts; s && s->ch; s++)
		if (s->ch == ch)
			return cliopts_find(p->defs, p->n, s->name);
	return NULL;
}

/* getopt's option letters: -c FILE, -n (if check), -h and p's one-letter forms. */
static void short_letters(const struct cliopts_prog *p, int check, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, check ? "c:nh" : "c:h");
	for (const struct cliopts_short *s = p->shorts; s && s->ch && at + 3 <= len; s++) {
		const struct cliopts_def *d = cliopts_find(p->defs, p->n, s->name);
		buf[at++] = (char)s->ch;
		if (d && d->kind != CLIOPTS_FLAG)
			buf[at++] = ':';
	}
	buf[at] = '\0';
}

int cliopts_parse_prog(void *base, const struct cliopts_prog *p, int argc, char **argv,
                       int *check_only, struct conf **file)
{
	char err[512], letters[4 + 2 * CLIOPTS_SHORT_MAX + 1];
	size_t n = p->n;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-c") == 0 && load_file(base, p, argv[i + 1], file) < 0)
			return -2;
	struct option *lo = calloc(n + 2, sizeof *lo);
	if (!lo)
		return -1;
	for (size_t i = 0; i < n; i++)
		lo[i] = (struct option){p->defs[i].name,
		                        p->defs[i].kind == CLIOPTS_FLAG ? no_argument
		                                                        : required_argument,
		                        NULL, 256 + (int)i};
	lo[n] = (struct option){"help", no_argument, NULL, 'h'};
	int c, rc = 0;
	optind = 1;
	set_pass(base, p->defs, n, 2);
	short_letters(p, check_only != NULL, letters, sizeof letters);
	while (rc == 0 && (c = getopt_long(argc, argv, letters, lo, NULL)) != -1) {
		const struct cliopts_def *d =
		    c >= 256 && c < 256 + (int)n ? &p->defs[c - 256] : short_def(p, c);
		if (c == 'c')
			continue;
		if (c == 'n') {
			*check_only = 1;
		} else if (c == 'h') {
			prog_usage(p, stdout);
			rc = 1;
		} else if (d) {
			if (apply_row(p, base, d, optarg, err, sizeof err) < 0) {
				fprintf(stderr, "%s: %s\n", p->name, err);
				rc = -1;
			}
		} else {
			prog_usage(p, stderr);
			rc = -1;
		}
	}
	if (rc == 0 && optind < argc && !p->args) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", p->name, argv[optind]);
		rc = -1;
	}
	free(lo);
	return rc;
}

int cliopts_parse(void *base, const struct cliopts_def *defs, size_t n, int argc, char **argv,
                  const char *prog, int *check_only, struct conf **file)
{
	const struct cliopts_prog p = {.name = prog, .defs = defs, .n = n};
	int rc = cliopts_parse_prog(base, &p, argc, argv, check_only, file);
	return rc == -2 ? -1 : rc;
}
