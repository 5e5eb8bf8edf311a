#!/usr/bin/env bash
# vmtop-cluster and high availability, under tmux: the HA column marks the VMs tagged
# ha ("off" while the cluster policy leaves restarts off, "yes" once it allows them);
# a dead host whose fence hook fails shows FAILED in its FENCE column and a FENCE
# FAILED alert on the title line; a host fenced shows "fenced", its HA VM runs again
# elsewhere, its plain VM shows "lost" and an HA VM that fits nowhere "FAILED".
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/../lib/ha.sh"
. "$(dirname "$0")/../lib/tmux.sh"
harness_init
if ! command -v tmux >/dev/null; then
	echo "1..0 # SKIP tmux is not installed"
	exit 0
fi
plan 11

tmux_init
# the text under a column's title (left-aligned columns) in the first row matching ERE
cell() { # ROW-ERE TITLE
	local s x
	s=$(screen)
	x=$(printf '%s\n' "$s" | grep -E '^ ?NAME ' | head -1 | awk -v t=" $2 " '{print index($0, t)}')
	[ -n "$x" ] && [ "$x" -gt 0 ] || return 1
	printf '%s\n' "$s" | grep -E -- "$1" | head -1 | cut -c"$((x + 1))"- | awk '{print $1}'
}
vm_ha_is() { [ "$(cell "^ ?$1 " HA)" = "$2" ]; }       # VM WANT
host_fence_is() { [ "$(cell "^ ?$1 " FENCE)" = "$2" ]; } # HOST WANT

harness_start_broker
ha_setup
for h in h1 h2 h3 h4; do ha_start_host $h --memory 8192; done
for h in h1 h2 h3 h4; do harness_wait_host $h online || break; done
ok $? "h1 to h4 online"
balancing_off h1 h2 h3 h4 # a policy without ha: restarts off, nothing balanced
vmcc create a3 --host h3 --memory 1024 --tags ha >/dev/null &&
	vmcc create a4 --host h4 --memory 1024 --tags ha >/dev/null &&
	vmcc create big4 --host h4 --memory 5120 --tags ha >/dev/null &&
	vmcc create n4 --host h4 --memory 512 >/dev/null &&
	vmcc create f1 --host h1 --memory 4096 >/dev/null &&
	vmcc create f2 --host h2 --memory 4096 >/dev/null
ok $? "HA VMs a3 on h3, a4 and big4 (5 GiB) on h4, plain n4 on h4; h1 and h2 half full"

tm -f /dev/null new-session -d -s c -x 140 -y 30 \
	"TERM=xterm-256color $VMC_BIN/vmtop-cluster --broker $BROKER_URL -d 0.5 --log $T/vmtop.log; echo \$? >$T/vmtop.rc"
tm set-option -t c remain-on-exit on >/dev/null
wait_until 20 screen_has 'h4 +online'
keys 2
wait_until 20 screen_has 'big4 +h4 +running' && wait_until 10 vm_ha_is a3 off &&
	vm_ha_is n4 -
check $? "before the policy allows restarts, a3 (tagged ha) shows HA off, n4 (plain) -"
ha_policy_on h1 h2 h3 h4
wait_until 10 vm_ha_is a3 yes && vm_ha_is a4 yes && vm_ha_is n4 -
check $? "once the policy has ha on, the HA VMs show yes"

# h3 dies and its fence hook fails (each time it is tried): an alert, nothing restarted
echo fail >"$T/fence-mode-h3"
ha_kill h3
keys 1
wait_until 60 host_fence_is h3 FAILED && screen_has 'FENCE FAILED: h3 '
check $? "h3's fence fails: FAILED in its FENCE column, FENCE FAILED: h3 on the title line"
keys 3
wait_until 10 screen_has 'ha\.failed +h[0-9] .*dead_host=h3 .*the fence hook exited with 1'
check $? "the events view lists the ha.failed alert with its reason"

# h4 dies and is fenced: a4 runs elsewhere, n4 is lost, big4 fits nowhere
ha_kill h4
keys 1
wait_until 60 host_fence_is h4 fenced
check $? "h4's fence succeeds: fenced in its FENCE column"
screen_has 'FENCE FAILED: h3 ' && screen_lacks 'FENCE FAILED: h3 \+'
check $? "the alert still names h3 only"
keys 2
wait_until 60 screen_has '^ ?a4 +h[12] +running' && vm_ha_is a4 yes
check $? "a4 runs on h1 or h2, still HA"
wait_until 20 vm_ha_is n4 lost && wait_until 20 vm_ha_is big4 FAILED
check $? "n4 shows lost, big4 (no host has 5 GiB free) FAILED"

keys q
wait_until 30 test -s "$T/vmtop.rc"
is "$(cat "$T/vmtop.rc" 2>/dev/null)" 0 "q quits with status 0"
