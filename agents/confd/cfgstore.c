/* cfgstore.c - builds and writes VM xl.cfg files (see cfgstore.h). */
#include "cfgstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/bus/msg.h"
#include "../../lib/config/xlcfg.h"
#include "templates.h"

char *cfgstore_build(const struct template *t, const char *vm, const char *disk_path, char *err,
                     size_t errlen)
{
	if (vmc_name_check(vm, "vm name", err, errlen) < 0)
		return NULL;
	if (strpbrk(disk_path, ",\"\\") || disk_path[0] != '/') {
		snprintf(err, errlen, "disk path %s: must be absolute without commas or quotes",
		         disk_path);
		return NULL;
	}
	struct xlcfg *c = xlcfg_new();
	char disk[2048], vif[64];
	char *text = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(disk, sizeof disk, "format=raw,vdev=xvda,access=rw,target=%s", disk_path);
	const char *disks[] = {disk};
	int bad = xlcfg_set_str(c, "name", vm) < 0;
	if (t->kernel)
		bad |= xlcfg_set_str(c, "kernel", t->kernel) < 0;
	if (t->ramdisk)
		bad |= xlcfg_set_str(c, "ramdisk", t->ramdisk) < 0;
	bad |= xlcfg_set_int(c, "memory", t->memory_mb) < 0;
	bad |= xlcfg_set_int(c, "vcpus", t->vcpus) < 0;
	bad |= xlcfg_set_list(c, "disk", disks, 1) < 0;
	if (t->bridge) {
		snprintf(vif, sizeof vif, "bridge=%s", t->bridge);
		const char *vifs[] = {vif};
		bad |= xlcfg_set_list(c, "vif", vifs, 1) < 0;
	}
	if (t->root)
		bad |= xlcfg_set_str(c, "root", t->root) < 0;
	if (t->extra)
		bad |= xlcfg_set_str(c, "extra", t->extra) < 0;
	if (bad) {
		snprintf(err, errlen, "cannot build the xl.cfg of %s", vm);
		goto out;
	}
	for (size_t i = 0; i < t->nxl; i++)
		if (cfgstore_xl_value(c, t->xl[i].key, t->xl[i].value, err, errlen) < 0)
			goto out;
	char *body = xlcfg_write(c);
	if (!body) {
		snprintf(err, errlen, "cannot serialize the xl.cfg of %s", vm);
		goto out;
	}
	size_t n = strlen(body) + strlen(t->name) + 64;
	text = malloc(n);
	if (text)
		snprintf(text, n, "# vmc-confd: VM %s from template %s\n%s", vm, t->name, body);
	else
		snprintf(err, errlen, "out of memory");
	free(body);
out:
	xlcfg_free(c);
	return text;
}

static int cfg_name(const char *vm, char *out, size_t len, char *err, size_t errlen)
{
	if (vmc_name_check(vm, "vm name", err, errlen) < 0)
		return -1;
	snprintf(out, len, "%s%s", vm, CFGSTORE_EXT);
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cfgstore_write(int dirfd, const char *vm, const char *text, int replace, char *err,
                   size_t errlen)
{
	char name[VMC_NAME_MAX + 8], tmp[VMC_NAME_MAX + 64];
	static const char *const what = "configs/";
	if (cfg_name(vm, name, sizeof name, err, errlen) < 0)
		return -1;
	int fd = -1;
	for (int i = 0; i < 100 && fd < 0; i++) {
		snprintf(tmp, sizeof tmp, ".%s.tmp.%ld.%d", name, (long)getpid(), i);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s%s: %s", what, tmp, strerror(errno));
			return -1;
		}
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s%s: cannot make a temporary file", what, name);
		return -1;
	}
	if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s%s: %s%s", what, name, strerror(e),
		         e == ENOSPC || e == EDQUOT ? " (the store is full)" : "");
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	close(fd);
	int rc;
	if (replace) {
		rc = renameat(dirfd, tmp, dirfd, name);
	} else {
		rc = linkat(dirfd, tmp, dirfd, name, 0); /* fails with EEXIST: never overwrites */
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s%s: %s", what, name,
		         errno == EEXIST ? "already exists" : strerror(errno));
		if (replace)
			unlinkat(dirfd, tmp, 0);
		return -1;
	}
	fsync(dirfd);
	return 0;
}

int cfgstore_remove(int dirfd, const char *vm, char *err, size_t errlen)
{
	char name[VMC_NAME_MAX + 8];
	if (cfg_name(vm, name, sizeof name, err, errlen) < 0)
		return -1;
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "configs/%s: cannot remove: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

int cfgstore_exists(int dirfd, const char *vm)
{
	char name[VMC_NAME_MAX + 8];
	struct stat st;
	char e[8];
	if (cfg_name(vm, name, sizeof name, e, sizeof e) < 0)
		return 0;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}
