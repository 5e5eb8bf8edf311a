/* reply.c - reading a command's reply (reply.h). */
#include "reply.h"

enum reply_kind reply_read(const cJSON *reply, struct reply_outcome *o)
{
	int ok = 0;
	*o = (struct reply_outcome){.kind = REPLY_ERROR, .code = VMC_E_FAILED};
	/* the same words as every other field's check: "reply.ok: expected true or false, ..." */
	if (msg_get_bool(reply, "reply", "ok", 1, &ok, o->bad, sizeof(o->bad)) != 0) {
		o->kind = REPLY_MALFORMED;
	} else if (ok) {
		o->kind = REPLY_OK;
		o->result = cJSON_GetObjectItemCaseSensitive(reply, "result");
		return o->kind;
	}
	/* not ok, or not saying: whatever error it carries */
	const cJSON *error =
	    cJSON_IsObject(reply) ? cJSON_GetObjectItemCaseSensitive(reply, "error") : NULL;
	if (cJSON_IsObject(error)) {
		o->code_text =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "code"));
		o->message =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "message"));
	}
	if (o->code_text)
		o->code = vmc_err_parse(o->code_text);
	return o->kind;
}
