/* publish.c - what the host agent tells the cluster: its retained state,
 * the periodic load message with every VM, vm/<vm> records and events. */
#include "hostd.h"
#include "guests.h"

#include "../../lib/core/log.h"
#include "../../lib/bus/topic.h"
#include "../../lib/config/xlcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* VM records (retained) go at QoS 0, like the summary published after them, so that a
 * reader gets them in the order they were sent (a QoS 1 record could wait for the
 * broker's in-flight window while a QoS 0 summary went ahead); only the latest counts,
 * and a reader that reconnects (clean session) is sent the retained one. At QoS 1, an
 * agent started into a 1,000-host cluster acknowledged 20,000 of them. */
#define VM_RECORD_QOS 0

static const char *hostd_state_name(const struct hostd *h)
{
	return h->state == HOSTD_MAINTENANCE ? "maintenance" : "online";
}

void hostd_publish_state(struct hostd *h)
{
	char t[VMC_TOPIC_MAX], err[VMC_ERR_MAX];
	topic_fmt(t, sizeof(t), h->opts.cluster, "host/%s/state", h->opts.name);
	cJSON *m = msg_new(h->sender, hostd_now(h));
	cJSON_AddStringToObject(m, "state", hostd_state_name(h));
	hostd_add_identity(h, m);
	cJSON_AddStringToObject(m, "driver", h->hv->ops->name);
	struct hv_host hi;
	if (hv_host_info(h->hv, &hi, err, sizeof(err)) == 0) {
		cJSON_AddNumberToObject(m, "cpus", hi.cpus);
		cJSON_AddNumberToObject(m, "mem_total_mb", (double)hi.mem_total_mb);
		cJSON_AddStringToObject(m, "version", hi.version);
	}
	bus_publish_json(h->bus, t, m, 1, 1);
	cJSON_Delete(m);
}

void hostd_publish_event(struct hostd *h, const char *type, const char *vm, cJSON *fields)
{
	char t[VMC_TOPIC_MAX];
	topic_fmt(t, sizeof(t), h->opts.cluster, "event/%s", h->sender);
	cJSON *m = msg_new(h->sender, hostd_now(h));
	cJSON_AddStringToObject(m, "type", type);
	cJSON_AddStringToObject(m, "host", h->opts.name);
	if (vm)
		cJSON_AddStringToObject(m, "vm", vm);
	if (fields) {
		cJSON *f = fields->child;
		while (f) {
			cJSON *next = f->next;
			cJSON_DetachItemViaPointer(fields, f);
			cJSON_DeleteItemFromObject(m, f->string);
			cJSON_AddItemToObject(m, f->string, f);
			f = next;
		}
		cJSON_Delete(fields);
	}
	bus_publish_json(h->bus, t, m, 1, 0);
	cJSON_Delete(m);
}

void hostd_publish_vm_gone(struct hostd *h, const char *vm)
{
	char t[VMC_TOPIC_MAX];
	if (topic_fmt(t, sizeof(t), h->opts.cluster, "host/%s/vm/%s", h->opts.name, vm) == 0)
		bus_publish(h->bus, t, "", 0, VM_RECORD_QOS, 1);
}

/* Members under the constant keys below: cJSON keeps the pointer to a key added with
 * cJSON_AddItemToObjectCS instead of a copy, and the strings that outlive the message
 * (the host's name, state and driver names) go in as references: a load message with
 * many VMs is built with a third of the allocations. */
static void add_num(cJSON *o, const char *key, double v)
{
	cJSON_AddItemToObjectCS(o, key, cJSON_CreateNumber(v));
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	cJSON_AddItemToObjectCS(o, key, cJSON_CreateString(v));
}

/* v outlives every message built from it */
static void add_lasting_str(cJSON *o, const char *key, const char *v)
{
	cJSON_AddItemToObjectCS(o, key, cJSON_CreateStringReference(v));
}

/* The host's figures, as members of o. */
static void host_fields(struct hostd *h, const struct hv_host *hi, cJSON *o)
{
	add_lasting_str(o, "name", h->opts.name);
	add_lasting_str(o, "state", hostd_state_name(h));
	add_lasting_str(o, "driver", h->hv->ops->name);
	add_num(o, "cpus", hi->cpus);
	add_num(o, "cpu", hi->cpu_pct);
	add_num(o, "mem_total_mb", (double)hi->mem_total_mb);
	add_num(o, "mem_used_mb", (double)(hi->mem_total_mb - hi->mem_free_mb));
	add_num(o, "mem_free_mb", (double)hi->mem_free_mb);
	add_num(o, "migrations_out", h->migrations_out);
	add_num(o, "migrations_in", h->migrations_in);
	add_str(o, "version", hi->version);
}

cJSON *hostd_host_json(struct hostd *h, const struct hv_host *hi)
{
	cJSON *o = cJSON_CreateObject();
	host_fields(h, hi, o);
	return o;
}

cJSON *hostd_vm_json(struct hostd *h, const struct hv_vm *vm, const char *state_override)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "name", vm->name);
	add_lasting_str(o, "host", h->opts.name);
	/* a literal, or a state name of the driver's table */
	add_lasting_str(o, "state", state_override ? state_override : hv_vm_state_name(vm->state));
	add_num(o, "vcpus", vm->vcpus);
	add_num(o, "mem_mb", (double)vm->mem_mb);
	/* a paused or stopped VM runs nothing, whatever its last sampling window still holds */
	add_num(o, "cpu", state_override || vm->state == HV_VM_PAUSED ? 0 : vm->cpu_pct);
	if (vm->has_io) {
		add_num(o, "net_rx", (double)vm->net_rx_bytes);
		add_num(o, "net_tx", (double)vm->net_tx_bytes);
		add_num(o, "blk_rd", (double)vm->blk_rd_reqs);
		add_num(o, "blk_wr", (double)vm->blk_wr_reqs);
	}
	cJSON_AddItemToObjectCS(o, "tags", vmstore_tags(h->store, vm->name));
	int64_t held = hostd_held_until(h, vm->name);
	if (held > 0)
		add_num(o, "held_until", (double)held);
	cJSON *g = hostd_guest_json(h, vm->name); /* its guest agent's figures, if fresh */
	if (g)
		cJSON_AddItemToObjectCS(o, "guest", g);
	return o;
}

