/* channel_tls.c - TLS 1.3 under the migration channel: the two contexts (accepting and
 * connecting) made from the host's credentials, the non-blocking handshake, reads, and
 * writes queued for the socket.
 *
 * Certificates: each end presents its host certificate and requires the peer's, signed
 * by the cluster's CA (channel_open.c then checks that it names the host the peer says
 * it is). Cluster key only: both ends use the external PSK chw_psk(key) under the
 * identity CHW_PSK_IDENTITY, always with an (EC)DHE exchange (psk_dhe_ke; psk_ke is
 * never allowed), so a recorded connection stays secret even if the key leaks later.
 * TLS 1.3 only, no session tickets, no renegotiation to think of. TLS reads the socket
 * itself (several records per recv(2)) but writes its records into the connection's
 * tls_out buffer, which channel.c sends with as few send(2) calls as the socket takes
 * (a 16 KiB record per write(2) would cost a system call and a wake-up each). */
#include "channel.h"
#include "channel_int.h"

#include "../../../lib/bus/chanwire.h"
#include "../../../lib/core/evloop.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* the PSK's ciphersuite: its hash must be the one the session names (SHA-256) */
static const unsigned char tls_psk_suite_id[2] = {0x13, 0x01}; /* TLS_AES_128_GCM_SHA256 */
#define TLS_PSK_SUITES "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_READ_BUFFER (128u << 10)

/* The first error libssl queued, as a sentence; the queue is emptied. */
static void tls_error(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();
	if (e) {
		const char *r = ERR_reason_error_string(e);
		snprintf(buf, len, "%s", r ? r : fallback);
	} else {
		snprintf(buf, len, "%s", fallback);
	}
	ERR_clear_error();
}

/* --- the write side: records into chan.tls_out --------------------------------------- */

static int tls_out_write(BIO *b, const char *data, size_t len, size_t *written)
{
	struct chan *c = BIO_get_data(b);
	size_t need = c->tls_out_len + len;
	if (c->tls_out_off > 0 && need > c->tls_out_cap) {
		memmove(c->tls_out, c->tls_out + c->tls_out_off, c->tls_out_len - c->tls_out_off);
		c->tls_out_len -= c->tls_out_off;
		c->tls_out_off = 0;
		need = c->tls_out_len + len;
	}
	if (need > c->tls_out_cap) {
		size_t n = c->tls_out_cap ? c->tls_out_cap : 65536;
		while (n < need)
			n *= 2;
		unsigned char *p = realloc(c->tls_out, n);
		if (!p)
			return 0;
		c->tls_out = p;
		c->tls_out_cap = n;
	}
	memcpy(c->tls_out + c->tls_out_len, data, len);
	c->tls_out_len += len;
	*written = len;
	return 1;
}

static long tls_out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int tls_out_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

int chan_tls_flush(struct chan *c, char *why, size_t whylen)
{
	while (c->tls_out_off < c->tls_out_len) {
		ssize_t n = send(c->fd, c->tls_out + c->tls_out_off,
		                 c->tls_out_len - c->tls_out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			snprintf(why, whylen, "%s", strerror(errno));
			return -1;
		}
		c->tls_out_off += (size_t)n;
		c->last_tx = evloop_mono_ms();
	}
	c->tls_out_off = c->tls_out_len = 0;
	return 1;
}

int chan_out_pending(const struct chan *c)
{
	return c->out_off < c->out_len || c->tls_out_off < c->tls_out_len;
}

/* --- credentials ------------------------------------------------------------------------ */

static SSL_SESSION *tls_psk_session(SSL *ssl)
{
	struct chan_ctx *x = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, tls_psk_suite_id);
	SSL_SESSION *s = cipher ? SSL_SESSION_new() : NULL;
	if (!s)
		return NULL;
	if (!SSL_SESSION_set1_master_key(s, x->psk, CHW_PSK_LEN) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

/* Client: offers the cluster key's PSK. */
static int tls_psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                       SSL_SESSION **sess)
{
	SSL_SESSION *s = tls_psk_session(ssl);
	if (!s)
		return 0;
	if (md && SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(s)) != md) {
		/* after a HelloRetryRequest with another hash: no PSK to offer */
		SSL_SESSION_free(s);
		*sess = NULL;
		return 1;
	}
	*id = (const unsigned char *)CHW_PSK_IDENTITY;
	*idlen = strlen(CHW_PSK_IDENTITY);
	*sess = s;
	return 1;
}

/* Server: the PSK for our identity; any other identity finds none (and fails). */
static int tls_psk_find(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	*sess = NULL;
	if (idlen != strlen(CHW_PSK_IDENTITY) || memcmp(id, CHW_PSK_IDENTITY, idlen) != 0)
		return 1;
	*sess = tls_psk_session(ssl);
	return *sess ? 1 : 0;
}

