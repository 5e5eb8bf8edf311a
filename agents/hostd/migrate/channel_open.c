/* channel_open.c - how migration channel connections begin: the listener (with the
 * eviction of connections that do not authenticate), outgoing connections, the TLS
 * handshake step by step (channel_tls.c does TLS itself) and the hellos that name
 * both ends. */
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
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- the handshake -------------------------------------------------------------------- */

static void chan_opened(struct chan *c)
{
	c->x->nunauth--;
	c->st = CH_OPEN;
	if (c->ops && c->ops->on_ready)
		c->ops->on_ready(c, c->ud);
}

/* The peer's hello: with certificates, the name must be one its certificate holds. */
void chan_on_hello(struct chan *c, const unsigned char *p, uint32_t len)
{
	char name[CHW_NAME_MAX + 1], err[200];
	if (chw_hello_get(p, len, name, err, sizeof(err)) < 0) {
		chan_close_after(c, err);
		return;
	}
	if (c->x->certs) {
		X509 *cert = SSL_get0_peer_certificate(c->ssl);
		if (!cert ||
		    X509_check_host(cert, name, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
			char why[300];
			snprintf(why, sizeof(why),
			         "authentication failed: the certificate presented does not name "
			         "host %s",
			         name);
			log_warnx(
			    "migration channel: a peer calling itself %s failed authentication: "
			    "its certificate names another host",
			    name);
			chan_close_after(c, why);
			return;
		}
	}
	snprintf(c->peer, sizeof(c->peer), "%s", name);
	chan_opened(c);
}

/* TLS, one step at a time; once up, our hello goes first and reading begins. */
void chan_start(struct chan *c)
{
	char why[200];
	if (c->st != CH_TLS) {
		c->st = CH_TLS;
		if (!c->x->tls_srv) {
			/* no credentials: this host takes no migrations (it says so in its log) */
			chan_kill(c);
			return;
		}
		if (chan_tls_new(c) < 0) {
			chan_fail(c, "cannot set up TLS");
			return;
		}
	}
	int r = chan_tls_flush(c, why, sizeof(why));
	if (r < 0) {
		chan_fail(c, "send: %s", why);
		return;
	}
	r = chan_tls_handshake(c, why, sizeof(why));
	/* what TLS said goes out even when it failed: its alert tells the peer why */
	char ferr[200];
	if (chan_tls_flush(c, ferr, sizeof(ferr)) < 0 && r >= 0) {
		chan_fail(c, "send: %s", ferr);
		return;
	}
	if (r < 0) {
		if (c->server)
			log_warnx("migration channel: a client failed authentication (TLS: %s)",
			          why);
		chan_fail(c, "TLS handshake: %s", why);
		return;
	}
	if (r == 0) {
		chan_update(c);
		return;
	}
	unsigned char h[CHW_HELLO_MAX];
	c->st = CH_WAIT_HELLO;
	if (chan_queue(c, CHW_HELLO, h, (uint32_t)chw_hello_put(h, c->x->name)) < 0)
		return;
	chan_write_out(c);
	if (c->st == CH_WAIT_HELLO)
		chan_read(c);
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
	chan_ctx_arm(x);
	return c;
}

static void chan_sock_setup(int fd)
{
	int one = 1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
		chan_start(c);
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
	if (!x->tls_srv) {
		snprintf(err, errlen,
		         "no credentials: migrations need --cluster-key-file or --channel-cert");
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
	c->st = CH_CONNECTING; /* TLS begins once the socket is writable */
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
	chan_start(c);
	return c;
}

void chan_set_ops(struct chan *c, const struct chan_ops *ops, void *ud)
{
	c->ops = ops;
	c->ud = ud;
}
