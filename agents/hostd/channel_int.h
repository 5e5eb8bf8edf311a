/* channel_int.h - the insides of a migration channel connection, shared by
 * channel.c (buffers, frames, the stream, timeouts) and channel_open.c (listening,
 * connecting, the handshake). Not for other modules: they use channel.h. */
#ifndef VMC_CHANNEL_INT_H
#define VMC_CHANNEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/chanwire.h"
#include "channel.h"

#define CHAN_OUT_HIGH (512u << 10)  /* the stream is read while less waits to be sent */
#define CHAN_SINK_HIGH (512u << 10) /* the socket is read while less waits for the sink */

enum chan_state {
	CH_CONNECTING,   /* client: TCP connect in progress */
	CH_WAIT_HELLO,   /* client */
	CH_WAIT_AUTH,    /* server */
	CH_WAIT_WELCOME, /* client */
	CH_OPEN,
	CH_FLUSHING, /* sending what is queued, then closing */
	CH_DEAD,
};

struct chan {
	struct chan_ctx *x;
	struct chan *next;
	int fd;
	int server;
	enum chan_state st;
	unsigned char nonce_s[CHW_NONCE_LEN], nonce_c[CHW_NONCE_LEN];
	char peer[CHW_NAME_MAX + 1];
	struct chw_aead *sess; /* after authentication */
	uint64_t seq_in, seq_out;
	/* the frame being read: header, then payload + tag */
	unsigned char hdr[CHW_HDR_LEN];
	size_t hdr_got;
	int in_type;
	uint32_t in_len;
	unsigned char *in;
	size_t in_cap, in_got;
	/* queued output */
	unsigned char *out;
	size_t out_len, out_off, out_cap;
	/* the driver stream */
	int src_fd, src_eof;
	int sink_fd, sink_end, sink_broken;
	unsigned char *sink;
	size_t sink_len, sink_off, sink_cap;
	uint64_t stream_out, stream_in, end_total;
	/* time */
	int64_t deadline; /* authentication deadline, monotonic ms */
	int64_t last_rx, last_tx;
	const struct chan_ops *ops;
	void *ud;
};

struct chan_ctx {
	struct evloop *loop;
	char name[CHW_NAME_MAX + 1];
	struct chw_mac *key;
	int listen_fd;
	chan_accept_fn *on_accept;
	void *accept_ud;
	struct chan *conns; /* live */
	struct chan *dead;  /* closed, freed by the reaper */
	long long timer;    /* one timer for every connection's timeouts */
	long long reaper;
	long auth_ms, idle_ms, ping_ms;
	int nconn, nunauth;
};

/* channel.c */
/* Recomputes which events each of the connection's fds waits for. */
void chan_update(struct chan *c);
/* Closes on an error or the peer's doing, telling the owner why (on_close). */
void chan_fail(struct chan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Releases everything and queues the memory for the reaper; no callback. */
void chan_kill(struct chan *c);
/* Queues one frame (sealed once authenticated). 0, or -1 (the connection failed). */
int chan_queue(struct chan *c, int type, const void *payload, uint32_t len);
void chan_write_out(struct chan *c);
void chan_close_fd(struct evloop *loop, int *fd);
/* The socket's event handler. */
void chan_on_sock(struct evloop *loop, int fd, int ev, void *ud);

/* channel_open.c */
/* A connection on fd, registered in the loop and counted as authenticating; NULL on
 * failure. */
struct chan *chan_new(struct chan_ctx *x, int fd, int server);
/* Server side of a new connection: hello, or a refusal without a key. */
void chan_server_start(struct chan *c);
/* The handshake frames, each in its state. */
void chan_on_hello(struct chan *c, const unsigned char *p, uint32_t len);
void chan_on_auth(struct chan *c, const unsigned char *p, uint32_t len);
void chan_on_welcome(struct chan *c, const unsigned char *p, uint32_t len);

#endif
