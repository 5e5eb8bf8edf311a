#!/usr/bin/env bash
# A night window switches policy at the right simulated time: two 4-CPU sim
# hosts whose virtual clocks start at 21:50 (--clock-start) and run 20 times
# faster, with rules that balance by day and consolidate from 22:00. h1 runs two
# VMs, h2 one, all lightly loaded. Before 22:00 (virtual) the agents report no
# active consolidate rule and nothing moves; the night rule turns on at 22:00
# virtual (the event's ts), and then, only then, h2 is emptied onto h1.
# Also: --clock-start refuses malformed times, and drivers other than sim.
. "$(dirname "$0")/../lib/harness.sh"
harness_init

harness_start_broker
# local time of day (HH:MM:SS) of a ts in ms
tod() { date -d "@$(($1 / 1000))" +%T; }
# 22:00:00 today in ms, as the agents count it: their clocks start at 21:50 today
NIGHT=$(date -d "$(date +%F) 22:00:00" +%s000)
harness_cluster_key
cat >"$T/rules" <<'RULES'
rule overload { when cpu > high for hold  until cpu < low for hold  do balance }
rule night { during 22:00-06:00  do consolidate }
RULES
for h in h1 h2; do
	harness_start_host "$h" --cpus 4 --memory 65536 --time-scale 20 --clock-start 21:50 \
		--interval 0.2 --migrate-port 0 --cluster-key-file "$T/cluster.key" --rules "$T/rules"
done
for h in h1 h2; do harness_wait_host "$h" online 60 || break; done
plan 12
ok $? "two hosts online"

events_start "$T/events.json" 120
vmcc create a1 --host h1 --memory 1024 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create a2 --host h1 --memory 1024 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create b1 --host h2 --memory 1024 --vcpus 1 --load 0.5 >/dev/null
ok $? "VMs a1, a2 on h1 and b1 on h2"

status=$(vmcc --json call cmd/host/h2 balance.status 2>&1)
ts=$(jq -r '.ts // empty' <<<"$status")
[ -n "$ts" ] && [ "$ts" -lt "$NIGHT" ]
ok $? "h2 answers before 22:00 virtual ($(tod "${ts:-0}"))"
is "$(jq -c '.result.actions' <<<"$status")" "[]" "by day no rule is active"

night_on() { event_seen "$T/events.json" '.type == "balance.rule" and .rule == "night" and
	.state == "on" and .host == "h2"'; }
wait_until 60 night_on
ok $? "h2's night rule turns on"
on_ts=$(jq -r 'select(.type == "balance.rule" and .rule == "night" and .state == "on")
	| .ts' "$T/events.json" | sort -n | head -1)
[ "$on_ts" -ge "$NIGHT" ] && [ "$on_ts" -lt $((NIGHT + 120000)) ]
ok $? "the night rule turns on at 22:00 virtual, within its first 2 minutes (first at $(tod "${on_ts:-0}"))"
like "$(vmcc --json call cmd/host/h2 balance.status | jq -c .result.actions)" \
	'consolidate' "balance.status shows consolidate at night"

all_on_h1() { [ "$(vmcc vms --json | jq -r '[.[] | select(.host == "h1" and .state == "running")] | length')" = 3 ]; }
wait_until 60 all_on_h1
ok $? "h2 is emptied onto h1: 3 VMs on h1"
events_stop
finished=$(jq -c 'select(.type == "migration.finished" and .role == "source")' "$T/events.json")
is "$(jq -r '"\(.vm) \(.from)->\(.to)"' <<<"$finished")" "b1 h2->h1" "one migration: b1 from h2 to h1"
early=$(jq -s --argjson n "$NIGHT" 'map(select((.type | startswith("migration.") or
	. == "balance.decision") and .ts < $n)) | length' "$T/events.json")
is "$early" "0" "no balance decision and no migration before 22:00 virtual"

bad=$(timeout 10 "$VMC_BIN/vmc-hostd" --name x --state-dir "$T/x" --clock-start 22:60 2>&1)
like "$bad" 'clock-start "22:60": expected .*HH:MM' "--clock-start 22:60 is refused, naming the option"
bad=$(timeout 10 "$VMC_BIN/vmc-hostd" --name x --state-dir "$T/x" --driver xen --clock-start 22:00 2>&1)
like "$bad" 'clock-start.*--driver sim' "--clock-start is refused with another driver than sim"
