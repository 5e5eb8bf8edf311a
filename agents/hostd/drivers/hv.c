/* hv.c - the hv_* wrappers around a driver's ops (the drivers use them too: this
 * file names no driver; hv_load.c finds them). */
#include "hv.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {
    [HV_VM_RUNNING] = "running",
    [HV_VM_PAUSED] = "paused",
    [HV_VM_SHUTTING_DOWN] = "shutting-down",
    [HV_VM_CRASHED] = "crashed",
    [HV_VM_INCOMING] = "incoming",
    [HV_VM_OUTGOING] = "outgoing",
};

const char *hv_vm_state_name(enum hv_vm_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

/* Fills err when a driver lacks an op. */
static int no_op(const struct hv *h, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "driver %s cannot %s", h->ops->name, what);
	return -1;
}

int hv_open(const struct hv_ops *ops, const struct hv_open_args *args, struct hv **out, char *err,
            size_t errlen)
{
	*out = NULL;
	if (ops->open(args, out, err, errlen) < 0)
		return -1;
	(*out)->ops = ops;
	return 0;
}

void hv_close(struct hv *h)
{
	if (h != NULL)
		h->ops->close(h);
}

int hv_host_info(struct hv *h, struct hv_host *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return h->ops->host_info(h, out, err, errlen);
}

int hv_list_vms(struct hv *h, struct hv_vm **vms, size_t *n, char *err, size_t errlen)
{
	*vms = NULL;
	*n = 0;
	return h->ops->list_vms(h, vms, n, err, errlen);
}

int hv_vm_config(struct hv *h, const char *name, char **xlcfg, char *err, size_t errlen)
{
	*xlcfg = NULL;
	if (h->ops->vm_config == NULL)
		return no_op(h, "give a domain's config", err, errlen);
	return h->ops->vm_config(h, name, xlcfg, err, errlen);
}

int hv_create(struct hv *h, const char *xlcfg, int paused, char *err, size_t errlen)
{
	return h->ops->create(h, xlcfg, paused, err, errlen);
}

int hv_shutdown(struct hv *h, const char *name, char *err, size_t errlen)
{
	return h->ops->shutdown(h, name, err, errlen);
}

int hv_destroy(struct hv *h, const char *name, char *err, size_t errlen)
{
	return h->ops->destroy(h, name, err, errlen);
}

int hv_pause(struct hv *h, const char *name, char *err, size_t errlen)
{
	return h->ops->pause(h, name, err, errlen);
}

int hv_unpause(struct hv *h, const char *name, char *err, size_t errlen)
{
	return h->ops->unpause(h, name, err, errlen);
}

int hv_guest_view(struct hv *h, const char *name, struct hv_guest_view *out)
{
	memset(out, 0, sizeof(*out));
	if (h->ops->guest_view == NULL)
		return -1;
	return h->ops->guest_view(h, name, out);
}

int hv_migrate_send(struct hv *h, const char *name, int fd, hv_progress_fn *progress, void *ud,
                    struct hv_migrate_stats *st, char *err, size_t errlen)
{
	if (h->ops->migrate_send == NULL)
		return no_op(h, "migrate", err, errlen);
	return h->ops->migrate_send(h, name, fd, progress, ud, st, err, errlen);
}

int hv_migrate_recv(struct hv *h, const char *xlcfg, int fd, char *err, size_t errlen)
{
	if (h->ops->migrate_recv == NULL)
		return no_op(h, "receive a migration", err, errlen);
	return h->ops->migrate_recv(h, xlcfg, fd, err, errlen);
}

/* The four commit/abort ops share one shape. */
static int migrate_step(struct hv *h, int (*op)(struct hv *, const char *, char *, size_t),
                        const char *name, char *err, size_t errlen)
{
	if (op == NULL)
		return no_op(h, "migrate", err, errlen);
	return op(h, name, err, errlen);
}

int hv_migrate_src_commit(struct hv *h, const char *name, char *err, size_t errlen)
{
	return migrate_step(h, h->ops->migrate_src_commit, name, err, errlen);
}

int hv_migrate_src_abort(struct hv *h, const char *name, char *err, size_t errlen)
{
	return migrate_step(h, h->ops->migrate_src_abort, name, err, errlen);
}

int hv_migrate_dst_commit(struct hv *h, const char *name, char *err, size_t errlen)
{
	return migrate_step(h, h->ops->migrate_dst_commit, name, err, errlen);
}

int hv_migrate_dst_abort(struct hv *h, const char *name, char *err, size_t errlen)
{
	return migrate_step(h, h->ops->migrate_dst_abort, name, err, errlen);
}
