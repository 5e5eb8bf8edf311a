#!/usr/bin/env bash
# Maintenance: vmc drain spreads the 10 VMs of h1 over h2, h3 and h4 without ever
# exceeding a host's memory (every load message published meanwhile is checked); h1
# then takes no VMs, stays in maintenance across a restart, and vmc undrain brings the
# VMs back. A VM that fits nowhere makes the drain fail, naming it.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 21

harness_start_broker
mig_setup
mig_start_host h1 --memory 24576
for h in h2 h3 h4; do mig_start_host "$h" --memory 6144; done
for h in h1 h2 h3 h4; do harness_wait_host "$h" online || break; done
ok $? "h1 (24 GiB) and h2, h3, h4 (6 GiB each) online"

n=0
for i in 1 2 3 4; do vmcc create "big$i" --host h1 --memory 2048 --vcpus 2 --load 0.3 >/dev/null && n=$((n + 1)); done
for i in 1 2 3 4 5 6; do vmcc create "small$i" --host h1 --memory 1024 --vcpus 1 --load 0.2 >/dev/null && n=$((n + 1)); done
is "$n" 10 "10 VMs (14 GiB) on h1"
ALL="big1 big2 big3 big4 small1 small2 small3 small4 small5 small6"

sub_start "$T/loads" 'vmc/default/host/+/load'
out=$(vmcc drain h1 2>&1)
ok $? "vmc drain h1 exits 0"
like "$out" "host h1 is in maintenance; 10 VMs moved off" "and says so"
# one more load message from each host after the drain's reply
loads_of() { sub_payloads "$T/loads" | jq -r .from | grep -c "^host/$1\$"; }
declare -A seen=()
for h in h1 h2 h3 h4; do seen[$h]=$(loads_of "$h"); done
one_more_each() {
	local h
	for h in h1 h2 h3 h4; do [ "$(loads_of "$h")" -gt "${seen[$h]}" ] || return 1; done
}
wait_until 20 one_more_each
kill "$SUB_PID"
samples=$(sub_payloads "$T/loads" | jq -s 'length')
over=$(sub_payloads "$T/loads" | jq -s '[.[] | select(.mem_used_mb > .mem_total_mb)] | length')
diag "$samples load messages observed during the drain"
ok $((samples > 20 ? 0 : 1)) "load messages were recorded throughout ($samples)"
is "$over" 0 "none shows a host using more memory than it has"

is "$(host_vms h1 | grep -c .)" 0 "h1 has no VM left"
is "$(host_state h1)" "maintenance" "h1 shows as in maintenance"
bad=0
declare -A per=()
for vm in $ALL; do
	p=$(vm_places "$vm" h1 h2 h3 h4)
	[ "$(printf '%s\n' "$p" | grep -c .)" = 1 ] || { bad=1; diag "$vm: $p"; }
	per[${p%%:*}]=$((${per[${p%%:*}]:-0} + 1))
done
is "$bad" 0 "every VM runs exactly once"
ok $(((${per[h2]:-0} > 0 && ${per[h3]:-0} > 0 && ${per[h4]:-0} > 0) ? 0 : 1)) \
	"spread over h2, h3 and h4 (${per[h2]:-0}/${per[h3]:-0}/${per[h4]:-0})"

out=$(vmcc create late --host h1 --memory 256 --vcpus 1 2>&1)
like "$out" "refused.*maintenance" "h1 takes no new VM"
out=$(vmcc migrate small1 h1 2>&1)
like "$out" "refused.*h1 is in maintenance" "and is never a migration's destination"

harness_kill_host h1
mig_start_host h1 --memory 24576
harness_wait_host h1 maintenance
ok $? "restarted, h1 is still in maintenance"

out=$(vmcc undrain h1 2>&1)
ok $? "vmc undrain h1 exits 0"
like "$out" "host h1 is online again; 10 VMs moved back" "and says so"
is "$(host_state h1)" "online" "h1 is online"
back=0
for vm in $ALL; do [ "$(vm_places "$vm" h1 h2 h3 h4)" = "h1:running" ] && back=$((back + 1)); done
is "$back" 10 "all 10 VMs are back on h1 only"

# a VM that no other host can hold
vmcc create jumbo --host h1 --memory 8192 --vcpus 1 >/dev/null
out=$(vmcc drain h1 2>&1)
rc=$?
ok $((rc == 1 ? 0 : 1)) "a drain that cannot move everything exits 1"
like "$out" "jumbo \(no online host has 8192 MiB free\)" "naming the VM and why"
is "$(host_vms h1)" "jumbo:running" "the others left; jumbo still runs on h1"
vmcc undrain h1 >/dev/null
is "$(host_vms h1 | grep -c .)" 11 "undrain brings the 10 back"
