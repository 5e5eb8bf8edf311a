#!/usr/bin/env bash
# The thesis experiment with the broker restarted three times while the hosts balance
# (four 4-CPU sim hosts, 16 busy VMs started on h1): every VM still runs exactly once
# and the hosts end with 4 VMs each. A failure while the broker was away must not
# leave a host backing off for minutes (a requester forgets its back-off and its
# avoided destinations when it reconnects).
. "$(dirname "$0")/../lib/harness.sh"
harness_init

harness_start_broker
harness_cluster_key
for h in h1 h2 h3 h4; do
	harness_start_host "$h" --cpus 4 --memory 65536 --time-scale 60 --interval 0.1 \
		--migrate-port "$(harness_free_port)" --cluster-key-file "$T/cluster.key"
done
for h in h1 h2 h3 h4; do harness_wait_host "$h" online || break; done
plan 4

for i in $(seq -w 1 16); do
	vmcc create "vm$i" --host h1 --memory 1024 --vcpus 1 --load 1 >/dev/null || break
done
ok $? "16 busy VMs created on h1"

per_host() { vmcc vms --json | jq -r '[.[] | select(.state=="running") | .host] | group_by(.) |
	map("\(.[0])=\(length)") | join(" ")'; }
even() { [ "$(per_host)" = "h1=4 h2=4 h3=4 h4=4" ]; }
moved_some() { [ "$(per_host)" != "h1=16" ]; }
wait_until 60 moved_some
for r in 1 2 3; do
	harness_restart_broker
	for h in h1 h2 h3 h4; do harness_wait_host "$h" online 30 || break; done
	wait_until 3 false # let a few moves happen between restarts
done
ok 0 "the broker was restarted three times while the hosts balanced"
wait_until 120 even
ok $? "the VMs still spread out: 4 per host ($(per_host))"
even || diag "$(vmcc vms 2>&1 | tail -20)"
is "$(vmcc vms --json | jq -r '.[].name' | sort | uniq -d | wc -l)" 0 "no VM runs twice"
