/* loadmsg.h - a host/<h>/load message as vmc-hostd publishes it, for the benches.
 *
 * The fields and their order follow agents/hostd/publish.c (hostd_publish_load,
 * hostd_host_json, hostd_vm_json) for a sim host whose VMs have no I/O counters,
 * no tags and no guest agent: the common case, and the message the bus carries
 * once a second per host. Included by tests/bench/codec.c and bench_loadgen.c. */
#ifndef VMC_BENCH_LOADMSG_H
#define VMC_BENCH_LOADMSG_H

#include <stdint.h>
#include <stdio.h>

#include "../../lib/bus/msg.h"

/* Builds the load message of host `host` with `nvms` running VMs named <host>-vmNNN
 * (2 vcpus, 1 GiB, CPU figures that vary with seq). Never NULL; free with cJSON_Delete. */
static inline cJSON *loadmsg_build(const char *host, int nvms, uint64_t seq, int64_t ts_ms)
{
	char sender[VMC_NAME_MAX + 8], name[VMC_NAME_MAX + 16];
	snprintf(sender, sizeof sender, "host/%s", host);
	cJSON *m = msg_new(sender, ts_ms);
	msg_set_seq(m, seq);
	double used = 0;
	cJSON *vms = cJSON_CreateArray();
	for (int i = 0; i < nvms; i++) {
		/* a figure with many digits, as the sim's averages have */
		double cpu =
		    50.0 * (double)((seq * 7919u + (uint64_t)i * 104729u) % 20011u) / 20011.0;
		used += cpu / 100.0;
		snprintf(name, sizeof name, "%s-vm%03d", host, i + 1);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "host", host);
		cJSON_AddStringToObject(o, "state", "running");
		cJSON_AddNumberToObject(o, "vcpus", 2);
		cJSON_AddNumberToObject(o, "mem_mb", 1024);
		cJSON_AddNumberToObject(o, "cpu", cpu);
		cJSON_AddItemToObject(o, "tags", cJSON_CreateArray());
		cJSON_AddItemToArray(vms, o);
	}
	const int cpus = 128;
	const double total = 262144, vmmem = 1024.0 * nvms;
	cJSON_AddStringToObject(m, "name", host);
	cJSON_AddStringToObject(m, "state", "online");
	cJSON_AddStringToObject(m, "driver", "sim");
	cJSON_AddNumberToObject(m, "cpus", cpus);
	cJSON_AddNumberToObject(m, "cpu", 100.0 * used / cpus);
	cJSON_AddNumberToObject(m, "mem_total_mb", total);
	cJSON_AddNumberToObject(m, "mem_used_mb", vmmem);
	cJSON_AddNumberToObject(m, "mem_free_mb", total - vmmem);
	cJSON_AddNumberToObject(m, "migrations_out", 0);
	cJSON_AddNumberToObject(m, "migrations_in", 0);
	cJSON_AddStringToObject(m, "version", "sim 1");
	cJSON_AddItemToObject(m, "vms", vms);
	return m;
}

#endif
