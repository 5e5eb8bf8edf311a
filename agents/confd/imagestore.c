/* imagestore.c - the store's directories, names, hashing, verification and disk clones.
 * Downloads are in imgfetch.c. */
#include "imagestore.h"
#include "imagestore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERIFIED_MAX 64
#define COPY_BUF (1024 * 1024)
#define ZERO_BLOCK 4096

struct verified {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char sha[IMGSTORE_SHA256_HEX + 1];
};

struct imgstore {
	char *root;
	int root_fd;
	int dir_fd[IMGSTORE__NDIRS];
	pthread_mutex_t lock; /* guards verified[] */
	struct verified verified[VERIFIED_MAX];
	size_t nverified, next_verified;
};

static const char *const dir_names[IMGSTORE__NDIRS] = {"images", "disks", "configs"};

const char *imgstore_dir_name(enum imgstore_dir d)
{
	return d < IMGSTORE__NDIRS ? dir_names[d] : "?";
}

const char *imgstore_clone_method_name(enum imgstore_clone_method m)
{
	static const char *const names[] = {"reflink", "sparse", "zero-skip"};
	return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

/* Characters a store path may not hold: they would break an xl.cfg disk spec or quoting. */
static int root_path_ok(const char *p)
{
	for (; *p; p++)
		if (*p == ',' || *p == '"' || *p == '\'' || *p == '\\' || *p == '=' ||
		    (unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int imgstore_open(const char *root, struct imgstore **out, char *err, size_t errlen)
{
	struct imgstore *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->root_fd = -1;
	for (int i = 0; i < IMGSTORE__NDIRS; i++)
		s->dir_fd[i] = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "store %s: cannot create: %s", root, strerror(errno));
		goto fail;
	}
	s->root = realpath(root, NULL);
	if (!s->root) {
		snprintf(err, errlen, "store %s: %s", root, strerror(errno));
		goto fail;
	}
	if (!root_path_ok(s->root)) {
		snprintf(err, errlen,
		         "store %s: the path may not contain commas, quotes, '=' or control "
		         "characters (xl.cfg disk specifications name it)",
		         s->root);
		goto fail;
	}
	s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		snprintf(err, errlen, "store %s: %s", s->root, strerror(errno));
		goto fail;
	}
	for (int i = 0; i < IMGSTORE__NDIRS; i++) {
		if (mkdirat(s->root_fd, dir_names[i], 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "store %s/%s: cannot create: %s", s->root,
			         dir_names[i], strerror(errno));
			goto fail;
		}
		s->dir_fd[i] = openat(s->root_fd, dir_names[i],
		                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s->dir_fd[i] < 0) {
			snprintf(err, errlen, "store %s/%s: %s%s", s->root, dir_names[i],
			         strerror(errno),
			         errno == ELOOP || errno == ENOTDIR ? " (must be a real directory)"
			                                            : "");
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	imgstore_close(s);
	return -1;
}

void imgstore_close(struct imgstore *s)
{
	if (!s)
		return;
	for (int i = 0; i < IMGSTORE__NDIRS; i++)
		if (s->dir_fd[i] >= 0)
			close(s->dir_fd[i]);
	if (s->root_fd >= 0)
		close(s->root_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->root);
	free(s);
}

const char *imgstore_root(const struct imgstore *s)
{
	return s->root;
}

int imgstore_dirfd(const struct imgstore *s, enum imgstore_dir d)
{
	return d < IMGSTORE__NDIRS ? s->dir_fd[d] : -1;
}

int imgstore_name_check(const char *name, const char *what, char *err, size_t errlen)
{
	if (!name || !*name) {
		snprintf(err, errlen, "%s: must not be empty", what);
		return -1;
	}
	size_t n = strlen(name);
	if (n > IMGSTORE_NAME_MAX) {
		snprintf(err, errlen, "%s: longer than %d characters", what, IMGSTORE_NAME_MAX);
		return -1;
	}
	if (name[0] == '.' || name[0] == '-') {
		snprintf(err, errlen, "%s \"%.64s\": may not start with '%c'", what, name, name[0]);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || c == '+')) {
			if (c == '/')
				snprintf(err, errlen, "%s \"%.64s\": may not contain '/'", what,
				         name);
			else if (c >= 0x20 && c < 0x7f)
				snprintf(err, errlen,
				         "%s \"%.64s\": character '%c' not allowed (use "
				         "A-Z a-z 0-9 _ . + -)",
				         what, name, c);
			else
				snprintf(err, errlen,
				         "%s: byte 0x%02x at offset %zu not allowed (use "
				         "A-Z a-z 0-9 _ . + -)",
				         what, c, i);
			return -1;
		}
	}
	if (strstr(name, "..")) {
		snprintf(err, errlen, "%s \"%.64s\": may not contain \"..\"", what, name);
		return -1;
	}
	return 0;
}

int imgstore_name_from_url(const char *url, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *p = strstr(url, "://");
	if (!p) {
		snprintf(err, errlen, "image URL \"%.200s\": expected http:// or https://", url);
		return -1;
	}
	p += 3;
	const char *path = strchr(p, '/');
	if (!path) {
		snprintf(err, errlen, "image URL \"%.200s\": has no file name", url);
		return -1;
	}
	size_t end = strcspn(path, "?#");
	const char *last = path;
	for (size_t i = 0; i < end; i++)
		if (path[i] == '/')
			last = path + i + 1;
	size_t n = (size_t)(path + end - last);
	if (n == 0) {
		snprintf(err, errlen, "image URL \"%.200s\": has no file name after the last '/'",
		         url);
		return -1;
	}
	if (n >= outlen || n > IMGSTORE_NAME_MAX) {
		snprintf(err, errlen, "image URL \"%.200s\": file name too long", url);
		return -1;
	}
	memcpy(out, last, n);
	out[n] = '\0';
	return imgstore_name_check(out, "image name from URL", err, errlen);
}

int imgstore_sha256_parse(const char *s, char out[IMGSTORE_SHA256_HEX + 1], char *err,
                          size_t errlen)
{
	size_t n = s ? strlen(s) : 0;
	if (n != IMGSTORE_SHA256_HEX) {
		snprintf(err, errlen, "sha256: expected 64 hexadecimal digits, got %zu characters",
		         n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			snprintf(err, errlen,
			         "sha256: character %zu ('%c') is not a hexadecimal digit", i + 1,
			         s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
			return -1;
		}
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

int imgstore_path(const struct imgstore *s, enum imgstore_dir d, const char *name, char *out,
                  size_t outlen, char *err, size_t errlen)
{
	if (imgstore_name_check(name, "file name", err, errlen) < 0)
		return -1;
	int n = snprintf(out, outlen, "%s/%s/%s", s->root, imgstore_dir_name(d), name);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "path of %s/%s is too long", imgstore_dir_name(d), name);
		return -1;
	}
	return 0;
}

int imgstore_local_image(struct imgstore *s, const char *ref, char *name, size_t namelen, char *err,
                         size_t errlen)
{
	if (ref[0] != '/') {
		if (imgstore_name_check(ref, "image", err, errlen) < 0)
			return -1;
		if (strlen(ref) >= namelen) {
			snprintf(err, errlen, "image name too long");
			return -1;
		}
		strcpy(name, ref);
	} else {
		char *real = realpath(ref, NULL);
		if (!real) {
			snprintf(err, errlen, "image %s: %s", ref, strerror(errno));
			return -1;
		}
		size_t rl = strlen(s->root);
		const char *rest = real + rl;
		if (strncmp(real, s->root, rl) != 0 || strncmp(rest, "/images/", 8) != 0 ||
		    strchr(rest + 8, '/')) {
			snprintf(err, errlen,
			         "image %s: resolves to %s, outside the store's images "
			         "directory %s/images",
			         ref, real, s->root);
			free(real);
			return -1;
		}
		int rc = imgstore_name_check(rest + 8, "image", err, errlen);
		if (rc == 0 && strlen(rest + 8) >= namelen) {
			snprintf(err, errlen, "image name too long");
			rc = -1;
		}
		if (rc == 0)
			strcpy(name, rest + 8);
		free(real);
		if (rc < 0)
			return -1;
	}
	struct stat st;
	if (fstatat(s->dir_fd[IMGSTORE_IMAGES], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "image %s: not in the store (%s/images/%s): %s", ref, s->root,
		         name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "image %s: %s/images/%s is not a regular file", ref, s->root,
		         name);
		return -1;
	}
	return 0;
}

int imgstore_sha256_fd(int fd, char hex[IMGSTORE_SHA256_HEX + 1], char *err, size_t errlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(COPY_BUF);
	int rc = -1;
	if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "sha256: cannot set up the digest");
		goto out;
	}
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, COPY_BUF, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "sha256: read error: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		off += n;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < IMGSTORE_SHA256_HEX / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[IMGSTORE_SHA256_HEX] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

static int same_file(const struct verified *v, const struct stat *st)
{
	return v->dev == st->st_dev && v->ino == st->st_ino && v->size == st->st_size &&
	       v->mtime.tv_sec == st->st_mtim.tv_sec && v->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       v->ctime.tv_sec == st->st_ctim.tv_sec && v->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* The cached sum of this exact file, copied to sha; 1 if found. */
static int verified_lookup(struct imgstore *s, const struct stat *st, char *sha)
{
	int found = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nverified; i++)
		if (same_file(&s->verified[i], st)) {
			memcpy(sha, s->verified[i].sha, IMGSTORE_SHA256_HEX + 1);
			found = 1;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	return found;
}

void imgstore_remember(struct imgstore *s, const struct stat *st, const char *sha)
{
	pthread_mutex_lock(&s->lock);
	struct verified *v = NULL;
	for (size_t i = 0; i < s->nverified && !v; i++)
		if (s->verified[i].dev == st->st_dev && s->verified[i].ino == st->st_ino)
			v = &s->verified[i];
	if (!v) {
		if (s->nverified < VERIFIED_MAX)
			v = &s->verified[s->nverified++];
		else
			v = &s->verified[s->next_verified++ % VERIFIED_MAX];
	}
	v->dev = st->st_dev;
	v->ino = st->st_ino;
	v->size = st->st_size;
	v->mtime = st->st_mtim;
	v->ctime = st->st_ctim;
	memcpy(v->sha, sha, IMGSTORE_SHA256_HEX + 1);
	pthread_mutex_unlock(&s->lock);
}

int imgstore_hash_open(struct imgstore *s, int fd, char sha[IMGSTORE_SHA256_HEX + 1], char *err,
                       size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "stat: %s", strerror(errno));
		return -1;
	}
	if (verified_lookup(s, &st, sha))
		return 0;
	if (imgstore_sha256_fd(fd, sha, err, errlen) < 0)
		return -1;
	/* Remember it only if the file did not change while it was read. */
	struct stat st2;
	if (fstat(fd, &st2) == 0 && st2.st_size == st.st_size &&
	    st2.st_mtim.tv_sec == st.st_mtim.tv_sec && st2.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
		imgstore_remember(s, &st2, sha);
	return 0;
}

int imgstore_lock_image(struct imgstore *s, const char *name, char *err, size_t errlen)
{
	char lockname[IMGSTORE_NAME_MAX + 16];
	int dfd = s->dir_fd[IMGSTORE_IMAGES];
	snprintf(lockname, sizeof lockname, ".%s.lock", name);
	for (;;) {
		int fd = openat(dfd, lockname, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "images/%s: %s", lockname, strerror(errno));
			return -1;
		}
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				snprintf(err, errlen, "images/%s: lock: %s", lockname,
				         strerror(errno));
				close(fd);
				return -1;
			}
		}
		/* The holder before us removes the file as it unlocks: ours counts only if it
		 * is still the one at that name. */
		struct stat a, b;
		if (fstat(fd, &a) == 0 && fstatat(dfd, lockname, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
}

void imgstore_unlock_image(struct imgstore *s, const char *name, int fd)
{
	char lockname[IMGSTORE_NAME_MAX + 16];
	if (fd < 0)
		return;
	snprintf(lockname, sizeof lockname, ".%s.lock", name);
	unlinkat(s->dir_fd[IMGSTORE_IMAGES], lockname, 0); /* while still holding it */
	close(fd);
}

int imgstore_verify_locked(struct imgstore *s, const char *name, const char *sha256, uint64_t *size,
                           char *err, size_t errlen)
{
	int fd = openat(s->dir_fd[IMGSTORE_IMAGES], name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "images/%s: %s", name, strerror(errno));
		return -1;
	}
	struct stat st;
	char sha[IMGSTORE_SHA256_HEX + 1];
	int rc = -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "images/%s: not a regular file", name);
		goto out;
	}
	if (imgstore_hash_open(s, fd, sha, err, errlen) < 0)
		goto out;
	if (strcmp(sha, sha256) != 0) {
		snprintf(err, errlen, "images/%s: sha256 mismatch: expected %s, got %s", name,
		         sha256, sha);
		rc = 2;
		goto out;
	}
	if (size)
		*size = (uint64_t)st.st_size;
	rc = 0;
