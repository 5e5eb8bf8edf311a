/* fuzz_msg.c - libFuzzer target for the bus codec (lib/bus/msg.c): any payload goes
 * through cmd_parse and the envelope check, every field of the object through each
 * typed getter, and an accepted command is rebuilt, printed and parsed again. */
#include <cjson/cJSON.h>

#include "../../lib/bus/msg.h"
#include "fuzz.h"

static void getters(const cJSON *obj, const char *ctx)
{
	char err[VMC_ERR_MAX];
	const cJSON *f;
	cJSON_ArrayForEach(f, obj)
	{
		const char *name = f->string ? f->string : "";
		const char *s;
		int64_t i;
		double d;
		int b;
		const cJSON *o;
		msg_get_str(obj, ctx, name, 1, VMC_TOPIC_MAX, &s, err, sizeof err);
		msg_get_name(obj, ctx, name, 1, &s, err, sizeof err);
		msg_get_int(obj, ctx, name, 1, INT64_MIN, INT64_MAX, &i, err, sizeof err);
		msg_get_int(obj, ctx, name, 0, 0, 100, &i, err, sizeof err);
		msg_get_num(obj, ctx, name, 1, -1e300, 1e300, &d, err, sizeof err);
		msg_get_bool(obj, ctx, name, 1, &b, err, sizeof err);
		msg_get_array(obj, ctx, name, 1, &o, err, sizeof err);
		if (msg_get_obj(obj, ctx, name, 1, &o, err, sizeof err) == 0)
			getters(o, name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[VMC_ERR_MAX];
	struct vmc_cmd cmd;
	enum vmc_err e = cmd_parse(data, size, &cmd, err, sizeof err);
	if (e == VMC_OK) {
		getters(cmd.args, "args");
		cJSON *again = cmd_build("fuzz", 1, cmd.id, cmd.op, cJSON_Duplicate(cmd.args, 1),
		                         cmd.reply_to[0] ? cmd.reply_to : NULL);
		char *text = msg_print(again);
		struct vmc_cmd back;
		if (cmd_parse(text, strlen(text), &back, err, sizeof err) != VMC_OK)
			abort(); /* what the codec built it must read back */
		cmd_free(&back);
		free(text);
		cJSON_Delete(again);
		cJSON *r = reply_ok("fuzz", 1, cmd.id, cJSON_Duplicate(cmd.args, 1));
		free(msg_print(r));
		cJSON_Delete(r);
	} else {
		cJSON *r = reply_err("fuzz", 1, cmd.id, e, err);
		free(msg_print(r));
		cJSON_Delete(r);
	}
	cmd_free(&cmd);

	cJSON *m;
	if (msg_parse(data, size, &m, err, sizeof err) == VMC_OK) {
		msg_check_envelope(m, err, sizeof err);
		getters(m, NULL);
		cJSON_Delete(m);
	}
	char *name = fuzz_text(data, size > 80 ? 80 : size);
	vmc_name_check(name, "name", err, sizeof err);
	vmc_err_parse(name);
	free(name);
	return 0;
}
