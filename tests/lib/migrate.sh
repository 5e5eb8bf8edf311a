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

# kill_loop SIDE N: N migrations among h1 and h2, each cut by kill -9 of SIDE (source or
# destination) after a random delay, the killed agent restarted at once; after each,
# every VM of $KILL_VMS must run exactly once. Prints one diag line per round; sets
# KILL_BAD (rounds that broke the rule), KILL_MOVED and KILL_STAYED.
kill_loop() { # SIDE N
	local side=$1 n=$2 i vm p from to victim delay
	KILL_BAD=0 KILL_MOVED=0 KILL_STAYED=0
	for ((i = 1; i <= n; i++)); do
		set -- $KILL_VMS
		shift $((i % $#))
		vm=$1
		p=$(vm_places "$vm" h1 h2)
		from=${p%%:*}
		[ "$from" = h1 ] && to=h2 || to=h1
		[ "$side" = source ] && victim=$from || victim=$to
		vmcc --timeout 120 migrate "$vm" "$to" >/dev/null 2>&1 &
		local mpid=$!
		delay=$((RANDOM % ${KILL_MAX_MS:-1500}))
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		{ harness_kill_host "$victim" KILL; } 2>/dev/null
		harness_wait_host "$victim" offline 10 # its Last Will, before it comes back
		mig_start_host "$victim"
		harness_wait_host "$victim" online 30
		local v settled=1
		for v in $KILL_VMS; do
			wait_until 90 vm_settled "$v" h1 h2 || settled=0
		done
		kill "$mpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
		p=$(vm_places "$vm" h1 h2)
		if [ "$settled" = 0 ]; then
			KILL_BAD=$((KILL_BAD + 1))
			diag "round $i: $vm $from->$to, $victim killed after ${delay} ms: NOT settled:" \
				"$(for v in $KILL_VMS; do printf '%s=[%s] ' "$v" "$(vm_places "$v" h1 h2 | tr '\n' ' ')"; done)"
		else
			[ "${p%%:*}" = "$to" ] && KILL_MOVED=$((KILL_MOVED + 1)) || KILL_STAYED=$((KILL_STAYED + 1))
			diag "round $i: $vm $from->$to, $victim killed after ${delay} ms: now on ${p%%:*}"
		fi
	done
}

# crash_round VM POINT WANT: migrates VM from where it is to the other of h1/h2, with
# the agent whose role POINT names (src-... or dst-...) started with VMC_CRASH_AT=POINT
# so that it dies at exactly that step; restarts it normally and checks that VM then
# runs exactly once, on WANT ("source" or "destination").
crash_round() { # VM POINT WANT
	local vm=$1 point=$2 want=$3 p from to victim
	# where it is: both agents answer (on a loaded machine a just restarted one may not yet)
	wait_until 60 vm_settled "$vm" h1 h2
	p=$(vm_places "$vm" h1 h2)
	from=${p%%:*}
	[ "$from" = h1 ] && to=h2 || to=h1
	[ "${point%%-*}" = src ] && victim=$from || victim=$to
	harness_kill_host "$victim"
	VMC_CRASH_AT=$point mig_start_host "$victim"
	harness_wait_host "$victim" online 30
	wait_until 10 sh -c "\"$VMC_BIN/vmc\" --broker $BROKER_URL call cmd/host/$from host.info >/dev/null"
	vmcc --timeout 120 migrate "$vm" "$to" >/dev/null 2>&1 &
	local mpid=$! pid=${HOST_PID[$victim]}
	wait_until 60 sh -c "! kill -0 $pid 2>/dev/null"
	local died=$?
	{ harness_kill_host "$victim" KILL; } 2>/dev/null
	harness_wait_host "$victim" offline 10
	mig_start_host "$victim"
	harness_wait_host "$victim" online 30
	wait_until 90 vm_settled "$vm" h1 h2
	local settled=$?
	kill "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
	p=$(vm_places "$vm" h1 h2)
	local where=source
	[ "${p%%:*}" = "$to" ] && where=destination
	[ "$died" = 0 ] && [ "$settled" = 0 ] && [ "$where" = "$want" ]
	ok $? "$point: $victim died there; after its restart $vm runs once, at the $want ($p)"
}
