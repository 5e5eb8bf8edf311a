/* topic.h - the topic tree: every topic is "vmc/<cluster>/<rest>". Pure.
 *
 *   host/<host>/state   retained birth; the Last Will turns it offline
 *   host/<host>/load    retained, periodic: host figures and all its VMs
 *   vm/<vm>             retained inventory record
 *   guest/<vm>/load     guest agent figures
 *   cmd/host/<host>     commands for a host agent; cmd/confd for the config agent
 *   reply/<client>      replies to clients that speak MQTT 3.1.1
 *   event               what happened
 *   balance/<kind>      help, offer, accept, release
 *   policy              retained cluster policy
 */
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

#endif
