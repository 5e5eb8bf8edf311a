/* templates.h - VM templates: files NAME.tmpl in the templates directory, in the
 * lib/config/conf.h format (see vmc-templates(5)):
 *
 *   kernel    = /boot/vmlinuz-guest        # absolute path on the hosts, optional
 *   ramdisk   = /boot/initrd-guest         # optional
 *   image     = "http://mirror/base.img"   # http(s) URL, or a file in the store's images/
 *   sha256    = 9f86d08...                 # required with a URL
 *   memory    = 1G                         # MiB, or with a K/M/G/T suffix
 *   vcpus     = 2
 *   disk_size = 10G                        # the disk is grown to this; default: the image's size
 *   bridge    = xenbr0                     # one vif on this bridge; none if absent
 *   root      = /dev/xvda1                 # optional
 *   extra     = "console=hvc0"             # optional kernel command line
 *   description = "..."                    # optional, shown by template.list
 *   xl.on_crash = restart                  # any other xl.cfg key, passed through
 */
#ifndef VMC_TEMPLATES_H
#define VMC_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../../lib/bus/msg.h"

#define TEMPLATE_EXT ".tmpl"
#define TEMPLATE_PATH_MAX 1024
#define TEMPLATE_EXTRA_MAX 1024
#define TEMPLATE_MAX_MEMORY_MB (4LL * 1024 * 1024)
#define TEMPLATE_MAX_VCPUS 512
#define TEMPLATE_MAX_DISK_MB (64LL * 1024 * 1024)

/* An extra xl.cfg key: value is an integer, a [ list ], or else a string (vmc-templates(5)). */
struct template_xl {
	char *key;
	char *value;
};

struct template
{
	char name[VMC_NAME_MAX + 1];
	char *file;                                     /* where it was read from */
	char *description;                              /* NULL if none */
	char *kernel, *ramdisk, *root, *extra, *bridge; /* NULL if absent */
	char *image;                                    /* URL or store image reference */
	int image_is_url;
	char sha256[65]; /* "" if absent */
	int64_t memory_mb;
	int64_t vcpus;
	int64_t disk_size_mb; /* 0: the image's size */
	struct template_xl *xl;
	size_t nxl;
};

/* Parses a template's text. name is the template's name (from its file name). Returns 0 and
 * *out, or -1 with every problem ("FILE:LINE: ...", one a line) in err. Pure. */
int template_parse(const char *text, const char *file, const char *name, struct template **out,
                   char *err, size_t errlen);
/* Reads DIR/NAME.tmpl (NAME checked with vmc_name_check first). Returns 0, or -1 with err;
 * a missing file says "unknown template". */
int template_load(const char *dir, const char *name, struct template **out, char *err,
                  size_t errlen);
void template_free(struct template *t);

/* Applies a vm.create "overrides" object: memory_mb, vcpus, disk_size_mb, bridge, extra, root.
 * Unknown keys and bad values are refused naming the field ("args.overrides.vcpus: ...").
 * Returns 0 or -1. Pure. */
int template_apply_overrides(struct template *t, const cJSON *overrides, char *err, size_t errlen);
/* The template as a JSON object for template.list. Never NULL. */
cJSON *template_to_json(const struct template *t);

/* Checks an xl.cfg key name for xl.<key>: [a-z_][a-z0-9_]*, and not one of the keys confd
 * manages (name, disk, memory, vcpus, kernel, ramdisk, vif, root, extra). Returns 0 or -1. */
int template_xl_key_check(const char *key, char *err, size_t errlen);

/* Lists the templates in dir: every NAME.tmpl, each loaded; a file that does not load adds a
 * {"name","error"} entry to *errors. Returns 0 with a JSON array of template objects, or -1 if
 * the directory cannot be read. */
int templates_list(const char *dir, cJSON **list, cJSON **errors, char *err, size_t errlen);

/* Sets key in cfg from a template's xl.<key> value: an integer if it is one, a list if it
 * starts with '[' (xl.cfg list syntax), else a string. Returns 0, or -1 with err. Pure.
 * (template_parse checks the values with it; cfgstore_build writes them with it.) */
struct xlcfg;
int cfgstore_xl_value(struct xlcfg *cfg, const char *key, const char *value, char *err,
                      size_t errlen);

#endif
