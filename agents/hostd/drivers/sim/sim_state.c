/* sim_state.c - the sim driver's host file, state file and VM record. */
#include "sim_state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../../lib/bus/jsonbuf.h"
#include "../../../../lib/config/conf.h"

#define STATE_FILE_MAX (64u << 20)

/* Appends one line to err (errors are collected, as conf.c does). */
static void err_append(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_append(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strnlen(err, errlen);
	va_list ap;

	if (used + 2 >= errlen)
		return;
	if (used > 0)
		err[used++] = '\n';
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* --- files ----------------------------------------------------------------- */

/* Reads the whole of the open fd (closed here) of at most max bytes, NUL-terminated; only a
 * regular file (never a FIFO, device or directory, which could block or never end).
 * label names it in errors. Returns it (malloc'ed), or NULL with err. */
static char *fd_read(int fd, const char *label, size_t max, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", label);
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap != 0 ? cap * 2 : 4096;
			char *nb;

			if (cap > max) {
				snprintf(err, errlen, "%s: larger than %zu bytes", label, max);
				goto fail;
			}
			if (ncap > max + 1)
				ncap = max + 1;
			nb = realloc(buf, ncap + 1); /* room for the NUL */
			if (nb == NULL) {
				snprintf(err, errlen, "%s: out of memory", label);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", label, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", label);
		goto fail;
	}
	close(fd);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%s: holds a NUL byte; expected text", label);
		free(buf);
		return NULL;
	}
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Reads a whole file of at most max bytes (see fd_read). *missing is set when the file
 * does not exist. */
static char *file_read(const char *path, size_t max, int *missing, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (missing != NULL)
		*missing = fd < 0 && errno == ENOENT;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return fd_read(fd, path, max, err, errlen);
}

int sim_trace_read(const char *path, const char *base_dir, struct sim_load *l, char *err,
                   size_t errlen)
{
	char full[PATH_MAX];
	char *text;
	int rc;

	if (path[0] != '/' && base_dir != NULL)
		snprintf(full, sizeof(full), "%s/%s", base_dir, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	text = file_read(full, SIM_TRACE_FILE_MAX, NULL, err, errlen);
	if (text == NULL)
		return -1;
	rc = sim_trace_parse(text, full, l, err, errlen);
	free(text);
	return rc;
}

int sim_trace_read_in(const char *traces, const char *name, struct sim_load *l, char *err,
                      size_t errlen)
{
	char label[VMC_NAME_MAX + 32], e[VMC_ERR_MAX];
	if (traces == NULL) {
		snprintf(err, errlen,
		         "trace %.64s: trace profiles need the agent's traces directory "
		         "(--sim-traces DIR)",
		         name);
		return -1;
	}
	if (vmc_name_check(name, "trace", e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: expected a file name in the traces directory", e);
		return -1;
	}
	snprintf(label, sizeof(label), "trace %s", name);
	int dfd = open(traces, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "%s: the traces directory cannot be opened: %s", label,
		         strerror(errno));
		return -1;
	}
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	int saved = errno;
	close(dfd);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", label,
		         saved == ELOOP ? "a symbolic link, not followed" : strerror(saved));
		return -1;
	}
	char *text = fd_read(fd, label, SIM_TRACE_FILE_MAX, err, errlen);
	if (text == NULL)
		return -1;
	int rc = sim_trace_parse(text, label, l, err, errlen);
	free(text);
	return rc;
}

/* --- the host file ------------------------------------------------------------ */

void sim_hostfile_defaults(struct sim_hostfile *hf)
{
	memset(hf, 0, sizeof(*hf));
	hf->cpus = SIM_DEFAULT_CPUS;
	hf->memory_mb = SIM_DEFAULT_MEMORY_MB;
	hf->bandwidth_mbps = SIM_DEFAULT_BANDWIDTH_MBPS;
	hf->wire_scale = SIM_WIRE_SCALE;
}

