/* Frozen copy of lib/bus/chanwire.c as it was before the channel moved to TLS 1.3, its names
 * prefixed lchan_/lchw_/LCH_: only tests/bench/channel.c uses it, for its comparison. */
/* chanwire.c - frames, MACs and the challenge-response of the migration channel. */
#include "chanwire.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lchw_mac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static const struct lchw_type_info {
	int type;
	const char *name;
	uint32_t max_pre;  /* before authentication; 0: not allowed */
	uint32_t max_post; /* after it */
} lchw_types[] = {
    {LCHW_HELLO, "hello", LCHW_HELLO_MAX, 0},
    {LCHW_AUTH, "auth", LCHW_AUTH_MAX, 0},
    {LCHW_WELCOME, "welcome", LCHW_MAC_LEN, 0},
    {LCHW_REFUSE, "refuse", LCHW_REFUSE_MAX, LCHW_REFUSE_MAX},
    {LCHW_CTRL, "control", 0, LCHW_CTRL_MAX},
    {LCHW_DATA, "data", 0, LCHW_DATA_MAX},
    {LCHW_END, "end", 0, 8},
    {LCHW_PING, "ping", 0, 0},
};

static const struct lchw_type_info *lchw_info(int type)
{
	for (size_t i = 0; i < sizeof(lchw_types) / sizeof(lchw_types[0]); i++)
		if (lchw_types[i].type == type)
			return &lchw_types[i];
	return NULL;
}

uint32_t lchw_type_max(int type, int authed)
{
	const struct lchw_type_info *t = lchw_info(type);
	if (!t)
		return 0;
	return authed ? t->max_post : t->max_pre;
}

const char *lchw_type_name(int type)
{
	const struct lchw_type_info *t = lchw_info(type);
	return t ? t->name : "?";
}

