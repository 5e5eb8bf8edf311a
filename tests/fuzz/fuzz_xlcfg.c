/* fuzz_xlcfg.c - libFuzzer target for the xl.cfg reader (lib/config/xlcfg.c): whatever it
 * accepts is written back and must read again to the same items. */
#include "../../lib/config/xlcfg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char err[512];
	struct xlcfg *c = NULL;
	if (xlcfg_parse(text, "fuzz.cfg", &c, err, sizeof err) == 0) {
		long long n;
		for (size_t i = 0; i < c->n; i++) {
			xlcfg_get(c, c->items[i].key);
			xlcfg_str(c, c->items[i].key);
			xlcfg_int(c, c->items[i].key, &n);
		}
		char *out = xlcfg_write(c);
		struct xlcfg *back = NULL;
		if (!out || xlcfg_parse(out, "written", &back, err, sizeof err) != 0)
			abort(); /* what the writer wrote the reader must read */
		free(out);
		xlcfg_free(back);
		xlcfg_free(c);
	}
	free(text);
	return 0;
}
