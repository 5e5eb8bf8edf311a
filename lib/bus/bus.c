/* bus.c - the MQTT client on libmosquitto, driven by the caller's evloop.
 *
 * libmosquitto is used without its own thread: the socket is watched by the
 * evloop, loop_read/loop_write run when it is ready, loop_misc runs on a
 * timer for keepalives (a quarter of the keepalive apart: an idle client wakes
 * for nothing else). Reconnects are ours, with exponential backoff.
 *
 * libmosquitto reads one packet a call (with several read(2)s: the type, each byte of
 * the length, the rest), so a wake-up reads packets until the socket is empty, up to
 * BUS_READ_BATCH of them. With bus_set_read_batch, a client that has emptied the socket
 * stops watching it for a while, and reads what came meanwhile in one wake-up. */
#include "bus.h"

#include "../core/evloop.h"
#include "../core/log.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_BACKOFF_MIN_MS 500
#define BUS_BACKOFF_MAX_MS 30000
#define BUS_PENDING 64 /* publishes and subscriptions remembered for naming a refusal */
#define BUS_READ_BATCH 64 /* packets read in one wake-up at most: the loop's other work waits */

struct bus_sub {
	char *filter;
	int qos;
};

/* One broker address of the list; protocol is the version it last accepted (0: not yet). */
struct bus_addr {
	char host[256];
	int port;
	int protocol;
};

/* A message id the broker will acknowledge, and what it was for. */
struct bus_pending {
	int mid;
	int subscribe;
	char topic[256];
};

struct bus {
	struct evloop *loop;
	struct mosquitto *mosq;
	struct bus_opts opts; /* strings below are our own copies */
	char *url, *client_id, *username, *password, *cafile, *certfile, *keyfile;
	char *will_topic, *will_payload;
	struct bus_addr *addrs; /* the broker list, in the order given */
	size_t naddrs;
	size_t cur;       /* the address of the current or next attempt */
	const char *host; /* addrs[cur].host */
	int port;
	int tls;
	int protocol;     /* of the current or next attempt: 5 or 4 */
	int tried_other;  /* this address was tried with both versions in a row */
	int last_ok;      /* the version some address of the list last accepted, 0 if none */
	char mosq_id[300]; /* the client id of the current address (bus_addr_client_id) */
	int connected;
	int got_connack;  /* in this attempt */
	int fail_told;    /* this attempt's failure was reported */
	size_t fails_in_row; /* attempts failed since the last connection */
	int watched_fd;   /* the socket the evloop watches, -1 if none */
	int stopped;      /* bus_disconnect called: no more reconnects */
	long backoff_ms;
	long long reconnect_timer;
	long long misc_timer;
	int read_batch_ms;    /* bus_set_read_batch */
	long long read_timer; /* the socket is not watched for reading until it runs */
	int inflight;     /* publishes not yet acknowledged (QoS 1) or sent (QoS 0) */
	struct bus_sub *subs;
	size_t nsubs;
	struct bus_pending pending[BUS_PENDING]; /* a ring, by mid */
};

static char *bus_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int bus_url_parse(const char *url, char *host, size_t hostlen, int *port, int *tls, char *err,
		  size_t errlen)
{
	const char *p;
	if (!url || !*url)
		url = "mqtt://127.0.0.1:1883";
	if (strncmp(url, "mqtt://", 7) == 0) {
		*tls = 0;
		p = url + 7;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		*tls = 1;
		p = url + 8;
	} else {
		snprintf(err, errlen, "broker URL \"%s\": expected mqtt://HOST:PORT or mqtts://HOST:PORT",
			 url);
		return -1;
	}
	const char *colon;
	const char *hend;
	if (*p == '[') { /* [ipv6]:port */
		hend = strchr(p, ']');
		if (!hend) {
			snprintf(err, errlen, "broker URL \"%s\": missing ']'", url);
			return -1;
		}
		p++;
		colon = hend[1] == ':' ? hend + 1 : NULL;
	} else {
		colon = strrchr(p, ':');
		hend = colon ? colon : p + strlen(p);
	}
	size_t hl = (size_t)(hend - p);
	if (hl == 0 || hl >= hostlen) {
		snprintf(err, errlen, "broker URL \"%s\": bad host", url);
		return -1;
	}
	memcpy(host, p, hl);
	host[hl] = '\0';
	*port = *tls ? 8883 : 1883;
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end != '\0' || v < 1 || v > 65535) {
			snprintf(err, errlen, "broker URL \"%s\": port must be 1-65535", url);
			return -1;
		}
		*port = (int)v;
	}
	return 0;
}

