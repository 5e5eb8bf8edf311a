# tests/lib/ha.sh - helpers for the HA tests; source after harness.sh and migrate.sh.
#
#   ha_setup                  cluster key, shared store $T/shared, fence hook $T/fence
#                             (powers the sim host off; $T/fence-mode "fail" makes it exit
#                             1, "hang" makes it sleep; $T/fence-mode-HOST, if there, is
#                             that host's); each run appends to $T/fenced.log
#   ha_start_host NAME [args] a sim agent in the HA set-up (--ha-timeout $HA_TIMEOUT,
#                             then $HA_HOST_ARGS: e.g. "--keepalive 10 --interval 2")
#   ha_policy_on HOST...      retained policy: ha on, balancing off; waits for each host
#   ha_kill NAME              kill -9 of the agent (the VMs are left as they were)
#   events_of FILE TYPE       the events of that type recorded by events_start
#   proxy_start; proxy_stop   a TCP proxy from $PROXY_PORT (chosen at the first start)
#                             to the broker; stopping it cuts whoever connected through it

: "${HA_TIMEOUT:=2}"

ha_setup() {
	mig_setup
	mkdir -p "$T/shared"
	echo ok >"$T/fence-mode"
	cat >"$T/fence" <<EOS
#!/bin/sh
echo "\$1 \$2" >>"$T/fenced.log"
mode=\$(cat "$T/fence-mode-\$1" 2>/dev/null || cat "$T/fence-mode")
case "\$mode" in
fail) exit 1 ;;
hang) exec sleep 600 ;;
esac
touch "$T/state-\$1/power-off"
[ -f "$T/pid-\$1" ] && kill -9 "\$(cat "$T/pid-\$1")" 2>/dev/null
exit 0
EOS
	chmod +x "$T/fence"
}

ha_start_host() { # NAME [args...]
	local name=$1
	shift
	mig_start_host "$name" --shared-store "$T/shared" --fence-hook "$T/fence" \
		--ha-timeout "$HA_TIMEOUT" --fence-timeout 3 ${HA_HOST_ARGS:-} "$@"
	echo "${HOST_PID[$name]}" >"$T/pid-$name"
}

_ha_on() { vmcc call "cmd/host/$1" ha.status | jq -e '.result.policy == "on"'; }
ha_policy_on() {
	pub -r -t vmc/default/policy -m "{\"v\":1,\"from\":\"admin/test\",\"ts\":$(date +%s%3N),\"mode\":\"off\",\"ha\":\"on\"}"
	local h
	for h in "$@"; do wait_until 10 _ha_on "$h" || return 1; done
}

ha_kill() { { harness_kill_host "$1" KILL; } 2>/dev/null; }

events_of() { # FILE TYPE
	jq -c --arg t "$2" 'select(.type == $t)' "$1" 2>/dev/null
}
n_events() { events_of "$1" "$2" | grep -c . ; }
# true once FILE holds at least N events of TYPE (re-counted on every try)
events_has() { [ "$(n_events "$1" "$2")" -ge "$3" ]; }

proxy_start() {
	: "${PROXY_PORT:=$(harness_free_port)}"
	python3 "$HARNESS_ROOT/tests/lib/tcpproxy.py" "$PROXY_PORT" "$BROKER_PORT" &
	PROXY_PID=$!
	wait_until 10 _port_open "$PROXY_PORT"
}
proxy_stop() { kill -9 "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null || true; }
