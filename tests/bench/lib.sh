# shellcheck shell=bash
# tests/bench/lib.sh - shared by the bench scripts (hostd_footprint, bus_fanout).
#
#   bench_init NAME          temp dir $T, a trap that stops what bench_spawn started
#   bench_spawn VAR CMD...   starts CMD in the background, its pid in VAR, stopped at exit
#   bench_start_broker       a private Mosquitto on a free loopback port: PORT, BROKER_PID, URL
#   die MSG                  prints MSG and the tails of $T/*.log, exits 1
#   ticks PID                utime+stime of PID in clock ticks
#   cpu_ns PID               nanoseconds PID's threads have run (schedstat: exact, where
#                            utime+stime are tick samples scaled to it, and lag)
#   kb PID FIELD FILE        a "Field: N kB" figure from /proc/PID/FILE
#   now_ms                   wall-clock milliseconds since the epoch
# Only processes this script started are ever signalled, by pid.

set -u
: "${VMC_BIN:?VMC_BIN: the directory of the release binaries}"
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_PIDS=()

bench_init() {
	BENCH_NAME=$1
	T=$(mktemp -d "/tmp/vmc-bench-$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ "${KEEP_BENCH_DIR:-0}" = 1 ] || rm -rf "$T"
}

bench_spawn() { # VAR CMD...
	local var=$1
	shift
	"$@" &
	BENCH_PIDS+=($!)
	printf -v "$var" '%s' $!
}

die() {
	echo "$BENCH_NAME: $*" >&2
	local f
	for f in "$T"/*.log; do
		[ -s "$f" ] && { echo "---- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The development config, one listener on a free loopback port, connection messages off
# (benches connect thousands of clients).
bench_start_broker() {
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	# shellcheck disable=SC2034 # for the scripts that source this file
	URL="mqtt://127.0.0.1:$PORT"
	cp "$BENCH_ROOT/broker-conf/mosquitto-dev.conf" "$T/mosquitto.conf"
	{
		echo "listener $PORT 127.0.0.1"
		echo "connection_messages false"
	} >>"$T/mosquitto.conf"
	bench_spawn BROKER_PID mosquitto -c "$T/mosquitto.conf" >"$T/broker.log" 2>&1
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$BROKER_PID" 2>/dev/null || die "mosquitto did not start on port $PORT"
		_port_open "$PORT" && break
		sleep 0.1
	done
	# someone else's broker may have taken the port in the meantime: ours must still run
	sleep 0.2
	kill -0 "$BROKER_PID" 2>/dev/null || die "mosquitto did not start on port $PORT"
}

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; } # %d stops at 2^31 in mawk
kb() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/$3"; }
now_ms() { date +%s%3N; }
