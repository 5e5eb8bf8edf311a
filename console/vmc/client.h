/* client.h - what vmc (and other clients) need from the bus: connect, send a
 * command and wait for its one reply, and read the cluster's retained state. */
#ifndef VMC_CLIENT_H
#define VMC_CLIENT_H

#include <cjson/cJSON.h>
#include <signal.h>

#include "../../lib/bus/busconn.h"
#include "../../lib/bus/msg.h"

struct evloop;
struct bus;
struct cluster_model;
struct reqreply;

/* Why the last connect or call failed; vmc's exit statuses follow it. */
enum client_fail {
	CLIENT_FAIL_NONE = 0,
	CLIENT_FAIL_NO_REPLY,    /* no reply within the timeout, or interrupted */
	CLIENT_FAIL_UNREACHABLE, /* the broker could not be reached or dropped the connection */
	CLIENT_FAIL_DENIED, /* the broker refused our credentials, a publish or a subscription */
};

struct client_opts {
	const char *broker;
	const char *cluster;
	struct busconn_opts conn; /* TLS, credentials, MQTT version (keepalive: the bus's) */
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
	/* the call waiting for its reply, and the reply when it came */
	struct reqreply *calls;
	cJSON *reply;
	/* snapshot collection */
	int collecting;
	int synced;
	int retained_loads; /* retained host/<h>/load messages received while collecting */
	int snap_synced;    /* the snapshot's sync came back: every retained message is in */
	char sync_topic[VMC_TOPIC_MAX];
	/* the hosts and VMs as their host/+/state and host/+/load messages show them */
	struct cluster_model *model;
	/* following */
	void (*on_message)(struct client *c, const char *rest, const cJSON *msg, void *ud);
	void *ud;
	/* failures reported by the bus */
	enum client_fail fail;
	int connect_failures;
	int closed_failures; /* of those, connections closed before the broker answered */
	int refused;         /* the broker refused a publish or subscription */
	int sync_refused;    /* read-only credentials: the sync message cannot be sent */
	char why[512];
};

/* Connects and waits for the broker (up to timeout). Returns 0, or -1 with err. */
int client_open(struct client *c, const struct client_opts *o, char *err, size_t errlen);
void client_close(struct client *c);

/* Sends op with args (ownership passes) to topic rest (e.g. "cmd/host/h1"), waits for the
 * reply. Returns 0 and *reply (caller frees), or -1 with err on timeout. progress, if set,
 * receives every event while waiting (for migration progress). */
int client_call(struct client *c, const char *target, const char *op, cJSON *args,
		cJSON **reply, char *err, size_t errlen);

/* Collects the retained host state and load messages into c->model. Returns 0. */
int client_snapshot(struct client *c, double extra_wait_s);

/* What a snapshot lacks: hosts whose retained state says online or maintenance but
 * whose load (of the session the state names) has not come, so that their figures and
 * VMs are missing; only_host, if set, limits the check to that host. Returns how many;
 * *total is the number of hosts known (only_host: 1), names lists the first of them
 * ("h17, h42, ..."). */
int client_snapshot_missing(struct client *c, const char *only_host, int *total, char *names,
                            size_t len);

/* Waits until the snapshot is complete (the sync came back and nothing is missing),
 * for up to wait_s seconds (< 0: until a signal), the loads arriving meanwhile.
 * note, if set, is called when a wait begins and when what it waits for changes.
 * Returns 1 if complete. */
int client_snapshot_complete(struct client *c, const char *only_host, double wait_s,
                             void (*note)(struct client *c, const char *only_host));

/* Subscribes to a filter under vmc/<cluster>/ and delivers each message to on_message
 * until the loop stops. Returns once the broker has the subscription (a round trip), so
 * that nothing published after it returns is missed; -1 if that could not be made sure. */
int client_follow(struct client *c, const char *filter);

/* vmc's exit status for c->fail: 3 no reply, 4 broker unreachable, 5 refused by the broker. */
int client_fail_status(const struct client *c);

/* 1 if reply (lib/bus/reply.h) says ok. Else 0, having printed reply on stdout if json,
 * then its error on stderr: "vmc: CODE: MESSAGE". */
int client_reply_ok(const cJSON *reply, int json);

/* Finds which host runs vm (from the snapshot) and copies its name into buf: the
 * snapshot changes under any later wait on the bus. NULL if none, else buf. */
const char *client_vm_host(struct client *c, const char *vm, char *buf, size_t len);

/* The host to send a command about vm to: host when given (--host), else the one a new
 * snapshot shows vm on, copied into buf. NULL, said on stderr, if none. */
const char *client_find_vm_host(struct client *c, const char *host, const char *vm, char *buf,
                                size_t len);

#endif
