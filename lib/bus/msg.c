/* msg.c - the bus message codec: envelope, names, typed getters, commands, replies. */
#include "msg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Codes as they travel on the bus, indexed by enum vmc_err. */
static const char *const err_codes[VMC_E__COUNT] = {
    [VMC_OK] = "ok",
    [VMC_E_BAD_JSON] = "bad_json",
    [VMC_E_TOO_LARGE] = "too_large",
    [VMC_E_BAD_REQUEST] = "bad_request",
    [VMC_E_BAD_NAME] = "bad_name",
    [VMC_E_UNKNOWN_OP] = "unknown_op",
    [VMC_E_NOT_FOUND] = "not_found",
    [VMC_E_EXISTS] = "exists",
    [VMC_E_BAD_STATE] = "bad_state",
    [VMC_E_NO_MEMORY] = "no_memory",
    [VMC_E_BUSY] = "busy",
    [VMC_E_REFUSED] = "refused",
    [VMC_E_TIMEOUT] = "timeout",
    [VMC_E_FAILED] = "failed",
    [VMC_E_INTERNAL] = "internal",
};

const char *vmc_err_code(enum vmc_err e)
{
	if ((int)e < 0 || e >= VMC_E__COUNT)
		return err_codes[VMC_E_INTERNAL];
	return err_codes[e];
}

enum vmc_err vmc_err_parse(const char *code)
{
	if (!code)
		return VMC_E_INTERNAL;
	for (int i = 0; i < VMC_E__COUNT; i++)
		if (strcmp(err_codes[i], code) == 0)
			return (enum vmc_err)i;
	return VMC_E_INTERNAL;
}

static void fill(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fill(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Writes s quoted, with non-printable bytes as \xNN and at most ~40 characters of it,
 * so that hostile input can be echoed safely in an error message. */
static const char *quote_brief(const char *s, char *buf, size_t len)
{
	size_t o = 0, shown = 0;
	buf[o++] = '"';
	for (; *s && o + 8 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (shown++ == 40) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	snprintf(buf + o, len - o, "\"");
	return buf;
}

/* Describes a JSON value briefly for "got ..." in error messages. */
static const char *describe(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v))
		return quote_brief(v->valuestring, buf, len);
	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.15g", v->valuedouble);
		if (strtod(buf, NULL) != v->valuedouble)
			snprintf(buf, len, "%.17g", v->valuedouble);
		return buf;
	}
	if (cJSON_IsTrue(v))
		return "true";
	if (cJSON_IsFalse(v))
		return "false";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "an invalid value";
}

static int name_char_ok(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

int vmc_name_check(const char *name, const char *what, char *err, size_t errlen)
{
	char q[128];
	if (!what)
		what = "name";
	if (!name || !*name) {
		fill(err, errlen, "%s: must not be empty", what);
		return -1;
	}
	size_t n = strnlen(name, VMC_NAME_MAX + 1);
	if (n > VMC_NAME_MAX) {
		fill(err, errlen, "%s: %s is longer than %d characters", what,
		     quote_brief(name, q, sizeof q), VMC_NAME_MAX);
		return -1;
	}
	if (name[0] == '.' || name[0] == '-') {
		fill(err, errlen, "%s: %s must not start with '%c'", what,
		     quote_brief(name, q, sizeof q), name[0]);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!name_char_ok((unsigned char)name[i])) {
			fill(err, errlen,
			     "%s: %s has a character outside [A-Za-z0-9_.-] at position %zu", what,
			     quote_brief(name, q, sizeof q), i + 1);
			return -1;
		}
	}
	return 0;
}

#define MSG_PARSE_STACK 8192 /* msg_parse copies messages shorter than this on the stack */

/* Aborts on allocation failure: messages are small and an agent without memory cannot go on. */
static void *must(void *p)
{
	if (!p) {
		fputs("vmcluster: out of memory building a message\n", stderr);
		abort();
	}
	return p;
}

cJSON *msg_new(const char *sender, int64_t ts_ms)
{
	cJSON *m = must(cJSON_CreateObject());
	must(cJSON_AddNumberToObject(m, "v", VMC_SCHEMA));
	must(cJSON_AddStringToObject(m, "from", sender ? sender : ""));
	must(cJSON_AddNumberToObject(m, "ts", (double)ts_ms));
	return m;
}

