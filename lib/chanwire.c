/* chanwire.c - frames, MACs and the challenge-response of the migration channel. */
#include "chanwire.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chw_mac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static const struct chw_type_info {
	int type;
	const char *name;
	uint32_t max_pre;  /* before authentication; 0: not allowed */
	uint32_t max_post; /* after it */
} chw_types[] = {
    {CHW_HELLO, "hello", CHW_HELLO_MAX, 0},
    {CHW_AUTH, "auth", CHW_AUTH_MAX, 0},
    {CHW_WELCOME, "welcome", CHW_MAC_LEN, 0},
    {CHW_REFUSE, "refuse", CHW_REFUSE_MAX, CHW_REFUSE_MAX},
    {CHW_CTRL, "control", 0, CHW_CTRL_MAX},
    {CHW_DATA, "data", 0, CHW_DATA_MAX},
    {CHW_END, "end", 0, 8},
    {CHW_PING, "ping", 0, 0},
};

static const struct chw_type_info *chw_info(int type)
{
	for (size_t i = 0; i < sizeof(chw_types) / sizeof(chw_types[0]); i++)
		if (chw_types[i].type == type)
			return &chw_types[i];
	return NULL;
}

uint32_t chw_type_max(int type, int authed)
{
	const struct chw_type_info *t = chw_info(type);
	if (!t)
		return 0;
	return authed ? t->max_post : t->max_pre;
}

const char *chw_type_name(int type)
{
	const struct chw_type_info *t = chw_info(type);
	return t ? t->name : "?";
}

void chw_put64(unsigned char *out, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

uint64_t chw_get64(const unsigned char *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

void chw_hdr_put(unsigned char *out, int type, uint32_t len)
{
	out[0] = (unsigned char)type;
	out[1] = (unsigned char)(len >> 24);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
}

int chw_hdr_get(const unsigned char *in, int authed, int *type, uint32_t *len, char *err,
                size_t errlen)
{
	*type = in[0];
	*len = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
	const struct chw_type_info *t = chw_info(*type);
	if (!t) {
		snprintf(err, errlen, "unknown frame type 0x%02x", (unsigned)*type);
		return -1;
	}
	uint32_t max = authed ? t->max_post : t->max_pre;
	int allowed = authed ? (t->max_post > 0 || t->type == CHW_PING) : t->max_pre > 0;
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

struct chw_mac *chw_mac_new(const unsigned char *key, size_t keylen)
{
	if (!key || !keylen)
		return NULL;
	struct chw_mac *m = calloc(1, sizeof(*m));
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
		chw_mac_free(m);
		return NULL;
	}
	return m;
}

void chw_mac_free(struct chw_mac *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
	free(m);
}

int chw_mac_parts(struct chw_mac *m, unsigned char *out, const void *p1, size_t l1, const void *p2,
                  size_t l2, const void *p3, size_t l3, const void *p4, size_t l4)
{
	const void *p[4] = {p1, p2, p3, p4};
	size_t l[4] = {l1, l2, l3, l4};
	/* a NULL key re-uses the key given to chw_mac_new */
	if (!EVP_MAC_init(m->ctx, NULL, 0, NULL))
		return -1;
	for (int i = 0; i < 4; i++)
		if (p[i] && l[i] && !EVP_MAC_update(m->ctx, p[i], l[i]))
			return -1;
	size_t outl = 0;
	if (!EVP_MAC_final(m->ctx, out, &outl, CHW_MAC_LEN) || outl != CHW_MAC_LEN)
		return -1;
	return 0;
}

struct chw_aead {
	EVP_CIPHER_CTX *enc, *dec;
};

struct chw_aead *chw_aead_new(const unsigned char *key)
{
	struct chw_aead *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->enc = EVP_CIPHER_CTX_new();
	a->dec = EVP_CIPHER_CTX_new();
	if (!a->enc || !a->dec || !EVP_EncryptInit_ex(a->enc, EVP_aes_256_gcm(), NULL, key, NULL) ||
	    !EVP_DecryptInit_ex(a->dec, EVP_aes_256_gcm(), NULL, key, NULL)) {
		chw_aead_free(a);
		return NULL;
	}
	return a;
}

void chw_aead_free(struct chw_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	free(a);
}

static void chw_nonce(unsigned char *iv, int dir, uint64_t seq)
{
	memset(iv, 0, 4);
	iv[0] = (unsigned char)dir;
	chw_put64(iv + 4, seq);
}

int chw_seal(struct chw_aead *a, int dir, uint64_t seq, const unsigned char *hdr,
             unsigned char *payload, uint32_t len, unsigned char *tag)
{
	unsigned char iv[12];
	int outl;
	chw_nonce(iv, dir, seq);
	if (!EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(a->enc, NULL, &outl, hdr, CHW_HDR_LEN) ||
	    (len && !EVP_EncryptUpdate(a->enc, payload, &outl, payload, (int)len)) ||
	    !EVP_EncryptFinal_ex(a->enc, payload + len, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, CHW_TAG_LEN, tag))
		return -1;
	return 0;
}

int chw_open(struct chw_aead *a, int dir, uint64_t seq, const unsigned char *hdr,
             unsigned char *payload, uint32_t len, const unsigned char *tag)
{
	unsigned char iv[12], t[CHW_TAG_LEN];
	int outl;
	chw_nonce(iv, dir, seq);
	memcpy(t, tag, sizeof(t));
	if (!EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, iv) ||
	    !EVP_DecryptUpdate(a->dec, NULL, &outl, hdr, CHW_HDR_LEN) ||
	    (len && !EVP_DecryptUpdate(a->dec, payload, &outl, payload, (int)len)) ||
	    !EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, CHW_TAG_LEN, t) ||
	    EVP_DecryptFinal_ex(a->dec, payload + len, &outl) <= 0)
		return -1;
	return 0;
}

int chw_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int chw_random(unsigned char *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int chw_proof(struct chw_mac *key, const char *which, const unsigned char *nonce_s,
              const unsigned char *nonce_c, unsigned char *out)
{
	char label[32];
	int n = snprintf(label, sizeof(label), "vmc-mig %s", which);
	if (n < 0 || (size_t)n >= sizeof(label))
		return -1;
	return chw_mac_parts(key, out, label, (size_t)n, nonce_s, CHW_NONCE_LEN, nonce_c,
	                     CHW_NONCE_LEN, NULL, 0);
}

long chw_key_check(unsigned char *key, size_t len, char *err, size_t errlen)
{
	while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' || key[len - 1] == ' ' ||
	                   key[len - 1] == '\t'))
		len--;
	if (len < CHW_KEY_MIN) {
		snprintf(err, errlen, "cluster key: %zu bytes; it needs at least %d", len,
		         CHW_KEY_MIN);
		return -1;
	}
	if (len > CHW_KEY_MAX) {
		snprintf(err, errlen, "cluster key: longer than %d bytes", CHW_KEY_MAX);
		return -1;
	}
	return (long)len;
}
