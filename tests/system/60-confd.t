#!/usr/bin/env bash
# vmc-confd: VMs from templates. A local HTTP server serves base images; vm.create
# downloads one once, checks its sha256, clones the disk, writes an xl.cfg that libxlutil
# reads back, places the VM and starts it on a sim host. Failures (a tampered image, a cut
# download, a 404, an unreachable server, a full store, bad names) say what was wrong and
# leave nothing behind. Guest agent figures reach `vmc vms --json`.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 75

MIB=1048576
STORE=$T/store
TPL=$T/templates
SRV=$T/srv
mkdir -p "$TPL" "$SRV"

# --- helpers ------------------------------------------------------------------------
start_confd() { # STORE [args...]
	local store=$1
	shift
	"$VMC_BIN/vmc-confd" --broker "$BROKER_URL" --store "$store" --templates "$TPL" \
		--host-timeout 10 "$@" >>"$T/confd.log" 2>&1 &
	HOST_PID[confd]=$!
	wait_until 10 confd_online
}
confd_online() {
	mosquitto_sub -p "$BROKER_PORT" -h 127.0.0.1 -t vmc/default/confd/confd/state -C 1 -W 2 \
		2>/dev/null | grep -q '"state":"online"'
}
stop_confd() {
	kill "${HOST_PID[confd]}" 2>/dev/null
	wait "${HOST_PID[confd]}" 2>/dev/null
	unset "HOST_PID[confd]"
}
vm_field() { vmcc vms --json | jq -r --arg n "$1" ".[] | select(.name==\$n) | $2"; }
vm_running() { [ "$(vm_field "$1" .state)" = running ]; }
gets() { # PATH: how many GETs the image server answered for it
	grep -c "\"path\": \"$1\"" "$T/http-requests.log" 2>/dev/null || true
}
# Everything in the store that is not a finished base image: should be empty after failures.
leftovers() { # VM
	find "$1" \( -path "*/disks/*" -o -path "*/configs/*" -o -name ".*" \) \
		-newer "$T/mark" -not -type d 2>/dev/null | sort
}
template() { # NAME URL SHA [more lines]
	local name=$1 url=$2 sha=$3
	shift 3
	{
		echo "image = \"$url\""
		echo "sha256 = $sha"
		echo "memory = 256"
		echo "vcpus = 2"
		echo "disk_size = 16M"
		echo "kernel = /boot/vmlinuz-guest"
		echo "bridge = xenbr0"
		echo "extra = \"console=hvc0\""
		for l in "$@"; do echo "$l"; done
	} >"$TPL/$name.tmpl"
}

# A 4 MiB base image, half data, half hole; a tampered copy differs in one byte.
python3 - "$SRV" <<'EOF'
import os, sys
d = sys.argv[1]
data = bytes((i * 7 + 3) % 251 for i in range(2 * 1024 * 1024))
for name in ("base.img", "cutbase.img", "progbase.img"):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
        f.truncate(4 * 1024 * 1024)
t = bytearray(data)
t[1000] ^= 0xff
with open(os.path.join(d, "tampered.img"), "wb") as f:
    f.write(t)
    f.truncate(4 * 1024 * 1024)
EOF
SHA=$(sha256sum "$SRV/base.img" | cut -d' ' -f1)

python3 "$HARNESS_ROOT/tests/lib/imgserver.py" "$SRV" "$T/http.port" "$T/http-requests.log" \
	>>"$T/http.log" 2>&1 &
HOST_PID[imgserver]=$!
wait_until 10 test -s "$T/http.port"
HTTP="http://127.0.0.1:$(cat "$T/http.port")"
CLOSED=$(harness_free_port)

template web "$HTTP/img/base.img" "$SHA" "xl.on_crash = restart"
template evil "$HTTP/img/tampered.img" "$SHA"
template cut "$HTTP/cut/cutbase.img" "$SHA"
template missing "$HTTP/img/none.img" "$SHA"
template closed "http://127.0.0.1:$CLOSED/img/unreachable.img" "$SHA"
template prog "$HTTP/img/progbase.img" "$SHA"

# what libxlutil reads from a config
cc -o "$T/xlcfg_check" "$HARNESS_ROOT/tests/lib/xlcfg_check.c" \
	$(pkg-config --cflags --libs xlutil) 2>>"$T/cc.log"
ok $? "built the libxlutil checker"

harness_start_broker
harness_start_host h1 --memory 8192 --keepalive 5
harness_start_host h2 --memory 8192 --keepalive 5
harness_wait_host h1 online && harness_wait_host h2 online
ok $? "two sim hosts online"
start_confd "$STORE"
ok $? "vmc-confd online (retained confd/confd/state)"
touch "$T/mark"

