/* polcmd.h - `vmc policy show|set|clear`: the retained cluster policy on
 * vmc/CLUSTER/policy (see vmcluster-rules(5), CLUSTER POLICY). */
#ifndef VMC_POLCMD_H
#define VMC_POLCMD_H

struct client;

/* Runs `policy VERB [ARG]`: show prints the policy in force (json: the message), set checks
 * ARG (a file, "-" for standard input, or JSON text; '#' lines are comments), adds the
 * envelope and publishes it retained, clear removes it. Returns vmc's exit status: 0; 2 bad
 * usage or a policy that does not check (nothing published); 3 the broker did not
 * acknowledge; 5 the broker refused the publish. */
int polcmd_run(struct client *c, const char *verb, const char *arg, int json);

#endif
