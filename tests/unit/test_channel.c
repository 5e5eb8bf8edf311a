/* test_channel.c - the migration channel's framing and authentication (TLS 1.3 with
 * the cluster key's PSK or with host certificates), over socketpairs in one event loop:
 * both ends of a connection are real channel code, or one end is a hand-made TLS peer
 * (OpenSSL on memory BIOs, its bytes recorded) that breaks the rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../agents/hostd/migrate/channel.h"
#include "../../agents/hostd/migrate/channel_int.h"
#include "../../lib/bus/chanwire.h"
#include "../../lib/core/evloop.h"

static const unsigned char KEY[] = "0123456789abcdef-cluster-key";
static const unsigned char OTHER_KEY[] = "fedcba9876543210-another-key";

/* What one end saw. */
struct end {
	int ready;
	int closed;
	char why[512];
	int nctrl;
	char last_op[64];
	int stream_end;
	uint64_t stream_bytes;
	int source_eof;
	struct chan *c;
};

static void on_ready(struct chan *c, void *ud)
{
	((struct end *)ud)->ready++;
}

static void on_ctrl(struct chan *c, const cJSON *m, void *ud)
{
	struct end *e = ud;
	const cJSON *op = cJSON_GetObjectItem(m, "op");
	e->nctrl++;
	snprintf(e->last_op, sizeof(e->last_op), "%s", cJSON_IsString(op) ? op->valuestring : "");
}

static void on_stream_end(struct chan *c, uint64_t bytes, void *ud)
{
	struct end *e = ud;
	e->stream_end = 1;
	e->stream_bytes = bytes;
}

static void on_source_eof(struct chan *c, void *ud)
{
	struct end *e = ud;
	e->source_eof = 1;
	chan_stream_end(c);
}

static void on_close(struct chan *c, const char *why, void *ud)
{
	struct end *e = ud;
	e->closed = 1;
	e->c = NULL;
	snprintf(e->why, sizeof(e->why), "%s", why);
}

static const struct chan_ops ops = {on_ready, on_ctrl, on_stream_end, on_source_eof, on_close};

/* Runs the loop until *flag is set or 3 s pass. Returns the flag. */
static int run_until(struct evloop *loop, const int *flag)
{
	int64_t end = evloop_mono_ms() + 3000;
	while (!*flag && evloop_mono_ms() < end)
		evloop_run_once(loop, 20);
	return *flag;
}

/* --- certificates, made for the test ------------------------------------------------- */

struct pki {
	char dir[64];
	char ca[128], other_ca[128];
	EVP_PKEY *ca_key, *other_key;
	X509 *ca_cert, *other_cert;
};
static struct pki PKI;

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

/* A certificate for cn signed by (issuer, ikey), or self-signed when issuer is NULL. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	const char *ext[][2] = {
	    {"basicConstraints", ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
	    {"keyUsage", ca ? "critical,keyCertSign" : "critical,digitalSignature"},
	    {"extendedKeyUsage", ca ? NULL : "clientAuth,serverAuth"},
	};
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		if (!ext[i][1])
			continue;
		X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, ext[i][0], ext[i][1]);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, issuer ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	if (x)
		PEM_write_X509(f, x);
	if (k)
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

/* DIR/NAME.crt and DIR/NAME.key for a host certificate naming cn, from the CA (or from
 * the other CA when other is set). */
