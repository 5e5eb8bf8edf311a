/* hostd_msg.c - one bus message as the host agent's modules read it: its JSON is
 * parsed once, on the first module's asking, and shared by every module after it
 * (the agent's cluster model, model.c, and the modules after it). */
#include "hostd.h"

#include <string.h>

#include "../../lib/bus/topic.h"

void hostd_msg_init(struct hostd_msg *m, const struct bus_msg *raw, const char *rest)
{
	memset(m, 0, sizeof(*m));
	m->raw = raw;
	m->rest = rest;
}

const cJSON *hostd_msg_json(struct hostd_msg *m)
{
	if (!m->tried) {
		m->tried = 1; /* msg_parse leaves json NULL when it fails */
		msg_parse(m->raw->payload, m->raw->len, &m->json, m->err, sizeof(m->err));
		if (m->json && topic_check_sender(m->rest, m->json, m->err, sizeof(m->err)) < 0) {
			cJSON_Delete(m->json); /* it speaks for another sender */
			m->json = NULL;
			m->forged = 1;
		}
	}
	return m->json;
}

void hostd_msg_free(struct hostd_msg *m)
{
	cJSON_Delete(m->json);
	m->json = NULL;
}
