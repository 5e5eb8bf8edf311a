/* channel.h - the migration channel: TLS 1.3 connections between host agents, framed,
 * driven by the agent's event loop without blocking (lib/bus/chanwire.h has the frames).
 *
 * A connection authenticates both ends - with certificates of the cluster's CA naming
 * each host, or with a PSK derived from the cluster key and an (EC)DHE exchange - then
 * carries control messages (JSON objects), a driver's stream as data frames copied to
 * or from a local file descriptor (a socketpair whose other end a driver reads or
 * writes on a worker thread), the stream's end, and pings. Anything that breaks the
 * rules - a wrong key or certificate, a failed TLS record, an unknown or oversized
 * frame, silence past the timeouts - closes that connection and nothing else. */
#ifndef VMC_CHANNEL_H
#define VMC_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct evloop;
struct chan;
struct chan_ctx;

#define CHAN_AUTH_TIMEOUT_MS 10000 /* a connection must authenticate within this */
#define CHAN_IDLE_TIMEOUT_MS 30000 /* an authenticated one closes after this silence */
#define CHAN_PING_MS 5000          /* we send a ping after this long without sending */
#define CHAN_MAX_CONN 512
#define CHAN_MAX_UNAUTH 32

/* What a connection tells its owner. Every callback may close the connection. */
struct chan_ops {
	/* Authenticated: control messages may flow. */
	void (*on_ready)(struct chan *c, void *ud);
	/* A control message (borrowed). */
	void (*on_ctrl)(struct chan *c, const cJSON *msg, void *ud);
	/* Sink side: the end frame arrived and every byte was handed to the sink fd, which
	 * is now closed. */
	void (*on_stream_end)(struct chan *c, uint64_t bytes, void *ud);
	/* Source side: the source fd reached end of file (every byte sent). */
	void (*on_source_eof)(struct chan *c, void *ud);
	/* Closed by the peer, an error or a timeout (not by chan_close); c is gone after. */
	void (*on_close)(struct chan *c, const char *why, void *ud);
};

/* Called for each accepted connection before its handshake; the owner sets its ops. */
typedef void chan_accept_fn(struct chan *c, void *ud);

/* How this host proves itself. With cert set (a PEM certificate naming this host as
 * its CN or a DNS subjectAltName, its key, and the CA that signed every host's):
 * certificates, and a peer is the host its certificate names. Else with a cluster key:
 * the key's PSK (any holder of the key may connect). Neither: refuse everyone, connect
 * to no one. */
struct chan_creds {
	const unsigned char *key; /* the cluster key's bytes */
	size_t keylen;
	const char *cert, *cert_key, *ca; /* PEM files */
};

/* A context: our name, our credentials (NULL: none), timeouts. Returns NULL with err
 * (an unreadable file, a certificate that does not name this host). */
struct chan_ctx *chan_ctx_new(struct evloop *loop, const char *name, const struct chan_creds *cr,
                              char *err, size_t errlen);
/* Closes every connection (no callbacks) and the listener. */
void chan_ctx_free(struct chan_ctx *x);
/* Overrides the timeouts (ms; 0 keeps the default). For tests. */
void chan_ctx_timeouts(struct chan_ctx *x, long auth_ms, long idle_ms, long ping_ms);
/* Whether the context has credentials (certificates or a cluster key). */
int chan_ctx_has_key(const struct chan_ctx *x);
/* Whether peers are authenticated by certificates (1) or the cluster key's PSK (0). */
int chan_ctx_certs(const struct chan_ctx *x);

/* Listens on addr:port (port 0: any free port). Returns the port, or -1 with err. */
int chan_listen(struct chan_ctx *x, const char *addr, int port, chan_accept_fn *fn, void *ud,
                char *err, size_t errlen);
/* Connects to "IP:PORT" or "[IPv6]:PORT" (numeric only). Returns the connection (the
 * handshake follows in the loop), or NULL with err. */
struct chan *chan_connect(struct chan_ctx *x, const char *addr, const struct chan_ops *ops,
                          void *ud, char *err, size_t errlen);
/* Adopts an already connected socket (server: accepted side). For tests over socketpairs. */
struct chan *chan_adopt(struct chan_ctx *x, int fd, int server, const struct chan_ops *ops,
                        void *ud);
void chan_set_ops(struct chan *c, const struct chan_ops *ops, void *ud);

/* Queues a control message. Returns 0, or -1 if the connection is not open. */
int chan_send_ctrl(struct chan *c, const cJSON *msg);
/* Streams: copy fd's bytes out as data frames (source), or data frames into fd (sink).
 * The connection owns fd from then on. Returns 0 or -1. */
int chan_stream_from(struct chan *c, int fd);
int chan_stream_to(struct chan *c, int fd);
/* Sends the end frame with the number of stream bytes sent. Returns 0 or -1. */
int chan_stream_end(struct chan *c);
/* Closes now, without calling on_close. */
void chan_close(struct chan *c);
/* Sends what is queued (and a refusal, if why is not NULL), then closes; no more
 * callbacks. */
void chan_close_after(struct chan *c, const char *why);

/* Blocks until what is queued has been written (or timeout_ms passes). 0 or -1. */
int chan_flush(struct chan *c, long timeout_ms);

/* The peer's name (once open): with certificates the one its certificate proves, with
 * the cluster key the one it announced. And figures. */
const char *chan_peer(const struct chan *c);
uint64_t chan_stream_bytes(const struct chan *c); /* stream bytes sent or received */
int chan_is_open(const struct chan *c);

#endif