static void host_cert(const char *name, const char *cn, int other)
{
	char crt[160], key[160];
	snprintf(crt, sizeof(crt), "%s/%s.crt", PKI.dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", PKI.dir, name);
	EVP_PKEY *k = ec_key();
	X509 *x = make_cert(cn, k, other ? PKI.other_cert : PKI.ca_cert,
	                    other ? PKI.other_key : PKI.ca_key, 0);
	write_pem(crt, x, NULL);
	write_pem(key, NULL, k);
	X509_free(x);
	EVP_PKEY_free(k);
}

static int pki_setup(void **state)
{
	snprintf(PKI.dir, sizeof(PKI.dir), "/tmp/vmc-test-chan.XXXXXX");
	assert_non_null(mkdtemp(PKI.dir));
	PKI.ca_key = ec_key();
	PKI.ca_cert = make_cert("test CA", PKI.ca_key, NULL, NULL, 1);
	PKI.other_key = ec_key();
	PKI.other_cert = make_cert("another CA", PKI.other_key, NULL, NULL, 1);
	snprintf(PKI.ca, sizeof(PKI.ca), "%s/ca.crt", PKI.dir);
	snprintf(PKI.other_ca, sizeof(PKI.other_ca), "%s/other.crt", PKI.dir);
	write_pem(PKI.ca, PKI.ca_cert, NULL);
	write_pem(PKI.other_ca, PKI.other_cert, NULL);
	host_cert("server-host", "server-host", 0);
	host_cert("client-host", "client-host", 0);
	host_cert("intruder", "client-host", 1); /* the right name from another CA */
	host_cert("h3", "h3", 0);                /* a genuine host of the cluster */
	return 0;
}

static int pki_teardown(void **state)
{
	const char *names[] = {"server-host", "client-host", "intruder", "h3"};
	char p[200];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s.crt", PKI.dir, names[i]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s.key", PKI.dir, names[i]);
		unlink(p);
	}
	unlink(PKI.ca);
	unlink(PKI.other_ca);
	rmdir(PKI.dir);
	X509_free(PKI.ca_cert);
	X509_free(PKI.other_cert);
	EVP_PKEY_free(PKI.ca_key);
	EVP_PKEY_free(PKI.other_key);
	return 0;
}

/* Credentials: a cluster key, or the certificate files of host cert (NULL: none). */
struct creds {
	const unsigned char *key;
	const char *cert;
	char crt[160], pem[160];
	struct chan_creds cr;
};

static const struct chan_creds *creds_of(struct creds *c)
{
	memset(&c->cr, 0, sizeof(c->cr));
	if (c->cert) {
		snprintf(c->crt, sizeof(c->crt), "%s/%s.crt", PKI.dir, c->cert);
		snprintf(c->pem, sizeof(c->pem), "%s/%s.key", PKI.dir, c->cert);
		c->cr.cert = c->crt;
		c->cr.cert_key = c->pem;
		c->cr.ca = PKI.ca;
	} else if (c->key) {
		c->cr.key = c->key;
		c->cr.keylen = strlen((const char *)c->key);
	} else {
		return NULL;
	}
	return &c->cr;
}

/* --- two channel ends ------------------------------------------------------------------ */

struct pair {
	struct evloop *loop;
	struct chan_ctx *sx, *cx;
	struct end s, c;
};

static void pair_open_creds(struct pair *p, struct creds *sc, struct creds *cc, const char *cname)
{
	char err[256];
	int sv[2];
	memset(p, 0, sizeof(*p));
	p->loop = evloop_new();
	assert_non_null(p->loop);
	p->sx = chan_ctx_new(p->loop, "server-host", creds_of(sc), err, sizeof(err));
	p->cx = chan_ctx_new(p->loop, cname, creds_of(cc), err, sizeof(err));
	assert_non_null(p->sx);
	assert_non_null(p->cx);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->s.c = chan_adopt(p->sx, sv[0], 1, &ops, &p->s);
	p->c.c = chan_adopt(p->cx, sv[1], 0, &ops, &p->c);
	assert_non_null(p->s.c);
	assert_non_null(p->c.c);
}

static void pair_open(struct pair *p, const unsigned char *skey, const unsigned char *ckey)
{
	struct creds sc = {.key = skey}, cc = {.key = ckey};
	pair_open_creds(p, &sc, &cc, "client-host");
}

static void pair_close(struct pair *p)
{
	chan_ctx_free(p->sx);
	chan_ctx_free(p->cx);
	evloop_free(p->loop);
}

/* --- framing ------------------------------------------------------------------------ */

static void test_header_roundtrip(void **state)
{
	unsigned char h[CHW_HDR_LEN];
	int type;
	uint32_t len;
	char err[128];
	chw_hdr_put(h, CHW_CTRL, 1234);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), 0);
	assert_int_equal(type, CHW_CTRL);
	assert_int_equal(len, 1234);
	chw_hdr_put(h, CHW_DATA, CHW_DATA_MAX);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), 0);
	assert_int_equal(len, CHW_DATA_MAX);
}

