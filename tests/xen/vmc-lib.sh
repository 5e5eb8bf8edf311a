# shellcheck shell=bash
# tests/xen/vmc-lib.sh: vmcluster on the nested Xen pair (source after lib.sh).
#
# xen_vmc_up boots xa and xb with `vmc-hostd --driver xen` started from the
# share; the other functions drive the cluster from outside with $VMC_BIN/vmc
# and look inside the dom0s through the 9p job queue (xen_cmd).

: "${VMC_BIN:=$XEN_TOP/bin}"

# xen_vmc_up: image, broker, binaries and cluster key in the share, boot
# scripts starting vmc-hostd (its log in out/NAME/hostd.log, its pid in
# /run/vmc-hostd.pid; running the boot script again as a job restarts it),
# both hosts booted and ready.  Returns 1 if a host did not come up.
# The agents run with HA's options (it stays off until the cluster policy says
# "ha":"on"): the shared store is /share/store ($XEN_SHARE/store) and the fence
# hook tests/xen/fence-hook, which asks the harness through $XEN_SHARE/fence
# to kill a host's QEMU (xen_fence_serve answers).
xen_vmc_up() {
	local h b
	for b in vmc vmc-hostd vmc-guestd vmc-hostd-xen.so; do
		[ -f "$VMC_BIN/$b" ] || xen_die "$VMC_BIN/$b missing (run make first)"
	done
	xen_init
	xen_need_pkgs jq busybox-static cpio
	xen_broker_start
	# Balancing off: on these 1-CPU hosts the busy tick guest would be moved
	# by the balancer on its own, racing the migrations the tests ask for.
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t vmc/default/policy \
		-m "{\"v\":1,\"from\":\"vmc/admin\",\"ts\":$(date +%s%3N),\"mode\":\"off\"}" ||
		xen_die "cannot publish the cluster policy"
	# the xen driver is a module vmc-hostd loads from its own directory (vmc-hostd(8))
	cp "$VMC_BIN/vmc-hostd" "$VMC_BIN/vmc-hostd-xen.so" "$VMC_BIN/vmc-guestd" "$XEN_SHARE/bin/"
	cp "$XEN_TOP/tests/xen/fence-hook" "$XEN_SHARE/bin/xen-fence-hook"
	chmod 755 "$XEN_SHARE/bin/xen-fence-hook"
	mkdir -p "$XEN_SHARE/store" "$XEN_SHARE/fence"
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$XEN_SHARE/cluster.key"
	echo >>"$XEN_SHARE/cluster.key"
	for h in xa xb; do
		cat >"$XEN_SHARE/boot-$h.sh" <<'EOF'
mkdir -p /var/lib/vmcluster/hostd "/share/out/$VMC_HOST"
setsid /share/bin/vmc-hostd --driver xen --name "$VMC_HOST" \
    --broker "mqtt://$VMC_BROKER_HOST:$VMC_BROKER_PORT" \
    --migrate-addr "$VMC_IP" --migrate-port 7000 \
    --cluster-key-file /share/cluster.key --state-dir /var/lib/vmcluster/hostd \
    --shared-store /share/store --fence-hook /share/bin/xen-fence-hook --ha-timeout 5 \
    --keepalive 30 --interval 2 </dev/null >>"/share/out/$VMC_HOST/hostd.log" 2>&1 &
echo $! >/run/vmc-hostd.pid
echo "vmc-hostd started, pid $!"
EOF
	done
	xen_boot_pair xa xb
	xen_wait_up xa && xen_wait_up xb
}

# xen_vmc_online [SECONDS]: both agents online in `vmc hosts` (default within
# 180 s). If not, the boot is tried once more: the nested dom0 kernel has been
# seen to hang in xenbus under load ("task xenbus_probe blocked"), and then
# vmc-hostd, like xl, waits for xenstore forever. What was seen goes to stderr
# and "# setup retried: ..." to stdout, so a retry never passes unnoticed.
# Returns 1 if the agents are still not online after the second boot.
xen_vmc_online() {
	local t=${1:-180} h
	wait_for "$t" hosts_online && return 0
	echo "# setup retried: agents not online after $t s (xa $(host_field xa state), xb $(host_field xb state))"
	for h in xa xb; do
		xen_log "$h: hostd log and serial log tail before the second boot:"
		tail -n 5 "$XEN_SHARE/out/$h/hostd.log" "$XEN_LOGS/$h.serial" >&2 2>/dev/null
	done
	xen_reboot_pair xa xb || return 1
	wait_for "$t" hosts_online
}

