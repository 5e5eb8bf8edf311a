#!/usr/bin/env bash
# Three host agents come online and report their capacity; a sim file describes a host.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 9

harness_start_broker
cat >"$T/big.sim" <<'SIM'
cpus = 4
memory = 16384
[vm seeded1]
vcpus = 1
memory = 1024
load = constant 0.5
SIM
harness_start_host h1
harness_start_host h2 --cpus 16 --memory 65536
harness_start_host h3 --sim "$T/big.sim"

harness_wait_host h1 online && harness_wait_host h2 online && harness_wait_host h3 online
ok $? "three host agents come online"

hosts=$(vmcc hosts --json)
is "$(jq -r 'map(.name) | sort | join(",")' <<<"$hosts")" "h1,h2,h3" "vmc hosts lists the three"
is "$(jq -r '.[] | select(.name=="h1") | "\(.cpus) \(.mem_total_mb)"' <<<"$hosts")" "8 32768" \
	"a host with no sim file has 8 CPUs and 32768 MiB"
is "$(jq -r '.[] | select(.name=="h2") | "\(.cpus) \(.mem_total_mb)"' <<<"$hosts")" "16 65536" \
	"--cpus and --memory set the capacity"
is "$(jq -r '.[] | select(.name=="h3") | "\(.cpus) \(.mem_total_mb) \(.vms)"' <<<"$hosts")" "4 16384 1" \
	"the sim file sets capacity and seeds a VM"
is "$(jq -r '[.[] | has("name","state","cpus","cpu","mem_total_mb","mem_used_mb","vms") ] | all' <<<"$hosts")" \
	"true" "every host object has the contract's fields"

vms=$(vmcc vms --json)
is "$(jq -r '.[] | select(.name=="seeded1") | "\(.host) \(.state) \(.vcpus) \(.mem_mb)"' <<<"$vms")" \
	"h3 running 1 1024" "vmc vms shows the seeded VM"
wait_until 10 sh -c "\"$VMC_BIN/vmc\" --broker $BROKER_URL vms --json | jq -e '.[] | select(.name==\"seeded1\") | .cpu > 40 and .cpu < 60' >/dev/null"
ok $? "its CPU is about 50 % of one CPU, as its load profile says"

out=$(vmcc hosts)
like "$out" "^NAME +STATE" "vmc hosts prints a table for people"