static void test_header_limits(void **state)
{
	unsigned char h[CHW_HDR_LEN];
	int type;
	uint32_t len;
	char err[128];
	chw_hdr_put(h, CHW_DATA, CHW_DATA_MAX + 1);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exceeds the limit"));
	chw_hdr_put(h, CHW_CTRL, 0xffffffffu);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), -1);
	chw_hdr_put(h, 'Z', 1);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown frame type 0x5a"));
	/* control and data only after the hello, the hello only before */
	chw_hdr_put(h, CHW_CTRL, 10);
	assert_int_equal(chw_hdr_get(h, 0, &type, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before the hello"));
	chw_hdr_put(h, CHW_HELLO, 10);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), -1);
	chw_hdr_put(h, CHW_HELLO, CHW_HELLO_MAX + 1);
	assert_int_equal(chw_hdr_get(h, 0, &type, &len, err, sizeof(err)), -1);
	chw_hdr_put(h, CHW_PING, 0);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), 0);
	chw_hdr_put(h, CHW_PING, 1);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), -1);
}

static void test_psk_and_hello(void **state)
{
	unsigned char a[CHW_PSK_LEN], b[CHW_PSK_LEN], c[CHW_PSK_LEN];
	assert_int_equal(chw_psk(KEY, sizeof(KEY) - 1, a), 0);
	assert_int_equal(chw_psk(KEY, sizeof(KEY) - 1, b), 0);
	assert_int_equal(chw_psk(OTHER_KEY, sizeof(OTHER_KEY) - 1, c), 0);
	assert_memory_equal(a, b, CHW_PSK_LEN);
	assert_memory_not_equal(a, c, CHW_PSK_LEN);
	assert_memory_not_equal(a, KEY, CHW_PSK_LEN); /* never the key's own bytes */

	unsigned char h[CHW_HELLO_MAX];
	char name[CHW_NAME_MAX + 1], err[128];
	size_t n = chw_hello_put(h, "h1.example");
	assert_int_equal(chw_hello_get(h, (uint32_t)n, name, err, sizeof(err)), 0);
	assert_string_equal(name, "h1.example");
	h[0] = 'X';
	assert_int_equal(chw_hello_get(h, (uint32_t)n, name, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad hello"));
	n = chw_hello_put(h, "a b");
	assert_int_equal(chw_hello_get(h, (uint32_t)n, name, err, sizeof(err)), -1);
	n = chw_hello_put(h, "");
	assert_int_equal(chw_hello_get(h, (uint32_t)n, name, err, sizeof(err)), -1);
	memcpy(h + CHW_MAGIC_LEN, "a\0b", 3);
	assert_int_equal(chw_hello_get(h, CHW_MAGIC_LEN + 3, name, err, sizeof(err)), -1);
}

static void test_key_check(void **state)
{
	char err[128];
	unsigned char k1[] = "short\n";
	assert_int_equal(chw_key_check(k1, sizeof(k1) - 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at least 16"));
	unsigned char k2[] = "0123456789abcdef\r\n";
	assert_int_equal(chw_key_check(k2, sizeof(k2) - 1, err, sizeof(err)), 16);
}

/* --- authentication with the cluster key ------------------------------------------------ */

static void exchange_ctrl(struct pair *p)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "op", "hello-from-client");
	assert_int_equal(chan_send_ctrl(p->c.c, m), 0);
	cJSON_Delete(m);
	assert_true(run_until(p->loop, &p->s.nctrl));
	assert_string_equal(p->s.last_op, "hello-from-client");
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "op", "answer");
	assert_int_equal(chan_send_ctrl(p->s.c, m), 0);
	cJSON_Delete(m);
	assert_true(run_until(p->loop, &p->c.nctrl));
	assert_string_equal(p->c.last_op, "answer");
	assert_false(p->s.closed || p->c.closed);
}

static void test_auth_ok_and_ctrl(void **state)
{
	struct pair p;
	pair_open(&p, KEY, KEY);
	assert_true(run_until(p.loop, &p.c.ready));
	assert_true(run_until(p.loop, &p.s.ready));
	assert_string_equal(chan_peer(p.c.c), "server-host");
	assert_string_equal(chan_peer(p.s.c), "client-host");
	assert_false(chan_ctx_certs(p.sx));
	exchange_ctrl(&p);
	pair_close(&p);
}

/* The PSK is only authentication: the keys come from an (EC)DHE exchange, so the cluster
 * key alone does not decrypt a recorded connection. */
static void test_psk_uses_dhe(void **state)
{
	struct pair p;
	pair_open(&p, KEY, KEY);
	assert_true(run_until(p.loop, &p.c.ready));
	assert_true(run_until(p.loop, &p.s.ready));
	SSL *ssl = p.c.c->ssl;
	assert_int_equal(SSL_version(ssl), TLS1_3_VERSION);
	assert_int_equal(SSL_session_reused(ssl), 1); /* the external PSK was used */
	EVP_PKEY *share = NULL;
	assert_int_equal(SSL_get_peer_tmp_key(ssl, &share), 1); /* the server's key share */
	assert_non_null(share);
	EVP_PKEY_free(share);
	pair_close(&p);
}

static void test_auth_wrong_key(void **state)
{
	struct pair p;
	pair_open(&p, KEY, OTHER_KEY);
	assert_true(run_until(p.loop, &p.c.closed));
	assert_true(run_until(p.loop, &p.s.closed));
	assert_non_null(strstr(p.c.why, "TLS handshake"));
	assert_non_null(strstr(p.s.why, "TLS handshake"));
	assert_int_equal(p.c.ready, 0);
	assert_int_equal(p.s.ready, 0);
	pair_close(&p);
}

static void test_server_without_key(void **state)
{
	struct pair p;
	pair_open(&p, NULL, KEY);
	assert_true(run_until(p.loop, &p.c.closed));
	assert_non_null(strstr(p.c.why, "closed the connection"));
	assert_int_equal(p.c.ready, 0);
	pair_close(&p);
}

static void test_client_without_key_cannot_connect(void **state)
{
	char err[256];
	struct evloop *loop = evloop_new();
	struct chan_ctx *x = chan_ctx_new(loop, "h", NULL, err, sizeof(err));
	assert_non_null(x);
	assert_false(chan_ctx_has_key(x));
	assert_null(chan_connect(x, "127.0.0.1:1", &ops, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "cluster-key-file"));
	chan_ctx_free(x);
	evloop_free(loop);
}

/* --- authentication with certificates ---------------------------------------------------- */

static void test_certs_ok(void **state)
{
	struct pair p;
	struct creds sc = {.cert = "server-host"}, cc = {.cert = "client-host"};
	pair_open_creds(&p, &sc, &cc, "client-host");
	assert_true(run_until(p.loop, &p.c.ready));
	assert_true(run_until(p.loop, &p.s.ready));
	assert_true(chan_ctx_certs(p.sx));
	assert_string_equal(chan_peer(p.c.c), "server-host");
	assert_string_equal(chan_peer(p.s.c), "client-host");
	exchange_ctrl(&p);
	pair_close(&p);
}

/* A genuine host of the cluster (h3, its own certificate) cannot pose as another. */
static void test_certs_host_poses_as_another(void **state)
{
	char err[256];
	struct evloop *loop = evloop_new();
	struct creds cc = {.cert = "h3"};
	/* the context itself refuses a name its certificate does not hold */
	assert_null(chan_ctx_new(loop, "client-host", creds_of(&cc), err, sizeof(err)));
	assert_non_null(strstr(err, "does not name host client-host"));
	evloop_free(loop);
	/* and the peer refuses a hello that does not match the certificate: h3's context
	 * with its hello rewritten to another name */
	struct pair p;
	struct creds sc = {.cert = "server-host"};
	pair_open_creds(&p, &sc, &cc, "h3");
	snprintf(p.cx->name, sizeof(p.cx->name), "client-host");
	/* the server refuses, saying why, and never opens */
	assert_true(run_until(p.loop, &p.c.closed));
	assert_non_null(strstr(p.c.why, "does not name host client-host"));
	assert_int_equal(p.s.ready, 0);
	assert_int_equal(p.s.nctrl, 0);
	pair_close(&p);
}

static void test_certs_other_ca_refused(void **state)
{
	struct pair p;
	struct creds sc = {.cert = "server-host"}, cc = {.cert = "intruder"};
	/* the intruder trusts its own CA for the server: give it ours so only its own
	 * certificate is wrong */
	pair_open_creds(&p, &sc, &cc, "client-host");
	assert_true(run_until(p.loop, &p.s.closed));
	assert_non_null(strstr(p.s.why, "TLS handshake"));
	assert_int_equal(p.s.ready, 0);
	assert_int_equal(p.c.ready, 0);
	pair_close(&p);
}

static void test_certs_against_psk_refused(void **state)
{
	struct pair p;
	struct creds sc = {.cert = "server-host"}, cc = {.key = KEY};
	pair_open_creds(&p, &sc, &cc, "client-host");
	assert_true(run_until(p.loop, &p.s.closed));
	assert_int_equal(p.s.ready, 0);
	assert_int_equal(p.c.ready, 0);
	pair_close(&p);
}

/* --- the stream ------------------------------------------------------------------------ */

static void stream_through(struct pair *p, size_t total)
{
	assert_true(run_until(p->loop, &p->s.ready));
	assert_true(run_until(p->loop, &p->c.ready));
	/* the client sends a pattern from a socketpair into the server's socketpair */
	unsigned char *src = malloc(total), *got = malloc(total);
	for (size_t i = 0; i < total; i++)
		src[i] = (unsigned char)(i * 131 + 7);
	int in[2], out[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, in), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, out), 0);
	assert_int_equal(chan_stream_from(p->c.c, in[0]), 0);
	assert_int_equal(chan_stream_to(p->s.c, out[0]), 0);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[1], F_SETFL, O_NONBLOCK);
	size_t wr = 0, rd = 0;
	int64_t end = evloop_mono_ms() + 10000;
	while (!p->s.stream_end && evloop_mono_ms() < end) {
		if (wr < total) {
			ssize_t n = write(in[1], src + wr, total - wr);
			if (n > 0)
				wr += (size_t)n;
			if (wr == total)
				close(in[1]);
		}
		/* read slowly at times, so that the sink fills and TLS holds records back */
		if ((evloop_mono_ms() / 100) % 3 != 0) {
			ssize_t n = read(out[1], got + rd, total - rd);
			if (n > 0)
				rd += (size_t)n;
		}
		evloop_run_once(p->loop, 5);
	}
	ssize_t n;
	fcntl(out[1], F_SETFL, 0);
	while (rd < total && (n = read(out[1], got + rd, total - rd)) > 0)
		rd += (size_t)n;
	assert_true(p->c.source_eof);
	assert_true(p->s.stream_end);
	assert_int_equal(p->s.stream_bytes, total);
	assert_int_equal(rd, total);
	assert_memory_equal(src, got, total);
	/* the sink was closed after the end: the reader sees end of file */
	char b;
	assert_int_equal(read(out[1], &b, 1), 0);
	close(out[1]);
	free(src);
	free(got);
}

