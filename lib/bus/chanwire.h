/* chanwire.h - the migration channel's wire format inside TLS 1.3: frames and the
 * names the two ends announce. Pure: no I/O (libcrypto for the PSK derivation).
 *
 * The connection is TLS 1.3 (agents/hostd/migrate/channel_tls.c): with certificates, each
 * end proves its host name with a certificate of the cluster's CA; with only a cluster
 * key K, both ends use the external PSK chw_psk(K) with an (EC)DHE key exchange
 * (psk_dhe_ke), so that K alone does not decrypt a recorded connection. TLS protects
 * every byte; on top of it a frame is
 *   type (1 byte) | length (4 bytes, big-endian) | payload (length bytes)
 * Each end first sends
 *   HELLO  magic "VMCMIG02" (8) | its host name
 * and nothing else until the peer's hello arrived (with certificates, the name must be
 * the one the peer's certificate holds); then control messages, the driver stream,
 * its end and pings flow. REFUSE (a sentence) may come at any time, and its sender
 * closes. */
#ifndef VMC_CHANWIRE_H
#define VMC_CHANWIRE_H

#include <stddef.h>
#include <stdint.h>

#define CHW_MAGIC "VMCMIG02"
#define CHW_MAGIC_LEN 8
#define CHW_PSK_LEN 32 /* the TLS external PSK derived from the cluster key */
#define CHW_HDR_LEN 5
#define CHW_KEY_MIN 16 /* bytes a cluster key must have at least */
#define CHW_KEY_MAX 4096

/* Frame types, and the largest payload each may carry. */
enum chw_type {
	CHW_HELLO = 'H',  /* first frame each way: magic and host name */
	CHW_REFUSE = 'R', /* before or after the hellos: why the sender closes (text) */
	CHW_CTRL = 'C',   /* a control message (JSON object) */
	CHW_DATA = 'D',   /* driver stream bytes */
	CHW_END = 'E',    /* end of the driver stream: total bytes (8) */
	CHW_PING = 'P',   /* keeps an idle connection alive; empty */
};
#define CHW_NAME_MAX 64
#define CHW_HELLO_MAX (CHW_MAGIC_LEN + CHW_NAME_MAX)
#define CHW_REFUSE_MAX 512
#define CHW_CTRL_MAX (256u << 10)
#define CHW_DATA_MAX (64u << 10)

/* Largest payload for a type in a phase (authed: after the peer's hello, or not); 0 if
 * the type is not allowed then. */
uint32_t chw_type_max(int type, int authed);
/* "hello", "auth", ... or "?" for an unknown type. */
const char *chw_type_name(int type);

/* Writes the 5-byte header. */
void chw_hdr_put(unsigned char *out, int type, uint32_t len);
/* Reads a header and checks the type and length for the phase. Returns 0, or -1 with err
 * naming what was wrong (unknown type, too long). */
int chw_hdr_get(const unsigned char *in, int authed, int *type, uint32_t *len, char *err,
                size_t errlen);

/* The TLS 1.3 external PSK for a cluster key: HMAC-SHA256(key, "vmc-mig tls13 psk"), so
 * that the key file's bytes are never the PSK itself. Returns 0 or -1. */
int chw_psk(const unsigned char *key, size_t keylen, unsigned char out[CHW_PSK_LEN]);
/* The PSK identity both ends use. */
#define CHW_PSK_IDENTITY "vmc-mig cluster key"

/* Hello payload (CHW_HELLO_MAX bytes at most) for a host name; returns its length. */
size_t chw_hello_put(unsigned char *out, const char *name);
/* Reads a hello into name (CHW_NAME_MAX + 1 bytes). Returns 0, or -1 with err (bad magic,
 * or a name outside [A-Za-z0-9_.-]{1,64}). */
int chw_hello_get(const unsigned char *in, uint32_t len, char *name, char *err, size_t errlen);

/* Checks a cluster key read from a file: trailing white space is dropped, then it must
 * be CHW_KEY_MIN..CHW_KEY_MAX bytes. Returns the length, or -1 with err. */
long chw_key_check(unsigned char *key, size_t len, char *err, size_t errlen);

/* Big-endian helpers. */
void chw_put64(unsigned char *out, uint64_t v);
uint64_t chw_get64(const unsigned char *in);

#endif
