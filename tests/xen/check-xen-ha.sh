# shellcheck shell=bash
# tests/xen/check-xen-ha.sh: check-xen's HA phase, sourced by tests/xen/check-xen
# after its other phases (it uses check-xen's ok, not_ok, check, diag, timing,
# ticking and the functions of lib.sh and vmc-lib.sh). 8 tests.
#
# A tick guest, hat, whose kernel, initramfs and (once protected) xl.cfg are on
# the shared store (/share/store, the 9p share both dom0s mount), runs on xb with
# the tag ha. Then xb hangs: its QEMU is stopped (SIGSTOP), so its CPUs, network
# and broker connection stop at once, and nothing closes its connections. xa sees
# both signals of death (no load from xb on the broker, no answer from xb's
# migration port), claims xb and runs the fence hook (tests/xen/fence-hook), which
# asks the harness to power xb off: only then is that QEMU killed (SIGKILL). Then xa
# starts hat. Checked: the hook asked for xb with xb's address; before that, xa ran
# no hat and no ha event had come; ha.fenced and ha.restarted came; hat runs on xa
# only and prints its ticks there.

t=$SECONDS
HA_EV=$XEN_RUN/ha-events.json
HA_EV_PID=
HA_PRE_OK=0
T_FENCE=

ha_on() { vmcx --json ha status --host "$1" 2>/dev/null | jq -e '.policy == "on"' >/dev/null; }
ha_setup() {
	local out rc
	cp "$XEN_IMG/guest-vmlinuz" "$XEN_IMG/guest-initrd.img" "$XEN_SHARE/store/" || return 1
	xen_guest_cfg hat pvh 128 /share/store/guest-initrd.img |
		sed 's|^kernel = .*|kernel = "/share/store/guest-vmlinuz"|' >"$XEN_RUN/hat.cfg" || return 1
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t vmc/default/policy \
		-m "{\"v\":1,\"from\":\"vmc/admin\",\"ts\":$(date +%s%3N),\"mode\":\"off\",\"ha\":\"on\"}" ||
		return 1
	wait_for 30 ha_on xa && wait_for 30 ha_on xb || return 1
	out=$(vmcx --timeout 300 create hat --host xb --config "$XEN_RUN/hat.cfg" --tags ha 2>&1)
	rc=$?
	diag <<<"$out"
	return $rc
}
# ha_ev JQ-CONDITION: some recorded event matches.
ha_ev() { jq -c "select($1)" "$HA_EV" 2>/dev/null | grep -q .; }
ha_planned() {
	jq -e '.host == "xb" and (.from // "") == ""' "$XEN_SHARE/store/hat.json" >/dev/null 2>&1 &&
		[ -s "$XEN_SHARE/store/hat.cfg" ] &&
		vmcx --json ha status xb --host xa 2>/dev/null |
		jq -e '[.plan.restarts[] | select(.vm == "hat" and .to == "xa")] | length == 1' >/dev/null
}
# ha_pre HOST: run by xen_fence_serve just before it powers HOST off.
ha_pre() {
	local xl evs
	T_FENCE=$SECONDS
	xl=$(xc xa 60 "xl list 2>/dev/null | awk 'NR > 1 { print \$1 }'" | tr '\n' ' ')
	# ha.fencing (the hook has started) is the only ha event allowed before the power-off
	evs=$(jq -r '.type' "$HA_EV" 2>/dev/null | grep '^ha\.' | grep -vx 'ha\.fencing' | tr '\n' ' ')
	echo "# before $1's power-off: xa runs ${xl:-?}; ha events so far: ${evs:-none}"
	[[ " $xl " == *" Domain-0 "* ]] && [[ " $xl " != *" hat "* ]] && [ -z "$evs" ] && HA_PRE_OK=1
	return 0
}
ha_restarted() {
	xen_fence_serve
	ha_ev '.type == "ha.restarted" and .vm == "hat"'
}
hat_on_xa() {
	local xl recs
	xl=$(xc xa 60 "xl list 2>/dev/null | awk '\$1 == \"hat\" { print \$5 }'")
	recs=$(vm_json hat)
	diag <<<"xa: xl list state of hat: ${xl:-none}; vmc vms: ${recs//$'\n'/; }"
	[ -n "$xl" ] && [[ $xl != *[pscd]* ]] &&
		jq -s -e 'map(select(.state == "running")) | length == 1 and .[0].host == "xa"' \
			<<<"$recs" >/dev/null
}
ha_settled() {
	vmcx --json ha status --host xa 2>/dev/null | jq -e '
		([.protected[] | select(.vm == "hat" and .host == "xa" and .restart_from == null)]
		 | length == 1) and
		([.hosts[] | select(.host == "xb" and .fence.state == "done")] | length == 1)' >/dev/null
}