# vmcx ARGS...: the outer vmc, on the run's broker.
vmcx() { "$VMC_BIN/vmc" --broker "mqtt://127.0.0.1:$BROKER_PORT" "$@"; }

# xc HOST TIMEOUT SHELL-TEXT: run SHELL-TEXT in dom0 HOST through the 9p
# queue; prints its output, returns its status (124 on timeout).
# (xc is often called inside $(...): xen_cmd's job counter would not advance
# there and a later job would find an earlier one's output, so each call
# gets its own job number.)
xc() {
	local f rc XEN_JOB_SEQ=$((BASHPID * 100000 + RANDOM))
	f=$(mktemp "$XEN_RUN/job.XXXXXX")
	printf '%s\n' "$3" >"$f"
	xen_cmd "$1" "$f" "$2"
	rc=$?
	rm -f "$f"
	return $rc
}

# host_field HOST FIELD: a field of HOST's record in `vmc hosts --json`.
host_field() {
	vmcx --json hosts 2>/dev/null | jq -r --arg n "$1" --arg f "$2" \
		'.[] | select(.name == $n) | .[$f] // empty'
}

# vm_json NAME: NAME's records in `vmc vms --json`, one object a line.
vm_json() { vmcx --json vms 2>/dev/null | jq -c --arg n "$1" '.[] | select(.name == $n)'; }

# wait_for SECONDS COMMAND...: run COMMAND every 2 s until it succeeds (0) or time is up (1).
wait_for() {
	local t=$1 start=$SECONDS
	shift
	while ! "$@"; do
		((SECONDS - start > t)) && return 1
		sleep 2
	done
}

# hosts_online: both agents are online in `vmc hosts`.
hosts_online() {
	[ "$(host_field xa state)" = online ] && [ "$(host_field xb state)" = online ]
}

# vm_only_on NAME HOST: vmc vms lists NAME exactly once, running, on HOST.
vm_only_on() {
	local recs
	recs=$(vm_json "$1")
	[ "$(grep -c . <<<"$recs")" = 1 ] &&
		jq -e --arg h "$2" '.host == $h and .state == "running"' <<<"$recs" >/dev/null
}

# xl_all: every tick domain of both dom0s' xl list as "HOST NAME STATE" lines.
xl_all() {
	local h
	for h in xa xb; do
		xc "$h" 60 "xl list 2>/dev/null | awk 'NR > 1 && \$1 ~ /^tick/ { print \$1, \$5 }'" |
			sed "s/^/$h /"
	done
}

# running_copies XL_ALL: how many of those domains run (state without p, s, c, d).
running_copies() { awk '$3 !~ /[pscd]/' <<<"$1" | grep -c .; }

# max_tick HOST [VM]: highest "tick N" in the console logs of the tick guest VM
# (default tick) on HOST (-1: none). xenconsoled writes guest-VM.log, or
# guest-VM--incoming.log on a migration target; the counter only grows, so the
# highest number is the latest.
max_tick() {
	xc "$1" 60 "cat /var/log/xen/console/guest-${2:-tick}.log /var/log/xen/console/guest-${2:-tick}--incoming.log 2>/dev/null" |
		tr -d '\r' | awk '/^tick [0-9]+$/ && $2 > n { n = $2 } END { print (n == "" ? -1 : n + 0) }'
}

# ---------------------------------------------------------------- guest agent
# The guest "ga" runs vmc-guestd from a busybox initramfs with a vif on xenbr0.
# The broker is reachable only from the dom0s (their restricted user-mode NIC),
# so dom0 HOST relays TCP from its private address, port 1883, to the broker
# (tests/xen/tcp-relay.py, started by xen_guest_agent_relay).