void lchw_put64(unsigned char *out, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

uint64_t lchw_get64(const unsigned char *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

void lchw_hdr_put(unsigned char *out, int type, uint32_t len)
{
	out[0] = (unsigned char)type;
	out[1] = (unsigned char)(len >> 24);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
}

int lchw_hdr_get(const unsigned char *in, int authed, int *type, uint32_t *len, char *err,
                size_t errlen)
{
	*type = in[0];
	*len = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
	const struct lchw_type_info *t = lchw_info(*type);
	if (!t) {
		snprintf(err, errlen, "unknown frame type 0x%02x", (unsigned)*type);
		return -1;
	}
	uint32_t max = authed ? t->max_post : t->max_pre;
	int allowed = authed ? (t->max_post > 0 || t->type == LCHW_PING) : t->max_pre > 0;
	if (!allowed) {
		snprintf(err, errlen, "%s frame not allowed %s authentication", t->name,
		         authed ? "after" : "before");
		return -1;
	}
	if (*len > max) {
		snprintf(err, errlen, "%s frame of %u bytes exceeds the limit of %u", t->name, *len,
		         max);
		return -1;
	}
	return 0;
}

struct lchw_mac *lchw_mac_new(const unsigned char *key, size_t keylen)
{
	if (!key || !keylen)
		return NULL;
	struct lchw_mac *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	m->ctx = m->mac ? EVP_MAC_CTX_new(m->mac) : NULL;
	if (!m->ctx || !EVP_MAC_init(m->ctx, key, keylen, params)) {
		lchw_mac_free(m);
		return NULL;
	}
	return m;
}

void lchw_mac_free(struct lchw_mac *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
	free(m);
}

int lchw_mac_parts(struct lchw_mac *m, unsigned char *out, const void *p1, size_t l1, const void *p2,
                  size_t l2, const void *p3, size_t l3, const void *p4, size_t l4)
{
	const void *p[4] = {p1, p2, p3, p4};
	size_t l[4] = {l1, l2, l3, l4};
	/* a NULL key re-uses the key given to lchw_mac_new */
	if (!EVP_MAC_init(m->ctx, NULL, 0, NULL))
		return -1;
	for (int i = 0; i < 4; i++)
		if (p[i] && l[i] && !EVP_MAC_update(m->ctx, p[i], l[i]))
			return -1;
	size_t outl = 0;
	if (!EVP_MAC_final(m->ctx, out, &outl, LCHW_MAC_LEN) || outl != LCHW_MAC_LEN)
		return -1;
	return 0;
}

struct lchw_aead {
	EVP_CIPHER_CTX *enc, *dec;
};

struct lchw_aead *lchw_aead_new(const unsigned char *key)
{
	struct lchw_aead *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->enc = EVP_CIPHER_CTX_new();
	a->dec = EVP_CIPHER_CTX_new();
	if (!a->enc || !a->dec || !EVP_EncryptInit_ex(a->enc, EVP_aes_256_gcm(), NULL, key, NULL) ||
	    !EVP_DecryptInit_ex(a->dec, EVP_aes_256_gcm(), NULL, key, NULL)) {
		lchw_aead_free(a);
		return NULL;
	}
	return a;
}

void lchw_aead_free(struct lchw_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	free(a);
}

static void lchw_nonce(unsigned char *iv, int dir, uint64_t seq)
{
	memset(iv, 0, 4);
	iv[0] = (unsigned char)dir;
	lchw_put64(iv + 4, seq);
}

int lchw_seal(struct lchw_aead *a, int dir, uint64_t seq, const unsigned char *hdr,
             unsigned char *payload, uint32_t len, unsigned char *tag)
{
	unsigned char iv[12];
	int outl;
	lchw_nonce(iv, dir, seq);
	if (!EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(a->enc, NULL, &outl, hdr, LCHW_HDR_LEN) ||
	    (len && !EVP_EncryptUpdate(a->enc, payload, &outl, payload, (int)len)) ||
	    !EVP_EncryptFinal_ex(a->enc, payload + len, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, LCHW_TAG_LEN, tag))
		return -1;
	return 0;
}

int lchw_open(struct lchw_aead *a, int dir, uint64_t seq, const unsigned char *hdr,
             unsigned char *payload, uint32_t len, const unsigned char *tag)
{
	unsigned char iv[12], t[LCHW_TAG_LEN];
	int outl;
	lchw_nonce(iv, dir, seq);
	memcpy(t, tag, sizeof(t));
	if (!EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, iv) ||
	    !EVP_DecryptUpdate(a->dec, NULL, &outl, hdr, LCHW_HDR_LEN) ||
	    (len && !EVP_DecryptUpdate(a->dec, payload, &outl, payload, (int)len)) ||
	    !EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, LCHW_TAG_LEN, t) ||
	    EVP_DecryptFinal_ex(a->dec, payload + len, &outl) <= 0)
		return -1;
	return 0;
}

int lchw_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int lchw_random(unsigned char *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int lchw_proof(struct lchw_mac *key, const char *which, const unsigned char *nonce_s,
              const unsigned char *nonce_c, unsigned char *out)
{
	char label[32];
	int n = snprintf(label, sizeof(label), "vmc-mig %s", which);
	if (n < 0 || (size_t)n >= sizeof(label))
		return -1;
	return lchw_mac_parts(key, out, label, (size_t)n, nonce_s, LCHW_NONCE_LEN, nonce_c,
	                     LCHW_NONCE_LEN, NULL, 0);
}

long lchw_key_check(unsigned char *key, size_t len, char *err, size_t errlen)
{
	while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' || key[len - 1] == ' ' ||
	                   key[len - 1] == '\t'))
		len--;
	if (len < LCHW_KEY_MIN) {
		snprintf(err, errlen, "cluster key: %zu bytes; it needs at least %d", len,
		         LCHW_KEY_MIN);
		return -1;
	}
	if (len > LCHW_KEY_MAX) {
		snprintf(err, errlen, "cluster key: longer than %d bytes", LCHW_KEY_MAX);
		return -1;
	}
	return (long)len;
}
