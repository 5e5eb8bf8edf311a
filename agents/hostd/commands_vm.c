/* commands_vm.c - the VM life-cycle commands: create, start, shutdown, destroy,
 * pause, unpause, remove. The driver calls that can block (create, shutdown, destroy,
 * pause, unpause) run on worker threads (vmjobs.c); the command is answered when the
 * call returns, and meanwhile any other command for that VM is answered "busy". */
#include "hostd.h"

#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/config/xlcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VM_MEM_MIN_MB 16
#define VM_MEM_MAX_MB (4LL * 1024 * 1024)
#define VM_VCPUS_MAX 128
#define VM_TAGS_MAX 32
#define SHUTDOWN_TIMEOUT_S 60

/* Finds a VM among the driver's domains. Returns 1 and fills *out if found, 0 if not,
 * -1 on driver failure (err filled). */
static int vm_lookup(struct hostd *h, const char *name, struct hv_vm *out, char *err,
		     size_t errlen)
{
	struct hv_vm *vms;
	size_t n;
	if (hv_list_vms(h->hv, &vms, &n, err, errlen) < 0)
		return -1;
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(vms[i].name, name) == 0) {
			if (out)
				*out = vms[i];
			found = 1;
			break;
		}
	}
	free(vms);
	return found;
}

/* Reads and checks args.name. Returns the name or NULL after replying. */
static const char *vm_arg_name(struct hostd *h, struct hostd_req *req)
{
	const char *name;
	char err[VMC_ERR_MAX];
	if (msg_get_name(req->args, "args", "name", 1, &name, err, sizeof(err)) != 0) {
		hostd_reply_err(h, req, strstr(err, "expected a string") || strstr(err, "missing")
						? VMC_E_BAD_REQUEST
						: VMC_E_BAD_NAME,
				"%s", err);
		return NULL;
	}
	return name;
}

/* Builds the xl.cfg text of a new VM from the command's arguments. NULL after replying. */
static char *vm_build_config(struct hostd *h, struct hostd_req *req, const char *name)
{
	char err[VMC_ERR_MAX * 2];
	const char *text = NULL;
	int rc = msg_get_str(req->args, "args", "config", 0, 64 * 1024, &text, err, sizeof(err));
	if (rc < 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		return NULL;
	}
	struct xlcfg *cfg = NULL;
	if (rc == 0) {
		if (xlcfg_parse(text, "args.config", &cfg, err, sizeof(err)) < 0) {
			hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
			return NULL;
		}
		const char *cname = xlcfg_str(cfg, "name");
		if (cname && strcmp(cname, name) != 0) {
			hostd_reply_err(h, req, VMC_E_BAD_REQUEST,
					"args.config: name \"%s\" differs from args.name \"%s\"",
					cname, name);
			xlcfg_free(cfg);
			return NULL;
		}
	} else {
		cfg = xlcfg_new();
	}
	if (!cfg) {
		hostd_reply_err(h, req, VMC_E_INTERNAL, "out of memory");
		return NULL;
	}
	int64_t mem = 0, vcpus = 0;
	double load = -1;
	long long v;
	int need = rc != 0; /* without a config, memory and vcpus are required */
	if (msg_get_int(req->args, "args", "memory_mb", need && xlcfg_int(cfg, "memory", &v) < 0,
			VM_MEM_MIN_MB, VM_MEM_MAX_MB, &mem, err, sizeof(err)) < 0 ||
	    msg_get_int(req->args, "args", "vcpus", 0, 1, VM_VCPUS_MAX, &vcpus, err,
			sizeof(err)) < 0 ||
	    msg_get_num(req->args, "args", "load", 0, 0, VM_VCPUS_MAX, &load, err, sizeof(err)) <
		    0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		xlcfg_free(cfg);
		return NULL;
	}
	xlcfg_set_str(cfg, "name", name);
	if (mem)
		xlcfg_set_int(cfg, "memory", mem);
	if (vcpus)
		xlcfg_set_int(cfg, "vcpus", vcpus);
	else if (xlcfg_int(cfg, "vcpus", &v) < 0)
		xlcfg_set_int(cfg, "vcpus", 1);
	if (xlcfg_int(cfg, "memory", &v) < 0 || v < VM_MEM_MIN_MB || v > VM_MEM_MAX_MB) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST,
				"args.config: memory: expected an integer from %d to %lld MiB",
				VM_MEM_MIN_MB, VM_MEM_MAX_MB);
		xlcfg_free(cfg);
		return NULL;
	}
	if (xlcfg_int(cfg, "vcpus", &v) < 0 || v < 1 || v > VM_VCPUS_MAX) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST,
				"args.config: vcpus: expected an integer from 1 to %d", VM_VCPUS_MAX);
		xlcfg_free(cfg);
		return NULL;
	}
	if (load >= 0) {
		char profile[64];
		snprintf(profile, sizeof(profile), "constant %g", load);
		xlcfg_set_str(cfg, "sim_load", profile);
	}
	char *out = xlcfg_write(cfg);
	xlcfg_free(cfg);
	if (!out)
		hostd_reply_err(h, req, VMC_E_INTERNAL, "out of memory");
	return out;
}

