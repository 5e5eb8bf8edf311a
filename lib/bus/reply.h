/* reply.h - reading a command's reply: ok and its result, or the error's code and message.
 * The one reader for every program that waits for replies (vmc, vmtop-cluster, vmc-confd's
 * commands to hosts, a host's requests to its peers). Pure.
 *
 * A reply is {"ok":true,"result":..} or {"ok":false,"error":{"code":..,"message":..}}
 * (msg.h builds them). It comes from the bus, so anything may come instead: every field is
 * checked and a missing or wrong-typed one is reported as absent, never read. */
#ifndef VMC_REPLY_H
#define VMC_REPLY_H

#include <cjson/cJSON.h>

#include "msg.h"

enum reply_kind {
	REPLY_OK,        /* "ok" is true */
	REPLY_ERROR,     /* "ok" is false */
	REPLY_MALFORMED, /* "ok" is missing or not true or false (bad says which) */
};

/* What a reply says. Its pointers are into the reply: they live as long as it does. */
struct reply_outcome {
	enum reply_kind kind;
	const cJSON *result; /* REPLY_OK: "result" of whatever type, or NULL */
	/* REPLY_ERROR and REPLY_MALFORMED: from "error", when that is an object */
	enum vmc_err code;     /* its "code" (vmc_err_parse: VMC_E_INTERNAL if unknown), or
	                        * VMC_E_FAILED if it names none */
	const char *code_text; /* its "code" as written, or NULL if none or not a string */
	const char *message;   /* its "message", or NULL if none or not a string */
	char bad[VMC_ERR_MAX]; /* REPLY_MALFORMED: "reply.ok: ..." naming what is wrong; else "" */
};

/* Reads reply (NULL, or any JSON) into o. Returns o->kind. */
enum reply_kind reply_read(const cJSON *reply, struct reply_outcome *o);

#endif
