#!/usr/bin/env bash
# What a host agent reads must not grow with the cluster: 10 sim hosts, then 40, each
# with one or two quiet VMs. Each agent says in host.info how many messages it has
# received (rx) and how many load samples it has published (samples); the messages it
# receives per sample of its own, over at least 20 samples, are measured with 10 hosts
# and again with 40. The worst agent with 40 hosts may receive at most 1.5 times what
# the worst received with 10 (at least 1 message a sample is always allowed: a quiet
# cluster gives almost nothing to read). Agents that read every peer's full load (and
# every guest's) received about 4 times as much with 40 hosts as with 10.
# Counting per own sample, not per second, keeps the figure the same on a busy machine.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 6

harness_start_broker

start_hosts() { # FROM TO
	local i n
	for i in $(seq "$1" "$2"); do
		n=$(printf 'f%02d' "$i")
		{
			printf '[vm %s-a]\nvcpus = 1\nmemory = 512\nload = constant 0.3\n' "$n"
			((i % 2)) && printf '[vm %s-b]\nvcpus = 1\nmemory = 512\nload = constant 0.2\n' "$n"
		} >"$T/$n.sim"
		harness_start_host "$n" --sim "$T/$n.sim" --cpus 4 --memory 8192
	done
}
names() { # FROM TO
	local i
	for i in $(seq "$1" "$2"); do printf 'f%02d ' "$i"; done
}
all_online() { # N: vmc hosts lists N hosts, all online
	[ "$(vmcc hosts --json | jq '[.[] | select(.state == "online")] | length')" = "$1" ]
}
# snap FILE HOSTS...: "host rx samples" lines, sorted, from host.info: the commands go out
# at once and the replies are collected on one subscription
SNAPS=0
snap() {
	local f=$1 h tag
	shift
	SNAPS=$((SNAPS + 1))
	tag=snap$SNAPS
	sub_start "$T/$tag.sub" "vmc/default/reply/$tag" || return 1
	for h in "$@"; do
		pub -t "vmc/default/cmd/host/$h" \
			-m "{\"id\":\"$tag-$h\",\"op\":\"host.info\",\"reply_to\":\"vmc/default/reply/$tag\"}"
	done
	wait_until 60 sub_has "$T/$tag.sub" $#
	local rc=$?
	kill "$SUB_PID" 2>/dev/null
	wait "$SUB_PID" 2>/dev/null
	sub_payloads "$T/$tag.sub" | jq -r 'select(.ok) | .result | "\(.name) \(.rx) \(.samples)"' |
		sort -u >"$f"
	[ "$rc" = 0 ] && [ "$(wc -l <"$f")" = $# ]
}
# min_samples N HOSTS...: every host has published at least N samples
min_samples() {
	local n=$1
	shift
	snap "$T/min" "$@" && awk -v n="$n" '$3 < n { bad = 1 } END { exit bad }' "$T/min"
}
# passed N FILE: every host of FILE has published N samples more since
passed() {
	local hosts
	read -ra hosts <<<"$(cut -d' ' -f1 "$2" | tr '\n' ' ')"
	snap "$T/now" "${hosts[@]}" &&
		join "$2" "$T/now" | awk -v n="$1" '$5 < $3 + n { bad = 1 } END { exit bad }'
}
# measure TAG HOSTS...: sets WORST (messages per sample of the worst agent), MEAN, PER_S
measure() {
	local tag=$1 t0 t1
	shift
	snap "$T/$tag.0" "$@" || return 1
	t0=$(date +%s%N)
	wait_until 120 passed 20 "$T/$tag.0" || return 1
	snap "$T/$tag.1" "$@" || return 1
	t1=$(date +%s%N)
	read -r WORST MEAN PER_S < <(join "$T/$tag.0" "$T/$tag.1" | awk -v ms=$(((t1 - t0) / 1000000)) '
		{ r = ($4 - $2) / ($5 - $3); sum += r; if (r > w) w = r; rx += $4 - $2; n++ }
		END { printf "%.3f %.3f %.2f\n", w, sum / n, rx / n / (ms / 1000) }')
	diag "$tag hosts: messages received per agent and own sample: worst $WORST, mean $MEAN; about $PER_S per agent and second"
}

read -ra FIRST <<<"$(names 1 10)"
read -ra MORE <<<"$(names 11 40)"
start_hosts 1 10
wait_until 60 all_online 10
ok $? "10 hosts online"
wait_until 60 min_samples 10 "${FIRST[@]}"
measure 10 "${FIRST[@]}"
ok $? "measured with 10 hosts"
w10=$WORST

start_hosts 11 40
wait_until 120 all_online 40
ok $? "40 hosts online"
# their births, first summaries and records are over before the window opens
wait_until 120 min_samples 10 "${MORE[@]}"
measure 40 "${FIRST[@]}" "${MORE[@]}"
ok $? "measured with 40 hosts"
w40=$WORST

limit=$(awk -v w="$w10" 'BEGIN { printf "%.3f", 1.5 * (w > 1 ? w : 1) }')
awk -v a="$w40" -v l="$limit" 'BEGIN { exit !(a <= l) }'
ok $? "the worst agent reads $w40 messages a sample with 40 hosts, at most $limit (1.5 x $w10, at least 1)"
vmcc hosts --json | jq -e 'length == 40 and all(.[]; .state == "online")' >/dev/null
ok $? "vmc hosts still lists all 40 hosts online"
