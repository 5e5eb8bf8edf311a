#!/usr/bin/env bash
# One placement: `vmc plan evacuate --host H` and `vmc drain H` send the same VMs to the
# same hosts, and a drain never puts two VMs of one anti-affinity group on one host.
# h1 runs a1 (4 GiB), a2 (2 GiB) and a3 (1 GiB), all tagged anti.A, and n1 (2 GiB,
# untagged). h2 has 16 GiB, h3 3 GiB and h4 2 GiB, and every host keeps the 512 MiB
# reserve: a1 fits only on h2, a2 then only on h3 (h2 runs an A VM), n1 only on h2 and
# a3 only on h4. Picking by most free memory alone would put a1 and a2 both on h2.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 8

harness_start_broker
mig_setup
# noon on the sim clock: the built-in night rule (consolidation) stays out of the way
mig_start_host h1 --memory 32768 --clock-start 12:00
mig_start_host h2 --memory 16384 --clock-start 12:00
mig_start_host h3 --memory 3072 --clock-start 12:00
mig_start_host h4 --memory 2048 --clock-start 12:00
for h in h1 h2 h3 h4; do harness_wait_host "$h" online || break; done
ok $? "h1 (32 GiB), h2 (16 GiB), h3 (3 GiB) and h4 (2 GiB) online"

mk() { vmcc create "$1" --host h1 --memory "$2" --vcpus 1 ${3:+--tags "$3"} >/dev/null; }
mk a1 4096 anti.A && mk a2 2048 anti.A && mk a3 1024 anti.A && mk n1 2048
ok $? "a1, a2, a3 (anti.A) and n1 created on h1"

# the plan once h1's view lists its four VMs and the others' room
plan_moves() { vmcc plan evacuate --host h1 --json | jq -r '.moves[] | "\(.vm):\(.to)"' | sort; }
four_moves() { [ "$(plan_moves | grep -c .)" = 4 ]; }
wait_until 30 four_moves
ok $? "vmc plan evacuate --host h1 places all four VMs"
planned=$(plan_moves | tr '\n' ' ')
is "$planned" "a1:h2 a2:h3 a3:h4 n1:h2 " "the plan: a1 and n1 to h2, a2 to h3, a3 to h4"

out=$(vmcc drain h1 2>&1)
ok $? "vmc drain h1 exits 0"
sed "s/^/# | /" <<<"$out"

vms=$(vmcc vms --json)
placed() { jq -r '.[] | select(.name | test("^(a[123]|n1)$")) | "\(.name):\(.host)"' <<<"$vms" | sort | tr '\n' ' '; }
settled() {
	vms=$(vmcc vms --json)
	[ "$(jq -r '[.[] | select(.name | test("^(a[123]|n1)$")) | select(.host != "h1")] | length' <<<"$vms")" = 4 ]
}
wait_until 20 settled
is "$(placed)" "$planned" "the drain sent every VM where the plan said"
is "$(jq -r '.[] | select(.name | test("^a[123]$")) | .host' <<<"$vms" | sort -u | wc -l)" 3 \
	"the three anti.A VMs run on three different hosts"
is "$(host_vms h1 | grep -c .)" 0 "h1 has no VM left"
