/* ha_store.h - the shared store of HA: files every host sees (--shared-store DIR).
 *
 *   DIR/<vm>.cfg            the VM's xl.cfg text
 *   DIR/<vm>.json           its owner record: {"vm","host","tags","mem_mb","vcpus",
 *                           "from" (while a restart is pending: the dead host)}
 *   DIR/.ha/fence-<h>.json  the claim on a dead host: {"host","session","by","state"}
 *
 * The owner record names the one host that may run the VM; it is rewritten (atomically:
 * a temporary file, fsync, rename) before any restart is made, so that a host killed
 * halfway finds what it was doing. Every file read is hostile: a malformed one is
 * reported and skipped. */
#ifndef VMC_HA_STORE_H
#define VMC_HA_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../../../lib/bus/msg.h"

struct ha_rec {
	char vm[VMC_NAME_MAX + 1];
	char host[VMC_NAME_MAX + 1];
	char from[VMC_NAME_MAX + 1]; /* "" unless a restart is pending */
	int64_t mem_mb;
	int vcpus;
	cJSON *tags; /* array of strings, owned */
};

struct ha_claim {
	char host[VMC_NAME_MAX + 1];
	char by[VMC_NAME_MAX + 1];
	char state[16]; /* fencing, fenced, failed, done */
	int64_t session;
	int64_t ts; /* wall ms of the last change */
};

/* Checks that dir is a writable directory and makes dir/.ha. 0 or -1 with err. */
int ha_store_open(const char *dir, char *err, size_t errlen);

void ha_rec_clear(struct ha_rec *r);
/* 1 and *r (free with ha_rec_clear), 0 if there is none, -1 with err if it is malformed. */
int ha_rec_get(const char *dir, const char *vm, struct ha_rec *r, char *err, size_t errlen);
int ha_rec_put(const char *dir, const struct ha_rec *r, char *err, size_t errlen);
/* Removes the record and the config. */
void ha_rec_remove(const char *dir, const char *vm);
/* Every record (malformed ones are logged and skipped); *out malloc'ed. 0 or -1. */
int ha_rec_list(const char *dir, struct ha_rec **out, size_t *n);
void ha_rec_list_free(struct ha_rec *r, size_t n);

int ha_cfg_put(const char *dir, const char *vm, const char *text, char *err, size_t errlen);
/* The config text (malloc'ed), or NULL. */
char *ha_cfg_get(const char *dir, const char *vm);

/* 1 and *c, 0 if there is none, -1 if malformed. */
int ha_claim_get(const char *dir, const char *host, struct ha_claim *c);
/* Writes a new claim, failing (-1, errno EEXIST) if one exists (excl) or replacing it. */
int ha_claim_put(const char *dir, const struct ha_claim *c, int excl);
void ha_claim_remove(const char *dir, const char *host);

/* 1 if the tags array holds name. */
int ha_tags_have(const cJSON *tags, const char *name);

#endif
