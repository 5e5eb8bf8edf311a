/* hv_xen_cfg.c - xl.cfg text into a libxl_domain_config, as `xl create` does.
 *
 * xl's own parse_config_data lives in the xl program, not in a library, so the
 * keys vmcluster supports are mapped here with libxlutil's getters and its disk
 * and vif-rate parsers. Unknown keys are left to the caller to warn about. The
 * semantics follow xl.cfg(5): memory and maxmem in MiB, maxmem defaulting to
 * memory, maxvcpus to vcpus; cmdline beats root= and extra=; the on_* actions
 * default to destroy, restart, destroy. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "../../../../lib/config/xlcfg.h"
#include "hv_xen_int.h"

#define CFG_MEM_MIN 16L      /* MiB */
#define CFG_MEM_MAX 4194304L /* MiB, as the bus protocol's memory_mb */
#define CFG_VCPU_MAX 512L

struct cfg {
	XLU_Config *xlu;
	FILE *report; /* what libxlutil complains about */
	char *rbuf;
	size_t rlen;
	libxl_domain_config *dc;
	char *err;
	size_t errlen;
	int uuid_given;
};

static const struct {
	const char *name;
	libxl_domain_type type;
} cfg_types[] = {
    {"pv", LIBXL_DOMAIN_TYPE_PV},
    {"pvh", LIBXL_DOMAIN_TYPE_PVH},
    {"hvm", LIBXL_DOMAIN_TYPE_HVM},
};

