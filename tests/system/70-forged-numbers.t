#!/usr/bin/env bash
# Forged and absurd figures on the bus have no effect: a retained load claiming many
# migrations (from a host that never was born, or from two of them with counts that
# would overflow a sum) does not fill the cluster's migration cap; a guest's absurd
# memory figure is dropped for that guest only, and never reaches its host's load.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 7

harness_start_broker
mig_setup
mig_start_host h1
mig_start_host h2
harness_wait_host h1 online && harness_wait_host h2 online
ok $? "two hosts online"
vmcc create v1 --host h1 --memory 512 --vcpus 1 >/dev/null
ok $? "v1 created on h1"

now() { date +%s%3N; }
forged_load() { # HOST MIGRATIONS_OUT
	pub -r -t "vmc/default/host/$1/load" -m "{\"v\":1,\"from\":\"host/$1\",\"ts\":$(now),\"seq\":1,\"state\":\"online\",\"cpus\":4,\"cpu\":1,\"mem_total_mb\":8192,\"mem_used_mb\":0,\"mem_free_mb\":8192,\"migrations_out\":$2,\"migrations_in\":0,\"vms\":[]}"
}
forged_load ghost1 8
forged_load ghost2 2147483647
forged_load ghost3 2147483647
out=$(vmcc migrate v1 h2 2>&1)
like "$out" "vm v1 migrated from h1 to h2" "forged migration counts do not fill the cluster cap"
out=$(vmcc migrate v1 ghost1 2>&1)
like "$out" "not_found.*host ghost1 is not known" "a host with a load but no birth is no destination"
kill -0 "${HOST_PID[h1]}" && kill -0 "${HOST_PID[h2]}"
ok $? "both agents still run (no overflow abort)"

# a guest of v1 (now on h2) reports an absurd memory figure, then a sane one
pub -t vmc/default/guest/v1/load -m "{\"v\":1,\"from\":\"guest/v1\",\"ts\":$(now),\"seq\":1,\"cpu\":5,\"mem_total_mb\":1000000000000,\"mem_used_mb\":1000000000000}"
sub_start "$T/load" vmc/default/host/h2/load
wait_until 10 sub_has "$T/load" 3
big=$(sub_payloads "$T/load" | jq -r '.vms[] | select(.name=="v1") | .guest.mem_used_mb // empty' | sort -u)
is "$big" "" "the absurd figure never reaches h2's load"
kill "$SUB_PID" 2>/dev/null
pub -t vmc/default/guest/v1/load -m "{\"v\":1,\"from\":\"guest/v1\",\"ts\":$(now),\"seq\":2,\"cpu\":5,\"mem_total_mb\":1024,\"mem_used_mb\":300}"
wait_until 10 sh -c "mosquitto_sub -p $BROKER_PORT -h 127.0.0.1 -t vmc/default/host/h2/load -C 1 -W 3 | jq -e '.vms[] | select(.name==\"v1\") | .guest.mem_used_mb == 300'"
ok $? "the guest's next sane report is taken"