/* Checks args.tags: an array of up to 32 names. Returns 0, or -1 after replying. */
static int vm_check_tags(struct hostd *h, struct hostd_req *req, const cJSON **tags)
{
	char err[VMC_ERR_MAX];
	*tags = NULL;
	if (msg_get_array(req->args, "args", "tags", 0, tags, err, sizeof(err)) < 0) {
		hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s", err);
		return -1;
	}
	if (!*tags)
		return 0;
	int i = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, *tags)
	{
		char what[32];
		snprintf(what, sizeof(what), "args.tags[%d]", i);
		if (!cJSON_IsString(t)) {
			hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "%s: expected a string", what);
			return -1;
		}
		if (vmc_name_check(t->valuestring, what, err, sizeof(err)) < 0) {
			hostd_reply_err(h, req, VMC_E_BAD_NAME, "%s", err);
			return -1;
		}
		if (++i > VM_TAGS_MAX) {
			hostd_reply_err(h, req, VMC_E_BAD_REQUEST, "args.tags: at most %d tags",
					VM_TAGS_MAX);
			return -1;
		}
	}
	return 0;
}

/* A driver call of a command, run on a worker thread (vmjobs.c). */
struct vm_call {
	struct hostd *h;
	struct hostd_req *req;
	char name[VMC_NAME_MAX + 1];
	const struct vm_action *a; /* destroy, pause, unpause */
	char *config;              /* create, start: xl.cfg text (owned) */
	const cJSON *tags;         /* create: in req->args */
	int create;                /* 1 vm.create, 0 vm.start */
	int rc;
	char err[VMC_ERR_MAX * 2];
};

static void vm_call_free(struct vm_call *c)
{
	free(c->config);
	free(c);
}

/* Fails the command if the VM has a driver call running. 1 busy (replied), 0 not. */
static int vm_busy(struct hostd *h, struct hostd_req *req, const char *name)
{
	const char *op = hostd_vm_busy(h, name);
	if (!op)
		return 0;
	hostd_reply_err(h, req, VMC_E_BUSY, "vm %s is busy: %s is still running", name, op);
	return 1;
}

/* Starts the driver call of c (run, then done in the loop). Pending, or replied after a
 * failure to start it (c is then freed). */
static enum hostd_op_result vm_call_start(struct vm_call *c, int64_t mem_mb,
                                          void (*run)(void *), void (*done)(struct hostd *,
                                                                            void *))
{
	if (hostd_vmjob_start(c->h, c->name, c->req->op, mem_mb, run, done, c) < 0) {
		hostd_reply_err(c->h, c->req, VMC_E_INTERNAL, "out of memory");
		vm_call_free(c);
		return HOSTD_REPLIED;
	}
	return HOSTD_PENDING;
}

