/* bench/codec.c - the cost of the bus codec and the command path's pure parts.
 *
 * Prints ns per operation and operations per second for: encoding a host load
 * message with 50 (and 200) VMs (msg_new and cJSON, then msg_print, or jsonbuf_print
 * into a reused buffer as vmc-hostd does, and each printer alone); parsing it
 * (msg_parse and the envelope check); parsing it into the balancer's view as the
 * host's own sample (bview_own_load); cmd_parse of a vm.create command;
 * idcache begin/finish with 4096 entries (new ids evicting old ones, and
 * repeated ids); and topic_matches. Each operation runs for about BENCH_CODEC_MS
 * milliseconds (default 300) of this thread's CPU time, which is also what the
 * figures are measured in, so that other work on the machine does not inflate
 * them (much: caches are shared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../agents/hostd/hostd.h"
#include "../../lib/cluster/balance_view.h"
#include "../../lib/bus/idcache.h"
#include "../../lib/bus/jsonbuf.h"
#include "../../lib/bus/msg.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/bus/topic.h"
#include "loadmsg.h"

#define TS 1795853808754LL
#define NIDS 16384 /* distinct ids cycled through the 4096-entry cache */

struct ctx {
	char *load50, *load200; /* printed load messages */
	size_t len50, len200;
	char *cmd;
	size_t cmdlen;
	struct idcache *ids;
	char (*idtab)[24];
	size_t next_id;
	struct bview view;
	struct cluster_model *model;
	cJSON *tree50;        /* a load message's tree, for the printers alone */
	struct jsonbuf text;  /* vmc-hostd's reused buffer */
	volatile size_t sink; /* keeps the compiler from dropping the work */
};

enum text { TEXT_NONE, TEXT_LOAD50, TEXT_LOAD200, TEXT_CMD };

typedef void op_fn(struct ctx *c, size_t i);

static void op_encode(struct ctx *c, size_t i, int nvms)
{
	cJSON *m = loadmsg_build("h0123", nvms, i + 1, TS + (int64_t)i);
	char *s = msg_print(m);
	c->sink += strlen(s);
	free(s);
	cJSON_Delete(m);
}

static void op_encode50(struct ctx *c, size_t i)
{
	op_encode(c, i, 50);
}

/* As vmc-hostd does it: the tree, then its text into the buffer kept between messages. */
static void op_encode50_jsonbuf(struct ctx *c, size_t i)
{
	cJSON *m = loadmsg_build("h0123", 50, i + 1, TS + (int64_t)i);
	c->sink += strlen(jsonbuf_print(&c->text, m));
	cJSON_Delete(m);
}

/* The printers alone, on the same tree. */
static void op_print50_cjson(struct ctx *c, size_t i)
{
	char *s = msg_print(c->tree50);
	c->sink += strlen(s);
	free(s);
}

static void op_print50_jsonbuf(struct ctx *c, size_t i)
{
	c->sink += strlen(jsonbuf_print(&c->text, c->tree50));
}

static void op_encode200(struct ctx *c, size_t i)
{
	op_encode(c, i, 200);
}

static void op_parse(struct ctx *c, const char *text, size_t len, int view)
{
	char err[VMC_ERR_MAX];
	cJSON *m;
	if (msg_parse(text, len, &m, err, sizeof err) != VMC_OK ||
	    msg_check_envelope(m, err, sizeof err) < 0 ||
	    (view && bview_own_load(&c->view, c->model, m, err, sizeof err) < 0)) {
		fprintf(stderr, "codec: %s\n", err);
		exit(1);
	}
	c->sink += (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(m, "vms"));
	cJSON_Delete(m);
}

static void op_parse50(struct ctx *c, size_t i)
{
	op_parse(c, c->load50, c->len50, 0);
}

static void op_parse200(struct ctx *c, size_t i)
{
	op_parse(c, c->load200, c->len200, 0);
}

static void op_view50(struct ctx *c, size_t i)
{
	op_parse(c, c->load50, c->len50, 1);
}

static void op_cmd(struct ctx *c, size_t i)
{
	struct vmc_cmd cmd;
	char err[VMC_ERR_MAX];
	if (cmd_parse(c->cmd, c->cmdlen, &cmd, err, sizeof err) != VMC_OK) {
		fprintf(stderr, "codec: cmd_parse: %s\n", err);
		exit(1);
	}
	c->sink += strlen(cmd.op);
	cmd_free(&cmd);
}

/* What the agent does per command: begin (a new id), then finish with the reply. */
static void op_id_new(struct ctx *c, size_t i)
{
	const char *reply;
	const char *id = c->idtab[c->next_id++ % NIDS];
	if (idcache_begin(c->ids, id, &reply) != IDCACHE_NEW) {
		fprintf(stderr, "codec: idcache: id %s not new\n", id);
		exit(1);
	}
	idcache_finish(c->ids, id, "{\"v\":1,\"id\":\"x\",\"ok\":true,\"result\":{}}");
	c->sink += idcache_count(c->ids);
}

/* A repeated id: answered from the cache. */
static void op_id_repeat(struct ctx *c, size_t i)
{
	const char *reply = NULL;
	const char *id = c->idtab[(c->next_id - 1 - i % 4096) % NIDS];
	if (idcache_begin(c->ids, id, &reply) != IDCACHE_DONE) {
		fprintf(stderr, "codec: idcache: id %s not remembered\n", id);
		exit(1);
	}
	c->sink += strlen(reply);
}

