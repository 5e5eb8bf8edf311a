# tests/lib/harness.sh - shared by the system tests (TAP scripts run by prove).
#
# Starts a private Mosquitto on a free loopback port and sim host agents,
# and always stops them. Logs are kept in $T (a temporary directory) and
# printed only when a test failed. Source it, then call harness_init.
#
#   harness_init                    temp dir, cleanup trap, TAP counters
#   harness_start_broker            sets BROKER_PORT, BROKER_URL
#   harness_stop_broker / harness_restart_broker (same port)
#   harness_start_host NAME [vmc-hostd args...]   sim agent, state in $T/state-NAME
#   harness_kill_host NAME [SIGNAL]
#   harness_wait_host NAME STATE [TIMEOUT]        until vmc hosts shows that state
#   vmcc ARGS...                    vmc against the private broker
#   plan N; ok COND-EXIT-STATUS DESC; is GOT WANT DESC; like GOT REGEX DESC; diag MSG
#   wait_until TIMEOUT CMD...       polls CMD until it succeeds; 1 on timeout
#   sub_start FILE TOPIC [opts]; sub_payloads FILE; sub_has FILE N; pub ARGS...

set -u
: "${VMC_BIN:?VMC_BIN must point at the built binaries (make check sets it)}"
HARNESS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export VMC_BIN HARNESS_ROOT

_tap_n=0
_tap_failed=0
declare -A HOST_PID=()
SUB_PIDS=()
BROKER_PID=""

harness_init() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/vmc-test.XXXXXX")
	export T
	trap harness_cleanup EXIT
	trap 'exit 130' INT TERM
}