out:
	close(fd);
	return rc;
}

int imgstore_verify(struct imgstore *s, const char *name, const char *sha256, char *err,
                    size_t errlen)
{
	char want[IMGSTORE_SHA256_HEX + 1];
	if (imgstore_name_check(name, "image", err, errlen) < 0 ||
	    imgstore_sha256_parse(sha256, want, err, errlen) < 0)
		return -1;
	int lk = imgstore_lock_image(s, name, err, errlen);
	if (lk < 0)
		return -1;
	int rc = imgstore_verify_locked(s, name, want, NULL, err, errlen);
	imgstore_unlock_image(s, name, lk);
	return rc == 2 ? -1 : rc;
}

int imgstore_image_size(struct imgstore *s, const char *name, uint64_t *size, char *err,
                        size_t errlen)
{
	struct stat st;
	if (imgstore_name_check(name, "image", err, errlen) < 0)
		return -1;
	if (fstatat(s->dir_fd[IMGSTORE_IMAGES], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "images/%s: %s", name, strerror(errno));
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Copies [from, to) writing only the blocks that are not all zero. */
static int copy_range(int in, int out, off_t from, off_t to, unsigned char *buf, char *err,
                      size_t errlen)
{
	off_t off = from;
	while (off < to) {
		size_t want = (size_t)(to - off < COPY_BUF ? to - off : COPY_BUF);
		ssize_t n = pread(in, buf, want, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read error at offset %lld: %s", (long long)off,
			         strerror(errno));
			return -1;
		}
		if (n == 0)
			break; /* the source shrank: the size is set by the caller */
		for (ssize_t b = 0; b < n; b += ZERO_BLOCK) {
			size_t bl = (size_t)(n - b < ZERO_BLOCK ? n - b : ZERO_BLOCK);
			if (all_zero(buf + b, bl))
				continue;
			size_t done = 0;
			while (done < bl) {
				ssize_t w =
				    pwrite(out, buf + b + done, bl - done, off + b + (off_t)done);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					int e = errno;
					snprintf(err, errlen, "write error at offset %lld: %s%s",
					         (long long)(off + b + (off_t)done), strerror(e),
					         e == ENOSPC || e == EDQUOT || e == EFBIG
					             ? " (the store is full)"
					             : "");
					errno = e;
					return -1;
				}
				done += (size_t)w;
			}
		}
		off += n;
	}
	return 0;
}

