/* imagestore_int.h - what imagestore.c shares with imgfetch.c; not for other modules. */
#ifndef VMC_IMAGESTORE_INT_H
#define VMC_IMAGESTORE_INT_H

#include <stdint.h>
#include <sys/stat.h>

#include "imagestore.h"

#define VMC_IMGSTORE_ERR 512

/* Takes the exclusive lock of image NAME (images/.NAME.lock). Returns its fd, or -1. */
int imgstore_lock_image(struct imgstore *s, const char *name, char *err, size_t errlen);
/* Removes the lock file and releases the lock. */
void imgstore_unlock_image(struct imgstore *s, const char *name, int fd);
/* imgstore_verify with the lock held and sha256 already checked; *size set on a match.
 * Returns 0 on a match, 1 if absent, 2 on a mismatch (err names both sums), -1 on an
 * error. */
int imgstore_verify_locked(struct imgstore *s, const char *name, const char *sha256, uint64_t *size,
                           char *err, size_t errlen);
/* SHA-256 of an open file, from the verified cache when the same file was hashed before. */
int imgstore_hash_open(struct imgstore *s, int fd, char sha[IMGSTORE_SHA256_HEX + 1], char *err,
                       size_t errlen);
/* Records that the file described by st has this sum. */
void imgstore_remember(struct imgstore *s, const struct stat *st, const char *sha);

#endif
