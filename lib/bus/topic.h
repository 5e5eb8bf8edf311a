/* topic.h - the topic tree: every topic is "vmc/<cluster>/<rest>". Pure.
 *
 *   host/<host>/state   retained birth; the Last Will turns it offline
 *   host/<host>/load    retained, periodic: host figures and all its VMs
 *   host/<host>/vm/<vm> retained inventory record, by the host that runs the VM
 *   guest/<vm>/load     guest agent figures
 *   cmd/host/<host>     commands for a host agent; cmd/confd for the config agent
 *   reply/<client>      replies to clients that speak MQTT 3.1.1
 *   event/<sender>      what happened, e.g. event/host/h1, event/confd
 *   balance/<kind>/<host>          help, offer, accept, release, from <host>
 *   balance/peer/<target>/<host>   a peer request from <host> to <target>
 *   policy              retained cluster policy
 *
 * Every topic a host or guest writes names the sender, so that the broker's ACL can
 * let each credential write only its own (see vmcluster-protocol(7)); readers check
 * that the envelope's "from" is the sender the topic names (topic_check_sender). */
#ifndef VMC_TOPIC_H
#define VMC_TOPIC_H

#include <stddef.h>

/* Formats "vmc/<cluster>/" followed by printf(fmt, ...). Returns 0, or -1 if it does not fit. */
int topic_fmt(char *buf, size_t len, const char *cluster, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* If topic is under "vmc/<cluster>/", returns the rest; else NULL. */
const char *topic_rest(const char *topic, const char *cluster);

/* Copies segment `index` (0-based, '/'-separated) of s into out. Returns 0, or -1 if absent
 * or too long. */
int topic_segment(const char *s, int index, char *out, size_t len);

/* MQTT filter matching ('+' and '#'). Returns 1 on match. */
int topic_matches(const char *filter, const char *topic);

/* 1 if rest (the topic after vmc/<cluster>/) is an event topic: "event" or "event/...". */
int topic_is_event(const char *rest);
/* The sender a topic speaks for ("host/h1" for host/h1/..., balance/<kind>/h1 and
 * balance/peer/<target>/h1; "guest/web1" for guest/web1/...; "<sender>" for
 * event/<sender>), into buf. Returns 1, or 0 if the topic names no sender. */
int topic_sender(const char *rest, char *buf, size_t len);
/* 0 if msg's envelope "from" is the sender rest names (or rest names none); -1 with err
 * otherwise: the message speaks for someone else and is to be ignored. On event/host/<h>
 * the event's "host" must be <h> (a migration event's "from" names its source). */
struct cJSON;
int topic_check_sender(const char *rest, const struct cJSON *msg, char *err, size_t errlen);

#endif
