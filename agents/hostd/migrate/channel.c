/* channel.c - migration channel connections in the agent's event loop.
 *
 * Every socket is non-blocking and carries TLS (channel_tls.c); a connection buffers
 * what it could not write yet and reads a frame header, then its payload, checking each
 * against the limits of its type before buffering a byte more. The source fd is read only while the
 * output buffer is below CHAN_OUT_HIGH and the socket is read only while the sink
 * buffer is below CHAN_SINK_HIGH, so memory stays bounded whatever the peer does.
 * Connections begin in channel_open.c. */
#include "channel.h"
#include "channel_int.h"

#include "../../../lib/bus/chanwire.h"
#include "../../../lib/core/evloop.h"
#include "../../../lib/core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- context --------------------------------------------------------------------- */

static long chan_tick(struct evloop *loop, long long id, void *ud);

struct chan_ctx *chan_ctx_new(struct evloop *loop, const char *name, const struct chan_creds *cr,
                              char *err, size_t errlen)
{
	struct chan_ctx *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->loop = loop;
	x->listen_fd = -1;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->auth_ms = CHAN_AUTH_TIMEOUT_MS;
	x->idle_ms = CHAN_IDLE_TIMEOUT_MS;
	x->ping_ms = CHAN_PING_MS;
	if (chan_tls_setup(x, cr, err, errlen) < 0) {
		free(x);
		return NULL;
	}
	return x;
}

/* The timeouts' timer runs only while there are connections: an agent with no
 * migration under way does not wake for them. */
void chan_ctx_arm(struct chan_ctx *x)
{
	if (!x->timer && x->conns)
		x->timer = evloop_add_timer(x->loop, CHAN_TICK_MS, chan_tick, x);
}

int chan_ctx_has_key(const struct chan_ctx *x)
{
	return x->tls_srv != NULL;
}

int chan_ctx_certs(const struct chan_ctx *x)
{
	return x->certs;
}

void chan_ctx_timeouts(struct chan_ctx *x, long auth_ms, long idle_ms, long ping_ms)
{
	if (auth_ms > 0)
		x->auth_ms = auth_ms;
	if (idle_ms > 0)
		x->idle_ms = idle_ms;
	if (ping_ms > 0)
		x->ping_ms = ping_ms;
}

static void chan_free(struct chan *c)
{
	SSL_free(c->ssl);
	free(c->tls_out);
	free(c->in);
	free(c->out);
	free(c->sink);
	free(c);
}

static void chan_reap(struct chan_ctx *x)
{
	while (x->dead) {
		struct chan *c = x->dead;
		x->dead = c->next;
		chan_free(c);
	}
}

static long chan_reaper(struct evloop *loop, long long id, void *ud)
{
	struct chan_ctx *x = ud;
	chan_reap(x);
	x->reaper = 0;
	return -1;
}

void chan_ctx_free(struct chan_ctx *x)
{
	if (!x)
		return;
	while (x->conns)
		chan_close(x->conns);
	chan_reap(x);
	if (x->listen_fd >= 0) {
		evloop_del_fd(x->loop, x->listen_fd);
		close(x->listen_fd);
	}
	if (x->timer)
		evloop_del_timer(x->loop, x->timer);
	if (x->reaper)
		evloop_del_timer(x->loop, x->reaper);
	chan_tls_free(x);
	free(x);
}

/* --- closing ---------------------------------------------------------------------- */

