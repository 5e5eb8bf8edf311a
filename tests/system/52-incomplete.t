#!/usr/bin/env bash
# vmc hosts, vmc vms and vmtop-cluster -b are never silently incomplete. A host whose
# retained state says online but whose load has not come (held back by a backlogged
# broker, a hung agent, an agent restarted whose new load is still on its way) makes
# them print what they have, name the host on stderr and exit 6; --wait-complete waits
# for it instead. With every host reporting, or a host offline, they exit 0.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 27

harness_start_broker
for h in h1 h2; do harness_start_host "$h" --memory 8192; done
for h in h1 h2; do harness_wait_host "$h" online || echo "# $h did not come online"; done
vmcc create v1 --host h1 --memory 128 --vcpus 1 >/dev/null
listed() { vmcc vms --json 2>/dev/null | jq -e '.[] | select(.name == "v1")' >/dev/null; }
wait_until 20 listed || echo "# v1 is not listed"

vmtop_b() { "$VMC_BIN/vmtop-cluster" --broker "$BROKER_URL" -b --json -i 1 "$@"; }

# --- every host reporting ---------------------------------------------------------------------
vmcc hosts >"$T/out" 2>"$T/err"
ok $? "every host reporting: vmc hosts exits 0"
is "$(cat "$T/err")" "" "and says nothing on stderr"
vmcc vms >/dev/null 2>"$T/err"
ok $? "vmc vms exits 0"
vmtop_b >"$T/top" 2>"$T/toperr"
ok $? "vmtop-cluster -b exits 0"
is "$(jq -r '"\(.complete) \(.missing | length)"' "$T/top")" "true 0" "its snapshot says complete"

# --- a host whose state says online, and no load ------------------------------------------------
now() { date +%s%3N; }
state9() { # STATE SESSION
	pub -r -t vmc/default/host/h9/state -m "{\"v\":1,\"from\":\"host/h9\",\"ts\":$(now),\"state\":\"$1\",\"session\":$2,\"driver\":\"sim\",\"cpus\":4,\"mem_total_mb\":4096}"
}
load9() { # SESSION
	pub -r -t vmc/default/host/h9/load -m "{\"v\":1,\"from\":\"host/h9\",\"ts\":$(now),\"seq\":1,\"session\":$1,\"state\":\"online\",\"cpus\":4,\"cpu\":10,\"mem_total_mb\":4096,\"mem_used_mb\":512,\"mem_free_mb\":3584,\"migrations_out\":0,\"migrations_in\":0,\"vms\":[{\"name\":\"ghost1\",\"state\":\"running\",\"vcpus\":1,\"mem_mb\":512,\"cpu\":5}]}"
}
state9 online 5
VMC_TIMEOUT=5 vmcc hosts >"$T/out" 2>"$T/err"
is "$?" 6 "h9 online without a load: vmc hosts exits 6"
like "$(cat "$T/err")" "incomplete: 1 of 3 hosts has not reported yet: h9 " "and names h9 on stderr"
is "$(awk 'NR > 1 { print $1 }' "$T/out" | tr '\n' ' ')" "h1 h2 h9 " "the list is printed all the same"
VMC_TIMEOUT=5 vmcc vms --json >"$T/out" 2>"$T/err"
is "$?" 6 "vmc vms exits 6"
like "$(cat "$T/err")" "1 of 3 hosts has not reported yet: h9 .*VMs are missing" "and names h9"
is "$(jq -r '.[].name' "$T/out" | tr '\n' ' ')" "v1 " "the VMs it has are listed"
VMC_TIMEOUT=5 vmcc vms --host h1 >/dev/null 2>"$T/err"
ok $? "vmc vms --host h1 (h1 reports) exits 0"
vmtop_b --timeout 5 >"$T/top" 2>"$T/toperr"
is "$?" 6 "vmtop-cluster -b exits 6"
is "$(jq -r '"\(.complete) \(.missing | join(","))"' "$T/top")" "false h9" \
	"its JSON snapshot says incomplete, h9 missing"
like "$(cat "$T/toperr")" "incomplete: 1 of 3 hosts has not reported yet: h9 " "and stderr names h9"
"$VMC_BIN/vmtop-cluster" --broker "$BROKER_URL" -b -i 1 --timeout 5 >"$T/top" 2>"$T/toperr"
is "$?" 6 "vmtop-cluster -b (columns) exits 6 too"

# --- --wait-complete waits for the load ---------------------------------------------------------
gone() { ! kill -0 "$1" 2>/dev/null; }
vmcc hosts --json --wait-complete >"$T/wc.out" 2>"$T/wc.err" &
wc=$!
wait_until 30 grep -q "waiting for 1 of 3 hosts to report: h9" "$T/wc.err"
ok $? "vmc hosts --wait-complete says what it waits for"
gone "$wc"
is "$?" 1 "and waits"
load9 5
wait_until 30 gone "$wc" || kill "$wc"
wait "$wc"
is "$?" 0 "once h9's load comes, vmc hosts --wait-complete exits 0"
is "$(jq -r '.[] | select(.name == "h9") | "\(.state) \(.vms)"' "$T/wc.out")" "online 1" \
	"with h9's figures"
vmcc vms >/dev/null 2>&1
ok $? "h9 reporting: vmc vms exits 0"

# --- an agent restarted: the retained load is of its earlier session ----------------------------
state9 online 6
VMC_TIMEOUT=5 vmcc hosts >/dev/null 2>"$T/err"
is "$?" 6 "h9 restarted (session 6), only its session 5 load: vmc hosts exits 6"
vmtop_b --wait-complete >"$T/top" 2>"$T/toperr" &
tp=$!
wait_until 30 grep -q "waiting for 1 of 3 hosts to report: h9" "$T/toperr"
ok $? "vmtop-cluster -b --wait-complete says what it waits for"
load9 6
wait_until 30 gone "$tp" || kill "$tp"
wait "$tp"
is "$?" 0 "once h9's new load comes, it prints and exits 0"
is "$(jq -r '"\(.complete) \(.summary.hosts)"' "$T/top")" "true 3" "a complete snapshot of 3 hosts"

# --- a host offline has said all there is ---------------------------------------------------------
pub -r -n -t vmc/default/host/h9/load
state9 offline 6
vmcc hosts >/dev/null 2>"$T/err"
ok $? "h9 offline (its Last Will) without a load: vmc hosts exits 0"
vmtop_b >/dev/null 2>&1
ok $? "and so does vmtop-cluster -b"
pub -r -n -t vmc/default/host/h9/state
