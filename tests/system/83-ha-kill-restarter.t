#!/usr/bin/env bash
# kill -9 of the agent that coordinates and makes the restarts (h1), at random points of
# the 20 restarts of a dead host's VMs, restarted at once each time: afterwards every VM
# runs exactly once.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/../lib/ha.sh"
harness_init
plan 5
HA_TIMEOUT=6 # an agent killed and restarted at once is back well within it

harness_start_broker
ha_setup
for h in h1 h2 h3; do ha_start_host $h; done
harness_wait_host h1 online && harness_wait_host h2 online && harness_wait_host h3 online
ok $? "h1, h2, h3 online"
ha_policy_on h1 h2 h3
N=20
fails=0
for ((i = 1; i <= N; i++)); do
	vmcc create "k$i" --host h3 --memory 256 --tags ha >/dev/null || fails=$((fails + 1))
done
is "$fails" 0 "$N HA VMs on h3"
_protected() { vmcc ha status --json | jq -e --argjson n "$N" '.protected | length == $n'; }
wait_until 20 _protected

ha_kill h3
_restarts_begun() { grep -q restart_from "$T"/shared/k*.json; }
wait_until 60 _restarts_begun
kills=0
for ((r = 1; r <= ${KILL_ROUNDS:-6}; r++)); do
	delay=$((RANDOM % 400))
	sleep "0.$(printf '%03d' $delay)"
	ha_kill h1
	ha_start_host h1
	kills=$((kills + 1))
	harness_wait_host h1 online 30 || break
done
diag "h1 killed $kills times during the restarts"
_all_settled() {
	local i
	for ((i = 1; i <= N; i++)); do vm_settled "k$i" h1 h2 || return 1; done
}
wait_until 120 _all_settled
ok $? "every VM runs exactly once on h1 or h2"
bad=0
for ((i = 1; i <= N; i++)); do
	vm_settled "k$i" h1 h2 || { bad=$((bad + 1)); diag "k$i: $(vm_places "k$i" h1 h2 | tr '\n' ' ')"; }
done
is "$bad" 0 "no VM lost or doubled"
is "$(wc -l <"$T/fenced.log")" 1 "h3 was fenced once"
