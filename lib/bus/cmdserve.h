/* cmdserve.h - what every agent that answers commands (vmc-hostd, vmc-confd) does the same
 * way around its own op tables: it keeps where a command's one reply goes, answers a
 * repeated id from its id cache (idcache.h) instead of running the command again, and sends
 * the reply, remembering it for repeats. */
#ifndef VMC_CMDSERVE_H
#define VMC_CMDSERVE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "idcache.h"

struct bus;
struct bus_msg;

/* Where a command's reply goes beside its reply_to: MQTT 5's response topic and
 * correlation data of its message, copied (the reply may come long after the message). */
struct cmd_route {
	char *response_topic; /* NULL if none */
	void *correlation;    /* NULL if none */
	size_t correlation_len;
};

/* Copies m's response topic and correlation data into r. What memory does not allow is
 * left out: the reply then goes to reply_to. */
void cmd_route_copy(struct cmd_route *r, const struct bus_msg *m);
void cmd_route_free(struct cmd_route *r);

/* Looks up the id of a command just parsed in ids. IDCACHE_NEW: a command to carry out (now
 * pending in ids). Otherwise a repeat, already dealt with here: answered again from the cache
 * to r and reply_to (wherever this copy asked) when it has ended, else left to the reply
 * still to come. */
enum idcache_state cmd_repeat(struct bus *b, struct idcache *ids, const char *id,
                              const struct cmd_route *r, const char *reply_to);

/* Sends reply to r or reply_to, remembered first in ids as the answer to id (unless id is
 * ""). Returns 0, or -1 if there was nowhere to send it (bus_reply). */
int cmd_reply_send(struct bus *b, struct idcache *ids, const char *id, const struct cmd_route *r,
                   const char *reply_to, const cJSON *reply);

#endif