/* A new driver call of req about the VM name; NULL, replied, when out of memory. */
static struct vm_call *vm_call_new(struct hostd *h, struct hostd_req *req, const char *name)
{
	struct vm_call *c = calloc(1, sizeof(*c));
	if (!c) {
		hostd_reply_err(h, req, VMC_E_INTERNAL, "out of memory");
		return NULL;
	}
	c->h = h;
	c->req = req;
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

/* The VM req acts on while it runs here, read into *vm: its name, or NULL (req answered)
 * if req names none, a driver call of it is running, the driver cannot tell, it is not
 * here or stopped ("vm NAME " stopped), or it is migrating. */
static const char *vm_running_arg(struct hostd *h, struct hostd_req *req, struct hv_vm *vm,
                                  const char *stopped)
{
	char err[VMC_ERR_MAX * 2];
	const char *name = vm_arg_name(h, req);
	if (!name || vm_busy(h, req, name))
		return NULL;
	int found = vm_lookup(h, name, vm, err, sizeof(err));
	if (found < 0) {
		hostd_reply_err(h, req, VMC_E_FAILED, "%s", err);
		return NULL;
	}
	if (!found) {
		char *stored = vmstore_get(h->store, name);
		hostd_reply_err(h, req, stored ? VMC_E_BAD_STATE : VMC_E_NOT_FOUND,
		                stored ? "vm %s %s" : "vm %s not found on host %s", name,
		                stored ? stopped : h->opts.name);
		free(stored);
		return NULL;
	}
	if (vm->state == HV_VM_INCOMING || vm->state == HV_VM_OUTGOING) {
		hostd_reply_err(h, req, VMC_E_BUSY, "vm %s is migrating", name);
		return NULL;
	}
	return name;
}

/* The VM req acts on while it is stopped here: its name, or NULL (req answered) if req
 * names none, a driver call of it is running, the driver cannot tell, or it runs ("vm NAME "
 * running). */
static const char *vm_stopped_arg(struct hostd *h, struct hostd_req *req, const char *running)
{
	char err[VMC_ERR_MAX * 2];
	const char *name = vm_arg_name(h, req);
	if (!name || vm_busy(h, req, name))
		return NULL;
	int found = vm_lookup(h, name, NULL, err, sizeof(err));
	if (found < 0) {
		hostd_reply_err(h, req, VMC_E_FAILED, "%s", err);
		return NULL;
	}
	if (found) {
		hostd_reply_err(h, req, VMC_E_BAD_STATE, "vm %s %s", name, running);
		return NULL;
	}
	return name;
}

static cJSON *vm_result(struct hostd *h, const char *name);

static void vm_create_run(void *ud)
{
	struct vm_call *c = ud;
	c->rc = hv_create(c->h->hv, c->config, 0, c->err, sizeof(c->err));
}

static void vm_create_done(struct hostd *h, void *ud)
{
	struct vm_call *c = ud;
	if (c->rc < 0) {
		/* the VM does not exist: withdraw the definition recorded for it */
		if (c->create && vmstore_remove(h->store, c->name) < 0)
			log_warn("vm %s was not created but its definition stays", c->name);
		hostd_reply_err(h, c->req, VMC_E_FAILED, "vm %s: %s", c->name, c->err);
	} else if (c->create) {
		log_info("vm %s created", c->name);
		hostd_event(h, "vm.created", c->name, NULL);
		hostd_publish_load(h);
		hostd_reply_ok(h, c->req, vm_result(h, c->name));
	} else {
		hostd_event(h, "vm.started", c->name, NULL);
		hostd_publish_load(h);
		hostd_reply_ok(h, c->req, vm_result(h, c->name));
	}
	hostd_req_free(c->req);
	vm_call_free(c);
}

/* Starts a domain from config text (ownership passes), checking memory first (less what
 * creates still running will take). Pending, or replied. */
static enum hostd_op_result vm_start_config(struct hostd *h, struct hostd_req *req,
                                            const char *name, char *config, const cJSON *tags,
                                            int create)
{
	char err[VMC_ERR_MAX * 2];
	struct xlcfg *cfg;
	long long mem = 0;
	if (xlcfg_parse(config, name, &cfg, err, sizeof(err)) == 0) {
		xlcfg_int(cfg, "memory", &mem);
		xlcfg_free(cfg);
	}
	struct hv_host hi;
	if (hv_host_info(h->hv, &hi, err, sizeof(err)) < 0) {
		hostd_reply_err(h, req, VMC_E_FAILED, "%s", err);
		free(config);
		return HOSTD_REPLIED;
	}
	int64_t free_mb = hi.mem_free_mb - hostd_vmjobs_mem(h);
	if (mem > free_mb) {
		hostd_reply_err(h, req, VMC_E_NO_MEMORY,
				"vm %s needs %lld MiB but host %s has %lld MiB free", name, mem,
				h->opts.name, (long long)free_mb);
		free(config);
		return HOSTD_REPLIED;
	}
	struct vm_call *c = vm_call_new(h, req, name);
	if (!c) {
		free(config);
		return HOSTD_REPLIED;
	}
	c->config = config;
	c->tags = tags;
	c->create = create;
	/* state before acting: the definition is on disk before the hypervisor is asked,
	 * so that a restart finds every VM the hypervisor runs; if it cannot be written,
	 * nothing is created and the reply says why */
	if (create && vmstore_put(h->store, name, config, tags, err, sizeof(err)) < 0) {
		vmstore_remove(h->store, name);
		hostd_reply_err(h, req, VMC_E_FAILED,
		                "vm %s: its definition cannot be recorded, nothing was created: %s",
		                name, err);
		vm_call_free(c);
		return HOSTD_REPLIED;
	}
	return vm_call_start(c, mem, vm_create_run, vm_create_done);
}

static cJSON *vm_result(struct hostd *h, const char *name)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "host", h->opts.name);
	struct hv_vm vm;
	char err[VMC_ERR_MAX];
	if (vm_lookup(h, name, &vm, err, sizeof(err)) == 1)
		cJSON_AddStringToObject(r, "state", hv_vm_state_name(vm.state));
	else
		cJSON_AddStringToObject(r, "state", "stopped");
	return r;
}

