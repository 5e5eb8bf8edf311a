/* cliopts.h - one table of settings serves a program's command line (--NAME VALUE) and its
 * config file (NAME = VALUE, lib/config/conf.h format).
 *
 * Each setting names a field of the caller's options struct by offset and a kind that
 * says how the text is read. Errors name the setting and what was expected. */
#ifndef VMC_CLIOPTS_H
#define VMC_CLIOPTS_H

#include <stddef.h>
#include <stdio.h>

struct conf;

enum cliopts_kind {
	CLIOPTS_STR,      /* const char * (points into argv or the config) */
	CLIOPTS_INT,      /* int, from min to max */
	CLIOPTS_NUM,      /* double, from min to max */
	CLIOPTS_FLAG,     /* int 0/1; no argument on the command line; yes/no in a file */
	CLIOPTS_PROTO,    /* int: "5" -> 5, "3.1.1" or "4" -> 4, "auto" -> 0 */
	CLIOPTS_LOGLEVEL, /* sets the log level (no field) */
	CLIOPTS_LIST,     /* struct cliopts_list: repeats add to a comma-separated list */
	CLIOPTS_BOOL,     /* int 0/1 from yes or no, on the command line too (--NAME yes) */
	CLIOPTS_SECS,     /* double, seconds from min to max (a CLIOPTS_NUM said in seconds) */
	CLIOPTS_FUNC,     /* read by the program's own function (struct cliopts_prog) */
};

/* A setting that may be repeated (--broker A --broker B, or several "broker =" lines), kept
 * as one comma-separated text. Values from one source add up; a later source (the command
 * line after the config file) replaces what an earlier one gave. */
#define CLIOPTS_LIST_MAX 2048
struct cliopts_list {
	const char *text; /* the list, or the program's default until a value is given */
	int pass; /* set by the caller: the source being read now (1 file, 2 command line) */
	int src;  /* the source buf holds values of, 0 if none */
	char buf[CLIOPTS_LIST_MAX];
};

/* Adds v (itself possibly "a,b") to the list. Returns 0, or -1 with err if it is too long. */
int cliopts_list_add(struct cliopts_list *l, const char *name, const char *v, char *err,
                     size_t errlen);

struct cliopts_def {
	const char *name;
	enum cliopts_kind kind;
	size_t off;
	double min, max;
	const char *help;
};

/* Applies text v to setting d in the struct at base. Returns 0, or -1 with err. */
int cliopts_apply(void *base, const struct cliopts_def *d, const char *v, char *err, size_t errlen);
/* The setting called name, or NULL. */
const struct cliopts_def *cliopts_find(const struct cliopts_def *defs, size_t n, const char *name);
/* Reads a config file of settings, reporting each bad line on stderr as FILE:LINE: ...
 * *out keeps the strings alive (conf_free it at exit). Returns 0, or -1 if any line was bad. */
int cliopts_load_file(void *base, const struct cliopts_def *defs, size_t n, const char *path,
                      struct conf **out);
/* Parses argv: the settings as --NAME [VALUE], -c FILE (read first: the command line wins),
 * -n (sets *check_only), -h/--help. Returns 0, 1 if help was printed, or -1 after printing
 * the error. */
int cliopts_parse(void *base, const struct cliopts_def *defs, size_t n, int argc, char **argv,
                  const char *prog, int *check_only, struct conf **file);
void cliopts_usage(FILE *f, const char *prog, const struct cliopts_def *defs, size_t n);

/* A setting's one-letter form on the command line: {'d', "delay"} makes -d 2 --delay 2. */
struct cliopts_short {
	int ch;           /* a letter other than c, n and h */
	const char *name; /* the setting's name in the table */
};

/* A program's table with what it adds to cliopts: its reader of the CLIOPTS_FUNC settings
 * (the forms no kind above has), its own usage text and its settings' one-letter forms. */
struct cliopts_prog {
	const char *name; /* the program, as its messages begin */
	const struct cliopts_def *defs;
	size_t n;
	/* reads v into the CLIOPTS_FUNC setting d of the struct at base: 0, or -1 with err */
	int (*read)(void *base, const struct cliopts_def *d, const char *v, char *err,
	            size_t errlen);
	void (*usage)(FILE *f); /* for -h and a bad option; NULL: cliopts_usage */
	/* one-letter forms, ended by {0, NULL}; NULL if none (at most CLIOPTS_SHORT_MAX) */
	const struct cliopts_short *shorts;
	/* the settings a -c FILE may hold: the first nfile of defs, the others are for the
	 * command line only; 0: all of them */
	size_t nfile;
	/* 1: arguments may follow the options, or come between them (a command and its
	 * operands): getopt moves them after the options, the first at argv[optind]; 0: an
	 * argument is refused */
	int args;
};
#define CLIOPTS_SHORT_MAX 16

/* cliopts_parse for p. Returns 0, 1 if help was printed, -1 after a bad command line or
 * -2 after a bad settings file (the errors printed), so that a program can tell them
 * apart in its exit status. check_only NULL: the program has no -n. */
int cliopts_parse_prog(void *base, const struct cliopts_prog *p, int argc, char **argv,
                       int *check_only, struct conf **file);

#endif
