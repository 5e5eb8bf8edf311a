#!/usr/bin/env bash
# The thesis experiment for real, time-scaled: four 4-CPU sim hosts, 16 VMs each
# busy on one CPU, all started on h1. The hosts balance by themselves and end
# with 4 VMs each, after exactly 12 migrations, no VM moved twice.
# Skipped while the agents have no vm.migrate (the migration module).
. "$(dirname "$0")/../lib/harness.sh"
harness_init

harness_start_broker
harness_cluster_key
for h in h1 h2 h3 h4; do
	harness_start_host "$h" --cpus 4 --memory 65536 --time-scale 60 --interval 0.1 \
		--migrate-port "$(harness_free_port)" --cluster-key-file "$T/cluster.key"
done
for h in h1 h2 h3 h4; do harness_wait_host "$h" online || break; done

if vmcc call cmd/host/h1 vm.migrate '{"name":"nosuch","to":"h2"}' 2>&1 | grep -q unknown_op; then
	echo "1..0 # SKIP no vm.migrate in this build (the migration module)"
	exit 0
fi
plan 6

events_start "$T/events.json" 600
evpid=$!
for i in $(seq -w 1 16); do
	vmcc create "vm$i" --host h1 --memory 1024 --vcpus 1 --load 1 >/dev/null || break
done
ok $? "16 busy VMs created on h1"

per_host() { vmcc vms --json | jq -r '[.[] | select(.state=="running") | .host] | group_by(.) |
	map("\(.[0])=\(length)") | join(" ")'; }
even() { [ "$(per_host)" = "h1=4 h2=4 h3=4 h4=4" ]; }
wait_until 240 even
ok $? "the VMs spread out by themselves: 4 per host"
sleep 5 # 5 virtual minutes more: nothing else may move
is "$(per_host)" "h1=4 h2=4 h3=4 h4=4" "and stay so"
# each migration.finished comes from both ends (role source and destination): count the source's
finished=$(jq -c 'select(.type == "migration.finished" and .role == "source")' "$T/events.json")
is "$(grep -c . <<<"$finished")" "12" "exactly 12 migrations"
is "$(jq -r .vm <<<"$finished" | sort | uniq -d | wc -l)" "0" "no VM moved twice"
is "$(jq -r .from <<<"$finished" | sort -u | tr '\n' ' ')" "h1 " "all from h1"
kill "$evpid" 2>/dev/null
wait "$evpid" 2>/dev/null || true
