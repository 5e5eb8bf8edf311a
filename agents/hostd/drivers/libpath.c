/* libpath.c - the lookup of vmc-hostd's module and helper (see libpath.h). */
#include "libpath.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef VMC_LIBDIR
#define VMC_LIBDIR "/usr/local/lib/vmcluster"
#endif

/* out = dir/file; 0 if it exists, -1 if not (or too long). */
static int in_dir(const char *dir, size_t dirlen, const char *file, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%.*s/%s", (int)dirlen, dir, file);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return access(out, F_OK) == 0 ? 0 : -1;
}

int hostd_lib_path(const char *file, char *out, size_t outlen)
{
	const char *env = getenv("VMC_HOSTD_LIBDIR");
	if (env && *env)
		return in_dir(env, strlen(env), file, out, outlen);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		const char *slash = strrchr(exe, '/');
		if (slash && in_dir(exe, (size_t)(slash - exe), file, out, outlen) == 0)
			return 0;
	}
	return in_dir(VMC_LIBDIR, strlen(VMC_LIBDIR), file, out, outlen);
}