static void chan_unlink(struct chan *c)
{
	struct chan_ctx *x = c->x;
	for (struct chan **p = &x->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	x->nconn--;
	if (c->st < CH_OPEN)
		x->nunauth--;
}

void chan_close_fd(struct evloop *loop, int *fd)
{
	if (*fd < 0)
		return;
	evloop_del_fd(loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Releases everything and queues the memory for the reaper; no callback. */
void chan_kill(struct chan *c)
{
	if (c->st == CH_DEAD)
		return;
	struct chan_ctx *x = c->x;
	chan_unlink(c);
	c->st = CH_DEAD;
	chan_close_fd(x->loop, &c->fd);
	chan_close_fd(x->loop, &c->src_fd);
	chan_close_fd(x->loop, &c->sink_fd);
	c->next = x->dead;
	x->dead = c;
	if (!x->reaper)
		x->reaper = evloop_add_timer(x->loop, 0, chan_reaper, x);
}

void chan_close(struct chan *c)
{
	if (c)
		chan_kill(c);
}

/* Closes on an error or the peer's doing, telling the owner why. */
void chan_fail(struct chan *c, const char *fmt, ...)
{
	if (c->st == CH_DEAD)
		return;
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	const struct chan_ops *ops = c->ops;
	void *ud = c->ud;
	log_debug("migration channel %s%s: %s", c->server ? "from " : "to ",
	          c->peer[0] ? c->peer : "?", why);
	chan_kill(c);
	if (ops && ops->on_close)
		ops->on_close(c, why, ud);
}

/* --- output ------------------------------------------------------------------------- */

static int chan_reserve(unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	unsigned char *p = realloc(*buf, n);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* Queues one frame. Returns 0 or -1 (the connection fails). */
int chan_queue(struct chan *c, int type, const void *payload, uint32_t len)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	size_t need = c->out_len + CHW_HDR_LEN + len;
	if (c->out_off > 0 && need > c->out_cap) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		need = c->out_len + CHW_HDR_LEN + len;
	}
	if (chan_reserve(&c->out, &c->out_cap, need) < 0) {
		chan_fail(c, "out of memory");
		return -1;
	}
	unsigned char *h = c->out + c->out_len;
	chw_hdr_put(h, type, len);
	if (len)
		memcpy(h + CHW_HDR_LEN, payload, len);
	c->out_len = need;
	chan_update(c);
	return 0;
}

/* Sends the TLS records waiting, then encrypts queued frames a chunk at a time (frames
 * wait for the TLS handshake) while the socket takes them. */
void chan_write_out(struct chan *c)
{
	char why[200];
	for (;;) {
		int r = chan_tls_flush(c, why, sizeof(why));
		if (r < 0) {
			chan_fail(c, "send: %s", why);
			return;
		}
		if (r == 0 || c->st < CH_WAIT_HELLO || c->out_off == c->out_len)
			break;
		size_t n = c->out_len - c->out_off;
		long w = chan_tls_write(c, c->out + c->out_off,
		                        n < CHAN_TLS_CHUNK ? n : CHAN_TLS_CHUNK, why, sizeof(why));
		if (w < 0) {
			chan_fail(c, "TLS: %s", why);
			return;
		}
		if (w == 0)
			break;
		c->out_off += (size_t)w;
	}
	if (!chan_out_pending(c)) {
		c->out_off = c->out_len = 0;
		if (c->st == CH_FLUSHING) {
			chan_kill(c);
			return;
		}
	}
	chan_update(c);
}

/* --- input ----------------------------------------------------------------------------- */

static void chan_sink_push(struct chan *c, const unsigned char *p, uint32_t len)
{
	c->stream_in += len;
	if (c->sink_broken)
		return;
	if (c->sink_off > 0 && c->sink_off == c->sink_len)
		c->sink_off = c->sink_len = 0;
	if (c->sink_off > 0 && c->sink_len + len > c->sink_cap) {
		memmove(c->sink, c->sink + c->sink_off, c->sink_len - c->sink_off);
		c->sink_len -= c->sink_off;
		c->sink_off = 0;
	}
	if (c->sink_off == c->sink_len) {
		/* nothing waits: hand the bytes over directly, keep only what does not fit */
		ssize_t w = write(c->sink_fd, p, len);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			c->sink_broken = 1;
			c->sink_off = c->sink_len = 0;
			return;
		}
		if (w > 0) {
			p += w;
			len -= (uint32_t)w;
		}
		if (len == 0)
			return;
	}
	if (chan_reserve(&c->sink, &c->sink_cap, c->sink_len + len) < 0) {
		chan_fail(c, "out of memory");
		return;
	}
	memcpy(c->sink + c->sink_len, p, len);
	c->sink_len += len;
}

/* The sink got every byte and the end frame: close it so the reader sees end of file. */
static void chan_sink_finish(struct chan *c)
{
	if (!c->sink_end || c->sink_off < c->sink_len || c->sink_fd < 0)
		return;
	chan_close_fd(c->x->loop, &c->sink_fd);
	if (c->ops && c->ops->on_stream_end)
		c->ops->on_stream_end(c, c->end_total, c->ud);
}

static void chan_on_frame(struct chan *c, int type, const unsigned char *p, uint32_t len)
{
	char err[256];
	switch (type) {
	case CHW_REFUSE: {
		char why[CHW_REFUSE_MAX + 1];
		size_t j = 0;
		for (uint32_t i = 0; i < len; i++)
			why[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
		why[j] = '\0';
		chan_fail(c, "host %s refused: %s", c->peer[0] ? c->peer : "?", why);
		return;
	}
	case CHW_HELLO:
		if (c->st == CH_WAIT_HELLO)
			chan_on_hello(c, p, len);
		else
			chan_fail(c, "unexpected hello frame");
		return;
	case CHW_PING:
		return;
	case CHW_CTRL: {
		cJSON *m = cJSON_ParseWithLength((const char *)p, len);
		if (!cJSON_IsObject(m)) {
			cJSON_Delete(m);
			chan_fail(c, "a control message is not a JSON object");
			return;
		}
		if (c->ops && c->ops->on_ctrl)
			c->ops->on_ctrl(c, m, c->ud);
		cJSON_Delete(m);
		return;
	}
	case CHW_DATA:
		if (c->sink_fd < 0 || c->sink_end) {
			chan_fail(c, "stream data where none was expected");
			return;
		}
		chan_sink_push(c, p, len);
		return;
	case CHW_END:
		if (c->sink_fd < 0 || c->sink_end || len != 8) {
			chan_fail(c, "stream end where none was expected");
			return;
		}
		c->end_total = chw_get64(p);
		if (c->end_total != c->stream_in) {
			chan_fail(c, "stream end says %llu bytes but %llu arrived",
			          (unsigned long long)c->end_total,
			          (unsigned long long)c->stream_in);
			return;
		}
		c->sink_end = 1;
		chan_sink_finish(c);
		return;
	default:
		snprintf(err, sizeof(err), "unhandled frame type 0x%02x", (unsigned)type);
		chan_fail(c, "%s", err);
	}
}

/* Handles a frame whose header and payload are all in. */
static void chan_frame_done(struct chan *c)
{
	c->hdr_got = 0;
	c->in_got = 0;
	chan_on_frame(c, c->in_type, c->in, c->in_len);
}

/* A whole header is in: check it before reading a byte of the payload. 0 or -1. */
static int chan_hdr_done(struct chan *c)
{
	char err[200];
	if (chw_hdr_get(c->hdr, c->st == CH_OPEN, &c->in_type, &c->in_len, err, sizeof(err)) < 0) {
		chan_fail(c, "%s", err);
		return -1;
	}
	if (chan_reserve(&c->in, &c->in_cap, c->in_len ? c->in_len : 1) < 0) {
		chan_fail(c, "out of memory");
		return -1;
	}
	c->in_got = 0;
	return 0;
}

/* Reads through TLS: a header, then straight into the payload buffer, a few frames per
 * call (and whatever TLS already decrypted, which no poll would announce); handles
 * every whole frame. */
void chan_read(struct chan *c)
{
	for (int round = 0; round < 32 || chan_tls_pending(c); round++) {
		if (c->st == CH_DEAD || c->st == CH_FLUSHING || c->st < CH_WAIT_HELLO ||
		    c->sink_len - c->sink_off >= CHAN_SINK_HIGH)
			break;
		int in_hdr = c->hdr_got < CHW_HDR_LEN;
		size_t need = in_hdr ? CHW_HDR_LEN - c->hdr_got : c->in_len - c->in_got;
		long n = 0;
		if (need > 0) {
			char why[200];
			n = chan_tls_read(c, in_hdr ? c->hdr + c->hdr_got : c->in + c->in_got, need,
			                  why, sizeof(why));
			if (n < 0) {
				chan_fail(c, "%s", why);
				return;
			}
			if (n == 0)
				break;
			c->last_rx = evloop_mono_ms();
		}
		if (in_hdr) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got == CHW_HDR_LEN && chan_hdr_done(c) < 0)
				return;
			if (c->hdr_got < CHW_HDR_LEN)
				continue;
			if (c->in_len > 0)
				continue;
		} else {
			c->in_got += (size_t)n;
			if ((size_t)n < need)
				continue;
		}
		chan_frame_done(c);
	}
	if (c->st != CH_DEAD)
		chan_update(c);
}

