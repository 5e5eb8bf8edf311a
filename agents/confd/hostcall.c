/* hostcall.c - commands confd sends to host agents, each waiting for its one reply
 * without blocking the loop: a timer per call, matched by id on our reply topic. */
#include "confd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/topic.h"

struct hostcall {
	char id[VMC_ID_MAX + 1];
	char host[VMC_NAME_MAX + 1];
	char op[VMC_OP_MAX + 1];
	confd_call_fn *fn;
	void *ud;
	long long timer;
	struct confd *cd;
	struct hostcall *next;
};

static void unlink_call(struct confd *cd, struct hostcall *c)
{
	for (struct hostcall **p = &cd->calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			return;
		}
}

static long on_timeout(struct evloop *loop, long long id, void *ud)
{
	struct hostcall *c = ud;
	struct confd *cd = c->cd;
	log_warnx("host %s did not answer %s (%s) in time", c->host, c->op, c->id);
	unlink_call(cd, c);
	if (c->fn)
		c->fn(cd, NULL, c->ud);
	free(c);
	return -1;
}

int confd_host_call(struct confd *cd, const char *host, const char *op, cJSON *args,
                    confd_call_fn *fn, void *ud)
{
	char topic[VMC_TOPIC_MAX];
	struct hostcall *c = calloc(1, sizeof *c);
	if (!c || topic_fmt(topic, sizeof topic, cd->opts.cluster, "cmd/host/%s", host) < 0) {
		free(c);
		cJSON_Delete(args);
		return -1;
	}
	snprintf(c->id, sizeof c->id, "%s-%ld-%lu", cd->client_id, (long)confd_now(),
	         ++cd->next_call);
	snprintf(c->host, sizeof c->host, "%s", host);
	snprintf(c->op, sizeof c->op, "%s", op);
	c->fn = fn;
	c->ud = ud;
	c->cd = cd;
	cJSON *m = cmd_build(cd->sender, confd_now(), c->id, op, args, cd->reply_topic);
	int rc = bus_publish_request(cd->bus, topic, m, cd->reply_topic, c->id, strlen(c->id));
	cJSON_Delete(m);
	if (rc < 0) {
		free(c);
		return -1;
	}
	c->timer =
	    evloop_add_timer(cd->loop, (long)(cd->opts.host_timeout_s * 1000), on_timeout, c);
	c->next = cd->calls;
	cd->calls = c;
	log_debug("sent %s %s to host %s", op, c->id, host);
	return 0;
}

void confd_host_reply(struct confd *cd, const struct bus_msg *m)
{
	cJSON *r = NULL;
	char err[VMC_ERR_MAX];
	if (msg_parse(m->payload, m->len, &r, err, sizeof err) != VMC_OK) {
		log_warnx("unreadable reply on %s: %s", m->topic, err);
		return;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
	struct hostcall *c = cd->calls;
	while (c && !(cJSON_IsString(id) && strcmp(c->id, id->valuestring) == 0))
		c = c->next;
	if (!c) {
		log_debug("reply for no waiting call (late, or repeated)");
		cJSON_Delete(r);
		return;
	}
	unlink_call(cd, c);
	evloop_del_timer(cd->loop, c->timer);
	if (c->fn)
		c->fn(cd, r, c->ud);
	free(c);
	cJSON_Delete(r);
}

void confd_calls_cancel(struct confd *cd)
{
	while (cd->calls) {
		struct hostcall *c = cd->calls;
		cd->calls = c->next;
		evloop_del_timer(cd->loop, c->timer);
		if (c->fn)
			c->fn(cd, NULL, c->ud);
		free(c);
	}
}

int confd_reply_status(const cJSON *reply, enum vmc_err *code, const char **message)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		return 1;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	*code = cJSON_IsString(c) ? vmc_err_parse(c->valuestring) : VMC_E_FAILED;
	*message = cJSON_IsString(msg) ? msg->valuestring : "no message";
	return 0;
}