# --- templates ------------------------------------------------------------------------
out=$(vmcc call cmd/confd template.list)
is "$(echo "$out" | jq -r '[.result.templates[].name] | join(",")')" "closed,cut,evil,missing,prog,web" \
	"template.list lists the templates"
is "$(echo "$out" | jq -r '.result.templates[] | select(.name=="web") | "\(.memory_mb) \(.vcpus) \(.disk_size_mb)"')" \
	"256 2 16" "with their memory, vcpus and disk size"

# --- the first VM ---------------------------------------------------------------------
out=$(vmcc create web1 --template web --json 2>&1)
ok $? "vmc create web1 --template web exits 0"
H1=$(echo "$out" | jq -r .host)
like "$H1" "^h[12]$" "the reply names the host it was placed on ($H1)"
is "$(vm_field web1 .host)" "$H1" "vmc vms shows web1 on that host"
is "$(vm_field web1 .state)" "running" "and running"
is "$(vm_field web1 '"\(.vcpus) \(.mem_mb)"')" "2 256" "with the template's vcpus and memory"
is "$(gets /img/base.img)" "1" "the image was downloaded once"
is "$(sha256sum "$STORE/images/base.img" | cut -d' ' -f1)" "$SHA" "the stored image has the sha256"
DISK=$STORE/disks/web1.img
is "$(stat -c %s "$DISK")" "$((16 * MIB))" "the disk was grown to disk_size"
cmp -s -n $((4 * MIB)) "$DISK" "$SRV/base.img"
ok $? "the disk starts with the image's content"
ok $(($(stat -c %b "$DISK") * 512 <= 3 * MIB ? 0 : 1)) "the disk is sparse (holes not written)"
like "$(echo "$out" | jq -r .clone)" "^(reflink|sparse)$" "the reply says how the disk was made"

CFG=$STORE/configs/web1.cfg
xl=$("$T/xlcfg_check" "$CFG" name memory vcpus kernel disk vif extra on_crash 2>&1)
ok $? "libxlutil parses configs/web1.cfg"
is "$xl" "name=web1
memory=256
vcpus=2
kernel=/boot/vmlinuz-guest
disk=[format=raw,vdev=xvda,access=rw,target=$(cd "$STORE" && pwd -P)/disks/web1.img]
vif=[bridge=xenbr0]
extra=console=hvc0
on_crash=restart" "and reads back the template's values"

# --- the second VM reuses the image, goes to the other host ----------------------------
out=$(vmcc create web2 --template web --json 2>&1)
ok $? "a second VM from the same template"
is "$(gets /img/base.img)" "1" "reuses the stored image (still one download)"
is "$(echo "$out" | jq -r .image_reused)" "true" "and says so"
H2=$(echo "$out" | jq -r .host)
[ "$H2" != "$H1" ] && [ -n "$H2" ]
ok $? "placed on the less loaded host ($H2)"
vmcc create web3 --template web --host "$H1" >/dev/null 2>&1
is "$(vm_field web3 .host)" "$H1" "--host puts it where asked"
out=$(vmcc create web1 --template web 2>&1)
like "$out" "exists" "a name in use is refused"

# --- a tampered image -------------------------------------------------------------------
out=$(vmcc create evil1 --template evil 2>&1)
ok $(($? != 0 ? 0 : 1)) "a tampered image: create fails"
like "$out" "sha256 mismatch: expected $SHA, got [0-9a-f]{64}" "saying the sha256 does not match"
is "$(leftovers "$STORE" | grep -v 'web[123]' | tr '\n' ' ')" "" "nothing of it is left in the store"
[ ! -e "$STORE/images/tampered.img" ]
ok $? "the bad download was removed"
is "$(vm_field evil1 .name)" "" "and no VM was made"

# --- a download cut off midway resumes --------------------------------------------------
out=$(vmcc create cut1 --template cut --json 2>&1)
ok $? "a download cut off midway: create still succeeds"
like "$(grep /cut/cutbase.img "$T/http-requests.log" | sed -n 2p)" '"range": "bytes=[1-9][0-9]*-", "status": 206' \
	"the second request asked for the rest with a Range"
is "$(echo "$out" | jq -r '.image_resumed_from > 0')" "true" "the reply says it resumed"
is "$(sha256sum "$STORE/images/cutbase.img" | cut -d' ' -f1)" "$SHA" "the resumed image is whole"
ok $(vm_running cut1 && echo 0 || echo 1) "and cut1 runs"

