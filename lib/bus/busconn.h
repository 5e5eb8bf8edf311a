/* busconn.h - the broker settings every program takes (--cafile, --cert, --key, --user,
 * --password-file, --protocol, --keepalive) and the bus made from them, so that each program
 * names only what is its own: client id, Last Will, callbacks. */
#ifndef VMC_BUSCONN_H
#define VMC_BUSCONN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "../config/cliopts.h"

struct bus;
struct bus_opts;
struct conf;
struct evloop;

struct busconn_opts {
	const char *cafile, *certfile, *keyfile; /* TLS: CA, client certificate and key */
	const char *user, *password_file;        /* the password is the file's first line */
	int protocol;                            /* 0 auto, 4 (3.1.1), 5 */
	int keepalive;                           /* seconds; 0 for the bus's default */
};

/* The cliopts rows (--NAME and "NAME = VALUE") of these settings but keepalive, for a
 * struct busconn_opts that is member m of the options struct t; then the keepalive's row,
 * for the agents. */
/* clang-format off */
#define BUSCONN_CLIOPTS(t, m)                                                                      \
	{"cafile", CLIOPTS_STR, offsetof(t, m.cafile), 0, 0, "TLS CA certificate"},                \
	{"cert", CLIOPTS_STR, offsetof(t, m.certfile), 0, 0, "TLS client certificate"},            \
	{"key", CLIOPTS_STR, offsetof(t, m.keyfile), 0, 0, "TLS client key"},                      \
	{"user", CLIOPTS_STR, offsetof(t, m.user), 0, 0, "broker user"},                           \
	{"password-file", CLIOPTS_STR, offsetof(t, m.password_file), 0, 0,                         \
	 "file holding the broker password"},                                                      \
	{"protocol", CLIOPTS_PROTO, offsetof(t, m.protocol), 0, 0, "5, 3.1.1 or auto"}
#define BUSCONN_CLIOPT_KEEPALIVE(t, m)                                                             \
	{"keepalive", CLIOPTS_INT, offsetof(t, m.keepalive), 1, 3600, "MQTT keepalive, seconds"}
/* clang-format on */

/* Checks the settings that say which bus a program joins: the cluster name, then the broker
 * list. Returns 0, or -1 having said what is wrong on stderr after FILE:LINE when the value
 * came from conf's file, else after prog (conf_where). */
int busconn_check(const char *cluster, const char *broker, const struct conf *conf,
                  const char *prog);

/* A client id no other connection has now, for a program of which many may run at once
 * (vmc, vmtop-cluster): "PREFIX-PID-RANDOM", RANDOM 8 hex digits from /dev/urandom (0s if
 * it cannot be read). */
void busconn_client_id(char *buf, size_t len, const char *prefix);

/* Makes the bus (not started) for the broker list url with c's TLS, credentials and MQTT
 * settings, and bo's client id, callbacks and Last Will (bo's own connection fields are
 * ignored). will, when not NULL, is printed as the Last Will's payload in place of bo's.
 * Returns the bus, or NULL with the reason in err (a password file is named, see
 * pwfile_read). */
struct bus *busconn_new(struct evloop *loop, const char *url, const struct busconn_opts *c,
                        const struct bus_opts *bo, const cJSON *will, char *err, size_t errlen);

#endif
