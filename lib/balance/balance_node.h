/* balance_node.h - one host's balancer: its rules, its side of the protocol and
 * its decisions, as a state machine. Pure: driven by (now, input) calls; what it
 * wants done comes out as a list of outputs the host agent carries out
 * (publish on balance/<topic> or event, start a migration, run a hook).
 *
 * As a requester (its balance, consolidate or evacuate rule is active): asks for
 * help with its candidates, collects offers for offer_window, accepts the best,
 * releases the others, queues the migrations (host_migrations at a time), waits
 * `settle` after they end, and asks again; with no acceptable offer it backs off
 * (doubling, up to 5 minutes) and may power on a standby host.
 * As an offerer (online, not asking itself): answers requests it can help with an
 * offer and a reservation; its own view counts every promise, so it never offers
 * the same capacity twice.
 * Advise mode (agent setting, or policy mode "advise"): decisions are published as
 * balance.decision events and nothing moves. */
#ifndef VMC_BALANCE_NODE_H
#define VMC_BALANCE_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "balance.h"
#include "balance_proto.h"
#include "../cluster/policy.h"
#include "rules.h"

enum bn_topic { BN_HELP = 0, BN_OFFER, BN_ACCEPT, BN_RELEASE, BN_TOPIC__COUNT };
/* "help", "offer", "accept", "release" (the topic is balance/<name>). */
const char *bn_topic_name(enum bn_topic t);
/* The topic for a name, or -1. */
int bn_topic_parse(const char *name);

enum bn_out_kind { BN_PUBLISH = 0, BN_EVENT, BN_MIGRATE, BN_HOOK };
enum bn_hook { BN_HOOK_POWER_OFF = 0, BN_HOOK_POWER_ON };

struct bn_out {
	enum bn_out_kind kind;
	enum bn_topic topic; /* BN_PUBLISH */
	cJSON *msg;          /* BN_PUBLISH, BN_EVENT: the whole message */
	char vm[VMC_NAME_MAX + 1];
	char host[VMC_NAME_MAX + 1]; /* BN_MIGRATE: destination; BN_HOOK: the host concerned */
	enum bn_hook hook;
};

struct reservations; /* lib/cluster/reserve_promise.h */

struct bn_config {
	const char *host;
	const struct rules *rules; /* borrowed; must outlive the node */
	long utc_offset_s;
	int advise;             /* advise only: never migrate */
	int64_t accept_ttl_ms;  /* how long an accepted promise waits for its VM; 0: 10 min */
	int64_t backoff_max_ms; /* 0: 5 min */
	/* floors for offer_window and reservation (virtual ms): with a fast virtual clock the
	 * bus's real latency must still fit in them */
	int64_t min_offer_window_ms, min_reservation_ms;
	/* how long a promise outlasts its VM's arrival while the VM's measured use has not
	 * caught up (virtual ms; a few of the driver's sample windows); 0: 60 s */
	int64_t arrival_hold_ms;
	/* the table its offers' promises are kept in (lib/cluster/reserve_promise.h; a host
	 * agent's one table of reservations), borrowed: it must outlive the node; NULL: the
	 * node keeps a table of its own */
	struct reservations *resv;
};

struct bnode;

struct bnode *bn_new(const struct bn_config *cfg);
void bn_free(struct bnode *n);
/* Applies a cluster policy from now on (NULL removes it). */
void bn_set_policy(struct bnode *n, const struct policy *p);
void bn_set_utc_offset(struct bnode *n, long utc_offset_s);
/* Replaces the rules (borrowed, like bn_config's; the old ones may be freed after the
 * call). The rules' timers start again: a rule must hold anew for its duration. */
void bn_set_rules(struct bnode *n, const struct rules *rules);

/* A new load sample of this host: v is the cluster as last seen (this host included,
 * by name), guests the figures of its guest agents. Runs the rules and, if one asks
 * for it, the requester. */
void bn_sample(struct bnode *n, int64_t now, const struct bal_view *v,
               const struct rule_guest *guests, size_t nguests);
/* A message from balance/<topic>/<sender>. Invalid messages are dropped (see
 * bn_last_error), and so is one that speaks for a host other than sender (a help or an
 * accept whose requester, an offer whose offerer, a release whose releasing side is not
 * sender); sender NULL checks nothing (an in-memory bus). */
void bn_message(struct bnode *n, int64_t now, enum bn_topic topic, const char *sender,
                const cJSON *msg, const struct bal_view *v);
/* Timers: the end of an offer window, reservation expiry, queued migrations, a request
 * held back by the back-off or the settling time. Call at bn_next_deadline() (after
 * every call into the node, which may change it), or at least every 100 ms of virtual
 * time. */
void bn_tick(struct bnode *n, int64_t now, const struct bal_view *v);
/* The earliest virtual time bn_tick has something to do, or INT64_MAX (nothing until
 * the next sample or message). */
int64_t bn_next_deadline(const struct bnode *n);
/* The bus connection came back (after a broker restart, say): failures seen while it
 * was away say nothing of the other hosts, so the requester's back-off and the
 * destinations avoided are forgotten and the node may ask again at once. */
void bn_reconnected(struct bnode *n);
/* The migration of vm to `to` that this node asked for has ended. */
void bn_migration_done(struct bnode *n, int64_t now, const char *vm, const char *to, int ok);

/* Takes the outputs produced so far (malloc'ed array, or NULL when none). */
size_t bn_take(struct bnode *n, struct bn_out **out);
void bn_outs_free(struct bn_out *o, size_t n);

/* The actions active after the last sample (RULE_MASK bits) and the mode in force. */
unsigned bn_actions(const struct bnode *n);
enum policy_mode bn_mode(const struct bnode *n);
/* The settings in force (the rules file with the policy's overrides). */
const struct rule_settings *bn_settings(const struct bnode *n);
/* The last message dropped as invalid, or "". */
const char *bn_last_error(const struct bnode *n);

#endif
