/* hold.h - vmc's side of manual moves: the overload check before `vmc migrate`, the
 * hold it reports, and `vmc release`. */
#ifndef VMC_HOLD_H
#define VMC_HOLD_H

#include <stddef.h>

#include "client.h"

/* 1 if moving vm from `from` to `to` would put `to` over its overload threshold (its
 * balance.status "high"), with msg saying so; 0 if not, or if the snapshot lacks the
 * figures. Needs client_snapshot first. */
int hold_move_overloads(struct client *c, const char *vm, const char *from, const char *to,
                        char *msg, size_t len);
/* Prints that vm is held on host until until_ms (virtual ms). */
void hold_print_until(const char *vm, const char *host, double until_ms);

#endif
