/* plan_reply.h - reads a host agent's balance.plan reply (the balancing dry run) into
 * moves, for every program that shows one (vmc plan, the console's plan view). Pure.
 *
 * The format is the balancing engine's; the reader is lenient: each move needs vm (or
 * name), from and to; its before/after loads are shown however they come (numbers,
 * strings, objects of host: load, or the from_/to_ pairs), and every other field is
 * kept as "key=value" details. A result is an array of moves, or an object with
 * "moves" (or "plan") holding one beside the plan's other fields (mode, emptied,
 * unplaced). */
#ifndef VMC_PLAN_REPLY_H
#define VMC_PLAN_REPLY_H

#include <stddef.h>

#include "../bus/msg.h"

struct cJSON;

struct plan_move {
	char vm[VMC_NAME_MAX + 1];
	char from[VMC_NAME_MAX + 1];
	char to[VMC_NAME_MAX + 1];
	char before[96]; /* as text: "h1 95% h2 10%" */
	char after[96];
	char details[160]; /* the other fields: "reason=balance cpu=100" */
	/* the engine's figures, 0 when absent */
	double cpu; /* % of one CPU */
	int cpu_unknown;
	double from_before, from_after, to_before, to_after;
};

struct plan_reply {
	struct plan_move *moves;
	size_t n;
	char mode[16];                     /* "" if the result does not say */
	char (*emptied)[VMC_NAME_MAX + 1]; /* hosts the plan would empty */
	size_t nemptied;
	double unplaced; /* VMs it could not place */
	char about[200]; /* the result's other fields, "mode=balance unplaced=0" */
};

/* Reads result into p (which it clears first). Returns 0, or -1 with err naming what
 * was wrong (p is then empty). */
int plan_reply_parse(struct plan_reply *p, const struct cJSON *result, char *err, size_t errlen);
void plan_reply_clear(struct plan_reply *p);

#endif
