/* Frozen copy of agents/hostd/migrate/channel.c as it was before the channel moved to TLS 1.3, its names
 * prefixed lchan_/lchw_/LCH_: only tests/bench/channel.c uses it, for its comparison. */
/* channel.c - migration channel connections in the agent's event loop.
 *
 * Every socket is non-blocking; a connection buffers what it could not write yet and
 * reads a frame header, then its payload and tag, checking each against the limits
 * of its type before buffering a byte more. The source fd is read only while the
 * output buffer is below LCHAN_OUT_HIGH and the socket is read only while the sink
 * buffer is below LCHAN_SINK_HIGH, so memory stays bounded whatever the peer does.
 * Connections begin in channel_open.c. */
#include "channel.h"
#include "channel_int.h"

#include "chanwire.h"
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

static long lchan_tick(struct evloop *loop, long long id, void *ud);

struct lchan_ctx *lchan_ctx_new(struct evloop *loop, const char *name, const unsigned char *key,
                              size_t keylen, char *err, size_t errlen)
{
	struct lchan_ctx *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->loop = loop;
	x->listen_fd = -1;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->auth_ms = LCHAN_AUTH_TIMEOUT_MS;
	x->idle_ms = LCHAN_IDLE_TIMEOUT_MS;
	x->ping_ms = LCHAN_PING_MS;
	if (key && keylen) {
		x->key = lchw_mac_new(key, keylen);
		if (!x->key) {
			snprintf(err, errlen, "cannot set up HMAC-SHA256 (libcrypto)");
			free(x);
			return NULL;
		}
	}
	x->timer = evloop_add_timer(loop, 250, lchan_tick, x);
	return x;
}

int lchan_ctx_has_key(const struct lchan_ctx *x)
{
	return x->key != NULL;
}

void lchan_ctx_timeouts(struct lchan_ctx *x, long auth_ms, long idle_ms, long ping_ms)
{
	if (auth_ms > 0)
		x->auth_ms = auth_ms;
	if (idle_ms > 0)
		x->idle_ms = idle_ms;
	if (ping_ms > 0)
		x->ping_ms = ping_ms;
}

static void lchan_free(struct lchan *c)
{
	lchw_aead_free(c->sess);
	free(c->in);
	free(c->out);
	free(c->sink);
	free(c);
}

static void lchan_reap(struct lchan_ctx *x)
{
	while (x->dead) {
		struct lchan *c = x->dead;
		x->dead = c->next;
		lchan_free(c);
	}
}

static long lchan_reaper(struct evloop *loop, long long id, void *ud)
{
	struct lchan_ctx *x = ud;
	lchan_reap(x);
	x->reaper = 0;
	return -1;
}

void lchan_ctx_free(struct lchan_ctx *x)
{
	if (!x)
		return;
	while (x->conns)
		lchan_close(x->conns);
	lchan_reap(x);
	if (x->listen_fd >= 0) {
		evloop_del_fd(x->loop, x->listen_fd);
		close(x->listen_fd);
	}
	evloop_del_timer(x->loop, x->timer);
	if (x->reaper)
		evloop_del_timer(x->loop, x->reaper);
	lchw_mac_free(x->key);
	free(x);
}

/* --- closing ---------------------------------------------------------------------- */

