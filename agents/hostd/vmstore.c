/* vmstore.c - the host agent's VM definitions: one directory of files,
 * NAME.cfg (xl.cfg text) and NAME.tags (JSON array), each written atomically.
 * Names are validated before they reach here, so they are safe file names.
 * Every load message carries each VM's tags and is checked against the stored
 * configs, so both are kept in memory: the names as last listed and the parsed tags.
 * Each write is a new file renamed into place, which changes the directory's mtime;
 * while that mtime is what it was at the last listing (and was then over a second
 * old, so that no change in the same clock tick hides), the memory is the truth and
 * nothing is read. The directory is looked at once per STORE_RECHECK_MS at most;
 * this agent's own writes are seen at once. */
#include "hostd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_RECHECK_MS 100

/* The parsed tags of one VM and the identity of the file they came from. */
struct vmstore_tagc {
	char name[VMC_NAME_MAX + 1];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	int64_t dir_mtime; /* the directory's mtime they were checked under, -1: none */
	cJSON *tags;
};

struct vmstore {
	char *dir;
	struct vmstore_tagc *tc;
	size_t ntc, captc;
	size_t tc_next; /* where tagc_find looks first: the VMs come in the same order */
	char **names;   /* the configs as last listed (listed: valid), sorted */
	size_t nnames;
	int listed;
	int64_t dir_mtime, listed_at; /* ns: the directory's mtime then, and the time */
	int64_t checked_at;           /* monotonic ms of the last look that found it unchanged */
};

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int64_t clock_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ts_ns(&t);
}

/* 1 if the directory is as it was at the last listing (see the top of the file). */
static int store_unchanged(struct vmstore *s)
{
	if (!s->listed)
		return 0;
	int64_t now = clock_ns(CLOCK_MONOTONIC) / 1000000;
	if (s->checked_at && now - s->checked_at < STORE_RECHECK_MS)
		return 1;
	struct stat st;
	if (stat(s->dir, &st) < 0 || ts_ns(&st.st_mtim) != s->dir_mtime ||
	    s->dir_mtime >= s->listed_at - 1000000000) {
		s->checked_at = 0;
		return 0;
	}
	s->checked_at = now;
	return 1;
}

/* Our own write: what is in memory is no longer the truth. */
static void store_changed(struct vmstore *s)
{
	s->listed = 0;
	s->checked_at = 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the configs again into s->names, sorted. 0, or -1 if the directory cannot be
 * read. */
static int store_list(struct vmstore *s)
{
	struct stat st;
	store_changed(s);
	vmstore_names_free(s->names, s->nnames);
	s->names = NULL;
	s->nnames = 0;
	/* the mtime before the listing: a change during it makes the next look list again */
	int64_t at = clock_ns(CLOCK_REALTIME);
	if (stat(s->dir, &st) < 0)
		return -1;
	DIR *d = opendir(s->dir);
	if (!d)
		return -1;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".cfg") != 0)
			continue;
		if (s->nnames == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(s->names, cap * sizeof(*nn));
			if (!nn) {
				closedir(d);
				return -1;
			}
			s->names = nn;
		}
		s->names[s->nnames] = strndup(e->d_name, len - 4);
		if (s->names[s->nnames])
			s->nnames++;
	}
	closedir(d);
	if (s->nnames > 1)
		qsort(s->names, s->nnames, sizeof(*s->names), name_cmp);
	s->dir_mtime = ts_ns(&st.st_mtim);
	s->listed_at = at;
	s->listed = 1;
	return 0;
}

struct vmstore *vmstore_open(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "VM store %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct vmstore *s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return s;
}

void vmstore_close(struct vmstore *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntc; i++)
		cJSON_Delete(s->tc[i].tags);
	free(s->tc);
	vmstore_names_free(s->names, s->nnames);
	free(s->dir);
	free(s);
}

static struct vmstore_tagc *tagc_find(struct vmstore *s, const char *name)
{
	for (size_t k = 0; k < s->ntc; k++) {
		size_t i = (s->tc_next + k) % s->ntc;
		if (strcmp(s->tc[i].name, name) == 0) {
			s->tc_next = i + 1;
			return &s->tc[i];
		}
	}
	return NULL;
}

static void tagc_drop(struct vmstore *s, const char *name)
{
	struct vmstore_tagc *c = tagc_find(s, name);
	if (c) {
		cJSON_Delete(c->tags);
		*c = s->tc[--s->ntc];
	}
}

