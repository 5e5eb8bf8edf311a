/* jsonbuf.c - cJSON_PrintUnformatted's text, written into a buffer kept between calls.
 *
 * Byte for byte what cJSON 1.7.15 (Debian 12) prints: strings escape '"', '\\', \b \f \n
 * \r \t and the other bytes under 0x20 as \u00XX (lowercase hex), every other byte as it
 * is; numbers as jsonnum.h writes them. The buffer grows only when a message is longer
 * than any before. */
#include "jsonbuf.h"
#include "jsonnum.h"

#include <stdlib.h>
#include <string.h>

/* Makes room for n more bytes and the NUL. 0, or -1 out of memory. */
static int room(struct jsonbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *t = realloc(b->text, cap);
	if (!t)
		return -1;
	b->text = t;
	b->cap = cap;
	return 0;
}

static int put(struct jsonbuf *b, const char *s, size_t n)
{
	if (room(b, n) < 0)
		return -1;
	memcpy(b->text + b->len, s, n);
	b->len += n;
	return 0;
}

/* s quoted and escaped as cJSON does; NULL as "". */
static int put_string(struct jsonbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = 0, esc = 0;
	for (; p[n]; n++)
		if (p[n] < 0x20 || p[n] == '"' || p[n] == '\\')
			esc++;
	/* at most 6 bytes for each escaped byte */
	if (room(b, n + esc * 5 + 2) < 0)
		return -1;
	char *o = b->text + b->len;
	*o++ = '"';
	if (!esc) {
		memcpy(o, p, n);
		o += n;
	} else {
		for (size_t i = 0; i < n; i++) {
			unsigned char c = p[i];
			if (c >= 0x20 && c != '"' && c != '\\') {
				*o++ = (char)c;
				continue;
			}
			*o++ = '\\';
			switch (c) {
			case '"':
			case '\\':
				*o++ = (char)c;
				break;
			case '\b':
				*o++ = 'b';
				break;
			case '\f':
				*o++ = 'f';
				break;
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
			}
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->text);
	return 0;
}

static int put_number(struct jsonbuf *b, const cJSON *item)
{
	char num[JSONNUM_MAX];
	size_t n = jsonnum_text(item->valuedouble, num);
	return put(b, num, n);
}

static int put_value(struct jsonbuf *b, const cJSON *item, int depth);

/* An array's or object's members, keys with an object's. */
static int put_members(struct jsonbuf *b, const cJSON *item, int object, int depth)
{
	if (depth >= CJSON_NESTING_LIMIT || put(b, object ? "{" : "[", 1) < 0)
		return -1;
	for (const cJSON *c = item->child; c; c = c->next) {
		if (c != item->child && put(b, ",", 1) < 0)
			return -1;
		if (object && (put_string(b, c->string) < 0 || put(b, ":", 1) < 0))
			return -1;
		if (put_value(b, c, depth + 1) < 0)
			return -1;
	}
	return put(b, object ? "}" : "]", 1);
}

static int put_value(struct jsonbuf *b, const cJSON *item, int depth)
{
	switch (item->type & 0xFF) {
	case cJSON_NULL:
		return put(b, "null", 4);
	case cJSON_False:
		return put(b, "false", 5);
	case cJSON_True:
		return put(b, "true", 4);
	case cJSON_Number:
		return put_number(b, item);
	case cJSON_Raw:
		return item->valuestring ? put(b, item->valuestring, strlen(item->valuestring))
		                         : -1;
	case cJSON_String:
		return put_string(b, item->valuestring);
	case cJSON_Array:
		return put_members(b, item, 0, depth);
	case cJSON_Object:
		return put_members(b, item, 1, depth);
	default:
		return -1;
	}
}

const char *jsonbuf_print(struct jsonbuf *b, const cJSON *j)
{
	b->len = 0;
	if (!j || put_value(b, j, 0) < 0) {
		b->len = 0;
		if (b->text)
			b->text[0] = '\0';
		return NULL;
	}
	b->text[b->len] = '\0';
	return b->text;
}

void jsonbuf_free(struct jsonbuf *b)
{
	free(b->text);
	b->text = NULL;
	b->len = b->cap = 0;
}