void msg_set_seq(cJSON *m, uint64_t seq)
{
	cJSON_DeleteItemFromObjectCaseSensitive(m, "seq");
	must(cJSON_AddNumberToObject(m, "seq", (double)seq));
}

char *msg_print(const cJSON *m)
{
	return must(cJSON_PrintUnformatted(m));
}

/* 1-based line and column of byte offset off in text. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

size_t msg_nul_escape(const void *text, size_t len)
{
	const char *p = text, *end = p + len;
	/* from one backslash to the next (memchr: a load message has few, and is kilobytes) */
	for (const char *b = memchr(p, '\\', len); b && b + 1 < end;
	     b = memchr(b, '\\', (size_t)(end - b))) {
		if (b[1] == 'u' && b + 5 < end && memcmp(b + 2, "0000", 4) == 0)
			return (size_t)(b - p);
		b += 2; /* past the escaped character, which may be a backslash */
	}
	return len;
}

enum vmc_err msg_parse(const void *payload, size_t len, cJSON **out, char *err, size_t errlen)
{
	char d[32];
	*out = NULL;
	if (len > VMC_PAYLOAD_MAX) {
		fill(err, errlen, "payload of %zu bytes is over the limit of %d bytes", len,
		     VMC_PAYLOAD_MAX);
		return VMC_E_TOO_LARGE;
	}
	if (len == 0 || !payload) {
		fill(err, errlen, "empty payload: expected a JSON object");
		return VMC_E_BAD_JSON;
	}
	const char *nul = memchr(payload, '\0', len);
	if (nul) {
		fill(err, errlen, "not JSON: a NUL byte at offset %zu",
		     (size_t)(nul - (const char *)payload));
		return VMC_E_BAD_JSON;
	}
	size_t esc = msg_nul_escape(payload, len);
	if (esc < len) {
		/* C strings would end there: "keep1\u0000x" would read as "keep1" */
		fill(err, errlen, "a \\u0000 (NUL) inside a string at offset %zu is not allowed",
		     esc);
		return VMC_E_BAD_JSON;
	}
	/* cJSON needs a terminated string to reject trailing garbage. A message of a few
	 * kilobytes is copied on the stack: a heap block of that size, between the many
	 * small ones cJSON makes, has malloc sort all freed blocks again at each message. */
	char stack[MSG_PARSE_STACK];
	char *text = len < sizeof(stack) ? stack : must(malloc(len + 1));
	memcpy(text, payload, len);
	text[len] = '\0';
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	if (!root) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		int line, col;
		line_col(text, off, &line, &col);
		if (off >= len)
			fill(err, errlen, "not JSON: the text ends early (line %d, column %d)",
			     line, col);
		else
			fill(err, errlen, "not JSON: syntax error at line %d, column %d", line,
			     col);
		if (text != stack)
			free(text);
		return VMC_E_BAD_JSON;
	}
	if (text != stack)
		free(text);
	if (!cJSON_IsObject(root)) {
		fill(err, errlen, "expected a JSON object, got %s", describe(root, d, sizeof d));
		cJSON_Delete(root);
		return VMC_E_BAD_JSON;
	}
	*out = root;
	return VMC_OK;
}

/* "ctx.field" or "field" into buf. */
static const char *path(const char *ctx, const char *field, char *buf, size_t len)
{
	if (ctx && *ctx)
		snprintf(buf, len, "%s.%s", ctx, field);
	else
		snprintf(buf, len, "%s", field);
	return buf;
}

/* The member field of obj, NULL if absent or obj is not an object. */
static const cJSON *member(const cJSON *obj, const char *field)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;
}

/* For a member v: 0 present, 1 absent and optional, -1 absent and required (err filled). */
static int presence(const cJSON *v, const char *ctx, const char *field, int required,
                    const char *expect, char *err, size_t errlen)
{
	char p[160];
	if (v)
		return 0;
	if (!required)
		return 1;
	fill(err, errlen, "%s: missing, expected %s", path(ctx, field, p, sizeof p), expect);
	return -1;
}

static int wrong(const char *ctx, const char *field, const char *expect, const cJSON *v, char *err,
                 size_t errlen)
{
	char p[160], d[200];
	fill(err, errlen, "%s: expected %s, got %s", path(ctx, field, p, sizeof p), expect,
	     describe(v, d, sizeof d));
	return -1;
}

