/* channel_open.c - how migration channel connections begin: the listener (with the
 * eviction of connections that do not authenticate), outgoing connections, and the
 * challenge-response that authenticates both ends and derives the session key. */
#include "channel.h"
#include "channel_int.h"

#include "../../lib/chanwire.h"
#include "../../lib/evloop.h"
#include "../../lib/log.h"

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

static void chan_send_hello(struct chan *c)
{
	unsigned char p[CHW_HELLO_MAX];
	size_t nl = strlen(c->x->name);
	memcpy(p, CHW_MAGIC, CHW_MAGIC_LEN);
	memcpy(p + CHW_MAGIC_LEN, c->nonce_s, CHW_NONCE_LEN);
	memcpy(p + CHW_MAGIC_LEN + CHW_NONCE_LEN, c->x->name, nl);
	chan_queue(c, CHW_HELLO, p, (uint32_t)(CHW_MAGIC_LEN + CHW_NONCE_LEN + nl));
}

static void chan_copy_name(char *dst, const unsigned char *src, size_t len)
{
	size_t j = 0;
	for (size_t i = 0; i < len && j < CHW_NAME_MAX; i++)
		dst[j++] = (src[i] >= 0x21 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[j] = '\0';
}

static int chan_make_session(struct chan *c)
{
	unsigned char k[CHW_MAC_LEN];
	if (chw_proof(c->x->key, "session", c->nonce_s, c->nonce_c, k) < 0)
		return -1;
	c->sess = chw_aead_new(k);
	explicit_bzero(k, sizeof(k));
	return c->sess ? 0 : -1;
}

static void chan_opened(struct chan *c)
{
	c->x->nunauth--;
	c->st = CH_OPEN;
	if (c->ops && c->ops->on_ready)
		c->ops->on_ready(c, c->ud);
}

/* Client: the server's hello. */
void chan_on_hello(struct chan *c, const unsigned char *p, uint32_t len)
{
	if (len < CHW_MAGIC_LEN + CHW_NONCE_LEN || memcmp(p, CHW_MAGIC, CHW_MAGIC_LEN) != 0) {
		chan_fail(c, "the peer is not a vmcluster migration channel (bad hello)");
		return;
	}
	memcpy(c->nonce_s, p + CHW_MAGIC_LEN, CHW_NONCE_LEN);
	chan_copy_name(c->peer, p + CHW_MAGIC_LEN + CHW_NONCE_LEN,
	               len - CHW_MAGIC_LEN - CHW_NONCE_LEN);
	unsigned char a[CHW_AUTH_MAX];
	size_t nl = strlen(c->x->name);
	if (chw_random(c->nonce_c, CHW_NONCE_LEN) < 0 ||
	    chw_proof(c->x->key, "client", c->nonce_s, c->nonce_c, a + CHW_NONCE_LEN) < 0) {
		chan_fail(c, "cannot compute the authentication proof");
		return;
	}
	memcpy(a, c->nonce_c, CHW_NONCE_LEN);
	memcpy(a + CHW_NONCE_LEN + CHW_MAC_LEN, c->x->name, nl);
	c->st = CH_WAIT_WELCOME;
	chan_queue(c, CHW_AUTH, a, (uint32_t)(CHW_NONCE_LEN + CHW_MAC_LEN + nl));
}

/* Server: the client's proof. */
void chan_on_auth(struct chan *c, const unsigned char *p, uint32_t len)
{
	unsigned char want[CHW_MAC_LEN];
	if (len < CHW_NONCE_LEN + CHW_MAC_LEN) {
		chan_close_after(c, "authentication failed: short auth frame");
		return;
	}
	memcpy(c->nonce_c, p, CHW_NONCE_LEN);
	chan_copy_name(c->peer, p + CHW_NONCE_LEN + CHW_MAC_LEN, len - CHW_NONCE_LEN - CHW_MAC_LEN);
	if (chw_proof(c->x->key, "client", c->nonce_s, c->nonce_c, want) < 0 ||
	    !chw_equal(want, p + CHW_NONCE_LEN, CHW_MAC_LEN)) {
		log_warnx("migration channel: a client claiming to be %s failed authentication",
		          c->peer[0] ? c->peer : "nobody");
		chan_close_after(c, "authentication failed: wrong cluster key");
		return;
	}
	if (chw_proof(c->x->key, "server", c->nonce_s, c->nonce_c, want) < 0 ||
	    chan_queue(c, CHW_WELCOME, want, CHW_MAC_LEN) < 0 || chan_make_session(c) < 0) {
		chan_fail(c, "cannot complete the handshake");
		return;
	}
	chan_opened(c);
}

/* Client: the server's proof. */
void chan_on_welcome(struct chan *c, const unsigned char *p, uint32_t len)
{
	unsigned char want[CHW_MAC_LEN];
	if (len != CHW_MAC_LEN ||
	    chw_proof(c->x->key, "server", c->nonce_s, c->nonce_c, want) < 0 ||
	    !chw_equal(want, p, CHW_MAC_LEN)) {
		chan_fail(c, "host %s did not prove that it holds the cluster key", c->peer);
		return;
	}
	if (chan_make_session(c) < 0) {
		chan_fail(c, "cannot derive the session key");
		return;
	}
	chan_opened(c);
}

/* --- creating connections ---------------------------------------------------------------- */

struct chan *chan_new(struct chan_ctx *x, int fd, int server)
{
	struct chan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->x = x;
	c->fd = fd;
	c->server = server;
	c->src_fd = c->sink_fd = -1;
	c->last_rx = c->last_tx = evloop_mono_ms();
	c->deadline = c->last_rx + x->auth_ms;
	if (evloop_add_fd(x->loop, fd, EV_READ, chan_on_sock, c) < 0) {
		free(c);
		return NULL;
	}
	c->next = x->conns;
	x->conns = c;
	x->nconn++;
	x->nunauth++;
	return c;
}

static void chan_sock_setup(int fd)
{
	int one = 1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Server side of a new connection: hello, or a refusal without a key. */
void chan_server_start(struct chan *c)
{
	c->st = CH_WAIT_AUTH;
	if (!c->x->key) {
		char why[200];
		snprintf(why, sizeof(why), "host %s has no cluster key: it takes no migrations",
		         c->x->name);
		chan_close_after(c, why);
		return;
	}
	if (chw_random(c->nonce_s, CHW_NONCE_LEN) < 0) {
		chan_kill(c);
		return;
	}
	chan_send_hello(c);
}

/* Too many connections have not authenticated yet: the oldest makes room, so that
 * clients holding connections open cannot lock genuine peers out. */
static void chan_evict(struct chan_ctx *x)
{
	struct chan *old = NULL;
	for (struct chan *c = x->conns; c; c = c->next)
		if (c->st < CH_OPEN && (!old || c->deadline < old->deadline))
			old = c;
	if (old)
		chan_fail(old, "evicted: %d connections were authenticating at once",
		          CHAN_MAX_UNAUTH);
}

static void chan_on_listen(struct evloop *loop, int lfd, int ev, void *ud)
{
	struct chan_ctx *x = ud;
	for (int i = 0; i < 16; i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return;
		if (x->nunauth >= CHAN_MAX_UNAUTH)
			chan_evict(x);
		if (x->nconn >= CHAN_MAX_CONN || x->nunauth >= CHAN_MAX_UNAUTH) {
			log_warnx("migration channel: too many connections; one refused");
			close(fd);
			continue;
		}
		chan_sock_setup(fd);
		struct chan *c = chan_new(x, fd, 1);
		if (!c) {
			close(fd);
			continue;
		}
		if (x->on_accept)
			x->on_accept(c, x->accept_ud);
		chan_server_start(c);
	}
}

int chan_listen(struct chan_ctx *x, const char *addr, int port, chan_accept_fn *fn, void *ud,
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
	evloop_add_fd(x->loop, fd, EV_READ, chan_on_listen, x);
	return bound;
}

/* Splits "IP:PORT" or "[IPv6]:PORT". Returns 0 or -1. */
static int chan_split_addr(const char *s, char *host, size_t hl, char *port, size_t pl)
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

struct chan *chan_connect(struct chan_ctx *x, const char *addr, const struct chan_ops *ops,
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
	if (chan_split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0 ||
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
	chan_sock_setup(fd);
	int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && errno != EINPROGRESS) {
		snprintf(err, errlen, "connect to %s: %s", addr, strerror(errno));
		close(fd);
		return NULL;
	}
	struct chan *c = chan_new(x, fd, 0);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	c->ops = ops;
	c->ud = ud;
	c->st = rc == 0 ? CH_WAIT_HELLO : CH_CONNECTING;
	chan_update(c);
	return c;
}

struct chan *chan_adopt(struct chan_ctx *x, int fd, int server, const struct chan_ops *ops,
                        void *ud)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct chan *c = chan_new(x, fd, server);
	if (!c)
		return NULL;
	c->ops = ops;
	c->ud = ud;
	if (server) {
		chan_server_start(c);
	} else {
		c->st = CH_WAIT_HELLO;
		chan_update(c);
	}
	return c;
}

void chan_set_ops(struct chan *c, const struct chan_ops *ops, void *ud)
{
	c->ops = ops;
	c->ud = ud;
}
