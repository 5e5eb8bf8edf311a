/* commands_host.c - host.info and host.vms. */
#include "hostd.h"

#include <stdio.h>

static enum hostd_op_result op_info(struct hostd *h, struct hostd_req *req)
{
	char err[VMC_ERR_MAX];
	struct hv_host hi;
	cJSON *vms = hostd_vms_json(h, &hi, err, sizeof(err));
	if (!vms) {
		hostd_reply_err(h, req, VMC_E_FAILED, "%s", err);
		return HOSTD_REPLIED;
	}
	cJSON *r = hostd_host_json(h, &hi);
	cJSON_AddNumberToObject(r, "vms", cJSON_GetArraySize(vms));
	cJSON_AddNumberToObject(r, "session", (double)h->session);
	/* what the agent reads, per sample it publishes: see vmcluster-protocol(7) */
	cJSON_AddNumberToObject(r, "rx", (double)h->rx);
	cJSON_AddNumberToObject(r, "samples", (double)h->load_seq);
	cJSON_Delete(vms);
	hostd_reply_ok(h, req, r);
	return HOSTD_REPLIED;
}

static enum hostd_op_result op_vms(struct hostd *h, struct hostd_req *req)
{
	char err[VMC_ERR_MAX];
	cJSON *vms = hostd_vms_json(h, NULL, err, sizeof(err));
	if (!vms) {
		hostd_reply_err(h, req, VMC_E_FAILED, "%s", err);
		return HOSTD_REPLIED;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "vms", vms);
	hostd_reply_ok(h, req, r);
	return HOSTD_REPLIED;
}

const struct hostd_op hostd_host_ops[] = {
	{"host.info", op_info},
	{"host.vms", op_vms},
	{NULL, NULL},
};
