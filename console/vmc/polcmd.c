/* polcmd.c - `vmc policy show|set|clear` (see polcmd.h). */
#include "polcmd.h"

#include "client.h"

#include "../../lib/bus/bus.h"
#include "../../lib/core/evloop.h"
#include "../../lib/cluster/policy.h"
#include "../../lib/bus/topic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLCMD_MAX_TEXT 65536

static const char *pstr(const cJSON *o, const char *k, const char *dflt)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : dflt;
}

/* --- show ------------------------------------------------------------------------ */

static void polcmd_on_message(struct client *c, const char *rest, const cJSON *msg, void *ud)
{
	cJSON **out = ud;
	if (strcmp(rest, "policy") != 0)
		return;
	cJSON_Delete(*out);
	*out = cJSON_Duplicate(msg, 1);
}

static void polcmd_print(const cJSON *msg)
{
	struct policy p;
	char err[512];
	const cJSON *f;
	int bad = policy_parse(msg, &p, err, sizeof(err)) < 0;
	printf("mode:     %s\n", pstr(msg, "mode", "(none: the rules files decide)"));
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(msg, "settings"))
	{
		char *v = cJSON_IsString(f) ? NULL : cJSON_PrintUnformatted(f);
		printf("setting:  %s = %s\n", f->string, v ? v : f->valuestring);
		free(v);
	}
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(msg, "windows"))
	    printf("window:   %s %s: %s\n", pstr(f, "during", "?"), pstr(f, "days", "daily"),
	           pstr(f, "mode", "?"));
	const cJSON *ts = cJSON_GetObjectItem(msg, "ts");
	char when[32] = "?";
	if (cJSON_IsNumber(ts)) {
		time_t t = (time_t)(ts->valuedouble / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	printf("set by:   %s at %s\n", pstr(msg, "from", "?"), when);
	if (bad)
		printf("invalid:  %s (the agents ignore this policy)\n", err);
}

static int polcmd_show(struct client *c, int json)
{
	cJSON *msg = NULL;
	c->on_message = polcmd_on_message;
	c->ud = &msg;
	client_follow(c, "policy");
	client_snapshot(c, 0); /* its sync also covers the policy subscription */
	c->on_message = NULL;
	if (json) {
		char *t = msg ? cJSON_Print(msg) : NULL;
		printf("%s\n", t ? t : "null");
		free(t);
	} else if (!msg) {
		printf("no cluster policy: each host's rules file decides\n");
	} else {
		polcmd_print(msg);
	}
	cJSON_Delete(msg);
	return 0;
}

/* --- set and clear ------------------------------------------------------------------- */

/* Reads ARG's text: "-" standard input, JSON text as it is, else a file. NULL with err. */
static char *polcmd_read(const char *arg, char *err, size_t errlen)
{
	if (arg[strspn(arg, " \t\n")] == '{')
		return strdup(arg);
	FILE *f = strcmp(arg, "-") == 0 ? stdin : fopen(arg, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", arg, strerror(errno));
		return NULL;
	}
	char *text = malloc(POLCMD_MAX_TEXT + 1);
	size_t n = text ? fread(text, 1, POLCMD_MAX_TEXT + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (!text || n > POLCMD_MAX_TEXT) {
		snprintf(err, errlen, "%s: larger than %d bytes", arg, POLCMD_MAX_TEXT);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/* Blanks the lines whose first non-blank character is '#' (comments), in place. */
static void polcmd_strip_comments(char *text)
{
	for (char *line = text; *line;) {
		char *end = strchr(line, '\n');
		char *first = line + strspn(line, " \t");
		if (*first == '#')
			memset(line, ' ', (size_t)((end ? end : line + strlen(line)) - line));
		if (!end)
			break;
		line = end + 1;
	}
}

/* The message to publish: the envelope, then ARG's members but v, from and ts. */
static cJSON *polcmd_build(struct client *c, const char *arg, char *err, size_t errlen)
{
	char *text = polcmd_read(arg, err, errlen);
	if (!text)
		return NULL;
	polcmd_strip_comments(text);
	const char *end = NULL;
	cJSON *in = cJSON_ParseWithOpts(text, &end, 1);
	if (!cJSON_IsObject(in)) {
		snprintf(err, errlen, "%s: expected a JSON object%s%.20s", arg,
		         in ? "" : ", the error is near: ",
		         in    ? ""
		         : end ? end
		               : "");
		cJSON_Delete(in);
		free(text);
		return NULL;
	}
	free(text);
	cJSON *msg = msg_new(c->sender, evloop_wall_ms());
	for (cJSON *f = in->child; f; f = f->next)
		if (strcmp(f->string, "v") && strcmp(f->string, "from") && strcmp(f->string, "ts"))
			cJSON_AddItemToObject(msg, f->string, cJSON_Duplicate(f, 1));
	cJSON_Delete(in);
	struct policy p;
	char why[512];
	if (policy_parse(msg, &p, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		cJSON_Delete(msg);
		return NULL;
	}
	return msg;
}

/* Publishes text retained on the policy topic and waits for the broker's acknowledgement. */
static int polcmd_publish(struct client *c, const char *text)
{
	char topic[VMC_TOPIC_MAX];
	topic_fmt(topic, sizeof(topic), c->opts.cluster, "policy");
	if (bus_publish(c->bus, topic, text, strlen(text), 1, 1) < 0 ||
	    bus_flush(c->bus, (long)(c->opts.timeout_s * 1000)) < 0) {
		c->fail = CLIENT_FAIL_NO_REPLY;
		fprintf(stderr,
		        "vmc: the broker did not acknowledge the policy on %s within %g s\n", topic,
		        c->opts.timeout_s);
		return client_fail_status(c);
	}
	if (c->refused) {
		c->fail = CLIENT_FAIL_DENIED;
		fprintf(stderr, "vmc: %s\n", c->why);
		return client_fail_status(c);
	}
	return 0;
}

static int polcmd_set(struct client *c, const char *arg, int json)
{
	char err[600];
	cJSON *msg = polcmd_build(c, arg, err, sizeof(err));
	if (!msg) {
		fprintf(stderr, "vmc: policy: %s (nothing published)\n", err);
		return 2;
	}
	char *text = cJSON_PrintUnformatted(msg);
	int rc = text ? polcmd_publish(c, text) : 2;
	if (rc == 0 && json)
		printf("%s\n", text);
	else if (rc == 0)
		polcmd_print(msg);
	free(text);
	cJSON_Delete(msg);
	return rc;
}

int polcmd_run(struct client *c, const char *verb, const char *arg, int json)
{
	if (strcmp(verb, "show") == 0)
		return polcmd_show(c, json);
	if (strcmp(verb, "set") == 0 && arg)
		return polcmd_set(c, arg, json);
	if (strcmp(verb, "clear") == 0) {
		int rc = polcmd_publish(c, "");
		if (rc == 0 && !json)
			printf("policy cleared: each host's rules file decides\n");
		return rc;
	}
	fprintf(stderr, "usage: vmc policy show | set FILE|-|JSON | clear\n");
	return 2;
}
