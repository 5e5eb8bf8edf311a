/* hv_xen_cfgw.c - a libxl_domain_config back into xl.cfg text.
 *
 * For domains the driver did not create (started with `xl create` before the
 * agent), vm_config asks libxl for the domain's configuration
 * (libxl_retrieve_domain_configuration) and writes the keys hv_xen_cfg.c reads,
 * so that the agent can adopt, restart and migrate them. What has no xl.cfg
 * key here (PCI devices, vfbs, ...) is not carried: such domains come back
 * without it. The text is written by lib/xlcfg, which quotes and escapes. */
#include <stdlib.h>
#include <string.h>

#include "../../../../lib/config/xlcfg.h"
#include "hv_xen_int.h"

/* A spec under construction: "k=v, k=v, ...". */
struct spec {
	char *s;
	int oom;
};

static void spec_add(struct spec *sp, const char *key, const char *val)
{
	char *n;

	if (!val || !val[0] || sp->oom)
		return;
	if (asprintf(&n, "%s%s%s=%s", sp->s ? sp->s : "", sp->s ? ", " : "", key, val) < 0) {
		sp->oom = 1;
		return;
	}
	free(sp->s);
	sp->s = n;
}

static char *disk_spec(const libxl_device_disk *d)
{
	struct spec sp = {0};

	if (d->format != LIBXL_DISK_FORMAT_UNKNOWN)
		spec_add(&sp, "format", libxl_disk_format_to_string(d->format));
	if (d->backend != LIBXL_DISK_BACKEND_UNKNOWN)
		spec_add(&sp, "backendtype", libxl_disk_backend_to_string(d->backend));
	spec_add(&sp, "vdev", d->vdev);
	spec_add(&sp, "access", d->readwrite ? "rw" : "ro");
	if (d->is_cdrom)
		spec_add(&sp, "devtype", "cdrom");
	spec_add(&sp, "backend", d->backend_domname);
	spec_add(&sp, "script", d->script);
	spec_add(&sp, "target", d->pdev_path); /* last: it may hold commas */
	if (sp.oom) {
		free(sp.s);
		return NULL;
	}
	return sp.s;
}

static char *vif_spec(const libxl_device_nic *n)
{
	static const libxl_mac zero;
	struct spec sp = {0};
	char mac[LIBXL_MAC_FMTLEN + 1], rate[64];

	if (memcmp(n->mac, zero, sizeof zero) != 0) {
		snprintf(mac, sizeof mac, LIBXL_MAC_FMT, LIBXL_MAC_BYTES(n->mac));
		spec_add(&sp, "mac", mac);
	}
	spec_add(&sp, "bridge", n->bridge);
	spec_add(&sp, "ip", n->ip);
	spec_add(&sp, "script", n->script);
	spec_add(&sp, "vifname", n->ifname);
	spec_add(&sp, "model", n->model);
	if (n->nictype == LIBXL_NIC_TYPE_VIF || n->nictype == LIBXL_NIC_TYPE_VIF_IOEMU)
		spec_add(&sp, "type", n->nictype == LIBXL_NIC_TYPE_VIF ? "vif" : "ioemu");
	spec_add(&sp, "backend", n->backend_domname);
	spec_add(&sp, "gatewaydev", n->gatewaydev);
	if (n->rate_bytes_per_interval && n->rate_interval_usecs) {
		snprintf(rate, sizeof rate, "%lluB/s@%uus",
		         (unsigned long long)(n->rate_bytes_per_interval * 1000000ULL /
		                              n->rate_interval_usecs),
		         (unsigned)n->rate_interval_usecs);
		spec_add(&sp, "rate", rate);
	}
	if (sp.oom) {
		free(sp.s);
		return NULL;
	}
	return sp.s ? sp.s : strdup(""); /* "" is a default vif */
}

/* Sets key to the list of specs made by fn for each of n devices. */
static int cfgw_devices(struct xlcfg *c, const char *key, const void *devs, size_t size, int n,
                        char *(*fn)(const void *dev))
{
	char **specs;
	int rc = 0, i;

	if (n <= 0)
		return 0;
	specs = calloc((size_t)n, sizeof *specs);
	if (!specs)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		specs[i] = fn((const char *)devs + (size_t)i * size);
		if (!specs[i])
			rc = -1;
	}
	if (rc == 0)
		rc = xlcfg_set_list(c, key, (const char *const *)specs, (size_t)n);
	for (i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	return rc;
}

