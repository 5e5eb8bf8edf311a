/* sim_load.c - load profiles of simulated VMs. Pure: no I/O. */
#include "sim_load.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_PERIOD_MAX_MS (10LL * 366 * 86400 * 1000) /* ten years */
#define SIM_SINE_STEP_MS 1000

/* Parses a whole token as a finite number. Returns 0 or -1. */
static int parse_num(const char *s, size_t len, double *out)
{
	char buf[64];
	char *end;
	double v;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (end != buf + len || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Splits text into at most max whitespace-separated tokens. Returns the count, or max + 1 if
 * there are more. */
static size_t tokenize(const char *text, const char **tok, size_t *tlen, size_t max)
{
	size_t n = 0;
	const char *p = text;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return max + 1;
		tok[n] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		tlen[n] = (size_t)(p - tok[n]);
		n++;
	}
}

static int tok_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && strncmp(tok, word, len) == 0;
}

static int parse_cpus(const char *tok, size_t len, const char *what, double *out, char *err,
                      size_t errlen)
{
	if (parse_num(tok, len, out) < 0 || *out < 0 || *out > SIM_LOAD_CPUS_MAX) {
		snprintf(err, errlen, "load: %s must be a number of CPUs from 0 to %g", what,
		         SIM_LOAD_CPUS_MAX);
		return -1;
	}
	return 0;
}

static int constant_parse(const char *args, struct sim_load *l, char *err, size_t errlen)
{
	const char *tok[2];
	size_t tlen[2];

	if (tokenize(args, tok, tlen, 2) != 1) {
		snprintf(err, errlen, "load: expected \"constant CPUS\"");
		return -1;
	}
	if (parse_cpus(tok[0], tlen[0], "constant CPUS", &l->low, err, errlen) < 0)
		return -1;
	l->high = l->low;
	return 0;
}

static int parse_seconds_ms(const char *tok, size_t len, int64_t min_ms, int64_t *out)
{
	double s;

	if (parse_num(tok, len, &s) < 0 || s * 1000.0 < (double)min_ms ||
	    s * 1000.0 > (double)SIM_PERIOD_MAX_MS)
		return -1;
	*out = llround(s * 1000.0);
	return *out < min_ms ? -1 : 0;
}

/* "LOW HIGH PERIOD [square|sine] [PHASE]" */
static int periodic_parse(const char *args, struct sim_load *l, char *err, size_t errlen)
{
	const char *tok[6];
	size_t tlen[6];
	size_t n = tokenize(args, tok, tlen, 5), i = 3;

	if (n < 3 || n > 5) {
		snprintf(err, errlen,
		         "load: expected \"periodic LOW HIGH PERIOD [square|sine] "
		         "[PHASE]\"");
		return -1;
	}
	if (parse_cpus(tok[0], tlen[0], "periodic LOW", &l->low, err, errlen) < 0 ||
	    parse_cpus(tok[1], tlen[1], "periodic HIGH", &l->high, err, errlen) < 0)
		return -1;
	if (parse_seconds_ms(tok[2], tlen[2], 1, &l->period_ms) < 0) {
		snprintf(err, errlen,
		         "load: periodic PERIOD must be a number of seconds from "
		         "0.001 to ten years");
		return -1;
	}
	l->wave = SIM_WAVE_SQUARE;
	if (i < n && tok_is(tok[i], tlen[i], "sine")) {
		l->wave = SIM_WAVE_SINE;
		i++;
	} else if (i < n && tok_is(tok[i], tlen[i], "square")) {
		i++;
	}
	if (i < n && parse_seconds_ms(tok[i], tlen[i], 0, &l->phase_ms) < 0) {
		snprintf(err, errlen,
		         "load: periodic: expected \"square\", \"sine\" or a PHASE "
		         "in seconds >= 0 after PERIOD");
		return -1;
	}
	if (i < n)
		i++;
	if (i != n) {
		snprintf(err, errlen, "load: periodic: unexpected words after PHASE");
		return -1;
	}
	l->phase_ms %= l->period_ms;
	return 0;
}

