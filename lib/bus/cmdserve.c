/* cmdserve.c - answering commands the same way in every agent (cmdserve.h). */
#include "cmdserve.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "msg.h"
#include "../core/log.h"

void cmd_route_copy(struct cmd_route *r, const struct bus_msg *m)
{
	*r = (struct cmd_route){0};
	if (m->response_topic)
		r->response_topic = strdup(m->response_topic);
	if (m->correlation && m->correlation_len) {
		r->correlation = malloc(m->correlation_len);
		if (r->correlation) {
			memcpy(r->correlation, m->correlation, m->correlation_len);
			r->correlation_len = m->correlation_len;
		}
	}
}

void cmd_route_free(struct cmd_route *r)
{
	free(r->response_topic);
	free(r->correlation);
	*r = (struct cmd_route){0};
}

/* r as bus_reply takes it. */
static struct bus_msg route_msg(const struct cmd_route *r)
{
	struct bus_msg m = {.response_topic = r->response_topic,
	                    .correlation = r->correlation,
	                    .correlation_len = r->correlation_len};
	return m;
}

enum idcache_state cmd_repeat(struct bus *b, struct idcache *ids, const char *id,
                              const struct cmd_route *r, const char *reply_to)
{
	const char *stored;
	enum idcache_state st = idcache_begin(ids, id, &stored);
	if (st == IDCACHE_DONE) {
		cJSON *again = cJSON_Parse(stored);
		struct bus_msg rm = route_msg(r);
		if (again)
			bus_reply(b, &rm, reply_to, again);
		cJSON_Delete(again);
		log_debug("command %s repeated: answered from the cache", id);
	} else if (st == IDCACHE_PENDING) {
		log_debug("command %s repeated while running: ignored", id);
	}
	return st;
}

int cmd_reply_send(struct bus *b, struct idcache *ids, const char *id, const struct cmd_route *r,
                   const char *reply_to, const cJSON *reply)
{
	struct bus_msg m = route_msg(r);
	char *text = msg_print(reply);
	if (id[0] && text)
		idcache_finish(ids, id, text);
	free(text);
	return bus_reply(b, &m, reply_to, reply);
}
