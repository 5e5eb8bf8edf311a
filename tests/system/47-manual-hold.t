#!/usr/bin/env bash
# A manual migration holds: two VMs moved by hand onto a busy host stay there for
# the hold time, though that host's balancer wants to shed load; once released,
# balancing may move them again. Three 4-CPU sim hosts at 20x (clock from 12:00,
# so the night rule stays out of it), balancing on with the built-in rules: h2
# runs three pinned VMs busy on one CPU each (75 %); m1 and m2 (half a CPU each)
# run on h1. Moving m1 to h2 would put h2 at 87.5 %, over high (80 %): vmc refuses
# without --force. With --force both go, each held for manual_hold (30 min
# virtual); h2's overload rule turns on, yet for 5 virtual minutes no decision and
# no migration touches m1 or m2. After `vmc release m1`, h2 sheds m1.
. "$(dirname "$0")/../lib/harness.sh"
harness_init

harness_start_broker
harness_cluster_key
for h in h1 h2 h3; do
	harness_start_host "$h" --cpus 4 --memory 65536 --time-scale 20 --clock-start 12:00 \
		--interval 0.2 --migrate-port 0 --cluster-key-file "$T/cluster.key"
done
for h in h1 h2 h3; do harness_wait_host "$h" online 60 || break; done
plan 15
ok $? "three hosts online"

for p in p1 p2 p3; do
	vmcc create "$p" --host h2 --memory 1024 --vcpus 1 --load 1 --tags pinned >/dev/null || break
done &&
	vmcc create m1 --host h1 --memory 1024 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create m2 --host h1 --memory 1024 --vcpus 1 --load 0.5 >/dev/null
ok $? "h2 runs p1-p3 (pinned, busy), h1 runs m1 and m2"
h2_busy() { vmcc hosts --json | jq -e '.[] | select(.name == "h2") | .cpu >= 74' >/dev/null; }
wait_until 30 h2_busy
ok $? "h2 is at 75 %"

out=$(vmcc migrate m1 h2 2>&1)
rc=$?
is "$rc" "1" "vmc migrate m1 h2 is refused (exit 1): h2 would be over its threshold"
like "$out" 'host h2 is at [0-9]+ % CPU and would be at [0-9]+ % with m1.*threshold \(80 %\).*--force' \
	"the refusal says why and names --force ($out)"
where() { vmcc vms --json | jq -r --arg v "$1" '.[] | select(.name == $v) | .host'; }
is "$(where m1)" "h1" "nothing moved"

events_start "$T/events.json" 300
out=$(vmcc migrate m1 h2 --force 2>&1) && out2=$(vmcc migrate m2 h2 --force 2>&1)
ok $? "with --force m1 and m2 move to h2"
like "$out" 'vm m1 is held on h2 until [0-9-]+ [0-9:]+ .*vmc release m1' "the reply says m1 is held, until when"
held() { vmcc vms --json | jq -e --arg v "$1" '.[] | select(.name == $v and .host == "h2") |
	.held_until > 0' >/dev/null; }
held m1 && held m2
ok $? "the load message lists held_until for m1 and m2 (consoles show it)"

over() { event_seen "$T/events.json" '.type == "balance.rule" and .rule == "overload" and
	.host == "h2" and .state == "on"'; }
wait_until 60 over
ok $? "h2's overload rule turns on (h2 at 100 %)"
# five virtual minutes (15 s) in which the balancer would have acted many times over
t0=$(vmcc --json call cmd/host/h2 balance.status | jq .ts)
five_min() { [ "$(vmcc --json call cmd/host/h2 balance.status | jq .ts)" -ge $((t0 + 300000)) ]; }
wait_until 60 five_min
touched() { # VM: decisions and migrations that name it
	jq -c --arg v "$1" --argjson t0 "$t0" 'select(.ts >= $t0 and
		((.type == "balance.decision" and (.vms | index($v))) or
		((.type | startswith("migration.")) and .vm == $v)))' "$T/events.json"
}
is "$(touched m1)$(touched m2)" "" "for 5 virtual minutes nothing moves m1 or m2 back"
is "$(where m1) $(where m2)" "h2 h2" "m1 and m2 are still on h2"

out=$(vmcc release m1 2>&1)
like "$out" 'vm m1 released' "vmc release m1 ends its hold ($out)"
left() { [ "$(where m1)" != "h2" ] && [ -n "$(where m1)" ]; }
wait_until 60 left
ok $? "once released, h2's balancer moves m1 away (now on $(where m1))"
is "$(where m2)" "h2" "m2, still held, stays on h2"
events_stop