int bus_urls_parse(const char *urls, struct bus_url *out, size_t max, size_t *n, char *err,
		   size_t errlen)
{
	char one[512];
	*n = 0;
	if (!urls || !*urls)
		urls = "mqtt://127.0.0.1:1883";
	for (const char *p = urls;;) {
		p += strspn(p, " \t");
		size_t l = strcspn(p, ",");
		size_t tl = l;
		while (tl > 0 && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
			tl--;
		if (tl == 0) {
			snprintf(err, errlen, "broker list \"%s\": empty address", urls);
			return -1;
		}
		if (tl >= sizeof(one)) {
			snprintf(err, errlen, "broker list \"%s\": address too long", urls);
			return -1;
		}
		if (*n == max) {
			snprintf(err, errlen, "broker list \"%s\": more than %zu addresses", urls,
				 max);
			return -1;
		}
		memcpy(one, p, tl);
		one[tl] = '\0';
		struct bus_url *u = &out[*n];
		if (bus_url_parse(one, u->host, sizeof(u->host), &u->port, &u->tls, err, errlen) < 0)
			return -1;
		if (*n > 0 && u->tls != out[0].tls) {
			snprintf(err, errlen,
				 "broker list \"%s\": mixes mqtt:// and mqtts:// addresses", urls);
			return -1;
		}
		(*n)++;
		if (!p[l])
			return 0;
		p += l + 1;
	}
}

int bus_urls_check(const char *urls, char *err, size_t errlen)
{
	struct bus_url *u = calloc(BUS_URLS_MAX, sizeof(*u));
	size_t n;
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = bus_urls_parse(urls, u, BUS_URLS_MAX, &n, err, errlen);
	free(u);
	return rc;
}

static void bus_schedule_reconnect(struct bus *b);
static void bus_addr_client_id(const struct bus *b, char *id, size_t len);
static int bus_mosq_setup(struct bus *b, char *err, size_t errlen);

/* Reports why this connection attempt failed, once: to the owner, or in the log with the
 * delay before the next attempt. */
static void VMC_PRINTF(3, 4) bus_fail(struct bus *b, enum bus_fail kind, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	if (b->fail_told || b->stopped)
		return;
	b->fail_told = 1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* with a list, the owner hears of it once every address failed with both versions */
	if (b->naddrs > 1 && ++b->fails_in_row < 2 * b->naddrs) {
		log_debug("%s; trying the next address", why);
		return;
	}
	if (b->opts.on_connect_failed)
		b->opts.on_connect_failed(b, kind, why, b->opts.ud);
	else
		log_warnx("%s; trying again in %.1f s", why, b->backoff_ms / 1000.0);
}

/* An attempt ended before the broker accepted it: rc from libmosquitto, e its errno. */
static void bus_fail_rc(struct bus *b, int rc, int e)
{
	if (rc == MOSQ_ERR_EAI)
		bus_fail(b, BUS_FAIL_RESOLVE, "cannot resolve the broker's host name %s: %s",
		         b->host, gai_strerror(e));
	else if (rc == MOSQ_ERR_ERRNO && e != 0)
		bus_fail(b, BUS_FAIL_CONNECT, "cannot connect to the broker at %s:%d: %s", b->host,
		         b->port, strerror(e));
	else if (rc == MOSQ_ERR_TLS)
		bus_fail(
		    b, BUS_FAIL_TLS,
		    "TLS handshake with the broker at %s:%d failed (a plain mqtt:// port, or a "
		    "certificate the CA file does not vouch for)",
		    b->host, b->port);
	else
		bus_fail(b, BUS_FAIL_CLOSED,
		         "the broker at %s:%d closed the connection before answering (%s)%s",
		         b->host, b->port, mosquitto_strerror(rc),
		         b->tls ? "" : "; if that port speaks TLS, use mqtts:// and a CA file");
}

/* Remembers what message id mid was for, to name it if the broker refuses it. */
static void bus_pending_add(struct bus *b, int mid, int subscribe, const char *topic)
{
	struct bus_pending *p = &b->pending[(unsigned)mid % BUS_PENDING];
	p->mid = mid;
	p->subscribe = subscribe;
	snprintf(p->topic, sizeof(p->topic), "%s", topic);
}

static void bus_refused(struct bus *b, int mid, int reason)
{
	const struct bus_pending *p = &b->pending[(unsigned)mid % BUS_PENDING];
	char why[512];
	snprintf(why, sizeof(why), "the broker refused the %s %s: %s (MQTT reason code %d)",
	         p->mid == mid && p->subscribe ? "subscription to" : "publish to",
	         p->mid == mid ? p->topic : "a topic", mosquitto_reason_string(reason), reason);
	if (b->opts.on_refused)
		b->opts.on_refused(b, p->mid == mid ? p->topic : NULL, reason, why, b->opts.ud);
	else
		log_warnx("%s", why);
}

/* Keeps the evloop watching whatever socket libmosquitto has now, for the events it wants. */
static void bus_fd_ready(struct evloop *loop, int fd, int events, void *ud);
static void bus_before_poll(struct evloop *loop, void *ud)
{
	struct bus *b = ud;
	int fd = b->mosq ? mosquitto_socket(b->mosq) : -1;
	if (fd != b->watched_fd) {
		if (b->watched_fd >= 0)
			evloop_del_fd(loop, b->watched_fd);
		b->watched_fd = fd;
		if (fd >= 0)
			evloop_add_fd(loop, fd, EV_READ, bus_fd_ready, b);
	}
	if (fd >= 0)
		evloop_set_fd_events(loop, fd,
		                     (b->read_timer ? 0 : EV_READ) |
		                         (mosquitto_want_write(b->mosq) ? EV_WRITE : 0));
}

static long bus_read_timer(struct evloop *loop, long long id, void *ud)
{
	struct bus *b = ud;
	b->read_timer = 0; /* watched again: the next poll reports what came meanwhile */
	return -1;
}

/* Reads the packets the socket holds, until it is empty (libmosquitto leaves errno EAGAIN),
 * the connection ends or BUS_READ_BATCH have been read; before the broker has accepted the
 * connection, one call (a call then may read nothing and leave errno alone). *n: how many
 * calls read a packet or part of one. Returns libmosquitto's code, errno as the last call
 * left it. */
static int bus_read(struct bus *b, int *n, int *emptied)
{
	int rc = MOSQ_ERR_SUCCESS;
	*n = 0;
	*emptied = 0;
	while (*n < BUS_READ_BATCH) {
		errno = 0;
		rc = mosquitto_loop_read(b->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(b->mosq) < 0)
			return rc;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*emptied = 1;
			return rc;
		}
		(*n)++;
		/* the owner stopped (a reply came): what follows waits for its next turn */
		if (!b->connected || b->stopped || evloop_stopped(b->loop))
			return rc;
	}
	return rc;
}

