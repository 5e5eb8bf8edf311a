/* fuzz_conf.c - libFuzzer target for the -c configuration parser (lib/config/conf.c): the
 * text is parsed, then every entry read with each typed getter, as the agents do,
 * and the unused keys reported. */
#include "../../lib/config/conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char err[1024];
	struct conf *c = NULL;
	if (conf_parse_string(text, "fuzz.conf", &c, err, sizeof err) == 0) {
		for (size_t i = 0; i < c->n; i++) {
			const struct conf_entry *en = &c->entries[i];
			const char *s;
			int64_t v;
			double d;
			int b;
			conf_get_str(c, en->section, en->arg, en->key, &s, err, sizeof err);
			conf_get_int(c, en->section, en->arg, en->key, INT64_MIN, INT64_MAX, &v,
			             err, sizeof err);
			conf_get_num(c, en->section, en->arg, en->key, -1e300, 1e300, &d, err,
			             sizeof err);
			conf_get_bool(c, en->section, en->arg, en->key, &b, err, sizeof err);
			conf_get_duration(c, en->section, en->arg, en->key, 0, INT64_MAX, &v, err,
			                  sizeof err);
			conf_get_size_mb(c, en->section, en->arg, en->key, 0, INT64_MAX, &v, err,
			                 sizeof err);
			conf_find(c, en->section, NULL, en->key);
		}
		conf_check_unused(c, err, sizeof err);
		conf_free(c);
	}
	free(text);
	return 0;
}
