/* ha_store.c - the shared store of HA: owner records, configs and claims (ha_store.h). */
#include "ha_store.h"
#include "../hostd.h"

#include "../../../lib/core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* dir/<sub><name><ext>; -1 if name is not a valid name or the path is too long. */
static int ha_path(char *buf, size_t len, const char *dir, const char *sub, const char *name,
                   const char *ext)
{
	char err[VMC_ERR_MAX];
	if (vmc_name_check(name, "name", err, sizeof(err)) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/%s%s%s", dir, sub, name, ext);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int ha_store_open(const char *dir, char *err, size_t errlen)
{
	char p[4096];
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) < 0) {
		snprintf(err, errlen, "shared store %s: expected a writable directory", dir);
		return -1;
	}
	snprintf(p, sizeof(p), "%s/.ha", dir);
	if (mkdir(p, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "shared store %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

int ha_tags_have(const cJSON *tags, const char *name)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, tags) if (cJSON_IsString(t) &&
	                                strcmp(t->valuestring, name) == 0) return 1;
	return 0;
}

void ha_rec_clear(struct ha_rec *r)
{
	cJSON_Delete(r->tags);
	memset(r, 0, sizeof(*r));
}

/* Reads a JSON object from a file: 1, 0 (no file), -1 (malformed, err says how). */
static int ha_read_json(const char *path, cJSON **out, char *err, size_t errlen)
{
	char *text = vmstore_read_file(path);
	if (!text) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: unreadable", path);
		return -1;
	}
	*out = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		snprintf(err, errlen, "%s: not a JSON object", path);
		return -1;
	}
	return 1;
}