int msg_val_str(const cJSON *v, const char *ctx, const char *field, int required, size_t maxlen,
                const char **out, char *err, size_t errlen)
{
	char expect[64];
	if (cJSON_IsString(v) && strnlen(v->valuestring, maxlen + 1) <= maxlen) {
		*out = v->valuestring; /* the common case: no error text to format */
		return 0;
	}
	if (!v && !required)
		return 1; /* absent and optional: nothing to format either */
	snprintf(expect, sizeof expect, "a string of at most %zu characters", maxlen);
	int r = presence(v, ctx, field, required, expect, err, errlen);
	if (r != 0)
		return r;
	return wrong(ctx, field, expect, v, err, errlen);
}

int msg_get_str(const cJSON *obj, const char *ctx, const char *field, int required, size_t maxlen,
                const char **out, char *err, size_t errlen)
{
	return msg_val_str(member(obj, field), ctx, field, required, maxlen, out, err, errlen);
}

int msg_val_name(const cJSON *v, const char *ctx, const char *field, int required, const char **out,
                 char *err, size_t errlen)
{
	char p[160];
	const char *expect = "a name of 1 to 64 characters [A-Za-z0-9_.-]";
	int r = presence(v, ctx, field, required, expect, err, errlen);
	if (r != 0)
		return r;
	if (!cJSON_IsString(v))
		return wrong(ctx, field, expect, v, err, errlen);
	/* the path is formatted only for the error text */
	if (vmc_name_check(v->valuestring, field, err, errlen) < 0 &&
	    vmc_name_check(v->valuestring, path(ctx, field, p, sizeof p), err, errlen) < 0)
		return -1;
	*out = v->valuestring;
	return 0;
}

int msg_get_name(const cJSON *obj, const char *ctx, const char *field, int required,
                 const char **out, char *err, size_t errlen)
{
	return msg_val_name(member(obj, field), ctx, field, required, out, err, errlen);
}

int msg_val_int(const cJSON *v, const char *ctx, const char *field, int required, int64_t min,
                int64_t max, int64_t *out, char *err, size_t errlen)
{
	char expect[96];
	/* the common case first: no error text to format */
	if (cJSON_IsNumber(v) && v->valuedouble >= -9e15 && v->valuedouble <= 9e15 &&
	    v->valuedouble == floor(v->valuedouble) && (int64_t)v->valuedouble >= min &&
	    (int64_t)v->valuedouble <= max) {
		*out = (int64_t)v->valuedouble;
		return 0;
	}
	if (!v && !required)
		return 1; /* absent and optional: nothing to format either */
	snprintf(expect, sizeof expect, "an integer from %lld to %lld", (long long)min,
	         (long long)max);
	int r = presence(v, ctx, field, required, expect, err, errlen);
	if (r != 0)
		return r;
	if (!cJSON_IsNumber(v))
		return wrong(ctx, field, expect, v, err, errlen);
	double d = v->valuedouble;
	/* 2^63 bounds keep the conversion defined. */
	if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
	    d >= 9223372036854775808.0)
		return wrong(ctx, field, expect, v, err, errlen);
	int64_t i = (int64_t)d;
	if (i < min || i > max)
		return wrong(ctx, field, expect, v, err, errlen);
	*out = i;
	return 0;
}

int msg_get_int(const cJSON *obj, const char *ctx, const char *field, int required, int64_t min,
                int64_t max, int64_t *out, char *err, size_t errlen)
{
	return msg_val_int(member(obj, field), ctx, field, required, min, max, out, err, errlen);
}

int msg_val_num(const cJSON *v, const char *ctx, const char *field, int required, double min,
                double max, double *out, char *err, size_t errlen)
{
	char expect[96];
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= min &&
	    v->valuedouble <= max) { /* the common case: no error text to format */
		*out = v->valuedouble;
		return 0;
	}
	if (!v && !required)
		return 1; /* absent and optional: nothing to format either */
	snprintf(expect, sizeof expect, "a number from %g to %g", min, max);
	int r = presence(v, ctx, field, required, expect, err, errlen);
	if (r != 0)
		return r;
	return wrong(ctx, field, expect, v, err, errlen);
}

int msg_get_num(const cJSON *obj, const char *ctx, const char *field, int required, double min,
                double max, double *out, char *err, size_t errlen)
{
	return msg_val_num(member(obj, field), ctx, field, required, min, max, out, err, errlen);
}

