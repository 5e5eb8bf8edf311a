/* vmstore.c - the host agent's VM definitions: one directory of files,
 * NAME.cfg (xl.cfg text) and NAME.tags (JSON array), each written atomically.
 * Names are validated before they reach here, so they are safe file names.
 * Every load message carries each VM's tags: they are kept parsed, and a file is
 * read again only when stat(2) says it is another (each write is a new file). */
#include "hostd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The parsed tags of one VM and the identity of the file they came from. */
struct vmstore_tagc {
	char name[VMC_NAME_MAX + 1];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	cJSON *tags;
};

struct vmstore {
	char *dir;
	struct vmstore_tagc *tc;
	size_t ntc, captc;
};

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
	free(s->dir);
	free(s);
}

static struct vmstore_tagc *tagc_find(struct vmstore *s, const char *name)
{
	for (size_t i = 0; i < s->ntc; i++)
		if (strcmp(s->tc[i].name, name) == 0)
			return &s->tc[i];
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
	return vmstore_path(s, name, "cfg", path, sizeof(path)) == 0 && stat(path, &st) == 0;
}

cJSON *vmstore_tags(struct vmstore *s, const char *name)
{
	char path[4096];
	struct stat st;
	cJSON *tags = NULL;
	if (vmstore_path(s, name, "tags", path, sizeof(path)) < 0 || stat(path, &st) < 0) {
		tagc_drop(s, name);
		return cJSON_CreateArray();
	}
	const struct vmstore_tagc *c = tagc_find(s, name);
	if (c && tagc_same(c, &st))
		return cJSON_Duplicate(c->tags, 1);
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
	DIR *d = opendir(s->dir);
	if (!d)
		return -1;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".cfg") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(*names, cap * sizeof(*nn));
			if (!nn)
				break;
			*names = nn;
		}
		(*names)[*n] = strndup(e->d_name, len - 4);
		if ((*names)[*n])
			(*n)++;
	}
	closedir(d);
	return 0;
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