void sim_hostfile_free(struct sim_hostfile *hf)
{
	for (size_t i = 0; i < hf->n; i++)
		sim_load_free(&hf->vms[i].load);
	free(hf->vms);
	hf->vms = NULL;
	hf->n = 0;
}

/* Top-level keys: each read into the hostfile by a getter. */
static int hostfile_top(struct conf *c, struct sim_hostfile *hf, char *err, size_t errlen)
{
	char e[512];
	int64_t v;
	int bad = 0;

#define GET(call, dst)                                                                             \
	do {                                                                                       \
		e[0] = '\0';                                                                       \
		int r_ = (call);                                                                   \
		if (r_ < 0) {                                                                      \
			err_append(err, errlen, "%s", e);                                          \
			bad++;                                                                     \
		} else if (r_ == 0) {                                                              \
			dst;                                                                       \
		}                                                                                  \
	} while (0)
	GET(conf_get_int(c, "", "", "cpus", 1, SIM_CPUS_MAX, &v, e, sizeof(e)), hf->cpus = (int)v);
	GET(conf_get_size_mb(c, "", "", "memory", SIM_MEM_MIN_MB, SIM_MEM_MAX_MB, &v, e, sizeof(e)),
	    hf->memory_mb = v);
	GET(conf_get_size_mb(c, "", "", "reserve", 0, SIM_MEM_MAX_MB, &v, e, sizeof(e)),
	    hf->reserve_mb = v);
	GET(conf_get_int(c, "", "", "bandwidth", 1, 10000000, &v, e, sizeof(e)),
	    hf->bandwidth_mbps = v);
	GET(conf_get_num(c, "", "", "migration_scale", 1, 1 << 30, &hf->wire_scale, e, sizeof(e)),
	    (void)0);
	GET(conf_get_num(c, "", "", "dirty", 0, SIM_DIRTY_MAX, &hf->default_dirty, e, sizeof(e)),
	    (void)0);
	return bad;
}