int msg_get_bool(const cJSON *obj, const char *ctx, const char *field, int required, int *out,
                 char *err, size_t errlen)
{
	const cJSON *v = member(obj, field);
	int r = presence(v, ctx, field, required, "true or false", err, errlen);
	if (r != 0)
		return r;
	if (!cJSON_IsBool(v))
		return wrong(ctx, field, "true or false", v, err, errlen);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* Shared by the checks of container types: is() decides the type. */
static int val_typed(const cJSON *v, const char *ctx, const char *field, int required,
                     const char *expect, cJSON_bool (*is)(const cJSON *const), const cJSON **out,
                     char *err, size_t errlen)
{
	int r = presence(v, ctx, field, required, expect, err, errlen);
	if (r != 0)
		return r;
	if (!is(v))
		return wrong(ctx, field, expect, v, err, errlen);
	*out = v;
	return 0;
}

int msg_val_obj(const cJSON *v, const char *ctx, const char *field, int required, const cJSON **out,
                char *err, size_t errlen)
{
	return val_typed(v, ctx, field, required, "an object", cJSON_IsObject, out, err, errlen);
}

int msg_get_obj(const cJSON *obj, const char *ctx, const char *field, int required,
                const cJSON **out, char *err, size_t errlen)
{
	return msg_val_obj(member(obj, field), ctx, field, required, out, err, errlen);
}

int msg_val_array(const cJSON *v, const char *ctx, const char *field, int required,
                  const cJSON **out, char *err, size_t errlen)
{
	return val_typed(v, ctx, field, required, "an array", cJSON_IsArray, out, err, errlen);
}

int msg_get_array(const cJSON *obj, const char *ctx, const char *field, int required,
                  const cJSON **out, char *err, size_t errlen)
{
	return msg_val_array(member(obj, field), ctx, field, required, out, err, errlen);
}

int msg_check_envelope(const cJSON *m, char *err, size_t errlen)
{
	int64_t v;
	const char *from;
	double ts;
	if (msg_get_int(m, NULL, "v", 1, VMC_SCHEMA, VMC_SCHEMA, &v, err, errlen) != 0)
		return -1;
	if (msg_get_str(m, NULL, "from", 1, VMC_TOPIC_MAX, &from, err, errlen) != 0)
		return -1;
	if (msg_get_num(m, NULL, "ts", 1, 0, 1e16, &ts, err, errlen) != 0)
		return -1;
	return 0;
}

/* --- commands ------------------------------------------------------------ */

/* Each returns NULL if s is valid, else what was expected. */
static const char *check_id(const char *s)
{
	static const char expect[] = "a string of 1 to 128 printable ASCII characters";
	size_t n = strnlen(s, VMC_ID_MAX + 1);
	if (n == 0 || n > VMC_ID_MAX)
		return expect;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return expect;
	return NULL;
}

static const char *check_op(const char *s)
{
	static const char expect[] = "an operation name [a-z][a-z0-9._]* of at most 48 characters";
	size_t n = strnlen(s, VMC_OP_MAX + 1);
	if (n == 0 || n > VMC_OP_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return expect;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'))
			return expect;
	}
	return NULL;
}

static const char *check_reply_to(const char *s)
{
	static const char expect[] = "a topic of 1 to 512 characters without wildcards '+' or '#'";
	size_t n = strnlen(s, VMC_TOPIC_MAX + 1);
	if (n == 0 || n > VMC_TOPIC_MAX)
		return expect;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '+' || s[i] == '#' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return expect;
	return NULL;
}

/* Reads a string field and checks it; copies it into dst (dstlen bytes) when valid.
 * Returns 0 valid, 1 absent, -1 invalid (err filled). */
static int cmd_field(const cJSON *root, const char *field, const char *(*check)(const char *),
                     char *dst, size_t dstlen, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, field);
	if (!v)
		return 1;
	const char *expect = cJSON_IsString(v) ? check(v->valuestring) : check("");
	if (expect)
		return wrong(NULL, field, expect, v, err, errlen);
	snprintf(dst, dstlen, "%s", v->valuestring);
	return 0;
}