static void lchan_unlink(struct lchan *c)
{
	struct lchan_ctx *x = c->x;
	for (struct lchan **p = &x->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	x->nconn--;
	if (c->st < LCH_OPEN)
		x->nunauth--;
}

void lchan_close_fd(struct evloop *loop, int *fd)
{
	if (*fd < 0)
		return;
	evloop_del_fd(loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Releases everything and queues the memory for the reaper; no callback. */
void lchan_kill(struct lchan *c)
{
	if (c->st == LCH_DEAD)
		return;
	struct lchan_ctx *x = c->x;
	lchan_unlink(c);
	c->st = LCH_DEAD;
	lchan_close_fd(x->loop, &c->fd);
	lchan_close_fd(x->loop, &c->src_fd);
	lchan_close_fd(x->loop, &c->sink_fd);
	c->next = x->dead;
	x->dead = c;
	if (!x->reaper)
		x->reaper = evloop_add_timer(x->loop, 0, lchan_reaper, x);
}

void lchan_close(struct lchan *c)
{
	if (c)
		lchan_kill(c);
}

/* Closes on an error or the peer's doing, telling the owner why. */
void lchan_fail(struct lchan *c, const char *fmt, ...)
{
	if (c->st == LCH_DEAD)
		return;
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	const struct lchan_ops *ops = c->ops;
	void *ud = c->ud;
	log_debug("migration channel %s%s: %s", c->server ? "from " : "to ",
	          c->peer[0] ? c->peer : "?", why);
	lchan_kill(c);
	if (ops && ops->on_close)
		ops->on_close(c, why, ud);
}

/* --- output ------------------------------------------------------------------------- */

static int lchan_reserve(unsigned char **buf, size_t *cap, size_t need)
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

/* Queues one frame (tagged once authenticated). Returns 0 or -1 (the connection fails). */
int lchan_queue(struct lchan *c, int type, const void *payload, uint32_t len)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	int tagged = c->sess != NULL;
	size_t need = c->out_len + LCHW_HDR_LEN + len + (tagged ? LCHW_TAG_LEN : 0);
	if (c->out_off > 0 && need > c->out_cap) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		need = c->out_len + LCHW_HDR_LEN + len + (tagged ? LCHW_TAG_LEN : 0);
	}
	if (lchan_reserve(&c->out, &c->out_cap, need) < 0) {
		lchan_fail(c, "out of memory");
		return -1;
	}
	unsigned char *h = c->out + c->out_len;
	lchw_hdr_put(h, type, len);
	if (len)
		memcpy(h + LCHW_HDR_LEN, payload, len);
	if (tagged && lchw_seal(c->sess, c->server ? 's' : 'c', c->seq_out++, h, h + LCHW_HDR_LEN,
	                       len, h + LCHW_HDR_LEN + len) < 0) {
		lchan_fail(c, "cannot seal a frame");
		return -1;
	}
	c->out_len = need;
	lchan_update(c);
	return 0;
}

void lchan_write_out(struct lchan *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			lchan_fail(c, "send: %s", strerror(errno));
			return;
		}
		c->out_off += (size_t)n;
		c->last_tx = evloop_mono_ms();
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->st == LCH_FLUSHING) {
			lchan_kill(c);
			return;
		}
	}
	lchan_update(c);
}

/* --- input ----------------------------------------------------------------------------- */

static void lchan_sink_push(struct lchan *c, const unsigned char *p, uint32_t len)
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
	if (lchan_reserve(&c->sink, &c->sink_cap, c->sink_len + len) < 0) {
		lchan_fail(c, "out of memory");
		return;
	}
	memcpy(c->sink + c->sink_len, p, len);
	c->sink_len += len;
}

/* The sink got every byte and the end frame: close it so the reader sees end of file. */
static void lchan_sink_finish(struct lchan *c)
{
	if (!c->sink_end || c->sink_off < c->sink_len || c->sink_fd < 0)
		return;
	lchan_close_fd(c->x->loop, &c->sink_fd);
	if (c->ops && c->ops->on_stream_end)
		c->ops->on_stream_end(c, c->end_total, c->ud);
}