/* Stopped VMs: defined in the store but not among the driver's domains. */
static void add_stopped(struct hostd *h, cJSON *arr, const struct hv_vm *vms, size_t n)
{
	char **names;
	size_t nn, stored = 0;
	/* every stored VM runs, as at nearly every sample: nothing to list */
	for (size_t i = 0; i < n; i++)
		stored += vmstore_has(h->store, vms[i].name) > 0;
	if (stored == vmstore_count(h->store))
		return;
	if (vmstore_list(h->store, &names, &nn) < 0)
		return;
	for (size_t i = 0; i < nn; i++) {
		size_t j;
		for (j = 0; j < n && strcmp(vms[j].name, names[i]) != 0; j++)
			;
		if (j < n)
			continue;
		struct hv_vm vm;
		memset(&vm, 0, sizeof(vm));
		snprintf(vm.name, sizeof(vm.name), "%s", names[i]);
		vm.domid = -1;
		char *text = vmstore_get(h->store, names[i]);
		struct xlcfg *cfg;
		char err[VMC_ERR_MAX];
		/* the stored config knows memory and vcpus */
		if (text && xlcfg_parse(text, names[i], &cfg, err, sizeof(err)) == 0) {
			long long v;
			if (xlcfg_int(cfg, "memory", &v) == 0)
				vm.mem_mb = v;
			if (xlcfg_int(cfg, "vcpus", &v) == 0)
				vm.vcpus = (int)v;
			xlcfg_free(cfg);
		}
		free(text);
		cJSON_AddItemToArray(arr, hostd_vm_json(h, &vm, "stopped"));
	}
	vmstore_names_free(names, nn);
}

/* Remembers the definition of domains the agent did not create (the sim's seeded VMs,
 * Xen domains started before the agent), so that they can be restarted after a shutdown. */
static void adopt_unknown(struct hostd *h, const struct hv_vm *vms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (vms[i].state == HV_VM_INCOMING || vmstore_has(h->store, vms[i].name))
			continue;
		char *cfg;
		char err[VMC_ERR_MAX];
		if (hv_vm_config(h->hv, vms[i].name, &cfg, err, sizeof(err)) == 0) {
			/* the driver's config may carry tags (vmc_tags = [...]) */
			cJSON *tags = cJSON_CreateArray();
			struct xlcfg *x;
			if (xlcfg_parse(cfg, vms[i].name, &x, err, sizeof(err)) == 0) {
				const struct xlcfg_item *t = xlcfg_get(x, "vmc_tags");
				for (size_t k = 0; t && t->type == XLCFG_LIST && k < t->nlist; k++)
					cJSON_AddItemToArray(tags, cJSON_CreateString(t->list[k]));
				xlcfg_free(x);
			}
			vmstore_put(h->store, vms[i].name, cfg, tags, err, sizeof(err));
			cJSON_Delete(tags);
			free(cfg);
		}
	}
}

/* The domains (vms, n) and the stopped VMs as a JSON array. */
static cJSON *vms_json(struct hostd *h, const struct hv_vm *vms, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, hostd_vm_json(h, &vms[i], NULL));
	add_stopped(h, arr, vms, n);
	return arr;
}

cJSON *hostd_vms_json(struct hostd *h, struct hv_host *hi, char *err, size_t errlen)
{
	struct hv_vm *vms;
	size_t n;
	if (hi && hv_host_info(h->hv, hi, err, errlen) < 0)
		return NULL;
	if (hv_list_vms(h->hv, &vms, &n, err, errlen) < 0)
		return NULL;
	cJSON *arr = vms_json(h, vms, n);
	free(vms);
	return arr;
}

