/* model.c - the agent's one cluster model (lib/cluster/cluster_model.c): the other hosts'
 * (and its own) host/<h>/state, host/<h>/summary and host/<h>/vm/<vm> records, applied
 * once here before any module reads the message. The balancer builds its view from it
 * (lib/cluster/balance_view.c), the migrations check destinations against it and hold
 * memory there in h->resv (lib/cluster/reserve.c), drain and HA read where each VM is.
 * Its clock is the monotonic one (evloop_mono_ms). */
#include "hostd.h"
#include "migrate/migrate.h"

#include "../../lib/cluster/cluster_model.h"
#include "../../lib/cluster/reserve.h"
#include "../../lib/core/evloop.h"
#include "../../lib/core/log.h"
#include "../../lib/bus/topic.h"

#include <string.h>

int hostd_model_start(struct hostd *h)
{
	h->model = cluster_model_new(1);
	h->resv = reserve_new();
	cluster_model_keep_records(h->model);
	return 0;
}

void hostd_model_stop(struct hostd *h)
{
	reserve_free(h->resv);
	cluster_model_free(h->model);
	h->resv = NULL;
	h->model = NULL;
}

/* A retained record of ours for a VM we do not have (it left while we were down, or
 * before a restart): cleared, or peers would count it here for ever. 1 if it was. */
static int stale_own_record(struct hostd *h, struct hostd_msg *m)
{
	char host[VMC_NAME_MAX + 1], vm[VMC_NAME_MAX + 1];
	if (!m->raw->len || !m->raw->retain || topic_segment(m->rest, 1, host, sizeof(host)) < 0 ||
	    strcmp(host, h->opts.name) != 0 || topic_segment(m->rest, 3, vm, sizeof(vm)) < 0 ||
	    mig_vm_lookup(h, vm, NULL, NULL, 0) != 0)
		return 0;
	log_info("vm %s: clearing our stale record (the VM is not here)", vm);
	hostd_publish_vm_gone(h, vm);
	return 1;
}

void hostd_model_message(struct hostd *h, struct hostd_msg *m)
{
	int rec = topic_matches("host/+/vm/+", m->rest);
	char err[VMC_ERR_MAX];
	if (!rec && !topic_matches("host/+/state", m->rest) &&
	    !topic_matches("host/+/summary", m->rest))
		return;
	const cJSON *o = m->raw->len ? hostd_msg_json(m) : NULL;
	if (m->raw->len && !o)
		return; /* malformed, or speaking for another sender (main.c logs it) */
	if (rec && stale_own_record(h, m))
		return;
	int64_t now = evloop_mono_ms();
	if (cluster_model_apply_json(h->model, m->rest, o, m->raw->retain, now, err, sizeof(err)) <
	    0)
		ratelog_warn(&h->model_bad, now, "%s: %s (ignored)", m->rest, err);
}
