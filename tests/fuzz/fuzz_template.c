/* fuzz_template.c - libFuzzer target for VM templates (agents/confd/templates.c):
 * the text is parsed as a template; an accepted one gets overrides (read from a
 * JSON object on the input's first line when there is one) and is listed as JSON. */
#include <cjson/cJSON.h>

#include "../../agents/confd/templates.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char err[2048];
	cJSON *overrides = NULL;
	char *body = text;
	if (text[0] == '{') {
		char *nl = strchr(text, '\n');
		if (nl) {
			*nl = '\0';
			body = nl + 1;
		}
		overrides = cJSON_Parse(text);
	}
	struct template *t = NULL;
	if (template_parse(body, "fuzz.tmpl", "fuzz", &t, err, sizeof err) == 0) {
		if (overrides)
			template_apply_overrides(t, overrides, err, sizeof err);
		cJSON *j = template_to_json(t);
		char *s = cJSON_PrintUnformatted(j);
		free(s);
		cJSON_Delete(j);
		template_free(t);
	}
	cJSON_Delete(overrides);
	free(text);
	return 0;
}
