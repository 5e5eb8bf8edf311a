/* Frozen copy of agents/hostd/migrate/channel.h as it was before the channel moved to TLS 1.3, its names
 * prefixed lchan_/lchw_/LCH_: only tests/bench/channel.c uses it, for its comparison. */
/* channel.h - the migration channel: authenticated, framed TCP connections between
 * host agents, driven by the agent's event loop (lib/bus/chanwire.h has the wire format).
 *
 * A connection authenticates both ends with the cluster key (challenge-response),
 * then carries control messages (JSON objects), a driver's stream as data frames
 * copied to or from a local file descriptor (a socketpair whose other end a driver
 * reads or writes on a worker thread), the stream's end, and pings. Anything that
 * breaks the rules - a wrong key, an unknown or oversized frame, a bad MAC, silence
 * past the timeouts - closes that connection and nothing else. */
#ifndef VMC_LCHANNEL_H
#define VMC_LCHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct evloop;
struct lchan;
struct lchan_ctx;

#define LCHAN_AUTH_TIMEOUT_MS 10000 /* a connection must authenticate within this */
#define LCHAN_IDLE_TIMEOUT_MS 30000 /* an authenticated one closes after this silence */
#define LCHAN_PING_MS 5000          /* we send a ping after this long without sending */
#define LCHAN_MAX_CONN 512
#define LCHAN_MAX_UNAUTH 32

/* What a connection tells its owner. Every callback may close the connection. */
struct lchan_ops {
	/* Authenticated: control messages may flow. */
	void (*on_ready)(struct lchan *c, void *ud);
	/* A control message (borrowed). */
	void (*on_ctrl)(struct lchan *c, const cJSON *msg, void *ud);
	/* Sink side: the end frame arrived and every byte was handed to the sink fd, which
	 * is now closed. */
	void (*on_stream_end)(struct lchan *c, uint64_t bytes, void *ud);
	/* Source side: the source fd reached end of file (every byte sent). */
	void (*on_source_eof)(struct lchan *c, void *ud);
	/* Closed by the peer, an error or a timeout (not by lchan_close); c is gone after. */
	void (*on_close)(struct lchan *c, const char *why, void *ud);
};

/* Called for each accepted connection before its handshake; the owner sets its ops. */
typedef void lchan_accept_fn(struct lchan *c, void *ud);

/* A context: our name, the cluster key (NULL: refuse everyone, connect to no one),
 * timeouts. Returns NULL with err. */
struct lchan_ctx *lchan_ctx_new(struct evloop *loop, const char *name, const unsigned char *key,
                              size_t keylen, char *err, size_t errlen);
/* Closes every connection (no callbacks) and the listener. */
void lchan_ctx_free(struct lchan_ctx *x);
/* Overrides the timeouts (ms; 0 keeps the default). For tests. */
void lchan_ctx_timeouts(struct lchan_ctx *x, long auth_ms, long idle_ms, long ping_ms);
/* Whether the context has a cluster key. */
int lchan_ctx_has_key(const struct lchan_ctx *x);

/* Listens on addr:port (port 0: any free port). Returns the port, or -1 with err. */
int lchan_listen(struct lchan_ctx *x, const char *addr, int port, lchan_accept_fn *fn, void *ud,
                char *err, size_t errlen);
/* Connects to "IP:PORT" or "[IPv6]:PORT" (numeric only). Returns the connection (the
 * handshake follows in the loop), or NULL with err. */
struct lchan *lchan_connect(struct lchan_ctx *x, const char *addr, const struct lchan_ops *ops,
                          void *ud, char *err, size_t errlen);
/* Adopts an already connected socket (server: accepted side). For tests over socketpairs. */
struct lchan *lchan_adopt(struct lchan_ctx *x, int fd, int server, const struct lchan_ops *ops,
                        void *ud);
void lchan_set_ops(struct lchan *c, const struct lchan_ops *ops, void *ud);

/* Queues a control message. Returns 0, or -1 if the connection is not open. */
int lchan_send_ctrl(struct lchan *c, const cJSON *msg);
/* Streams: copy fd's bytes out as data frames (source), or data frames into fd (sink).
 * The connection owns fd from then on. Returns 0 or -1. */
int lchan_stream_from(struct lchan *c, int fd);
int lchan_stream_to(struct lchan *c, int fd);
/* Sends the end frame with the number of stream bytes sent. Returns 0 or -1. */
int lchan_stream_end(struct lchan *c);
/* Closes now, without calling on_close. */
void lchan_close(struct lchan *c);
/* Sends what is queued (and a refusal, if why is not NULL), then closes; no more
 * callbacks. */
void lchan_close_after(struct lchan *c, const char *why);

/* Blocks until what is queued has been written (or timeout_ms passes). 0 or -1. */
int lchan_flush(struct lchan *c, long timeout_ms);

/* The peer's name as it announced itself (after authentication), and figures. */
const char *lchan_peer(const struct lchan *c);
uint64_t lchan_stream_bytes(const struct lchan *c); /* stream bytes sent or received */
int lchan_is_open(const struct lchan *c);

#endif
