#!/usr/bin/env bash
# A drain re-checks a refusal against fresh loads: a host that announced its standby
# (night consolidation emptied it) but was not powered off is online again at its next
# load, and a drain that starts in between waits for that load instead of refusing
# every VM with "no online host". h2 publishes its load every 4 s; the drain of h1 starts
# right after h2's standby announcement and must still move v1 to h2.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 4

harness_start_broker
mig_setup
# noon on the sim clock: the real night rule stays out of the way
mig_start_host h1 --memory 8192 --clock-start 12:00
mig_start_host h2 --memory 4096 --clock-start 12:00 --interval 4
for h in h1 h2; do harness_wait_host "$h" online || break; done
ok $? "h1 and h2 (a load every 4 s) online"

vmcc create v1 --host h1 --memory 1024 --vcpus 1 >/dev/null
ok $? "v1 created on h1"

# wait for h1's view to place v1 on h2, then for one more load of h2: the next one is
# about 4 s away
plan_to_h2() { [ "$(vmcc plan evacuate --host h1 --json | jq -r '.moves[0].to // empty')" = h2 ]; }
wait_until 30 plan_to_h2
sub_start "$T/h2load" 'vmc/default/host/h2/load'
wait_until 15 sub_has "$T/h2load" 2 # the retained one, then a new one
kill "$SUB_PID"
now() { local t=${EPOCHREALTIME/./}; echo "${t:0:13}"; }
pub -t vmc/default/event/host/h2 -m \
	"{\"v\":1,\"from\":\"host/h2\",\"ts\":$(now),\"type\":\"host.standby\",\"host\":\"h2\",\"target\":\"h2\"}"
out=$(vmcc drain h1 2>&1)
ok $? "the drain right after h2's standby announcement exits 0" || diag "$out"
is "$(vm_places v1 h1 h2)" "h2:running" "v1 moved to h2"