if ha_setup; then
	ok "ha on in the policy; hat (kernel, initramfs on the shared store; tag ha) created on xb"
	check "the shared store records hat on xb; xa's plan if xb died: hat to xa" wait_for 60 ha_planned
	check "hat's console on xb keeps printing" ticking xb -1 hat
	timing ha-setup $((SECONDS - t))

	vmcx events --json --wait 900 >"$HA_EV" 2>"$HA_EV.err" &
	HA_EV_PID=$!
	XEN_BG_PIDS+=" $HA_EV_PID"
	wait_for 30 grep -q 'following the events' "$HA_EV.err"
	t=$SECONDS
	XEN_FENCE_BEFORE=ha_pre
	xen_freeze xb
	echo "# xb hangs: its QEMU (pid ${XEN_PID[xb]}) stopped"
	wait_for 300 ha_restarted
	XEN_FENCE_BEFORE=
	[ -n "$T_FENCE" ] && timing ha-hang-to-fence $((T_FENCE - t))
	[ -n "$T_FENCE" ] && timing ha-fence-to-restarted $((SECONDS - T_FENCE))
	diag <"$XEN_RUN/fenced.log"
	fence_ok() {
		[ "$(cat "$XEN_RUN/fenced.log")" = "xb $(xen_ip xb) xa -> off" ] && [ "$HA_PRE_OK" = 1 ] &&
			! xen_alive xb
	}
	check "the fence hook run by xa had the harness kill xb's QEMU; before that xa ran no hat" \
		fence_ok
	ha_events_ok() {
		ha_ev '.type == "ha.fenced" and .host == "xa" and .dead_host == "xb"' &&
			ha_ev '.type == "ha.restarted" and .vm == "hat" and .from == "xb" and .to == "xa"' &&
			! ha_ev '.type == "ha.failed" or (.type == "ha.lost" and .vm == "hat")'
	}
	check "events ha.fenced (xb, by xa) and ha.restarted (hat, xb to xa), no ha.failed" \
		ha_events_ok
	jq -c 'select(.type | startswith("ha."))' "$HA_EV" 2>/dev/null | diag
	check "hat runs on xa only (xl list there; vmc vms: one running copy)" wait_for 90 hat_on_xa
	check "hat's console on xa prints its ticks" ticking xa -1 hat
	check "ha status on xa: xb's fence claim done, hat's record names xa" wait_for 30 ha_settled
	grep -h 'ha: \|fence' "$XEN_SHARE/out/xa/hostd.log" 2>/dev/null | tail -n 12 | diag
	timing ha-restart $((SECONDS - t))
	kill "$HA_EV_PID" 2>/dev/null
	wait "$HA_EV_PID" 2>/dev/null
	XEN_BG_PIDS=${XEN_BG_PIDS/ $HA_EV_PID/}
else
	not_ok "ha on in the policy; hat (kernel, initramfs on the shared store; tag ha) created on xb"
	for d in "the shared store records hat on xb" "hat's console on xb" "fence hook" \
		"events ha.fenced, ha.restarted" "hat runs on xa only" "hat's console on xa" \
		"ha status on xa"; do
		not_ok "$d (no set-up)"
	done
fi
