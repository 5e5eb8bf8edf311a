#!/usr/bin/env bash
# Bad input always gets a clear error naming what was wrong, and changes nothing.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 26

harness_start_broker
harness_start_host h1
harness_wait_host h1 online
ok $? "h1 online"
C=vmc/default
vmcc create keep1 --host h1 --memory 128 --vcpus 1 >/dev/null
vmcc create pin1 --host h1 --memory 128 --vcpus 1 --tags pinned >/dev/null
before=$(vmcc vms --json | jq -c 'map({name,state}) | sort_by(.name)')

sub_start "$T/r" "$C/reply/bad" -V mqttv5
# ask MSG: sends a payload over MQTT 5 with a response topic, prints the reply
# (runs in $(...), so it counts the replies already there rather than keeping a counter)
ask() {
	local n=$(($(sub_payloads "$T/r" | wc -l) + 1))
	pub -V mqttv5 -t "$C/cmd/host/h1" -D publish response-topic "$C/reply/bad" "$@"
	wait_until 10 sub_has "$T/r" $n
	sub_payloads "$T/r" | sed -n "${n}p"
}
err_of() { jq -r '"\(.ok) \(.error.code): \(.error.message)"' <<<"$1"; }

r=$(ask -m '{"id":"b1","op":"vm.create",')
like "$(err_of "$r")" "^false bad_json: .+" "malformed JSON: bad_json"
r=$(ask -m '[1,2,3]')
like "$(err_of "$r")" "^false bad_json: .*object" "a JSON array instead of an object: bad_json"
r=$(ask -m '{"id":"b3","op":"vm.fly","args":{}}')
like "$(err_of "$r")" "^false unknown_op: .*vm.fly" "unknown op names the op"
r=$(ask -m '{"op":"host.info"}')
like "$(err_of "$r")" "^false bad_request: .*id" "a missing id is named"
r=$(ask -m '{"id":"b5","op":"vm.create","args":{"memory_mb":128,"vcpus":1}}')
like "$(err_of "$r")" "^false bad_request: args.name" "a missing args.name is named"
r=$(ask -m '{"id":"b6","op":"vm.create","args":{"name":"x6","memory_mb":"lots","vcpus":1}}')
like "$(err_of "$r")" "^false bad_request: args.memory_mb: expected" "a wrong-typed field is named with what was expected"
r=$(ask -m '{"id":"b7","op":"vm.create","args":{"name":"x7","memory_mb":128,"vcpus":-3}}')
like "$(err_of "$r")" "^false bad_request: args.vcpus" "an out-of-range field is named"
r=$(ask -m '{"id":"b8","op":"vm.create","args":"name"}')
like "$(err_of "$r")" "^false bad_request: args" "args that is not an object is named"
r=$(ask -m '{"id":42,"op":"host.info"}')
like "$(err_of "$r")" "^false bad_request: id" "an id that is not a string is named"

head -c 1048576 /dev/zero | tr '\0' 'A' >"$T/pad"
{ printf '{"id":"big","op":"vm.create","args":{"name":"big","pad":"'; cat "$T/pad"; printf '"}}'; } >"$T/big.json"
r=$(ask -f "$T/big.json")
like "$(err_of "$r")" "^false too_large: " "a 1 MiB payload is refused as too_large"

for name in '../x' 'a b' '$(reboot)' "$(printf 'v%.0s' $(seq 300))" '' '.hidden' 'a/b'; do
	r=$(ask -m "$(jq -cn --arg n "$name" '{id:("name-"+$n[0:20]),op:"vm.create",args:{name:$n,memory_mb:64,vcpus:1}}')")
	case "$name" in
	'../x' | 'a b' | '$(reboot)' | '.hidden' | 'a/b') like "$(err_of "$r")" "^false bad_name: .*vm name|^false bad_name: args.name" "name '$name' is refused as bad_name" ;;
	'') like "$(err_of "$r")" "^false bad_(name|request): args.name" "an empty name is refused" ;;
	*) like "$(err_of "$r")" "^false bad_name: .*64" "a 300-character name is refused, naming the limit" ;;
	esac
done

# peer requests (balance/peer/h1/<sender>): only vm.migrate; anything else is refused, unrun
# the reply is found by its id: a late reply to an earlier request cannot be taken for it
reply_of() { sub_payloads "$T/r" | jq -c --arg id "$1" 'select(.id == $id)' | head -1; }
has_reply() { [ -n "$(reply_of "$1")" ]; }
askpeer() {
	local id
	id=$(jq -r .id <<<"$1")
	pub -V mqttv5 -t "$C/balance/peer/h1/h9" -m "$1"
	wait_until 10 has_reply "$id"
	reply_of "$id"
}
env='"v":1,"from":"host/h9","ts":1'
r=$(askpeer '{'"$env"',"id":"p1","op":"vm.destroy","args":{"name":"keep1"},"reply_to":"'"$C/reply/bad"'"}')
like "$(err_of "$r")" "^false refused: .*vm.destroy.*balance/peer/h1" "a peer request for vm.destroy is refused, naming op and topic"
r=$(askpeer '{'"$env"',"id":"p2","op":"host.drain","args":{},"reply_to":"'"$C/reply/bad"'"}')
like "$(err_of "$r")" "^false refused: .*host.drain" "a peer request for host.drain is refused"
r=$(askpeer '{'"$env"',"id":"p3","op":"vm.migrate","args":{"name":"nosuch","to":"h9"},"reply_to":"'"$C/reply/bad"'"}')
like "$(err_of "$r")" "^false [a-z_]+: " "a peer request for vm.migrate is taken (and answered)"
msg=$(jq -r .error.message <<<"$r")
ok $([[ "$msg" != *"not accepted on"* ]] && echo 0 || echo 1) "vm.migrate from a peer is not refused as a peer op ($msg)"
r=$(askpeer '{'"$env"',"id":"p4","op":"vm.migrate","args":{"name":"pin1","to":"h9"},"reply_to":"'"$C/reply/bad"'"}')
like "$(err_of "$r")" "^false refused: vm pin1 is pinned" "a peer request never moves a pinned VM"
# one speaking for another host than its topic's is ignored: no reply, nothing run
n=$(sub_payloads "$T/r" | wc -l)
pub -V mqttv5 -t "$C/balance/peer/h1/h9" -m '{"v":1,"from":"host/h8","ts":1,"id":"p5","op":"vm.destroy","args":{"name":"keep1"},"reply_to":"'"$C/reply/bad"'"}'
r=$(askpeer '{'"$env"',"id":"p6","op":"host.info","args":{},"reply_to":"'"$C/reply/bad"'"}')
is "$(sub_payloads "$T/r" | sed -n "$((n + 1)),\$p" | jq -r .id | tr '\n' ' ')" "p6 " \
	"a peer request whose from is not the topic's sender gets no reply"
kill $SUB_PID 2>/dev/null

# MQTT 3.1.1, unreadable: nowhere to reply, so an event says it was rejected
"$VMC_BIN/vmc" --broker "$BROKER_URL" events --json --count 1 >"$T/ev" 2>"$T/ev.err" &
wait_until 30 grep -q 'following the events' "$T/ev.err"
pub -V mqttv311 -t "$C/cmd/host/h1" -m 'this is not json'
wait_until 10 grep -q command.rejected "$T/ev"
ok $? "an unreadable 3.1.1 command is reported as a command.rejected event"

after=$(vmcc vms --json | jq -c 'map({name,state}) | sort_by(.name)')
is "$after" "$before" "none of it changed anything"
