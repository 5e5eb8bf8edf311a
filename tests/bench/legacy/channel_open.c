/* Frozen copy of agents/hostd/migrate/channel_open.c as it was before the channel moved to TLS 1.3, its names
 * prefixed lchan_/lchw_/LCH_: only tests/bench/channel.c uses it, for its comparison. */
/* channel_open.c - how migration channel connections begin: the listener (with the
 * eviction of connections that do not authenticate), outgoing connections, and the
 * challenge-response that authenticates both ends and derives the session key. */
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- the handshake -------------------------------------------------------------------- */

static void lchan_send_hello(struct lchan *c)
{
	unsigned char p[LCHW_HELLO_MAX];
	size_t nl = strlen(c->x->name);
	memcpy(p, LCHW_MAGIC, LCHW_MAGIC_LEN);
	memcpy(p + LCHW_MAGIC_LEN, c->nonce_s, LCHW_NONCE_LEN);
	memcpy(p + LCHW_MAGIC_LEN + LCHW_NONCE_LEN, c->x->name, nl);
	lchan_queue(c, LCHW_HELLO, p, (uint32_t)(LCHW_MAGIC_LEN + LCHW_NONCE_LEN + nl));
}

static void lchan_copy_name(char *dst, const unsigned char *src, size_t len)
{
	size_t j = 0;
	for (size_t i = 0; i < len && j < LCHW_NAME_MAX; i++)
		dst[j++] = (src[i] >= 0x21 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[j] = '\0';
}

static int lchan_make_session(struct lchan *c)
{
	unsigned char k[LCHW_MAC_LEN];
	if (lchw_proof(c->x->key, "session", c->nonce_s, c->nonce_c, k) < 0)
		return -1;
	c->sess = lchw_aead_new(k);
	explicit_bzero(k, sizeof(k));
	return c->sess ? 0 : -1;
}

static void lchan_opened(struct lchan *c)
{
	c->x->nunauth--;
	c->st = LCH_OPEN;
	if (c->ops && c->ops->on_ready)
		c->ops->on_ready(c, c->ud);
}

/* Client: the server's hello. */
void lchan_on_hello(struct lchan *c, const unsigned char *p, uint32_t len)
{
	if (len < LCHW_MAGIC_LEN + LCHW_NONCE_LEN || memcmp(p, LCHW_MAGIC, LCHW_MAGIC_LEN) != 0) {
		lchan_fail(c, "the peer is not a vmcluster migration channel (bad hello)");
		return;
	}
	memcpy(c->nonce_s, p + LCHW_MAGIC_LEN, LCHW_NONCE_LEN);
	lchan_copy_name(c->peer, p + LCHW_MAGIC_LEN + LCHW_NONCE_LEN,
	               len - LCHW_MAGIC_LEN - LCHW_NONCE_LEN);
	unsigned char a[LCHW_AUTH_MAX];
	size_t nl = strlen(c->x->name);
	if (lchw_random(c->nonce_c, LCHW_NONCE_LEN) < 0 ||
	    lchw_proof(c->x->key, "client", c->nonce_s, c->nonce_c, a + LCHW_NONCE_LEN) < 0) {
		lchan_fail(c, "cannot compute the authentication proof");
		return;
	}
	memcpy(a, c->nonce_c, LCHW_NONCE_LEN);
	memcpy(a + LCHW_NONCE_LEN + LCHW_MAC_LEN, c->x->name, nl);
	c->st = LCH_WAIT_WELCOME;
	lchan_queue(c, LCHW_AUTH, a, (uint32_t)(LCHW_NONCE_LEN + LCHW_MAC_LEN + nl));
}

/* Server: the client's proof. */
void lchan_on_auth(struct lchan *c, const unsigned char *p, uint32_t len)
{
	unsigned char want[LCHW_MAC_LEN];
	if (len < LCHW_NONCE_LEN + LCHW_MAC_LEN) {
		lchan_close_after(c, "authentication failed: short auth frame");
		return;
	}
	memcpy(c->nonce_c, p, LCHW_NONCE_LEN);
	lchan_copy_name(c->peer, p + LCHW_NONCE_LEN + LCHW_MAC_LEN, len - LCHW_NONCE_LEN - LCHW_MAC_LEN);
	if (lchw_proof(c->x->key, "client", c->nonce_s, c->nonce_c, want) < 0 ||
	    !lchw_equal(want, p + LCHW_NONCE_LEN, LCHW_MAC_LEN)) {
		log_warnx("migration channel: a client claiming to be %s failed authentication",
		          c->peer[0] ? c->peer : "nobody");
		lchan_close_after(c, "authentication failed: wrong cluster key");
		return;
	}
	if (lchw_proof(c->x->key, "server", c->nonce_s, c->nonce_c, want) < 0 ||
	    lchan_queue(c, LCHW_WELCOME, want, LCHW_MAC_LEN) < 0 || lchan_make_session(c) < 0) {
		lchan_fail(c, "cannot complete the handshake");
		return;
	}
	lchan_opened(c);
}

/* Client: the server's proof. */
void lchan_on_welcome(struct lchan *c, const unsigned char *p, uint32_t len)
{
	unsigned char want[LCHW_MAC_LEN];
	if (len != LCHW_MAC_LEN ||
	    lchw_proof(c->x->key, "server", c->nonce_s, c->nonce_c, want) < 0 ||
	    !lchw_equal(want, p, LCHW_MAC_LEN)) {
		lchan_fail(c, "host %s did not prove that it holds the cluster key", c->peer);
		return;
	}
	if (lchan_make_session(c) < 0) {
		lchan_fail(c, "cannot derive the session key");
		return;
	}
	lchan_opened(c);
}

/* --- creating connections ---------------------------------------------------------------- */

struct lchan *lchan_new(struct lchan_ctx *x, int fd, int server)
{
	struct lchan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->x = x;
	c->fd = fd;
	c->server = server;
	c->src_fd = c->sink_fd = -1;
	c->last_rx = c->last_tx = evloop_mono_ms();
	c->deadline = c->last_rx + x->auth_ms;
	if (evloop_add_fd(x->loop, fd, EV_READ, lchan_on_sock, c) < 0) {
		free(c);
		return NULL;
	}
	c->next = x->conns;
	x->conns = c;
	x->nconn++;
	x->nunauth++;
	return c;
}

static void lchan_sock_setup(int fd)
{
	int one = 1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Server side of a new connection: hello, or a refusal without a key. */
void lchan_server_start(struct lchan *c)
{
	c->st = LCH_WAIT_AUTH;
	if (!c->x->key) {
		char why[200];
		snprintf(why, sizeof(why), "host %s has no cluster key: it takes no migrations",
		         c->x->name);
		lchan_close_after(c, why);
		return;
	}
	if (lchw_random(c->nonce_s, LCHW_NONCE_LEN) < 0) {
		lchan_kill(c);
		return;
	}
	lchan_send_hello(c);
}

/* Too many connections have not authenticated yet: the oldest makes room, so that
 * clients holding connections open cannot lock genuine peers out. */
static void lchan_evict(struct lchan_ctx *x)
{
	struct lchan *old = NULL;
	for (struct lchan *c = x->conns; c; c = c->next)
		if (c->st < LCH_OPEN && (!old || c->deadline < old->deadline))
			old = c;
	if (old)
		lchan_fail(old, "evicted: %d connections were authenticating at once",
		          LCHAN_MAX_UNAUTH);
}

static void lchan_on_listen(struct evloop *loop, int lfd, int ev, void *ud)
{
	struct lchan_ctx *x = ud;
	for (int i = 0; i < 16; i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return;
		if (x->nunauth >= LCHAN_MAX_UNAUTH)
			lchan_evict(x);
		if (x->nconn >= LCHAN_MAX_CONN || x->nunauth >= LCHAN_MAX_UNAUTH) {
			log_warnx("migration channel: too many connections; one refused");
			close(fd);
			continue;
		}
		lchan_sock_setup(fd);
		struct lchan *c = lchan_new(x, fd, 1);
		if (!c) {
			close(fd);
			continue;
		}
		if (x->on_accept)
			x->on_accept(c, x->accept_ud);
		lchan_server_start(c);
	}
}

int lchan_listen(struct lchan_ctx *x, const char *addr, int port, lchan_accept_fn *fn, void *ud,
                char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_PASSIVE},
	                *ai;
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	int rc = getaddrinfo(addr, ps, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "migration address %s: %s (a numeric IP address is needed)",
		         addr, gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "migration channel on %s port %d: %s", addr, port,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	int bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                           : ((struct sockaddr_in *)&ss)->sin_port);
	x->listen_fd = fd;
	x->on_accept = fn;
	x->accept_ud = ud;
	evloop_add_fd(x->loop, fd, EV_READ, lchan_on_listen, x);
	return bound;
}

/* Splits "IP:PORT" or "[IPv6]:PORT". Returns 0 or -1. */
static int lchan_split_addr(const char *s, char *host, size_t hl, char *port, size_t pl)
{
	const char *colon;
	if (s[0] == '[') {
		const char *close_br = strchr(s, ']');
		if (!close_br || close_br[1] != ':' || (size_t)(close_br - s - 1) >= hl)
			return -1;
		memcpy(host, s + 1, (size_t)(close_br - s - 1));
		host[close_br - s - 1] = '\0';
		colon = close_br + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= hl)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= pl)
		return -1;
	snprintf(port, pl, "%s", colon + 1);
	return 0;
}