/* "FILE": the rest of the line, trimmed. */
static int trace_parse_spec(const char *args, struct sim_load *l, char *err, size_t errlen)
{
	size_t flen;

	while (isspace((unsigned char)*args))
		args++;
	flen = strlen(args);
	while (flen > 0 && isspace((unsigned char)args[flen - 1]))
		flen--;
	if (flen == 0) {
		snprintf(err, errlen, "load: expected \"trace FILE\"");
		return -1;
	}
	l->file = strndup(args, flen);
	if (l->file == NULL) {
		snprintf(err, errlen, "load: out of memory");
		return -1;
	}
	return 0;
}

/* Checks points and sets the loop length. Returns 0 or -1 (err names the index). */
static int trace_check(const struct sim_trace_point *pts, size_t n, int64_t *length_ms, char *err,
                       size_t errlen)
{
	if (n == 0 || n > SIM_TRACE_POINTS_MAX) {
		snprintf(err, errlen, "trace: expected 1 to %d points", SIM_TRACE_POINTS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(pts[i].cpus) || pts[i].cpus < 0 || pts[i].cpus > SIM_LOAD_CPUS_MAX) {
			snprintf(err, errlen, "trace: point %zu: CPUS must be from 0 to %g", i,
			         SIM_LOAD_CPUS_MAX);
			return -1;
		}
		if ((i == 0 && pts[0].t_ms != 0) || (i > 0 && pts[i].t_ms <= pts[i - 1].t_ms)) {
			snprintf(err, errlen,
			         "trace: point %zu: times must start at 0 and increase", i);
			return -1;
		}
	}
	if (n == 1)
		*length_ms = 1000;
	else
		*length_ms = pts[n - 1].t_ms + (pts[n - 1].t_ms - pts[n - 2].t_ms);
	return 0;
}

int sim_trace_set(struct sim_load *l, const struct sim_trace_point *pts, size_t n, char *err,
                  size_t errlen)
{
	struct sim_trace_point *copy;
	int64_t length;

	if (trace_check(pts, n, &length, err, errlen) < 0)
		return -1;
	copy = malloc(n * sizeof(*copy));
	if (copy == NULL) {
		snprintf(err, errlen, "trace: out of memory");
		return -1;
	}
	memcpy(copy, pts, n * sizeof(*copy));
	free(l->pts);
	l->pts = copy;
	l->npts = n;
	l->length_ms = length;
	return 0;
}

/* Parses one trace line's "SECONDS CPUS" (comment already cut). Returns 1 for a point,
 * 0 for a blank line, -1 for garbage. */
static int trace_line(const char *s, size_t len, double *sec, double *cpus)
{
	const char *p = s, *end = s + len, *a, *b;
	size_t alen, blen;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end)
		return 0;
	a = p;
	while (p < end && !isspace((unsigned char)*p))
		p++;
	alen = (size_t)(p - a);
	while (p < end && isspace((unsigned char)*p))
		p++;
	b = p;
	while (p < end && !isspace((unsigned char)*p))
		p++;
	blen = (size_t)(p - b);
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p != end || parse_num(a, alen, sec) < 0 || parse_num(b, blen, cpus) < 0)
		return -1;
	return 1;
}