static void bus_fd_ready(struct evloop *loop, int fd, int events, void *ud)
{
	struct bus *b = ud;
	int rc = MOSQ_ERR_SUCCESS, e = 0, n = 0, emptied = 0;
	if (events & EV_READ) {
		rc = bus_read(b, &n, &emptied);
		e = errno;
	}
	if (rc == MOSQ_ERR_SUCCESS && (events & EV_WRITE) && mosquitto_socket(b->mosq) >= 0) {
		rc = mosquitto_loop_write(b->mosq, 10);
		e = errno;
	}
	if (rc == MOSQ_ERR_SUCCESS && emptied && n > 0 && b->read_batch_ms > 0 && !b->read_timer &&
	    mosquitto_socket(b->mosq) >= 0)
		b->read_timer = evloop_add_timer(loop, b->read_batch_ms, bus_read_timer, b);
	if (rc != MOSQ_ERR_SUCCESS && mosquitto_socket(b->mosq) < 0 && !b->connected &&
	    !b->reconnect_timer && !b->stopped) {
		if (!b->got_connack)
			bus_fail_rc(b, rc, e);
		bus_schedule_reconnect(b); /* lost before the disconnect callback could run */
	}
	bus_before_poll(loop, b);
}

/* The keepalive check: a PINGREQ once the keepalive has passed without traffic, and
 * the connection dropped when its PINGRESP does not come within another keepalive.
 * Run a quarter of the keepalive apart, the ping leaves by 1.25 keepalives of silence,
 * before the broker's limit of 1.5. */
