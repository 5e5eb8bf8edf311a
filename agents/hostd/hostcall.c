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
#include "../../lib/bus/topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hostcall_wait {
	struct hostcall_wait *next;
	char id[VMC_ID_MAX + 1];
	int64_t deadline;
	hostcall_fn *fn;
	void *ud;
};

/* The ops a peer host may ask of this one. */
static const char *const hostcall_peer_ops[] = {"vm.migrate", NULL};

struct hostcall {
	char reply_topic[VMC_TOPIC_MAX];
	char peer_topic[VMC_TOPIC_MAX];     /* balance/peer/<name>/+: requests to us */
	char peer_what[VMC_TOPIC_MAX + 64]; /* names it in refusals */
	struct hostcall_wait *waits;
	unsigned long next;
	long long timer;
};

/* Unlinks and returns the wait for id, or NULL. */
static struct hostcall_wait *hostcall_take(struct hostcall *hc, const char *id)
{
	for (struct hostcall_wait **p = &hc->waits; *p; p = &(*p)->next) {
		if (strcmp((*p)->id, id) == 0) {
			struct hostcall_wait *w = *p;
			*p = w->next;
			return w;
		}
	}
	return NULL;
}

static long hostcall_tick(struct evloop *loop, long long id, void *ud);

/* Sets the timer to the earliest deadline of the waits, none when nothing waits. */
static void hostcall_arm(struct migrate *m)
{
	struct hostcall *hc = m->calls;
	if (hc->timer)
		evloop_del_timer(m->h->loop, hc->timer);
	hc->timer = 0;
	if (!hc->waits)
		return;
	int64_t first = hc->waits->deadline;
	for (const struct hostcall_wait *w = hc->waits; w; w = w->next)
		if (w->deadline < first)
			first = w->deadline;
	int64_t ms = first - evloop_mono_ms();
	hc->timer = evloop_add_timer(m->h->loop, ms > 0 ? (long)ms : 0, hostcall_tick, m);
}

static long hostcall_tick(struct evloop *loop, long long id, void *ud)
{
	struct migrate *m = ud;
	struct hostcall *hc = m->calls;
	int64_t now = evloop_mono_ms();
	hc->timer = 0; /* this one ends (-1): the ids of repeating timers change */
	for (;;) {
		struct hostcall_wait *w;
		for (w = hc->waits; w && w->deadline > now; w = w->next)
			;
		if (!w)
			break;
		w = hostcall_take(hc, w->id);
		w->fn(m->h, w->ud, NULL, "no reply in time");
		free(w);
	}
	hostcall_arm(m);
	return -1;
}

int hostcall_init(struct migrate *m)
{
	struct hostcall *hc = calloc(1, sizeof(*hc));
	if (!hc)
		return -1;
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
	while (hc->waits) {
		struct hostcall_wait *w = hc->waits;
		hc->waits = w->next;
		w->fn(m->h, w->ud, NULL, "the host agent stopped");
		free(w);
	}
	evloop_del_timer(m->h->loop, hc->timer);
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
	const cJSON *id = cJSON_GetObjectItem(j, "id");
	struct hostcall_wait *w = cJSON_IsString(id) ? hostcall_take(hc, id->valuestring) : NULL;
	if (w) {
		w->fn(m->h, w->ud, j, NULL);
		free(w);
	}
	return 1;
}

int hostcall_send(struct migrate *m, const char *host, const char *op, cJSON *args, long timeout_ms,
                  hostcall_fn *fn, void *ud)
{
	struct hostd *h = m->h;
	struct hostcall *hc = m->calls;
	char topic[VMC_TOPIC_MAX];
	struct hostcall_wait *w = calloc(1, sizeof(*w));
	if (!w || topic_fmt(topic, sizeof(topic), h->opts.cluster, "balance/peer/%s/%s", host,
	                    h->opts.name) < 0) {
		free(w);
		cJSON_Delete(args);
		return -1;
	}
	snprintf(w->id, sizeof(w->id), "host-%s-%lld-%lu", h->opts.name, (long long)h->session,
	         ++hc->next);
	w->deadline = evloop_mono_ms() + timeout_ms;
	w->fn = fn;
	w->ud = ud;
	cJSON *cmd = cmd_build(h->sender, hostd_now(h), w->id, op, args, hc->reply_topic);
	int rc = bus_publish_request(h->bus, topic, cmd, hc->reply_topic, w->id, strlen(w->id));
	cJSON_Delete(cmd);
	if (rc < 0) {
		free(w);
		return -1;
	}
	w->next = hc->waits;
	hc->waits = w;
	hostcall_arm(m);
	log_debug("asked %s: %s (%s)", host, op, w->id);
	return 0;
}
