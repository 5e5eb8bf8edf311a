/* procstat.h - what a guest sees of itself, from /proc (or a copy of it) and statvfs.
 *
 * The parsers take the files' text and do no I/O; procstat_sample reads the files under a
 * directory, so tests can feed a fake /proc tree. */
#ifndef VMC_PROCSTAT_H
#define VMC_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>

/* The aggregate "cpu" line of /proc/stat, in USER_HZ ticks. */
struct procstat_cpu {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
	int ncpus; /* cpuN lines */
};

struct procstat_sample {
	struct procstat_cpu cpu;
	int64_t mem_total_kb, mem_avail_kb;
	double load1, load5, load15;
	double uptime_s;
	double disk_used_pct; /* -1 if unknown */
};

/* Figures between two samples, as guest/<vm>/load carries them. */
struct procstat_figures {
	double cpu;   /* busy, % of the guest's vcpus (0-100) */
	double steal; /* stolen by the hypervisor, % of one CPU */
	int64_t mem_total_mb, mem_used_mb;
	double load1, load5, load15;
	double disk_used_pct;
	double uptime_s;
	int vcpus;
};

/* Each returns 0, or -1 with err naming the file and what was missing. */
int procstat_parse_stat(const char *text, struct procstat_cpu *out, char *err, size_t errlen);
/* Uses MemAvailable, or MemFree + Buffers + Cached on kernels without it. */
int procstat_parse_meminfo(const char *text, int64_t *total_kb, int64_t *avail_kb, char *err,
                           size_t errlen);
int procstat_parse_loadavg(const char *text, double *l1, double *l5, double *l15, char *err,
                           size_t errlen);
int procstat_parse_uptime(const char *text, double *uptime_s, char *err, size_t errlen);

/* Reads stat, meminfo, loadavg and uptime under proc_dir, and the disk use of disk_path
 * (NULL: not measured). Returns 0 or -1 with err. */
int procstat_sample(const char *proc_dir, const char *disk_path, struct procstat_sample *out,
                    char *err, size_t errlen);
/* Figures from two samples (prev may equal cur: cpu and steal are then 0). Pure. */
void procstat_figures(const struct procstat_sample *prev, const struct procstat_sample *cur,
                      struct procstat_figures *out);

#endif
