/* plan.c - the plan view's moves, read from a host agent's balance.plan reply by the
 * reader vmc shares (lib/balance/plan_reply.h). */
#include <stdio.h>
#include <stdlib.h>

#include "vmtop.h"

void plan_clear(struct plan *p)
{
	free(p->moves);
	p->moves = NULL;
	p->n = 0;
}

int plan_parse(struct plan *p, const cJSON *result, char *err, size_t errlen)
{
	struct plan_reply r;
	if (plan_reply_parse(&r, result, err, errlen) < 0)
		return -1;
	plan_clear(p);
	p->moves = r.moves; /* kept: the rest of the reply is said in about */
	p->n = r.n;
	r.moves = NULL;
	snprintf(p->about, sizeof(p->about), "%s", r.about);
	plan_reply_clear(&r);
	return 0;
}
