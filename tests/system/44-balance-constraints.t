#!/usr/bin/env bash
# Placement constraints while an overloaded host sheds VMs, time-scaled.
# h1 (4 CPUs) runs five busy VMs: p1 and p2 tagged pinned, g1..g3 tagged anti.G
# (anti-affinity group G). h2 (4 CPUs) holds g0, also of group G, idle. h3 has
# 16 idle CPUs but no free memory (2 GiB, 1.5 GiB of it an idle VM). h4 and h5
# (4 CPUs) are empty. h1 must shed two VMs: only G VMs may move, the pinned ones
# never, h2 may take no G VM and h3 nothing at all, so h4 and h5 take one each.
. "$(dirname "$0")/../lib/harness.sh"
harness_init

harness_start_broker
harness_cluster_key
# by day (noon): run at night and slowed down by a loaded machine, the test would last
# into the built-in night consolidation of this lightly loaded cluster and m1 would move
common=(--time-scale 60 --clock-start 12:00 --interval 0.1 --migrate-port 0 --cluster-key-file "$T/cluster.key")
harness_start_host h1 --cpus 4 --memory 65536 "${common[@]}"
harness_start_host h2 --cpus 4 --memory 65536 "${common[@]}"
harness_start_host h3 --cpus 16 --memory 2048 "${common[@]}"
harness_start_host h4 --cpus 4 --memory 65536 "${common[@]}"
harness_start_host h5 --cpus 4 --memory 65536 "${common[@]}"
for h in h1 h2 h3 h4 h5; do harness_wait_host "$h" online 60 || break; done
plan 10
ok $? "five hosts online"

events_start "$T/events.json" 300
# balancing off (cluster policy) while the VMs are created
balancing_off h1 h2 h3 h4 h5
mk() { vmcc create "$1" --host "$2" --memory "$3" --vcpus 1 --load "$4" ${5:+--tags "$5"} >/dev/null; }
mk p1 h1 1024 1 pinned && mk p2 h1 1024 1 pinned &&
	mk g1 h1 1024 1 anti.G && mk g2 h1 1024 1 anti.G && mk g3 h1 1024 1 anti.G &&
	mk g0 h2 1024 0 anti.G && mk m1 h3 1536 0
ok $? "p1, p2 (pinned) and g1..g3 (anti.G) busy on h1, g0 (anti.G) on h2, m1 fills h3"
balancing_on

settled() { [ "$(vms_per_host)" = "h1=3 h2=1 h3=1 h4=1 h5=1" ]; }
wait_until 120 settled
ok $? "h1 sheds two VMs, to h4 and h5 ($(vms_per_host))"
sleep 5 # 5 virtual minutes more: nothing else may move
is "$(vms_per_host)" "h1=3 h2=1 h3=1 h4=1 h5=1" "and nothing else moves"
events_stop

vms=$(vmcc vms --json)
host_of() { jq -r --arg n "$1" '.[] | select(.name == $n) | .host' <<<"$vms"; }
is "$(host_of p1) $(host_of p2)" "h1 h1" "the pinned VMs stay on h1"
finished=$(jq -c 'select(.type == "migration.finished" and .role == "source")' "$T/events.json")
moved=$(jq -r .vm <<<"$finished" | sort | tr '\n' ' ')
like "$moved" '^g[123] g[123] $' "exactly two VMs moved, both of group G ($moved)"
is "$(jq -r '.[] | select(.name | test("^g[0-3]$")) | .host' <<<"$vms" | sort -u | wc -l)" "4" \
	"the four G VMs run on four different hosts"
is "$(jq -r 'select(.to == "h2" or .to == "h3") | .vm' <<<"$finished" | wc -l)" "0" \
	"no VM went to h2 (a G VM) nor to h3 (no free memory)"
is "$(host_of m1)" "h3" "h3 keeps only m1"
started=$(jq -c 'select(.type == "migration.started" and .role == "source")' "$T/events.json")
is "$(jq -r 'select(.to == "h3" or .vm == "p1" or .vm == "p2") | .vm' <<<"$started" | wc -l)" "0" \
	"no migration to h3 nor of a pinned VM was even started"
