/* imagestore.h - the shared image store: base images, VM disks, VM configs.
 *
 *   STORE/images/NAME        verified base images (NAME: one path component)
 *   STORE/images/.NAME.part  a download in progress (resumed with HTTP Range)
 *   STORE/images/.NAME.lock  flock(2) held while NAME is fetched or verified (removed after)
 *   STORE/disks/VM.img       VM disks, cloned from a base image
 *   STORE/configs/VM.cfg     VM xl.cfg files (cfgstore.c)
 *
 * Every file is reached through a directory descriptor with openat(2) and
 * O_NOFOLLOW, and every name is checked to be one plain component, so no
 * request can reach a path outside the store. The functions that fetch,
 * hash and copy block; confd runs them on worker threads. They are safe to
 * call from several threads at once (a mutex guards the verified cache,
 * flock guards each image). */
#ifndef VMC_IMAGESTORE_H
#define VMC_IMAGESTORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IMGSTORE_SHA256_HEX 64
#define IMGSTORE_NAME_MAX 128

enum imgstore_dir { IMGSTORE_IMAGES = 0, IMGSTORE_DISKS, IMGSTORE_CONFIGS, IMGSTORE__NDIRS };

enum imgstore_clone_method {
	IMGSTORE_CLONE_REFLINK = 0,
	IMGSTORE_CLONE_SPARSE,
	IMGSTORE_CLONE_ZEROSKIP
};

struct imgstore;

/* Opens (creating if needed) STORE and its images/, disks/ and configs/ directories.
 * Returns 0 and *out, or -1 with the reason in err. */
int imgstore_open(const char *root, struct imgstore **out, char *err, size_t errlen);
void imgstore_close(struct imgstore *s);
/* The store's resolved absolute path (what xl.cfg files name). */
const char *imgstore_root(const struct imgstore *s);
/* The directory descriptor of one of the store's directories. */
int imgstore_dirfd(const struct imgstore *s, enum imgstore_dir d);
/* "images", "disks" or "configs". */
const char *imgstore_dir_name(enum imgstore_dir d);

/* A file name inside the store: 1..IMGSTORE_NAME_MAX of [A-Za-z0-9_.+-], not starting with
 * '.' or '-', no "..". Returns 0, or -1 with a sentence naming `what` in err. Pure. */
int imgstore_name_check(const char *name, const char *what, char *err, size_t errlen);
/* The image name for a URL: its last path component, checked as above. Returns 0 or -1. Pure. */
int imgstore_name_from_url(const char *url, char *out, size_t outlen, char *err, size_t errlen);
/* Checks that s is 64 hex digits and writes it lower-cased to out (65 bytes). Returns 0 or -1.
 * Pure. */
int imgstore_sha256_parse(const char *s, char out[IMGSTORE_SHA256_HEX + 1], char *err,
                          size_t errlen);
/* Resolves a local image reference: a plain name in images/, or an absolute path that must
 * resolve (symlinks followed) to a regular file directly inside images/. Writes the image's
 * name. Returns 0, or -1 if it leaves images/ or does not exist. */
int imgstore_local_image(struct imgstore *s, const char *ref, char *name, size_t namelen, char *err,
                         size_t errlen);
/* Absolute path of NAME in directory d, e.g. "/srv/store/disks/web1.img". Returns 0 or -1. */
int imgstore_path(const struct imgstore *s, enum imgstore_dir d, const char *name, char *out,
                  size_t outlen, char *err, size_t errlen);

/* SHA-256 of an open file (read from offset 0), as 64 lower-case hex digits. Returns 0 or -1. */
int imgstore_sha256_fd(int fd, char hex[IMGSTORE_SHA256_HEX + 1], char *err, size_t errlen);
/* Checks images/NAME against sha256 (hashing it unless the same file was verified before).
 * Returns 0 if it matches, 1 if the file does not exist, -1 on a mismatch (err names both
 * sums) or an error. */
int imgstore_verify(struct imgstore *s, const char *name, const char *sha256, char *err,
                    size_t errlen);

/* Progress of a download: bytes held so far (resumed bytes included) of total (0 if unknown). */
typedef void imgstore_progress_fn(void *ud, const char *image, uint64_t bytes, uint64_t total);

struct imgstore_fetch_opts {
	const char *url;                /* http:// or https:// */
	const char *name;               /* image name in images/ */
	const char *sha256;             /* required: 64 hex digits */
	imgstore_progress_fn *progress; /* optional */
	void *ud;
	int max_attempts;           /* transfers tried, resuming each time; 0 = 5 */
	long connect_timeout_s;     /* 0 = 15 */
	long stall_timeout_s;       /* abort a transfer that moves nothing this long; 0 = 30 */
	const volatile int *cancel; /* optional: non-zero aborts the transfer */
};

struct imgstore_fetch_result {
	uint64_t bytes;        /* size of the image */
	int reused;            /* it was already in the store and verified */
	int resumed;           /* some transfer continued a partial download */
	uint64_t resumed_from; /* offset of the first resumed transfer */
	int attempts;          /* transfers made */
};

/* Makes images/NAME hold the verified image: reuses a present, matching file; otherwise
 * downloads into .NAME.part (continuing a partial one with a Range request), checks the
 * sha256 and renames it into place. A download whose sum does not match is removed and
 * fails. An image already in images/ with another sum is kept, and nothing is downloaded
 * over it (only verified files are ever renamed in, so another template may use it). On a final
 * failure a non-empty .part of a transfer that was cut off is kept for the next attempt,
 * everything else is removed. Returns 0, or -1 with a sentence in err. */
int imgstore_fetch(struct imgstore *s, const struct imgstore_fetch_opts *o,
                   struct imgstore_fetch_result *res, char *err, size_t errlen);

/* Size in bytes of images/NAME. Returns 0 or -1. */
int imgstore_image_size(struct imgstore *s, const char *name, uint64_t *size, char *err,
                        size_t errlen);
/* Creates disks/DISK (which must not exist) from images/IMAGE: a reflink clone (FICLONE)
 * where the filesystem allows it, else a sparse copy; then grows it to size bytes (0: the
 * image's size; smaller than the image is an error). On failure nothing is left behind.
 * Returns 0 and *method, or -1 with a sentence in err. */
int imgstore_clone(struct imgstore *s, const char *image, const char *disk, uint64_t size,
                   enum imgstore_clone_method *method, char *err, size_t errlen);
/* Copies size bytes from in to out at the same offsets without writing holes or all-zero
 * blocks (SEEK_DATA/SEEK_HOLE when the filesystem has them, unless zero_skip_only), then
 * sets out's size. Returns 0 or -1 (errno kept). */
int imgstore_copy_sparse(int in, int out, off_t size, int zero_skip_only, char *err, size_t errlen);
/* Removes NAME from directory d if present. Returns 0 (also if absent) or -1. */
int imgstore_remove(struct imgstore *s, enum imgstore_dir d, const char *name, char *err,
                    size_t errlen);
/* 1 if NAME exists in d, 0 if not. */
int imgstore_exists(struct imgstore *s, enum imgstore_dir d, const char *name);
const char *imgstore_clone_method_name(enum imgstore_clone_method m);

#endif
