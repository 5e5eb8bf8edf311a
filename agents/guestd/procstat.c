/* procstat.c - guest figures from /proc text (see procstat.h). */
#include "procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int procstat_parse_stat(const char *text, struct procstat_cpu *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	int have = 0;
	for (const char *line = text; line && *line;) {
		if (strncmp(line, "cpu ", 4) == 0) {
			uint64_t v[8] = {0};
			int n = sscanf(line + 4,
			               "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			               " %" SCNu64 " %" SCNu64 " %" SCNu64,
			               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
			if (n < 4) {
				snprintf(err, errlen,
				         "stat: the cpu line has %d numbers, expected at "
				         "least 4",
				         n < 0 ? 0 : n);
				return -1;
			}
			*out = (struct procstat_cpu){v[0], v[1], v[2], v[3],      v[4],
			                             v[5], v[6], v[7], out->ncpus};
			have = 1;
		} else if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9') {
			out->ncpus++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!have) {
		snprintf(err, errlen, "stat: no aggregate \"cpu\" line");
		return -1;
	}
	if (out->ncpus == 0)
		out->ncpus = 1;
	return 0;
}

/* The value in kB of "Key:" in meminfo text, or -1. */
static int64_t meminfo_kb(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p;) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtoll(p + kl + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int procstat_parse_meminfo(const char *text, int64_t *total_kb, int64_t *avail_kb, char *err,
                           size_t errlen)
{
	int64_t total = meminfo_kb(text, "MemTotal"), avail = meminfo_kb(text, "MemAvailable");
	if (total <= 0) {
		snprintf(err, errlen, "meminfo: no MemTotal");
		return -1;
	}
	if (avail < 0) {
		int64_t f = meminfo_kb(text, "MemFree"), b = meminfo_kb(text, "Buffers"),
		        c = meminfo_kb(text, "Cached");
		if (f < 0) {
			snprintf(err, errlen, "meminfo: neither MemAvailable nor MemFree");
			return -1;
		}
		avail = f + (b > 0 ? b : 0) + (c > 0 ? c : 0);
	}
	*total_kb = total;
	*avail_kb = avail > total ? total : avail;
	return 0;
}

int procstat_parse_loadavg(const char *text, double *l1, double *l5, double *l15, char *err,
                           size_t errlen)
{
	if (sscanf(text, "%lf %lf %lf", l1, l5, l15) != 3) {
		snprintf(err, errlen, "loadavg: expected three numbers");
		return -1;
	}
	return 0;
}

int procstat_parse_uptime(const char *text, double *uptime_s, char *err, size_t errlen)
{
	if (sscanf(text, "%lf", uptime_s) != 1 || *uptime_s < 0) {
		snprintf(err, errlen, "uptime: expected a number of seconds");
		return -1;
	}
	return 0;
}

/* Reads a small /proc file into buf. Returns 0 or -1 with err. */
static int read_proc(const char *dir, const char *name, char *buf, size_t len, char *err,
                     size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t got = 0;
	ssize_t n;
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return 0;
}

int procstat_sample(const char *proc_dir, const char *disk_path, struct procstat_sample *out,
                    char *err, size_t errlen)
{
	char buf[65536], e[256];
	memset(out, 0, sizeof *out);
	out->disk_used_pct = -1;
	static const char *const files[] = {"stat", "meminfo", "loadavg", "uptime"};
	for (size_t i = 0; i < 4; i++) {
		if (read_proc(proc_dir, files[i], buf, sizeof buf, err, errlen) < 0)
			return -1;
		int rc = i == 0   ? procstat_parse_stat(buf, &out->cpu, e, sizeof e)
		         : i == 1 ? procstat_parse_meminfo(buf, &out->mem_total_kb,
		                                           &out->mem_avail_kb, e, sizeof e)
		         : i == 2 ? procstat_parse_loadavg(buf, &out->load1, &out->load5,
		                                           &out->load15, e, sizeof e)
		                  : procstat_parse_uptime(buf, &out->uptime_s, e, sizeof e);
		if (rc < 0) {
			snprintf(err, errlen, "%s/%s", proc_dir, e);
			return -1;
		}
	}
	struct statvfs vfs;
	if (disk_path && statvfs(disk_path, &vfs) == 0) {
		double used = (double)(vfs.f_blocks - vfs.f_bfree);
		double avail = used + (double)vfs.f_bavail;
		out->disk_used_pct = avail > 0 ? used * 100.0 / avail : 0;
	}
	return 0;
}

static uint64_t busy(const struct procstat_cpu *c)
{
	return c->user + c->nice + c->system + c->irq + c->softirq;
}

static uint64_t total(const struct procstat_cpu *c)
{
	return busy(c) + c->idle + c->iowait + c->steal;
}

static double round2(double x)
{
	return (double)(int64_t)(x * 100 + (x >= 0 ? 0.5 : -0.5)) / 100;
}

void procstat_figures(const struct procstat_sample *prev, const struct procstat_sample *cur,
                      struct procstat_figures *out)
{
	memset(out, 0, sizeof *out);
	uint64_t dt = total(&cur->cpu) - total(&prev->cpu);
	/* counters that went backwards (a restored guest) give no figure */
	if (total(&cur->cpu) > total(&prev->cpu) && busy(&cur->cpu) >= busy(&prev->cpu) &&
	    cur->cpu.steal >= prev->cpu.steal) {
		out->cpu =
		    round2((double)(busy(&cur->cpu) - busy(&prev->cpu)) * 100.0 / (double)dt);
		out->steal = round2((double)(cur->cpu.steal - prev->cpu.steal) * 100.0 *
		                    cur->cpu.ncpus / (double)dt);
	}
	out->vcpus = cur->cpu.ncpus;
	out->mem_total_mb = cur->mem_total_kb / 1024;
	out->mem_used_mb = (cur->mem_total_kb - cur->mem_avail_kb) / 1024;
	out->load1 = cur->load1;
	out->load5 = cur->load5;
	out->load15 = cur->load15;
	out->disk_used_pct = cur->disk_used_pct >= 0 ? round2(cur->disk_used_pct) : -1;
	out->uptime_s = cur->uptime_s;
}
