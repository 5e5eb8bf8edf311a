/* vmstore.c - the host agent's VM definitions: one directory of files,
 * NAME.cfg (xl.cfg text) and NAME.tags (JSON array), each written atomically.
 * Names are validated before they reach here, so they are safe file names. */
#include "hostd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vmstore {
	char *dir;
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
	free(s->dir);
	free(s);
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

/* Writes a whole file atomically: temp file, fsync, rename. */
static int write_atomic(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
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

static char *read_file(const char *path)
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
		int rc = t ? write_atomic(path, t, err, errlen) : -1;
		free(t);
		if (rc < 0)
			return -1;
	}
	vmstore_path(s, name, "cfg", path, sizeof(path));
	return write_atomic(path, xlcfg, err, errlen);
}

char *vmstore_get(struct vmstore *s, const char *name)
{
	char path[4096];
	if (vmstore_path(s, name, "cfg", path, sizeof(path)) < 0)
		return NULL;
	return read_file(path);
}

cJSON *vmstore_tags(struct vmstore *s, const char *name)
{
	char path[4096];
	cJSON *tags = NULL;
	if (vmstore_path(s, name, "tags", path, sizeof(path)) == 0) {
		char *text = read_file(path);
		if (text)
			tags = cJSON_Parse(text);
		free(text);
	}
	if (!cJSON_IsArray(tags)) {
		cJSON_Delete(tags);
		tags = cJSON_CreateArray();
	}
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