static void lchan_on_frame(struct lchan *c, int type, const unsigned char *p, uint32_t len)
{
	char err[256];
	switch (type) {
	case LCHW_REFUSE: {
		char why[LCHW_REFUSE_MAX + 1];
		size_t j = 0;
		for (uint32_t i = 0; i < len; i++)
			why[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
		why[j] = '\0';
		lchan_fail(c, "host %s refused: %s", c->peer[0] ? c->peer : "?", why);
		return;
	}
	case LCHW_HELLO:
		if (c->st == LCH_WAIT_HELLO)
			lchan_on_hello(c, p, len);
		else
			lchan_fail(c, "unexpected hello frame");
		return;
	case LCHW_AUTH:
		if (c->st == LCH_WAIT_AUTH)
			lchan_on_auth(c, p, len);
		else
			lchan_fail(c, "unexpected auth frame");
		return;
	case LCHW_WELCOME:
		if (c->st == LCH_WAIT_WELCOME)
			lchan_on_welcome(c, p, len);
		else
			lchan_fail(c, "unexpected welcome frame");
		return;
	case LCHW_PING:
		return;
	case LCHW_CTRL: {
		cJSON *m = cJSON_ParseWithLength((const char *)p, len);
		if (!cJSON_IsObject(m)) {
			cJSON_Delete(m);
			lchan_fail(c, "a control message is not a JSON object");
			return;
		}
		if (c->ops && c->ops->on_ctrl)
			c->ops->on_ctrl(c, m, c->ud);
		cJSON_Delete(m);
		return;
	}
	case LCHW_DATA:
		if (c->sink_fd < 0 || c->sink_end) {
			lchan_fail(c, "stream data where none was expected");
			return;
		}
		lchan_sink_push(c, p, len);
		return;
	case LCHW_END:
		if (c->sink_fd < 0 || c->sink_end || len != 8) {
			lchan_fail(c, "stream end where none was expected");
			return;
		}
		c->end_total = lchw_get64(p);
		if (c->end_total != c->stream_in) {
			lchan_fail(c, "stream end says %llu bytes but %llu arrived",
			          (unsigned long long)c->end_total,
			          (unsigned long long)c->stream_in);
			return;
		}
		c->sink_end = 1;
		lchan_sink_finish(c);
		return;
	default:
		snprintf(err, sizeof(err), "unhandled frame type 0x%02x", (unsigned)type);
		lchan_fail(c, "%s", err);
	}
}

/* Handles a frame whose header and payload (and tag) are all in. */
static void lchan_frame_done(struct lchan *c)
{
	c->hdr_got = 0;
	c->in_got = 0;
	if (c->sess) {
		if (lchw_open(c->sess, c->server ? 'c' : 's', c->seq_in++, c->hdr, c->in, c->in_len,
		             c->in + c->in_len) < 0) {
			lchan_fail(c, "a %s frame failed its authentication tag",
			          lchw_type_name(c->in_type));
			return;
		}
	}
	lchan_on_frame(c, c->in_type, c->in, c->in_len);
}

/* A whole header is in: check it before reading a byte of the payload. 0 or -1. */
static int lchan_hdr_done(struct lchan *c)
{
	char err[200];
	if (lchw_hdr_get(c->hdr, c->sess != NULL, &c->in_type, &c->in_len, err, sizeof(err)) < 0) {
		lchan_fail(c, "%s", err);
		return -1;
	}
	size_t need = c->in_len + (c->sess ? LCHW_TAG_LEN : 0);
	if (lchan_reserve(&c->in, &c->in_cap, need ? need : 1) < 0) {
		lchan_fail(c, "out of memory");
		return -1;
	}
	c->in_got = 0;
	return 0;
}

/* Reads the socket: a header, then straight into the payload buffer, a few frames per
 * call; handles every whole frame. */
static void lchan_read(struct lchan *c)
{
	for (int round = 0; round < 32; round++) {
		if (c->st == LCH_DEAD || c->st == LCH_FLUSHING ||
		    c->sink_len - c->sink_off >= LCHAN_SINK_HIGH)
			break;
		int in_hdr = c->hdr_got < LCHW_HDR_LEN;
		size_t need = in_hdr ? LCHW_HDR_LEN - c->hdr_got
		                     : c->in_len + (c->sess ? LCHW_TAG_LEN : 0) - c->in_got;
		ssize_t n = 0;
		if (need > 0) {
			n = recv(c->fd, in_hdr ? c->hdr + c->hdr_got : c->in + c->in_got, need, 0);
			if (n < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
					lchan_fail(c, "recv: %s", strerror(errno));
				break;
			}
			if (n == 0) {
				lchan_fail(c, "the peer closed the connection");
				return;
			}
			c->last_rx = evloop_mono_ms();
		}
		if (in_hdr) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got == LCHW_HDR_LEN && lchan_hdr_done(c) < 0)
				return;
			if (c->hdr_got < LCHW_HDR_LEN)
				break;
			if (c->in_len + (c->sess ? LCHW_TAG_LEN : 0) > 0)
				continue;
		} else {
			c->in_got += (size_t)n;
			if ((size_t)n < need)
				break;
		}
		lchan_frame_done(c);
	}
	if (c->st != LCH_DEAD)
		lchan_update(c);
}

/* --- the driver stream --------------------------------------------------------------- */