/* One [vm NAME] section into vm (load to be freed by the caller). */
static int hostfile_vm(struct conf *c, const struct conf_section *s, const char *dir,
                       const struct sim_hostfile *hf, struct sim_vm *vm, char *err, size_t errlen)
{
	char e[512];
	const char *str;
	int64_t v;
	int bad = 0;

	memset(vm, 0, sizeof(*vm));
	if (vmc_name_check(s->arg, "vm name", e, sizeof(e)) < 0) {
		err_append(err, errlen, "%s:%d: %s", c->file, s->line, e);
		return 1;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", s->arg);
	vm->state = SIM_RUNNING;
	vm->vcpus = 1;
	vm->mem_mb = 1024;
	vm->dirty_mibps = hf->default_dirty;
	GET(conf_get_int(c, "vm", s->arg, "vcpus", 1, SIM_VCPUS_MAX, &v, e, sizeof(e)),
	    vm->vcpus = (int)v);
	GET(conf_get_size_mb(c, "vm", s->arg, "memory", SIM_MEM_MIN_MB, SIM_MEM_MAX_MB, &v, e,
	                     sizeof(e)),
	    vm->mem_mb = v);
	GET(conf_get_num(c, "vm", s->arg, "dirty", 0, SIM_DIRTY_MAX, &vm->dirty_mibps, e,
	                 sizeof(e)),
	    (void)0);
	if (conf_get_str(c, "vm", s->arg, "tags", &str, e, sizeof(e)) == 0) {
		if (strlen(str) > SIM_TAGS_MAX) {
			err_append(err, errlen, "%s:%d: tags: longer than %d characters", c->file,
			           conf_find(c, "vm", s->arg, "tags")->line, SIM_TAGS_MAX);
			bad++;
		} else {
			snprintf(vm->tags, sizeof(vm->tags), "%s", str);
		}
	}
	if (conf_get_str(c, "vm", s->arg, "load", &str, e, sizeof(e)) != 0)
		str = "constant 0";
	if (sim_load_parse(str, &vm->load, e, sizeof(e)) < 0 ||
	    (vm->load.kind == SIM_LOAD_TRACE &&
	     sim_trace_read(vm->load.file, dir, &vm->load, e, sizeof(e)) < 0)) {
		const struct conf_entry *en = conf_find(c, "vm", s->arg, "load");

		err_append(err, errlen, "%s:%d: %s", c->file, en != NULL ? en->line : s->line, e);
		bad++;
	}
#undef GET
	return bad;
}

int sim_hostfile_load(const char *path, struct sim_hostfile *hf, char *err, size_t errlen)
{
	struct conf *c = NULL;
	char dir[PATH_MAX], *d;
	int bad;

	err[0] = '\0';
	if (conf_parse_file(path, &c, err, errlen) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	d = dirname(dir);
	if (d != dir)
		snprintf(dir, sizeof(dir), "%s", d);
	bad = hostfile_top(c, hf, err, errlen);
	hf->vms = calloc(c->nsections + 1, sizeof(*hf->vms));
	if (hf->vms == NULL) {
		conf_free(c);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (size_t i = 0; i < c->nsections; i++) {
		const struct conf_section *s = &c->sections[i];

		if (strcmp(s->name, "vm") != 0) {
			err_append(err, errlen, "%s:%d: unknown section [%s]; expected [vm NAME]",
			           c->file, s->line, s->name);
			bad++;
			continue;
		}
		bad += hostfile_vm(c, s, dir, hf, &hf->vms[hf->n], err, errlen);
		hf->n++;
	}
	if (bad == 0) {
		char e[1024];

		if (conf_check_unused(c, e, sizeof(e)) > 0) {
			err_append(err, errlen, "%s", e);
			bad++;
		}
	}
	conf_free(c);
	if (bad > 0) {
		sim_hostfile_free(hf);
		return -1;
	}
	return 0;
}

/* --- the VM record ------------------------------------------------------------ */

cJSON *sim_vm_to_json(const struct sim_vm *vm)
{
	cJSON *o = cJSON_CreateObject();
	char load[SIM_LOAD_TEXT_MAX + 1];

	if (o == NULL)
		return NULL;
	if (sim_load_format(&vm->load, load, sizeof(load)) < 0)
		snprintf(load, sizeof(load), "constant 0");
	cJSON_AddStringToObject(o, "name", vm->name);
	cJSON_AddNumberToObject(o, "domid", vm->domid);
	cJSON_AddStringToObject(o, "state", sim_state_name(vm->state));
	cJSON_AddStringToObject(o, "resume_state", sim_state_name(vm->resume_state));
	cJSON_AddNumberToObject(o, "vcpus", vm->vcpus);
	cJSON_AddNumberToObject(o, "mem_mb", (double)vm->mem_mb);
	cJSON_AddNumberToObject(o, "dirty", vm->dirty_mibps);
	cJSON_AddStringToObject(o, "load", load);
	if (vm->load.kind == SIM_LOAD_TRACE) {
		cJSON *pts = cJSON_AddArrayToObject(o, "trace");

		for (size_t i = 0; pts != NULL && i < vm->load.npts; i++) {
			cJSON *pt = cJSON_CreateArray();

			cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)vm->load.pts[i].t_ms));
			cJSON_AddItemToArray(pt, cJSON_CreateNumber(vm->load.pts[i].cpus));
			cJSON_AddItemToArray(pts, pt);
		}
	}
	cJSON_AddStringToObject(o, "tags", vm->tags);
	if (vm->state == SIM_SHUTTING_DOWN)
		cJSON_AddNumberToObject(o, "shutdown_at", (double)vm->shutdown_at);
	cJSON_AddNumberToObject(o, "cpu_ms", vm->cpu_ms);
	cJSON_AddNumberToObject(o, "steal_ms", vm->steal_ms);
	cJSON_AddNumberToObject(o, "demand_ms", vm->demand_ms);
	return o;
}