static double num_or0(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The index of name among seen[0..n), or n. The lists compared are mostly in the same
 * order from one sample to the next: index `hint` is looked at first. */
static size_t seen_find(const struct hostd_seen *seen, size_t n, const char *name, size_t hint)
{
	if (hint < n && strcmp(seen[hint].name, name) == 0)
		return hint;
	for (size_t i = 0; i < n; i++)
		if (strcmp(seen[i].name, name) == 0)
			return i;
	return n;
}

/* Copies a name or state that fits (they come from the agent's own JSON of its VMs). */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Publishes vm/<vm> for VMs whose state or manual hold is new or changed, and reports state changes
 * nobody commanded (crash, guest halt) as vm.state events. Returns how many records. */
static int publish_vm_changes(struct hostd *h, const cJSON *vmarr)
{
	char t[VMC_TOPIC_MAX];
	const cJSON *vm;
	int changed = 0;
	size_t k = 0;
	cJSON_ArrayForEach(vm, vmarr)
	{
		const char *name = cJSON_GetObjectItem(vm, "name")->valuestring;
		const char *state = cJSON_GetObjectItem(vm, "state")->valuestring;
		const char *old = NULL;
		int64_t held_was = 0, held = (int64_t)num_or0(vm, "held_until");
		size_t i = h->have_seen ? seen_find(h->seen, h->nseen, name, k++) : h->nseen;
		if (i < h->nseen) {
			old = h->seen[i].state;
			held_was = h->seen[i].held_until;
		}
		if (old && strcmp(old, state) == 0 && held_was == held)
			continue;
		changed++;
		cJSON *m = msg_new(h->sender, hostd_now(h));
		for (const cJSON *f = vm->child; f; f = f->next)
			cJSON_AddItemToObject(m, f->string, cJSON_Duplicate(f, 1));
		if (topic_fmt(t, sizeof(t), h->opts.cluster, "host/%s/vm/%s", h->opts.name, name) ==
		    0)
			bus_publish_json(h->bus, t, m, VM_RECORD_QOS, 1);
		cJSON_Delete(m);
		if (old && strcmp(old, state) != 0) {
			cJSON *f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "from", old);
			cJSON_AddStringToObject(f, "to", state);
			hostd_event(h, "vm.state", name, f);
		}
	}
	return changed;
}

/* Keeps the published (name, state) pairs to diff against next time, clears the
 * records of VMs that left this host and follows the guest figures of those it has.
 * Returns how many VMs left. */
static int remember_vms(struct hostd *h, const cJSON *vmarr)
{
	size_t n = (size_t)cJSON_GetArraySize(vmarr);
	struct hostd_seen *seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen)
		return 0;
	size_t i = 0;
	int gone = 0;
	const cJSON *vm;
	cJSON_ArrayForEach(vm, vmarr)
	{
		copy_text(seen[i].name, sizeof(seen[i].name),
		          cJSON_GetObjectItem(vm, "name")->valuestring);
		copy_text(seen[i].state, sizeof(seen[i].state),
		          cJSON_GetObjectItem(vm, "state")->valuestring);
		seen[i].held_until = (int64_t)num_or0(vm, "held_until");
		i++;
	}
	for (size_t j = 0; h->have_seen && j < h->nseen; j++) {
		if (seen_find(seen, n, h->seen[j].name, j) == n) {
			hostd_publish_vm_gone(h, h->seen[j].name);
			gone++;
		}
	}
	hostd_guests_follow(h, seen, n);
	free(h->seen);
	h->seen = seen;
	h->nseen = n;
	h->have_seen = 1;
	return gone;
}

void hostd_publish_load(struct hostd *h)
{
	char t[VMC_TOPIC_MAX], err[VMC_ERR_MAX];
	struct hv_host hi;
	struct hv_vm *vms;
	size_t n;
	/* one sample of the driver, for the adoption and the message alike */
	if (hv_host_info(h->hv, &hi, err, sizeof(err)) < 0 ||
	    hv_list_vms(h->hv, &vms, &n, err, sizeof(err)) < 0) {
		log_warnx("cannot sample the hypervisor: %s", err);
		return;
	}
	adopt_unknown(h, vms, n);
	cJSON *vmarr = vms_json(h, vms, n);
	free(vms);
	cJSON *m = msg_new(h->sender, hostd_now(h));
	msg_set_seq(m, ++h->load_seq);
	host_fields(h, &hi, m);
	hostd_add_identity(h, m);
	cJSON_AddItemToObjectCS(m, "vms", vmarr);
	topic_fmt(t, sizeof(t), h->opts.cluster, "host/%s/load", h->opts.name);
	if (jsonbuf_print(&h->load_text, m))
		bus_publish(h->bus, t, h->load_text.text, h->load_text.len, 0, 1);
	hostd_balancer_sample(h, m);
	int changed = publish_vm_changes(h, vmarr);
	changed += remember_vms(h, vmarr);
	/* after the records: a peer reading the summary has the VMs it counts */
	hostd_summary_sample(h, m, changed);
	cJSON_Delete(m);
}
