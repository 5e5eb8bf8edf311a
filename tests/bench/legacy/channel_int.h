/* Frozen copy of agents/hostd/migrate/channel_int.h as it was before the channel moved to TLS 1.3, its names
 * prefixed lchan_/lchw_/LCH_: only tests/bench/channel.c uses it, for its comparison. */
/* channel_int.h - the insides of a migration channel connection, shared by
 * channel.c (buffers, frames, the stream, timeouts) and channel_open.c (listening,
 * connecting, the handshake). Not for other modules: they use channel.h. */
#ifndef VMC_LCHANNEL_INT_H
#define VMC_LCHANNEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "chanwire.h"
#include "channel.h"

#define LCHAN_OUT_HIGH (512u << 10)  /* the stream is read while less waits to be sent */
#define LCHAN_SINK_HIGH (512u << 10) /* the socket is read while less waits for the sink */

enum lchan_state {
	LCH_CONNECTING,   /* client: TCP connect in progress */
	LCH_WAIT_HELLO,   /* client */
	LCH_WAIT_AUTH,    /* server */
	LCH_WAIT_WELCOME, /* client */
	LCH_OPEN,
	LCH_FLUSHING, /* sending what is queued, then closing */
	LCH_DEAD,
};

struct lchan {
	struct lchan_ctx *x;
	struct lchan *next;
	int fd;
	int server;
	enum lchan_state st;
	unsigned char nonce_s[LCHW_NONCE_LEN], nonce_c[LCHW_NONCE_LEN];
	char peer[LCHW_NAME_MAX + 1];
	struct lchw_aead *sess; /* after authentication */
	uint64_t seq_in, seq_out;
	/* the frame being read: header, then payload + tag */
	unsigned char hdr[LCHW_HDR_LEN];
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
	const struct lchan_ops *ops;
	void *ud;
};

struct lchan_ctx {
	struct evloop *loop;
	char name[LCHW_NAME_MAX + 1];
	struct lchw_mac *key;
	int listen_fd;
	lchan_accept_fn *on_accept;
	void *accept_ud;
	struct lchan *conns; /* live */
	struct lchan *dead;  /* closed, freed by the reaper */
	long long timer;    /* one timer for every connection's timeouts */
	long long reaper;
	long auth_ms, idle_ms, ping_ms;
	int nconn, nunauth;
};

/* channel.c */
/* Recomputes which events each of the connection's fds waits for. */
void lchan_update(struct lchan *c);
/* Closes on an error or the peer's doing, telling the owner why (on_close). */
void lchan_fail(struct lchan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Releases everything and queues the memory for the reaper; no callback. */
void lchan_kill(struct lchan *c);
/* Queues one frame (sealed once authenticated). 0, or -1 (the connection failed). */
int lchan_queue(struct lchan *c, int type, const void *payload, uint32_t len);
void lchan_write_out(struct lchan *c);
void lchan_close_fd(struct evloop *loop, int *fd);
/* The socket's event handler. */
void lchan_on_sock(struct evloop *loop, int fd, int ev, void *ud);

/* channel_open.c */
/* A connection on fd, registered in the loop and counted as authenticating; NULL on
 * failure. */
struct lchan *lchan_new(struct lchan_ctx *x, int fd, int server);
/* Server side of a new connection: hello, or a refusal without a key. */
void lchan_server_start(struct lchan *c);
/* The handshake frames, each in its state. */
void lchan_on_hello(struct lchan *c, const unsigned char *p, uint32_t len);
void lchan_on_auth(struct lchan *c, const unsigned char *p, uint32_t len);
void lchan_on_welcome(struct lchan *c, const unsigned char *p, uint32_t len);

#endif