static long bus_misc_period(const struct bus *b)
{
	long ms = (long)b->opts.keepalive * 1000 / 4;
	return ms > 1000 ? ms : 1000;
}

static long bus_misc_timer(struct evloop *loop, long long id, void *ud)
{
	struct bus *b = ud;
	if (mosquitto_socket(b->mosq) >= 0)
		mosquitto_loop_misc(b->mosq);
	return bus_misc_period(b);
}

/* The version to offer the current address: the forced one, the one it accepted last, or
 * the one another address of the list accepted (brokers of one cluster speak alike). */
static int bus_first_protocol(const struct bus *b)
{
	if (b->opts.protocol)
		return b->opts.protocol;
	if (b->addrs[b->cur].protocol)
		return b->addrs[b->cur].protocol;
	return b->last_ok ? b->last_ok : 5;
}

/* Moves to the next address of the list (the same one if there is only one). */
static void bus_next_addr(struct bus *b)
{
	b->cur = (b->cur + 1) % b->naddrs;
	b->host = b->addrs[b->cur].host;
	b->port = b->addrs[b->cur].port;
	b->protocol = bus_first_protocol(b);
	b->tried_other = 0;
}

static void bus_connect_now(struct bus *b)
{
	char id[sizeof(b->mosq_id)], err[256];
	bus_addr_client_id(b, id, sizeof(id));
	if (strcmp(id, b->mosq_id) != 0) {
		memcpy(b->mosq_id, id, sizeof(id));
		b->inflight = 0;
		if (bus_mosq_setup(b, err, sizeof(err)) < 0) {
			log_warnx("broker %s:%d: %s", b->host, b->port, err);
			bus_schedule_reconnect(b);
			return;
		}
	}
	mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     b->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	b->got_connack = 0;
	b->fail_told = 0;
	errno = 0;
	int rc = mosquitto_connect_async(b->mosq, b->host, b->port, b->opts.keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		bus_fail_rc(b, rc, errno);
		bus_schedule_reconnect(b);
		return;
	}
	bus_before_poll(b->loop, b);
}

static long bus_reconnect_timer(struct evloop *loop, long long id, void *ud)
{
	struct bus *b = ud;
	b->reconnect_timer = 0;
	if (!b->stopped)
		bus_connect_now(b);
	return -1;
}

static void bus_schedule_reconnect(struct bus *b)
{
	if (b->stopped || b->reconnect_timer)
		return;
	/* an attempt that failed before any CONNACK may be a broker that speaks only 3.1.1
	 * (or only 5): offer the other version once, unless the protocol was forced or this
	 * address accepted one before; otherwise move on to the next address */
	if (!b->got_connack && b->opts.protocol == 0 && !b->addrs[b->cur].protocol &&
	    !b->tried_other) {
		b->protocol = b->protocol == 5 ? 4 : 5;
		b->tried_other = 1;
	} else {
		bus_next_addr(b);
	}
	long jitter = rand() % (b->backoff_ms / 4 + 1);
	b->reconnect_timer = evloop_add_timer(b->loop, b->backoff_ms + jitter, bus_reconnect_timer, b);
	b->backoff_ms *= 2;
	if (b->backoff_ms > BUS_BACKOFF_MAX_MS)
		b->backoff_ms = BUS_BACKOFF_MAX_MS;
}