static void lchan_src_read(struct lchan *c)
{
	/* fill the output up to its mark, reading straight into it, then write at once */
	while (c->st == LCH_OPEN && c->src_fd >= 0 && c->out_len - c->out_off < LCHAN_OUT_HIGH) {
		if (c->out_off > 0 && c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		size_t room = LCHW_HDR_LEN + LCHW_DATA_MAX + LCHW_TAG_LEN;
		if (lchan_reserve(&c->out, &c->out_cap, c->out_len + room) < 0) {
			lchan_fail(c, "out of memory");
			return;
		}
		unsigned char *h = c->out + c->out_len;
		ssize_t n = read(c->src_fd, h + LCHW_HDR_LEN, LCHW_DATA_MAX);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			n = 0; /* the writer failed: treat as the end; the owner knows why */
		}
		if (n == 0) {
			lchan_close_fd(c->x->loop, &c->src_fd);
			c->src_eof = 1;
			if (c->ops && c->ops->on_source_eof)
				c->ops->on_source_eof(c, c->ud);
			break;
		}
		lchw_hdr_put(h, LCHW_DATA, (uint32_t)n);
		if (lchw_seal(c->sess, c->server ? 's' : 'c', c->seq_out++, h, h + LCHW_HDR_LEN,
		             (uint32_t)n, h + LCHW_HDR_LEN + n) < 0) {
			lchan_fail(c, "cannot seal a frame");
			return;
		}
		c->out_len += LCHW_HDR_LEN + (size_t)n + LCHW_TAG_LEN;
		c->stream_out += (uint64_t)n;
	}
	if (c->st != LCH_DEAD && c->out_off < c->out_len)
		lchan_write_out(c);
	else if (c->st != LCH_DEAD)
		lchan_update(c);
}

static void lchan_sink_write(struct lchan *c)
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
	lchan_sink_finish(c);
	if (c->st != LCH_DEAD)
		lchan_update(c);
}

/* --- the event loop ----------------------------------------------------------------- */

static void lchan_connected(struct lchan *c)
{
	int e = 0;
	socklen_t l = sizeof(e);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		e = errno;
	if (e) {
		lchan_fail(c, "connect: %s", strerror(e));
		return;
	}
	c->st = LCH_WAIT_HELLO;
	lchan_update(c);
}

