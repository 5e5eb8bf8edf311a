#!/usr/bin/env bash
# A host agent that reconnects publishes its own state again, not everything: its
# host/<h>/vm/<vm> records stay where the broker kept them (a reconnection storm under a
# backlogged broker must not grow with the VMs), and only a broker that lost them (a
# restart without persistence) gets them again.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 5

harness_start_broker
harness_start_host h1 --memory 8192
harness_wait_host h1 online || echo "# h1 did not come online"
for v in v1 v2; do vmcc create "$v" --host h1 --memory 128 --vcpus 1 >/dev/null; done
records() { # the retained vm records of h1, by name
	timeout 10 mosquitto_sub -p "$BROKER_PORT" -h 127.0.0.1 -t 'vmc/default/host/h1/vm/+' \
		--retained-only -W 2 2>/dev/null | jq -r .name | sort | tr '\n' ' '
}
both() { [ "$(records)" = "v1 v2 " ]; }
wait_until 20 both || echo "# the records of v1 and v2 are not retained"

# one subscriber, so that the order of h1's messages is kept: records, then its event
sub_start "$T/sub" 'vmc/default/host/h1/vm/+' -t 'vmc/default/event/host/h1' \
	-t 'vmc/default/host/h1/state'
connections() { grep -c 'connected to broker' "$T/host-h1.log"; }
before=$(connections)
mark=$(wc -l <"$T/sub")
# another client with h1's client id: the broker closes h1's connection (a takeover, as
# when a slow broker has not yet noticed a connection the agent gave up)
mosquitto_pub -p "$BROKER_PORT" -h 127.0.0.1 -i host-h1 -t vmc/default/probe -m x
reconnected() { [ "$(connections)" -gt "$before" ]; }
online_event() { grep -q '"type":"host.online"' "$T/sub"; }
wait_until 30 reconnected && wait_until 20 online_event
ok $? "h1 reconnects and says host.online"
# live (r0) deliveries of its records before that event: what the reconnection republished
live_records=$(tail -n +"$((mark + 1))" "$T/sub" | sed -n '1,/"type":"host.online"/p' |
	grep -c "received PUBLISH ([^)]*r0[^)]*'vmc/default/host/h1/vm/")
is "$live_records" 0 "the reconnection republishes none of its vm records"
tail -n +"$((mark + 1))" "$T/sub" | grep -q "received PUBLISH ([^)]*r0[^)]*'vmc/default/host/h1/state'"
ok $? "it publishes its state again"
wait_until 10 both
ok $? "the broker still holds both records"
kill "$SUB_PID" 2>/dev/null

# a broker restarted without persistence has lost them: they come again
harness_restart_broker
wait_until 60 both
ok $? "after a broker restart the records of v1 and v2 are published again"