enum vmc_err cmd_parse(const void *payload, size_t len, struct vmc_cmd *cmd, char *err,
                       size_t errlen)
{
	memset(cmd, 0, sizeof *cmd);
	cJSON *root;
	enum vmc_err e = msg_parse(payload, len, &root, err, errlen);
	if (e != VMC_OK)
		return e;
	cmd->root = root;
	char e_id[VMC_ERR_MAX], e_reply[VMC_ERR_MAX];
	/* id and reply_to first, so that any later error can still be answered. */
	int r_id = cmd_field(root, "id", check_id, cmd->id, sizeof cmd->id, e_id, sizeof e_id);
	int r_reply = cmd_field(root, "reply_to", check_reply_to, cmd->reply_to,
	                        sizeof cmd->reply_to, e_reply, sizeof e_reply);
	if (r_id == 1) {
		fill(err, errlen,
		     "id: missing, expected a string of 1 to 128 printable ASCII "
		     "characters");
		return VMC_E_BAD_REQUEST;
	}
	if (r_id < 0) {
		fill(err, errlen, "%s", e_id);
		return VMC_E_BAD_REQUEST;
	}
	/* The envelope is optional in commands so that plain scripts can send them, but what
	 * is there must be right. */
	int64_t v;
	const char *from;
	double ts;
	if (msg_get_int(root, NULL, "v", 0, VMC_SCHEMA, VMC_SCHEMA, &v, err, errlen) < 0 ||
	    msg_get_str(root, NULL, "from", 0, VMC_TOPIC_MAX, &from, err, errlen) < 0 ||
	    msg_get_num(root, NULL, "ts", 0, 0, 1e16, &ts, err, errlen) < 0)
		return VMC_E_BAD_REQUEST;
	if (cmd_field(root, "op", check_op, cmd->op, sizeof cmd->op, err, errlen) != 0) {
		if (!cJSON_GetObjectItemCaseSensitive(root, "op"))
			fill(err, errlen, "op: missing, expected %s", check_op(""));
		return VMC_E_BAD_REQUEST;
	}
	const cJSON *args = NULL;
	if (msg_get_obj(root, NULL, "args", 0, &args, err, errlen) < 0)
		return VMC_E_BAD_REQUEST;
	if (!args)
		args = must(cJSON_AddObjectToObject(root, "args"));
	cmd->args = args;
	if (r_reply < 0) {
		fill(err, errlen, "%s", e_reply);
		return VMC_E_BAD_REQUEST;
	}
	return VMC_OK;
}

void cmd_free(struct vmc_cmd *cmd)
{
	if (!cmd)
		return;
	cJSON_Delete(cmd->root);
	cmd->root = NULL;
	cmd->args = NULL;
}

cJSON *cmd_build(const char *sender, int64_t ts_ms, const char *id, const char *op, cJSON *args,
                 const char *reply_to)
{
	cJSON *m = msg_new(sender, ts_ms);
	must(cJSON_AddStringToObject(m, "id", id ? id : ""));
	must(cJSON_AddStringToObject(m, "op", op ? op : ""));
	if (!args)
		args = must(cJSON_CreateObject());
	cJSON_AddItemToObject(m, "args", args);
	if (reply_to && *reply_to)
		must(cJSON_AddStringToObject(m, "reply_to", reply_to));
	return m;
}

cJSON *reply_ok(const char *sender, int64_t ts_ms, const char *id, cJSON *result)
{
	cJSON *m = msg_new(sender, ts_ms);
	must(cJSON_AddStringToObject(m, "id", id ? id : ""));
	must(cJSON_AddTrueToObject(m, "ok"));
	if (!result)
		result = must(cJSON_CreateObject());
	cJSON_AddItemToObject(m, "result", result);
	return m;
}

cJSON *reply_err(const char *sender, int64_t ts_ms, const char *id, enum vmc_err code,
                 const char *message)
{
	cJSON *m = msg_new(sender, ts_ms);
	must(cJSON_AddStringToObject(m, "id", id ? id : ""));
	must(cJSON_AddFalseToObject(m, "ok"));
	cJSON *e = must(cJSON_AddObjectToObject(m, "error"));
	must(cJSON_AddStringToObject(e, "code", vmc_err_code(code)));
	must(cJSON_AddStringToObject(e, "message", message ? message : vmc_err_code(code)));
	return m;
}

int msg_load_has_birth(const cJSON *load)
{
	const cJSON *session = cJSON_GetObjectItemCaseSensitive(load, "session");
	return cJSON_IsNumber(session) && session->valuedouble >= 1;
}