int sim_trace_parse(const char *text, const char *file, struct sim_load *l, char *err,
                    size_t errlen)
{
	struct sim_trace_point *pts = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;
	double t0 = 0;
	int line = 0, rc = -1;

	if (strlen(text) > SIM_TRACE_FILE_MAX) {
		snprintf(err, errlen, "%s: trace larger than %d bytes", file, SIM_TRACE_FILE_MAX);
		return -1;
	}
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *hash = memchr(p, '#', len);
		double sec, cpus;
		int r;

		line++;
		r = trace_line(p, hash != NULL ? (size_t)(hash - p) : len, &sec, &cpus);
		p += len + (nl != NULL);
		if (r == 0)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: expected SECONDS CPUS (two numbers)", file,
			         line);
			goto out;
		}
		if (n == 0)
			t0 = sec;
		if (sec - t0 < 0 || (sec - t0) * 1000.0 > (double)SIM_PERIOD_MAX_MS) {
			snprintf(err, errlen,
			         "%s:%d: expected SECONDS within ten years after the "
			         "first point",
			         file, line);
			goto out;
		}
		if (cpus < 0 || cpus > SIM_LOAD_CPUS_MAX) {
			snprintf(err, errlen, "%s:%d: expected CPUS from 0 to %g", file, line,
			         SIM_LOAD_CPUS_MAX);
			goto out;
		}
		if (n == SIM_TRACE_POINTS_MAX) {
			snprintf(err, errlen, "%s:%d: more than %d points", file, line,
			         SIM_TRACE_POINTS_MAX);
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 64;
			struct sim_trace_point *np = realloc(pts, ncap * sizeof(*np));

			if (np == NULL) {
				snprintf(err, errlen, "%s: out of memory", file);
				goto out;
			}
			pts = np;
			cap = ncap;
		}
		pts[n].t_ms = llround((sec - t0) * 1000.0);
		pts[n].cpus = cpus;
		if (n > 0 && pts[n].t_ms <= pts[n - 1].t_ms) {
			snprintf(err, errlen,
			         "%s:%d: expected SECONDS greater than the line before's", file,
			         line);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: expected at least one \"SECONDS CPUS\" line", file);
		goto out;
	}
	rc = sim_trace_set(l, pts, n, err, errlen);
out:
	free(pts);
	return rc;
}

/* t mod m, in [0, m). */
static int64_t pos_mod(int64_t t, int64_t m)
{
	int64_t r = t % m;

	return r < 0 ? r + m : r;
}

