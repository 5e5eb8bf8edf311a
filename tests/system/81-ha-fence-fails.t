#!/usr/bin/env bash
# The fence hook fails, then (for another dead host) hangs past --fence-timeout: nothing
# is restarted, and each failure raises an ha.failed alert naming the dead host.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/../lib/ha.sh"
harness_init
plan 8

harness_start_broker
ha_setup
for h in h1 h2 h3 h4; do ha_start_host $h; done
for h in h1 h2 h3 h4; do harness_wait_host $h online || break; done
ok $? "h1 to h4 online"
ha_policy_on h1 h2 h3 h4
vmcc create a3 --host h3 --memory 1024 --tags ha >/dev/null &&
	vmcc create a4 --host h4 --memory 1024 --tags ha >/dev/null
ok $? "an HA VM on h3 and one on h4"
# hostile files in the shared store are reported and skipped
echo 'not json' >"$T/shared/junk.json"
echo '{"vm":"../etc","host":"h1","mem_mb":1}' >"$T/shared/evil.json"
echo '{"vm":"evil2","host":"h1","mem_mb":"lots","tags":[1]}' >"$T/shared/evil2.json"
_protected() { vmcc ha status --json | jq -e '.protected | length == 2'; }
wait_until 10 _protected
ok $? "malformed records are skipped; the two HA VMs are protected"
events_start "$T/events.json"

echo fail >"$T/fence-mode"
ha_kill h3
wait_until 60 events_has "$T/events.json" ha.failed 1
is "$(events_of "$T/events.json" ha.failed | jq -r '"\(.dead_host): \(.reason)"')" \
	"h3: the fence hook exited with 1" "a failed fence raises ha.failed"

echo hang >"$T/fence-mode"
ha_kill h4
wait_until 60 events_has "$T/events.json" ha.failed 2
is "$(events_of "$T/events.json" ha.failed | jq -r 'select(.dead_host == "h4") | .reason')" \
	"the fence hook did not finish within 3 s" "a fence that hangs is cut off and raises ha.failed"

# what was decided after each failure: nothing moves, now or at the next ticks
_fence_state() { vmcc ha status --json | jq -e --arg h "$1" '.hosts[] | select(.host == $h) | .fence.state == "failed"'; }
wait_until 10 _fence_state h3 && wait_until 10 _fence_state h4
ok $? "ha status shows both fences failed"
is "$(vm_places a3 h1 h2)$(vm_places a4 h1 h2)" "" "neither HA VM was restarted"
is "$(n_events "$T/events.json" ha.restarted)$(n_events "$T/events.json" ha.fenced)" "00" \
	"no ha.fenced, no ha.restarted event"
events_stop