static char *disk_spec_v(const void *d)
{
	return disk_spec(d);
}

static char *vif_spec_v(const void *n)
{
	return vif_spec(n);
}

static int cfgw_str(struct xlcfg *c, const char *key, const char *val)
{
	return val && val[0] ? xlcfg_set_str(c, key, val) : 0;
}

static int cfgw_basics(struct xlcfg *c, const libxl_domain_config *dc)
{
	const libxl_domain_build_info *b = &dc->b_info;
	char uuid[LIBXL_UUID_FMTLEN + 1];
	int vcpus = libxl_bitmap_count_set(&b->avail_vcpus);
	const char *type = dc->c_info.type == LIBXL_DOMAIN_TYPE_HVM   ? "hvm"
	                   : dc->c_info.type == LIBXL_DOMAIN_TYPE_PVH ? "pvh"
	                                                              : "pv";

	snprintf(uuid, sizeof uuid, LIBXL_UUID_FMT, LIBXL_UUID_BYTES(dc->c_info.uuid));
	if (xlcfg_set_str(c, "name", dc->c_info.name) < 0 || xlcfg_set_str(c, "type", type) < 0 ||
	    xlcfg_set_str(c, "uuid", uuid) < 0)
		return -1;
	if (b->target_memkb != LIBXL_MEMKB_DEFAULT &&
	    xlcfg_set_int(c, "memory", (long long)(b->target_memkb / 1024)) < 0)
		return -1;
	if (b->max_memkb != LIBXL_MEMKB_DEFAULT && b->max_memkb != b->target_memkb &&
	    xlcfg_set_int(c, "maxmem", (long long)(b->max_memkb / 1024)) < 0)
		return -1;
	if (vcpus <= 0)
		vcpus = b->max_vcpus;
	if (vcpus > 0 && xlcfg_set_int(c, "vcpus", vcpus) < 0)
		return -1;
	if (b->max_vcpus > vcpus && xlcfg_set_int(c, "maxvcpus", b->max_vcpus) < 0)
		return -1;
	if (cfgw_str(c, "kernel", b->kernel) < 0 || cfgw_str(c, "ramdisk", b->ramdisk) < 0 ||
	    cfgw_str(c, "cmdline", b->cmdline) < 0 || cfgw_str(c, "bootloader", b->bootloader) < 0)
		return -1;
	if (b->bootloader_args &&
	    xlcfg_set_list(c, "bootloader_args", (const char *const *)b->bootloader_args,
	                   (size_t)libxl_string_list_length(&b->bootloader_args)) < 0)
		return -1;
	return 0;
}

static int cfgw_actions(struct xlcfg *c, const libxl_domain_config *dc)
{
	if (xlcfg_set_str(c, "on_poweroff", xen_cfg_action_name(dc->on_poweroff)) < 0 ||
	    xlcfg_set_str(c, "on_reboot", xen_cfg_action_name(dc->on_reboot)) < 0 ||
	    xlcfg_set_str(c, "on_crash", xen_cfg_action_name(dc->on_crash)) < 0 ||
	    xlcfg_set_str(c, "on_watchdog", xen_cfg_action_name(dc->on_watchdog)) < 0 ||
	    xlcfg_set_str(c, "on_soft_reset", xen_cfg_action_name(dc->on_soft_reset)) < 0)
		return -1;
	return 0;
}

char *xen_cfg_write(const libxl_domain_config *dc, char *err, size_t errlen)
{
	struct xlcfg *c = xlcfg_new();
	char *text = NULL;

	if (c && cfgw_basics(c, dc) == 0 &&
	    cfgw_devices(c, "disk", dc->disks, sizeof *dc->disks, dc->num_disks, disk_spec_v) ==
	        0 &&
	    cfgw_devices(c, "vif", dc->nics, sizeof *dc->nics, dc->num_nics, vif_spec_v) == 0 &&
	    cfgw_actions(c, dc) == 0)
		text = xlcfg_write(c);
	if (!text)
		snprintf(err, errlen, "cannot write the xl.cfg of %s (out of memory?)",
		         dc->c_info.name ? dc->c_info.name : "a domain");
	xlcfg_free(c);
	return text;
}
