/* migrate_log.c - what a host writes down about its migrations, and the recovery that
 * reads it back after a crash. In STATE_DIR/migrations:
 *
 *   out-VM.json  source: {id, vm, to, stage}; from before the first byte is sent until
 *                our copy is resumed or destroyed. stage "commit": the destination
 *                committed and our copy is being destroyed.
 *   in-ID.json   destination: {id, vm, from, stage, config, tags}; stage "commit"
 *                from the commit point (written and synced before the VM is
 *                unpaused), "done" once the definition is stored. Committed records
 *                are kept (the newest MLOG_KEEP) to answer a source that asks how its
 *                migration ended. A VM being received has no record: an incoming VM
 *                without one was never committed.
 *
 * The driver persists its domains' states itself (incoming, outgoing), so recovery
 * is a matter of pairing each incoming or outgoing VM with its record. Every write
 * is synced (file and directory) except the "done" mark, which only saves recovery
 * a repeated, harmless step. */
#include "migrate.h"

#include "../../../lib/core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MLOG_KEEP 1024
#define MLOG_FILE_MAX (1024 * 1024)
#define MLOG_PATH_MAX 4600

int mlog_write(const char *path, const char *text, int durable)
{
	char tmp[MLOG_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if ((durable && fsync(fd) < 0) || close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	if (!durable)
		return 0;
	/* the rename itself must survive a crash */
	char dir[MLOG_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

cJSON *mlog_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > MLOG_FILE_MAX) {
		close(fd);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static void mlog_path(struct migrate *m, char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, "%s/%s-%s.json", m->dir, kind, name);
}

static int mlog_put(const char *path, cJSON *j, int durable)
{
	char *text = cJSON_PrintUnformatted(j);
	int rc = text ? mlog_write(path, text, durable) : -1;
	if (rc < 0)
		log_warn("cannot write %s", path);
	free(text);
	cJSON_Delete(j);
	return rc;
}

int mlog_out_put(struct migrate *m, const struct mig *g, const char *stage)
{
	char path[MLOG_PATH_MAX];
	mlog_path(m, path, sizeof(path), "out", g->vm);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", g->id);
	cJSON_AddStringToObject(j, "vm", g->vm);
	cJSON_AddStringToObject(j, "to", g->peer);
	cJSON_AddStringToObject(j, "stage", stage);
	return mlog_put(path, j, 1);
}

void mlog_out_del(struct migrate *m, const char *vm)
{
	char path[MLOG_PATH_MAX];
	mlog_path(m, path, sizeof(path), "out", vm);
	unlink(path);
}

int mlog_in_put(struct migrate *m, const struct mig *g, const char *stage)
{
	char path[MLOG_PATH_MAX];
	mlog_path(m, path, sizeof(path), "in", g->id);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", g->id);
	cJSON_AddStringToObject(j, "vm", g->vm);
	cJSON_AddStringToObject(j, "from", g->peer);
	cJSON_AddStringToObject(j, "stage", stage);
	cJSON_AddStringToObject(j, "config", g->config ? g->config : "");
	cJSON_AddItemToObject(j, "tags",
	                      g->tags ? cJSON_Duplicate(g->tags, 1) : cJSON_CreateArray());
	return mlog_put(path, j, strcmp(stage, "done") != 0);
}

void mlog_in_del(struct migrate *m, const char *id)
{
	char path[MLOG_PATH_MAX];
	mlog_path(m, path, sizeof(path), "in", id);
	unlink(path);
}

static const char *jstr(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(j, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

void mlog_in_stage(struct migrate *m, const char *id, char *stage, size_t len)
{
	char path[MLOG_PATH_MAX];
	stage[0] = '\0';
	if (mig_id_check(id) < 0)
		return;
	mlog_path(m, path, sizeof(path), "in", id);
	cJSON *j = mlog_read(path);
	if (j)
		snprintf(stage, len, "%s", jstr(j, "stage"));
	cJSON_Delete(j);
}

/* --- recovery ----------------------------------------------------------------------- */

struct mlog_file {
	char name[300];
	time_t mtime;
};

static int mlog_by_age(const void *a, const void *b)
{
	const struct mlog_file *x = a, *y = b;
	return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

/* Lists files KIND-*.json, newest first. */
static struct mlog_file *mlog_list(struct migrate *m, const char *kind, size_t *n)
{
	*n = 0;
	DIR *d = opendir(m->dir);
	if (!d)
		return NULL;
	size_t cap = 0, kl = strlen(kind);
	struct mlog_file *f = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < kl + 6 || strncmp(e->d_name, kind, kl) != 0 || e->d_name[kl] != '-' ||
		    strcmp(e->d_name + l - 5, ".json") != 0 || l >= sizeof(f->name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			struct mlog_file *nf = realloc(f, cap * sizeof(*nf));
			if (!nf)
				break;
			f = nf;
		}
		struct stat st;
		char path[MLOG_PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", m->dir, e->d_name);
		snprintf(f[*n].name, sizeof(f[*n].name), "%s", e->d_name);
		f[*n].mtime = stat(path, &st) == 0 ? st.st_mtime : 0;
		(*n)++;
	}
	closedir(d);
	if (f)
		qsort(f, *n, sizeof(*f), mlog_by_age);
	return f;
}

static const struct hv_vm *mlog_vm(const struct hv_vm *vms, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(vms[i].name, name) == 0)
			return &vms[i];
	return NULL;
}

static void mlog_event(struct migrate *m, const char *type, const char *vm, const char *id,
                       const char *why)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "id", id);
	cJSON_AddBoolToObject(f, "recovered", 1);
	if (why) {
		cJSON_AddStringToObject(f, "why", why);
		cJSON_AddStringToObject(f, "stage", "recovery");
	}
	hostd_event(m->h, type, vm, f);
}

/* Destination records: finish committed ones, undo the others. Marks handled VMs. */
static void mlog_recover_in(struct migrate *m, const struct hv_vm *vms, size_t n, int *handled)
{
	struct hostd *h = m->h;
	char err[VMC_ERR_MAX], path[4400];
	size_t nf;
	struct mlog_file *files = mlog_list(m, "in", &nf);
	for (size_t i = 0; i < nf; i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dir, files[i].name);
		cJSON *j = mlog_read(path);
		const char *stage = jstr(j, "stage"), *vm = jstr(j, "vm"), *id = jstr(j, "id");
		if (!j || vmc_name_check(vm, "vm", err, sizeof(err)) < 0) {
			log_warnx("%s: unreadable migration record removed", path);
			unlink(path);
			cJSON_Delete(j);
			continue;
		}
		const struct hv_vm *v = mlog_vm(vms, n, vm);
		int incoming = v && v->state == HV_VM_INCOMING;
		/* only an open record speaks for an incoming copy: a "done" one is an earlier
		 * move of the same VM, and the copy may be from a migration that died before
		 * its record was written (the sweep in mlog_recover destroys it then) */
		int open = strcmp(stage, "receive") == 0 || strcmp(stage, "commit") == 0;
		if (incoming && open)
			handled[v - vms] = 1;
		if (strcmp(stage, "receive") == 0) {
			if (incoming && hv_migrate_dst_abort(h->hv, vm, err, sizeof(err)) < 0)
				log_warnx("vm %s: %s", vm, err);
			if (incoming) {
				log_info("recovery: migration %s of vm %s was not committed: the "
				         "received copy is destroyed",
				         id, vm);
				mlog_event(m, "migration.failed", vm, id,
				           "the host agent stopped before the commit");
			}
			unlink(path);
		} else if (strcmp(stage, "commit") == 0) {
			if (incoming && hv_migrate_dst_commit(h->hv, vm, err, sizeof(err)) < 0)
				log_error("vm %s: finishing its commit: %s", vm, err);
			const cJSON *tags = cJSON_GetObjectItem(j, "tags");
			char *def = vmstore_get(h->store, vm);
			if (!def &&
			    vmstore_put(h->store, vm, jstr(j, "config"),
			                cJSON_IsArray(tags) ? tags : NULL, err, sizeof(err)) < 0)
				log_warnx("vm %s: %s", vm, err);
			free(def);
			cJSON_ReplaceItemInObject(j, "stage", cJSON_CreateString("done"));
			char *text = cJSON_PrintUnformatted(j);
			if (text)
				mlog_write(path, text, 0);
			free(text);
			log_info("recovery: migration %s of vm %s was committed: finished", id, vm);
			mlog_event(m, "migration.finished", vm, id, NULL);
		} else if (i >= MLOG_KEEP) {
			unlink(path); /* old news */
		}
		cJSON_Delete(j);
	}
	free(files);
}

/* Source records: ask about outgoing VMs, tidy up the rest. Marks handled VMs. */
static void mlog_recover_out(struct migrate *m, const struct hv_vm *vms, size_t n, int *handled)
{
	struct hostd *h = m->h;
	char path[MLOG_PATH_MAX], err[VMC_ERR_MAX];
	size_t nf;
	struct mlog_file *files = mlog_list(m, "out", &nf);
	for (size_t i = 0; i < nf; i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dir, files[i].name);
		cJSON *j = mlog_read(path);
		const char *vm = jstr(j, "vm"), *id = jstr(j, "id"), *to = jstr(j, "to"),
		           *stage = jstr(j, "stage");
		if (!j || vmc_name_check(vm, "vm", err, sizeof(err)) < 0 || mig_id_check(id) < 0 ||
		    vmc_name_check(to, "host", err, sizeof(err)) < 0) {
			log_warnx("%s: unreadable migration record removed", path);
			unlink(path);
			cJSON_Delete(j);
			continue;
		}
		const struct hv_vm *v = mlog_vm(vms, n, vm);
		if (v && v->state == HV_VM_OUTGOING) {
			handled[v - vms] = 1;
			mig_src_recover(m, vm, id, to); /* keeps the record */
		} else if (!v && strcmp(stage, "commit") == 0) {
			/* destroyed after the destination committed: finish the move */
			vmstore_remove(h->store, vm);
			unlink(path);
			log_info("recovery: migration %s of vm %s to %s had finished", id, vm, to);
			mlog_event(m, "migration.finished", vm, id, NULL);
		} else {
			/* never suspended, or resumed already: it stays here */
			unlink(path);
			if (v)
				log_info("recovery: migration %s of vm %s did not happen; it runs "
				         "here",
				         id, vm);
		}
		cJSON_Delete(j);
	}
	free(files);
}

void mlog_recover(struct migrate *m)
{
	struct hostd *h = m->h;
	char err[VMC_ERR_MAX];
	struct hv_vm *vms;
	size_t n;
	if (hv_list_vms(h->hv, &vms, &n, err, sizeof(err)) < 0) {
		log_error("recovery: cannot list the VMs: %s", err);
		return;
	}
	int *handled = calloc(n ? n : 1, sizeof(*handled));
	if (!handled) {
		free(vms);
		return;
	}
	mlog_recover_in(m, vms, n, handled);
	mlog_recover_out(m, vms, n, handled);
	for (size_t i = 0; i < n; i++) {
		if (handled[i])
			continue;
		if (vms[i].state == HV_VM_INCOMING) {
			log_info("recovery: vm %s was being received and not committed: the "
			         "received copy is destroyed",
			         vms[i].name);
			if (hv_migrate_dst_abort(h->hv, vms[i].name, err, sizeof(err)) < 0)
				log_warnx("vm %s: %s", vms[i].name, err);
			mlog_event(m, "migration.failed", vms[i].name, "",
			           "the host agent stopped before the commit");
		} else if (vms[i].state == HV_VM_OUTGOING) {
			log_error("recovery: vm %s is suspended for a migration without a record; "
			          "it stays suspended: find where it runs, then vm.destroy it here "
			          "or resume it by hand",
			          vms[i].name);
		}
	}
	free(handled);
	free(vms);
}
