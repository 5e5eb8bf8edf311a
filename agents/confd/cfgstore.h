/* cfgstore.h - one xl.cfg per VM in the store's configs/ directory.
 *
 * The text is built with lib/config/xlcfg.h's writer from a template (with its
 * overrides applied), so libxlutil reads back exactly what the template
 * said: name, kernel, ramdisk, memory, vcpus, disk, vif, root, extra, then
 * the template's xl.<key> entries. Files are written atomically: a unique
 * temporary file in configs/, fsync, then link(2) (never replacing an
 * existing file) or rename(2), and an fsync of the directory. */
#ifndef VMC_CFGSTORE_H
#define VMC_CFGSTORE_H

#include <stddef.h>

struct template;

#define CFGSTORE_EXT ".cfg"

/* Builds the xl.cfg text for VM vm whose disk is disk_path (absolute). Returns the text
 * (caller frees), or NULL with the reason in err. Pure. */
char *cfgstore_build(const struct template *t, const char *vm, const char *disk_path, char *err,
                     size_t errlen);
/* Writes configs/VM.cfg atomically in the directory dirfd. Without replace an existing file
 * is an error ("already exists"). Returns 0 or -1; on failure nothing is left behind. */
int cfgstore_write(int dirfd, const char *vm, const char *text, int replace, char *err,
                   size_t errlen);
/* Removes configs/VM.cfg. Returns 0 (also when absent) or -1. */
int cfgstore_remove(int dirfd, const char *vm, char *err, size_t errlen);
/* 1 if configs/VM.cfg exists. */
int cfgstore_exists(int dirfd, const char *vm);

#endif
