# tests/cluster/rabbitmq.sh - a private 3-node RabbitMQ cluster with the MQTT plugin, on
# loopback, for the clustered-broker tests and the fan-out benchmark. Source it after
# tests/lib/harness.sh (it uses $T, wait_until and harness_free_port).
#
#   rmq_start N            starts N nodes rmq1..rmqN@localhost, clusters them; sets
#                          RMQ_MQTT_PORT[i] and RMQ_URL[i] (mqtt://127.0.0.1:PORT)
#   rmq_kill I             kill -9 of node I's Erlang VM (beam)
#   rmq_stop_all           stops every node and the private epmd (safe to call twice)
#
# Everything is the caller's user: the node scripts under
# /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/ (the /usr/sbin wrappers switch to the
# rabbitmq user), a private epmd on a free port (ERL_EPMD_PORT), and data, logs and
# Erlang cookie under $T/rmq. A system-wide RabbitMQ keeps running untouched.

RMQ_SBIN=$(ls -d /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin 2>/dev/null | sort -V | tail -n 1)
declare -a RMQ_MQTT_PORT=() RMQ_URL=() RMQ_PID=()
RMQ_N=0

rmq_available() { [ -n "$RMQ_SBIN" ] && [ -x "$RMQ_SBIN/rabbitmq-server" ] && command -v epmd >/dev/null; }

# _rmq_run I CMD...: runs CMD in the environment of node I
_rmq_run() {
	local i=$1 d="$T/rmq/n$1"
	shift
	(
		export HOME="$d/home" ERL_EPMD_PORT="$RMQ_EPMD_PORT" RABBITMQ_NODENAME="rmq$i@localhost"
		export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="${RMQ_AMQP_PORT[$i]}"
		export RABBITMQ_DIST_PORT="${RMQ_DIST_PORT[$i]}" RABBITMQ_MNESIA_BASE="$d/mnesia"
		export RABBITMQ_LOG_BASE="$d/log" RABBITMQ_ENABLED_PLUGINS_FILE="$T/rmq/enabled_plugins"
		export RABBITMQ_CONFIG_FILE="$d/rabbitmq" RABBITMQ_PID_FILE="$d/pid"
		export RABBITMQ_SERVER_START_ARGS="-kernel inet_dist_listen_min ${RMQ_DIST_PORT[$i]} -kernel inet_dist_listen_max ${RMQ_DIST_PORT[$i]}"
		export RABBITMQ_CTL_DIST_PORT_MIN="${RMQ_CTL_PORT[$i]}" RABBITMQ_CTL_DIST_PORT_MAX="${RMQ_CTL_PORT[$i]}"
		exec "$@"
	)
}

rmqctl() { # I ARGS...: rabbitmqctl against node I
	local i=$1
	shift
	_rmq_run "$i" "$RMQ_SBIN/rabbitmqctl" -n "rmq$i@localhost" "$@"
}

_rmq_start_node() { # I
	local i=$1 d="$T/rmq/n$1"
	mkdir -p "$d/home" "$d/mnesia" "$d/log"
	cp "$T/rmq/cookie" "$d/home/.erlang.cookie"
	chmod 400 "$d/home/.erlang.cookie"
	RMQ_AMQP_PORT[$i]=$(harness_free_port)
	RMQ_DIST_PORT[$i]=$(harness_free_port)
	RMQ_CTL_PORT[$i]=$(harness_free_port)
	RMQ_MQTT_PORT[$i]=$(harness_free_port)
	RMQ_URL[$i]="mqtt://127.0.0.1:${RMQ_MQTT_PORT[$i]}"
	cat >"$d/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:${RMQ_AMQP_PORT[$i]}
mqtt.listeners.tcp.default = 127.0.0.1:${RMQ_MQTT_PORT[$i]}
mqtt.allow_anonymous = true
loopback_users = none
log.console = false
log.file.level = warning
CONF
	_rmq_run "$i" setsid "$RMQ_SBIN/rabbitmq-server" >>"$T/rmq$i.log" 2>&1 </dev/null &
	RMQ_PID[$i]=$!
	disown # its end (killed, or stopped at the end) is no job notice of ours
}

# the beam process of node I (the Erlang VM itself, not its shell wrapper)
rmq_beam_pid() {
	local p
	for p in $(pgrep -u "$(id -u)" beam.smp); do
		if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "-home $T/rmq/n$1/home "; then
			echo "$p"
			return 0
		fi
	done
}

rmq_start() { # N
	RMQ_N=$1
	mkdir -p "$T/rmq"
	head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/rmq/cookie"
	echo '[rabbitmq_mqtt].' >"$T/rmq/enabled_plugins"
	RMQ_EPMD_PORT=$(harness_free_port)
	declare -g -a RMQ_AMQP_PORT=() RMQ_DIST_PORT=() RMQ_CTL_PORT=()
	ERL_EPMD_PORT=$RMQ_EPMD_PORT epmd -daemon -address 127.0.0.1 -port "$RMQ_EPMD_PORT" || return 1
	local i
	for ((i = 1; i <= RMQ_N; i++)); do _rmq_start_node "$i"; done
	for ((i = 1; i <= RMQ_N; i++)); do
		rmqctl "$i" -q --timeout 120 await_startup >>"$T/rmq$i.log" 2>&1 || return 1
	done
	for ((i = 2; i <= RMQ_N; i++)); do
		rmqctl "$i" -q stop_app >>"$T/rmq$i.log" 2>&1 &&
			rmqctl "$i" -q join_cluster rmq1@localhost >>"$T/rmq$i.log" 2>&1 &&
			rmqctl "$i" -q start_app >>"$T/rmq$i.log" 2>&1 || return 1
	done
	for ((i = 1; i <= RMQ_N; i++)); do
		wait_until 60 _port_open "${RMQ_MQTT_PORT[$i]}" || return 1
	done
}

rmqctl_stop() { timeout 30 bash -c "$(declare -f _rmq_run rmqctl); $(declare -p RMQ_SBIN T RMQ_EPMD_PORT RMQ_AMQP_PORT RMQ_DIST_PORT RMQ_CTL_PORT); rmqctl $1 -q stop" >/dev/null 2>&1 || true; }

rmq_kill() { # I
	local p
	p=$(rmq_beam_pid "$1")
	[ -n "$p" ] && kill -9 "$p"
}

rmq_stop_all() {
	local i p
	for ((i = 1; i <= RMQ_N; i++)); do
		p=$(rmq_beam_pid "$i")
		[ -n "$p" ] || continue
		rmqctl_stop "$i"
		kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	for ((i = 1; i <= RMQ_N; i++)); do
		[ -n "${RMQ_PID[$i]:-}" ] && kill -9 "${RMQ_PID[$i]}" 2>/dev/null
	done
	# the node's helpers (erl_child_setup, inet_gethost) end with it; epmd is ours to stop
	if [ -n "${RMQ_EPMD_PORT:-}" ]; then
		p=$(pgrep -u "$(id -u)" -f -x "epmd -daemon -address 127.0.0.1 -port $RMQ_EPMD_PORT")
		[ -n "$p" ] && kill "$p" 2>/dev/null
		RMQ_EPMD_PORT=""
	fi
	RMQ_N=0
}