static void bus_on_connect(struct mosquitto *mosq, void *ud, int rc, int flags,
			   const mosquitto_property *props)
{
	struct bus *b = ud;
	b->got_connack = 1;
	if (rc != 0) {
		/* 1 (3.1.1) and 132 (5): unsupported protocol version */
		if (b->opts.protocol == 0 && (rc == 1 || rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION)) {
			b->got_connack = 0; /* makes the next attempt use the other version */
			b->addrs[b->cur].protocol = 0;
			b->fail_told = 1;   /* not a failure to report: that attempt follows */
			log_debug("broker %s:%d does not speak MQTT %s; trying the other version",
			          b->host, b->port, b->protocol == 5 ? "5" : "3.1.1");
		}
		int auth = b->protocol == 5 ? rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD ||
		                                  rc == MQTT_RC_NOT_AUTHORIZED
		                            : rc == 4 || rc == 5;
		if (b->got_connack)
			bus_fail(
			    b, auth ? BUS_FAIL_AUTH : BUS_FAIL_REFUSED,
			    "the broker at %s:%d refused the connection%s: %s (CONNACK code %d)",
			    b->host, b->port, b->username ? "" : " (no user name given)",
			    b->protocol == 5 ? mosquitto_reason_string(rc)
			                     : mosquitto_connack_string(rc),
			    rc);
		return; /* the broker closes the socket; the disconnect path reconnects */
	}
	b->connected = 1;
	b->backoff_ms = BUS_BACKOFF_MIN_MS;
	b->fails_in_row = 0;
	b->addrs[b->cur].protocol = b->protocol;
	b->last_ok = b->protocol;
	b->got_connack = 0; /* a loss of this connection moves on to the next address */
	b->tried_other = 1;
	log_info("connected to broker %s:%d (MQTT %s)", b->host, b->port,
		 b->protocol == 5 ? "5" : "3.1.1");
	for (size_t i = 0; i < b->nsubs; i++) {
		int mid = 0;
		if (mosquitto_subscribe(mosq, &mid, b->subs[i].filter, b->subs[i].qos) ==
		    MOSQ_ERR_SUCCESS)
			bus_pending_add(b, mid, 1, b->subs[i].filter);
	}
	if (b->opts.on_connect)
		b->opts.on_connect(b, b->opts.ud);
}

static void bus_on_disconnect(struct mosquitto *mosq, void *ud, int rc,
			      const mosquitto_property *props)
{
	struct bus *b = ud;
	int was = b->connected, e = errno;
	b->connected = 0;
	if (!was && !b->got_connack)
		bus_fail_rc(b, rc, e);
	b->inflight = 0; /* clean start: nothing will be acknowledged after this */
	if (was && !b->stopped) {
		b->backoff_ms = BUS_BACKOFF_MIN_MS;
		if (b->naddrs > 1)
			log_warnx("lost the broker %s:%d; moving on to %s:%d", b->host, b->port,
				  b->addrs[(b->cur + 1) % b->naddrs].host,
				  b->addrs[(b->cur + 1) % b->naddrs].port);
		else
			log_warnx("lost the broker %s:%d; reconnecting", b->host, b->port);
		if (b->opts.on_disconnect)
			b->opts.on_disconnect(b, b->opts.ud);
	}
	bus_schedule_reconnect(b);
}

static void bus_on_publish(struct mosquitto *mosq, void *ud, int mid, int rc,
			   const mosquitto_property *props)
{
	struct bus *b = ud;
	if (b->inflight > 0)
		b->inflight--;
	/* MQTT 5 tells us when the broker dropped a publish (e.g. 135: not authorised);
	 * 3.1.1 brokers drop such messages silently */
	if (rc >= 128)
		bus_refused(b, mid, rc);
}

static void bus_on_subscribe(struct mosquitto *mosq, void *ud, int mid, int count,
                             const int *granted, const mosquitto_property *props)
{
	for (int i = 0; i < count; i++)
		if (granted[i] >= 128) {
			bus_refused(ud, mid, granted[i]);
			return;
		}
}

static void bus_on_message(struct mosquitto *mosq, void *ud, const struct mosquitto_message *m,
			   const mosquitto_property *props)
{
	struct bus *b = ud;
	if (!b->opts.on_message)
		return;
	struct bus_msg msg = {
		.topic = m->topic,
		.payload = m->payload ? m->payload : "",
		.len = (size_t)(m->payloadlen > 0 ? m->payloadlen : 0),
		.qos = m->qos,
		.retain = m->retain,
	};
	char *resp = NULL;
	void *corr = NULL;
	uint16_t corr_len = 0;
	if (props) {
		mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &resp, false);
		mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &corr_len,
					       false);
	}
	msg.response_topic = resp;
	msg.correlation = corr;
	msg.correlation_len = corr_len;
	b->opts.on_message(b, &msg, b->opts.ud);
	free(resp);
	free(corr);
}

