/* hostcall.c - commands confd sends to host agents, each waiting for its one reply
 * without blocking the loop: matched by id on our reply topic, or timed out, by the
 * shared request/reply table (lib/bus/reqreply.h). */
#include "confd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/reqreply.h"
#include "../../lib/bus/reqreply_timer.h"
#include "../../lib/bus/topic.h"

struct hostcall {
	char host[VMC_NAME_MAX + 1];
	char op[VMC_OP_MAX + 1];
	confd_call_fn *fn;
	void *ud;
	struct confd *cd;
};

/* The one end of a call: its reply, or NULL when it timed out or confd stops. */
static void hostcall_end(void *ud, const char *id, enum reqreply_end end, const cJSON *reply)
{
	struct hostcall *c = ud;
	if (end == REQREPLY_TIMED_OUT)
		log_warnx("host %s did not answer %s (%s) in time", c->host, c->op, id);
	if (c->fn)
		c->fn(c->cd, end == REQREPLY_REPLIED ? reply : NULL, c->ud);
	free(c);
}

/* The table of waiting calls, made at the first call. */
static struct reqreply *hostcall_table(struct confd *cd)
{
	if (!cd->calls) {
		cd->calls = reqreply_new();
		cd->calls_timer = cd->calls ? reqreply_timer_new(cd->calls, cd->loop) : NULL;
		if (cd->calls && !cd->calls_timer) {
			reqreply_free(cd->calls);
			cd->calls = NULL;
		}
	}
	return cd->calls;
}

int confd_host_call(struct confd *cd, const char *host, const char *op, cJSON *args,
                    confd_call_fn *fn, void *ud)
{
	char topic[VMC_TOPIC_MAX], id[VMC_ID_MAX + 1];
	struct reqreply *rr = hostcall_table(cd);
	struct hostcall *c = rr ? calloc(1, sizeof *c) : NULL;
	if (!c || topic_fmt(topic, sizeof topic, cd->opts.cluster, "cmd/host/%s", host) < 0) {
		free(c);
		cJSON_Delete(args);
		return -1;
	}
	snprintf(id, sizeof id, "%s-%ld-%lu", cd->client_id, (long)confd_now(), reqreply_seq(rr));
	snprintf(c->host, sizeof c->host, "%s", host);
	snprintf(c->op, sizeof c->op, "%s", op);
	c->fn = fn;
	c->ud = ud;
	c->cd = cd;
	int64_t deadline = evloop_mono_ms() + (int64_t)(cd->opts.host_timeout_s * 1000);
	if (reqreply_add(rr, id, deadline, hostcall_end, c) < 0) {
		free(c);
		cJSON_Delete(args);
		return -1;
	}
	cJSON *m = cmd_build(cd->sender, confd_now(), id, op, args, cd->reply_topic);
	int rc = bus_publish_request(cd->bus, topic, m, cd->reply_topic, id, strlen(id));
	cJSON_Delete(m);
	if (rc < 0) {
		c->fn = NULL; /* not sent: the caller learns it from the -1 */
		reqreply_cancel(rr, id);
		return -1;
	}
	log_debug("sent %s %s to host %s", op, id, host);
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
	enum reqreply_match got = cd->calls ? reqreply_reply(cd->calls, r) : REQREPLY_UNKNOWN;
	if (got != REQREPLY_DELIVERED)
		log_debug("reply for no waiting call (%s id: late, repeated or not ours)",
		          reqreply_match_name(got));
	cJSON_Delete(r);
}

void confd_calls_cancel(struct confd *cd)
{
	if (!cd->calls)
		return;
	reqreply_timer_free(cd->calls_timer);
	cd->calls_timer = NULL;
	reqreply_cancel_all(cd->calls); /* each fn gets NULL, as for a timeout */
	reqreply_free(cd->calls);
	cd->calls = NULL;
}
