/* pwfile.h - reading a secret, such as the broker password, from a file, and opening a bus
 * with it: one reader for every program's --password-file, with one set of messages. */
#ifndef VMC_PWFILE_H
#define VMC_PWFILE_H

#include <stddef.h>

struct bus;
struct bus_opts;
struct evloop;

/* Reads the first line of path (without its "\n" or "\r\n") into buf, of len bytes (at
 * least 2). The file may be a pipe (--password-file <(...)); what follows the first line is
 * ignored. Returns 0, or -1 with err naming the file and what was wrong: it cannot be opened
 * or read (strerror), it is empty, its first line is empty, longer than len - 1 bytes, or
 * holds a NUL byte. On error buf holds no part of the file. */
int pwfile_read(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* bus_new(loop, bo, ...) with bo->password read from password_file when that is not NULL
 * (bo's own password is then ignored); the password is wiped from memory here once the bus
 * holds its copy. Returns the bus (not started), or NULL with the reason in err. */
struct bus *pwfile_bus_new(struct evloop *loop, const struct bus_opts *bo,
                           const char *password_file, char *err, size_t errlen);

#endif
