# tls.sh - run the production broker config (broker-conf/mosquitto-prod.conf)
# in a test: its paths moved into a private directory, its listener on a free
# loopback port. Sourced by bash test scripts; needs mosquitto.
#
#   tls_prod_conf SRC DIR PORT    print SRC adapted to DIR and PORT
#   tls_start_prod_broker DIR     start mosquitto on the files vmc-broker-setup
#                                 made in DIR; sets TLS_PORT and TLS_BROKER_PID
#   tls_stop_broker               stop it (safe to call twice)

TLS_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TLS_PORT=
TLS_BROKER_PID=

# Replaces every occurrence of a literal string, without regular expressions.
tls__awk_conf='
function repl(s, from, to,    i, out) {
	out = ""
	while ((i = index(s, from)) > 0) {
		out = out substr(s, 1, i - 1) to
		s = substr(s, i + length(from))
	}
	return out s
}
/^listener 8883([ \t]|$)/ { print "listener " port " 127.0.0.1"; listeners++; next }
/^listener / { bad = bad "\n  " $0; next }
{
	s = repl($0, "/etc/mosquitto/vmc/", dir "/")
	s = repl(s, "/var/lib/mosquitto/", dir "/data/")
	s = repl(s, "/var/log/mosquitto/", dir "/log/")
	if (s ~ /^[a-z_]+[ \t]+\/(etc|var|run)\//) bad = bad "\n  " s
	print s
}
END {
	# Started as root, Mosquitto would drop to the user "mosquitto", who
	# cannot read the test'"'"'s private files; as anyone else it stays as it is.
	print "user " user
	if (listeners != 1) { print "tls_prod_conf: expected one \"listener 8883\" line, found " listeners > "/dev/stderr"; exit 1 }
	if (bad != "") { print "tls_prod_conf: lines the test cannot move into its directory:" bad > "/dev/stderr"; exit 1 }
}'

# Prints the production config SRC with its files under DIR and its one
# listener on 127.0.0.1:PORT. Returns non-zero (and says why) if SRC has a
# listener or a system path the adaptation does not know.
tls_prod_conf() {
	awk -v dir="$2" -v port="$3" -v user="$(id -un)" "$tls__awk_conf" "$1"
}

# Starts Mosquitto with broker-conf/mosquitto-prod.conf on the files in DIR
# (ca.crt, broker.crt, broker.key, passwd, acl from vmc-broker-setup) on a free
# loopback port. Its log is DIR/log/mosquitto.log. Returns 0 once it listens.
tls_start_prod_broker() {
	local dir=$1 port
	mkdir -p "$dir/data" "$dir/log" || return 1
	for _ in $(seq 1 30); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		tls_prod_conf "$TLS_SRC_DIR/broker-conf/mosquitto-prod.conf" "$dir" "$port" \
			>"$dir/mosquitto.conf" || return 1
		: >"$dir/log/mosquitto.log"
		mosquitto -c "$dir/mosquitto.conf" >"$dir/log/stderr" 2>&1 &
		TLS_BROKER_PID=$!
		while kill -0 "$TLS_BROKER_PID" 2>/dev/null; do
			if grep -q ' running$' "$dir/log/mosquitto.log"; then
				TLS_PORT=$port
				return 0
			fi
			sleep 0.05
		done
		wait "$TLS_BROKER_PID" 2>/dev/null
		TLS_BROKER_PID=
		if ! grep -qi 'address already in use' "$dir/log/mosquitto.log" "$dir/log/stderr"; then
			echo "tls_start_prod_broker: mosquitto did not start:" >&2
			cat "$dir/log/stderr" "$dir/log/mosquitto.log" >&2
			return 1
		fi
	done
	echo "tls_start_prod_broker: no free port after 30 tries" >&2
	return 1
}

tls_stop_broker() {
	if [ -n "$TLS_BROKER_PID" ]; then
		kill "$TLS_BROKER_PID" 2>/dev/null
		wait "$TLS_BROKER_PID" 2>/dev/null
		TLS_BROKER_PID=
	fi
	return 0
}