/* The client id on the current address: with a list, one per address ("ID-nI"), since
 * RabbitMQ keeps a QoS 1 subscription's queue (durable, named after the client id) on the
 * node that made it, and refuses that id on every other node while that node is down. */
static void bus_addr_client_id(const struct bus *b, char *id, size_t len)
{
	if (b->naddrs > 1)
		snprintf(id, len, "%s-n%zu", b->client_id, b->cur + 1);
	else
		snprintf(id, len, "%s", b->client_id);
}

/* Sets up b->mosq for the client id b->mosq_id: creates it, or starts it afresh (what it
 * had queued is dropped). Returns 0, or -1 with the reason in err. */
static int bus_mosq_setup(struct bus *b, char *err, size_t errlen)
{
	if (!b->mosq)
		b->mosq = mosquitto_new(b->mosq_id, true, b);
	else if (mosquitto_reinitialise(b->mosq, b->mosq_id, true, b) != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "cannot set up the MQTT client as %s", b->mosq_id);
		return -1;
	}
	if (!b->mosq) {
		snprintf(err, errlen, "cannot create the MQTT client");
		return -1;
	}
	mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(b->mosq, bus_on_connect);
	mosquitto_disconnect_v5_callback_set(b->mosq, bus_on_disconnect);
	mosquitto_message_v5_callback_set(b->mosq, bus_on_message);
	mosquitto_publish_v5_callback_set(b->mosq, bus_on_publish);
	mosquitto_subscribe_v5_callback_set(b->mosq, bus_on_subscribe);
	if (b->username && mosquitto_username_pw_set(b->mosq, b->username, b->password) != 0) {
		snprintf(err, errlen, "bad MQTT user name or password");
		return -1;
	}
	if (b->tls) {
		int rc = mosquitto_tls_set(b->mosq, b->cafile, NULL, b->certfile, b->keyfile, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(err, errlen, "TLS set-up with CA %s: %s", b->cafile,
				 mosquitto_strerror(rc));
			return -1;
		}
	}
	if (b->will_topic) {
		const char *wp = b->will_payload ? b->will_payload : "";
		int rc = mosquitto_will_set(b->mosq, b->will_topic, (int)strlen(wp), wp, 1,
					    b->opts.will_retain != 0);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(err, errlen, "Last Will on %s: %s", b->will_topic,
				 mosquitto_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* Reads the broker list of b->url into b->addrs and starts at its first address. */
static int bus_addrs_init(struct bus *b, char *err, size_t errlen)
{
	struct bus_url *urls = calloc(BUS_URLS_MAX, sizeof(*urls));
	size_t n = 0;
	if (!urls) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (bus_urls_parse(b->url, urls, BUS_URLS_MAX, &n, err, errlen) < 0 ||
	    !(b->addrs = calloc(n, sizeof(*b->addrs)))) {
		if (n && !b->addrs)
			snprintf(err, errlen, "out of memory");
		free(urls);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(b->addrs[i].host, sizeof(b->addrs[i].host), "%s", urls[i].host);
		b->addrs[i].port = urls[i].port;
	}
	b->naddrs = n;
	b->tls = urls[0].tls;
	free(urls);
	b->cur = n - 1;
	bus_next_addr(b); /* the first address */
	return 0;
}

struct bus *bus_new(struct evloop *loop, const struct bus_opts *opts, char *err, size_t errlen)
{
	if (!opts->client_id || !*opts->client_id) {
		snprintf(err, errlen, "MQTT client id is empty");
		return NULL;
	}
	struct bus *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->loop = loop;
	b->opts = *opts;
	b->watched_fd = -1;
	b->backoff_ms = BUS_BACKOFF_MIN_MS;
	if (b->opts.keepalive <= 0)
		b->opts.keepalive = 10;
	if (b->opts.keepalive < 5) {
		snprintf(err, errlen, "keepalive %d s: MQTT clients here need at least 5 s",
			 b->opts.keepalive);
		goto fail;
	}
	b->url = bus_strdup(opts->url ? opts->url : "mqtt://127.0.0.1:1883");
	b->client_id = bus_strdup(opts->client_id);
	b->username = bus_strdup(opts->username);
	b->password = bus_strdup(opts->password);
	b->cafile = bus_strdup(opts->cafile);
	b->certfile = bus_strdup(opts->certfile);
	b->keyfile = bus_strdup(opts->keyfile);
	b->will_topic = bus_strdup(opts->will_topic);
	b->will_payload = bus_strdup(opts->will_payload);
	if (bus_addrs_init(b, err, errlen) < 0)
		goto fail;
	if (b->tls && !b->cafile) {
		snprintf(err, errlen, "broker URL %s uses TLS: a CA file (--cafile) is needed", b->url);
		goto fail;
	}
	mosquitto_lib_init();
	bus_addr_client_id(b, b->mosq_id, sizeof(b->mosq_id));
	if (bus_mosq_setup(b, err, errlen) < 0)
		goto fail;
	if (evloop_add_before_poll(loop, bus_before_poll, b) < 0) {
		snprintf(err, errlen, "event loop has no room for another client");
		goto fail;
	}
	return b;
fail:
	bus_free(b);
	return NULL;
}

int bus_start(struct bus *b)
{
	b->stopped = 0;
	if (!b->misc_timer)
		b->misc_timer = evloop_add_timer(b->loop, bus_misc_period(b), bus_misc_timer, b);
	bus_connect_now(b);
	return 0;
}

int bus_subscribe(struct bus *b, const char *filter, int qos)
{
	for (size_t i = 0; i < b->nsubs; i++)
		if (strcmp(b->subs[i].filter, filter) == 0)
			return 0;
	struct bus_sub *n = realloc(b->subs, (b->nsubs + 1) * sizeof(*n));
	if (!n)
		return -1;
	b->subs = n;
	b->subs[b->nsubs].filter = strdup(filter);
	b->subs[b->nsubs].qos = qos;
	if (!b->subs[b->nsubs].filter)
		return -1;
	b->nsubs++;
	int mid = 0;
	if (!b->connected)
		return 0;
	if (mosquitto_subscribe(b->mosq, &mid, filter, qos) != MOSQ_ERR_SUCCESS)
		return -1;
	bus_pending_add(b, mid, 1, filter);
	return 0;
}

int bus_unsubscribe(struct bus *b, const char *filter)
{
	for (size_t i = 0; i < b->nsubs; i++) {
		if (strcmp(b->subs[i].filter, filter) == 0) {
			free(b->subs[i].filter);
			b->subs[i] = b->subs[--b->nsubs];
			if (b->connected)
				mosquitto_unsubscribe(b->mosq, NULL, filter);
			return 0;
		}
	}
	return 0;
}

static int bus_publish_props(struct bus *b, const char *topic, const void *payload, size_t len,
			     int qos, int retain, const mosquitto_property *props)
{
	if (len > 256 * 1024 * 1024)
		return -1;
	if (!b->connected && qos == 0)
		return -1;
	int mid = 0, counted = b->connected;
	/* counted before the call: a QoS 0 message is often written, and its callback run,
	 * inside it (counting after left one too many, and bus_flush waited its whole timeout) */
	if (counted)
		b->inflight++;
	int rc = mosquitto_publish_v5(b->mosq, &mid, topic, (int)len, payload, qos, retain != 0,
	                              b->protocol == 5 ? props : NULL);
	if (rc != MOSQ_ERR_SUCCESS && counted && b->inflight > 0)
		b->inflight--;
	if (rc == MOSQ_ERR_SUCCESS && qos > 0)
		bus_pending_add(b, mid, 0, topic);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
		log_warnx("publish to %s: %s", topic, mosquitto_strerror(rc));
		return -1;
	}
	bus_before_poll(b->loop, b);
	return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int bus_publish(struct bus *b, const char *topic, const void *payload, size_t len, int qos,
		int retain)
{
	return bus_publish_props(b, topic, payload, len, qos, retain, NULL);
}

int bus_publish_json(struct bus *b, const char *topic, const cJSON *json, int qos, int retain)
{
	char *text = cJSON_PrintUnformatted(json);
	if (!text)
		return -1;
	int rc = bus_publish(b, topic, text, strlen(text), qos, retain);
	free(text);
	return rc;
}

int bus_publish_request(struct bus *b, const char *topic, const cJSON *json,
			const char *response_topic, const void *corr, size_t corr_len)
{
	char *text = cJSON_PrintUnformatted(json);
	if (!text)
		return -1;
	mosquitto_property *props = NULL;
	if (response_topic)
		mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, response_topic);
	if (corr && corr_len > 0 && corr_len <= 65535)
		mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr,
					      (uint16_t)corr_len);
	int rc = bus_publish_props(b, topic, text, strlen(text), 1, 0, props);
	mosquitto_property_free_all(&props);
	free(text);
	return rc;
}

