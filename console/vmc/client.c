/* client.c - the bus side of vmc: connect, call, snapshot, follow. */
#include "client.h"

#include "../../lib/bus/bus.h"
#include "../../lib/bus/reply.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/reqreply.h"
#include "../../lib/bus/topic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLIENT_SYNC_FALLBACK_MS 500
/* One load interval of the host agents (2 s by default) and a margin. */
#define CLIENT_LOAD_WAIT_S 2.5

static void client_on_message(struct bus *b, const struct bus_msg *m, void *ud)
{
	struct client *c = ud;
	if (strcmp(m->topic, c->sync_topic) == 0) {
		c->synced = 1;
		return;
	}
	const char *rest = topic_rest(m->topic, c->opts.cluster);
	if (!rest)
		return;
	if (c->collecting &&
	    (topic_matches("host/+/state", rest) || topic_matches("host/+/load", rest))) {
		char err[VMC_ERR_MAX]; /* someone else's garbage is not ours to report */
		c->retained_loads += m->retain && topic_matches("host/+/load", rest);
		cluster_model_apply(c->model, rest, m->payload, m->len, m->retain, evloop_wall_ms(),
		                    err, sizeof(err));
		return;
	}
	cJSON *msg = NULL;
	char err[VMC_ERR_MAX];
	if (m->len > 0 && msg_parse(m->payload, m->len, &msg, err, sizeof(err)) != VMC_OK)
		return; /* someone else's garbage is not ours to report */
	if (msg && topic_check_sender(rest, msg, err, sizeof(err)) < 0) {
		cJSON_Delete(msg); /* it speaks for another sender than its topic's */
		return;
	}
	if (msg && strncmp(rest, "reply/", 6) == 0 && reqreply_pending(c->calls) &&
	    reqreply_reply(c->calls, msg) == REQREPLY_DELIVERED) {
		c->reply = msg; /* the reply client_call waits for (once: its call has ended) */
		return;
	}
	if (c->on_message && msg)
		c->on_message(c, rest, msg, c->ud);
	cJSON_Delete(msg);
}

