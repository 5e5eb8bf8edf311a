/* test_channel.c - the migration channel's framing and authentication, over
 * socketpairs in one event loop: both ends of a connection are real channel code,
 * or one end is a hand-made peer that breaks the rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../agents/hostd/channel.h"
#include "../../lib/chanwire.h"
#include "../../lib/evloop.h"

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

struct pair {
	struct evloop *loop;
	struct chan_ctx *sx, *cx;
	struct end s, c;
};

static void pair_open(struct pair *p, const unsigned char *skey, const unsigned char *ckey)
{
	char err[256];
	int sv[2];
	memset(p, 0, sizeof(*p));
	p->loop = evloop_new();
	assert_non_null(p->loop);
	p->sx = chan_ctx_new(p->loop, "server-host", skey, skey ? strlen((const char *)skey) : 0,
	                     err, sizeof(err));
	p->cx = chan_ctx_new(p->loop, "client-host", ckey, strlen((const char *)ckey), err,
	                     sizeof(err));
	assert_non_null(p->sx);
	assert_non_null(p->cx);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->s.c = chan_adopt(p->sx, sv[0], 1, &ops, &p->s);
	p->c.c = chan_adopt(p->cx, sv[1], 0, &ops, &p->c);
	assert_non_null(p->s.c);
	assert_non_null(p->c.c);
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
	/* control and data only after authentication, the handshake only before */
	chw_hdr_put(h, CHW_CTRL, 10);
	assert_int_equal(chw_hdr_get(h, 0, &type, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "before authentication"));
	chw_hdr_put(h, CHW_HELLO, 10);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), -1);
	chw_hdr_put(h, CHW_HELLO, CHW_HELLO_MAX + 1);
	assert_int_equal(chw_hdr_get(h, 0, &type, &len, err, sizeof(err)), -1);
	chw_hdr_put(h, CHW_PING, 0);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), 0);
	chw_hdr_put(h, CHW_PING, 1);
	assert_int_equal(chw_hdr_get(h, 1, &type, &len, err, sizeof(err)), -1);
}

static void test_seal_open(void **state)
{
	unsigned char k[CHW_MAC_LEN];
	memset(k, 0x42, sizeof(k));
	struct chw_aead *a = chw_aead_new(k);
	unsigned char h[CHW_HDR_LEN], buf[32], tag[CHW_TAG_LEN];
	const char plain[] = "some VM memory";
	assert_non_null(a);
	chw_hdr_put(h, CHW_DATA, sizeof(plain));
	memcpy(buf, plain, sizeof(plain));
	assert_int_equal(chw_seal(a, 'c', 7, h, buf, sizeof(plain), tag), 0);
	assert_memory_not_equal(buf, plain, sizeof(plain)); /* encrypted */
	unsigned char copy[32];
	memcpy(copy, buf, sizeof(plain));
	/* another sequence number or direction: refused */
	assert_int_equal(chw_open(a, 'c', 8, h, copy, sizeof(plain), tag), -1);
	memcpy(copy, buf, sizeof(plain));
	assert_int_equal(chw_open(a, 's', 7, h, copy, sizeof(plain), tag), -1);
	/* a flipped bit in the payload or the header: refused */
	memcpy(copy, buf, sizeof(plain));
	copy[3] ^= 1;
	assert_int_equal(chw_open(a, 'c', 7, h, copy, sizeof(plain), tag), -1);
	memcpy(copy, buf, sizeof(plain));
	h[4] ^= 1;
	assert_int_equal(chw_open(a, 'c', 7, h, copy, sizeof(plain), tag), -1);
	h[4] ^= 1;
	/* the right one: the plain text back */
	memcpy(copy, buf, sizeof(plain));
	assert_int_equal(chw_open(a, 'c', 7, h, copy, sizeof(plain), tag), 0);
	assert_memory_equal(copy, plain, sizeof(plain));
	/* an empty payload has a tag too */
	chw_hdr_put(h, CHW_PING, 0);
	assert_int_equal(chw_seal(a, 's', 0, h, buf, 0, tag), 0);
	assert_int_equal(chw_open(a, 's', 0, h, buf, 0, tag), 0);
	tag[0] ^= 1;
	assert_int_equal(chw_open(a, 's', 0, h, buf, 0, tag), -1);
	chw_aead_free(a);
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

/* --- authentication ------------------------------------------------------------------- */

static void test_auth_ok_and_ctrl(void **state)
{
	struct pair p;
	pair_open(&p, KEY, KEY);
	assert_true(run_until(p.loop, &p.c.ready));
	assert_true(run_until(p.loop, &p.s.ready));
	assert_string_equal(chan_peer(p.c.c), "server-host");
	assert_string_equal(chan_peer(p.s.c), "client-host");
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "op", "hello-from-client");
	assert_int_equal(chan_send_ctrl(p.c.c, m), 0);
	cJSON_Delete(m);
	assert_true(run_until(p.loop, &p.s.nctrl));
	assert_string_equal(p.s.last_op, "hello-from-client");
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "op", "answer");
	assert_int_equal(chan_send_ctrl(p.s.c, m), 0);
	cJSON_Delete(m);
	assert_true(run_until(p.loop, &p.c.nctrl));
	assert_string_equal(p.c.last_op, "answer");
	assert_false(p.s.closed || p.c.closed);
	pair_close(&p);
}

