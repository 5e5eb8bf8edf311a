/* hv_xen_log.c - the xentoollog logger the xen driver gives libxl.
 *
 * Messages go to a stdio logger at warn level (xtl_createlogger_stdiostream),
 * as xl does. Besides, the last few errors are kept with the thread that
 * logged them, so that an op can put the root cause into the sentence it
 * returns: the first error its thread logged (libxl and libxc log the cause
 * first, then each caller's "cannot (re-)build domain"). Progress reports
 * (from the save helper during a migration) can be routed to a callback. */
#include <stdlib.h>
#include <string.h>

#include "hv_xen_int.h"

#define LOG_KEEP 16 /* errors kept, all threads together */

struct log_error {
	uint64_t seq; /* 1, 2, ...; 0: empty slot */
	pthread_t tid;
	char msg[200];
};

struct xen_log {
	xentoollog_logger vtable; /* first: libxl sees a xentoollog_logger */
	xentoollog_logger_stdiostream *out;
	pthread_mutex_t mu;
	uint64_t nerr;
	struct log_error kept[LOG_KEEP]; /* error seq lives in kept[seq % LOG_KEEP] */
	xen_log_progress_fn *progress;
	void *ud;
};

/* libxl puts "file.c:LINE:function: " in front of its messages, libxc
 * "panic: file.c:LINE: "; a sentence for people reads better without.
 * Returns where the message proper starts. */
static const char *log_skip_location(const char *m)
{
	const char *start = strncmp(m, "panic: ", 7) == 0 ? m + 7 : m;
	const char *p = strchr(start, ':'), *q;

	if (!p || p - start < 3 || strncmp(p - 2, ".c", 2) != 0 ||
	    memchr(start, ' ', (size_t)(p - start)))
		return m;
	q = p + 1;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == p + 1 || *q != ':')
		return m;
	if (q[1] == ' ')
		return q + 2; /* no function name */
	p = strchr(q + 1, ':');
	if (!p || p[1] != ' ' || memchr(q + 1, ' ', (size_t)(p - q - 1)))
		return m;
	return p + 2;
}

__attribute__((format(printf, 5, 0))) static void log_vmessage(xentoollog_logger *lg,
                                                               xentoollog_level level, int errnoval,
                                                               const char *context,
                                                               const char *format, va_list al)
{
	struct xen_log *l = (struct xen_log *)lg;
	char msg[sizeof l->kept[0].msg + 64];
	struct log_error *e;
	const char *start;
	size_t n;
	va_list copy;
	size_t len;

	if (level >= XTL_ERROR) {
		va_copy(copy, al);
		vsnprintf(msg, sizeof msg, format, copy);
		va_end(copy);
		len = strlen(msg);
		if (errnoval >= 0 && len < sizeof msg)
			snprintf(msg + len, sizeof msg - len, ": %s", strerror(errnoval));
		pthread_mutex_lock(&l->mu);
		l->nerr++;
		e = &l->kept[l->nerr % LOG_KEEP];
		e->seq = l->nerr;
		e->tid = pthread_self();
		start = log_skip_location(msg);
		n = strnlen(start, sizeof e->msg - 1); /* cut long ones short */
		memcpy(e->msg, start, n);
		e->msg[n] = '\0';
		pthread_mutex_unlock(&l->mu);
	}
	xtl_logv((xentoollog_logger *)l->out, level, errnoval, context, format, al);
}

static void log_progress(xentoollog_logger *lg, const char *context, const char *doing_what,
                         int percent, unsigned long done, unsigned long total)
{
	struct xen_log *l = (struct xen_log *)lg;
	xen_log_progress_fn *fn;
	void *ud;

	pthread_mutex_lock(&l->mu);
	fn = l->progress;
	ud = l->ud;
	pthread_mutex_unlock(&l->mu);
	if (fn && doing_what)
		fn(ud, doing_what, done, total);
}

static void log_destroy(xentoollog_logger *lg)
{
	/* Owned by the driver: xen_log_free releases it. */
}

struct xen_log *xen_log_new(FILE *out, char *err, size_t errlen)
{
	struct xen_log *l = calloc(1, sizeof *l);

	if (!l) {
		snprintf(err, errlen, "out of memory for the xen logger");
		return NULL;
	}
	l->out = xtl_createlogger_stdiostream(out, XTL_WARN, XTL_STDIOSTREAM_HIDE_PROGRESS);
	if (!l->out) {
		snprintf(err, errlen, "cannot create the xentoollog stdio logger");
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	l->vtable.vmessage = log_vmessage;
	l->vtable.progress = log_progress;
	l->vtable.destroy = log_destroy;
	return l;
}

void xen_log_free(struct xen_log *l)
{
	if (!l)
		return;
	xtl_logger_destroy((xentoollog_logger *)l->out);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

xentoollog_logger *xen_log_xtl(struct xen_log *l)
{
	return &l->vtable;
}

void xen_log_set_progress(struct xen_log *l, xen_log_progress_fn *fn, void *ud)
{
	pthread_mutex_lock(&l->mu);
	l->progress = fn;
	l->ud = ud;
	pthread_mutex_unlock(&l->mu);
}

uint64_t xen_log_mark(struct xen_log *l)
{
	uint64_t n;

	pthread_mutex_lock(&l->mu);
	n = l->nerr;
	pthread_mutex_unlock(&l->mu);
	return n;
}

int xen_log_first_error(struct xen_log *l, uint64_t mark, char *buf, size_t len)
{
	const struct log_error *first = NULL;

	if (len)
		buf[0] = '\0';
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < LOG_KEEP; i++) {
		const struct log_error *e = &l->kept[i];

		if (e->seq > mark && pthread_equal(e->tid, pthread_self()) &&
		    (!first || e->seq < first->seq))
			first = e;
	}
	if (first && len)
		snprintf(buf, len, "%s", first->msg);
	pthread_mutex_unlock(&l->mu);
	return first != NULL;
}
