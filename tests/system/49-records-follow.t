#!/usr/bin/env bash
# Host agents build their picture of the other hosts from the retained host/<h>/vm/<vm>
# records, and read guest/<vm>/load only for their own VMs: after a migration the
# source's record is cleared (else peers see the VM on both hosts, and an undrain asks
# the old host to move back a VM it no longer has), and the guest reports of the VM
# reach the destination's agent, no longer the source's.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 6

harness_start_broker
mig_setup
for h in h1 h2; do mig_start_host "$h" --memory 4096; done
for h in h1 h2; do harness_wait_host "$h" online || break; done
vmcc create v1 --host h1 --memory 256 --vcpus 1 >/dev/null
records() { # the retained records of v1, as "host" lines
	timeout 10 mosquitto_sub -p "$BROKER_PORT" -h 127.0.0.1 -t 'vmc/default/host/+/vm/v1' \
		--retained-only -W 2 2>/dev/null | jq -r .host | sort | tr '\n' ' '
}
on() { [ "$(records)" = "$1 " ]; }
wait_until 20 on h1
ok $? "v1 is recorded on h1"

vmcc migrate v1 h2 --no-hold >/dev/null
ok $? "v1 migrated to h2"
wait_until 20 on h2
ok $? "only h2 records v1 (h1's record cleared): $(records)"

rx() { # HOST: messages the agent has received
	vmcc call "cmd/host/$1" host.info 2>/dev/null | jq -r .result.rx
}
# h2 follows v1's guest reports once its sample has seen the VM
guest() { pub -t vmc/default/guest/v1/load -m '{"v":1,"from":"guest/v1","ts":1}'; }
r2=$(rx h2)
more_on_h2() { guest && [ "$(rx h2)" -ge $((r2 + 5)) ]; }
wait_until 30 more_on_h2
ok $? "v1's guest reports reach h2"
r1=$(rx h1)
for _ in $(seq 30); do guest; done
d1=$(($(rx h1) - r1))
ok $((d1 < 30 ? 0 : 1)) "and no longer h1 ($d1 messages while 30 guest reports went out)"

# a record of h1 for a VM it does not have (it left while the agent was down)
pub -r -t vmc/default/host/h1/vm/ghost \
	-m '{"v":1,"from":"host/h1","ts":1,"name":"ghost","host":"h1","state":"running","vcpus":1,"mem_mb":256}'
harness_kill_host h1
mig_start_host h1 --memory 4096
harness_wait_host h1 online
ghosts() {
	timeout 10 mosquitto_sub -p "$BROKER_PORT" -h 127.0.0.1 -t 'vmc/default/host/+/vm/ghost' \
		--retained-only -W 2 2>/dev/null | grep -c ghost
}
no_ghost() { [ "$(ghosts)" = 0 ]; }
wait_until 20 no_ghost
ok $? "restarted, h1 clears its stale record of a VM it does not have"