static void test_stream_carries_bytes(void **state)
{
	struct pair p;
	pair_open(&p, KEY, KEY);
	stream_through(&p, (4u << 20) + 7);
	pair_close(&p);
}

static void test_stream_with_certs(void **state)
{
	struct pair p;
	struct creds sc = {.cert = "server-host"}, cc = {.cert = "client-host"};
	pair_open_creds(&p, &sc, &cc, "client-host");
	stream_through(&p, (1u << 20) + 3);
	pair_close(&p);
}

static void test_data_without_sink_closes(void **state)
{
	struct pair p;
	pair_open(&p, KEY, KEY);
	assert_true(run_until(p.loop, &p.s.ready));
	assert_true(run_until(p.loop, &p.c.ready));
	int in[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, in), 0);
	assert_int_equal(chan_stream_from(p.c.c, in[0]), 0);
	assert_int_equal(write(in[1], "abc", 3), 3);
	close(in[1]);
	assert_true(run_until(p.loop, &p.s.closed));
	assert_non_null(strstr(p.s.why, "stream data where none was expected"));
	pair_close(&p);
}

/* --- hand-made TLS peers that break the rules ----------------------------------------- */

struct raw {
	struct pair p;
	int fd;       /* our end of the socket; the server is channel code */
	SSL_CTX *ctx; /* a TLS 1.3 client with the cluster key's PSK */
	SSL *ssl;     /* on memory BIOs: every byte passes through raw_pump */
	BIO *rbio, *wbio;
	unsigned char *sent; /* everything the client sent, for replays */
	size_t sent_len;
};

