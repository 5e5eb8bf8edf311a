#!/usr/bin/env bash
# A host cut from the broker only (a TCP proxy between it and the broker, closed): the
# broker says it is gone, but its migration channel still answers the other hosts, so
# it is neither fenced nor are its VMs restarted; when the proxy is back it rejoins, its
# VMs running there once. h3 self-fences (--self-fence-after 2), but the other hosts
# still answer its direct checks: it keeps its VMs.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/../lib/ha.sh"
harness_init
plan 7

harness_start_broker
ha_setup
proxy_start
ha_start_host h1
ha_start_host h2
BROKER_URL_SAVED=$BROKER_URL
BROKER_URL="mqtt://127.0.0.1:$PROXY_PORT" ha_start_host h3 --self-fence-after 2
BROKER_URL=$BROKER_URL_SAVED
harness_wait_host h1 online && harness_wait_host h2 online && harness_wait_host h3 online
ok $? "h1, h2 online; h3 online through the proxy"
ha_policy_on h1 h2 h3
vmcc create c1 --host h3 --memory 1024 --tags ha >/dev/null &&
	vmcc create c2 --host h3 --memory 1024 --tags ha >/dev/null
ok $? "two HA VMs on h3"
events_start "$T/events.json"

proxy_stop
harness_wait_host h3 offline 30
ok $? "with the proxy closed the broker reports h3 offline"
_sees_alive() { vmcc ha status --host h1 --json | jq -e '.hosts[] | select(.host == "h3") | .state == "offline" and .direct == "alive"'; }
wait_until 30 _sees_alive
ok $? "h1 sees h3 offline on the broker but alive on the direct check"
# HA_TIMEOUT is 2 s: a wrong decision would have been made within a few ticks of it
_fenced() { [ -s "$T/fenced.log" ] || events_has "$T/events.json" ha.fenced 1; }
! wait_until 8 _fenced
ok $? "h3 is not fenced"

proxy_start
harness_wait_host h3 online 60
ok $? "h3 rejoins when the proxy is back"
bad=0
for v in c1 c2; do vm_settled $v h1 h2 h3 && [ "$(vm_places $v h1 h2 h3)" = "h3:running" ] || bad=$((bad + 1)); done
is "$bad" 0 "its VMs run on h3 only, never restarted"
events_stop
proxy_stop
