/* rules.h - the rules file of vmcluster-rules(5): parser and evaluator. Pure.
 *
 *   # comment
 *   set high 80%                      # a setting (see rules_setting_names)
 *   rule overload {
 *           when cpu > high for hold  # condition held for a duration
 *           until cpu < low for hold  # hysteresis: the rule stays active until this holds
 *           during 22:00-06:00 mon-fri  # time windows, local time (repeatable)
 *           do balance                # balance | consolidate | evacuate | alert "msg" [webhook
 * "url"]
 *   }
 *
 * Conditions compare metrics with numbers (80, 80%, 2G, 512M) or settings
 * (high, low, ...) and combine with and / or / not / parentheses. Host metrics:
 * cpu, mem_used, mem_free (MiB, or percent with a % value), vms. Guest metrics
 * (guest.cpu, guest.steal, guest.load1, guest.mem_used) make a rule per VM:
 * it holds for each VM on its own. Cluster metrics: cluster.cpu,
 * cluster.mem_used, cluster.hosts. Errors read "FILE:LINE:COL: expected ..."
 * and every one is reported. */
#ifndef VMC_RULES_H
#define VMC_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "../bus/msg.h"

enum rule_action {
	RULE_BALANCE = 0,
	RULE_CONSOLIDATE,
	RULE_EVACUATE,
	RULE_ALERT,
	RULE_ACTION__COUNT
};
#define RULE_MASK(a) (1u << (a))
/* "balance", "consolidate", "evacuate", "alert"; NULL if out of range. */
const char *rule_action_name(enum rule_action a);

/* Settings a rules file may set ("set NAME VALUE") and a policy may override. */
struct rule_settings {
	double high;             /* host cpu % above which a host is overloaded (80) */
	double low;              /* host cpu % under which it is no longer (70) */
	int64_t hold_ms;         /* how long a condition must hold (30 s) */
	double margin;           /* % of host cpu a move must gain (5) */
	double saturated;        /* host cpu % at which use stops showing demand (95) */
	double consolidate_max;  /* consolidation fills destinations up to this % (70) */
	double night_cpu;        /* cluster cpu % under which the night rule consolidates (30) */
	int64_t cooldown_ms;     /* a moved VM stays put at least this long (10 min) */
	int moves_per_hour;      /* moves of one VM in any hour (3) */
	int host_migrations;     /* concurrent outgoing migrations per host (2) */
	int cluster_migrations;  /* concurrent migrations in the cluster (8) */
	int batch;               /* VMs accepted from one offer (8) */
	int64_t mem_reserve_mb;  /* memory kept free for the hypervisor (512 MiB) */
	int64_t offer_window_ms; /* how long a requester collects offers (1 s) */
	int64_t reservation_ms;  /* how long an offer's reservation lives (5 s) */
	int64_t settle_ms;       /* wait after migrations before asking again (10 s) */
	int64_t manual_hold_ms;  /* a VM moved by hand stays put this long (30 min) */
};
void rule_settings_default(struct rule_settings *s);
/* Sets one setting from its text, as in a rules file. Returns 0, or -1 with
 * "NAME: expected ..." in err (unknown name or bad value). */
int rule_settings_set(struct rule_settings *s, const char *name, const char *value, char *err,
                      size_t errlen);
/* A space-separated list of the setting names, for messages and docs. */
const char *rule_settings_names(void);

struct rules; /* opaque: parsed rules and settings */

/* Parses a rules file's text; file names it in errors. Returns the number of errors:
 * 0 with *out set, or > 0 with every error, one per line, in err (*out NULL). */
int rules_parse(const char *text, const char *file, struct rules **out, char *err, size_t errlen);
/* The built-in rules used when there is no file (see vmcluster-rules(5)). Never NULL. */
struct rules *rules_default(void);
/* The text of the built-in rules. */
const char *rules_default_text(void);
void rules_free(struct rules *r);

size_t rules_count(const struct rules *r);
/* Name and action of rule i; NULL / -1 if out of range. */
const char *rules_name(const struct rules *r, size_t i);
int rules_action(const struct rules *r, size_t i);
/* Alert text and webhook URL of rule i ("" if none). */
const char *rules_alert_message(const struct rules *r, size_t i);
const char *rules_alert_webhook(const struct rules *r, size_t i);
/* The settings as the file left them (defaults for those it did not set). */
const struct rule_settings *rules_settings(const struct rules *r);

/* --- time windows (shared with the cluster policy) ------------------------ */
struct rule_window {
	int start_min,
	    end_min;   /* minutes after local midnight; end may be <= start (crosses midnight) */
	unsigned days; /* bit 0 = Sunday .. bit 6 = Saturday: the day the window starts */
};
/* Parses "HH:MM-HH:MM" and optional days ("mon-fri", "sat,sun", "daily").
 * Returns 0, or -1 with "expected ..." in err. */
int rule_window_parse(const char *span, const char *days, struct rule_window *w, char *err,
                      size_t errlen);
/* 1 if local time (ms since the epoch + utc offset) falls inside the window. */
int rule_window_contains(const struct rule_window *w, int64_t now_ms, long utc_offset_s);

/* --- evaluation (rule_eval.c) --------------------------------------------- */
struct rule_guest {
	const char *vm;
	int known;    /* 0: no guest agent figures (guest terms are false) */
	double cpu;   /* % of its vcpus */
	double steal; /* % of one CPU */
	double load1;
	double mem_used_mb, mem_total_mb;
};

struct rule_sample {
	double cpu; /* host cpu, % of the whole host */
	double mem_total_mb, mem_used_mb, mem_free_mb;
	int vms;
	double cluster_cpu;      /* mean cpu % of the online hosts */
	double cluster_mem_used; /* % of the online hosts' memory */
	int cluster_hosts;       /* online hosts */
	const struct rule_guest *guests;
	size_t nguests;
};

/* A rule turning on or off for a subject (the host, or one VM for guest rules). */
struct rule_edge {
	size_t rule;
	int on;                         /* 1: became active; 0: cleared */
	char subject[VMC_NAME_MAX + 1]; /* "" for the host */
};

struct rule_eval;
/* An evaluator for one host's rules, with settings that may differ from the file's
 * (a policy's overrides); settings NULL means the file's. Never NULL. */
struct rule_eval *rule_eval_new(const struct rules *r, const struct rule_settings *settings,
                                long utc_offset_s);
void rule_eval_free(struct rule_eval *e);
/* Replaces the settings and the utc offset; rule states are kept. */
void rule_eval_configure(struct rule_eval *e, const struct rule_settings *settings,
                         long utc_offset_s);
/* Disables (mask bit set) or enables actions; disabled rules are reset to inactive. */
void rule_eval_disable(struct rule_eval *e, unsigned action_mask);
/* Feeds one sample taken at now_ms (virtual wall clock). Returns the mask of actions
 * with at least one active rule. Writes up to max edges (rules turning on/off) into
 * edges and their number into *nedges (edges beyond max are dropped). */
unsigned rule_eval_step(struct rule_eval *e, int64_t now_ms, const struct rule_sample *s,
                        struct rule_edge *edges, size_t max, size_t *nedges);
/* 1 if rule i is active for any subject. */
int rule_eval_active(const struct rule_eval *e, size_t i);
/* Expands {host}, {vm}, {rule} in an alert message into out. Returns out. */
char *rule_alert_format(const char *msg, const char *host, const char *vm, const char *rule,
                        char *out, size_t outlen);

#endif