# --- 404 and an unreachable server ----------------------------------------------------------
touch "$T/mark"
out=$(vmcc create nf1 --template missing 2>&1)
like "$out" "HTTP error 404 \(not found\)" "a 404 is reported as such"
out=$(vmcc create cl1 --template closed 2>&1)
like "$out" "(Couldn't|Failed to) connect" "an unreachable server is reported as such"
is "$(leftovers "$STORE" | tr '\n' ' ')" "" "neither leaves anything in the store"
is "$(ls "$STORE/disks" "$STORE/configs" | grep -c -E 'nf1|cl1')" "0" "no disk or config for them"

# --- bad names -------------------------------------------------------------------------------
long=$(printf 'x%.0s' $(seq 300))
for n in "../x" "a/b" 'x;reboot' '$(reboot)' "$long"; do
	out=$(vmcc call cmd/confd vm.create "$(jq -nc --arg n "$n" '{name:$n, template:"web"}')" 2>&1)
	is "$(echo "$out" | jq -r .error.code)" "bad_name" "vm name '${n:0:20}' is refused as bad_name"
done
out=$(vmcc call cmd/confd vm.create '{"name":"ok1","template":"../web"}' 2>&1)
is "$(echo "$out" | jq -r .error.code)" "bad_name" "a template name with ../ is refused"
out=$(vmcc call cmd/confd vm.create '{"name":"ok1","template":"nosuch"}' 2>&1)
like "$(echo "$out" | jq -r .error.message)" 'unknown template "nosuch"' "an unknown template is named"
out=$(vmcc call cmd/confd vm.create '{"name":"ok1","template":"web","overrides":{"kernel":"/x"}}')
like "$(echo "$out" | jq -r .error.message)" "args.overrides.kernel: unknown" \
	"an override of a key that may not be overridden is refused"
is "$(leftovers "$STORE" | tr '\n' ' ')" "" "bad requests leave nothing behind"

# --- guest agent figures ------------------------------------------------------------------
P=$T/fakeproc
mkdir -p "$P"
echo "cpu  100 0 100 800 0 0 0 0 0 0
cpu0 100 0 100 800 0 0 0 0 0 0" >"$P/stat"
printf 'MemTotal: 262144 kB\nMemAvailable: 131072 kB\n' >"$P/meminfo"
echo "0.75 0.50 0.25 1/50 99" >"$P/loadavg"
echo "4242.0 4000.0" >"$P/uptime"
"$VMC_BIN/vmc-guestd" --broker "$BROKER_URL" --name web1 --proc "$P" --interval 0.3 \
	>>"$T/guestd.log" 2>&1 &
HOST_PID[guestd]=$!
guest_seen() { [ "$(vm_field web1 .guest.mem_used_mb)" = 128 ]; }
wait_until 15 guest_seen
ok $? "guest figures appear in vmc vms --json"
# its first sample is taken: the next one has a CPU delta
echo "cpu  400 0 200 1100 0 0 0 100 0 0
cpu0 400 0 200 1100 0 0 0 100 0 0" >"$P/stat"
is "$(vm_field web1 '"\(.guest.load1) \(.guest.uptime_s)"')" "0.75 4242" "load and uptime as the guest sees them"
like "$(vm_field web1 .guest.cpu)" "^[0-9.]+$" "and its CPU"

# --- the documented one-line mosquitto_pub -------------------------------------------------
mosquitto_pub -p "$BROKER_PORT" -h 127.0.0.1 -q 1 -t vmc/default/cmd/confd \
	-m '{"v":1,"from":"script","ts":0,"id":"pub-1","op":"vm.create","args":{"name":"pub1","template":"web"}}'
wait_until 20 vm_running pub1
ok $? "a VM created with one mosquitto_pub runs"

# --- vmc: templates, progress, delete --------------------------------------------------------
like "$(vmcc templates)" "web +256 +2 +16 +$HTTP/img/base.img" "vmc templates lists them for people"
err=$(vmcc create prog1 --template prog 2>&1 >/dev/null)
like "$err" "vmc: image progbase.img fetched and verified \(4.0 MiB\)" "vmc create shows the download"
out=$(vmcc delete prog1 2>&1)
like "$out" "add --yes" "vmc delete wants --yes"
vmcc delete prog1 --yes >/dev/null 2>&1
[ -z "$(vm_field prog1 .name)" ] && [ ! -e "$STORE/disks/prog1.img" ]
ok $? "vmc delete --yes removes the VM and its disk"