static void op_topic(struct ctx *c, size_t i)
{
	static const char *const topics[] = {
	    "vmc/default/host/h0123/load",
	    "vmc/default/host/h0123/state",
	    "vmc/default/guest/web-17/load",
	    "vmc/default/cmd/host/h0123",
	};
	const char *t = topics[i & 3];
	c->sink += (size_t)topic_matches("vmc/default/host/+/load", t) +
	           (size_t)topic_matches("vmc/default/cmd/host/h0123", t) +
	           (size_t)topic_matches("vmc/default/#", t);
}

/* CPU time of this thread: the figures hold on a machine busy with other work. */
static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs fn in growing batches until budget_ms have passed; returns ns per call. */
static double measure(struct ctx *c, op_fn *fn, double budget_ms, size_t *calls)
{
	size_t n = 0, batch = 16;
	double t0 = now_ns(), t;
	do {
		for (size_t k = 0; k < batch; k++, n++)
			fn(c, n);
		if (batch < 65536)
			batch *= 2;
		t = now_ns();
	} while (t - t0 < budget_ms * 1e6);
	*calls = n;
	return (t - t0) / (double)n;
}

static char *print_load(int nvms, size_t *len)
{
	cJSON *m = loadmsg_build("h0123", nvms, 42, TS);
	char *s = msg_print(m);
	cJSON_Delete(m);
	*len = strlen(s);
	return s;
}

int main(void)
{
	static const struct {
		const char *name;
		op_fn *fn;
		int ops_per_call; /* topic_matches: 3 matches per call */
		enum text text;   /* the text an operation reads or writes, for MB/s */
	} ops[] = {
	    {"load encode, 50 VMs (msg_new+cJSON+print)", op_encode50, 1, TEXT_LOAD50},
	    {"load encode, 50 VMs (cJSON+jsonbuf)", op_encode50_jsonbuf, 1, TEXT_LOAD50},
	    {"  print alone: cJSON_PrintUnformatted", op_print50_cjson, 1, TEXT_LOAD50},
	    {"  print alone: jsonbuf_print", op_print50_jsonbuf, 1, TEXT_LOAD50},
	    {"load parse, 50 VMs (msg_parse+envelope)", op_parse50, 1, TEXT_LOAD50},
	    {"load parse+bview_own_load, 50 VMs", op_view50, 1, TEXT_LOAD50},
	    {"load encode, 200 VMs", op_encode200, 1, TEXT_LOAD200},
	    {"load parse, 200 VMs", op_parse200, 1, TEXT_LOAD200},
	    {"cmd_parse (vm.create)", op_cmd, 1, TEXT_CMD},
	    {"idcache begin+finish, new id, 4096 full", op_id_new, 1, TEXT_NONE},
	    {"idcache begin, repeated id, 4096 full", op_id_repeat, 1, TEXT_NONE},
	    {"topic_matches (+, exact, #)", op_topic, 3, TEXT_NONE},
	};
	struct ctx c;
	memset(&c, 0, sizeof c);
	const char *env = getenv("BENCH_CODEC_MS");
	double budget = env ? atof(env) : 300;
	if (!(budget > 0))
		budget = 300;

	c.load50 = print_load(50, &c.len50);
	c.load200 = print_load(200, &c.len200);
	c.tree50 = loadmsg_build("h0123", 50, 42, TS);
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "name", "web-17");
	cJSON_AddNumberToObject(args, "memory_mb", 2048);
	cJSON_AddNumberToObject(args, "vcpus", 2);
	cJSON_AddNumberToObject(args, "load", 0.5);
	cJSON *cmd = cmd_build("vmc/cli-4711", TS, "cli-4711-000017", "vm.create", args,
	                       "vmc/default/reply/cli-4711");
	c.cmd = msg_print(cmd);
	c.cmdlen = strlen(c.cmd);
	cJSON_Delete(cmd);
	c.ids = idcache_new(4096);
	c.idtab = malloc(NIDS * sizeof *c.idtab);
	if (!c.ids || !c.idtab) {
		fprintf(stderr, "codec: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < NIDS; i++)
		snprintf(c.idtab[i], sizeof c.idtab[i], "cli-%04zx-%08zu", i * 2654435761u % 65521,
		         i);
	bview_init(&c.view, "h0123");
	c.model = cluster_model_new(0);
	for (size_t i = 0; i < 4096; i++) /* fill the cache before measuring */
		op_id_new(&c, i);

	double la[1] = {0};
	if (getloadavg(la, 1) == 1)
		printf("load average %.1f; figures are in CPU time of this thread\n", la[0]);
	printf("load message: %zu bytes with 50 VMs, %zu with 200; command: %zu bytes\n\n", c.len50,
	       c.len200, c.cmdlen);
	printf("%-44s %10s %10s %12s %8s\n", "operation", "calls", "ns/op", "ops/s", "MB/s");
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t calls;
		double ns = measure(&c, ops[i].fn, budget, &calls) / ops[i].ops_per_call;
		const size_t text_len[] = {0, c.len50, c.len200, c.cmdlen};
		size_t bytes = text_len[ops[i].text];
		char mbs[16] = "-";
		if (bytes)
			snprintf(mbs, sizeof mbs, "%.0f", (double)bytes / ns * 1e9 / 1e6);
		printf("%-44s %10zu %10.0f %12.0f %8s\n", ops[i].name,
		       calls * (size_t)ops[i].ops_per_call, ns, 1e9 / ns, mbs);
	}
	bview_free(&c.view);
	cluster_model_free(c.model);
	idcache_free(c.ids);
	free(c.idtab);
	free(c.load50);
	free(c.load200);
	cJSON_Delete(c.tree50);
	jsonbuf_free(&c.text);
	free(c.cmd);
	return 0;
}
