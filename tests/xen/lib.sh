# shellcheck shell=bash
# tests/xen/lib.sh: nested Xen test harness for vmcluster (source it from bash).
#
# Boots two Debian 12 dom0s with Xen 4.17 inside qemu-system-x86_64 (TCG, no
# KVM), linked by a private QEMU socket network on loopback, each with a 9p
# share of one per-run directory and a restricted user-mode NIC that only
# reaches the outer Mosquitto.  See tests/xen/README.md for the contract.
#
# Typical use:
#   . tests/xen/lib.sh
#   xen_init                  # image (build or reuse), run dir, EXIT trap
#   xen_broker_start          # outer mosquitto on a free loopback port
#   cp bin/vmc-hostd bin/vmc-hostd-xen.so "$XEN_SHARE/bin/"; write "$XEN_SHARE/boot-xa.sh"
#   xen_boot_pair             # boots xa (192.168.77.1) and xb (192.168.77.2)
#   xen_wait_up xa; xen_wait_up xb
#   xen_ssh xa 'xl list'
#
# Environment (all optional):
#   VMC_XEN_SMP=1              vCPUs per nested host (and dom0_max_vcpus)
#   VMC_XEN_CPU=max,-smap,-smep,-avx,-avx2,-xsave,-xsaveopt,-xsavec,-xsaves,-pku
#   VMC_XEN_MEM=1536           MiB of RAM per nested host
#   VMC_XEN_DOM0_MEM=640       MiB for dom0 (the rest is free for guests)
#   VMC_XEN_BOOT_TIMEOUT=400   seconds to wait for a dom0 to be ready
#   VMC_XEN_RUN_ROOT=/var/tmp  where per-run directories are made
#   VMC_XEN_KEEP=0             1: keep the run directory even on success
#   VMC_XEN_LOGDIR=            copy serial and dom0 logs here at cleanup
#   VMC_XEN_DEBUG=0            1: verbose dom0 kernel boot on the serial log
#   VMC_XEN_CACHE              image cache root (see scripts/xen-image-build)

XEN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
XEN_TOP=$(cd "$XEN_LIB_DIR/../.." && pwd)
XEN_NET_PREFIX=192.168.77
XEN_BROKER_GUEST_ADDR=10.0.2.100
XEN_BROKER_GUEST_PORT=1883

: "${VMC_XEN_SMP:=1}"
# -cpu max gives Xen SVM+NPT (HAP), which live migration needs: Debian's Xen
# 4.17 is built without shadow paging, so PV guests cannot be live-migrated
# (no log-dirty) and the test guests are PVH.  With smap/smep the PV dom0 dies
# at once.  With AVX/XSAVE, dom0 processes were corrupted now and then (sshd
# rejecting valid ed25519 signatures, GP faults in libcrypto, segfaults in
# libc), worst while an HVM/PVH guest ran: keep XSAVE off.
: "${VMC_XEN_CPU:=max,-smap,-smep,-avx,-avx2,-xsave,-xsaveopt,-xsavec,-xsaves,-pku}"
: "${VMC_XEN_MEM:=1536}"
: "${VMC_XEN_DOM0_MEM:=640}"
: "${VMC_XEN_BOOT_TIMEOUT:=400}"
: "${VMC_XEN_RUN_ROOT:=/var/tmp}"
: "${VMC_XEN_KEEP:=0}"
: "${VMC_XEN_LOGDIR:=}"
: "${VMC_XEN_DEBUG:=0}"

XEN_IMG=
XEN_RUN=
XEN_SHARE=
XEN_LOGS=
XEN_LINK_PORT=
BROKER_PORT=
BROKER_PID=
declare -gA XEN_PID=() XEN_SSH_PORT=() XEN_HOST_IP=()
XEN_USED_PORTS=" "
XEN_JOB_SEQ=0
XEN_BG_PIDS= # other background processes of the test, killed by xen_cleanup

xen_log() { printf '# [%s] %s\n' "$(date +%T)" "$*" >&2; }
xen_die() {
    xen_log "FATAL: $*"
    exit 1
}

# xen_need_pkgs PKG...: apt-get install the missing outer-machine packages.
xen_need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    xen_log "installing on the outer machine: ${missing[*]}"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >&2
}

# xen_free_port: print a TCP port free on loopback (and not handed out yet).
xen_free_port() {
    local p used
    used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u | tr '\n' ' ')
    while :; do
        p=$((20000 + RANDOM % 40000))
        case " $used $XEN_USED_PORTS" in *" $p "*) continue ;; esac
        XEN_USED_PORTS+="$p "
        echo "$p"
        return 0
    done
}

