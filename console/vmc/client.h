/* client.h - what vmc (and other clients) need from the bus: connect, send a
 * command and wait for its one reply, and read the cluster's retained state. */
#ifndef VMC_CLIENT_H
#define VMC_CLIENT_H

#include <cjson/cJSON.h>
#include <signal.h>

#include "../../lib/msg.h"

struct evloop;
struct bus;

struct client_opts {
	const char *broker;
	const char *cluster;
	const char *cafile, *certfile, *keyfile, *user, *password_file;
	int protocol;      /* 0 auto, 4, 5 */
	double timeout_s;  /* for connecting and for each reply */
	/* set by the caller's signal handler: every wait ends early once it is non-zero */
	volatile sig_atomic_t *stop;
};

struct client {
	struct client_opts opts;
	struct evloop *loop;
	struct bus *bus;
	char id[64];              /* MQTT client id, also names our reply topic */
	char sender[80];          /* "vmc/<id>" */
	char reply_topic[VMC_TOPIC_MAX];
	unsigned long next_cmd;
	/* waiting for one reply */
	const char *want_id;
	cJSON *reply;
	/* snapshot collection */
	int collecting;
	int synced;
	int retained_loads; /* retained host/<h>/load messages received while collecting */
	char sync_topic[VMC_TOPIC_MAX];
	cJSON *states;  /* object: host name -> state message */
	cJSON *loads;   /* object: host name -> load message */
	/* following */
	void (*on_message)(struct client *c, const char *rest, const cJSON *msg, void *ud);
	void *ud;
};

/* Connects and waits for the broker (up to timeout). Returns 0, or -1 with err. */
int client_open(struct client *c, const struct client_opts *o, char *err, size_t errlen);
void client_close(struct client *c);

/* Sends op with args (ownership passes) to topic rest (e.g. "cmd/host/h1"), waits for the
 * reply. Returns 0 and *reply (caller frees), or -1 with err on timeout. progress, if set,
 * receives every event while waiting (for migration progress). */
int client_call(struct client *c, const char *target, const char *op, cJSON *args,
		cJSON **reply, char *err, size_t errlen);

/* Collects the retained host state and load messages. Returns 0. */
int client_snapshot(struct client *c, double extra_wait_s);

/* Subscribes to a filter under vmc/<cluster>/ and delivers each message to on_message
 * until the loop stops. */
int client_follow(struct client *c, const char *filter);

/* Finds which host runs or defines vm (from the snapshot). NULL if none. */
const char *client_vm_host(struct client *c, const char *vm);

#endif
