/* busconn.c - a bus from the common broker settings. */
#include "busconn.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bus.h"
#include "msg.h"
#include "../config/conf.h"
#include "../config/pwfile.h"

int busconn_check(const char *cluster, const char *broker, const struct conf *conf,
                  const char *prog)
{
	char err[2048], where[4200];
	const char *bad = NULL;
	if (vmc_name_check(cluster, "cluster name", err, sizeof(err)) < 0)
		bad = cluster;
	else if (bus_urls_check(broker, err, sizeof(err)) < 0)
		bad = broker;
	if (!bad)
		return 0;
	fprintf(stderr, "%s: %s\n", conf_where(conf, bad, prog, where, sizeof(where)), err);
	return -1;
}

void busconn_client_id(char *buf, size_t len, const char *prefix)
{
	unsigned rnd = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &rnd, sizeof(rnd)) != sizeof(rnd))
			rnd = 0;
		close(fd);
	}
	snprintf(buf, len, "%s-%d-%08x", prefix, (int)getpid(), rnd);
}

struct bus *busconn_new(struct evloop *loop, const char *url, const struct busconn_opts *c,
                        const struct bus_opts *bo, const cJSON *will, char *err, size_t errlen)
{
	struct bus_opts o = *bo;
	o.url = url;
	o.username = c->user;
	o.password = NULL;
	o.cafile = c->cafile;
	o.certfile = c->certfile;
	o.keyfile = c->keyfile;
	o.protocol = c->protocol;
	o.keepalive = c->keepalive;
	char *will_text = NULL;
	if (will) {
		will_text = cJSON_PrintUnformatted(will);
		if (!will_text) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		o.will_payload = will_text;
	}
	struct bus *b = pwfile_bus_new(loop, &o, c->password_file, err, errlen);
	free(will_text);
	return b;
}