static unsigned char RAW_PSK[CHW_PSK_LEN];

static int raw_psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                       SSL_SESSION **sess)
{
	const unsigned char suite[2] = {0x13, 0x01};
	SSL_SESSION *s = SSL_SESSION_new();
	SSL_SESSION_set1_master_key(s, RAW_PSK, CHW_PSK_LEN);
	SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, suite));
	SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
	*id = (const unsigned char *)CHW_PSK_IDENTITY;
	*idlen = strlen(CHW_PSK_IDENTITY);
	*sess = s;
	return 1;
}

static void raw_open(struct raw *r, long auth_ms, long idle_ms)
{
	char err[256];
	int sv[2];
	memset(r, 0, sizeof(*r));
	r->p.loop = evloop_new();
	struct creds sc = {.key = KEY};
	r->p.sx = chan_ctx_new(r->p.loop, "server-host", creds_of(&sc), err, sizeof(err));
	chan_ctx_timeouts(r->p.sx, auth_ms, idle_ms, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	r->p.s.c = chan_adopt(r->p.sx, sv[0], 1, &ops, &r->p.s);
	r->fd = sv[1];
	fcntl(r->fd, F_SETFL, O_NONBLOCK);
	assert_int_equal(chw_psk(KEY, sizeof(KEY) - 1, RAW_PSK), 0);
	r->ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(r->ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(r->ctx, "TLS_AES_128_GCM_SHA256");
	SSL_CTX_set_psk_use_session_callback(r->ctx, raw_psk_use);
	r->ssl = SSL_new(r->ctx);
	r->rbio = BIO_new(BIO_s_mem());
	r->wbio = BIO_new(BIO_s_mem());
	SSL_set_bio(r->ssl, r->rbio, r->wbio);
	SSL_set_connect_state(r->ssl);
}

static void raw_close(struct raw *r)
{
	close(r->fd);
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	free(r->sent);
	chan_ctx_free(r->p.sx);
	evloop_free(r->p.loop);
}

/* Moves bytes both ways between the client's BIOs and the socket, recording what the
 * client sends, and lets the server's loop run. */
static void raw_pump(struct raw *r)
{
	unsigned char buf[65536];
	for (int i = 0; i < 20; i++) {
		int n;
		while ((n = BIO_read(r->wbio, buf, sizeof(buf))) > 0) {
			r->sent = realloc(r->sent, r->sent_len + (size_t)n);
			memcpy(r->sent + r->sent_len, buf, (size_t)n);
			r->sent_len += (size_t)n;
			assert_int_equal(write(r->fd, buf, (size_t)n), n);
		}
		evloop_run_once(r->p.loop, 5);
		ssize_t got;
		while ((got = read(r->fd, buf, sizeof(buf))) > 0)
			BIO_write(r->rbio, buf, (int)got);
	}
}

/* TLS up (with the hello exchanged when hello is set). */
static void raw_handshake(struct raw *r, int hello)
{
	int64_t end = evloop_mono_ms() + 3000;
	while (SSL_do_handshake(r->ssl) != 1 && evloop_mono_ms() < end)
		raw_pump(r);
	assert_int_equal(SSL_is_init_finished(r->ssl), 1);
	if (hello) {
		unsigned char h[CHW_HDR_LEN + CHW_HELLO_MAX];
		size_t n = chw_hello_put(h + CHW_HDR_LEN, "raw-client");
		chw_hdr_put(h, CHW_HELLO, (uint32_t)n);
		assert_int_equal(SSL_write(r->ssl, h, (int)(CHW_HDR_LEN + n)),
		                 (int)(CHW_HDR_LEN + n));
		raw_pump(r);
		assert_true(run_until(r->p.loop, &r->p.s.ready));
		assert_string_equal(chan_peer(r->p.s.c), "raw-client");
	}
}

/* Sends a frame through TLS. */
static void raw_frame(struct raw *r, int type, const void *p, uint32_t len, uint32_t claim)
{
	unsigned char f[512];
	chw_hdr_put(f, type, claim);
	memcpy(f + CHW_HDR_LEN, p, len);
	assert_int_equal(SSL_write(r->ssl, f, (int)(CHW_HDR_LEN + len)), (int)(CHW_HDR_LEN + len));
	raw_pump(r);
}

static void test_raw_client_ok(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	raw_handshake(&r, 1);
	raw_frame(&r, CHW_CTRL, "{\"op\":\"x\"}", 10, 10);
	assert_true(run_until(r.p.loop, &r.p.s.nctrl));
	assert_string_equal(r.p.s.last_op, "x");
	raw_close(&r);
}

static void test_random_bytes_close(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	unsigned char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 2654435761u >> 13);
	memcpy(junk, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(write(r.fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "TLS handshake"));
	raw_close(&r);
}

/* A whole conversation recorded and played again to a new connection: TLS 1.3's fresh
 * randoms and key shares make every record fail. */
static void test_replay_refused(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	raw_handshake(&r, 1);
	raw_frame(&r, CHW_CTRL, "{\"op\":\"x\"}", 10, 10);
	assert_true(run_until(r.p.loop, &r.p.s.nctrl));
	unsigned char *rec = r.sent;
	size_t rec_len = r.sent_len;
	r.sent = NULL;
	raw_close(&r);

	raw_open(&r, 0, 0);
	assert_int_equal(write(r.fd, rec, rec_len), (ssize_t)rec_len);
	free(rec);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_int_equal(r.p.s.ready, 0);
	assert_int_equal(r.p.s.nctrl, 0);
	raw_close(&r);
}

static void test_ctrl_before_hello_closes(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	raw_handshake(&r, 0);
	raw_frame(&r, CHW_CTRL, "{\"op\":\"x\"}", 10, 10);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "before the hello"));
	assert_int_equal(r.p.s.nctrl, 0);
	raw_close(&r);
}