int bus_reply(struct bus *b, const struct bus_msg *req, const char *reply_to, const cJSON *reply)
{
	const char *topic = NULL;
	if (req && req->response_topic && b->protocol == 5)
		topic = req->response_topic;
	else if (reply_to && *reply_to)
		topic = reply_to;
	if (!topic)
		return -1;
	char *text = cJSON_PrintUnformatted(reply);
	if (!text)
		return -1;
	mosquitto_property *props = NULL;
	if (topic == (req ? req->response_topic : NULL) && req->correlation &&
	    req->correlation_len > 0)
		mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, req->correlation,
					      (uint16_t)req->correlation_len);
	int rc = bus_publish_props(b, topic, text, strlen(text), 1, 0, props);
	mosquitto_property_free_all(&props);
	free(text);
	return rc;
}

int bus_connected(const struct bus *b)
{
	return b->connected;
}

int bus_protocol(const struct bus *b)
{
	return b->connected ? b->protocol : 0;
}

const char *bus_client_id(const struct bus *b)
{
	return b->client_id;
}

void bus_set_read_batch(struct bus *b, int ms)
{
	b->read_batch_ms = ms > 0 ? ms : 0;
}

int bus_flush(struct bus *b, long timeout_ms)
{
	int64_t end = evloop_mono_ms() + timeout_ms;
	while (b->connected && (b->inflight > 0 || mosquitto_want_write(b->mosq))) {
		long left = (long)(end - evloop_mono_ms());
		if (left <= 0)
			return -1;
		evloop_run_once(b->loop, left < 50 ? left : 50);
	}
	return b->inflight > 0 ? -1 : 0;
}

