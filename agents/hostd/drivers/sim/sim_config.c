/* sim_config.c - the sim's VM record to and from xl.cfg text (SIM-FORMAT.md). */
#include "sim_state.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../../lib/config/xlcfg.h"

/* Splits "a,b c" into a list for vmc_tags. Returns the count. */
static size_t tags_split(const char *tags, char *buf, size_t len, const char **out, size_t max)
{
	size_t n = 0;

	snprintf(buf, len, "%s", tags);
	for (char *save = NULL, *t = strtok_r(buf, ", \t", &save); t != NULL && n < max;
	     t = strtok_r(NULL, ", \t", &save))
		out[n++] = t;
	return n;
}

char *sim_vm_to_xlcfg(const struct sim_vm *vm)
{
	struct xlcfg *cfg = xlcfg_new();
	char load[SIM_LOAD_TEXT_MAX + 1], tagbuf[SIM_TAGS_MAX + 1], dirty[64];
	const char *tags[SIM_TAGS_MAX / 2 + 1];
	size_t ntags;
	char *text;

	if (cfg == NULL)
		return NULL;
	xlcfg_set_str(cfg, "name", vm->name);
	xlcfg_set_int(cfg, "memory", vm->mem_mb);
	xlcfg_set_int(cfg, "vcpus", vm->vcpus);
	if (sim_load_format(&vm->load, load, sizeof(load)) > 0)
		xlcfg_set_str(cfg, "sim_load", load);
	if (vm->dirty_mibps == floor(vm->dirty_mibps)) {
		xlcfg_set_int(cfg, "sim_dirty", (long long)vm->dirty_mibps);
	} else {
		snprintf(dirty, sizeof(dirty), "%.15g", vm->dirty_mibps);
		xlcfg_set_str(cfg, "sim_dirty", dirty);
	}
	ntags = tags_split(vm->tags, tagbuf, sizeof(tagbuf), tags, sizeof(tags) / sizeof(tags[0]));
	if (ntags > 0)
		xlcfg_set_list(cfg, "vmc_tags", tags, ntags);
	text = xlcfg_write(cfg);
	xlcfg_free(cfg);
	return text;
}

/* A number from an integer or a string key; 1 if absent, -1 if malformed. */
static int cfg_num(const struct xlcfg *cfg, const char *key, double *out)
{
	const char *str = xlcfg_str(cfg, key);
	long long v;
	char *end;

	if (xlcfg_get(cfg, key) == NULL)
		return 1;
	if (xlcfg_int(cfg, key, &v) == 0) {
		*out = (double)v;
		return 0;
	}
	if (str == NULL)
		return -1;
	errno = 0;
	*out = strtod(str, &end);
	return end == str || *end != '\0' || errno != 0 || !isfinite(*out) ? -1 : 0;
}

/* Joins vmc_tags (a list or a string) with commas. Returns 0, or -1 with err. */
static int cfg_tags(const struct xlcfg *cfg, char *out, size_t len, char *err, size_t errlen)
{
	const struct xlcfg_item *it = xlcfg_get(cfg, "vmc_tags");
	size_t used = 0;

	out[0] = '\0';
	if (it == NULL)
		return 0;
	if (it->type == XLCFG_STRING) {
		if (strlen(it->str) >= len)
			goto toolong;
		snprintf(out, len, "%s", it->str);
		return 0;
	}
	if (it->type != XLCFG_LIST) {
		snprintf(err, errlen, "vmc_tags: expected a list of strings");
		return -1;
	}
	for (size_t i = 0; i < it->nlist; i++) {
		int n = snprintf(out + used, len - used, "%s%s", i > 0 ? "," : "", it->list[i]);

		if (n < 0 || (size_t)n >= len - used)
			goto toolong;
		used += (size_t)n;
	}
	return 0;
toolong:
	snprintf(err, errlen, "vmc_tags: longer than %zu characters", len - 1);
	return -1;
}

int sim_vm_from_xlcfg(const char *text, double default_dirty, const char *traces, struct sim_vm *t,
                      char *err, size_t errlen)
{
	struct xlcfg *cfg;
	const char *name, *load;
	long long v;
	int rc = -1, r;

	memset(t, 0, sizeof(*t));
	if (text == NULL || xlcfg_parse(text, "config", &cfg, err, errlen) < 0)
		return -1;
	name = xlcfg_str(cfg, "name");
	if (name == NULL) {
		snprintf(err, errlen, "config: name: expected a string");
		goto out;
	}
	if (vmc_name_check(name, "config: name", err, errlen) < 0)
		goto out;
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (xlcfg_int(cfg, "memory", &v) < 0 || v < SIM_MEM_MIN_MB || v > SIM_MEM_MAX_MB) {
		snprintf(err, errlen, "config: memory: expected an integer from %d to %lld MiB",
		         SIM_MEM_MIN_MB, (long long)SIM_MEM_MAX_MB);
		goto out;
	}
	t->mem_mb = v;
	v = 1;
	if (xlcfg_get(cfg, "vcpus") != NULL &&
	    (xlcfg_int(cfg, "vcpus", &v) < 0 || v < 1 || v > SIM_VCPUS_MAX)) {
		snprintf(err, errlen, "config: vcpus: expected an integer from 1 to %d",
		         SIM_VCPUS_MAX);
		goto out;
	}
	t->vcpus = (int)v;
	t->dirty_mibps = default_dirty;
	r = cfg_num(cfg, "sim_dirty", &t->dirty_mibps);
	if (r < 0 || t->dirty_mibps < 0 || t->dirty_mibps > SIM_DIRTY_MAX) {
		snprintf(err, errlen, "config: sim_dirty: expected a number of MiB/s from 0 to %g",
		         SIM_DIRTY_MAX);
		goto out;
	}
	if (xlcfg_get(cfg, "sim_load") != NULL && xlcfg_str(cfg, "sim_load") == NULL) {
		snprintf(err, errlen, "config: sim_load: expected a string such as \"constant 1\"");
		goto out;
	}
	load = xlcfg_str(cfg, "sim_load") != NULL ? xlcfg_str(cfg, "sim_load") : "constant 0";
	if (sim_load_parse(load, &t->load, err, errlen) < 0 ||
	    cfg_tags(cfg, t->tags, sizeof(t->tags), err, errlen) < 0)
		goto out;
	if (t->load.kind == SIM_LOAD_TRACE &&
	    sim_trace_read_in(traces, t->load.file, &t->load, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	xlcfg_free(cfg);
	return rc;
}
