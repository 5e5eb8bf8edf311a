#!/usr/bin/env bash
# Agents and the broker fail and come back: a killed agent shows offline through its Last
# Will and finds its VMs again when restarted; after a broker restart the agents reconnect
# and publish everything again by themselves.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 10

harness_start_broker
harness_start_host h1
harness_start_host h2
harness_wait_host h1 online && harness_wait_host h2 online
ok $? "h1 and h2 online"
vmcc create p1 --host h1 --memory 512 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create p2 --host h1 --memory 512 --vcpus 2 >/dev/null && vmcc pause p2 >/dev/null
ok $? "two VMs on h1, one of them paused"
s1=$(vmcc hosts --json | jq -r '.[] | select(.name=="h1") | .session')

harness_kill_host h1 KILL
# keepalive is 5 s: the broker publishes the Last Will within 1.5 x keepalive
harness_wait_host h1 offline 12
ok $? "h1 killed with -9 shows offline (Last Will)"
is "$(host_state h2)" "online" "h2 is still online"

harness_start_host h1
harness_wait_host h1 online
ok $? "h1 restarted comes online"
s2=$(vmcc hosts --json | jq -r '.[] | select(.name=="h1") | .session')
ok $((s2 > s1 ? 0 : 1)) "with a new session number ($s1 -> $s2)"
is "$(vmcc vms --host h1 --json | jq -r 'sort_by(.name) | map("\(.name):\(.state)") | join(" ")')" \
	"p1:running p2:paused" "it finds its VMs again, in the state they had"

harness_restart_broker
harness_wait_host h1 online 30 && harness_wait_host h2 online 30
ok $? "after a broker restart (retained state lost) both agents publish their state again"
wait_until 20 sh -c "[ \"\$(\"$VMC_BIN/vmc\" --broker $BROKER_URL vms --json | jq length)\" = 2 ]"
ok $? "and their VMs"
vmcc create p3 --host h2 --memory 256 --vcpus 1 >/dev/null
ok $? "commands work again"