static enum hostd_op_result op_create(struct hostd *h, struct hostd_req *req)
{
	char err[VMC_ERR_MAX * 2];
	const char *name = vm_arg_name(h, req);
	const cJSON *tags;
	if (!name || vm_check_tags(h, req, &tags) < 0 || vm_busy(h, req, name))
		return HOSTD_REPLIED;
	if (h->state == HOSTD_MAINTENANCE) {
		hostd_reply_err(h, req, VMC_E_REFUSED,
				"host %s is in maintenance and takes no new VMs", h->opts.name);
		return HOSTD_REPLIED;
	}
	int found = vm_lookup(h, name, NULL, err, sizeof(err));
	if (found < 0) {
		hostd_reply_err(h, req, VMC_E_FAILED, "%s", err);
		return HOSTD_REPLIED;
	}
	char *stored = vmstore_get(h->store, name);
	if (found || stored) {
		free(stored);
		hostd_reply_err(h, req, VMC_E_EXISTS, "vm %s already exists on host %s", name,
				h->opts.name);
		return HOSTD_REPLIED;
	}
	char *config = vm_build_config(h, req, name);
	if (!config)
		return HOSTD_REPLIED;
	if (hostd_ha_check_create(h, name, config, tags, err, sizeof(err)) < 0) {
		free(config);
		hostd_reply_err(h, req, VMC_E_REFUSED, "%s", err);
		return HOSTD_REPLIED;
	}
	return vm_start_config(h, req, name, config, tags, 1);
}

static enum hostd_op_result op_start(struct hostd *h, struct hostd_req *req)
{
	const char *name = vm_stopped_arg(h, req, "is already running");
	if (!name)
		return HOSTD_REPLIED;
	char *config = vmstore_get(h->store, name);
	if (!config) {
		hostd_reply_err(h, req, VMC_E_NOT_FOUND, "vm %s is not defined on host %s", name,
				h->opts.name);
		return HOSTD_REPLIED;
	}
	if (h->state == HOSTD_MAINTENANCE) {
		hostd_reply_err(h, req, VMC_E_REFUSED, "host %s is in maintenance", h->opts.name);
		free(config);
		return HOSTD_REPLIED;
	}
	return vm_start_config(h, req, name, config, NULL, 0);
}

/* The state-changing ops that act on a running domain share one shape. */
struct vm_action {
	const char *op;
	int (*fn)(struct hv *, const char *, char *, size_t);
	const char *event;
	int needs_state;          /* -1: any */
	const char *state_words;  /* for the error */
};

static const struct vm_action vm_actions[] = {
	{"vm.destroy", hv_destroy, "vm.destroyed", -1, NULL},
	{"vm.pause", hv_pause, "vm.paused", HV_VM_RUNNING, "running"},
	{"vm.unpause", hv_unpause, "vm.unpaused", HV_VM_PAUSED, "paused"},
};

static void vm_action_run(void *ud)
{
	struct vm_call *c = ud;
	c->rc = c->a->fn(c->h->hv, c->name, c->err, sizeof(c->err));
}

static void vm_action_done(struct hostd *h, void *ud)
{
	struct vm_call *c = ud;
	if (c->rc < 0) {
		hostd_reply_err(h, c->req, VMC_E_FAILED, "vm %s: %s", c->name, c->err);
	} else {
		log_info("vm %s: %s done", c->name, c->req->op);
		hostd_event(h, c->a->event, c->name, NULL);
		hostd_publish_load(h);
		hostd_reply_ok(h, c->req, vm_result(h, c->name));
	}
	hostd_req_free(c->req);
	vm_call_free(c);
}

