# tests/chaos/lib.sh - shared by the fault scenarios; source after tests/lib/harness.sh
# and tests/lib/migrate.sh.
#
#   chaos_size SHORT FULL       prints SHORT or FULL after $CHAOS_FORM (default short)
#   chaos_census HOST... -- VM...   sets CENSUS_LOST and CENSUS_DOUBLED: VMs on no listed
#                               host (by each agent's own inventory) and on more than one,
#                               and CENSUS_LEFTOVER: uncommitted received copies (incoming)
#                               still there; a diag line names each
#   chaos_report FAULTS LOST DOUBLED   the line tests/chaos/run adds up
#   chaos_delay MAX-MS          sleeps a random time up to MAX-MS

chaos_size() { [ "${CHAOS_FORM:-short}" = full ] && echo "$2" || echo "$1"; }

chaos_census() {
	local hosts=() vm p n
	while [ $# -gt 0 ] && [ "$1" != -- ]; do hosts+=("$1"); shift; done
	shift
	CENSUS_LOST=0 CENSUS_DOUBLED=0 CENSUS_LEFTOVER=0
	for vm in "$@"; do
		p=$(vm_places "$vm" "${hosts[@]}")
		# a received copy never committed (incoming) is not the VM: counted apart
		if printf '%s\n' "$p" | grep -q ':incoming$'; then
			CENSUS_LEFTOVER=$((CENSUS_LEFTOVER + 1))
			diag "$vm: an uncommitted received copy is left: $(echo $p)"
			p=$(printf '%s\n' "$p" | grep -v ':incoming$')
		fi
		n=$(printf '%s\n' "$p" | grep -c .)
		if [ "$n" -eq 0 ]; then
			CENSUS_LOST=$((CENSUS_LOST + 1))
			diag "$vm: on no host"
		elif [ "$n" -gt 1 ]; then
			CENSUS_DOUBLED=$((CENSUS_DOUBLED + 1))
			diag "$vm: on several hosts: $(echo $p)"
		fi
	done
}

chaos_report() { diag "chaos: faults=$1 lost=$2 doubled=$3"; }

chaos_delay() { # MAX-MS
	local d=$((RANDOM % ($1 + 1)))
	sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
}

# todo_ok STATUS DESC REASON: a check for a fault not handled yet: reported, with a
# TAP TODO directive, so that it shows without failing the suite
todo_ok() {
	_tap_n=$((_tap_n + 1))
	local verdict="ok"
	[ "$1" -eq 0 ] || verdict="not ok"
	echo "$verdict $_tap_n - $2 # TODO $3"
}