static int ha_name_field(const cJSON *o, const char *field, int required, char *out,
                         const char *path, char *err, size_t errlen)
{
	const char *s = NULL;
	char e[VMC_ERR_MAX];
	if (msg_get_name(o, NULL, field, required, &s, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	snprintf(out, VMC_NAME_MAX + 1, "%s", s ? s : "");
	return 0;
}

static int ha_rec_from_json(const cJSON *o, struct ha_rec *r, const char *path, char *err,
                            size_t errlen)
{
	int64_t mem = 0, vcpus = 1;
	const cJSON *tags = NULL;
	char e[VMC_ERR_MAX];
	memset(r, 0, sizeof(*r));
	if (ha_name_field(o, "vm", 1, r->vm, path, err, errlen) < 0 ||
	    ha_name_field(o, "host", 1, r->host, path, err, errlen) < 0 ||
	    ha_name_field(o, "from", 0, r->from, path, err, errlen) < 0)
		return -1;
	if (msg_get_int(o, NULL, "mem_mb", 1, 1, (int64_t)1 << 32, &mem, e, sizeof(e)) < 0 ||
	    msg_get_int(o, NULL, "vcpus", 0, 1, 4096, &vcpus, e, sizeof(e)) < 0 ||
	    msg_get_array(o, NULL, "tags", 0, &tags, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	const cJSON *t;
	int nt = 0;
	cJSON_ArrayForEach(t, tags)
	{
		if (!cJSON_IsString(t) || ++nt > 32 ||
		    vmc_name_check(t->valuestring, "tag", e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s: tags: expected at most 32 valid names", path);
			return -1;
		}
	}
	r->mem_mb = mem;
	r->vcpus = (int)vcpus;
	r->tags = tags ? cJSON_Duplicate(tags, 1) : cJSON_CreateArray();
	return 0;
}

int ha_rec_get(const char *dir, const char *vm, struct ha_rec *r, char *err, size_t errlen)
{
	char path[4096];
	cJSON *o = NULL;
	memset(r, 0, sizeof(*r));
	if (ha_path(path, sizeof(path), dir, "", vm, ".json") < 0) {
		snprintf(err, errlen, "bad vm name");
		return -1;
	}
	int rc = ha_read_json(path, &o, err, errlen);
	if (rc <= 0)
		return rc;
	rc = ha_rec_from_json(o, r, path, err, errlen) < 0 ? -1 : 1;
	cJSON_Delete(o);
	if (rc < 0 || strcmp(r->vm, vm) != 0) {
		if (rc > 0)
			snprintf(err, errlen, "%s: names vm %s", path, r->vm);
		ha_rec_clear(r);
		return -1;
	}
	return 1;
}

int ha_rec_put(const char *dir, const struct ha_rec *r, char *err, size_t errlen)
{
	char path[4096];
	if (ha_path(path, sizeof(path), dir, "", r->vm, ".json") < 0) {
		snprintf(err, errlen, "bad vm name");
		return -1;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "vm", r->vm);
	cJSON_AddStringToObject(o, "host", r->host);
	if (r->from[0])
		cJSON_AddStringToObject(o, "from", r->from);
	cJSON_AddNumberToObject(o, "mem_mb", (double)r->mem_mb);
	cJSON_AddNumberToObject(o, "vcpus", r->vcpus);
	cJSON_AddItemToObject(o, "tags",
	                      r->tags ? cJSON_Duplicate(r->tags, 1) : cJSON_CreateArray());
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	int rc = text ? vmstore_write_file(path, text, err, errlen) : -1;
	free(text);
	return rc;
}

void ha_rec_remove(const char *dir, const char *vm)
{
	char path[4096];
	if (ha_path(path, sizeof(path), dir, "", vm, ".json") == 0)
		unlink(path);
	if (ha_path(path, sizeof(path), dir, "", vm, ".cfg") == 0)
		unlink(path);
}

void ha_rec_list_free(struct ha_rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ha_rec_clear(&r[i]);
	free(r);
}

int ha_rec_list(const char *dir, struct ha_rec **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char vm[VMC_NAME_MAX + 1], err[VMC_ERR_MAX * 2];
		if (len < 6 || len - 5 > VMC_NAME_MAX ||
		    strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		snprintf(vm, sizeof(vm), "%.*s", (int)(len - 5), e->d_name);
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct ha_rec *nr = realloc(*out, cap * sizeof(*nr));
			if (!nr)
				break;
			*out = nr;
		}
		int rc = ha_rec_get(dir, vm, &(*out)[*n], err, sizeof(err));
		if (rc < 0)
			log_warnx("ha: %s", err);
		if (rc == 1)
			(*n)++;
	}
	closedir(d);
	return 0;
}

int ha_cfg_put(const char *dir, const char *vm, const char *text, char *err, size_t errlen)
{
	char path[4096];
	if (ha_path(path, sizeof(path), dir, "", vm, ".cfg") < 0) {
		snprintf(err, errlen, "bad vm name");
		return -1;
	}
	return vmstore_write_file(path, text, err, errlen);
}

char *ha_cfg_get(const char *dir, const char *vm)
{
	char path[4096];
	if (ha_path(path, sizeof(path), dir, "", vm, ".cfg") < 0)
		return NULL;
	return vmstore_read_file(path);
}

int ha_claim_get(const char *dir, const char *host, struct ha_claim *c)
{
	char path[4096], err[VMC_ERR_MAX * 2];
	cJSON *o = NULL;
	int64_t session = 0, ts = 0;
	const char *state = NULL;
	memset(c, 0, sizeof(*c));
	if (ha_path(path, sizeof(path), dir, ".ha/fence-", host, ".json") < 0)
		return -1;
	int rc = ha_read_json(path, &o, err, sizeof(err));
	if (rc <= 0) {
		if (rc < 0)
			log_warnx("ha: %s", err);
		return rc;
	}
	if (ha_name_field(o, "host", 1, c->host, path, err, sizeof(err)) < 0 ||
	    ha_name_field(o, "by", 1, c->by, path, err, sizeof(err)) < 0 ||
	    msg_get_str(o, NULL, "state", 1, sizeof(c->state) - 1, &state, err, sizeof(err)) < 0 ||
	    msg_get_int(o, NULL, "session", 1, 0, INT64_MAX, &session, err, sizeof(err)) < 0 ||
	    msg_get_int(o, NULL, "ts", 0, 0, INT64_MAX, &ts, err, sizeof(err)) < 0) {
		log_warnx("ha: %s: %s", path, err);
		cJSON_Delete(o);
		return -1;
	}
	snprintf(c->state, sizeof(c->state), "%s", state);
	c->session = session;
	c->ts = ts;
	cJSON_Delete(o);
	return 1;
}

int ha_claim_put(const char *dir, const struct ha_claim *c, int excl)
{
	char path[4096], tmp[4200], err[VMC_ERR_MAX * 2];
	if (ha_path(path, sizeof(path), dir, ".ha/fence-", c->host, ".json") < 0)
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "host", c->host);
	cJSON_AddStringToObject(o, "by", c->by);
	cJSON_AddStringToObject(o, "state", c->state);
	cJSON_AddNumberToObject(o, "session", (double)c->session);
	cJSON_AddNumberToObject(o, "ts", (double)c->ts);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -1;
	int rc;
	if (!excl) {
		rc = vmstore_write_file(path, text, err, sizeof(err));
	} else {
		/* written aside, then linked in: link fails if a claim exists */
		snprintf(tmp, sizeof(tmp), "%s.%d.new", path, (int)getpid());
		rc = vmstore_write_file(tmp, text, err, sizeof(err));
		if (rc == 0) {
			rc = link(tmp, path);
			int saved = errno;
			unlink(tmp);
			errno = saved;
		}
	}
	free(text);
	return rc;
}

void ha_claim_remove(const char *dir, const char *host)
{
	char path[4096];
	if (ha_path(path, sizeof(path), dir, ".ha/fence-", host, ".json") == 0)
		unlink(path);
}
