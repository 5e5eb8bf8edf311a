#!/usr/bin/env bash
# Every VM command works end to end through vmc, and errors say what was wrong.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 25

harness_start_broker
harness_start_host h1 --memory 8192
harness_wait_host h1 online
ok $? "h1 online"

vm_state() { vmcc vms --json | jq -r --arg n "$1" '.[] | select(.name==$n) | .state'; }

out=$(vmcc create web1 --host h1 --memory 1024 --vcpus 2 --load 1 2>&1)
ok $? "vmc create exits 0 once the VM runs"
is "$(vm_state web1)" "running" "web1 is running"
is "$(vmcc vms --json | jq -r '.[] | select(.name=="web1") | "\(.host) \(.vcpus) \(.mem_mb)"')" \
	"h1 2 1024" "with the asked vcpus and memory on h1"

out=$(vmcc create web1 --host h1 --memory 1024 --vcpus 1 2>&1)
rc=$?
ok $((rc == 1 ? 0 : 1)) "creating it again fails with exit 1"
like "$out" "exists" "and says it already exists"

out=$(vmcc create huge --host h1 --memory 100000 --vcpus 1 2>&1)
like "$out" "no_memory.*needs 100000 MiB" "a VM larger than free memory is refused, saying why"

vmcc pause web1 >/dev/null
is "$(vm_state web1)" "paused" "pause"
out=$(vmcc pause web1 2>&1)
like "$out" "bad_state.*paused, not running" "pausing a paused VM says it is paused"
vmcc unpause web1 >/dev/null
is "$(vm_state web1)" "running" "unpause"
vmcc shutdown web1 >/dev/null
is "$(vm_state web1)" "stopped" "shutdown leaves the VM defined and stopped"
out=$(vmcc shutdown web1 2>&1)
like "$out" "already stopped" "shutting down a stopped VM says so"
vmcc start web1 >/dev/null
is "$(vm_state web1)" "running" "start runs it again from its definition"
vmcc destroy web1 >/dev/null
is "$(vm_state web1)" "stopped" "destroy stops it at once"
vmcc remove web1 >/dev/null
is "$(vm_state web1)" "" "remove forgets a stopped VM"

out=$(vmcc start nosuch --host h1 2>&1)
like "$out" "not_found" "a VM that does not exist is not_found"
out=$(vmcc destroy nosuch 2>&1)
ok $(( $? == 1 ? 0 : 1 )) "vmc exits 1 when the VM is on no host"

info=$(vmcc info h1 --json)
is "$(jq -r '.name, .cpus, .mem_total_mb' <<<"$info" | tr '\n' ' ')" "h1 8 8192 " "vmc info shows the host"

out=$(vmcc create x1 --host nohost --memory 64 --vcpus 1 --timeout 1 2>&1)
rc=$?
is "$rc" "1" "a host that does not exist: exit 1 at once"
like "$out" "host nohost is not known" "and it says the host is not known"

vmcc create ev1 --host h1 --memory 64 --vcpus 1 >/dev/null
"$VMC_BIN/vmc" --broker "$BROKER_URL" events --json >"$T/events.out" 2>"$T/events.err" &
evpid=$!
wait_until 30 grep -q 'following the events' "$T/events.err"
ok $? "vmc events says when it follows"
vmcc destroy ev1 >/dev/null
wait_until 10 grep -q vm.destroyed "$T/events.out"
ok $? "vmc events follows events"
kill $evpid 2>/dev/null
is "$(grep vm.destroyed "$T/events.out" | head -1 | jq -r '"\(.type) \(.host) \(.vm)"')" \
	"vm.destroyed h1 ev1" "events are JSON lines with type, host and vm"

# a signal ends a vmc that waits for a reply nobody will send: at once, saying so
"$VMC_BIN/vmc" --broker "$BROKER_URL" --timeout 600 call cmd/confd template.list \
	>"$T/sig.out" 2>&1 &
sigpid=$!
wait_until 30 sig_caught "$sigpid" 15
kill -TERM "$sigpid"
wait_until 20 sh -c "! kill -0 $sigpid 2>/dev/null"
ok $? "SIGTERM ends vmc while it waits for a reply (long before its 600 s timeout)"
wait "$sigpid" 2>/dev/null
like "$(cat "$T/sig.out")" "interrupted (before the reply to template.list .*command id|while connecting)" \
	"and it says the command was interrupted, with the command's id"