int imgstore_copy_sparse(int in, int out, off_t size, int zero_skip_only, char *err, size_t errlen)
{
	unsigned char *buf = malloc(COPY_BUF);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	off_t off = 0;
	int seek_ok = !zero_skip_only;
	while (off < size) {
		off_t data = off, hole = size;
		if (seek_ok) {
			data = lseek(in, off, SEEK_DATA);
			if (data < 0 && errno == ENXIO)
				break; /* only a hole is left */
			if (data < 0) {
				seek_ok = 0; /* no SEEK_DATA here: copy the rest, skipping zeros */
				data = off;
			} else {
				hole = lseek(in, data, SEEK_HOLE);
				if (hole < 0 || hole > size)
					hole = size;
			}
		}
		if (data >= size)
			break;
		if (copy_range(in, out, data, hole, buf, err, errlen) < 0)
			goto out;
		off = hole;
	}
	if (ftruncate(out, size) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot set the size: %s", strerror(e));
		errno = e;
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int imgstore_clone(struct imgstore *s, const char *image, const char *disk, uint64_t size,
                   enum imgstore_clone_method *method, char *err, size_t errlen)
{
	char e2[VMC_IMGSTORE_ERR];
	if (imgstore_name_check(image, "image", err, errlen) < 0 ||
	    imgstore_name_check(disk, "disk", err, errlen) < 0)
		return -1;
	int in = openat(s->dir_fd[IMGSTORE_IMAGES], image, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errlen, "images/%s: %s", image, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "images/%s: not a regular file", image);
		close(in);
		return -1;
	}
	if (size && size < (uint64_t)st.st_size) {
		snprintf(err, errlen,
		         "disk_size %llu MiB is smaller than the image images/%s (%llu MiB)",
		         (unsigned long long)(size >> 20), image,
		         (unsigned long long)(((uint64_t)st.st_size + (1 << 20) - 1) >> 20));
		close(in);
		return -1;
	}
	int out = openat(s->dir_fd[IMGSTORE_DISKS], disk,
	                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		snprintf(err, errlen, "disks/%s: %s", disk,
		         errno == EEXIST ? "already exists" : strerror(errno));
		close(in);
		return -1;
	}
	enum imgstore_clone_method m;
	if (ioctl(out, FICLONE, in) == 0) {
		m = IMGSTORE_CLONE_REFLINK;
	} else {
		/* EOPNOTSUPP, EXDEV, EINVAL, ENOTTY...: the filesystem cannot share blocks. */
		m = IMGSTORE_CLONE_SPARSE;
		if (imgstore_copy_sparse(in, out, st.st_size, 0, e2, sizeof e2) < 0) {
			snprintf(err, errlen, "disks/%s: copying images/%s: %s", disk, image, e2);
			goto fail;
		}
	}
	if (size > (uint64_t)st.st_size && ftruncate(out, (off_t)size) < 0) {
		int e = errno;
		snprintf(err, errlen, "disks/%s: cannot grow to %llu bytes: %s%s", disk,
		         (unsigned long long)size, strerror(e),
		         e == EFBIG || e == ENOSPC ? " (the store is full or the size too large)"
		                                   : "");
		goto fail;
	}
	if (fsync(out) < 0) {
		int e = errno;
		snprintf(err, errlen, "disks/%s: %s%s", disk, strerror(e),
		         e == ENOSPC || e == EDQUOT ? " (the store is full)" : "");
		goto fail;
	}
	if (close(out) < 0) {
		out = -1;
		snprintf(err, errlen, "disks/%s: %s", disk, strerror(errno));
		goto fail;
	}
	close(in);
	if (method)
		*method = m;
	return 0;
fail:
	if (out >= 0)
		close(out);
	close(in);
	unlinkat(s->dir_fd[IMGSTORE_DISKS], disk, 0);
	return -1;
}

int imgstore_remove(struct imgstore *s, enum imgstore_dir d, const char *name, char *err,
                    size_t errlen)
{
	if (d >= IMGSTORE__NDIRS || imgstore_name_check(name, "file name", err, errlen) < 0)
		return -1;
	if (unlinkat(s->dir_fd[d], name, 0) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s/%s: cannot remove: %s", imgstore_dir_name(d), name,
		         strerror(errno));
		return -1;
	}
	return 0;
}

int imgstore_exists(struct imgstore *s, enum imgstore_dir d, const char *name)
{
	struct stat st;
	if (d >= IMGSTORE__NDIRS)
		return 0;
	return fstatat(s->dir_fd[d], name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}
