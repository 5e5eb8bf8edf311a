/* hv_load.c - driver lookup.
 *
 * The sim driver is built in. The xen driver is a module, vmc-hostd-xen.so
 * (hv_xen*.c, linked with libxenlight, libxenstat, libxlutil, libxentoollog),
 * loaded only for --driver xen: a sim host, or one without Xen, does not map the
 * Xen libraries. The module resolves the agent's own functions (log, xlcfg) from
 * the program, which exports them (linked with -rdynamic). Apart from hv.c, which the
 * drivers use: the list of drivers imports them, they import hv.c. */
#include "hv.h"
#include "libpath.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

const struct hv_ops *hv_find(const char *name)
{
	const struct hv_ops *drivers[] = {&hv_sim_ops};

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (name != NULL && strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

const struct hv_ops *hv_load(const char *name, char *err, size_t errlen)
{
	const struct hv_ops *ops = hv_find(name);
	if (ops)
		return ops;
	if (name == NULL || strcmp(name, "xen") != 0) {
		snprintf(err, errlen, "driver \"%s\": expected sim or xen", name ? name : "");
		return NULL;
	}
	char path[4096];
	if (hostd_lib_path(HOSTD_XEN_MODULE, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "driver xen: no module %s (looked for %s)", HOSTD_XEN_MODULE,
		         path);
		return NULL;
	}
	/* loaded for the life of the process: never closed */
	void *mod = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (mod == NULL) {
		snprintf(err, errlen, "driver xen: %s", dlerror());
		return NULL;
	}
	ops = dlsym(mod, "hv_xen_ops");
	if (ops == NULL || strcmp(ops->name, "xen") != 0) {
		snprintf(err, errlen, "driver xen: %s holds no xen driver", path);
		dlclose(mod);
		return NULL;
	}
	return ops;
}
