/* test_place.c - where vmc-confd puts new VMs, from the cluster model and its reservations:
 * memory is hard, the least loaded host wins, maintenance and offline hosts are never
 * chosen, anti-affinity holds, and reservations keep two creates from counting the same
 * memory twice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../agents/confd/place.h"
#include "../../lib/cluster/cluster_model.h"
#include "../../lib/cluster/reserve.h"

/* What confd holds: the model, its reservations. */
struct cl {
	struct cluster_model *m;
	struct reservations *res;
};

static struct cl *cluster_new(void)
{
	static struct cl c;
	c.m = cluster_model_new(1);
	c.res = reserve_new();
	return &c;
}

static void cluster_free(struct cl *c)
{
	reserve_free(c->res);
	cluster_model_free(c->m);
}

/* As confd takes a message: into the model, then the reservations it shows kept end. */
static int feedr(struct cl *c, const char *rest, const char *json, int retained, char *err,
                 size_t errlen)
{
	int rc = cluster_model_apply(c->m, rest, json, strlen(json), retained, 1000, err, errlen);
	reserve_sync(c->res, c->m);
	return rc;
}

static int feed(struct cl *c, const char *rest, const char *json, char *err, size_t errlen)
{
	return feedr(c, rest, json, 0, err, errlen);
}

/* Feeds a host's state and load: cpu %, free MiB, and its VMs (a JSON array). */
static void host(struct cl *c, const char *name, const char *state, double cpu, int64_t free_mb,
                 const char *vms_json)
{
	char buf[2048], rest[128], err[256];
	snprintf(rest, sizeof rest, "host/%s/state", name);
	snprintf(buf, sizeof buf,
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":1,\"state\":\"%s\","
	         "\"cpus\":8,\"mem_total_mb\":32768}",
	         name, state);
	assert_int_equal(feed(c, rest, buf, err, sizeof err), 1);
	snprintf(rest, sizeof rest, "host/%s/load", name);
	snprintf(buf, sizeof buf,
	         "{\"v\":1,\"from\":\"host/%s\",\"ts\":1,\"seq\":1,\"state\":\"%s\",\"cpus\":8,"
	         "\"cpu\":%g,\"mem_total_mb\":32768,\"mem_used_mb\":%lld,\"mem_free_mb\":%lld,"
	         "\"vms\":%s}",
	         name, state, cpu, (long long)(32768 - free_mb), (long long)free_mb,
	         vms_json ? vms_json : "[]");
	if (feed(c, rest, buf, err, sizeof err) != 1)
		fail_msg("%s", err);
}

static const char *choose(struct cl *c, const char *vm, int64_t mem, const char *want,
                          const char *const *tags, size_t ntags, enum vmc_err *code, char *err,
                          size_t errlen)
{
	static char h[VMC_NAME_MAX + 1];
	struct confd_place_req r = {
	    .vm = vm, .mem_mb = mem, .vcpus = 1, .tags = tags, .ntags = ntags, .host = want};
	if (confd_place_choose(c->m, c->res, &r, h, sizeof h, code, err, errlen) < 0)
		return NULL;
	return h;
}

static const struct cm_host *cluster_host(struct cl *c, const char *name)
{
	return cluster_model_host_find(c->m, name);
}

static const char *cluster_vm_host(struct cl *c, const char *vm)
{
	return reserve_vm_host(c->res, c->m, vm);
}

static int64_t room(struct cl *c, const char *host)
{
	return reserve_room_mb(c->res, cluster_host(c, host));
}

static void test_least_loaded(void **state)
{
	struct cl *cl = cluster_new();
	enum vmc_err code;
	char err[512];
	host(cl, "h1", "online", 80, 20000, NULL);
	host(cl, "h2", "online", 10, 20000, NULL);
	host(cl, "h3", "online", 40, 20000, NULL);
	assert_string_equal(choose(cl, "v", 1024, NULL, NULL, 0, &code, err, sizeof err), "h2");
	/* memory is hard: the least loaded host without room is passed over */
	host(cl, "h2", "online", 10, 512, NULL);
	assert_string_equal(choose(cl, "v", 1024, NULL, NULL, 0, &code, err, sizeof err), "h3");
	assert_null(choose(cl, "v", 30000, NULL, NULL, 0, &code, err, sizeof err));
	assert_int_equal(code, VMC_E_NO_MEMORY);
	assert_non_null(strstr(err, "no online host has 30000 MiB free"));
	assert_non_null(strstr(err, "most free: h1 with 20000 MiB"));
	cluster_free(cl);
}

