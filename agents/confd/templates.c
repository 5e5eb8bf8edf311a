/* templates.c - reads, validates and lists VM templates (see templates.h). */
#include "templates.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/config/conf.h"
#include "../../lib/config/xlcfg.h"
#include "imagestore.h"

/* Keys confd writes itself; templates set them through their own keys. */
static const char *const managed_xl_keys[] = {
    "name", "disk", "memory", "vcpus", "kernel", "ramdisk", "vif", "root", "extra",
};

static void add_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_err(char *err, size_t errlen, const char *fmt, ...)
{
	size_t l = strnlen(err, errlen);
	if (l + 1 >= errlen)
		return;
	if (l > 0) {
		err[l++] = '\n';
		err[l] = '\0';
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + l, errlen - l, fmt, ap);
	va_end(ap);
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* An absolute path on the hosts: no "..", no control characters, no quotes. */
static int host_path_check(const char *v, const char *what, char *err, size_t errlen)
{
	if (v[0] != '/') {
		snprintf(err, errlen, "%s: expected an absolute path, got \"%.100s\"", what, v);
		return -1;
	}
	if (strlen(v) > TEMPLATE_PATH_MAX || !printable(v) || strpbrk(v, "\"\\'")) {
		snprintf(err, errlen, "%s: path too long or holding quotes or control characters",
		         what);
		return -1;
	}
	for (const char *p = v; (p = strstr(p, "..")) != NULL; p += 2)
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0')) {
			snprintf(err, errlen, "%s: \"%.100s\" may not contain a \"..\" component",
			         what, v);
			return -1;
		}
	return 0;
}

static int text_check(const char *v, const char *what, char *err, size_t errlen)
{
	if (strlen(v) > TEMPLATE_EXTRA_MAX) {
		snprintf(err, errlen, "%s: longer than %d characters", what, TEMPLATE_EXTRA_MAX);
		return -1;
	}
	if (!printable(v)) {
		snprintf(err, errlen, "%s: control characters are not allowed", what);
		return -1;
	}
	return 0;
}

static int bridge_check(const char *v, const char *what, char *err, size_t errlen)
{
	size_t n = strlen(v);
	if (n == 0 || n > 15) {
		snprintf(err, errlen, "%s: expected a bridge name of 1 to 15 characters", what);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-')) {
			snprintf(err, errlen, "%s: character '%c' not allowed in a bridge name",
			         what, c >= 0x20 && c < 0x7f ? c : '?');
			return -1;
		}
	}
	return 0;
}

static int image_check(const char *v, int *is_url, char *err, size_t errlen)
{
	char name[IMGSTORE_NAME_MAX + 1];
	*is_url = strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
	if (*is_url) {
		if (strlen(v) > 2048 || !printable(v) || strpbrk(v, " \"\\")) {
			snprintf(err, errlen,
			         "image: URL too long or holding spaces, quotes or control "
			         "characters");
			return -1;
		}
		return imgstore_name_from_url(v, name, sizeof name, err, errlen);
	}
	if (strstr(v, "://")) {
		snprintf(err, errlen,
		         "image: \"%.100s\": only http:// and https:// URLs are "
		         "supported",
		         v);
		return -1;
	}
	if (v[0] == '/')
		return host_path_check(v, "image", err, errlen);
	return imgstore_name_check(v, "image", err, errlen);
}

int template_xl_key_check(const char *key, char *err, size_t errlen)
{
	size_t n = strlen(key);
	if (n == 0 || n > 64 || !((key[0] >= 'a' && key[0] <= 'z') || key[0] == '_')) {
		snprintf(err, errlen, "xl.%.64s: expected an xl.cfg key ([a-z_][a-z0-9_]*)", key);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
		      key[i] == '_')) {
			snprintf(err, errlen, "xl.%.64s: expected an xl.cfg key ([a-z_][a-z0-9_]*)",
			         key);
			return -1;
		}
	for (size_t i = 0; i < sizeof managed_xl_keys / sizeof managed_xl_keys[0]; i++)
		if (strcmp(key, managed_xl_keys[i]) == 0) {
			snprintf(err, errlen,
			         "xl.%s: set by vmc-confd itself; use the template's own keys "
			         "(memory, vcpus, kernel, ramdisk, bridge, root, extra, image)",
			         key);
			return -1;
		}
	return 0;
}

