#!/usr/bin/env bash
# The thesis experiment in advise mode, time-scaled: 16 busy VMs on h1 of four
# 4-CPU hosts. The real agents run the rules, ask for help, get offers and
# publish their decision as balance.decision events, moving nothing; the dry-run
# plan (balance.plan) shows the 12 moves. A broken rules file is refused with
# file:line:column.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 14

cat >"$T/bad.rules" <<'RULES'
rule a {
  when cpu >> 80
  do dance
}
RULES
out=$("$VMC_BIN/vmc-hostd" --name x --rules "$T/bad.rules" -n 2>&1)
rc=$?
is "$rc" "2" "a broken rules file: vmc-hostd -n exits 2"
like "$out" "bad.rules:2:13: expected a number" "with file:line:column and what was expected"
like "$out" "bad.rules:3:6: expected an action" "and every error"

harness_start_broker
for h in h1 h2 h3 h4; do
	harness_start_host "$h" --cpus 4 --memory 65536 --time-scale 60 --interval 0.1 --advise yes
done
for h in h1 h2 h3 h4; do harness_wait_host "$h" online || break; done
ok $? "four hosts online"

events_start "$T/events.json" 60
evpid=$!
for i in $(seq -w 1 16); do
	vmcc create "vm$i" --host h1 --memory 1024 --vcpus 1 --load 1 >/dev/null || break
done
ok $? "16 busy VMs created on h1"

plan_moves() { vmcc call cmd/host/h1 balance.plan '{}' 2>/dev/null; }
twelve() { [ "$(plan_moves | jq '.result.moves | length')" = 12 ]; }
wait_until 30 twelve
ok $? "the dry-run plan moves 12 VMs"
p=$(plan_moves)
is "$(jq -r '[.result.moves[].to] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' <<<"$p")" \
	"h2=4 h3=4 h4=4" "4 to each other host"
is "$(jq -r '[.result.moves[].vm] | unique | length' <<<"$p")" "12" "no VM planned twice"

is "$(vmcc plan --json | jq '.moves | length')" "12" "vmc plan --json: the same 12 moves"
out=$(vmcc plan)
like "$out" "plan \(balance\): 12 moves" "vmc plan prints the moves"
like "$out" "vm[0-9]+ +h1 +h[234] +[0-9.]+\\?? +[0-9.]+ > [0-9.]+ +[0-9.]+ > [0-9.]+" \
	"each with the predicted loads before and after"

decided() { grep -q '"type":"balance.decision"' "$T/events.json"; }
wait_until 30 decided
ok $? "h1 asked for help, got offers and published its decision"
like "$(grep '"type":"balance.decision"' "$T/events.json" | head -1)" '"advise":true' \
	"as advice"
is "$(vmcc vms --host h1 --json | jq 'length')" "16" "advise mode moved nothing"
kill "$evpid" 2>/dev/null
wait "$evpid" 2>/dev/null || true