void bus_disconnect(struct bus *b)
{
	b->stopped = 1;
	if (b->reconnect_timer) {
		evloop_del_timer(b->loop, b->reconnect_timer);
		b->reconnect_timer = 0;
	}
	if (b->connected) {
		b->connected = 0;
		mosquitto_disconnect(b->mosq);
		/* let the DISCONNECT packet go out */
		for (int i = 0; i < 20 && mosquitto_socket(b->mosq) >= 0 && mosquitto_want_write(b->mosq);
		     i++)
			mosquitto_loop_write(b->mosq, 1);
	}
	b->connected = 0;
}

void bus_free(struct bus *b)
{
	if (!b)
		return;
	if (b->mosq) {
		b->stopped = 1;
		if (b->watched_fd >= 0)
			evloop_del_fd(b->loop, b->watched_fd);
		mosquitto_destroy(b->mosq);
	}
	evloop_del_before_poll(b->loop, bus_before_poll, b);
	if (b->misc_timer)
		evloop_del_timer(b->loop, b->misc_timer);
	if (b->reconnect_timer)
		evloop_del_timer(b->loop, b->reconnect_timer);
	if (b->read_timer)
		evloop_del_timer(b->loop, b->read_timer);
	for (size_t i = 0; i < b->nsubs; i++)
		free(b->subs[i].filter);
	free(b->subs);
	free(b->url);
	free(b->client_id);
	free(b->username);
	free(b->password);
	free(b->cafile);
	free(b->certfile);
	free(b->keyfile);
	free(b->will_topic);
	free(b->will_payload);
	free(b->addrs);
	free(b);
}