static const struct {
	const char *name;
	libxl_action_on_shutdown action;
} cfg_actions[] = {
    {"destroy", LIBXL_ACTION_ON_SHUTDOWN_DESTROY},
    {"restart", LIBXL_ACTION_ON_SHUTDOWN_RESTART},
    {"rename-restart", LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME},
    {"preserve", LIBXL_ACTION_ON_SHUTDOWN_PRESERVE},
    {"coredump-destroy", LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY},
    {"coredump-restart", LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART},
    {"soft-reset", LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Every key read below. */
static const char *const cfg_keys[] = {
    "name",   "type",    "uuid",        "memory",    "maxmem",   "vcpus",       "maxvcpus",
    "kernel", "ramdisk", "cmdline",     "root",      "extra",    "bootloader",  "bootloader_args",
    "disk",   "vif",     "on_poweroff", "on_reboot", "on_crash", "on_watchdog", "on_soft_reset",
    "cpuid",
};

int xen_cfg_ignored(const char *text, char *buf, size_t len)
{
	struct xlcfg *c;
	char err[VMC_ERR_MAX];
	size_t used = 0;
	int n = 0;

	if (len)
		buf[0] = '\0';
	if (!text || xlcfg_parse(text, "xl.cfg", &c, err, sizeof err) < 0)
		return 0;
	for (size_t i = 0; i < c->n; i++) {
		size_t k = 0;

		while (k < NELEM(cfg_keys) && strcmp(c->items[i].key, cfg_keys[k]) != 0)
			k++;
		if (k < NELEM(cfg_keys))
			continue;
		n++;
		if (used < len) {
			int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			                 c->items[i].key);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	xlcfg_free(c);
	return n;
}

const char *xen_cfg_action_name(libxl_action_on_shutdown a)
{
	for (size_t i = 0; i < NELEM(cfg_actions); i++)
		if (cfg_actions[i].action == a)
			return cfg_actions[i].name;
	return "unknown";
}

/* The first line libxlutil reported, or "" (points into p->rbuf or a literal). */
static const char *cfg_report(struct cfg *p)
{
	char *nl;

	fflush(p->report);
	if (!p->rbuf || !p->rbuf[0])
		return "";
	nl = strchr(p->rbuf, '\n');
	if (nl)
		*nl = '\0';
	return p->rbuf;
}

__attribute__((format(printf, 2, 3))) static int cfg_fail(struct cfg *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* 1 and *out if key is a string, 0 if absent, -1 with err if of another kind. */
static int cfg_str(struct cfg *p, const char *key, const char **out)
{
	int e = xlu_cfg_get_string(p->xlu, key, out, 1);

	if (e == ESRCH)
		return 0;
	if (e)
		return cfg_fail(p, "xl.cfg %s: expected a quoted string", key);
	return 1;
}

/* As cfg_str, but strdup's into *dst (freeing what was there). */
static int cfg_str_dup(struct cfg *p, const char *key, char **dst)
{
	const char *s;
	int r = cfg_str(p, key, &s);

	if (r <= 0)
		return r;
	free(*dst);
	*dst = strdup(s);
	if (!*dst)
		return cfg_fail(p, "out of memory copying xl.cfg %s", key);
	return 1;
}

/* 1 and *out if key is a whole number in [min, max], 0 if absent, -1 with err. */
static int cfg_long(struct cfg *p, const char *key, long min, long max, const char *unit, long *out)
{
	int e = xlu_cfg_get_bounded_long(p->xlu, key, min, max, out, 1);

	if (e == ESRCH)
		return 0;
	if (e)
		return cfg_fail(p, "xl.cfg %s: expected a whole number from %ld to %ld%s%s", key,
		                min, max, unit[0] ? " " : "", unit);
	return 1;
}

/* 1 and *list, *n if key is a list, 0 if absent, -1 with err. */
static int cfg_list(struct cfg *p, const char *key, XLU_ConfigList **list, int *n)
{
	int e = xlu_cfg_get_list(p->xlu, key, list, n, 1);

	if (e == ESRCH)
		return 0;
	if (e)
		return cfg_fail(p, "xl.cfg %s: expected a list in [ ]", key);
	return 1;
}

static int cfg_type(struct cfg *p)
{
	libxl_domain_create_info *c = &p->dc->c_info;
	const char *s;
	int r = cfg_str(p, "type", &s);

	c->type = LIBXL_DOMAIN_TYPE_PV; /* xl's default on x86 */
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	for (size_t i = 0; i < NELEM(cfg_types); i++)
		if (strcmp(s, cfg_types[i].name) == 0) {
			c->type = cfg_types[i].type;
			return 0;
		}
	return cfg_fail(p, "xl.cfg type: \"%s\" is not pv, pvh or hvm", s);
}

static int cfg_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n >= k && strcmp(name + n - k, suffix) == 0;
}

static int cfg_name(struct cfg *p)
{
	libxl_domain_create_info *c = &p->dc->c_info;
	const char *s;
	int r = cfg_str(p, "name", &s);

	if (r < 0)
		return -1;
	if (r == 0)
		return cfg_fail(p, "xl.cfg name: missing (every domain needs a name)");
	if (vmc_name_check(s, "xl.cfg name", p->err, p->errlen) < 0)
		return -1;
	if (cfg_suffix(s, XEN_INCOMING_SUFFIX) || cfg_suffix(s, XEN_AWAY_SUFFIX))
		return cfg_fail(p, "xl.cfg name: \"%s\" ends in a suffix migrations use", s);
	c->name = strdup(s);
	if (!c->name)
		return cfg_fail(p, "out of memory copying xl.cfg name");
	return 0;
}

static int cfg_uuid(struct cfg *p)
{
	libxl_domain_create_info *c = &p->dc->c_info;
	const char *s;
	int r = cfg_str(p, "uuid", &s);

	if (r < 0)
		return -1;
	if (r == 0) {
		libxl_uuid_generate(&c->uuid);
		return 0;
	}
	p->uuid_given = 1;
	if (libxl_uuid_from_string(&c->uuid, s))
		return cfg_fail(p, "xl.cfg uuid: \"%s\" is not a UUID", s);
	return 0;
}

static int cfg_memory(struct cfg *p)
{
	libxl_domain_build_info *b = &p->dc->b_info;
	long mem = 0, max = 0;
	int rm, rx;

	rm = cfg_long(p, "memory", CFG_MEM_MIN, CFG_MEM_MAX, "MiB", &mem);
	if (rm < 0)
		return -1;
	rx = cfg_long(p, "maxmem", CFG_MEM_MIN, CFG_MEM_MAX, "MiB", &max);
	if (rx < 0)
		return -1;
	if (rm && rx && max < mem)
		return cfg_fail(p, "xl.cfg maxmem: %ld MiB is less than memory (%ld MiB)", max,
		                mem);
	if (rm)
		b->target_memkb = (uint64_t)mem * 1024;
	if (rx)
		b->max_memkb = (uint64_t)max * 1024;
	else if (rm)
		b->max_memkb = b->target_memkb;
	return 0;
}

static int cfg_vcpus(struct cfg *p)
{
	libxl_domain_build_info *b = &p->dc->b_info;
	long n = 0, max = 0;
	int rn, rx;

	rn = cfg_long(p, "vcpus", 1, CFG_VCPU_MAX, "", &n);
	if (rn < 0)
		return -1;
	rx = cfg_long(p, "maxvcpus", 1, CFG_VCPU_MAX, "", &max);
	if (rx < 0)
		return -1;
	if (rn && rx && max < n)
		return cfg_fail(p, "xl.cfg maxvcpus: %ld is less than vcpus (%ld)", max, n);
	if (rn) {
		/* libxl_cpu_bitmap_alloc would need a context; the layout is public. */
		b->avail_vcpus.size = (uint32_t)((n + 7) / 8);
		b->avail_vcpus.map = calloc(b->avail_vcpus.size, 1);
		if (!b->avail_vcpus.map)
			return cfg_fail(p, "out of memory for the vcpu map");
		for (long i = 0; i < n; i++)
			libxl_bitmap_set(&b->avail_vcpus, (int)i);
	}
	if (rx)
		b->max_vcpus = (int)max;
	else if (rn)
		b->max_vcpus = (int)n;
	return 0;
}

/* cpuid = "host,FEATURE=VALUE,...": the CPUID policy in libxl's string form, read as xl
 * reads it (the host's, then one change per item); a nested or TCG host may need
 * features hidden from guests. */
static int cfg_cpuid(struct cfg *p)
{
	static const char *const why[] = {"", "invalid input format", "unknown CPUID flag name",
	                                  "invalid flag value"};
	const char *s;
	char *copy, *item, *save = NULL;
	int r = cfg_str(p, "cpuid", &s);

	if (r <= 0)
		return r;
	copy = strdup(s);
	if (!copy)
		return cfg_fail(p, "out of memory for xl.cfg cpuid");
	item = strtok_r(copy, ",", &save);
	if (!item || strcmp(item, "host") != 0) {
		free(copy);
		return cfg_fail(p,
		                "xl.cfg cpuid: \"%s\": expected \"host\" first, then "
		                "FLAG=VALUE items (e.g. \"host,rdtscp=0\")",
		                s);
	}
	while ((item = strtok_r(NULL, ",", &save))) {
		int e = libxl_cpuid_parse_config(&p->dc->b_info.cpuid, item);
		if (e) {
			cfg_fail(p, "xl.cfg cpuid: \"%s\": %s", item,
			         e > 0 && e < (int)NELEM(why) ? why[e] : "not understood");
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

/* kernel, ramdisk, cmdline (or root= and extra=), bootloader, bootloader_args. */
static int cfg_boot(struct cfg *p)
{
	libxl_domain_build_info *b = &p->dc->b_info;
	const char *cmdline = NULL, *root = NULL, *extra = NULL;
	int e;

	if (cfg_str_dup(p, "kernel", &b->kernel) < 0 ||
	    cfg_str_dup(p, "ramdisk", &b->ramdisk) < 0 ||
	    cfg_str_dup(p, "bootloader", &b->bootloader) < 0 ||
	    cfg_str(p, "cmdline", &cmdline) < 0 || cfg_str(p, "root", &root) < 0 ||
	    cfg_str(p, "extra", &extra) < 0)
		return -1;
	if (cmdline)
		b->cmdline = strdup(cmdline);
	else if (root && extra) {
		if (asprintf(&b->cmdline, "root=%s %s", root, extra) < 0)
			b->cmdline = NULL;
	} else if (root) {
		if (asprintf(&b->cmdline, "root=%s", root) < 0)
			b->cmdline = NULL;
	} else if (extra)
		b->cmdline = strdup(extra);
	if ((cmdline || root || extra) && !b->cmdline)
		return cfg_fail(p, "out of memory building the kernel command line");

	e = xlu_cfg_get_list_as_string_list(p->xlu, "bootloader_args", &b->bootloader_args, 1);
	if (e && e != ESRCH)
		return cfg_fail(p, "xl.cfg bootloader_args: expected a list of strings");

	if (p->dc->c_info.type != LIBXL_DOMAIN_TYPE_HVM && !b->kernel && !b->bootloader)
		return cfg_fail(p,
		                "xl.cfg kernel: missing (a %s domain needs a kernel or a "
		                "bootloader)",
		                p->dc->c_info.type == LIBXL_DOMAIN_TYPE_PV ? "pv" : "pvh");
	return 0;
}

static int cfg_action(struct cfg *p, const char *key, const char *dflt,
                      libxl_action_on_shutdown *out)
{
	const char *s = dflt;

	if (cfg_str(p, key, &s) < 0)
		return -1;
	for (size_t i = 0; i < NELEM(cfg_actions); i++)
		if (strcmp(s, cfg_actions[i].name) == 0) {
			*out = cfg_actions[i].action;
			return 0;
		}
	return cfg_fail(p,
	                "xl.cfg %s: \"%s\" is not one of destroy, restart, rename-restart, "
	                "preserve, coredump-destroy, coredump-restart, soft-reset",
	                key, s);
}

static int cfg_actions_all(struct cfg *p)
{
	libxl_domain_config *dc = p->dc;

	if (cfg_action(p, "on_poweroff", "destroy", &dc->on_poweroff) < 0 ||
	    cfg_action(p, "on_reboot", "restart", &dc->on_reboot) < 0 ||
	    cfg_action(p, "on_crash", "destroy", &dc->on_crash) < 0 ||
	    cfg_action(p, "on_watchdog", "destroy", &dc->on_watchdog) < 0 ||
	    cfg_action(p, "on_soft_reset", "soft-reset", &dc->on_soft_reset) < 0)
		return -1;
	return 0;
}

static int cfg_disks(struct cfg *p)
{
	libxl_domain_config *dc = p->dc;
	XLU_ConfigList *list;
	int n = 0, r = cfg_list(p, "disk", &list, &n);

	if (r <= 0)
		return r;
	dc->disks = calloc((size_t)n + 1, sizeof *dc->disks);
	if (!dc->disks)
		return cfg_fail(p, "out of memory for %d disks", n);
	for (int i = 0; i < n; i++) {
		const char *spec = xlu_cfg_get_listitem(list, i);
		libxl_device_disk *d = &dc->disks[i];

		libxl_device_disk_init(d);
		dc->num_disks = i + 1;
		if (!spec)
			return cfg_fail(p, "xl.cfg disk %d: expected a string", i);
		if (xlu_disk_parse(p->xlu, 1, &spec, d))
			return cfg_fail(p, "xl.cfg disk %d (\"%s\"): %s", i, spec,
			                cfg_report(p)[0] ? cfg_report(p) : "not a disk spec");
	}
	return 0;
}

static int vif_mac(struct cfg *p, libxl_device_nic *nic, const char *v)
{
	unsigned int b[6];
	char tail;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
	           &tail) != 6)
		return cfg_fail(p, "mac \"%s\" is not six hex bytes like 00:16:3e:01:02:03", v);
	for (int i = 0; i < 6; i++)
		nic->mac[i] = (uint8_t)b[i];
	return 0;
}

static int vif_type(struct cfg *p, libxl_device_nic *nic, const char *v)
{
	if (strcmp(v, "vif") == 0)
		nic->nictype = LIBXL_NIC_TYPE_VIF;
	else if (strcmp(v, "ioemu") == 0)
		nic->nictype = LIBXL_NIC_TYPE_VIF_IOEMU;
	else
		return cfg_fail(p, "type \"%s\" is not vif or ioemu", v);
	return 0;
}

static int vif_rate(struct cfg *p, libxl_device_nic *nic, const char *v)
{
	if (xlu_vif_parse_rate(p->xlu, v, nic))
		return cfg_fail(p, "rate \"%s\": %s", v,
		                cfg_report(p)[0] ? cfg_report(p) : "not a rate like 10Mb/s");
	return 0;
}

/* vif keys: a string field of libxl_device_nic (at off), or a parser. */
static const struct {
	const char *key;
	size_t off;
	int (*parse)(struct cfg *p, libxl_device_nic *nic, const char *v);
} vif_keys[] = {
    {"mac", 0, vif_mac},
    {"type", 0, vif_type},
    {"rate", 0, vif_rate},
    {"bridge", offsetof(libxl_device_nic, bridge), NULL},
    {"ip", offsetof(libxl_device_nic, ip), NULL},
    {"script", offsetof(libxl_device_nic, script), NULL},
    {"vifname", offsetof(libxl_device_nic, ifname), NULL},
    {"model", offsetof(libxl_device_nic, model), NULL},
    {"backend", offsetof(libxl_device_nic, backend_domname), NULL},
    {"gatewaydev", offsetof(libxl_device_nic, gatewaydev), NULL},
};

static char *cfg_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int vif_setting(struct cfg *p, libxl_device_nic *nic, char *tok)
{
	char *eq = strchr(tok, '='), *key, *val;

	if (!eq)
		return cfg_fail(p, "expected KEY=VALUE, got \"%s\"", tok);
	*eq = '\0';
	key = cfg_trim(tok);
	val = cfg_trim(eq + 1);
	for (size_t k = 0; k < NELEM(vif_keys); k++) {
		char **field;

		if (strcmp(key, vif_keys[k].key) != 0)
			continue;
		if (vif_keys[k].parse)
			return vif_keys[k].parse(p, nic, val);
		field = (char **)((char *)nic + vif_keys[k].off);
		free(*field);
		*field = strdup(val);
		return *field ? 0 : cfg_fail(p, "out of memory");
	}
	return cfg_fail(p,
	                "unknown key \"%s\" (known: mac, bridge, ip, script, vifname, model, "
	                "type, rate, backend, gatewaydev)",
	                key);
}

static int cfg_vif(struct cfg *p, int i, const char *spec, libxl_device_nic *nic)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	char why[VMC_ERR_MAX];
	int rc = 0;

	if (!copy)
		return cfg_fail(p, "out of memory");
	nic->devid = i;
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save))
		if (cfg_trim(tok)[0])
			rc = vif_setting(p, nic, tok);
	free(copy);
	if (rc < 0) {
		snprintf(why, sizeof why, "%s", p->err);
		return cfg_fail(p, "xl.cfg vif %d (\"%s\"): %s", i, spec, why);
	}
	return 0;
}

static int cfg_vifs(struct cfg *p)
{
	libxl_domain_config *dc = p->dc;
	XLU_ConfigList *list;
	int n = 0, r = cfg_list(p, "vif", &list, &n);

	if (r <= 0)
		return r;
	dc->nics = calloc((size_t)n + 1, sizeof *dc->nics);
	if (!dc->nics)
		return cfg_fail(p, "out of memory for %d vifs", n);
	for (int i = 0; i < n; i++) {
		const char *spec = xlu_cfg_get_listitem(list, i);

		libxl_device_nic_init(&dc->nics[i]);
		dc->num_nics = i + 1;
		if (!spec)
			return cfg_fail(p, "xl.cfg vif %d: expected a string", i);
		if (cfg_vif(p, i, spec, &dc->nics[i]) < 0)
			return -1;
	}
	return 0;
}

static int cfg_all(struct cfg *p, const char *text)
{
	size_t len = strlen(text);
	int e;

	if (len > (size_t)VMC_PAYLOAD_MAX)
		return cfg_fail(p, "xl.cfg is %zu bytes, more than the %d allowed", len,
		                VMC_PAYLOAD_MAX);
	e = xlu_cfg_readdata(p->xlu, text, (int)len);
	if (e)
		return cfg_fail(p, "%s", cfg_report(p)[0] ? cfg_report(p) : strerror(e));
	if (cfg_type(p) < 0 || cfg_name(p) < 0 || cfg_uuid(p) < 0)
		return -1;
	libxl_domain_build_info_init_type(&p->dc->b_info, p->dc->c_info.type);
	if (cfg_memory(p) < 0 || cfg_vcpus(p) < 0 || cfg_boot(p) < 0 || cfg_cpuid(p) < 0 ||
	    cfg_actions_all(p) < 0 || cfg_disks(p) < 0 || cfg_vifs(p) < 0)
		return -1;
	return 0;
}

int xen_cfg_parse(const char *text, libxl_domain_config *dc, int *uuid_given, char *err,
                  size_t errlen)
{
	struct cfg p = {.dc = dc, .err = err, .errlen = errlen};
	int rc;

	libxl_domain_config_init(dc);
	if (!text)
		return cfg_fail(&p, "no xl.cfg text");
	p.report = open_memstream(&p.rbuf, &p.rlen);
	if (!p.report)
		return cfg_fail(&p, "cannot open a buffer for libxlutil's messages");
	p.xlu = xlu_cfg_init(p.report, "xl.cfg");
	if (!p.xlu)
		rc = cfg_fail(&p, "out of memory starting libxlutil");
	else
		rc = cfg_all(&p, text);
	if (p.xlu)
		xlu_cfg_destroy(p.xlu);
	fclose(p.report);
	free(p.rbuf);
	if (uuid_given)
		*uuid_given = p.uuid_given;
	return rc;
}
