/* jsonbuf.h - compact JSON text of a cJSON tree into a buffer kept between messages.
 *
 * The same bytes as cJSON_PrintUnformatted (same escapes, same numbers: jsonnum.h),
 * without its allocations per message and its printf per number: a periodic publisher
 * keeps one jsonbuf and its text is rewritten in place. Pure. */
#ifndef VMC_JSONBUF_H
#define VMC_JSONBUF_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct jsonbuf {
	char *text; /* NUL-terminated after a successful jsonbuf_print */
	size_t len; /* its length */
	size_t cap; /* bytes allocated */
};

/* Writes j into b, replacing what it held. Returns b->text, or NULL (out of memory, an
 * item of no JSON type, or nesting deeper than cJSON's own limit): b then holds "". */
const char *jsonbuf_print(struct jsonbuf *b, const cJSON *j);
/* Frees the text; b can be used again. */
void jsonbuf_free(struct jsonbuf *b);

#endif