void template_free(struct template *t)
{
	if (!t)
		return;
	free(t->file);
	free(t->description);
	free(t->kernel);
	free(t->ramdisk);
	free(t->root);
	free(t->extra);
	free(t->bridge);
	free(t->image);
	for (size_t i = 0; i < t->nxl; i++) {
		free(t->xl[i].key);
		free(t->xl[i].value);
	}
	free(t->xl);
	free(t);
}

/* A string key: checked by fn, copied into *dst. Absent leaves *dst NULL. */
typedef int check_fn(const char *v, const char *what, char *err, size_t errlen);

struct str_key {
	const char *key;
	size_t off; /* offset of the char * in struct template */
	check_fn *check;
};

static const struct str_key str_keys[] = {
    {"kernel", offsetof(struct template, kernel), host_path_check},
    {"ramdisk", offsetof(struct template, ramdisk), host_path_check},
    {"root", offsetof(struct template, root), text_check},
    {"extra", offsetof(struct template, extra), text_check},
    {"bridge", offsetof(struct template, bridge), bridge_check},
    {"description", offsetof(struct template, description), text_check},
};

static int size_key(struct conf *c, const char *file, const char *key, int64_t min, int64_t max,
                    int64_t *out, char *err, size_t errlen)
{
	const char *v;
	char e[VMC_ERR_MAX];
	int r = conf_get_str(c, "", NULL, key, &v, e, sizeof e);
	if (r != 0) {
		if (r < 0)
			add_err(err, errlen, "%s", e);
		return r < 0 ? -1 : 0;
	}
	const struct conf_entry *en = conf_find(c, "", NULL, key);
	int64_t mb;
	if (conf_parse_size_mb(v, &mb) < 0 || mb < min || mb > max) {
		add_err(
		    err, errlen,
		    "%s:%d: %s: expected a size from %lld to %lld MiB (e.g. 512, 512M, 4G), got "
		    "\"%.40s\"",
		    file, en ? en->line : 0, key, (long long)min, (long long)max, v);
		return -1;
	}
	*out = mb;
	return 0;
}

/* Each parse_* helper below adds its complaints to err and returns 1 if it found any, so
 * that one run reports every mistake in a template rather than the first. */

static int parse_no_sections(const struct conf *c, const char *file, char *err, size_t errlen)
{
	int bad = 0;
	for (size_t i = 0; i < c->nsections; i++) {
		add_err(err, errlen, "%s:%d: templates have no sections ([%s])", file,
		        c->sections[i].line, c->sections[i].name);
		bad = 1;
	}
	return bad;
}

static int parse_str_keys(struct conf *c, const char *file, struct template *t, char *err,
                          size_t errlen)
{
	char e[VMC_ERR_MAX];
	int bad = 0;
	for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
		const char *v;
		int r = conf_get_str(c, "", NULL, str_keys[i].key, &v, e, sizeof e);
		if (r < 0) {
			add_err(err, errlen, "%s", e);
			bad = 1;
		} else if (r == 0) {
			const struct conf_entry *en = conf_find(c, "", NULL, str_keys[i].key);
			if (str_keys[i].check(v, str_keys[i].key, e, sizeof e) < 0) {
				add_err(err, errlen, "%s:%d: %s", file, en ? en->line : 0, e);
				bad = 1;
			} else {
				*(char **)((char *)t + str_keys[i].off) = strdup(v);
			}
		}
	}
	return bad;
}

