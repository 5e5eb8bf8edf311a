/* xen-physinfo: print Xen host facts through libxl.
 *
 * Built on the outer machine against libxen-dev by tests/xen/smoke.sh and run
 * inside a nested dom0, to prove that binaries built outside run inside.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libxl.h>
#include <xentoollog.h>

int main(void)
{
	xentoollog_logger_stdiostream *lg;
	libxl_ctx *ctx = NULL;
	libxl_physinfo pi;
	const libxl_version_info *v;
	libxl_dominfo *doms;
	int nb_domain = 0;
	unsigned long long page = 4096;

	lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
	if (!lg) {
		fprintf(stderr, "xen-physinfo: cannot create logger\n");
		return 1;
	}
	if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg)) {
		fprintf(stderr, "xen-physinfo: libxl_ctx_alloc failed\n");
		return 1;
	}
	libxl_physinfo_init(&pi);
	if (libxl_get_physinfo(ctx, &pi)) {
		fprintf(stderr, "xen-physinfo: libxl_get_physinfo failed\n");
		return 1;
	}
	v = libxl_get_version_info(ctx);
	if (v)
		printf("xen_version %d.%d%s\n", v->xen_version_major,
		       v->xen_version_minor, v->xen_version_extra);
	printf("nr_cpus %u\n", pi.nr_cpus);
	printf("total_memory_mib %llu\n",
	       (unsigned long long)pi.total_pages * page / (1024 * 1024));
	printf("free_memory_mib %llu\n",
	       (unsigned long long)pi.free_pages * page / (1024 * 1024));
	doms = libxl_list_domain(ctx, &nb_domain);
	printf("domains %d\n", nb_domain);
	if (doms)
		libxl_dominfo_list_free(doms, nb_domain);
	libxl_physinfo_dispose(&pi);
	libxl_ctx_free(ctx);
	xtl_logger_destroy((xentoollog_logger *)lg);
	return 0;
}