struct lchan *lchan_connect(struct lchan_ctx *x, const char *addr, const struct lchan_ops *ops,
                          void *ud, char *err, size_t errlen)
{
	if (!x->key) {
		snprintf(err, errlen, "no cluster key: migrations need --cluster-key-file");
		return NULL;
	}
	char host[128], port[16];
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV},
	                *ai;
	if (lchan_split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0 ||
	    getaddrinfo(host, port, &hints, &ai) != 0) {
		snprintf(err, errlen, "migration address \"%s\": expected IP:PORT", addr);
		return NULL;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		freeaddrinfo(ai);
		return NULL;
	}
	lchan_sock_setup(fd);
	int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && errno != EINPROGRESS) {
		snprintf(err, errlen, "connect to %s: %s", addr, strerror(errno));
		close(fd);
		return NULL;
	}
	struct lchan *c = lchan_new(x, fd, 0);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	c->ops = ops;
	c->ud = ud;
	c->st = rc == 0 ? LCH_WAIT_HELLO : LCH_CONNECTING;
	lchan_update(c);
	return c;
}

struct lchan *lchan_adopt(struct lchan_ctx *x, int fd, int server, const struct lchan_ops *ops,
                        void *ud)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct lchan *c = lchan_new(x, fd, server);
	if (!c)
		return NULL;
	c->ops = ops;
	c->ud = ud;
	if (server) {
		lchan_server_start(c);
	} else {
		c->st = LCH_WAIT_HELLO;
		lchan_update(c);
	}
	return c;
}

void lchan_set_ops(struct lchan *c, const struct lchan_ops *ops, void *ud)
{
	c->ops = ops;
	c->ud = ud;
}
