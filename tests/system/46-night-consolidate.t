#!/usr/bin/env bash
# Night consolidation with the BUILT-IN rules (no rules file), then the morning.
# Three clusters in turn, of 3, 5 and 8 sim hosts of 4 CPUs, each host starting
# with two VMs (2 vCPUs, 1 GiB) of the same load: 0.2 CPU from 18:00 to 06:00
# local time, 1.2 CPU from 06:00 (a square wave). The virtual clocks start at
# 05:35 and run 60 times faster. All hosts are equally loaded (10 %), so which
# ones empty is decided by the (load, name) order: the night rule turns on
# (cluster under night_cpu for 10 minutes) and the cluster packs onto the fewest
# hosts that consolidate_max (70 %) and memory allow:
#   3 hosts, 16 GiB: 6 x 0.2 CPU = 30 % of one host   -> 1 host keeps VMs
#   5 hosts, 4 GiB: 3 VMs fit in 4096 - 512 reserve  -> 4 hosts
#   8 hosts, 16 GiB: 16 x 0.2 CPU = 80 % > 70 %       -> 2 hosts
# At 06:00 the load returns (2 VMs = 60 %, 3 = 90 % > high) and balancing
# spreads it again over every host. No VM moves twice in the night.
. "$(dirname "$0")/../lib/harness.sh"
harness_init

plan 21
harness_cluster_key
# the square wave's phase: low from 18:00 local, whatever the time zone
off=$(date +%z)
off_s=$(((10#${off:1:2} * 3600 + 10#${off:3:2} * 60) * (${off:0:1}1)))
phase=$((((18 * 3600 - off_s) % 86400 + 86400) % 86400))
SIX=$(date -d "$(date +%F) 06:00:00" +%s000)

# host file: 2 VMs of 1 GiB, 2 vCPUs, quiet by night
hostfile() { # HOST
	local v
	for v in 1 2; do
		printf '[vm %s-v%s]\nvcpus = 2\nmemory = 1024\nload = "periodic 0.2 1.2 86400 square %s"\n' \
			"$1" "$v" "$phase"
	done >"$T/$1.sim"
}
# running VMs per host, "h=N" sorted, hosts without VMs left out
layout() {
	vmcc vms --json | jq -r '[.[] | select(.state == "running") | .host] | group_by(.) |
		map("\(.[0])=\(length)") | join(" ")'
}
used() { vmcc vms --json | jq '[.[] | select(.state == "running") | .host] | unique | length'; }
used_is() { [ "$(used)" = "$1" ] && ! moving; }
moving() { vmcc vms --json | jq -e 'any(.[]; .state != "running")' >/dev/null; }
vts() { vmcc --json call "cmd/host/$1" balance.status | jq -er .ts; }
after_six() { [ "$(vts "$1")" -ge $((SIX + 60000)) ]; }
# host loads in %, "name=cpu" of hosts with VMs
loads() { vmcc hosts --json | jq -r 'map("\(.name)=\(.cpu | floor)") | join(" ")'; }
max_load() { vmcc hosts --json | jq '[.[].cpu] | max'; }
# every host runs VMs and none is over high
spread_again() {
	[ "$(used)" = "$1" ] && ! moving && [ "$(max_load | cut -d. -f1)" -le 80 ]
}

scenario() { # PREFIX NHOSTS MEMORY WANT
	local p=$1 n=$2 mem=$3 want=$4 i
	harness_start_broker
	for i in $(seq 1 "$n"); do
		hostfile "$p$i"
		harness_start_host "$p$i" --sim "$T/$p$i.sim" --cpus 4 --memory "$mem" \
			--time-scale 60 --clock-start 05:35 --interval 0.2 --migrate-port 0 \
			--cluster-key-file "$T/cluster.key"
	done
	local up=0
	for i in $(seq 1 "$n"); do harness_wait_host "$p$i" online 60 && up=$((up + 1)); done
	is "$up" "$n" "$n hosts online, no rules file (built-in rules)"
	events_start "$T/events-$p.json" 300

	wait_until 120 used_is "$want"
	ok $? "$n hosts: the night rule packs the VMs onto $want host(s) ($(layout))"
	local night_max
	night_max=$(max_load)
	[ "${night_max%.*}" -le 70 ]
	ok $? "$n hosts: no host over consolidate_max 70 % ($(loads))"
	vmcc hosts --json | jq -e 'all(.[]; .mem_free_mb >= 0)' >/dev/null
	ok $? "$n hosts: memory respected on every host"

	wait_until 180 after_six "${p}1"
	ok $? "$n hosts: 06:00 virtual passes"
	wait_until 180 spread_again "$n"
	ok $? "$n hosts: after 06:00 the load returns and every host runs VMs again ($(layout); $(loads))"
	events_stop
	local ev="$T/events-$p.json" early twice
	early=$(jq -s --argjson six "$SIX" 'map(select(.type == "balance.decision" and
		.mode == "balance" and .ts < $six)) | length' "$ev")
	refills=$(jq -s --argjson six "$SIX" 'map(select(.type == "migration.finished" and
		.role == "source" and .ts >= $six)) | length' "$ev")
	twice=$(jq -r --argjson six "$SIX" 'select(.type == "migration.finished" and
		.role == "source" and .ts < $six) | .vm' "$ev" | sort | uniq -d | wc -l)
	[ "$early" = 0 ] && [ "$twice" = 0 ] && [ "$refills" -gt 0 ]
	ok $? "$n hosts: the refill ($refills migrations) starts at 06:00, and no VM moved twice in the night"
	for i in $(seq 1 "$n"); do harness_kill_host "$p$i"; done
	harness_stop_broker
}

scenario a 3 16384 1
scenario b 5 4096 4
scenario c 8 16384 2
