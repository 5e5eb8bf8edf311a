#!/usr/bin/env bash
# Two hosts die at once: both are fenced, and every HA VM of both runs exactly once on
# the two hosts left, within their memory.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/../lib/ha.sh"
harness_init
plan 5

harness_start_broker
ha_setup
for h in h1 h2 h3 h4; do ha_start_host $h --memory 8192; done
for h in h1 h2 h3 h4; do harness_wait_host $h online || break; done
ok $? "h1 to h4 online"
ha_policy_on h1 h2 h3 h4
vmcc create d1 --host h3 --memory 3072 --tags ha >/dev/null &&
	vmcc create d2 --host h3 --memory 3072 --tags ha >/dev/null &&
	vmcc create d3 --host h4 --memory 3072 --tags ha >/dev/null &&
	vmcc create d4 --host h4 --memory 3072 --tags ha >/dev/null
ok $? "two HA VMs on h3, two on h4"
_protected() { vmcc ha status --json | jq -e '.protected | length == 4'; }
wait_until 20 _protected

kill -9 "${HOST_PID[h3]}" "${HOST_PID[h4]}"
ha_kill h3
ha_kill h4
_all_settled() {
	local v
	for v in d1 d2 d3 d4; do vm_settled $v h1 h2 || return 1; done
}
wait_until 90 _all_settled
ok $? "every HA VM runs exactly once on h1 or h2"
is "$(sort "$T/fenced.log" | cut -d' ' -f1 | tr '\n' ' ')" "h3 h4 " "each dead host fenced once"
per=$(for h in h1 h2; do host_vms $h | grep -c running; done | tr '\n' ' ')
is "$per" "2 2 " "spread by memory: two 3 GiB VMs on each 8 GiB host"
