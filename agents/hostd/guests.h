/* guests.h - the latest guest-agent figures of each VM, for the host agent to attach to
 * its VM records (the "guest" object) and for rules to read. Pure.
 *
 * Fed from guest/<vm>/load messages. A VM's figures are dropped once they are older than
 * three of its own publishing intervals (at least GUESTS_MIN_AGE_MS), so a guest agent
 * that stops makes its figures disappear instead of freezing. */
#ifndef VMC_GUESTS_H
#define VMC_GUESTS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define GUESTS_MIN_AGE_MS 10000
#define GUESTS_MAX 65536

/* Which figures a message carried. */
enum {
	GUEST_HAS_CPU = 1 << 0,
	GUEST_HAS_STEAL = 1 << 1,
	GUEST_HAS_MEM = 1 << 2,
	GUEST_HAS_LOAD = 1 << 3,
	GUEST_HAS_DISK = 1 << 4,
	GUEST_HAS_UPTIME = 1 << 5,
};

struct guest_figures {
	unsigned has;
	double cpu;   /* % of the guest's vcpus */
	double steal; /* % of one CPU */
	int vcpus;    /* 0 if not given */
	int64_t mem_total_mb, mem_used_mb;
	double load1, load5, load15;
	double disk_used_pct;
	double uptime_s;
	uint64_t seq;
	int64_t seen_ms; /* receiver's clock */
	int64_t gap_ms;  /* between the last two messages */
};

struct guests;

struct guests *guests_new(void);
void guests_free(struct guests *g);

/* Records a guest/<vm>/load payload received at now_ms. Returns 0, or -1 with err naming the
 * bad field (the previous figures stay). */
int guests_on_load(struct guests *g, const char *vm, const void *payload, size_t len,
                   int64_t now_ms, char *err, size_t errlen);
/* The figures of vm if fresh at now_ms, else NULL. */
const struct guest_figures *guests_get(const struct guests *g, const char *vm, int64_t now_ms);
/* The figures of vm as a new JSON object (cpu, steal, mem_used_mb, load1, ...), or NULL. */
cJSON *guests_json(const struct guests *g, const char *vm, int64_t now_ms);
void guests_forget(struct guests *g, const char *vm);
/* Drops every VM whose figures are stale at now_ms. Returns how many. */
size_t guests_prune(struct guests *g, int64_t now_ms);
size_t guests_count(const struct guests *g);
/* The rate limit of this table's warnings about bad guest reports. */
struct ratelog *guests_ratelog(struct guests *g);

/* --- the host agent's use of it (hostd_guests.c) ---------------------------------
 * vmc-hostd calls hostd_guests_start once before its loop, hands every message on
 * guest/+/load to hostd_guests_message, and calls hostd_guests_stop at exit. It reads
 * guest/<vm>/load only for the VMs it has: publish.c calls hostd_guests_follow (hostd.h)
 * with the VMs of each sample, and picks the figures up through hostd_guest_json. */
struct hostd;
struct bus_msg;
/* Returns 0, or -1 if out of memory. */
int hostd_guests_start(struct hostd *h);
void hostd_guests_message(struct hostd *h, const struct bus_msg *m);
void hostd_guests_stop(struct hostd *h);
/* The "guest" object of a VM record, or NULL if no fresh figures. */
cJSON *hostd_guest_json(struct hostd *h, const char *vm);
/* The figures of a VM for the rule engine, or NULL. */
const struct guest_figures *hostd_guest_figures(struct hostd *h, const char *vm);

#endif