# xen_wait_port PORT [TIMEOUT]: wait until something listens on 127.0.0.1:PORT
# (checked with ss, without connecting: a QEMU socket listener accepts only one).
xen_wait_port() {
    local port=$1 t=${2:-30} i
    for ((i = 0; i < t * 10; i++)); do
        ss -Hltn "sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# xen_init: build or reuse the image, make the run directory, install the trap.
# Sets XEN_IMG (image dir), XEN_RUN, XEN_SHARE (= XEN_RUN/share), XEN_LOGS.
xen_init() {
    xen_need_pkgs qemu-system-x86 mosquitto mosquitto-clients socat \
        openssh-client iproute2
    XEN_IMG=$("$XEN_TOP/scripts/xen-image-build" | tail -1)
    [ -f "$XEN_IMG/.complete" ] || xen_die "image build failed"
    XEN_RUN=$(mktemp -d "$VMC_XEN_RUN_ROOT/vmc-xen-run.XXXXXX")
    XEN_SHARE=$XEN_RUN/share
    XEN_LOGS=$XEN_RUN/logs
    mkdir -p "$XEN_SHARE/bin" "$XEN_SHARE/out" "$XEN_SHARE/cmd" "$XEN_LOGS"
    chmod 755 "$XEN_RUN" "$XEN_SHARE"
    # ssh refuses keys that others can read.
    cp "$XEN_IMG/id_ed25519" "$XEN_RUN/id_ed25519"
    chmod 600 "$XEN_RUN/id_ed25519"
    trap 'xen_cleanup $?' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    xen_log "image $XEN_IMG, run dir $XEN_RUN"
}

# xen_broker_start: start Mosquitto on a free loopback port; sets BROKER_PORT.
xen_broker_start() {
    BROKER_PORT=$(xen_free_port)
    cat >"$XEN_RUN/mosquitto.conf" <<EOF
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
persistence false
log_dest file $XEN_LOGS/mosquitto.log
log_type all
EOF
    mosquitto -c "$XEN_RUN/mosquitto.conf" >>"$XEN_LOGS/mosquitto.out" 2>&1 &
    BROKER_PID=$!
    xen_wait_port "$BROKER_PORT" 10 || xen_die "mosquitto did not start on $BROKER_PORT"
    xen_log "broker on 127.0.0.1:$BROKER_PORT (pid $BROKER_PID)"
}

# xen_boot NAME INDEX: start nested host NAME (INDEX 1..9, IP 192.168.77.INDEX).
# INDEX 1 listens on the link port, any other index connects to it, so boot
# index 1 first (xen_boot_pair does).  The broker must be started first if
# dom0 should reach it (BROKER_PORT); guestfwd connects per TCP connection.
xen_boot() {
    local name=$1 idx=$2 linknet ssh_port ip cmdline quiet=quiet peer peers=""
    [ -n "$XEN_RUN" ] || xen_die "xen_init first"
    ip=$XEN_NET_PREFIX.$idx
    [ -n "$XEN_LINK_PORT" ] || XEN_LINK_PORT=$(xen_free_port)
    if [ "$idx" = 1 ]; then
        linknet="socket,id=n0,listen=127.0.0.1:$XEN_LINK_PORT"
    else
        xen_wait_port "$XEN_LINK_PORT" 30 || xen_die "host 1 link port not listening"
        linknet="socket,id=n0,connect=127.0.0.1:$XEN_LINK_PORT"
    fi
    ssh_port=$(xen_free_port)
    local usernet="user,id=n1,restrict=on,ipv6=off,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:$ssh_port-:22"
    if [ -n "$BROKER_PORT" ]; then
        usernet+=",guestfwd=tcp:$XEN_BROKER_GUEST_ADDR:$XEN_BROKER_GUEST_PORT-cmd:socat STDIO TCP:127.0.0.1:$BROKER_PORT"
    fi
    [ "$VMC_XEN_DEBUG" = 1 ] && quiet="loglevel=7"
    for peer in "${!XEN_HOST_IP[@]}"; do
        [ "$peer" = "$name" ] || peers+=" vmc.peer=$peer:${XEN_HOST_IP[$peer]}"
    done
    cmdline="root=/dev/vda rw console=hvc0 net.ifnames=0 $quiet vmc.host=$name vmc.ip=$ip/24$peers"
    XEN_HOST_IP[$name]=$ip
    XEN_SSH_PORT[$name]=$ssh_port
    mkdir -p "$XEN_SHARE/out/$name" "$XEN_SHARE/cmd/$name"
    TMPDIR=$XEN_RUN qemu-system-x86_64 -name "vmc-$name" \
        -machine q35 -cpu "$VMC_XEN_CPU" -accel tcg,thread=multi -nodefaults \
        -smp "$VMC_XEN_SMP" -m "$VMC_XEN_MEM" \
        -nographic -no-reboot -monitor none -serial "file:$XEN_LOGS/$name.serial" \
        -kernel "$XEN_IMG/xen.elf" \
        -append "console=com1 com1=115200,8n1 dom0_mem=${VMC_XEN_DOM0_MEM}M,max:${VMC_XEN_DOM0_MEM}M dom0_max_vcpus=$VMC_XEN_SMP noreboot bootscrub=0" \
        -initrd "$XEN_IMG/dom0-vmlinuz $cmdline,$XEN_IMG/dom0-initrd.img" \
        -drive "file=$XEN_IMG/dom0.img,if=virtio,format=raw,snapshot=on" \
        -virtfs "local,path=$XEN_SHARE,mount_tag=share,security_model=none,id=share" \
        -device "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:0$idx" -netdev "$linknet" \
        -device "virtio-net-pci,netdev=n1,mac=52:54:00:02:00:0$idx" -netdev "$usernet" \
        </dev/null >"$XEN_LOGS/$name.qemu.log" 2>&1 &
    XEN_PID[$name]=$!
    xen_log "booting $name ($ip, ssh 127.0.0.1:$ssh_port, pid ${XEN_PID[$name]})"
}

# xen_boot_pair [NAME_A NAME_B]: boot xa and xb (or the given names).
xen_boot_pair() {
    XEN_HOST_IP[${2:-xb}]=$XEN_NET_PREFIX.2 # so that xa's /etc/hosts knows xb
    xen_boot "${1:-xa}" 1
    xen_wait_port "$XEN_LINK_PORT" 30 || xen_die "${1:-xa}: link port never listened"
    xen_boot "${2:-xb}" 2
}

# xen_alive NAME: is the QEMU of NAME still running?
xen_alive() { kill -0 "${XEN_PID[$1]:-}" 2>/dev/null; } # false once powered off

# xen_wait_up NAME [TIMEOUT]: wait until dom0 NAME is ready (share marker
# out/NAME/ready, written once xl works and sshd listens).
xen_wait_up() {
    local name=$1 t=${2:-$VMC_XEN_BOOT_TIMEOUT} start=$SECONDS
    while [ ! -f "$XEN_SHARE/out/$name/ready" ]; do
        if ! xen_alive "$name"; then
            xen_log "$name: QEMU exited; serial log tail:"
            tail -n 30 "$XEN_LOGS/$name.serial" "$XEN_LOGS/$name.qemu.log" >&2 || true
            return 1
        fi
        if ((SECONDS - start > t)); then
            xen_log "$name: not ready after $t s; serial log tail:"
            tail -n 30 "$XEN_LOGS/$name.serial" >&2 || true
            return 1
        fi
        sleep 1
    done
}

# xen_ip NAME: the dom0's address on the private link (e.g. 192.168.77.1).
xen_ip() { echo "${XEN_HOST_IP[$1]}"; }

# xen_ssh NAME COMMAND...: run a shell command in dom0 NAME as root (through a
# loopback-only port forward).  Stdin is passed through.  Returns its status.
xen_ssh() {
    local name=$1
    shift
    ssh -i "$XEN_RUN/id_ed25519" -p "${XEN_SSH_PORT[$name]}" -o IdentitiesOnly=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=30 \
        -o ServerAliveInterval=15 -o ServerAliveCountMax=8 \
        root@127.0.0.1 "$@"
}

# xen_cmd NAME SCRIPT_FILE [TIMEOUT]: run a bash script in dom0 NAME through
# the 9p share (no network needed): copied to share/cmd/NAME/jobN.sh, run by
# the boot service with /etc/vmc-test.env exported and cwd /share; prints its
# output (share/out/NAME/cmd/jobN.out) and returns its exit status.
xen_cmd() {
    local name=$1 script=$2 t=${3:-300} job start=$SECONDS d
    XEN_JOB_SEQ=$((XEN_JOB_SEQ + 1))
    job=job$XEN_JOB_SEQ.$$
    d=$XEN_SHARE/out/$name/cmd
    cp "$script" "$XEN_SHARE/cmd/$name/.$job.tmp"
    mv "$XEN_SHARE/cmd/$name/.$job.tmp" "$XEN_SHARE/cmd/$name/$job.sh"
    while [ ! -f "$d/$job.rc" ]; do
        if ((SECONDS - start > t)) || ! xen_alive "$name"; then
            xen_log "$name: job $job did not finish"
            return 124
        fi
        sleep 0.5
    done
    cat "$d/$job.out"
    return "$(cat "$d/$job.rc")"
}

# xen_guest_cfg NAME [TYPE [MEMORY_MIB [RAMDISK]]]: print an xl.cfg for a "tick"
# test guest (Debian kernel + busybox initramfs printing "tick N" to hvc0 every
# second; RAMDISK, a dom0 path, replaces that initramfs).  TYPE pvh (default:
# live-migratable) or pv (cannot be live-migrated on Debian's Xen, built
# without shadow paging).  The kernel and initramfs paths exist in every dom0.  Write it to the share, e.g.
#   xen_guest_cfg t1 >"$XEN_SHARE/t1.cfg"; xen_ssh xa xl create /share/t1.cfg
xen_guest_cfg() {
    local name=$1 type=${2:-pvh} mem=${3:-128} ramdisk=${4:-/var/lib/vmc-xen/guest-initrd.img}
    cat <<EOF
name = "$name"
type = "$type"
memory = $mem
vcpus = 1
kernel = "/var/lib/vmc-xen/guest-vmlinuz"
ramdisk = "$ramdisk"
extra = "console=hvc0 rdinit=/init"
on_crash = "destroy"
EOF
    # QEMU's emulated SVM has no NRIP save, and Xen cannot decode an
    # intercepted RDTSCP without it: the PVH guest would crash at boot.
    [ "$type" = pv ] || echo 'cpuid = "host,rdtscp=0"'
}

# xen_stop NAME: kill the QEMU of one nested host (a "host crash").
xen_stop() {
    local name=$1 pid=${XEN_PID[$1]:-} i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true # a frozen one (xen_freeze) gets the TERM now
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "XEN_PID[$name]"
}

# xen_freeze NAME: stop the QEMU of one nested host (SIGSTOP): a hung host, whose
# CPUs, network and broker connection all stop at once but whose QEMU lives on
# (xen_alive stays true: send it no more jobs).
xen_freeze() {
    local pid=${XEN_PID[$1]:-}
    [ -n "$pid" ] && kill -STOP "$pid"
}

# xen_power_off NAME: its power switch, for a fence: SIGKILL of its QEMU (frozen
# or not), reaped before this returns. 0 also if it was off already.
xen_power_off() {
    local pid=${XEN_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "XEN_PID[$1]"
}

# xen_reboot_pair [NAME_A NAME_B]: stop both nested hosts and boot them again
# from the image (a fresh start: snapshot=on drops what dom0 wrote), keeping
# the run directory, the broker and the boot scripts; the old serial logs are
# kept as NAME.serial.1.  Returns 1 if a host does not come up.
xen_reboot_pair() {
    local a=${1:-xa} b=${2:-xb} n
    for n in "$a" "$b"; do
        xen_stop "$n"
        mv -f "$XEN_LOGS/$n.serial" "$XEN_LOGS/$n.serial.1" 2>/dev/null || true
        rm -rf "${XEN_SHARE:?}/out/$n" "${XEN_SHARE:?}/cmd/$n"
    done
    XEN_LINK_PORT=
    xen_boot_pair "$a" "$b"
    xen_wait_up "$a" && xen_wait_up "$b"
}

# xen_cleanup [RC]: stop every QEMU and the broker; keep logs on failure.
xen_cleanup() {
    local rc=${1:-0} name
    trap - EXIT
    for name in $XEN_BG_PIDS; do
        kill "$name" 2>/dev/null && wait "$name" 2>/dev/null
    done
    for name in "${!XEN_PID[@]}"; do xen_stop "$name"; done
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=
    fi
    [ -n "$XEN_RUN" ] && [ -d "$XEN_RUN" ] || return 0
    if [ -n "$VMC_XEN_LOGDIR" ]; then
        mkdir -p "$VMC_XEN_LOGDIR"
        cp -r "$XEN_LOGS"/. "$VMC_XEN_LOGDIR"/ 2>/dev/null || true
        cp -r "$XEN_SHARE/out" "$VMC_XEN_LOGDIR"/ 2>/dev/null || true
    fi
    if [ "$rc" != 0 ] || [ "$VMC_XEN_KEEP" = 1 ]; then
        xen_log "run directory kept: $XEN_RUN (serial logs in $XEN_LOGS)"
    else
        rm -rf --one-file-system "$XEN_RUN"
    fi
    return "$rc"
}
