#!/usr/bin/env bash
# vmc's output reads well: hosts and VMs sorted by name, a paused VM at 0 % CPU,
# range errors in plain integers, `vmc info` as text unless --json; and the
# pages an admin reads are complete (vmc(1), vmc-hostd(8) and its --help,
# vmcluster-rules(5) at 80 columns).
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 16

harness_start_broker
for h in h3 h1 h2; do harness_start_host "$h" --memory 8192; done
for h in h3 h1 h2; do harness_wait_host "$h" online || echo "# $h did not come online"; done

names() { awk 'NR > 1 { print $1 }' | tr '\n' ' '; }
is "$(vmcc hosts | names)" "h1 h2 h3 " "vmc hosts lists the hosts by name"
is "$(vmcc hosts --json | jq -r '.[].name' | tr '\n' ' ')" "h1 h2 h3 " "and so does --json"

vmcc create vc --host h1 --memory 128 --vcpus 1 >/dev/null
vmcc create va --host h3 --memory 128 --vcpus 1 >/dev/null
vmcc create vb --host h2 --memory 128 --vcpus 1 >/dev/null
vmcc create vp --host h1 --memory 128 --vcpus 1 --load 1 >/dev/null
listed() { [ "$(vmcc vms | names)" = "va vb vc vp " ]; }
wait_until 10 listed
ok $? "vmc vms lists the VMs by name"

busy() { vmcc vms --json | jq -e '.[] | select(.name == "vp") | .cpu > 50'; }
wait_until 20 busy
ok $? "vp runs at its load"
vmcc pause vp >/dev/null
paused_cpu() { vmcc vms --json | jq -r '.[] | select(.name == "vp" and .state == "paused") | .cpu'; }
wait_until 10 test -n "\$(paused_cpu)"
is "$(paused_cpu)" 0 "a paused VM shows 0 % CPU"

out=$(vmcc create x --host h1 --memory 99999999 --vcpus 1 2>&1)
like "$out" "expected a number from 16 to 4194304\$" "a range error prints whole numbers"

out=$(vmcc info h1)
like "$out" "^name: +h1" "vmc info prints text"
like "$out" "mem_total_mb: +8192" "with the host's figures"
is "$(vmcc info h1 --json | jq -r .name)" h1 "vmc info --json prints JSON"

# the pages
M=$HARNESS_ROOT/man
ok "$(grep -c '^\.B templates\|^\.B delete' "$M/vmc.1" | grep -qx 2; echo $?)" \
	"vmc(1) documents templates and delete"
ok "$(grep -q '^\.SH EXIT STATUS' "$M/vmc.1" && grep -q '^4: ' "$M/vmc.1" &&
	grep -q '^5: ' "$M/vmc.1"; echo $?)" "vmc(1) documents exit statuses 4 and 5"
ok "$(grep -q '^\.SH EXAMPLES' "$M/vmc-hostd.8" && grep -q '^\.SH EXIT STATUS' "$M/vmc-hostd.8"; echo $?)" \
	"vmc-hostd(8) has EXAMPLES and EXIT STATUS"
# every option line of --help says what the option does
bare=$("$VMC_BIN/vmc-hostd" --help 2>&1 | grep -E '^ +(-[a-z], )?--?[a-z-]+( [A-Z|.:]+)?$')
is "$bare" "" "vmc-hostd --help says what each option does"
like "$("$VMC_BIN/vmc-hostd" --help 2>&1)" "--state-dir DIR +[a-z]" "vmc-hostd --help describes --state-dir"
for page in vmcluster-rules.5 vmc.1; do
	wide=$(MANWIDTH=80 man -l "$M/$page" 2>/dev/null |
		python3 -c 'import sys; [print(l) for l in sys.stdin.read().splitlines() if len(l) > 80]')
	is "$wide" "" "$page fits 80 columns"
done
