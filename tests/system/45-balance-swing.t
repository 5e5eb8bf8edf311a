#!/usr/bin/env bash
# A VM whose load swings around the threshold is not moved back and forth
# during a simulated hour. Two 4-CPU sim hosts, time-scaled 90 times (an hour
# in 40 s): h1 runs p1 and p2, pinned, busy on one CPU each, and s (2 vCPUs,
# load a sine wave from 0.2 to 1.8 CPUs over 10 minutes), so h1 swings between
# 55 % and 95 %; h2 runs p3 (1 CPU) and p4 (half a CPU), pinned: 37.5 %. Whichever
# host holds s goes over high (80 %) at every crest of the wave. Over the hour
# the overload rule turns on again and again, yet s moves at most once.
. "$(dirname "$0")/../lib/harness.sh"
harness_init

harness_start_broker
harness_cluster_key
for h in h1 h2; do
	harness_start_host "$h" --cpus 4 --memory 65536 --time-scale 90 --interval 0.1 \
		--migrate-port 0 --cluster-key-file "$T/cluster.key"
done
for h in h1 h2; do harness_wait_host "$h" online 60 || break; done
plan 7
ok $? "two hosts online"

events_start "$T/events.json" 300
# balancing off (cluster policy) while the VMs are created
balancing_off h1 h2
cat >"$T/s.cfg" <<'CFG'
name = "s"
memory = 1024
vcpus = 2
sim_load = "periodic 0.2 1.8 600 sine"
CFG
mk() { vmcc create "$1" --host "$2" --memory 1024 --vcpus 1 --load "$3" --tags pinned >/dev/null; }
mk p1 h1 1 && mk p2 h1 1 && vmcc create s --host h1 --config "$T/s.cfg" >/dev/null &&
	mk p3 h2 1 && mk p4 h2 0.5
ok $? "p1, p2 and the swinging s on h1; p3 and p4 on h2"
balancing_on

vts() { vmcc --json call "cmd/host/$1" balance.status | jq -er .ts; }
t0=$(vts h1)
ok $? "virtual start $(date -d "@$((t0 / 1000))" +%T)"
hour_passed() { [ "$(vts h1)" -ge $((t0 + 3600000)) ]; }
wait_until 120 hour_passed
ok $? "a simulated hour passes"
events_stop

ons=$(jq -c 'select(.type == "balance.rule" and .rule == "overload" and .state == "on")' \
	"$T/events.json" | grep -c .)
[ "$ons" -ge 3 ]
ok $? "the overload rule turned on $ons times (at least 3): the load really swings"
finished=$(jq -c 'select(.type == "migration.finished" and .role == "source")' "$T/events.json")
diag "moves: $(jq -r '"\(.vm) \(.from)->\(.to)"' <<<"$finished" | tr '\n' ',')"
[ "$(jq -r 'select(.vm == "s") | .vm' <<<"$finished" | wc -l)" -le 1 ]
ok $? "s moved at most once"
is "$(jq -r .vm <<<"$finished" | sort | uniq -d | wc -l)" "0" "no VM moved twice"