static void test_oversized_frame_closes(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	raw_handshake(&r, 1);
	raw_frame(&r, CHW_CTRL, "", 0, 1u << 30);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "exceeds the limit"));
	raw_close(&r);
}

static void test_slow_client_times_out(void **state)
{
	struct raw r;
	raw_open(&r, 300, 0);
	/* one byte of a TLS record header, then nothing: a slowloris */
	assert_int_equal(write(r.fd, "\x16", 1), 1);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "no authentication within 300 ms"));
	raw_close(&r);
}

static void test_truncated_frame_then_close(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	raw_handshake(&r, 1);
	raw_frame(&r, CHW_CTRL, "{\"op\":", 6, 1000);
	shutdown(r.fd, SHUT_WR);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "closed the connection"));
	assert_int_equal(r.p.s.nctrl, 0);
	raw_close(&r);
}

static void test_altered_record_closes(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	raw_handshake(&r, 1);
	/* a TLS record with a flipped byte fails its tag */
	unsigned char f[64];
	chw_hdr_put(f, CHW_CTRL, 10);
	memcpy(f + CHW_HDR_LEN, "{\"op\":\"x\"}", 10);
	assert_int_equal(SSL_write(r.ssl, f, CHW_HDR_LEN + 10), CHW_HDR_LEN + 10);
	unsigned char rec[256];
	int n = BIO_read(r.wbio, rec, sizeof(rec));
	assert_true(n > 20);
	rec[n - 3] ^= 0x40;
	assert_int_equal(write(r.fd, rec, (size_t)n), n);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_int_equal(r.p.s.nctrl, 0);
	raw_close(&r);
}

