/* libpath.h - where vmc-hostd finds the files it loads or runs only when its
 * configuration needs them: the xen driver module and the alert webhook helper.
 *
 * Looked up, for each file: in $VMC_HOSTD_LIBDIR alone if that is set (tests, a
 * build tree); else in the directory of the running vmc-hostd if the file is there
 * (bin/ of a build, where make puts them); else in the directory compiled in
 * (VMC_LIBDIR: make's LIBDIR, PREFIX/lib/vmcluster, /usr/lib/vmcluster in the
 * Debian package). See vmc-hostd(8), FILES. */
#ifndef VMC_HOSTD_LIBPATH_H
#define VMC_HOSTD_LIBPATH_H

#include <stddef.h>

#define HOSTD_XEN_MODULE "vmc-hostd-xen.so" /* the xen driver: --driver xen */
#define HOSTD_WEBHOOK_HELPER "vmc-webhook"  /* POSTs an alert: vmc-webhook URL <body */

/* Fills out with the path of file and returns 0 if it exists there; -1 if it was found
 * nowhere (out: the last place looked, for the error message). */
int hostd_lib_path(const char *file, char *out, size_t outlen);

#endif