/* image (required) and its sha256 (required when image is a URL). */
static int parse_image(struct conf *c, const char *file, struct template *t, char *err,
                       size_t errlen)
{
	char e[VMC_ERR_MAX];
	int bad = 0;
	const char *v;
	int r = conf_get_str(c, "", NULL, "image", &v, e, sizeof e);
	const struct conf_entry *img = conf_find(c, "", NULL, "image");
	if (r != 0) {
		add_err(err, errlen,
		        "%s:%d: image: required (an http(s) URL or a file in the store's "
		        "images directory)",
		        file, r < 0 && img ? img->line : 1);
		bad = 1;
	} else if (image_check(v, &t->image_is_url, e, sizeof e) < 0) {
		add_err(err, errlen, "%s:%d: %s", file, img->line, e);
		bad = 1;
	} else {
		t->image = strdup(v);
	}
	r = conf_get_str(c, "", NULL, "sha256", &v, e, sizeof e);
	const struct conf_entry *sh = conf_find(c, "", NULL, "sha256");
	if (r == 0 && imgstore_sha256_parse(v, t->sha256, e, sizeof e) < 0) {
		add_err(err, errlen, "%s:%d: %s", file, sh->line, e);
		bad = 1;
	} else if (r != 0 && t->image_is_url) {
		add_err(err, errlen, "%s:%d: sha256: required when image is a URL", file,
		        img ? img->line : 1);
		bad = 1;
	}
	return bad;
}

/* memory (required), disk_size and vcpus. */
static int parse_sizes(struct conf *c, const char *file, struct template *t, char *err,
                       size_t errlen)
{
	char e[VMC_ERR_MAX];
	int bad = 0;
	if (size_key(c, file, "memory", 16, TEMPLATE_MAX_MEMORY_MB, &t->memory_mb, err, errlen) < 0)
		bad = 1;
	else if (t->memory_mb == 0) {
		add_err(err, errlen, "%s:1: memory: required (e.g. memory = 1G)", file);
		bad = 1;
	}
	if (size_key(c, file, "disk_size", 1, TEMPLATE_MAX_DISK_MB, &t->disk_size_mb, err, errlen) <
	    0)
		bad = 1;
	int64_t n;
	int r = conf_get_int(c, "", NULL, "vcpus", 1, TEMPLATE_MAX_VCPUS, &n, e, sizeof e);
	if (r < 0) {
		add_err(err, errlen, "%s", e);
		bad = 1;
	} else if (r == 0) {
		t->vcpus = n;
	}
	return bad;
}

/* Sets key to value in t->xl; a repeated key: the last one wins. -1 when out of memory. */
static int xl_set(struct template *t, const char *key, const char *value)
{
	size_t j = 0;
	while (j < t->nxl && strcmp(t->xl[j].key, key) != 0)
		j++;
	if (j == t->nxl) {
		struct template_xl *nx = realloc(t->xl, (t->nxl + 1) * sizeof *nx);
		if (!nx)
			return -1;
		t->xl = nx;
		t->xl[t->nxl].key = strdup(key);
		t->xl[t->nxl].value = NULL;
		t->nxl++;
	}
	free(t->xl[j].value);
	t->xl[j].value = strdup(value);
	return 0;
}

/* The xl.KEY entries, each checked as xl.cfg would take it (in a scratch config). */
static int parse_xl_keys(struct conf *c, const char *file, struct template *t, char *err,
                         size_t errlen)
{
	char e[VMC_ERR_MAX] = ""; /* what xlcfg_new failing reports */
	int bad = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct conf_entry *en = &c->entries[i];
		if (en->section[0] || strncmp(en->key, "xl.", 3) != 0)
			continue;
		en->used = 1;
		struct xlcfg *scratch = xlcfg_new();
		int xbad = !scratch || template_xl_key_check(en->key + 3, e, sizeof e) < 0 ||
		           text_check(en->value, en->key, e, sizeof e) < 0 ||
		           cfgstore_xl_value(scratch, en->key + 3, en->value, e, sizeof e) < 0;
		xlcfg_free(scratch);
		if (xbad) {
			add_err(err, errlen, "%s:%d: %s", file, en->line, e);
			bad = 1;
			continue;
		}
		if (xl_set(t, en->key + 3, en->value) < 0)
			return 1;
	}
	return bad;
}