static void test_auth_wrong_key(void **state)
{
	struct pair p;
	pair_open(&p, KEY, OTHER_KEY);
	assert_true(run_until(p.loop, &p.c.closed));
	assert_non_null(strstr(p.c.why, "wrong cluster key"));
	assert_int_equal(p.c.ready, 0);
	assert_int_equal(p.s.ready, 0);
	pair_close(&p);
}

static void test_server_without_key(void **state)
{
	struct pair p;
	pair_open(&p, NULL, KEY);
	assert_true(run_until(p.loop, &p.c.closed));
	assert_non_null(strstr(p.c.why, "no cluster key"));
	assert_int_equal(p.c.ready, 0);
	pair_close(&p);
}

static void test_client_without_key_cannot_connect(void **state)
{
	char err[256];
	struct evloop *loop = evloop_new();
	struct chan_ctx *x = chan_ctx_new(loop, "h", NULL, 0, err, sizeof(err));
	assert_non_null(x);
	assert_false(chan_ctx_has_key(x));
	assert_null(chan_connect(x, "127.0.0.1:1", &ops, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "cluster-key-file"));
	chan_ctx_free(x);
	evloop_free(loop);
}

/* --- the stream ------------------------------------------------------------------------ */

static void test_stream_carries_bytes(void **state)
{
	struct pair p;
	pair_open(&p, KEY, KEY);
	assert_true(run_until(p.loop, &p.s.ready));
	assert_true(run_until(p.loop, &p.c.ready));
	/* the client sends 1 MiB + 7 bytes of a pattern from a pipe into the server's pipe */
	size_t total = (1u << 20) + 7;
	unsigned char *src = malloc(total), *got = malloc(total);
	for (size_t i = 0; i < total; i++)
		src[i] = (unsigned char)(i * 131 + 7);
	int in[2], out[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, in), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, out), 0);
	assert_int_equal(chan_stream_from(p.c.c, in[0]), 0);
	assert_int_equal(chan_stream_to(p.s.c, out[0]), 0);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[1], F_SETFL, O_NONBLOCK);
	size_t wr = 0, rd = 0;
	int64_t end = evloop_mono_ms() + 5000;
	while (!p.s.stream_end && evloop_mono_ms() < end) {
		if (wr < total) {
			ssize_t n = write(in[1], src + wr, total - wr);
			if (n > 0)
				wr += (size_t)n;
			if (wr == total)
				close(in[1]);
		}
		ssize_t n = read(out[1], got + rd, total - rd);
		if (n > 0)
			rd += (size_t)n;
		evloop_run_once(p.loop, 5);
	}
	ssize_t n;
	while (rd < total && (n = read(out[1], got + rd, total - rd)) > 0)
		rd += (size_t)n;
	assert_true(p.c.source_eof);
	assert_true(p.s.stream_end);
	assert_int_equal(p.s.stream_bytes, total);
	assert_int_equal(rd, total);
	assert_memory_equal(src, got, total);
	/* the sink was closed after the end: the reader sees end of file */
	char b;
	assert_int_equal(read(out[1], &b, 1), 0);
	close(out[1]);
	free(src);
	free(got);
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