harness_cleanup() {
	local rc=$?
	local n
	for n in "${SUB_PIDS[@]}"; do
		kill "$n" 2>/dev/null
	done
	for n in "${!HOST_PID[@]}"; do
		kill "${HOST_PID[$n]}" 2>/dev/null
	done
	for n in "${!HOST_PID[@]}"; do
		_wait_gone "${HOST_PID[$n]}" 50 || kill -9 "${HOST_PID[$n]}" 2>/dev/null
	done
	[ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null
	[ -n "$BROKER_PID" ] && { _wait_gone "$BROKER_PID" 50 || kill -9 "$BROKER_PID" 2>/dev/null; }
	if [ "$_tap_failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
		local f
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# ---- $(basename "$f") (last 60 lines)"
			tail -n 60 "$f" | sed 's/^/# /'
		done
	fi
	[ "${KEEP_TEST_DIR:-0}" = 1 ] || rm -rf "$T"
	exit "$rc"
}

_wait_gone() { # PID TENTHS
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# --- TAP ---------------------------------------------------------------------
plan() { echo "1..$1"; }
diag() { echo "# $*"; }
ok() { # STATUS DESC
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}
is() { # GOT WANT DESC
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want: '$2'"
	fi
}
like() { # GOT ERE DESC
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want match: /$2/"
	fi
}
# sig_caught PID SIGNUM: true once the process has a handler for the signal (it is past
# its start-up and a signal now means what the program says it means)
sig_caught() {
	local mask
	# until it has exec'd, the child is a copy of this shell, with this shell's traps
	[ "$(readlink "/proc/$1/exe")" != "$(readlink "/proc/$$/exe")" ] || return 1
	mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$mask" ] && (((0x$mask >> ($2 - 1)) & 1))
}
# The timeout is a limit, not a pause: a condition that holds ends the wait at once, so
# the limits are stretched by VMC_WAIT_SCALE (default 3) for loaded machines, where ASan
# builds of several agents share two cores with another test run.
wait_until() { # TIMEOUT-SECONDS CMD...
	local deadline=$((SECONDS + $1 * ${VMC_WAIT_SCALE:-3}))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.2
	done
	return 0
}

# --- broker ------------------------------------------------------------------
harness_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

harness_start_broker() {
	[ -n "${BROKER_PORT:-}" ] || BROKER_PORT=$(harness_free_port)
	BROKER_URL="mqtt://127.0.0.1:$BROKER_PORT"
	export BROKER_PORT BROKER_URL
	cp "$HARNESS_ROOT/broker-conf/mosquitto-dev.conf" "$T/mosquitto.conf"
	echo "listener $BROKER_PORT 127.0.0.1" >>"$T/mosquitto.conf"
	mosquitto -c "$T/mosquitto.conf" >>"$T/broker.log" 2>&1 &
	BROKER_PID=$!
	if ! wait_until 10 _port_open "$BROKER_PORT"; then
		echo "Bail out! mosquitto did not start on port $BROKER_PORT"
		exit 1
	fi
}

harness_stop_broker() {
	[ -n "$BROKER_PID" ] || return 0
	kill "$BROKER_PID" 2>/dev/null
	_wait_gone "$BROKER_PID" 50 || kill -9 "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=""
}

harness_restart_broker() {
	harness_stop_broker
	harness_start_broker
}

# --- agents ------------------------------------------------------------------
harness_start_host() { # NAME [args...]
	local name=$1
	shift
	"$VMC_BIN/vmc-hostd" --driver sim --name "$name" --broker "$BROKER_URL" \
		--state-dir "$T/state-$name" --interval 0.5 --keepalive 5 "$@" \
		>>"$T/host-$name.log" 2>&1 &
	HOST_PID[$name]=$!
}

harness_kill_host() { # NAME [SIGNAL]
	local pid=${HOST_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	_wait_gone "$pid" 100 || kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "HOST_PID[$1]"
}

# vmc against the test's broker. Its --timeout is a limit like wait_until's (10 s times
# VMC_WAIT_SCALE), and it bounds long commands (drain, migrate) as a whole.
vmcc() { "$VMC_BIN/vmc" --broker "$BROKER_URL" --timeout "${VMC_TIMEOUT:-$((10 * ${VMC_WAIT_SCALE:-3}))}" "$@"; }

host_state() { # NAME: prints the state vmc hosts shows
	vmcc hosts --json 2>/dev/null | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

_host_in_state() { [ "$(host_state "$1")" = "$2" ]; }

harness_wait_host() { # NAME STATE [TIMEOUT]
	wait_until "${3:-60}" _host_in_state "$1" "$2"
}

# --- plain MQTT clients ---------------------------------------------------------
# sub_start FILE TOPIC [mosquitto_sub options...]: subscribes in the background and waits
# until the broker has acknowledged; received payloads are the lines of FILE starting with '{'.
sub_start() {
	local file=$1 topic=$2
	shift 2
	# line-buffered: its debug lines (the SUBACK waited for) would sit in a block buffer
	stdbuf -oL mosquitto_sub -d -p "$BROKER_PORT" -h 127.0.0.1 -t "$topic" "$@" >"$file" 2>&1 &
	SUB_PID=$!
	SUB_PIDS+=("$SUB_PID") # harness_cleanup stops them: a leftover retries its broker forever
	wait_until 10 grep -q SUBACK "$file"
}
sub_payloads() { grep '^{' "$1" || true; }
# sub_has FILE N: true once FILE holds at least N payloads (for wait_until, which must
# re-count on every try rather than be handed a count taken once)
sub_has() { [ "$(sub_payloads "$1" | wc -l)" -ge "$2" ]; }
pub() { mosquitto_pub -p "$BROKER_PORT" -h 127.0.0.1 -q 1 "$@"; }

# --- balancing tests -------------------------------------------------------------
# harness_cluster_key: a fresh migration key in $T/cluster.key (for --cluster-key-file)
harness_cluster_key() { (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/cluster.key"); }
# events_start FILE [WAIT-SECONDS]: records every event (JSON lines) in the background and
# returns once the subscription is in place (vmc's "following" line); events_stop
events_start() {
	# vmc itself, not the vmcc function: $! must be vmc's pid for events_stop to end it
	"$VMC_BIN/vmc" --broker "$BROKER_URL" events --json --wait "${2:-300}" >"$1" 2>"$1.err" &
	EV_PID=$!
	wait_until 30 grep -q 'following the events' "$1.err"
}
# event_seen FILE CONDITION [JQ-ARGS...]: some event in FILE matches the jq CONDITION.
# (jq -e over a file of many events reports on the last one only, so it is not used.)
event_seen() {
	local file=$1 cond=$2
	shift 2
	jq -c "$@" "select($cond)" "$file" 2>/dev/null | grep -q .
}
events_stop() {
	kill "$EV_PID" 2>/dev/null
	wait "$EV_PID" 2>/dev/null || true
}
# balancing_off HOST...: retained cluster policy mode off, until every host reports it;
# balancing_on removes the policy
_mode_off() { vmcc call "cmd/host/$1" balance.status | jq -e '.result.mode == "off"'; }
balancing_off() {
	pub -r -t vmc/default/policy -m "{\"v\":1,\"from\":\"admin/test\",\"ts\":$(date +%s%3N),\"mode\":\"off\"}"
	local h
	for h in "$@"; do wait_until 10 _mode_off "$h" || return 1; done
}
balancing_on() { pub -r -n -t vmc/default/policy; }
# vms_per_host: "h1=N h2=M ..." counting running VMs
vms_per_host() {
	vmcc vms --json | jq -r '[.[] | select(.state == "running") | .host] | group_by(.) |
		map("\(.[0])=\(length)") | join(" ")'
}
