#!/usr/bin/env bash
# The broker restarted again and again while the hosts balance: four 4-CPU sim hosts,
# 16 VMs each busy on one CPU, all started on h1 (as in the balancing thesis test);
# while they spread out the broker is stopped and started again (retained state lost)
# several times, each time as soon as the agents are back and after a random delay.
# Each round must end with every VM exactly once and the hosts converged at 4 each.
# Rounds start afresh (agents restarted with empty state). 50 restarts in the full
# form (10 rounds of 5), 3 in the short form.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/lib.sh"
harness_init

ROUNDS=$(chaos_size 1 10)
PER_ROUND=$(chaos_size 3 5)
HOSTS="h1 h2 h3 h4"
VMS=$(seq -f 'vm%02g' 1 16)
plan $((ROUNDS * 3))

harness_start_broker
harness_cluster_key
start_hosts() {
	local h
	for h in $HOSTS; do
		harness_start_host "$h" --cpus 4 --memory 65536 --time-scale 60 --interval 0.1 \
			--migrate-port "$(harness_free_port)" --cluster-key-file "$T/cluster.key"
	done
	for h in $HOSTS; do harness_wait_host "$h" online 30 || return 1; done
}
all_online() {
	local h
	for h in $HOSTS; do [ "$(host_state "$h")" = online ] || return 1; done
}
even() { [ "$(vms_per_host)" = "h1=4 h2=4 h3=4 h4=4" ]; }

faults=0 lost=0 doubled=0
for ((r = 1; r <= ROUNDS; r++)); do
	for h in $HOSTS; do harness_kill_host "$h"; done
	rm -rf "$T"/state-h*
	start_hosts
	n=0
	for vm in $VMS; do
		vmcc create "$vm" --host h1 --memory 1024 --vcpus 1 --load 1 >/dev/null && n=$((n + 1))
	done
	is "$n" 16 "round $r: 16 busy VMs created on h1"
	for ((i = 1; i <= PER_ROUND; i++)); do
		chaos_delay 1500
		harness_restart_broker
		faults=$((faults + 1))
		wait_until 30 all_online || diag "round $r: not every host back online after restart $i"
	done
	wait_until 180 even
	ok $? "round $r: after $PER_ROUND broker restarts the hosts converge at 4 VMs each ($(vms_per_host))"
	chaos_census $HOSTS -- $VMS
	lost=$((lost + CENSUS_LOST)) doubled=$((doubled + CENSUS_DOUBLED))
	ok $((CENSUS_LOST + CENSUS_DOUBLED)) "round $r: every VM runs exactly once"
done
chaos_report "$faults" "$lost" "$doubled"