/* --- the driver stream --------------------------------------------------------------- */

static void chan_src_read(struct chan *c)
{
	/* fill the output up to its mark, reading straight into it, then write at once */
	while (c->st == CH_OPEN && c->src_fd >= 0 && c->out_len - c->out_off < CHAN_OUT_HIGH) {
		if (c->out_off > 0 && c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		size_t room = CHW_HDR_LEN + CHW_DATA_MAX;
		if (chan_reserve(&c->out, &c->out_cap, c->out_len + room) < 0) {
			chan_fail(c, "out of memory");
			return;
		}
		unsigned char *h = c->out + c->out_len;
		ssize_t n = read(c->src_fd, h + CHW_HDR_LEN, CHW_DATA_MAX);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			n = 0; /* the writer failed: treat as the end; the owner knows why */
		}
		if (n == 0) {
			chan_close_fd(c->x->loop, &c->src_fd);
			c->src_eof = 1;
			if (c->ops && c->ops->on_source_eof)
				c->ops->on_source_eof(c, c->ud);
			break;
		}
		chw_hdr_put(h, CHW_DATA, (uint32_t)n);
		c->out_len += CHW_HDR_LEN + (size_t)n;
		c->stream_out += (uint64_t)n;
	}
	if (c->st != CH_DEAD && c->out_off < c->out_len)
		chan_write_out(c);
	else if (c->st != CH_DEAD)
		chan_update(c);
}

