/* xsname.h - the VM's name as Xen knows it: xenstore's "name" key, read relative to the
 * guest's own domain path through the xenbus device, with no library and no helper program. */
#ifndef VMC_XSNAME_H
#define VMC_XSNAME_H

#include <stddef.h>

#define XSNAME_DEVICES "/dev/xen/xenbus", "/proc/xen/xenbus"

/* Reads key (e.g. "name") through the xenbus device dev (NULL: the usual devices in turn),
 * waiting at most timeout_ms. Returns 0 with the value in out, 1 if there is no xenbus
 * device (not a Xen guest), or -1 with err. */
int xsname_read(const char *dev, const char *key, char *out, size_t outlen, int timeout_ms,
                char *err, size_t errlen);

/* The same over an open descriptor (dev names it in errors); lets tests play xenstore. */
int xsname_ask(int fd, const char *dev, const char *key, char *out, size_t outlen, int timeout_ms,
               char *err, size_t errlen);

#endif
