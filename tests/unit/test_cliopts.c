/* test_cliopts.c - what a program adds to a cliopts table (struct cliopts_prog): its own
 * reader of CLIOPTS_FUNC settings and its usage text; the kinds CLIOPTS_BOOL (yes/no on the
 * command line too) and CLIOPTS_SECS; a bad settings file told apart from a bad command
 * line; settings' one-letter forms; a program's arguments among the options, and the
 * settings a file may hold. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/config/cliopts.h"
#include "../../lib/config/conf.h"

struct opts {
	int advise, quiet;
	double interval_s;
	long long memory; /* CLIOPTS_FUNC */
};

#define S(f) offsetof(struct opts, f)
static const struct cliopts_def defs[] = {
    {"advise", CLIOPTS_BOOL, S(advise), 0, 0, "yes or no"},
    {"quiet", CLIOPTS_FLAG, S(quiet), 0, 0, "no argument"},
    {"interval", CLIOPTS_SECS, S(interval_s), 0.05, 3600, "seconds"},
    {"memory", CLIOPTS_FUNC, S(memory), 64, 1e12, "read by the program"},
};
#define NDEFS (sizeof defs / sizeof defs[0])

static int reads, usages;

static int read_memory(void *base, const struct cliopts_def *d, const char *v, char *err,
                       size_t errlen)
{
	struct opts *o = base;
	char *end;
	long long x = strtoll(v, &end, 10);
	reads++;
	if (*end || end == v || x < d->min || x > d->max) {
		snprintf(err, errlen, "%s \"%s\": expected MiB", d->name, v);
		return -1;
	}
	o->memory = x;
	return 0;
}

static void my_usage(FILE *f)
{
	usages++;
}

static const struct cliopts_prog prog = {
    .name = "prog", .defs = defs, .n = NDEFS, .read = read_memory, .usage = my_usage};

/* Parses the arguments (a copy: getopt permutes them) with prog. */
static int parse(struct opts *o, struct conf **file, int argc, const char *const *args)
{
	char *argv[16];
	for (int i = 0; i < argc; i++)
		argv[i] = (char *)args[i];
	argv[argc] = NULL;
	int check = 0;
	return cliopts_parse_prog(o, &prog, argc, argv, &check, file);
}

static void write_file(char *path, size_t len, const char *text)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, len, "%s/test_cliopts.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_bool_takes_a_value(void **state)
{
	struct opts o = {0};
	struct conf *file = NULL;
	const char *a1[] = {"prog", "--advise", "yes", "--quiet"};
	assert_int_equal(parse(&o, &file, 4, a1), 0);
	assert_int_equal(o.advise, 1);
	assert_int_equal(o.quiet, 1);
	const char *a2[] = {"prog", "--advise", "no"};
	assert_int_equal(parse(&o, &file, 3, a2), 0);
	assert_int_equal(o.advise, 0);
	const char *a3[] = {"prog", "--advise", "maybe"};
	assert_int_equal(parse(&o, &file, 3, a3), -1);
	char err[256];
	assert_int_equal(cliopts_apply(&o, &defs[0], "maybe", err, sizeof err), -1);
	assert_string_equal(err, "advise \"maybe\": expected yes or no");
	/* a flag takes none: the word after it is an argument */
	const char *a4[] = {"prog", "--quiet", "yes"};
	assert_int_equal(parse(&o, &file, 3, a4), -1);
}

static void test_seconds(void **state)
{
	struct opts o = {0};
	char err[256];
	assert_int_equal(cliopts_apply(&o, &defs[2], "0.5", err, sizeof err), 0);
	assert_true(o.interval_s == 0.5);
	assert_int_equal(cliopts_apply(&o, &defs[2], "0.01", err, sizeof err), -1);
	assert_string_equal(err, "interval \"0.01\": expected seconds from 0.05 to 3600");
	assert_int_equal(cliopts_apply(&o, &defs[2], "", err, sizeof err), -1);
}

static void test_func_reader(void **state)
{
	struct opts o = {0};
	struct conf *file = NULL;
	reads = 0;
	const char *a1[] = {"prog", "--memory", "4096"};
	assert_int_equal(parse(&o, &file, 3, a1), 0);
	assert_int_equal(o.memory, 4096);
	assert_int_equal(reads, 1);
	const char *a2[] = {"prog", "--memory", "1"};
	assert_int_equal(parse(&o, &file, 3, a2), -1);
	assert_int_equal(reads, 2);
	assert_int_equal(o.memory, 4096);
	/* without a program's reader the setting is refused, not ignored */
	char err[256];
	assert_int_equal(cliopts_apply(&o, &defs[3], "128", err, sizeof err), -1);
	assert_non_null(strstr(err, "memory"));
	assert_int_equal(o.memory, 4096);
}