/* A connection attempt failed: remembered for client_open, which decides when to stop. */
static void client_on_connect_failed(struct bus *b, enum bus_fail kind, const char *why, void *ud)
{
	struct client *c = ud;
	c->connect_failures++;
	c->closed_failures += kind == BUS_FAIL_CLOSED;
	c->fail = kind == BUS_FAIL_AUTH ? CLIENT_FAIL_DENIED : CLIENT_FAIL_UNREACHABLE;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

static void client_on_refused(struct bus *b, const char *topic, int reason, const char *why,
                              void *ud)
{
	struct client *c = ud;
	if (topic && strcmp(topic, c->sync_topic) == 0) {
		c->sync_refused = 1; /* a read-only user: reading still works */
		return;
	}
	if (!c->refused)
		snprintf(c->why, sizeof(c->why), "%s", why);
	c->refused = 1;
}

/* Whether the failed attempts so far tell enough: a connection closed before the broker
 * answered may be a broker of the other MQTT version, tried next when the version is not
 * forced; every other failure is final for a command-line client. */
static int client_connect_hopeless(const struct client *c)
{
	if (c->connect_failures == 0)
		return 0;
	if (c->connect_failures > c->closed_failures)
		return 1;
	return c->closed_failures >= (c->opts.conn.protocol == 0 ? 2 : 1);
}

int client_fail_status(const struct client *c)
{
	switch (c->fail) {
	case CLIENT_FAIL_UNREACHABLE:
		return 4;
	case CLIENT_FAIL_DENIED:
		return 5;
	default:
		return 3;
	}
}

int client_reply_ok(const cJSON *reply, int json)
{
	struct reply_outcome o;
	if (reply_read(reply, &o) == REPLY_OK)
		return 1;
	if (json) {
		char *t = cJSON_Print(reply);
		printf("%s\n", t ? t : "{}");
		free(t);
	}
	fprintf(stderr, "vmc: %s: %s\n", o.code_text ? o.code_text : "error",
	        o.message ? o.message : "failed");
	return 0;
}

static int stopped(const struct client *c)
{
	return c->opts.stop && *c->opts.stop;
}

int client_open(struct client *c, const struct client_opts *o, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->opts = *o;
	if (c->opts.timeout_s <= 0)
		c->opts.timeout_s = 10;
	busconn_client_id(c->id, sizeof(c->id), "vmc");
	snprintf(c->sender, sizeof(c->sender), "vmc/%s", c->id);
	topic_fmt(c->reply_topic, sizeof(c->reply_topic), c->opts.cluster, "reply/%s", c->id);
	topic_fmt(c->sync_topic, sizeof(c->sync_topic), c->opts.cluster, "reply/%s/sync", c->id);
	c->model = cluster_model_new(1);
	c->calls = reqreply_new();
	c->loop = evloop_new();
	struct bus_opts bo = {
	    .client_id = c->id,
	    .on_message = client_on_message,
	    .on_connect_failed = client_on_connect_failed,
	    .on_refused = client_on_refused,
	    .ud = c,
	};
	if (!c->calls || !c->loop) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->bus = busconn_new(c->loop, o->broker, &o->conn, &bo, NULL, err, errlen);
	if (!c->bus)
		return -1;
	bus_subscribe(c->bus, c->reply_topic, 1);
	bus_subscribe(c->bus, c->sync_topic, 1);
	bus_start(c->bus);
	int64_t end = evloop_mono_ms() + (int64_t)(c->opts.timeout_s * 1000);
	while (!bus_connected(c->bus) && evloop_mono_ms() < end && !stopped(c) &&
	       !client_connect_hopeless(c))
		evloop_run_once(c->loop, 100);
	if (!bus_connected(c->bus) && stopped(c)) {
		c->fail = CLIENT_FAIL_NO_REPLY;
		snprintf(err, errlen, "interrupted while connecting to the broker");
		return -1;
	}
	if (!bus_connected(c->bus) && client_connect_hopeless(c)) {
		snprintf(err, errlen, "%s", c->why);
		return -1;
	}
	if (!bus_connected(c->bus)) {
		c->fail = CLIENT_FAIL_UNREACHABLE;
		snprintf(err, errlen, "cannot reach the broker at %s within %g s",
			 o->broker ? o->broker : "mqtt://127.0.0.1:1883", c->opts.timeout_s);
		return -1;
	}
	return 0;
}

void client_close(struct client *c)
{
	if (c->bus) {
		bus_flush(c->bus, 1000);
		bus_disconnect(c->bus);
		bus_free(c->bus);
	}
	reqreply_free(c->calls);
	cJSON_Delete(c->reply);
	cluster_model_free(c->model);
	evloop_free(c->loop);
}

/* Waits until the broker echoes our sync message: every retained message of the
 * subscriptions made before it has then arrived. */
static void client_sync(struct client *c)
{
	c->synced = 0;
	if (!c->sync_refused)
		bus_publish(c->bus, c->sync_topic, "{}", 2, 1, 0);
	int64_t end = evloop_mono_ms() + (int64_t)(c->opts.timeout_s * 1000);
	while (!c->synced && !c->sync_refused && evloop_mono_ms() < end && !stopped(c) &&
	       !c->refused)
		evloop_run_once(c->loop, 100);
	/* credentials that may not publish the sync message: the retained messages come at
	 * once after the subscription; give them a moment instead */
	end = evloop_mono_ms() + CLIENT_SYNC_FALLBACK_MS;
	while (!c->synced && c->sync_refused && evloop_mono_ms() < end && !stopped(c))
		evloop_run_once(c->loop, 50);
}

int client_call(struct client *c, const char *target, const char *op, cJSON *args,
		cJSON **reply, char *err, size_t errlen)
{
	char id[VMC_ID_MAX + 1], topic[VMC_TOPIC_MAX];
	snprintf(id, sizeof(id), "%s-%lu", c->id, reqreply_seq(c->calls));
	topic_fmt(topic, sizeof(topic), c->opts.cluster, "%s", target);
	cJSON *cmd = cmd_build(c->sender, evloop_wall_ms(), id, op, args, c->reply_topic);
	client_sync(c); /* our reply subscription is in place before we ask */
	cJSON_Delete(c->reply);
	c->reply = NULL;
	int64_t end = evloop_mono_ms() + (int64_t)(c->opts.timeout_s * 1000);
	if (reqreply_add(c->calls, id, end, NULL, NULL) < 0) {
		cJSON_Delete(cmd);
		snprintf(err, errlen, "out of memory: %s to %s not sent", op, target);
		return -1;
	}
	bus_publish_request(c->bus, topic, cmd, c->reply_topic, id, strlen(id));
	cJSON_Delete(cmd);
	while (reqreply_waiting(c->calls, id) && !stopped(c) && !c->refused) {
		evloop_run_once(c->loop, 100);
		reqreply_expire(c->calls, evloop_mono_ms());
	}
	reqreply_cancel(c->calls, id); /* interrupted, or refused: it ends here */
	if (!c->reply && c->refused) {
		c->fail = CLIENT_FAIL_DENIED;
		snprintf(err, errlen, "%s: %s to %s not sent", c->why, op, target);
		return -1;
	}
	c->fail = CLIENT_FAIL_NO_REPLY;
	if (!c->reply && stopped(c)) {
		snprintf(err, errlen,
			 "interrupted before the reply to %s from %s (command id %s, which may "
			 "still be carried out)",
			 op, target, id);
		return -1;
	}
	if (!c->reply) {
		snprintf(
		    err, errlen, "no reply to %s from %s within %g s%s", op, target,
		    c->opts.timeout_s,
		    bus_protocol(c->bus) == 4
		        ? " (over MQTT 3.1.1 a publish the broker refuses is dropped without a "
		          "word: check the user's rights)"
		        : "");
		return -1;
	}
	*reply = c->reply;
	c->reply = NULL;
	return 0;
}

int client_snapshot(struct client *c, double extra_wait_s)
{
	char f[VMC_TOPIC_MAX];
	c->collecting = 1;
	topic_fmt(f, sizeof(f), c->opts.cluster, "host/+/state");
	bus_subscribe(c->bus, f, 1);
	topic_fmt(f, sizeof(f), c->opts.cluster, "host/+/load");
	bus_subscribe(c->bus, f, 0);
	client_sync(c);
	/* brokers that kept no retained load for us (RabbitMQ keeps them on one node and gives
	 * none to wildcard subscriptions): wait one load interval for the periodic ones, which
	 * may have begun to come (live) before the sync marker */
	double w = extra_wait_s > 0 ? extra_wait_s : !c->retained_loads ? CLIENT_LOAD_WAIT_S : 0;
	int64_t end = evloop_mono_ms() + (int64_t)(w * 1000);
	while (evloop_mono_ms() < end && !stopped(c))
		evloop_run_once(c->loop, 100);
	c->snap_synced = c->synced || c->sync_refused;
	return 0;
}

int client_snapshot_missing(struct client *c, const char *only_host, int *total, char *names,
                            size_t len)
{
	int n = 0;
	size_t used = 0;
	*total = 0;
	if (len)
		names[0] = '\0';
	for (size_t i = 0; i < cluster_model_host_count(c->model); i++) {
		const struct cm_host *h = cluster_model_host_at(c->model, i);
		if (only_host && strcmp(h->name, only_host) != 0)
			continue;
		++*total;
		if (cluster_model_host_reported(h))
			continue;
		if (n++ < 10 && used < len) {
			int k = snprintf(names + used, len - used, "%s%s", used ? ", " : "",
			                 h->name);
			used = k < 0 ? len : used + (size_t)k;
		} else if (n == 11 && used < len) {
			int k = snprintf(names + used, len - used, ", ...");
			used = k < 0 ? len : used + (size_t)k;
		}
	}
	return n;
}

int client_snapshot_complete(struct client *c, const char *only_host, double wait_s,
                             void (*note)(struct client *c, const char *only_host))
{
	int64_t end = evloop_mono_ms() + (int64_t)(wait_s * 1000);
	int noted = 0, total;
	char names[8];
	for (;;) {
		if (c->synced || c->sync_refused)
			c->snap_synced = 1;
		if (c->snap_synced &&
		    !client_snapshot_missing(c, only_host, &total, names, sizeof(names)))
			return 1;
		if (stopped(c) || (wait_s >= 0 && evloop_mono_ms() >= end))
			return 0;
		int phase = c->snap_synced ? 2 : 1; /* waiting for the broker, for hosts */
		if (note && phase != noted)
			note(c, only_host);
		noted = phase;
		/* judged again every 100 ms, not at each of the loads arriving meanwhile */
		int64_t next = evloop_mono_ms() + 100;
		while (evloop_mono_ms() < next && !stopped(c))
			evloop_run_once(c->loop, 100);
	}
}

int client_follow(struct client *c, const char *filter)
{
	char f[VMC_TOPIC_MAX];
	topic_fmt(f, sizeof(f), c->opts.cluster, "%s", filter);
	if (bus_subscribe(c->bus, f, 1) < 0)
		return -1;
	client_sync(c);
	return c->synced ? 0 : -1;
}

const char *client_vm_host(struct client *c, const char *vm, char *buf, size_t len)
{
	const struct cm_vm *v = cluster_model_vm_find(c->model, vm);
	if (!v || !v->host[0])
		return NULL;
	snprintf(buf, len, "%s", v->host);
	return buf;
}

const char *client_find_vm_host(struct client *c, const char *host, const char *vm, char *buf,
                                size_t len)
{
	if (host)
		return host;
	client_snapshot(c, 0);
	const char *h = client_vm_host(c, vm, buf, len);
	if (!h)
		fprintf(stderr, "vmc: vm %s: not found on any host (give --host)\n", vm);
	return h;
}
