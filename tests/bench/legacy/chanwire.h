/* Frozen copy of lib/bus/chanwire.h as it was before the channel moved to TLS 1.3, its names
 * prefixed lchan_/lchw_/LCH_: only tests/bench/channel.c uses it, for its comparison. */
/* chanwire.h - the migration channel's wire format: frames, the challenge-response
 * and the per-frame MACs. Pure: no I/O (libcrypto for HMAC-SHA256 and random bytes).
 *
 * A frame is
 *   type (1 byte) | length (4 bytes, big-endian) | payload (length bytes) | tag
 * where tag is absent before authentication. After it, every payload is encrypted
 * and authenticated with AES-256-GCM under the session key: the 12-byte nonce is the
 * direction ('c' client to server, 's' server to client, then 3 zero bytes) and the
 * frame's sequence number (8 bytes, big-endian; each direction counts from 0), the
 * header is additional authenticated data, the tag is GCM's 16 bytes. A frame that was
 * altered, replayed, reordered, reflected or cut fails its tag.
 *
 * Authentication (K = the cluster key, both ends must hold it):
 *   server -> client  HELLO    magic (8) | nonce_s (32) | server name
 *   client -> server  AUTH     nonce_c (32) | HMAC(K, "vmc-mig client" | nonce_s | nonce_c)
 *                              | client name
 *   server -> client  WELCOME  HMAC(K, "vmc-mig server" | nonce_s | nonce_c)
 *   or                REFUSE   a sentence, and the server closes
 * and then session key = HMAC(K, "vmc-mig session" | nonce_s | nonce_c). */
#ifndef VMC_LCHANWIRE_H
#define VMC_LCHANWIRE_H

#include <stddef.h>
#include <stdint.h>

#define LCHW_MAGIC "VMCMIG01"
#define LCHW_MAGIC_LEN 8
#define LCHW_NONCE_LEN 32
#define LCHW_MAC_LEN 32 /* full HMAC-SHA256, in the handshake */
#define LCHW_TAG_LEN 16 /* AES-256-GCM tag, on every later frame */
#define LCHW_HDR_LEN 5
#define LCHW_KEY_MIN 16 /* bytes a cluster key must have at least */
#define LCHW_KEY_MAX 4096

/* Frame types, and the largest payload each may carry. */
enum lchw_type {
	LCHW_HELLO = 'H',   /* pre-auth, server first */
	LCHW_AUTH = 'A',    /* pre-auth, client's answer */
	LCHW_WELCOME = 'W', /* pre-auth, server's proof */
	LCHW_REFUSE = 'R',  /* pre-auth or after: why the sender closes (text) */
	LCHW_CTRL = 'C',    /* a control message (JSON object) */
	LCHW_DATA = 'D',    /* driver stream bytes */
	LCHW_END = 'E',     /* end of the driver stream: total bytes (8) */
	LCHW_PING = 'P',    /* keeps an idle connection alive; empty */
};
#define LCHW_NAME_MAX 64
#define LCHW_HELLO_MAX (LCHW_MAGIC_LEN + LCHW_NONCE_LEN + LCHW_NAME_MAX)
#define LCHW_AUTH_MAX (LCHW_NONCE_LEN + LCHW_MAC_LEN + LCHW_NAME_MAX)
#define LCHW_REFUSE_MAX 512
#define LCHW_CTRL_MAX (256u << 10)
#define LCHW_DATA_MAX (64u << 10)

/* Largest payload for a type in a phase (authenticated or not); 0 if the type is not
 * allowed then. */
uint32_t lchw_type_max(int type, int authed);
/* "hello", "auth", ... or "?" for an unknown type. */
const char *lchw_type_name(int type);

/* Writes the 5-byte header. */
void lchw_hdr_put(unsigned char *out, int type, uint32_t len);
/* Reads a header and checks the type and length for the phase. Returns 0, or -1 with err
 * naming what was wrong (unknown type, too long). */
int lchw_hdr_get(const unsigned char *in, int authed, int *type, uint32_t *len, char *err,
                size_t errlen);

/* HMAC-SHA256 state with a fixed key, reused for every MAC. */
struct lchw_mac;
/* NULL on failure (key empty or libcrypto out of memory). */
struct lchw_mac *lchw_mac_new(const unsigned char *key, size_t keylen);
void lchw_mac_free(struct lchw_mac *m);
/* HMAC over the concatenation of up to 4 parts (NULL parts are skipped) into out
 * (LCHW_MAC_LEN bytes). Returns 0 or -1. */
int lchw_mac_parts(struct lchw_mac *m, unsigned char *out, const void *p1, size_t l1, const void *p2,
                  size_t l2, const void *p3, size_t l3, const void *p4, size_t l4);
/* AES-256-GCM with a session key, for the frames after authentication. */
struct lchw_aead;
/* key: LCHW_MAC_LEN (32) bytes. NULL on failure. */
struct lchw_aead *lchw_aead_new(const unsigned char *key);
void lchw_aead_free(struct lchw_aead *a);
/* Encrypts payload in place and writes its tag (LCHW_TAG_LEN bytes). 0 or -1. */
int lchw_seal(struct lchw_aead *a, int dir, uint64_t seq, const unsigned char *hdr,
             unsigned char *payload, uint32_t len, unsigned char *tag);
/* Decrypts payload in place; -1 if the tag does not match (payload is then garbage). */
int lchw_open(struct lchw_aead *a, int dir, uint64_t seq, const unsigned char *hdr,
             unsigned char *payload, uint32_t len, const unsigned char *tag);
/* Constant-time comparison; 1 if equal. */
int lchw_equal(const void *a, const void *b, size_t len);

/* Fills buf with len random bytes. Returns 0 or -1. */
int lchw_random(unsigned char *buf, size_t len);

/* The three handshake MACs; which: "client", "server" or "session". Returns 0 or -1. */
int lchw_proof(struct lchw_mac *key, const char *which, const unsigned char *nonce_s,
              const unsigned char *nonce_c, unsigned char *out);

/* Checks a cluster key read from a file: trailing white space is dropped, then it must
 * be LCHW_KEY_MIN..LCHW_KEY_MAX bytes. Returns the length, or -1 with err. */
long lchw_key_check(unsigned char *key, size_t len, char *err, size_t errlen);

/* Big-endian helpers. */
void lchw_put64(unsigned char *out, uint64_t v);
uint64_t lchw_get64(const unsigned char *in);

#endif
