#!/usr/bin/env bash
# A host dies (its agent killed, then the fence hook powers it off): after the fence
# succeeds, each of its HA VMs runs exactly once on another host, placed by memory;
# its VM without the tag ha is reported lost and not restarted. A VM whose disk is not
# on the shared store is refused ha.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/../lib/ha.sh"
harness_init
plan 13

harness_start_broker
ha_setup
for h in h1 h2 h3; do ha_start_host $h; done
harness_wait_host h1 online && harness_wait_host h2 online && harness_wait_host h3 online
ok $? "h1, h2, h3 online"
ha_policy_on h1 h2 h3
ok $? "the policy turns ha on"

vmcc create a1 --host h3 --memory 2048 --tags ha >/dev/null &&
	vmcc create a2 --host h3 --memory 1024 --tags ha,priority-5 >/dev/null &&
	vmcc create a3 --host h3 --memory 1024 >/dev/null &&
	vmcc ha enable a3 >/dev/null &&
	vmcc create n1 --host h3 --memory 512 >/dev/null
ok $? "three HA VMs (two tagged at create, one enabled later) and one plain VM on h3"

cat >"$T/far.cfg" <<EOC
name = "far"
memory = 512
disk = [ "file:/var/lib/elsewhere/far.img,xvda,w" ]
EOC
out=$(vmcc create far --host h3 --config "$T/far.cfg" --tags ha 2>&1)
like "$out" "not on the shared store" "a VM whose disk is not on the shared store is refused ha"

out=$(vmcc ha status h3)
like "$(echo "$out" | grep -c 'h3')" "^[4-9]" "ha status lists the protected VMs and the plan if h3 died"

vmcc --timeout 60 migrate a1 h1 >/dev/null
_rec_on() { [ "$(jq -r .host "$T/shared/$1.json")" = "$2" ]; }
wait_until 20 _rec_on a1 h1
ok $? "a migrated HA VM's record follows it to its new host"

events_start "$T/events.json"
t0=$(date +%s%3N)
ha_kill h3
for v in a1 a2 a3; do
	wait_until 60 vm_settled $v h1 h2 || diag "$v: $(vm_places $v h1 h2 | tr '\n' ' ')"
done
# a figure for the README, never judged: it depends on the machine's load
diag "$(($(date +%s%3N) - t0)) ms from kill -9 of h3's agent to its HA VMs running elsewhere" \
	"(--ha-timeout $HA_TIMEOUT ${HA_HOST_ARGS:-})"
bad=0
for v in a1 a2 a3; do vm_settled $v h1 h2 || bad=$((bad + 1)); done
is "$bad" 0 "each HA VM of h3 runs exactly once on h1 or h2"
wait_until 20 events_has "$T/events.json" ha.restarted 2
is "$(events_of "$T/events.json" ha.restarted | jq -r .vm | sort | tr '\n' ' ')" "a2 a3 " \
	"one ha.restarted event per VM h3 still ran (a1 runs on h1 since its migration)"
is "$(n_events "$T/events.json" ha.fenced)" 1 "h3 was fenced once"
is "$(cat "$T/fenced.log")" "h3 127.0.0.1" "the fence hook got the host's name and address"
wait_until 10 events_has "$T/events.json" ha.lost 1
is "$(events_of "$T/events.json" ha.lost | jq -r .vm)" n1 "the plain VM is reported lost"
is "$(vm_places n1 h1 h2)" "" "and is not restarted"

# h3 comes back: its VMs were lost with its power; the restarted ones stay where they are
ha_start_host h3
harness_wait_host h3 online
wait_until 20 sh -c "! vmcc call cmd/host/h3 host.vms | jq -e '.result.vms[] | select(.name == \"a1\")'" 2>/dev/null
# (re-evaluated: one host.vms query that times out on a loaded machine is no answer)
_all_once() { local v; for v in a1 a2 a3; do vm_settled $v h1 h2 h3 || return 1; done; }
wait_until 20 _all_once
ok $? "after h3 rejoins each HA VM still runs exactly once"
events_stop
