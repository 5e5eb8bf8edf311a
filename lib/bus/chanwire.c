/* chanwire.c - frames and hellos of the migration channel, and its PSK. */
#include "chanwire.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct chw_type_info {
	int type;
	const char *name;
	uint32_t max_pre;  /* before the peer's hello; 0: not allowed */
	uint32_t max_post; /* after it */
} chw_types[] = {
    {CHW_HELLO, "hello", CHW_HELLO_MAX, 0},
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
		snprintf(err, errlen, "%s frame not allowed %s the hello", t->name,
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

int chw_psk(const unsigned char *key, size_t keylen, unsigned char out[CHW_PSK_LEN])
{
	static const char label[] = "vmc-mig tls13 psk";
	unsigned int n = 0;
	if (!key || keylen == 0 ||
	    !HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)label, sizeof(label) - 1,
	          out, &n))
		return -1;
	return n == CHW_PSK_LEN ? 0 : -1;
}

size_t chw_hello_put(unsigned char *out, const char *name)
{
	size_t nl = strnlen(name, CHW_NAME_MAX);
	memcpy(out, CHW_MAGIC, CHW_MAGIC_LEN);
	memcpy(out + CHW_MAGIC_LEN, name, nl);
	return CHW_MAGIC_LEN + nl;
}

int chw_hello_get(const unsigned char *in, uint32_t len, char *name, char *err, size_t errlen)
{
	if (len < CHW_MAGIC_LEN || memcmp(in, CHW_MAGIC, CHW_MAGIC_LEN) != 0) {
		snprintf(err, errlen, "the peer is not a vmcluster migration channel (bad hello)");
		return -1;
	}
	size_t nl = len - CHW_MAGIC_LEN;
	if (nl == 0 || nl > CHW_NAME_MAX || in[CHW_MAGIC_LEN] == '.' || in[CHW_MAGIC_LEN] == '-') {
		snprintf(err, errlen, "the peer's hello has no valid host name");
		return -1;
	}
	for (size_t i = 0; i < nl; i++) {
		unsigned char ch = in[CHW_MAGIC_LEN + i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-')) {
			snprintf(err, errlen, "the peer's hello has no valid host name");
			return -1;
		}
		name[i] = (char)ch;
	}
	name[nl] = '\0';
	return 0;
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