static int json_trace(const cJSON *arr, struct sim_load *l, char *err, size_t errlen)
{
	int n = cJSON_GetArraySize(arr), rc;
	struct sim_trace_point *pts;

	if (!cJSON_IsArray(arr) || n < 1 || n > SIM_TRACE_POINTS_MAX) {
		snprintf(err, errlen, "trace: expected an array of 1 to %d [ms, cpus] points",
		         SIM_TRACE_POINTS_MAX);
		return -1;
	}
	pts = calloc((size_t)n, sizeof(*pts));
	if (pts == NULL) {
		snprintf(err, errlen, "trace: out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const cJSON *pt = cJSON_GetArrayItem(arr, i);
		const cJSON *t = cJSON_GetArrayItem(pt, 0), *c = cJSON_GetArrayItem(pt, 1);

		if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 2 || !cJSON_IsNumber(t) ||
		    !cJSON_IsNumber(c) || !(t->valuedouble >= 0 && t->valuedouble < 9e15)) {
			snprintf(err, errlen, "trace[%d]: expected [ms, cpus]", i);
			free(pts);
			return -1;
		}
		pts[i].t_ms = (int64_t)t->valuedouble;
		pts[i].cpus = c->valuedouble;
	}
	rc = sim_trace_set(l, pts, (size_t)n, err, errlen);
	free(pts);
	return rc;
}

static int json_state(const cJSON *o, const char *field, int required, enum sim_state *out,
                      char *err, size_t errlen)
{
	const char *s;
	int r = msg_get_str(o, "vm", field, required, 32, &s, err, errlen);

	if (r != 0)
		return r;
	r = sim_state_parse(s);
	if (r < 0) {
		snprintf(err, errlen, "vm.%s: unknown state \"%.32s\"", field, s);
		return -1;
	}
	*out = (enum sim_state)r;
	return 0;
}

int sim_vm_from_json(const cJSON *o, struct sim_vm *out, char *err, size_t errlen)
{
	const char *name, *load, *tags = "";
	int64_t v, mem;
	double acc[3] = {0, 0, 0};
	static const char *const acc_names[3] = {"cpu_ms", "steal_ms", "demand_ms"};

	memset(out, 0, sizeof(*out));
	out->resume_state = SIM_RUNNING;
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "vm: expected an object");
		return -1;
	}
	if (msg_get_name(o, "vm", "name", 1, &name, err, errlen) < 0 ||
	    msg_get_int(o, "vm", "vcpus", 1, 1, SIM_VCPUS_MAX, &v, err, errlen) < 0 ||
	    msg_get_int(o, "vm", "mem_mb", 1, SIM_MEM_MIN_MB, SIM_MEM_MAX_MB, &mem, err, errlen) <
	        0 ||
	    msg_get_num(o, "vm", "dirty", 0, 0, SIM_DIRTY_MAX, &out->dirty_mibps, err, errlen) <
	        0 ||
	    msg_get_str(o, "vm", "load", 1, SIM_LOAD_TEXT_MAX, &load, err, errlen) < 0 ||
	    msg_get_str(o, "vm", "tags", 0, SIM_TAGS_MAX, &tags, err, errlen) < 0 ||
	    json_state(o, "state", 1, &out->state, err, errlen) < 0 ||
	    json_state(o, "resume_state", 0, &out->resume_state, err, errlen) < 0)
		return -1;
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->tags, sizeof(out->tags), "%s", tags);
	out->vcpus = (int)v;
	out->mem_mb = mem;
	if (msg_get_int(o, "vm", "domid", 0, 1, 32000, &v, err, errlen) < 0)
		return -1;
	out->domid = (int)v;
	for (int i = 0; i < 3; i++)
		if (msg_get_num(o, "vm", acc_names[i], 0, 0, 1e18, &acc[i], err, errlen) < 0)
			return -1;
	out->cpu_ms = acc[0];
	out->steal_ms = acc[1];
	out->demand_ms = acc[2];
	if (msg_get_int(o, "vm", "shutdown_at", 0, 0, INT64_MAX / 2, &out->shutdown_at, err,
	                errlen) < 0)
		return -1;
	if (sim_load_parse(load, &out->load, err, errlen) < 0)
		return -1;
	if (out->load.kind == SIM_LOAD_TRACE &&
	    json_trace(cJSON_GetObjectItemCaseSensitive(o, "trace"), &out->load, err, errlen) < 0)
		return -1;
	return 0;
}