static enum hostd_op_result op_action(struct hostd *h, struct hostd_req *req)
{
	const struct vm_action *a = NULL;
	for (size_t i = 0; i < sizeof(vm_actions) / sizeof(vm_actions[0]); i++)
		if (strcmp(vm_actions[i].op, req->op) == 0)
			a = &vm_actions[i];
	struct hv_vm vm;
	const char *name = vm_running_arg(h, req, &vm, "is stopped");
	if (!name)
		return HOSTD_REPLIED;
	if (a->needs_state >= 0 && (int)vm.state != a->needs_state) {
		hostd_reply_err(h, req, VMC_E_BAD_STATE, "vm %s is %s, not %s", name,
				hv_vm_state_name(vm.state), a->state_words);
		return HOSTD_REPLIED;
	}
	struct vm_call *c = vm_call_new(h, req, name);
	if (!c)
		return HOSTD_REPLIED;
	c->a = a;
	return vm_call_start(c, 0, vm_action_run, vm_action_done);
}

/* A clean shutdown takes the guest's time: poll until the domain is gone. */
struct shutdown_wait {
	struct hostd *h;
	struct hostd_req *req;
	char name[VMC_NAME_MAX + 1];
	int64_t deadline;
};

static long shutdown_poll(struct evloop *loop, long long id, void *ud)
{
	struct shutdown_wait *w = ud;
	char err[VMC_ERR_MAX];
	int found = vm_lookup(w->h, w->name, NULL, err, sizeof(err));
	if (found == 1 && evloop_mono_ms() < w->deadline)
		return 250;
	if (found == 0) {
		log_info("vm %s shut down", w->name);
		hostd_event(w->h, "vm.stopped", w->name, NULL);
		hostd_publish_load(w->h);
		hostd_reply_ok(w->h, w->req, vm_result(w->h, w->name));
	} else {
		hostd_reply_err(w->h, w->req, VMC_E_TIMEOUT,
				"vm %s did not shut down within %d s; vm.destroy stops it at once",
				w->name, SHUTDOWN_TIMEOUT_S);
	}
	hostd_req_free(w->req);
	free(w);
	return -1;
}

static void vm_shutdown_run(void *ud)
{
	struct vm_call *c = ud;
	c->rc = hv_shutdown(c->h->hv, c->name, c->err, sizeof(c->err));
}

/* The driver asked the guest to shut down: poll until the domain is gone (the VM is no
 * longer busy meanwhile: vm.destroy may stop it at once). */
static void vm_shutdown_done(struct hostd *h, void *ud)
{
	struct vm_call *c = ud;
	struct shutdown_wait *w = c->rc < 0 ? NULL : calloc(1, sizeof(*w));
	if (c->rc < 0)
		hostd_reply_err(h, c->req, VMC_E_FAILED, "vm %s: %s", c->name, c->err);
	else if (!w)
		hostd_reply_err(h, c->req, VMC_E_INTERNAL, "out of memory");
	if (!w) {
		hostd_req_free(c->req);
		vm_call_free(c);
		return;
	}
	w->h = h;
	w->req = c->req;
	snprintf(w->name, sizeof(w->name), "%s", c->name);
	w->deadline = evloop_mono_ms() + SHUTDOWN_TIMEOUT_S * 1000;
	evloop_add_timer(h->loop, 0, shutdown_poll, w);
	vm_call_free(c);
}

static enum hostd_op_result op_shutdown(struct hostd *h, struct hostd_req *req)
{
	struct hv_vm vm;
	const char *name = vm_running_arg(h, req, &vm, "is already stopped");
	if (!name)
		return HOSTD_REPLIED;
	struct vm_call *c = vm_call_new(h, req, name);
	if (!c)
		return HOSTD_REPLIED;
	return vm_call_start(c, 0, vm_shutdown_run, vm_shutdown_done);
}

static enum hostd_op_result op_remove(struct hostd *h, struct hostd_req *req)
{
	const char *name = vm_stopped_arg(h, req, "is running: shut it down or destroy it first");
	if (!name)
		return HOSTD_REPLIED;
	if (vmstore_remove(h->store, name) < 0) {
		hostd_reply_err(h, req, VMC_E_NOT_FOUND, "vm %s is not defined on host %s", name,
				h->opts.name);
		return HOSTD_REPLIED;
	}
	hostd_ha_forget(h, name);
	hostd_publish_vm_gone(h, name);
	hostd_event(h, "vm.removed", name, NULL);
	hostd_publish_load(h);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", name);
	hostd_reply_ok(h, req, r);
	return HOSTD_REPLIED;
}

const struct hostd_op hostd_vm_ops[] = {
	{"vm.create", op_create},
	{"vm.start", op_start},
	{"vm.shutdown", op_shutdown},
	{"vm.destroy", op_action},
	{"vm.pause", op_action},
	{"vm.unpause", op_action},
	{"vm.remove", op_remove},
	{NULL, NULL},
};