static void test_idle_timeout(void **state)
{
	struct raw r;
	raw_open(&r, 0, 300);
	raw_handshake(&r, 1);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "silent"));
	raw_close(&r);
}

static void test_not_json_closes(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	raw_handshake(&r, 1);
	raw_frame(&r, CHW_CTRL, "[1,2", 4, 4);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "not a JSON object"));
	raw_close(&r);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as the agent does: TLS writes to closed peers */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_roundtrip),
	    cmocka_unit_test(test_header_limits),
	    cmocka_unit_test(test_psk_and_hello),
	    cmocka_unit_test(test_key_check),
	    cmocka_unit_test(test_auth_ok_and_ctrl),
	    cmocka_unit_test(test_psk_uses_dhe),
	    cmocka_unit_test(test_auth_wrong_key),
	    cmocka_unit_test(test_server_without_key),
	    cmocka_unit_test(test_client_without_key_cannot_connect),
	    cmocka_unit_test(test_certs_ok),
	    cmocka_unit_test(test_certs_host_poses_as_another),
	    cmocka_unit_test(test_certs_other_ca_refused),
	    cmocka_unit_test(test_certs_against_psk_refused),
	    cmocka_unit_test(test_stream_carries_bytes),
	    cmocka_unit_test(test_stream_with_certs),
	    cmocka_unit_test(test_data_without_sink_closes),
	    cmocka_unit_test(test_raw_client_ok),
	    cmocka_unit_test(test_random_bytes_close),
	    cmocka_unit_test(test_replay_refused),
	    cmocka_unit_test(test_ctrl_before_hello_closes),
	    cmocka_unit_test(test_oversized_frame_closes),
	    cmocka_unit_test(test_slow_client_times_out),
	    cmocka_unit_test(test_truncated_frame_then_close),
	    cmocka_unit_test(test_altered_record_closes),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_not_json_closes),
	};
	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