/* --- hand-made peers that break the rules -------------------------------------------- */

struct raw {
	struct pair p;
	int fd; /* our raw end; the server is channel code */
};

static void raw_open(struct raw *r, long auth_ms, long idle_ms)
{
	char err[256];
	int sv[2];
	memset(r, 0, sizeof(*r));
	r->p.loop = evloop_new();
	r->p.sx = chan_ctx_new(r->p.loop, "server-host", KEY, sizeof(KEY) - 1, err, sizeof(err));
	chan_ctx_timeouts(r->p.sx, auth_ms, idle_ms, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	r->p.s.c = chan_adopt(r->p.sx, sv[0], 1, &ops, &r->p.s);
	r->fd = sv[1];
}

static void raw_close(struct raw *r)
{
	close(r->fd);
	chan_ctx_free(r->p.sx);
	evloop_free(r->p.loop);
}

/* Reads one frame (blocking, after letting the loop run). Returns the type. */
static int raw_read_frame(struct raw *r, unsigned char *payload, uint32_t *len, int tagged)
{
	unsigned char h[CHW_HDR_LEN];
	for (int i = 0; i < 50; i++)
		evloop_run_once(r->p.loop, 5);
	assert_int_equal(recv(r->fd, h, CHW_HDR_LEN, MSG_WAITALL), CHW_HDR_LEN);
	*len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
	uint32_t want = *len + (tagged ? CHW_TAG_LEN : 0);
	assert_int_equal(recv(r->fd, payload, want, MSG_WAITALL), (ssize_t)want);
	return h[0];
}

/* Completes the handshake by hand; returns the session cipher. */
static struct chw_aead *raw_handshake(struct raw *r)
{
	unsigned char p[1024], a[CHW_AUTH_MAX], ns[CHW_NONCE_LEN], nc[CHW_NONCE_LEN],
	    k[CHW_MAC_LEN];
	uint32_t len;
	assert_int_equal(raw_read_frame(r, p, &len, 0), CHW_HELLO);
	memcpy(ns, p + CHW_MAGIC_LEN, CHW_NONCE_LEN);
	memset(nc, 7, sizeof(nc));
	struct chw_mac *key = chw_mac_new(KEY, sizeof(KEY) - 1);
	memcpy(a, nc, CHW_NONCE_LEN);
	chw_proof(key, "client", ns, nc, a + CHW_NONCE_LEN);
	unsigned char h[CHW_HDR_LEN];
	chw_hdr_put(h, CHW_AUTH, CHW_NONCE_LEN + CHW_MAC_LEN);
	assert_int_equal(write(r->fd, h, CHW_HDR_LEN), CHW_HDR_LEN);
	assert_int_equal(write(r->fd, a, CHW_NONCE_LEN + CHW_MAC_LEN), CHW_NONCE_LEN + CHW_MAC_LEN);
	assert_int_equal(raw_read_frame(r, p, &len, 0), CHW_WELCOME);
	chw_proof(key, "session", ns, nc, k);
	chw_mac_free(key);
	assert_true(r->p.s.ready);
	return chw_aead_new(k);
}

static void test_random_bytes_close(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	unsigned char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 2654435761u >> 13);
	junk[0] = 'G'; /* "GET / HTTP/1.1" */
	assert_int_equal(write(r.fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "unknown frame type"));
	raw_close(&r);
}

static void test_oversized_auth_closes(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	unsigned char h[CHW_HDR_LEN];
	chw_hdr_put(h, CHW_AUTH, 1u << 30);
	assert_int_equal(write(r.fd, h, sizeof(h)), (ssize_t)sizeof(h));
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "exceeds the limit"));
	raw_close(&r);
}

