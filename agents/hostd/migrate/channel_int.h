/* channel_int.h - the insides of a migration channel connection, shared by
 * channel.c (buffers, frames, the stream, timeouts), channel_open.c (listening,
 * connecting, the hellos) and channel_tls.c (TLS 1.3: credentials, the handshake,
 * reading and writing through it). Not for other modules: they use channel.h. */
#ifndef VMC_CHANNEL_INT_H
#define VMC_CHANNEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "../../../lib/bus/chanwire.h"
#include "channel.h"

#define CHAN_OUT_HIGH (512u << 10)  /* the stream is read while less waits to be sent */
#define CHAN_SINK_HIGH (512u << 10) /* the socket is read while less waits for the sink */
#define CHAN_TLS_CHUNK (256u << 10) /* frames encrypted at once, at most */
#define CHAN_TICK_MS 250            /* the timeouts' granularity, while connections exist */

enum chan_state {
	CH_CONNECTING, /* client: TCP connect in progress */
	CH_TLS,        /* the TLS handshake */
	CH_WAIT_HELLO, /* TLS is up, our hello sent: waiting for the peer's */
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
	SSL *ssl;
	char peer[CHW_NAME_MAX + 1];
	char cert_name[CHW_NAME_MAX + 1]; /* certificates: the name the peer proved */
	/* the frame being read: header, then payload */
	unsigned char hdr[CHW_HDR_LEN];
	size_t hdr_got;
	int in_type;
	uint32_t in_len;
	unsigned char *in;
	size_t in_cap, in_got;
	/* queued output: frames, then TLS records ready for the socket */
	unsigned char *out;
	size_t out_len, out_off, out_cap;
	unsigned char *tls_out;
	size_t tls_out_len, tls_out_off, tls_out_cap;
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
	SSL_CTX *tls_srv, *tls_cli; /* NULL: no credentials, no migrations */
	BIO_METHOD *tls_out_bio;    /* TLS writes records into chan.tls_out */
	int certs;                  /* 1: certificates; 0: the cluster key's PSK */
	unsigned char psk[CHW_PSK_LEN];
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
/* Starts the timeouts' timer if connections exist and it is not running. */
void chan_ctx_arm(struct chan_ctx *x);
/* Recomputes which events each of the connection's fds waits for. */
void chan_update(struct chan *c);
/* Closes on an error or the peer's doing, telling the owner why (on_close). */
void chan_fail(struct chan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Releases everything and queues the memory for the reaper; no callback. */
void chan_kill(struct chan *c);
/* Queues one frame. 0, or -1 (the connection failed). */
int chan_queue(struct chan *c, int type, const void *payload, uint32_t len);
void chan_write_out(struct chan *c);
void chan_close_fd(struct evloop *loop, int *fd);
/* The socket's event handler. */
void chan_on_sock(struct evloop *loop, int fd, int ev, void *ud);

/* Reads what the socket has (frames are handled as they complete). */
void chan_read(struct chan *c);

/* channel_open.c */
/* A connection on fd, registered in the loop and counted as authenticating; NULL on
 * failure. */
struct chan *chan_new(struct chan_ctx *x, int fd, int server);
/* Starts TLS on a connected socket (either side); without credentials the server side
 * closes at once. */
void chan_start(struct chan *c);
/* The peer's hello: its name (checked against its certificate), then the channel opens. */
void chan_on_hello(struct chan *c, const unsigned char *p, uint32_t len);

/* channel_tls.c */
/* Sets up the two TLS contexts from the credentials. 0, or -1 with err. */
int chan_tls_setup(struct chan_ctx *x, const struct chan_creds *cr, char *err, size_t errlen);
void chan_tls_free(struct chan_ctx *x);
/* The connection's TLS object on its socket. 0 or -1. */
int chan_tls_new(struct chan *c);
/* One step of the handshake: 1 done, 0 waiting for the peer, -1 failed with why. */
int chan_tls_handshake(struct chan *c, char *why, size_t whylen);
/* Reads through TLS: bytes read (> 0), 0 when it would block, -1 on the end of the
 * connection or an error, with why. */
long chan_tls_read(struct chan *c, void *buf, size_t len, char *why, size_t whylen);
/* Encrypts len bytes into TLS records queued in tls_out (so that many records leave in
 * one send(2)). Returns len, or -1 with why. */
long chan_tls_write(struct chan *c, const void *buf, size_t len, char *why, size_t whylen);
/* Sends the queued records: 1 all sent, 0 the socket is full, -1 with why. */
int chan_tls_flush(struct chan *c, char *why, size_t whylen);
/* Whether anything waits to be sent: frames or records. */
int chan_out_pending(const struct chan *c);
/* Whether TLS holds decrypted bytes not read yet. */
int chan_tls_pending(const struct chan *c);

#endif