static void test_excluded_hosts(void **state)
{
	struct cl *cl = cluster_new();
	enum vmc_err code;
	char err[512];
	host(cl, "idle", "maintenance", 0, 30000, NULL);
	host(cl, "gone", "offline", 0, 30000, NULL);
	host(cl, "busy", "online", 95, 4096, NULL);
	assert_string_equal(choose(cl, "v", 1024, NULL, NULL, 0, &code, err, sizeof err), "busy");
	assert_null(choose(cl, "v", 1024, "idle", NULL, 0, &code, err, sizeof err));
	assert_int_equal(code, VMC_E_REFUSED);
	assert_non_null(strstr(err, "host idle is maintenance"));
	assert_null(choose(cl, "v", 1024, "gone", NULL, 0, &code, err, sizeof err));
	assert_non_null(strstr(err, "offline"));
	assert_null(choose(cl, "v", 1024, "nosuch", NULL, 0, &code, err, sizeof err));
	assert_int_equal(code, VMC_E_NOT_FOUND);
	assert_string_equal(choose(cl, "v", 1024, "busy", NULL, 0, &code, err, sizeof err), "busy");
	/* a host that goes offline is left; one forgotten (empty retained state) is unknown */
	host(cl, "busy", "offline", 0, 4096, NULL);
	assert_null(choose(cl, "v", 1024, NULL, NULL, 0, &code, err, sizeof err));
	assert_non_null(strstr(err, "no host is online"));
	assert_int_equal(feed(cl, "host/busy/state", "", err, sizeof err), 1);
	assert_null(cluster_host(cl, "busy"));
	cluster_free(cl);
}

static void test_anti_affinity(void **state)
{
	struct cl *cl = cluster_new();
	enum vmc_err code;
	char err[512];
	host(cl, "h1", "online", 5, 20000,
	     "[{\"name\":\"db1\",\"state\":\"running\",\"mem_mb\":1024,\"vcpus\":1,\"cpu\":5,"
	     "\"tags\":[\"anti.db\",\"prod\"]}]");
	host(cl, "h2", "online", 50, 20000, NULL);
	const char *anti[] = {"anti.db"};
	assert_string_equal(choose(cl, "db2", 1024, NULL, anti, 1, &code, err, sizeof err), "h2");
	assert_null(choose(cl, "db2", 1024, "h1", anti, 1, &code, err, sizeof err));
	assert_int_equal(code, VMC_E_REFUSED);
	assert_non_null(strstr(err, "anti-affinity"));
	/* without the tag, the least loaded */
	assert_string_equal(choose(cl, "web", 1024, NULL, NULL, 0, &code, err, sizeof err), "h1");
	/* every host holds the group: refused, saying why */
	host(cl, "h2", "online", 50, 20000,
	     "[{\"name\":\"db3\",\"mem_mb\":1024,\"tags\":[\"anti.db\"]}]");
	assert_null(choose(cl, "db2", 1024, NULL, anti, 1, &code, err, sizeof err));
	assert_int_equal(code, VMC_E_REFUSED);
	assert_non_null(strstr(err, "anti-affinity"));
	/* affinity: prefer the host with the group even if busier */
	const char *aff[] = {"affinity.db"};
	host(cl, "h2", "online", 50, 20000,
	     "[{\"name\":\"db3\",\"mem_mb\":1024,\"tags\":[\"affinity.db\"]}]");
	assert_string_equal(choose(cl, "db4", 1024, NULL, aff, 1, &code, err, sizeof err), "h2");
	assert_string_equal(cluster_vm_host(cl, "db1"), "h1");
	assert_string_equal(cluster_vm_host(cl, "db3"), "h2");
	assert_null(cluster_vm_host(cl, "nope"));
	cluster_free(cl);
}