static void test_slow_client_times_out(void **state)
{
	struct raw r;
	raw_open(&r, 300, 0);
	/* one byte of a header, then nothing: a slowloris */
	assert_int_equal(write(r.fd, "A", 1), 1);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "no authentication within 300 ms"));
	raw_close(&r);
}

static void test_bad_mac_closes(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	struct chw_aead *sess = raw_handshake(&r);
	const char *json = "{\"op\":\"x\"}";
	unsigned char f[64];
	uint32_t l = (uint32_t)strlen(json);
	chw_hdr_put(f, CHW_CTRL, l);
	memcpy(f + CHW_HDR_LEN, json, l);
	/* a good frame first */
	chw_seal(sess, 'c', 0, f, f + CHW_HDR_LEN, l, f + CHW_HDR_LEN + l);
	assert_int_equal(write(r.fd, f, CHW_HDR_LEN + l + CHW_TAG_LEN),
	                 CHW_HDR_LEN + l + CHW_TAG_LEN);
	assert_true(run_until(r.p.loop, &r.p.s.nctrl));
	/* then the same frame replayed: its sequence number is stale */
	assert_int_equal(write(r.fd, f, CHW_HDR_LEN + l + CHW_TAG_LEN),
	                 CHW_HDR_LEN + l + CHW_TAG_LEN);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "failed its authentication tag"));
	assert_int_equal(r.p.s.nctrl, 1);
	chw_aead_free(sess);
	raw_close(&r);
}

static void test_truncated_frame_then_close(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	struct chw_aead *sess = raw_handshake(&r);
	unsigned char h[CHW_HDR_LEN];
	chw_hdr_put(h, CHW_CTRL, 1000);
	assert_int_equal(write(r.fd, h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(write(r.fd, "{\"op\":", 6), 6);
	shutdown(r.fd, SHUT_WR);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "closed the connection"));
	assert_int_equal(r.p.s.nctrl, 0);
	chw_aead_free(sess);
	raw_close(&r);
}

static void test_idle_timeout(void **state)
{
	struct raw r;
	raw_open(&r, 0, 300);
	struct chw_aead *sess = raw_handshake(&r);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "silent"));
	chw_aead_free(sess);
	raw_close(&r);
}

static void test_not_json_closes(void **state)
{
	struct raw r;
	raw_open(&r, 0, 0);
	struct chw_aead *sess = raw_handshake(&r);
	const char *bad = "[1,2";
	unsigned char f[64];
	uint32_t l = (uint32_t)strlen(bad);
	chw_hdr_put(f, CHW_CTRL, l);
	memcpy(f + CHW_HDR_LEN, bad, l);
	chw_seal(sess, 'c', 0, f, f + CHW_HDR_LEN, l, f + CHW_HDR_LEN + l);
	assert_int_equal(write(r.fd, f, CHW_HDR_LEN + l + CHW_TAG_LEN),
	                 CHW_HDR_LEN + l + CHW_TAG_LEN);
	assert_true(run_until(r.p.loop, &r.p.s.closed));
	assert_non_null(strstr(r.p.s.why, "not a JSON object"));
	chw_aead_free(sess);
	raw_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_roundtrip),
	    cmocka_unit_test(test_header_limits),
	    cmocka_unit_test(test_seal_open),
	    cmocka_unit_test(test_key_check),
	    cmocka_unit_test(test_auth_ok_and_ctrl),
	    cmocka_unit_test(test_auth_wrong_key),
	    cmocka_unit_test(test_server_without_key),
	    cmocka_unit_test(test_client_without_key_cannot_connect),
	    cmocka_unit_test(test_stream_carries_bytes),
	    cmocka_unit_test(test_data_without_sink_closes),
	    cmocka_unit_test(test_random_bytes_close),
	    cmocka_unit_test(test_oversized_auth_closes),
	    cmocka_unit_test(test_slow_client_times_out),
	    cmocka_unit_test(test_bad_mac_closes),
	    cmocka_unit_test(test_truncated_frame_then_close),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_not_json_closes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