static void test_file_then_command_line(void **state)
{
	struct opts o = {0};
	struct conf *file = NULL;
	char path[4096];
	write_file(path, sizeof path, "memory = 2048\nadvise = yes\ninterval = 5\n");
	reads = 0;
	const char *a[] = {"prog", "-c", path, "--interval", "7"};
	assert_int_equal(parse(&o, &file, 5, a), 0);
	assert_int_equal(reads, 1);
	assert_int_equal(o.memory, 2048);
	assert_int_equal(o.advise, 1);
	assert_true(o.interval_s == 7); /* the command line wins */
	conf_free(file);
	unlink(path);
}

static void test_bad_file_told_apart(void **state)
{
	struct opts o = {0};
	struct conf *file = NULL;
	char path[4096];
	write_file(path, sizeof path, "memory = 1\n");
	const char *a[] = {"prog", "-c", path};
	assert_int_equal(parse(&o, &file, 3, a), -2);
	conf_free(file);
	file = NULL;
	/* cliopts_parse keeps its -1 for every error */
	char *argv[] = {"prog", "-c", path, NULL};
	int check = 0;
	assert_int_equal(cliopts_parse(&o, defs, NDEFS, 3, argv, "prog", &check, &file), -1);
	conf_free(file);
	unlink(path);
}

static void test_usage_hook(void **state)
{
	struct opts o = {0};
	struct conf *file = NULL;
	usages = 0;
	const char *a1[] = {"prog", "--help"};
	assert_int_equal(parse(&o, &file, 2, a1), 1);
	assert_int_equal(usages, 1);
	const char *a2[] = {"prog", "--no-such-setting"};
	assert_int_equal(parse(&o, &file, 2, a2), -1);
	assert_int_equal(usages, 2);
}

/* One-letter forms: -q for a flag, -i SECONDS for a value; the others still refused. */
static void test_short_forms(void **state)
{
	static const struct cliopts_short shorts[] = {{'q', "quiet"}, {'i', "interval"}, {0, NULL}};
	static const struct cliopts_prog sprog = {
	    .name = "prog", .defs = defs, .n = NDEFS, .usage = my_usage, .shorts = shorts};
	struct opts o = {0};
	struct conf *file = NULL;
	int check = 0;
	char *a1[] = {"prog", "-q", "-i", "2.5", "-n", NULL};
	assert_int_equal(cliopts_parse_prog(&o, &sprog, 5, a1, &check, &file), 0);
	assert_int_equal(o.quiet, 1);
	assert_true(o.interval_s == 2.5);
	assert_int_equal(check, 1);
	char *a2[] = {"prog", "-i", "0.01", NULL};
	assert_int_equal(cliopts_parse_prog(&o, &sprog, 3, a2, &check, &file), -1);
	assert_true(o.interval_s == 2.5);
	usages = 0;
	char *a3[] = {"prog", "-m", "4096", NULL};
	assert_int_equal(cliopts_parse_prog(&o, &sprog, 3, a3, &check, &file), -1);
	assert_int_equal(usages, 1);
	/* a program without them knows none */
	char *a4[] = {"prog", "-q", NULL};
	assert_int_equal(cliopts_parse_prog(&o, &prog, 2, a4, &check, &file), -1);
}

/* A program with a command and operands (vmc): arguments among the options are kept,
 * -n is not an option, and a file may hold only the first nfile settings. */
static void test_args_and_file_subset(void **state)
{
	static const struct cliopts_prog aprog = {
	    .name = "prog", .defs = defs, .n = NDEFS, .usage = my_usage, .nfile = 2, .args = 1};
	struct opts o = {0};
	struct conf *file = NULL;
	char *a1[] = {"prog", "run", "--quiet", "x", "--interval", "2", NULL};
	assert_int_equal(cliopts_parse_prog(&o, &aprog, 6, a1, NULL, &file), 0);
	assert_int_equal(o.quiet, 1);
	assert_true(o.interval_s == 2);
	assert_int_equal(optind, 4); /* the arguments moved after the options */
	assert_string_equal(a1[optind], "run");
	assert_string_equal(a1[optind + 1], "x");
	usages = 0;
	char *a2[] = {"prog", "-n", "run", NULL};
	assert_int_equal(cliopts_parse_prog(&o, &aprog, 3, a2, NULL, &file), -1);
	assert_int_equal(usages, 1);
	/* the file: quiet (the 2nd) yes, interval (the 3rd) no */
	char path[512];
	write_file(path, sizeof path, "quiet = yes\n");
	char *a3[] = {"prog", "-c", path, NULL};
	assert_int_equal(cliopts_parse_prog(&o, &aprog, 3, a3, NULL, &file), 0);
	conf_free(file);
	file = NULL;
	unlink(path);
	write_file(path, sizeof path, "interval = 2\n");
	assert_int_equal(cliopts_parse_prog(&o, &aprog, 3, a3, NULL, &file), -2);
	conf_free(file);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bool_takes_a_value),
	    cmocka_unit_test(test_seconds),
	    cmocka_unit_test(test_func_reader),
	    cmocka_unit_test(test_file_then_command_line),
	    cmocka_unit_test(test_bad_file_told_apart),
	    cmocka_unit_test(test_usage_hook),
	    cmocka_unit_test(test_short_forms),
	    cmocka_unit_test(test_args_and_file_subset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
