/* bus.h - the MQTT client every vmcluster program uses, over libmosquitto.
 *
 * Runs inside the caller's evloop (no library thread): asynchronous connect,
 * automatic reconnect with exponential backoff (0.5 s doubling to 30 s),
 * Last Will, clean start, MQTT 5 with a fall-back to 3.1.1 when the broker
 * refuses 5, TLS (mqtts://) and user/password. Subscriptions are remembered
 * and renewed on every reconnect; on_connect runs after each (re)connect so
 * the owner can re-publish its birth message.
 *
 * The URL may be a comma-separated list of brokers (the nodes of a clustered
 * broker): the client connects to the first, and each failed attempt or lost
 * connection moves it on to the next address of the list, round and round,
 * with the same backoff. The MQTT version an address accepted is remembered
 * per address. */
#ifndef VMC_BUS_H
#define VMC_BUS_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct evloop;
struct bus;

struct bus_msg {
	const char *topic;
	const void *payload;
	size_t len;
	int qos;
	int retain;
	const char *response_topic; /* MQTT 5 property, NULL if absent */
	const void *correlation;    /* MQTT 5 property, NULL if absent */
	size_t correlation_len;
};

/* Why a connection attempt failed (see bus_opts.on_connect_failed). */
enum bus_fail {
	BUS_FAIL_RESOLVE = 1, /* the broker's host name did not resolve (getaddrinfo) */
	BUS_FAIL_CONNECT,     /* the TCP connection failed (errno: refused, unreachable) */
	BUS_FAIL_TLS,         /* the TLS handshake failed */
	BUS_FAIL_CLOSED,      /* the broker closed the connection before its CONNACK */
	BUS_FAIL_REFUSED,     /* CONNACK refused the connection (server busy, banned...) */
	BUS_FAIL_AUTH,        /* CONNACK: bad user name or password, or not authorised */
};

struct bus_opts {
	const char *url;       /* mqtt://HOST:PORT or mqtts://HOST:PORT, or a comma-separated
	                        * list of them; default mqtt://127.0.0.1:1883 */
	const char *client_id; /* required, unique per connection */
	const char *username;  /* optional */
	const char *password;
	const char *cafile;    /* TLS: CA certificate (required for mqtts://) */
	const char *certfile;  /* TLS client certificate, optional */
	const char *keyfile;
	int keepalive;         /* seconds; default 10 */
	int protocol;          /* 5, 4 (= 3.1.1) or 0: try 5, fall back to 3.1.1 */
	const char *will_topic;/* optional Last Will */
	const char *will_payload;
	int will_retain;
	void (*on_connect)(struct bus *b, void *ud);
	void (*on_disconnect)(struct bus *b, void *ud);
	void (*on_message)(struct bus *b, const struct bus_msg *m, void *ud);
	/* Optional: each failed connection attempt, why being a sentence naming the broker and
	 * the reason (getaddrinfo, errno, TLS, CONNACK code). When NULL the bus logs it as a
	 * warning, with the delay before the next attempt. */
	void (*on_connect_failed)(struct bus *b, enum bus_fail kind, const char *why, void *ud);
	/* Optional: the broker refused a publish or a subscription (MQTT 5 reason code >= 128,
	 * e.g. 135 not authorized); topic is the publish's topic or the subscription's filter
	 * (NULL if forgotten), why a sentence naming it and the reason. When NULL, logged. */
	void (*on_refused)(struct bus *b, const char *topic, int reason, const char *why, void *ud);
	void *ud;
};

/* Parses a broker URL. Returns 0, or -1 with the reason in err. Pure. */
int bus_url_parse(const char *url, char *host, size_t hostlen, int *port, int *tls, char *err,
		  size_t errlen);

/* At most this many brokers in one list. */
#define BUS_URLS_MAX 16

struct bus_url {
	char host[256];
	int port;
	int tls;
};

/* Parses a comma-separated list of broker URLs (NULL or "" is the default broker) into out,
 * at most max of them; all mqtt:// or all mqtts://. Returns 0 with *n set, or -1 with the
 * reason in err. Pure. */
int bus_urls_parse(const char *urls, struct bus_url *out, size_t max, size_t *n, char *err,
		   size_t errlen);

/* Checks a broker list as bus_new will read it. Returns 0, or -1 with the reason in err. */
int bus_urls_check(const char *urls, char *err, size_t errlen);

/* Creates the client (no I/O yet). Returns NULL with the reason in err. */
struct bus *bus_new(struct evloop *loop, const struct bus_opts *opts, char *err, size_t errlen);
/* Starts connecting; reconnects by itself from then on. Returns 0 or -1. */
int bus_start(struct bus *b);
/* Remembers the subscription and sends it now if connected. */
int bus_subscribe(struct bus *b, const char *filter, int qos);
int bus_unsubscribe(struct bus *b, const char *filter);
/* Queues a publish. Returns 0, or -1 if not connected (QoS 0) or on error.
 * While disconnected, QoS 1 messages are queued by libmosquitto and sent on reconnect. */
int bus_publish(struct bus *b, const char *topic, const void *payload, size_t len, int qos,
		int retain);
int bus_publish_json(struct bus *b, const char *topic, const cJSON *json, int qos, int retain);
/* Publishes with MQTT 5 response-topic and correlation data (ignored on 3.1.1). */
int bus_publish_request(struct bus *b, const char *topic, const cJSON *json,
			const char *response_topic, const void *corr, size_t corr_len);
/* Answers a request: to its MQTT 5 response topic (with its correlation data) if it has one,
 * else to reply_to if non-empty. QoS 1. Returns 0, or -1 if there is nowhere to send it. */
int bus_reply(struct bus *b, const struct bus_msg *req, const char *reply_to, const cJSON *reply);

int bus_connected(const struct bus *b);
/* The protocol the current connection speaks: 5 or 4; 0 if not connected. */
int bus_protocol(const struct bus *b);
/* Runs the loop until every queued message has gone out or timeout_ms passes.
 * Returns 0 if all went out. */
int bus_flush(struct bus *b, long timeout_ms);
/* From now on, once a wake-up has emptied the socket, leave it ms before reading again, so
 * that messages coming one by one are read in batches: fewer wake-ups for as many messages
 * (a reader of every host's load that shows them once a frame), each up to ms later. 0 (the
 * default): each as it comes. A burst is read at once either way. */
void bus_set_read_batch(struct bus *b, int ms);
/* Disconnects cleanly (the Last Will is not sent) and stops reconnecting. */
void bus_disconnect(struct bus *b);
void bus_free(struct bus *b);
const char *bus_client_id(const struct bus *b);

#endif