static void chan_sink_write(struct chan *c)
{
	while (c->sink_off < c->sink_len) {
		ssize_t n = write(c->sink_fd, c->sink + c->sink_off, c->sink_len - c->sink_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* the reader is gone (it failed and says why): drop the rest */
			c->sink_broken = 1;
			c->sink_off = c->sink_len = 0;
			break;
		}
		c->sink_off += (size_t)n;
	}
	chan_sink_finish(c);
	/* frames TLS already decrypted wait for no poll: read them now there is room */
	if (c->st != CH_DEAD && c->sink_len - c->sink_off < CHAN_SINK_HIGH && chan_tls_pending(c))
		chan_read(c);
	if (c->st != CH_DEAD)
		chan_update(c);
}

/* --- the event loop ----------------------------------------------------------------- */

static void chan_connected(struct chan *c)
{
	int e = 0;
	socklen_t l = sizeof(e);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		e = errno;
	if (e) {
		chan_fail(c, "connect: %s", strerror(e));
		return;
	}
	chan_start(c);
}

void chan_on_sock(struct evloop *loop, int fd, int ev, void *ud)
{
	struct chan *c = ud;
	if (c->st == CH_CONNECTING) {
		if (ev & (EV_WRITE | EV_READ))
			chan_connected(c);
		return;
	}
	if (c->st == CH_TLS) {
		chan_start(c);
		return;
	}
	if ((ev & EV_WRITE) && c->st != CH_DEAD)
		chan_write_out(c);
	if ((ev & EV_READ) && c->st != CH_DEAD && c->st != CH_FLUSHING)
		chan_read(c);
	else if ((ev & EV_READ) && c->st == CH_FLUSHING) {
		char junk[4096];
		ssize_t n = recv(c->fd, junk, sizeof(junk), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			chan_kill(c);
	}
}

static void chan_on_src(struct evloop *loop, int fd, int ev, void *ud)
{
	struct chan *c = ud;
	if (c->st == CH_OPEN && c->src_fd == fd)
		chan_src_read(c);
}

static void chan_on_sink(struct evloop *loop, int fd, int ev, void *ud)
{
	struct chan *c = ud;
	if (c->st != CH_DEAD && c->sink_fd == fd)
		chan_sink_write(c);
}

/* Recomputes which events each of the connection's fds waits for. */
void chan_update(struct chan *c)
{
	if (c->st == CH_DEAD)
		return;
	struct evloop *loop = c->x->loop;
	int pending = chan_out_pending(c);
	int ev = 0;
	if (c->st == CH_CONNECTING)
		ev = EV_WRITE;
	else if (c->st == CH_TLS)
		ev = EV_READ | (pending ? EV_WRITE : 0);
	else {
		if (pending)
			ev |= EV_WRITE;
		if (c->st == CH_FLUSHING || c->sink_len - c->sink_off < CHAN_SINK_HIGH)
			ev |= EV_READ;
	}
	evloop_set_fd_events(loop, c->fd, ev);
	if (c->src_fd >= 0)
		evloop_set_fd_events(
		    loop, c->src_fd,
		    c->st == CH_OPEN && c->out_len - c->out_off < CHAN_OUT_HIGH ? EV_READ : 0);
	if (c->sink_fd >= 0)
		evloop_set_fd_events(loop, c->sink_fd, c->sink_off < c->sink_len ? EV_WRITE : 0);
}

static long chan_tick(struct evloop *loop, long long id, void *ud)
{
	struct chan_ctx *x = ud;
	int64_t now = evloop_mono_ms();
	struct chan *next;
	for (struct chan *c = x->conns; c; c = next) {
		next = c->next;
		if (c->st < CH_OPEN && now > c->deadline) {
			chan_fail(c, "no authentication within %ld ms", x->auth_ms);
			next = x->conns; /* a callback may have closed others: start again */
			continue;
		}
		if (c->st == CH_FLUSHING && now > c->deadline) {
			chan_kill(c);
			next = x->conns;
			continue;
		}
		if (c->st == CH_OPEN && now - c->last_rx > x->idle_ms) {
			chan_fail(c, "the peer was silent for %ld ms", x->idle_ms);
			next = x->conns;
			continue;
		}
		if (c->st == CH_OPEN && now - c->last_tx > x->ping_ms && c->out_off == c->out_len) {
			c->last_tx = now;
			if (chan_queue(c, CHW_PING, NULL, 0) < 0)
				next = x->conns;
		}
	}
	/* a new one-shot timer each time: a periodic timer's id changes when it runs */
	x->timer = 0;
	chan_ctx_arm(x);
	return -1;
}

/* --- the owner's calls ------------------------------------------------------------------ */

int chan_send_ctrl(struct chan *c, const cJSON *msg)
{
	if (!c || c->st != CH_OPEN)
		return -1;
	char *text = cJSON_PrintUnformatted(msg);
	if (!text)
		return -1;
	size_t len = strlen(text);
	int rc = len <= CHW_CTRL_MAX ? chan_queue(c, CHW_CTRL, text, (uint32_t)len) : -1;
	free(text);
	return rc;
}

int chan_stream_from(struct chan *c, int fd)
{
	if (!c || c->st != CH_OPEN || c->src_fd >= 0 || c->src_eof)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (evloop_add_fd(c->x->loop, fd, 0, chan_on_src, c) < 0)
		return -1;
	c->src_fd = fd;
	chan_update(c);
	return 0;
}

int chan_stream_to(struct chan *c, int fd)
{
	if (!c || c->st != CH_OPEN || c->sink_fd >= 0 || c->sink_end)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (evloop_add_fd(c->x->loop, fd, 0, chan_on_sink, c) < 0)
		return -1;
	c->sink_fd = fd;
	chan_update(c);
	return 0;
}

int chan_stream_end(struct chan *c)
{
	if (!c || c->st != CH_OPEN || !c->src_eof)
		return -1;
	unsigned char p[8];
	chw_put64(p, c->stream_out);
	return chan_queue(c, CHW_END, p, sizeof(p));
}

void chan_close_after(struct chan *c, const char *why)
{
	if (!c || c->st == CH_DEAD || c->st == CH_FLUSHING)
		return;
	if (why) {
		size_t l = strlen(why);
		chan_queue(c, CHW_REFUSE, why, (uint32_t)(l > CHW_REFUSE_MAX ? CHW_REFUSE_MAX : l));
		if (c->st == CH_DEAD)
			return;
	}
	c->ops = NULL;
	if (c->st < CH_WAIT_HELLO) {
		chan_kill(c); /* no TLS yet: nothing can be said */
		return;
	}
	if (c->st < CH_OPEN)
		c->x->nunauth--; /* chan_unlink counts a flushing connection as authenticated */
	c->st = CH_FLUSHING;
	c->deadline = evloop_mono_ms() + 5000;
	chan_close_fd(c->x->loop, &c->src_fd);
	chan_close_fd(c->x->loop, &c->sink_fd);
	if (!chan_out_pending(c))
		chan_kill(c);
	else
		chan_update(c);
}

int chan_flush(struct chan *c, long timeout_ms)
{
	int64_t end = evloop_mono_ms() + timeout_ms;
	while (c->st != CH_DEAD && chan_out_pending(c) && evloop_mono_ms() < end) {
		struct pollfd p = {.fd = c->fd, .events = POLLOUT};
		if (poll(&p, 1, 50) > 0)
			chan_write_out(c);
	}
	return c->st != CH_DEAD && !chan_out_pending(c) ? 0 : -1;
}

const char *chan_peer(const struct chan *c)
{
	return c->peer;
}

uint64_t chan_stream_bytes(const struct chan *c)
{
	return c->stream_out > c->stream_in ? c->stream_out : c->stream_in;
}

int chan_is_open(const struct chan *c)
{
	return c && c->st == CH_OPEN;
}
