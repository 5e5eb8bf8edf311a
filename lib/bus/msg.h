/* msg.h - the bus message codec on cJSON: envelope, validation, commands, replies.
 *
 * Every message is a JSON object {"v":1,"from":SENDER,"ts":MS,...}; periodic
 * ones add "seq". Validation errors always name the offending field, e.g.
 * "args.memory_mb: expected an integer from 16 to 4194304". Pure logic. */
#ifndef VMC_MSG_H
#define VMC_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define VMC_SCHEMA 1
#define VMC_NAME_MAX 64          /* host, VM, template and cluster names */
#define VMC_ID_MAX 128           /* command ids */
#define VMC_OP_MAX 48
#define VMC_TOPIC_MAX 512
#define VMC_PAYLOAD_MAX (256 * 1024) /* larger messages are refused unread */
#define VMC_ERR_MAX 256

/* Error codes carried in error replies ("error":{"code":..,"message":..}). */
enum vmc_err {
	VMC_OK = 0,
	VMC_E_BAD_JSON,   /* "bad_json": not parseable, or not an object */
	VMC_E_TOO_LARGE,  /* "too_large": payload over VMC_PAYLOAD_MAX */
	VMC_E_BAD_REQUEST,/* "bad_request": a field missing or of the wrong type/range */
	VMC_E_BAD_NAME,   /* "bad_name": a name outside [A-Za-z0-9_.-]{1,64} */
	VMC_E_UNKNOWN_OP, /* "unknown_op" */
	VMC_E_NOT_FOUND,  /* "not_found" */
	VMC_E_EXISTS,     /* "exists" */
	VMC_E_BAD_STATE,  /* "bad_state": e.g. pausing a stopped VM */
	VMC_E_NO_MEMORY,  /* "no_memory": not enough free host memory */
	VMC_E_BUSY,       /* "busy": a cap or a concurrent operation refuses it now */
	VMC_E_REFUSED,    /* "refused": policy (maintenance, offline, pinned, ...) */
	VMC_E_TIMEOUT,    /* "timeout" */
	VMC_E_FAILED,     /* "failed": the hypervisor or a peer reported failure */
	VMC_E_INTERNAL,   /* "internal" */
	VMC_E__COUNT
};
const char *vmc_err_code(enum vmc_err e);
/* Returns the enum for a code string, or VMC_E_INTERNAL if unknown. */
enum vmc_err vmc_err_parse(const char *code);

/* A name is 1..VMC_NAME_MAX of [A-Za-z0-9_.-], not starting with '.' or '-'.
 * Returns 0, or -1 with a message naming `what` (e.g. "vm name") in err. */
int vmc_name_check(const char *name, const char *what, char *err, size_t errlen);

/* New envelope {"v":1,"from":sender,"ts":ts_ms}. Never NULL (aborts on OOM). */
cJSON *msg_new(const char *sender, int64_t ts_ms);
void msg_set_seq(cJSON *m, uint64_t seq);
/* Compact JSON text; caller frees with free(). */
char *msg_print(const cJSON *m);

/* Parses a payload into a JSON object. Returns VMC_OK, VMC_E_TOO_LARGE or VMC_E_BAD_JSON
 * (err says where; a NUL byte, or a \u0000 escape, anywhere is refused). */
enum vmc_err msg_parse(const void *payload, size_t len, cJSON **out, char *err, size_t errlen);
/* The offset of the first \u0000 escape in JSON text, or len if none. No string of a
 * message may hold a NUL: C code would see it cut short there, so msg_parse refuses it. */
size_t msg_nul_escape(const void *text, size_t len);
/* Checks "v" (== VMC_SCHEMA), "from" (string) and "ts" (number). */
int msg_check_envelope(const cJSON *m, char *err, size_t errlen);

/* Typed field access. `ctx` prefixes the field in messages ("args" gives "args.name").
 * Each returns 0 if present and valid, 1 if absent and !required (out untouched),
 * -1 with err filled otherwise. */
int msg_get_str(const cJSON *obj, const char *ctx, const char *field, int required, size_t maxlen,
		const char **out, char *err, size_t errlen);
int msg_get_name(const cJSON *obj, const char *ctx, const char *field, int required,
		 const char **out, char *err, size_t errlen);
/* True if a host/<h>/load message carries its agent's birth (a session number), as every
 * agent's own load does: on a broker that keeps retained states on one node, such a live
 * load stands for the state message. */
int msg_load_has_birth(const cJSON *load);

int msg_get_int(const cJSON *obj, const char *ctx, const char *field, int required, int64_t min,
		int64_t max, int64_t *out, char *err, size_t errlen);
int msg_get_num(const cJSON *obj, const char *ctx, const char *field, int required, double min,
		double max, double *out, char *err, size_t errlen);
int msg_get_bool(const cJSON *obj, const char *ctx, const char *field, int required, int *out,
		 char *err, size_t errlen);
int msg_get_obj(const cJSON *obj, const char *ctx, const char *field, int required,
		const cJSON **out, char *err, size_t errlen);
int msg_get_array(const cJSON *obj, const char *ctx, const char *field, int required,
		  const cJSON **out, char *err, size_t errlen);

/* The same checks on a member already found (v: obj's member named field, NULL if absent),
 * for readers that take an object's members in one pass rather than a look-up each, which
 * walks the members from the first. Same results and error texts as msg_get_*. */
int msg_val_str(const cJSON *v, const char *ctx, const char *field, int required, size_t maxlen,
		const char **out, char *err, size_t errlen);
int msg_val_name(const cJSON *v, const char *ctx, const char *field, int required,
		 const char **out, char *err, size_t errlen);
int msg_val_int(const cJSON *v, const char *ctx, const char *field, int required, int64_t min,
		int64_t max, int64_t *out, char *err, size_t errlen);
int msg_val_num(const cJSON *v, const char *ctx, const char *field, int required, double min,
		double max, double *out, char *err, size_t errlen);
int msg_val_obj(const cJSON *v, const char *ctx, const char *field, int required,
		const cJSON **out, char *err, size_t errlen);
int msg_val_array(const cJSON *v, const char *ctx, const char *field, int required,
		  const cJSON **out, char *err, size_t errlen);

/* A command: {"id":..,"op":..,"args":{..},"reply_to":..}. */
struct vmc_cmd {
	char id[VMC_ID_MAX + 1];
	char op[VMC_OP_MAX + 1];
	char reply_to[VMC_TOPIC_MAX + 1]; /* "" if absent */
	const cJSON *args;                /* borrowed from root; an empty object if absent */
	cJSON *root;                      /* owned; free with cmd_free */
};
/* Parses and validates a command. On error returns the code, fills err, and still fills
 * whatever of id/reply_to it could read so that the error can be answered. */
enum vmc_err cmd_parse(const void *payload, size_t len, struct vmc_cmd *cmd, char *err,
		       size_t errlen);
void cmd_free(struct vmc_cmd *cmd);
/* Builds a command message; args may be NULL; ownership of args passes to the result. */
cJSON *cmd_build(const char *sender, int64_t ts_ms, const char *id, const char *op, cJSON *args,
		 const char *reply_to);

/* Replies: {"v","from","ts","id","ok":true,"result":{..}} or
 * {"v","from","ts","id","ok":false,"error":{"code":..,"message":..}}.
 * Ownership of result passes to the reply; result may be NULL. id may be "" or NULL. */
cJSON *reply_ok(const char *sender, int64_t ts_ms, const char *id, cJSON *result);
cJSON *reply_err(const char *sender, int64_t ts_ms, const char *id, enum vmc_err code,
		 const char *message);

#endif
