#!/usr/bin/env bash
# Live migration between two sim agents over the real channel: the VM then exists on
# the destination only, with its definition and tags; events name the migration; every
# refusal the protocol promises comes with a clear error.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 25

harness_start_broker
mig_setup
mig_start_host h1
mig_start_host h2
mig_start_host h3 --memory 4096
harness_start_host nokey --keepalive 5
harness_wait_host h1 online && harness_wait_host h2 online && harness_wait_host h3 online &&
	harness_wait_host nokey online
ok $? "three hosts with the cluster key and one without are online"

vmcc create v1 --host h1 --memory 1024 --vcpus 2 --load 0.5 --tags web,blue >/dev/null
ok $? "v1 created on h1"

"$VMC_BIN/vmc" --broker "$BROKER_URL" events --json >"$T/events" 2>"$T/events.err" &
EV=$!
wait_until 30 grep -q 'following the events' "$T/events.err"
out=$(vmcc migrate v1 h2 2>&1)
ok $? "vmc migrate v1 h2 exits 0"
like "$out" "vm v1 migrated from h1 to h2" "and says where it went"
like "$out" "v1: +[0-9]+%" "with progress lines while it waited"
is "$(vm_places v1 h1 h2 h3)" "h2:running" "v1 is on h2 only, running (both agents' inventories)"
wait_until 10 sh -c "[ \"\$(\"$VMC_BIN/vmc\" --broker $BROKER_URL vms --json | jq -r '[.[] | select(.name==\"v1\") | .host] | join(\",\")')\" = h2 ]"
ok $? "vmc vms lists v1 once, on h2"
is "$(vmcc call cmd/host/h2 host.vms | jq -r '.result.vms[] | select(.name=="v1") | .tags | join(",")')" \
	"web,blue" "its tags moved with it"
is "$(vmcc call cmd/host/h1 vm.start '{"name":"v1"}' | jq -r .error.code)" "not_found" \
	"its definition left h1 (vm.start there: not_found)"
wait_until 10 sh -c "mosquitto_sub -p $BROKER_PORT -h 127.0.0.1 -t vmc/default/host/h2/vm/v1 -C 1 -W 2 | jq -e '.host == \"h2\"'"
ok $? "the retained host/h2/vm/v1 record says h2"
wait_until 10 grep -q '"migration.finished".*"role":"source"' "$T/events"
fin=$(grep '"migration.finished"' "$T/events" | grep '"role":"source"' | head -1)
is "$(jq -r '[.vm, .from, .to] | join(" ")' <<<"$fin")" "v1 h1 h2" \
	"migration.finished names vm, from and to"
jq -e '.total_ms > 0 and .downtime_ms >= 0 and .bytes > 0' <<<"$fin" >/dev/null
ok $? "with total_ms, downtime_ms and bytes"
grep -q '"migration.progress"' "$T/events"
ok $? "migration.progress events were published"

vmcc pause v1 >/dev/null && vmcc migrate v1 h1 >/dev/null
ok $? "a paused VM migrates"
is "$(vm_places v1 h1 h2)" "h1:paused" "and arrives paused"
vmcc unpause v1 >/dev/null

# refusals
out=$(vmcc migrate v1 h1 2>&1)
like "$out" "bad_request.*already on host h1" "to itself: refused"
out=$(vmcc migrate nosuch h2 --host h1 2>&1)
like "$out" "not_found.*vm nosuch not found" "an unknown VM: not_found"
out=$(vmcc migrate v1 nohost 2>&1)
like "$out" "not_found.*host nohost is not known" "to an unknown host: not_found"
vmcc create big --host h1 --memory 8192 --vcpus 1 >/dev/null
out=$(vmcc migrate big h3 2>&1)
like "$out" "no_memory.*needs 8192 MiB but host h3 has" "to a host without the memory: no_memory"
vmcc create huge --host h1 --memory 16384 --vcpus 1 >/dev/null
(VMC_TIMEOUT=300 vmcc migrate huge h2 >"$T/huge.out" 2>&1; echo $? >"$T/huge.rc") &
wait_until 10 sh -c "\"$VMC_BIN/vmc\" --broker $BROKER_URL call cmd/host/h1 host.info | jq -e '.result.migrations_out > 0'"
out=$(vmcc migrate huge h3 2>&1)
like "$out" "busy.*already migrating" "a VM already moving: busy"
wait_until 60 test -s "$T/huge.rc"
is "$(cat "$T/huge.rc")" 0 "the first migration of it still finishes"
harness_kill_host h3
harness_wait_host h3 offline 10
out=$(vmcc migrate v1 h3 2>&1)
like "$out" "refused.*host h3 is offline" "to an offline host: refused"
out=$(vmcc migrate v1 nokey 2>&1)
like "$out" "has no cluster key" "to a host without the cluster key: refused (it publishes no migration address)"
vmcc create nk1 --host nokey --memory 256 --vcpus 1 >/dev/null
out=$(vmcc migrate nk1 h2 2>&1)
like "$out" "refused.*no cluster key" "from a host without the cluster key: refused"
is "$(vm_places v1 h1 h2 nokey)" "h1:running" "after all that v1 still runs once, on h1"
kill "$EV" 2>/dev/null