static void test_reservations(void **state)
{
	struct cl *cl = cluster_new();
	enum vmc_err code;
	char err[512];
	host(cl, "h1", "online", 10, 3000, NULL);
	host(cl, "h2", "online", 20, 2500, NULL);
	assert_string_equal(choose(cl, "a", 2000, NULL, NULL, 0, &code, err, sizeof err), "h1");
	assert_int_equal(reserve_add(cl->res, cl->m, "h1", "a", 2000, 1, NULL, 0, 100), 0);
	assert_string_equal(cluster_vm_host(cl, "a"), "h1");
	/* h1 has 1000 MiB left now: the next one goes to h2 */
	assert_string_equal(choose(cl, "b", 2000, NULL, NULL, 0, &code, err, sizeof err), "h2");
	assert_int_equal(reserve_add(cl->res, cl->m, "h2", "b", 2000, 1, NULL, 0, 100), 0);
	assert_null(choose(cl, "c", 2000, NULL, NULL, 0, &code, err, sizeof err));
	assert_int_equal(code, VMC_E_NO_MEMORY);
	/* a load that does not list "a" keeps its reservation */
	host(cl, "h1", "online", 10, 3000, "[]");
	assert_int_equal(room(cl, "h1"), 1000);
	/* a load that lists it ends the reservation: the host's own figure counts now */
	host(cl, "h1", "online", 10, 1000, "[{\"name\":\"a\",\"mem_mb\":2000}]");
	assert_int_equal(room(cl, "h1"), 1000);
	/* release and expiry */
	reserve_release(cl->res, "b");
	assert_int_equal(room(cl, "h2"), 2500);
	assert_int_equal(reserve_add(cl->res, cl->m, "h2", "c", 500, 1, NULL, 0, 50), 0);
	reserve_expire(cl->res, 49);
	assert_int_equal(room(cl, "h2"), 2000);
	reserve_expire(cl->res, 50);
	assert_int_equal(room(cl, "h2"), 2500);
	assert_int_equal(reserve_add(cl->res, cl->m, "nohost", "x", 1, 1, NULL, 0, 1), -1);
	cluster_free(cl);
}

static void test_bad_messages(void **state)
{
	struct cl *cl = cluster_new();
	char err[256];
	assert_int_equal(feed(cl, "host/h1/load",
	                      "{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"vms\":3}", err, sizeof err),
	                 -1);
	assert_int_equal(feed(cl, "host/h1/state",
	                      "{\"v\":1,\"from\":\"host/h1\",\"ts\":1,\"state\":7}", err,
	                      sizeof err),
	                 -1);
	assert_int_equal(feed(cl, "host/-b/state",
	                      "{\"v\":1,\"from\":\"host/-b\",\"ts\":1,\"state\":\"online\"}", err,
	                      sizeof err),
	                 -1);
	assert_int_equal(cluster_model_host_count(cl->m), 0);
	cluster_free(cl);
}

/* A bad VM is left out, not its host; a host known only from a load (no birth from its
 * own state message), or offline, is never a placement target. */
#define GHOST_LOAD                                                                                 \
	"{\"v\":1,\"from\":\"host/%s\",\"ts\":1,\"state\":\"online\",\"cpus\":8,"                  \
	"\"cpu\":0,\"mem_total_mb\":32768,\"mem_free_mb\":32768,\"vms\":["                         \
	"{\"name\":\"../x\"},{\"name\":\"ok\"}]}"

static void test_bounds_and_birth(void **state)
{
	struct cl *cl = cluster_new();
	enum vmc_err code;
	char err[256];

	char json[512];
	snprintf(json, sizeof json, GHOST_LOAD, "ghost");
	assert_int_equal(feed(cl, "host/ghost/load", json, err, sizeof err), -1);
	assert_non_null(strstr(err, "vms[0].name"));
	assert_int_equal(cluster_model_host_vm_count(cluster_host(cl, "ghost")), 1);
	assert_null(choose(cl, "v", 100, NULL, NULL, 0, &code, err, sizeof err));
	assert_null(choose(cl, "v", 100, "ghost", NULL, 0, &code, err, sizeof err));
	assert_non_null(strstr(err, "host ghost is unknown"));
	/* offline by its Last Will: a retained load saying online does not bring it back */
	host(cl, "h1", "online", 10, 20000, NULL);
	assert_int_equal(feed(cl, "host/h1/state",
	                      "{\"v\":1,\"from\":\"host/h1\",\"ts\":2,\"state\":\"offline\"}", err,
	                      sizeof err),
	                 1);
	snprintf(json, sizeof json, GHOST_LOAD, "h1");
	assert_int_equal(feedr(cl, "host/h1/load", json, 1, err, sizeof err), -1);
	assert_int_equal(cluster_host(cl, "h1")->state, CM_HOST_OFFLINE);
	assert_null(choose(cl, "v", 100, NULL, NULL, 0, &code, err, sizeof err));
	cluster_free(cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_least_loaded),  cmocka_unit_test(test_excluded_hosts),
	    cmocka_unit_test(test_anti_affinity), cmocka_unit_test(test_reservations),
	    cmocka_unit_test(test_bad_messages),  cmocka_unit_test(test_bounds_and_birth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