static int tagc_same(const struct vmstore_tagc *c, const struct stat *st)
{
	return c->dev == st->st_dev && c->ino == st->st_ino && c->size == st->st_size &&
	       c->mtim.tv_sec == st->st_mtim.tv_sec && c->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       c->ctim.tv_sec == st->st_ctim.tv_sec && c->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* Keeps a copy of tags as the contents of the file st describes. */
static void tagc_put(struct vmstore *s, const char *name, const struct stat *st, const cJSON *tags)
{
	struct vmstore_tagc *c = tagc_find(s, name);
	if (!c) {
		if (s->ntc == s->captc) {
			size_t cap = s->captc ? s->captc * 2 : 16;
			struct vmstore_tagc *n = realloc(s->tc, cap * sizeof(*n));
			if (!n)
				return;
			s->tc = n;
			s->captc = cap;
		}
		c = &s->tc[s->ntc++];
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->tags = NULL;
	}
	cJSON_Delete(c->tags);
	c->tags = cJSON_Duplicate(tags, 1);
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtim = st->st_mtim;
	c->ctim = st->st_ctim;
	c->dir_mtime = store_unchanged(s) ? s->dir_mtime : -1;
	if (!c->tags)
		*c = s->tc[--s->ntc];
}

static int vmstore_path(const struct vmstore *s, const char *name, const char *ext, char *buf,
			size_t len)
{
	char err[VMC_ERR_MAX];
	if (vmc_name_check(name, "vm name", err, sizeof(err)) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/%s.%s", s->dir, name, ext);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int vmstore_write_file(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4200];
	/* the pid keeps two hosts writing one file of a shared store apart */
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail_unlink;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		close(fd);
		goto fail_unlink;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0)
		goto fail_unlink;
	/* the rename itself is durable only once the directory is */
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	close(dfd);
	return 0;
fail_unlink:;
	int saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

char *vmstore_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > 1024 * 1024) {
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
	return buf;
}

int vmstore_put(struct vmstore *s, const char *name, const char *xlcfg, const cJSON *tags,
		char *err, size_t errlen)
{
	char path[4096];
	if (vmstore_path(s, name, "tags", path, sizeof(path)) < 0) {
		snprintf(err, errlen, "bad vm name");
		return -1;
	}
	store_changed(s);
	if (tags) {
		char *t = cJSON_PrintUnformatted(tags);
		int rc = t ? vmstore_write_file(path, t, err, errlen) : -1;
		free(t);
		if (rc < 0)
			return -1;
	}
	vmstore_path(s, name, "cfg", path, sizeof(path));
	return vmstore_write_file(path, xlcfg, err, errlen);
}

char *vmstore_get(struct vmstore *s, const char *name)
{
	char path[4096];
	if (vmstore_path(s, name, "cfg", path, sizeof(path)) < 0)
		return NULL;
	return vmstore_read_file(path);
}

int vmstore_has(struct vmstore *s, const char *name)
{
	char path[4096];
	struct stat st;
	if (store_unchanged(s))
		return s->nnames > 0 &&
		       bsearch(&name, s->names, s->nnames, sizeof(*s->names), name_cmp) != NULL;
	return vmstore_path(s, name, "cfg", path, sizeof(path)) == 0 && stat(path, &st) == 0;
}

cJSON *vmstore_tags(struct vmstore *s, const char *name)
{
	char path[4096];
	struct stat st;
	cJSON *tags = NULL;
	struct vmstore_tagc *c = tagc_find(s, name);
	if (c && c->dir_mtime >= 0 && store_unchanged(s) && c->dir_mtime == s->dir_mtime)
		return cJSON_Duplicate(c->tags, 1);
	if (vmstore_path(s, name, "tags", path, sizeof(path)) < 0 || stat(path, &st) < 0) {
		tagc_drop(s, name);
		return cJSON_CreateArray();
	}
	c = tagc_find(s, name);
	if (c && tagc_same(c, &st)) {
		c->dir_mtime = store_unchanged(s) ? s->dir_mtime : -1; /* checked as it is now */
		return cJSON_Duplicate(c->tags, 1);
	}
	char *text = vmstore_read_file(path);
	if (text)
		tags = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(tags)) {
		cJSON_Delete(tags);
		tags = cJSON_CreateArray();
	}
	tagc_put(s, name, &st, tags);
	return tags;
}

int vmstore_remove(struct vmstore *s, const char *name)
{
	char path[4096];
	if (vmstore_path(s, name, "cfg", path, sizeof(path)) < 0)
		return -1;
	store_changed(s);
	int rc = unlink(path);
	vmstore_path(s, name, "tags", path, sizeof(path));
	unlink(path);
	tagc_drop(s, name);
	return rc;
}

int vmstore_list(struct vmstore *s, char ***names, size_t *n)
{
	*names = NULL;
	*n = 0;
	if (!store_unchanged(s) && store_list(s) < 0)
		return -1;
	*names = calloc(s->nnames ? s->nnames : 1, sizeof(**names));
	if (!*names)
		return -1;
	for (size_t i = 0; i < s->nnames; i++)
		if (((*names)[*n] = strdup(s->names[i])))
			(*n)++;
	return 0;
}

size_t vmstore_count(struct vmstore *s)
{
	if (!store_unchanged(s) && store_list(s) < 0)
		return 0;
	return s->nnames;
}

void vmstore_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int vmstore_has_tag(struct vmstore *s, const char *name, const char *tag)
{
	cJSON *tags = vmstore_tags(s, name);
	const cJSON *t;
	int has = 0;
	cJSON_ArrayForEach(t, tags)
	{
		has |= cJSON_IsString(t) && strcmp(t->valuestring, tag) == 0;
	}
	cJSON_Delete(tags);
	return has;
}