int template_parse(const char *text, const char *file, const char *name, struct template **out,
                   char *err, size_t errlen)
{
	struct conf *c = NULL;
	char e[VMC_ERR_MAX];
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (vmc_name_check(name, "template name", e, sizeof e) < 0) {
		add_err(err, errlen, "%s: %s", file, e);
		return -1;
	}
	if (conf_parse_string(text, file, &c, err, errlen) != 0)
		return -1;
	struct template *t = calloc(1, sizeof *t);
	if (!t) {
		conf_free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(t->name, sizeof t->name, "%s", name);
	t->file = strdup(file);
	t->vcpus = 1;

	int bad = parse_no_sections(c, file, err, errlen);
	bad |= parse_str_keys(c, file, t, err, errlen);
	bad |= parse_image(c, file, t, err, errlen);
	bad |= parse_sizes(c, file, t, err, errlen);
	bad |= parse_xl_keys(c, file, t, err, errlen);
	if (c->nsections == 0) {
		char unused[1024];
		if (conf_check_unused(c, unused, sizeof unused) > 0) {
			add_err(err, errlen, "%s", unused);
			bad = 1;
		}
	}
	conf_free(c);
	if (bad) {
		template_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

static char *read_small(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
		if (len + 1 == cap) {
			if (cap >= (1u << 20)) {
				snprintf(err, errlen, "%s: larger than 1 MiB", path);
				free(buf);
				buf = NULL;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	else if (!err[0])
		snprintf(err, errlen, "%s: out of memory", path);
	fclose(f);
	return buf;
}

int template_load(const char *dir, const char *name, struct template **out, char *err,
                  size_t errlen)
{
	char path[TEMPLATE_PATH_MAX + VMC_NAME_MAX + 16];
	*out = NULL;
	if (vmc_name_check(name, "template", err, errlen) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s%s", dir, name, TEMPLATE_EXT);
	err[0] = '\0';
	FILE *probe = fopen(path, "re");
	if (!probe) {
		if (errno == ENOENT)
			snprintf(err, errlen, "unknown template \"%s\" (no %s)", name, path);
		else
			snprintf(err, errlen, "template %s: %s: %s", name, path, strerror(errno));
		return -1;
	}
	fclose(probe);
	char *text = read_small(path, err, errlen);
	if (!text)
		return -1;
	int rc = template_parse(text, path, name, out, err, errlen);
	free(text);
	return rc;
}

struct ovr {
	const char *key;
	int64_t min, max;
	size_t off; /* int64_t field, or 0 for a string */
	size_t soff;
	check_fn *check;
};

static const struct ovr overrides[] = {
    {"memory_mb", 16, TEMPLATE_MAX_MEMORY_MB, offsetof(struct template, memory_mb), 0, NULL},
    {"vcpus", 1, TEMPLATE_MAX_VCPUS, offsetof(struct template, vcpus), 0, NULL},
    {"disk_size_mb", 1, TEMPLATE_MAX_DISK_MB, offsetof(struct template, disk_size_mb), 0, NULL},
    {"bridge", 0, 0, 0, offsetof(struct template, bridge), bridge_check},
    {"extra", 0, 0, 0, offsetof(struct template, extra), text_check},
    {"root", 0, 0, 0, offsetof(struct template, root), text_check},
};

int template_apply_overrides(struct template *t, const cJSON *o, char *err, size_t errlen)
{
	const size_t no = sizeof overrides / sizeof overrides[0];
	if (!o)
		return 0;
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "args.overrides: expected an object");
		return -1;
	}
	for (const cJSON *it = o->child; it; it = it->next) {
		size_t i = 0;
		while (i < no && strcmp(overrides[i].key, it->string) != 0)
			i++;
		if (i == no) {
			snprintf(err, errlen,
			         "args.overrides.%.64s: unknown (expected memory_mb, vcpus, "
			         "disk_size_mb, bridge, extra or root)",
			         it->string);
			return -1;
		}
	}
	for (size_t i = 0; i < no; i++) {
		const struct ovr *ov = &overrides[i];
		if (ov->off) {
			int64_t v;
			int r = msg_get_int(o, "args.overrides", ov->key, 0, ov->min, ov->max, &v,
			                    err, errlen);
			if (r < 0)
				return -1;
			if (r == 0)
				*(int64_t *)((char *)t + ov->off) = v;
		} else {
			const char *s;
			char e[VMC_ERR_MAX], what[64];
			int r = msg_get_str(o, "args.overrides", ov->key, 0, TEMPLATE_EXTRA_MAX, &s,
			                    err, errlen);
			if (r < 0)
				return -1;
			if (r == 1)
				continue;
			snprintf(what, sizeof what, "args.overrides.%s", ov->key);
			if (ov->check(s, what, e, sizeof e) < 0) {
				snprintf(err, errlen, "%s", e);
				return -1;
			}
			char **dst = (char **)((char *)t + ov->soff);
			free(*dst);
			*dst = strdup(s);
		}
	}
	return 0;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
}

cJSON *template_to_json(const struct template *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", t->name);
	add_str(o, "description", t->description);
	add_str(o, "image", t->image);
	add_str(o, "sha256", t->sha256);
	cJSON_AddNumberToObject(o, "memory_mb", (double)t->memory_mb);
	cJSON_AddNumberToObject(o, "vcpus", (double)t->vcpus);
	if (t->disk_size_mb)
		cJSON_AddNumberToObject(o, "disk_size_mb", (double)t->disk_size_mb);
	add_str(o, "kernel", t->kernel);
	add_str(o, "ramdisk", t->ramdisk);
	add_str(o, "bridge", t->bridge);
	add_str(o, "root", t->root);
	add_str(o, "extra", t->extra);
	if (t->nxl) {
		cJSON *xl = cJSON_AddObjectToObject(o, "xl");
		for (size_t i = 0; i < t->nxl; i++)
			cJSON_AddStringToObject(xl, t->xl[i].key, t->xl[i].value);
	}
	return o;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int templates_list(const char *dir, cJSON **list, cJSON **errors, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "templates directory %s: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), el = strlen(TEMPLATE_EXT);
		if (l <= el || strcmp(de->d_name + l - el, TEMPLATE_EXT) != 0 ||
		    de->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof *nn);
		if (!nn)
			break;
		names = nn;
		names[n] = strndup(de->d_name, l - el);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	*list = cJSON_CreateArray();
	*errors = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		struct template *t;
		char e[2048];
		if (template_load(dir, names[i], &t, e, sizeof e) == 0) {
			cJSON_AddItemToArray(*list, template_to_json(t));
			template_free(t);
		} else {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", names[i]);
			cJSON_AddStringToObject(o, "error", e);
			cJSON_AddItemToArray(*errors, o);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

/* --- xl.<key> values (cfgstore.c writes them with this too) ------------------ */

static int is_int(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s || strlen(s) > 18)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int cfgstore_xl_value(struct xlcfg *cfg, const char *key, const char *value, char *err,
                      size_t errlen)
{
	if (is_int(value))
		return xlcfg_set_int(cfg, key, strtoll(value, NULL, 10)) == 0 ? 0 : -1;
	if (value[0] != '[')
		return xlcfg_set_str(cfg, key, value) == 0 ? 0 : -1;
	/* A list: let the xl.cfg reader parse "KEY = [ ... ]". */
	size_t n = strlen(key) + strlen(value) + 8;
	char *text = malloc(n);
	struct xlcfg *one = NULL;
	char e[VMC_ERR_MAX];
	int rc = -1;
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(text, n, "%s = %s\n", key, value);
	if (xlcfg_parse(text, "value", &one, e, sizeof e) < 0) {
		snprintf(err, errlen, "xl.%s: not an xl.cfg list: %s", key, e);
		goto out;
	}
	const struct xlcfg_item *it = xlcfg_get(one, key);
	if (!it || it->type != XLCFG_LIST) {
		snprintf(err, errlen, "xl.%s: expected [ \"item\", ... ]", key);
		goto out;
	}
	rc = xlcfg_set_list(cfg, key, (const char *const *)it->list, it->nlist);
out:
	xlcfg_free(one);
	free(text);
	return rc;
}