# --- what an admin trips over -----------------------------------------------------------------
out=$(vmcc create web4 --template web 2>/dev/null)
like "$out" "^vm web4 created on h[12]\$" "vmc create --template says which host it chose"
{
	echo "image = \"$HTTP/img/base.img\""
	echo "sha256 = $SHA"
	echo "memory = 128"
} >"$TPL/nodisk.tmpl"
like "$(vmcc templates)" "nodisk +128 +1 +- +$HTTP/img/base.img" "a template without disk_size shows DISK -"
is "$(vmcc templates --json | tail -c 1 | od -An -c | tr -d ' ')" '\n' "templates --json ends with a newline"
# the same URL with another sum (a typo, or the image changed upstream): the image that
# template web verified stays, and nothing is downloaded over it
template wrongsum "$HTTP/img/base.img" "$(sha256sum "$SRV/tampered.img" | cut -d' ' -f1)"
before=$(gets /img/base.img)
out=$(vmcc create ws1 --template wrongsum 2>&1)
ok $(($? != 0 ? 0 : 1)) "a template whose sha256 differs from the stored image's: create fails"
like "$out" "sha256 mismatch.*images/base.img is kept" "saying the stored image is kept"
is "$(sha256sum "$STORE/images/base.img" | cut -d' ' -f1)" "$SHA" "the verified image is still there"
vmcc create web5 --template web >/dev/null 2>&1
ok $? "template web still creates VMs"
is "$(gets /img/base.img)" "$before" "without downloading its image again"
rm -f "$TPL/wrongsum.tmpl"
# vmc-confd -n reads every template, and reports every error of each as FILE:LINE
printf 'image = "%s"\nsha256 = zz\nmemory = abc\nbogus = 1\n' "$HTTP/img/base.img" >"$TPL/broken.tmpl"
out=$("$VMC_BIN/vmc-confd" --templates "$TPL" --store "$STORE" -n 2>&1)
is "$?" 1 "vmc-confd -n fails on a broken template"
like "$(tr '\n' ' ' <<<"$out")" "broken.tmpl:2: sha256.*broken.tmpl:3: memory.*broken.tmpl:4: unknown key bogus" \
	"naming every error of it as FILE:LINE"
rm -f "$TPL/broken.tmpl" "$TPL/nodisk.tmpl"
"$VMC_BIN/vmc-confd" --templates "$TPL" --store "$STORE" -n >/dev/null 2>&1
ok $? "and passes once the templates are right"

# --- delete -----------------------------------------------------------------------------------
out=$(vmcc call cmd/confd vm.delete '{"name":"web2"}' 2>&1)
like "$(echo "$out" | jq -r .error.message)" "args.confirm: must be true" "vm.delete wants confirm:true"
out=$(vmcc call cmd/confd vm.delete '{"name":"web2","confirm":true}' 2>&1)
is "$(echo "$out" | jq -r '"\(.ok) \(.result.destroyed) \(.result.disk_removed)"')" "true true true" \
	"vm.delete destroys the VM and removes its disk"
is "$(vm_field web2 .name)" "" "web2 is gone from the cluster"
[ ! -e "$STORE/disks/web2.img" ] && [ ! -e "$STORE/configs/web2.cfg" ]
ok $? "and its disk and config from the store"

# --- a full store ------------------------------------------------------------------------------
stop_confd
SMALL=$T/small
mkdir -p "$SMALL"
if mount -t tmpfs -o size=7m tmpfs "$SMALL" 2>>"$T/mount.log"; then
	trap 'rc=$?; umount "$SMALL" 2>/dev/null; (exit $rc); harness_cleanup' EXIT
	start_confd "$SMALL"
	# 7 MiB: the 4 MiB image (downloaded whole) and one clone (its 2 MiB of data) fit; a
	# second clone does not; nor does a 5 MiB image of data in what is left.
	python3 -c "
import sys
with open(sys.argv[1], 'wb') as f: f.write(bytes((i * 13 + 1) % 253 for i in range(5 * 1024 * 1024)))" "$SRV/big.img"
	template big "$HTTP/img/big.img" "$(sha256sum "$SRV/big.img" | cut -d' ' -f1)"
	out=$(vmcc create full1 --template web 2>&1)
	ok $? "in a 7 MiB store, the 4 MiB image and one clone fit"
	out=$(vmcc create full2 --template web 2>&1)
	like "$out" "the store is full" "a second clone that does not fit: the store is full"
	[ ! -e "$SMALL/disks/full2.img" ] && [ ! -e "$SMALL/configs/full2.cfg" ]
	ok $? "its partial disk was removed"
	out=$(vmcc create full3 --template big 2>&1)
	like "$out" "store is full" "an image larger than the room: the store is full"
	is "$(ls -A "$SMALL/images" | tr '\n' ' ')" "base.img " "and its partial download was removed"
	stop_confd
	umount "$SMALL"
else
	for i in 1 2 3 4 5; do ok 0 "# SKIP cannot mount a small tmpfs here"; done
fi
