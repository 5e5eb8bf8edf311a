#!/usr/bin/env bash
# Two hosts overloaded at once never overfill a third, time-scaled: h1 and h2
# (4 CPUs each) run 6 busy VMs each, h3 (4 CPUs, 8 GiB) is empty. Both ask for
# help at the same time; h3's reservations count every promise, so every load
# h3 publishes (recorded with mosquitto_sub for the whole run) shows at most 4
# busy VMs and memory within its total less the hypervisor's reserve.
. "$(dirname "$0")/../lib/harness.sh"
harness_init

harness_start_broker
harness_cluster_key
common=(--cpus 4 --time-scale 60 --interval 0.1 --migrate-port 0 --cluster-key-file "$T/cluster.key")
harness_start_host h1 --memory 65536 "${common[@]}"
harness_start_host h2 --memory 65536 "${common[@]}"
harness_start_host h3 --memory 8192 "${common[@]}"
for h in h1 h2 h3; do harness_wait_host "$h" online 60 || break; done
plan 6
ok $? "three hosts online"

sub_start "$T/loads.txt" "vmc/default/host/h3/load"
subpid=$SUB_PID
# balancing off (cluster policy) while the VMs are created, so that both hosts find
# themselves overloaded with all their VMs, and ask, at the same moment
balancing_off h1 h2 h3
for i in 1 2 3 4 5 6; do
	vmcc create "a$i" --host h1 --memory 1024 --vcpus 1 --load 1 >/dev/null &&
		vmcc create "b$i" --host h2 --memory 1024 --vcpus 1 --load 1 >/dev/null || break
done
ok $? "6 busy VMs on h1 and 6 on h2"
balancing_on

per_host() { vmcc vms --json | jq -r '[.[] | .host] | group_by(.) |
	map("\(.[0])=\(length)") | join(" ")'; }
even() { [ "$(per_host)" = "h1=4 h2=4 h3=4" ]; }
wait_until 300 even
ok $? "they end 4 per host"
sleep 5 # 5 virtual minutes more
kill "$subpid" 2>/dev/null
wait "$subpid" 2>/dev/null
loads=$(sub_payloads "$T/loads.txt")
n=$(grep -c . <<<"$loads")
[ "$n" -gt 10 ]
ok $? "recorded $n loads of h3"
is "$(jq -s 'map(.vms | length) | max' <<<"$loads")" "4" "h3 never held more than 4 busy VMs"
is "$(jq -s 'map(select(.mem_used_mb > .mem_total_mb - 512)) | length' <<<"$loads")" "0" \
	"nor more memory than its total less the reserve"
