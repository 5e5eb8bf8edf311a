/* progress.h - vmc's long commands (migrate, drain, undrain): send the command, print
 * the migrations' events while the reply is awaited, then report the result. */
#ifndef VMC_PROGRESS_H
#define VMC_PROGRESS_H

#include <cjson/cJSON.h>

struct client;

/* Which events to show: those of one VM, those leaving a host, or those reaching one. */
enum progress_filter { PROGRESS_VM, PROGRESS_FROM, PROGRESS_TO };

struct progress_call {
	const char *target; /* "cmd/host/H" */
	const char *op;
	cJSON *args; /* ownership passes */
	enum progress_filter filter;
	const char *match; /* the VM or host name the filter compares */
	int json;          /* print the result as JSON (progress goes to stderr then) */
};

/* Runs the call. Returns vmc's exit status: 0 done, 1 the agent answered with an error,
 * 3 no reply in time. */
int progress_run(struct client *c, struct progress_call *pc);

#endif
