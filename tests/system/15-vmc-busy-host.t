#!/usr/bin/env bash
# vmc finds a VM's host in its snapshot of the cluster, then waits on the bus again (a
# second snapshot, the command's reply) while new load messages of that host replace the
# one it read. Commands that name a VM must not keep using the replaced message: here a
# host's load is republished a hundred times a second, nobody answers its commands, and
# each command must end with its time-out error (exit 3), not a crash.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 6

harness_start_broker
now() { date +%s%3N; }
pub -r -t vmc/default/host/hb/state -m "{\"v\":1,\"from\":\"host/hb\",\"ts\":$(now),\"state\":\"online\",\"session\":1,\"driver\":\"sim\",\"cpus\":4,\"mem_total_mb\":4096}"

# one long-lived publisher, fed a retained load of hb (holding VM b1) every 10 ms
loads() {
	local seq=0
	while :; do
		seq=$((seq + 1))
		echo "{\"v\":1,\"from\":\"host/hb\",\"ts\":${EPOCHREALTIME/./}000,\"seq\":$seq,\"session\":1,\"state\":\"online\",\"cpus\":4,\"cpu\":10,\"mem_total_mb\":4096,\"mem_used_mb\":512,\"mem_free_mb\":3584,\"migrations_out\":0,\"migrations_in\":0,\"vms\":[{\"name\":\"b1\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":512,\"cpu\":5}]}" || return
		sleep 0.01
	done
}
loads | mosquitto_pub -p "$BROKER_PORT" -h 127.0.0.1 -q 0 -r -l -t vmc/default/host/hb/load &
LOADS_PID=$!
trap 'kill $LOADS_PID 2>/dev/null; harness_cleanup' EXIT
_listed() { vmcc vms --json 2>/dev/null | jq -e '.[] | select(.name == "b1")' >/dev/null; }
wait_until 20 _listed
ok $? "b1 is listed on hb"

for cmd in "ha enable b1" "ha disable b1" "start b1" "shutdown b1" "ha status"; do
	VMC_TIMEOUT=2 vmcc $cmd >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" != 3 ] || grep -q Sanitizer "$T/err"; then
		diag "vmc $cmd: exit $rc: $(head -c 600 "$T/err")"
	fi
	is "$rc" 3 "vmc $cmd: hb never answers: the time-out error, no crash"
done