/* Our own certificate must name this host, or peers would refuse us. */
static int tls_check_own_cert(SSL_CTX *ctx, const char *name, const char *file, char *err,
                              size_t errlen)
{
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	if (!cert || X509_check_host(cert, name, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
		snprintf(err, errlen,
		         "%s: the certificate does not name host %s (neither its CN nor a DNS "
		         "subjectAltName)",
		         file, name);
		return -1;
	}
	return 0;
}

static SSL_CTX *tls_ctx_new(struct chan_ctx *x, int server, const struct chan_creds *cr, char *err,
                            size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		tls_error(err, errlen, "cannot set up TLS (libssl)");
		return NULL;
	}
	SSL_CTX_set_app_data(ctx, x);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_clear_options(ctx, SSL_OP_ALLOW_NO_DHE_KEX); /* (EC)DHE always: forward secrecy */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* several records per recv(2): the stream is many full records in a row */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, TLS_READ_BUFFER);
	if (x->certs) {
		const char *bad = NULL;
		if (SSL_CTX_use_certificate_chain_file(ctx, cr->cert) != 1)
			bad = cr->cert;
		else if (SSL_CTX_use_PrivateKey_file(ctx, cr->cert_key, SSL_FILETYPE_PEM) != 1 ||
		         SSL_CTX_check_private_key(ctx) != 1)
			bad = cr->cert_key;
		else if (SSL_CTX_load_verify_locations(ctx, cr->ca, NULL) != 1)
			bad = cr->ca;
		if (bad) {
			char why[200];
			tls_error(why, sizeof(why), "cannot be read");
			snprintf(err, errlen, "migration channel: %s: %s", bad, why);
			SSL_CTX_free(ctx);
			return NULL;
		}
		if (tls_check_own_cert(ctx, x->name, cr->cert, err, errlen) < 0) {
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else {
		SSL_CTX_set_ciphersuites(ctx, TLS_PSK_SUITES);
		if (server)
			SSL_CTX_set_psk_find_session_callback(ctx, tls_psk_find);
		else
			SSL_CTX_set_psk_use_session_callback(ctx, tls_psk_use);
	}
	return ctx;
}

int chan_tls_setup(struct chan_ctx *x, const struct chan_creds *cr, char *err, size_t errlen)
{
	if (!cr || (!cr->cert && (!cr->key || !cr->keylen)))
		return 0; /* no credentials: no TLS, no migrations */
	if (cr->cert && (!cr->cert_key || !cr->ca)) {
		snprintf(err, errlen, "migration channel: a certificate needs its key and the CA");
		return -1;
	}
	x->certs = cr->cert != NULL;
	if (!x->certs && chw_psk(cr->key, cr->keylen, x->psk) < 0) {
		snprintf(err, errlen, "migration channel: cannot derive the PSK (libcrypto)");
		return -1;
	}
	x->tls_out_bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "vmc channel");
	if (!x->tls_out_bio || !BIO_meth_set_write_ex(x->tls_out_bio, tls_out_write) ||
	    !BIO_meth_set_ctrl(x->tls_out_bio, tls_out_ctrl) ||
	    !BIO_meth_set_create(x->tls_out_bio, tls_out_create)) {
		snprintf(err, errlen, "migration channel: cannot set up TLS (libcrypto)");
		chan_tls_free(x);
		return -1;
	}
	x->tls_srv = tls_ctx_new(x, 1, cr, err, errlen);
	x->tls_cli = x->tls_srv ? tls_ctx_new(x, 0, cr, err, errlen) : NULL;
	if (!x->tls_cli) {
		chan_tls_free(x);
		return -1;
	}
	return 0;
}

void chan_tls_free(struct chan_ctx *x)
{
	SSL_CTX_free(x->tls_srv);
	SSL_CTX_free(x->tls_cli);
	BIO_meth_free(x->tls_out_bio);
	x->tls_srv = x->tls_cli = NULL;
	x->tls_out_bio = NULL;
	OPENSSL_cleanse(x->psk, sizeof(x->psk));
}

int chan_tls_new(struct chan *c)
{
	SSL_CTX *ctx = c->server ? c->x->tls_srv : c->x->tls_cli;
	c->ssl = ctx ? SSL_new(ctx) : NULL;
	if (!c->ssl)
		return -1;
	BIO *rd = BIO_new_socket(c->fd, BIO_NOCLOSE), *wr = BIO_new(c->x->tls_out_bio);
	if (!rd || !wr) {
		BIO_free(rd);
		BIO_free(wr);
		return -1;
	}
	BIO_set_data(wr, c);
	SSL_set_bio(c->ssl, rd, wr);
	if (c->server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	return 0;
}

/* A failed call: 0 if it only waits for the peer (writes never block: tls_out takes
 * them), or -1 with why. */
static int tls_result(struct chan *c, int r, char *why, size_t whylen)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(why, whylen, "the peer closed the connection");
		break;
	case SSL_ERROR_SYSCALL:
		if (errno && errno != EPIPE && errno != ECONNRESET)
			snprintf(why, whylen, "%s", strerror(errno));
		else
			snprintf(why, whylen, "the peer closed the connection");
		ERR_clear_error();
		break;
	default:
		tls_error(why, whylen, "TLS error");
	}
	return -1;
}

int chan_tls_handshake(struct chan *c, char *why, size_t whylen)
{
	ERR_clear_error();
	int r = SSL_do_handshake(c->ssl);
	return r == 1 ? 1 : tls_result(c, r, why, whylen);
}

long chan_tls_read(struct chan *c, void *buf, size_t len, char *why, size_t whylen)
{
	size_t n = 0;
	ERR_clear_error();
	int r = SSL_read_ex(c->ssl, buf, len, &n);
	return r == 1 ? (long)n : tls_result(c, r, why, whylen);
}

long chan_tls_write(struct chan *c, const void *buf, size_t len, char *why, size_t whylen)
{
	size_t n = 0;
	ERR_clear_error();
	int r = SSL_write_ex(c->ssl, buf, len, &n);
	return r == 1 ? (long)n : tls_result(c, r, why, whylen);
}

int chan_tls_pending(const struct chan *c)
{
	return c->ssl && SSL_has_pending(c->ssl);
}
