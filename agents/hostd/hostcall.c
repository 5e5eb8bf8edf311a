/* hostcall.c - host agents asking each other: peer requests.
 *
 * A host may not publish commands (cmd/# is for admins and the config agent), so a
 * request to another host goes on balance/peer/<h>, which hosts may write and read:
 * the usual command JSON with an id and reply_to = vmc/<c>/reply/host/<name> (the one
 * reply topic the production ACL lets this host read); its reply is matched by id when
 * it comes, or a timeout. Undrain uses it to ask the hosts that hold drained VMs to
 * send them back. The other side: requests on balance/peer/<name> go through the
 * command path with an allow-list (vm.migrate only); any other op is refused. */
#include "migrate/migrate.h"

#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/reqreply.h"
#include "../../lib/bus/reqreply_timer.h"
#include "../../lib/bus/topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One request waiting: whom to tell. */
struct hostcall_wait {
	struct hostd *h;
	hostcall_fn *fn;
	void *ud;
};

/* The ops a peer host may ask of this one. */
static const char *const hostcall_peer_ops[] = {"vm.migrate", NULL};

struct hostcall {
	char reply_topic[VMC_TOPIC_MAX];
	char peer_topic[VMC_TOPIC_MAX];     /* balance/peer/<name>/+: requests to us */
	char peer_what[VMC_TOPIC_MAX + 64]; /* names it in refusals */
	struct reqreply *waits;
	struct reqreply_timer *timer;
};

/* The one end of a request: its reply, a timeout, or the agent stopping. */
static void hostcall_end(void *ud, const char *id, enum reqreply_end end, const cJSON *reply)
{
	struct hostcall_wait *w = ud;
	if (end == REQREPLY_REPLIED)
		w->fn(w->h, w->ud, reply, NULL);
	else
		w->fn(w->h, w->ud, NULL,
		      end == REQREPLY_TIMED_OUT ? "no reply in time" : "the host agent stopped");
	free(w);
}

int hostcall_init(struct migrate *m)
{
	struct hostcall *hc = calloc(1, sizeof(*hc));
	if (!hc)
		return -1;
	hc->waits = reqreply_new();
	hc->timer = hc->waits ? reqreply_timer_new(hc->waits, m->h->loop) : NULL;
	if (!hc->timer) {
		reqreply_free(hc->waits);
		free(hc);
		return -1;
	}
	topic_fmt(hc->reply_topic, sizeof(hc->reply_topic), m->h->opts.cluster, "reply/host/%s",
	          m->h->opts.name);
	topic_fmt(hc->peer_topic, sizeof(hc->peer_topic), m->h->opts.cluster, "balance/peer/%s/+",
	          m->h->opts.name);
	snprintf(hc->peer_what, sizeof(hc->peer_what), "%s (peer hosts may ask only vm.migrate)",
	         hc->peer_topic);
	m->calls = hc;
	return 0;
}

void hostcall_free(struct migrate *m)
{
	struct hostcall *hc = m->calls;
	if (!hc)
		return;
	reqreply_timer_free(hc->timer);
	reqreply_free(hc->waits); /* each waiting request: "the host agent stopped" */
	free(hc);
	m->calls = NULL;
}

void hostcall_connected(struct migrate *m)
{
	bus_subscribe(m->h->bus, m->calls->reply_topic, 1);
	bus_subscribe(m->h->bus, m->calls->peer_topic, 1);
}

int hostcall_message(struct migrate *m, struct hostd_msg *msg)
{
	struct hostcall *hc = m->calls;
	if (!hc)
		return 0;
	if (topic_matches(hc->peer_topic, msg->raw->topic)) {
		/* balance/peer/<us>/<sender>: the request must be the sender's own */
		hostd_msg_json(msg);
		if (!msg->forged)
			hostd_command_allowed(m->h, msg->raw, hostcall_peer_ops, hc->peer_what);
		return 1;
	}
	if (strncmp(msg->rest, "balance/peer/", 13) == 0)
		return 1; /* another host's requests (balance/# is read by the balancer) */
	if (strcmp(msg->raw->topic, hc->reply_topic) != 0)
		return 0;
	const cJSON *j = hostd_msg_json(msg);
	if (!j)
		return 1;
	enum reqreply_match got = reqreply_reply(hc->waits, j);
	if (got != REQREPLY_DELIVERED)
		log_debug("reply on %s for no waiting request (%s id)", msg->raw->topic,
		          reqreply_match_name(got));
	return 1;
}

int hostcall_send(struct migrate *m, const char *host, const char *op, cJSON *args, long timeout_ms,
                  hostcall_fn *fn, void *ud)
{
	struct hostd *h = m->h;
	struct hostcall *hc = m->calls;
	char topic[VMC_TOPIC_MAX], id[VMC_ID_MAX + 1];
	if (topic_fmt(topic, sizeof(topic), h->opts.cluster, "balance/peer/%s/%s", host,
	              h->opts.name) < 0) {
		cJSON_Delete(args);
		return -1;
	}
	struct hostcall_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		cJSON_Delete(args);
		return -1;
	}
	w->h = h;
	w->fn = fn;
	w->ud = ud;
	snprintf(id, sizeof(id), "host-%s-%lld-%lu", h->opts.name, (long long)h->session,
	         reqreply_seq(hc->waits));
	cJSON *cmd = cmd_build(h->sender, hostd_now(h), id, op, args, hc->reply_topic);
	int rc = bus_publish_request(h->bus, topic, cmd, hc->reply_topic, id, strlen(id));
	cJSON_Delete(cmd);
	if (rc < 0 ||
	    reqreply_add(hc->waits, id, evloop_mono_ms() + timeout_ms, hostcall_end, w) < 0) {
		free(w);
		return -1;
	}
	log_debug("asked %s: %s (%s)", host, op, id);
	return 0;
}
