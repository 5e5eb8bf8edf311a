/* xlcfg_check.c - prints what libxlutil (the parser xl and the xen driver use) reads from
 * an xl.cfg file, for the system tests to compare with what the template said.
 *
 *   xlcfg_check FILE KEY...     one line per key: KEY=VALUE, a list as KEY=[a|b|c]
 *
 * Exits 1 if the file does not parse, 2 if a key is missing. Built by the test itself:
 *   cc -o xlcfg_check xlcfg_check.c $(pkg-config --cflags --libs xlutil) */
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: xlcfg_check FILE KEY...\n");
		return 2;
	}
	XLU_Config *c = xlu_cfg_init(stderr, argv[1]);
	if (!c || xlu_cfg_readfile(c, argv[1]) != 0) {
		fprintf(stderr, "xlcfg_check: %s does not parse\n", argv[1]);
		return 1;
	}
	int rc = 0;
	for (int i = 2; i < argc; i++) {
		const char *s;
		long n;
		XLU_ConfigList *l;
		int count;
		if (xlu_cfg_get_list(c, argv[i], &l, &count, 1) == 0) {
			printf("%s=[", argv[i]);
			for (int k = 0; k < count; k++)
				printf("%s%s", k ? "|" : "", xlu_cfg_get_listitem(l, k));
			printf("]\n");
		} else if (xlu_cfg_get_long(c, argv[i], &n, 1) == 0) {
			printf("%s=%ld\n", argv[i], n);
		} else if (xlu_cfg_get_string(c, argv[i], &s, 1) == 0) {
			printf("%s=%s\n", argv[i], s);
		} else {
			printf("%s: missing\n", argv[i]);
			rc = 2;
		}
	}
	xlu_cfg_destroy(c);
	return rc;
}
