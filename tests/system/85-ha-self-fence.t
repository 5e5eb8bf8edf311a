#!/usr/bin/env bash
# Self-fencing: h3 reaches the broker through a TCP proxy; the test closes the proxy and
# kills h1 and h2, so h3 has lost the broker and every other host. Without
# --self-fence-after its HA VM keeps running; with --self-fence-after 3 it stops its HA
# VM (not its plain one) and reports ha.self_fenced once the broker is back.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/../lib/ha.sh"
harness_init
plan 9

SELF_FENCE=3
harness_start_broker
ha_setup
echo fail >"$T/fence-mode" # nobody is powered off here: fences fail, nothing restarts
proxy_start
start_h3() { # [args...]: h3, through the proxy
	local saved=$BROKER_URL
	BROKER_URL="mqtt://127.0.0.1:$PROXY_PORT"
	ha_start_host h3 "$@"
	BROKER_URL=$saved
}
ha_start_host h1
ha_start_host h2
start_h3
harness_wait_host h1 online && harness_wait_host h2 online && harness_wait_host h3 online
ok $? "h1, h2 online; h3 online through the proxy"
ha_policy_on h1 h2 h3
vmcc create c1 --host h3 --memory 1024 --tags ha >/dev/null &&
	vmcc create p1 --host h3 --memory 512 >/dev/null
ok $? "an HA VM c1 and a plain VM p1 on h3"

_sees_peers() { vmcc ha status --host h3 --json | jq -e '[.hosts[] | select(.host == "h1" or .host == "h2") | select(.state == "online")] | length == 2'; }
# h3 loses the broker, then the direct checks of h1 and h2
isolate() {
	proxy_stop
	ha_kill h1
	ha_kill h2
}
rejoin() {
	proxy_start
	harness_wait_host h3 online 60
}
_self_fenced() { grep -q 'self-fencing: vm c1 stopped' "$T/host-h3.log"; }

# --- without --self-fence-after ----------------------------------------------------
wait_until 20 _sees_peers
isolate
# SELF_FENCE is 3 s: with the option, c1 would have stopped within a few ticks of it
! wait_until $((SELF_FENCE + 5)) _self_fenced
ok $? "without --self-fence-after, h3 cut from the broker and every peer keeps c1"
rejoin
ok $? "h3 rejoins"
is "$(vm_places c1 h3) $(vm_places p1 h3)" "h3:running h3:running" "c1 and p1 still run on h3"

# --- with --self-fence-after: h3 restarts with it while h1 and h2 are down -----------
harness_kill_host h3
start_h3 --self-fence-after "$SELF_FENCE"
harness_wait_host h3 online 60
ha_start_host h1
ha_start_host h2
harness_wait_host h1 online && harness_wait_host h2 online && wait_until 20 _sees_peers &&
	[ "$(vm_places c1 h3)" = h3:running ]
ok $? "h3 back with --self-fence-after $SELF_FENCE, c1 running, h1 and h2 online"
events_start "$T/events.json"
isolate
wait_until 60 _self_fenced
ok $? "with it, h3 stops c1 once it has lost the broker and both peers"
rejoin
is "$(vm_places c1 h3) $(vm_places p1 h3)" "h3:stopped h3:running" \
	"c1 is stopped on h3 (its definition kept); p1, not HA, still runs"
wait_until 20 events_has "$T/events.json" ha.self_fenced 1
is "$(events_of "$T/events.json" ha.self_fenced | jq -r '"\(.host) \(.vm)"')" "h3 c1" \
	"once back, h3 reports ha.self_fenced for c1"
events_stop
proxy_stop
