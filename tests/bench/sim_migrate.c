/* sim_migrate.c - the sim's migration cost model: a table of plans.
 *
 * Prints, for VM sizes, dirty rates and link speeds, the rounds, bytes sent,
 * total time and downtime that sim_migrate_plan() gives, and the bytes the
 * sim's stream puts on the channel at the default scale. Pure computation. */
#include <stdio.h>

#include "../../lib/sim/sim_model.h"

int main(void)
{
	static const struct {
		int64_t mem_mb;
		double dirty, mbps;
	} cases[] = {
	    {1024, 0, 1000},   {1024, 20, 1000},   {1024, 50, 1000},  {1024, 100, 1000},
	    {4096, 20, 1000},  {4096, 60, 1000},   {4096, 100, 1000}, {4096, 200, 1000},
	    {16384, 20, 1000}, {16384, 20, 10000}, {1024, 50, 100},   {65536, 200, 10000},
	};
	struct sim_migrate_params p;
	struct sim_migrate_plan pl;
	char err[256];

	printf("%8s %8s %8s %7s %10s %10s %10s %15s %10s\n", "mem_MiB", "dirty", "Mbit/s", "rounds",
	       "sent_MiB", "total_s", "down_ms", "stop", "wire_KiB");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t wire = 0;

		sim_migrate_defaults(&p, cases[i].mbps);
		if (sim_migrate_plan(&p, cases[i].mem_mb, cases[i].dirty, &pl, err, sizeof(err)) <
		    0) {
			fprintf(stderr, "sim_migrate: %s\n", err);
			return 1;
		}
		for (int k = 0; k < pl.rounds; k++)
			wire += sim_wire_bytes(pl.bytes[k], SIM_WIRE_SCALE);
		printf("%8lld %8g %8g %7d %10.0f %10.2f %10.0f %15s %10.0f\n",
		       (long long)cases[i].mem_mb, cases[i].dirty, cases[i].mbps, pl.rounds,
		       pl.total_bytes / SIM_MiB, pl.total_ms / 1000, pl.downtime_ms,
		       sim_stop_reason_name(pl.reason), (double)wire / 1024);
	}
	return 0;
}
