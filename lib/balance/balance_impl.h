/* balance_impl.h - what balance.c and balance_plan.c share. Private. */
#ifndef VMC_BALANCE_IMPL_H
#define VMC_BALANCE_IMPL_H

#include "balance.h"

#define BAL_EPS 1e-9
/* a plan's copy of a VM whose fixed demand is an upper bound */
#define BAL_VM_UNKNOWN_ 0x100u

/* A destination as the move rules see it. */
struct bal_dst {
	const char *name;
	double load; /* %, promises included */
	int cpus;
	int64_t room_mb;         /* memory a VM can still get */
	const char *const *anti; /* anti-affinity groups it runs or expects */
	size_t nanti;
};

/* Fills d for host h; anti must hold h->nvms pointers (it is where d->anti points). */
void bal_dst_of(const struct bal_host *h, const struct rule_settings *s, const char **anti,
                struct bal_dst *d);

/* The candidates of req that destination d can take, in order, whole affinity groups,
 * at most batch VMs (a larger group alone is allowed), under the mode's rules.
 * Fills out and returns out->n. */
size_t bal_take_units(const struct bal_dst *d, const struct bal_request *req,
                      const struct rule_settings *s, double target, int batch,
                      struct bal_take *out);

/* The balance-mode CPU rule for moving cpu (% of one CPU) from a source at src (cpus_s)
 * to a destination at dst (cpus_d). Returns 1 if allowed. */
int bal_move_ok(double src, int cpus_s, double dst, int cpus_d, double cpu, double target,
                double margin);

/* 1 if the VM may move in this mode at now (flags, cooldown, moves per hour). */
int bal_vm_movable(const struct bal_vm *vm, enum bal_mode mode, int64_t now,
                   const struct rule_settings *s);

/* Sorts candidates for the mode (balance: demand desc; others: memory desc). */
void bal_cands_sort(struct bal_cand *c, size_t n, enum bal_mode mode);

#endif
