#!/usr/bin/env bash
# migrations.sh - how many concurrent migrations one agent coordinates: N small sim VMs
# on one source, sent at once (caps lifted) to D destinations; the source agent's wall
# time, CPU time, memory and threads while it does. BENCH_MIGRATIONS (default 100),
# BENCH_DESTS (default 4), BENCH_SCALE (time scale, default 50).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
N=${BENCH_MIGRATIONS:-100}
D=${BENCH_DESTS:-4}
MIG_SCALE=${BENCH_SCALE:-50}

{
	echo "cpus = 64"
	echo "memory = $((N * 256 + 4096))"
	echo "bandwidth = 100000"
	echo "dirty = 5"
	for ((i = 1; i <= N; i++)); do
		printf '[vm b%03d]\nmemory = 256\nload = "constant 0.1"\n' "$i"
	done
} >"$T/source.sim"

harness_start_broker
mig_setup
mig_start_host src --sim "$T/source.sim" --max-migrations 10000 \
	--max-cluster-migrations 0 --interval 1
for ((d = 1; d <= D; d++)); do mig_start_host "d$d" --memory $((N * 256 / D + 4096)) --interval 1; done
harness_wait_host src online 30 || { echo "source did not come online"; exit 1; }
for ((d = 1; d <= D; d++)); do harness_wait_host "d$d" online 30 || exit 1; done
sleep 2 # every destination's load is known to the source
PID=${HOST_PID[src]}
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

sub_start "$T/replies" "vmc/default/reply/bench" -C "$N"
c0=$(ticks "$PID")
r0=$(rss "$PID")
t0=$(date +%s%N)
for ((i = 1; i <= N; i++)); do
	to="d$(((i - 1) % D + 1))"
	printf '{"v":1,"from":"bench","ts":0,"id":"b%d","op":"vm.migrate","args":{"name":"b%03d","to":"%s"},"reply_to":"vmc/default/reply/bench"}\n' \
		"$i" "$i" "$to"
done | mosquitto_pub -p "$BROKER_PORT" -h 127.0.0.1 -q 1 -t vmc/default/cmd/host/src -l
peak_rss=$r0
peak_thr=0
while [ "$(sub_payloads "$T/replies" | grep -c .)" -lt "$N" ]; do
	r=$(rss "$PID")
	thr=$(ls "/proc/$PID/task" | wc -l)
	[ "$r" -gt "$peak_rss" ] && peak_rss=$r
	[ "$thr" -gt "$peak_thr" ] && peak_thr=$thr
	[ $(($(date +%s%N) - t0)) -gt 600000000000 ] && { echo "timed out"; break; }
	sleep 0.05
done
t1=$(date +%s%N)
c1=$(ticks "$PID")
okn=$(sub_payloads "$T/replies" | jq -s '[.[] | select(.ok)] | length')
mean=$(sub_payloads "$T/replies" | jq -s '[.[] | select(.ok) | .result.total_ms] | add / length / 1000')
down=$(sub_payloads "$T/replies" | jq -s '[.[] | select(.ok) | .result.downtime_ms] | add / length')
wall=$(echo "($t1 - $t0) / 1000000000" | bc -l)
cpu=$(echo "($c1 - $c0) / $HZ" | bc -l)
printf 'concurrent migrations coordinated by one agent (sim, time scale %s)\n' "$MIG_SCALE"
printf '  %d migrations of 256 MiB VMs from one host to %d hosts, all started at once\n' "$N" "$D"
printf '  succeeded: %d of %d\n' "$okn" "$N"
printf '  wall time until the last reply: %.2f s\n' "$wall"
printf '  source agent CPU: %.2f s (%.1f ms per migration)\n' "$cpu" "$(echo "$cpu * 1000 / $N" | bc -l)"
printf '  source agent RSS: %d KiB before, %d KiB at the peak; threads at the peak: %d\n' \
	"$r0" "$peak_rss" "$peak_thr"
printf '  mean migration time %.1f s, mean downtime %.0f ms (virtual: the bandwidth is shared)\n' \
	"$mean" "$down"
left=$(host_vms src | grep -c .)
printf '  VMs left on the source: %d\n' "$left"
[ "$okn" = "$N" ]
