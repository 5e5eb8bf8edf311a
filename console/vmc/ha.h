/* ha.h - `vmc ha`: which VMs restart elsewhere when their host dies, what each host
 * sees of the others, the plan if a host died now; protecting a VM or not. */
#ifndef VMC_HA_CLI_H
#define VMC_HA_CLI_H

struct client;

/* `vmc ha status [HOST]`, `vmc ha enable VM`, `vmc ha disable VM`; host: --host or NULL.
 * Returns vmc's exit status (2 for a usage error). */
int ha_run(struct client *c, const char *host, int argc, char **argv, int json);

#endif