/* --- the state file ------------------------------------------------------------ */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int sim_state_save(const char *dir, const struct sim_host *h, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	cJSON *root = cJSON_CreateObject(), *vms;
	struct jsonbuf buf = {0};
	const char *text = NULL;
	int fd = -1, rc = -1;
	size_t len, off = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, SIM_STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, SIM_STATE_FILE, (long)getpid());
	if (root == NULL)
		goto nomem;
	cJSON_AddNumberToObject(root, "version", SIM_STATE_VERSION);
	cJSON_AddNumberToObject(root, "saved_ms", (double)h->now_ms);
	cJSON_AddNumberToObject(root, "next_domid", h->next_domid);
	vms = cJSON_AddArrayToObject(root, "vms");
	for (size_t i = 0; vms != NULL && i < h->n; i++) {
		cJSON *vm = sim_vm_to_json(&h->vms[i]);

		if (vm == NULL)
			goto nomem;
		cJSON_AddItemToArray(vms, vm);
	}
	/* the accumulators have many digits: jsonbuf writes them without printf */
	text = jsonbuf_print(&buf, root);
	if (vms == NULL || text == NULL)
		goto nomem;
	len = buf.len;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: write: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	fsync_dir(dir);
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	jsonbuf_free(&buf);
	cJSON_Delete(root);
	return rc;
}

int sim_state_load(const char *dir, struct sim_host *h, char *err, size_t errlen)
{
	char path[PATH_MAX], e[512];
	cJSON *root = NULL;
	const cJSON *vms, *item;
	char *text;
	int missing = 0, rc = -1;
	int64_t saved = 0, next = 1;
	size_t i = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, SIM_STATE_FILE);
	text = file_read(path, STATE_FILE_MAX, &missing, err, errlen);
	if (text == NULL)
		return missing ? 0 : -1;
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(root) ||
	    msg_get_int(root, "", "version", 1, SIM_STATE_VERSION, SIM_STATE_VERSION, &saved, e,
	                sizeof(e)) < 0 ||
	    msg_get_int(root, "", "saved_ms", 1, 0, INT64_MAX / 2, &saved, e, sizeof(e)) < 0 ||
	    msg_get_int(root, "", "next_domid", 0, 1, 32000, &next, e, sizeof(e)) < 0 ||
	    msg_get_array(root, "", "vms", 1, &vms, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: not a sim state file: %s", path,
		         root == NULL ? "not JSON" : e);
		goto out;
	}
	cJSON_ArrayForEach(item, vms)
	{
		struct sim_vm vm;
		int bad = sim_vm_from_json(item, &vm, e, sizeof(e)) < 0;

		if (!bad && sim_host_add(h, &vm, saved > 0 ? saved : 1, NULL, e, sizeof(e)) == NULL)
			bad = 1;
		sim_load_free(&vm.load);
		if (bad) {
			snprintf(err, errlen, "%s: vms[%zu]: %s", path, i, e);
			goto out;
		}
		i++;
	}
	h->next_domid = (int)next;
	/* account from when the state was saved: VMs ran while no agent watched */
	h->now_ms = saved;
	rc = 1;
out:
	cJSON_Delete(root);
	return rc;
}