# xen_guest_agent_initrd HOST IP BROKER_IP OUT: writes OUT, an initramfs with
# busybox, vmc-guestd and its libraries (from the outer machine, the same
# Debian 12), and dom0 HOST's xen-netfront module (the guest runs dom0's
# kernel). Its /init sets the address IP on eth0 and keeps vmc-guestd running
# against mqtt://BROKER_IP:1883 without --name: the name comes from xenstore.
xen_guest_agent_initrd() {
	local host=$1 ip=$2 broker=$3 out=$4 d lib
	d=$(mktemp -d "$XEN_RUN/ga-initrd.XXXXXX")
	mkdir -p "$d"/{bin,dev,proc,sys,tmp,etc,lib64,lib/x86_64-linux-gnu}
	cp /bin/busybox "$d/bin/busybox" || return 1
	cp "$VMC_BIN/vmc-guestd" "$d/bin/vmc-guestd" || return 1
	for lib in $(ldd "$VMC_BIN/vmc-guestd" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		cp "$lib" "$d/lib/x86_64-linux-gnu/" || return 1
	done
	cp /lib64/ld-linux-x86-64.so.2 "$d/lib64/" || return 1
	xc "$host" 60 'cp "/lib/modules/$(uname -r)/kernel/drivers/net/xen-netfront.ko" /share/' ||
		return 1
	mv "$XEN_SHARE/xen-netfront.ko" "$d/" || return 1
	cat >"$d/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
[ -c /dev/hvc0 ] && exec </dev/hvc0 >/dev/hvc0 2>&1
hostname not-the-vm-name
insmod /xen-netfront.ko
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 1; done
ip link set lo up
ip addr add $ip/24 dev eth0
ip link set eth0 up
echo "ga guest up: \$(ip -o -4 addr show eth0)"
while :; do
    /bin/vmc-guestd --broker mqtt://$broker:1883 --interval 2 --keepalive 10
    echo "vmc-guestd exited with status \$?"
    sleep 2
done
INIT
	chmod 755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$out" || return 1
	rm -rf "$d"
}

# xen_guest_agent_cfg NAME RAMDISK MAC: an xl.cfg for the guest-agent guest
# (the tick guest's, PVH, 128 MiB, with RAMDISK and one vif on xenbr0).
xen_guest_agent_cfg() {
	xen_guest_cfg "$1" pvh 128 "$2"
	echo "vif = [ \"mac=$3,bridge=xenbr0\" ]"
}

# xen_guest_agent_relay HOST: starts the relay in dom0 HOST (its private
# address, port 1883, to the broker's guestfwd address).
xen_guest_agent_relay() {
	cp "$XEN_TOP/tests/xen/tcp-relay.py" "$XEN_SHARE/tcp-relay.py" || return 1
	xc "$1" 60 'setsid python3 /share/tcp-relay.py "$VMC_IP" 1883 "$VMC_BROKER_HOST" "$VMC_BROKER_PORT" \
    </dev/null >>"/share/out/$VMC_HOST/relay.log" 2>&1 &
sleep 1; cat "/share/out/$VMC_HOST/relay.log"'
}

# ---------------------------------------------------------------- fencing
# The agents' fence hook (tests/xen/fence-hook, run in a dom0) cannot reach the
# outer machine's processes: it writes share/fence/HOST.req ("HOST ADDRESS
# ASKER") and waits for share/fence/HOST.ack. xen_fence_serve, called from the
# test's wait loops, answers: "off" after killing that host's QEMU by the pid
# this harness started it with (xen_power_off), if the address is that host's;
# "refused: ..." otherwise. Each request served is appended to
# $XEN_RUN/fenced.log as "HOST ADDRESS ASKER -> ANSWER".
# XEN_FENCE_BEFORE, if set, is a command run before a host is powered off.
XEN_FENCE_BEFORE=
xen_fence_serve() {
	local req host addr asker ans
	for req in "$XEN_SHARE"/fence/*.req; do
		[ -f "$req" ] || continue
		read -r host addr asker <"$req"
		rm -f "$req"
		if ! [[ $host =~ ^[a-z0-9-]+$ ]] || [ -z "${XEN_HOST_IP[$host]:-}" ]; then
			ans="refused: no nested host ${host:-?} in this run"
		elif [ "$addr" != "${XEN_HOST_IP[$host]}" ]; then
			ans="refused: $host's address is ${XEN_HOST_IP[$host]}, not $addr"
		else
			[ -z "$XEN_FENCE_BEFORE" ] || $XEN_FENCE_BEFORE "$host"
			xen_power_off "$host"
			ans=off
		fi
		echo "$host $addr $asker -> $ans" >>"$XEN_RUN/fenced.log"
		echo "# fence: $asker asked to power $host ($addr) off: $ans"
		if [[ $host =~ ^[a-z0-9-]+$ ]]; then
			echo "$ans" >"$XEN_SHARE/fence/.$host.ack" &&
				mv -f "$XEN_SHARE/fence/.$host.ack" "$XEN_SHARE/fence/$host.ack"
		fi
	done
}
