#!/usr/bin/env bash
# Any script with mosquitto_pub can drive a host: MQTT 3.1.1 with reply_to, MQTT 5 with a
# response topic and correlation data; a repeated id gets the same single reply.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 12

harness_start_broker
harness_start_host h1
harness_wait_host h1 online
ok $? "h1 online"
C=vmc/default

# MQTT 3.1.1: reply_to in the payload
sub_start "$T/r1" "$C/reply/script1"
pub -V mqttv311 -t "$C/cmd/host/h1" -m '{"id":"c-1","op":"vm.create","args":{"name":"a1","memory_mb":256,"vcpus":1},"reply_to":"vmc/default/reply/script1"}'
wait_until 10 sub_has "$T/r1" 1
r=$(sub_payloads "$T/r1" | head -1)
is "$(jq -r '"\(.id) \(.ok) \(.result.name) \(.result.state) \(.from)"' <<<"$r")" "c-1 true a1 running host/h1" \
	"3.1.1: vm.create answers on reply_to"

# the same id again: the same reply, nothing done twice
pub -V mqttv311 -t "$C/cmd/host/h1" -m '{"id":"c-1","op":"vm.create","args":{"name":"a1","memory_mb":256,"vcpus":1},"reply_to":"vmc/default/reply/script1"}'
wait_until 10 sub_has "$T/r1" 2
r2=$(sub_payloads "$T/r1" | sed -n 2p)
is "$(jq -c 'del(.ts)' <<<"$r2")" "$(jq -c 'del(.ts)' <<<"$r")" "a repeated id gets the first reply again"
is "$(vmcc vms --json | jq '[.[] | select(.name=="a1")] | length')" "1" "and the VM was created once"
# a last command as a marker: the agent answers in order, so once its reply is here any
# extra reply to c-1 would have come before it
pub -V mqttv311 -t "$C/cmd/host/h1" -m '{"id":"c-marker","op":"host.info","reply_to":"vmc/default/reply/script1"}'
wait_until 10 sub_has "$T/r1" 3
is "$(sub_payloads "$T/r1" | jq -r .id | grep -c '^c-1$')" "2" "exactly one reply per copy of the command"
kill $SUB_PID 2>/dev/null

# MQTT 5: response topic and correlation data
sub_start "$T/r2" "$C/reply/script5" -V mqttv5 -F '%j'
pub -V mqttv5 -t "$C/cmd/host/h1" -D publish response-topic "$C/reply/script5" \
	-D publish correlation-data corr-42 -m '{"id":"c-2","op":"host.info"}'
wait_until 10 grep -q '"payload"' "$T/r2"
r=$(grep '"payload"' "$T/r2" | head -1)
is "$(jq -r '.properties["correlation-data"] // .properties.correlation_data // empty' <<<"$r")" "corr-42" \
	"5: the reply carries the correlation data"
is "$(jq -r '.payload | if type=="string" then fromjson else . end | "\(.id) \(.ok) \(.result.name)"' <<<"$r")" \
	"c-2 true h1" "5: host.info answers on the response topic"
kill $SUB_PID 2>/dev/null

# every op through plain MQTT
sub_start "$T/r3" "$C/reply/script3"
n=0
for cmd in '"op":"vm.pause","args":{"name":"a1"}' '"op":"vm.unpause","args":{"name":"a1"}' \
	'"op":"vm.shutdown","args":{"name":"a1"}' '"op":"vm.start","args":{"name":"a1"}' \
	'"op":"vm.destroy","args":{"name":"a1"}' '"op":"vm.remove","args":{"name":"a1"}' \
	'"op":"host.vms"'; do
	n=$((n + 1))
	pub -t "$C/cmd/host/h1" -m "{\"id\":\"op-$n\",$cmd,\"reply_to\":\"$C/reply/script3\"}"
	wait_until 10 sub_has "$T/r3" $n
done
is "$(sub_payloads "$T/r3" | jq -r '.ok' | sort | uniq -c | tr -s ' ')" " 7 true" \
	"pause, unpause, shutdown, start, destroy, remove and host.vms all answer ok"
is "$(sub_payloads "$T/r3" | jq -r '.id' | tr '\n' ' ')" "op-1 op-2 op-3 op-4 op-5 op-6 op-7 " \
	"each with its own id, in order"
is "$(sub_payloads "$T/r3" | tail -1 | jq -c '.result.vms')" "[]" "host.vms lists the VMs (none left)"
kill $SUB_PID 2>/dev/null

# retained state is there for any subscriber
st=$(mosquitto_sub -p "$BROKER_PORT" -t "$C/host/h1/state" -C 1 -W 5)
is "$(jq -r '"\(.state) \(.v) \(.from)"' <<<"$st")" "online 1 host/h1" "retained host state with the envelope"
ld=$(mosquitto_sub -p "$BROKER_PORT" -t "$C/host/h1/load" -C 2 -W 5 | tail -1)
like "$(jq -r '.seq' <<<"$ld")" "^[0-9]+$" "periodic load messages carry a sequence number"
