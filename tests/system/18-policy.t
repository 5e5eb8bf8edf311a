#!/usr/bin/env bash
# The night policy is easy to set: `vmc policy show|set|clear` checks a policy
# before publishing it (retained, with v, from and ts); a policy the agents
# cannot apply is an event vmc events shows; the commented examples in
# examples/ are valid; /etc/vmcluster/rules (here $VMC_SYSCONFDIR/rules) is
# read when present, --no-rules overrides it.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 22

EX=$HARNESS_ROOT/examples
harness_start_broker
mkdir -p "$T/etc"
printf '# a test rules file\nset high 55\nset low 45\n' >"$T/etc/rules"
VMC_SYSCONFDIR=$T/etc harness_start_host h1
VMC_SYSCONFDIR=$T/etc harness_start_host h2 --no-rules
harness_wait_host h1 online
ok $? "h1 online"
harness_wait_host h2 online
ok $? "h2 online"

status() { vmcc call "cmd/host/$1" balance.status | jq -r ".result.$2"; }
is "$(status h1 high)" 55 "without --rules the agent reads \$VMC_SYSCONFDIR/rules"
is "$(status h2 high)" 80 "with --no-rules the built-in rules apply"
printf 'rule broken { do dance }\n' >"$T/etc/rules"
out=$(VMC_SYSCONFDIR=$T/etc "$VMC_BIN/vmc-hostd" --name h3 -n 2>&1)
is "$?" 2 "a broken default rules file stops the agent (exit 2)"
like "$out" "$T/etc/rules:1:" "naming the file and line"

"$VMC_BIN/vmc-hostd" --name hx --rules "$EX/rules.example" -n >"$T/rules-n.out" 2>&1
ok $? "examples/rules.example is a valid rules file"

out=$(vmcc policy show)
like "$out" "^no cluster policy" "policy show: none yet"
out=$(vmcc policy set '{"mode":"sleep"}' 2>&1)
is "$?" 2 "policy set refuses a bad mode (exit 2)"
like "$out" 'mode: expected balance, consolidate, advise or off, got "sleep".*nothing published' \
	"saying what is wrong"
like "$(vmcc policy show)" "^no cluster policy" "and publishes nothing"

vmcc policy set "$EX/policy.example.json" >"$T/set.out" 2>&1
ok $? "policy set takes examples/policy.example.json (comments and all)"
js=$(vmcc policy show --json)
is "$(jq -r '[.v, (.from | startswith("vmc/")), (.ts > 0), .mode, (.windows | length)] | join(" ")' <<<"$js")" \
	"1 true true balance 2" "it is published retained with v, from and ts"

echo '{"mode":"advise","settings":{"high":90}}' | vmcc policy set - >/dev/null
ok $? "policy set - reads standard input"
advised() { [ "$(status "$1" mode)" = advise ]; }
wait_until 20 advised h1 && wait_until 20 advised h2
ok $? "every host applies it (mode advise)"
like "$(vmcc policy show)" "mode: +advise" "policy show prints it"

# a policy published by hand, which vmc policy set would have refused
"$VMC_BIN/vmc" --broker "$BROKER_URL" events --wait 60 >"$T/events.out" 2>&1 &
evpid=$!
# published again until vmc events (subscribing meanwhile) shows both hosts' events
rejected() {
	grep -q 'policy.rejected .*host=h1' "$T/events.out" &&
		grep -q 'policy.rejected .*host=h2' "$T/events.out" && return 0
	pub -r -t vmc/default/policy -m "{\"v\":1,\"from\":\"admin/test\",\"ts\":$(date +%s%3N),\"mode\":\"sleep\"}"
	return 1
}
wait_until 30 rejected
ok $? "each host publishes a policy.rejected event"
like "$(grep policy.rejected "$T/events.out" | head -1)" 'why=.*mode: expected.*sleep' \
	"vmc events shows it with the reason"
kill "$evpid" 2>/dev/null
wait "$evpid" 2>/dev/null
like "$(vmcc policy show)" "invalid: .*ignore" "policy show says the agents ignore it"

vmcc policy clear >/dev/null
ok $? "policy clear"
like "$(vmcc policy show)" "^no cluster policy" "and the policy is gone"
not_advised() { [ "$(status h1 mode)" != advise ]; }
wait_until 20 not_advised
ok $? "the hosts drop the policy"