/* Index of the last point at or before offset off (0 <= off < length). */
static size_t trace_index(const struct sim_load *l, int64_t off)
{
	size_t lo = 0, hi = l->npts; /* answer in [lo, hi) */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->pts[mid].t_ms <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static double constant_demand(const struct sim_load *l, int64_t t_ms)
{
	return l->low;
}

static double periodic_demand(const struct sim_load *l, int64_t t_ms)
{
	int64_t off = pos_mod(t_ms - l->phase_ms, l->period_ms);

	if (l->wave == SIM_WAVE_SQUARE)
		return off < l->period_ms / 2 ? l->low : l->high;
	return l->low + (l->high - l->low) *
	                    (1.0 - cos(2.0 * M_PI * (double)off / (double)l->period_ms)) / 2.0;
}

static double trace_demand(const struct sim_load *l, int64_t t_ms)
{
	if (l->npts == 0)
		return 0;
	return l->pts[trace_index(l, pos_mod(t_ms, l->length_ms))].cpus;
}

static int64_t constant_next(const struct sim_load *l, int64_t t_ms)
{
	return INT64_MAX;
}

static int64_t periodic_next(const struct sim_load *l, int64_t t_ms)
{
	int64_t off, half;

	if (l->wave == SIM_WAVE_SINE)
		return t_ms + SIM_SINE_STEP_MS;
	off = pos_mod(t_ms - l->phase_ms, l->period_ms);
	half = l->period_ms / 2;
	return t_ms + (off < half ? half - off : l->period_ms - off);
}

static int64_t trace_next(const struct sim_load *l, int64_t t_ms)
{
	int64_t off;
	size_t i;

	if (l->npts < 2)
		return INT64_MAX;
	off = pos_mod(t_ms, l->length_ms);
	i = trace_index(l, off);
	return t_ms + (i + 1 < l->npts ? l->pts[i + 1].t_ms : l->length_ms) - off;
}

static int constant_format(const struct sim_load *l, char *buf, size_t len)
{
	return snprintf(buf, len, "constant %.15g", l->low);
}

static int periodic_format(const struct sim_load *l, char *buf, size_t len)
{
	return snprintf(buf, len, "periodic %.15g %.15g %.15g %s %.15g", l->low, l->high,
	                (double)l->period_ms / 1000.0, l->wave == SIM_WAVE_SINE ? "sine" : "square",
	                (double)l->phase_ms / 1000.0);
}

static int trace_format(const struct sim_load *l, char *buf, size_t len)
{
	return snprintf(buf, len, "trace %s", l->file != NULL ? l->file : "-");
}

/* One row per profile kind, indexed by enum sim_load_kind. */
static const struct load_kind {
	const char *name;
	int (*parse)(const char *args, struct sim_load *l, char *err, size_t errlen);
	double (*demand)(const struct sim_load *l, int64_t t_ms);
	int64_t (*next)(const struct sim_load *l, int64_t t_ms);
	int (*format)(const struct sim_load *l, char *buf, size_t len);
} load_kinds[] = {
    [SIM_LOAD_CONSTANT] = {"constant", constant_parse, constant_demand, constant_next,
                           constant_format},
    [SIM_LOAD_PERIODIC] = {"periodic", periodic_parse, periodic_demand, periodic_next,
                           periodic_format},
    [SIM_LOAD_TRACE] = {"trace", trace_parse_spec, trace_demand, trace_next, trace_format},
};
#define NKINDS (sizeof(load_kinds) / sizeof(load_kinds[0]))

int sim_load_parse(const char *text, struct sim_load *out, char *err, size_t errlen)
{
	const char *p, *w;
	size_t wlen;

	memset(out, 0, sizeof(*out));
	if (text == NULL || strlen(text) > SIM_LOAD_TEXT_MAX) {
		snprintf(err, errlen, "load: expected a profile of at most %d characters",
		         SIM_LOAD_TEXT_MAX);
		return -1;
	}
	for (w = text; isspace((unsigned char)*w); w++)
		;
	for (p = w; *p != '\0' && !isspace((unsigned char)*p); p++)
		;
	wlen = (size_t)(p - w);
	for (size_t k = 0; k < NKINDS; k++) {
		if (!tok_is(w, wlen, load_kinds[k].name))
			continue;
		out->kind = (enum sim_load_kind)k;
		if (load_kinds[k].parse(p, out, err, errlen) < 0) {
			sim_load_free(out);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen,
	         "load: expected a profile starting with \"constant\", \"periodic\" "
	         "or \"trace\"");
	return -1;
}

double sim_load_demand(const struct sim_load *l, int64_t t_ms)
{
	return (unsigned)l->kind < NKINDS ? load_kinds[l->kind].demand(l, t_ms) : 0;
}

int64_t sim_load_next_change(const struct sim_load *l, int64_t t_ms)
{
	return (unsigned)l->kind < NKINDS ? load_kinds[l->kind].next(l, t_ms) : INT64_MAX;
}

int sim_load_format(const struct sim_load *l, char *buf, size_t len)
{
	int n = (unsigned)l->kind < NKINDS ? load_kinds[l->kind].format(l, buf, len) : -1;

	return n < 0 || (size_t)n >= len ? -1 : n;
}

int sim_load_copy(struct sim_load *dst, const struct sim_load *src)
{
	struct sim_load tmp = *src;

	tmp.file = NULL;
	tmp.pts = NULL;
	if (src->file != NULL && (tmp.file = strdup(src->file)) == NULL)
		return -1;
	if (src->npts > 0) {
		tmp.pts = malloc(src->npts * sizeof(*tmp.pts));
		if (tmp.pts == NULL) {
			free(tmp.file);
			return -1;
		}
		memcpy(tmp.pts, src->pts, src->npts * sizeof(*tmp.pts));
	}
	*dst = tmp;
	return 0;
}

void sim_load_free(struct sim_load *l)
{
	free(l->file);
	free(l->pts);
	memset(l, 0, sizeof(*l));
}