void lchan_on_sock(struct evloop *loop, int fd, int ev, void *ud)
{
	struct lchan *c = ud;
	if (c->st == LCH_CONNECTING) {
		if (ev & (EV_WRITE | EV_READ))
			lchan_connected(c);
		return;
	}
	if ((ev & EV_WRITE) && c->st != LCH_DEAD)
		lchan_write_out(c);
	if ((ev & EV_READ) && c->st != LCH_DEAD && c->st != LCH_FLUSHING)
		lchan_read(c);
	else if ((ev & EV_READ) && c->st == LCH_FLUSHING) {
		char junk[4096];
		ssize_t n = recv(c->fd, junk, sizeof(junk), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			lchan_kill(c);
	}
}

static void lchan_on_src(struct evloop *loop, int fd, int ev, void *ud)
{
	struct lchan *c = ud;
	if (c->st == LCH_OPEN && c->src_fd == fd)
		lchan_src_read(c);
}

static void lchan_on_sink(struct evloop *loop, int fd, int ev, void *ud)
{
	struct lchan *c = ud;
	if (c->st != LCH_DEAD && c->sink_fd == fd)
		lchan_sink_write(c);
}

/* Recomputes which events each of the connection's fds waits for. */
void lchan_update(struct lchan *c)
{
	if (c->st == LCH_DEAD)
		return;
	struct evloop *loop = c->x->loop;
	int pending = c->out_off < c->out_len;
	int ev = 0;
	if (c->st == LCH_CONNECTING)
		ev = EV_WRITE;
	else {
		if (pending)
			ev |= EV_WRITE;
		if (c->st == LCH_FLUSHING || c->sink_len - c->sink_off < LCHAN_SINK_HIGH)
			ev |= EV_READ;
	}
	evloop_set_fd_events(loop, c->fd, ev);
	if (c->src_fd >= 0)
		evloop_set_fd_events(
		    loop, c->src_fd,
		    c->st == LCH_OPEN && c->out_len - c->out_off < LCHAN_OUT_HIGH ? EV_READ : 0);
	if (c->sink_fd >= 0)
		evloop_set_fd_events(loop, c->sink_fd, c->sink_off < c->sink_len ? EV_WRITE : 0);
}

static long lchan_tick(struct evloop *loop, long long id, void *ud)
{
	struct lchan_ctx *x = ud;
	int64_t now = evloop_mono_ms();
	struct lchan *next;
	for (struct lchan *c = x->conns; c; c = next) {
		next = c->next;
		if (c->st < LCH_OPEN && now > c->deadline) {
			lchan_fail(c, "no authentication within %ld ms", x->auth_ms);
			next = x->conns; /* a callback may have closed others: start again */
			continue;
		}
		if (c->st == LCH_FLUSHING && now > c->deadline) {
			lchan_kill(c);
			next = x->conns;
			continue;
		}
		if (c->st == LCH_OPEN && now - c->last_rx > x->idle_ms) {
			lchan_fail(c, "the peer was silent for %ld ms", x->idle_ms);
			next = x->conns;
			continue;
		}
		if (c->st == LCH_OPEN && now - c->last_tx > x->ping_ms && c->out_off == c->out_len) {
			c->last_tx = now;
			if (lchan_queue(c, LCHW_PING, NULL, 0) < 0)
				next = x->conns;
		}
	}
	/* a new one-shot timer each time: a periodic timer's id changes when it runs */
	x->timer = evloop_add_timer(loop, 250, lchan_tick, x);
	return -1;
}

/* --- the owner's calls ------------------------------------------------------------------ */

int lchan_send_ctrl(struct lchan *c, const cJSON *msg)
{
	if (!c || c->st != LCH_OPEN)
		return -1;
	char *text = cJSON_PrintUnformatted(msg);
	if (!text)
		return -1;
	size_t len = strlen(text);
	int rc = len <= LCHW_CTRL_MAX ? lchan_queue(c, LCHW_CTRL, text, (uint32_t)len) : -1;
	free(text);
	return rc;
}

int lchan_stream_from(struct lchan *c, int fd)
{
	if (!c || c->st != LCH_OPEN || c->src_fd >= 0 || c->src_eof)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (evloop_add_fd(c->x->loop, fd, 0, lchan_on_src, c) < 0)
		return -1;
	c->src_fd = fd;
	lchan_update(c);
	return 0;
}

int lchan_stream_to(struct lchan *c, int fd)
{
	if (!c || c->st != LCH_OPEN || c->sink_fd >= 0 || c->sink_end)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (evloop_add_fd(c->x->loop, fd, 0, lchan_on_sink, c) < 0)
		return -1;
	c->sink_fd = fd;
	lchan_update(c);
	return 0;
}

int lchan_stream_end(struct lchan *c)
{
	if (!c || c->st != LCH_OPEN || !c->src_eof)
		return -1;
	unsigned char p[8];
	lchw_put64(p, c->stream_out);
	return lchan_queue(c, LCHW_END, p, sizeof(p));
}

void lchan_close_after(struct lchan *c, const char *why)
{
	if (!c || c->st == LCH_DEAD || c->st == LCH_FLUSHING)
		return;
	if (why) {
		size_t l = strlen(why);
		lchan_queue(c, LCHW_REFUSE, why, (uint32_t)(l > LCHW_REFUSE_MAX ? LCHW_REFUSE_MAX : l));
		if (c->st == LCH_DEAD)
			return;
	}
	c->ops = NULL;
	if (c->st < LCH_OPEN)
		c->x->nunauth--; /* lchan_unlink counts a flushing connection as authenticated */
	c->st = LCH_FLUSHING;
	c->deadline = evloop_mono_ms() + 5000;
	lchan_close_fd(c->x->loop, &c->src_fd);
	lchan_close_fd(c->x->loop, &c->sink_fd);
	if (c->out_off == c->out_len)
		lchan_kill(c);
	else
		lchan_update(c);
}

int lchan_flush(struct lchan *c, long timeout_ms)
{
	int64_t end = evloop_mono_ms() + timeout_ms;
	while (c->st != LCH_DEAD && c->out_off < c->out_len && evloop_mono_ms() < end) {
		struct pollfd p = {.fd = c->fd, .events = POLLOUT};
		if (poll(&p, 1, 50) > 0)
			lchan_write_out(c);
	}
	return c->st != LCH_DEAD && c->out_off == c->out_len ? 0 : -1;
}

const char *lchan_peer(const struct lchan *c)
{
	return c->peer;
}

uint64_t lchan_stream_bytes(const struct lchan *c)
{
	return c->stream_out > c->stream_in ? c->stream_out : c->stream_in;
}

int lchan_is_open(const struct lchan *c)
{
	return c && c->st == LCH_OPEN;
}
