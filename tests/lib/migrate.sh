# tests/lib/migrate.sh - helpers for the migration tests; source after harness.sh.
#
#   mig_setup                       cluster key in $T/key
#   mig_start_host NAME [args...]   a sim agent with the key, fast clock ($MIG_SCALE)
#   host_vms NAME                   "vm:state" lines from the agent itself (host.vms)
#   vm_places VM HOST...            "host:state" for every listed host that has VM
#   vm_settled VM HOST...           true when VM is on exactly one of them, running or paused
#   last_json FILE                  payloads of a sub_start file as a JSON array

: "${MIG_SCALE:=20}"

mig_setup() {
	head -c 48 /dev/urandom | base64 >"$T/key"
	chmod 600 "$T/key"
}

mig_start_host() { # NAME [args...]
	local name=$1
	shift
	harness_start_host "$name" --cluster-key-file "$T/key" --time-scale "$MIG_SCALE" \
		--keepalive 5 "$@"
}

host_vms() { # NAME
	VMC_TIMEOUT=${VMC_TIMEOUT:-10} vmcc call "cmd/host/$1" host.vms 2>/dev/null |
		jq -r '.result.vms[] | "\(.name):\(.state)"'
}

vm_places() { # VM HOST...
	local vm=$1 h line
	shift
	for h in "$@"; do
		while IFS= read -r line; do
			[ "${line%%:*}" = "$vm" ] && echo "$h:${line#*:}"
		done < <(host_vms "$h")
	done
}

vm_settled() { # VM HOST...
	local p
	p=$(vm_places "$@")
	[ "$(printf '%s\n' "$p" | grep -c .)" = 1 ] && printf '%s' "$p" | grep -Eq ':(running|paused)$'
}

migrate_addr() { # HOST: the migration address it publishes
	vmcc hosts --json >/dev/null
	mosquitto_sub -p "$BROKER_PORT" -h 127.0.0.1 -t "vmc/default/host/$1/state" -C 1 -W 5 |
		jq -r '.migrate_addr // empty'
}
